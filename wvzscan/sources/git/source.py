"""The git sources behind the pipeline's one ``Source`` interface: whole history, a range of commits
and a push (the index, which the ``staged`` hook scans, is ``index.IndexSource``: a hook loads only
that). Each turns git's failures into one clear ``WvzscanError``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from wvzscan.errors import WvzscanError
from wvzscan.options import ScanOptions
from wvzscan.sources.context import SourceContext
from wvzscan.sources.git.process import GitError, Repo, run
from wvzscan.sources.git.repository import root_of

_ZEROS = re.compile(r"^0+$")


@contextmanager
def cloned(url: str) -> Iterator[str]:
    """A bare mirror of ``url`` (every ref, full history) in a temporary folder, always removed."""
    import shutil  # here: the `staged` hook never clones
    import tempfile

    tmp = tempfile.mkdtemp(prefix="wvzscan-clone-")
    try:
        dest = os.path.join(tmp, "repo.git")
        try:
            run(None, ["clone", "--mirror", "--quiet", "--no-hardlinks", "--", url, dest])
        except GitError as e:
            raise GitError(f"cannot clone {url}: {e}") from None
        yield dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class Narrowing:
    """``--since``/``--range``/``--branch``: what part of the history to scan (all None: everything)."""

    since: str | None = None
    range: str | None = None
    branch: str | None = None

    def __post_init__(self) -> None:
        if self.range and (self.since or self.branch):
            raise WvzscanError("--range cannot be combined with --since or --branch")
        if self.range and ("..." in self.range or ".." not in self.range):
            raise WvzscanError(f"--range expects A..B, got {self.range!r}")

    @property
    def whole(self) -> bool:
        return not (self.since or self.range or self.branch)


@dataclass(frozen=True)
class HistorySource:
    """Every object reachable from every ref (``wvzscan repo``), or the commits ``narrowing`` names."""

    repo: Repo
    narrowing: Narrowing = field(default_factory=Narrowing)
    include_unreachable: bool = False
    connectivity_check: bool = True
    root_dir: str | None = None  # the config's folder (a temporary clone has none of its own: ".")

    @property
    def root(self) -> str:
        return self.root_dir or root_of(self.repo)

    def refuses(self, options: ScanOptions) -> str | None:
        if self.include_unreachable and not self.narrowing.whole:
            return (
                "--include-unreachable reads the whole object store: it does not go with --since, --range or --branch"
            )
        return None

    def _revs(self, ctx: SourceContext) -> list[str] | None:
        from wvzscan.sources.git.changes import range_revs

        n, repo = self.narrowing, self.repo
        if n.range:
            base, _, head = n.range.partition("..")
            return range_revs(repo, base or "HEAD", head or "HEAD", ctx.result)
        if n.since:
            return range_revs(repo, n.since, n.branch or "HEAD", ctx.result)
        if n.branch:
            if repo.resolve(n.branch) is None:
                raise WvzscanError(f"unknown branch or revision: {n.branch}")
            return [n.branch]
        return None

    def produce(self, ctx: SourceContext) -> None:
        try:
            revs = self._revs(ctx)
            if revs is None:
                from wvzscan.sources.git.history_scan import scan_history

                scan_history(
                    self.repo,
                    ctx.scanner,
                    ctx.result,
                    include_unreachable=self.include_unreachable,
                    progress=ctx.progress,
                    max_size=ctx.max_file_size,
                    exclude=ctx.config.exclude,
                    connectivity_check=self.connectivity_check,
                )
            else:
                CommitsSource(self.repo, tuple(revs)).produce(ctx)
        finally:
            ctx.progress.done()


@dataclass(frozen=True)
class CommitsSource:
    """What the commits ``revs`` (git log arguments) add; ``notes`` say why these (``wvzscan ci``)."""

    repo: Repo
    revs: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def root(self) -> str:
        return root_of(self.repo)

    def refuses(self, options: ScanOptions) -> str | None:
        return None

    def produce(self, ctx: SourceContext) -> None:
        from wvzscan.sources.git.changes import scan_commits
        from wvzscan.sources.git.repo_state import describe_state

        ctx.result.notes.extend(self.notes)
        try:
            describe_state(self.repo, ctx.result)
            if self.revs:
                scan_commits(
                    self.repo,
                    ctx.scanner,
                    ctx.result,
                    list(self.revs),
                    progress=ctx.progress,
                    exclude=ctx.config.exclude,
                    max_size=ctx.max_file_size,
                )
        finally:
            ctx.progress.done()


@dataclass(frozen=True)
class PushUpdate:
    """One ref a push updates: pre-push's ``<local ref> <local sha> <remote ref> <remote sha>``."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @classmethod
    def parse(cls, lines: Sequence[str]) -> list[PushUpdate]:
        out = []
        for n, line in enumerate(lines, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise WvzscanError(f"stdin line {n}: expected `<local ref> <local sha> <remote ref> <remote sha>`")
            out.append(cls(*parts))
        return out


@dataclass(frozen=True)
class PushSource:
    """The commits (and annotated tags) a push sends.

    ``updates``: pre-push lines (none: the push sends nothing). ``from_ref``/``to_ref``: pre-commit's
    range. Neither: what ``head`` has that no remote-tracking branch has (a first push, a run by hand).
    """

    repo: Repo
    updates: tuple[PushUpdate, ...] | None = None
    from_ref: str | None = None
    to_ref: str | None = None
    to_remote_ref: str | None = None
    head: str = "HEAD"

    @property
    def root(self) -> str:
        return root_of(self.repo)

    def refuses(self, options: ScanOptions) -> str | None:
        return None

    def _ranges(self, ctx: SourceContext, tags: list[tuple[str, str]]) -> list[list[str]]:
        from wvzscan.sources.git.changes import range_revs

        repo, result = self.repo, ctx.result
        if self.from_ref and self.to_ref:
            if repo.run("cat-file", "-t", self.to_ref, check=False).strip() == b"tag":
                tags.append((self.to_remote_ref or self.to_ref, self.to_ref))
            return [range_revs(repo, self.from_ref, self.to_ref, result)]
        if self.updates is None:
            return [range_revs(repo, None, self.head, result)]
        ranges = []
        for u in self.updates:
            if _ZEROS.match(u.local_sha):
                continue  # a deleted branch sends nothing
            if repo.run("cat-file", "-t", u.local_sha, check=False).strip() == b"tag":
                tags.append((u.remote_ref, u.local_sha))  # the tag object itself is sent: its message too
            remote: str | None = None if _ZEROS.match(u.remote_sha) else u.remote_sha
            if remote is not None and repo.resolve(remote) is None:
                # The remote has commits we never fetched (someone pushed, or this is a force push).
                result.notes.append(
                    f"remote commit {remote[:12]} is not here; scanned what {u.local_sha[:12]} adds over every remote"
                )
                remote = None
            ranges.append(range_revs(repo, remote, u.local_sha, result))
        return ranges

    def produce(self, ctx: SourceContext) -> None:
        from wvzscan.sources.git.changes import scan_commits, scan_tags

        tags: list[tuple[str, str]] = []
        try:
            for revs in self._ranges(ctx, tags):
                scan_commits(
                    self.repo,
                    ctx.scanner,
                    ctx.result,
                    revs,
                    source="push",
                    progress=ctx.progress,
                    exclude=ctx.config.exclude,
                    max_size=ctx.max_file_size,
                )
            if tags:
                scan_tags(self.repo, ctx.scanner, ctx.result, tags, exclude=ctx.config.exclude)
        finally:
            ctx.progress.done()
