"""Where a key could start: every needle the detector and the decoders begin from, found in one pass.

The plain scan looks for ``wvz``; each decoder has needles of its own (the three base64 shapes of
``wvz_``, its fully percent- and backslash-escaped forms, its UTF-16 form). In pure Python each needle
costs one ``bytes.find`` pass over the content, about as much as the whole plain scan, so decoding
would make ordinary content several times slower. Hyperscan (when installed: ``pip install
wvzscan[fast]``) finds all of them in a single pass that is faster than one ``bytes.find``; without
it, the decoders fall back to their own passes and still find everything, only slower.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

# Below this size a few bytes.find calls cost less than one Hyperscan call (about 1 us); above it,
# Hyperscan wins: 3 us against 5 us for the plain `wvz` search alone on a 5 KB source file.
MIN_BYTES = 256


class Prefilter:
    def __init__(self, needles: Sequence[bytes], use_hyperscan: bool = True) -> None:
        self.needles = tuple(needles)
        self._lengths = [len(n) for n in self.needles]
        self._db: Any = None
        self._tried = not use_hyperscan  # off: every caller searches for itself (the fallback)
        self._hits: dict[int, list[int]] = {}
        self._local = threading.local()  # one Hyperscan scratch per thread (``any``)

    def _compile(self) -> None:
        # Lazily, on the first large input: a hook scanning a one-line change never imports it.
        self._tried = True
        if os.environ.get("WVZSCAN_NO_HYPERSCAN"):
            return
        try:
            import hyperscan
        except ImportError:
            return
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        # Every byte as \xHH: expressions are C strings (a NUL would end them) and regexes.
        exprs = ["".join(f"\\x{b:02x}" for b in n).encode() for n in self.needles]
        db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=[0] * len(exprs))
        self._db = db

    @property
    def available(self) -> bool:
        if not self._tried:
            self._compile()
        return self._db is not None

    def _on_match(self, ident: int, start: int, end: int, flags: int, context: Any) -> None:
        self._hits.setdefault(ident, []).append(end - len(self.needles[ident]))

    def find(self, data: bytes) -> dict[bytes, list[int]] | None:
        """Start offsets of every needle in ``data`` (sorted), or None when callers should search
        themselves (no Hyperscan, or content too small for it to pay). An empty dict: no needle at
        all, the common case, so callers can stop at once."""
        if len(data) < MIN_BYTES or not self.available:
            return None
        self._hits = {}
        self._db.scan(data, match_event_handler=self._on_match)
        if not self._hits:
            return {}
        return {n: sorted(self._hits.get(i, ())) for i, n in enumerate(self.needles)}

    def any(self, data: bytes | bytearray | memoryview) -> bool | None:
        """Whether any needle occurs in ``data`` (None: no Hyperscan, the caller cannot tell).

        Safe from several threads at once: each thread scans with its own scratch, the GIL is
        released while Hyperscan runs, and the scan stops at the first needle. Any size (a
        memoryview into a reader's buffer is scanned in place, without a copy)."""
        if not self.available:
            return None
        scratch = self._scratch()
        try:
            self._db.scan(data, match_event_handler=_stop, scratch=scratch)
        except Exception as e:  # hyperscan.ScanTerminated: the handler stopped it at a needle
            if type(e).__name__ == "ScanTerminated":
                return True
            raise
        return False

    def spans(self, data: bytes | bytearray | memoryview, limit: int = 4096) -> Spans | None:
        """Every needle in ``data`` as ``(starts, ends)``: start and end offsets, sorted by end.
        None: the caller cannot tell, because there is no Hyperscan or because more than ``limit``
        needles were found and the scan stopped (Hyperscan does not promise to report in order, so
        a stopped scan vouches for no offset: it must not look like a list of needles).

        One scan over a run of many objects costs one call instead of one per object; any thread,
        like ``any``."""
        if not self.available:
            return None
        scratch = self._scratch()
        starts: list[int] = []
        ends: list[int] = []
        lengths = self._lengths

        def on_match(ident: int, start: int, end: int, flags: int, context: Any) -> bool:
            starts.append(end - lengths[ident])
            ends.append(end)
            return len(ends) >= limit

        try:
            self._db.scan(data, match_event_handler=on_match, scratch=scratch)
        except Exception as e:
            if type(e).__name__ == "ScanTerminated":
                return None
            raise
        if any(ends[i] > ends[i + 1] for i in range(len(ends) - 1)):
            pairs = sorted(zip(ends, starts, strict=True))
            ends, starts = [e for e, _ in pairs], [s for _, s in pairs]
        return starts, ends

    def _scratch(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            import hyperscan

            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        return scratch


Spans = tuple[list[int], list[int]]


def _stop(ident: int, start: int, end: int, flags: int, context: Any) -> bool:
    return True  # stop the scan: one needle answers the question
