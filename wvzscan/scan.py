"""The pipeline's middle: chunks in, findings out (detect, locate, inline allow, de-duplicate).

Sources feed ``Scanner.feed``; extra views of content (archives, encodings) plug in through
``expand`` and ``hits``, so files and git blobs get the same treatment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass

from wvzscan import decode, detect
from wvzscan.config import ArchiveLimits
from wvzscan.finding import Finding, Locator, ScanResult
from wvzscan.prefilter import Prefilter
from wvzscan.progress import Progress
from wvzscan.sources import Chunk, archives

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


_PREFILTER = Prefilter(decode.NEEDLES)


def hits(data: bytes, rules: detect.Rules = detect.DEFAULT_RULES) -> Iterator[Hit]:
    """Every key in ``data``, plain or encoded, with its line, column and allow marker.

    A key is reported once per place: when a decoded view finds a key where the plain scan already
    found it (a plain key inside a region that also holds escapes), the plain finding stands; when
    the view finds a longer key at the same place (the plain scan stopped at an escape), it wins.
    """
    # `wvz` rather than `wvz_`: one pass serves the plain scan and the partly encoded prefixes
    # (`wvz%5F`, `wvz\u005f`); on ordinary content it is the only pass the plain scan makes.
    needles = _PREFILTER.find(data) if rules.decode else None
    if needles == {}:
        return  # no needle of any encoding: nothing can start here
    has_wvz = bool(needles[b"wvz"]) if needles is not None else b"wvz" in data
    found: dict[int, tuple[str, int, str, int | None, int | None]] = {}
    if has_wvz:
        for m in detect.find_keys(data, rules):
            found[m.start] = (m.key, m.end, "plain", None, None)
    for e in decode.encoded_keys(data, rules, has_wvz, needles):
        prev = found.get(e.start)
        if prev is None or (e.key != prev[0] and e.key.startswith(prev[0])):
            found[e.start] = (e.key, e.end, e.encoding, e.line, e.column)
    where = Locator(data, ALLOW_MARKER)
    for start in sorted(found):
        key, end, encoding, line, col = found[start]
        at_line, at_col, allowed = where.at(start)
        if line is None or col is None:
            line, col = at_line, at_col
        yield Hit(key, start, end, encoding, line, col, allowed)


# The quick check below decides "container or not" from this many first bytes (archives.kind reads a
# header: at most 262 bytes today).
KIND_HEAD = 4096


def certainly_clean(data: bytes | memoryview, rules: detect.Rules = detect.DEFAULT_RULES) -> bool:
    """True when the full path (``Scanner.expanded``) would find nothing in ``data`` and say nothing
    about it: no needle of any encoding (the one set ``hits`` starts from) and no container header.
    False means "maybe": the full path decides. Always False without Hyperscan.

    For many threads at once, without a lock: one Hyperscan scratch per thread, the GIL released
    while it runs, stopped at the first needle; ``data`` may be a memoryview (scanned in place)."""
    if archives.kind(bytes(data[:KIND_HEAD])) is not None:
        return False
    return _PREFILTER.any(data) is False


def expand(chunk: Chunk, result: ScanResult, limits: ArchiveLimits = detect.DEFAULT_RULES.archives) -> Iterator[Chunk]:
    """The chunk and, when it is an archive or database, its members (members first)."""
    return archives.expand(chunk, result, limits)


@dataclass
class Scanner:
    result: ScanResult
    rules: detect.Rules = detect.DEFAULT_RULES
    inline_allow: bool = True

    def __post_init__(self) -> None:
        self._seen: set[tuple[object, ...]] = set()

    def findings_in(
        self, chunk: Chunk, hidden: Set[str] = frozenset(), keys: set[str] | None = None
    ) -> Iterator[Finding]:
        """Findings in one chunk; ``hidden`` keys are not reported, ``keys`` collects every key seen."""
        for hit in hits(chunk.data, self.rules):
            if keys is not None:
                keys.add(hit.key)
            if hidden and any(hit.key.startswith(k) for k in hidden):
                continue  # found in a member; in raw SQLite pages it may be glued to the next cell
            if hit.allowed and self.inline_allow:
                self.result.suppressed["inline allow"] += 1
                continue
            yield Finding(
                secret=hit.key,
                source=chunk.source,
                path=chunk.path,
                line=hit.line,
                column=hit.column,
                encoding=hit.encoding,
                extra=dict(chunk.origin.fields()),
            )

    def add(self, f: Finding) -> None:
        ident = f.identity()
        if ident not in self._seen:
            self._seen.add(ident)
            self.result.findings.append(f)

    def scan(self, outer: Chunk) -> None:
        """One chunk from a source, with everything ``expand`` finds inside it (see ``expanded``)."""
        for f in self.expanded(outer):
            self.add(f)

    def expanded(self, outer: Chunk, result: ScanResult | None = None) -> Iterator[Finding]:
        """Findings in one chunk and in everything ``expand`` finds inside it; archive problems and
        counts go to ``result`` (default: this scanner's).

        An archive's raw bytes are scanned too (a key may sit where no member covers it: a zip
        comment, a SQLite free page), but a key already found in one of its members is not reported
        again at the archive's own path: stored zip members and plain tars hold their members' bytes
        as they are, so every key in them would otherwise be reported twice.
        """
        result = self.result if result is None else result
        under: dict[int, set[str]] = {}
        for chunk in expand(outer, result, self.rules.archives):
            result.objects_scanned += 1
            result.bytes_scanned += len(chunk.data)
            own = chunk.archive_id
            hidden = under.get(own, set()) if own is not None else set()
            parents = chunk.archive_parents
            keys: set[str] = set()
            yield from self.findings_in(chunk, hidden, keys if parents else None)
            for p in parents:
                under.setdefault(p, set()).update(keys)

    def feed(self, chunks: Iterable[Chunk], progress: Progress | None = None) -> None:
        for chunk in chunks:
            if progress is not None:
                progress.tick(len(chunk.data))
            self.scan(chunk)
