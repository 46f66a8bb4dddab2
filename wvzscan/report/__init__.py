"""Deprecated: the earlier name of :mod:`wvzscan.reports` (kept until every caller imports the registry).

Delete this package once cli.py and commands/keys.py import from ``wvzscan.reports`` and
``wvzscan.output.writer``.
"""

from __future__ import annotations

from wvzscan.reports import FORMATS, ReportContext, printable, renderer, write_private

__all__ = ["FORMATS", "ReportContext", "printable", "renderer", "write_private"]
