"""A forge token for git, for one host only, never in a URL, an argument list or a file.

git receives the token as an ``http.<url>.extraHeader`` through ``GIT_CONFIG_COUNT``/``KEY``/``VALUE``
environment variables: it is sent only to URLs under that scheme, host and port, never written to the
mirror's config, and never part of a clone URL that git could print, store or put in an error.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lowercased; None for any other URL."""
    try:
        u = urllib.parse.urlsplit(url)
        port = u.port
    except ValueError:
        return None
    if u.scheme not in ("http", "https") or not u.hostname:
        return None
    host = u.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if u.scheme == "https" else 80
    return f"{u.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


@dataclass(frozen=True)
class Credential:
    """A token for one origin (``https://github.com``). Its repr never shows the token."""

    origin: str
    user: str  # GitHub: x-access-token, GitLab: oauth2
    token: str = field(repr=False)

    def applies_to(self, url: str) -> bool:
        return origin(url) == self.origin

    def git_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment entries that make git send the token to this origin only."""
        env = dict(os.environ if base is None else base)
        try:
            n = int(env.get("GIT_CONFIG_COUNT", "0") or "0")
        except ValueError:
            n = 0
        basic = base64.b64encode(f"{self.user}:{self.token}".encode()).decode("ascii")
        env["GIT_CONFIG_COUNT"] = str(n + 1)
        env[f"GIT_CONFIG_KEY_{n}"] = f"http.{self.origin}/.extraHeader"
        env[f"GIT_CONFIG_VALUE_{n}"] = f"Authorization: Basic {basic}"
        return env

    def scrub(self, text: str) -> str:
        """``text`` with the token (and its Basic form) replaced: for git's own error messages."""
        basic = base64.b64encode(f"{self.user}:{self.token}".encode()).decode("ascii")
        for secret in (basic, self.token):
            if secret:
                text = text.replace(secret, "***")
        return text


def strip_userinfo(url: str) -> str:
    """A URL as it may be shown or stored: any ``user:password@`` removed."""
    try:
        u = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if u.scheme in ("http", "https", "ssh", "git") and "@" in u.netloc:
        host = u.netloc.rpartition("@")[2]
        return urllib.parse.urlunsplit((u.scheme, host, u.path, u.query, u.fragment))
    return url
