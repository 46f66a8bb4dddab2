"""A new user's first hour, end to end, as the README tells it: install the hooks, commit a key (blocked,
and told why and what to do), allow it with a reason, commit, uninstall the hooks.

wvzscan is a program on PATH (a console-script-like shim) and every step is a real git command.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, init_repo, make_key
from tests.integration_helpers import SYSTEM_PATH, git_env, install_wvzscan_shim, run


def test_the_first_hour(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "project")
    env = git_env(f"{install_wvzscan_shim(tmp_path / 'bin').parent}:{SYSTEM_PATH}")

    def sh(*args: str) -> tuple[int, str, str]:
        p = run(list(args), repo, env)
        return p.code, p.out, p.err

    # 1. The hooks, as the README says.
    code, out, err = sh("wvzscan", "install-hooks")
    assert code == 0 and "pre-commit: installed" in out, err

    # 2. A clean commit passes and prints nothing.
    (repo / "app.py").write_text("print('hello')\n")
    sh("git", "add", "app.py")
    code, out, err = sh("git", "commit", "-q", "-m", "first")
    assert (code, out, err) == (0, "", "")

    # 3. A key: the commit is blocked, and the message says so and shows the ways on.
    key = make_key()
    line = f"WEAVZ_API_KEY = '{key}'"
    (repo / "settings.py").write_text(line + "\n")
    sh("git", "add", "settings.py")
    code, out, err = sh("git", "commit", "-q", "-m", "settings")
    assert code == 1
    shown = out + err
    assert key not in shown and key[:8] in shown and "settings.py:1" in shown
    assert "commit blocked: 1 key would be committed" in err
    assert "# wvzscan:allow" in err and "--no-verify" in err and "revoke" in err
    assert git(repo, "rev-list", "--count", "HEAD") == "1"

    # 4. It is a test fixture: allow it on its line, with a reason, and commit.
    (repo / "settings.py").write_text(line + "  # wvzscan:allow test fixture, never deployed\n")
    sh("git", "add", "settings.py")
    code, out, err = sh("git", "commit", "-q", "-m", "settings (fixture)")
    assert code == 0, out + err
    assert git(repo, "rev-list", "--count", "HEAD") == "2"

    # 5. Done trying: the hooks go, and commits are not checked any more.
    code, out, err = sh("wvzscan", "uninstall-hooks")
    assert code == 0 and "pre-commit: removed" in out and "pre-push: removed" in out, err
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    (repo / "other.py").write_text(f"K = '{make_key()}'\n")
    sh("git", "add", "other.py")
    assert sh("git", "commit", "-q", "-m", "unchecked")[0] == 0
