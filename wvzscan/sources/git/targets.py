"""What a git command is pointed at: a path or a URL, a repository opened, the part of its history
asked for, the size limit for blobs. Plain functions; failures raise GitError (a WvzscanError,
exit 2) or WvzscanError, never anything the CLI layer owns."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from wvzscan.errors import WvzscanError
from wvzscan.finding import ScanResult
from wvzscan.sources.git.process import GitError, Repo, open_repo, run

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.I)


def is_url(target: str) -> bool:
    return bool(_URL.match(target)) and not os.path.exists(target)


def open_target(path: str) -> Repo:
    """The repository at ``path`` (GitError when there is none or git refuses it)."""
    return open_repo(path)


def max_size(flag: int | None, configured: int | None) -> int | None:
    """Blobs are skipped by size only when the user set a limit (the flag, else the config file's)."""
    return flag if flag is not None else configured


@contextmanager
def cloned(url: str, say: Callable[[str], None] | None = None) -> Iterator[str]:
    """A bare mirror of ``url`` (every ref, full history) in a temporary folder, always removed."""
    import shutil
    import tempfile

    tmp = tempfile.mkdtemp(prefix="wvzscan-clone-")
    try:
        dest = os.path.join(tmp, "repo.git")
        if say is not None:
            say(f"wvzscan: cloning {url} ...")
        try:
            run(None, ["clone", "--mirror", "--quiet", "--no-hardlinks", "--", url, dest])
        except GitError as e:
            raise GitError(f"cannot clone {url}: {e}") from None
        yield dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def narrowed(
    repo: Repo, since: str | None, range_: str | None, branch: str | None, result: ScanResult
) -> list[str] | None:
    """git log arguments for --since/--range/--branch, or None for the whole object store."""
    from wvzscan.sources.git.changes import range_revs

    if range_ and (since or branch):
        raise WvzscanError("--range cannot be combined with --since or --branch")
    if range_:
        if "..." in range_ or ".." not in range_:
            raise WvzscanError(f"--range expects A..B, got {range_!r}")
        base, _, head = range_.partition("..")
        return range_revs(repo, base or "HEAD", head or "HEAD", result)
    if since:
        return range_revs(repo, since, branch or "HEAD", result)
    if branch:
        if repo.resolve(branch) is None:
            raise WvzscanError(f"unknown branch or revision: {branch}")
        return [branch]
    return None
