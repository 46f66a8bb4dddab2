"""``wvzscan repo``: every blob, commit and tag in the object store, read once; then only the
objects that hold a key are traced to the commit, author and path that introduced them.

Attribution is one ``git log --all --raw`` pass (run only when something was found). A key
counts as introduced at (commit, path) when the new blob at that path holds it, the old blob at
that path did not, and no other path in the same commit lost it (that is a rename or a move).
Each (blob, path, key) keeps its oldest such commit, so a merge that re-shows a branch's change
does not claim it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from wvzscan.finding import Finding, ScanResult
from wvzscan.isotime import parse_datetime
from wvzscan.progress import Progress
from wvzscan.scan import Scanner
from wvzscan.sources import Source
from wvzscan.sources.git import history, objects_meta
from wvzscan.sources.git.common import Found, ObjectScanner, add_findings, author_of, located, placed, problem_oids
from wvzscan.sources.git.objects import ObjectList, ParallelReader, list_objects
from wvzscan.sources.git.objects_meta import Person
from wvzscan.sources.git.process import GitError, Repo
from wvzscan.sources.git.repo_state import describe_state, inventory_problems, missing_objects, paths_from_walk


@dataclass(frozen=True)
class Origin:
    commit: str
    who: Person
    ref: str | None  # the stash or notes ref of a stash or notes commit (a branch is implied)
    parents: tuple[str, ...] = ()
    unreachable: bool = False  # only a reflog keeps the commit


class _Walk:
    """One ``git log --raw`` pass: where each blob holding a key was added, and by which commit.

    A key counts as introduced at (commit, path) when the new blob at that path holds it, the old
    blob did not, and no other path in the same commit lost it (a rename or a move). Later
    commits come first in the log, so the last write for a (blob, path, key) is the oldest.
    """

    def __init__(
        self,
        blob_keys: dict[str, frozenset[str]],
        commits_found: set[str],
        stashed: dict[str, str],
        unreachable: bool = False,
    ) -> None:
        self.blob_keys, self.commits_found, self.stashed = blob_keys, commits_found, stashed
        self.unreachable = unreachable
        self.events: dict[tuple[str, str, str], Origin] = {}  # (blob, path, key) -> oldest origin
        self.first_seen: dict[str, tuple[Origin, str]] = {}  # blob -> oldest (origin, path)
        self.commit_refs: dict[str, str | None] = {}  # commit found -> the stash or notes ref

    def run(self, repo: Repo, revs: list[str], stdin_revs: list[str] | None = None) -> None:
        blob_keys = self.blob_keys
        for c in history.log(repo, revs, raw=bool(blob_keys), stdin_revs=stdin_revs or ()):
            if self.unreachable and c.oid in self.stashed:
                continue  # an older stash entry: reached through the stash, in the first pass
            # --source names the first ref git log reached a commit from, which for a branch's
            # commit can be the stash made on top of it: only stash commits are the stash's.
            ref = self.stashed.get(c.oid) or (c.source if c.source.startswith("refs/notes/") else None)
            if c.oid in self.commits_found:
                self.commit_refs[c.oid] = ref
            if not blob_keys or not c.changes:
                continue
            origin: Origin | None = None
            left: set[str] = set()  # keys that some path lost in this commit (renames, moves)
            for ch in c.changes:
                if ch.old_oid in blob_keys:
                    left |= blob_keys[ch.old_oid] - blob_keys.get(ch.new_oid or "", frozenset())
            for ch in c.changes:
                if ch.new_oid not in blob_keys or ch.new_mode == history.GITLINK:
                    continue
                who = Person(c.author, c.email, c.date)
                origin = origin or Origin(c.oid, who, ref, tuple(c.parents), self.unreachable)
                self.first_seen[ch.new_oid] = (origin, ch.path)
                keys = blob_keys[ch.new_oid] - blob_keys.get(ch.old_oid or "", frozenset()) - left
                for k in keys:
                    self.events[(ch.new_oid, ch.path, k)] = origin


def scan_history(
    repo: Repo,
    scanner: Scanner,
    result: ScanResult,
    *,
    source: Source = "git",
    include_unreachable: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    max_size: int | None = None,
    exclude: Iterable[str] = (),
    connectivity_check: bool = True,
) -> None:
    # Missing objects cannot be listed, only found by walking every tree from every ref. The walk
    # is the longest single process of a scan: it starts first (never at a lower priority: starved,
    # it would run alone at the end) and runs beside the listing and the readers (it holds nothing
    # in memory: only the missing objects are kept).
    walk = _MissingWalk(repo) if connectivity_check else None
    if walk is not None:
        walk.start()
    obj_scanner = ObjectScanner(scanner, result, source, progress)
    try:
        describe_state(repo, result)
        objs = list_objects(repo, max_size)
        result.notes.extend(objs.notes)
        for line in objs.errors:
            result.error("git object store", f"git could not list every object: {line}")
        for problem in inventory_problems(repo, objs.listed):
            result.error("git object store", problem)
        if objs.skipped_large:
            result.skipped["blob over max_file_size"] += objs.skipped_large
        for oid in objs.unreadable:
            obj_scanner.unreadable_object(oid, "object cannot be read (corrupt)")
        if progress is not None:
            progress.total_bytes = objs.total_bytes or None
            progress.total_count = objs.count
        if walk is None:
            result.notes.append("connectivity check skipped: objects missing from the store were not looked for")
        # What reading adds comes in the order the readers happen to meet objects: sorted at the
        # end, so that one history gives one report.
        first_error, first_note = len(result.errors), len(result.notes)
        read_objects(repo, objs, obj_scanner, workers)
    except BaseException:
        if walk is not None:
            walk.stop()
        raise
    try:
        for oid in walk.join() if walk is not None else ():
            obj_scanner.missing(oid)
    except GitError as e:
        result.error("git rev-list", str(e))
    if progress is not None:
        progress.done()
    obj_scanner.finish()
    pending = problem_oids(obj_scanner)
    if pending and not obj_scanner.found and walk is not None and walk.error is None:
        # Only errors and notes to place (a corrupt archive in some old commit): the walk already
        # named every blob it reached; the history walk of attribution (seconds on a large
        # repository) is for findings, which also need their commit.
        named = walk.paths(pending)
        obj_scanner.locate({oid: located(oid, "blob", path) for oid, path in named.items()})
    elif obj_scanner.found or pending:
        where: dict[str, str] = {}
        findings = attribute(repo, obj_scanner.found, result, source, include_unreachable, pending, where)
        obj_scanner.locate(where)
        add_findings(result, findings, exclude)
    if walk is not None:
        walk.names.close()
    result.errors[first_error:] = sorted(result.errors[first_error:], key=lambda e: (e.where, e.message))
    result.notes[first_note:] = sorted(result.notes[first_note:])


def read_objects(repo: Repo, objs: ObjectList, handler: ObjectScanner, workers: int | None = None) -> None:
    n = workers if workers is not None else min(2, os.cpu_count() or 1)
    ParallelReader(repo, objs, handler, handler.missing, handler.unreadable_object, workers=n, fast=handler).run()


class _MissingWalk:
    def __init__(self, repo: Repo) -> None:
        import tempfile  # here: only a connectivity-checked history scan needs it

        self.repo = repo
        self.missing: list[str] = []
        self.error: GitError | None = None
        self.stopped = threading.Event()
        # The walk's `<oid> <path>` lines (about 60 bytes an object, on disk past 16 MiB): a blob whose
        # errors or notes need a place is named from them, not by walking the history a second time.
        self.names = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115 - closed by scan_history
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            self.missing = missing_objects(self.repo, stopped=self.stopped, names=self.names)
        except GitError as e:
            self.error = e

    def paths(self, oids: Iterable[str]) -> dict[str, str]:
        """The path the walk reached each blob of ``oids`` by (after ``join``)."""
        return paths_from_walk(self.names, oids)

    def stop(self) -> None:
        """The scan failed: end the walk (its git process) too."""
        self.stopped.set()
        self.thread.join()
        self.names.close()

    def join(self) -> list[str]:
        while self.thread.is_alive():
            self.thread.join(0.2)
        if self.error is not None:
            raise self.error
        return self.missing


def _newest_first(f: Finding) -> tuple[bool, float, str, int, int, str, str, str, str, str, str]:
    """An order that does not depend on the order objects were read in (two readers, each delta
    before its base): the newest commit first, findings with no date last, then by place, down to
    the blob and the ref (two dangling blobs, or two tags of one commit, can hold one key at one place)."""
    when = parse_datetime(f.date) if f.date else None
    return (
        when is None,
        -when.timestamp() if when is not None else 0.0,
        f.path or "",
        f.line or 0,
        f.column or 0,
        f.commit or "",
        f.fingerprint,
        f.encoding or "",
        str(f.extra.get("blob") or ""),
        str(f.extra.get("tag") or ""),
        str(f.extra.get("ref") or ""),
    )


def attribute(
    repo: Repo,
    found: dict[str, Found],
    result: ScanResult,
    source: Source,
    include_unreachable: bool,
    located_oids: Iterable[str] = (),
    where: dict[str, str] | None = None,
) -> list[Finding]:
    """Findings placed at their commit and path; ``where`` gets the location (path, blob, commit)
    of each of ``located_oids`` (blobs whose errors and notes need one)."""
    blob_keys = {oid: fo.keys for oid, fo in found.items() if fo.type == "blob"}
    wanted = [o for o in located_oids if o not in found or found[o].type == "blob"]
    for oid in wanted:
        blob_keys.setdefault(oid, frozenset())
    commits_found = {oid for oid, fo in found.items() if fo.type == "commit"}
    refs = objects_meta.refs(repo)
    stashed = objects_meta.stash_commits(repo)
    stash_old = {oid: name for oid, name in stashed.items() if name.startswith("stash@")}
    walk = _Walk(blob_keys, commits_found, stashed)
    try:
        walk.run(repo, ["--all"], stdin_revs=list(stash_old))
    except GitError as e:
        result.error("git log", f"history could not be walked to the end, attribution is partial: {e}")
    events, first_seen, commit_refs = walk.events, walk.first_seen, walk.commit_refs
    reflog_only: set[str] = set()  # commits found that only a reflog reaches
    if include_unreachable and (
        any(o not in first_seen for o in blob_keys) or any(o not in commit_refs for o in commits_found)
    ):
        # Commits only a reflog keeps (a reset, an amend, a rebase): what they added is traced too,
        # each finding marked unreachable. Never overrides what a ref reaches.
        lost = _Walk(blob_keys, commits_found, stashed, unreachable=True)
        try:
            lost.run(repo, ["--reflog", "--not", "--all"])
        except GitError as e:
            result.error("git log", f"the reflogs could not be walked to the end, attribution is partial: {e}")
        for ek, ev in lost.events.items():
            events.setdefault(ek, ev)
        for bk, bv in lost.first_seen.items():
            first_seen.setdefault(bk, bv)
        reflog_only = set(lost.commit_refs) - set(commit_refs)
        for ck, cv in lost.commit_refs.items():
            commit_refs.setdefault(ck, cv)
    if where is not None:
        for oid in wanted:
            if oid in first_seen:
                origin, path = first_seen[oid]
                where[oid] = located(oid, "blob", path, origin.commit)
    _drop_what_merges_inherit(repo, events, blob_keys)
    head_keys = _head_keys(repo, blob_keys)
    by_blob: dict[str, list[tuple[str, str, Origin]]] = {}
    for (blob, path, key), origin in events.items():
        by_blob.setdefault(blob, []).append((path, key, origin))
    keys_placed = {key for (_, _, key) in events}
    ref_blobs = _blobs_named_by_refs(repo, refs, blob_keys)
    tags = objects_meta.tags_reached(repo, refs) if any(fo.type == "tag" for fo in found.values()) else {}
    out: list[Finding] = []
    unreachable = 0
    for oid, fo in found.items():
        made: list[Finding] = []
        if fo.type == "blob":
            for f in fo.findings:
                at_head = f.secret in head_keys
                for path, key, origin in by_blob.get(oid, ()):
                    if key == f.secret:
                        made.append(_at(f, path, origin, source, at_head))
                if not any(k == f.secret for _, k, _ in by_blob.get(oid, ())) and f.secret not in keys_placed:
                    if oid in first_seen:  # reachable, but no commit added the key by our rule
                        origin, path = first_seen[oid]
                        made.append(_at(f, path, origin, source, at_head))
                    elif oid in ref_blobs:
                        by_ref, ref_path = ref_blobs[oid]
                        made.append(placed(f, ref_path, None, None, source, at_head=at_head, ref=by_ref))
            reached = oid in first_seen or oid in ref_blobs or oid in by_blob
        elif fo.type == "commit":
            reached = oid in commit_refs
            if reached:
                ref = commit_refs[oid]
                lost_commit = True if oid in reflog_only else None
                for f in fo.findings:
                    at_head = f.secret in head_keys
                    who = author_of(fo)
                    made.append(placed(f, None, oid, who, source, at_head=at_head, ref=ref, unreachable=lost_commit))
        else:  # an annotated tag
            # A tag points at the commit at the end of its chain; a tag of a tree or a blob at none.
            reached = oid in tags
            if reached:
                tag_ref, tagged = tags[oid]
                for f in fo.findings:
                    made.append(
                        placed(f, None, tagged, author_of(fo), source, at_head=f.secret in head_keys, ref=tag_ref)
                    )
        if reached:
            out.extend(made)
        elif include_unreachable:
            for f in fo.findings:
                who = author_of(fo) if fo.type != "blob" else None
                commit = oid if fo.type == "commit" else None
                out.append(placed(f, None, commit, who, source, at_head=f.secret in head_keys, unreachable=True))
        else:
            unreachable += len(fo.findings)
    out.sort(key=_newest_first)
    if unreachable:
        result.notes.append(
            f"{unreachable} key location{'s' if unreachable != 1 else ''} in objects that no ref reaches "
            "(dangling, e.g. after a reset or a dropped stash) not reported; "
            "--include-unreachable reports them"
        )
    return out


def _drop_what_merges_inherit(
    repo: Repo, events: dict[tuple[str, str, str], Origin], blob_keys: dict[str, frozenset[str]]
) -> None:
    """A merge's diff against its first parent also shows what the other parents brought: a key
    another parent already held at that path came with that parent's commits, not the merge.
    (Asked only for the few merges that touch a blob with a key: a combined diff of every
    merge would cost git/git's attribution pass 60% more.)
    """
    todo = {(p, path) for (_, path, _), o in events.items() for p in o.parents[1:]}
    if not todo:
        return
    at = objects_meta.blobs_at(repo, todo)
    for (blob, path, key), o in list(events.items()):
        if any(key in blob_keys.get(at.get((p, path)) or "", frozenset()) for p in o.parents[1:]):
            del events[(blob, path, key)]


def _at(f: Finding, path: str, origin: Origin, source: Source, at_head: bool) -> Finding:
    ref = origin.ref
    extra: dict[str, object] = {"at_head": at_head, "ref": ref, "unreachable": origin.unreachable or None}
    if ref is not None and ref.startswith("refs/notes/"):
        # A note's "path" is the annotated object's id (fanned out as ab/cdef...): not a file.
        target = path.replace("/", "")
        extra["note_for"] = target
        extra["where"] = f"note on {target[:12]}"
        return placed(f, None, origin.commit, origin.who, source, **extra)
    return placed(f, path, origin.commit, origin.who, source, **extra)


def _head_keys(repo: Repo, blob_keys: dict[str, frozenset[str]]) -> set[str]:
    if not blob_keys or repo.head() is None:
        return set()
    keys: set[str] = set()
    for oid, _ in objects_meta.tree_blobs(repo, "HEAD"):
        keys |= blob_keys.get(oid, frozenset())
    return keys


def _blobs_named_by_refs(
    repo: Repo, refs: list[objects_meta.Ref], blob_keys: dict[str, frozenset[str]]
) -> dict[str, tuple[str, str | None]]:
    """Blobs a ref (or a tag) points at directly, or through a tree: no commit introduces them."""
    out: dict[str, tuple[str, str | None]] = {}
    for r in refs:
        oid, typ = (r.peeled, r.peeled_type) if r.peeled else (r.oid, r.type)
        if typ == "blob" and oid in blob_keys:
            out[oid] = (r.name, None)
        elif typ == "tree" and oid is not None:
            for b, path in objects_meta.tree_blobs(repo, oid):
                if b in blob_keys:
                    out.setdefault(b, (r.name, path))
    return out
