"""More containers (zstd, zlib, PDF, container images, 7z), one budget per input, bounded memory, and the
matched line in the text report (issue 12 items 4-5, issue 11 items 3 and 10)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sqlite3
import zlib
from pathlib import Path

import pytest

from tests.helpers import make_key, run_cli
from tests.test_archives import _tar  # one tar builder for the archive tests


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


def _env(key: str) -> bytes:
    return f"WEAVZ_API_KEY={key}\n".encode()


def _scan(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("dir", str(root), "--format", "json", *args)


def _paths(r) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        f["path"].rsplit("/", 1)[-1] if "!" not in f["path"] else f["path"].split("/", 1)[-1]: f["key_prefix"]
        for f in r.json()["findings"]
    }


def test_zstd_file_and_zstd_tar(tmp_path: Path) -> None:
    a, b = make_key(), make_key()
    (tmp_path / "app.log.zst").write_bytes(_zstd(b"line\n" + _env(a)))
    (tmp_path / "layer.tar.zst").write_bytes(_zstd(_tar({"etc/app/.env": _env(b)})))
    r = _scan(tmp_path)
    assert r.code == 1, r.err
    got = {f["path"].removeprefix(str(tmp_path) + "/"): f["key_prefix"] for f in r.json()["findings"]}
    assert got == {"app.log.zst!app.log": a[:8], "layer.tar.zst!etc/app/.env": b[:8]}


def test_corrupt_zstd_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "bad.zst").write_bytes(_zstd(b"x" * 5000)[:12] + b"\xff" * 30)
    r = _scan(tmp_path)
    assert r.code == 3 and r.json()["errors"], r.err


def test_git_loose_object_copied_as_a_file(tmp_path: Path) -> None:
    key = make_key()
    body = b"config:\n  key: " + key.encode() + b"\n"
    obj = zlib.compress(b"blob %d\0" % len(body) + body)
    sha = hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()
    (tmp_path / sha[:2]).mkdir()
    (tmp_path / sha[:2] / sha[2:]).write_bytes(obj)
    r = _scan(tmp_path)
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["path"].endswith(f"{sha[2:]}!inflated") and f["key_prefix"] == key[:8]


def test_bytes_that_only_look_like_zlib_are_content(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "data.bin").write_bytes(b"\x78\x9c" + b"\xff\xfe not deflate " + key.encode() + b"\n")
    r = _scan(tmp_path)
    assert r.code == 1 and not r.json()["errors"], r.err
    assert [f["key_prefix"] for f in r.json()["findings"]] == [key[:8]]


def _pdf(streams: list[bytes], flate: bool = True) -> bytes:
    out = [b"%PDF-1.4\n"]
    for i, s in enumerate(streams, 1):
        data = zlib.compress(s) if flate else s
        filt = b"/Filter /FlateDecode " if flate else b""
        out.append(b"%d 0 obj\n<< /Length %d %s>>\nstream\n" % (i, len(data), filt) + data + b"\nendstream\nendobj\n")
    out.append(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
    return b"".join(out)


def test_pdf_flate_streams(tmp_path: Path) -> None:
    key = make_key("mixed40")
    page = b"BT /F1 12 Tf 72 712 Td (Your API key: " + key.encode() + b") Tj ET"
    (tmp_path / "onboarding.pdf").write_bytes(_pdf([b"BT (Welcome) Tj ET", page]))
    r = _scan(tmp_path)
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["path"].endswith("onboarding.pdf!stream2") and f["key_prefix"] == key[:8]


def test_pdf_without_keys_and_corrupt_stream(tmp_path: Path) -> None:
    (tmp_path / "clean.pdf").write_bytes(_pdf([b"BT (nothing) Tj ET"]))
    assert _scan(tmp_path).code == 0
    bad = b"%PDF-1.4\n1 0 obj\n<< /Filter /FlateDecode >>\nstream\n\x78\x9c\xff\xff\xff\xff\nendstream\n"
    (tmp_path / "bad.pdf").write_bytes(bad)
    r = _scan(tmp_path)
    assert r.code == 3 and r.json()["errors"], r.err


def test_pdf_streams_behind_ascii_armour_and_other_filter_chains(tmp_path: Path) -> None:
    """Adobe Illustrator files and many PDF writers put ASCII85 or ASCIIHex in front of Flate; a chain
    with a filter wvzscan does not undo is left raw (scanned as it is), never a false "cannot read"."""
    import base64

    k85, khex = make_key(), make_key()
    inflated85 = zlib.compress(b"BT (key " + k85.encode() + b") Tj ET")
    inflatedhex = zlib.compress(b"BT (key " + khex.encode() + b") Tj ET")
    a85 = base64.a85encode(inflated85, wrapcol=60) + b"~>"
    ahex = inflatedhex.hex().upper().encode() + b">"
    lzw = b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01"  # not Flate data: only LZW would read it
    pdf = (
        b"%PDF-1.5\n"
        + b"1 0 obj\n<</Filter[/ASCII85Decode/FlateDecode]/Length %d>>\nstream\n" % len(a85)
        + a85
        + b"\nendstream\nendobj\n"
        + b"2 0 obj\n<</Filter [/AHx /Fl] /Length %d>>\nstream\n" % len(ahex)
        + ahex
        + b"\nendstream\nendobj\n"
        + b"3 0 obj\n<</Filter[/LZWDecode/FlateDecode]/Length %d>>\nstream\n" % len(lzw)
        + lzw
        + b"\nendstream\nendobj\n"
        + b"%%EOF\n"
    )
    (tmp_path / "logo.ai").write_bytes(pdf)
    r = _scan(tmp_path)
    assert r.code == 1 and r.json()["errors"] == [], r.err
    found = {f["key_prefix"]: f["path"].rsplit("!", 1)[-1] for f in r.json()["findings"]}
    assert found == {k85[:8]: "stream1", khex[:8]: "stream2"}
    broken = pdf.replace(b"~>", b"")  # ASCII85 that never ends: not read, so an error
    (tmp_path / "logo.ai").write_bytes(broken)
    assert _scan(tmp_path).code in (1, 3) and _scan(tmp_path).json()["errors"]


def _docker_save(layer_files: dict[str, bytes], compress: str) -> bytes:
    layer = _tar(layer_files)
    blob = {"gzip": gzip.compress, "zstd": _zstd, "none": lambda b: b}[compress](layer)
    digest = hashlib.sha256(blob).hexdigest()
    manifest = [{"Config": "config.json", "RepoTags": ["app:1"], "Layers": [f"blobs/sha256/{digest}"]}]
    index = {"schemaVersion": 2, "manifests": []}
    return _tar(
        {
            "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
            "index.json": json.dumps(index).encode(),
            "manifest.json": json.dumps(manifest).encode(),
            "config.json": b'{"architecture": "amd64"}',
            f"blobs/sha256/{digest}": blob,
        }
    )


@pytest.mark.parametrize("compress", ["gzip", "zstd", "none"])
def test_container_image_layers(tmp_path: Path, compress: str) -> None:
    key = make_key()
    (tmp_path / "image.tar").write_bytes(_docker_save({"app/.env": _env(key), "bin/tool": b"\x7fELF" * 10}, compress))
    r = _scan(tmp_path)
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["path"].endswith("!app/.env") and "image.tar!blobs/sha256/" in f["path"]


def test_7z_is_a_counted_skip(tmp_path: Path) -> None:
    (tmp_path / "backup.7z").write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + os.urandom(64))
    r = _scan(tmp_path)
    assert r.code == 0, r.err
    assert r.json()["stats"]["skipped"] == {"7z archive not opened (no reader)": 1}


# --- one budget per top-level input ------------------------------------------------------------------


def test_tar_gz_is_charged_once(tmp_path: Path) -> None:
    key = make_key()
    member = os.urandom(1024 * 1024).hex().encode()[: 2 * 1024 * 1024] + b"\n" + _env(key)  # 2 MiB
    (tmp_path / "backup.tar.gz").write_bytes(_tar({"dump.sql": member}, "w:gz"))
    (tmp_path / ".wvzscan.toml").write_text(f"archive_max_bytes = {3 * 1024 * 1024}\n")
    r = _scan(tmp_path)
    assert r.code == 1, r.err
    assert [f["path"].rsplit("!", 1)[-1] for f in r.json()["findings"]] == ["dump.sql"]
    assert r.json()["stats"]["skipped"] == {}


def test_budget_is_shared_by_every_member(tmp_path: Path) -> None:
    blob = os.urandom(600 * 1024)
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(4):
            z.writestr(f"part{i}.bin", blob)
    (tmp_path / "parts.zip").write_bytes(buf.getvalue())
    (tmp_path / ".wvzscan.toml").write_text(f"archive_max_bytes = {2 * 1024 * 1024}\n")
    r = _scan(tmp_path)
    assert r.code == 0, r.err
    assert r.json()["stats"]["skipped"] == {"archive content over archive_max_bytes": 1}


def test_sqlite_generated_column_is_bounded(tmp_path: Path) -> None:
    key = make_key()
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, token TEXT, big BLOB GENERATED ALWAYS AS (zeroblob(100000000)))"
    )
    conn.executemany("INSERT INTO t (token) VALUES (?)", [(key,)] + [("x",)] * 80)
    conn.commit()
    conn.close()
    assert db.stat().st_size < 64 * 1024
    (tmp_path / ".wvzscan.toml").write_text(f"archive_max_bytes = {16 * 1024 * 1024}\n")
    r = _scan(tmp_path)
    assert r.code == 1, r.err
    doc = r.json()
    assert [f["path"].rsplit("!", 1)[-1] for f in doc["findings"]] == ["t/1/token"]
    assert doc["stats"]["skipped"], doc["stats"]
    assert doc["stats"]["bytes_scanned"] < 16 * 1024 * 1024


# --- memory: one key many times -------------------------------------------------------------------


def test_one_key_300000_times_keeps_memory_bounded(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "huge.log").write_text(f"Authorization: Bearer {key}\n" * 300_000)
    r = _scan(tmp_path)
    assert r.code == 1, r.err
    doc = r.json()
    assert 0 < len(doc["findings"]) <= 10_000
    assert doc["stats"]["skipped"] == {"locations of one key over the per-file cap": 290_000}
    assert any("found 300000 times" in n for n in doc["notes"])
    assert key not in r.out and key not in r.err


# --- the matched line ------------------------------------------------------------------------------


def test_text_report_shows_the_matched_line_redacted(tmp_path: Path) -> None:
    key = make_key("mixed40")
    long_tail = " // " + "padding " * 60
    (tmp_path / "settings.py").write_text(f'WEAVZ = "{key}"{long_tail}\n\x1b[2J\n')
    (tmp_path / "b64.txt").write_text("k: " + __import__("base64").b64encode(b" " + key.encode()).decode() + "\n")
    r = run_cli("dir", str(tmp_path))
    assert r.code == 1, r.err
    lines = r.out.splitlines()
    shown = [ln.strip() for ln in lines if ln.startswith("              ")]
    assert any(s.startswith(f'WEAVZ = "{key[:8]}****"') and s.endswith("…") for s in shown), r.out
    assert all(len(s) <= 170 for s in shown)
    assert key not in r.out and key[8:24] not in r.out
    b64 = __import__("base64").b64encode(b" " + key.encode()).decode()
    assert b64[4:40] not in r.out  # the encoded key is redacted too


def test_context_never_holds_another_key_on_the_line(tmp_path: Path) -> None:
    a, b = make_key(), make_key("mixed40")
    (tmp_path / "two.env").write_text(f"A={a} B={b}\n")
    r = run_cli("dir", str(tmp_path))
    assert r.code == 1
    assert a not in r.out and b not in r.out
