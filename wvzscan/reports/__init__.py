"""One registry of output formats, for scan reports and `keys` reports alike.

One module per format (``wvzscan.reports.text``, ``json``, ``jsonl``, ``sarif``, ``junit``, ``github``,
``markdown``), imported only when that format is asked for: a pre-commit hook prints text and does not
pay for the others. A module renders what it supports:

- ``render(result: ScanResult, ctx: ReportContext) -> str``: a scan report;
- ``render_key_list(audit: Audit, ctx: KeysContext) -> str``: the `keys` list;
- ``render_key_audit(audit: Audit, ctx: KeysContext) -> str``: the `keys audit` report.

Callers go through :func:`render_scan`, :func:`render_key_list` and :func:`render_key_audit`: every report
passes through :func:`finish` there, the one point where no full key leaves (``scrub``; with
``--show-secrets`` only the keys the report found are kept) and where text that is not valid UTF-8
(a file name's stray byte) cannot crash the writer. Fields are escaped before that, where they are
put in a report (``Finding.to_dict``, ``escape_line``): a stray byte 0xFF shows as ``\\xff``.
The CLI's ``--format`` choices are :data:`SCAN_FORMATS`, :data:`KEY_LIST_FORMATS` and :data:`KEY_AUDIT_FORMATS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from wvzscan.output.redact import scrub
from wvzscan.output.terminal import escape_line, replace_surrogates

if TYPE_CHECKING:
    from wvzscan.finding import ScanResult
    from wvzscan.hygiene import Audit


@dataclass(frozen=True)
class ReportContext:
    show_secrets: bool = False
    color: bool = False
    command: str = "dir"
    fail_on: str = "any"


@dataclass(frozen=True)
class KeysContext:
    color: bool = False
    admin_key_id: str | None = None  # the listed entry of the key in WEAVZ_API_KEY, when unambiguous
    fail_on: str = "low"


# format -> what it renders. The order is the order of the CLI's choices.
_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "text": ("scan", "key_list", "key_audit"),
    "json": ("scan", "key_list", "key_audit"),
    "jsonl": ("scan",),
    "sarif": ("scan", "key_audit"),
    "junit": ("scan", "key_audit"),
    "github": ("scan", "key_audit"),
    "markdown": ("key_list", "key_audit"),
}
SCAN_FORMATS = tuple(f for f, what in _CAPABILITIES.items() if "scan" in what)
KEY_LIST_FORMATS = tuple(f for f, what in _CAPABILITIES.items() if "key_list" in what)
KEY_AUDIT_FORMATS = tuple(f for f, what in _CAPABILITIES.items() if "key_audit" in what)
KEY_FORMATS = KEY_AUDIT_FORMATS  # every format a `keys` report comes in
FORMATS = SCAN_FORMATS  # the earlier name

Renderer = Callable[["ScanResult", ReportContext], str]
KeysRenderer = Callable[["Audit", KeysContext], str]


def _module(fmt: str, what: str) -> ModuleType:
    if what not in _CAPABILITIES.get(fmt, ()):
        raise ValueError(f"no {what.replace('_', ' ')} report in format {fmt!r}")
    return importlib.import_module(f"wvzscan.reports.{fmt}")


def finish(text: str, keep: Collection[str] = ()) -> str:
    """The one point every report passes through: no full key but those in ``keep``, valid UTF-8."""
    return replace_surrogates(scrub(text, keep))


def render_scan(result: ScanResult, fmt: str, ctx: ReportContext) -> str:
    fn: Renderer = _module(fmt, "scan").render
    keep = frozenset(f.secret for f in result.findings) if ctx.show_secrets else frozenset()
    return finish(fn(result, ctx), keep)


def render_key_list(audit: Audit, fmt: str, ctx: KeysContext) -> str:
    """The organization's keys (``audit`` carries the listing and its errors; its findings are unused)."""
    fn: KeysRenderer = _module(fmt, "key_list").render_key_list
    return finish(fn(audit, ctx))


def render_key_audit(audit: Audit, fmt: str, ctx: KeysContext) -> str:
    fn: KeysRenderer = _module(fmt, "key_audit").render_key_audit
    return finish(fn(audit, ctx))


def renderer(fmt: str) -> Renderer:
    """The scan renderer of ``fmt`` (through :func:`finish`); prefer :func:`render_scan`."""
    _module(fmt, "scan")
    return lambda result, ctx: render_scan(result, fmt, ctx)


printable = escape_line  # the earlier name


def write_private(path: str, text: str) -> None:
    """The earlier name of :func:`wvzscan.output.writer.write_private`."""
    from wvzscan.output.writer import write_private as write

    write(path, text)
