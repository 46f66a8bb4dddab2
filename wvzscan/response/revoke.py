"""Revocation: plan, confirm, delete, prove dead, and write every step in the journal.

Only keys the API confirmed live, whose id was resolved without doubt (``resolve.py``), are deleted;
the admin key, when itself leaked, goes last. Nothing here prints: messages go to ``say`` (an indented
message continues the one before it), questions to ``confirm`` (True/False, or None: nobody to ask).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from wvzscan.finding import fingerprint
from wvzscan.output.redact import scrub
from wvzscan.response.journal import Journal
from wvzscan.response.resolve import Resolution, resolve
from wvzscan.response.verify import Status, Verdict, probe
from wvzscan.weavz import Client, WeavzError, key_label

RevocationResult = Literal["revoked", "dry-run", "failed", "skipped"]

Say = Callable[[str], None]
Confirm = Callable[[str], "bool | None"]


@dataclass
class Leak:
    """A key to respond to and where it was first found (for the plan and the journal)."""

    key: str
    where: str


@dataclass
class Target:
    """One unique live key to revoke, with everything the plan and the journal need."""

    key: str
    verdict: Verdict
    where: str
    resolution: Resolution = field(default_factory=Resolution)
    is_admin: bool = False

    @property
    def key_id(self) -> str | None:
        r = self.resolution.record
        return r.id if r is not None else None

    @property
    def key_name(self) -> str | None:
        r = self.resolution.record
        return r.name if r is not None else None

    def describe(self) -> str:
        scope = {"org": "org-wide", "workspace": "workspace-scoped"}.get(self.verdict.scope or "", "scope unknown")
        head = f"{key_label(self.key)} {scope}, found at {self.where}"
        if self.resolution.problem:
            s = f"cannot revoke {head}: {self.resolution.problem}"
            if self.resolution.candidates:
                s += f" (candidates: {', '.join(self.resolution.candidates)})"
            return scrub(s)
        name = f' "{self.key_name}"' if self.key_name else ""
        return scrub(f"revoke {self.key_id}{name}: {head}{' (WEAVZ_API_KEY itself, last)' if self.is_admin else ''}")


@dataclass
class Outcome:
    result: RevocationResult
    key_id: str | None
    reason: str | None

    def __post_init__(self) -> None:
        self.reason = scrub(self.reason) if self.reason is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.result, "key_id": self.key_id, "reason": self.reason}


def order(targets: list[Target]) -> list[Target]:
    """The admin key, when itself leaked, goes last: the others may need it."""
    return sorted(targets, key=lambda t: t.is_admin)


def confirm_dead(client: Client, key: str, sleep: Callable[[float], None] = time.sleep) -> tuple[Status, str]:
    """Re-verify after DELETE; a live answer is retried briefly in case deletion takes a moment to spread."""
    status: Status = "unknown"
    reason = "not checked"
    for attempt in range(3):
        p = probe(client, key)
        status, reason = p.status, p.reason
        if status != "live":
            break
        if attempt < 2:
            sleep(max(client.settings.backoff, 0.05) * (2**attempt))
    return status, reason


def revoke_one(
    client: Client,
    t: Target,
    admin_key: str | None,
    journal: Journal,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    if t.resolution.problem or t.key_id is None:
        reason = t.resolution.problem or "id not resolved"
        if t.resolution.candidates:
            reason += f" (candidates: {', '.join(t.resolution.candidates)})"
        journal.write("revoke", t.key, "failed", where=t.where, error=reason)
        return Outcome("failed", None, reason)
    credential = t.key if t.resolution.via == "self" else admin_key
    assert credential is not None
    ids = {"key_id": t.key_id, "key_name": t.key_name, "where": t.where}
    if not journal.write("revoke", t.key, "started", **ids):
        return Outcome("failed", t.key_id, f"not revoked: {journal.failed}")
    try:
        deleted = client.delete_key(credential, t.key_id)
    except WeavzError as e:
        journal.write("revoke", t.key, "failed", **ids, error=f"DELETE: {e.reason}")
        # The DELETE may have taken effect with its answer lost: the re-check below tells.
        status, reason = confirm_dead(client, t.key, sleep)
        journal.write("verify-dead", t.key, status, **ids, error=None if status == "invalid" else reason)
        if status == "invalid":
            return Outcome("revoked", t.key_id, f"DELETE failed ({e.reason}) but the key is now dead ({reason})")
        return Outcome("failed", t.key_id, f"DELETE failed: {e.reason}")
    journal.write("revoke", t.key, deleted, **ids)
    status, reason = confirm_dead(client, t.key, sleep)
    journal.write("verify-dead", t.key, status, **ids, error=None if status == "invalid" else reason)
    what = "already revoked (404)" if deleted == "not-found" else "deleted"
    if status == "invalid":
        return Outcome("revoked", t.key_id, f"{what}; now {reason}")
    if status == "live":
        return Outcome("failed", t.key_id, f"{what}, but still live: {reason}")
    return Outcome("failed", t.key_id, f"{what}, but could not prove it dead: {reason}")


@dataclass
class Revocation:
    """What ``revoke_leaks`` did: an outcome per key, and whether every live key was dealt with."""

    outcomes: dict[str, Outcome]
    ok: bool  # False: a live key was not revoked (failed, skipped, not confirmed) or the journal failed


def _plural(n: int, word: str = "key") -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def revoke_leaks(
    client: Client,
    leaks: list[Leak],
    verdicts: dict[str, Verdict],
    *,
    admin_key: str | None,
    journal: Journal,
    dry_run: bool,
    yes: bool,
    confirm: Confirm,
    say: Say,
) -> Revocation:
    """Resolve, plan, confirm, revoke, re-verify."""
    outcomes: dict[str, Outcome] = {}
    targets: list[Target] = []
    admin_fp = fingerprint(admin_key) if admin_key else None
    for leak in leaks:
        v = verdicts[leak.key]
        if v.status == "invalid":
            outcomes[leak.key] = Outcome("skipped", None, f"already invalid ({v.reason})")
        elif v.status != "live":
            outcomes[leak.key] = Outcome("skipped", None, f"status unknown ({v.reason}): not proven live")
        else:
            targets.append(Target(leak.key, v, leak.where, is_admin=fingerprint(leak.key) == admin_fp))
    if not targets:
        return Revocation(outcomes, True)
    for t in targets:
        t.resolution = resolve(client, t.key, t.verdict, admin_key)
    targets = order(targets)
    doable = [t for t in targets if not t.resolution.problem]
    say(f"revocation plan ({_plural(len(targets), 'live key')}):")
    for t in targets:
        say(f"  {t.describe()}")
    go = True
    if doable and dry_run:
        go = False
        for t in doable:
            journal.write("revoke", t.key, "dry-run", key_id=t.key_id, key_name=t.key_name, where=t.where)
            outcomes[t.key] = Outcome("dry-run", t.key_id, "dry run: nothing changed")
    elif doable and not yes:
        answer = confirm(f"Revoke {_plural(len(doable))} now?")
        if answer is None:
            say("not revoking: no terminal to confirm on; re-run with --yes to revoke without a prompt")
        elif not answer:
            say("not revoking: not confirmed")
        if not answer:
            go = False
            why = "not confirmed (no terminal; use --yes)" if answer is None else "not confirmed"
            for t in doable:
                journal.write(
                    "revoke", t.key, "skipped", key_id=t.key_id, key_name=t.key_name, where=t.where, error=why
                )
                outcomes[t.key] = Outcome("skipped", t.key_id, why)
    for t in targets:
        if t.resolution.problem or go:
            outcomes[t.key] = revoke_one(client, t, admin_key, journal)
    if journal.failed:
        say(f"{journal.failed}: the audit log is incomplete")
    failed = [t for t in targets if outcomes[t.key].result in ("failed", "skipped")]
    revoked = [t for t in targets if outcomes[t.key].result == "revoked"]
    if dry_run:
        say(f"dry run: would revoke {len(doable)} of {len(targets)}; nothing was changed")
    else:
        summary = f"revoked {len(revoked)} of {_plural(len(targets), 'live key')}"
        if failed:
            summary += "; NOT revoked: " + "; ".join(f"{t.key[:8]}… ({outcomes[t.key].reason})" for t in failed)
        say(summary)
    return Revocation(outcomes, not failed and not journal.failed)
