"""Deprecated: `keys` reports now live in the one registry, :mod:`wvzscan.reports`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wvzscan.reports import KEY_AUDIT_FORMATS, KEY_LIST_FORMATS, KeysContext, render_key_audit, render_key_list

if TYPE_CHECKING:
    from wvzscan.audit import Audit

LIST_FORMATS = KEY_LIST_FORMATS
AUDIT_FORMATS = KEY_AUDIT_FORMATS

__all__ = ["AUDIT_FORMATS", "LIST_FORMATS", "KeysContext", "render_audit", "render_list"]


def render_list(audit: Audit, fmt: str, ctx: KeysContext) -> str:
    return render_key_list(audit, fmt, ctx)


def render_audit(audit: Audit, fmt: str, ctx: KeysContext) -> str:
    return render_key_audit(audit, fmt, ctx)
