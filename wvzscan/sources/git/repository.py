"""Opening a repository for a scan: discovery (``process.discover``), then the shallow file checked
against the object store (``shallow.check_shallow``) so a forged one cannot hide history."""

from __future__ import annotations

import os
import re

from wvzscan.sources.git.process import Repo, discover

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.I)


def open_repo(path: str) -> Repo:
    """The repository at ``path``, ready to scan (GitError, a WvzscanError, when there is none)."""
    repo = discover(path)
    if repo.shallow:
        from wvzscan.sources.git.shallow import check_shallow  # here: most repositories are not shallow

        check_shallow(repo)
    return repo


def root_of(repo: Repo) -> str:
    """Where a repository's findings are placed from: its work tree ("." for a bare one)."""
    return repo.work_tree or "."


def is_url(target: str) -> bool:
    """Whether ``target`` names a repository to clone rather than a folder here."""
    return bool(_URL.match(target)) and not os.path.exists(target)
