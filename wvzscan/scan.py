"""The pipeline's middle: chunks in, findings out (detect, locate, inline allow, de-duplicate).

Sources feed ``Scanner.feed``; extra views of content (archives, encodings) plug in through
``expand`` and ``hits``, so files and git blobs get the same treatment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from wvzscan import detect
from wvzscan.finding import Finding, ScanResult, line_at, line_col
from wvzscan.progress import Progress
from wvzscan.sources import Chunk

ALLOW_MARKER = b"wvzscan:allow"


@dataclass(frozen=True)
class Hit:
    """A key in one chunk: where it sits in the chunk's bytes and how it was stored."""

    key: str
    start: int
    end: int
    encoding: str
    line: int
    column: int
    allowed: bool  # an inline `wvzscan:allow` comment on its line


def hits(data: bytes, rules: detect.Rules = detect.DEFAULT_RULES) -> Iterator[Hit]:
    """Every key in ``data``, plain or encoded, with its line, column and allow marker."""
    for m in detect.find_keys(data, rules):
        line, col = line_col(data, m.start)
        yield Hit(m.key, m.start, m.end, "plain", line, col, ALLOW_MARKER in line_at(data, m.start))


def expand(chunk: Chunk, result: ScanResult) -> Iterator[Chunk]:
    """The chunk itself; archives add their members here."""
    yield chunk


@dataclass
class Scanner:
    result: ScanResult
    rules: detect.Rules = detect.DEFAULT_RULES
    inline_allow: bool = True

    def __post_init__(self) -> None:
        self._seen: set[tuple[object, ...]] = set()

    def findings_in(self, chunk: Chunk) -> Iterator[Finding]:
        for hit in hits(chunk.data, self.rules):
            if hit.allowed and self.inline_allow:
                self.result.suppressed["inline allow"] += 1
                continue
            meta = chunk.meta
            yield Finding(
                secret=hit.key,
                source=chunk.source,
                path=chunk.path,
                line=hit.line,
                column=hit.column,
                encoding=hit.encoding,
                commit=meta.get("commit"),
                author=meta.get("author"),
                email=meta.get("email"),
                date=meta.get("date"),
                extra=dict(meta.get("extra", {})),
            )

    def add(self, f: Finding) -> None:
        ident = f.identity()
        if ident not in self._seen:
            self._seen.add(ident)
            self.result.findings.append(f)

    def scan(self, outer: Chunk) -> None:
        """One chunk from a source, with everything ``expand`` finds inside it."""
        for chunk in expand(outer, self.result):
            self.result.objects_scanned += 1
            self.result.bytes_scanned += len(chunk.data)
            for f in self.findings_in(chunk):
                self.add(f)

    def feed(self, chunks: Iterable[Chunk], progress: Progress | None = None) -> None:
        for chunk in chunks:
            if progress is not None:
                progress.tick(len(chunk.data))
            self.scan(chunk)
