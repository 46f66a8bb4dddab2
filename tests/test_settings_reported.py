"""A narrowed detector is never silent: settings that differ from the defaults are in every report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import make_key, run_cli, sarif_schema


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / ".wvzscan.toml").write_text("min_entropy = 2.5\narchive_depth = 1\n")
    (tmp_path / "a.env").write_text(f"K={make_key()}\n")
    return tmp_path


def test_every_format_says_which_settings_differ(tree: Path) -> None:
    text = run_cli("dir", ".", cwd=tree)
    assert "detection settings differ from the defaults: archive_depth=1, min_entropy=2.5" in text.out
    doc = run_cli("dir", ".", "--format", "json", cwd=tree).json()
    assert doc["stats"]["settings"] == {"archive_depth": 1, "min_entropy": 2.5}
    sarif = json.loads(run_cli("dir", ".", "--format", "sarif", cwd=tree).out)
    jsonschema.validate(sarif, sarif_schema())
    inv = sarif["runs"][0]["invocations"][0]
    assert inv["properties"]["settings"] == {"archive_depth": 1, "min_entropy": 2.5}
    assert any("min_entropy=2.5" in n["message"]["text"] for n in inv["toolExecutionNotifications"])
    junit = ET.fromstring(run_cli("dir", ".", "--format", "junit", cwd=tree).out)
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert props == {"wvzscan.setting.archive_depth": "1", "wvzscan.setting.min_entropy": "2.5"}
    github = run_cli("dir", ".", "--format", "github", cwd=tree).out
    assert "::warning title=wvzscan settings::detection settings differ" in github


def test_default_settings_add_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("clean\n")
    assert run_cli("dir", ".", "--format", "json", cwd=tmp_path).json()["stats"]["settings"] == {}
    assert "settings differ" not in run_cli("dir", ".", cwd=tmp_path).out


def test_a_flag_that_narrows_nothing_is_not_reported_but_include_examples_is(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("clean\n")
    doc = run_cli("dir", ".", "--format", "json", "--include-examples", cwd=tmp_path).json()
    assert doc["stats"]["settings"] == {"include_examples": True}
