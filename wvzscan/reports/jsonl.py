"""JSON lines: one finding per line (scan reports only)."""

from __future__ import annotations

from wvzscan.finding import ScanResult
from wvzscan.reports import ReportContext
from wvzscan.reports.json import dumps


def render(result: ScanResult, ctx: ReportContext) -> str:
    return "".join(dumps(f.to_dict(ctx.show_secrets), indent=None) for f in result.findings)
