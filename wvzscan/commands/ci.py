"""`wvzscan ci`: the commits of the CI change under test (pull/merge request or push range).

Which commits comes from wvzscan.sources.ci (GitHub Actions and GitLab CI variables); the scanning is
the git source's, as in `wvzscan repo --range`. Elsewhere it scans the whole history, like `repo`.
"""

from __future__ import annotations

import os
from typing import Any

import click

from wvzscan.cli import ScanOptions, UserError, run_scan, scan_options


@click.command("ci")
@click.argument("path", required=False, default=".", type=click.Path(file_okay=False))
@scan_options
def ci_cmd(path: str, opts: ScanOptions) -> None:
    """Scan the commits of the current CI change (default repository: .).

    GitHub Actions: a pull request's commits (base..head from the event payload), a push's
    before..after (a new branch: its commits no other remote branch has). GitLab CI: a merge
    request's commits from CI_MERGE_REQUEST_DIFF_BASE_SHA, a push's CI_COMMIT_BEFORE_SHA..CI_COMMIT_SHA.
    Anywhere else, and for schedules or manual runs, the whole history. A shallow checkout that lacks
    what the change needs is an error (exit 2) saying how to fetch it (`fetch-depth: 0`, `GIT_DEPTH: 0`).
    """
    from wvzscan.commands.git import _guard, _max_size, _open
    from wvzscan.errors import WvzscanError
    from wvzscan.sources import ci

    if not os.path.isdir(path):
        raise UserError(f"no such directory: {path}")
    repo = _open(path)
    try:
        change = ci.detect(os.environ, ci.load_event(os.environ))
        plan = ci.resolve(change, repo)
    except WvzscanError as e:  # EventError, CIError, GitError
        raise UserError(str(e)) from None
    if not opts.quiet:
        click.echo(f"wvzscan ci: {change.provider}: {change.reason}", err=True)

    def produce(scanner: Any, result: Any) -> None:
        from wvzscan.progress import Progress
        from wvzscan.sources.git.repo_state import describe_state

        result.notes.extend(plan.notes)
        cfg = opts.extra["config"]
        progress = Progress.for_terminal(opts.quiet, what="objects")

        def go() -> None:
            if plan.revs is None:
                from wvzscan.sources.git.history_scan import scan_history

                scan_history(repo, scanner, result, progress=progress, max_size=_max_size(opts), exclude=cfg.exclude)
            elif plan.revs:
                from wvzscan.sources.git.changes import scan_commits

                describe_state(repo, result)
                scan_commits(
                    repo, scanner, result, plan.revs, progress=progress, exclude=cfg.exclude, max_size=_max_size(opts)
                )

        _guard(go)

    run_scan(opts, repo.work_tree or ".", "ci", produce)
