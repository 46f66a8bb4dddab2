"""What every git scan shares: objects into the pipeline, and findings out with their origin."""

from __future__ import annotations

import bisect
import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

from wvzscan import scan as pipeline
from wvzscan.finding import Finding, ScanError, ScanResult
from wvzscan.progress import Progress
from wvzscan.sources import Chunk, Origin, Source, archives
from wvzscan.sources.files import excluded
from wvzscan.sources.git.objects_meta import Person, person
from wvzscan.sources.git.process import Parsed

MAX_ITEMIZED_ERRORS = 200  # one error per unreadable object, then a count (a partial clone may lack 10^5)


class _Look:
    """Which answers of a run hold a needle, from one look over the whole run (``scan.needle_spans``).

    ``hits``: the indices of the answers whose content holds a needle wholly (one that runs into
    the next header, or comes from an object id, does not count); None when the look cannot tell
    (no Hyperscan, a stopped look, a problem among the answers, a single object): then each
    object is looked at alone."""

    def __init__(self, view: memoryview, answers: list[Parsed]) -> None:
        self.hits: set[int] | None = None
        bodies = [a[2] for a in answers]
        if len(bodies) < 2 or min(bodies) < 0:
            return
        lo, hi = bodies[0], bodies[-1] + answers[-1][3]
        spans = pipeline.needle_spans(view[lo:hi])
        if spans is None:
            return  # no Hyperscan, or the look stopped at its limit: it vouches for nothing
        starts, ends = spans
        hits: set[int] = set()
        for start, end in zip(starts, ends, strict=True):
            i = bisect.bisect_right(bodies, start + lo) - 1
            if i >= 0 and end + lo <= bodies[i] + answers[i][3]:
                hits.add(i)
        self.hits = hits


@dataclass
class Found:
    """A scanned object that holds at least one key."""

    type: str  # blob, commit, tag
    findings: list[Finding]
    header: bytes = b""  # commit/tag header (author, tagger, object)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(f.secret for f in self.findings)


@dataclass
class ObjectScanner:
    """Feeds git objects through the shared pipeline (expand, hits, inline allow) one at a time.

    A blob is a Chunk with path "" (archive members become "!member"); its findings are placed at
    their commit and path afterwards, by the attribution step.
    """

    scanner: pipeline.Scanner
    result: ScanResult
    source: Source = "git"
    progress: Progress | None = None
    max_size: int | None = None  # blobs over it are skipped and counted (the user's --max-file-size)
    found: dict[str, Found] = field(default_factory=dict)
    unreadable: int = 0
    _reported: set[str] = field(default_factory=set)
    _skipped: set[str] = field(default_factory=set)
    # Errors and notes the archive walk recorded while reading an object (it knows only the member
    # path inside the object): (object id, "error" or "note", index in result.errors/notes).
    # (object id, "error" or "note", index, member path, message)
    problems: list[tuple[str, str, int, str, str]] = field(default_factory=list)

    def chunk(self, oid: str, typ: str, data: bytes) -> tuple[Chunk, bytes]:
        if typ == "blob":
            return Chunk(data, self.source, "", Origin(blob=oid)), b""
        header, _, message = data.partition(b"\n\n")
        origin = Origin(commit=oid, where="commit message") if typ == "commit" else Origin(tag=oid, where="tag message")
        return Chunk(message, self.source, None, origin), header

    def quick_message(self, data: memoryview, needles: bool | None = None) -> int | None:
        """The quick check of a commit or tag (``quick_run`` checks blobs inline): the bytes of its
        message, what the full path would count, when the message certainly holds nothing (no
        needle of any encoding, no container header); None when the full path (``__call__``) must
        see it. ``needles``: whether the object holds a needle, when ``quick_run``'s look told."""
        _, _, message = bytes(data).partition(b"\n\n")  # what ``chunk`` scans
        return len(message) if pipeline.certainly_clean(message, self.scanner.rules, needles) else None

    def quick_run(self, view: memoryview, answers: list[Parsed]) -> tuple[int, int, int, list[Parsed]]:
        """The quick check of a run of buffered answers (``objects.FastPath``): one Hyperscan look over
        all of them, then, for each blob, only what that look and its first bytes tell. Returns
        (objects passed, bytes they count, their size, the answers left for the full path)."""
        rest: list[Parsed] = []
        passed = counted = raw = 0
        hits = _Look(view, answers).hits
        # Offsets are the view's; its buffer is read directly only when the view is all of it.
        obj = view.obj
        buf = obj if isinstance(obj, (bytes, bytearray)) and len(obj) == view.nbytes else view.tobytes()
        max_size, rules = self.max_size, self.scanner.rules
        first_bytes, tar_at, tar_magic = archives.FIRST_BYTES, archives.TAR_MAGIC_AT, archives.TAR_MAGIC
        tar_end = tar_at + len(tar_magic)
        for i, a in enumerate(answers):
            _, typ, body, size = a
            if typ == "blob" and (max_size is None or size <= max_size):
                # archives.may_be_container, inline: it runs for every blob of a history
                if (
                    size
                    and (buf[body] in first_bytes or (size >= tar_end and buf.startswith(tar_magic, body + tar_at)))
                    and archives.kind(bytes(view[body : body + min(size, pipeline.KIND_HEAD)])) is not None
                ) or (i in hits if hits is not None else not pipeline.certainly_clean(view[body : body + size], rules)):
                    rest.append(a)
                else:
                    passed, counted, raw = passed + 1, counted + size, raw + size
            elif typ in ("commit", "tag"):
                n = self.quick_message(view[body : body + size], None if hits is None else i in hits)
                if n is None:
                    rest.append(a)
                else:
                    passed, counted, raw = passed + 1, counted + n, raw + size
            else:
                rest.append(a)  # a problem, a tree, a blob over the size limit: not the quick path's
        return passed, counted, raw, rest

    def counted(self, objects: int, scanned: int, raw: int) -> None:
        """What the quick path passed, added up (under the readers' lock)."""
        self.result.objects_scanned += objects
        self.result.bytes_scanned += scanned
        if self.progress is not None:
            self.progress.tick(raw, objects)

    def __call__(self, oid: str, typ: str, data: bytes) -> None:
        if self.progress is not None:
            self.progress.tick(len(data))
        if typ not in ("blob", "commit", "tag"):
            return
        if typ == "blob" and self.max_size is not None and len(data) > self.max_size:
            if oid not in self._skipped:
                self._skipped.add(oid)
                self.result.skipped["blob over max_file_size"] += 1
            return
        outer, header = self.chunk(oid, typ, data)
        n_err, n_note = len(self.result.errors), len(self.result.notes)
        # The scanner's own walk: its archive limits, and a key in a member not reported again
        # at the raw archive (see Scanner.expanded).
        findings = list(self.scanner.expanded(outer, self.result))
        if findings:
            self.found[oid] = Found(typ, findings, header)
        if len(self.result.errors) > n_err or len(self.result.notes) > n_note:
            for i in range(n_err, len(self.result.errors)):
                e = self.result.errors[i]
                self.problems.append((oid, "error", i, e.where, e.message))
            for i in range(n_note, len(self.result.notes)):
                head, sep, detail = self.result.notes[i].partition(": ")
                if sep and (head == "" or head.startswith("!")):
                    self.problems.append((oid, "note", i, head, detail))
            self.locate({oid: located(oid, typ)})

    def locate(self, where: dict[str, str]) -> None:
        """Put each object's location (``where[oid]``: its path, blob and commit as far as they are
        known) in front of the member path the archive walk gave its errors and notes."""
        for oid, kind, i, member, tail in self.problems:
            loc = where.get(oid)
            if loc is None:
                continue
            if kind == "error" and i < len(self.result.errors):
                self.result.errors[i] = ScanError(_join(loc, member), tail)
            elif kind == "note" and i < len(self.result.notes):
                self.result.notes[i] = f"{_join(loc, member)}: {tail}"

    def missing(self, oid: str, what: str = "missing") -> None:
        self.unreadable_object(oid, "object is missing from the repository" if what == "missing" else what)

    def unreadable_object(self, oid: str, message: str) -> None:
        if oid in self._reported:
            return
        self._reported.add(oid)
        self.unreadable += 1
        if self.unreadable <= MAX_ITEMIZED_ERRORS:
            self.result.error(f"git object {oid}", message)

    def finish(self) -> None:
        if self.unreadable > MAX_ITEMIZED_ERRORS:
            more = self.unreadable - MAX_ITEMIZED_ERRORS
            self.result.error("git objects", f"{more} more objects could not be read ({self.unreadable} in all)")


def located(oid: str, typ: str, path: str | None = None, commit: str | None = None) -> str:
    """An object's location for errors and notes: ``path @ [blob X, commit Y]`` (what is known)."""
    if typ != "blob":
        return f"{typ} {oid} message"
    parts = [f"blob {oid}"] + ([f"commit {commit}"] if commit else [])
    return f"{path or ''} @ [{', '.join(parts)}]"


def _join(loc: str, member: str) -> str:
    """``path!member @ [blob X, commit Y]`` from a location and the member path inside it."""
    if " @ " not in loc:
        return loc + (f" {member}" if member else "")
    path, _, ids = loc.partition(" @ ")
    prefix, ids = path + member, ids.strip("[]")
    return f"{prefix} ({ids})" if prefix else ids


def problem_oids(scanner: ObjectScanner) -> set[str]:
    return {p[0] for p in scanner.problems}


def placed(
    f: Finding,
    path: str | None,
    commit: str | None,
    who: Person | None,
    source: Source,
    **extra: object,
) -> Finding:
    """A copy of a finding at its origin: the attributed path goes in front of the member path."""
    g = copy.copy(f)
    g.extra = dict(f.extra)
    g.source = source
    if path is not None:
        g.path = path + (f.path or "")
    elif f.path == "":
        g.path = None
    g.commit = commit
    if who is not None:
        g.author, g.email, g.date = who.name, who.email, who.date
    for k, v in extra.items():
        if v is not None:
            g.extra[k] = v
    return g


def author_of(found: Found) -> Person | None:
    return person(found.header, b"author") or person(found.header, b"tagger")


def add_findings(result: ScanResult, findings: Iterable[Finding], exclude: Iterable[str] = ()) -> None:
    """Append, once per location, honouring --exclude on the attributed path."""
    patterns = tuple(exclude)
    seen = {f.identity() for f in result.findings}
    for f in findings:
        if patterns and f.path and excluded(f.path, patterns):
            result.skipped["excluded"] += 1
            continue
        ident = f.identity()
        if ident not in seen:
            seen.add(ident)
            result.findings.append(f)
