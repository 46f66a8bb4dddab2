"""What a person reads on stderr at the end of a run: a blocked commit, an incomplete scan.

Pure functions over counts and ``ScanResult``: they return text, the CLI prints it. Nothing here
imports click or anything heavy (``wvzscan staged`` runs on every commit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

SHOWN_PER_GROUP = 3  # paths named on a grouped error line; the JSON report keeps every one


class _Error(Protocol):
    @property
    def where(self) -> str: ...

    @property
    def message(self) -> str: ...


class _Result(Protocol):
    @property
    def errors(self) -> Sequence[_Error]: ...


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 key``, ``2 keys``, ``0 keys``; ``many`` for irregular plurals (``1 entry``, ``2 entries``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def blocked_commit_message(n_keys: int) -> str:
    """What `wvzscan staged` prints on stderr when the commit would record keys (after the report)."""
    return "\n".join(
        [
            f"wvzscan: commit blocked: {plural(n_keys, 'key')} would be committed.",
            "  - a real key: remove it from the staged files (git restore --staged FILE, or edit and git add),",
            "    then revoke it (wvzscan revoke - < keyfile): it may already be copied elsewhere.",
            "  - not a key (a test fixture, an example): add `# wvzscan:allow REASON` on its line,",
            "    or put its fingerprint (above) in an [[allow]] entry of .wvzscan.toml, the hook's baseline.",
            "  - to commit anyway, once: git commit --no-verify (pre-commit framework: SKIP=wvzscan git commit).",
        ]
    )


@dataclass(frozen=True)
class ErrorGroup:
    """Errors of one kind: ``count`` of them, ``message`` shared, the first ``wheres``."""

    kind: str
    message: str
    count: int
    wheres: tuple[str, ...]


# What an object git has but cannot give says (corrupt, or an answer that breaks off); a missing one
# says "object is missing from the repository".
_DAMAGED = ("cannot read object", "object cannot be read")


def _kind(e: _Error) -> str:
    """Why it was not read: a git object missing or damaged, the Weavz API, or content (files, archives)."""
    if e.where.startswith(("git object", "git objects")):
        return "damaged" if e.message.startswith(_DAMAGED) else "git"
    if e.where.startswith(("git ", "HEAD")) or "shallow" in e.message or "fetch-depth" in e.message:
        return "git"
    if e.where == "verify" or e.where.startswith("verify "):  # one line for an unreachable API, or per key
        return "api"
    return "content"


def _head(message: str) -> str:
    """The part of a message errors of one kind share (``cannot read zip archive: Bad CRC-32`` ->
    ``cannot read zip archive``); a message without a ``:`` is its own head."""
    head, sep, _ = message.partition(": ")
    return head if sep else message


def group_errors(errors: Iterable[_Error], shown: int = SHOWN_PER_GROUP) -> list[ErrorGroup]:
    """Similar errors as one group each, in order of first appearance."""
    groups: dict[tuple[str, str], list[_Error]] = {}
    for e in errors:
        groups.setdefault((_kind(e), _head(e.message)), []).append(e)
    out = []
    for (kind, head), es in groups.items():
        message = es[0].message if all(e.message == es[0].message for e in es) else head
        out.append(ErrorGroup(kind, message, len(es), tuple(e.where for e in es[:shown])))
    return out


def _group_line(g: ErrorGroup) -> str:
    from wvzscan.output.terminal import escape_line as printable  # paths and messages are someone else's text

    if g.count == 1:
        return f"wvzscan: {printable(g.wheres[0])}: {printable(g.message)}"
    more = g.count - len(g.wheres)
    names = ", ".join(printable(w) for w in g.wheres) + (f" and {more} more" if more else "")
    return f"wvzscan: {plural(g.count, 'item')}: {printable(g.message)} ({names}; all in the JSON report)"


def way_to_clean_run(result: _Result) -> str:
    """The one line that ends an incomplete run: what made it incomplete, and how to get a clean one."""
    kinds = {_kind(e) for e in result.errors}
    n = len(result.errors)
    what = []
    ways = []
    if "content" in kinds:
        what.append("unreadable files or archives")
        ways.append("fix them or --exclude PATH")
    if "git" in kinds:
        what.append("git objects missing from this clone")
        ways.append("fetch the missing objects (git fetch --unshallow; fetch-depth: 0 in CI)")
    if "damaged" in kinds:
        what.append("git objects the repository has but git cannot read")
        ways.append("check the object store with git fsck (a fresh clone replaces damaged objects)")
    if "api" in kinds:
        what.append("keys the Weavz API did not check")
        ways.append("re-run --verify when the API answers")
    return (
        f"wvzscan: scan incomplete: {plural(n, 'item')} could not be read ({', '.join(what)}). "
        f"For a clean run: {'; '.join(ways)}; or accept it with --allow-incomplete"
    )


def incomplete_summary(result: _Result, errors_shown: bool = False) -> list[str]:
    """The stderr summary of an incomplete scan: one line per group of similar errors (unless the
    report on stdout already lists them: ``errors_shown``), then `way_to_clean_run`. Empty when the
    scan was complete."""
    if not result.errors:
        return []
    lines = [] if errors_shown else [_group_line(g) for g in group_errors(result.errors)]
    return [*lines, way_to_clean_run(result)]
