"""Which commits a CI run is about: the pull/merge request, or the pushed range.

``detect`` is a pure function of the environment and the event payload (GitHub Actions, GitLab CI);
``resolve`` checks the answer against the checkout with git and turns it into rev-list arguments.
A shallow checkout that lacks what the range needs is an error that says what to change: scanning a
range cut short by the clone depth would report a clean result for commits nobody read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wvzscan.errors import WvzscanError
from wvzscan.sources.git.process import GitError, Repo
from wvzscan.sources.git.repository import open_repo

GITHUB = "GitHub Actions"
GITLAB = "GitLab CI"
LOCAL = "no CI"

FULL = "full"  # every commit reachable from every ref, like `wvzscan repo`
RANGE = "range"  # commits reachable from head and not from base
NEW_BRANCH = "new-branch"  # commits reachable from head and not from any other remote branch
NOTHING = "nothing"  # a deleted branch: no commit to scan

PR_EVENTS = ("pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment")


@dataclass(frozen=True)
class Change:
    provider: str
    kind: str
    reason: str
    base: str | None = None
    head: str | None = None
    ref: str | None = None  # the pushed ref (refs/heads/x), for NEW_BRANCH


def _is_zero(sha: str | None) -> bool:
    return not sha or set(sha) == {"0"}


def _get(d: Any, *path: str) -> Any:
    for k in path:
        if not isinstance(d, Mapping):
            return None
        d = d.get(k)
    return d


def _sha(v: Any) -> str | None:
    return v if isinstance(v, str) and v.strip() and all(c in "0123456789abcdefABCDEF" for c in v) else None


def detect(env: Mapping[str, str], event: Mapping[str, Any] | None) -> Change:
    """The change under test, from CI variables and (GitHub) the event payload."""
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env, event or {})
    if env.get("GITLAB_CI") == "true":
        return _gitlab(env)
    return Change(LOCAL, FULL, "not running in GitHub Actions or GitLab CI: the whole history")


def _github(env: Mapping[str, str], event: Mapping[str, Any]) -> Change:
    name = env.get("GITHUB_EVENT_NAME", "")
    if name in PR_EVENTS:
        base = _sha(_get(event, "pull_request", "base", "sha"))
        head = _sha(_get(event, "pull_request", "head", "sha"))
        number = _get(event, "pull_request", "number")
        if base and head:
            return Change(GITHUB, RANGE, f"{name} #{number}: the pull request's commits", base, head)
        return Change(GITHUB, FULL, f"{name}: the event payload has no base and head commits; the whole history")
    if name == "merge_group":
        base = _sha(_get(event, "merge_group", "base_sha"))
        head = _sha(_get(event, "merge_group", "head_sha"))
        if base and head:
            return Change(GITHUB, RANGE, "merge_group: the merge queue's commits", base, head)
        return Change(GITHUB, FULL, "merge_group: the event payload has no base and head commits; the whole history")
    if name == "push":
        ref = _get(event, "ref") or env.get("GITHUB_REF")
        before, after = _get(event, "before"), _sha(_get(event, "after")) or _sha(env.get("GITHUB_SHA"))
        if not isinstance(ref, str):
            ref = None
        if _sha(after) and _is_zero(after):
            return Change(GITHUB, NOTHING, f"push deleted {ref}: nothing to scan", ref=ref)
        if after is None:
            return Change(GITHUB, FULL, "push: the event payload has no pushed commit; the whole history")
        if _is_zero(before) or _sha(before) is None:
            return Change(
                GITHUB, NEW_BRANCH, f"push created {ref}: its commits not on another branch", None, after, ref
            )
        forced = " (forced)" if _get(event, "forced") is True else ""
        return Change(GITHUB, RANGE, f"push to {ref}{forced}: the pushed commits", before, after, ref)
    return Change(GITHUB, FULL, f"{name or 'unknown'} event: the whole history")


def _gitlab(env: Mapping[str, str]) -> Change:
    head = _sha(env.get("CI_COMMIT_SHA"))
    if env.get("CI_MERGE_REQUEST_IID"):
        # In merged-results pipelines CI_COMMIT_SHA is a merge commit; the source branch's tip is the change.
        head = _sha(env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")) or head
        base = _sha(env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"))
        iid = env["CI_MERGE_REQUEST_IID"]
        if base and head:
            return Change(GITLAB, RANGE, f"merge request !{iid}: its commits", base, head)
        return Change(GITLAB, FULL, f"merge request !{iid}: no CI_MERGE_REQUEST_DIFF_BASE_SHA; the whole history")
    if head is None:
        return Change(GITLAB, FULL, "no CI_COMMIT_SHA: the whole history")
    tag, branch = env.get("CI_COMMIT_TAG"), env.get("CI_COMMIT_BRANCH")
    ref = f"refs/tags/{tag}" if tag else f"refs/heads/{branch}" if branch else None
    before = env.get("CI_COMMIT_BEFORE_SHA")
    if _sha(before) and not _is_zero(before):
        return Change(GITLAB, RANGE, f"push to {ref or head[:12]}: the pushed commits", before, head, ref)
    if env.get("CI_PIPELINE_SOURCE") == "push":
        return Change(GITLAB, NEW_BRANCH, f"push created {ref}: its commits not on another branch", None, head, ref)
    source = env.get("CI_PIPELINE_SOURCE") or "unknown"
    return Change(GITLAB, FULL, f"{source} pipeline: the whole history")


class EventError(WvzscanError):
    """The CI event payload cannot be read (exit 2)."""


def load_event(env: Mapping[str, str]) -> dict[str, Any] | None:
    """GitHub's event payload (GITHUB_EVENT_PATH), or None outside GitHub Actions."""
    path = env.get("GITHUB_EVENT_PATH")
    if env.get("GITHUB_ACTIONS") != "true" or not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise EventError(f"cannot read the event payload GITHUB_EVENT_PATH={path}: {e.strerror}") from None
    except ValueError as e:
        raise EventError(f"the event payload GITHUB_EVENT_PATH={path} is not JSON: {e}") from None
    return data if isinstance(data, dict) else {}


# --- against the checkout -------------------------------------------------------------------------


class CIError(WvzscanError):
    """The change cannot be scanned as it is checked out (exit 2); the message says what to change."""


@dataclass
class Plan:
    revs: list[str] | None  # rev-list arguments; None: everything (all refs)
    notes: list[str] = field(default_factory=list)


def shallow_fix(provider: str) -> str:
    if provider == GITHUB:
        return "set `fetch-depth: 0` on actions/checkout (with: fetch-depth: 0)"
    if provider == GITLAB:
        return "set the job variable `GIT_DEPTH: 0` (or the project's Git shallow clone setting to 0)"
    return "run `git fetch --unshallow` first"


def _has_commit(repo: Repo, sha: str) -> bool:
    return repo.ok("cat-file", "-e", f"{sha}^{{commit}}")


def resolve(change: Change, where: str | Repo) -> Plan:
    """What to scan in ``where`` (a path or an opened repository) for ``change``; raises CIError
    when the checkout cannot show it, GitError when git fails (never an empty range instead)."""
    repo = open_repo(where) if isinstance(where, str) else where
    shallow = repo.shallow
    fix = shallow_fix(change.provider)
    if change.kind == NOTHING:
        return Plan([], [change.reason])
    if change.kind == FULL:
        if shallow:
            raise CIError(f"this checkout is shallow, so its whole history cannot be scanned: {fix}")
        return Plan(None, [change.reason])
    assert change.head is not None
    head = change.head
    if not _has_commit(repo, head):
        if shallow:
            raise CIError(f"the commit under test {head[:12]} is not in this shallow checkout: {fix}")
        hint = (
            "check it out (pull_request_target: actions/checkout with ref: ${{ github.event.pull_request.head.sha }})"
            if change.provider == GITHUB
            else "fetch it"
        )
        raise CIError(f"the commit under test {head[:12]} is not in this checkout: {hint}")
    notes = [change.reason]
    if change.kind == RANGE:
        assert change.base is not None
        if not _has_commit(repo, change.base):
            if shallow:
                raise CIError(f"this checkout is shallow and lacks the base commit {change.base[:12]}: {fix}")
            if change.ref is None:
                raise CIError(f"the base commit {change.base[:12]} is not in this checkout: fetch the target branch")
            # A force push: the old tip is unreachable, so it was not fetched. Fall back to what
            # a new branch would be: the commits no other branch has.
            notes.append(f"previous tip {change.base[:12]} is gone (force push): scanning what no other branch has")
            return _new_branch(repo, head, change.ref, notes)
        revs = [head, f"^{change.base}"]
        if shallow:
            _check_range_complete(repo, revs, fix)
        if not repo.ok("merge-base", "--is-ancestor", change.base, head):
            notes.append(f"{change.base[:12]} is not an ancestor of {head[:12]} (force push or rebase)")
        return Plan(revs, notes)
    if shallow:
        raise CIError(
            f"this checkout is shallow, so the commits new on {change.ref or head[:12]} cannot be told: {fix}"
        )
    return _new_branch(repo, head, change.ref, notes)


def _new_branch(repo: Repo, head: str, ref: str | None, notes: list[str]) -> Plan:
    """Commits reachable from ``head`` and from no remote branch other than the pushed one."""
    branch = ref.removeprefix("refs/heads/") if ref and ref.startswith("refs/heads/") else None
    out = repo.run("for-each-ref", "--format=%(refname) %(symref)", "refs/remotes/").decode("utf-8", "replace")
    others = []
    for line in out.splitlines():
        name, _, target = line.partition(" ")
        own = [name, target] if target else [name]
        # refs/remotes/<remote>/<branch>: the pushed branch itself (or a HEAD pointing at it).
        if branch and any(r.startswith("refs/remotes/") and r.split("/", 3)[-1] == branch for r in own):
            continue
        others.append(f"^{name}")
    if not others:
        notes.append("no other remote branch to compare with: every commit of the branch is scanned")
    return Plan([head, *others], notes)


def _check_range_complete(repo: Repo, revs: list[str], fix: str) -> None:
    """In a shallow clone, a range that reaches the boundary goes on in commits that were not fetched.

    A failed ``git rev-list`` is an error: an empty answer would read as a range inside the clone."""
    boundary = repo.boundary
    try:
        listed = repo.run("rev-list", "--end-of-options", *revs).decode("ascii", "replace").split()
    except GitError as e:
        raise GitError(f"the commits of the range cannot be listed: {e}") from None
    cut = [c for c in listed if c in boundary]
    if cut:
        raise CIError(f"this checkout is shallow and the range reaches past its oldest commit {cut[0][:12]}: {fix}")
