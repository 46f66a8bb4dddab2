"""`wvzscan keys` and `wvzscan keys audit` through the real CLI against the Weavz emulator.

Every key is seeded with its timestamps, so each practice is seen to fire for a key that breaks it and to
stay quiet for one that keeps it. The ``wz`` harness fails a test at teardown if any full key (the admin
key included) shows up in any output or report file.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.emulator import Seeded
from tests.helpers import make_key, sarif_schema
from tests.keys_demo import seed_demo_org
from tests.weavz_fixtures import Harness, file_mode
from wvzscan.hygiene import RULES, Policy, PolicyError, audit_keys, environment_of, name_stem, parse_policy, parse_time
from wvzscan.weavz import ApiKey

NOW = dt.datetime.now(dt.timezone.utc)


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def ahead(days: float) -> dt.datetime:
    return NOW + dt.timedelta(days=days)


# A key that keeps every practice: scoped, named for its environment, expiring, young, recently used.
GOOD: dict[str, Any] = {
    "scope": "workspace",
    "created_at": ago(10),
    "last_used_at": ago(0.1),
    "expires_at": ahead(60),
}


def seed(wz: Harness, name: str, **kw: Any) -> Seeded:
    return wz.seed(name, **(GOOD | kw))


def admin(wz: Harness, **kw: Any) -> Seeded:
    return wz.seed("ops-admin-prod", **({"created_at": ago(5), "expires_at": ahead(60)} | kw))


def audit(wz: Harness, key: Seeded | str | None, *args: str) -> Any:
    env = {"WEAVZ_API_KEY": key.key if isinstance(key, Seeded) else key} if key is not None else {}
    return wz.run("keys", "audit", *args, env=env)


def rules_of(doc: dict[str, Any], key: Seeded) -> set[str]:
    return {f["rule_id"] for f in doc["findings"] if f["key_id"] == key.id}


# ---------------------------------------------------------------------------------------------
# Each practice: fires for a bad key, quiet for a good one.

BAD: dict[str, tuple[str, dict[str, Any]]] = {
    "org-wide-key": ("production-orgwide", {"scope": "org"}),
    "no-expiry": ("production-forever", {"expires_at": None}),
    "rotation-overdue": ("production-old", {"created_at": ago(100)}),
    "unused": ("production-idle", {"created_at": ago(50), "last_used_at": ago(40)}),
    "never-used": ("production-forgotten", {"created_at": ago(40), "last_used_at": None}),
    "expiring-soon": ("production-ending", {"expires_at": ahead(5)}),
    "expired": ("production-gone", {"created_at": ago(40), "expires_at": ago(1)}),
    "no-environment": ("checkout-service", {}),
}


def test_each_practice_fires_for_a_bad_key_and_stays_quiet_for_a_good_one(wz: Harness) -> None:
    adm = admin(wz)
    bad = {rule: seed(wz, name, **kw) for rule, (name, kw) in BAD.items()}
    old = seed(wz, "production-billing", created_at=ago(20))
    new = seed(wz, "production-billing-v2", created_at=ago(2))
    good = seed(wz, "production-search")
    fresh = seed(wz, "staging-fresh", created_at=ago(2), last_used_at=None)  # not deployed yet: fine
    r = audit(wz, adm, "--format", "json")
    assert r.code == 1, r.err
    doc = r.json()
    for rule, key in bad.items():
        assert rules_of(doc, key) == {rule}, (rule, [f for f in doc["findings"] if f["key_id"] == key.id])
    assert rules_of(doc, old) == {"unfinished-rotation"}
    (f,) = [f for f in doc["findings"] if f["key_id"] == old.id]
    assert "production-billing-v2" in f["message"] and f["severity"] == "medium" and f["stem"] == "production-billing"
    assert rules_of(doc, new) == set()
    assert rules_of(doc, good) == set()
    assert rules_of(doc, fresh) == set()
    assert set(RULES[i].id for i in range(len(RULES))) - {"leaked", "unfinished-rotation"} == set(BAD)
    for f in doc["findings"]:
        assert f["severity"] in ("low", "medium", "high", "critical") and f["fix"] and f["message"]
    by_rule = {f["rule_id"]: f for f in doc["findings"] if f["key_id"] != adm.id}
    assert by_rule["org-wide-key"]["severity"] == "high"
    assert "workspace" in by_rule["org-wide-key"]["fix"]
    assert by_rule["rotation-overdue"]["age_days"] == 100
    assert "in 5 days" in by_rule["expiring-soon"]["message"]
    assert doc["summary"]["keys_audited"] == 13 and doc["summary"]["complete"] is True


def test_the_admin_key_is_marked_and_its_fix_says_how_to_exempt_it(wz: Harness) -> None:
    adm = admin(wz)
    doc = audit(wz, adm, "--format", "json").json()
    (entry,) = [k for k in doc["keys"] if k["id"] == adm.id]
    assert entry["is_admin_key"] is True
    (f,) = [f for f in doc["findings"] if f["key_id"] == adm.id]
    assert f["rule_id"] == "org-wide-key" and "[keys.exempt]" in f["fix"]


def test_several_keys_with_one_stem_and_unknown_ages_are_all_reported(wz: Harness) -> None:
    adm = admin(wz)
    a = seed(wz, "production-api", created_at=None)
    b = seed(wz, "production-api-new")
    c = seed(wz, "production-api (1)")
    doc = audit(wz, adm, "--format", "json").json()
    for k in (a, b, c):
        assert "unfinished-rotation" in rules_of(doc, k)
    assert "none is known newest" in next(
        f["message"] for f in doc["findings"] if f["rule_id"] == "unfinished-rotation"
    )


# ---------------------------------------------------------------------------------------------
# Policy: config file and flags


def test_policy_from_config_and_flags(wz: Harness) -> None:
    adm = admin(wz)
    old = seed(wz, "production-old", created_at=ago(100))
    idle = seed(wz, "production-idle", created_at=ago(50), last_used_at=ago(40))
    anon = seed(wz, "checkout-service")
    (wz.tmp / ".wvzscan.toml").write_text(
        "[keys]\nrotation_days = 120\nunused_days = 60\ndisable = ['no-environment']\n"
        "[keys.severity]\norg-wide-key = 'critical'\n"
        '[keys.exempt]\n"ops-admin-prod" = ["org-wide-key"]\n'
    )
    doc = audit(wz, adm, "--format", "json").json()
    assert rules_of(doc, old) == set() and rules_of(doc, idle) == set() and rules_of(doc, anon) == set()
    assert rules_of(doc, adm) == set()
    assert doc["summary"]["exempted"] == {"org-wide-key": 1}
    assert doc["policy"]["rotation_days"] == 120 and doc["policy"]["disabled"] == ["no-environment"]
    assert doc["policy"]["severity"]["org-wide-key"] == "critical"
    # Flags override the file.
    doc = audit(wz, adm, "--format", "json", "--rotation-days", "90", "--unused-days", "30").json()
    assert rules_of(doc, old) == {"rotation-overdue"} and rules_of(doc, idle) == {"unused"}
    # pyproject.toml's [tool.wvzscan.keys] too (when there is no .wvzscan.toml).
    (wz.tmp / ".wvzscan.toml").unlink()
    (wz.tmp / "pyproject.toml").write_text("[tool.wvzscan.keys]\nexpiring_days = 3\ndisable = ['org-wide-key']\n")
    doc = audit(wz, adm, "--format", "json").json()
    assert doc["policy"]["expiring_days"] == 3 and "org-wide-key" not in {f["rule_id"] for f in doc["findings"]}


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[keys]\nrotation_days = 0\n", "rotation_days must be a whole number of days"),
        ("[keys]\nrotation_days = 'ninety'\n", "rotation_days must be a whole number of days"),
        ("[keys]\ndisable = ['no-such-rule']\n", "unknown rule(s) no-such-rule"),
        ("[keys]\nrotaton_days = 30\n", "unknown setting(s) rotaton_days"),
        ("[keys.severity]\nexpired = 'urgent'\n", "severity.expired must be one of low, medium, high, critical"),
        ("[keys]\nexempt = ['x']\n", "exempt must be a table"),
        ("keys = 3\n", "unknown setting(s): keys"),
        ("[keys\n", "not valid TOML"),
    ],
)
def test_bad_policy_is_a_clear_error(wz: Harness, toml: str, message: str) -> None:
    (wz.tmp / ".wvzscan.toml").write_text(toml)
    r = audit(wz, make_key())
    assert r.code == 2 and message in r.err and "Traceback" not in r.err, r.err
    assert r.err.count("\n") == 1 and ".wvzscan.toml" in r.err
    assert wz.emu.calls() == []  # the config is checked before anything is sent


def test_parse_policy_unit() -> None:
    p = parse_policy({"rotation_days": 30, "environment_words": ["eu1"], "exempt": {"k1": "*"}})
    assert p.rotation_days == 30 and "eu1" in p.environment_words and p.exempt["k1"] == frozenset({"*"})
    with pytest.raises(PolicyError, match="unused_days"):
        parse_policy({"unused_days": True})


# ---------------------------------------------------------------------------------------------
# Timestamps: null, missing, offsets, and garbage


def test_timestamps_with_offsets_and_nanoseconds_are_read(wz: Harness) -> None:
    adm = admin(wz)
    old_offset = (NOW - dt.timedelta(days=100)).astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
    k1 = seed(wz, "production-a", created_at=old_offset.isoformat())
    k2 = seed(wz, "production-b", expires_at=ahead(3).strftime("%Y-%m-%dT%H:%M:%S.123456789Z"))
    k3 = seed(wz, "production-c", last_used_at=ago(45).strftime("%Y-%m-%d %H:%M:%S-0700"))
    doc = audit(wz, adm, "--format", "json").json()
    assert rules_of(doc, k1) == {"rotation-overdue"}
    assert rules_of(doc, k2) == {"expiring-soon"}
    assert rules_of(doc, k3) == {"unused"}
    assert doc["warnings"] == []


def test_garbage_timestamps_are_counted_warnings_never_a_crash(wz: Harness) -> None:
    adm = admin(wz)
    k = seed(wz, "production-weird", created_at="yesterday", last_used_at="2025-13-45T99:00:00Z")
    k2 = seed(wz, "production-numeric", expires_at=1767225600)
    r = audit(wz, adm, "--format", "json", "--fail-on", "critical")
    assert r.code == 3, r.err  # checks that could not be made: incomplete, never clean
    doc = r.json()
    where = [w["where"] for w in doc["warnings"]]
    assert len(doc["warnings"]) == 3 and all("production-" in w for w in where)
    assert any("createdAt 'yesterday'" in w["message"] and "rotation age" in w["message"] for w in doc["warnings"])
    assert rules_of(doc, k) == set() and rules_of(doc, k2) == set()
    assert doc["summary"]["complete"] is False
    assert "the audit is incomplete" in r.err
    # --allow-incomplete: exit 0; a finding at --fail-on still wins over incompleteness.
    assert audit(wz, adm, "--fail-on", "critical", "--allow-incomplete").code == 0
    text = audit(wz, adm, "--fail-on", "high")
    assert text.code == 1 and "warning: key 'production-weird'" in text.out and "3 checks not made" in text.out


def test_null_and_missing_timestamps_unit() -> None:
    base = {"id": "k1", "name": "production-x", "keyPrefix": "wvz_abcd", "permissions": {"scope": "workspace"}}
    missing = ApiKey.parse(base)  # no timestamps at all: nothing can be judged, each check is a warning
    a = audit_keys([missing], NOW, Policy())
    assert a.findings == [] and len(a.warnings) == 3
    nulls = ApiKey.parse(base | {"createdAt": None, "lastUsedAt": None, "expiresAt": None})
    a = audit_keys([nulls], NOW, Policy())
    assert {f.rule_id for f in a.findings} == {"no-expiry", "never-used"}
    assert [w.message for w in a.warnings] == ["no createdAt: rotation age not checked"]


def test_parse_time_unit() -> None:
    assert parse_time("2025-01-01T00:00:00Z") == dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    assert parse_time("2025-01-01t05:30:00+05:30") == dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    assert parse_time("2025-01-01") == dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    assert parse_time("2025-01-01T00:00:00.123456789z") is not None
    for bad in ("", "yesterday", "2025-13-01T00:00:00Z", "2025-01-01T25:00:00Z", "1767225600"):
        assert parse_time(bad) is None


def test_names_unit() -> None:
    assert name_stem("production-backend-v2") == name_stem("Production-Backend") == "production-backend"
    assert name_stem("production-backend-rotated-20250101-2") == "production-backend"
    assert name_stem("ci-admin (1)") == "ci-admin"
    assert name_stem("v2") == "v2"
    assert environment_of("productionBackend") == "production"
    assert environment_of("svc_STAGING_eu") == "staging"
    assert environment_of("qa2-runner") == "qa"
    assert environment_of("checkout-service") is None
    assert environment_of("eu1-checkout", {"eu"}) == "eu"


# ---------------------------------------------------------------------------------------------
# Errors: no list must never look like a clean audit


def test_missing_admin_key_is_exit_2_before_any_request(wz: Harness) -> None:
    r = audit(wz, None)
    assert r.code == 2 and "WEAVZ_API_KEY is not set" in r.err and r.out == ""
    assert wz.emu.calls() == []
    assert wz.run("keys").code == 2


def test_workspace_scoped_admin_key_says_an_org_wide_key_is_needed(wz: Harness) -> None:
    scoped = seed(wz, "production-scoped")
    r = audit(wz, scoped)
    assert r.code == 2 and "workspace-scoped" in r.err and "SCOPE_DENIED" in r.err and "org-wide key" in r.err
    assert r.out == ""


def test_invalid_admin_key_is_exit_2(wz: Harness) -> None:
    stranger = make_key()
    wz.emu.plain["stranger"] = stranger  # the leak check covers it too
    r = audit(wz, stranger)
    assert r.code == 2 and "rejected (401" in r.err and r.out == ""


@pytest.mark.parametrize(
    "fault, says",
    [
        ({"kind": "garbage"}, "text that is not JSON"),
        ({"kind": "html"}, "an HTML page"),
        ({"kind": "empty"}, "an empty body"),
        ({"kind": "status", "status": 503}, "503 after"),
        ({"kind": "redirect"}, "redirect 302"),
        ({"kind": "status", "status": 404}, "is this the Weavz API"),
    ],
)
def test_api_answering_garbage_is_exit_2_nothing_audited(wz: Harness, fault: dict[str, Any], says: str) -> None:
    adm = admin(wz)
    wz.emu.fault(path="/api/v1/api-keys", **fault)
    r = audit(wz, adm, "--format", "json", "-o", str(wz.out / "report.json"))
    assert r.code == 2 and says in r.err, r.err
    assert not (wz.out / "report.json").exists()  # no report that could pass for a clean one


def test_unreachable_api_is_exit_2(wz: Harness) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    r = audit(wz, make_key(), "--api-url", f"http://127.0.0.1:{port}")
    assert r.code == 2 and "could not read the key list" in r.err and "nothing was audited" in r.err
    r = audit(wz, make_key(), "--api-url", "http://api.weavz.example")
    assert r.code == 2 and "https" in r.err


def test_truncated_key_list_is_incomplete_not_clean(wz: Harness) -> None:
    adm = admin(wz)
    for i in range(3):
        seed(wz, f"production-{i}")
    wz.emu.page_size = 2
    r = audit(wz, adm, "--format", "json", "--fail-on", "critical")
    assert r.code == 3, r.err
    doc = r.json()
    assert doc["summary"]["keys_audited"] == 2 and doc["summary"]["keys_listed_total"] == 4
    assert (
        "listed 2 of 4 keys" in doc["errors"][0]["message"] and "2 keys were not audited" in doc["errors"][0]["message"]
    )
    assert "the audit is incomplete" in r.err
    assert audit(wz, adm, "--fail-on", "high").code == 1  # the admin key's finding still fails the run
    text = audit(wz, adm, "--fail-on", "critical")
    assert text.code == 3 and "audit incomplete" in text.out and "error: /api/v1/api-keys" in text.out
    listing = wz.run("keys", env={"WEAVZ_API_KEY": adm.key})
    assert listing.code == 3 and "2 keys of 4 (the list is incomplete)" in listing.out


def test_options_before_the_subcommand_are_refused(wz: Harness) -> None:
    r = wz.run("keys", "--format", "json", "audit", env={"WEAVZ_API_KEY": make_key()})
    assert r.code == 2 and "options go after the subcommand" in r.err


# ---------------------------------------------------------------------------------------------
# Formats and --fail-on


@pytest.fixture
def demo(wz: Harness) -> Any:
    return seed_demo_org(wz.emu)


def test_list_formats(wz: Harness, demo: Any) -> None:
    env = {"WEAVZ_API_KEY": demo.admin.key}
    text = wz.run("keys", env=env)
    assert text.code == 0, text.err
    head, *rows = text.out.splitlines()
    assert head.split() == ["NAME", "PREFIX", "SCOPE", "CREATED", "LAST", "USED", "EXPIRES"]
    staging = next(r for r in rows if r.startswith("staging-server"))
    assert demo.by_name["staging-server"].prefix + "…" in staging and "workspace: ws_checkout" in staging
    assert "never" in staging  # never used
    assert next(r for r in rows if r.startswith("ops-admin-prod *"))
    doc = wz.run("keys", "list", "--format", "json", env=env).json()
    assert {k["name"] for k in doc["keys"]} == {*demo.by_name, "ops-admin-prod"}
    k = next(k for k in doc["keys"] if k["name"] == "qa-runner")
    assert (
        k["scope"] == "workspace"
        and k["workspace_ids"] == ["ws_search"]
        and k["key_prefix"] == demo.by_name["qa-runner"].prefix
    )
    assert set(k) >= {"id", "created_at", "last_used_at", "expires_at"}
    md = wz.run("keys", "--format", "markdown", "-o", str(wz.out / "keys.md"), env=env)
    assert md.code == 0 and md.out == ""
    lines = (wz.out / "keys.md").read_text().splitlines()
    assert lines[0] == "| name | prefix | scope | created | last used | expires |" and len(lines) >= 10
    assert file_mode(wz.out / "keys.md") == 0o600


def _sarif_schema() -> Any:
    return sarif_schema()


def test_audit_formats(wz: Harness, demo: Any) -> None:
    key = demo.admin
    text = audit(wz, key)
    assert text.code == 1
    assert "unfinished-rotation" in text.out and "fix: " in text.out and "(the key in WEAVZ_API_KEY)" in text.out
    assert "8 keys audited; 11 findings (2 high, 5 medium, 4 low); 2 keys clean" in text.out

    sarif_path = wz.out / "audit.sarif"
    r = audit(wz, key, "--format", "sarif", "-o", str(sarif_path))
    assert r.code == 1 and r.out == "" and file_mode(sarif_path) == 0o600
    doc = json.loads(sarif_path.read_text())
    jsonschema.validate(doc, _sarif_schema())
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.id for r in RULES]  # one rule per practice
    assert len(run["results"]) == 11
    for res in run["results"]:
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        loc = res["locations"][0]
        assert loc["logicalLocations"][0]["fullyQualifiedName"] == f"weavz/api-keys/{res['properties']['key_id']}"
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == f"weavz-api-keys/{res['properties']['key_id']}"
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}

    junit = audit(wz, key, "--format", "junit", "--fail-on", "high")
    suite = ET.fromstring(junit.out).find("testsuite")
    assert suite is not None and suite.get("failures") == "2" and suite.get("skipped") == "9"
    assert suite.get("tests") == str(11 + 2)  # a case per finding, a passing case per clean key

    gh = audit(wz, key, "--format", "github")
    lines = gh.out.splitlines()
    assert len(lines) == 11 and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert sum(line.startswith("::error ") for line in lines) == 2

    md = audit(wz, key, "--format", "markdown")
    assert md.out.startswith("## Weavz key audit") and "| severity | rule | key | prefix | finding | fix |" in md.out
    assert md.out.count("\n| ") == 12


@pytest.mark.parametrize(
    "fail_on, code", [("critical", 0), ("high", 1), ("medium", 1), ("low", 1), ("any", 1), ("none", 0)]
)
def test_fail_on(wz: Harness, demo: Any, fail_on: str, code: int) -> None:
    assert audit(wz, demo.admin, "--fail-on", fail_on, "--format", "json").code == code


def test_a_clean_organization_exits_0(wz: Harness) -> None:
    adm = admin(wz)
    seed(wz, "production-api")
    (wz.tmp / ".wvzscan.toml").write_text('[keys.exempt]\n"ops-admin-prod" = ["org-wide-key"]\n')
    r = audit(wz, adm)
    assert r.code == 0, r.out
    assert "2 keys audited; 0 findings; 2 keys clean; 1 exempted by config" in r.out


# ---------------------------------------------------------------------------------------------
# --leaks: the join with a scan


def _scan(wz: Harness, admin_key: Seeded, *keys: str, verify: bool = True) -> Path:
    src = wz.plant(*keys)
    report = wz.out / ("scan.json" if verify else "scan-unverified.json")
    args = ["dir", src.name, "--format", "json", "-o", str(report)] + (["--verify"] if verify else [])
    r = wz.run(*args, env={"WEAVZ_API_KEY": admin_key.key})
    assert r.code == 1, r.err
    return report


def test_leaks_join_by_key_id(wz: Harness) -> None:
    adm = admin(wz)
    leaked = seed(wz, "production-checkout")
    other = seed(wz, "production-search")
    report = _scan(wz, adm, leaked.key)
    assert json.loads(report.read_text())["findings"][0]["key_id"] == leaked.id
    r = audit(wz, adm, "--leaks", str(report), "--format", "json", "--fail-on", "critical")
    assert r.code == 1, r.err
    doc = r.json()
    (f,) = [f for f in doc["findings"] if f["rule_id"] == "leaked"]
    assert f["key_id"] == leaked.id and f["severity"] == "critical" and f["match"] == "key_id"
    assert "src/config.env:1" in f["message"] and "the scan found it live" in f["message"]
    assert f["locations"][0]["path"] == "src/config.env" and f["locations"][0]["line"] == 1
    assert doc["findings"][0] is not None and doc["findings"][0]["rule_id"] == "leaked"  # worst first
    assert rules_of(doc, other) == set()
    sarif = audit(wz, adm, "--leaks", str(report), "--format", "sarif").json()
    jsonschema.validate(sarif, _sarif_schema())
    (res,) = [x for x in sarif["runs"][0]["results"] if x["ruleId"] == "leaked"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/config.env"
    gh = audit(wz, adm, "--leaks", str(report), "--format", "github").out
    assert "::error file=src/config.env,line=1,title=" in gh


def test_leaks_join_by_prefix_and_ambiguity_said(wz: Harness) -> None:
    adm = admin(wz)
    solo = seed(wz, "production-solo")
    twin_a = seed(wz, "production-twin-a")
    twin_b = seed(wz, "production-twin-b", prefix=twin_a.prefix)  # same keyPrefix
    report = _scan(wz, adm, solo.key, twin_a.key, verify=False)  # no --verify: no key ids in the report
    doc = audit(wz, adm, "--leaks", str(report), "--format", "json").json()
    leaks = {f["key_id"]: f for f in doc["findings"] if f["rule_id"] == "leaked"}
    assert set(leaks) == {solo.id, twin_a.id, twin_b.id}
    assert leaks[solo.id]["match"] == "key_prefix" and "matched by key prefix only" in leaks[solo.id]["message"]
    for k in (twin_a, twin_b):
        assert leaks[k.id]["match"] == "ambiguous" and "one of 2 listed keys" in leaks[k.id]["message"]
    assert any("not verified" in n for n in doc["notes"])


def test_leaked_key_not_in_the_list_is_a_note(wz: Harness) -> None:
    adm = admin(wz)
    gone = seed(wz, "production-gone")
    report = _scan(wz, adm, gone.key)
    wz.emu.record(gone.id).revoked = True  # revoked after the scan: no longer listed
    doc = audit(wz, adm, "--leaks", str(report), "--format", "json").json()
    assert not [f for f in doc["findings"] if f["rule_id"] == "leaked"]
    assert any(f"{gone.prefix}…" in n and "not in the key list" in n for n in doc["notes"])


@pytest.mark.parametrize(
    "content, says",
    [(None, "No such file"), ("not json", "not a JSON report"), ('{"a": 1}', "no findings list")],
)
def test_bad_leaks_file_is_exit_2(wz: Harness, content: str | None, says: str) -> None:
    path = wz.tmp / "leaks.json"
    if content is not None:
        path.write_text(content)
    r = audit(wz, make_key(), "--leaks", str(path))
    assert r.code == 2 and says in r.err and wz.emu.calls() == []


def test_unreadable_list_entries_are_counted_not_fatal(wz: Harness) -> None:
    adm = admin(wz)
    broken = seed(wz, "production-broken")
    odd = seed(wz, "production-odd")
    # The API answers an entry without an id and one that is not an object at all.
    wz.emu.record(broken.id).public = lambda: {"name": "production-broken"}  # type: ignore[method-assign]
    wz.emu.record(odd.id).public = lambda: "not an object"  # type: ignore[method-assign]
    r = audit(wz, adm, "--format", "json", "--fail-on", "critical")
    assert r.code == 3, r.err
    doc = r.json()
    assert doc["summary"]["keys_audited"] == 1
    assert sorted(e["message"] for e in doc["errors"]) == ["key list entry without an id: not audited"] * 2


def test_https_with_a_private_ca(wz_tls: Harness) -> None:
    adm = admin(wz_tls)
    assert wz_tls.emu.ca_file is not None
    r = audit(wz_tls, adm, "--ca-bundle", wz_tls.emu.ca_file, "--format", "json", "--fail-on", "none")
    assert r.code == 0, r.err
    assert [k["id"] for k in r.json()["keys"]] == [adm.id]
    r = audit(wz_tls, adm)
    assert r.code == 2 and "certificate verify failed" in r.err
