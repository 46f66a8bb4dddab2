"""output/writer.py: no file wvzscan writes follows a link or widens damage (issue 11, class 1)."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from tests.helpers import make_key, run_cli
from wvzscan.errors import WvzscanError
from wvzscan.output import writer


@pytest.fixture
def victim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file outside the scanned folder that a planted link points at: it must stay untouched."""
    v = tmp_path_factory.mktemp("outside") / "victim.txt"
    v.write_text("precious\n")
    v.chmod(0o644)
    return v


def _untouched(v: Path) -> None:
    assert v.read_text() == "precious\n" and (v.stat().st_mode & 0o777) == 0o644


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.env").write_text(f"K={make_key()}\n")
    return tmp_path


@pytest.mark.parametrize("option", ["-o", "--report"])
def test_a_symlink_planted_at_a_report_path_is_refused(tree: Path, victim: Path, option: str) -> None:
    (tree / "wvzscan.sarif").symlink_to(victim)
    args = ["-o", "wvzscan.sarif"] if option == "-o" else ["--report", "sarif:wvzscan.sarif"]
    r = run_cli("dir", "src", *args, cwd=tree)
    assert r.code == 2, r.err
    assert "symbolic link" in r.err and "Traceback" not in r.err
    _untouched(victim)
    assert (tree / "wvzscan.sarif").is_symlink()


def test_a_dangling_symlink_is_refused_and_nothing_is_created(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    target = tmp_path_factory.mktemp("elsewhere") / "created-through-link.json"
    (tree / "r.json").symlink_to(target)
    r = run_cli("dir", "src", "--format", "json", "-o", "r.json", cwd=tree)
    assert r.code == 2 and "symbolic link" in r.err
    assert not target.exists()


def test_a_symlinked_folder_in_a_relative_path_is_refused(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside-dir")
    (outside / "r.sarif").write_text("precious\n")
    (tree / "results").symlink_to(outside, target_is_directory=True)
    r = run_cli("dir", "src", "--report", "sarif:results/r.sarif", cwd=tree)
    assert r.code == 2 and "results" in r.err
    assert (outside / "r.sarif").read_text() == "precious\n"
    assert sorted(os.listdir(outside)) == ["r.sarif"]


def test_a_directory_is_refused(tree: Path) -> None:
    (tree / "out").mkdir()
    r = run_cli("dir", "src", "-o", "out", cwd=tree)
    assert r.code == 2 and "directory" in r.err


def test_a_hard_link_is_replaced_not_written_through(tree: Path) -> None:
    other = tree / "victim-hard.txt"
    other.write_text("precious\n")
    other.chmod(0o644)
    os.link(other, tree / "r.txt")
    assert run_cli("dir", "src", "-o", "r.txt", cwd=tree).code == 1
    _untouched(other)
    assert "fingerprint" in (tree / "r.txt").read_text() and ((tree / "r.txt").stat().st_mode & 0o777) == 0o600


def test_dev_stdout_and_a_named_descriptor_are_streams(tree: Path) -> None:
    r = run_cli("dir", "src", "--format", "jsonl", "-o", "/dev/stdout", cwd=tree)
    assert r.code == 1 and '"path": "src/app.env"' in r.out
    # `--report json:/dev/fd/3` with `3>file`: written at the descriptor, the shell's file kept as it is.
    out = tree / "fd3.json"
    script = f'python -m wvzscan dir src --report json:/dev/fd/3 3>"{out}"'
    from tests.helpers import cli_env

    p = subprocess.run(["bash", "-c", script], cwd=tree, env=cli_env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr
    assert '"findings"' in out.read_text()


def test_a_fifo_is_written_as_a_stream_and_keeps_its_mode(tree: Path) -> None:
    fifo = tree / "pipe"
    os.mkfifo(fifo, 0o644)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = run_cli("dir", "src", "--format", "jsonl", "--report", f"json:{fifo}", cwd=tree)
    reader.join(30)
    assert r.code == 1 and b'"findings"' in got[0]
    assert (fifo.stat().st_mode & 0o777) == 0o644


def test_baseline_output_refuses_a_symlink(tree: Path, victim: Path) -> None:
    (tree / ".wvzscan-baseline.json").symlink_to(victim)
    r = run_cli("baseline", "src", "-o", ".wvzscan-baseline.json", cwd=tree)
    assert r.code == 2 and "symbolic link" in r.err
    _untouched(victim)
    assert run_cli("baseline", "src", "-o", "b.json", cwd=tree).code == 0
    assert ((tree / "b.json").stat().st_mode & 0o777) == 0o600


# The functions other modules call (the audit log, rotated-key files, the GitHub summary).


def test_append_private(tmp_path: Path, victim: Path) -> None:
    log = tmp_path / "audit.jsonl"
    with writer.append_private(str(log)) as f:
        f.write("one\n")
    log.chmod(0o644)
    with writer.append_private(str(log)) as f:
        f.write("two\n")
    assert log.read_text() == "one\ntwo\n" and (log.stat().st_mode & 0o777) == 0o600
    (tmp_path / "link.jsonl").symlink_to(victim)
    with pytest.raises(WvzscanError, match="symbolic link"):
        writer.append_private(str(tmp_path / "link.jsonl"))
    (tmp_path / "dangling.jsonl").symlink_to(tmp_path / "nowhere")
    with pytest.raises(WvzscanError, match="symbolic link"):
        writer.append_private_fd(str(tmp_path / "dangling.jsonl"))
    assert not (tmp_path / "nowhere").exists()
    os.link(log, tmp_path / "hard.jsonl")
    with pytest.raises(WvzscanError, match="hard link"):
        writer.append_private(str(log))
    with pytest.raises(WvzscanError, match="directory"):
        writer.append_private(str(tmp_path))
    _untouched(victim)


def test_append_to_a_file_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to make a file owned by another user")  # CI runs as root in this container
    log = tmp_path / "theirs.jsonl"
    log.write_text("")
    os.chown(log, 12345, 12345)
    with pytest.raises(WvzscanError, match="another user"):
        writer.append_private(str(log))


def test_write_new_private(tmp_path: Path, victim: Path) -> None:
    new = tmp_path / "new.env"
    writer.write_new_private(str(new), "K=v\n")
    assert new.read_text() == "K=v\n" and (new.stat().st_mode & 0o777) == 0o600
    with pytest.raises(WvzscanError, match="already exists"):
        writer.write_new_private(str(new), "again")
    (tmp_path / "planted.env").symlink_to(victim)
    with pytest.raises(WvzscanError, match="symbolic link"):
        writer.write_new_private(str(tmp_path / "planted.env"), "K=v\n")
    _untouched(victim)


def test_write_private_never_leaves_a_partial_or_temporary_file(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    p.write_text("old")
    writer.write_private(str(p), "new \udcff name")  # a surrogate-escaped byte: written, not a crash
    assert p.read_text() == "new \\xff name"
    assert sorted(os.listdir(tmp_path)) == ["r.json"]
