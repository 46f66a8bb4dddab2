"""The Weavz API client: typed errors, models of its answers, the transport (retries, pacing, TLS and
proxy policy) and the endpoints wvzscan uses. httpx is imported only when a ``Client`` is made."""

from __future__ import annotations

from wvzscan.weavz.client import KEYS_PATH, WORKSPACES_PATH, Client, Deleted
from wvzscan.weavz.errors import (
    BadResponse,
    ConfigError,
    Forbidden,
    NotFound,
    RateLimited,
    RedirectError,
    ServerError,
    TLSError,
    TransportError,
    Unauthorized,
    UncertainOutcome,
    WeavzError,
    raise_for,
)
from wvzscan.weavz.models import Answer, ApiKey, BodyKind, KeyList, Scope, key_label, key_list, list_total
from wvzscan.weavz.transport import (
    DEFAULT_API_URL,
    MAX_BODY,
    Settings,
    Transport,
    check_base_url,
    is_loopback,
    retry_after,
    ssl_context,
)

__all__ = [
    "DEFAULT_API_URL",
    "KEYS_PATH",
    "MAX_BODY",
    "WORKSPACES_PATH",
    "Answer",
    "ApiKey",
    "BadResponse",
    "BodyKind",
    "Client",
    "ConfigError",
    "Deleted",
    "Forbidden",
    "KeyList",
    "NotFound",
    "RateLimited",
    "RedirectError",
    "Scope",
    "ServerError",
    "Settings",
    "TLSError",
    "Transport",
    "TransportError",
    "Unauthorized",
    "UncertainOutcome",
    "WeavzError",
    "check_base_url",
    "is_loopback",
    "key_label",
    "key_list",
    "list_total",
    "raise_for",
    "retry_after",
    "ssl_context",
]
