"""``wvzscan staged``: keys on the lines the next commit adds, nothing else."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_file, git, init_repo, make_key, run_cli


def staged(repo: Path) -> tuple[int, list[dict[str, object]]]:
    r = run_cli("staged", "--format", "json", cwd=repo)
    assert r.code in (0, 1), r.err
    return r.code, r.json()["findings"]


def test_first_commit_of_a_repository(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    (repo / "app.env").write_text(f"A=1\nK={key}\n")
    git(repo, "add", "app.env")
    code, found = staged(repo)
    assert code == 1 and [(f["path"], f["line"], f["source"], f["commit"]) for f in found] == [
        ("app.env", 2, "staged", None)
    ]


def test_one_added_line_and_an_untouched_old_key(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    old = make_key()
    commit_file(repo, "a.py", f'OLD = "{old}"\nx = 1\n', "old key already committed")
    (repo / "a.py").write_text(f'OLD = "{old}"\nx = 2\n')
    git(repo, "add", "a.py")
    assert staged(repo) == (0, [])
    new = make_key()
    (repo / "a.py").write_text(f'OLD = "{old}"\nx = 2\nNEW = "{new}"\n')
    git(repo, "add", "a.py")
    code, found = staged(repo)
    assert code == 1 and [(f["path"], f["line"]) for f in found] == [("a.py", 3)]
    assert found[0]["key_prefix"] == new[:8]


def test_unstaged_changes_are_not_what_the_commit_records(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "a.txt", "a\n", "init")
    (repo / "a.txt").write_text(f"a\n{make_key()}\n")
    assert staged(repo) == (0, [])


def test_rename_and_deletion_add_nothing(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    commit_file(repo, "old.env", "".join(f"LINE{i}=x\n" for i in range(20)) + f"K={key}\n", "add")
    commit_file(repo, "gone.env", f"K={key}\n", "add another")
    git(repo, "mv", "old.env", "new.env")
    git(repo, "rm", "-q", "gone.env")
    assert staged(repo) == (0, [])
    (repo / "new.env").write_text("".join(f"LINE{i}=y\n" for i in range(5)) + f"K={key}\n")
    git(repo, "add", "new.env")
    assert staged(repo) == (0, [])  # renamed and edited, the key's line untouched
    git(repo, "rm", "-q", "--cached", "new.env")
    (repo / "elsewhere.env").write_text(f"totally different\nK={key}\n")
    git(repo, "add", "elsewhere.env")
    assert staged(repo) == (0, [])  # the key moved to another file: nothing new leaks


def test_binary_file_and_odd_name(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "a.txt", "a\n", "init")
    key = make_key()
    name = 'dätä\n"bin".db'
    (repo / name).write_bytes(b"\x00\x01SQLite\x00" * 100 + key.encode() + b"\x00\xff")
    git(repo, "add", "--", name)
    code, found = staged(repo)
    assert code == 1 and found[0]["path"] == name


def test_not_a_repository_and_bare(tmp_path: Path) -> None:
    r = run_cli("staged", cwd=tmp_path)
    assert r.code == 2 and "not a git repository" in r.err
    git(tmp_path, "init", "-q", "--bare", "b.git")
    r = run_cli("staged", cwd=tmp_path / "b.git")
    assert r.code == 2 and "bare" in r.err


def test_staged_does_not_import_heavy_modules(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import cli_env

    repo = init_repo(tmp_path / "r")
    code = (
        "import sys, runpy\n"
        "sys.argv = ['wvzscan', 'staged']\n"
        "try:\n    runpy.run_module('wvzscan', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('git', 'httpx', 'threading_unused') if m in sys.modules))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, env=cli_env())
    assert p.stdout.strip().splitlines()[-1] == "[]", p.stderr


def test_clean_staged_run_skips_what_it_does_not_need(tmp_path: Path) -> None:
    """A hook's clean run: no TOML parser for a pyproject.toml without [tool.wvzscan], no temp files, JSON, hashing."""
    import subprocess
    import sys

    from tests.helpers import cli_env

    repo = init_repo(tmp_path / "r")
    commit_file(repo, "pyproject.toml", '[project]\nname = "x"\n', "init")
    (repo / "a.txt").write_text("one line\n")
    git(repo, "add", "a.txt")
    code = (
        "import sys, runpy\n"
        "sys.argv = ['wvzscan', 'staged']\n"
        "try:\n    runpy.run_module('wvzscan', run_name='__main__')\n"
        "except SystemExit as e:\n    print('exit', e.code)\n"
        "print(sorted(m for m in ('tomllib', 'tempfile', 'json', 'hashlib') if m in sys.modules))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, env=cli_env())
    assert p.stdout.strip().splitlines()[-2:] == ["exit 0", "[]"], p.stdout + p.stderr
    # A pyproject.toml that does configure wvzscan is still read.
    commit_file(repo, "pyproject.toml", '[tool.wvzscan]\nexclude = ["a.txt"]\n', "configure")
    (repo / "a.txt").write_text(f"{make_key()}\n")
    git(repo, "add", "a.txt")
    r = run_cli("staged", "--format", "json", cwd=repo)
    assert r.code == 0 and r.json()["stats"]["skipped"] == {"excluded": 1}, r.err
