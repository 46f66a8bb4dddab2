"""SARIF 2.1.0 for GitHub code scanning: one rule, one result per finding, stable fingerprints."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from wvzscan import __version__
from wvzscan.finding import Finding, ScanResult
from wvzscan.report import ReportContext

RULE_ID = "weavz-api-key"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

RULE = {
    "id": RULE_ID,
    "name": "WeavzApiKey",
    "shortDescription": {"text": "Leaked Weavz API key"},
    "fullDescription": {
        "text": "A Weavz API key (wvz_...) is stored in the repository. Org-wide keys can read and change "
        "every integration of the organization and mint new keys."
    },
    "help": {
        "text": "Revoke the key now (wvzscan revoke -), create a replacement with the same permissions "
        "(wvzscan rotate -), remove it from history and keep keys in environment variables or a secret store.",
        "markdown": "Revoke the key now (`wvzscan revoke -`), create a replacement with the same permissions "
        "(`wvzscan rotate -`), remove it from history and keep keys in environment variables or a secret store.",
    },
    "defaultConfiguration": {"level": "error"},
    "properties": {"tags": ["security", "secret", "weavz"], "security-severity": "9.0", "precision": "high"},
}


def _uri(path: str) -> str:
    """A URI reference: `:` is escaped (``c:x.txt`` would read as scheme ``c``); an absolute path
    (``wvzscan dir /abs/tree``) becomes a ``file://`` URI rather than a repository-relative one."""
    quoted = urllib.parse.quote(path, safe="/!@+,;=~._-")
    return "file://" + quoted if path.startswith("/") else quoted


def _result(f: Finding, ctx: ReportContext) -> dict[str, Any]:
    key = f.secret if ctx.show_secrets else f.redacted
    text = f"Weavz API key {key} ({f.state()})"
    if f.commit:
        text += f" introduced in commit {f.commit[:12]}"
    text += "."
    # Code scanning maps a result to a file of the repository: for a key inside an archive that is the
    # archive itself (the member and its line go in the message); a commit message has no file.
    outer, bang, member = (f.path or "").partition("!")
    if bang:
        text += f" In archive member {member}" + (f", line {f.line}." if f.line is not None else ".")
    where = outer or ("stdin" if f.source == "stdin" else ".git")
    loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": _uri(where)}}}
    if f.line is not None and not bang and f.path is not None:
        region: dict[str, Any] = {"startLine": f.line}
        if f.column is not None:
            region["startColumn"] = f.column
            region["endColumn"] = f.column + len(f.secret) if f.encoding == "plain" else f.column + 1
        loc["physicalLocation"]["region"] = region
    props = {k: v for k, v in f.to_dict(ctx.show_secrets).items() if v is not None and k != "secret"}
    return {
        "ruleId": RULE_ID,
        "ruleIndex": 0,
        "level": "note" if f.status == "invalid" else "error",
        "message": {"text": text},
        "locations": [loc],
        "partialFingerprints": {
            "wvzscanKey/v1": f.fingerprint,
            "wvzscanLocation/v1": f"{f.fingerprint}:{f.path}",
        },
        "properties": props,
    }


def document(result: ScanResult, ctx: ReportContext) -> dict[str, Any]:
    notifications = [{"level": "error", "message": {"text": f"{e.where}: {e.message}"}} for e in result.errors] + [
        {"level": "note", "message": {"text": n}} for n in result.notes
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "wvzscan",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [RULE],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, ctx) for f in result.findings],
        "invocations": [
            {
                "executionSuccessful": not result.errors,
                "toolExecutionNotifications": notifications,
            }
        ],
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(result: ScanResult, ctx: ReportContext) -> str:
    return json.dumps(document(result, ctx), indent=2, ensure_ascii=False) + "\n"
