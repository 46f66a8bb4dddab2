"""What every git scan shares: objects into the pipeline, and findings out with their origin."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

from wvzscan import scan as pipeline
from wvzscan.finding import Finding, ScanResult
from wvzscan.progress import Progress
from wvzscan.sources import Chunk, Origin, Source
from wvzscan.sources.files import excluded
from wvzscan.sources.git.objects_meta import Person, person

MAX_ITEMIZED_ERRORS = 200  # one error per unreadable object, then a count (a partial clone may lack 10^5)


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
    found: dict[str, Found] = field(default_factory=dict)
    unreadable: int = 0
    _reported: set[str] = field(default_factory=set)

    def chunk(self, oid: str, typ: str, data: bytes) -> tuple[Chunk, bytes]:
        if typ == "blob":
            return Chunk(data, self.source, "", Origin(blob=oid)), b""
        header, _, message = data.partition(b"\n\n")
        origin = Origin(commit=oid, where="commit message") if typ == "commit" else Origin(tag=oid, where="tag message")
        return Chunk(message, self.source, None, origin), header

    def __call__(self, oid: str, typ: str, data: bytes) -> None:
        if self.progress is not None:
            self.progress.tick(len(data))
        if typ not in ("blob", "commit", "tag"):
            return
        outer, header = self.chunk(oid, typ, data)
        # The scanner's own walk: its archive limits, and a key in a member not reported again
        # at the raw archive (see Scanner.expanded).
        findings = list(self.scanner.expanded(outer, self.result))
        if findings:
            self.found[oid] = Found(typ, findings, header)

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
