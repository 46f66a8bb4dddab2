"""Typed errors of the Weavz client. Each carries a short ``reason`` meant for Finding.status_reason.

Every reason passes through the one redaction point (``wvzscan.output.redact.scrub``) when the error is
made: an API that echoes the bearer token into its error code cannot put a key into a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wvzscan.output.redact import scrub

if TYPE_CHECKING:
    from wvzscan.weavz.models import Answer


class WeavzError(Exception):
    """Base class: anything that kept the client from getting a usable answer."""

    def __init__(self, reason: str) -> None:
        reason = scrub(reason)
        super().__init__(reason)
        self.reason = reason


class ConfigError(WeavzError):
    """A bad --api-url, --ca-bundle or WVZSCAN_* setting: the user must fix it (exit 2)."""


class TransportError(WeavzError):
    """Timeouts, refused or reset connections, TLS failures (after retries where allowed).

    ``unreachable`` is True when no connection to the API could be made at all (refused, DNS, TLS,
    connect timeout): then every key's answer is unknown for the same reason, and it is said once.
    """

    def __init__(self, reason: str, unreachable: bool = False, detail: str | None = None) -> None:
        super().__init__(reason)
        self.unreachable = unreachable
        self.detail = detail or reason  # why, in words: "connection refused", "host name not found (DNS)"


class TLSError(TransportError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, unreachable=True, detail=reason)


class RedirectError(WeavzError):
    """A 3xx: never followed (it could send the key elsewhere); the answer is unknown."""


class RateLimited(WeavzError):
    """429 after every retry."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class ServerError(WeavzError):
    """5xx after every retry (or once, for a POST that must not be repeated)."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


class BadResponse(WeavzError):
    """An answer that is not what the Weavz API sends (garbage body, unexpected status)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class Unauthorized(WeavzError):
    """401: the key is unknown, revoked or expired."""


class Forbidden(WeavzError):
    """403: the key authenticated but may not do this (workspace-scoped keys get SCOPE_DENIED)."""

    def __init__(self, reason: str, code: str | None) -> None:
        super().__init__(reason)
        self.code = code


class NotFound(WeavzError):
    """404 on a key id: already deleted."""


class UncertainOutcome(WeavzError):
    """A POST whose answer was lost after it was sent: it may or may not have taken effect."""


def raise_for(a: Answer) -> None:
    """Nothing for a 2xx answer; the typed error for any other."""
    if 200 <= a.status < 300:
        return
    if a.status == 401:
        raise Unauthorized(f"401 from {a.path}")
    if a.status == 403:
        raise Forbidden(f"403 {a.code or ''} from {a.path}".replace("  ", " "), a.code)
    if a.status == 404:
        raise NotFound(f"404 from {a.path}")
    raise BadResponse(f"{a.status} from {a.path}", a.status)
