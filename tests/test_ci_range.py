"""The CI range is computed with the git runner and fails closed: a ``git rev-list`` that fails
is an error, never an empty (clean-looking) range."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import commit_file, git, init_repo, run_cli
from wvzscan.errors import WvzscanError
from wvzscan.sources.ci import detect, resolve


def _gh_pr(base: str, head: str, tmp_path: Path) -> tuple[dict[str, str], dict[str, object]]:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request"}
    event = {"pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": head}}}
    return env, event


def _shallow_clone_missing_a_commit(tmp_path: Path) -> tuple[Path, str, str]:
    origin = init_repo(tmp_path / "origin")
    for i in range(6):
        commit_file(origin, "a.txt", f"{i}\n", f"c{i}")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "4", f"file://{origin}", str(clone))
    # Loose objects, then one commit inside the range removed: the walk cannot go through it.
    packs = clone / ".git" / "objects" / "pack"
    for pack in packs.glob("*.pack"):
        data = pack.read_bytes()
        for f in packs.glob(pack.stem + ".*"):
            f.unlink()
        git(clone, "unpack-objects", "-q", input=data)
    base, middle, head = (git(clone, "rev-parse", r) for r in ("HEAD~2", "HEAD~1", "HEAD"))
    (clone / ".git" / "objects" / middle[:2] / middle[2:]).unlink()
    return clone, base, head


def test_failed_rev_list_is_an_error_not_an_empty_range(tmp_path: Path) -> None:
    clone, base, head = _shallow_clone_missing_a_commit(tmp_path)
    env, event = _gh_pr(base, head, tmp_path)
    with pytest.raises(WvzscanError, match="cannot be listed"):
        resolve(detect(env, event), str(clone))


def test_failed_rev_list_makes_the_ci_command_exit_2(tmp_path: Path) -> None:
    clone, base, head = _shallow_clone_missing_a_commit(tmp_path)
    event_path = tmp_path / "event.json"
    _, event = _gh_pr(base, head, tmp_path)
    event_path.write_text(json.dumps(event))
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event_path)}
    r = run_cli("ci", str(clone), env=env)
    assert r.code == 2, (r.code, r.err)
    assert "cannot be listed" in r.err
    shutil.rmtree(clone)
