"""One resource budget per top-level input: every byte that decoding, decompression or a database
produces is charged to it, once.

A file, a git blob or standard input gets one ``Budget`` when the scanner starts on it; the archive
walk (members, decompressed streams, SQLite cells) and the decoded views (nested base64, gzip inside
base64) all charge the same one. Bytes that are only *read* (a plain tar's members, which are slices of
the input) are not charged: they were never produced. What a limit stops is a counted skip with a note;
nothing is charged twice (a tar.gz is charged for its decompressed stream only, not again per member).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wvzscan.config import ArchiveLimits
from wvzscan.finding import ScanResult

RATIO_FLOOR = 1024 * 1024  # below this many bytes out, no ratio is a bomb worth stopping

SKIP_BYTES = "archive content over archive_max_bytes"
SKIP_RATIO = "archive member over archive_max_ratio"
SKIP_ENTRIES = "archive entries over archive_max_entries"
SKIP_DEPTH = "archive nested deeper than archive_depth"


class OverLimit(Exception):
    """A limit stopped a read: a counted skip (``reason`` is the skip's name)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass
class Budget:
    limits: ArchiveLimits
    result: ScanResult = field(default_factory=ScanResult)
    produced: int = 0  # bytes produced so far, all layers together
    entries: int = 0  # members, rows and decoded layers opened so far

    @property
    def bytes_left(self) -> int:
        return max(0, self.limits.max_bytes - self.produced)

    def check(self, out: int, consumed: int, what: str) -> None:
        """Raise ``OverLimit`` when ``out`` more bytes (from ``consumed`` input bytes) would pass a limit."""
        if self.produced + out > self.limits.max_bytes:
            raise OverLimit(SKIP_BYTES, f"{what} holds more than archive_max_bytes ({self.limits.max_bytes} bytes)")
        if out > RATIO_FLOOR and out > self.limits.max_ratio * max(consumed, 1):
            raise OverLimit(
                SKIP_RATIO, f"{what} expands more than archive_max_ratio ({self.limits.max_ratio}x): not read"
            )

    def charge(self, out: int, consumed: int, what: str) -> None:
        self.check(out, consumed, what)
        self.produced += out

    def entry(self) -> bool:
        """Count one entry; False once the limit is reached (the caller skips and says so)."""
        self.entries += 1
        return self.entries <= self.limits.max_entries

    def skip(self, reason: str, where: str, detail: str) -> None:
        self.result.skipped[reason] += 1
        self.result.notes.append(f"{where}: {detail}")
