"""``wvzscan repo``, ``wvzscan staged`` and ``wvzscan push``: git history, the index, a push.

``staged`` runs on every commit, so this module imports nothing heavy at load time (no GitPython,
no httpx): git itself is the library.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from wvzscan.cli import ScanOptions, UserError, run_scan, scan_options

_ZEROS = re.compile(r"^0+$")


def is_url(target: str) -> bool:
    from wvzscan.sources.git.targets import is_url as url

    return url(target)


def _open(path: str) -> Any:
    from wvzscan.errors import WvzscanError
    from wvzscan.sources.git.targets import open_target

    try:
        return open_target(path)
    except WvzscanError as e:
        raise UserError(str(e)) from None


def _max_size(opts: ScanOptions) -> int | None:
    from wvzscan.sources.git.targets import max_size

    cfg = opts.extra.get("config")
    configured = int(cfg.max_file_size) if cfg is not None and "max_file_size" in cfg.raw else None
    return max_size(opts.max_file_size, configured)


def _guard(fn: Callable[[], None]) -> None:
    """git failures that stop the scan become one clear line and exit 2."""
    from wvzscan.errors import WvzscanError

    try:
        fn()
    except WvzscanError as e:
        raise UserError(str(e)) from None


@contextmanager
def cloned(url: str, quiet: bool) -> Iterator[str]:
    """A bare mirror of ``url`` (every ref, full history) in a temporary folder, always removed."""
    from wvzscan.errors import WvzscanError
    from wvzscan.sources.git import targets

    def say(line: str) -> None:
        if not quiet and sys.stderr.isatty():
            click.echo(line, err=True)

    try:
        with targets.cloned(url, say) as path:
            yield path
    except WvzscanError as e:
        raise UserError(str(e)) from None


def _narrowed(repo: Any, since: str | None, range_: str | None, branch: str | None, result: Any) -> list[str] | None:
    """git log arguments for --since/--range/--branch, or None for the whole object store."""
    from wvzscan.errors import WvzscanError
    from wvzscan.sources.git.targets import narrowed

    try:
        return narrowed(repo, since, range_, branch, result)
    except WvzscanError as e:
        raise UserError(str(e)) from None


@click.command("repo")
@click.argument("target", required=False, default=".")
@click.option("--since", metavar="REV", help="Only what the commits after REV (up to --branch or HEAD) add.")
@click.option("--range", "range_", metavar="A..B", help="Only what the commits in A..B add.")
@click.option("--branch", metavar="REF", help="Only the commits of REF (with --since: REV..REF).")
@click.option("--include-unreachable", is_flag=True, help="Also report keys in objects no ref reaches (dangling).")
@click.option(
    "--no-connectivity-check",
    is_flag=True,
    help="Do not walk every tree looking for objects missing from the store (faster; corrupt objects "
    "are still reported, missing ones are not).",
)
@scan_options
def repo_cmd(
    target: str,
    since: str | None,
    range_: str | None,
    branch: str | None,
    include_unreachable: bool,
    no_connectivity_check: bool,
    opts: ScanOptions,
) -> None:
    """Scan a git repository's whole history (default: .), or a URL cloned to a temporary folder.

    Every object reachable from every ref (branches, tags, remotes, stash, notes) is read once;
    each key is traced to the commit, author and path that introduced it.
    """
    opts.extra["connectivity_check"] = not no_connectivity_check
    scan_repository(target, opts, since, range_, branch, include_unreachable)


def scan_repository(
    target: str,
    opts: ScanOptions,
    since: str | None = None,
    range_: str | None = None,
    branch: str | None = None,
    include_unreachable: bool = False,
) -> NoReturn:
    """`wvzscan repo`'s scan of a path or URL (also what `wvzscan baseline --git` records); exits."""
    if is_url(target):
        with cloned(target, opts.quiet) as path:
            _scan_repo(path, ".", since, range_, branch, include_unreachable, opts)
    repo = _open(target)
    _scan_repo(repo.git_dir, repo.work_tree or ".", since, range_, branch, include_unreachable, opts, repo)


def _scan_repo(
    path: str,
    root: str,
    since: str | None,
    range_: str | None,
    branch: str | None,
    include_unreachable: bool,
    opts: ScanOptions,
    repo: Any = None,
) -> NoReturn:
    repo = repo or _open(path)

    def produce(scanner: Any, result: Any) -> None:
        from wvzscan.progress import Progress

        cfg = opts.extra["config"]
        progress = Progress.for_terminal(opts.quiet, what="objects")

        def go() -> None:
            revs = _narrowed(repo, since, range_, branch, result)
            if revs is None:
                from wvzscan.sources.git.history_scan import scan_history

                scan_history(
                    repo,
                    scanner,
                    result,
                    include_unreachable=include_unreachable,
                    progress=progress,
                    max_size=_max_size(opts),
                    exclude=cfg.exclude,
                    connectivity_check=opts.extra.get("connectivity_check", True),
                )
            else:
                from wvzscan.sources.git.changes import scan_commits
                from wvzscan.sources.git.repo_state import describe_state

                describe_state(repo, result)
                scan_commits(
                    repo, scanner, result, revs, progress=progress, exclude=cfg.exclude, max_size=_max_size(opts)
                )

        _guard(go)

    run_scan(opts, root, "repo", produce)


@click.command("staged")
@click.argument("path", required=False, default=".")
@scan_options
def staged_cmd(path: str, opts: ScanOptions) -> None:
    """Scan what `git commit` would record: keys on the lines the staged changes add."""
    repo = _open(path)
    if repo.work_tree is None:
        raise UserError(f"{path} is a bare repository: it has no index to scan")

    def produce(scanner: Any, result: Any) -> None:
        from wvzscan.sources.git.changes import scan_index

        # The pre-commit framework skips this hook when nothing is staged, except under
        # `pre-commit run --all-files` (or --files), as in CI: there the staged change is empty and
        # "Passed" would mean nothing was read. Scan every file in the index instead.
        def go() -> None:
            whole = bool(os.environ.get("PRE_COMMIT")) and _nothing_staged(repo)
            if whole:
                result.notes.append(
                    "run by the pre-commit framework with nothing staged (pre-commit run --all-files): "
                    "every file in the index was scanned"
                )
            cfg = opts.extra["config"]
            scan_index(repo, scanner, result, exclude=cfg.exclude, whole=whole, max_size=_max_size(opts))

        _guard(go)

    run_scan(opts, repo.work_tree, "staged", produce)


def _nothing_staged(repo: Any) -> bool:
    if repo.head() is None:
        return False  # a first commit: everything staged is new anyway
    return not repo.run("diff-index", "--cached", "--name-only", "-z", "HEAD")


def push_ranges(repo: Any, lines: list[str], result: Any, tags: list[tuple[str, str]] | None = None) -> list[list[str]]:
    """git log arguments for each pre-push line ``<local ref> <local sha> <remote ref> <remote sha>``;
    annotated tags pushed are added to ``tags`` as (remote ref, tag object id)."""
    from wvzscan.sources.git.changes import range_revs

    ranges = []
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise UserError(f"stdin line {n}: expected `<local ref> <local sha> <remote ref> <remote sha>`")
        _, local_sha, _, remote_sha = parts
        if _ZEROS.match(local_sha):
            continue  # a deleted branch sends nothing
        if tags is not None and repo.run("cat-file", "-t", local_sha, check=False).strip() == b"tag":
            tags.append((parts[2], local_sha))  # the tag object itself is sent: its message too
        if not _ZEROS.match(remote_sha) and repo.resolve(remote_sha) is None:
            # The remote has commits we never fetched (someone pushed, or this is a force push).
            result.notes.append(
                f"remote commit {remote_sha[:12]} is not here; scanned what {local_sha[:12]} adds over every remote"
            )
            remote_sha = "0"
        ranges.append(range_revs(repo, None if _ZEROS.match(remote_sha) else remote_sha, local_sha, result))
    return ranges


@click.command("push")
@click.argument("hook_args", nargs=-1, metavar="[REMOTE [URL]]")
@scan_options
def push_cmd(hook_args: tuple[str, ...], opts: ScanOptions) -> None:
    """Scan the commits a `git push` would send (pre-push hook lines on standard input).

    Also honours the pre-commit framework's PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF. Run by hand
    on a terminal, it scans the commits not yet on any remote-tracking branch.
    """
    repo = _open(".")
    # pre-commit's names; older releases call them ORIGIN (the from ref) and SOURCE (the to ref).
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF") or os.environ.get("PRE_COMMIT_ORIGIN")
    to_ref = os.environ.get("PRE_COMMIT_TO_REF") or os.environ.get("PRE_COMMIT_SOURCE")
    # A push that reaches the root commit (a new repository's first push) gets neither from
    # pre-commit, and an empty stdin: scan what the local branch has that no remote has.
    pre_commit_first_push = bool(os.environ.get("PRE_COMMIT")) and not (from_ref and to_ref)
    lines: list[str] = []
    if not (from_ref and to_ref) and not pre_commit_first_push and not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()

    def produce(scanner: Any, result: Any) -> None:
        from wvzscan.progress import Progress
        from wvzscan.sources.git.changes import range_revs, scan_commits, scan_tags

        tags: list[tuple[str, str]] = []

        def go() -> None:
            if from_ref and to_ref:
                ranges = [range_revs(repo, from_ref, to_ref, result)]
                if repo.run("cat-file", "-t", to_ref, check=False).strip() == b"tag":
                    tags.append((os.environ.get("PRE_COMMIT_REMOTE_BRANCH") or to_ref, to_ref))
            elif pre_commit_first_push:
                ranges = [range_revs(repo, None, os.environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD", result)]
            elif sys.stdin.isatty():
                ranges = [range_revs(repo, None, "HEAD", result)]
            else:
                ranges = push_ranges(repo, lines, result, tags)
            progress = Progress.for_terminal(opts.quiet, what="objects")
            for revs in ranges:
                scan_commits(
                    repo,
                    scanner,
                    result,
                    revs,
                    source="push",
                    progress=progress,
                    exclude=cfg.exclude,
                    max_size=_max_size(opts),
                )
            if tags:
                scan_tags(repo, scanner, result, tags, exclude=cfg.exclude)

        cfg = opts.extra["config"]
        _guard(go)

    run_scan(opts, repo.work_tree or ".", "push", produce)


__all__ = ["scan_repository", "repo_cmd", "staged_cmd", "push_cmd", "push_ranges", "cloned", "is_url"]
