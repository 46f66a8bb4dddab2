"""End to end: `wvzscan dir --verify/--revoke` through the real CLI against the emulated Weavz API."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.helpers import make_key
from tests.weavz_fixtures import Harness, file_mode


def findings_by_key(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key_prefix"]: f for f in doc["findings"]}


def test_verify_reports_status_scope_and_metadata(wz: Harness) -> None:
    org = wz.seed("ci-deploy", created_at="2025-01-02T03:04:05Z", expires_at="2030-01-01T00:00:00Z")
    ws_id = wz.emu.add_workspace("Checkout")
    ws = wz.seed("checkout", scope="workspace", workspace_ids=[ws_id])
    dead = make_key()
    src = wz.plant(org.key, ws.key, dead)
    r = wz.run("dir", str(src), "--verify", "--format", "json")
    assert r.code == 1, r.err
    f = findings_by_key(r.json())
    live_org, live_ws, invalid = f[org.prefix], f[ws.prefix], f[dead[:8]]
    assert (live_org["status"], live_org["scope"], live_org["status_reason"]) == (
        "live",
        "org",
        "200 from /api/v1/workspaces",
    )
    assert live_org["key_id"] == org.id and live_org["key_name"] == "ci-deploy"
    assert live_org["key_created_at"] == "2025-01-02T03:04:05Z"
    assert live_org["key_expires_at"] == "2030-01-01T00:00:00Z"
    assert live_org["key_last_used_at"]  # the probe itself just used it
    assert (live_ws["status"], live_ws["scope"]) == ("live", "workspace")
    assert live_ws["key_workspace_ids"] == [ws_id]
    assert "key_id" not in live_ws  # a workspace key cannot list keys, and no admin key was given
    assert (invalid["status"], invalid["status_reason"], invalid["scope"]) == (
        "invalid",
        "401 from /api/v1/workspaces",
        None,
    )
    assert all(x["revocation"] is None for x in f.values())
    # One probe per key plus the scope check for live keys; nothing else, nothing changed.
    assert len(wz.emu.calls()) == 5
    assert wz.emu.is_live(org.key) and wz.emu.is_live(ws.key)


def test_verify_once_per_unique_key(wz: Harness) -> None:
    k = wz.seed("x")
    src = wz.plant(k.key, k.key, k.key)
    (src / "other.txt").write_text(f"token: {k.key}\n")
    r = wz.run("dir", str(src), "--verify", "--format", "json")
    assert len(r.json()["findings"]) == 4
    assert len(wz.emu.calls(key=k.key)) == 2


def test_admin_key_resolves_workspace_key_metadata(wz: Harness) -> None:
    admin = wz.seed("admin")
    ws = wz.seed("checkout", scope="workspace")
    src = wz.plant(ws.key)
    r = wz.run("dir", str(src), "--verify", "--format", "json", env={"WEAVZ_API_KEY": admin.key})
    (f,) = r.json()["findings"]
    assert (f["key_id"], f["key_name"], f["scope"]) == (ws.id, "checkout", "workspace")


def test_text_report_lists_live_org_keys_first_with_steps(wz: Harness) -> None:
    ws = wz.seed("checkout", scope="workspace")
    org = wz.seed("ci-deploy")
    dead = make_key()
    src = wz.plant(dead, ws.key, org.key)
    r = wz.run("dir", str(src), "--verify")
    assert r.code == 1
    out = r.out
    assert out.index(org.prefix) < out.index(ws.prefix) < out.index(dead[:8])
    assert "live (org-wide)  name: ci-deploy" in out
    assert "live (workspace-scoped)" in out
    assert "what to do:" in out and "revoke it now" in out


def test_revoke_both_scopes_and_prove_them_dead(wz: Harness) -> None:
    admin = wz.seed("admin")
    org = wz.seed("ci-deploy")
    ws = wz.seed("checkout", scope="workspace")
    dead = make_key()
    src = wz.plant(org.key, ws.key, dead)
    log = wz.out / "audit.jsonl"
    r = wz.run(
        "dir",
        str(src),
        "--revoke",
        "--yes",
        "--format",
        "json",
        "--audit-log",
        str(log),
        env={"WEAVZ_API_KEY": admin.key},
    )
    assert r.code == 1, r.err  # findings remain findings; the revocations all worked
    f = findings_by_key(r.json())
    assert f[org.prefix]["revocation"]["result"] == "revoked"
    assert f[org.prefix]["revocation"]["key_id"] == org.id
    assert f[ws.prefix]["revocation"] == {
        "result": "revoked",
        "key_id": ws.id,
        "reason": "deleted; now 401 from /api/v1/workspaces",
    }
    assert f[dead[:8]]["revocation"]["result"] == "skipped"
    assert not wz.emu.is_live(org.key) and not wz.emu.is_live(ws.key)
    assert wz.emu.is_live(admin.key)  # the admin key is never revoked unless it leaked itself
    assert "revoked 2 of 2 live keys" in r.err
    # The org key deleted itself; the workspace key was deleted with the admin key.
    (d_org,) = wz.emu.calls("DELETE", f"/api/v1/api-keys/{org.id}")
    (d_ws,) = wz.emu.calls("DELETE", f"/api/v1/api-keys/{ws.id}")
    assert d_org.by(org.key) and d_ws.by(admin.key)
    # The audit log tells the whole story, with fingerprints and no key.
    assert file_mode(log) == 0o600
    entries = wz.audit(log)
    story = [(e["action"], e["key_id"], e["result"]) for e in entries]
    assert story == [
        ("revoke", org.id, "started"),
        ("revoke", org.id, "deleted"),
        ("verify-dead", org.id, "invalid"),
        ("revoke", ws.id, "started"),
        ("revoke", ws.id, "deleted"),
        ("verify-dead", ws.id, "invalid"),
    ]
    fields = {"time", "action", "fingerprint", "key_prefix", "key_id", "key_name", "where", "result", "error"}
    for e in entries:
        assert set(e) >= fields
        assert e["where"].endswith("config.env:1:17") or e["where"].endswith("config.env:2:17")
    assert entries[0]["key_name"] == "ci-deploy" and len(entries[0]["fingerprint"]) == 64

    # A re-run changes nothing: the keys are invalid now and left alone.
    r2 = wz.run("dir", str(src), "--revoke", "--yes", "--format", "json", "--audit-log", str(log))
    assert r2.code == 1
    assert {x["status"] for x in r2.json()["findings"]} == {"invalid"}
    assert len(wz.emu.calls("DELETE")) == 2
    assert len(wz.audit(log)) == len(entries)


def test_workspace_key_without_admin_fails_but_others_are_revoked(wz: Harness) -> None:
    org = wz.seed("ci-deploy")
    ws = wz.seed("checkout", scope="workspace")
    src = wz.plant(ws.key, org.key)
    log = wz.out / "audit.jsonl"
    r = wz.run("dir", str(src), "--revoke", "--yes", "--format", "json", "--audit-log", str(log))
    assert r.code == 2, r.err
    f = findings_by_key(r.json())
    assert f[org.prefix]["revocation"]["result"] == "revoked"
    assert f[ws.prefix]["revocation"]["result"] == "failed"
    assert "WEAVZ_API_KEY" in f[ws.prefix]["revocation"]["reason"]
    assert wz.emu.is_live(ws.key) and not wz.emu.is_live(org.key)
    assert "NOT revoked" in r.err and "WEAVZ_API_KEY" in r.err
    assert [e["result"] for e in wz.audit(log) if e["key_prefix"] == ws.prefix] == ["failed"]


def test_fail_on_none_exits_0_after_successful_revocation(wz: Harness) -> None:
    org = wz.seed("ci")
    r = wz.run("dir", str(wz.plant(org.key)), "--revoke", "--yes", "--fail-on", "none")
    assert r.code == 0, r.err
    assert not wz.emu.is_live(org.key)


def test_admin_key_revoked_last_when_it_leaked(wz: Harness) -> None:
    admin = wz.seed("admin")
    ws = wz.seed("checkout", scope="workspace")
    org = wz.seed("other")
    src = wz.plant(admin.key, ws.key, org.key)
    r = wz.run("dir", str(src), "--revoke", "--yes", "--format", "json", env={"WEAVZ_API_KEY": admin.key})
    assert r.code == 1, r.err
    deletes = [c.path.rsplit("/", 1)[1] for c in wz.emu.calls("DELETE")]
    assert deletes[-1] == admin.id and set(deletes) == {admin.id, ws.id, org.id}
    assert not any(wz.emu.is_live(k.key) for k in (admin, ws, org))


def test_no_terminal_and_no_yes_revokes_nothing(wz: Harness) -> None:
    org = wz.seed("ci")
    log = wz.out / "audit.jsonl"
    r = wz.run("dir", str(wz.plant(org.key)), "--revoke", "--format", "json", "--audit-log", str(log))
    assert r.code == 2
    assert "--yes" in r.err
    (f,) = r.json()["findings"]
    assert f["revocation"]["result"] == "skipped"
    assert wz.emu.is_live(org.key) and not wz.emu.calls("DELETE")
    assert [e["result"] for e in wz.audit(log)] == ["skipped"]


def test_dry_run_changes_nothing(wz: Harness) -> None:
    org = wz.seed("ci")
    r = wz.run("dir", str(wz.plant(org.key)), "--revoke", "--dry-run", "--format", "json")
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["revocation"] == {"result": "dry-run", "key_id": org.id, "reason": "dry run: nothing changed"}
    assert "revoke " + org.id in r.err and "dry run" in r.err
    assert wz.emu.is_live(org.key) and not wz.emu.calls("DELETE")


def test_dry_run_needs_revoke(wz: Harness) -> None:
    r = wz.run("dir", str(wz.plant(wz.seed().key)), "--dry-run")
    assert r.code == 2 and "--dry-run only goes with --revoke" in r.err


def test_prefix_collision_resolved_by_last_used(wz: Harness) -> None:
    leaked = wz.seed("leaked")
    twin = wz.seed("twin", prefix=leaked.prefix, last_used_at="2026-01-01T00:00:00Z")
    assert twin.prefix == leaked.prefix and twin.key != leaked.key
    r = wz.run("dir", str(wz.plant(leaked.key)), "--revoke", "--yes", "--format", "json")
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["key_candidates"] == sorted([leaked.id, twin.id])  # verify alone could not tell
    assert f["revocation"]["result"] == "revoked" and f["revocation"]["key_id"] == leaked.id
    assert not wz.emu.is_live(leaked.key) and wz.emu.is_live(twin.key)


def test_both_twins_leaked_are_both_revoked(wz: Harness) -> None:
    a = wz.seed("a")
    b = wz.seed("b", prefix=a.prefix)
    r = wz.run("dir", str(wz.plant(a.key, b.key)), "--revoke", "--yes", "--format", "json")
    assert r.code == 1, r.err
    assert {x["revocation"]["key_id"] for x in r.json()["findings"]} == {a.id, b.id}
    assert not wz.emu.is_live(a.key) and not wz.emu.is_live(b.key)


def test_workspace_twins_resolved_through_admin(wz: Harness) -> None:
    admin = wz.seed("admin")
    leaked = wz.seed("ws-leaked", scope="workspace")
    twin = wz.seed("ws-twin", scope="workspace", prefix=leaked.prefix)
    r = wz.run(
        "dir", str(wz.plant(leaked.key)), "--revoke", "--yes", "--format", "json", env={"WEAVZ_API_KEY": admin.key}
    )
    assert r.code == 1, r.err
    (f,) = r.json()["findings"]
    assert f["revocation"]["key_id"] == leaked.id
    assert not wz.emu.is_live(leaked.key) and wz.emu.is_live(twin.key)


def test_prefix_twin_of_other_scope_or_expired_is_no_candidate(wz: Harness) -> None:
    leaked = wz.seed("org-leaked")
    wz.seed("ws-twin", scope="workspace", prefix=leaked.prefix)
    wz.seed("expired-twin", prefix=leaked.prefix, expires_at="2020-01-01T00:00:00Z")
    r = wz.run("dir", str(wz.plant(leaked.key)), "--revoke", "--yes", "--format", "json")
    (f,) = r.json()["findings"]
    assert f["key_id"] == leaked.id  # unique among org-wide, unexpired entries
    assert f["revocation"]["key_id"] == leaked.id and not wz.emu.is_live(leaked.key)


def _hammer(url: str, key: str, stop: threading.Event) -> None:
    req = urllib.request.Request(url + "/api/v1/workspaces", headers={"Authorization": f"Bearer {key}"})
    while not stop.is_set():
        with urllib.request.urlopen(req) as resp:
            resp.read()
        time.sleep(0.003)


def test_prefix_collision_with_twin_in_use_is_refused(wz: Harness) -> None:
    leaked = wz.seed("leaked")
    twin = wz.seed("twin", prefix=leaked.prefix)
    stop = threading.Event()
    t = threading.Thread(target=_hammer, args=(wz.emu.url, twin.key, stop), daemon=True)
    t.start()
    try:
        r = wz.run("dir", str(wz.plant(leaked.key)), "--revoke", "--yes", "--format", "json")
    finally:
        stop.set()
        t.join()
    assert r.code == 2, r.err
    (f,) = r.json()["findings"]
    rev = f["revocation"]
    assert rev["result"] == "failed" and rev["key_id"] is None
    assert leaked.id in rev["reason"] and twin.id in rev["reason"] and "share prefix" in rev["reason"]
    assert wz.emu.is_live(leaked.key) and wz.emu.is_live(twin.key) and not wz.emu.calls("DELETE")


def test_key_from_another_organization_is_never_confused(wz: Harness) -> None:
    admin = wz.seed("admin")  # org_main
    wz.emu.add_workspace("Theirs", ws_id="ws_theirs", org_id="org_vendor")
    leaked = wz.seed("vendor-key", scope="workspace", workspace_ids=["ws_theirs"], org_id="org_vendor")
    ours = wz.seed("ours", scope="workspace", prefix=leaked.prefix)  # same prefix in the admin's org
    wz.emu.workspace_org_ids = False  # not documented: without it, lastUsedAt has to tell
    r = wz.run(
        "dir", str(wz.plant(leaked.key)), "--revoke", "--yes", "--format", "json", env={"WEAVZ_API_KEY": admin.key}
    )
    assert r.code == 2, r.err
    (f,) = r.json()["findings"]
    assert f["revocation"]["result"] == "failed" and "did not confirm" in f["revocation"]["reason"]
    assert wz.emu.is_live(ours.key) and wz.emu.is_live(leaked.key) and not wz.emu.calls("DELETE")


def test_paginated_key_list_is_not_trusted(wz: Harness) -> None:
    wz.seed("first")
    leaked = wz.seed("leaked")
    wz.emu.page_size = 1
    r = wz.run("dir", str(wz.plant(leaked.key)), "--revoke", "--yes", "--format", "json")
    assert r.code == 2
    (f,) = r.json()["findings"]
    assert "pagination" in f["revocation"]["reason"] and wz.emu.is_live(leaked.key)


def test_delete_returning_204_and_404_on_rerun(wz: Harness) -> None:
    wz.emu.delete_status = 204
    org = wz.seed("ci")
    r = wz.run("dir", str(wz.plant(org.key)), "--revoke", "--yes", "--format", "json")
    (f,) = r.json()["findings"]
    assert f["revocation"]["result"] == "revoked"


def test_reports_in_every_format_carry_status_scope_and_name(wz: Harness) -> None:
    org = wz.seed("ci-deploy")
    src = wz.plant(org.key)
    reports = {fmt: wz.out / f"r.{fmt}" for fmt in ("json", "jsonl", "sarif", "junit", "github")}
    args = [a for fmt, p in reports.items() for a in ("--report", f"{fmt}:{p}")]
    r = wz.run("dir", str(src), "--verify", *args)
    assert r.code == 1, r.err
    for fmt, p in reports.items():
        text = p.read_text()
        assert file_mode(p) == 0o600
        assert "live" in text and "ci-deploy" in text, fmt
        assert "org" in text, fmt
    sarif = reports["sarif"].read_text()
    assert "(live, org-wide, name ci-deploy)" in sarif
    github = reports["github"].read_text()
    assert "live, org-wide, name ci-deploy" in github


def test_show_secrets_is_the_only_way_to_see_a_key(wz: Harness, tmp_path: Path) -> None:
    org = wz.seed("ci")
    src = wz.plant(org.key)
    r = wz.run("dir", str(src), "--verify", "--format", "json", "--show-secrets")
    assert r.json()["findings"][0]["secret"] == org.key
    # The harness's leak check is real: a recorded output with the key is caught.
    wz.outputs.append(("deliberate", r.out))
    assert wz.leaks() == [f"{org.prefix}… in deliberate"]
    wz.outputs.pop()
