"""Every report format through the CLI: valid, complete and redacted unless --show-secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import cli_env, make_key, run_cli, sarif_schema

FORMATS = ["text", "json", "jsonl", "sarif", "junit", "github"]


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, list[str]]:
    keys = [make_key(), make_key("uuid")]
    (tmp_path / "a b.py").write_text(f'A = "{keys[0]}"\nB = "{keys[1]}"\n')
    (tmp_path / "c.env").write_text(f"K={keys[0]}\n")
    return tmp_path, keys


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_redacted(tree: tuple[Path, list[str]], fmt: str) -> None:
    path, keys = tree
    r = run_cli("dir", ".", "--format", fmt, cwd=path)
    assert r.code == 1
    for k in keys:
        assert k not in r.out + r.err
        assert k[:8] in r.out
    shown = run_cli("dir", ".", "--format", fmt, "--show-secrets", cwd=path)
    assert all(k in shown.out for k in keys)


def test_json_fields(tree: tuple[Path, list[str]]) -> None:
    path, keys = tree
    rep = run_cli("dir", ".", "--format", "json", cwd=path).json()
    assert rep["tool"] == "wvzscan" and rep["version"] and rep["errors"] == []
    assert set(rep["stats"]) >= {"bytes_scanned", "objects_scanned", "seconds"}
    f = next(f for f in rep["findings"] if f["path"] == "c.env")
    required = {
        "fingerprint", "key_prefix", "redacted", "source", "path", "line", "column", "commit", "author",
        "email", "date", "encoding", "status", "status_reason", "scope", "revocation",
    }  # fmt: skip
    assert required <= set(f) and "secret" not in f
    assert f["redacted"] == keys[0][:8] + "…" and f["encoding"] == "plain" and (f["line"], f["column"]) == (1, 3)


def test_jsonl_is_one_finding_per_line(tree: tuple[Path, list[str]]) -> None:
    path, _ = tree
    lines = run_cli("dir", ".", "--format", "jsonl", cwd=path).out.splitlines()
    assert len(lines) == 3 and all("fingerprint" in json.loads(x) for x in lines)


def test_text_groups_by_key(tree: tuple[Path, list[str]]) -> None:
    path, keys = tree
    out = run_cli("dir", ".", cwd=path).out
    assert out.count(keys[0][:8] + "…") == 1  # one entry for the key found twice
    assert "first seen" in out and "also" in out
    assert "2 keys in 3 locations" in out


def test_sarif_is_valid_against_the_official_schema(tree: tuple[Path, list[str]]) -> None:

    path, _ = tree
    doc = run_cli("dir", ".", "--format", "sarif", cwd=path).json()
    schema = sarif_schema()
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["weavz-api-key"]
    assert len(run["results"]) == 3
    res = run["results"][0]
    assert res["ruleId"] == "weavz-api-key" and res["partialFingerprints"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"a%20b.py", "c.env"}


def test_junit_parses(tree: tuple[Path, list[str]]) -> None:
    path, _ = tree
    root = ET.fromstring(run_cli("dir", ".", "--format", "junit", cwd=path).out)
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "3"
    clean = ET.fromstring(run_cli("dir", "-", "--format", "junit", input="nothing here").out)
    assert clean.find("testsuite").get("failures") == "0"  # type: ignore[union-attr]


def test_github_annotations(tree: tuple[Path, list[str]]) -> None:
    path, _ = tree
    lines = run_cli("dir", ".", "--format", "github", cwd=path).out.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("::error file=") for line in lines)
    assert any("file=c.env,line=1,col=3" in line for line in lines)


def test_output_file_is_0600_and_reports_are_repeatable(tree: tuple[Path, list[str]]) -> None:
    path, keys = tree
    out = path / "out"
    out.mkdir()
    r = run_cli(
        "dir", "a b.py", "c.env", "-o", str(out / "r.txt"),
        "--report", f"sarif:{out / 'r.sarif'}", "--report", f"json:{out / 'r.json'}", cwd=path,
    )  # fmt: skip
    assert r.code == 1 and r.out == ""
    for name in ("r.txt", "r.sarif", "r.json"):
        p = out / name
        assert (p.stat().st_mode & 0o777) == 0o600
        assert keys[0] not in p.read_text()
    assert json.loads((out / "r.json").read_text())["findings"]
    assert run_cli("dir", ".", "--report", "xml:foo", cwd=path).code == 2


def test_output_to_an_existing_file_becomes_0600_but_a_fifo_keeps_its_mode(tree: tuple[Path, list[str]]) -> None:
    path, keys = tree
    loose = path / "old.json"
    loose.write_text("{}")
    loose.chmod(0o644)
    assert run_cli("dir", "c.env", "-o", str(loose), cwd=path).code == 1
    assert (loose.stat().st_mode & 0o777) == 0o600 and keys[0][:8] in loose.read_text()
    # `-o /dev/stdout` or a device: as root, chmod would change the device node for everyone.
    fifo = path / "pipe"
    os.mkfifo(fifo, 0o644)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    assert run_cli("dir", "c.env", "--format", "jsonl", "-o", str(fifo), cwd=path).code == 1
    out, _ = reader.communicate(timeout=30)
    assert json.loads(out)["path"] == "c.env"
    assert (fifo.stat().st_mode & 0o777) == 0o644


def _on_terminal(path: Path, env: dict[str, str]) -> bytes:
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "wvzscan", "dir", "."], cwd=path, stdout=slave, stderr=slave, env=env)
    p.wait(timeout=60)
    os.close(slave)
    out = b""
    try:
        while chunk := os.read(master, 65536):
            out += chunk
    except OSError:  # EIO once the terminal's other end is closed
        pass
    os.close(master)
    return out


def test_color_only_on_terminal_and_no_color(tree: tuple[Path, list[str]]) -> None:
    path, _ = tree
    env = cli_env()
    assert b"\x1b[1" not in _on_terminal(path, env)  # NO_COLOR is set by cli_env
    env.pop("NO_COLOR")
    assert b"\x1b[1" in _on_terminal(path, env)
    assert "\x1b[" not in run_cli("dir", ".", cwd=path).out


def test_odd_file_names_in_every_format(tmp_path: Path) -> None:
    import zipfile

    key = make_key()
    names = ["dir with space/a#b%c.txt", "ünï/ç.env", "c:colon,comma.txt"]
    names += ["ctl\x01name.txt", "new\nline.txt", "esc\x1b[2J.txt"]
    for name in names:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"k={key}\n")
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.writestr("sub/in ner.env", f"k={key}\n")
    sarif = run_cli("dir", ".", "--format", "sarif", cwd=tmp_path).json()
    schema = sarif_schema()
    jsonschema.validate(sarif, schema, format_checker=jsonschema.FormatChecker())
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"])
    assert uris == sorted(
        [
            "dir%20with%20space/a%23b%25c.txt", "%C3%BCn%C3%AF/%C3%A7.env", "c%3Acolon,comma.txt",
            "ctl%01name.txt", "new%0Aline.txt", "esc%1B%5B2J.txt", "a.zip",
        ]
    )  # fmt: skip
    # A key in an archive points code scanning at the archive; the member and line are in the message.
    (member,) = [
        r
        for r in sarif["runs"][0]["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a.zip"
    ]
    assert "region" not in member["locations"][0]["physicalLocation"]
    assert "In archive member sub/in ner.env, line 1." in member["message"]["text"]
    absolute = run_cli("dir", str(tmp_path / "ünï"), "--format", "sarif").json()
    uri = absolute["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and uri.endswith("/%C3%BCn%C3%AF/%C3%A7.env")
    # JUnit stays well-formed XML; the text report keeps one line per location and no raw ESC.
    suite = ET.fromstring(run_cli("dir", ".", "--format", "junit", cwd=tmp_path).out).find("testsuite")
    assert suite is not None and suite.get("failures") == "7"
    text = run_cli("dir", ".", cwd=tmp_path).out
    assert "\x1b" not in text and "\x01" not in text
    assert "new\\nline.txt:1:3" in text and "esc\\x1b[2J.txt:1:3" in text
    stdin = run_cli("dir", "-", "--format", "sarif", input=f"k={key}\n").json()
    jsonschema.validate(stdin, schema, format_checker=jsonschema.FormatChecker())


def test_github_annotation_for_an_archive_member_points_at_the_archive(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as z:
        z.writestr("inner/.env", f"K={make_key()}\n")
    (line,) = run_cli("dir", ".", "--format", "github", cwd=tmp_path).out.splitlines()
    assert line.startswith("::error file=bundle.zip,title=") and "line=" not in line.split("::")[1]
    assert "bundle.zip!inner/.env:1:3" in line
