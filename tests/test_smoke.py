from __future__ import annotations

from pathlib import Path

from tests.helpers import make_key, run_cli


def test_dir_finds_key_and_exits_1(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / ".env").write_text(f"WEAVZ_API_KEY={key}\n")
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["path"].endswith(".env") and f["line"] == 1 and f["column"] == 15
    assert key not in r.out + r.err


def test_clean_tree_exits_0(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("nothing here\n")
    assert run_cli("dir", str(tmp_path)).code == 0
