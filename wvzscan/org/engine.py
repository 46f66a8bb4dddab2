"""The one place ``wvzscan org`` calls the scan engine and ``sources.git``.

``scan_one`` scans one repository: every object (``objects=None``, as ``wvzscan repo`` does), or only
the listed objects (an incremental rescan: what the new ref tips reach and the old ones did not).
When the typed engine (``wvzscan.api``) lands, this module is what changes; the fleet does not.
Everything else git-specific that the fleet needs (ref tips, the new objects, reading back an
earlier finding's key) is here too, so the fleet's use of ``sources.git`` stays in one module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from wvzscan import detect
from wvzscan.finding import Finding, ScanResult
from wvzscan.progress import Progress
from wvzscan.scan import Scanner
from wvzscan.sources.git.common import ObjectScanner, add_findings
from wvzscan.sources.git.history_scan import attribute, read_objects, scan_history
from wvzscan.sources.git.objects import READ_TYPES, from_ids
from wvzscan.sources.git.process import GitError, Repo, git_env, run, run_full
from wvzscan.sources.git.repo_state import describe_state
from wvzscan.sources.git.repository import open_repo

__all__ = [
    "EngineOptions",
    "GitError",
    "scan_one",
    "open_git_dir",
    "ref_tips",
    "history_rewritten",
    "new_objects",
    "read_back",
    "git_environment",
]


@dataclass(frozen=True)
class EngineOptions:
    """What decides a repository's findings: part of the state's digest (a change rescans everything)."""

    rules: detect.Rules = detect.DEFAULT_RULES
    inline_allow: bool = True
    exclude: tuple[str, ...] = ()
    max_size: int | None = None
    include_unreachable: bool = False
    connectivity_check: bool = True
    workers: int | None = None
    progress: Progress | None = field(default=None, compare=False)

    def digest_parts(self) -> dict[str, object]:
        r = self.rules
        return {
            "min_entropy": r.min_entropy,
            "include_examples": r.include_examples,
            "decode": sorted(r.decode),
            "archives": [r.archives.depth, r.archives.max_bytes, r.archives.max_ratio, r.archives.max_entries],
            "inline_allow": self.inline_allow,
            "exclude": list(self.exclude),
            "max_size": self.max_size,
            "include_unreachable": self.include_unreachable,
        }


def open_git_dir(path: str) -> str:
    """The git directory of the repository at ``path`` (raises GitError)."""
    git_dir: str = open_repo(path).git_dir
    return git_dir


def scan_one(git_dir: str, options: EngineOptions, *, objects: Sequence[str] | None = None) -> ScanResult:
    """One repository's findings (not yet suppressed by config or baseline; not verified)."""
    repo = open_repo(git_dir)
    result = ScanResult()
    scanner = Scanner(result, options.rules, inline_allow=options.inline_allow)
    if objects is None:
        scan_history(
            repo,
            scanner,
            result,
            include_unreachable=options.include_unreachable,
            progress=options.progress,
            workers=options.workers,
            max_size=options.max_size,
            exclude=options.exclude,
            connectivity_check=options.connectivity_check,
        )
        return result
    describe_state(repo, result)
    handler = ObjectScanner(scanner, result, "git", options.progress)
    if objects:
        read_objects(repo, from_ids(list(objects)), handler, options.workers)
    handler.finish()
    if handler.found:
        findings = attribute(repo, handler.found, result, "git", options.include_unreachable)
        add_findings(result, findings, options.exclude)
    return result


def ref_tips(git_dir: str) -> dict[str, str]:
    """Every ref and the object it points at (branches, tags, notes, stash, remotes)."""
    out = _git(git_dir, "for-each-ref", "--format=%(objectname) %(refname)")
    tips: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        oid, _, name = line.partition(" ")
        if oid and name:
            tips[name] = oid
    return tips


def history_rewritten(git_dir: str, old: Iterable[str], new: Iterable[str]) -> bool:
    """True when something an old tip reached is no longer reached by any new tip (a force push, a
    deleted branch), or an old tip is not in the repository any more."""
    olds = sorted(set(old) - set(new))
    if not olds:
        return False
    query = "".join(o + "\n" for o in olds) + "".join(f"^{n}\n" for n in sorted(set(new)))
    p = run_full(git_dir, ["rev-list", "--objects", "--stdin"], input=query.encode())
    return p.code != 0 or bool(p.stdout.strip())


@dataclass
class NewObjects:
    ids: list[str]  # blobs, commits and tags to read
    missing: list[str]  # reachable but not in the store
    skipped_large: int = 0


def new_objects(git_dir: str, new: Iterable[str], old: Iterable[str], max_size: int | None) -> NewObjects:
    """What ``git rev-list --objects NEW --not OLD`` reaches that can hold a key (no trees)."""
    news = sorted(set(new))
    if not news:
        return NewObjects([], [])
    query = "".join(n + "\n" for n in news) + "".join(f"^{o}\n" for o in sorted(set(old)))
    listed = _git(git_dir, "rev-list", "--objects", "--missing=print", "--stdin", input=query.encode())
    ids: list[str] = []
    missing: list[str] = []
    for line in listed.split(b"\n"):
        if not line:
            continue
        oid = line.split(b" ", 1)[0].decode("ascii", "replace")
        if oid.startswith("?"):
            missing.append(oid[1:])
        else:
            ids.append(oid)
    if not ids:
        return NewObjects([], missing)
    check = _git(
        git_dir,
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        input="".join(i + "\n" for i in ids).encode(),
        check=False,
    )
    keep: list[str] = []
    large = 0
    for line in check.split(b"\n"):
        parts = line.split()
        if len(parts) == 2 and parts[1] == b"missing":
            missing.append(parts[0].decode("ascii", "replace"))
        if len(parts) != 3 or parts[1] not in READ_TYPES:
            continue
        if max_size is not None and parts[1] == b"blob" and int(parts[2]) > max_size:
            large += 1
            continue
        keep.append(parts[0].decode("ascii"))
    return NewObjects(keep, missing, large)


def read_back(git_dir: str, holders: Iterable[str], options: EngineOptions) -> dict[str, list[Finding]]:
    """The keys earlier runs found, read back from the objects that hold them (the state keeps no
    key): object id -> its findings. An object that cannot be read is simply absent."""
    # No discovery (one git process fewer per repository): a bare git directory the fleet opened.
    repo = Repo(git_dir=git_dir, work_tree=None, shallow=False, object_format="sha1")
    ids = sorted(set(holders))
    scratch = ScanResult()
    scanner = Scanner(scratch, options.rules, inline_allow=options.inline_allow)
    handler = ObjectScanner(scanner, scratch, "git")
    if ids:
        read_objects(repo, from_ids(ids), handler, 1)
    return {oid: fo.findings for oid, fo in handler.found.items()}


def _git(git_dir: str, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    return run(git_dir, args, input=input, check=check)  # the one runner, its environment and config policy


def git_environment() -> dict[str, str]:
    """The environment every git the scanner runs gets (no prompts, no lazy fetches, no replace refs)."""
    return git_env()
