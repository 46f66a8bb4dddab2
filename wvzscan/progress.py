"""Progress on stderr: only on a terminal, never with -q, never with a secret in it.

The bar is tqdm's: one line as wide as the terminal (followed when the window is resized, so a
narrow terminal never gets wrapped, stale copies), totals, a rate and the time left when the source
knows its total, and erased when the scan is done. tqdm is imported at the first draw, half a second
into a scan: a quick run (every pre-commit hook) neither draws nor pays for the import.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, TextIO

if sys.version_info >= (3, 11):
    from typing import Never
else:  # Python 3.10
    from typing import NoReturn as Never

if TYPE_CHECKING:
    from tqdm import tqdm

FIRST_DRAW = 0.5  # seconds: quick scans (hooks) print nothing at all
REDRAW = 0.2


class Progress:
    def __init__(
        self,
        enabled: bool,
        what: str = "files",
        total_bytes: int | None = None,
        stream: TextIO | None = None,
        columns: int | None = None,
    ) -> None:
        self.enabled = enabled
        self.what = what
        self.total_bytes = total_bytes
        self.total_count: int | None = None  # objects to read, when the source knows (git)
        self.count = 0
        self.bytes = 0
        self.start = time.monotonic()
        self._last = self.start + FIRST_DRAW - REDRAW
        self._stream = stream
        self._columns = columns  # fixed width (tests); None: the terminal's, read at each redraw
        self._bar: tqdm[Never] | None = None

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
            self._draw()

    def _make_bar(self) -> tqdm[Never]:
        from tqdm import tqdm  # here: only a scan long enough to show progress pays for it

        by_bytes = self.total_bytes is not None or self.total_count is None
        bar: tqdm[Never] = tqdm(
            total=self.total_bytes if by_bytes else self.total_count,
            unit="B" if by_bytes else f" {self.what}",
            unit_scale=by_bytes,
            unit_divisor=1000,
            desc=None,
            file=self._stream or sys.stderr,
            leave=False,  # erased when done
            ncols=self._width(),
            nrows=20,  # one bar; a pty of size 0 (some CI runners) would otherwise make tqdm show none
            mininterval=REDRAW,
            miniters=0,
            smoothing=0.1,
            delay=1e-3,  # no 0% flash when the bar is made: the first draw is the first refresh
            ascii=None,
        )
        # The rate and the time left count from the scan's start, not from the first draw.
        bar.start_t = time.time() - (time.monotonic() - self.start)
        return bar

    def _width(self) -> int:
        """The terminal's width, read at each draw (a resized window is followed); 80 where the
        terminal does not say (a pty of size 0, as some CI runners give)."""
        if self._columns is not None:
            return self._columns
        try:
            cols = os.get_terminal_size((self._stream or sys.stderr).fileno()).columns
        except (OSError, ValueError, AttributeError):
            cols = 0
        return cols if cols > 0 else 80

    def _draw(self) -> None:
        if self._bar is None:
            self._bar = self._make_bar()
        bar = self._bar
        bar.ncols = self._width()
        by_bytes = bar.unit == "B"
        bar.n = self.bytes if by_bytes else self.count
        if by_bytes:
            counted = f"{self.count:,}" + (f" of {self.total_count:,}" if self.total_count else "")
            bar.set_postfix_str(f"{counted} {self.what}", refresh=False)
        bar.refresh()

    def done(self) -> None:
        if self._bar is not None:
            self._bar.close()  # leave=False: the line is cleared
            self._bar = None
