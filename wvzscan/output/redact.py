"""The one redaction point: text that leaves the process (reports, stderr, audit log, exceptions) passes
through ``scrub`` so no full key reaches it from a side door (a file named after a key, an API error
that echoes the bearer token, an exception message).

Any ``wvz_`` key-shaped run is cut to what Weavz itself shows (the first 8 characters); secrets that are
not key-shaped (an admin key from the environment) are registered once with ``register`` and replaced
wherever they appear.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection

REDACT_KEEP = 8  # what Weavz itself shows as keyPrefix
# The prefix in any case, then the longest body a key can have: a key glued to other text is still cut.
# A run of at most REDACT_KEEP characters shows nothing more than a redacted key does (``wvz_abcd…``):
# it is left alone, so that scrubbing is idempotent.
_KEYISH = re.compile(rf"(?i:wvz_)[A-Za-z0-9_-]{{{REDACT_KEEP - 4 + 1},}}")

_lock = threading.Lock()
_secrets: set[str] = set()


def redact(key: str) -> str:
    return key[:REDACT_KEEP] + "…"


def register(secret: str) -> None:
    """A secret that must never be printed in full even when it is not key-shaped (WEAVZ_API_KEY)."""
    if len(secret) >= 8:
        with _lock:
            _secrets.add(secret)


def scrub(text: str, keep: Collection[str] = ()) -> str:
    """``text`` with every key-shaped run and every registered secret redacted.

    ``keep``: keys the user asked to see in full (``--show-secrets``: the keys a report found); a
    key-shaped run equal to one of them is left as it is, anything else (a key glued to other text,
    a key the report did not find) is still cut.
    """
    if _secrets:
        for s in sorted(_secrets, key=len, reverse=True):
            if s in text and s not in keep:
                text = text.replace(s, redact(s))
    if "wvz_" in text.lower():
        text = _KEYISH.sub(lambda m: m.group(0) if m.group(0) in keep else redact(m.group(0)), text)
    return text
