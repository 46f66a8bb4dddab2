"""Running git: argument lists only (never a shell), clear errors, repository discovery."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

# git must never stop to ask for a password or open an editor or pager in the middle of a scan.
_ENV_FIXED = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0"}


class GitError(Exception):
    """git failed in a way that stops the scan (not a repository, bad revision, refused...)."""


class NotARepository(GitError):
    pass


class UnsafeRepository(GitError):
    """git's safe.directory check refused the repository (owned by another user)."""


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(_ENV_FIXED)
    # A lazy fetch from a partial clone's promisor remote would make a scan reach the network.
    env["GIT_NO_LAZY_FETCH"] = "1"
    # Replace refs (git replace, grafts) make git show other objects in place of the real ones;
    # the real ones are what the repository holds and what a clone or push sends.
    env["GIT_NO_REPLACE_OBJECTS"] = "1"
    return env


def command(git_dir: str | None, *args: str) -> list[str]:
    cmd = ["git"]
    if git_dir is not None:
        cmd += ["--git-dir", git_dir]
    return [*cmd, *args]


def run(
    git_dir: str | None,
    args: Sequence[str],
    cwd: str | None = None,
    input: bytes | None = None,
    check: bool = True,
) -> bytes:
    """Run git and return its stdout; a failure becomes a GitError with git's own words."""
    try:
        p = subprocess.run(
            command(git_dir, *args), cwd=cwd, input=input, capture_output=True, env=git_env(), check=False
        )
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    if check and p.returncode != 0:
        raise GitError(explain(p.stderr, f"git {args[0]}"))
    return p.stdout


def explain(stderr: bytes, what: str) -> str:
    """git's first fatal/error line, with a fix when we know one."""
    text = stderr.decode("utf-8", "replace")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith(("fatal:", "error:")):
            return ln.split(":", 1)[1].strip()
    return lines[0] if lines else f"{what} failed"


@dataclass
class Repo:
    git_dir: str  # absolute
    work_tree: str | None  # None for a bare repository
    shallow: bool
    object_format: str

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        return run(self.git_dir, args, input=input, check=check)

    def cmd(self, *args: str) -> list[str]:
        return command(self.git_dir, *args)

    def resolve(self, rev: str, kind: str | None = "commit") -> str | None:
        """The object id of ``rev`` peeled to ``kind`` (None: as it is), or None when it does not resolve.

        ``HEAD:path`` cannot be peeled (git would read ``path^{blob}`` as the path): pass kind=None."""
        out = run(
            self.git_dir,
            ["rev-parse", "--verify", "--quiet", "--end-of-options", rev if kind is None else f"{rev}^{{{kind}}}"],
            check=False,
        )
        oid = out.decode().strip()
        return oid or None

    def head(self) -> str | None:
        """HEAD's commit, or None in a repository without commits (unborn HEAD)."""
        return self.resolve("HEAD")

    @property
    def null_oid(self) -> str:
        return "0" * (64 if self.object_format == "sha256" else 40)


def _work_tree_of(git_dir: str) -> str | None:
    """The work tree of a non-bare repository whose .git folder we were started in (git answers
    --show-toplevel only from inside the work tree): the folder that holds it, if it agrees."""
    parent = os.path.dirname(git_dir.rstrip("/"))
    args = ["rev-parse", "--absolute-git-dir", "--show-toplevel"]
    p = subprocess.run(command(None, *args), cwd=parent, capture_output=True, env=git_env(), check=False)
    lines = p.stdout.decode("utf-8", "surrogateescape").splitlines()
    if p.returncode == 0 and len(lines) == 2 and os.path.samefile(lines[0], git_dir):
        return lines[1]
    return None


def open_repo(path: str) -> Repo:
    """Discover the repository at ``path`` (a work tree, anywhere inside one, or a bare repository).

    A GIT_DIR or GIT_WORK_TREE in the environment (set by git for hooks, or left by a script) would
    make git answer for that repository instead; it is honoured only for ``.``, where the two agree.
    """
    if not os.path.isdir(path):
        raise NotARepository(f"not a directory: {path}")
    # One git process: start-up time matters for hooks. --show-toplevel fails last in a bare
    # repository, after the other answers are printed.
    args = ["rev-parse", "--absolute-git-dir", "--is-bare-repository", "--is-shallow-repository"]
    args += ["--show-object-format", "--is-inside-git-dir", "--show-toplevel"]
    try:
        env = git_env()
        if os.path.normpath(path) != ".":
            env.pop("GIT_DIR", None)
            env.pop("GIT_WORK_TREE", None)
        p = subprocess.run(command(None, *args), cwd=path, capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    lines = p.stdout.decode("utf-8", "surrogateescape").splitlines()
    inside_git_dir = len(lines) >= 5 and lines[4] == "true"
    if len(lines) < 5 or (p.returncode != 0 and lines[1] != "true" and not inside_git_dir):
        err = p.stderr.decode("utf-8", "replace")
        if "dubious ownership" in err or "safe.directory" in err:
            real = os.path.realpath(path)
            raise UnsafeRepository(
                f"git refuses to read {path}: it is owned by another user (git's safe.directory check). "
                f"If you trust it, run: git config --global --add safe.directory {real}"
            )
        if "not a git repository" in err:
            raise NotARepository(f"not a git repository: {path}")
        raise GitError(f"cannot open {path} as a git repository: {explain(p.stderr, 'git rev-parse')}")
    git_dir, bare, shallow, fmt = lines[:4]
    work_tree = lines[5] if bare != "true" and len(lines) > 5 else None
    if bare != "true" and inside_git_dir:
        work_tree = _work_tree_of(git_dir)
    return Repo(git_dir=git_dir, work_tree=work_tree, shallow=shallow == "true", object_format=fmt or "sha1")
