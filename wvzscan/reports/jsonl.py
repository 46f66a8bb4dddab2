"""JSON lines: one finding per line (scan reports only)."""

from __future__ import annotations

import json

from wvzscan.finding import ScanResult
from wvzscan.reports import ReportContext


def render(result: ScanResult, ctx: ReportContext) -> str:
    return "".join(json.dumps(f.to_dict(ctx.show_secrets), ensure_ascii=False) + "\n" for f in result.findings)
