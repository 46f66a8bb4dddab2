"""The pipeline's middle: chunks in, findings out (detect, locate, inline allow, de-duplicate).

Sources feed ``Scanner.feed``; extra views of content (archives, encodings) plug in through
``expand`` and ``hits``, so files and git blobs get the same treatment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass

from wvzscan import decode, detect
from wvzscan.budget import Budget
from wvzscan.config import ArchiveLimits
from wvzscan.finding import Finding, Locator, ScanResult
from wvzscan.output.redact import redact, scrub
from wvzscan.prefilter import Prefilter, Spans
from wvzscan.progress import Progress
from wvzscan.sources import Chunk, archives

ALLOW_MARKER = b"wvzscan:allow"
CONTEXT_WIDTH = 160  # characters of the matched line shown around the key
# Locations of one key kept per chunk: past this, one counted note instead of one finding each (a file
# holding 300,000 copies of one key must not hold 300,000 findings in memory).
MAX_LOCATIONS_PER_KEY = 10_000
SKIP_LOCATIONS = "locations of one key over the per-file cap"


def context_line(data: bytes, start: int, end: int, width: int = CONTEXT_WIDTH) -> str:
    """The line holding ``data[start:end]`` with that span (a key, in whatever encoding) replaced by its
    redaction, cut to about ``width`` characters around it, control characters escaped. Any other key
    on the line is redacted too: the line never holds a full key."""
    ls = data.rfind(b"\n", 0, start) + 1
    le = data.find(b"\n", end)
    le = len(data) if le == -1 else le
    half = max(20, (width - 20) // 2)
    left = max(ls, start - half)
    right = min(le, end + half)
    key = data[start:end].decode("utf-8", "replace")
    before = data[left:start].decode("utf-8", "replace")
    after = data[end:right].decode("utf-8", "replace")
    # `wvz_ab12****`: the redaction, in the masked form the detector itself never reports
    shown = redact(key).rstrip("…") + "****"
    text = ("…" if left > ls else "") + scrub(before) + shown + scrub(after) + ("…" if right < le else "")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


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


def hits(data: bytes, rules: detect.Rules = detect.DEFAULT_RULES, budget: Budget | None = None) -> Iterator[Hit]:
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
    nested: dict[tuple[int, str], tuple[str, int, str, int | None, int | None]] = {}
    spans: dict[str, list[tuple[int, int]]] = {}  # where each nested key was found already
    for e in decode.encoded_keys(data, rules, has_wvz, needles, budget):
        if ">" in e.encoding:
            # A nested layer (a decoded blob) can hold many keys at one offset; one key found through
            # two overlapping windows of the same blob is one finding.
            seen = spans.setdefault(e.key, [])
            if any(a < e.end and e.start < b for a, b in seen):
                continue
            seen.append((e.start, e.end))
            nested[(e.start, e.key)] = (e.key, e.end, e.encoding, e.line, e.column)
            continue
        prev = found.get(e.start)
        if prev is None or (e.key != prev[0] and e.key.startswith(prev[0])):
            found[e.start] = (e.key, e.end, e.encoding, e.line, e.column)
    entries = [(start, v) for start, v in found.items()]
    entries += [(start, v) for (start, _), v in nested.items()]
    entries.sort(key=lambda sv: (sv[0], sv[1][0]))
    where = Locator(data, ALLOW_MARKER)
    for start, (key, end, encoding, line, col) in entries:
        at_line, at_col, allowed = where.at(start)
        if line is None or col is None:
            line, col = at_line, at_col
        yield Hit(key, start, end, encoding, line, col, allowed)


# The quick check below decides "container or not" from this many first bytes (archives.kind reads a
# header: at most 262 bytes today).
KIND_HEAD = 4096


def needle_spans(data: bytes | memoryview) -> Spans | None:
    """Where the needles of ``certainly_clean`` are in ``data`` (a run of many objects: one scan for
    all of them); None when it cannot tell (no Hyperscan, or too many needles). See ``Prefilter.spans``."""
    return _PREFILTER.spans(data)


def certainly_clean(
    data: bytes | memoryview, rules: detect.Rules = detect.DEFAULT_RULES, needles: bool | None = None
) -> bool:
    """True when the full path (``Scanner.expanded``) would find nothing in ``data`` and say nothing
    about it: no needle of any encoding (the one set ``hits`` starts from) and no container header.
    False means "maybe": the full path decides. Always False without Hyperscan. ``needles``: whether
    ``data`` holds a needle, when ``needle_spans`` already told.

    For many threads at once, without a lock: one Hyperscan scratch per thread, the GIL released
    while it runs, stopped at the first needle; ``data`` may be a memoryview (scanned in place)."""
    if archives.may_be_container(data) and archives.kind(bytes(data[:KIND_HEAD])) is not None:
        return False
    if needles is not None:  # ``needle_spans`` already looked
        return not needles
    return _PREFILTER.any(data) is False


def expand(
    chunk: Chunk,
    result: ScanResult,
    limits: ArchiveLimits = detect.DEFAULT_RULES.archives,
    budget: Budget | None = None,
) -> Iterator[Chunk]:
    """The chunk and, when it is an archive or database, its members (members first)."""
    return archives.expand(chunk, result, limits, budget)


@dataclass
class Scanner:
    result: ScanResult
    rules: detect.Rules = detect.DEFAULT_RULES
    inline_allow: bool = True

    def __post_init__(self) -> None:
        self._seen: set[tuple[object, ...]] = set()

    def findings_in(
        self,
        chunk: Chunk,
        hidden: Set[str] = frozenset(),
        keys: set[str] | None = None,
        budget: Budget | None = None,
    ) -> Iterator[Finding]:
        """Findings in one chunk; ``hidden`` keys are not reported, ``keys`` collects every key seen."""
        per_key: dict[str, int] = {}
        for hit in hits(chunk.data, self.rules, budget):
            if keys is not None:
                keys.add(hit.key)
            if hidden and any(hit.key.startswith(k) for k in hidden):
                continue  # found in a member; in raw SQLite pages it may be glued to the next cell
            if hit.allowed and self.inline_allow:
                self.result.suppressed["inline allow"] += 1
                continue
            seen = per_key[hit.key] = per_key.get(hit.key, 0) + 1
            if seen > MAX_LOCATIONS_PER_KEY:
                continue
            yield Finding(
                secret=hit.key,
                source=chunk.source,
                path=chunk.path,
                line=hit.line,
                column=hit.column,
                encoding=hit.encoding,
                extra=dict(chunk.origin.fields()),
                context=context_line(chunk.data, hit.start, hit.end),
            )
        for key, n in per_key.items():
            if n > MAX_LOCATIONS_PER_KEY:
                more = n - MAX_LOCATIONS_PER_KEY
                self.result.skipped[SKIP_LOCATIONS] += more
                where = chunk.path or chunk.origin.where or "<stdin>"
                self.result.notes.append(
                    f"{scrub(where)}: {redact(key)} found {n} times; the first {MAX_LOCATIONS_PER_KEY} locations "
                    f"are listed, {more} more are not (the key is reported all the same)"
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
        budget = Budget(self.rules.archives, result)  # one per top-level input: members and decoded layers
        under: dict[int, set[str]] = {}
        for chunk in expand(outer, result, self.rules.archives, budget):
            result.objects_scanned += 1
            result.bytes_scanned += len(chunk.data)
            own = chunk.archive_id
            hidden = under.get(own, set()) if own is not None else set()
            parents = chunk.archive_parents
            keys: set[str] = set()
            yield from self.findings_in(chunk, hidden, keys if parents else None, budget)
            for p in parents:
                under.setdefault(p, set()).update(keys)

    def feed(self, chunks: Iterable[Chunk], progress: Progress | None = None) -> None:
        for chunk in chunks:
            if progress is not None:
                progress.tick(len(chunk.data))
            self.scan(chunk)
