"""``wvzscan repo``, ``wvzscan staged`` and ``wvzscan push``: git history, the index, a push.

``staged`` runs on every commit, so this module imports nothing heavy at load time (no httpx): git
itself is the library.
"""

from __future__ import annotations

import os
import sys

import click

from wvzscan import api
from wvzscan.commands.common import CliOptions, finish, say, scan_options


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
    opts: CliOptions,
) -> int:
    """Scan a git repository's whole history (default: .), or a URL cloned to a temporary folder.

    Every object reachable from every ref (branches, tags, remotes, stash, notes) is read once;
    each key is traced to the commit, author and path that introduced it.
    """
    if api.is_url(target) and not opts.quiet and sys.stderr.isatty():
        say(f"cloning {target} ...")
    result = api.scan_repository(
        target,
        opts.scan,
        since=since,
        range=range_,
        branch=branch,
        include_unreachable=include_unreachable,
        connectivity_check=not no_connectivity_check,
        progress=opts.progress("objects"),
    )
    return finish(result, opts, "repo")


@click.command("staged")
@click.argument("path", required=False, default=".")
@scan_options
def staged_cmd(path: str, opts: CliOptions) -> int:
    """Scan what `git commit` would record: keys on the lines the staged changes add."""
    # The pre-commit framework skips this hook when nothing is staged, except under
    # `pre-commit run --all-files` (or --files), as in CI: there the staged change is empty and
    # "Passed" would mean nothing was read. Scan every file in the index instead.
    whole = bool(os.environ.get("PRE_COMMIT")) and api.nothing_staged(api.open_repository(path))
    return finish(api.scan_index(path, opts.scan, whole=whole), opts, "staged")


@click.command("push")
@click.argument("hook_args", nargs=-1, metavar="[REMOTE [URL]]")
@scan_options
def push_cmd(hook_args: tuple[str, ...], opts: CliOptions) -> int:
    """Scan the commits a `git push` would send (pre-push hook lines on standard input).

    Also honours the pre-commit framework's PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF. Run by hand
    on a terminal, it scans the commits not yet on any remote-tracking branch.
    """
    # pre-commit's names; older releases call them ORIGIN (the from ref) and SOURCE (the to ref).
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF") or os.environ.get("PRE_COMMIT_ORIGIN")
    to_ref = os.environ.get("PRE_COMMIT_TO_REF") or os.environ.get("PRE_COMMIT_SOURCE")
    head = "HEAD"
    lines: list[str] | None = None  # None: what HEAD has that no remote has
    if not (from_ref and to_ref):
        from_ref = to_ref = None
        if os.environ.get("PRE_COMMIT"):
            # A push that reaches the root commit (a new repository's first push) gets neither from
            # pre-commit, and an empty stdin: scan what the local branch has that no remote has.
            head = os.environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
        elif sys.stdin is not None and not sys.stdin.isatty():
            lines = sys.stdin.read().splitlines()
    result = api.scan_push(
        ".",
        opts.scan,
        hook_lines=lines,
        from_ref=from_ref,
        to_ref=to_ref,
        to_remote_ref=os.environ.get("PRE_COMMIT_REMOTE_BRANCH"),
        head=head,
    )
    return finish(result, opts, "push")
