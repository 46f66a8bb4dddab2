"""A loopback server speaking the shapes of GitHub's and GitLab's REST APIs that `wvzscan org` uses.

GitHub: ``GET /orgs/{org}/repos`` and ``/users/{user}/repos`` (``Link: rel="next"`` pagination,
``X-RateLimit-*`` headers, 401 "Bad credentials", 404 "Not Found"). GitLab:
``GET /api/v4/groups/{path}/projects`` (``X-Next-Page``, ``RateLimit-*``, 429). Faults are queued
per server (``fail_next``): a primary rate limit, a secondary one with ``Retry-After``, a 429.
A request for ``/{anything}.git/info/refs`` (git's smart HTTP) is recorded and refused with 401,
so tests can see which host git sent a token to. Every request's path and headers are recorded.

Manual use (the benchmark does this): ``ForgeServer(...).start()``; ``.url``; ``.stop()``.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Repo:
    name: str  # GitHub full_name / GitLab path_with_namespace
    clone_url: str
    fork: bool = False
    archived: bool = False
    pushed_at: str | None = None  # GitHub pushed_at / GitLab last_activity_at; a push must bump it


@dataclass
class Fault:
    kind: str  # "primary" (403 + X-RateLimit-Remaining: 0), "secondary" (403 + Retry-After), "429", "500"
    seconds: int = 30


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class ForgeServer:
    github_orgs: dict[str, list[Repo]] = field(default_factory=dict)
    github_users: dict[str, list[Repo]] = field(default_factory=dict)
    gitlab_groups: dict[str, list[Repo]] = field(default_factory=dict)
    token: str | None = None  # when set, any other token is a 401 (no token: anonymous is fine)
    page_size: int = 100  # the most items a page holds, whatever per_page asks
    now: float = 1_700_000_000.0  # the epoch the rate-limit reset headers are relative to
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle --
    def start(self) -> ForgeServer:
        forge = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                forge._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> ForgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, kind: str, seconds: int = 30) -> None:
        with self._lock:
            self.faults.append(Fault(kind, seconds))

    # -- answers --
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        u = urllib.parse.urlsplit(h.path)
        with self._lock:
            self.requests.append(Request("GET", h.path, {k.lower(): v for k, v in h.headers.items()}))
            fault = self.faults.pop(0) if self.faults and not u.path.endswith("/info/refs") else None
        if u.path.endswith("/info/refs"):
            self._send(h, 401, {"message": "Unauthorized"}, {"WWW-Authenticate": 'Basic realm="git"'})
            return
        if fault is not None:
            self._fault(h, fault)
            return
        query = dict(urllib.parse.parse_qsl(u.query))
        parts = [urllib.parse.unquote(p) for p in u.path.strip("/").split("/")]
        if parts[:2] == ["api", "v4"]:
            self._gitlab(h, parts[2:], query)
        else:
            self._github(h, parts, query)

    def _auth_ok(self, h: BaseHTTPRequestHandler, header: str, prefix: str) -> bool:
        got = h.headers.get(header)
        if got is None or self.token is None:
            return True
        return got == prefix + self.token

    def _github(self, h: BaseHTTPRequestHandler, parts: list[str], query: dict[str, str]) -> None:
        if not self._auth_ok(h, "Authorization", "Bearer "):
            self._send(h, 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
            return
        table = {"orgs": self.github_orgs, "users": self.github_users}.get(parts[0] if parts else "")
        if table is None or len(parts) != 3 or parts[2] != "repos" or parts[1] not in table:
            self._send(h, 404, {"message": "Not Found"})
            return
        repos = table[parts[1]]
        page, per = int(query.get("page", "1")), min(int(query.get("per_page", "30")), self.page_size)
        chunk = repos[(page - 1) * per : page * per]
        body = [
            {
                "full_name": r.name,
                "name": r.name.rsplit("/", 1)[-1],
                "clone_url": r.clone_url,
                "fork": r.fork,
                "archived": r.archived,
                "private": False,
                **({"pushed_at": r.pushed_at} if r.pushed_at else {}),
            }
            for r in chunk
        ]
        headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": "0"}
        if page * per < len(repos):
            nxt = dict(query, page=str(page + 1))
            link = f"{self.url}/{'/'.join(parts)}?{urllib.parse.urlencode(nxt)}"
            headers["Link"] = f'<{link}>; rel="next", <{link}>; rel="last"'
        self._send(h, 200, body, headers)

    def _gitlab(self, h: BaseHTTPRequestHandler, parts: list[str], query: dict[str, str]) -> None:
        if not self._auth_ok(h, "PRIVATE-TOKEN", ""):
            self._send(h, 401, {"message": "401 Unauthorized"})
            return
        if len(parts) != 3 or parts[0] != "groups" or parts[2] != "projects" or parts[1] not in self.gitlab_groups:
            self._send(h, 404, {"message": "404 Group Not Found"})
            return
        repos = self.gitlab_groups[parts[1]]
        page, per = int(query.get("page", "1")), min(int(query.get("per_page", "20")), self.page_size)
        chunk = repos[(page - 1) * per : page * per]
        body = [
            {
                "path_with_namespace": r.name,
                "http_url_to_repo": r.clone_url,
                "archived": r.archived,
                **({"forked_from_project": {"id": 1}} if r.fork else {}),
                **({"last_activity_at": r.pushed_at} if r.pushed_at else {}),
            }
            for r in chunk
        ]
        more = page * per < len(repos)
        headers = {"X-Next-Page": str(page + 1) if more else "", "RateLimit-Remaining": "1999"}
        self._send(h, 200, body, headers)

    def _fault(self, h: BaseHTTPRequestHandler, f: Fault) -> None:
        if f.kind == "primary":
            reset = str(int(self.now) + f.seconds)
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset, "RateLimit-Remaining": "0"}
            headers["RateLimit-Reset"] = reset
            self._send(h, 403, {"message": "API rate limit exceeded"}, headers)
        elif f.kind == "secondary":
            self._send(h, 403, {"message": "You have exceeded a secondary rate limit"}, {"Retry-After": str(f.seconds)})
        elif f.kind == "429":
            self._send(h, 429, {"message": "429 Too Many Requests"}, {"Retry-After": str(f.seconds)})
        else:
            self._send(h, 500, {"message": "boom"})

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
