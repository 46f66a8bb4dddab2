"""The repository list of ``wvzscan org``: a GitHub organization or user, a GitLab group with its
subgroups, or a file of clone URLs and local paths.

Every page is fetched (GitHub's ``Link: rel="next"``, GitLab's ``X-Next-Page``); rate limits are
waited out (``X-RateLimit-Remaining``/``X-RateLimit-Reset``, ``Retry-After``, GitLab's
``RateLimit-*``), never skipped. The token goes only to the API's own origin (a pagination link to
another host is refused) and, for cloning, to the forge's web origin through ``credentials``.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from wvzscan.errors import WvzscanError
from wvzscan.org.credentials import Credential, is_loopback, origin, strip_userinfo

Kind = Literal["github", "gitlab", "list"]

MAX_PAGES = 10_000  # 1,000,000 repositories at 100 a page: never run without bound
MAX_WAIT = 3600.0  # one rate-limit wait longer than this is an error saying when to come back
MAX_RETRIES = 20  # rate-limit answers in a row for one page


@dataclass(frozen=True)
class Target:
    """One repository to scan: ``name`` is how reports and the state name it."""

    name: str
    url: str | None = None  # clone URL (no credentials in it)
    path: str | None = None  # a local repository
    credential: Credential | None = None  # for ``url`` only, when it is on the forge's origin
    # When the forge last saw a push (GitHub pushed_at, GitLab last_activity_at): unchanged since
    # the last run, the mirror need not be fetched.
    pushed: str | None = None


@dataclass(frozen=True)
class Skipped:
    forks: int = 0
    archived: int = 0


@dataclass(frozen=True)
class Listing:
    targets: list[Target]
    skipped: Skipped
    notes: list[str]


# The HTTP GET the enumeration uses: (url, headers) -> (status, headers, body). Injected in tests.
Get = Callable[[str, dict[str, str]], tuple[int, dict[str, str], bytes]]


def httpx_get(timeout: float = 30.0) -> Get:
    import httpx

    client = httpx.Client(timeout=timeout, follow_redirects=False)

    def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        try:
            r = client.get(url, headers=headers)
        except httpx.HTTPError as e:
            # httpx's message names the URL at most; the token is in a header, never in the URL.
            raise WvzscanError(f"cannot reach {_display(url)}: {type(e).__name__}: {e}") from None
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    return get


def check_api_url(url: str, flag: str) -> str:
    """https, or plain http only on loopback (the rule for the Weavz API URL too)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https" and u.hostname or u.scheme == "http" and is_loopback(u.hostname):
        pass
    else:
        raise WvzscanError(f"{flag} must be an https URL (plain http only on loopback), got {_display(url)}")
    if u.username or u.password:
        raise WvzscanError(f"{flag} must not carry credentials; the token comes from the environment")
    return url.rstrip("/")


def _display(url: str) -> str:
    return strip_userinfo(url).split("?", 1)[0]


@dataclass
class Waiter:
    """Rate-limit waits: injectable so tests never sleep."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    say: Callable[[str], None] | None = None
    waited: float = 0.0

    def wait(self, seconds: float, why: str) -> None:
        seconds = max(0.0, seconds)
        if seconds > MAX_WAIT:
            raise WvzscanError(
                f"{why}: the API asks to wait {seconds:.0f} s (more than {MAX_WAIT:.0f} s); run again later"
            )
        if self.say is not None:
            self.say(f"{why}: waiting {seconds:.0f} s")
        self.waited += seconds
        self.sleep(seconds)


class Api:
    """GET pages of JSON from one forge API, the token sent to its origin only."""

    def __init__(self, base: str, headers: dict[str, str], get: Get, waiter: Waiter, what: str) -> None:
        self.base = base
        self.origin = origin(base)
        self.headers = headers
        self.get = get
        self.waiter = waiter
        self.what = what  # "GitHub", "GitLab" (for messages)

    def fetch(self, url: str) -> tuple[int, dict[str, str], bytes]:
        if origin(url) != self.origin:
            raise WvzscanError(f"the {self.what} API sent a link to another host ({_display(url)}); not following it")
        for _ in range(MAX_RETRIES):
            status, headers, body = self.get(url, self.headers)
            wait = self._rate_limited(status, headers)
            if wait is None:
                if status in (500, 502, 503, 504):
                    self.waiter.wait(5.0, f"{self.what} API answered {status}")
                    continue
                self._pace(headers)
                return status, headers, body
            self.waiter.wait(wait, f"{self.what} API rate limit")
        raise WvzscanError(f"the {self.what} API kept refusing {_display(url)} (rate limit or server errors)")

    def _rate_limited(self, status: int, headers: dict[str, str]) -> float | None:
        """Seconds to wait before asking again, or None when the answer is not a rate limit."""
        if status not in (403, 429):
            return None
        retry = _number(headers.get("retry-after"))
        if retry is not None:
            return retry
        remaining = _number(headers.get("x-ratelimit-remaining") or headers.get("ratelimit-remaining"))
        reset = _number(headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset"))
        if remaining == 0 and reset is not None:
            return reset - self.waiter.now() + 1
        if status == 429:
            return 60.0  # no hint: GitHub's documented minimum for secondary limits
        return None  # a 403 that is no rate limit: permissions

    def _pace(self, headers: dict[str, str]) -> None:
        """The last request of the window was just used: wait for the reset before the next one."""
        remaining = _number(headers.get("x-ratelimit-remaining") or headers.get("ratelimit-remaining"))
        reset = _number(headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset"))
        if remaining == 0 and reset is not None:
            self.waiter.wait(reset - self.waiter.now() + 1, f"{self.what} API rate limit used up")

    def pages(self, url: str, next_link: Callable[[dict[str, str], str], str | None]) -> Iterator[list[object]]:
        for _ in range(MAX_PAGES):
            status, headers, body = self.fetch(url)
            if status != 200:
                raise _Status(status, headers, body)
            try:
                items = json.loads(body)
            except ValueError:
                raise WvzscanError(
                    f"the {self.what} API answered {_display(url)} with something that is not JSON"
                ) from None
            if not isinstance(items, list):
                raise WvzscanError(
                    f"the {self.what} API answered {_display(url)} with {type(items).__name__}, not a list"
                )
            yield items
            nxt = next_link(headers, url)
            if not nxt:
                return
            url = nxt
        raise WvzscanError(f"the {self.what} API listing did not end after {MAX_PAGES} pages")


class _Status(Exception):
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__(status)
        self.status, self.headers, self.body = status, headers, body

    def message(self) -> str:
        try:
            doc = json.loads(self.body)
            msg = doc.get("message") or doc.get("error") if isinstance(doc, dict) else None
        except ValueError:
            msg = None
        text = str(msg)[:200] if msg else ""
        return f"{self.status}{' ' + text if text else ''}"


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def _github_next(headers: dict[str, str], current: str) -> str | None:
    for part in headers.get("link", "").split(","):
        url_part, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return urllib.parse.urljoin(current, url_part.strip().strip("<>"))
    return None


def _gitlab_next(headers: dict[str, str], current: str) -> str | None:
    page = headers.get("x-next-page", "").strip()
    if not page.isdigit():
        return None
    u = urllib.parse.urlsplit(current)
    q = dict(urllib.parse.parse_qsl(u.query))
    q["page"] = page
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, urllib.parse.urlencode(q), ""))


def _clone_ok(url: object, api_base: str) -> str | None:
    """A clone URL an API answer may name: https (http and file:// only when the API itself is local)."""
    if not isinstance(url, str) or not url or "\n" in url:
        return None
    u = urllib.parse.urlsplit(url)
    api_local = is_loopback(urllib.parse.urlsplit(api_base).hostname)
    if u.scheme == "https" and u.hostname and not u.username:
        return url
    if u.scheme == "http" and (is_loopback(u.hostname) or api_local) and not u.username:
        return url
    if u.scheme == "file" and api_local:
        return url
    return None


def github(
    name: str,
    api_url: str,
    token: str | None,
    *,
    include_forks: bool,
    include_archived: bool,
    get: Get,
    waiter: Waiter,
) -> Listing:
    base = check_api_url(api_url, "--github-api-url")
    if not name or "/" in name or name != name.strip():
        raise WvzscanError(f"--github takes an organization or user name, got {name!r}")
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    api = Api(base, headers, get, waiter, "GitHub")
    quoted = urllib.parse.quote(name, safe="")
    # The web origin that clone URLs use: github.com for api.github.com, the same host on GHES.
    web = "https://github.com" if origin(base) == "https://api.github.com" else origin(base)
    cred = Credential(web, "x-access-token", token) if token and web else None
    items: list[object] = []
    try:
        for page in api.pages(f"{base}/orgs/{quoted}/repos?per_page=100&type=all", _github_next):
            items.extend(page)
    except _Status as e:
        if e.status == 404:
            try:
                for page in api.pages(f"{base}/users/{quoted}/repos?per_page=100&type=owner", _github_next):
                    items.extend(page)
            except _Status as e2:
                raise _github_error(e2, name, token) from None
        else:
            raise _github_error(e, name, token) from None
    return _listing(
        items, base, cred, include_forks, include_archived, "full_name", "clone_url", "fork", "archived", "pushed_at"
    )


def _github_error(e: _Status, name: str, token: str | None) -> WvzscanError:
    if e.status == 401:
        return WvzscanError(f"GitHub rejected GITHUB_TOKEN ({e.message()}): check that it is valid and not expired")
    if e.status == 404:
        hint = "" if token else " (a private organization needs GITHUB_TOKEN)"
        return WvzscanError(f"no GitHub organization or user named {name!r}{hint}")
    if e.status == 403:
        return WvzscanError(f"GitHub refused to list the repositories of {name!r} ({e.message()})")
    return WvzscanError(f"GitHub answered {e.message()} for the repositories of {name!r}")


def gitlab(
    group: str,
    gitlab_url: str,
    token: str | None,
    *,
    include_forks: bool,
    include_archived: bool,
    get: Get,
    waiter: Waiter,
) -> Listing:
    base = check_api_url(gitlab_url, "--gitlab-url")
    if not group.strip("/"):
        raise WvzscanError("--gitlab takes a group path, e.g. acme or acme/platform")
    headers = {"Accept": "application/json"}
    if token:
        headers["PRIVATE-TOKEN"] = token
    api = Api(base, headers, get, waiter, "GitLab")
    quoted = urllib.parse.quote(group.strip("/"), safe="")
    cred = Credential(origin(base) or "", "oauth2", token) if token else None
    url = f"{base}/api/v4/groups/{quoted}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc"
    items: list[object] = []
    try:
        for page in api.pages(url, _gitlab_next):
            items.extend(page)
    except _Status as e:
        if e.status == 401:
            raise WvzscanError(
                f"GitLab rejected GITLAB_TOKEN ({e.message()}): check that it is valid and not expired"
            ) from None
        if e.status == 404:
            hint = "" if token else " (a private group needs GITLAB_TOKEN)"
            raise WvzscanError(f"no GitLab group {group!r}{hint}") from None
        raise WvzscanError(f"GitLab answered {e.message()} for the projects of {group!r}") from None
    for item in items:  # GitLab marks a fork by naming its source project
        if isinstance(item, dict):
            item["fork"] = bool(item.get("forked_from_project"))
    return _listing(
        items,
        base,
        cred,
        include_forks,
        include_archived,
        "path_with_namespace",
        "http_url_to_repo",
        "fork",
        "archived",
        "last_activity_at",
    )


def _listing(
    items: list[object],
    base: str,
    cred: Credential | None,
    include_forks: bool,
    include_archived: bool,
    name_field: str,
    url_field: str,
    fork_field: str,
    archived_field: str,
    pushed_field: str,
) -> Listing:
    targets: dict[str, Target] = {}
    forks = archived = 0
    notes: list[str] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get(name_field), str):
            notes.append("the API listed an entry that is not a repository; ignored")
            continue
        name = item[name_field]
        if item.get(fork_field) and not include_forks:
            forks += 1
            continue
        if item.get(archived_field) and not include_archived:
            archived += 1
            continue
        url = _clone_ok(item.get(url_field), base)
        if url is None:
            # Kept as a target without a URL: the fleet reports it as an error, never skips it silently.
            targets.setdefault(name, Target(name))
            continue
        pushed = item.get(pushed_field)
        targets.setdefault(
            name,
            Target(
                name,
                url=url,
                credential=cred if cred and cred.applies_to(url) else None,
                pushed=pushed if isinstance(pushed, str) else None,
            ),
        )
    if forks:
        notes.append(f"{forks} fork{'s' if forks != 1 else ''} not scanned (--include-forks scans them)")
    if archived:
        notes.append(
            f"{archived} archived repositor{'ies' if archived != 1 else 'y'} not scanned "
            "(--include-archived scans them)"
        )
    return Listing(sorted(targets.values(), key=lambda t: t.name), Skipped(forks, archived), notes)


_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.I)  # as `wvzscan repo` decides


def is_url(target: str) -> bool:
    return bool(_URL.match(target)) and not os.path.exists(target)


def from_lines(lines: list[str], where: str, cwd: str = ".", credentials: tuple[Credential, ...] = ()) -> Listing:
    """``--repos FILE``: clone URLs or local paths, one a line, ``#`` comments, blank lines ignored.

    A URL on the origin of a forge whose token is set (``https://github.com`` with GITHUB_TOKEN)
    is cloned with that token; any other URL without one (git's own credential helpers still apply).
    """
    targets: dict[str, Target] = {}
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if is_url(line):
            shown = strip_userinfo(line)
            if shown != line:
                raise WvzscanError(
                    f"{where} line {n}: a URL with a password or token in it; put the token in "
                    "GITHUB_TOKEN/GITLAB_TOKEN or a git credential helper instead"
                )
            cred = next((c for c in credentials if c.applies_to(line)), None)
            targets.setdefault(line, Target(line, url=line, credential=cred))
        else:
            path = line if os.path.isabs(line) else os.path.join(cwd, line)
            targets.setdefault(line, Target(line, path=path))
    return Listing(list(targets.values()), Skipped(), [])
