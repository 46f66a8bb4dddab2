"""Text encodings in any mix, nested encodings and containers inside decoded text (issue 12 items 2-3)."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.parse
from pathlib import Path

import pytest

from tests.helpers import make_key, run_cli
from wvzscan import scan
from wvzscan.config import ArchiveLimits
from wvzscan.detect import Rules


def _found(text: str | bytes, rules: Rules | None = None) -> list[tuple[str, str]]:
    data = text.encode() if isinstance(text, str) else text
    return [(h.key, h.encoding) for h in scan.hits(data, rules or Rules())]


def _pct(s: str, which: str | None = None, upper: bool = True) -> str:
    fmt = "%{:02X}" if upper else "%{:02x}"
    return "".join(fmt.format(ord(c)) if which is None or c in which else c for c in s)


def _html_dec(s: str) -> str:
    return "".join(f"&#{ord(c)};" for c in s)


def _html_hex(s: str) -> str:
    return "".join(f"&#x{ord(c):x};" for c in s)


@pytest.mark.parametrize(
    "encode,encoding",
    [
        (lambda k: _pct(k), "url"),
        (lambda k: _pct(k, upper=False), "url"),
        (lambda k: _pct(k, "w"), "url"),
        (lambda k: _pct(k, "_"), "url"),
        (lambda k: _pct(k, "vz" + k[9]), "url"),
        (lambda k: k[:4] + _pct(k[4:], k[10:12]), "url"),
        (lambda k: "wvz%255F" + k[4:], "url>url"),
        (lambda k: "%2577%2576" + k[2:], "url>url"),
        (lambda k: _html_dec(k), "html"),
        (lambda k: _html_hex(k), "html"),
        (lambda k: "wvz&lowbar;" + k[4:], "html"),
        (lambda k: "wvz&#095;" + k[4:], "html"),
        (lambda k: "&#119;vz_" + k[4:], "html"),
        (lambda k: "wvz&#X5F;" + k[4:], "html"),
        (lambda k: "wvz\\x5f" + k[4:], "json-escape"),
        (lambda k: "wvz\\u005F" + k[4:], "json-escape"),
        (lambda k: "wvz\\U0000005f" + k[4:], "json-escape"),
        (lambda k: "wvz\\137" + k[4:], "json-escape"),
        (lambda k: "\\167vz_" + k[4:], "json-escape"),
        (lambda k: "\\u{77}vz_" + k[4:], "json-escape"),
        (lambda k: "".join(f"\\x{ord(c):02x}" for c in k), "json-escape"),
        (lambda k: "&#119;%76\\x7a&lowbar;" + k[4:], "html+json-escape+url"),
        (lambda k: "wvz%5F" + k[4:8] + "&#" + str(ord(k[8])) + ";" + k[9:], "html+url"),
    ],
)
def test_every_escape_in_any_mix(encode, encoding: str) -> None:  # type: ignore[no-untyped-def]
    key = make_key("mixed40")
    for wrap in ('url = "https://x.test/?k={}&a=1"\n', "<a data-k='{}'>", "{}"):
        assert _found(wrap.format(encode(key))) == [(key, encoding)], wrap


def test_escaped_slashes_before_a_key() -> None:
    key = make_key()
    assert _found('{"url": "https:\\/\\/api.test\\/v1?key=' + key + '"}') == [(key, "plain")]


@pytest.mark.parametrize(
    "text",
    [
        "wvz&lowbar;fetch_team_members",
        "%77vz_your_api_key_here",
        "wvz\\u005fDEFAULT_RETRY_COUNT",
        "&#119;&#118;&#122;&#95;loadOrgSettings",
        "wvz%5Fshort",
        "wvz%5F" + "a" * 30,
        "x%77vz_nothing",
        "\\x77\\x76\\x7a\\x5f",
    ],
)
def test_escaped_names_and_placeholders_are_not_keys(text: str) -> None:
    assert _found(text) == []


def test_escaped_key_glued_to_an_identifier_is_not_a_key() -> None:
    key = make_key()
    assert _found("abc" + _pct(key, "_")) == []


# --- nested -----------------------------------------------------------------------------------------


def _helm_secret(key: str) -> str:
    release = {"name": "web", "chart": {"values": {"weavz": {"apiKey": key}}}, "version": 3}
    inner = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    data = base64.b64encode(inner).decode()
    return (
        "apiVersion: v1\ndata:\n"
        f"  release: {data}\n"
        "kind: Secret\nmetadata:\n  labels:\n    owner: helm\n  name: sh.helm.release.v1.web.v3\n"
        "type: helm.sh/release.v1\n"
    )


def test_helm_release_secret_from_kubectl(tmp_path: Path) -> None:
    key = make_key("mixed40")
    (tmp_path / "secrets.yaml").write_text(_helm_secret(key))
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["encoding"] == "base64>base64>gzip" and f["line"] == 3
    assert f["key_prefix"] == key[:8]


def test_nested_layers() -> None:
    key = make_key()
    b64 = base64.b64encode
    assert _found(b"blob: " + b64(gzip.compress(b"TOKEN=" + key.encode())) + b"\n") == [(key, "base64>gzip")]
    utf16 = ("some text before; token = " + key + "\r\n").encode("utf-16-le")
    assert _found(b"x: " + b64(utf16) + b"\n") == [(key, "base64>utf-16")]
    twice = b64(b"prefix " + b64(b"the key is " + key.encode() + b".\n"))
    assert _found(b"v=" + twice) == [(key, "base64>base64")]
    token = b64(b"\xfb\xff" + key.encode() + b"\xfe??").decode()
    assert "%2F" in urllib.parse.quote(token, safe="") or "%2B" in urllib.parse.quote(token, safe="")
    assert _found("q=" + urllib.parse.quote(token, safe="") + "&x=1") == [(key, "url>base64")]
    wrapped = b64(gzip.compress(("k=" + key + "\n").encode() * 3 + bytes(range(256)) * 8))
    lines = b"\n".join(wrapped[i : i + 64] for i in range(0, len(wrapped), 64))
    assert _found(b"data: |\n" + lines + b"\n") == [(key, "base64>gzip")]


def test_nested_depth_is_bounded_and_counted() -> None:
    key = make_key()
    secret = _helm_secret(key).encode()
    shallow = Rules(archives=ArchiveLimits(decode_depth=2))
    assert _found(secret, shallow) == []
    assert _found(secret, Rules(archives=ArchiveLimits(decode_depth=3))) == [(key, "base64>base64>gzip")]
    flat = Rules(archives=ArchiveLimits(decode_depth=1))
    assert _found(b"x: " + base64.b64encode(b"k " + key.encode()), flat) == [(key, "base64")]


def test_nested_depth_skip_is_counted(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "secrets.yaml").write_text(_helm_secret(key))
    (tmp_path / ".wvzscan.toml").write_text("decode_depth = 2\n")
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 0, r.err
    assert r.json()["findings"] == []
    assert r.json()["stats"]["skipped"] == {"archive nested deeper than archive_depth": 1}


def test_nested_layers_with_nothing_inside_and_names_inside() -> None:
    b64 = base64.b64encode
    assert _found(b"blob: " + b64(gzip.compress(b"nothing to see " * 100)) + b"\n") == []
    assert _found(b"x: " + b64("token = wvz_fetch_team_members\n".encode("utf-16-le"))) == []
    assert _found(b"x: " + b64(b64(gzip.compress(b"wvz_your_api_key_here")))) == []


def test_corrupt_gzip_inside_base64_is_an_error(tmp_path: Path) -> None:
    bad = gzip.compress(b"x" * 1000)[:20] + b"\x00" * 40
    (tmp_path / "blob.yaml").write_text("data: " + base64.b64encode(bad).decode() + "\n")
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 3, r.err
    assert r.json()["errors"]


def test_bomb_inside_base64_is_a_counted_skip(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    (tmp_path / "bomb.yaml").write_text("data: " + base64.b64encode(bomb).decode() + "\n")
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 0, r.err
    assert r.json()["stats"]["skipped"] == {"archive member over archive_max_ratio": 1}
