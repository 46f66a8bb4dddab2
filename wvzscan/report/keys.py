"""Reports for `wvzscan keys` (the key list) and `wvzscan keys audit` (findings per practice).

Nothing here ever sees a full key: the API lists keys by their 8-character ``keyPrefix`` only.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wvzscan import __version__
from wvzscan.hygiene import RULES, SEVERITIES, Audit, AuditFinding, key_label, read_stamp
from wvzscan.report.github import escape_data, escape_property
from wvzscan.weavz import ApiKey

LIST_FORMATS = ("text", "json", "markdown")
AUDIT_FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
_GITHUB_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}
_COLOUR = {"critical": "1;31", "high": "31", "medium": "33", "low": "36"}


@dataclass(frozen=True)
class KeysContext:
    color: bool = False
    admin_key_id: str | None = None  # the listed entry of the key in WEAVZ_API_KEY, when unambiguous
    fail_on: str = "low"


def _paint(on: bool, s: str, code: str) -> str:
    return f"\033[{code}m{s}\033[0m" if on else s


# ---------------------------------------------------------------------------------------------
# The key list


def _day(k: ApiKey, attr: str, null: str) -> str:
    s = read_stamp(k, attr)
    if s.state == "ok" and s.value is not None:
        return s.value.strftime("%Y-%m-%d")
    return {"null": null, "missing": "-"}.get(s.state, "unreadable")


def _scope(k: ApiKey) -> str:
    return f"workspace: {', '.join(k.workspace_ids) or '(none)'}" if k.scope == "workspace" else "org"


def key_entry(k: ApiKey, audit: Audit | None = None, ctx: KeysContext | None = None) -> dict[str, Any]:
    expires = read_stamp(k, "expires_at")
    now = audit.now if audit is not None else None
    entry: dict[str, Any] = {
        "id": k.id,
        "name": k.name,
        "key_prefix": k.key_prefix,
        "scope": k.scope,
        "workspace_ids": k.workspace_ids if k.scope == "workspace" else None,
        "created_at": k.created_at,
        "last_used_at": k.last_used_at,
        "expires_at": k.expires_at,
    }
    if now is not None:
        entry["expired"] = (
            expires.value <= now if expires.value is not None else (False if expires.state == "null" else None)
        )
    if ctx is not None and ctx.admin_key_id == k.id:
        entry["is_admin_key"] = True
    if audit is not None:
        entry["findings"] = [f.rule_id for f in audit.findings if f.key_id == k.id]
    return entry


_COLUMNS = ("name", "prefix", "scope", "created", "last used", "expires")


def _rows(keys: list[ApiKey], ctx: KeysContext) -> list[list[str]]:
    rows = []
    for k in sorted(keys, key=lambda k: ((k.name or "").lower(), k.id)):
        name = k.name or f"({k.id})"
        if ctx.admin_key_id == k.id:
            name += " *"
        prefix = f"{k.key_prefix}…" if k.key_prefix else "-"
        rows.append(
            [
                name,
                prefix,
                _scope(k),
                _day(k, "created_at", "-"),
                _day(k, "last_used_at", "never"),
                _day(k, "expires_at", "never"),
            ]
        )
    return rows


def _md(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "\\`")


def render_list(audit: Audit, fmt: str, ctx: KeysContext) -> str:
    """The organization's keys (``audit`` carries the listing and its errors; its findings are unused)."""
    keys = audit.keys
    if fmt == "json":
        doc = {
            "tool": "wvzscan",
            "version": __version__,
            "command": "keys",
            "keys": [key_entry(k, None, ctx) for k in keys],
            "total": audit.total,
            "complete": not audit.errors,
            "errors": [e.to_dict() for e in audit.errors],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    rows = _rows(keys, ctx)
    foot = _list_footer(audit, ctx)
    if fmt == "markdown":
        out = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
        out += ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]
        return "\n".join(out + [""] + [f"{line}  " for line in foot]) + "\n"
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(_COLUMNS)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(_COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines + foot) + "\n"


def _list_footer(audit: Audit, ctx: KeysContext) -> list[str]:
    n = len(audit.keys)
    foot = [
        f"{n} key{'s' if n != 1 else ''}"
        + (
            (f" of {audit.total}" if audit.total is not None else "") + " (the list is incomplete)"
            if audit.errors
            else ""
        )
    ]
    if ctx.admin_key_id:
        foot.append("* the key in WEAVZ_API_KEY")
    foot += [f"error: {e.where}: {e.message}" for e in audit.errors]
    return foot


# ---------------------------------------------------------------------------------------------
# The audit


def _summary(audit: Audit) -> str:
    n, nf = len(audit.keys), len(audit.findings)
    counts = ", ".join(f"{c} {s}" for s, c in audit.counts().items() if c)
    dirty = {f.key_id for f in audit.findings}
    s = f"{n} key{'s' if n != 1 else ''} audited"
    if audit.total is not None and audit.total != n:
        s += f" of {audit.total} listed"
    s += f"; {nf} finding{'s' if nf != 1 else ''}" + (f" ({counts})" if counts else "")
    clean = n - len(dirty & {k.id for k in audit.keys})
    s += f"; {clean} key{'s' if clean != 1 else ''} clean"
    if audit.exempted:
        s += f"; {sum(audit.exempted.values())} exempted by config"
    if audit.warnings:
        s += f"; {len(audit.warnings)} check{'s' if len(audit.warnings) != 1 else ''} not made"
    if audit.errors:
        s += "; audit incomplete"
    return s


def _policy_line(audit: Audit) -> str:
    p = audit.policy
    s = f"policy: rotation {p.rotation_days} d, unused {p.unused_days} d, expiring within {p.expiring_days} d"
    if p.disabled:
        s += f"; disabled: {', '.join(sorted(p.disabled))}"
    return s


def render_text(audit: Audit, ctx: KeysContext) -> str:
    on = ctx.color
    by_key: dict[str, list[AuditFinding]] = {}
    for f in audit.findings:
        by_key.setdefault(f.key_id, []).append(f)
    keys = {k.id: k for k in audit.keys}
    out: list[str] = []
    width = max((len(f.rule_id) for f in audit.findings), default=0)
    for key_id, fs in by_key.items():  # findings are sorted worst first, so keys are too
        k = keys[key_id]
        head = f"{_paint(on, k.name or '(no name)', '1')}  {k.key_prefix or '-'}…  {k.id}  {_scope(k)}"
        if ctx.admin_key_id == key_id:
            head += "  (the key in WEAVZ_API_KEY)"
        out.append(head)
        for f in fs:
            sev = _paint(on, f.severity.ljust(8), _COLOUR[f.severity])
            label = key_label(k) + " "
            msg = f.message[len(label) :] if f.message.startswith(label) else f.message  # the head names the key
            out.append(f"  {sev}  {f.rule_id.ljust(width)}  {msg}")
            out.append(f"  {'':8}  {'':{width}}  fix: {f.fix}")
        out.append("")
    out += [_paint(on, f"warning: {w.where}: {w.message}", "33") for w in audit.warnings]
    out += [_paint(on, f"note: {n}", "33") for n in audit.notes]
    out += [_paint(on, f"error: {e.where}: {e.message}", "31") for e in audit.errors]
    out.append(_paint(on, _summary(audit), "1"))
    out.append(_policy_line(audit))
    return "\n".join(out) + "\n"


def render_json(audit: Audit, ctx: KeysContext) -> str:
    doc = {
        "tool": "wvzscan",
        "version": __version__,
        "command": "keys audit",
        "audited_at": audit.now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "policy": audit.policy.to_dict(),
        "summary": {
            "keys_audited": len(audit.keys),
            "keys_listed_total": audit.total,
            "findings": len(audit.findings),
            "by_severity": audit.counts(),
            "exempted": dict(sorted(audit.exempted.items())),
            "complete": not audit.errors and not audit.warnings,
        },
        "findings": [f.to_dict() for f in audit.findings],
        "keys": [key_entry(k, audit, ctx) for k in audit.keys],
        "warnings": [w.to_dict() for w in audit.warnings],
        "errors": [e.to_dict() for e in audit.errors],
        "notes": list(audit.notes),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _uri(path: str) -> str:
    return urllib.parse.quote(path, safe="/!@:+,;=~._-")


def _sarif_result(f: AuditFinding, index: int) -> dict[str, Any]:
    logical = {"name": f.key_name or f.key_id, "fullyQualifiedName": f"weavz/api-keys/{f.key_id}", "kind": "resource"}
    locations: list[dict[str, Any]] = []
    for loc in f.details.get("locations", []):
        if loc.get("path"):
            phys: dict[str, Any] = {"artifactLocation": {"uri": _uri(str(loc["path"]))}}
            if isinstance(loc.get("line"), int) and loc["line"] > 0:
                phys["region"] = {"startLine": loc["line"]}
                if isinstance(loc.get("column"), int) and loc["column"] > 0:
                    phys["region"]["startColumn"] = loc["column"]
            locations.append({"physicalLocation": phys, "logicalLocations": [logical]})
    if not locations:
        # GitHub code scanning rejects results without physicalLocation.artifactLocation.uri: a key is not
        # a file, so it gets a stable virtual path (one alert per key and rule), next to its logical location.
        virtual = {"artifactLocation": {"uri": _uri(f"weavz-api-keys/{f.key_id}")}}
        locations = [{"physicalLocation": virtual, "logicalLocations": [logical]}]
    props = {k: v for k, v in f.to_dict().items() if k not in ("message", "fix", "locations") and v is not None}
    props["security-severity"] = _SECURITY_SEVERITY[f.severity]
    return {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f"{f.message}. Fix: {f.fix}."},
        "locations": locations,
        "partialFingerprints": {"wvzscanKeyAudit/v1": hashlib.sha256(f"{f.rule_id}:{f.key_id}".encode()).hexdigest()},
        "properties": props,
    }


def render_sarif(audit: Audit, ctx: KeysContext) -> str:
    """SARIF 2.1.0: one rule per practice (all of them, so a clean run still says what was checked)."""
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
                "defaultConfiguration": {"level": _SARIF_LEVEL[sev], "enabled": r.id not in audit.policy.disabled},
                "properties": {
                    "tags": ["security", "weavz", "api-key-hygiene"],
                    "security-severity": _SECURITY_SEVERITY[sev],
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
        "results": [_sarif_result(f, index[f.rule_id]) for f in audit.findings],
        "invocations": [
            {
                "executionSuccessful": not audit.errors,
                "endTimeUtc": audit.now.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "toolExecutionNotifications": notifications,
            }
        ],
        "properties": {"policy": audit.policy.to_dict(), "keysAudited": len(audit.keys)},
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2, ensure_ascii=False) + "\n"


def render_junit(audit: Audit, ctx: KeysContext) -> str:
    """One test case per key and practice broken, one passing case per clean key, one error per unread part."""
    fails = audit.failing(ctx.fail_on)
    suite = ET.Element("testsuite", name="wvzscan keys audit")
    dirty = set()
    for f in audit.findings:
        dirty.add(f.key_id)
        case = ET.SubElement(suite, "testcase", classname=f"wvzscan.keys.{f.rule_id}", name=f.key_name or f.key_id)
        tag = "failure" if f in fails else "skipped"
        el = ET.SubElement(case, tag, type=f.rule_id, message=f"[{f.severity}] {f.message}")
        el.text = f"fix: {f.fix}\nkey id: {f.key_id}\nkey prefix: {f.key_prefix}"
    for k in audit.keys:
        if k.id not in dirty:
            ET.SubElement(suite, "testcase", classname="wvzscan.keys", name=k.name or k.id)
    for w in audit.warnings:
        case = ET.SubElement(suite, "testcase", classname="wvzscan.keys.check", name=w.where)
        ET.SubElement(case, "error", message=w.message)
    for e in audit.errors:
        case = ET.SubElement(suite, "testcase", classname="wvzscan.keys.read", name=e.where)
        ET.SubElement(case, "error", message=e.message)
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(len(fails)))
    suite.set("errors", str(len(audit.warnings) + len(audit.errors)))
    suite.set("skipped", str(len(audit.findings) - len(fails)))
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render_github(audit: Audit, ctx: KeysContext) -> str:
    out = []
    for f in audit.findings:
        props = []
        locs = [loc for loc in f.details.get("locations", []) if loc.get("path")]
        if locs:
            props.append(f"file={escape_property(str(locs[0]['path']))}")
            if isinstance(locs[0].get("line"), int):
                props.append(f"line={locs[0]['line']}")
        props.append("title=" + escape_property(f"Weavz key {f.key_name or f.key_id}: {f.rule_id} ({f.severity})"))
        out.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{escape_data(f'{f.message}. Fix: {f.fix}.')}")
    for w in audit.warnings:
        out.append(f"::warning title=wvzscan keys audit: check not made::{escape_data(w.where + ': ' + w.message)}")
    for e in audit.errors:
        out.append(f"::error title=wvzscan keys audit incomplete::{escape_data(e.where + ': ' + e.message)}")
    return "".join(line + "\n" for line in out)


def render_markdown(audit: Audit, ctx: KeysContext) -> str:
    out = ["## Weavz key audit", "", _summary(audit) + ".", ""]
    if audit.findings:
        out += ["| severity | rule | key | prefix | finding | fix |", "|---|---|---|---|---|---|"]
        for f in audit.findings:
            key = _md(f.key_name or "(no name)") + f" (`{_md(f.key_id)}`)"
            cells = [f"**{f.severity}**" if f.severity in ("critical", "high") else f.severity, f"`{f.rule_id}`", key]
            cells += [f"`{_md(f.key_prefix or '-')}…`", _md(f.message), _md(f.fix)]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    for label, items in (
        ("Checks not made", [f"{w.where}: {w.message}" for w in audit.warnings]),
        ("Not read", [f"{e.where}: {e.message}" for e in audit.errors]),
        ("Notes", list(audit.notes)),
    ):
        if items:
            out += [f"**{label}**", ""] + [f"- {_md(i)}" for i in items] + [""]
    out.append(_md(_policy_line(audit)))
    return "\n".join(out) + "\n"


_AUDIT: dict[str, Callable[[Audit, KeysContext], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "github": render_github,
    "markdown": render_markdown,
}
assert set(_AUDIT) == set(AUDIT_FORMATS)
assert set(_SARIF_LEVEL) == set(SEVERITIES)


def render_audit(audit: Audit, fmt: str, ctx: KeysContext) -> str:
    return _AUDIT[fmt](audit, ctx)
