"""Commits and what each one changed, from one streaming ``git log --raw -z`` pass."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from wvzscan.sources.git.process import Repo

GITLINK = "160000"  # a submodule's commit in a tree: not entered
_FIELDS = 6  # %H %P %S %an %ae %aI after the \x01 marker
LOG_FORMAT = "--format=%x01%H%x00%P%x00%S%x00%an%x00%ae%x00%aI"


@dataclass(frozen=True)
class Change:
    """One path a commit changed (``git diff --raw``); oids are None for 'no blob' (all zeros)."""

    status: str  # A, M, D, T, R, C (without the score)
    old_mode: str
    new_mode: str
    old_oid: str | None
    new_oid: str | None
    path: str  # the new path (for R/C) or the path
    old_path: str | None = None  # for R/C
    # A merge's combined diff (``--diff-merges=combined``): every parent's blob, in parent order
    # (old_oid is the first parent's). Empty for an ordinary change.
    parent_oids: tuple[str | None, ...] = ()


@dataclass
class Commit:
    oid: str
    parents: list[str]
    source: str  # the ref it was reached from (git log --source)
    author: str
    email: str
    date: str
    changes: list[Change] = field(default_factory=list)


def _decode_path(b: bytes) -> str:
    # Undecodable names stay readable; reports never crash on them.
    return b.decode("utf-8", "replace")


def _tokens(stream: Iterator[bytes]) -> Iterator[bytes]:
    rest = b""
    for chunk in stream:
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def parse_log(stream: Iterator[bytes], null_oid: str) -> Iterator[Commit]:
    """Commits from ``git log -z --raw --no-abbrev`` output in ``LOG_FORMAT``."""
    toks = _tokens(stream)
    commit: Commit | None = None
    for tok in toks:
        tok = tok.lstrip(b"\n")
        if tok.startswith(b"\x01"):
            if commit is not None:
                yield commit
            vals = [tok[1:]] + [next(toks, b"") for _ in range(_FIELDS - 1)]
            h, p, s, an, ae, ad = (v.decode("utf-8", "replace") for v in vals)
            commit = Commit(h, p.split(), s, an, ae, ad)
        elif tok.startswith(b":") and commit is not None:
            change = _change(tok, toks, null_oid)
            if change is not None:
                commit.changes.append(change)
    if commit is not None:
        yield commit


def _change(tok: bytes, toks: Iterator[bytes], null_oid: str) -> Change | None:
    parents = len(tok) - len(tok.lstrip(b":"))
    if parents > 1:
        return _combined(tok, parents, toks, null_oid)
    meta = tok[1:].decode("ascii", "replace").split()
    if len(meta) < 5:
        return None
    old_mode, new_mode, old_oid, new_oid, status = meta[:5]
    path = next(toks, b"")
    old_path = None
    if status[0] in "RC":
        old_path, path = path, next(toks, b"")
    return Change(
        status[0],
        old_mode,
        new_mode,
        None if old_oid == null_oid else old_oid,
        None if new_oid == null_oid else new_oid,
        _decode_path(path),
        _decode_path(old_path) if old_path is not None else None,
    )


def _combined(tok: bytes, parents: int, toks: Iterator[bytes], null_oid: str) -> Change | None:
    """``::<modes> <oids> <statuses>`` then one path: a path a merge changed against every parent."""
    meta = tok[parents:].decode("ascii", "replace").split()
    path = next(toks, b"")
    if len(meta) < 2 * (parents + 1) + 1:
        return None
    modes, oids, status = meta[: parents + 1], meta[parents + 1 : 2 * parents + 2], meta[2 * parents + 2]
    olds = tuple(None if o == null_oid else o for o in oids[:parents])
    new = None if oids[parents] == null_oid else oids[parents]
    return Change(status[0], modes[0], modes[parents], olds[0], new, _decode_path(path), parent_oids=olds)


def parse_raw(out: bytes, null_oid: str) -> list[Change]:
    """``git diff-index/diff-tree --raw -z`` output."""
    toks = iter(out.split(b"\0"))
    changes = []
    for tok in toks:
        tok = tok.lstrip(b"\n")
        if tok.startswith(b":"):
            change = _change(tok, toks, null_oid)
            if change is not None:
                changes.append(change)
    return changes


def log(
    repo: Repo,
    revs: Sequence[str],
    raw: bool = True,
    renames: bool = False,
    merges: str = "first-parent",
    stdin_revs: Sequence[str] = (),
) -> Iterator[Commit]:
    """Stream the commits of ``revs`` (git log arguments) with the paths each one changed."""
    # --root: a user's log.showRoot=false would hide what the first commit added.
    args = ["log", LOG_FORMAT, "--source", "--date-order", "-z", "--no-color", "--root"]
    if raw:
        args += ["--raw", "--no-abbrev", "--no-ext-diff", "--no-textconv", f"--diff-merges={merges}"]
        args += ["-M"] if renames else ["--no-renames"]
    args += list(revs)
    if stdin_revs:
        args.append("--stdin")
    with repo.stream(*args, stdin="".join(r + "\n" for r in stdin_revs).encode() if stdin_revs else None) as s:
        yield from parse_log(iter(s.chunks()), repo.null_oid)
