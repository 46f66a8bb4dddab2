"""Plausible but undocumented API answers (key-list shapes, busy prefix twins) never cause a wrong revocation."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.emulator import RateLimit
from tests.helpers import make_key
from tests.weavz_fixtures import Harness, reshape_list


def _entries(doc: dict[str, Any], **changes: Callable[[Any], Any]) -> dict[str, Any]:
    keys = [dict(k) for k in doc["apiKeys"]]
    for k in keys:
        for name, f in changes.items():
            k[name] = f(k.get(name))
    return {"apiKeys": keys, "total": doc["total"]}


def _revoke(wz: Harness, *keys: str, env: dict[str, str] | None = None) -> tuple[int, list[dict[str, Any]]]:
    r = wz.run("dir", str(wz.plant(*keys)), "--revoke", "--yes", "--format", "json", env=env)
    return r.code, r.json()["findings"]


@pytest.mark.parametrize(
    "shape",
    [
        lambda d: _entries(d, keyPrefix=lambda p: p.upper()),
        lambda d: _entries(d, keyPrefix=lambda p: p + "..."),
        lambda d: _entries(d, keyPrefix=lambda p: p[:6]),
        lambda d: _entries(d, permissions=json.dumps),
        lambda d: {"apiKeys": d["apiKeys"], "total": str(d["total"])},
        lambda d: {"apiKeys": d["apiKeys"] + d["apiKeys"], "total": d["total"]},
    ],
    ids=["upper-prefix", "masked-prefix", "short-prefix", "permissions-as-string", "total-as-string", "duplicated"],
)
def test_odd_key_list_shapes_still_resolve_the_right_key(wz: Harness, shape: Callable[[Any], Any]) -> None:
    leaked = wz.seed("leaked")
    other = wz.seed("other")
    reshape_list(wz.emu, shape)
    code, (f,) = _revoke(wz, leaked.key)
    assert code == 1 and f["revocation"]["result"] == "revoked" and f["revocation"]["key_id"] == leaked.id
    assert not wz.emu.is_live(leaked.key) and wz.emu.is_live(other.key)


def test_longer_key_prefix_still_matches(wz: Harness) -> None:
    leaked = wz.seed("leaked")
    leaked.record.key_prefix = leaked.key[:12]
    code, (f,) = _revoke(wz, leaked.key)
    assert code == 1 and f["revocation"]["key_id"] == leaked.id and not wz.emu.is_live(leaked.key)


def test_entry_without_key_prefix_is_a_candidate_not_ignored(wz: Harness) -> None:
    """The leaked key's own entry lacks keyPrefix; a twin with the same prefix has one. Taking the one
    entry that matches would revoke the twin: lastUsedAt has to decide, and does."""
    leaked = wz.seed("leaked")
    twin = wz.seed("twin", prefix=leaked.prefix)
    leaked.record.key_prefix = None  # type: ignore[assignment]
    code, (f,) = _revoke(wz, leaked.key)
    assert code == 1 and f["revocation"]["key_id"] == leaked.id
    assert not wz.emu.is_live(leaked.key) and wz.emu.is_live(twin.key)


def test_total_larger_as_a_string_means_an_incomplete_list(wz: Harness) -> None:
    wz.seed("first")
    leaked = wz.seed("leaked")
    reshape_list(wz.emu, lambda d: {"apiKeys": d["apiKeys"][:1], "total": str(d["total"])})
    code, (f,) = _revoke(wz, leaked.key)
    assert code == 2 and "pagination" in f["revocation"]["reason"]
    assert wz.emu.is_live(leaked.key) and not wz.emu.calls("DELETE")


def test_next_page_marker_means_an_incomplete_list(wz: Harness) -> None:
    leaked = wz.seed("leaked")
    reshape_list(wz.emu, lambda d: {"apiKeys": d["apiKeys"], "nextCursor": "abc"})
    code, (f,) = _revoke(wz, leaked.key)
    assert code == 2 and "pagination" in f["revocation"]["reason"]
    assert wz.emu.is_live(leaked.key) and not wz.emu.calls("DELETE")


def test_own_entry_expired_by_a_skewed_clock_is_still_a_candidate(wz: Harness) -> None:
    """The server still accepts the key, but its expiresAt (no timezone) reads as past here: the entry
    must stay a candidate, or the twin would be the only match and be revoked."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 3 * 3600))
    leaked = wz.seed("leaked")
    twin = wz.seed("twin", prefix=leaked.prefix)
    reshape_list(
        wz.emu,
        lambda d: {
            "apiKeys": [dict(k, expiresAt=stamp) if k["id"] == leaked.id else k for k in d["apiKeys"]],
            "total": d["total"],
        },
    )
    code, (f,) = _revoke(wz, leaked.key)
    assert f["revocation"]["key_id"] == leaked.id, f["revocation"]
    assert not wz.emu.is_live(leaked.key) and wz.emu.is_live(twin.key)


def test_forbidden_with_another_code_does_not_make_the_key_workspace_scoped(wz: Harness) -> None:
    k = wz.seed("org-key")
    wz.emu.fault("status", status=403, path="/api/v1/api-keys", key=k.key)
    r = wz.run("dir", str(wz.plant(k.key)), "--verify", "--format", "json")
    (f,) = r.json()["findings"]
    assert f["status"] == "live" and f["scope"] is None and "scope unknown" in f["status_reason"]


def _hammer(url: str, key: str, stop: threading.Event, period: float) -> None:
    req = urllib.request.Request(url + "/api/v1/workspaces", headers={"Authorization": f"Bearer {key}"})
    while not stop.is_set():
        try:
            with urllib.request.urlopen(req) as resp:
                resp.read()
        except urllib.error.HTTPError:
            return  # the key was revoked: the wrong revocation the test then reports
        time.sleep(period)


@pytest.mark.parametrize("period", [0.002, 0.01])
def test_busy_key_of_ours_is_never_taken_for_a_foreign_leaked_key(wz: Harness, period: float) -> None:
    """A key of another organization leaked; one of ours shares its prefix and is in steady use, so its
    lastUsedAt moves during every probe. Nothing says which org the key is from: refuse."""
    admin = wz.seed("admin")
    wz.emu.add_workspace("Theirs", ws_id="ws_theirs", org_id="org_vendor")
    leaked = wz.seed("vendor-key", scope="workspace", workspace_ids=["ws_theirs"], org_id="org_vendor")
    ours = wz.seed("ours", scope="workspace", prefix=leaked.prefix)
    wz.emu.workspace_org_ids = False
    stop = threading.Event()
    t = threading.Thread(target=_hammer, args=(wz.emu.url, ours.key, stop, period), daemon=True)
    t.start()
    try:
        code, (f,) = _revoke(wz, leaked.key, env={"WEAVZ_API_KEY": admin.key, "WVZSCAN_RESOLVE_WAIT": "0.1"})
    finally:
        stop.set()
        t.join()
    assert wz.emu.is_live(ours.key), "a busy key of ours was revoked for a foreign leak"
    assert code == 2 and f["revocation"]["result"] == "failed" and not wz.emu.calls("DELETE")
    assert "without a probe" in f["revocation"]["reason"] or "did not confirm" in f["revocation"]["reason"]


def test_foreign_key_refused_at_once_when_workspaces_name_their_org(wz: Harness) -> None:
    admin = wz.seed("admin")
    wz.emu.add_workspace("Theirs", ws_id="ws_theirs", org_id="org_vendor")
    leaked = wz.seed("vendor-key", scope="workspace", workspace_ids=["ws_theirs"], org_id="org_vendor")
    ours = wz.seed("ours", scope="workspace", prefix=leaked.prefix)
    code, (f,) = _revoke(wz, leaked.key, env={"WEAVZ_API_KEY": admin.key})
    assert code == 2 and "another organization" in f["revocation"]["reason"]
    assert wz.emu.is_live(ours.key) and not wz.emu.calls("DELETE")
    assert len(wz.emu.calls("GET", "/api/v1/workspaces", key=leaked.key)) == 1  # no lastUsedAt probing


def test_shared_rate_limit_paces_every_thread_and_no_key_ends_unknown(wz: Harness) -> None:
    """10 requests a second for the whole organization, 16 threads: the X-RateLimit budget is shared,
    so few requests meet a 429, and none of them turns into an "unknown" (or worse, "invalid")."""
    live = [wz.seed(f"k{i}") for i in range(10)]
    dead = [make_key() for _ in range(10)]
    wz.emu.rate_limit = RateLimit(limit=10, window=1.0)
    wz.emu.rate_limit_per_key = False
    r = wz.run(
        "dir", str(wz.plant(*(k.key for k in live), *dead)), "--verify", "--format", "json",
        env={"WVZSCAN_MAX_WAIT": "5"},
    )  # fmt: skip
    status = {f["key_prefix"]: f["status"] for f in r.json()["findings"]}
    assert {status[k.prefix] for k in live} == {"live"}
    assert {status[k[:8]] for k in dead} == {"invalid"}
    limited = [c for c in wz.emu.calls() if c.status == 429]
    assert len(wz.emu.calls()) - len(limited) == 2 * len(live) + len(dead)  # probe + scope, probe
    assert len(limited) <= 10, len(limited)


@pytest.mark.parametrize("admin", ["invalid", "workspace"])
def test_unusable_admin_key_is_said_not_silently_ignored(wz: Harness, admin: str) -> None:
    ws = wz.seed("ws", scope="workspace")
    admin_key = make_key() if admin == "invalid" else wz.seed("other-ws", scope="workspace").key
    r = wz.run("dir", str(wz.plant(ws.key)), "--verify", "--format", "json", env={"WEAVZ_API_KEY": admin_key})
    (f,) = r.json()["findings"]
    assert f["status"] == "live" and f["scope"] == "workspace"
    assert "warning: WEAVZ_API_KEY could not list keys: " + ("401" if admin == "invalid" else "403") in r.err
    r = wz.run("verify", "-", input=ws.key, env={"WEAVZ_API_KEY": admin_key})
    assert "WEAVZ_API_KEY could not list keys" in r.err and admin_key not in r.err + r.out


def test_key_pasted_as_api_url_is_not_echoed(wz: Harness) -> None:
    k = wz.seed("leaked")
    r = wz.run("verify", "--api-url", k.key, "-", input=k.key)
    assert r.code == 2 and "API URL must look like" in r.err and k.key not in r.err
    r = wz.run("verify", "-", input=k.key, env={"WEAVZ_API_URL": "http://example.com/" + k.key}, url=False)
    assert r.code == 2 and "must use https" in r.err and k.key not in r.err
