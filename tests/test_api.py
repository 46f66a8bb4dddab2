"""The Python API, driven in-process: scans return typed results and never exit the process."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.helpers import commit_file, git, init_repo, make_key
from wvzscan import api
from wvzscan.errors import WvzscanError
from wvzscan.options import ScanOptions


def test_scan_paths_finds_a_key_and_computes_the_exit_code(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "app.env").write_text(f"WEAVZ_API_KEY={key}\n")
    (tmp_path / "clean.txt").write_text("nothing here\n")
    result = api.scan_paths([str(tmp_path)])
    assert [(f.secret, f.path, f.line, f.source) for f in result.findings] == [
        (key, str(tmp_path / "app.env"), 1, "file")
    ]
    assert result.errors == []
    assert result.objects_scanned == 2
    assert result.exit_code() == 1
    assert result.exit_code(fail_on="none") == 0


def test_scan_paths_reads_stdin_within_the_size_limit() -> None:
    key = make_key()
    data = f"token {key}\n".encode()
    result = api.scan_paths(["-"], stdin=io.BytesIO(data))
    assert [(f.secret, f.source) for f in result.findings] == [(key, "stdin")]
    small = api.scan_paths(["-"], ScanOptions(max_file_size=256), stdin=io.BytesIO(data + b"x" * 256))
    assert small.findings == [] and small.skipped["over max_file_size"] == 1


def test_a_missing_path_raises_instead_of_exiting(tmp_path: Path) -> None:
    with pytest.raises(WvzscanError, match="no such file or directory"):
        api.scan_paths([str(tmp_path / "nope")])
    with pytest.raises(WvzscanError, match="standard input"):
        api.scan_paths(["-"])


def test_content_that_cannot_be_read_makes_the_result_incomplete(tmp_path: Path) -> None:
    (tmp_path / "broken.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"not really gzip" * 4)
    result = api.scan_paths([str(tmp_path)])
    assert result.findings == [] and result.errors
    assert result.exit_code() == 3 and result.exit_code(allow_incomplete=True) == 0


def test_inline_allow_and_options_are_typed_and_honoured(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "a.py").write_text(f'K = "{key}"  # wvzscan:allow test fixture\n')
    assert api.scan_paths([str(tmp_path)]).findings == []
    assert len(api.scan_paths([str(tmp_path)], ScanOptions(inline_allow=False)).findings) == 1
    assert api.scan_paths([str(tmp_path)], ScanOptions(exclude=("*.py",))).skipped["excluded"] == 1


def _history(tmp_path: Path) -> tuple[Path, str, str, str]:
    repo = init_repo(tmp_path / "r")
    old, new = make_key(), make_key()
    first = commit_file(repo, "a.env", f"K={old}\n", "add a key")
    commit_file(repo, "a.env", "K=\n", "remove it")
    commit_file(repo, "b.env", f"K={new}\n", "another")
    return repo, first, old, new


def test_scan_repository_whole_history_and_narrowed(tmp_path: Path) -> None:
    repo, first, old, new = _history(tmp_path)
    whole = api.scan_repository(str(repo))
    by_key = {f.secret: f for f in whole.findings}
    assert set(by_key) == {old, new}
    assert by_key[old].commit == first and by_key[old].path == "a.env" and by_key[old].source == "git"
    narrowed = api.scan_repository(str(repo), range=f"{first}..HEAD")
    assert {f.secret for f in narrowed.findings} == {new}
    since = api.scan_repository(str(repo), since=first)
    assert {f.secret for f in since.findings} == {new}
    with pytest.raises(WvzscanError, match="--range expects A..B"):
        api.scan_repository(str(repo), range="HEAD")
    with pytest.raises(WvzscanError, match="does not go with"):
        api.scan_repository(str(repo), since=first, include_unreachable=True)


def test_scan_repository_of_a_file_url_clones_and_cleans_up(tmp_path: Path) -> None:
    repo, _, old, new = _history(tmp_path)
    result = api.scan_repository(f"file://{repo}")
    assert {f.secret for f in result.findings} == {old, new}


def test_scan_repository_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(WvzscanError):
        api.scan_repository(str(tmp_path))


def test_scan_index_sees_only_what_is_staged(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "README", "hi\n", "init")
    staged, unstaged = make_key(), make_key()
    (repo / "s.env").write_text(f"K={staged}\n")
    git(repo, "add", "s.env")
    (repo / "u.env").write_text(f"K={unstaged}\n")
    result = api.scan_index(str(repo))
    assert [(f.secret, f.path, f.source) for f in result.findings] == [(staged, "s.env", "staged")]


def test_scan_push_reads_hook_lines(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    base = commit_file(repo, "README", "hi\n", "init")
    key = make_key()
    head = commit_file(repo, "k.env", f"K={key}\n", "key")
    zeros = "0" * len(head)
    line = f"refs/heads/main {head} refs/heads/main {base}"
    pushed = api.scan_push(str(repo), hook_lines=[line])
    assert [(f.secret, f.source) for f in pushed.findings] == [(key, "push")]
    assert api.scan_push(str(repo), hook_lines=[]).findings == []  # a push that sends nothing
    deleted = api.scan_push(str(repo), hook_lines=[f"(delete) {zeros} refs/heads/x {head}"])
    assert deleted.findings == []
    with pytest.raises(WvzscanError, match="stdin line 1"):
        api.scan_push(str(repo), hook_lines=["garbage"])
