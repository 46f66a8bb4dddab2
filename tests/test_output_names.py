"""Hostile names through the real CLI on real files and archives (issue 11, classes 4 and 6).

A name cannot steer output: newlines, GitHub workflow commands (``::error``, ``##[``) and terminal escapes
(CSI, OSC) are escaped in every line a human or a CI runner reads; a name that is not valid UTF-8 never
crashes a report writer; a file named after a key never prints the key in full.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.helpers import make_key, run_cli
from wvzscan.output.terminal import escape_ci_line, escape_line, safe_line

FORMATS = ["text", "json", "jsonl", "sarif", "junit", "github"]
EVIL = "x\n::error title=forged::pwned\x1b]8;;https:evil.example\x07link\x1b[2J ##[warning]w \u202eevil"


def _check_lines(text: str, fmt: str) -> None:
    """What a terminal or a GitHub runner would act on: nothing but our own annotations."""
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, fmt
    assert "##[" not in text, fmt
    for line in text.splitlines():
        if line.lstrip().startswith("::"):
            assert fmt == "github" and re.match(r"::(error|warning) (file=|title=)", line), (fmt, line)
            props = line.split("::")[1].split(" ", 1)[1].split(",")
            assert {p.split("=", 1)[0] for p in props} <= {"file", "line", "col", "title"}, line
            assert not any(p.startswith("title=forged") for p in props), line


def _parse(text: str, fmt: str) -> None:
    if fmt in ("json", "sarif"):
        json.loads(text)
    elif fmt == "jsonl":
        [json.loads(line) for line in text.splitlines()]
    elif fmt == "junit":
        ET.fromstring(text)


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, str]:
    key = make_key()
    (tmp_path / (EVIL + ".env")).write_text(f"K={key}\n")
    data = f"K={key}\n".encode()
    with tarfile.open(tmp_path / "a.tar", "w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo("bad\udcffname" + EVIL + ".env")  # byte 0xFF: not UTF-8
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    # A file name that is not UTF-8 on disk, and an archive that cannot be read (an error, on stderr).
    Path(os.fsdecode(os.fsencode(tmp_path) + b"/raw\xff\xfe.env")).write_text(f"K={key}\n")
    (tmp_path / (EVIL + ".zip")).write_bytes(b"PK\x03\x04 not really a zip archive")
    return tmp_path, key


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_names_in_every_format_and_on_stderr(hostile: tuple[Path, str], fmt: str) -> None:
    path, key = hostile
    r = run_cli("dir", ".", "--format", fmt, cwd=path)
    assert r.code == 1, r.err  # findings win over the unreadable archive
    assert r.out, "an empty report"
    _parse(r.out, fmt)
    _check_lines(r.out, fmt)
    _check_lines(r.err, "stderr")
    assert key not in r.out + r.err
    if fmt != "text":  # the text report holds the errors itself; other formats get a line on stderr
        # The error's line (the hostile name escaped in it), then the way to a clean run.
        line = r.err.splitlines()[0]
        assert line.startswith("wvzscan: ") and "could not be read" in r.err and "\\n::error title=forged" in line


@pytest.mark.parametrize("fmt", FORMATS)
def test_report_files_for_names_that_are_not_utf8(hostile: tuple[Path, str], fmt: str) -> None:
    path, _ = hostile
    out = path.parent / f"{path.name}-report.{fmt}"
    r = run_cli("dir", ".", "--format", fmt, "-o", str(out), cwd=path)
    assert r.code == 1 and "Traceback" not in r.err
    text = out.read_text(encoding="utf-8")  # valid UTF-8, not a 0-byte report
    assert text
    _parse(text, fmt)
    assert "\\xff" in text or "\\\\xff" in text or "%FF" in text, fmt


def test_text_report_keeps_one_line_per_location(hostile: tuple[Path, str]) -> None:
    path, _ = hostile
    out = run_cli("dir", ".", cwd=path).out
    assert "bad\\xffname" in out and "\\n::error title=forged::pwned\\x1b]8;;" in out
    assert len([line for line in out.splitlines() if "pwned" in line]) == 3  # two locations and one error


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_named_after_a_key(tmp_path: Path, fmt: str) -> None:
    key, other = make_key(), make_key()
    (tmp_path / f"{key}.env").write_text(f"K={key}\n")
    (tmp_path / f"{other}.txt").write_text("nothing in here\n")  # a key only in a name, not found
    (tmp_path / "z.zip").write_bytes(b"PK\x03\x04 broken")
    os.rename(tmp_path / "z.zip", tmp_path / f"{other}.zip")  # an error that names the key
    r = run_cli("dir", ".", "--format", fmt, cwd=tmp_path)
    assert r.code == 1
    assert key not in r.out + r.err and other not in r.out + r.err, fmt
    assert key[:8] in r.out
    shown = run_cli("dir", ".", "--format", fmt, "--show-secrets", cwd=tmp_path)
    assert key in shown.out and other not in shown.out + shown.err
    if fmt == "json":
        (f,) = shown.json()["findings"]
        assert f["secret"] == key and key not in f["path"]  # --show-secrets shows the key, not the name


def test_escape_helpers_unit() -> None:
    assert escape_line("a\nb\x1b[2J\x9b\u202e\udcff") == "a\\nb\\x1b[2J\\x9b\\u202e\\xff"
    assert escape_line("ok ünï") == "ok ünï"
    assert escape_ci_line("  ::error::x") == "  \\x3a:error::x"
    assert escape_ci_line("a ##[group]b") == "a #\\x23[group]b"
    key = make_key()
    assert safe_line(f"{key}\n::error::x") == key[:8] + "…\\n::error::x"
