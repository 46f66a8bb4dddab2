"""Small parsers for commit and tag objects, refs and trees."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from wvzscan.sources.git.process import Repo

_PERSON = re.compile(rb"^(?P<name>.*?) <(?P<email>[^>]*)> (?P<ts>-?\d+) (?P<tz>[+-]\d{4})$")


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: str  # ISO-8601 with the author's offset


def iso_date(ts: int, tz: str) -> str:
    sign = -1 if tz.startswith("-") else 1
    offset = dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * sign
    return dt.datetime.fromtimestamp(ts, dt.timezone(offset)).isoformat()


def header_field(header: bytes, name: bytes) -> bytes | None:
    for line in header.split(b"\n"):
        if line.startswith(name + b" "):
            return line[len(name) + 1 :]
    return None


def person(header: bytes, name: bytes) -> Person | None:
    """``author``/``committer``/``tagger`` of a commit or tag header."""
    value = header_field(header, name)
    if value is None:
        return None
    m = _PERSON.match(value)
    if m is None:
        return Person(value.decode("utf-8", "replace"), "", "")
    try:
        date = iso_date(int(m["ts"]), m["tz"].decode())
    except (ValueError, OverflowError, OSError):
        date = ""
    return Person(m["name"].decode("utf-8", "replace"), m["email"].decode("utf-8", "replace"), date)


@dataclass(frozen=True)
class Ref:
    name: str
    oid: str
    type: str
    peeled: str | None  # for annotated tags: the object at the end of the chain
    peeled_type: str | None


def refs(repo: Repo) -> list[Ref]:
    fmt = "%(objectname) %(objecttype) %(*objectname) %(*objecttype) %(refname)"
    out = repo.run("for-each-ref", f"--format={fmt}").decode("utf-8", "replace")
    result = []
    for line in out.splitlines():
        parts = line.split(" ", 4)
        if len(parts) == 5:
            oid, typ, peeled, ptype, name = parts
            result.append(Ref(name, oid, typ, peeled or None, ptype or None))
    # %(*objectname) peels one level; a tag of a tag is peeled to the end of its chain here.
    nested = [r for r in result if r.peeled_type == "tag"]
    if nested:
        query = "".join(f"{r.oid}^{{}}\n" for r in nested).encode()
        answer = repo.run("cat-file", "--batch-check=%(objectname) %(objecttype)", input=query, check=False)
        ends = dict(zip((r.oid for r in nested), answer.decode().splitlines(), strict=False))
        for i, r in enumerate(result):
            end = ends.get(r.oid, "").split()
            if r.peeled_type == "tag" and len(end) == 2:
                result[i] = Ref(r.name, r.oid, r.type, end[0], end[1])
    return result


def tags_reached(repo: Repo, refs: list[Ref]) -> dict[str, tuple[str, str | None]]:
    """Every annotated tag a ref reaches (tags of tags included) -> (that ref, the commit at the
    end of the chain, or None when it ends at a tree or a blob)."""
    out: dict[str, tuple[str, str | None]] = {}
    todo: dict[str, tuple[str, str | None]] = {}
    for r in refs:
        if r.type == "tag":
            info = (r.name, r.peeled if r.peeled_type == "commit" else None)
            out.setdefault(r.oid, info)
            todo.setdefault(r.oid, info)
    while todo:  # a tag of a tag: follow each chain one level per cat-file run
        order = list(todo)
        answers, _ = repo.cat(order)
        nxt: dict[str, tuple[str, str | None]] = {}
        for oid, ans in zip(order, answers, strict=False):
            if ans.data is None:
                continue
            header = ans.data.partition(b"\n\n")[0]
            target, typ = header_field(header, b"object"), header_field(header, b"type")
            if target and typ == b"tag" and target.decode() not in out:
                out[target.decode()] = todo[oid]
                nxt[target.decode()] = todo[oid]
        todo = nxt
    return out


def stash_entries(repo: Repo) -> dict[str, str]:
    """Older stash entries (stash@{1}...): reachable only through the stash's reflog. oid -> name."""
    return {oid: name for oid, name in stash_commits(repo).items() if name.startswith("stash@")}


def stash_commits(repo: Repo) -> dict[str, str]:
    """Every commit a stash entry made (the entry, its index and untracked-files commits) -> its
    name (``refs/stash`` for the newest, ``stash@{N}`` for the older ones). The entry's first
    parent is the branch's commit the stash was made on: not a stash commit."""
    out = repo.run("log", "-g", "--format=%H %P", "refs/stash", "--", check=False).decode().splitlines()
    names: dict[str, str] = {}
    for i, line in enumerate(out):
        oid, *parents = line.split()
        name = "refs/stash" if i == 0 else f"stash@{{{i}}}"
        for c in [oid, *parents[1:]]:
            names.setdefault(c, name)
    return names


def tree_blobs(repo: Repo, treeish: str) -> list[tuple[str, str]]:
    """(blob id, path) of every blob in a tree, recursively (submodules are not entered)."""
    out = repo.run("ls-tree", "-r", "-z", "--full-tree", treeish, check=False)
    items = []
    for entry in out.split(b"\0"):
        meta, tab, path = entry.partition(b"\t")
        if not tab:
            continue
        mode, typ, oid = meta.decode().split()
        if typ == "blob":
            items.append((oid, path.decode("utf-8", "replace")))
    return items


def blobs_at(repo: Repo, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The blob at each (commit, path) that has one; one ``cat-file --batch-check`` for all."""
    todo = sorted(pairs)
    plain = [(c, p) for c, p in todo if "\n" not in p]
    out: dict[tuple[str, str], str] = {}
    if plain:
        query = "".join(f"{c}:{p}\n" for c, p in plain).encode("utf-8", "surrogateescape")
        answer = repo.run("cat-file", "--batch-check=%(objectname) %(objecttype)", input=query, check=False)
        for pair, line in zip(plain, answer.decode("ascii", "replace").splitlines(), strict=False):
            oid, _, typ = line.partition(" ")
            if typ == "blob":
                out[pair] = oid
    for c, p in todo:
        if "\n" in p:  # cat-file reads one name per line; ls-tree takes any path
            raw = repo.run("--literal-pathspecs", "ls-tree", "-z", "--full-tree", c, "--", p, check=False)
            meta, tab, _ = raw.partition(b"\t")
            fields = meta.decode("ascii", "replace").split()
            if tab and len(fields) == 3 and fields[1] == "blob":
                out[(c, p)] = fields[2]
    return out


def has_gitlinks(repo: Repo, treeish: str) -> bool:
    out = repo.run("ls-tree", "-r", "-z", "--full-tree", treeish, check=False)
    return any(entry.startswith(b"160000 ") for entry in out.split(b"\0"))
