"""What the scan must say about the repository itself: shallow, partial, submodules, missing objects."""

from __future__ import annotations

import subprocess
import tempfile

from wvzscan.finding import ScanResult
from wvzscan.sources.git.process import GitError, Repo, explain, git_env


def is_partial(repo: Repo) -> bool:
    """A partial clone (``--filter``): objects may be missing by design, kept by a promisor remote."""
    if repo.run("config", "--get", "extensions.partialClone", check=False).strip():
        return True
    out = repo.run("config", "--get-regexp", r"^remote\..*\.promisor$", check=False).decode().split()
    return "true" in out[1::2]


def describe_state(repo: Repo, result: ScanResult) -> None:
    if repo.shallow:
        result.notes.append(
            "shallow clone: commits before the shallow boundary are not in this repository and were not "
            "scanned (run `git fetch --unshallow`, or use `fetch-depth: 0` in CI, for the full history)"
        )
    if is_partial(repo):
        result.notes.append(
            "partial clone: objects the clone filtered out are not here; each one is counted as an error"
        )
    if repo.head() is not None and _has_gitmodules(repo):
        result.notes.append(
            "submodules are not entered: each is its own repository "
            "(scan them with `git submodule foreach wvzscan repo .`)"
        )


def _has_gitmodules(repo: Repo) -> bool:
    p = subprocess.run(repo.cmd("cat-file", "-e", "HEAD:.gitmodules"), capture_output=True, env=git_env())
    return p.returncode == 0


def missing_objects(repo: Repo, revs: tuple[str, ...] = ("--all",)) -> list[str]:
    """Objects that refs lead to but the object store lacks (walks every tree; prints, never fetches)."""
    if repo.head() is None and not repo.run("for-each-ref", "--count=1").strip():
        return []  # an empty repository
    args = ["rev-list", "--objects", "--missing=print", *revs]
    missing: list[str] = []
    with tempfile.TemporaryFile() as errf:
        proc = subprocess.Popen(repo.cmd(*args), stdout=subprocess.PIPE, stderr=errf, env=git_env())
        assert proc.stdout is not None
        rest = b""
        while True:
            chunk = proc.stdout.read(1 << 20)
            if not chunk:
                break
            buf = rest + chunk
            cut = buf.rfind(b"\n") + 1
            block, rest = buf[:cut], buf[cut:]
            if b"?" in block:
                missing.extend(ln[1:].decode() for ln in block.split(b"\n") if ln.startswith(b"?"))
        if rest.startswith(b"?"):
            missing.append(rest[1:].strip().decode())
        if proc.wait() != 0:
            errf.seek(0)
            raise GitError(f"the history could not be walked: {explain(errf.read(), 'git rev-list')}")
    return missing
