"""The HTTP client for the Weavz API: retries, rate-limit pacing, typed errors, no secret ever printed.

httpx is imported when a ``Client`` is made, so scans without ``--verify`` never pay for it.

Every error message names a key by its redacted prefix and a short fingerprint only; httpx
exceptions are never chained or re-raised, so no request object (with its Authorization header)
travels up the stack.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import os
import random
import re
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wvzscan.finding import fingerprint, redact

if TYPE_CHECKING:
    import httpx

DEFAULT_API_URL = "https://api.weavz.io"
USER_AGENT = "wvzscan"

log = logging.getLogger("wvzscan.weavz")


def key_label(key: str) -> str:
    """How a key is named in messages and logs: redacted prefix and a short fingerprint."""
    return f"{redact(key)} (fp {fingerprint(key)[:12]})"


# ---------------------------------------------------------------------------------------------
# Typed errors. Each carries a short ``reason`` meant for Finding.status_reason.


class WeavzError(Exception):
    """Base class: anything that kept the client from getting a usable answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfigError(WeavzError):
    """A bad --api-url or --ca-bundle: the user must fix it (exit 2)."""


class TransportError(WeavzError):
    """Timeouts, refused or reset connections, TLS failures (after retries where allowed)."""


class TLSError(TransportError):
    pass


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


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Knobs with production defaults; tests shorten the waits through WVZSCAN_* variables."""

    base_url: str = DEFAULT_API_URL
    ca_bundle: str | None = None
    timeout: float = 10.0
    tries: int = 3  # total attempts for retryable answers
    backoff: float = 0.5  # seconds; doubled per attempt (the SDK's 0.5 s x 2^attempt)
    max_wait: float = 60.0  # longest single wait for Retry-After or a rate-limit reset
    concurrency: int = 16

    @classmethod
    def from_env(cls, api_url: str | None = None, ca_bundle: str | None = None) -> Settings:
        env = os.environ

        def num(name: str, default: float) -> float:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a number, got {raw!r}") from None
            if value < 0:
                raise ConfigError(f"{name} must not be negative")
            return value

        return cls(
            base_url=check_base_url(api_url or env.get("WEAVZ_API_URL") or DEFAULT_API_URL),
            ca_bundle=ca_bundle,
            timeout=num("WVZSCAN_TIMEOUT", cls.timeout),
            tries=max(1, int(num("WVZSCAN_TRIES", cls.tries))),
            backoff=num("WVZSCAN_BACKOFF", cls.backoff),
            max_wait=num("WVZSCAN_MAX_WAIT", cls.max_wait),
            concurrency=max(1, int(num("WVZSCAN_CONCURRENCY", cls.concurrency))),
        )


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_KEYISH = re.compile(r"wvz_[A-Za-z0-9_\-]{4,}", re.IGNORECASE)


def _shown(text: str) -> str:
    """A user-given value for an error message, with anything key-shaped redacted (a key pasted
    into --api-url or WEAVZ_API_URL by mistake must not be echoed)."""
    return repr(_KEYISH.sub(lambda m: redact(m.group(0)), text))


def check_base_url(url: str) -> str:
    """HTTPS only, except loopback hosts (the emulator): a key must not travel in clear text."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"API URL must look like https://host, got {_shown(url)}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(f"API URL must use https (plain http only for loopback hosts): {_shown(url)}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError("API URL must not carry credentials, a query or a fragment")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext | bool:
    """Verified TLS: --ca-bundle, else $SSL_CERT_FILE / $SSL_CERT_DIR, else httpx's default (certifi)."""
    cafile = ca_bundle or os.environ.get("SSL_CERT_FILE") or None
    capath = None if ca_bundle else (os.environ.get("SSL_CERT_DIR") or None)
    if not cafile and not capath:
        return True
    where = "--ca-bundle" if ca_bundle else "SSL_CERT_FILE/SSL_CERT_DIR"
    try:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"cannot load CA bundle from {where}: {getattr(e, 'strerror', None) or e}") from None


@dataclass
class Answer:
    """A final HTTP answer the caller interprets (2xx and 4xx other than 429)."""

    status: int
    path: str
    body: Any  # parsed JSON, or None
    text_kind: str  # "json", "text", "html", "empty"
    headers: dict[str, str]
    tries: int = 1

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) and isinstance(self.body.get("code"), str) else None


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
    def scope(self) -> str:
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
    def parse(cls, d: Any) -> ApiKey:
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


class _Pacer:
    """Shared rate-limit state from X-RateLimit-* headers, spent as a budget by every thread.

    Each answer says how many requests are left until the window resets; each request sent takes one
    from that budget, so that 16 threads do not all go out on the last one. When the budget is spent,
    every caller waits for the reset; then at most X-RateLimit-Limit go out until answers tell more.
    """

    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at: float | None = None  # wall-clock time
        self._pause_until = 0.0  # monotonic, set by 429 Retry-After
        self._guessed = False  # the current window was started here at a reset, not told by an answer

    def observe(self, headers: dict[str, str]) -> None:
        try:
            remaining = int(headers["x-ratelimit-remaining"])
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        try:
            limit: int | None = int(headers["x-ratelimit-limit"])
        except (KeyError, ValueError):
            limit = None
        with self._lock:
            if limit is not None and limit > 0:
                self._limit = limit
            if reset <= time.time():
                return  # an answer from a window that is over
            if self._guessed and self._remaining is not None:
                # The first answer in the window started at a reset: its end is news, its count
                # is not (requests are still in flight), so the smaller budget wins.
                self._remaining, self._reset_at, self._guessed = min(self._remaining, remaining), reset, False
            elif self._reset_at is None or reset > self._reset_at + 0.5:
                self._remaining, self._reset_at = remaining, reset  # a new window
            elif abs(reset - self._reset_at) <= 0.5 and self._remaining is not None:
                self._remaining = min(self._remaining, remaining)  # answers arrive out of order

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def wait(self) -> None:
        """Block until a request may go out, and take it from the budget."""
        while True:
            with self._lock:
                delay = self._pause_until - time.monotonic()
                if delay <= 0 and self._remaining is not None and self._reset_at is not None:
                    if self._remaining > 0:
                        self._remaining -= 1
                        return
                    delay = self._reset_at - time.time()
                    if delay <= 0:
                        # The window has reset: start the next one from its limit, if known.
                        self._reset_at = None
                        self._remaining = None if self._limit is None else self._limit - 1
                        if self._remaining is not None:
                            self._reset_at, self._guessed = time.time() + 1.0, True  # until an answer tells
                        return
                elif delay <= 0:
                    return
            time.sleep(min(max(delay, 0.001), self.max_wait))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


MAX_BODY = 8 << 20  # no answer of the Weavz API comes near this; a bigger one is not the API


class _Overdue(Exception):
    """The whole answer took longer than the timeout (a server trickling bytes never times out a read)."""


def _read_body(resp: httpx.Response, deadline: float) -> bytes | None:
    """The body, read within the request's overall deadline; None when it is larger than MAX_BODY."""
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _Overdue
    return b"".join(chunks)


def _classify_body(resp: httpx.Response, raw: bytes | None) -> tuple[Any, str]:
    if raw is None:
        return None, "text"  # too big to be the API's answer
    if not raw.strip():
        return None, "empty"
    ctype = resp.headers.get("content-type", "").lower()
    try:
        return json.loads(raw), "json"
    except (ValueError, UnicodeDecodeError):
        pass
    head = raw[:512].lstrip().lower()
    if "html" in ctype or head.startswith((b"<!doctype", b"<html")):
        return None, "html"
    return None, "text"


class Client:
    """A thread-safe Weavz API client. Keys are passed per call and never stored in messages."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        import httpx

        self.settings = settings
        self._httpx = httpx
        self._sleep = sleep
        self._pacer = _Pacer(settings.max_wait)
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        self._http = httpx.Client(
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            verify=ssl_context(settings.ca_bundle),
            limits=limits,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self.requests_sent = 0
        self._count_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one place requests are made -------------------------------------------------------

    def request(self, method: str, path: str, key: str, json_body: Any = None) -> Answer:
        """Send one API call with retries; returns 2xx/4xx answers, raises WeavzError otherwise.

        Retried: 429 always (honouring Retry-After); 5xx and network errors for GET and DELETE;
        for POST only failures that prove nothing was sent (connection refused, connect timeout).
        """
        httpx = self._httpx
        idempotent = method in ("GET", "DELETE", "HEAD")
        tries = self.settings.tries
        label = key_label(key)
        last: WeavzError | None = None
        for attempt in range(1, tries + 1):
            if attempt > 1:
                self._backoff(attempt, last)
            self._pacer.wait()
            try:
                with self._slots:
                    with self._count_lock:
                        self.requests_sent += 1
                    deadline = time.monotonic() + self.settings.timeout
                    with self._http.stream(
                        method, path, json=json_body, headers={"Authorization": f"Bearer {key}"}
                    ) as resp:
                        body, kind = _classify_body(resp, _read_body(resp, deadline))
            except _Overdue:
                last = TransportError("timeout")
                if not idempotent:
                    raise UncertainOutcome("timeout after the request was sent") from None
            except httpx.ConnectTimeout:
                last = TransportError("connect timeout")
            except httpx.TimeoutException:
                last = TransportError("timeout")
                if not idempotent:
                    raise UncertainOutcome("timeout after the request was sent") from None
            except httpx.ConnectError as e:
                if _is_tls_failure(e):
                    raise TLSError(f"TLS error: {_tls_detail(e)}") from None
                last = TransportError("connection failed")
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                last = TransportError("connection reset")
                if not idempotent:
                    raise UncertainOutcome("connection reset after the request was sent") from None
            except httpx.HTTPError as e:
                last = TransportError(f"network error ({type(e).__name__})")
                if not idempotent:
                    raise UncertainOutcome(f"{type(e).__name__} after the request was sent") from None
            else:
                headers = {k.lower(): v for k, v in resp.headers.items()}
                self._pacer.observe(headers)
                status = resp.status_code
                log.debug("%s %s with %s -> %s (try %d)", method, path, label, status, attempt)
                if status == 429:
                    wait = _retry_after(headers.get("retry-after"))
                    if wait is not None and wait > self.settings.max_wait:
                        raise RateLimited(f"429 from {path}, retry after {wait:.0f} s")
                    self._pacer.pause(wait if wait is not None else 0.0)
                    last = RateLimited(f"429 after {attempt} tr{'y' if attempt == 1 else 'ies'}", wait)
                    continue
                if 300 <= status < 400:
                    raise RedirectError(f"redirect {status} from {path} (not followed)")
                if status >= 500:
                    last = ServerError(f"{status} after {attempt} tr{'y' if attempt == 1 else 'ies'}", status)
                    if not idempotent:
                        raise ServerError(f"{status} from {path}", status)
                    continue
                if status < 200 or status >= 600:
                    raise BadResponse(f"unexpected status {status} from {path}", status)
                return Answer(status, path, body, kind, headers, attempt)
            log.debug("%s %s with %s failed: %s (try %d)", method, path, label, last.reason, attempt)
        assert last is not None
        if isinstance(last, TransportError) and tries > 1:
            raise TransportError(f"{last.reason} after {tries} tries")
        raise last

    def _backoff(self, attempt: int, last: WeavzError | None) -> None:
        if isinstance(last, RateLimited) and last.retry_after is not None:
            return  # the pacer already holds every request until Retry-After has passed
        wait = self.settings.backoff * (2 ** (attempt - 2)) * (1 + random.random() * 0.1)
        self._sleep(min(wait, self.settings.max_wait))

    # -- endpoints -------------------------------------------------------------------------------

    def list_workspaces(self, key: str) -> Answer:
        """GET /api/v1/workspaces: the liveness probe (works for every live key)."""
        return self.request("GET", "/api/v1/workspaces", key)

    def list_keys(self, key: str) -> KeyList:
        """GET /api/v1/api-keys with an org-wide key."""
        a = self.request("GET", "/api/v1/api-keys", key)
        _raise_for(a)
        body = a.body
        if a.text_kind != "json" or not isinstance(body, dict) or not isinstance(body.get("apiKeys"), list):
            raise BadResponse(f"{a.status} from {a.path} without an apiKeys list", a.status)
        keys = [ApiKey.parse(d) for d in body["apiKeys"]]
        return KeyList(keys, _total(body))

    def create_key(
        self, key: str, name: str, permissions: dict[str, Any] | None, expires_at: str | None
    ) -> tuple[ApiKey, str]:
        """POST /api/v1/api-keys; returns the new key's record and its plain value (shown once)."""
        body: dict[str, Any] = {"name": name}
        if permissions is not None:
            body["permissions"] = permissions
        if expires_at is not None:
            body["expiresAt"] = expires_at
        a = self.request("POST", "/api/v1/api-keys", key, json_body=body)
        _raise_for(a)
        d = a.body
        if not (isinstance(d, dict) and isinstance(d.get("plainKey"), str) and isinstance(d.get("apiKey"), dict)):
            raise UncertainOutcome(f"{a.status} from {a.path} without apiKey and plainKey")
        return ApiKey.parse(d["apiKey"]), d["plainKey"]

    def delete_key(self, key: str, key_id: str) -> str:
        """DELETE /api/v1/api-keys/{id}: "deleted", or "not-found" (already gone; re-runs are idempotent)."""
        a = self.request("DELETE", f"/api/v1/api-keys/{urllib.parse.quote(key_id, safe='')}", key)
        if a.status == 404:
            return "not-found"
        _raise_for(a)
        return "deleted"


def _total(body: dict[str, Any]) -> int | None:
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
    elif isinstance(total, str) and total.strip().isdigit():
        n = int(total.strip())
    elif total is not None:
        more = True  # a total we cannot read: do not assume the list is whole
    if more:
        return max(n or 0, len(body["apiKeys"]) + 1)
    return n


def _raise_for(a: Answer) -> None:
    if 200 <= a.status < 300:
        return
    if a.status == 401:
        raise Unauthorized(f"401 from {a.path}")
    if a.status == 403:
        raise Forbidden(f"403 {a.code or ''} from {a.path}".replace("  ", " "), a.code)
    if a.status == 404:
        raise NotFound(f"404 from {a.path}")
    raise BadResponse(f"{a.status} from {a.path}", a.status)


def _is_tls_failure(e: Exception) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLError):
            return True
        cur = cur.__cause__ or cur.__context__
    return "SSL" in str(e) or "CERTIFICATE" in str(e)


def _tls_detail(e: Exception) -> str:
    text = str(e)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate verify failed (use --ca-bundle or SSL_CERT_FILE for a private CA)"
    if "WRONG_VERSION_NUMBER" in text:
        return "server does not speak TLS"
    return "handshake failed"
