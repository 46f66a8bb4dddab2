"""Revocation: find a leaked key's id without doubt, delete it, prove it dead, write it all down.

Nothing is revoked unless the API confirmed the key live and exactly one key-list entry is it:
- an org-wide leaked key lists the keys itself; a single entry with its keyPrefix is its own;
- a workspace-scoped key cannot list keys, so the admin key (WEAVZ_API_KEY) does, and because that
  list may belong to another organization, the entry is confirmed by probing with the leaked key and
  watching which entry's lastUsedAt moves;
- several entries sharing the prefix are told apart the same way; if that does not single one out,
  nothing is revoked and the candidates are reported.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wvzscan.finding import fingerprint
from wvzscan.verify import Verdict, candidates, probe
from wvzscan.weavz import ApiKey, Client, KeyList, WeavzError, key_label

RESOLVE_ROUNDS = 4  # probes at most; each round waits Settings-independent RESOLVE_WAIT when nothing moved


def resolve_wait() -> float:
    """Seconds to wait for lastUsedAt to tick when a probe did not move it (tests shorten it)."""
    try:
        return max(0.0, float(os.environ.get("WVZSCAN_RESOLVE_WAIT", "1.0")))
    except ValueError:
        return 1.0


# ---------------------------------------------------------------------------------------------
# Audit log


class AuditLog:
    """JSON lines, appended and fsynced before and after each call; fingerprints, never keys.

    A write that fails (disk full, I/O error) never raises: it returns False and is remembered in
    ``failed``, so that no change is made that cannot be written down, and the run ends with exit 2.
    """

    def __init__(self, path: str | None, api_url: str = "") -> None:
        self.path = path
        self.api_url = api_url
        self.failed: str | None = None
        self._fd: int | None = None
        if path:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            st = os.fstat(self._fd)
            if not stat.S_ISREG(st.st_mode):
                pass  # a pipe or a device (/dev/stderr): never chmod what is not our log file
            elif st.st_mode & 0o077:
                try:
                    os.fchmod(self._fd, 0o600)
                except OSError:
                    os.close(self._fd)
                    raise

    def write(self, action: str, key: str, result: str, **fields: Any) -> bool:
        if self._fd is None:
            return True
        rec: dict[str, Any] = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "action": action,
            "fingerprint": fingerprint(key),
            "key_prefix": key[:8],
            "key_id": None,
            "key_name": None,
            "where": None,
            "result": result,
            "error": None,
            "api_url": self.api_url,
        }
        rec.update(fields)
        data = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            if os.write(self._fd, data) != len(data):
                raise OSError(errno.ENOSPC, "short write")
            try:
                os.fsync(self._fd)
            except OSError as e:
                if e.errno != errno.EINVAL:  # pipes and ttys cannot be synced; files must be
                    raise
        except OSError as e:
            self.failed = f"cannot write audit log {self.path}: {e.strerror or e}"
            return False
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# ---------------------------------------------------------------------------------------------
# Id resolution


@dataclass
class Resolution:
    record: ApiKey | None = None
    problem: str | None = None  # why the id could not be resolved
    candidates: list[str] = field(default_factory=list)
    via: str = "self"  # which key listed (and will delete): "self" or "admin"


def resolve(
    client: Client,
    key: str,
    verdict: Verdict,
    admin_key: str | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Resolution:
    if verdict.status != "live":
        return Resolution(problem=f"not live ({verdict.status}: {verdict.reason})")
    if verdict.scope == "org":
        lister, via = key, "self"
    elif admin_key:
        lister, via = admin_key, "admin"
    elif verdict.scope == "workspace":
        return Resolution(
            problem="workspace-scoped key: set WEAVZ_API_KEY to an org-wide key to resolve its id",
            via="admin",
        )
    else:
        return Resolution(problem=f"scope unknown and no WEAVZ_API_KEY to list keys ({verdict.reason})")
    who = "the key itself" if via == "self" else "WEAVZ_API_KEY"
    try:
        listing = client.list_keys(lister)
    except WeavzError as e:
        return Resolution(problem=f"listing keys with {who} failed: {e.reason}", via=via)
    if not listing.complete:
        return Resolution(
            problem=f"key list shows {len(listing.keys)} of {listing.total} keys (pagination is not documented)",
            via=via,
        )
    found = candidates(listing, key, verdict.scope)
    if not found:
        where = "" if via == "self" else " (is the key from another organization?)"
        return Resolution(problem=f"no entry with prefix {key[:8]} in the key list{where}", via=via)
    if len(found) == 1 and via == "self":
        return Resolution(record=found[0], via=via)
    if via == "admin" and _other_org(verdict, listing):
        return Resolution(
            problem=f"the key belongs to another organization than WEAVZ_API_KEY's (its workspaces' orgId "
            f"is {', '.join(verdict.org_ids or [])})",
            candidates=[c.id for c in found],
            via=via,
        )
    # The admin's list may be another organization's, and shared prefixes need telling apart:
    # the entry whose lastUsedAt moves after a probe with the leaked key, and only then, is the leaked key.
    needed = 1 if len(found) == 1 and via == "self" else 2
    return _by_last_used(client, key, lister, found, needed, sleep, via)


def _other_org(verdict: Verdict, listing: KeyList) -> bool:
    """True when both sides name their organization and the names differ (not documented, so optional)."""
    theirs = set(verdict.org_ids or [])
    ours = {k.org_id for k in listing.keys if k.org_id}
    return bool(theirs and ours and not theirs & ours)


class _Watch:
    """lastUsedAt of the candidate entries, listed again and again with the same key."""

    def __init__(self, client: Client, lister: str, ids: list[str]) -> None:
        self.client, self.lister, self.ids = client, lister, ids
        self.last: dict[str, str | None] = {}
        self.records: dict[str, ApiKey] = {}

    def moved(self) -> set[str]:
        """List the keys again; which candidates' lastUsedAt changed since the last listing."""
        listing = self.client.list_keys(self.lister)
        now = {k.id: k.last_used_at for k in listing.keys if k.id in self.ids}
        self.records.update({k.id: k for k in listing.keys if k.id in self.ids})
        out = {i for i in self.ids if i in self.last and i in now and now[i] != self.last[i]}
        self.last.update(now)
        return out


def _by_last_used(
    client: Client,
    key: str,
    lister: str,
    found: list[ApiKey],
    needed: int,
    sleep: Callable[[float], None],
    via: str,
) -> Resolution:
    """Which candidate is ``key``: the only one whose lastUsedAt moves in the windows that hold a probe
    with ``key``. Windows are short (a probe and a listing); waits happen between them. Quiet windows
    (no probe) are watched before and after. Through the admin key, the winner must not move in them:
    a key whose lastUsedAt moves on its own is in use elsewhere, so its movement proves nothing, and a
    key of another organization must never be taken for a busy key of ours. Through the leaked key
    itself, each listing moves its own entry, so a quiet window may show only that entry moving: any
    other means a key with the same prefix is in use right now, and nothing is decided."""
    ids = [c.id for c in found]
    watch = _Watch(client, lister, ids)
    wait = resolve_wait()
    moved_ever: set[str] = set()
    busy: set[str] = set()
    confirmations = 0

    def refuse(why: str) -> Resolution:
        n = len(found)
        what = f"{n} keys share prefix {key[:8]}" if n > 1 else f"the only entry with prefix {key[:8]}"
        return Resolution(problem=f"{what}; {why}", candidates=ids, via=via)

    def quiet_window() -> None:
        watch.moved()
        sleep(wait)
        busy.update(watch.moved())

    try:
        quiet_window()
        for _ in range(RESOLVE_ROUNDS):
            watch.moved()  # a fresh start: what moved during a wait does not count
            status, reason, _answer = probe(client, key)
            if status != "live":
                return refuse(f"probe while resolving the id: {status} ({reason})")
            moved = watch.moved()
            moved_ever |= moved
            if len(moved_ever) > 1:
                return refuse("lastUsedAt moved on several")  # another key with the prefix is in use now
            if moved:
                confirmations += 1
                if confirmations >= needed:
                    break
            sleep(wait)  # lastUsedAt may tick in whole seconds, or lag
        else:
            return refuse("lastUsedAt did not confirm it")
        sleep(wait)  # let a lagging lastUsedAt from the last probe land before watching again
        quiet_window()
    except WeavzError as e:
        return refuse(f"listing keys again failed: {e.reason}")
    (winner,) = moved_ever
    if via == "self" and busy - {winner}:
        return refuse("lastUsedAt moved on several")  # another key with the prefix is in use right now
    if via == "admin" and winner in busy:
        return refuse(f"lastUsedAt of {winner} also moves without a probe (in use elsewhere right now)")
    return Resolution(record=watch.records[winner], via=via)


# ---------------------------------------------------------------------------------------------
# Revocation


@dataclass
class Target:
    """One unique live key to revoke, with everything the plan and the audit log need."""

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
            return s
        name = f' "{self.key_name}"' if self.key_name else ""
        return f"revoke {self.key_id}{name}: {head}{' (WEAVZ_API_KEY itself, last)' if self.is_admin else ''}"


@dataclass
class Outcome:
    result: str  # revoked | dry-run | failed | skipped
    key_id: str | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.result, "key_id": self.key_id, "reason": self.reason}


def order(targets: list[Target]) -> list[Target]:
    """The admin key, when itself leaked, goes last: the others may need it."""
    return sorted(targets, key=lambda t: t.is_admin)


def confirm_dead(client: Client, key: str, sleep: Callable[[float], None] = time.sleep) -> tuple[str, str]:
    """Re-verify after DELETE; a live answer is retried briefly in case deletion takes a moment to spread."""
    status, reason = "unknown", "not checked"
    for attempt in range(3):
        status, reason, _ = probe(client, key)
        if status != "live":
            break
        if attempt < 2:
            sleep(max(client.settings.backoff, 0.05) * (2**attempt))
    return status, reason


def revoke_one(
    client: Client,
    t: Target,
    admin_key: str | None,
    audit: AuditLog,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    if t.resolution.problem or t.key_id is None:
        reason = t.resolution.problem or "id not resolved"
        if t.resolution.candidates:
            reason += f" (candidates: {', '.join(t.resolution.candidates)})"
        audit.write("revoke", t.key, "failed", where=t.where, error=reason)
        return Outcome("failed", None, reason)
    credential = t.key if t.resolution.via == "self" else admin_key
    assert credential is not None
    ids = {"key_id": t.key_id, "key_name": t.key_name, "where": t.where}
    if not audit.write("revoke", t.key, "started", **ids):
        return Outcome("failed", t.key_id, f"not revoked: {audit.failed}")
    try:
        deleted = client.delete_key(credential, t.key_id)
    except WeavzError as e:
        audit.write("revoke", t.key, "failed", **ids, error=f"DELETE: {e.reason}")
        # The DELETE may have taken effect with its answer lost: the re-check below tells.
        status, reason = confirm_dead(client, t.key, sleep)
        audit.write("verify-dead", t.key, status, **ids, error=None if status == "invalid" else reason)
        if status == "invalid":
            return Outcome("revoked", t.key_id, f"DELETE failed ({e.reason}) but the key is now dead ({reason})")
        return Outcome("failed", t.key_id, f"DELETE failed: {e.reason}")
    audit.write("revoke", t.key, deleted, **ids)
    status, reason = confirm_dead(client, t.key, sleep)
    audit.write("verify-dead", t.key, status, **ids, error=None if status == "invalid" else reason)
    what = "already revoked (404)" if deleted == "not-found" else "deleted"
    if status == "invalid":
        return Outcome("revoked", t.key_id, f"{what}; now {reason}")
    if status == "live":
        return Outcome("failed", t.key_id, f"{what}, but still live: {reason}")
    return Outcome("failed", t.key_id, f"{what}, but could not prove it dead: {reason}")
