"""A crash is never "findings": an unexpected exception is one line and exit 2 before the scan ran,
3 after it (never 1, never a traceback), with no secret in the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_key, run_cli


@pytest.mark.parametrize("exc", [MemoryError, RecursionError, RuntimeError])
def test_a_failure_inside_the_scan_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: type[Exception]
) -> None:
    key = make_key()
    (tmp_path / "a.env").write_text(f"K={key}\n")

    def boom(self: object, ctx: object) -> None:
        raise exc(f"while reading {key}")

    monkeypatch.setattr("wvzscan.sources.paths.PathsSource.produce", boom)
    r = run_cli("dir", str(tmp_path))
    assert r.code == 2, r
    assert "Traceback" not in r.err and len(r.err.splitlines()) == 1
    assert exc.__name__ in r.err and key not in r.err and key[:8] in r.err


def test_a_failure_after_the_scan_is_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.env").write_text(f"K={make_key()}\n")

    def boom(*args: object, **kwargs: object) -> str:
        raise ValueError("a report writer's defect")

    monkeypatch.setattr("wvzscan.reports.render_scan", boom)
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 3 and "ValueError" in r.err and "incomplete" in r.err and "Traceback" not in r.err


def test_debug_shows_a_scrubbed_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = make_key()

    def boom(self: object, ctx: object) -> None:
        raise RuntimeError(key)

    monkeypatch.setattr("wvzscan.sources.paths.PathsSource.produce", boom)
    r = run_cli("dir", str(tmp_path), env={"WVZSCAN_DEBUG": "1"})
    assert r.code == 2 and "Traceback" in r.err and key not in r.err
