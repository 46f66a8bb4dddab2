"""Progress on stderr: only on a terminal, never with -q, never with a secret in it."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, enabled: bool, what: str = "files", total_bytes: int | None = None) -> None:
        self.enabled = enabled
        self.what = what
        self.total_bytes = total_bytes
        self.count = 0
        self.bytes = 0
        self.start = time.monotonic()
        # First line after half a second: quick scans (hooks) print nothing at all.
        self._last = self.start + 0.3
        self._drawn = False

    @classmethod
    def for_terminal(cls, quiet: bool, what: str = "files") -> Progress:
        return cls(enabled=not quiet and sys.stderr.isatty(), what=what)

    def tick(self, nbytes: int, count: int = 1) -> None:
        self.count += count
        self.bytes += nbytes
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= 0.2:
            self._last = now
            self._drawn = True
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-6)
        mb = self.bytes / 1e6
        line = f"\r{self.count:,} {self.what}, {mb:,.1f} MB"
        if self.total_bytes:
            line += f" of {self.total_bytes / 1e6:,.1f} MB ({100 * self.bytes / self.total_bytes:.0f}%)"
        line += f", {mb / elapsed:,.1f} MB/s"
        sys.stderr.write(line + "\033[K")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self._drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
