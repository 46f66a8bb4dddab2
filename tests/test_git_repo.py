"""``wvzscan repo`` on real repositories: every hiding place, found and traced to its commit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import commit_file, git, init_repo, make_key, run_cli


def scan(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    r = run_cli("repo", *args, "--format", "json", cwd=cwd, env=env)
    assert r.code in (0, 1, 3), r.err
    return r.code, r.json()


def by_key(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    prefix = key[:8]
    return [f for f in doc["findings"] if f["key_prefix"] == prefix]


def test_key_committed_then_deleted_is_traced_to_its_commit(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "README.md", "hello\n", "init")
    key = make_key()
    added = commit_file(repo, "config/.env", f"A=1\nWEAVZ_API_KEY={key}\n", "add config")
    git(repo, "rm", "-q", "config/.env")
    git(repo, "commit", "-q", "-m", "remove config")
    code, doc = scan(str(repo))
    assert code == 1
    (f,) = doc["findings"]
    assert f["commit"] == added and f["path"] == "config/.env"
    assert (f["line"], f["column"]) == (2, 15)
    assert f["source"] == "git" and f["author"] == "Ada Lovelace" and f["email"] == "ada@example.com"
    assert f["date"][:4].isdigit() and "T" in f["date"]
    assert f["at_head"] is False and len(f["blob"]) == 40
    assert key not in str(doc)


def test_unmerged_branch_message_tag_stash_and_note(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    base = commit_file(repo, "a.txt", "a\n", "init")
    k_branch, k_msg, k_tag, k_stash, k_note = (make_key() for _ in range(5))
    git(repo, "checkout", "-q", "-b", "topic")
    on_branch = commit_file(repo, "src/app.py", f'KEY = "{k_branch}"\n', "wip")
    git(repo, "checkout", "-q", "main")
    msg_commit = commit_file(repo, "b.txt", "b\n", f"deploy\n\nused {k_msg} for the test")
    git(repo, "tag", "-a", "v1", "-m", f"release\n{k_tag}")
    (repo / "a.txt").write_text(f"a\n{k_stash}\n")
    git(repo, "stash", "push", "-q")
    git(repo, "notes", "add", "-m", f"note {k_note}", base)
    code, doc = scan(str(repo))
    assert code == 1
    (fb,) = by_key(doc, k_branch)
    assert fb["commit"] == on_branch and fb["path"] == "src/app.py"
    (fm,) = by_key(doc, k_msg)
    assert fm["commit"] == msg_commit and fm["path"] is None and fm["line"] == 3
    (ft,) = by_key(doc, k_tag)
    assert ft["ref"] == "refs/tags/v1" and ft["commit"] == msg_commit and ft["path"] is None
    stash = by_key(doc, k_stash)
    assert stash and all(f["ref"] == "refs/stash" and f["path"] == "a.txt" for f in stash)
    (fn,) = by_key(doc, k_note)
    assert fn["ref"] == "refs/notes/commits" and fn["note_for"] == base
    assert fn["path"] is None and fn["where"] == f"note on {base[:12]}"


def test_rename_is_attributed_to_the_commit_that_added_the_key(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    added = commit_file(repo, "old/name.cfg", f"x=1\nkey={key}\n", "add")
    git(repo, "mv", "old/name.cfg", "new.cfg")
    git(repo, "commit", "-q", "-m", "rename")
    (repo / "new.cfg").write_text(f"x=2\nkey={key}\ny=3\n")
    git(repo, "commit", "-q", "-am", "edit after rename")
    git(repo, "mv", "new.cfg", "newer.cfg")
    (repo / "newer.cfg").write_text(f"x=3\nkey={key}\ny=3\n")
    git(repo, "commit", "-q", "-am", "rename and edit")
    code, doc = scan(str(repo))
    (f,) = doc["findings"]
    assert f["commit"] == added and f["path"] == "old/name.cfg" and f["at_head"] is True


def test_key_added_again_after_removal_is_a_second_finding(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    first = commit_file(repo, "a.env", f"K={key}\n", "add")
    commit_file(repo, "a.env", "K=\n", "remove")
    again = commit_file(repo, "b.env", f"OTHER=1\nK={key}\n", "add again")
    _, doc = scan(str(repo))
    assert sorted((f["commit"], f["path"]) for f in doc["findings"]) == sorted([(first, "a.env"), (again, "b.env")])


def test_since_range_and_branch_narrow_to_what_commits_add(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    old, new, side = make_key(), make_key(), make_key()
    c1 = commit_file(repo, "a.txt", f"{old}\n", "old key")
    c2 = commit_file(repo, "a.txt", f"{old}\nplain line\n", "touch")
    c3 = commit_file(repo, "b.txt", f"x\n{new}\n", "new key")
    git(repo, "checkout", "-q", "-b", "side", c1)
    c4 = commit_file(repo, "c.txt", f"{side}\n", "side key")
    git(repo, "checkout", "-q", "main")
    _, doc = scan(str(repo), "--since", c2)
    assert [(f["commit"], f["path"], f["line"]) for f in doc["findings"]] == [(c3, "b.txt", 2)]
    _, doc = scan(str(repo), "--range", f"{c1}..{c2}")
    assert doc["findings"] == []  # c2 touched the file but did not add the key's line
    _, doc = scan(str(repo), "--range", f"{c1}..{c3}")
    assert [f["commit"] for f in doc["findings"]] == [c3]
    _, doc = scan(str(repo), "--branch", "side")
    assert sorted(f["commit"] for f in doc["findings"]) == sorted([c1, c4])
    _, doc = scan(str(repo), "--branch", "side", "--since", "main")
    assert [f["commit"] for f in doc["findings"]] == [c4]
    r = run_cli("repo", str(repo), "--range", "nope..main")
    assert r.code == 2 and "unknown revision: nope" in r.err


def test_unreachable_objects_only_with_the_flag(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "a.txt", "a\n", "init")
    key, k_msg = make_key(), make_key()
    oops = commit_file(repo, "secret.txt", f"{key}\n", f"oops\n\n{k_msg}")
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    code, doc = scan(str(repo))
    assert code == 0 and doc["findings"] == []
    assert any("--include-unreachable" in n for n in doc["notes"])
    # Only the reflog keeps the commit: it is traced, and marked unreachable.
    code, doc = scan(str(repo), "--include-unreachable")
    assert code == 1
    got = sorted((f["key_prefix"], f["commit"], f["path"], f["unreachable"]) for f in doc["findings"])
    assert got == sorted([(key[:8], oops, "secret.txt", True), (k_msg[:8], oops, None, True)])
    # Once the reflog is gone the objects are dangling: still reported, with what is known.
    git(repo, "reflog", "expire", "--expire=now", "--all")
    code, doc = scan(str(repo), "--include-unreachable")
    got = sorted((f["key_prefix"], f["commit"], f["path"], f["unreachable"]) for f in doc["findings"])
    assert code == 1 and got == sorted([(key[:8], None, None, True), (k_msg[:8], oops, None, True)])


def test_url_is_cloned_to_a_temporary_folder_and_removed(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "src")
    key = make_key()
    c = commit_file(repo, "deep/x.json", f'{{"k": "{key}"}}\n', "add")
    git(repo, "branch", "other")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code, doc = scan(f"file://{repo}", env={"TMPDIR": str(tmp)})
    assert code == 1 and doc["findings"][0]["commit"] == c and doc["findings"][0]["path"] == "deep/x.json"
    assert list(tmp.iterdir()) == []
    r = run_cli("repo", f"file://{tmp_path}/nothing-here", env={"TMPDIR": str(tmp)})
    assert r.code == 2 and "cannot clone" in r.err
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("name", ["new\nline.env", "quo\"te's.env", "ünïcødé/ключ.env", " lead space.env", "tab\tx"])
def test_odd_file_names(tmp_path: Path, name: str) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    c = commit_file(repo, name, f"K={key}\n", "add")
    _, doc = scan(str(repo))
    (f,) = doc["findings"]
    assert f["path"] == name and f["commit"] == c


def test_text_report_names_commit_and_message(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    c = commit_file(repo, "a.txt", "a\n", f"msg {key}")
    r = run_cli("repo", str(repo))
    assert r.code == 1 and "commit message:1:5" in r.out and c[:12] in r.out
    assert key not in r.out + r.err


def test_default_is_current_directory_and_exclude_applies_to_history_paths(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "vendor/x.txt", f"{make_key()}\n", "vendor")
    (repo / "sub").mkdir()
    code, doc = scan(cwd=repo / "sub")
    assert code == 1 and doc["findings"][0]["path"] == "vendor/x.txt"
    code, doc = scan("--exclude", "vendor/*", cwd=repo)
    assert code == 0 and doc["stats"]["skipped"] == {"excluded": 1}


def test_progress_is_silent_off_a_terminal(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "a.txt", "a\n", "init")
    r = run_cli("repo", str(repo), env={"TERM": "xterm"})
    assert r.code == 0 and "\r" not in r.err and os.linesep not in r.err.strip()


def test_key_added_by_a_merge_resolution_is_in_range_scans(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    base = commit_file(repo, "conf.ini", "a=0\n", "init")
    commit_file(repo, "conf.ini", "a=1\n", "ours")
    git(repo, "checkout", "-q", "-b", "theirs", base)
    theirs_key = make_key()
    theirs = commit_file(repo, "conf.ini", f"a=2\nt={theirs_key}\n", "theirs")
    git(repo, "checkout", "-q", "main")
    with pytest.raises(RuntimeError):
        git(repo, "merge", "-q", "theirs")  # a conflict, resolved by hand with a new key
    key = make_key()
    (repo / "conf.ini").write_text(f"a=3\nt={theirs_key}\nkey={key}\n")
    git(repo, "add", "conf.ini")
    git(repo, "commit", "-q", "--no-edit")
    merge = git(repo, "rev-parse", "HEAD")
    for args in (["--range", f"{base}..main"], ["--since", base], ["--branch", "main"], []):
        _, doc = scan(str(repo), *args)
        got = sorted((f["commit"], f["path"], f["line"]) for f in doc["findings"])
        assert got == sorted([(merge, "conf.ini", 3), (theirs, "conf.ini", 2)]), args
    # The merge itself adds only the new key: theirs_key came from the other parent.
    _, doc = scan(str(repo), "--range", f"{theirs}..main")
    assert [(f["commit"], f["line"]) for f in doc["findings"]] == [(merge, 3)]


def test_replace_refs_do_not_hide_the_original_objects(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    k_blob, k_old = make_key(), make_key()
    old = commit_file(repo, "old.txt", f"{k_old}\n", "old history")
    added = commit_file(repo, "rep.txt", f"{k_blob}\n", "add")
    commit_file(repo, "c.txt", "c\n", "later")
    clean = git(repo, "hash-object", "-w", "--stdin", input=b"clean\n")
    git(repo, "replace", git(repo, "rev-parse", f"{added}:rep.txt"), clean)  # the blob reads as "clean"
    git(repo, "replace", "--graft", added)  # and the history before `added` is cut off
    for args in ([], ["--branch", "main"]):
        _, doc = scan(str(repo), *args)
        got = sorted((f["commit"], f["path"]) for f in doc["findings"])
        assert got == sorted([(added, "rep.txt"), (old, "old.txt")]), args


def test_only_stash_commits_are_named_after_the_stash(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    k_file, k_msg, k_stash0, k_stash1 = (make_key() for _ in range(4))
    c_file = commit_file(repo, "a.txt", f"a\n{k_file}\n", "add")
    c_msg = commit_file(repo, "b.txt", "b\n", f"subject\n\nbody {k_msg}")
    (repo / "b.txt").write_text(f"b\n{k_stash1}\n")
    git(repo, "stash", "push", "-q")
    (repo / "b.txt").write_text(f"b\n{k_stash0}\n")
    git(repo, "stash", "push", "-q")
    # main moves on with commits dated before the stash: git log meets the stash first and
    # reaches the stash's base from it
    git(repo, "commit", "-q", "--allow-empty", "-m", "later", env={"GIT_COMMITTER_DATE": "2001-01-01T00:00:00"})
    _, doc = scan(str(repo))
    (f,) = by_key(doc, k_file)
    assert (f["commit"], f.get("ref")) == (c_file, None)
    (f,) = by_key(doc, k_msg)
    assert (f["commit"], f.get("ref")) == (c_msg, None)
    assert {f["ref"] for f in by_key(doc, k_stash0)} == {"refs/stash"}
    assert {f["ref"] for f in by_key(doc, k_stash1)} == {"stash@{1}"}


def test_tags_on_trees_blobs_and_tags(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    c = commit_file(repo, "a.txt", "a\n", "init")
    k_tree, k_inner, k_outer = make_key(), make_key(), make_key()
    git(repo, "tag", "-a", "on-tree", "-m", f"tree {k_tree}", "HEAD^{tree}")
    git(repo, "tag", "-a", "inner", "-m", f"inner {k_inner}", c)
    git(repo, "tag", "-a", "outer", "-m", f"outer {k_outer}", "inner")
    git(repo, "tag", "-d", "inner")  # the inner tag is now reached only through the outer one
    k_blob = make_key()  # in a tree no commit has, tagged by a tag of a tag
    blob = git(repo, "hash-object", "-w", "--stdin", input=f"{k_blob}\n".encode())
    tree = git(repo, "mktree", input=f"100644 blob {blob}\tloose.txt\n".encode())
    git(repo, "tag", "-a", "tree-inner", "-m", "i", tree)
    git(repo, "tag", "-a", "tree-outer", "-m", "o", "tree-inner")
    git(repo, "tag", "-d", "tree-inner")
    code, doc = scan(str(repo))
    assert code == 1 and doc["notes"] == []
    (f,) = by_key(doc, k_blob)
    assert (f["ref"], f["path"], f["commit"]) == ("refs/tags/tree-outer", "loose.txt", None)
    (f,) = by_key(doc, k_tree)
    assert (f["ref"], f["commit"], f["path"]) == ("refs/tags/on-tree", None, None)
    (f,) = by_key(doc, k_outer)
    assert (f["ref"], f["commit"]) == ("refs/tags/outer", c)
    (f,) = by_key(doc, k_inner)
    assert (f["ref"], f["commit"]) == ("refs/tags/outer", c)


def test_user_git_config_does_not_hide_the_first_commit(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    root = commit_file(repo, "a.txt", f"{key}\n", "root")
    commit_file(repo, "b.txt", "b\n", "two")
    git(repo, "config", "log.showRoot", "false")  # git log then shows no changes for a root commit
    for args in ([], ["--branch", "main"]):
        code, doc = scan(str(repo), *args)
        assert code == 1 and [(f["commit"], f["path"]) for f in doc["findings"]] == [(root, "a.txt")], args


def test_range_scan_says_whether_the_key_is_still_at_head(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    base = commit_file(repo, "README.md", "hello\n", "init")
    kept, removed = make_key(), make_key()
    commit_file(repo, "src/app.py", f"K = '{kept}'\n", "kept key")
    commit_file(repo, "old.env", f"K={removed}\n", "removed key")
    commit_file(repo, "old.env", "K=\n", "remove it")
    _, doc = scan(str(repo), "--range", f"{base}..HEAD")
    at_head = {f["key_prefix"]: f["at_head"] for f in doc["findings"]}
    assert at_head == {kept[:8]: True, removed[:8]: False}
