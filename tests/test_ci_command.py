"""`wvzscan ci` end to end: real repositories and clones, CI variables and event payloads as the CIs set them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import commit_file, git, init_repo, make_key, run_cli

ZERO = "0" * 40


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Any]:
    """An origin whose main has an old key (fixed since), and a feature branch that adds a new one."""
    origin = init_repo(tmp_path / "origin")
    old, new = make_key(), make_key("uuid")
    commit_file(origin, "a.py", f"KEY = '{old}'\n", "old key")
    commit_file(origin, "a.py", "KEY = os.environ['WEAVZ_API_KEY']\n", "fix")
    base = git(origin, "rev-parse", "HEAD")
    git(origin, "checkout", "-q", "-b", "feature")
    commit_file(origin, "b.py", "clean = True\n", "clean")
    head = commit_file(origin, "c.py", f"TOKEN = '{new}'\n", "new key")
    git(origin, "checkout", "-q", "main")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{origin}", str(clone))
    git(clone, "checkout", "-q", head)
    return {"origin": origin, "clone": clone, "old": old, "new": new, "base": base, "head": head, "tmp": tmp_path}


def github(p: dict[str, Any], name: str, payload: dict[str, Any]) -> dict[str, str]:
    event = p["tmp"] / "event.json"
    event.write_text(json.dumps(payload))
    return {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(event)}


def keys(r: Any) -> set[str]:
    return {f["fingerprint"] for f in r.json()["findings"]}


def fp(key: str) -> str:
    from wvzscan.finding import fingerprint

    return fingerprint(key)


def test_pull_request_scans_only_its_commits(project: dict[str, Any]) -> None:
    env = github(
        project,
        "pull_request",
        {"pull_request": {"number": 3, "base": {"sha": project["base"]}, "head": {"sha": project["head"]}}},
    )
    r = run_cli("ci", "--format", "json", cwd=project["clone"], env=env)
    assert r.code == 1, r.err
    assert keys(r) == {fp(project["new"])}  # not the old key on main
    (f,) = r.json()["findings"]
    assert f["path"] == "c.py" and f["commit"] == project["head"]
    assert "pull_request #3" in r.err
    assert any("pull request" in n for n in r.json()["notes"])
    assert project["new"] not in r.out + r.err


def test_clean_pull_request_passes_despite_old_history(project: dict[str, Any]) -> None:
    clean_head = git(project["origin"], "rev-parse", "feature~1")
    env = github(
        project, "pull_request", {"pull_request": {"base": {"sha": project["base"]}, "head": {"sha": clean_head}}}
    )
    r = run_cli("ci", "--format", "json", cwd=project["clone"], env=env)
    assert r.code == 0, r.err + r.out
    assert r.json()["findings"] == []


def test_push_new_branch_and_deleted_branch(project: dict[str, Any]) -> None:
    env = github(project, "push", {"ref": "refs/heads/feature", "before": ZERO, "after": project["head"]})
    r = run_cli("ci", "--format", "json", cwd=project["clone"], env=env)
    assert r.code == 1 and keys(r) == {fp(project["new"])}, r.err
    env = github(project, "push", {"ref": "refs/heads/feature", "before": project["base"], "after": project["head"]})
    r = run_cli("ci", "--format", "json", cwd=project["clone"], env=env)
    assert r.code == 1 and keys(r) == {fp(project["new"])}, r.err
    env = github(project, "push", {"ref": "refs/heads/gone", "before": project["head"], "after": ZERO})
    r = run_cli("ci", "--format", "json", cwd=project["clone"], env=env)
    assert r.code == 0 and r.json()["findings"] == [] and "nothing to scan" in r.err


def test_gitlab_merge_request(project: dict[str, Any]) -> None:
    env = {
        "GITLAB_CI": "true",
        "CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "5",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": project["base"],
        "CI_COMMIT_SHA": project["head"],
    }
    r = run_cli("ci", "--format", "json", cwd=project["clone"], env=env)
    assert r.code == 1 and keys(r) == {fp(project["new"])}, r.err
    assert "merge request !5" in r.err


def test_outside_ci_scans_the_whole_history(project: dict[str, Any]) -> None:
    r = run_cli("ci", "--format", "json", cwd=project["clone"])
    assert r.code == 1, r.err
    assert keys(r) == {fp(project["old"]), fp(project["new"])}
    assert "whole history" in r.err


def test_shallow_checkout_says_fetch_depth_0(project: dict[str, Any]) -> None:
    shallow = project["tmp"] / "shallow"
    git(project["tmp"], "clone", "-q", "--depth", "1", "-b", "feature", f"file://{project['origin']}", str(shallow))
    env = github(
        project, "pull_request", {"pull_request": {"base": {"sha": project["base"]}, "head": {"sha": project["head"]}}}
    )
    r = run_cli("ci", cwd=shallow, env=env)
    assert r.code == 2
    assert "fetch-depth: 0" in r.err and "Traceback" not in r.err
    env = {"GITLAB_CI": "true", "CI_COMMIT_SHA": project["head"], "CI_COMMIT_BEFORE_SHA": project["base"]}
    r = run_cli("ci", cwd=shallow, env=env)
    assert r.code == 2 and "GIT_DEPTH: 0" in r.err


def test_bad_inputs(project: dict[str, Any], tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    r = run_cli("ci", cwd=project["clone"], env=env)
    assert r.code == 2 and "GITHUB_EVENT_PATH" in r.err
    r = run_cli("ci", str(tmp_path / "nowhere"))
    assert r.code == 2 and "no such directory" in r.err
    (tmp_path / "plain").mkdir()
    r = run_cli("ci", str(tmp_path / "plain"))
    assert r.code == 2 and "not a git repository" in r.err
