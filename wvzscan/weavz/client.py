"""The endpoints of the Weavz API that wvzscan uses, on top of the transport."""

from __future__ import annotations

import urllib.parse
from typing import Any, Literal

from wvzscan.weavz.errors import UncertainOutcome, raise_for
from wvzscan.weavz.models import Answer, ApiKey, KeyList, key_list
from wvzscan.weavz.transport import Transport

KEYS_PATH = "/api/v1/api-keys"
WORKSPACES_PATH = "/api/v1/workspaces"

Deleted = Literal["deleted", "not-found"]


class Client(Transport):
    """A thread-safe Weavz API client: one method per endpoint, keys passed per call."""

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def list_workspaces(self, key: str) -> Answer:
        """GET /api/v1/workspaces: the liveness probe (works for every live key)."""
        return self.request("GET", WORKSPACES_PATH, key)

    def key_list_answer(self, key: str) -> Answer:
        """GET /api/v1/api-keys as it came (for callers that report on every way it can go wrong)."""
        return self.request("GET", KEYS_PATH, key)

    def list_keys(self, key: str) -> KeyList:
        """GET /api/v1/api-keys with an org-wide key."""
        a = self.key_list_answer(key)
        raise_for(a)
        return key_list(a)

    def create_key(
        self, key: str, name: str, permissions: dict[str, Any] | None, expires_at: str | None
    ) -> tuple[ApiKey, str]:
        """POST /api/v1/api-keys; returns the new key's record and its plain value (shown once)."""
        body: dict[str, Any] = {"name": name}
        if permissions is not None:
            body["permissions"] = permissions
        if expires_at is not None:
            body["expiresAt"] = expires_at
        a = self.request("POST", KEYS_PATH, key, json_body=body)
        raise_for(a)
        d = a.body
        if not (isinstance(d, dict) and isinstance(d.get("plainKey"), str) and isinstance(d.get("apiKey"), dict)):
            raise UncertainOutcome(f"{a.status} from {a.path} without apiKey and plainKey")
        return ApiKey.parse(d["apiKey"]), d["plainKey"]

    def delete_key(self, key: str, key_id: str) -> Deleted:
        """DELETE /api/v1/api-keys/{id}: "deleted", or "not-found" (already gone; re-runs are idempotent)."""
        a = self.request("DELETE", f"{KEYS_PATH}/{urllib.parse.quote(key_id, safe='')}", key)
        if a.status == 404:
            return "not-found"
        raise_for(a)
        return "deleted"
