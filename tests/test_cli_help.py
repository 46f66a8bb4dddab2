"""Each command's help lists the options it uses."""

from __future__ import annotations

from tests.helpers import run_cli
from wvzscan.commands.common import BASELINE_HIDES


def test_baseline_help_lists_only_what_a_baseline_uses() -> None:
    out = run_cli("baseline", "--help").out
    for flag in BASELINE_HIDES:
        assert flag not in out.replace("--baseline FILE", ""), flag
    for flag in ("--git", "--output", "--exclude", "--config", "--max-file-size", "--include-examples"):
        assert flag in out
    assert "--format" in run_cli("dir", "--help").out  # the scan commands still list everything


def test_hidden_options_are_refused_with_a_reason(tmp_path: object) -> None:
    r = run_cli("baseline", ".", "--fail-on", "live")
    assert r.code == 2 and "does not apply" in r.err
