"""Where each repository's objects come from: a local path as it is, a bare mirror kept between
runs (``--mirror-dir``: fetched, not cloned again), or a temporary mirror clone removed afterwards.

git gets the forge token only through ``Credential.git_env`` (one host, environment only); every
message git writes is scrubbed of it before it can reach a report.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from wvzscan.org.credentials import Credential, strip_userinfo
from wvzscan.org.engine import GitError, git_environment, open_git_dir
from wvzscan.org.targets import Target
from wvzscan.sources.git.process import run_full

# git must never run a helper program for a URL (ext::) or reach a transport the user did not mean.
ALLOWED_PROTOCOLS = "https:http:ssh:git:file"
CLONE_TIMEOUT = 3600.0


class FetchError(Exception):
    """The repository could not be cloned or fetched: an error for that repository only."""


def mirror_path(mirror_dir: str, name: str) -> str:
    """A folder name for ``name`` inside ``mirror_dir``: no separators, stable, unique by hash."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:80] or "repo"
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return os.path.join(mirror_dir, f"{slug}-{digest}.git")


def _env(cred: Credential | None) -> dict[str, str]:
    env = git_environment()
    env["GIT_ALLOW_PROTOCOL"] = ALLOWED_PROTOCOLS
    env["GIT_TERMINAL_PROMPT"] = "0"
    return cred.git_env(env) if cred is not None else env


def _run(args: list[str], cred: Credential | None, what: str) -> None:
    """git through the one runner (its config policy), with the credential's environment."""
    git_dir = None
    if args[:2] == ["git", "--git-dir"]:
        git_dir, args = args[2], args[3:]
    else:
        args = args[1:]
    try:
        p = run_full(git_dir, args, env=_env(cred), timeout=CLONE_TIMEOUT)
    except GitError as e:
        raise FetchError(f"{what}: {cred.scrub(str(e)) if cred is not None else e}") from None
    if p.code != 0:
        text = p.stderr.decode("utf-8", "replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        reason = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(("fatal:", "error:"))), None)
        reason = reason or (lines[-1] if lines else f"git exited with code {p.code}")
        if cred is not None:
            reason = cred.scrub(reason)
        raise FetchError(f"{what}: {reason}")


def _clone(url: str, dest: str, cred: Credential | None) -> None:
    _run(["git", "clone", "--mirror", "--quiet", "--no-hardlinks", "--", url, dest], cred, "cannot clone")


def _fetch(url: str, git_dir: str, cred: Credential | None) -> None:
    # An explicit URL and refspec: the mirror's own config (which a previous run wrote) decides nothing.
    args = ["git", "--git-dir", git_dir, "fetch", "--quiet", "--prune", "--force", "--no-write-fetch-head"]
    _run([*args, "--", url, "+refs/*:refs/*"], cred, "cannot fetch")


@contextmanager
def checkout(target: Target, mirror_dir: str | None, fetch: bool = True) -> Iterator[tuple[str, bool]]:
    """(git directory to scan, fetched: True when an existing mirror was updated). Raises FetchError.

    ``fetch=False``: an existing mirror is used as it is (the forge says nothing was pushed)."""
    if target.path is not None:
        try:
            git_dir = open_git_dir(target.path)
        except GitError as e:
            raise FetchError(str(e)) from None
        yield git_dir, False
        return
    if target.url is None:
        raise FetchError("the API gave no clone URL that wvzscan accepts (https; http and file only on loopback)")
    url = target.url
    if mirror_dir is not None:
        dest = mirror_path(mirror_dir, target.name)
        fetched = os.path.isdir(dest) and os.path.isfile(os.path.join(dest, "HEAD"))
        if fetched and not fetch:
            yield dest, False
            return
        if fetched:
            _fetch(url, dest, target.credential)
        else:
            shutil.rmtree(dest, ignore_errors=True)  # a clone that an interrupted run left half done
            tmp = dest + ".partial"
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                _clone(url, tmp, target.credential)
                os.replace(tmp, dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        yield dest, fetched
        return
    tmp = tempfile.mkdtemp(prefix="wvzscan-org-")
    try:
        dest = os.path.join(tmp, "repo.git")
        _clone(url, dest, target.credential)
        yield dest, False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def shown(url: str) -> str:
    return strip_userinfo(url)


def has_mirror(mirror_dir: str | None, name: str) -> bool:
    return mirror_dir is not None and os.path.isfile(os.path.join(mirror_path(mirror_dir, name), "HEAD"))
