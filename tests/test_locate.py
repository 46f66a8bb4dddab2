"""Line, column and inline-allow marker of every key: right, and linear in the content's size."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import make_key, run_cli
from wvzscan.finding import Locator

MARK = b"wvzscan:allow"
_BOM = b"\xef\xbb\xbf"


# The one-key-at-a-time reference the Locator must agree with (what the scan used before it).
def line_col(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``offset``; computed only for hits."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    if line_start == 0 and data.startswith(_BOM) and offset >= len(_BOM):
        line_start = len(_BOM)  # a byte-order mark is not a column: editors do not show it
    line = data.count(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return line, column


def line_at(data: bytes, offset: int) -> bytes:
    """The whole line around ``offset`` (for inline allow comments)."""
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    return data[start : end if end != -1 else len(data)]


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(
        st.one_of(
            st.sampled_from([b"\n", b"x", b"\t", "é".encode(), "日本".encode(), "🎉".encode(), MARK, b"\xff\xfe"]),
            st.binary(max_size=6),
        ),
        max_size=40,
    ),
    data=st.data(),
)
def test_locator_agrees_with_the_one_key_functions(pieces: list[bytes], data: st.DataObject) -> None:
    buf = b"".join(pieces) + b"."
    # Keys start at an ASCII byte, so the forward pass may cut the buffer there.
    ascii_at = [i for i, b in enumerate(buf) if b < 0x80]
    offsets = sorted(data.draw(st.lists(st.sampled_from(ascii_at), max_size=8)))
    where = Locator(buf, MARK)
    for off in offsets:
        assert where.at(off) == (*line_col(buf, off), MARK in line_at(buf, off))


def test_many_keys_on_one_long_line_and_on_many_lines(tmp_path: Path) -> None:
    # A minified bundle or a log with a key on every line: every key located, the allow marker
    # read per line (the scan used to restart from the buffer's start for every key: minutes).
    key, other = make_key(), make_key("mixed40")
    line = (" x" * 500 + f" {key}") * 300
    log = "".join(f"{'é' * (i % 7)} Authorization: Bearer {other}\n" for i in range(3000))
    (tmp_path / "bundle.js").write_text(line + f"  // wvzscan:allow\n{key}\n")
    (tmp_path / "app.log").write_text(log)
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 1, r.err
    found = r.json()["findings"]
    bundle = [(f["line"], f["column"]) for f in found if f["path"].endswith("bundle.js")]
    assert bundle == [(2, 1)]  # the 300 on line 1 are allowed
    assert r.json()["stats"]["suppressed"] == {"inline allow": 300}
    logged = [(f["line"], f["column"]) for f in found if f["path"].endswith("app.log")]
    assert logged == [(i + 1, i % 7 + len(" Authorization: Bearer ") + 1) for i in range(3000)]


def test_byte_order_mark_is_not_a_column(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "bom.env").write_bytes(b"\xef\xbb\xbf" + f"{key}\nK={key}\n".encode())
    r = run_cli("dir", str(tmp_path / "bom.env"), "--format", "json")
    assert [(f["line"], f["column"]) for f in r.json()["findings"]] == [(1, 1), (2, 3)]
