"""What the scan must say about the repository itself: shallow, partial, submodules, missing objects."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import IO

from wvzscan.finding import ScanResult
from wvzscan.sources.git import objects_meta
from wvzscan.sources.git.process import DELTA_BASE_CACHE, GitError, Repo


def is_partial(repo: Repo) -> bool:
    """A partial clone (``--filter``): objects may be missing by design, kept by a promisor remote."""
    if repo.run("config", "--get", "extensions.partialClone", check=False).strip():
        return True
    out = repo.run("config", "--get-regexp", r"^remote\..*\.promisor$", check=False).decode().split()
    return "true" in out[1::2]


def report_opening(repo: Repo, result: ScanResult) -> None:
    """What opening the repository found that makes a scan incomplete (a shallow file not believed)."""
    for message in repo.errors:
        if not any(e.where == "git repository" and e.message == message for e in result.errors):
            result.error("git repository", message)


def describe_state(repo: Repo, result: ScanResult) -> None:
    report_opening(repo, result)
    if repo.shallow:
        result.notes.append(
            "shallow clone: commits before the shallow boundary are not in this repository and were not "
            "scanned (run `git fetch --unshallow`, or use `fetch-depth: 0` in CI, for the full history)"
        )
    if is_partial(repo):
        result.notes.append(
            "partial clone: objects the clone filtered out are not here; each one is counted as an error"
        )
    if repo.head() is not None and (_has_gitmodules(repo) or objects_meta.has_gitlinks(repo, "HEAD")):
        result.notes.append(
            "submodules are not entered: each is its own repository "
            "(scan them with `git submodule foreach wvzscan repo .`)"
        )


def _has_gitmodules(repo: Repo) -> bool:
    return repo.ok("cat-file", "-e", "HEAD:.gitmodules")


def missing_objects(
    repo: Repo,
    revs: tuple[str, ...] = ("--all",),
    stopped: threading.Event | None = None,
    names: IO[bytes] | None = None,
) -> list[str]:
    """Objects that refs lead to but the object store lacks (walks every tree; prints, never fetches).

    ``stopped``: when set, the walk ends early (its git process is stopped; the answer is partial).
    ``names``: the walk's ``<oid> <path>`` lines are copied there (the path it first reached each
    object by), so a blob can be named later without walking the history again."""
    if repo.head() is None and not repo.run("for-each-ref", "--count=1").strip():
        return []  # an empty repository
    args = ["rev-list", "--objects", "--missing=print", *revs]
    missing: list[str] = []
    try:
        with repo.stream(*args, config=[DELTA_BASE_CACHE]) as proc:
            rest = b""
            for chunk in proc.chunks():
                if stopped is not None and stopped.is_set():
                    raise _Stopped
                if names is not None:
                    names.write(chunk)
                buf = rest + chunk
                cut = buf.rfind(b"\n") + 1
                block, rest = buf[:cut], buf[cut:]
                if b"?" in block:
                    missing.extend(ln[1:].decode() for ln in block.split(b"\n") if ln.startswith(b"?"))
            if rest.startswith(b"?"):
                missing.append(rest[1:].strip().decode())
    except _Stopped:
        return missing
    except GitError as e:
        raise GitError(f"the history could not be walked: {str(e).removeprefix('git rev-list failed: ')}") from None
    return missing


class _Stopped(Exception):
    pass


def paths_from_walk(names: IO[bytes], oids: Iterable[str]) -> dict[str, str]:
    """The path the walk first reached each of ``oids`` by (``missing_objects(names=...)``'s lines);
    a blob only a tag or a ref names directly has no path, and is left out."""
    wanted = {o.encode("ascii") for o in oids}
    out: dict[str, str] = {}
    names.seek(0)
    for line in names:
        oid, sep, path = line.rstrip(b"\n").partition(b" ")
        if sep and path and oid in wanted and oid.decode() not in out:
            out[oid.decode()] = path.decode("utf-8", "surrogateescape")
            if len(out) == len(wanted):
                break
    return out


def _count_objects(repo: Repo) -> dict[str, int]:
    out = repo.run("count-objects", "-v").decode("utf-8", "replace")
    counts: dict[str, int] = {}
    for line in out.splitlines():
        name, _, value = line.partition(":")
        if value.strip().isdigit():
            counts[name.strip()] = int(value.strip())
        elif name.strip() == "alternate":
            counts["alternates"] = counts.get("alternates", 0) + 1
    return counts


def _on_disk(objects_dir: str) -> tuple[int, int, list[str]]:
    """(loose object files, packs with an index, problems) in the repository's own object folder."""
    import os
    import re

    problems: list[str] = []
    loose = packs = 0
    fanout = re.compile(r"^[0-9a-f]{2}$")
    try:
        names = os.listdir(objects_dir)
    except OSError as e:
        return 0, 0, [f"cannot list {objects_dir}: {e.strerror}"]
    for name in names:
        if fanout.match(name):
            folder = os.path.join(objects_dir, name)
            try:
                loose += sum(1 for n in os.listdir(folder) if re.fullmatch(r"[0-9a-f]{38}|[0-9a-f]{62}", n))
            except NotADirectoryError:
                problems.append(f"{folder} is not a folder")
            except OSError as e:
                problems.append(f"cannot list {folder}: {e.strerror}")
    pack_dir = os.path.join(objects_dir, "pack")
    try:
        files = set(os.listdir(pack_dir))
    except FileNotFoundError:
        files = set()
    except OSError as e:
        problems.append(f"cannot list {pack_dir}: {e.strerror}")
        files = set()
    for name in sorted(files):
        if name.endswith(".pack") and not name.startswith("tmp_"):
            if name[:-5] + ".idx" in files:
                packs += 1
            else:
                problems.append(f"pack {name} has no index: its objects cannot be read")
    return loose, packs, problems


def inventory_problems(repo: Repo, listed: int) -> list[str]:
    """Whether git's enumeration of the object store saw what is there.

    git skips a pack whose index it cannot read, or a folder it cannot list, with an error and exit
    code 0. ``git count-objects -v`` and the folder itself are asked independently: a pack or a
    loose object that git does not count, or fewer objects listed than the store's loose objects
    (or, with one pack, than loose plus packed), means objects went unread."""
    import os

    counts = _count_objects(repo)
    objects_dir = repo.run("rev-parse", "--git-path", "objects").decode("utf-8", "surrogateescape").strip()
    if not os.path.isabs(objects_dir):
        objects_dir = os.path.join(repo.git_dir, objects_dir)
    loose, packs, problems = _on_disk(objects_dir)
    if packs > counts.get("packs", 0):
        problems.append(
            f"{packs - counts.get('packs', 0)} of {packs} packs in {objects_dir}/pack could not be opened by git "
            "(a corrupt or unreadable pack index): their objects were not read"
        )
    if loose > counts.get("count", 0):
        problems.append(f"{loose - counts.get('count', 0)} loose objects were not counted by git: not read")
    distinct_loose = counts.get("count", 0) - counts.get("prune-packable", 0)
    expected = distinct_loose + counts.get("in-pack", 0)
    short = listed < distinct_loose or (counts.get("packs", 0) <= 1 and listed < expected)
    if short:
        problems.append(f"git listed {listed} objects, but count-objects counts {expected}: objects were not read")
    return problems
