"""What a set of commits, or the index, adds: the base of ``--range``/``--since``/``--branch``,
``wvzscan push``, ``wvzscan staged`` and ``wvzscan ci``.

A key is reported when it sits on a line the change adds (``git diff -U0`` between the old and
the new blob, binary files included), with renames followed (``-M``), so moving or renaming a
file adds nothing and a deletion adds nothing. Inside an archive member (no lines to compare)
a key counts as added when the old blob did not hold it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wvzscan.finding import Finding, ScanResult
from wvzscan.progress import Progress
from wvzscan.scan import Scanner
from wvzscan.sources import Source
from wvzscan.sources.git import history, objects_meta
from wvzscan.sources.git.common import Found, ObjectScanner, add_findings, author_of, located, placed, problem_oids
from wvzscan.sources.git.objects import ParallelReader, from_ids, read_one
from wvzscan.sources.git.objects_meta import Person
from wvzscan.sources.git.process import GitError, Repo

EMPTY_TREE = {
    "sha1": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "sha256": "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321",
}
_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


class MissingBase(GitError):
    """The base of a range is not in the repository."""


def shallow_base_message(rev: str) -> str:
    """What to tell a user whose shallow checkout lacks the base of the range to scan."""
    return (
        f"the base commit {rev} is not in this shallow clone, so what the change adds cannot be "
        "computed; fetch the full history: `fetch-depth: 0` on actions/checkout in GitHub Actions, "
        "`GIT_DEPTH: 0` in GitLab CI, or `git fetch --unshallow` locally"
    )


def range_revs(repo: Repo, base: str | None, head: str, result: ScanResult) -> list[str]:
    """git log arguments for "what ``head`` adds over ``base``" (``base`` None: over every remote).

    In a shallow clone that lacks ``base``, the commits that are there are scanned and the missing
    base is recorded as a ScanResult error (exit 3 unless something is found); anywhere else an
    unknown revision is a MissingBase error.
    """
    if repo.resolve(head) is None:
        raise MissingBase(f"unknown revision: {head}")
    if base is None or set(base) == {"0"}:
        return [head, "--not", "--remotes"]
    if repo.resolve(base) is None:
        if repo.shallow:
            result.error(base, shallow_base_message(base))
            return [head]
        raise MissingBase(f"unknown revision: {base}")
    return [f"{base}..{head}"]


def added_lines(repo: Repo, old: str, new: str) -> set[int]:
    """Line numbers (1-based, in ``new``) that the change from blob ``old`` to ``new`` adds."""
    # --inter-hunk-context=0: a user's diff.interHunkContext would join hunks over unchanged lines.
    args = ["diff", "-U0", "--inter-hunk-context=0", "-a", "--no-color", "--no-ext-diff", "--no-textconv"]
    out = repo.run(*args, "--no-renames", old, new)
    lines: set[int] = set()
    for m in _HUNK.finditer(out):
        start = int(m[1])
        count = 1 if m[2] is None else int(m[2])
        lines.update(range(start, start + count))
    return lines


@dataclass
class _Blobs:
    """Keys of blobs read one at a time, when a comparison needs them (old sides, HEAD)."""

    repo: Repo
    scanner: Scanner
    found: Mapping[str, Found] = field(default_factory=dict)  # what the scan itself read
    cache: dict[str, frozenset[str]] = field(default_factory=dict)
    _head_blobs: set[str] | None = None
    _head_answers: dict[str, bool] = field(default_factory=dict)

    def keys(self, oid: str | None) -> frozenset[str]:
        if oid is None:
            return frozenset()
        if oid not in self.cache:
            got = read_one(self.repo, oid)
            keys: frozenset[str] = frozenset()
            if got is not None and got[0] == "blob":
                scratch = ScanResult()
                probe = ObjectScanner(Scanner(scratch, self.scanner.rules, inline_allow=False), scratch)
                probe(oid, "blob", got[1])
                keys = probe.found[oid].keys if oid in probe.found else frozenset()
            self.cache[oid] = keys
        return self.cache[oid]

    def prefetch(self, oids: Iterable[str | None]) -> None:
        """Scan many blobs with one reader (a commit that touched thousands of files)."""
        todo = sorted({o for o in oids if o is not None and o not in self.cache})
        if len(todo) < 2:
            return
        scratch = ScanResult()
        probe = ObjectScanner(Scanner(scratch, self.scanner.rules, inline_allow=False), scratch)
        _read_sequential(self.repo, todo, probe)
        for oid in todo:
            if oid not in probe._reported:  # an unreadable old side stays unknown: read singly later
                self.cache[oid] = probe.found[oid].keys if oid in probe.found else frozenset()

    def at_head(self, path: str) -> frozenset[str]:
        # keys() reads the object and keeps only a blob (the path may be a folder now).
        oid = self.repo.resolve(f"HEAD:{path}", None) if self.repo.head() else None
        return self.keys(oid)

    def head_has(self, key: str, path: str) -> bool:
        """Whether ``key`` is still somewhere in HEAD's tree (interface.md's ``at_head``; the
        same answer as ``repo``'s): at the same path, in a blob of HEAD's tree this scan read
        (a file moved or copied), or, as plain text, anywhere in HEAD's tree (``git grep``)."""
        if key in self._head_answers:
            return self._head_answers[key]
        answer = False
        if self.repo.head() is not None:
            answer = key in self.at_head(path)
            if not answer:
                if self._head_blobs is None:
                    self._head_blobs = {oid for oid, _ in objects_meta.tree_blobs(self.repo, "HEAD")}
                answer = any(
                    oid in self._head_blobs and key in fo.keys for oid, fo in self.found.items() if fo.type == "blob"
                )
            if not answer:
                grep = self.repo.run_full("grep", "-q", "-F", "-a", "--no-color", "-e", key, "HEAD", "--")
                answer = grep.code == 0
        self._head_answers[key] = answer
        return answer


def _olds(ch: history.Change) -> tuple[str | None, ...]:
    """The blobs the change compares against: one, or one per parent of a merge."""
    return ch.parent_oids or (ch.old_oid,)


def _lost(blobs: _Blobs, changes: list[history.Change]) -> frozenset[str]:
    """Keys some path no longer holds after the change (a key moved to another file is not new)."""
    lost: set[str] = set()
    blobs.prefetch(o for ch in changes for o in _olds(ch))
    for ch in changes:
        for old in _olds(ch):
            if old is not None and blobs.keys(old):
                lost |= blobs.keys(old) - blobs.keys(ch.new_oid)
    return frozenset(lost)


def _kept(
    repo: Repo, blobs: _Blobs, ch: history.Change, findings: list[Finding], changes: list[history.Change]
) -> list[Finding]:
    """The findings of a changed path that sit on what the change adds.

    For a merge, a line is added only when it is added against every parent: a key that one
    parent already had came with that parent's commits, a key in the conflict resolution is new.
    """
    olds = [o for o in _olds(ch) if o is not None]
    if not olds:
        lost = _lost(blobs, changes)
        return [f for f in findings if f.secret not in lost]
    added: set[int] | None = None
    kept = []
    for f in findings:
        if f.path:  # an archive member: no lines to compare
            if not any(f.secret in blobs.keys(o) for o in olds):
                kept.append(f)
            continue
        if added is None:
            added = set.intersection(*(added_lines(repo, o, ch.new_oid or "") for o in olds))
        if f.line in added:
            kept.append(f)
    return kept


def _wanted(ch: history.Change) -> bool:
    return ch.new_oid is not None and ch.status != "D" and ch.new_mode != history.GITLINK


def scan_commits(
    repo: Repo,
    scanner: Scanner,
    result: ScanResult,
    revs: Sequence[str],
    *,
    source: Source = "git",
    progress: Progress | None = None,
    exclude: Iterable[str] = (),
    workers: int = 2,
    max_size: int | None = None,
) -> None:
    """Keys the commits selected by ``revs`` (git log arguments, e.g. ``["A..B"]``) add.

    Two passes over the log keep memory bounded by the number of distinct blobs, not of changes.
    """
    blob_ids: set[str] = set()
    commit_ids: list[str] = []
    gitlinks = False
    for c in history.log(repo, revs, renames=True, merges="combined"):
        commit_ids.append(c.oid)
        for ch in c.changes:
            gitlinks = gitlinks or history.GITLINK in (ch.new_mode, ch.old_mode)
            if _wanted(ch):
                blob_ids.add(ch.new_oid)  # type: ignore[arg-type]
    if gitlinks:
        result.notes.append("submodules are not entered: each is its own repository")
    if not commit_ids:
        return
    objs = from_ids(sorted(blob_ids) + commit_ids)
    handler = ObjectScanner(scanner, result, source, progress, max_size=max_size)
    if progress is not None:
        progress.total_count = objs.count
    ParallelReader(repo, objs, handler, handler.missing, handler.unreadable_object, workers=workers, fast=handler).run()
    handler.finish()
    if progress is not None:
        progress.done()
    found = handler.found
    pending = problem_oids(handler)
    if not found and not pending:
        return
    blobs = _Blobs(repo, scanner, found)
    out: list[Finding] = []
    where: dict[str, str] = {}
    for c in history.log(repo, revs, renames=True, merges="combined"):
        who = Person(c.author, c.email, c.date)
        if c.oid in found:
            fo = found[c.oid]
            out.extend(placed(f, None, c.oid, author_of(fo) or who, source) for f in fo.findings)
        for ch in c.changes:
            if ch.new_oid in pending and _wanted(ch):
                # git log lists the newest first: the last write is the oldest commit
                where[ch.new_oid] = located(ch.new_oid, "blob", ch.path, c.oid)
            if not _wanted(ch) or ch.new_oid not in found:
                continue
            for f in _kept(repo, blobs, ch, found[ch.new_oid].findings, c.changes):
                out.append(placed(f, ch.path, c.oid, who, source, at_head=blobs.head_has(f.secret, ch.path)))
    handler.locate(where)
    add_findings(result, out, exclude)


def scan_tags(
    repo: Repo,
    scanner: Scanner,
    result: ScanResult,
    tags: Sequence[tuple[str, str]],
    *,
    source: Source = "push",
    exclude: Iterable[str] = (),
) -> None:
    """The messages of annotated tags (ref name, tag object id) a push sends; a tag of a tag sends
    every tag in its chain. A finding points at the ref and at the commit the chain ends at."""
    handler = ObjectScanner(scanner, result, source)
    out: list[Finding] = []
    for ref, oid in tags:
        chain: list[str] = []
        while oid not in chain and len(chain) < 64:
            got = read_one(repo, oid)
            if got is None:
                handler.missing(oid, "cannot read the pushed tag")
                break
            typ, data = got
            if typ != "tag":
                break
            chain.append(oid)
            handler(oid, "tag", data)
            target = objects_meta.header_field(data.partition(b"\n\n")[0], b"object")
            oid = target.decode("ascii", "replace") if target else ""
        commit = repo.resolve(chain[0]) if chain else None
        for t in chain:
            fo = handler.found.get(t)
            if fo is not None:
                out.extend(placed(f, None, commit, author_of(fo), source, ref=ref) for f in fo.findings)
    handler.finish()
    add_findings(result, out, exclude)


def scan_index(
    repo: Repo,
    scanner: Scanner,
    result: ScanResult,
    *,
    source: Source = "staged",
    exclude: Iterable[str] = (),
    whole: bool = False,
    max_size: int | None = None,
) -> None:
    """Keys on the lines ``git commit`` would add: the index against HEAD (or the empty tree).

    ``whole``: every file in the index in full (against the empty tree)."""
    empty = EMPTY_TREE.get(repo.object_format, EMPTY_TREE["sha1"])
    base = "HEAD" if repo.head() is not None and not whole else empty
    raw = repo.run("diff-index", "--cached", "-M", "--raw", "-z", "--no-abbrev", base)
    every = history.parse_raw(raw, repo.null_oid)
    changes = [ch for ch in every if _wanted(ch)]
    if not changes:
        return
    handler = ObjectScanner(scanner, result, source, max_size=max_size)
    ids = sorted({ch.new_oid for ch in changes if ch.new_oid})
    _read_sequential(repo, ids, handler)
    handler.finish()
    pending = problem_oids(handler)
    handler.locate({ch.new_oid: located(ch.new_oid, "blob", ch.path) for ch in changes if ch.new_oid in pending})
    if not handler.found:
        return
    blobs = _Blobs(repo, scanner, handler.found)
    out: list[Finding] = []
    for ch in changes:
        if ch.new_oid in handler.found:
            for f in _kept(repo, blobs, ch, handler.found[ch.new_oid].findings, every):
                out.append(placed(f, ch.path, None, None, source, at_head=blobs.head_has(f.secret, ch.path)))
    add_findings(result, out, exclude)


def _read_sequential(repo: Repo, ids: list[str], handler: ObjectScanner) -> None:
    """One ``cat-file --batch`` in this thread: the hook path, where start-up beats parallelism."""
    if len(ids) > 64:
        ParallelReader(repo, from_ids(ids), handler, handler.missing, handler.unreadable_object, fast=handler).run()
        return
    answers, died = repo.cat(ids)
    got = {a.oid: a for a in answers}
    for oid in ids:
        a = got.get(oid)
        if a is None:
            handler.unreadable_object(oid, "cannot read object: " + (died or "git cat-file gave no answer"))
        elif a.data is None:
            handler.missing(oid, a.type)
        else:
            handler(oid, a.type, a.data)
