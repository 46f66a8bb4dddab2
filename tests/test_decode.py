"""Keys stored in encodings, found through the real CLI (`wvzscan dir`) with the right encoding and place."""

from __future__ import annotations

import base64
import json
import os
import random
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import make_key, run_cli
from wvzscan import decode, scan
from wvzscan.finding import ScanResult
from wvzscan.prefilter import Prefilter
from wvzscan.sources import Chunk


def _by_path(r: object, root: Path) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for f in r.json()["findings"]:  # type: ignore[attr-defined]
        out.setdefault(str(f["path"]).removeprefix(str(root) + "/"), []).append(f)
    return out


def test_every_encoding_found_once_with_its_encoding_and_place(tmp_path: Path) -> None:
    cases: dict[str, tuple[str, str]] = {}  # file -> (key, encoding)

    def put(name: str, content: bytes, key: str, encoding: str) -> None:
        (tmp_path / name).write_bytes(content)
        cases[name] = (key, encoding)

    for align in range(3):  # the three base64 shapes of the prefix
        k = make_key()
        blob = base64.b64encode(("A=1;" + "x" * align + f"\nKEY={k}\n").encode())
        put(f"b64-{align}.yaml", b"data:\n  env: " + blob + b"\n", k, "base64")
    k = make_key("mixed40")
    put(
        "b64-urlsafe.txt", b"t=" + base64.urlsafe_b64encode(f'{{"k":"{k}"}}'.encode()).rstrip(b"=") + b"\n", k, "base64"
    )
    k = make_key()
    wrapped = base64.encodebytes(("#" * 70 + f"\nWEAVZ_API_KEY={k}\n").encode())  # MIME: 76-char lines
    put("b64-wrapped.txt", wrapped, k, "base64")
    k = make_key()
    put("url-partial.log", f"GET /cb?token={k.replace('_', '%5F')}&x=1\n".encode(), k, "url")
    k = make_key()
    put("url-lower.log", ("GET /cb?token=" + "".join(f"%{ord(c):02x}" for c in k)).encode(), k, "url")
    full = "".join(f"%{ord(c):02X}" for c in make_key())
    k2 = urllib.parse.unquote(full)
    put("url-every.log", f"q={full}&z".encode(), k2, "url")
    k = make_key()
    put("escaped.json", json.dumps({"k": k}).replace("_", "\\u005f").encode(), k, "json-escape")
    k = make_key()
    put("all-u.json", ('{"k": "' + "".join(f"\\u{ord(c):04x}" for c in k) + '"}').encode(), k, "json-escape")
    k = make_key()
    put("all-x.js", ('var k="' + "".join(f"\\x{ord(c):02x}" for c in k) + '";').encode(), k, "json-escape")
    k = make_key()
    put("le-bom.txt", f"first\nKEY={k}\n".encode("utf-16"), k, "utf-16")
    k = make_key()
    put("be-bom.txt", f"first\nKEY={k}\n".encode("utf-16-be").join([b"\xfe\xff", b""]), k, "utf-16")
    k = make_key()
    put("le-nobom.bin", b"\x00\x01\x02\x03" + f"KEY={k}\x00".encode("utf-16-le"), k, "utf-16")
    k = make_key()
    put("be-nobom.bin", b"\x00\x01\x02\x03" + f"KEY={k}\x00".encode("utf-16-be"), k, "utf-16")
    r = run_cli("dir", str(tmp_path), "--format", "json", "--show-secrets")
    assert r.code == 1, r.err
    got = _by_path(r, tmp_path)
    assert set(got) == set(cases)
    for name, (key, encoding) in cases.items():
        (f,) = got[name]
        assert (f["secret"], f["encoding"]) == (key, encoding), name
    (f,) = got["le-bom.txt"]
    assert (f["line"], f["column"]) == (2, 5)  # in characters of the UTF-16 text
    (f,) = got["url-partial.log"]
    assert (f["line"], f["column"]) == (1, 15)  # where the encoded text starts


def test_plain_key_among_escapes_is_reported_once_as_plain(tmp_path: Path) -> None:
    k = make_key()
    # A fully escaped prefix just before: its decoded window covers the plain key too.
    text = '{"a": "\\u0022\\u0077\\u0076\\u007a\\u005f", "k": "' + k + '"}\n'
    (tmp_path / "a.json").write_text(text)
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["encoding"] == "plain" and f["column"] == text.index(k) + 1


def test_decode_config_turns_views_off(tmp_path: Path) -> None:
    k = make_key()
    (tmp_path / "s.yaml").write_bytes(b"v: " + base64.b64encode(f"K={k}".encode()) + b"\n")
    (tmp_path / ".wvzscan.toml").write_text('decode = ["url"]\n')
    assert run_cli("dir", str(tmp_path)).code == 0
    (tmp_path / ".wvzscan.toml").write_text('decode = ["rot13"]\n')
    r = run_cli("dir", str(tmp_path))
    assert r.code == 2 and "decode must be a list" in r.err


def test_notebook_and_minified_bundle_are_scanned_plain(tmp_path: Path) -> None:
    k1, k2 = make_key(), make_key()
    nb = {
        "cells": [
            {"cell_type": "code", "source": ["import os\n"], "outputs": [{"name": "stdout", "text": [f"{k1}\n"]}]}
        ],
        "nbformat": 4,
    }
    (tmp_path / "analysis.ipynb").write_text(json.dumps(nb, indent=1))
    bundle = "!function(e){var t={};" * 500 + f'e.apiKey="{k2}";' + "}(window);" * 300
    (tmp_path / "app.min.js").write_text(bundle)
    r = run_cli("dir", str(tmp_path), "--format", "json", "--show-secrets")
    assert r.code == 1, r.err
    got = _by_path(r, tmp_path)
    (nbf,) = got["analysis.ipynb"]
    assert nbf["secret"] == k1 and nbf["encoding"] == "plain"
    (js,) = got["app.min.js"]
    assert js["secret"] == k2 and js["line"] == 1 and js["column"] == bundle.index(k2) + 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=40),
    after=st.text(max_size=20),
    pad=st.integers(0, 5),
    urlsafe=st.booleans(),
    strip=st.booleans(),
)
def test_property_base64_key_found_at_any_alignment(
    before: str, after: str, pad: int, urlsafe: bool, strip: bool
) -> None:
    key = make_key("mixed40")
    raw = (before + " " * pad + "=" + key + "\n" + after).encode()
    enc = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    if strip:
        enc = enc.rstrip(b"=")
    data = b"secret: " + enc + b"\n"
    found = [(h.key, h.encoding) for h in scan.hits(data)]
    assert (key, "base64") in found


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_property_arbitrary_bytes_never_crash(data: bytes) -> None:
    list(scan.hits(data))
    for prefix in (b"", b"w\0v\0z\0_\0", b"d3Z6X", b"%77%76%7", b"\\u0077\\u0076\\u007", b"wvz%5f", b"3dnpf"):
        list(decode.encoded_keys(prefix + data))
        list(decode.encoded_keys(data + prefix + data))
    result = ScanResult()
    for head in (b"", b"PK\x03\x04", b"\x1f\x8b\x08", b"BZh91AY&SY", b"\xfd7zXZ\x00", b"SQLite format 3\x00"):
        chunks = list(scan.expand(Chunk(head + data, "file", "x"), result))
        assert chunks[-1].data == head + data


def _every_encoding(tmp_path: Path) -> dict[str, str]:
    """A file over the prefilter's size threshold with one key per text encoding, far apart."""
    keys = {enc: make_key() for enc in ("plain", "base64", "url", "json-escape")}
    filler = b"".join(b"line %d of ordinary text with a \\n escape and 100%% coverage\n" % i for i in range(3000))
    parts = [
        filler,
        f"A={keys['plain']}\n".encode(),
        filler,
        b"B=" + base64.b64encode(f"token: {keys['base64']}\n".encode()) + b"\n",
        filler,
        b"C=" + urllib.parse.quote(keys["url"], safe="").replace("_", "%5F").encode() + b"\n",
        filler,
        b'D="' + "".join(f"\\u{ord(c):04x}" for c in keys["json-escape"]).encode() + b'"\n',
    ]
    (tmp_path / "big.txt").write_bytes(b"".join(parts))
    utf16 = make_key()
    keys["utf-16"] = utf16
    (tmp_path / "big16.txt").write_bytes(("x" * 20000 + f"\nkey={utf16}\n").encode("utf-16"))
    return keys


@pytest.mark.parametrize("hyperscan", ["on", "off"])
def test_large_content_every_encoding_with_and_without_the_one_pass_prefilter(tmp_path: Path, hyperscan: str) -> None:
    keys = _every_encoding(tmp_path)
    env = {"WVZSCAN_NO_HYPERSCAN": "1"} if hyperscan == "off" else {}
    r = run_cli("dir", str(tmp_path), "--format", "json", env=env)
    assert r.code == 1, r.err
    got = {f["encoding"]: f["key_prefix"] for f in r.json()["findings"]}
    assert got == {enc: k[:8] for enc, k in keys.items()}


def test_prefilter_finds_the_same_offsets_as_bytes_find() -> None:
    from wvzscan.decode import NEEDLES
    from wvzscan.prefilter import Prefilter

    pf = Prefilter(NEEDLES)
    if not pf.available:
        pytest.skip("hyperscan is not installed on this platform")
    data = bytearray(os.urandom(50_000))
    for i, needle in enumerate(NEEDLES):
        for j in range(3):
            at = 1000 + i * 5000 + j * 97
            data[at : at + len(needle)] = needle
    data = bytes(data)
    found = pf.find(data)
    assert found is not None
    for needle in NEEDLES:
        expected = []
        pos = data.find(needle)
        while pos != -1:
            expected.append(pos)
            pos = data.find(needle, pos + 1)
        assert found[needle] == expected


@pytest.fixture(params=["hyperscan", "fallback"])
def prefilter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``scan.hits`` with the one-pass prefilter (when installed) and with the pure-Python fallback."""
    pf = Prefilter(decode.NEEDLES, use_hyperscan=request.param == "hyperscan")
    if request.param == "hyperscan" and not pf.available:
        pytest.skip("hyperscan is not installed on this platform")
    monkeypatch.setattr(scan, "_PREFILTER", pf)
    return str(request.param)


def _wrap(text: bytes, width: int, newline: bytes, indent: bytes) -> bytes:
    return newline.join(indent + text[i : i + width] for i in range(0, len(text), width)) + newline


@pytest.mark.parametrize("width", [64, 76])
@pytest.mark.parametrize(("newline", "indent"), [(b"\n", b""), (b"\r\n", b""), (b"\n", b"    "), (b"\r\n", b"  ")])
def test_wrapped_base64_key_found_wherever_a_line_break_falls(
    prefilter: str, width: int, newline: bytes, indent: bytes
) -> None:
    # Every offset of the key within a line (so a break falls at every point of the prefix's
    # base64 shape) and every alignment: a .env file in a YAML block scalar or a PEM-style body.
    for shift in range(width + 3):
        key = make_key()
        env = ("#" * shift + "\nA=1\nWEAVZ_API_KEY=" + key + "\nB=2\n").encode()
        body = _wrap(base64.b64encode(env), width, newline, indent)
        data = b"apiVersion: v1\nkind: Secret\ndata:\n  env: |\n" + body
        found = [(h.key, h.encoding) for h in scan.hits(data)]
        assert found == [(key, "base64")], (shift, found)
        (h,) = scan.hits(data)
        # The finding points at the base64 character that holds the key's first bits.
        first = data[h.start : h.start + 1]
        assert first.isalnum() and data.rfind(b"\n", 0, h.start) < h.start, shift


def test_base64_key_in_a_wrapped_yaml_block_found_through_the_cli(tmp_path: Path) -> None:
    key = make_key()
    env = ("#" * 47 + "\nWEAVZ_API_KEY=" + key + "\n").encode()
    blob = base64.b64encode(env)
    cut = blob.index(b"d3Z6X") + 2 if b"d3Z6X" in blob else blob.index(b"3dnpf") + 2
    body = b"    " + blob[:cut] + b"\r\n    " + blob[cut:] + b"\r\n"  # the break splits the prefix's shape
    (tmp_path / "secret.yaml").write_bytes(b"kind: Secret\r\ndata:\r\n  env: |\r\n" + body)
    r = run_cli("dir", str(tmp_path), "--format", "json", "--show-secrets")
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert (f["secret"], f["encoding"], f["line"]) == (key, "base64", 4)


_ON = Prefilter(decode.NEEDLES)
_OFF = Prefilter(decode.NEEDLES, use_hyperscan=False)


def _encode(key: str, how: str, align: int) -> bytes:
    raw = key.encode()
    if how == "base64":
        return base64.b64encode(b"=" * align + raw + b"\n")
    if how == "base64-wrapped":
        return _wrap(base64.b64encode(b"#" * align + raw + b"\n"), 20 + align, b"\r\n", b" ")
    if how == "url":
        return "".join(f"%{c:02X}" for c in raw).encode()
    if how == "url-5f":
        return raw.replace(b"_", b"%5f")
    if how == "u-escapes":
        return "".join(f"\\u{c:04x}" for c in raw).encode()
    if how == "x-escapes":
        return "".join(f"\\x{c:02x}" for c in raw).encode()
    if how == "utf-16-le":
        return key.encode("utf-16-le")
    if how == "utf-16-be":
        return key.encode("utf-16-be")
    return raw


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    filler=st.sampled_from([b"ab c\n=%\\", b"ABCxyz019+/=\n", b"\0a\0 \0\n", bytes(range(256))]),
    size=st.sampled_from([0, 40, 200, 250, 255, 256, 257, 300, 4096, 70_000]),
    plants=st.lists(
        st.tuples(
            st.sampled_from(
                ["plain", "base64", "base64-wrapped", "url", "url-5f", "u-escapes", "x-escapes"]
                + ["utf-16-le", "utf-16-be"]
            ),
            st.integers(0, 2),
            st.floats(0, 1),
        ),
        max_size=3,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_hyperscan_and_fallback_give_the_same_hits(
    filler: bytes, size: int, plants: list[tuple[str, int, float]], seed: int
) -> None:
    """Random content around the 256-byte threshold and far above it, keys planted in every
    encoding at every alignment, near the start and the end: both paths find the same keys, at
    the same places, with the same encodings."""
    if not _ON.available:
        pytest.skip("hyperscan is not installed on this platform")
    rnd = random.Random(seed)
    data = bytearray(rnd.choice(filler) for _ in range(size))
    for how, align, where in plants:
        at = int(where * len(data))
        data[at:at] = _encode(make_key(rnd.choice(["lower32", "mixed40", "uuid", "lower16"])), how, align)
    blob = bytes(data)
    got = {}
    for name, pf in (("hyperscan", _ON), ("fallback", _OFF)):
        scan._PREFILTER, saved = pf, scan._PREFILTER
        try:
            got[name] = [(h.key, h.start, h.end, h.encoding, h.line, h.column) for h in scan.hits(blob)]
        finally:
            scan._PREFILTER = saved
    assert got["hyperscan"] == got["fallback"]


def test_utf16_key_at_the_very_end_of_odd_length_content_is_found_whole() -> None:
    # A big-endian string after an odd number of bytes reads as little-endian shifted by one, and a
    # little-endian one may lose its last high byte: either way the key's last character is the
    # content's last byte. Reporting one character less would be a key that does not exist.
    key = make_key()
    for data in (b"\x00" + key.encode("utf-16-be"), b"\x01\x02" + key.encode("utf-16-le")[:-1]):
        assert [(h.key, h.encoding) for h in scan.hits(data)] == [(key, "utf-16")]


def test_many_utf16_keys_positions_are_exact(tmp_path: Path) -> None:
    # Line and column are computed incrementally (one pass for the file, not one per key).
    keys = [make_key() for _ in range(300)]
    text = "\n".join(f"line {i} é key={k}" for i, k in enumerate(keys))
    (tmp_path / "big16.txt").write_bytes(text.encode("utf-16"))
    r = run_cli("dir", str(tmp_path), "--format", "json")
    found = sorted((f["line"], f["column"], f["key_prefix"]) for f in r.json()["findings"])
    expected = sorted((i + 1, len(f"line {i} é key=") + 1, k[:8]) for i, k in enumerate(keys))
    assert found == expected


@pytest.mark.parametrize("inner", [b"wvz_", b"w\0v\0z\0_\0"])
def test_key_whose_body_looks_like_an_encoded_prefix_is_one_base64_finding(prefilter: str, inner: bytes) -> None:
    # A random body can hold the base64 shape of `wvz_` (or of its UTF-16 form), the needle of a
    # nested layer: the key must still be one finding of one layer, not also "base64>plain".
    for align in range(3):
        shape = base64.b64encode(b"\0" * align + inner)[-(-8 * align // 6) : (8 * (align + len(inner))) // 6]
        key = "wvz_" + shape.decode().lower() + make_key()[4 + len(shape) :]
        for shift in range(3):
            data = b"env: " + base64.b64encode(b"#" * shift + b"\nWEAVZ_API_KEY=" + key.encode() + b"\n")
            found = [(h.key, h.encoding) for h in scan.hits(data)]
            assert found == [(key, "base64")], (align, shift, found)
