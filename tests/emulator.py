"""A real Weavz API on loopback (HTTP or HTTPS with a trustme CA), as the shared weavz-api.md describes it.

Tests seed organizations, workspaces and keys through Python (``seed_key``), inject faults per path or per
key (``fault``), and read back what happened (``requests``, ``record``). Manual use:

    python -m tests.emulator [--https] [--latency 0.02] [--key-file FILE]

prints the URL and writes it with a seeded org-wide admin key to FILE (created 0600), never to stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import secrets
import socket
import ssl
import string
import struct
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "wvz" + "_"  # split so this file never holds a key-shaped literal
_ALPHABET = string.ascii_lowercase + string.digits
_UNSET: Any = object()

Stamp = dt.datetime | str | None


def iso(t: dt.datetime) -> str:
    """Weavz-style ISO-8601 in UTC, with microseconds so every use moves lastUsedAt."""
    return t.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _stamp(v: Stamp) -> str | None:
    return iso(v) if isinstance(v, dt.datetime) else v


def _parse(v: str | None) -> dt.datetime | None:
    if not v:
        return None
    from wvzscan.isotime import parse_datetime

    return parse_datetime(v)


def random_key(prefix: str | None = None, length: int = 32) -> str:
    """A fresh plain key; with ``prefix`` (8 characters, as keyPrefix shows) for prefix collisions."""
    from wvzscan.detect import placeholder_reason

    head = prefix if prefix is not None else PREFIX
    while True:
        body_len = len(PREFIX) + length - len(head)
        key = head + "".join(secrets.choice(_ALPHABET) for _ in range(body_len))
        if placeholder_reason(key) is None:
            return key


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class KeyRecord:
    id: str
    org_id: str
    name: str
    key_hash: str
    key_prefix: str
    permissions: dict[str, Any] | None
    created_at: str | None
    last_used_at: str | None
    expires_at: str | None
    revoked: bool = False
    uses: int = 0

    @property
    def scope(self) -> str:
        p = self.permissions
        return "workspace" if isinstance(p, dict) and p.get("scope") == "workspace" else "org"

    @property
    def workspace_ids(self) -> list[str]:
        p = self.permissions or {}
        return list(p.get("workspaceIds") or []) if self.scope == "workspace" else []

    def expired(self, now: dt.datetime) -> bool:
        exp = _parse(self.expires_at)
        return exp is not None and exp <= now

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "orgId": self.org_id,
            "name": self.name,
            "keyPrefix": self.key_prefix,
            "permissions": self.permissions,
            "lastUsedAt": self.last_used_at,
            "expiresAt": self.expires_at,
            "createdAt": self.created_at,
        }


@dataclass
class Seeded:
    """A seeded key: the plain value (for the test only), its id and its live record."""

    key: str
    id: str
    record: KeyRecord

    @property
    def prefix(self) -> str:
        return self.key[:8]


@dataclass
class Fault:
    """An injected misbehaviour. kinds:

    status    answer ``status`` with a JSON error body (5xx, or any code)
    slow      wait ``delay`` seconds, then answer normally
    reset     reset the connection (RST) before answering; with ``after=True`` the call takes effect first
    garbage   answer ``status`` (default 200) with a body that is not JSON
    text      answer ``status`` with a plain-text body
    empty     answer ``status`` with an empty body
    html      answer ``status`` with an HTML page (a proxy or a captive portal)
    redirect  answer ``status`` (default 302) with a Location header
    ratelimit answer 429 with Retry-After ``retry_after``
    trickle   answer 200 and send the body one byte every ``delay`` seconds (default 0.1), never ending
    echo      answer ``status`` (default 403) with the request's Authorization header echoed into the
              body's ``code``, ``error`` and ``message`` (a hostile or buggy API that leaks the bearer token)
    """

    kind: str
    path: str | None = None  # prefix of the request path
    key: str | None = None  # only requests made with this plain key
    method: str | None = None
    status: int | None = None
    delay: float = 0.0
    times: int | None = None  # fire this often, then stop (None: always)
    skip: int = 0  # let this many matching requests through first
    retry_after: str | None = "1"
    location: str = "https://example.invalid/elsewhere"
    after: bool = False
    fired: int = 0
    seen: int = 0

    def matches(self, method: str, path: str, key_hash: str | None) -> bool:
        """Whether this fault fires for the request (counts it; call once per request)."""
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method and self.method != method:
            return False
        if self.path and not path.startswith(self.path):
            return False
        if self.key and _hash(self.key) != key_hash:
            return False
        self.seen += 1
        return self.seen > self.skip


@dataclass
class Logged:
    method: str
    path: str
    key_hash: str | None
    status: int  # 0 for a reset connection

    def by(self, key: str) -> bool:
        return self.key_hash == _hash(key)


@dataclass
class RateLimit:
    limit: int = 1000
    window: float = 60.0


class Emulator:
    """State and behaviour of the emulated API; ``start()`` serves it on 127.0.0.1."""

    def __init__(self, tls: bool = False, latency: float = 0.0, org_id: str = "org_main") -> None:
        self.tls = tls
        self.latency = latency
        self.org_id = org_id
        self.lock = threading.RLock()
        self.keys: dict[str, KeyRecord] = {}  # id -> record
        self._by_hash: dict[str, KeyRecord] = {}
        self.plain: dict[str, str] = {}  # id -> plain key, so tests can check that none leaked
        self.workspaces: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.requests: list[Logged] = []
        self.rate_limit = RateLimit()
        self.rate_limit_per_key = True  # False: one window shared by every key (a per-organization plan limit)
        self._buckets: dict[str, tuple[float, int]] = {}  # bucket -> (window start, used)
        self.page_size: int | None = None  # truncate key lists while "total" says more (pagination)
        self.delete_status = 200
        self.id_style = "key"  # "key" -> key_abc123..., "uuid" -> UUIDs
        self.workspace_org_ids = True  # orgId in workspace objects is not documented: tests can drop it
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.ca_file: str | None = None
        self.add_workspace("Default", ws_id="ws_default")

    # -- seeding ------------------------------------------------------------------------------

    def add_workspace(self, name: str, ws_id: str | None = None, org_id: str | None = None) -> str:
        ws_id = ws_id or f"ws_{secrets.token_hex(6)}"
        with self.lock:
            self.workspaces[ws_id] = {"id": ws_id, "name": name, "orgId": org_id or self.org_id}
        return ws_id

    def seed_key(
        self,
        name: str = "key",
        *,
        scope: str = "org",
        workspace_ids: list[str] | None = None,
        permissions: Any = _UNSET,
        key: str | None = None,
        prefix: str | None = None,
        created_at: Stamp = _UNSET,
        last_used_at: Stamp = None,
        expires_at: Stamp = None,
        key_id: str | None = None,
        org_id: str | None = None,
        revoked: bool = False,
    ) -> Seeded:
        """Add a key. ``permissions`` overrides scope/workspace_ids verbatim (e.g. None or {"scope": "org"});
        ``prefix`` makes a key sharing those first 8 characters (a keyPrefix collision)."""
        if permissions is _UNSET:
            if scope == "workspace":
                permissions = {"scope": "workspace", "workspaceIds": workspace_ids or ["ws_default"]}
            else:
                permissions = None
        plain = key or random_key(prefix)
        if created_at is _UNSET:
            created_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
        rec = KeyRecord(
            id=key_id or self._new_id(),
            org_id=org_id or self.org_id,
            name=name,
            key_hash=_hash(plain),
            key_prefix=plain[:8],
            permissions=permissions,
            created_at=_stamp(created_at),
            last_used_at=_stamp(last_used_at),
            expires_at=_stamp(expires_at),
            revoked=revoked,
        )
        with self.lock:
            self.keys[rec.id] = rec
            self._by_hash[rec.key_hash] = rec
            self.plain[rec.id] = plain
        return Seeded(plain, rec.id, rec)

    def _new_id(self) -> str:
        return str(uuid.uuid4()) if self.id_style == "uuid" else f"key_{secrets.token_hex(8)}"

    def record(self, key_id: str) -> KeyRecord:
        with self.lock:
            return self.keys[key_id]

    def is_live(self, key: str) -> bool:
        with self.lock:
            rec = self._by_hash.get(_hash(key))
            return bool(rec and not rec.revoked and not rec.expired(dt.datetime.now(dt.timezone.utc)))

    def fault(self, kind: str, **kw: Any) -> Fault:
        f = Fault(kind, **kw)
        with self.lock:
            self.faults.append(f)
        return f

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def calls(self, method: str | None = None, path: str | None = None, key: str | None = None) -> list[Logged]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method)
                and (path is None or r.path.startswith(path))
                and (key is None or r.by(key))
            ]

    # -- serving ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        port = self._server.server_address[1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    def start(self, port: int = 0, host: str = "127.0.0.1") -> Emulator:
        server_ctx = None
        if self.tls:
            import trustme

            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
            server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(server_ctx)
            self._tmp = tempfile.TemporaryDirectory(prefix="wvz-emu-")
            self.ca_file = os.path.join(self._tmp.name, "ca.pem")
            ca.cert_pem.write_to_path(self.ca_file)
        server = _Server((host, port), _Handler)
        server.emulator = self
        server.tls_context = server_ctx
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour ----------------------------------------------------------------------------

    def _auth(self, header: str | None) -> KeyRecord | None:
        if not header or not header.startswith("Bearer "):
            return None
        rec = self._by_hash.get(_hash(header[len("Bearer ") :].strip()))
        now = dt.datetime.now(dt.timezone.utc)
        if rec is None or rec.revoked or rec.expired(now):
            return None
        rec.last_used_at = iso(now)
        rec.uses += 1
        return rec

    def _limit(self, bucket: str) -> tuple[dict[str, str], float | None]:
        """Rate-limit headers for ``bucket``; the second value is Retry-After when over the limit."""
        rl = self.rate_limit
        now = time.time()
        start, used = self._buckets.get(bucket, (now, 0))
        if now - start >= rl.window:
            start, used = now, 0
        used += 1
        self._buckets[bucket] = (start, used)
        reset = start + rl.window
        headers = {
            "X-RateLimit-Limit": str(rl.limit),
            "X-RateLimit-Remaining": str(max(0, rl.limit - used)),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        return headers, (max(1.0, math.ceil(reset - now)) if used > rl.limit else None)

    def handle(self, method: str, path: str, auth: str | None, body: bytes) -> tuple[int, Any, dict[str, str]]:
        """The API proper: (status, JSON body or None, extra headers)."""
        with self.lock:
            bare = path.split("?", 1)[0]
            rec = self._auth(auth)
            if rec is None:
                return 401, _err("Invalid or missing API key", "UNAUTHORIZED"), {}
            if bare == "/api/v1/workspaces":
                if method != "GET":
                    return 405, _err("Method not allowed", "METHOD_NOT_ALLOWED"), {}
                allowed = set(rec.workspace_ids) if rec.scope == "workspace" else None
                ws = [
                    w
                    for w in self.workspaces.values()
                    if w["orgId"] == rec.org_id and (allowed is None or w["id"] in allowed)
                ]
                if not self.workspace_org_ids:
                    ws = [{k: v for k, v in w.items() if k != "orgId"} for w in ws]
                return 200, {"workspaces": ws, "total": len(ws)}, {}
            if bare == "/api/v1/api-keys" or bare.startswith("/api/v1/api-keys/"):
                if rec.scope != "org":
                    return 403, _err("API key management requires an org-wide key", "SCOPE_DENIED"), {}
                if bare == "/api/v1/api-keys" and method == "GET":
                    keys = [k.public() for k in self.keys.values() if k.org_id == rec.org_id and not k.revoked]
                    shown = keys[: self.page_size] if self.page_size is not None else keys
                    return 200, {"apiKeys": shown, "total": len(keys)}, {}
                if bare == "/api/v1/api-keys" and method == "POST":
                    return self._create(rec, body)
                if method == "DELETE" and bare.count("/") == 4:
                    key_id = bare.rsplit("/", 1)[1]
                    target = self.keys.get(key_id)
                    if target is None or target.revoked or target.org_id != rec.org_id:
                        return 404, _err("API key not found", "NOT_FOUND"), {}
                    target.revoked = True
                    return self.delete_status, ({"success": True} if self.delete_status != 204 else None), {}
                return 405, _err("Method not allowed", "METHOD_NOT_ALLOWED"), {}
            return 404, _err("Not found", "NOT_FOUND"), {}

    def _create(self, rec: KeyRecord, body: bytes) -> tuple[int, Any, dict[str, str]]:
        try:
            d = json.loads(body or b"null")
        except ValueError:
            return 400, _err("Body must be JSON", "VALIDATION_ERROR"), {}
        if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not d["name"].strip():
            return 400, _err("name is required", "VALIDATION_ERROR"), {}
        perms = d.get("permissions")
        if perms is not None and (not isinstance(perms, dict) or perms.get("scope") not in ("org", "workspace")):
            return 400, _err("permissions.scope must be org or workspace", "VALIDATION_ERROR"), {}
        if isinstance(perms, dict) and perms.get("scope") == "workspace":
            ids = perms.get("workspaceIds")
            if not isinstance(ids, list) or not ids:
                return 400, _err("workspaceIds required for workspace scope", "VALIDATION_ERROR"), {}
        exp = d.get("expiresAt")
        if exp is not None and (not isinstance(exp, str) or _parse(exp) is None):
            return 400, _err("expiresAt must be ISO-8601", "VALIDATION_ERROR"), {}
        seeded = self.seed_key(
            d["name"],
            permissions=perms,
            created_at=dt.datetime.now(dt.timezone.utc),
            expires_at=exp,
            org_id=rec.org_id,
        )
        return 201, {"apiKey": seeded.record.public(), "plainKey": seeded.key}, {}


def _err(message: str, code: str) -> dict[str, Any]:
    return {"error": message, "code": code, "details": None}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    emulator: Emulator
    tls_context: ssl.SSLContext | None

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets, TLS failures and client hang-ups are part of the game


class _Reset(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall
    server: _Server

    def setup(self) -> None:
        ctx = self.server.tls_context
        if ctx is not None:
            self.request = ctx.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def _serve(self) -> None:
        emu = self.server.emulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization")
        key_hash = _hash(auth[7:].strip()) if auth and auth.startswith("Bearer ") else None
        path = self.path
        with emu.lock:
            fault = None
            for f in emu.faults:
                if f.matches(self.command, path, key_hash):
                    fault = f
                    break
            if fault is not None:
                fault.fired += 1
            headers, retry_after = emu._limit((key_hash or "anonymous") if emu.rate_limit_per_key else "org")
        if emu.latency:
            time.sleep(emu.latency)
        try:
            self._answer(emu, fault, path, auth, body, key_hash, headers, retry_after)
        except _Reset:
            self._log(emu, path, key_hash, 0)
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.request.close()

    def _answer(
        self,
        emu: Emulator,
        fault: Fault | None,
        path: str,
        auth: str | None,
        body: bytes,
        key_hash: str | None,
        headers: dict[str, str],
        retry_after: float | None,
    ) -> None:
        if fault is not None and fault.kind == "trickle":
            return self._trickle(emu, path, key_hash, fault.delay or 0.1)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            kind = fault.kind
            if kind == "reset" and not fault.after:
                raise _Reset
            if kind == "ratelimit":
                extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                return self._send(emu, path, key_hash, 429, _err("Too many requests", "RATE_LIMITED"), headers | extra)
            if kind == "status":
                code = fault.status or 503
                return self._send(emu, path, key_hash, code, _err("Injected failure", "INTERNAL"), headers)
            if kind == "echo":
                doc = {"error": auth, "code": auth, "message": f"denied for {auth}", "details": {"auth": auth}}
                return self._send(emu, path, key_hash, fault.status or 403, doc, headers)
            if kind == "redirect":
                loc = {"Location": fault.location}
                return self._send(emu, path, key_hash, fault.status or 302, None, headers | loc)
            raw = {
                "garbage": (b"\x00\x01 {not json", "application/json"),
                "text": (b"Service temporarily unavailable\n", "text/plain"),
                "empty": (b"", "application/json"),
                "html": (b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html"),
            }.get(kind)
            if raw is not None:
                return self._send_raw(emu, path, key_hash, fault.status or 200, raw[0], raw[1], headers)
        if retry_after is not None:
            extra = {"Retry-After": str(int(retry_after))}
            return self._send(emu, path, key_hash, 429, _err("Too many requests", "RATE_LIMITED"), headers | extra)
        status, doc, extra = emu.handle(self.command, path, auth, body)
        if fault is not None and fault.kind == "reset" and fault.after:
            raise _Reset  # the call took effect; its answer is lost
        self._send(emu, path, key_hash, status, doc, headers | extra)

    def _trickle(self, emu: Emulator, path: str, kh: str | None, every: float) -> None:
        """A server that never finishes: every read gets a byte in time, the answer never ends."""
        self._log(emu, path, kh, 200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(1 << 30))
        self.end_headers()
        self.close_connection = True
        try:
            while self.server.emulator._server is not None:
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(every)
        except OSError:
            pass

    def _send(self, emu: Emulator, path: str, kh: str | None, status: int, doc: Any, headers: dict[str, str]) -> None:
        raw = b"" if doc is None else json.dumps(doc).encode()
        self._send_raw(emu, path, kh, status, raw, "application/json", headers)

    def _send_raw(
        self,
        emu: Emulator,
        path: str,
        kh: str | None,
        status: int,
        raw: bytes,
        ctype: str,
        headers: dict[str, str],
    ) -> None:
        self._log(emu, path, kh, status)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if status != 204 and raw:
            self.wfile.write(raw)

    def _log(self, emu: Emulator, path: str, kh: str | None, status: int) -> None:
        with emu.lock:
            emu.requests.append(Logged(self.command, path, kh, status))


def serve(emulator: Emulator) -> Iterator[Emulator]:
    """Fixture body: a started emulator, stopped afterwards."""
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--https", action="store_true", help="serve HTTPS with a fresh local CA (trustme)")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    ap.add_argument("--key-file", default=None, help="where to write URL and keys (created 0600)")
    args = ap.parse_args(argv)
    emu = Emulator(tls=args.https, latency=args.latency)
    ws = emu.add_workspace("Checkout")
    admin = emu.seed_key("admin")
    scoped = emu.seed_key("checkout-service", scope="workspace", workspace_ids=[ws])
    emu.start(args.port)
    path = args.key_file or os.path.join(tempfile.mkdtemp(prefix="wvz-emu-"), "emulator.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    info = {"url": emu.url, "admin_key": admin.key, "workspace_key": scoped.key, "ca_file": emu.ca_file}
    with os.fdopen(fd, "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(f"Weavz emulator on {emu.url}", flush=True)
    print(f"admin key, workspace key{' and CA file' if emu.ca_file else ''} in {path} (0600)", flush=True)
    if emu.ca_file:
        print(f"use: --ca-bundle {emu.ca_file}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
