from __future__ import annotations

import json

from wvzscan import __version__
from wvzscan.finding import ScanResult
from wvzscan.report import ReportContext


def document(result: ScanResult, ctx: ReportContext) -> dict[str, object]:
    return {
        "tool": "wvzscan",
        "version": __version__,
        "findings": [f.to_dict(ctx.show_secrets) for f in result.findings],
        "errors": [e.to_dict() for e in result.errors],
        "notes": list(result.notes),
        "stats": result.stats(),
    }


def render(result: ScanResult, ctx: ReportContext) -> str:
    return json.dumps(document(result, ctx), indent=2, ensure_ascii=False) + "\n"
