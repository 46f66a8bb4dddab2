"""The one place requests to the Weavz API are made: settings, URL and TLS policy, retries, pacing.

httpx is imported when a ``Transport`` is made, so scans without ``--verify`` never pay for it.

Proxies: plain http is allowed only to a loopback host, and then the connection itself must go there,
so proxy variables are ignored for it (``trust_env`` off): the admin key never travels in clear text to
a proxy. For https, httpx honours HTTPS_PROXY / ALL_PROXY / NO_PROXY (a CONNECT tunnel: the proxy sees
the host name, never the key); TLS is verified against --ca-bundle, SSL_CERT_FILE/SSL_CERT_DIR, or
certifi.

httpx exceptions are never chained or re-raised, so no request object (with its Authorization header)
travels up the stack.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import math
import os
import random
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from wvzscan.output.redact import scrub
from wvzscan.weavz.errors import (
    BadResponse,
    ConfigError,
    RateLimited,
    RedirectError,
    ServerError,
    TLSError,
    TransportError,
    UncertainOutcome,
    WeavzError,
)
from wvzscan.weavz.models import Answer, BodyKind, Json, key_label

if TYPE_CHECKING:
    import httpx

DEFAULT_API_URL = "https://api.weavz.io"
USER_AGENT = "wvzscan"
MAX_BODY = 8 << 20  # no answer of the Weavz API comes near this; a bigger one is not the API

Method = Literal["GET", "POST", "DELETE"]

log = logging.getLogger("wvzscan.weavz")


def _env_number(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {scrub(raw)[:40]!r}") from None
    if not math.isfinite(value) or value < low or value > high:
        raise ConfigError(f"{name} must be a number from {low:g} to {high:g}, got {scrub(raw)[:40]!r}")
    return value


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
        """Settings from --api-url/--ca-bundle and the environment; ConfigError on any bad value."""
        return cls(
            base_url=check_base_url(api_url or os.environ.get("WEAVZ_API_URL") or DEFAULT_API_URL),
            ca_bundle=ca_bundle,
            timeout=_env_number("WVZSCAN_TIMEOUT", cls.timeout, 0.001, 3600),
            tries=int(_env_number("WVZSCAN_TRIES", cls.tries, 1, 100)),
            backoff=_env_number("WVZSCAN_BACKOFF", cls.backoff, 0, 600),
            max_wait=_env_number("WVZSCAN_MAX_WAIT", cls.max_wait, 0, 3600),
            concurrency=int(_env_number("WVZSCAN_CONCURRENCY", cls.concurrency, 1, 256)),
        )

    @property
    def plain_http(self) -> bool:
        return self.base_url.startswith("http://")


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _shown(text: str) -> str:
    """A user-given value for an error message: capped, anything key-shaped redacted (a key pasted
    into --api-url or WEAVZ_API_URL by mistake must not be echoed)."""
    return repr(scrub(text[:200]))


def check_base_url(url: str) -> str:
    """HTTPS only, except loopback hosts (the emulator): a key must not travel in clear text."""
    if not url.isascii() or not url.isprintable():
        raise ConfigError(
            f"API URL must be plain ASCII without control characters (use the punycode form of a host name): "
            f"{_shown(url)}"
        )
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        raise ConfigError(f"API URL must look like https://host, got {_shown(url)}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError(f"API URL must look like https://host, got {_shown(url)}")
    if parts.scheme == "http" and not is_loopback(host):
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
    except (OSError, ssl.SSLError, ValueError) as e:
        detail = getattr(e, "strerror", None) or type(e).__name__
        raise ConfigError(f"cannot load CA bundle from {where}: {detail}") from None


class Pacer:
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
            remaining = int(headers["x-ratelimit-remaining"][:20])
            reset = float(headers["x-ratelimit-reset"][:40])
        except (KeyError, ValueError):
            return
        if not math.isfinite(reset):
            return
        try:
            limit: int | None = int(headers["x-ratelimit-limit"][:20])
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


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if not value or len(value) > 64:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


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


def _classify_body(resp: httpx.Response, raw: bytes | None) -> tuple[Json, BodyKind]:
    if raw is None:
        return None, "text"  # too big to be the API's answer
    if not raw.strip():
        return None, "empty"
    ctype = resp.headers.get("content-type", "").lower()
    try:
        return json.loads(raw), "json"
    except (ValueError, UnicodeDecodeError, RecursionError):
        pass
    head = raw[:512].lstrip().lower()
    if "html" in ctype or head.startswith((b"<!doctype", b"<html")):
        return None, "html"
    return None, "text"


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


def _connect_detail(e: Exception) -> str:
    """Why a connection could not be made, in words (never the exception text, which may hold anything)."""
    text = str(e).lower()
    if "name or service not known" in text or "nodename nor servname" in text or "name resolution" in text:
        return "host name not found (DNS)"
    if "getaddrinfo" in text or "no address associated" in text:
        return "host name not found (DNS)"
    if "refused" in text:
        return "connection refused"
    if "unreachable" in text:
        return "network unreachable"
    return "connection failed"


class Transport:
    """A thread-safe Weavz API transport. Keys are passed per call and never stored in messages."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        import httpx

        self.settings = settings
        self._httpx = httpx
        self._sleep = sleep
        self._pacer = Pacer(settings.max_wait)
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        self._http = httpx.Client(
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            verify=ssl_context(settings.ca_bundle),
            limits=limits,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            # Plain http goes only to loopback, and straight there: never through a proxy, which would
            # see the bearer token in clear text. https may use HTTPS_PROXY/ALL_PROXY/NO_PROXY (a tunnel).
            trust_env=not settings.plain_http,
        )
        self.requests_sent = 0
        self._count_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def request(self, method: Method, path: str, key: str, json_body: Json = None) -> Answer:
        """Send one API call with retries; returns 2xx/4xx answers, raises WeavzError otherwise.

        Retried: 429 always (honouring Retry-After); 5xx and network errors for GET and DELETE;
        for POST only failures that prove nothing was sent (connection refused, connect timeout).
        """
        httpx = self._httpx
        idempotent = method in ("GET", "DELETE")
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
                last = TransportError("connect timeout", unreachable=True, detail="connect timeout")
            except httpx.TimeoutException:
                last = TransportError("timeout")
                if not idempotent:
                    raise UncertainOutcome("timeout after the request was sent") from None
            except httpx.ConnectError as e:
                if _is_tls_failure(e):
                    raise TLSError(f"TLS error: {_tls_detail(e)}") from None
                last = TransportError("connection failed", unreachable=True, detail=_connect_detail(e))
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                last = TransportError("connection reset")
                if not idempotent:
                    raise UncertainOutcome("connection reset after the request was sent") from None
            except (httpx.HTTPError, httpx.InvalidURL, UnicodeError, ValueError) as e:
                last = TransportError(f"network error ({type(e).__name__})")
                if not idempotent:
                    raise UncertainOutcome(f"{type(e).__name__} after the request was sent") from None
            else:
                headers = {k.lower(): v for k, v in resp.headers.items()}
                self._pacer.observe(headers)
                status = resp.status_code
                log.debug("%s %s with %s -> %s (try %d)", method, path, label, status, attempt)
                if status == 429:
                    wait = retry_after(headers.get("retry-after"))
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
            raise TransportError(f"{last.reason} after {tries} tries", last.unreachable, last.detail)
        raise last

    def _backoff(self, attempt: int, last: WeavzError | None) -> None:
        if isinstance(last, RateLimited) and last.retry_after is not None:
            return  # the pacer already holds every request until Retry-After has passed
        wait = self.settings.backoff * (2 ** (attempt - 2)) * (1 + random.random() * 0.1)
        self._sleep(min(wait, self.settings.max_wait))
