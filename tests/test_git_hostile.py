"""Hostile repositories: git's own settings, files and environment cannot hide a key in history.

Each test builds a repository in a temporary folder where one trick hid a real key from
``wvzscan repo`` (exit 0) before the git runner's environment and config policy existed.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.helpers import commit_file, git, init_repo, make_key, run_cli


def scan(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    r = run_cli("repo", *args, "--format", "json", cwd=cwd, env=env)
    assert r.code in (0, 1, 3), r.err
    return r.code, r.json()


def _history_with_hidden_key(tmp_path: Path) -> tuple[Path, str, str, str]:
    """A key added in the first commit and deleted in the second; the third is HEAD.
    Returns (repo, key, first commit, second commit)."""
    repo = init_repo(tmp_path / "r")
    key = make_key()
    first = commit_file(repo, "config/.env", f"WEAVZ_API_KEY={key}\n", "add config")
    second = commit_file(repo, "config/.env", "WEAVZ_API_KEY=\n", "remove the key")
    commit_file(repo, "README.md", "hello\n", "readme")
    return repo, key, first, second


def _found(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["key_prefix"] == key[:8]]


def test_grafts_file_does_not_cut_history(tmp_path: Path) -> None:
    repo, key, first, second = _history_with_hidden_key(tmp_path)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "grafts").write_text(f"{second}\n")  # second commit made a root
    code, doc = scan(str(repo))
    assert code == 1
    (f,) = _found(doc, key)
    assert f["commit"] == first and f["path"] == "config/.env"


def test_graft_file_from_the_environment_does_not_cut_history(tmp_path: Path) -> None:
    repo, key, first, second = _history_with_hidden_key(tmp_path)
    grafts = tmp_path / "grafts"
    grafts.write_text(f"{second}\n")
    code, doc = scan(str(repo), env={"GIT_GRAFT_FILE": str(grafts)})
    assert code == 1
    (f,) = _found(doc, key)
    assert f["commit"] == first
    code, doc = scan(str(repo), "--range", f"{first}~0..HEAD", env={"GIT_GRAFT_FILE": str(grafts)})
    assert code == 0  # the range excludes the commit that added the key, grafts or not


def test_forged_shallow_file_is_reported_and_not_believed(tmp_path: Path) -> None:
    repo, key, first, second = _history_with_hidden_key(tmp_path)
    (repo / ".git" / "shallow").write_text(f"{second}\n")  # its parent IS in the object store
    code, doc = scan(str(repo))
    assert code == 1
    (f,) = _found(doc, key)
    assert f["commit"] == first
    assert any("shallow file" in e["message"] and second[:12] in e["message"] for e in doc["errors"])
    # What a push or a range adds is read through the forged boundary too.
    code, doc = scan(str(repo), "--since", "HEAD")
    assert code == 3  # nothing new, but the forged file makes the scan incomplete


def test_forged_shallow_push_range_reads_the_hidden_commits(tmp_path: Path) -> None:
    repo, key, first, second = _history_with_hidden_key(tmp_path)
    (repo / ".git" / "shallow").write_text(f"{second}\n")
    zeros = "0" * 40
    head = git(repo, "rev-parse", "HEAD")
    r = run_cli("push", "--format", "json", cwd=repo, input=f"refs/heads/main {head} refs/heads/main {zeros}\n")
    assert r.code == 1, r.err
    (f,) = _found(r.json(), key)
    assert f["commit"] == first


def test_log_output_encoding_cannot_garble_history(tmp_path: Path) -> None:
    repo, key, first, _ = _history_with_hidden_key(tmp_path)
    git(repo, "config", "i18n.logOutputEncoding", "UTF-16")
    git(repo, "config", "log.showSignature", "true")
    code, doc = scan(str(repo))
    assert code == 1
    (f,) = _found(doc, key)
    assert f["commit"] == first and f["author"] == "Ada Lovelace"


def test_inherited_git_variables_do_not_redirect_the_scan(tmp_path: Path) -> None:
    repo, key, first, _ = _history_with_hidden_key(tmp_path)
    decoy = init_repo(tmp_path / "decoy")
    commit_file(decoy, "a.txt", "nothing\n", "decoy")
    env = {
        "GIT_OBJECT_DIRECTORY": str(decoy / ".git" / "objects"),
        "GIT_CONFIG_PARAMETERS": "'core.commitgraph'='false'",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "log.showRoot",
        "GIT_CONFIG_VALUE_0": "false",
        "GIT_TRACE": "1",
    }
    code, doc = scan(str(repo), env=env)
    assert code == 1, doc["errors"]
    assert _found(doc, key)[0]["commit"] == first


def _corrupt_pack_index(repo: Path) -> None:
    git(repo, "gc", "-q")
    (idx,) = (repo / ".git" / "objects" / "pack").glob("*.idx")
    data = idx.read_bytes()
    idx.chmod(0o644)
    idx.write_bytes(data[:100])


def test_corrupt_pack_index_without_connectivity_check_is_not_a_clean_scan(tmp_path: Path) -> None:
    repo, _, _, _ = _history_with_hidden_key(tmp_path)
    _corrupt_pack_index(repo)
    code, doc = scan(str(repo), "--no-connectivity-check")
    assert code == 3
    messages = " ".join(e["message"] for e in doc["errors"])
    assert "could not list every object" in messages and "packs" in messages


def test_pack_git_cannot_see_is_counted_against_count_objects(tmp_path: Path) -> None:
    """A pack without its index: git lists nothing of it and says nothing; the folder says otherwise."""
    repo, _, _, _ = _history_with_hidden_key(tmp_path)
    git(repo, "gc", "-q")
    (idx,) = (repo / ".git" / "objects" / "pack").glob("*.idx")
    idx.unlink()
    code, doc = scan(str(repo), "--no-connectivity-check")
    assert code == 3
    assert any("has no index" in e["message"] for e in doc["errors"])


def test_unreadable_loose_object_folder_is_an_error(tmp_path: Path) -> None:
    repo, _, first, _ = _history_with_hidden_key(tmp_path)
    folder = repo / ".git" / "objects" / first[:2]
    shutil.rmtree(folder)
    folder.write_bytes(b"not a folder")  # what an unreadable folder looks like to git: it cannot list it
    code, doc = scan(str(repo), "--no-connectivity-check")
    assert code == 3
    assert any(first[:2] in e["message"] for e in doc["errors"])


def test_hook_under_commit_all_reads_the_index_git_is_about_to_record(tmp_path: Path) -> None:
    """`git commit -a` runs the pre-commit hook with GIT_INDEX_FILE naming a temporary index:
    the one variable `staged` keeps on purpose (the key is not in .git/index at all)."""
    from tests.integration_helpers import SYSTEM_PATH, git_env, install_wvzscan_shim, run

    repo = init_repo(tmp_path / "work")
    commit_file(repo, "settings.py", "A = 1\n", "init")
    assert run_cli("install-hooks", cwd=repo).code == 0
    env = git_env(f"{install_wvzscan_shim(tmp_path / 'bin').parent}:{SYSTEM_PATH}")
    key = make_key()
    (repo / "settings.py").write_text(f"WEAVZ_API_KEY = '{key}'\n")
    p = run(["git", "commit", "-q", "-a", "-m", "commit -a"], repo, env)
    assert p.code == 1, p.out + p.err
    assert "settings.py" in p.out + p.err
    assert git(repo, "rev-list", "--count", "HEAD") == "1"
