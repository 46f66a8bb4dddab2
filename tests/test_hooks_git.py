"""The plain git hooks for real: `wvzscan install-hooks`, then `git commit` and `git push` to a bare remote.

wvzscan is a program on PATH here (a console-script-like shim), as it is for a user.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import PREFIX, git, init_repo, make_key, run_cli
from tests.integration_helpers import SYSTEM_PATH, git_env, install_wvzscan_shim, run


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    repo = init_repo(tmp_path / "work")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    assert run_cli("install-hooks", cwd=repo).code == 0
    env = git_env(f"{install_wvzscan_shim(tmp_path / 'bin').parent}:{SYSTEM_PATH}")
    return repo, remote, env


def commit(repo: Path, env: dict[str, str], rel: str, text: str, *flags: str) -> tuple[int, str]:
    (repo / rel).write_text(text)
    git(repo, "add", rel)
    p = run(["git", "commit", "-q", "-m", f"add {rel}", *flags], repo, env)
    return p.code, p.out + p.err


def test_pre_commit_hook_blocks_a_staged_key(setup: tuple[Path, Path, dict[str, str]]) -> None:
    repo, _, env = setup
    code, out = commit(repo, env, "notes.md", "placeholder: " + PREFIX + "your_api_key_here\n")
    assert code == 0, out
    allowed = make_key()
    code, out = commit(repo, env, "fixture.py", f"KEY = '{allowed}'  # wvzscan:allow\n")
    assert code == 0, out

    key = make_key()
    code, out = commit(repo, env, "settings.py", f"WEAVZ_API_KEY = '{key}'\n")
    assert code == 1, out
    assert key[:8] in out and key not in out  # located, redacted
    assert "settings.py" in out
    assert git(repo, "rev-list", "--count", "HEAD") == "2"  # the commit did not happen


def test_pre_push_hook_blocks_pushed_commits(setup: tuple[Path, Path, dict[str, str]]) -> None:
    repo, remote, env = setup
    assert commit(repo, env, "a.txt", "clean\n")[0] == 0
    p = run(["git", "push", "-q", "origin", "main"], repo, env)
    assert p.code == 0, p.err
    pushed = git(remote, "rev-parse", "main")

    key = make_key("uuid")
    code, out = commit(repo, env, "b.txt", f"token {key}\n", "--no-verify")  # the commit hook bypassed
    assert code == 0, out
    assert commit(repo, env, "c.txt", "later, clean\n")[0] == 0
    p = run(["git", "push", "origin", "main"], repo, env)
    assert p.code != 0
    assert key[:8] in p.out + p.err and key not in p.out + p.err
    assert git(remote, "rev-parse", "main") == pushed  # nothing reached the remote

    # A new branch carrying the same commit is stopped too.
    git(repo, "checkout", "-q", "-b", "feature")
    p = run(["git", "push", "origin", "feature"], repo, env)
    assert p.code != 0 and key[:8] in p.out + p.err
    assert git(remote, "for-each-ref", "--format=%(refname)") == "refs/heads/main"


def test_staged_under_pre_commit_with_nothing_staged_reads_every_file(tmp_path: Path) -> None:
    """PRE_COMMIT=1 (the framework's mark) with an empty staged change: `pre-commit run --all-files`."""
    from tests.helpers import commit_file

    repo = init_repo(tmp_path / "r")
    key = make_key()
    commit_file(repo, "old.py", f"KEY = '{key}'\n", "committed earlier")
    r = run_cli("staged", "--format", "json", cwd=repo)
    assert r.code == 0 and r.json()["findings"] == []  # a plain hook: only what the commit adds
    r = run_cli("staged", "--format", "json", cwd=repo, env={"PRE_COMMIT": "1"})
    assert r.code == 1, r.err
    assert [f["path"] for f in r.json()["findings"]] == ["old.py"]
    assert any("every file in the index" in n for n in r.json()["notes"])
    # During a commit something is staged: still only what it adds, however the hook was started.
    (repo / "new.py").write_text("clean = True\n")
    git(repo, "add", "new.py")
    r = run_cli("staged", "--format", "json", cwd=repo, env={"PRE_COMMIT": "1"})
    assert r.code == 0 and r.json()["findings"] == [], r.out
