"""Helpers for the integration tests: wvzscan as a program on PATH, git runs whose failure is the point."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT

# What a hook may find on a minimal PATH: sh, git and coreutils, never a wvzscan of its own.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def install_wvzscan_shim(bin_dir: Path) -> Path:
    """A `wvzscan` program like the one pip's console script makes, running this checkout."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "wvzscan"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m wvzscan "$@"\n')
    shim.chmod(0o755)
    return shim


@dataclass
class Proc:
    code: int
    out: str
    err: str


def git_env(path: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "CI_", "WEAVZ_", "PRE_COMMIT", "GITLAB", "PYTHONPATH"))
    }
    env.pop("CI", None)
    env.update(
        PATH=path,
        NO_COLOR="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Ada Lovelace",
        GIT_AUTHOR_EMAIL="ada@example.com",
        GIT_COMMITTER_NAME="Ada Lovelace",
        GIT_COMMITTER_EMAIL="ada@example.com",
    )
    env.update(extra or {})
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], input: bytes | None = None, timeout: float = 120) -> Proc:
    p = subprocess.run(args, cwd=cwd, env=env, input=input, capture_output=True, timeout=timeout)
    return Proc(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def copy_checkout(dest: Path) -> str:
    """This checkout as it is now (tracked and new files, not ignored ones), committed in a repository of
    its own: what a user would get from a clone, without touching this work tree. Returns the commit."""
    import shutil

    from tests.helpers import git, init_repo

    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    init_repo(dest)
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if not src.is_file():  # deleted but still in the index
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "wvzscan under test")
    return git(dest, "rev-parse", "HEAD")


def parse_github_output(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT read the way the Actions runner reads it: `name=value` lines, and the delimiter
    form `name<<DELIMITER` ... `DELIMITER` for values that may hold line breaks."""
    out: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if eq >= 0 and (heredoc < 0 or eq < heredoc):
            out[line[:eq]] = line[eq + 1 :]
            continue
        assert heredoc > 0, f"not an output line: {line!r}"
        name, delimiter = line[:heredoc], line[heredoc + 2 :]
        value = []
        for v in lines:
            if v == delimiter:
                break
            value.append(v)
        else:
            raise AssertionError(f"no closing delimiter {delimiter!r} for output {name!r}")
        out[name] = "\n".join(value)
    return out
