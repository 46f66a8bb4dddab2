"""Progress on stderr: only on a terminal, never with -q, never with a secret in it.

One line, redrawn in place with a carriage return, always shorter than the terminal is wide (a line
that wraps leaves stale copies above it on a narrow terminal), with totals and an estimate of the time
left when the source knows its total, and erased when the scan is done. The terminal's width is read
at each redraw, so a resized window is followed. No library: this module is imported by the
pre-commit hook, where start-up time matters, and a line of text needs none.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

FIRST_DRAW = 0.5  # seconds: quick scans (hooks) print nothing at all
REDRAW = 0.2


def terminal_columns() -> int:
    return shutil.get_terminal_size(fallback=(80, 24)).columns


def _duration(seconds: float) -> str:
    s = int(seconds + 0.5)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Progress:
    def __init__(
        self,
        enabled: bool,
        what: str = "files",
        total_bytes: int | None = None,
        stream: TextIO | None = None,
        columns: Callable[[], int] = terminal_columns,
    ) -> None:
        self.enabled = enabled
        self.what = what
        self.total_bytes = total_bytes
        self.total_count: int | None = None  # objects to read, when the source knows (git)
        self.count = 0
        self.bytes = 0
        self.start = time.monotonic()
        self._last = self.start + FIRST_DRAW - REDRAW
        self._drawn = False
        self._stream = stream
        self._columns = columns

    @classmethod
    def for_terminal(cls, quiet: bool, what: str = "files") -> Progress:
        return cls(enabled=not quiet and sys.stderr.isatty(), what=what)

    def tick(self, nbytes: int, count: int = 1) -> None:
        self.count += count
        self.bytes += nbytes
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= REDRAW:
            self._last = now
            self._drawn = True
            self._write("\r" + self.line(now) + "\033[K")

    def parts(self, now: float) -> list[str]:
        """What the line says, most important first (the end is dropped on a narrow terminal)."""
        elapsed = max(now - self.start, 1e-6)
        mb = self.bytes / 1e6
        counted = f"{self.count:,}"
        if self.total_count:
            counted += f" of {self.total_count:,}"
        parts = [f"{counted} {self.what}"]
        size = f"{mb:,.1f} MB"
        if self.total_bytes:
            size = f"{mb:,.1f} of {self.total_bytes / 1e6:,.1f} MB ({100 * self.bytes / self.total_bytes:.0f}%)"
        parts.append(size)
        eta = self.eta(elapsed)
        if eta is not None:
            parts.append(f"{_duration(eta)} left")
        parts.append(f"{mb / elapsed:,.1f} MB/s")
        return parts

    def eta(self, elapsed: float) -> float | None:
        """Seconds left, from the share done so far; None without a total or before any progress."""
        if self.total_bytes and self.bytes:
            return max(elapsed * (self.total_bytes - self.bytes) / self.bytes, 0.0)
        if self.total_count and self.count:
            return max(elapsed * (self.total_count - self.count) / self.count, 0.0)
        return None

    def line(self, now: float) -> str:
        """The parts that fit in one line narrower than the terminal (the last column is left free:
        some terminals wrap when it is written)."""
        room = max(self._columns() - 1, 1)
        parts = self.parts(now)
        while len(parts) > 1 and len(", ".join(parts)) > room:
            parts.pop()
        return ", ".join(parts)[:room]

    def _write(self, s: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(s)
        stream.flush()

    def done(self) -> None:
        if self.enabled and self._drawn:
            self._write("\r\033[K")
            self._drawn = False
