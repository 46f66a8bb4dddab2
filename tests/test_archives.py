"""Archives and SQLite databases, opened in memory, through the real CLI (`wvzscan dir`)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import sqlite3
import tarfile
import zipfile
from pathlib import Path

from tests.helpers import commit_file, init_repo, make_key, run_cli


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _tar(members: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _env(key: str) -> bytes:
    return f"# settings\nWEAVZ_API_KEY={key}\n".encode()


def _findings(r: object, root: Path) -> dict[str, dict[str, object]]:
    out = {}
    for f in r.json()["findings"]:  # type: ignore[attr-defined]
        path = str(f["path"]).removeprefix(str(root) + "/")
        assert path not in out, f"reported twice: {path}"
        out[path] = f
    return out


def test_every_archive_type_and_nesting(tmp_path: Path) -> None:
    keys = {}

    def key(name: str) -> str:
        keys[name] = make_key()
        return keys[name]

    (tmp_path / "deflated.zip").write_bytes(_zip({"conf/.env": _env(key("deflated.zip!conf/.env"))}))
    stored = _zip({"a.txt": _env(key("stored.zip!a.txt"))}, zipfile.ZIP_STORED)
    (tmp_path / "stored.zip").write_bytes(stored)
    (tmp_path / "lib.jar").write_bytes(_zip({"META-INF/app.properties": _env(key("lib.jar!META-INF/app.properties"))}))
    (tmp_path / "no-extension").write_bytes(_zip({"x/.env": _env(key("no-extension!x/.env"))}))
    (tmp_path / "plain.tar").write_bytes(_tar({"etc/.env": _env(key("plain.tar!etc/.env"))}))
    for ext, mode in (("tar.gz", "w:gz"), ("tar.bz2", "w:bz2"), ("tar.xz", "w:xz")):
        name = f"t.{ext}"
        (tmp_path / name).write_bytes(_tar({"c/.env": _env(key(f"{name}!c/.env"))}, mode))
    (tmp_path / "app.log.gz").write_bytes(gzip.compress(_env(key("app.log.gz!app.log"))))
    (tmp_path / "app.log.bz2").write_bytes(bz2.compress(_env(key("app.log.bz2!app.log"))))
    (tmp_path / "app.log.xz").write_bytes(lzma.compress(_env(key("app.log.xz!app.log"))))
    inner = _tar({"c/.env": _env(key("a.zip!b.tar.gz!c/.env"))}, "w:gz")
    (tmp_path / "a.zip").write_bytes(_zip({"b.tar.gz": inner}))
    r = run_cli("dir", str(tmp_path), "--format", "json", "--show-secrets")
    assert r.code == 1, r.err
    got = _findings(r, tmp_path)
    assert {p: f["secret"] for p, f in got.items()} == keys
    assert all(f["line"] == 2 and f["column"] == 15 for f in got.values())
    assert r.json()["errors"] == [] and r.json()["stats"]["skipped"] == {}


def test_gzip_header_name_and_concatenated_streams(tmp_path: Path) -> None:
    k1, k2 = make_key(), make_key()
    buf = io.BytesIO()
    with gzip.GzipFile("secrets.txt", "wb", fileobj=buf) as g:
        g.write(_env(k1))
    (tmp_path / "x.gz").write_bytes(buf.getvalue() + gzip.compress(_env(k2)))
    r = run_cli("dir", str(tmp_path), "--format", "json", "--show-secrets")
    assert r.code == 1, r.err
    assert sorted((f["path"].rsplit("/", 1)[-1], f["line"]) for f in r.json()["findings"]) == [
        ("x.gz!secrets.txt", 2),
        ("x.gz!secrets.txt", 4),
    ]


def _limit_run(tmp_path: Path, config: str, *args: str) -> tuple[object, object]:
    (tmp_path / ".wvzscan.toml").write_text(config)
    return run_cli("dir", str(tmp_path), "--format", "json", *args), run_cli("dir", str(tmp_path), *args)


def test_depth_limit_is_a_counted_skip(tmp_path: Path) -> None:
    k = make_key()
    level3 = _zip({"deep/.env": _env(k)})
    (tmp_path / "outer.zip").write_bytes(_zip({"mid.zip": _zip({"inner.zip": level3})}))
    r, text = _limit_run(tmp_path, "archive_depth = 2\n")
    assert r.code == 0, r.err  # type: ignore[attr-defined]
    doc = r.json()  # type: ignore[attr-defined]
    assert doc["findings"] == []
    assert doc["stats"]["skipped"] == {"archive nested deeper than archive_depth": 1}
    assert any("outer.zip!mid.zip!inner.zip" in n for n in doc["notes"])
    assert "skipped 1 archive nested deeper than archive_depth" in text.out  # type: ignore[attr-defined]
    (tmp_path / ".wvzscan.toml").write_text("archive_depth = 3\n")
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 1 and r.json()["findings"][0]["path"].endswith("outer.zip!mid.zip!inner.zip!deep/.env")


def test_bytes_limit_is_a_counted_skip(tmp_path: Path) -> None:
    k = make_key()
    (tmp_path / "big.zip").write_bytes(_zip({"pad.bin": os.urandom(300_000), "z/.env": _env(k)}))
    r, text = _limit_run(tmp_path, "archive_max_bytes = 200000\n")
    doc = r.json()  # type: ignore[attr-defined]
    assert r.code == 1  # type: ignore[attr-defined]
    assert doc["stats"]["skipped"] == {"archive content over archive_max_bytes": 1}
    assert [f["path"] for f in doc["findings"]] == [f"{tmp_path}/big.zip!z/.env"]
    assert "skipped 1 archive content over archive_max_bytes" in text.out  # type: ignore[attr-defined]


def test_ratio_limit_stops_a_bomb(tmp_path: Path) -> None:
    k = make_key()
    bomb = b"\0" * (8 * 1024 * 1024) + _env(k)
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(bomb, 9))
    (tmp_path / "bomb.zip").write_bytes(_zip({"zeros": bomb}))
    r, text = _limit_run(tmp_path, "archive_max_ratio = 100\n")
    doc = r.json()  # type: ignore[attr-defined]
    assert r.code == 0, r.err  # type: ignore[attr-defined]
    assert doc["findings"] == [] and doc["errors"] == []
    assert doc["stats"]["skipped"] == {"archive member over archive_max_ratio": 2}
    assert "skipped 2 archive member over archive_max_ratio" in text.out  # type: ignore[attr-defined]
    (tmp_path / ".wvzscan.toml").write_text("archive_max_ratio = 100000\n")
    assert run_cli("dir", str(tmp_path)).code == 1


def test_entries_limit_is_a_counted_skip(tmp_path: Path) -> None:
    k = make_key()
    members = {f"f{i}.txt": b"nothing\n" for i in range(5)}
    members["z.env"] = _env(k)
    (tmp_path / "many.zip").write_bytes(_zip(members))
    r, _ = _limit_run(tmp_path, "archive_max_entries = 3\n")
    doc = r.json()  # type: ignore[attr-defined]
    assert r.code == 0 and doc["findings"] == []  # type: ignore[attr-defined]
    assert doc["stats"]["skipped"] == {"archive entries over archive_max_entries": 1}
    assert any("only the first 3 of 6 entries" in n for n in doc["notes"])


def test_bad_limit_settings_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / ".wvzscan.toml").write_text("archive_max_ratio = 0\n")
    r = run_cli("dir", str(tmp_path))
    assert r.code == 2 and "archive_max_ratio must be a positive whole number" in r.err


def _encrypted_zip(data: bytes) -> bytes:
    """A zip whose member says it is encrypted (zipfile cannot write encrypted archives)."""
    raw = bytearray(_zip({"secret.txt": data}, zipfile.ZIP_STORED))
    raw[6] |= 0x1  # local header flags
    cd = raw.find(b"PK\x01\x02")
    raw[cd + 8] |= 0x1  # central directory flags
    return bytes(raw)


def test_encrypted_member_is_a_counted_skip(tmp_path: Path) -> None:
    (tmp_path / "locked.zip").write_bytes(_encrypted_zip(b"x" * 200))
    r, text = _limit_run(tmp_path, "")
    doc = r.json()  # type: ignore[attr-defined]
    assert r.code == 0 and doc["errors"] == []  # type: ignore[attr-defined]
    assert doc["stats"]["skipped"] == {"encrypted archive member": 1}
    assert any("locked.zip!secret.txt: encrypted" in n for n in doc["notes"])
    assert "skipped 1 encrypted archive member" in text.out  # type: ignore[attr-defined]


def test_corrupt_archives_are_errors_exit_3(tmp_path: Path) -> None:
    good = _zip({"a/.env": b"nothing\n" * 50})
    (tmp_path / "cut.zip").write_bytes(good[: len(good) // 2])
    (tmp_path / "cut.gz").write_bytes(gzip.compress(b"hello world\n" * 1000)[:40])
    crc = bytearray(_zip({"a.txt": b"hello\n" * 100}, zipfile.ZIP_STORED))
    crc[40] ^= 0xFF  # a byte of the stored member: the CRC no longer matches
    (tmp_path / "crc.zip").write_bytes(bytes(crc))
    r, text = _limit_run(tmp_path, "")
    doc = r.json()  # type: ignore[attr-defined]
    assert r.code == 3, r.err  # type: ignore[attr-defined]
    where = sorted(e["where"].rsplit("/", 1)[-1] for e in doc["errors"])
    assert where == ["crc.zip!a.txt", "cut.gz", "cut.zip"]
    assert "3 could not be read or checked (scan incomplete)" in text.out  # type: ignore[attr-defined]
    assert "Traceback" not in r.err  # type: ignore[attr-defined]


def test_sqlite_cells_are_scanned_one_by_one(tmp_path: Path) -> None:
    k1, k2, k3 = make_key(), make_key(), make_key()
    db = tmp_path / "app.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE tokens (name TEXT, token TEXT, note TEXT)")
    # In the file the cells sit back to back: `token` is glued to `note` (body characters).
    con.execute("INSERT INTO tokens VALUES ('ci', ?, 'abcdef')", (k1,))
    con.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
    con.execute("INSERT INTO blobs VALUES (7, ?)", (b"\x00\x01" + k2.encode() + b"\x00",))
    con.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
    con.execute("INSERT INTO kv VALUES ('weavz', ?)", (k3 + "xyz",))
    con.commit()
    con.close()
    r = run_cli("dir", str(tmp_path), "--format", "json", "--show-secrets")
    assert r.code == 1, r.err
    got = {p: f["secret"] for p, f in _findings(r, tmp_path).items()}
    assert got == {"app.db!tokens/1/token": k1, "app.db!blobs/7/data": k2, "app.db!kv/1/v": k3 + "xyz"}


def test_sqlite_in_wal_mode_and_inside_a_zip(tmp_path: Path) -> None:
    k = make_key()
    work = tmp_path / "work"
    work.mkdir()
    con = sqlite3.connect(work / "wal.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (v TEXT)")
    con.execute("INSERT INTO t VALUES (?)", (k + "tail",))
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    scan = tmp_path / "scan"
    scan.mkdir()
    (scan / "backup.zip").write_bytes(_zip({"data/wal.db": (work / "wal.db").read_bytes()}))
    r = run_cli("dir", str(scan), "--format", "json", "--show-secrets")
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["path"].endswith("backup.zip!data/wal.db!t/1/v") and f["secret"] == k + "tail"


def test_corrupt_sqlite_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "bad.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 3, r.err
    (e,) = r.json()["errors"]
    assert e["where"].endswith("bad.db") and e["message"].startswith("cannot read sqlite archive:")


def test_nothing_is_written_to_disk(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    k = make_key()
    con = sqlite3.connect(tree / "app.db")
    con.execute("CREATE TABLE t (v TEXT)")
    con.execute("INSERT INTO t VALUES (?)", (k,))
    con.commit()
    con.close()
    db = (tree / "app.db").read_bytes()
    (tree / "all.zip").write_bytes(_zip({"a.tar.gz": _tar({"db/app.db": db, ".env": _env(k)}, "w:gz")}))
    (tree / "x.xz").write_bytes(lzma.compress(_zip({"in.db": db})))
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in tree.rglob("*")}
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    os.chmod(tree, 0o555)  # a write into the tree would fail loudly
    try:
        r = run_cli("dir", str(tree), "--format", "json", env={"TMPDIR": str(tmp)})
    finally:
        os.chmod(tree, 0o755)
    assert r.code == 1, r.err
    assert sorted(f["path"].removeprefix(f"{tree}/") for f in r.json()["findings"]) == [
        "all.zip!a.tar.gz!.env",
        "all.zip!a.tar.gz!db/app.db!t/1/v",
        "app.db!t/1/v",
        "x.xz!x!in.db!t/1/v",
    ]
    assert list(tmp.iterdir()) == []
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in tree.rglob("*")} == before


def test_key_in_a_zip_committed_to_git_is_found(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    k = make_key()
    commit_file(repo, "dist/bundle.zip", _zip({"config/.env": _env(k)}), "add bundle")
    commit_file(repo, "dist/bundle.zip", _zip({"config/.env": b"clean\n"}), "remove the key")
    r = run_cli("repo", str(repo), "--format", "json", "--show-secrets")
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["secret"] == k and f["path"] == "dist/bundle.zip!config/.env" and f["line"] == 2


def test_committed_archives_report_each_key_once_at_its_member_within_the_limits(tmp_path: Path) -> None:
    """In history as on disk: a stored zip or a SQLite file holds its members' bytes as they are, so
    the blob's raw bytes must not report the key again (nor, glued to the next SQLite cell, as a
    longer key that does not exist), and the archive limits of the config apply."""
    repo = init_repo(tmp_path / "r")
    k1, k2, k3 = make_key(), make_key(), make_key()
    commit_file(repo, "dir/a.zip", _zip({"inner": _env(k1)}, zipfile.ZIP_STORED), "stored zip")
    nested = _zip({"b.zip": _zip({"c.env": _env(k2)}, zipfile.ZIP_STORED)}, zipfile.ZIP_STORED)
    commit_file(repo, "deep.zip", nested, "nested")
    db = tmp_path / "x.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (v TEXT, w TEXT)")
    con.execute("INSERT INTO t VALUES (?, 'abcdef')", (k3,))  # glued to `abcdef` in the raw page
    con.commit()
    con.close()
    commit_file(repo, "data/app.db", db.read_bytes(), "db")
    r = run_cli("repo", str(repo), "--format", "json", "--show-secrets")
    assert r.code == 1, r.err
    got = sorted((f["path"], f["secret"]) for f in r.json()["findings"])
    assert got == sorted([("dir/a.zip!inner", k1), ("deep.zip!b.zip!c.env", k2), ("data/app.db!t/1/v", k3)])
    (repo / ".wvzscan.toml").write_text("archive_depth = 1\n")
    r = run_cli("repo", str(repo), "--format", "json", "--show-secrets")
    doc = r.json()
    assert doc["stats"]["skipped"] == {"archive nested deeper than archive_depth": 1}
    # b.zip is not opened: its key is reported where its raw bytes sit.
    assert ("deep.zip!b.zip", k2) in [(f["path"], f["secret"]) for f in doc["findings"]]
