"""Report formats, each a module with one ``render(result, ctx) -> str`` function."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

from wvzscan.finding import ScanResult


@dataclass(frozen=True)
class ReportContext:
    show_secrets: bool = False
    color: bool = False
    command: str = "dir"
    fail_on: str = "any"


Renderer = Callable[[ScanResult, ReportContext], str]

FORMATS = ("text", "json", "jsonl", "sarif", "junit", "github")


def renderer(fmt: str) -> Renderer:
    # Imported on demand: a pre-commit run prints text and should not pay for the others.
    if fmt == "text":
        from wvzscan.report import text as mod
    elif fmt == "json":
        from wvzscan.report import json as mod  # type: ignore[no-redef]
    elif fmt == "jsonl":
        from wvzscan.report import jsonl as mod  # type: ignore[no-redef]
    elif fmt == "sarif":
        from wvzscan.report import sarif as mod  # type: ignore[no-redef]
    elif fmt == "junit":
        from wvzscan.report import junit as mod  # type: ignore[no-redef]
    elif fmt == "github":
        from wvzscan.report import github as mod  # type: ignore[no-redef]
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return mod.render


def printable(s: str) -> str:
    """``s`` with control and other invisible characters written as escapes (``\\n``, ``\\x1b``).

    File names, commit authors and API fields are someone else's text: raw, a newline in a path
    breaks the text report's layout, an ESC drives the reader's terminal, and control characters
    make JUnit XML not well-formed.
    """
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in s)


def write_private(path: str, text: str) -> None:
    """Reports may hold secrets (--show-secrets) and always hold fingerprints: create them 0600.

    An existing regular file is made 0600 too; a device, FIFO or tty (``-o /dev/stdout``) is written
    as it is: as root, chmod would change the device itself (``/dev/null`` 0600 for everyone).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
