"""JSON: one document per run (scan, `keys`, `keys audit`), every field machine-readable."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from wvzscan import __version__
from wvzscan.finding import ScanResult, shown
from wvzscan.reports import KeysContext, ReportContext

if TYPE_CHECKING:
    from wvzscan.hygiene import Audit


def _escape(c: str) -> str:
    return json.dumps(c)[1:-1]  # \uXXXX (a surrogate pair beyond the BMP)


def dumps(doc: object, indent: int | None = 2) -> str:
    """JSON that is safe to print where a human or a CI runner reads it: JSON escapes control characters
    itself; here invisible characters (a bidi override, U+2028) become ``\\uXXXX`` escapes too, and
    GitHub's legacy ``##[`` command marker is written ``##\\u005b``. It parses to the same document."""
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    if not text.replace("\n", "").isprintable():
        text = "".join(c if c == "\n" or c.isprintable() else _escape(c) for c in text)
    return text.replace("##[", "##\\u005b") + "\n"


def document(result: ScanResult, ctx: ReportContext) -> dict[str, object]:
    return {
        "tool": "wvzscan",
        "version": __version__,
        "findings": [f.to_dict(ctx.show_secrets) for f in result.findings],
        "errors": [e.to_dict() for e in result.errors],
        "notes": [shown(n) for n in result.notes],
        "stats": result.stats(),
    }


def render(result: ScanResult, ctx: ReportContext) -> str:
    return dumps(document(result, ctx))


def render_key_list(audit: Audit, ctx: KeysContext) -> str:
    from wvzscan.reports._keys import key_entry

    doc = {
        "tool": "wvzscan",
        "version": __version__,
        "command": "keys",
        "keys": [key_entry(k, None, ctx) for k in audit.keys],
        "total": audit.total,
        "complete": not audit.errors,
        "errors": [e.to_dict() for e in audit.errors],
    }
    return dumps(doc)


def render_key_audit(audit: Audit, ctx: KeysContext) -> str:
    from wvzscan.reports._keys import key_entry

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
    return dumps(doc)
