"""Opening a repository for a scan: discovery (``process.discover``), then the shallow file checked
against the object store (``shallow.check_shallow``) so a forged one cannot hide history."""

from __future__ import annotations

from wvzscan.sources.git.process import Repo, discover


def open_repo(path: str) -> Repo:
    """The repository at ``path``, ready to scan (GitError, a WvzscanError, when there is none)."""
    repo = discover(path)
    if repo.shallow:
        from wvzscan.sources.git.shallow import check_shallow  # here: most repositories are not shallow

        check_shallow(repo)
    return repo
