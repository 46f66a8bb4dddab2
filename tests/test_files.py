"""The files source through the real CLI: trees, odd files, odd names, skips and errors."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.helpers import make_key, run_cli


def scan_json(*args: str, cwd: Path | None = None, input: str | bytes | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = run_cli("dir", *args, "--format", "json", cwd=cwd, input=input)
    assert r.code in (0, 1, 3), r.err
    return r.code, r.json()


def test_twenty_kinds_of_files_all_found(tmp_path: Path) -> None:
    keys: dict[str, str] = {}

    def put(name: str, make: object) -> None:
        key = make_key("mixed40" if len(keys) % 3 == 0 else "uuid" if len(keys) % 3 == 1 else "lower32")
        keys[name] = key
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        content = make(key)  # type: ignore[operator]
        if isinstance(content, bytes):
            p.write_bytes(content)
        elif content is not None:
            p.write_text(content)

    put(".env", lambda k: f"WEAVZ_API_KEY={k}\n")
    put("app.py", lambda k: f'import os\nclient = Weavz(api_key="{k}")\n')
    put(
        "web/index.js", lambda k: f"const key = '{k}';\nfetch(url, {{headers: {{Authorization: `Bearer ${{key}}`}}}})\n"
    )
    put("config.json", lambda k: f'{{"weavz": {{"apiKey": "{k}"}}}}\n')
    put("deploy.yaml", lambda k: f"env:\n  - name: WEAVZ_API_KEY\n    value: {k}\n")
    put("settings.toml", lambda k: f'[weavz]\napi_key = "{k}"\n')
    put("app.ini", lambda k: f"[weavz]\nkey={k}\n")
    put("run.sh", lambda k: f'#!/bin/sh\ncurl -H "Authorization: Bearer {k}" https://api.weavz.io\n')
    put("Dockerfile", lambda k: f"FROM python:3.12\nENV WEAVZ_API_KEY={k}\n")
    put("main.tf", lambda k: f'variable "weavz" {{\n  default = "{k}"\n}}\n')
    put("pom.xml", lambda k: f"<project><weavz.key>{k}</weavz.key></project>\n")
    put("page.html", lambda k: f'<script>window.WEAVZ="{k}"</script>\n')
    put("NOTES.md", lambda k: f"# Notes\n\nUse `{k}` for staging.\n")
    put(
        "analysis.ipynb",
        lambda k: '{"cells": [{"cell_type": "code", "outputs": [{"text": ["key: ' + k + '\\n"]}]}]}\n',
    )
    put("server.log", lambda k: f"2026-01-01 INFO auth header=Bearer {k} status=200\n")
    put("app.properties", lambda k: f"weavz.api.key={k}\n")
    put("main.go", lambda k: f'package main\nconst key = "{k}"\n')
    put("Main.java", lambda k: f'class Main {{ static String KEY = "{k}"; }}\n')
    put("data.csv", lambda k: f"name,key\nprod,{k}\n")
    put("bundle.min.js", lambda k: "!function(){var a=1;" * 200 + f'var k="{k}";' + "}();" * 200)
    put(
        "module.pyc",
        lambda k: b"\xa7\r\r\n\x00\x00\x00\x00" + zlib.compress(b"x" * 50) + b"\xda" + k.encode() + b"\x00",
    )

    def sqlite_db(k: str) -> None:
        db = sqlite3.connect(tmp_path / "app.db")
        db.execute("create table t (name text, key text)")
        # Raw scanning sees a key whose cell starts with a separator; glued cells are the archive view's job.
        db.execute("insert into t values (?, ?)", ("prod", "Bearer " + k))
        db.commit()
        db.close()

    put("app.db", sqlite_db)
    code, rep = scan_json(str(tmp_path))
    assert code == 1
    found = {Path(f["path"].split("!")[0]).name: f for f in rep["findings"]}
    assert found["app.db"]["path"].endswith("app.db!t/1/key")  # the SQLite cell, not the raw bytes
    assert {Path(n).name for n in keys} <= set(found)
    for name, key in keys.items():
        f = found[Path(name).name]
        assert f["key_prefix"] == key[:8] and f["status"] == "unverified" and f["source"] == "file"
    assert found[".env"]["line"] == 1 and found[".env"]["column"] == len("WEAVZ_API_KEY=") + 1
    assert all(k not in json_dump(rep) for k in keys.values())


def json_dump(rep: object) -> str:
    import json

    return json.dumps(rep)


def test_placeholders_tree_is_clean(tmp_path: Path) -> None:
    pre = "wvz" + "_"
    (tmp_path / "README.md").write_text(
        f"Set WEAVZ_API_KEY={pre}your_api_key_here\ncurl -H 'Authorization: Bearer {pre}your_key'\n"
        f"example: {pre}ab12cd34ef56gh78ij90kl12mn34op56 and {pre}550e8400-e29b-41d4-a716-446655440000...\n"
        f"masked: {pre}ab12…op56 {pre}ab12**** {pre}ab12...\n"
    )
    code, rep = scan_json(str(tmp_path))
    assert code == 0 and rep["findings"] == []
    code, rep = scan_json(str(tmp_path), "--include-examples")
    assert code == 1 and len(rep["findings"]) == 2


def test_same_key_same_place_reported_once_but_every_place(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "a.txt").write_text(f"{key}\n{key}\n")
    (tmp_path / "b.txt").write_text(f"x {key}\n")
    _, rep = scan_json(str(tmp_path))
    locs = sorted((f["path"], f["line"]) for f in rep["findings"])
    assert locs == [("a.txt", 1), ("a.txt", 2), ("b.txt", 1)] or locs == [
        (str(tmp_path / "a.txt"), 1),
        (str(tmp_path / "a.txt"), 2),
        (str(tmp_path / "b.txt"), 1),
    ]
    assert len({f["fingerprint"] for f in rep["findings"]}) == 1


def test_paths_relative_to_scan_root(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "k.txt").write_text(key)
    _, rep = scan_json(".", cwd=tmp_path)
    assert rep["findings"][0]["path"] == "sub/k.txt"
    _, rep = scan_json("sub", cwd=tmp_path)
    assert rep["findings"][0]["path"] == "sub/k.txt"


def test_git_folders_skipped_and_dir_symlinks_not_followed(tmp_path: Path) -> None:
    key = make_key()
    # git's own folder (a HEAD and an object store): skipped. One that is not a repository is
    # scanned (test_a_git_folder_that_is_no_repository_is_scanned).
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "config").write_text(key)
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "real.txt").write_text(key)
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    code, rep = scan_json(".", cwd=tmp_path)
    assert code == 1
    assert sorted(f["path"] for f in rep["findings"]) == ["link.txt", "real.txt"]
    assert rep["stats"]["skipped"] == {"broken symlink": 1, "directory symlink (not followed)": 1}


def test_special_files_are_counted_skips(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    (tmp_path / "null").symlink_to("/dev/null")
    try:
        code, rep = scan_json(str(tmp_path))
    finally:
        sock.close()
    assert code == 0
    assert rep["stats"]["skipped"] == {"FIFO": 1, "socket": 1, "device": 1}
    r = run_cli("dir", str(tmp_path))
    assert "skipped 1 FIFO, 1 device, 1 socket" in r.out


def test_unreadable_file_makes_clean_scan_exit_3(tmp_path: Path) -> None:
    # Root reads everything, so use a file that fails on read for everyone: /proc/self/mem.
    (tmp_path / "ok.txt").write_text("fine\n")
    (tmp_path / "mem").symlink_to("/proc/self/mem")
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 3, r.err
    errors = r.json()["errors"]
    assert len(errors) == 1 and errors[0]["where"].endswith("mem") and "cannot read" in errors[0]["message"]
    assert "could not be read" in r.err
    assert run_cli("dir", str(tmp_path), "--allow-incomplete").code == 0
    # A finding still wins over incompleteness: exit 1.
    (tmp_path / "k.txt").write_text(make_key())
    assert run_cli("dir", str(tmp_path)).code == 1


def test_text_report_shows_errors_and_says_incomplete(tmp_path: Path) -> None:
    (tmp_path / "mem").symlink_to("/proc/self/mem")
    r = run_cli("dir", ".", cwd=tmp_path)
    assert r.code == 3
    assert "error: mem: cannot read" in r.out and "scan incomplete" in r.out


def test_max_file_size_skips_are_counted(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "big.txt").write_text("x" * 5000 + key)
    (tmp_path / "small.txt").write_text("nothing")
    code, rep = scan_json(str(tmp_path), "--max-file-size", "1000")
    assert code == 0 and rep["stats"]["skipped"] == {"over max_file_size": 1}
    (tmp_path / ".wvzscan.toml").write_text("max_file_size = 1000\n")
    code, rep = scan_json(str(tmp_path))
    assert code == 0 and rep["stats"]["skipped"] == {"over max_file_size": 1}


@pytest.mark.parametrize(
    "name",
    ["with space.txt", "new\nline.txt", "ünïcødé-😀.txt", "-leading-dash.txt", "quote'\"s.txt"],
)
def test_any_file_name(tmp_path: Path, name: str) -> None:
    key = make_key()
    (tmp_path / name).write_text(key)
    code, rep = scan_json(".", cwd=tmp_path)
    assert code == 1 and rep["findings"][0]["path"] == name
    # A leading dash can be named explicitly after `--`.
    r = run_cli("dir", "--format", "json", "--", name, cwd=tmp_path)
    assert r.code == 1 and r.json()["findings"][0]["path"] == name


def test_undecodable_file_name(tmp_path: Path) -> None:
    key = make_key()
    raw = os.fsencode(str(tmp_path)) + b"/bad\xff\xfename.txt"
    with open(raw, "wb") as f:
        f.write(key.encode())
    code, rep = scan_json(".", cwd=tmp_path)
    assert code == 1 and rep["findings"][0]["path"] == "bad\ufffd\ufffdname.txt"
    assert run_cli("dir", ".", cwd=tmp_path).code == 1


def test_binary_and_invalid_utf8(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "blob.bin").write_bytes(
        os.urandom(3000).replace(b"\n", b"") + b"\xff\xfe\x00" + key.encode() + b"\x00\x01"
    )
    _, rep = scan_json(str(tmp_path))
    (f,) = rep["findings"]
    assert f["line"] == 1 and f["column"] > 1


def test_exclude_globs(tmp_path: Path) -> None:
    for rel in ["node_modules/x/k.js", "src/k.py", "src/k.test.py", "docs/k.md"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(make_key())
    _, rep = scan_json(".", "--exclude", "node_modules", "--exclude", "*.test.py", "--exclude", "docs/*", cwd=tmp_path)
    assert [f["path"] for f in rep["findings"]] == ["src/k.py"]
    assert rep["stats"]["skipped"] == {"excluded": 3}


def test_stdin(tmp_path: Path) -> None:
    key = make_key()
    code, rep = scan_json("-", input=f"hello\nkey={key}\n")
    assert code == 1
    (f,) = rep["findings"]
    assert f["source"] == "stdin" and f["path"] is None and (f["line"], f["column"]) == (2, 5)


def test_missing_path_is_exit_2(tmp_path: Path) -> None:
    r = run_cli("dir", str(tmp_path / "nope"))
    assert r.code == 2 and "no such file or directory" in r.err and "Traceback" not in r.err


# The CLI in a process of its own, counting the forks it makes (os.register_at_fork: a real hook, no
# stand-in); the count is the last line of standard error.
_COUNTING_FORKS = (
    "import os, sys\n"
    "forks = [0]\n"
    "os.register_at_fork(before=lambda: forks.__setitem__(0, forks[0] + 1))\n"
    "from wvzscan import cli\n"
    "code = cli.main(sys.argv[1:])\n"
    "print(forks[0], file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def test_large_tree_uses_workers_and_finds_everything(tmp_path: Path) -> None:
    # Over the inline threshold (32 MB), so the forked workers run: results must equal the inline scan.
    from wvzscan.parallel import workers_available

    tree = tmp_path / "tree"
    tree.mkdir()
    keys = [make_key() for _ in range(31)]
    filler = (b"lorem ipsum dolor sit amet " * 40 + b"\n") * 50
    for i in range(700):
        body = filler
        if i % 23 == 0:
            body += keys[i // 23].encode() + b"\n"
        (tree / f"f{i:04d}.txt").write_bytes(body)
    out = tmp_path / "r.json"
    p = subprocess.run(
        [sys.executable, "-c", _COUNTING_FORKS, "dir", str(tree), "--format", "json", "-o", str(out)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        timeout=120,
    )
    assert p.returncode == 1, p.stderr
    rep = json.loads(out.read_text())
    assert rep["stats"]["objects_scanned"] == 700
    assert sorted(f["key_prefix"] for f in rep["findings"]) == sorted(k[:8] for k in keys[:31])
    assert rep["stats"]["bytes_scanned"] > 32 * 1024 * 1024
    forks = int(p.stderr.decode().splitlines()[-1])
    assert forks == (workers_available() if workers_available() > 1 else 0)


def test_a_process_with_threads_of_its_own_scans_a_large_tree_without_forking(tmp_path: Path) -> None:
    # A program calling the engine may run threads; a fork would copy only the calling one, and a lock
    # another held at that moment would stay held in the child for ever. The tree is big enough for
    # workers (INLINE_FILES files), so only the threads keep the scan in this process.
    import threading

    from wvzscan.parallel import INLINE_FILES

    keys = [make_key() for _ in range(5)]
    for i in range(INLINE_FILES + 100):
        body = f"line {i}\n" + (f"token = {keys[i // 500]}\n" if i % 500 == 7 else "")
        (tmp_path / f"f{i:05d}.txt").write_text(body)
    forks: list[int] = []
    armed = threading.Event()
    os.register_at_fork(before=lambda: forks.append(1) if armed.is_set() else None)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    armed.set()
    try:
        code, rep = scan_json(".", cwd=tmp_path)
    finally:
        armed.clear()
        stop.set()
        other.join()
    assert forks == []
    assert code == 1 and rep["stats"]["objects_scanned"] == INLINE_FILES + 100
    assert sorted(f["key_prefix"] for f in rep["findings"]) == sorted(k[:8] for k in keys)


def test_progress_only_on_a_terminal(tmp_path: Path) -> None:
    import pty

    (tmp_path / "a.txt").write_bytes(b"x" * 10_000_000)
    for i in range(40):
        (tmp_path / f"b{i}.txt").write_bytes(b"y" * 1_000_000)
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    p = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time,sys; import wvzscan.progress as p; "
            "pr=p.Progress.for_terminal(False); [ (pr.tick(10**6), time.sleep(0.05)) for _ in range(20)]; pr.done()",
        ],
        stderr=slave,
        stdout=subprocess.PIPE,
        env=env,
        timeout=30,
    )
    os.close(slave)
    out = ""
    try:
        while chunk := os.read(master, 65536):
            out += chunk.decode()
    except OSError:  # EIO once the terminal's other end is closed
        pass
    os.close(master)
    assert p.returncode == 0 and "files" in out and "MB/s" in out
    r = run_cli("dir", str(tmp_path))  # piped: no progress
    assert r.err == ""


def test_symlink_to_an_unreachable_target_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root every target is reachable, so EACCES is simulated; a loop stays a broken symlink.
    from wvzscan.finding import ScanResult
    from wvzscan.sources.files import FileOptions, FileWalker

    (tmp_path / "locked").symlink_to("/nonexistent-dir/secret.env")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    real_stat = os.stat

    def stat(path: str, *a: object, **kw: object) -> os.stat_result:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_stat(path, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", stat)
    result = ScanResult()
    assert list(FileWalker(result, FileOptions()).tasks([str(tmp_path)])) == []
    assert [(e.where.rsplit("/", 1)[-1], e.message) for e in result.errors] == [
        ("locked", "cannot follow symlink: Permission denied")
    ]
    assert result.skipped == {"broken symlink": 1}


def test_named_path_that_cannot_be_accessed_gives_the_reason() -> None:
    # EACCES on a parent folder cannot happen as root; a name too long takes the same path.
    r = run_cli("dir", "x" * 300)
    assert r.code == 2 and "cannot access" in r.err and "File name too long" in r.err


@pytest.mark.parametrize("pattern", ["build", "./build", "/build", "build/gen", "./build/**", "**/gen/*.js"])
def test_config_excludes_apply_however_the_tree_is_named(tmp_path: Path, pattern: str) -> None:
    # Excludes are written relative to the config's folder; `dir /abs/tree`, `dir ./tree` and
    # `dir tree/` from elsewhere must skip the same files as `dir .` inside it.
    key = make_key()
    tree = tmp_path / "tree"
    (tree / "build" / "gen").mkdir(parents=True)
    (tree / "build" / "gen" / "x.js").write_text(f"k='{key}'\n")
    (tree / "src").mkdir()
    (tree / "src" / "build.py").write_text(f"k='{key}'\n")
    (tree / ".wvzscan.toml").write_text(f'exclude = ["{pattern}", "src/deep/"]\n')
    for args, cwd in [((".",), tree), ((str(tree),), tmp_path), (("./tree/",), tmp_path), (("tree",), tmp_path)]:
        _, rep = scan_json(*args, cwd=cwd)
        paths = [f["path"].rsplit("/", 2)[-2:] for f in rep["findings"]]
        assert paths == [["src", "build.py"]], (args, pattern)
        assert rep["stats"]["skipped"] == {"excluded": 1}


def test_pipes_and_devices_named_on_the_command_line_are_read(tmp_path: Path) -> None:
    # `wvzscan dir /dev/stdin` in a pipeline, `wvzscan dir <(git show HEAD:.env)`, a named FIFO:
    # the user asked for this input; skipping it as a "FIFO" was a clean exit 0 over a leaked key.
    key = make_key()
    r = run_cli("dir", "/dev/stdin", "--format", "json", input=f"K={key}\n", in_process=False)
    assert r.code == 1 and [(f["path"], f["line"], f["column"]) for f in r.json()["findings"]] == [("/dev/stdin", 1, 3)]
    fifo = tmp_path / "named.pipe"
    os.mkfifo(fifo)
    (tmp_path / "nothing.txt").write_text("clean\n")
    writer = subprocess.Popen(["sh", "-c", f'printf "%s" "K={key}" > "{fifo}"'])
    r = run_cli("dir", str(fifo), str(tmp_path / "nothing.txt"), "--format", "json", input="")
    writer.wait(timeout=30)
    assert r.code == 1 and r.json()["findings"][0]["path"] == str(fifo)
    # Bounded like a file: /dev/zero never ends; /dev/null is empty and clean.
    r = run_cli("dir", "/dev/zero", "--max-file-size", "4096", "--format", "json")
    assert r.code == 0 and r.json()["stats"]["skipped"] == {"over max_file_size": 1}
    assert run_cli("dir", "/dev/null").code == 0
