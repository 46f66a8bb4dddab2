"""The fleet: every repository of the list scanned into one result, each finding naming its
``repository``; with a state, only what changed since the last run is read.

For each repository, in name order (so shards merged in name order read as one run):
1. its objects: the local path, a mirror fetched or cloned (``--mirror-dir``), or a temporary clone;
2. the scan: in full when there is no state for it, when what decides findings changed (wvzscan's
   version, the rules, the configuration), or when something an old tip reached is not reached any
   more (a force push, a deleted branch); else only the objects ``git rev-list --objects NEW --not
   OLD`` lists, and the earlier findings are reported again with their keys read back from the
   objects that hold them;
3. the state entry, replaced in one transaction, only when the scan of that repository was complete.

A repository that cannot be cloned, fetched or read is an error for that repository; the others
are still scanned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from wvzscan.finding import Finding, ScanError, ScanResult
from wvzscan.org import state as state_mod
from wvzscan.org.engine import (
    EngineOptions,
    GitError,
    history_rewritten,
    new_objects,
    read_back,
    ref_tips,
    scan_one,
)
from wvzscan.org.mirrors import FetchError, checkout, has_mirror
from wvzscan.org.targets import Target
from wvzscan.output.redact import scrub

Mode = Literal["full", "incremental", "unchanged", "failed"]


@dataclass(frozen=True)
class RepoOutcome:
    name: str
    mode: Mode
    findings: int
    seconds: float
    why: str = ""


@dataclass(frozen=True)
class Tick:
    """Progress after (or before) one repository: for a terminal line, never holds a key."""

    done: int
    total: int
    name: str
    findings: int  # locations found so far in the fleet
    starting: bool


@dataclass
class FleetResult:
    result: ScanResult
    outcomes: list[RepoOutcome] = field(default_factory=list)

    def count(self, mode: Mode) -> int:
        return sum(1 for o in self.outcomes if o.mode == mode)


def order(targets: Sequence[Target]) -> list[Target]:
    return sorted(targets, key=lambda t: t.name)


def scan_fleet(
    targets: Sequence[Target],
    engine: EngineOptions,
    *,
    state: state_mod.State | None = None,
    mirror_dir: str | None = None,
    on_tick: Callable[[Tick], None] | None = None,
    scrub_secret: Callable[[str], str] = scrub,
    always_fetch: bool = False,
) -> FleetResult:
    todo = order(targets)
    fleet = FleetResult(ScanResult())
    total = fleet.result
    digest = state_mod.digest(engine.digest_parts())
    started = time.monotonic()
    for i, target in enumerate(todo):
        if on_tick is not None:
            on_tick(Tick(i, len(todo), target.name, len(total.findings), True))
        t0 = time.monotonic()
        outcome = _one(target, engine, state, mirror_dir, digest, total, scrub_secret, always_fetch)
        fleet.outcomes.append(RepoOutcome(target.name, outcome[0], outcome[1], time.monotonic() - t0, outcome[2]))
        if on_tick is not None:
            on_tick(Tick(i + 1, len(todo), target.name, len(total.findings), False))
    total.seconds = time.monotonic() - started
    return fleet


def _one(
    target: Target,
    engine: EngineOptions,
    state: state_mod.State | None,
    mirror_dir: str | None,
    digest: str,
    total: ScanResult,
    scrub_secret: Callable[[str], str],
    always_fetch: bool,
) -> tuple[Mode, int, str]:
    name = target.name
    try:
        prev = state.get(name) if state is not None else None
        # The forge says nothing was pushed since the entry was written, and the mirror is here:
        # no fetch (the slowest step of a rescan). --always-fetch turns this off.
        quiet = (
            not always_fetch
            and prev is not None
            and target.pushed is not None
            and prev.pushed == target.pushed
            and prev.digest == digest
            and has_mirror(mirror_dir, name)
        )
        with checkout(target, mirror_dir, fetch=not quiet) as (git_dir, _):
            earlier = _read_back(git_dir, engine, prev.findings) if quiet and prev is not None else None
            if quiet and prev is not None and earlier is not None:
                # Nothing pushed, nothing fetched: the refs are the ones the entry records.
                mode: Mode = "unchanged"
                tips, why, result = prev.tips, "", ScanResult(findings=earlier)
            else:
                tips = ref_tips(git_dir)
                mode, why, result = _scan(git_dir, engine, prev, tips, digest)
            unchanged = mode == "unchanged" and prev is not None and prev.pushed == target.pushed
            if state is not None and not result.errors and not unchanged:
                state.put(name, digest, tips, [state_mod.stored(f) for f in result.findings], target.pushed)
    except FetchError as e:
        total.error(name, scrub_secret(str(e)))
        return "failed", 0, str(e)
    except GitError as e:
        total.error(name, scrub_secret(f"cannot read the repository: {e}"))
        return "failed", 0, str(e)
    for f in result.findings:
        f.extra["repository"] = name
    total.findings.extend(result.findings)
    result.errors = [ScanError(f"{name}: {e.where}", e.message) for e in result.errors]
    result.notes = [f"{name}: {n}" for n in result.notes]
    if why:
        result.notes.insert(0, f"{name}: {why}")
    total.merge(result)
    return mode, len(result.findings), why


def _scan(
    git_dir: str, engine: EngineOptions, prev: state_mod.RepoState | None, tips: dict[str, str], digest: str
) -> tuple[Mode, str, ScanResult]:
    if prev is None:
        return "full", "", scan_one(git_dir, engine)
    if prev.digest != digest:
        why = "wvzscan, its rules or the configuration changed since the last run: scanned in full"
        return "full", why, scan_one(git_dir, engine)
    if history_rewritten(git_dir, prev.tips.values(), tips.values()):
        why = "history was rewritten since the last run (a force push or a deleted ref): scanned in full"
        return "full", why, scan_one(git_dir, engine)
    earlier = _read_back(git_dir, engine, prev.findings)
    if earlier is None:
        why = "an earlier finding could not be read back from its object: scanned in full"
        return "full", why, scan_one(git_dir, engine)
    new = new_objects(git_dir, tips.values(), prev.tips.values(), engine.max_size)
    if not new.ids and not new.missing and not new.skipped_large:
        result = ScanResult()
        mode: Mode = "unchanged"
    else:
        result = scan_one(git_dir, engine, objects=new.ids)
        mode = "incremental"
        for oid in new.missing:
            result.error(f"git object {oid}", "object is missing from the repository")
        if new.skipped_large:
            result.skipped["blob over max_file_size"] += new.skipped_large
    seen = {f.identity() for f in earlier}
    result.findings = earlier + [f for f in result.findings if f.identity() not in seen]
    return mode, "", result


def _read_back(git_dir: str, engine: EngineOptions, stored: list[state_mod.Stored]) -> list[Finding] | None:
    """The earlier findings with their keys, read from the objects that hold them; None when one
    cannot be (the object is gone, or holds no key with that fingerprint any more)."""
    if not stored:
        return []
    if any(s.holder is None for s in stored):
        return None
    found = read_back(git_dir, (s.holder for s in stored if s.holder), engine)
    keys: dict[tuple[str, str], str] = {}
    for oid, fs in found.items():
        for f in fs:
            keys[(oid, f.fingerprint)] = f.secret
    out: list[Finding] = []
    for s in stored:
        secret = keys.get((s.holder or "", s.fingerprint))
        if secret is None:
            return None
        out.append(state_mod.rebuild(s, secret))
    return out
