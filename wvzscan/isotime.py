"""The one ISO-8601 reader of the project: timestamps from the Weavz API and dates from config files.

Python 3.10's ``datetime.fromisoformat`` knows neither ``Z`` nor fractions longer than 6 digits (the API
may send nanoseconds), so nothing in wvzscan calls it on outside text: everything goes through here.
Input is length-capped before any pattern runs on it, and the pattern is anchored with bounded
repetitions, so hostile text costs linear time at worst.
"""

from __future__ import annotations

import datetime as dt
import re

MAX_LEN = 64  # "2025-01-01T00:00:00.123456789+00:00" is 35 characters; anything longer is not a timestamp

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,12}))?)?)?"
    r"[ ]?(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_datetime(text: str) -> dt.datetime | None:
    """An aware datetime, or None when ``text`` is not ISO-8601. Naive times are taken as UTC.

    Accepts ``Z``/``z``, offsets with or without a colon, fractions of any length up to 12 digits
    (truncated to microseconds), a date alone (midnight UTC), and ``T``, ``t`` or a space between date
    and time.
    """
    text = text.strip()
    if len(text) > MAX_LEN:
        return None
    m = _ISO.fullmatch(text)
    if not m:
        return None
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    try:
        tzinfo = dt.timezone.utc
        if tz and tz not in ("Z", "z"):
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
            tzinfo = dt.timezone(sign * offset)
        micro = int((frac or "0")[:6].ljust(6, "0"))
        return dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), micro, tzinfo)
    except ValueError:  # month 13, hour 25, offset of a day or more...
        return None


def parse_date(text: str) -> dt.date | None:
    """A calendar date ``YYYY-MM-DD`` (what config files hold), or None."""
    text = text.strip()
    if len(text) > MAX_LEN:
        return None
    m = _DATE.fullmatch(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def format_utc(t: dt.datetime, timespec: str = "milliseconds") -> str:
    """``2025-01-01T00:00:00.000Z``: how wvzscan writes times (journal, new keys' expiry)."""
    return t.astimezone(dt.timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")
