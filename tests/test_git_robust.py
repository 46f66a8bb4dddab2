"""Broken, odd and partial repositories: each gives a clear answer, never a false "clean"."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.helpers import commit_file, git, init_repo, make_key, run_cli


def test_not_a_repository_is_exit_2(tmp_path: Path) -> None:
    r = run_cli("repo", str(tmp_path))
    assert r.code == 2 and "not a git repository" in r.err and "Traceback" not in r.err
    r = run_cli("repo", str(tmp_path / "missing"))
    assert r.code == 2


def test_empty_and_bare_repositories(tmp_path: Path) -> None:
    empty = init_repo(tmp_path / "empty")
    r = run_cli("repo", str(empty), "--format", "json")
    assert r.code == 0 and r.json()["findings"] == [] and r.json()["errors"] == []
    src = init_repo(tmp_path / "src")
    key = make_key()
    c = commit_file(src, "a.env", f"K={key}\n", "add")
    git(tmp_path, "clone", "-q", "--bare", str(src), "bare.git")
    r = run_cli("repo", str(tmp_path / "bare.git"), "--format", "json")
    assert r.code == 1 and r.json()["findings"][0]["commit"] == c
    git(tmp_path, "init", "-q", "--bare", "empty-bare.git")
    assert run_cli("repo", str(tmp_path / "empty-bare.git")).code == 0


def test_shallow_clone_scans_what_is_there_and_says_so(tmp_path: Path) -> None:
    src = init_repo(tmp_path / "src")
    old, new = make_key(), make_key()
    commit_file(src, "a.env", f"K={old}\n", "old")
    commit_file(src, "a.env", "K=\n", "gone")
    c3 = commit_file(src, "b.env", f"K={new}\n", "new")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{src}", "shallow")
    r = run_cli("repo", str(tmp_path / "shallow"), "--format", "json")
    doc = r.json()
    assert r.code == 1 and [f["commit"] for f in doc["findings"]] == [c3]
    assert any("shallow" in n and "fetch-depth: 0" in n for n in doc["notes"])
    # A range whose base is not in the shallow clone: scan what is there, fail closed, say what to change.
    first = git(src, "rev-list", "--max-parents=0", "HEAD")
    r = run_cli("repo", str(tmp_path / "shallow"), "--format", "json", "--range", f"{first}..HEAD")
    assert r.code == 1 and "fetch-depth: 0" in r.json()["errors"][0]["message"]
    (tmp_path / "shallow" / "b.env").write_text("K=\n")
    git(tmp_path / "shallow", "commit", "-q", "-am", "drop")
    r = run_cli("repo", str(tmp_path / "shallow"), "--format", "json", "--range", f"{first}..HEAD")
    assert r.code == 1  # the key added in the shallow boundary commit is still found
    git(tmp_path / "shallow", "commit", "-q", "--allow-empty", "-m", "empty")
    r = run_cli("repo", str(tmp_path / "shallow"), "--format", "json", "--range", f"{first}..HEAD~2")
    assert r.code == 1


def _loose_path(repo: Path, oid: str) -> Path:
    return repo / ".git" / "objects" / oid[:2] / oid[2:]


def test_missing_loose_object_is_an_error_and_the_rest_is_scanned(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "gone.txt", "this blob will vanish\n", "one")
    key = make_key()
    c = commit_file(repo, "keep.env", f"K={key}\n", "two")
    gone = git(repo, "rev-parse", "HEAD:gone.txt")
    _loose_path(repo, gone).unlink()
    r = run_cli("repo", str(repo), "--format", "json")
    doc = r.json()
    assert r.code == 1 and doc["findings"][0]["commit"] == c
    assert [e["where"] for e in doc["errors"]] == [f"git object {gone}"]
    other = init_repo(tmp_path / "o")
    commit_file(other, "x.txt", "nothing\n", "one")
    _loose_path(other, git(other, "rev-parse", "HEAD:x.txt")).unlink()
    r = run_cli("repo", str(other), "--format", "json")
    assert r.code == 3 and len(r.json()["errors"]) == 1
    assert run_cli("repo", str(other), "--allow-incomplete").code == 0


def test_corrupt_object_costs_one_error_not_the_scan(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    for i in range(30):
        commit_file(repo, f"f{i}.txt", f"file {i}\n" * 50, f"c{i}")
    key = make_key()
    c = commit_file(repo, "z.env", f"K={key}\n", "key")
    bad = git(repo, "rev-parse", "HEAD~5:f10.txt")
    p = _loose_path(repo, bad)
    p.chmod(0o644)
    data = bytearray(p.read_bytes())
    data[10:20] = b"\xff" * 10
    p.write_bytes(bytes(data))
    r = run_cli("repo", str(repo), "--format", "json")
    doc = r.json()
    assert r.code == 1 and [f["commit"] for f in doc["findings"]] == [c]
    assert any(bad in e["where"] for e in doc["errors"])
    assert doc["stats"]["objects_scanned"] >= 60


def test_partial_clone_counts_every_missing_blob(tmp_path: Path) -> None:
    src = init_repo(tmp_path / "src")
    git(src, "config", "uploadpack.allowFilter", "true")
    for i in range(3):
        commit_file(src, f"f{i}.txt", f"content {i}\n", f"c{i}")
    commit_file(src, "f0.txt", "changed\n", "c3")
    git(tmp_path, "clone", "-q", "--bare", "--filter=blob:none", f"file://{src}", "partial.git")
    r = run_cli("repo", str(tmp_path / "partial.git"), "--format", "json")
    doc = r.json()
    assert r.code == 3
    assert len(doc["errors"]) == 4 and all("missing" in e["message"] for e in doc["errors"])
    assert any("partial clone" in n for n in doc["notes"])


def test_submodules_are_not_entered_and_that_is_said(tmp_path: Path) -> None:
    sub = init_repo(tmp_path / "sub")
    commit_file(sub, "s.txt", f"{make_key()}\n", "sub")
    main = init_repo(tmp_path / "main")
    commit_file(main, "a.txt", "a\n", "init")
    git(main, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendor/sub")
    git(main, "commit", "-q", "-m", "add submodule")
    r = run_cli("repo", str(main), "--format", "json")
    assert r.code == 0 and any("submodules are not entered" in n for n in r.json()["notes"])


def test_big_blob_is_scanned(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    blob = (b"0123456789abcdef" * 4096 + b"\n") * 300 + f"K={key}\n".encode()  # ~20 MB
    c = commit_file(repo, "big.bin", blob, "big")
    r = run_cli("repo", str(repo), "--format", "json")
    (f,) = r.json()["findings"]
    assert r.code == 1 and f["commit"] == c and f["line"] == 301
    r = run_cli("repo", str(repo), "--format", "json", "--max-file-size", "1000000")
    assert r.code == 0 and r.json()["stats"]["skipped"] == {"blob over max_file_size": 1}


def test_safe_directory_refusal_is_explained(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("chown") is None:
        import pytest

        pytest.skip("needs root to give the repository to another user")
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "a.txt", "a\n", "init")
    subprocess.run(["chown", "-R", "nobody", str(repo)], check=True)
    r = run_cli("repo", str(repo))
    assert r.code == 2 and "safe.directory" in r.err and str(repo) in r.err
    r = run_cli("staged", cwd=repo)
    assert r.code == 2 and "safe.directory" in r.err


def test_corrupt_packed_object_restarts_the_reader_after_it(tmp_path: Path) -> None:
    import base64

    repo = init_repo(tmp_path / "r")
    for i in range(40):
        commit_file(repo, f"f{i}.txt", base64.b64encode(os.urandom(3000)).decode(), f"c{i}")
    key = make_key()
    c = commit_file(repo, "z.env", f"K={key}\n", "key")
    git(repo, "repack", "-adq")
    bad = git(repo, "rev-parse", "HEAD~9:f30.txt")
    (pack,) = (repo / ".git" / "objects" / "pack").glob("*.pack")
    rows = git(repo, "verify-pack", "-v", str(pack.with_suffix(".idx"))).splitlines()
    offset = next(int(r.split()[4]) for r in rows if r.startswith(bad))
    pack.chmod(0o644)
    with open(pack, "r+b") as f:
        f.seek(offset + 20)
        f.write(b"\0" * 8)
    r = run_cli("repo", str(repo), "--format", "json")
    doc = r.json()
    assert r.code == 1 and [f["commit"] for f in doc["findings"]] == [c]
    assert [e["where"] for e in doc["errors"]] == [f"git object {bad}"]
    assert doc["stats"]["objects_scanned"] == 2 * 41 - 1  # every other blob and commit was read


def test_connectivity_check_can_be_skipped_and_says_so(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "x.txt", "nothing\n", "one")
    _loose_path(repo, git(repo, "rev-parse", "HEAD:x.txt")).unlink()
    r = run_cli("repo", str(repo), "--format", "json", "--no-connectivity-check")
    assert r.code == 0 and any("connectivity check skipped" in n for n in r.json()["notes"])


def test_run_from_inside_the_git_directory_or_a_linked_worktree(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    c = commit_file(repo, "a.env", f"K={key}\n", "add")
    for where in (repo / ".git", repo / ".git" / "refs"):
        r = run_cli("repo", "--format", "json", cwd=where)
        assert r.code == 1 and [f["commit"] for f in r.json()["findings"]] == [c], r.err
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "other")
    (tmp_path / "wt" / "b.env").write_text(f"K2={make_key()}\n")
    git(tmp_path / "wt", "add", "b.env")
    r = run_cli("staged", "--format", "json", cwd=tmp_path / "wt")
    assert r.code == 1 and [f["path"] for f in r.json()["findings"]] == ["b.env"], r.err
    r = run_cli("repo", "--format", "json", cwd=tmp_path / "wt")
    assert r.code == 1 and [f["commit"] for f in r.json()["findings"]] == [c], r.err


def test_explicit_path_wins_over_git_dir_in_the_environment(tmp_path: Path) -> None:
    key = make_key()
    target = init_repo(tmp_path / "target")
    commit_file(target, "k.env", f"K={key}\n", "add key")
    other = init_repo(tmp_path / "other")
    commit_file(other, "a.txt", "nothing\n", "init")
    r = run_cli("repo", str(target), "--format", "json", env={"GIT_DIR": str(other / ".git")})
    assert r.code == 1, r.err
    assert [f["path"] for f in r.json()["findings"]] == ["k.env"]
