"""SARIF 2.1.0 for GitHub code scanning, with stable fingerprints.

Scans: one rule, one result per finding. `keys audit`: one rule per practice, one result per key and
practice broken. Both build every URI with :func:`uri`.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from typing import TYPE_CHECKING, Any

from wvzscan import __version__
from wvzscan.finding import Finding, ScanResult, shown
from wvzscan.output.redact import scrub
from wvzscan.reports import KeysContext, ReportContext
from wvzscan.reports.json import dumps

if TYPE_CHECKING:
    from wvzscan.hygiene import Audit, AuditFinding

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


def uri(path: str) -> str:
    """A URI reference: `:` is escaped (``c:x.txt`` would read as scheme ``c``); an absolute path
    (``wvzscan dir /abs/tree``) becomes a ``file://`` URI rather than a repository-relative one. A name
    that is not valid UTF-8 keeps its bytes (``%FF``); a key in a name is redacted first."""
    quoted = urllib.parse.quote(scrub(path), safe="/!@+,;=~._-", encoding="utf-8", errors="surrogateescape")
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
        text += f" In archive member {shown(member)}" + (f", line {f.line}." if f.line is not None else ".")
    where = outer or ("stdin" if f.source == "stdin" else ".git")
    loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": uri(where)}}}
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
            "wvzscanLocation/v1": f"{f.fingerprint}:{scrub(f.path or '')}" if f.path else f"{f.fingerprint}:None",
        },
        "properties": props,
    }


def document(result: ScanResult, ctx: ReportContext) -> dict[str, Any]:
    notifications = [
        {"level": "error", "message": {"text": shown(f"{e.where}: {e.message}")}} for e in result.errors
    ] + [{"level": "note", "message": {"text": shown(n)}} for n in result.notes]
    if result.settings_line():
        notifications.append({"level": "warning", "message": {"text": shown(result.settings_line() or "")}})
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
                "properties": {"settings": dict(sorted(result.settings.items()))},
            }
        ],
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(result: ScanResult, ctx: ReportContext) -> str:
    return dumps(document(result, ctx))


# ---------------------------------------------------------------------------------------------
# `keys audit`


def _key_result(f: AuditFinding, index: int) -> dict[str, Any]:
    from wvzscan.reports._keys import SARIF_LEVEL, SECURITY_SEVERITY

    logical = {"name": f.key_name or f.key_id, "fullyQualifiedName": f"weavz/api-keys/{f.key_id}", "kind": "resource"}
    locations: list[dict[str, Any]] = []
    for loc in f.details.get("locations", []):
        if loc.get("path"):
            phys: dict[str, Any] = {"artifactLocation": {"uri": uri(str(loc["path"]))}}
            if isinstance(loc.get("line"), int) and loc["line"] > 0:
                phys["region"] = {"startLine": loc["line"]}
                if isinstance(loc.get("column"), int) and loc["column"] > 0:
                    phys["region"]["startColumn"] = loc["column"]
            locations.append({"physicalLocation": phys, "logicalLocations": [logical]})
    if not locations:
        # GitHub code scanning rejects results without physicalLocation.artifactLocation.uri: a key is not
        # a file, so it gets a stable virtual path (one alert per key and rule), next to its logical location.
        virtual = {"artifactLocation": {"uri": uri(f"weavz-api-keys/{f.key_id}")}}
        locations = [{"physicalLocation": virtual, "logicalLocations": [logical]}]
    props = {k: v for k, v in f.to_dict().items() if k not in ("message", "fix", "locations") and v is not None}
    props["security-severity"] = SECURITY_SEVERITY[f.severity]
    return {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": SARIF_LEVEL[f.severity],
        "message": {"text": f"{f.message}. Fix: {f.fix}."},
        "locations": locations,
        "partialFingerprints": {"wvzscanKeyAudit/v1": hashlib.sha256(f"{f.rule_id}:{f.key_id}".encode()).hexdigest()},
        "properties": props,
    }


def render_key_audit(audit: Audit, ctx: KeysContext) -> str:
    """One rule per practice (all of them, so a clean run still says what was checked)."""
    from wvzscan.hygiene import RULES
    from wvzscan.reports._keys import SARIF_LEVEL, SECURITY_SEVERITY

    rules = []
    for r in RULES:
        sev = audit.policy.severity_of(r.id)
        rules.append(
            {
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": f"Weavz's guide: {r.practice}"},
                "help": {"text": f"Fix: {r.fix}."},
                "defaultConfiguration": {"level": SARIF_LEVEL[sev], "enabled": r.id not in audit.policy.disabled},
                "properties": {
                    "tags": ["security", "weavz", "api-key-hygiene"],
                    "security-severity": SECURITY_SEVERITY[sev],
                    "severity": sev,
                },
            }
        )
    index = {r.id: i for i, r in enumerate(RULES)}
    notifications = (
        [{"level": "error", "message": {"text": f"{e.where}: {e.message}"}} for e in audit.errors]
        + [{"level": "warning", "message": {"text": f"{w.where}: {w.message}"}} for w in audit.warnings]
        + [{"level": "note", "message": {"text": n}} for n in audit.notes]
    )
    run = {
        "tool": {"driver": {"name": "wvzscan", "version": __version__, "semanticVersion": __version__, "rules": rules}},
        "results": [_key_result(f, index[f.rule_id]) for f in audit.findings],
        "invocations": [
            {
                "executionSuccessful": not audit.errors,
                "endTimeUtc": audit.now.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "toolExecutionNotifications": notifications,
            }
        ],
        "properties": {"policy": audit.policy.to_dict(), "keysAudited": len(audit.keys)},
    }
    return dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]})
