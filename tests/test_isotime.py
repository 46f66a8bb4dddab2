"""The one ISO-8601 reader: what Python 3.10's fromisoformat rejects (Z, nanoseconds) is read here, and
hostile text is None in bounded time. Runs on every supported Python (CI: 3.10 and 3.13)."""

from __future__ import annotations

import datetime as dt

import pytest

from wvzscan.isotime import format_utc, parse_date, parse_datetime

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2025-01-02T03:04:05Z", dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-02T03:04:05.123456789Z", dt.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("2025-01-02t03:04:05.1z", dt.datetime(2025, 1, 2, 3, 4, 5, 100000, tzinfo=UTC)),
        ("2025-01-02 03:04:05+02:00", dt.datetime(2025, 1, 2, 1, 4, 5, tzinfo=UTC)),
        ("2025-01-02T03:04:05-0130", dt.datetime(2025, 1, 2, 4, 34, 5, tzinfo=UTC)),
        ("2025-01-02T03:04", dt.datetime(2025, 1, 2, 3, 4, tzinfo=UTC)),
        ("2025-01-02", dt.datetime(2025, 1, 2, tzinfo=UTC)),
        ("  2025-01-02T03:04:05,5Z ", dt.datetime(2025, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
    ],
)
def test_api_timestamps_are_read(text: str, want: dt.datetime) -> None:
    got = parse_datetime(text)
    assert got == want and got is not None and got.tzinfo is not None


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2025-13-01", "2025-01-02T25:00:00Z", "2025-01-02T03:04:05+24:00", "2025-1-2", "1" * 10_000],
)
def test_garbage_is_none(text: str) -> None:
    assert parse_datetime(text) is None


@pytest.mark.timeout(10)
@pytest.mark.parametrize("text", ["2025-01-02T03:04:05." + "9" * 50_000, "2025-01-02T03:04:05" + " " * 50_000 + "x"])
def test_hostile_text_is_none_in_bounded_time(text: str) -> None:
    assert parse_datetime(text) is None


def test_dates_and_formatting() -> None:
    assert parse_date("2027-01-31") == dt.date(2027, 1, 31)
    assert parse_date("2027-02-30") is None and parse_date("2027-01-31T00:00") is None
    assert format_utc(dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2025-01-02T03:04:05.000Z"
    t = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_utc(t, "seconds") == "2025-01-02T01:04:05Z"
