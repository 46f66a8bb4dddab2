"""`keys` reports come from the one registry with the escaping of scan reports: an API-supplied key name
with control characters cannot break JUnit XML or a text line, SARIF URIs escape `:`."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.helpers import make_key
from tests.weavz_fixtures import Harness
from wvzscan import reports

NOW = dt.datetime.now(dt.timezone.utc)
HOSTILE = "prod\x1b]0;owned\x07\x1b[2J\n::error title=x::forged\x01 ##[warning]y <!-- |`"


def test_registry_names_every_format_and_imports_on_demand() -> None:
    assert reports.SCAN_FORMATS == ("text", "json", "jsonl", "sarif", "junit", "github")
    assert reports.KEY_LIST_FORMATS == ("text", "json", "markdown")
    assert reports.KEY_AUDIT_FORMATS == ("text", "json", "sarif", "junit", "github", "markdown")
    with pytest.raises(ValueError):
        reports.render_scan(None, "markdown", reports.ReportContext())  # type: ignore[arg-type]
    import subprocess
    import sys

    code = "import sys, wvzscan.reports; print(sorted(m for m in sys.modules if m.startswith('wvzscan.reports.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # no format module is imported until it is asked for


@pytest.fixture
def hostile_org(wz: Harness) -> dict[str, Any]:
    adm = wz.seed("ops-admin-prod", created_at=NOW - dt.timedelta(days=5), expires_at=NOW + dt.timedelta(days=60))
    bad = wz.seed(HOSTILE, scope="org", created_at=NOW - dt.timedelta(days=400), key_id="id:with:colons")
    return {"admin": adm, "bad": bad}


def _audit(wz: Harness, org: dict[str, Any], *args: str) -> Any:
    return wz.run("keys", "audit", *args, env={"WEAVZ_API_KEY": org["admin"].key})


def test_hostile_key_name_in_every_keys_audit_format(wz: Harness, hostile_org: dict[str, Any]) -> None:
    junit = _audit(wz, hostile_org, "--format", "junit")
    suite = ET.fromstring(junit.out).find("testsuite")  # well-formed despite \x01 and ESC in the name
    assert suite is not None and int(suite.get("failures") or 0) >= 1
    assert "\x1b" not in junit.out and "\x01" not in junit.out
    for fmt in ("text", "github", "markdown"):
        r = _audit(wz, hostile_org, "--format", fmt)
        assert "\x1b" not in r.out and "\x07" not in r.out and "##[" not in r.out, fmt
        # No line can start a workflow command but the annotations we write ourselves.
        forged = [line for line in r.out.splitlines() if line.lstrip().startswith("::") and "forged" in line]
        assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in forged), (fmt, forged)
        assert not any(line.lstrip().startswith("::error title=x") for line in r.out.splitlines()), fmt
    sarif = _audit(wz, hostile_org, "--format", "sarif").json()
    uris = [
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for res in sarif["runs"][0]["results"]
        for loc in res["locations"]
    ]
    assert uris and all(":" not in u for u in uris), uris
    assert "weavz-api-keys/id%3Awith%3Acolons" in uris
    doc = _audit(wz, hostile_org, "--format", "json").json()
    assert any(f["key_name"] == HOSTILE for f in doc["findings"])  # JSON keeps the name, JSON-escaped


def test_hostile_key_name_in_every_keys_list_format(wz: Harness, hostile_org: dict[str, Any]) -> None:
    env = {"WEAVZ_API_KEY": hostile_org["admin"].key}
    for fmt in ("text", "markdown"):
        out = wz.run("keys", "--format", fmt, env=env).out
        assert "\x1b" not in out and "\x01" not in out and "##[" not in out, fmt
        assert len([line for line in out.splitlines() if "owned" in line]) == 1, fmt  # one row, not two lines
    doc = json.loads(wz.run("keys", "--format", "json", env=env).out)
    assert HOSTILE in [k["name"] for k in doc["keys"]]


def test_a_key_in_a_key_name_is_redacted_in_every_keys_format(wz: Harness) -> None:
    adm = wz.seed("ops-admin-prod", created_at=NOW - dt.timedelta(days=5), expires_at=NOW + dt.timedelta(days=60))
    leaked = make_key()
    wz.seed(f"copy-of-{leaked}", created_at=NOW - dt.timedelta(days=5), expires_at=NOW + dt.timedelta(days=60))
    for fmt in reports.KEY_AUDIT_FORMATS:
        r = wz.run("keys", "audit", "--format", fmt, env={"WEAVZ_API_KEY": adm.key})
        assert leaked not in r.out + r.err and leaked[:8] in r.out, fmt
    for fmt in reports.KEY_LIST_FORMATS:
        r = wz.run("keys", "--format", fmt, env={"WEAVZ_API_KEY": adm.key})
        assert leaked not in r.out + r.err and leaked[:8] in r.out, fmt
