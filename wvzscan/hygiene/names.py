"""Key names: which environment a name says, and the stem that rotated keys share.

Names come from the API (hostile until proven otherwise): every pattern here runs on a length-capped
name or on a bounded tail of it, with bounded repetitions, so a name of 8,000 dashes costs linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from wvzscan.hygiene.rules import ENVIRONMENT_WORDS

MAX_NAME = 512  # Weavz's dashboard names are short; longer names are judged on their first 512 characters


def name_tokens(name: str) -> list[str]:
    """``productionBackend-v2`` -> [production, backend, v]: camelCase and separators split, digits dropped."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name[:MAX_NAME])
    return [t.rstrip("0123456789") for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t.rstrip("0123456789")]


def environment_of(name: str | None, words: Iterable[str] = ENVIRONMENT_WORDS) -> str | None:
    if not name:
        return None
    known = set(words)
    return next((t for t in name_tokens(name) if t in known), None)


# Suffixes people (and `wvzscan rotate`) add to a key's name when they make its replacement.
# Repetitions are bounded and the pattern only ever sees the last _TAIL characters of a name, so one
# removal costs O(_TAIL**2) at worst whatever the name (the unbounded form backtracked quadratically).
_SUFFIX = re.compile(
    r"(?:[-_. ]{1,16}(?:v\d{1,9}|\d{1,3}|new|old|copy|backup|bak|tmp|temp|next|prev|previous|replacement|rotated"
    r"|\d{4}-?\d{2}(?:-?\d{2})?)|\s{0,16}\(\d{1,9}\))$",
    re.IGNORECASE,
)
_TAIL = 48


def _strip_suffix(s: str) -> str:
    tail_at = max(0, len(s) - _TAIL)
    m = _SUFFIX.search(s, tail_at)
    return s[: m.start()] if m else s


def name_stem(name: str) -> str:
    """``production-backend-v2``, ``production-backend-rotated-20250101`` -> ``production-backend``."""
    s = name.strip().lower()[:MAX_NAME]
    while True:
        shorter = _strip_suffix(s)
        if shorter == s or not shorter:
            return s
        s = shorter
