"""Is a key live? One set of requests per unique key, run concurrently.

The rules (weavz-api.md): 2xx and 403 from the API prove a key authenticated (live); 401 proves it is
unknown, revoked or expired (invalid); anything else (429 after retries, 5xx, timeouts, TLS and network
errors, redirects, bodies that are not the API's) is ``unknown``: never ``invalid`` on a guess.

Per key: ``GET /api/v1/workspaces`` (the probe), and for live keys ``GET /api/v1/api-keys`` (200: the key
is org-wide and its own record is in the list; 403: workspace-scoped).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from wvzscan.isotime import parse_datetime
from wvzscan.output.redact import scrub
from wvzscan.weavz import Answer, ApiKey, Client, Forbidden, KeyList, Scope, TransportError, Unauthorized, WeavzError

PROBE = "/api/v1/workspaces"

Status = Literal["live", "invalid", "unknown"]


@dataclass
class Verdict:
    status: Status
    reason: str
    scope: Scope | None = None  # for live keys when known
    record: ApiKey | None = None  # the key's own entry in the key list, when it is unambiguous
    candidates: list[ApiKey] = field(default_factory=list)  # several entries share the prefix
    workspace_ids: list[str] | None = None  # what the probe showed the key may see
    org_ids: list[str] | None = None  # the orgId of those workspaces, where the answer names it
    unreachable: str | None = None  # why the API could not be reached at all (then status is unknown)

    def __post_init__(self) -> None:
        self.reason = scrub(self.reason)

    def extra(self) -> dict[str, Any]:
        """Fields for Finding.extra."""
        out: dict[str, Any] = {}
        if self.record is not None:
            out.update({k: v for k, v in self.record.meta().items() if v is not None})
        elif self.candidates:
            out["key_candidates"] = sorted(c.id for c in self.candidates)
        if "key_workspace_ids" not in out and self.scope == "workspace" and self.workspace_ids is not None:
            out["key_workspace_ids"] = self.workspace_ids
        return out


def judge(a: Answer) -> tuple[Status, str]:
    """Status and reason from the probe's answer."""
    where = f"from {a.path}"
    if a.text_kind == "html":
        # A login page or a proxy's error page: not the Weavz API, so the key's fate is unknown.
        return "unknown", f"{a.status} with an HTML page {where}"
    if a.status == 401:
        return "invalid", f"401 {where}"
    if a.status == 403:
        return "live", f"403{' ' + a.code if a.code else ''} {where}"
    if 200 <= a.status < 300:
        if a.text_kind != "json":
            return "unknown", f"{a.status} {where} without a JSON body"
        return "live", f"{a.status} {where}"
    return "unknown", f"unexpected {a.status} {where}"


@dataclass
class Probe:
    status: Status
    reason: str
    answer: Answer | None = None
    unreachable: str | None = None  # set when no connection could be made (refused, DNS, TLS, timeout)


def probe(client: Client, key: str) -> Probe:
    try:
        a = client.list_workspaces(key)
    except TransportError as e:
        return Probe("unknown", e.reason, None, e.detail if e.unreachable else None)
    except WeavzError as e:
        return Probe("unknown", e.reason)
    status, reason = judge(a)
    return Probe(status, reason, a)


def _workspace_items(a: Answer | None) -> list[Any] | None:
    body = a.body if a is not None and 200 <= a.status < 300 else None
    items = body.get("workspaces") if isinstance(body, dict) else body
    return items if isinstance(items, list) else None


def _visible_workspaces(a: Answer | None) -> list[str] | None:
    items = _workspace_items(a)
    if items is None:
        return None
    return sorted(str(w["id"]) for w in items if isinstance(w, dict) and "id" in w)


def _visible_orgs(a: Answer | None) -> list[str] | None:
    items = _workspace_items(a)
    if items is None:
        return None
    orgs = sorted({str(w["orgId"]) for w in items if isinstance(w, dict) and w.get("orgId")})
    return orgs or None


EXPIRY_MARGIN = dt.timedelta(days=1)  # clock skew and timestamps without a timezone


def not_expired(k: ApiKey, now: dt.datetime | None = None) -> bool:
    """False only for an entry that expired well before now: a live key's own entry is never dropped
    because this machine's clock, or a timestamp without a timezone, is off by some hours."""
    if not k.expires_at:
        return True
    t = parse_datetime(k.expires_at)
    if t is None:
        return True
    return t + EXPIRY_MARGIN > (now or dt.datetime.now(dt.timezone.utc))


_MASK = " .*\u2026\u2022"  # how a masked prefix may end: "wvz_ab12...", "wvz_ab12****", "wvz_ab12…"


def prefix_of(k: ApiKey) -> str | None:
    """The entry's keyPrefix without masking characters, or None when it says nothing usable."""
    p = (k.key_prefix or "").strip().rstrip(_MASK)
    return p if len(p) >= 5 else None  # "wvz_" alone (or less) tells keys apart no better than nothing


def prefix_matches(k: ApiKey, key: str) -> bool:
    """keyPrefix is documented as the first 8 characters; a longer, shorter or upper-cased one still
    has to be the start of the key. Case is ignored: a display may change it, never the key's identity."""
    p = prefix_of(k)
    return p is not None and key.lower().startswith(p.lower())


def candidates(keys: KeyList, key: str, scope: Scope | None) -> list[ApiKey]:
    """Entries that could be ``key``, one per id: same keyPrefix (or none to compare), same scope when
    both are known, not long expired. An entry without a usable keyPrefix could be any key, so it
    stays: a single match is then no proof, and lastUsedAt has to tell them apart."""
    out: dict[str, ApiKey] = {}
    for k in keys.keys:
        if prefix_of(k) is not None and not prefix_matches(k, key):
            continue
        if scope is not None and k.scope_known and k.scope != scope:
            continue
        if not not_expired(k):
            continue
        out.setdefault(k.id, k)
    return list(out.values())


def verify_key(client: Client, key: str, admin_list: Callable[[], KeyList | None] | None = None) -> Verdict:
    p = probe(client, key)
    if p.status != "live":
        return Verdict(p.status, p.reason, unreachable=p.unreachable)
    v = Verdict("live", p.reason, workspace_ids=_visible_workspaces(p.answer), org_ids=_visible_orgs(p.answer))
    try:
        own = client.list_keys(key)
    except Forbidden as e:
        if e.code not in (None, "SCOPE_DENIED"):
            # Not the documented answer to a workspace-scoped key (a plan limit, a WAF): scope unknown.
            v.reason += f"; scope unknown ({e.reason})"
            return v
        v.scope = "workspace"
    except Unauthorized:
        v.reason += "; 401 from /api/v1/api-keys right after (scope unknown)"
        return v
    except WeavzError as e:
        v.reason += f"; scope unknown ({e.reason})"
        return v
    else:
        v.scope = "org"
        _attach(v, own, key)
        return v
    if admin_list is not None:
        listing = admin_list()
        if listing is not None:
            _attach(v, listing, key)
    return v


def _attach(v: Verdict, listing: KeyList, key: str) -> None:
    found = candidates(listing, key, v.scope)
    if len(found) == 1 and listing.complete:
        v.record = found[0]
    elif len(found) > 1:
        v.candidates = found


class AdminList:
    """The admin key's key list, fetched once and shared by every workspace-scoped key."""

    def __init__(self, client: Client, admin_key: str | None) -> None:
        self.client = client
        self.admin_key = admin_key
        self._lock = threading.Lock()
        self._done = False
        self._value: KeyList | None = None
        self.error: str | None = None

    def __call__(self) -> KeyList | None:
        if self.admin_key is None:
            return None
        with self._lock:
            if not self._done:
                self._done = True
                try:
                    self._value = self.client.list_keys(self.admin_key)
                except WeavzError as e:
                    hint = " (it must be an org-wide key)" if isinstance(e, Forbidden) else ""
                    self.error = f"WEAVZ_API_KEY could not list keys: {e.reason}{hint}"
            return self._value


def verify_all(
    client: Client,
    keys: Iterable[str],
    admin_key: str | None = None,
    on_done: Callable[[int], None] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Verdict]:
    """Verdicts for each unique key, verified concurrently (the client bounds the parallelism).

    ``notes`` receives what the user should hear about WEAVZ_API_KEY (e.g. that it could not list keys).
    """
    unique = list(dict.fromkeys(keys))
    admin_list = AdminList(client, admin_key)
    out: dict[str, Verdict] = {}
    workers = max(1, min(client.settings.concurrency, len(unique)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wvz-verify") as pool:
        for n, (key, verdict) in enumerate(
            zip(unique, pool.map(lambda k: verify_key(client, k, admin_list), unique), strict=True), 1
        ):
            out[key] = verdict
            if on_done is not None:
                on_done(n)
    if notes is not None and admin_list.error:
        notes.append(admin_list.error)
    return out
