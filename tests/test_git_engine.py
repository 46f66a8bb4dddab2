"""The git source's promises across commands: SHA-256 repositories, --max-file-size in staged and
push, one meaning of at_head, located archive errors, gitlinks without .gitmodules."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

from tests.helpers import commit_file, git, make_key, run_cli


def _json(*args: str, cwd: Path | None = None, input: str | None = None) -> tuple[int, dict[str, Any]]:
    r = run_cli(*args, "--format", "json", cwd=cwd, input=input)
    assert r.code in (0, 1, 3), r.err
    return r.code, r.json()


def _sha256_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main", "--object-format=sha256")
    return path


def test_sha256_repository_repo_scan(tmp_path: Path) -> None:
    repo = _sha256_repo(tmp_path / "r")
    commit_file(repo, "README.md", "hello\n", "init")
    key = make_key()
    added = commit_file(repo, "app/.env", f"WEAVZ_API_KEY={key}\n", "add key")
    git(repo, "rm", "-q", "app/.env")
    git(repo, "commit", "-q", "-m", "remove")
    assert len(added) == 64
    code, doc = _json("repo", str(repo))
    assert code == 1 and not doc["errors"], doc["errors"]
    (f,) = doc["findings"]
    assert f["commit"] == added and f["path"] == "app/.env" and f["at_head"] is False
    code, doc = _json("repo", str(repo), "--range", f"{added}~1..HEAD")
    assert code == 1 and doc["findings"][0]["commit"] == added


def test_sha256_repository_staged_and_push(tmp_path: Path) -> None:
    repo = _sha256_repo(tmp_path / "r")
    first = commit_file(repo, "README.md", "hello\n", "init")
    key = make_key()
    (repo / "prod.env").write_text(f"WEAVZ_API_KEY={key}\n")
    git(repo, "add", "prod.env")
    code, doc = _json("staged", cwd=repo)
    assert code == 1 and doc["findings"][0]["path"] == "prod.env"
    git(repo, "commit", "-q", "-m", "add key")
    head = git(repo, "rev-parse", "HEAD")
    zeros = "0" * 64
    # A new branch (the remote has nothing: 64 zeros), then an update over the first commit.
    for remote_sha in (zeros, first):
        line = f"refs/heads/main {head} refs/heads/main {remote_sha}\n"
        code, doc = _json("push", cwd=repo, input=line)
        assert code == 1, doc["errors"]
        (f,) = doc["findings"]
        assert f["commit"] == head and f["path"] == "prod.env"
    # Deleting a branch (local sha all zeros) sends nothing.
    code, doc = _json("push", cwd=repo, input=f"(delete) {zeros} refs/heads/old {head}\n")
    assert code == 0 and not doc["findings"]


def _big(key: str) -> str:
    return f"WEAVZ_API_KEY={key}\n" + "x" * 5000 + "\n"


def test_max_file_size_is_a_counted_skip_in_staged_and_push(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit_file(repo, "README.md", "hello\n", "init")
    key = make_key()
    (repo / "big.env").write_text(_big(key))
    git(repo, "add", "big.env")
    code, doc = _json("staged", "--max-file-size", "1000", cwd=repo)
    assert code == 0 and doc["stats"]["skipped"] == {"blob over max_file_size": 1}
    code, doc = _json("staged", cwd=repo)
    assert code == 1  # no limit set: read
    git(repo, "commit", "-q", "-m", "big")
    head = git(repo, "rev-parse", "HEAD")
    line = f"refs/heads/main {head} refs/heads/main {first}\n"
    code, doc = _json("push", "--max-file-size", "1000", cwd=repo, input=line)
    assert code == 0 and doc["stats"]["skipped"] == {"blob over max_file_size": 1}
    code, doc = _json("repo", str(repo), "--range", f"{first}..HEAD", "--max-file-size", "1000")
    assert code == 0 and doc["stats"]["skipped"] == {"blob over max_file_size": 1}
    code, doc = _json("push", cwd=repo, input=line)
    assert code == 1


def test_at_head_is_the_same_for_repo_and_range_after_a_rename(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    base = commit_file(repo, "README.md", "hello\n", "init")
    key = make_key()
    added = commit_file(repo, "a.env", f"WEAVZ_API_KEY={key}\n", "add key")
    git(repo, "mv", "a.env", "b.env")
    git(repo, "commit", "-q", "-m", "rename")
    _, whole = _json("repo", str(repo))
    _, ranged = _json("repo", str(repo), "--range", f"{base}..HEAD")
    (fw,) = whole["findings"]
    (fr,) = ranged["findings"]
    assert fw["commit"] == fr["commit"] == added and fw["path"] == fr["path"] == "a.env"
    assert fw["at_head"] is True and fr["at_head"] is True
    # Moved again with an edit, and the key kept: still somewhere in HEAD's tree.
    (repo / "b.env").unlink()
    (repo / "c" / "d").mkdir(parents=True)
    (repo / "c" / "d" / "e.txt").write_text(f"# moved\nWEAVZ_API_KEY={key}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "move and edit")
    _, ranged = _json("repo", str(repo), "--range", f"{base}..HEAD")
    assert all(f["at_head"] is True for f in ranged["findings"])
    # Deleted everywhere: no longer at HEAD.
    git(repo, "rm", "-q", "c/d/e.txt")
    git(repo, "commit", "-q", "-m", "delete")
    _, whole = _json("repo", str(repo))
    _, ranged = _json("repo", str(repo), "--range", f"{base}..HEAD")
    assert {f["at_head"] for f in whole["findings"]} == {f["at_head"] for f in ranged["findings"]} == {False}


def _bad_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("a.txt")
        info.size = 5
        t.addfile(info, io.BytesIO(b"hello"))
    data = bytearray(buf.getvalue())
    data[148:156] = b"0000000\x00"  # a wrong header checksum: "cannot read tar archive"
    return bytes(data)


def test_archive_errors_in_history_name_path_blob_and_commit(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    base = commit_file(repo, "README.md", "hello\n", "init")
    added = commit_file(repo, "backups/bad.tar", _bad_tar(), "add a broken tar")
    blob = git(repo, "rev-parse", "HEAD:backups/bad.tar")
    # A whole-history scan names the path and blob from its connectivity walk (finding the commit
    # too would walk the whole history again: seconds on a large repository, for no key); a range
    # scan reads its commits anyway and names the commit as well.
    for args, commit_known in ((("repo", str(repo)), False), (("repo", str(repo), "--range", f"{base}..HEAD"), True)):
        code, doc = _json(*args)
        assert code == 3
        (e,) = doc["errors"]
        assert e["message"].startswith("cannot read tar archive")
        assert e["where"].startswith("backups/bad.tar") and blob in e["where"], e
        assert (added in e["where"]) == commit_known, e
    # With a key found in the same history, attribution walks the history anyway: the commit is named.
    commit_file(repo, "k.env", f"K={make_key()}\n", "a key")
    code, doc = _json("repo", str(repo))
    assert code == 1
    (e,) = doc["errors"]
    assert e["where"].startswith("backups/bad.tar") and blob in e["where"] and added in e["where"], e
    (repo / "more.tar").write_bytes(_bad_tar() + b"\0")
    git(repo, "add", "more.tar")
    code, doc = _json("staged", cwd=repo)
    assert code == 3
    (e,) = doc["errors"]
    assert e["where"].startswith("more.tar") and "blob " in e["where"]


def test_gitlink_without_gitmodules_gets_the_submodule_note(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_file(repo, "README.md", "hello\n", "init")
    fake = "1" * 40
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{fake},vendor/lib")
    git(repo, "commit", "-q", "-m", "a gitlink, no .gitmodules")
    code, doc = _json("repo", str(repo))
    assert code == 0
    assert any("submodules are not entered" in n for n in doc["notes"])
