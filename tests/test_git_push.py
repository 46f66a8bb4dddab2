"""``wvzscan push`` against a real bare remote: the commits a push sends, nothing more."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_file, git, init_repo, make_key, run_cli

ZERO = "0" * 40


def setup(tmp_path: Path) -> tuple[Path, str]:
    git(tmp_path, "init", "-q", "--bare", "-b", "main", "remote.git")
    repo = init_repo(tmp_path / "work")
    git(repo, "remote", "add", "origin", str(tmp_path / "remote.git"))
    old_key = make_key()
    commit_file(repo, "old.env", f"K={old_key}\n", "already public")
    git(repo, "push", "-q", "origin", "main")
    return repo, git(repo, "rev-parse", "HEAD")


def push(repo: Path, stdin: str, env: dict[str, str] | None = None) -> tuple[int, list[dict[str, object]]]:
    r = run_cli("push", "origin", "url", "--format", "json", cwd=repo, input=stdin, env=env)
    assert r.code in (0, 1), r.err
    return r.code, r.json()["findings"]


def test_update_of_an_existing_branch(tmp_path: Path) -> None:
    repo, remote_sha = setup(tmp_path)
    assert push(repo, "")[0] == 0
    key = make_key()
    c = commit_file(repo, "new.py", f'K = "{key}"\n', "new")
    line = f"refs/heads/main {c} refs/heads/main {remote_sha}\n"
    code, found = push(repo, line)
    assert code == 1 and [(f["commit"], f["path"], f["source"]) for f in found] == [(c, "new.py", "push")]


def test_new_branch_scans_only_commits_no_remote_has(tmp_path: Path) -> None:
    repo, _ = setup(tmp_path)
    git(repo, "checkout", "-q", "-b", "feature")
    key = make_key()
    c = commit_file(repo, "f.txt", f"{key}\n", "feature")
    code, found = push(repo, f"refs/heads/feature {c} refs/heads/feature {ZERO}\n")
    assert code == 1 and [f["commit"] for f in found] == [c]  # not the already-pushed old.env


def test_deleted_branch_sends_nothing(tmp_path: Path) -> None:
    repo, remote_sha = setup(tmp_path)
    assert push(repo, f"(delete) {ZERO} refs/heads/gone {remote_sha}\n") == (0, [])


def test_force_push_after_rewrite(tmp_path: Path) -> None:
    repo, _ = setup(tmp_path)
    c1 = commit_file(repo, "a.txt", "a\n", "clean")
    git(repo, "push", "-q", "origin", "main")
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    key = make_key()
    c2 = commit_file(repo, "b.txt", f"{key}\n", "rewritten")
    code, found = push(repo, f"refs/heads/main {c2} refs/heads/main {c1}\n")
    assert code == 1 and [f["commit"] for f in found] == [c2]
    # The remote moved on to a commit we never fetched: scan what is not on any remote.
    unknown = "1234567" * 5 + "12345"
    code, found = push(repo, f"refs/heads/main {c2} refs/heads/main {unknown}\n")
    assert code == 1 and [f["commit"] for f in found] == [c2]


def test_pre_commit_framework_refs(tmp_path: Path) -> None:
    repo, base = setup(tmp_path)
    key = make_key()
    c = commit_file(repo, "x.txt", f"{key}\n", "x")
    env = {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": c}
    code, found = push(repo, "", env=env)
    assert code == 1 and [f["commit"] for f in found] == [c]


def test_malformed_line_is_exit_2(tmp_path: Path) -> None:
    repo, _ = setup(tmp_path)
    r = run_cli("push", cwd=repo, input="garbage\n")
    assert r.code == 2 and "expected" in r.err


def test_pushed_annotated_tags_have_their_messages_scanned(tmp_path: Path) -> None:
    repo, base = setup(tmp_path)
    k_tag, k_inner = make_key(), make_key()
    git(repo, "tag", "-a", "v1", "-m", f"release notes\n{k_tag}")  # on the already-pushed commit
    git(repo, "tag", "-a", "inner", "-m", f"inner {k_inner}", base)
    git(repo, "tag", "-a", "v2", "-m", "outer", "inner")
    v1, v2 = git(repo, "rev-parse", "v1"), git(repo, "rev-parse", "v2")
    lines = f"refs/tags/v1 {v1} refs/tags/v1 {ZERO}\r\nrefs/tags/v2 {v2} refs/tags/v2 {ZERO}  \n"
    code, found = push(repo, lines)
    got = sorted(str((f["key_prefix"], f["ref"], f["commit"], f["line"])) for f in found)
    assert code == 1
    assert got == sorted(str(t) for t in [(k_tag[:8], "refs/tags/v1", base, 2), (k_inner[:8], "refs/tags/v2", base, 1)])
    env = {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": v1, "PRE_COMMIT_REMOTE_BRANCH": "refs/tags/v1"}
    code, found = push(repo, "", env=env)
    assert code == 1 and [(f["key_prefix"], f["ref"]) for f in found] == [(k_tag[:8], "refs/tags/v1")]
