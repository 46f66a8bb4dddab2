"""The pre-commit framework for real: `pre-commit try-repo`, then the README's config with `pre-commit install`,
a real `git commit` and a real `git push` to a bare remote.

pre-commit installs wvzscan from a copy of this checkout into its own virtual environment (its
dependencies come from the package index), so this is what a user's machine does. Skipped only when
pre-commit itself is not installed.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PREFIX, ROOT, git, init_repo, make_key
from tests.integration_helpers import SYSTEM_PATH, Proc, copy_checkout, git_env, run

pytestmark = [
    pytest.mark.venv,
    pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None, reason="pre-commit is not installed"),
]

PYTHON_DIR = str(Path(sys.executable).parent)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    dest = tmp_path_factory.mktemp("hook-repo") / "wvzscan"
    return dest, copy_checkout(dest)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # pre-commit's own store (its hook environments), shared by this module's tests; no wvzscan on PATH:
    # the hooks must use the one pre-commit installed.
    home = tmp_path_factory.mktemp("pre-commit-home")
    return git_env(f"{PYTHON_DIR}:{SYSTEM_PATH}", {"PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"})


def pre_commit(args: list[str], cwd: Path, env: dict[str, str]) -> Proc:
    return run([sys.executable, "-m", "pre_commit", *args], cwd, env, timeout=300)


def docs_config(repo: Path, rev: str) -> str:
    """The README's .pre-commit-config.yaml example, pointed at the copy of this checkout."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```yaml\n(repos:\n.*?)```", text, re.S)
    assert block, "the pre-commit config example is missing from README.md"
    config = block.group(1)
    config = re.sub(r"repo: \S+", f"repo: {repo}", config, count=1)
    return re.sub(r"rev: \S+", f"rev: {rev}", config, count=1)


def test_docs_config_names_the_manifest_hooks() -> None:
    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id: dict[str, Any] = {h["id"]: h for h in manifest}
    assert by_id["wvzscan"]["entry"] == "wvzscan staged" and by_id["wvzscan"]["stages"] == ["pre-commit"]
    assert by_id["wvzscan-push"]["entry"] == "wvzscan push" and by_id["wvzscan-push"]["stages"] == ["pre-push"]
    for h in manifest:
        assert h["language"] == "python" and h["pass_filenames"] is False
    config = yaml.safe_load(docs_config(Path("/x"), "abc"))
    assert [h["id"] for h in config["repos"][0]["hooks"]] == ["wvzscan", "wvzscan-push"]


def test_try_repo_blocks_a_staged_key(tmp_path: Path, hook_repo: tuple[Path, str], env: dict[str, str]) -> None:
    repo = init_repo(tmp_path / "project")
    key = make_key()
    (repo / "config.env").write_text(f"WEAVZ_API_KEY={key}\n")
    (repo / "README.md").write_text("set WEAVZ_API_KEY=" + PREFIX + "your_api_key_here\n")
    git(repo, "add", ".")
    p = pre_commit(["try-repo", str(hook_repo[0]), "wvzscan", "--ref", hook_repo[1]], repo, env)
    out = p.out + p.err
    assert p.code == 1, out
    assert "Failed" in out and "config.env" in out
    assert key[:8] in out and key not in out
    assert "README.md" not in out  # the placeholder is not a finding


def test_installed_hooks_commit_and_push(tmp_path: Path, hook_repo: tuple[Path, str], env: dict[str, str]) -> None:
    repo = init_repo(tmp_path / "project")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    (repo / ".pre-commit-config.yaml").write_text(docs_config(*hook_repo))
    assert pre_commit(["install"], repo, env).code == 0
    assert pre_commit(["install", "--hook-type", "pre-push"], repo, env).code == 0

    def commit(rel: str, text: str, *flags: str) -> Proc:
        (repo / rel).write_text(text)
        git(repo, "add", rel, ".pre-commit-config.yaml")
        return run(["git", "commit", "-m", f"add {rel}", *flags], repo, env, timeout=300)

    # Placeholders and allowed keys pass.
    p = commit("notes.md", "export WEAVZ_API_KEY=" + PREFIX + "replace-with-your-key\n")
    assert p.code == 0, p.out + p.err
    p = commit("fixture.py", f"KEY = '{make_key()}'  # wvzscan:allow\n")
    assert p.code == 0, p.out + p.err

    # A staged key stops the commit, redacted.
    key = make_key("mixed40")
    p = commit("app.py", f"client = Weavz('{key}')\n")
    assert p.code == 1
    assert key[:8] in p.out + p.err and key not in p.out + p.err
    assert git(repo, "rev-list", "--count", "HEAD") == "2"

    # A new branch on the remote (the whole branch is new, pre-commit passes no range): clean, pushed.
    p = run(["git", "push", "origin", "main"], repo, env, timeout=300)
    assert p.code == 0, p.out + p.err

    # The key committed past the commit hook: the push hook stops it (PRE_COMMIT_FROM_REF..TO_REF).
    assert commit("app.py", f"client = Weavz('{key}')\n", "--no-verify").code == 0
    before = git(remote, "rev-parse", "main")
    p = run(["git", "push", "origin", "main"], repo, env, timeout=300)
    assert p.code != 0
    assert "wvzscan" in p.out + p.err and key[:8] in p.out + p.err and key not in p.out + p.err
    assert git(remote, "rev-parse", "main") == before


def test_first_push_of_a_branch_is_scanned(tmp_path: Path, hook_repo: tuple[Path, str], env: dict[str, str]) -> None:
    """Pushing history down to the root commit: pre-commit passes no range, only PRE_COMMIT_LOCAL_BRANCH."""
    repo = init_repo(tmp_path / "project")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    (repo / ".pre-commit-config.yaml").write_text(docs_config(*hook_repo))
    assert pre_commit(["install", "--hook-type", "pre-push"], repo, env).code == 0
    key = make_key()
    (repo / "app.py").write_text(f"KEY = '{key}'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "root commit with a key")
    p = run(["git", "push", "origin", "main"], repo, env, timeout=300)
    assert p.code != 0, p.out + p.err
    assert key[:8] in p.out + p.err and key not in p.out + p.err
    assert git(remote, "for-each-ref") == ""


def test_run_all_files_scans_every_file_not_the_empty_staged_change(
    tmp_path: Path, hook_repo: tuple[Path, str], env: dict[str, str]
) -> None:
    """`pre-commit run --all-files` is how CI (pre-commit/action, pre-commit.ci) runs hooks: nothing is
    staged there, so "what the commit would add" is nothing, and a pass would mean nothing was read."""
    repo = init_repo(tmp_path / "project")
    (repo / ".pre-commit-config.yaml").write_text(docs_config(*hook_repo))
    (repo / "notes.md").write_text("export WEAVZ_API_KEY=" + PREFIX + "your_api_key_here\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "--no-verify", "-m", "clean root")
    clean_root = git(repo, "rev-parse", "HEAD")
    key = make_key()
    (repo / "src").mkdir()
    (repo / "src" / "settings.py").write_text(f"WEAVZ_API_KEY = '{key}'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "--no-verify", "-m", "a key, committed past the hooks")
    with_key = git(repo, "rev-parse", "HEAD")

    p = pre_commit(["run", "--all-files"], repo, env)
    out = p.out + p.err
    assert p.code == 1, out
    assert "src/settings.py" in out and key[:8] in out and key not in out
    assert "notes.md" not in out
    assert "every file in the index" in out

    # Once the key is gone from the files, --all-files passes.
    (repo / "src" / "settings.py").write_text("WEAVZ_API_KEY = os.environ['WEAVZ_API_KEY']\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "--no-verify", "-m", "fix")
    p = pre_commit(["run", "--all-files"], repo, env)
    assert p.code == 0, p.out + p.err

    # The push hook on an explicit range, as `pre-commit run` takes it: the key's commit is in the first.
    stage = ["run", "--hook-stage", "pre-push", "--to-ref", "HEAD", "--from-ref"]
    p = pre_commit([*stage, clean_root], repo, env)
    assert p.code == 1 and key[:8] in p.out + p.err and key not in p.out + p.err, p.out + p.err
    p = pre_commit([*stage, with_key], repo, env)
    assert p.code == 0, p.out + p.err
