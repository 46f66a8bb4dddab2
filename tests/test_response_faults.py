"""Injected faults never produce a wrong "invalid" or a wrong revocation (through the real CLI)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.weavz_fixtures import Harness

# Persistent misbehaviour of the liveness probe, one per key: each must end "unknown".
PROBE_FAULTS: list[dict[str, Any]] = [
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 502},
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 504},
    {"kind": "status", "status": 404},  # not the API (wrong --api-url path)
    {"kind": "status", "status": 418},
    {"kind": "reset"},
    {"kind": "garbage"},
    {"kind": "text"},
    {"kind": "empty"},
    {"kind": "html"},  # a captive portal answering 200
    {"kind": "html", "status": 401},  # a proxy's login page: not Weavz saying "invalid"
    {"kind": "html", "status": 403},
    {"kind": "redirect"},
    {"kind": "redirect", "status": 301},
    {"kind": "redirect", "status": 307},
    {"kind": "ratelimit", "retry_after": "0"},
    {"kind": "ratelimit", "retry_after": "3600"},  # longer than we wait: give up at once
    {"kind": "ratelimit", "retry_after": None},
    {"kind": "slow", "delay": 0.7},  # beyond WVZSCAN_TIMEOUT
]


def test_probe_faults_are_unknown_never_invalid_never_revoked(wz: Harness) -> None:
    admin = wz.seed("admin")
    keys = []
    for i, spec in enumerate(PROBE_FAULTS):
        k = wz.seed(f"k{i}", scope="workspace" if i % 2 else "org")
        wz.emu.fault(path="/api/v1/workspaces", key=k.key, **spec)
        keys.append(k)
    log = wz.out / "audit.jsonl"
    r = wz.run(
        "dir",
        str(wz.plant(*(k.key for k in keys))),
        "--revoke",
        "--yes",
        "--format",
        "json",
        "--audit-log",
        str(log),
        env={"WEAVZ_API_KEY": admin.key, "WVZSCAN_TIMEOUT": "0.3"},
    )
    assert r.code == 1, r.err  # findings, none revoked, nothing failed that was asked
    doc = r.json()
    by_prefix = {f["key_prefix"]: f for f in doc["findings"]}
    reasons = {}
    for k, spec in zip(keys, PROBE_FAULTS, strict=True):
        f = by_prefix[k.prefix]
        assert f["status"] == "unknown", (spec, f["status"], f["status_reason"])
        assert f["scope"] is None
        assert f["revocation"]["result"] == "skipped", spec
        reasons[spec["kind"] + str(spec.get("status", ""))] = f["status_reason"]
    assert reasons["status503"] == "503 after 3 tries"
    assert reasons["reset"] == "connection reset after 3 tries"
    assert reasons["slow"] == "timeout after 3 tries"
    assert reasons["redirect"] == "redirect 302 from /api/v1/workspaces (not followed)"
    assert reasons["html401"] == "401 with an HTML page from /api/v1/workspaces"
    assert reasons["garbage"] == "200 from /api/v1/workspaces without a JSON body"
    assert reasons["ratelimit"] == "429 after 3 tries"
    assert all(wz.emu.is_live(k.key) for k in keys)
    assert not wz.emu.calls("DELETE")
    assert not log.exists() or not log.read_text()
    # Unknown keys are errors in the report: the scan does not pass silently.
    assert len(doc["errors"]) == len(PROBE_FAULTS)
    # Redirects were not followed: nothing went to the Location.
    assert all(c.path.startswith("/api/v1/") for c in wz.emu.calls())


def test_transient_faults_are_retried_to_the_right_answer(wz: Harness) -> None:
    live = [wz.seed(f"live{i}") for i in range(4)]
    dead_holder = wz.seed("to-revoke", revoked=True)
    specs: list[dict[str, Any]] = [
        {"kind": "status", "status": 503, "times": 2},
        {"kind": "reset", "times": 2},
        {"kind": "ratelimit", "retry_after": "0", "times": 2},
        {"kind": "slow", "delay": 0.5, "times": 1},
    ]
    for k, spec in zip(live, specs, strict=True):
        wz.emu.fault(path="/api/v1/workspaces", key=k.key, **spec)
    wz.emu.fault("status", status=502, path="/api/v1/workspaces", key=dead_holder.key, times=2)
    r = wz.run(
        "dir",
        str(wz.plant(*(k.key for k in live), dead_holder.key)),
        "--verify",
        "--format",
        "json",
        env={"WVZSCAN_TIMEOUT": "0.3"},
    )
    by_prefix = {f["key_prefix"]: f for f in r.json()["findings"]}
    assert [by_prefix[k.prefix]["status"] for k in live] == ["live"] * 4
    assert by_prefix[dead_holder.prefix]["status"] == "invalid"
    assert r.json()["errors"] == []


def test_rate_limit_window_is_paced_not_failed(wz: Harness) -> None:
    """A real per-key window (X-RateLimit-* and 429 with Retry-After): every key still verifies."""
    wz.emu.rate_limit.limit = 1
    wz.emu.rate_limit.window = 1.0
    keys = [wz.seed(f"k{i}") for i in range(3)]
    r = wz.run("dir", str(wz.plant(*(k.key for k in keys))), "--verify", "--format", "json")
    assert {f["status"] for f in r.json()["findings"]} == {"live"}
    # X-RateLimit-Remaining hit 0 after each key's first call: the client waited for the reset.
    assert not [c for c in wz.emu.calls() if c.status == 429]


@pytest.mark.parametrize(
    ("spec", "revoked", "reason_part"),
    [
        ({"kind": "status", "status": 503, "times": 1}, True, "deleted; now 401"),
        # The key deleted itself, the answer was lost; the retried DELETE gets 401, the re-check proves it dead.
        ({"kind": "reset", "times": 1, "after": True}, True, "but the key is now dead (401 from"),
        ({"kind": "status", "status": 503}, False, "DELETE failed: 503 after 3 tries"),
        ({"kind": "redirect"}, False, "DELETE failed: redirect 302"),
        ({"kind": "status", "status": 403}, False, "DELETE failed: 403"),
    ],
)
def test_delete_faults(wz: Harness, spec: dict[str, Any], revoked: bool, reason_part: str) -> None:
    org = wz.seed("ci")
    wz.emu.fault(method="DELETE", **spec)
    log = wz.out / "audit.jsonl"
    r = wz.run("dir", str(wz.plant(org.key)), "--revoke", "--yes", "--format", "json", "--audit-log", str(log))
    (f,) = r.json()["findings"]
    assert reason_part in f["revocation"]["reason"]
    assert f["revocation"]["result"] == ("revoked" if revoked else "failed")
    assert wz.emu.is_live(org.key) is not revoked
    assert r.code == (1 if revoked else 2)
    results = [e["result"] for e in wz.audit(log)]
    assert results[0] == "started"
    assert results[-1] == ("invalid" if revoked else "live")  # the re-check is written down too


def test_lost_delete_answer_then_404_is_already_revoked(wz: Harness) -> None:
    admin = wz.seed("admin")
    ws = wz.seed("checkout", scope="workspace")
    wz.emu.fault("reset", method="DELETE", times=1, after=True)
    r = wz.run("dir", str(wz.plant(ws.key)), "--revoke", "--yes", "--format", "json", env={"WEAVZ_API_KEY": admin.key})
    (f,) = r.json()["findings"]
    assert f["revocation"] == {
        "result": "revoked",
        "key_id": ws.id,
        "reason": "already revoked (404); now 401 from /api/v1/workspaces",
    }
    assert [c.status for c in wz.emu.calls("DELETE")] == [0, 404] and r.code == 1


def test_reverification_fault_is_a_failure_not_a_success(wz: Harness) -> None:
    org = wz.seed("ci")
    # The first probe (verify) passes; every probe after the DELETE fails.
    wz.emu.fault("status", status=503, path="/api/v1/workspaces", key=org.key, skip=1)
    r = wz.run("dir", str(wz.plant(org.key)), "--revoke", "--yes", "--format", "json")
    (f,) = r.json()["findings"]
    assert f["revocation"]["result"] == "failed"
    assert "could not prove it dead" in f["revocation"]["reason"]
    assert r.code == 2


def test_key_list_fault_blocks_revocation(wz: Harness) -> None:
    admin = wz.seed("admin")
    org = wz.seed("ci")
    wz.emu.fault("status", status=500, path="/api/v1/api-keys", method="GET")
    r = wz.run("dir", str(wz.plant(org.key)), "--revoke", "--yes", "--format", "json", env={"WEAVZ_API_KEY": admin.key})
    (f,) = r.json()["findings"]
    assert f["status"] == "live" and f["scope"] is None and "scope unknown" in f["status_reason"]
    assert f["revocation"]["result"] == "failed" and "500" in f["revocation"]["reason"]
    assert wz.emu.is_live(org.key) and not wz.emu.calls("DELETE") and r.code == 2


def test_garbage_key_list_blocks_revocation(wz: Harness) -> None:
    org = wz.seed("ci")
    wz.emu.fault("garbage", path="/api/v1/api-keys", method="GET", skip=1)  # verify sees a good list
    r = wz.run("dir", str(wz.plant(org.key)), "--revoke", "--yes", "--format", "json")
    (f,) = r.json()["findings"]
    assert f["revocation"]["result"] == "failed" and wz.emu.is_live(org.key) and r.code == 2


def test_server_that_never_finishes_its_answer_is_unknown_in_bounded_time(wz: Harness) -> None:
    """Each read gets a byte before the read timeout, so only an overall deadline per request ends it."""
    k = wz.seed("org-key")
    wz.emu.fault("trickle", path="/api/v1/workspaces", key=k.key, delay=0.05)
    started = time.monotonic()
    r = wz.run("verify", "-", input=k.key, env={"WVZSCAN_TIMEOUT": "0.5"})
    assert time.monotonic() - started < 15
    assert r.code == 3 and "unknown" in r.out and "timeout after 3 tries" in r.out
