"""CI change detection: the pure part (variables and payloads) and the checks against real checkouts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import commit_file, git, init_repo
from wvzscan.sources import ci
from wvzscan.sources.ci import (
    FULL,
    GITHUB,
    GITLAB,
    LOCAL,
    NEW_BRANCH,
    NOTHING,
    RANGE,
    CIError,
    detect,
    resolve,
)

A, B, C = "a" * 40, "b" * 40, "c" * 40
ZERO = "0" * 40


def gh(event_name: str, **extra: str) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name, **extra}


def gl(**extra: str) -> dict[str, str]:
    return {"GITLAB_CI": "true", "CI_COMMIT_SHA": C, **extra}


def pr_payload(base: str = A, head: str = B) -> dict[str, Any]:
    return {"number": 7, "pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": head}}}


CASES: list[tuple[str, dict[str, str], dict[str, Any] | None, tuple[str, str, str | None, str | None]]] = [
    ("local", {}, None, (LOCAL, FULL, None, None)),
    ("other CI", {"CI": "true", "JENKINS_URL": "x"}, None, (LOCAL, FULL, None, None)),
    ("pull_request", gh("pull_request"), pr_payload(), (GITHUB, RANGE, A, B)),
    ("pull_request_target", gh("pull_request_target"), pr_payload(), (GITHUB, RANGE, A, B)),
    ("pr without shas", gh("pull_request"), {"pull_request": {}}, (GITHUB, FULL, None, None)),
    ("pr with junk sha", gh("pull_request"), pr_payload(base="not a sha"), (GITHUB, FULL, None, None)),
    (
        "merge_group",
        gh("merge_group"),
        {"merge_group": {"base_sha": A, "head_sha": B}},
        (GITHUB, RANGE, A, B),
    ),
    ("push", gh("push"), {"ref": "refs/heads/main", "before": A, "after": B}, (GITHUB, RANGE, A, B)),
    (
        "forced push",
        gh("push"),
        {"ref": "refs/heads/main", "before": A, "after": B, "forced": True},
        (GITHUB, RANGE, A, B),
    ),
    (
        "new branch",
        gh("push"),
        {"ref": "refs/heads/f", "before": ZERO, "after": B},
        (GITHUB, NEW_BRANCH, None, B),
    ),
    (
        "deleted branch",
        gh("push"),
        {"ref": "refs/heads/f", "before": A, "after": ZERO},
        (GITHUB, NOTHING, None, None),
    ),
    ("push, sha from env", gh("push", GITHUB_SHA=B), {"before": A}, (GITHUB, RANGE, A, B)),
    ("workflow_dispatch", gh("workflow_dispatch"), {}, (GITHUB, FULL, None, None)),
    ("schedule", gh("schedule"), {}, (GITHUB, FULL, None, None)),
    (
        "gitlab merge request",
        gl(
            CI_MERGE_REQUEST_IID="12",
            CI_MERGE_REQUEST_DIFF_BASE_SHA=A,
            CI_PIPELINE_SOURCE="merge_request_event",
        ),
        None,
        (GITLAB, RANGE, A, C),
    ),
    (
        "gitlab merged results",
        gl(CI_MERGE_REQUEST_IID="12", CI_MERGE_REQUEST_DIFF_BASE_SHA=A, CI_MERGE_REQUEST_SOURCE_BRANCH_SHA=B),
        None,
        (GITLAB, RANGE, A, B),
    ),
    ("gitlab mr without base", gl(CI_MERGE_REQUEST_IID="12"), None, (GITLAB, FULL, None, None)),
    ("gitlab push", gl(CI_COMMIT_BEFORE_SHA=A, CI_PIPELINE_SOURCE="push"), None, (GITLAB, RANGE, A, C)),
    (
        "gitlab new branch",
        gl(CI_COMMIT_BEFORE_SHA=ZERO, CI_PIPELINE_SOURCE="push", CI_COMMIT_BRANCH="f"),
        None,
        (GITLAB, NEW_BRANCH, None, C),
    ),
    (
        "gitlab schedule",
        gl(CI_COMMIT_BEFORE_SHA=ZERO, CI_PIPELINE_SOURCE="schedule"),
        None,
        (GITLAB, FULL, None, None),
    ),
]


@pytest.mark.parametrize(("name", "env", "event", "want"), CASES, ids=[c[0] for c in CASES])
def test_detect(name: str, env: dict[str, str], event: dict[str, Any] | None, want: tuple[str, ...]) -> None:
    change = detect(env, event)
    assert (change.provider, change.kind, change.base, change.head) == want
    assert change.reason


def test_new_branch_ref_is_kept_for_exclusion() -> None:
    change = detect(gh("push"), {"ref": "refs/heads/feature/x", "before": ZERO, "after": B})
    assert change.ref == "refs/heads/feature/x" and "created refs/heads/feature/x" in change.reason
    change = detect(gl(CI_COMMIT_BEFORE_SHA=ZERO, CI_PIPELINE_SOURCE="push", CI_COMMIT_TAG="v1"), None)
    assert change.ref == "refs/tags/v1"


def test_load_event(tmp_path: Path) -> None:
    p = tmp_path / "event.json"
    p.write_text(json.dumps(pr_payload()))
    env = gh("pull_request", GITHUB_EVENT_PATH=str(p))
    assert ci.load_event(env) == pr_payload()
    assert ci.load_event({"GITHUB_EVENT_PATH": str(p)}) is None  # not in GitHub Actions
    p.write_text("{not json")
    with pytest.raises(ci.EventError, match="not JSON"):
        ci.load_event(env)
    with pytest.raises(ci.EventError, match="cannot read"):
        ci.load_event(gh("push", GITHUB_EVENT_PATH=str(tmp_path / "missing.json")))


# --- resolve: real repositories ---------------------------------------------------------------------


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """main with two commits, a feature branch with two more."""
    repo = init_repo(tmp_path / "origin")
    commit_file(repo, "a.txt", "one\n", "one")
    commit_file(repo, "a.txt", "two\n", "two")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "b.txt", "three\n", "three")
    commit_file(repo, "b.txt", "four\n", "four")
    git(repo, "checkout", "-q", "main")
    return repo


def rev_list(repo: Path, revs: list[str]) -> list[str]:
    return git(repo, "rev-list", *revs).split()


def test_resolve_range(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{origin}", str(clone))
    base, head = git(origin, "rev-parse", "main"), git(origin, "rev-parse", "feature")
    plan = resolve(detect(gh("pull_request"), pr_payload(base, head)), str(clone))
    assert plan.revs == [head, f"^{base}"]
    assert len(rev_list(clone, plan.revs)) == 2


def test_resolve_shallow_checkout_says_what_to_change(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{origin}", str(clone))
    base, head = git(origin, "rev-parse", "main~1"), git(origin, "rev-parse", "feature")
    with pytest.raises(CIError, match=r"shallow and lacks the base commit .*fetch-depth: 0"):
        resolve(detect(gh("pull_request"), pr_payload(base, head)), str(clone))
    with pytest.raises(CIError, match="GIT_DEPTH: 0"):
        resolve(
            detect(gl(CI_MERGE_REQUEST_IID="1", CI_MERGE_REQUEST_DIFF_BASE_SHA=base, CI_COMMIT_SHA=head), None),
            str(clone),
        )
    with pytest.raises(CIError, match="whole history cannot be scanned.*fetch-depth: 0"):
        resolve(detect(gh("workflow_dispatch"), {}), str(clone))
    with pytest.raises(CIError, match="git fetch --unshallow"):
        resolve(detect({}, None), str(clone))


def test_resolve_shallow_range_cut_by_the_boundary(origin: Path, tmp_path: Path) -> None:
    """The base is there (a branch tip) but the range runs past the clone's depth."""
    git(origin, "checkout", "-q", "-b", "old", "main~1")
    git(origin, "checkout", "-q", "main")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{origin}", str(clone))
    base, head = git(origin, "rev-parse", "old"), git(origin, "rev-parse", "feature")
    with pytest.raises(CIError, match="reaches past its oldest commit.*fetch-depth: 0"):
        resolve(detect(gh("pull_request"), pr_payload(base, head)), str(clone))
    # Deep enough: fine, even though the clone is still shallow.
    deeper = tmp_path / "deeper"
    git(tmp_path, "clone", "-q", "--depth", "3", "--no-single-branch", f"file://{origin}", str(deeper))
    plan = resolve(detect(gh("pull_request"), pr_payload(base, head)), str(deeper))
    assert len(rev_list(deeper, plan.revs or [])) == 3


def test_resolve_missing_head(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--single-branch", "-b", "main", f"file://{origin}", str(clone))
    base, head = git(origin, "rev-parse", "main"), git(origin, "rev-parse", "feature")
    with pytest.raises(CIError, match=r"commit under test .* is not in this checkout: check it out"):
        resolve(detect(gh("pull_request_target"), pr_payload(base, head)), str(clone))


def test_resolve_new_branch_excludes_other_branches(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{origin}", str(clone))
    head = git(origin, "rev-parse", "feature")
    plan = resolve(detect(gh("push"), {"ref": "refs/heads/feature", "before": ZERO, "after": head}), str(clone))
    assert plan.revs is not None and "^refs/remotes/origin/feature" not in plan.revs
    assert len(rev_list(clone, plan.revs)) == 2  # not main's commits
    # A branch with nothing new on it: nothing to scan.
    main = git(origin, "rev-parse", "main")
    plan = resolve(detect(gh("push"), {"ref": "refs/heads/copy", "before": ZERO, "after": main}), str(clone))
    assert rev_list(clone, plan.revs or []) == []


def test_resolve_new_branch_without_other_branches_scans_it_all(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    head = commit_file(repo, "a.txt", "x\n")
    plan = resolve(detect(gh("push"), {"ref": "refs/heads/main", "before": ZERO, "after": head}), str(repo))
    assert plan.revs == [head] and any("no other remote branch" in n for n in plan.notes)


def test_resolve_force_push(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{origin}", str(clone))
    old = git(origin, "rev-parse", "feature")
    # Rewrite feature: the old tip disappears from the origin, and a fresh clone lacks it.
    git(origin, "checkout", "-q", "feature")
    git(origin, "reset", "-q", "--hard", "feature~1")
    new = commit_file(origin, "c.txt", "rewritten\n", "rewritten")
    git(origin, "checkout", "-q", "main")
    git(origin, "reflog", "expire", "--expire=now", "--all")
    git(origin, "gc", "-q", "--prune=now")
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", f"file://{origin}", str(fresh))
    event = {"ref": "refs/heads/feature", "before": old, "after": new, "forced": True}
    plan = resolve(detect(gh("push"), event), str(fresh))
    assert any("force push" in n for n in plan.notes)
    assert len(rev_list(fresh, plan.revs or [])) == 2  # three and rewritten: not on main

    # The old tip still present (a runner that had it): before..after, noted as not an ancestor.
    git(clone, "fetch", "-q", "origin")
    plan = resolve(detect(gh("push"), event), str(clone))
    assert plan.revs == [new, f"^{old}"] and any("not an ancestor" in n for n in plan.notes)
