"""`wvzscan dir` and the config under hostile input, through the real CLI (issue 11.7, 11.9, 11.10,
13.7, 13.8, 10.3): bounded settings, crashes that are one line and exit 2, iterative walks,
dangling symlinks named on purpose, `.git` folders that are no repository, gitignore semantics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import cli_env, make_key, run_cli
from wvzscan import config


def scan_json(*args: str, cwd: Path | None = None, input: str | bytes | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = run_cli("dir", *args, "--format", "json", cwd=cwd, input=input)
    assert r.code in (0, 1, 3), r.err
    return r.code, r.json()


def one_line_exit_2(r: object, *needles: str) -> None:
    code, err = r.code, r.err  # type: ignore[attr-defined]
    assert code == 2, (code, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)


# --- 11.7: a setting cannot silently switch detection off ------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "shown"),
    [
        ("min_entropy", "99", "from 0 to 3 bits per character"),
        ("min_entropy", "3.5", "from 0 to 3 bits per character"),
        ("max_file_size", "10", "from 256 to 4,294,967,296 bytes"),
        ("max_file_size", str(1 << 40), "from 256 to"),
        ("archive_depth", "1000", "from 0 to 10"),
        ("archive_max_bytes", "100", "from 65,536 to"),
        ("archive_max_ratio", "1", "from 2 to 1,000,000"),
        ("archive_max_entries", str(10**9), "from 1 to 10,000,000"),
    ],
)
def test_every_setting_is_bounded(tmp_path: Path, setting: str, value: str, shown: str) -> None:
    (tmp_path / "k.txt").write_text(make_key())
    (tmp_path / ".wvzscan.toml").write_text(f"{setting} = {value}\n")
    one_line_exit_2(run_cli("dir", ".", cwd=tmp_path), ".wvzscan.toml", setting, shown)


def test_max_file_size_flag_is_bounded_too(tmp_path: Path) -> None:
    (tmp_path / "k.txt").write_text(make_key())
    one_line_exit_2(run_cli("dir", ".", "--max-file-size", "8", cwd=tmp_path), "--max-file-size", "from 256")


def test_settings_within_range_still_find_a_real_key(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "k.txt").write_text(key)
    (tmp_path / ".wvzscan.toml").write_text("min_entropy = 3.0\narchive_depth = 0\nmax_file_size = 256\n")
    code, rep = scan_json(".", cwd=tmp_path)
    assert code == 1 and [f["key_prefix"] for f in rep["findings"]] == [key[:8]]


def test_settings_that_differ_from_the_defaults_are_data_on_the_result(tmp_path: Path) -> None:
    from wvzscan.finding import ScanResult

    assert config.changed_settings(config.Config()) == {}
    (tmp_path / ".wvzscan.toml").write_text(
        'min_entropy = 2.5\ndecode = ["base64"]\narchive_depth = 1\nexclude = ["vendor"]\ninclude_examples = true\n'
    )
    cfg = config.load(None, str(tmp_path))
    assert config.changed_settings(cfg) == {
        "min_entropy": 2.5,
        "decode": ["base64"],
        "archive_depth": 1,
        "exclude": ["vendor"],
        "include_examples": True,
    }
    assert ScanResult().settings == {}


@pytest.mark.parametrize(
    ("toml", "needles"),
    [
        ("min_entrpy = 2\n", ("unknown setting(s): min_entrpy (did you mean 'min_entropy'?)",)),
        ("[exclud]\nx = 1\n", ("unknown table(s): [exclud] (did you mean 'exclude'?)",)),
        ("[archives]\ndepth = 1\n", ("unknown table(s): [archives]",)),
        ("[key]\nrotation_days = 1\n", ("unknown table(s): [key] (did you mean 'keys'?)",)),
        ("zzz = 1\n", ("unknown setting(s): zzz",)),
        ("exlude = []\nmax_file_sise = 300\n", ("'exclude' for 'exlude'", "'max_file_size' for 'max_file_sise'")),
    ],
)
def test_unknown_settings_and_tables_are_errors_with_a_hint(tmp_path: Path, toml: str, needles: tuple[str]) -> None:
    (tmp_path / ".wvzscan.toml").write_text(toml)
    one_line_exit_2(run_cli("dir", ".", cwd=tmp_path), *needles)


def test_the_keys_table_is_known(tmp_path: Path) -> None:
    (tmp_path / ".wvzscan.toml").write_text("[keys]\nrotation_days = 30\n")
    assert run_cli("dir", ".", cwd=tmp_path).code == 0


# --- 11.9: a crash is never "findings" ---------------------------------------------------------------


def test_a_500_level_tree_is_walked_not_a_recursion_error(tmp_path: Path) -> None:
    key = make_key()
    deep = tmp_path.joinpath(*["d"] * 500)
    deep.mkdir(parents=True)
    (deep / "k.env").write_text(f"K={key}\n")
    (tmp_path / "top.txt").write_text("clean\n")
    code, rep = scan_json(".", cwd=tmp_path)
    assert code == 1, rep
    assert [f["path"] for f in rep["findings"]] == ["/".join(["d"] * 500) + "/k.env"]
    assert rep["errors"] == [] and rep["stats"]["objects_scanned"] == 2
    code, rep = scan_json(".", "--respect-gitignore", "--exclude", "nothing", cwd=tmp_path)
    assert code == 1 and len(rep["findings"]) == 1


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "not UTF-8"),
        (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
        (b"x = 1\n" * (1 << 20), "larger than 4 MiB"),
    ],
    ids=["binary", "deep", "huge"],
)
def test_binary_deep_or_huge_config_is_one_line_exit_2(tmp_path: Path, content: bytes, needle: str) -> None:
    (tmp_path / ".wvzscan.toml").write_bytes(content)
    one_line_exit_2(run_cli("dir", ".", cwd=tmp_path), ".wvzscan.toml", needle)
    # The same through --config and in a pyproject that mentions us.
    one_line_exit_2(run_cli("dir", ".", "--config", str(tmp_path / ".wvzscan.toml"), cwd=tmp_path), needle)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\xff\xfe\x00\x01binary", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"findings": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}", "nested too deeply"),
    ],
    ids=["binary", "deep-array", "deep-in-findings"],
)
def test_binary_or_deep_baseline_is_one_line_exit_2(tmp_path: Path, content: bytes, needle: str) -> None:
    (tmp_path / "k.txt").write_text(make_key())
    (tmp_path / "base.json").write_bytes(content)
    one_line_exit_2(run_cli("dir", "k.txt", "--baseline", "base.json", cwd=tmp_path), "base.json", needle)


def _closed_stdin(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # `wvzscan dir - <&-`: the process starts with file descriptor 0 closed.
    return subprocess.run(
        [sys.executable, "-m", "wvzscan", *args],
        cwd=cwd,
        stdin=None,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        preexec_fn=lambda: os.close(0),
    )


def test_closed_stdin_is_one_line_exit_2(tmp_path: Path) -> None:
    for args in (("dir", "-"), ("dir", "/dev/stdin")):
        p = _closed_stdin(*args, cwd=tmp_path)
        assert p.returncode == 2, (args, p.stderr)
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "standard input is closed" in _closed_stdin("dir", "-", cwd=tmp_path).stderr


# --- 11.10: dangling symlinks named on purpose, `.git` folders that are no repository ----------------


def test_a_dangling_symlink_named_on_the_command_line_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "dangling.env").symlink_to(tmp_path / "gone.env")
    (tmp_path / "ok.txt").write_text("fine\n")
    one_line_exit_2(run_cli("dir", "ok.txt", "dangling.env", cwd=tmp_path), "no such file or directory", "dangling.env")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    one_line_exit_2(run_cli("dir", "loop", cwd=tmp_path), "loop")
    # Inside a tree it stays what it was: a counted skip.
    code, rep = scan_json(".", cwd=tmp_path)
    assert code == 0 and rep["stats"]["skipped"] == {"broken symlink": 2}


@pytest.mark.parametrize(
    "make",
    [
        lambda g: None,  # an empty folder
        lambda g: (g / "HEAD").write_text("ref: refs/heads/main\n"),  # HEAD, no objects
        lambda g: ((g / "objects").mkdir(), (g / "HEAD").write_text("I am not git\n")),  # a HEAD git never wrote
    ],
    ids=["empty", "no-objects", "garbage-head"],
)
def test_a_git_folder_that_is_no_repository_is_scanned(tmp_path: Path, make: object) -> None:
    key = make_key()
    git = tmp_path / "vendor" / ".git"
    git.mkdir(parents=True)
    make(git)  # type: ignore[operator]
    (git / "config").write_text(f"[remote]\nurl = https://x:{key}@example.com\n")
    code, rep = scan_json(".", cwd=tmp_path)
    assert code == 1 and [f["path"] for f in rep["findings"]] == ["vendor/.git/config"]


def test_a_real_repository_folder_is_not_scanned(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".git" / "description").write_text(make_key())
    (tmp_path / "a.txt").write_text("clean\n")
    code, rep = scan_json(".", cwd=tmp_path)
    assert code == 0 and rep["stats"]["objects_scanned"] == 1


# --- 13.8: gitignore semantics for excludes; --respect-gitignore --------------------------------------


def _tree(root: Path, rels: list[str]) -> dict[str, str]:
    keys = {}
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        keys[rel] = make_key()
        p.write_text(f"K={keys[rel]}\n")
    return keys


FILES = ["build/out.js", "src/build/gen.py", "src/app.env", "src/keep.env", "logs/a/b/x.log", "top.env"]


@pytest.mark.parametrize(
    ("patterns", "found", "skipped"),
    [
        (["/build"], ["logs/a/b/x.log", "src/app.env", "src/build/gen.py", "src/keep.env", "top.env"], 1),  # anchored
        (["build/"], ["logs/a/b/x.log", "src/app.env", "src/keep.env", "top.env"], 2),  # a folder anywhere
        (["*.env", "!keep.env"], ["build/out.js", "logs/a/b/x.log", "src/build/gen.py", "src/keep.env"], 2),
        (["logs/**/*.log"], ["build/out.js", "src/app.env", "src/build/gen.py", "src/keep.env", "top.env"], 1),
        (["src/*"], ["build/out.js", "logs/a/b/x.log", "top.env"], 3),  # `*` does not cross `/`...
        (["src/*.py"], FILES[:1] + ["logs/a/b/x.log", "src/app.env", "src/build/gen.py", "src/keep.env", "top.env"], 0),
        (["./top.env"], ["build/out.js", "logs/a/b/x.log", "src/app.env", "src/build/gen.py", "src/keep.env"], 1),
    ],
)
def test_excludes_follow_gitignore_semantics(
    tmp_path: Path, patterns: list[str], found: list[str], skipped: int
) -> None:
    _tree(tmp_path, FILES)
    args = [a for p in patterns for a in ("--exclude", p)]
    _, rep = scan_json(".", *args, cwd=tmp_path)
    assert sorted(f["path"] for f in rep["findings"]) == sorted(found)
    assert rep["stats"]["skipped"] == ({"excluded": skipped} if skipped else {})


def test_a_negation_cannot_reinclude_a_file_in_an_excluded_folder(tmp_path: Path) -> None:
    # As in git: "It is not possible to re-include a file if a parent directory of that file is excluded."
    from wvzscan.sources.files import excluded

    _tree(tmp_path, ["vendor/keep.env", "vendor/x.env"])
    _, rep = scan_json(".", "--exclude", "vendor/", "--exclude", "!vendor/keep.env", cwd=tmp_path)
    assert rep["findings"] == [] and rep["stats"]["skipped"] == {"excluded": 1}
    # The same answer for paths in git history (no folders to prune there).
    assert excluded("vendor/keep.env", ("vendor/", "!vendor/keep.env"))
    assert not excluded("vendor/keep.env", ("vendor/*", "!vendor/keep.env"))


def test_respect_gitignore_skips_what_git_ignores(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _tree(tmp_path, ["app.env", "dist/bundle.js", "sub/local.env", "sub/keep.env", "sub/deep/cache.tmp", "notes.txt"])
    (tmp_path / ".gitignore").write_text("dist/\n*.tmp\n# comment\n")
    (tmp_path / "sub" / ".gitignore").write_text("*.env\n!keep.env\n")
    (tmp_path / ".git" / "info").mkdir(exist_ok=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("notes.txt\n")
    code, rep = scan_json(".", "--respect-gitignore", cwd=tmp_path)
    assert code == 1
    assert sorted(f["path"] for f in rep["findings"]) == ["app.env", "sub/keep.env"]
    assert rep["stats"]["skipped"] == {"ignored by .gitignore": 4}
    # git agrees on every file.
    ignored = subprocess.run(
        ["git", "-C", str(tmp_path), "ls-files", "--others", "--ignored", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(ignored) == ["dist/bundle.js", "notes.txt", "sub/deep/cache.tmp", "sub/local.env"]
    # A subfolder scanned on its own still honours the .gitignore files above it.
    code, rep = scan_json("sub", "--respect-gitignore", cwd=tmp_path)
    assert sorted(f["path"] for f in rep["findings"]) == ["sub/keep.env"]
    assert rep["stats"]["skipped"] == {"ignored by .gitignore": 2}
    # Without the flag, everything is scanned.
    _, rep = scan_json(".", cwd=tmp_path)
    assert len(rep["findings"]) == 6


def test_pathspec_is_imported_only_when_a_pattern_needs_it(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("clean\n")
    code = (
        "import atexit, sys; atexit.register(lambda: print('pathspec' in sys.modules, file=sys.stderr)); "
        "from wvzscan.cli import main; sys.exit(main(sys.argv[1:]))"
    )

    def loaded(*args: str) -> bool:
        p = subprocess.run(
            [sys.executable, "-c", code, "dir", ".", *args], cwd=tmp_path, capture_output=True, text=True, env=cli_env()
        )
        assert p.returncode == 0, p.stderr
        return p.stderr.strip().splitlines()[-1] == "True"

    assert not loaded()
    assert loaded("--exclude", "x")
    assert not loaded("--respect-gitignore")  # no .gitignore anywhere: nothing to compile
    (tmp_path / ".gitignore").write_text("*.log\n")
    assert loaded("--respect-gitignore")
    assert not loaded()


# --- 10.3: options a source cannot honour; --max-file-size everywhere on the file side ---------------


def test_options_stdin_cannot_honour_are_refused(tmp_path: Path) -> None:
    one_line_exit_2(run_cli("dir", "-", "--exclude", "*.env", input="x"), "--exclude does not apply to standard input")
    one_line_exit_2(run_cli("dir", "-", "--respect-gitignore", input="x"), "--respect-gitignore")
    # With a path beside `-`, they apply to the path.
    (tmp_path / "a.txt").write_text("clean\n")
    assert run_cli("dir", "-", "a.txt", "--exclude", "*.env", input="x", cwd=tmp_path).code == 0


def test_max_file_size_bounds_standard_input(tmp_path: Path) -> None:
    key = make_key()
    code, rep = scan_json("-", "--max-file-size", "1024", input="x" * 2000 + key)
    assert code == 0 and rep["stats"]["skipped"] == {"over max_file_size": 1}
    code, rep = scan_json("-", "--max-file-size", "1024", input=key)
    assert code == 1


def test_files_whose_size_says_nothing_are_read_to_the_end() -> None:
    # /proc files have st_size 0 and content: the read goes on past the size fstat gave.
    code, rep = scan_json("/proc/self/status")
    assert code == 0 and rep["stats"]["bytes_scanned"] > 100
