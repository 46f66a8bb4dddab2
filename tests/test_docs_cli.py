"""What a new user reads: the blocked commit, the incomplete scan, help, -V, `scan`, completion, progress."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests.helpers import git, init_repo, make_key, run_cli
from wvzscan import __version__
from wvzscan.commands.summary import (
    blocked_commit_message,
    group_errors,
    incomplete_summary,
    plural,
    way_to_clean_run,
)
from wvzscan.finding import ScanError, ScanResult
from wvzscan.progress import Progress


def test_plural() -> None:
    assert plural(1, "key") == "1 key" and plural(0, "key") == "0 keys" and plural(2, "entry", "entries") == "2 entries"


def test_blocked_commit_message_names_the_three_ways_on() -> None:
    one, three = blocked_commit_message(1), blocked_commit_message(3)
    assert one.startswith("wvzscan: commit blocked: 1 key would be committed.")
    assert three.startswith("wvzscan: commit blocked: 3 keys would be committed.")
    for way in ("revoke", "# wvzscan:allow", "[[allow]]", "--no-verify", "SKIP=wvzscan"):
        assert way in one
    assert len(one.splitlines()) <= 7


def _corrupt(n: int) -> ScanResult:
    r = ScanResult()
    for i in range(n):
        r.error(f"fixtures/bad{i:02d}.zip", f"cannot read zip archive: Bad magic number {i}")
    return r


def test_similar_errors_are_one_line_with_a_count_and_the_first_paths() -> None:
    r = _corrupt(24)
    r.error("secret.env", "cannot read: Permission denied")
    groups = group_errors(r.errors)
    assert [(g.count, g.message) for g in groups] == [
        (24, "cannot read zip archive"),
        (1, "cannot read: Permission denied"),
    ]
    lines = incomplete_summary(r)
    assert len(lines) == 3
    assert lines[0] == (
        "wvzscan: 24 items: cannot read zip archive (fixtures/bad00.zip, fixtures/bad01.zip, fixtures/bad02.zip "
        "and 21 more; all in the JSON report)"
    )
    assert lines[1] == "wvzscan: secret.env: cannot read: Permission denied"
    assert lines[2].startswith("wvzscan: scan incomplete: 25 items could not be read (unreadable files or archives).")
    assert "--exclude PATH" in lines[2] and "--allow-incomplete" in lines[2]


def test_the_last_line_names_each_cause_and_its_way_out() -> None:
    r = ScanResult()
    r.error("git object " + "ab" * 20, "object is missing from the repository")
    assert "fetch the missing objects" in way_to_clean_run(r) and "1 item could not be read" in way_to_clean_run(r)
    assert "--exclude" not in way_to_clean_run(r)
    r.error("verify wvz_abcd… (a.env:1:1)", "timeout after 3 tries")
    assert "re-run --verify" in way_to_clean_run(r) and "2 items" in way_to_clean_run(r)
    assert incomplete_summary(ScanResult()) == []
    damaged = ScanResult()
    damaged.error("git object " + "cd" * 20, "cannot read object: git cat-file gave no whole answer for it")
    assert "git fsck" in way_to_clean_run(damaged) and "fetch the missing" not in way_to_clean_run(damaged)
    # A text report on stdout already lists the errors: only the way out is added.
    assert incomplete_summary(r, errors_shown=True) == [way_to_clean_run(r)]


def test_error_lines_escape_control_characters() -> None:
    r = ScanResult(errors=[ScanError("evil\x1b[2J\nname", "cannot read: x")])
    assert "\x1b" not in "".join(incomplete_summary(r)) and "\\x1b" in incomplete_summary(r)[0]


def test_exit_3_over_24_corrupt_archives_explains_itself(tmp_path: Path) -> None:
    for i in range(24):
        (tmp_path / f"bad{i:02d}.zip").write_bytes(b"PK\x03\x04" + bytes(range(40)) * 3)
    report = tmp_path / "report.json"
    r = run_cli("dir", str(tmp_path), "--format", "json", "-o", str(report))
    assert r.code == 3, r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 2, r.err
    assert lines[0].startswith("wvzscan: 24 items: ") and "and 21 more" in lines[0]
    assert lines[1].startswith("wvzscan: scan incomplete: 24 items") and "--allow-incomplete" in lines[1]
    assert len(json.loads(report.read_text())["errors"]) == 24  # the full list stays in the JSON report


def test_staged_blocked_and_clean(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    (repo / "ok.txt").write_text("nothing here\n")
    git(repo, "add", ".")
    clean = run_cli("staged", cwd=repo)
    assert (clean.code, clean.out, clean.err) == (0, "", "")  # a clean commit prints nothing
    key = make_key()
    (repo / "a.env").write_text(f"K={key}\n")
    (repo / "b.env").write_text(f"K={make_key()}\nK2={key}\n")
    git(repo, "add", ".")
    r = run_cli("staged", cwd=repo)
    assert r.code == 1 and key not in r.out + r.err
    assert "commit blocked: 2 keys would be committed" in r.err and "--no-verify" in r.err
    assert "commit blocked" not in run_cli("dir", str(repo)).err  # only the hook says "commit"


def test_version_flag() -> None:
    for flag in ("-V", "--version"):
        r = run_cli(flag)
        assert r.code == 0 and r.out.strip() == f"wvzscan, version {__version__}"


def test_help_groups_commands_and_keeps_summaries_whole() -> None:
    r = run_cli("--help", env={"COLUMNS": "200"})
    assert r.code == 0
    for title in ("Find keys:", "Respond to a leak", "Set up:"):
        assert title in r.out
    assert r.out.index("Find keys:") < r.out.index("  dir ") < r.out.index("Set up:") < r.out.index("install-hooks")
    commands = r.out[r.out.index("Find keys:") :]
    assert "..." not in commands  # click cuts summaries at 45 characters with "..."
    assert "  scan " not in r.out  # the pointer is hidden


def test_scan_points_at_dir_and_repo() -> None:
    r = run_cli("scan", "src", "--verify")
    assert r.code == 2
    assert "wvzscan dir src" in r.err and "wvzscan repo src" in r.err and "Traceback" not in r.err


def test_completion_scripts_and_the_completion_itself() -> None:
    for shell in ("bash", "zsh", "fish"):
        r = run_cli("completion", shell)
        assert r.code == 0 and "_WVZSCAN_COMPLETE" in r.out, (shell, r.err)
    r = run_cli(env={"_WVZSCAN_COMPLETE": "bash_complete", "COMP_WORDS": "wvzscan re", "COMP_CWORD": "1"})
    assert r.out.split() == ["plain,repo", "plain,revoke"]


def test_progress_fits_the_terminal_and_shows_an_eta() -> None:
    for width in (20, 40, 80, 200):
        out = io.StringIO()
        p = Progress(True, what="objects", stream=out, columns=width)
        p.total_count = 1_000_000
        p.total_bytes = 5_000_000_000
        p.start -= 10
        p._last -= 10
        p.tick(1_250_000_000, 250_000)
        drawn = out.getvalue()
        assert drawn.startswith("\r") and "\n" not in drawn
        line = drawn.rsplit("\r", 1)[-1]
        assert 0 < len(line) <= width, (width, line)
        if width >= 80:  # a quarter done in 10 s: 30 s left
            assert "25%" in line and "1.25G/5.00G" in line and "<00:30" in line, line
        if width >= 200:
            assert "250,000 of 1,000,000 objects" in line, line
        p.done()
        assert out.getvalue().endswith("\r") and out.getvalue().rsplit("\r", 2)[-2].strip() == ""


def test_progress_counts_objects_when_no_size_is_known() -> None:
    out = io.StringIO()
    p = Progress(True, what="objects", stream=out, columns=100)
    p.total_count = 1000
    p.start -= 10
    p._last -= 10
    p.tick(0, 250)
    assert "250/1000" in out.getvalue() and "objects/s" in out.getvalue()
    p.done()


def test_progress_is_silent_when_disabled_or_quick() -> None:
    out = io.StringIO()
    p = Progress(False, stream=out)
    p.tick(100)
    p.done()
    quick = Progress(True, stream=out)
    quick.tick(100)  # within the first half second: nothing drawn, nothing to erase
    quick.done()
    assert out.getvalue() == ""


def test_format_github_also_writes_the_step_summary(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "a.env").write_text(f"K={key}\n")
    summary = tmp_path / "summary.md"
    r = run_cli("dir", str(tmp_path / "a.env"), "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert r.code == 1 and r.out.startswith("::error ")
    md = summary.read_text()
    assert "1 Weavz API key found" in md and key[:8] in md and key not in md
    assert not (tmp_path / "other.md").exists()
    r = run_cli("dir", str(tmp_path / "a.env"), "--format", "github")  # no variable, no summary
    assert r.code == 1 and summary.read_text() == md


def test_an_unreachable_api_is_named_as_the_cause(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text(f"K={make_key()}\n")
    # Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
    r = run_cli("dir", ".", "--verify", "--api-url", "http://127.0.0.1:9", "-q", "--format", "json", cwd=tmp_path)
    assert r.code == 1
    lines = r.err.splitlines()
    assert sum("cannot reach the Weavz API at http://127.0.0.1:9" in ln for ln in lines) == 1
    assert "keys the Weavz API did not check" in lines[-1] and "re-run --verify" in lines[-1]
    assert "unreadable files" not in r.err
