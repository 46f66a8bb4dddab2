"""`wvzscan ci`: the commits of the CI change under test (pull/merge request or push range).

Which commits comes from wvzscan.sources.ci (GitHub Actions and GitLab CI variables); the scanning is
the git source's, as in `wvzscan repo --range`. Elsewhere it scans the whole history, like `repo`.
"""

from __future__ import annotations

import os

import click

from wvzscan import api
from wvzscan.commands.common import CliOptions, finish, scan_options
from wvzscan.errors import WvzscanError


@click.command("ci")
@click.argument("path", required=False, default=".", type=click.Path(file_okay=False))
@scan_options
def ci_cmd(path: str, opts: CliOptions) -> int:
    """Scan the commits of the current CI change (default repository: .).

    GitHub Actions: a pull request's commits (base..head from the event payload), a push's
    before..after (a new branch: its commits no other remote branch has). GitLab CI: a merge
    request's commits from CI_MERGE_REQUEST_DIFF_BASE_SHA, a push's CI_COMMIT_BEFORE_SHA..CI_COMMIT_SHA.
    Anywhere else, and for schedules or manual runs, the whole history. A shallow checkout that lacks
    what the change needs is an error (exit 2) saying how to fetch it (`fetch-depth: 0`, `GIT_DEPTH: 0`).
    """
    from wvzscan.sources import ci

    if not os.path.isdir(path):
        raise WvzscanError(f"no such directory: {path}")
    repo = api.open_repository(path)
    change = ci.detect(os.environ, ci.load_event(os.environ))  # EventError, CIError: WvzscanErrors
    plan = ci.resolve(change, repo)
    if not opts.quiet:
        click.echo(f"wvzscan ci: {change.provider}: {change.reason}", err=True)
    if plan.revs is None:
        result = api.scan_repository(path, opts.scan, progress=opts.progress("objects"))
        result.notes[:0] = plan.notes
    else:
        result = api.scan_commits(path, plan.revs, opts.scan, notes=plan.notes, progress=opts.progress("objects"))
    return finish(result, opts, "ci")
