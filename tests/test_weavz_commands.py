"""`wvzscan verify -`, `revoke -`, `rotate -` and the HTTPS path, through the real CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.helpers import make_key
from tests.weavz_fixtures import Harness, file_mode
from wvzscan.isotime import parse_datetime


def test_verify_stdin_live_invalid_unknown_exit_codes(wz: Harness) -> None:
    org = wz.seed("ci-deploy")
    r = wz.run("verify", "-", input=org.key + "\n")
    assert r.code == 1, r.err
    assert "live (org-wide)  name: ci-deploy  id: " + org.id in r.out
    assert "fingerprint" in r.out
    r = wz.run("verify", "-", input=make_key())
    assert r.code == 0 and "invalid" in r.out and "401 from /api/v1/workspaces" in r.out
    wz.emu.fault("status", status=503)
    r = wz.run("verify", "-", "--format", "json", input=org.key)
    assert r.code == 3
    assert r.json()["status"] == "unknown" and r.json()["status_reason"] == "503 after 3 tries"


def test_verify_accepts_an_env_line_and_refuses_argv_without_echo(wz: Harness) -> None:
    org = wz.seed("ci")
    r = wz.run("verify", "-", "--format", "json", input=f"WEAVZ_API_KEY={org.key}\n")
    assert r.code == 1 and r.json()["key_id"] == org.id
    r = wz.run("verify", org.key)
    assert r.code == 2 and "standard input only" in r.err  # the harness checks the key was not echoed
    r = wz.run("verify", "-", org.key)
    assert r.code == 2
    r = wz.run("verify", "-", input="no key here\n")
    assert r.code == 2 and "found no Weavz key" in r.err
    r = wz.run("verify", "-", input=f"{make_key()}\n{make_key()}\n")
    assert r.code == 2 and "2 different keys" in r.err


def test_revoke_stdin_with_audit_log_and_idempotent_rerun(wz: Harness) -> None:
    org = wz.seed("ci-deploy")
    log = wz.out / "audit.jsonl"
    r = wz.run("revoke", "-", "--yes", "--audit-log", str(log), input=org.key)
    assert r.code == 0, r.err
    assert "revocation  revoked: deleted; now 401" in r.out
    assert not wz.emu.is_live(org.key)
    assert [e["result"] for e in wz.audit(log)] == ["started", "deleted", "invalid"]
    assert {e["where"] for e in wz.audit(log)} == {"stdin"}
    r = wz.run("revoke", "-", "--yes", "--audit-log", str(log), "--format", "json", input=org.key)
    assert r.code == 0 and r.json()["revocation"]["result"] == "skipped"
    assert r.json()["status"] == "invalid" and len(wz.audit(log)) == 3


def test_revoke_stdin_refusals(wz: Harness) -> None:
    ws = wz.seed("checkout", scope="workspace")
    r = wz.run("revoke", "-", "--yes", input=ws.key)
    assert r.code == 2 and "WEAVZ_API_KEY" in r.err and wz.emu.is_live(ws.key)
    org = wz.seed("ci")
    r = wz.run("revoke", "-", input=org.key)  # no terminal, no --yes
    assert r.code == 2 and "--yes" in r.err and wz.emu.is_live(org.key)
    r = wz.run("revoke", "-", "--dry-run", input=org.key)
    assert r.code == 0 and "dry run" in r.err and wz.emu.is_live(org.key)
    wz.emu.fault("status", status=502, path="/api/v1/workspaces")
    r = wz.run("revoke", "-", "--yes", input=org.key)
    assert r.code == 2 and "unknown" in r.err and wz.emu.is_live(org.key)
    assert not wz.emu.calls("DELETE")


def test_rotate_org_key_end_to_end(wz: Harness) -> None:
    old = wz.seed("production-backend")
    new_file = wz.out / "new-key.txt"
    wz.exempt_files.add(new_file)  # the one place the new key belongs
    log = wz.out / "audit.jsonl"
    r = wz.run(
        "rotate", "-", "--output", str(new_file), "--revoke-old", "--expires-in", "90d", "--audit-log", str(log),
        input=old.key,
    )  # fmt: skip
    assert r.code == 0, r.err
    assert file_mode(new_file) == 0o600
    new_key = new_file.read_text().strip()
    assert new_key.startswith("wvz_") and new_key != old.key
    assert wz.emu.is_live(new_key) and not wz.emu.is_live(old.key)
    (rec,) = [k for k in wz.emu.keys.values() if k.id != old.id]
    assert rec.name == f"production-backend-rotated-{dt.datetime.now(dt.timezone.utc):%Y%m%d}"
    assert rec.permissions is None  # org-wide, like the old one
    expires = parse_datetime(rec.expires_at or "")
    assert expires is not None
    assert 89 <= (expires - dt.datetime.now(dt.timezone.utc)).days <= 90
    story = [(e["action"], e["result"]) for e in wz.audit(log)]
    assert story == [
        ("rotate-create", "started"),
        ("rotate-create", "created"),
        ("verify-new", "live"),
        ("revoke", "started"),
        ("revoke", "deleted"),
        ("verify-dead", "invalid"),
    ]
    created = wz.audit(log)[1]
    assert created["new_key_id"] == rec.id and created["key_id"] == old.id
    assert new_key not in log.read_text() and new_key not in r.out + r.err


def test_rotate_workspace_key_keeps_permissions_and_old_key_until_confirmed(wz: Harness) -> None:
    admin = wz.seed("admin")
    ws_id = wz.emu.add_workspace("Checkout")
    old = wz.seed("checkout-rotated-20240101", scope="workspace", workspace_ids=[ws_id])
    new_file = wz.out / "new.txt"
    wz.exempt_files.add(new_file)
    r = wz.run("rotate", "-", "-o", str(new_file), input=old.key, env={"WEAVZ_API_KEY": admin.key})
    assert r.code == 0, r.err
    assert "stays live" in r.err  # no terminal to confirm deployment: the old key is kept
    new_key = new_file.read_text().strip()
    (rec,) = [k for k in wz.emu.keys.values() if k.id not in (old.id, admin.id)]
    assert rec.permissions == {"scope": "workspace", "workspaceIds": [ws_id]}
    assert rec.name.startswith("checkout-rotated-") and rec.name.count("rotated") == 1
    assert wz.emu.is_live(new_key) and wz.emu.is_live(old.key) and wz.emu.is_live(admin.key)


def test_rotate_print_new_key_and_refusals(wz: Harness) -> None:
    old = wz.seed("svc")
    r = wz.run("rotate", "-", "--print-new-key", "--revoke-old", input=old.key)
    assert r.code == 0, r.err
    new_key = r.out.strip()
    assert wz.emu.is_live(new_key) and not wz.emu.is_live(old.key)
    # Refusals happen before anything is created.
    before = len(wz.emu.keys)
    existing = wz.out / "exists.txt"
    existing.write_text("keep me\n")
    r = wz.run("rotate", "-", "-o", str(existing), input=new_key)
    assert r.code == 2 and "already exists" in r.err and existing.read_text() == "keep me\n"
    r = wz.run("rotate", "-", input=new_key)
    assert r.code == 2 and "--output" in r.err
    r = wz.run("rotate", "-", "-o", str(wz.out / "x"), "--expires-in", "soon", input=new_key)
    assert r.code == 2 and "--expires-in" in r.err
    r = wz.run("rotate", "-", "-o", str(wz.out / "y"), input=old.key)  # already revoked
    assert r.code == 2 and "invalid" in r.err and not (wz.out / "y").exists()
    assert len(wz.emu.keys) == before


def test_rotate_create_failure_leaves_old_key_and_no_file(wz: Harness) -> None:
    old = wz.seed("svc")
    wz.emu.fault("status", status=500, method="POST")
    target = wz.out / "new.txt"
    r = wz.run("rotate", "-", "-o", str(target), "--revoke-old", input=old.key)
    assert r.code == 2 and "creating the replacement failed: 500" in r.err
    assert not target.exists() and wz.emu.is_live(old.key)
    assert len(wz.emu.calls("POST")) == 1  # a POST is never repeated on a 5xx


def test_rotate_lost_post_answer_is_reported_as_uncertain(wz: Harness) -> None:
    old = wz.seed("svc")
    wz.emu.fault("reset", method="POST", after=True)
    r = wz.run("rotate", "-", "-o", str(wz.out / "new.txt"), "--revoke-old", input=old.key)
    assert r.code == 2 and "may have been created" in r.err
    assert len(wz.emu.calls("POST")) == 1 and wz.emu.is_live(old.key)


def test_rotate_dry_run(wz: Harness) -> None:
    old = wz.seed("svc")
    r = wz.run("rotate", "-", "-o", str(wz.out / "n.txt"), "--dry-run", input=old.key)
    assert r.code == 0 and "rotation plan" in r.err and not wz.emu.calls("POST")
    assert not (wz.out / "n.txt").exists()


def test_https_with_local_ca(wz_tls: Harness) -> None:
    org = wz_tls.seed("ci")
    ca = wz_tls.emu.ca_file
    assert ca and wz_tls.emu.url.startswith("https://127.0.0.1:")
    src = wz_tls.plant(org.key)
    r = wz_tls.run("dir", str(src), "--verify", "--format", "json", "--ca-bundle", ca)
    assert r.json()["findings"][0]["status"] == "live", r.err
    r = wz_tls.run("verify", "-", input=org.key, env={"SSL_CERT_FILE": ca})
    assert r.code == 1, r.err
    # Without the CA, TLS fails: unknown, never invalid, never revoked.
    r = wz_tls.run("dir", str(src), "--revoke", "--yes", "--format", "json")
    (f,) = r.json()["findings"]
    assert f["status"] == "unknown" and "certificate verify failed" in f["status_reason"]
    assert wz_tls.emu.is_live(org.key)
    r = wz_tls.run("revoke", "-", "--yes", "--ca-bundle", ca, input=org.key)
    assert r.code == 0 and not wz_tls.emu.is_live(org.key)


@pytest.mark.parametrize(
    "url",
    ["http://api.weavz.io", "http://10.0.0.1:8080", "ftp://api.weavz.io", "https://user:pw@api.weavz.io", "nonsense"],
)
def test_bad_api_urls_are_refused_before_any_request(wz: Harness, url: str) -> None:
    r = wz.run("verify", "-", "--api-url", url, input=wz.seed().key)
    assert r.code == 2 and "API URL" in r.err
    assert not wz.emu.calls()


def test_missing_ca_bundle_and_unwritable_audit_log(wz: Harness) -> None:
    k = wz.seed()
    r = wz.run("verify", "-", "--ca-bundle", str(wz.tmp / "nope.pem"), input=k.key)
    assert r.code == 2 and "--ca-bundle" in r.err
    r = wz.run("revoke", "-", "--yes", "--audit-log", str(wz.tmp / "no" / "dir" / "a.log"), input=k.key)
    assert r.code == 2 and "audit log" in r.err and wz.emu.is_live(k.key)


def test_audit_log_is_appended_and_private(wz: Harness) -> None:
    log = wz.out / "audit.jsonl"
    log.write_text(json.dumps({"earlier": True}) + "\n")
    log.chmod(0o644)
    k = wz.seed()
    wz.run("revoke", "-", "--yes", "--audit-log", str(log), input=k.key)
    lines = log.read_text().splitlines()
    assert json.loads(lines[0]) == {"earlier": True} and len(lines) == 4
    assert file_mode(log) == 0o600


def test_rotate_dry_run_needs_no_output_file(wz: Harness) -> None:
    old = wz.seed("svc")
    r = wz.run("rotate", "-", "--dry-run", input=old.key)
    assert r.code == 0, r.err
    assert "dry run: nothing was changed" in r.err and "--output FILE" in r.err
    assert wz.emu.is_live(old.key) and len(wz.emu.calls(method="POST")) == 0
