"""What the Weavz API answers, as typed values: an ``Answer``, the ``ApiKey`` entries of the key list.

Everything here comes from the network and is hostile until checked: strings that end up in messages
are capped and scrubbed (``Answer.code``), and nothing here raises anything but ``BadResponse``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from wvzscan.finding import fingerprint, redact
from wvzscan.output.redact import scrub
from wvzscan.weavz.errors import BadResponse

Json = Any  # a parsed JSON document as the API sent it: checked with isinstance before use
BodyKind = Literal["json", "text", "html", "empty"]
Scope = Literal["org", "workspace"]

MAX_CODE = 64  # the API's error codes are short words (SCOPE_DENIED); a longer one is not a code


def key_label(key: str) -> str:
    """How a key is named in messages and logs: redacted prefix and a short fingerprint."""
    return f"{redact(key)} (fp {fingerprint(key)[:12]})"


@dataclass
class Answer:
    """A final HTTP answer the caller interprets (2xx and 4xx other than 429)."""

    status: int
    path: str
    body: Json  # parsed JSON, or None
    text_kind: BodyKind
    headers: dict[str, str]
    tries: int = 1

    @property
    def code(self) -> str | None:
        """The error ``code`` of a JSON body, capped and scrubbed (an API may echo the bearer token)."""
        body = self.body
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str):
            return None
        code = scrub(code)
        return code if len(code) <= MAX_CODE else code[:MAX_CODE] + "…"


@dataclass
class ApiKey:
    """One entry of GET /api/v1/api-keys (plain key never included; Weavz stores only a hash)."""

    id: str
    name: str | None
    key_prefix: str | None
    permissions: dict[str, Any] | None
    created_at: str | None
    last_used_at: str | None
    expires_at: str | None
    org_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def scope(self) -> Scope:
        p = self.permissions
        return "workspace" if isinstance(p, dict) and str(p.get("scope")).lower() == "workspace" else "org"

    @property
    def scope_known(self) -> bool:
        """Whether ``scope`` comes from a documented permissions shape (null, org or workspace)."""
        raw = self.raw.get("permissions") if self.raw else self.permissions
        if raw is None:
            return True
        p = self.permissions
        return isinstance(p, dict) and str(p.get("scope", "org")).lower() in ("org", "workspace")

    @property
    def workspace_ids(self) -> list[str]:
        p = self.permissions
        ids = p.get("workspaceIds") if isinstance(p, dict) else None
        return [str(i) for i in ids] if isinstance(ids, list) else []

    @classmethod
    def parse(cls, d: Json) -> ApiKey:
        if not isinstance(d, dict) or not isinstance(d.get("id"), (str, int)):
            raise BadResponse("key list entry without an id")

        def s(name: str) -> str | None:
            v = d.get(name)
            return str(v) if isinstance(v, (str, int, float)) else None

        perms = d.get("permissions")
        if isinstance(perms, str):  # not documented, but a JSON-encoded object is plausible
            try:
                perms = json.loads(perms)
            except ValueError:
                perms = None
        return cls(
            id=str(d["id"]),
            name=s("name"),
            key_prefix=s("keyPrefix"),
            permissions=perms if isinstance(perms, dict) else None,
            created_at=s("createdAt"),
            last_used_at=s("lastUsedAt"),
            expires_at=s("expiresAt"),
            org_id=s("orgId"),
            raw=d,
        )

    def meta(self) -> dict[str, Any]:
        """What a Finding's ``extra`` shows about the key."""
        return {
            "key_id": self.id,
            "key_name": self.name,
            "key_created_at": self.created_at,
            "key_last_used_at": self.last_used_at,
            "key_expires_at": self.expires_at,
            "key_workspace_ids": self.workspace_ids if self.scope == "workspace" else None,
        }


@dataclass
class KeyList:
    keys: list[ApiKey]
    total: int | None

    @property
    def complete(self) -> bool:
        """Pagination is not documented: a list shorter than its ``total`` cannot be trusted whole."""
        return self.total is None or self.total <= len(self.keys)


def list_total(body: dict[str, Any]) -> int | None:
    """The list's ``total`` (also as a numeric string); a sign of a next page makes the total unknown-large."""
    more = any(body.get(k) for k in ("hasMore", "has_more", "nextCursor", "next_cursor", "next", "nextPage"))
    total = body.get("total")
    n: int | None = None
    if isinstance(total, bool):
        n = None
    elif isinstance(total, int):
        n = total
    elif isinstance(total, float) and total.is_integer():
        n = int(total)
    elif isinstance(total, str) and len(total) < 20 and total.strip().isdigit():
        n = int(total.strip())
    elif total is not None:
        more = True  # a total we cannot read: do not assume the list is whole
    if more:
        listed = body.get("apiKeys")
        return max(n or 0, (len(listed) if isinstance(listed, list) else 0) + 1)
    return n


def key_list(a: Answer) -> KeyList:
    """The key list of a 2xx answer of GET /api/v1/api-keys; BadResponse when it is not one."""
    body = a.body
    if a.text_kind != "json" or not isinstance(body, dict) or not isinstance(body.get("apiKeys"), list):
        raise BadResponse(f"{a.status} from {a.path} without an apiKeys list", a.status)
    return KeyList([ApiKey.parse(d) for d in body["apiKeys"]], list_total(body))
