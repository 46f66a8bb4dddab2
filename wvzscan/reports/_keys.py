"""What the `keys` reports (the key list and `keys audit`) share across formats.

Nothing here ever sees a full key: the API lists keys by their 8-character ``keyPrefix`` only. Key
names, ids and error messages are the API's text: every format escapes them like scan reports escape
file names (the registry scrubs key-shaped runs from every report).
"""

from __future__ import annotations

from typing import Any

from wvzscan.hygiene import Audit, read_stamp
from wvzscan.output.terminal import escape_line
from wvzscan.reports import KeysContext
from wvzscan.weavz import ApiKey

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
GITHUB_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}
COLOUR = {"critical": "1;31", "high": "31", "medium": "33", "low": "36"}


def paint(on: bool, s: str, code: str) -> str:
    return f"\033[{code}m{s}\033[0m" if on else s


# ---------------------------------------------------------------------------------------------
# The key list


def day(k: ApiKey, attr: str, null: str) -> str:
    s = read_stamp(k, attr)
    if s.state == "ok" and s.value is not None:
        return s.value.strftime("%Y-%m-%d")
    return {"null": null, "missing": "-"}.get(s.state, "unreadable")


def scope_label(k: ApiKey) -> str:
    ids = ", ".join(escape_line(str(w)) for w in k.workspace_ids)
    return f"workspace: {ids or '(none)'}" if k.scope == "workspace" else "org"


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


COLUMNS = ("name", "prefix", "scope", "created", "last used", "expires")


def rows(keys: list[ApiKey], ctx: KeysContext) -> list[list[str]]:
    out = []
    for k in sorted(keys, key=lambda k: ((k.name or "").lower(), k.id)):
        name = escape_line(k.name or f"({k.id})")
        if ctx.admin_key_id == k.id:
            name += " *"
        prefix = f"{escape_line(k.key_prefix)}…" if k.key_prefix else "-"
        out.append(
            [
                name,
                prefix,
                scope_label(k),
                day(k, "created_at", "-"),
                day(k, "last_used_at", "never"),
                day(k, "expires_at", "never"),
            ]
        )
    return out


def md(s: str) -> str:
    """A Markdown table cell: one line, no control character, pipes and backticks escaped."""
    s = escape_line(s)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("<", "&lt;")


def list_footer(audit: Audit, ctx: KeysContext) -> list[str]:
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
    foot += [f"error: {escape_line(e.where)}: {escape_line(e.message)}" for e in audit.errors]
    return foot


# ---------------------------------------------------------------------------------------------
# The audit


def summary(audit: Audit) -> str:
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


def policy_line(audit: Audit) -> str:
    p = audit.policy
    s = f"policy: rotation {p.rotation_days} d, unused {p.unused_days} d, expiring within {p.expiring_days} d"
    if p.disabled:
        s += f"; disabled: {', '.join(sorted(p.disabled))}"
    return s
