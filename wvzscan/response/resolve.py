"""Find a leaked key's id without doubt.

Nothing is revoked unless the API confirmed the key live and exactly one key-list entry is it:
- an org-wide leaked key lists the keys itself; a single entry with its keyPrefix is its own;
- a workspace-scoped key cannot list keys, so the admin key (WEAVZ_API_KEY) does, and because that
  list may belong to another organization, the entry is confirmed by probing with the leaked key and
  watching which entry's lastUsedAt moves;
- several entries sharing the prefix are told apart the same way; if that does not single one out,
  nothing is revoked and the candidates are reported.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from wvzscan.response.verify import Verdict, candidates, probe
from wvzscan.weavz import ApiKey, Client, KeyList, WeavzError

RESOLVE_ROUNDS = 4  # probes at most; each round waits resolve_wait() when nothing moved

Via = Literal["self", "admin"]  # which key listed (and will delete)


def resolve_wait() -> float:
    """Seconds to wait for lastUsedAt to tick when a probe did not move it (tests shorten it)."""
    try:
        value = float(os.environ.get("WVZSCAN_RESOLVE_WAIT", "1.0"))
    except ValueError:
        return 1.0
    return min(max(0.0, value), 60.0) if value == value else 1.0


@dataclass
class Resolution:
    record: ApiKey | None = None
    problem: str | None = None  # why the id could not be resolved
    candidates: list[str] = field(default_factory=list)
    via: Via = "self"


def resolve(
    client: Client,
    key: str,
    verdict: Verdict,
    admin_key: str | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Resolution:
    if verdict.status != "live":
        return Resolution(problem=f"not live ({verdict.status}: {verdict.reason})")
    lister: str
    via: Via
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
    via: Via,
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
            p = probe(client, key)
            if p.status != "live":
                return refuse(f"probe while resolving the id: {p.status} ({p.reason})")
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
