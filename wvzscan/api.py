"""wvzscan's Python API: scans, verification and revocation as functions that return typed results.

Nothing here exits the process, prints or asks: a scan that cannot be done as asked raises
``WvzscanError``; everything else (findings, errors, notes, counts) is in the returned ``ScanResult``,
whose ``exit_code()`` is the command line's exit code for it. The CLI is a thin layer over these.

    from wvzscan import api

    result = api.scan_paths(["src"])
    for f in result.findings:
        print(f.redacted, f.location())
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, BinaryIO

from wvzscan.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_USAGE, WvzscanError
from wvzscan.finding import Finding, ScanError, ScanResult
from wvzscan.options import ScanOptions
from wvzscan.pipeline import Source, run
from wvzscan.progress import Progress
from wvzscan.sources.git.index import IndexSource, nothing_staged
from wvzscan.sources.git.repository import is_url
from wvzscan.sources.git.repository import open_repo as open_repository
from wvzscan.sources.paths import PathsSource

# The history, range and push sources (wvzscan.sources.git.source) load in the functions that use
# them: the `staged` hook, which runs on every commit, never pays for them.

if TYPE_CHECKING:  # httpx and the API client load only when verify or revoke runs
    from wvzscan.response import ResponseOutcome

DEFAULTS = ScanOptions()


def scan(source: Source, options: ScanOptions = DEFAULTS, *, progress: Progress | None = None) -> ScanResult:
    """Scan any ``Source`` (the other functions build one for you)."""
    return run(source, options, progress=progress)


def scan_paths(
    paths: Sequence[str] = (".",),
    options: ScanOptions = DEFAULTS,
    *,
    stdin: BinaryIO | None = None,
    respect_gitignore: bool = False,
    progress: Progress | None = None,
) -> ScanResult:
    """Files and directory trees; ``-`` among ``paths`` reads ``stdin`` (a binary stream);
    ``respect_gitignore`` skips (and counts) what the repository's .gitignore files ignore."""
    return run(PathsSource.checked(paths, stdin, respect_gitignore), options, progress=progress)


def scan_repository(
    target: str = ".",
    options: ScanOptions = DEFAULTS,
    *,
    since: str | None = None,
    range: str | None = None,  # noqa: A002 - the flag's name
    branch: str | None = None,
    include_unreachable: bool = False,
    connectivity_check: bool = True,
    progress: Progress | None = None,
) -> ScanResult:
    """A repository's history: a path (work tree or bare) or a URL, cloned to a temporary folder that is
    removed afterwards. Whole history by default; ``since``/``range``/``branch`` narrow it."""
    from wvzscan.sources.git.source import HistorySource, Narrowing, cloned

    narrowing = Narrowing(since, range, branch)
    if is_url(target):
        with cloned(target) as path:
            repo = open_repository(path)
            src = HistorySource(repo, narrowing, include_unreachable, connectivity_check, root_dir=".")
            return run(src, options, progress=progress)
    repo = open_repository(target)
    return run(HistorySource(repo, narrowing, include_unreachable, connectivity_check), options, progress=progress)


def scan_commits(
    repo: str,
    revs: Sequence[str],
    options: ScanOptions = DEFAULTS,
    *,
    notes: Sequence[str] = (),
    progress: Progress | None = None,
) -> ScanResult:
    """What the commits ``revs`` (``git log`` arguments, e.g. ``["A..B"]``) add."""
    from wvzscan.sources.git.source import CommitsSource

    return run(CommitsSource(open_repository(repo), tuple(revs), tuple(notes)), options, progress=progress)


def scan_index(repo: str = ".", options: ScanOptions = DEFAULTS, *, whole: bool = False) -> ScanResult:
    """What ``git commit`` would record in ``repo`` (``whole``: every file in the index)."""
    return run(IndexSource(open_repository(repo), whole), options)


def scan_push(
    repo: str = ".",
    options: ScanOptions = DEFAULTS,
    *,
    hook_lines: Sequence[str] | None = None,
    from_ref: str | None = None,
    to_ref: str | None = None,
    to_remote_ref: str | None = None,
    head: str = "HEAD",
) -> ScanResult:
    """What a push sends: pre-push ``hook_lines`` (empty: nothing is sent), or ``from_ref..to_ref``, or
    else what ``head`` has that no remote-tracking branch has."""
    from wvzscan.sources.git.source import PushSource, PushUpdate

    updates = None if hook_lines is None else tuple(PushUpdate.parse(hook_lines))
    src = PushSource(open_repository(repo), updates, from_ref, to_ref, to_remote_ref, head)
    return run(src, options)


def _no_terminal(question: str) -> bool | None:
    return None  # nobody to ask: a revocation needs yes=True (or a confirm callback)


def _silent(message: str) -> None:
    pass


def verify(
    result: ScanResult,
    *,
    api_url: str | None = None,
    ca_bundle: str | None = None,
    admin_key: str | None = None,
) -> ResponseOutcome:
    """Ask the Weavz API about every unique key of ``result`` (one request set per key, never per
    finding). Each finding gets ``status`` (live, invalid, unknown), ``status_reason`` and ``scope``;
    a key whose status could not be told is an error of ``result`` (the scan is then incomplete).
    ``admin_key``: an org-wide key (``response.admin_key_from_env()`` reads WEAVZ_API_KEY), which
    finds the id of a workspace-scoped key."""
    from wvzscan.response import ResponseOptions, respond

    opts = ResponseOptions(api_url=api_url, ca_bundle=ca_bundle)
    return respond(result, opts, admin_key=admin_key, confirm=_no_terminal, say=_silent)


def revoke(
    result: ScanResult,
    *,
    audit_log: str | None = None,
    dry_run: bool = False,
    yes: bool = False,
    confirm: Callable[[str], bool | None] = _no_terminal,
    say: Callable[[str], None] = _silent,
    api_url: str | None = None,
    ca_bundle: str | None = None,
    admin_key: str | None = None,
) -> ResponseOutcome:
    """Verify, then revoke every key the API confirmed live and whose id resolved without ambiguity,
    each step written to ``audit_log`` before and after the call. Nothing is revoked unless ``yes`` or
    ``confirm(question)`` says so; ``dry_run`` only plans. Each finding gets ``revocation``;
    ``outcome.exit_code`` is 2 when a revocation was asked for and did not happen."""
    from wvzscan.response import ResponseOptions, respond

    opts = ResponseOptions(
        revoke=True, dry_run=dry_run, yes=yes, api_url=api_url, ca_bundle=ca_bundle, audit_log=audit_log
    )
    return respond(result, opts, admin_key=admin_key, confirm=confirm, say=say)


__all__ = [
    "DEFAULTS",
    "EXIT_CLEAN",
    "EXIT_FINDINGS",
    "EXIT_INCOMPLETE",
    "EXIT_USAGE",
    "Finding",
    "Progress",
    "ScanError",
    "ScanOptions",
    "ScanResult",
    "WvzscanError",
    "nothing_staged",
    "scan",
    "scan_commits",
    "scan_index",
    "scan_paths",
    "scan_push",
    "scan_repository",
    "verify",
    "revoke",
    "is_url",
    "open_repository",
]
