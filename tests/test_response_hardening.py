"""Hostile answers, hostile files and a hostile environment against verify/revoke/keys: no key leaks
through a side door, the journal never writes through a link, the admin key never goes to a proxy in
clear text, bad environment values are one clear line, an unreachable API is said once."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import Emulator
from tests.helpers import make_key
from tests.weavz_fixtures import Harness
from wvzscan.hygiene import name_stem, name_tokens
from wvzscan.response import verify_keys


def by_prefix(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key_prefix"]: f for f in doc["findings"]}


# -- side doors: an API that echoes the bearer token -----------------------------------------------


def test_token_echoed_in_a_403_code_reaches_no_output(wz: Harness) -> None:
    leaked = wz.seed("leaked")
    admin = wz.seed("ops-admin")
    wz.emu.fault("echo", path="/api/v1/api-keys")  # every key listing: 403 with the bearer token in it
    log = wz.out / "audit.jsonl"
    r = wz.run(
        "dir", str(wz.plant(leaked.key)), "--revoke", "--yes", "--format", "json", "--audit-log", str(log),
        env={"WEAVZ_API_KEY": admin.key},
    )  # fmt: skip
    assert r.code == 2, r.err
    f = by_prefix(r.json())[leaked.prefix]
    assert f["status"] == "live" and "scope unknown" in f["status_reason"]
    assert f["revocation"]["result"] == "failed"
    text = r.out + r.err + log.read_text()
    for k in (leaked.key, admin.key):
        assert k not in text and k[8:20] not in text
    assert wz.emu.is_live(leaked.key)
    # wz's teardown also checks every output and file for every full key


def test_token_echoed_by_the_probe_is_scrubbed_in_verify(wz: Harness) -> None:
    k = wz.seed("leaked")
    wz.emu.fault("echo", path="/api/v1/workspaces")
    r = wz.run("verify", "-", "--format", "json", input=k.key + "\n")
    assert r.code == 1, r.err  # 403 proves the key authenticated
    doc = r.json()
    assert doc["status"] == "live" and k.key not in r.out + r.err and "Bearer wvz_" in doc["status_reason"]


def test_an_admin_key_that_is_not_key_shaped_is_still_scrubbed(wz: Harness) -> None:
    secret = "adm1n-" + make_key()[4:]  # does not start with wvz_: only register() can hide it
    wz.seed("ops-admin", key=secret)
    wz.emu.fault("echo", path="/api/v1/api-keys")
    r = wz.run("keys", "audit", "--format", "json", env={"WEAVZ_API_KEY": secret})
    assert r.code == 2 and "Traceback" not in r.err
    assert secret not in r.out + r.err and secret[8:] not in r.err


# -- the journal (--audit-log) and the rotated-key file -------------------------------------------


def test_journal_refuses_a_symlink_and_changes_nothing(wz: Harness, tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    os.chmod(target, 0o644)
    link = wz.out / "audit.jsonl"
    link.symlink_to(target)
    k = wz.seed("leaked")
    r = wz.run("dir", str(wz.plant(k.key)), "--revoke", "--yes", "--audit-log", str(link))
    assert r.code == 2 and "symbolic link" in r.err and "Traceback" not in r.err
    assert target.read_text() == "keep me\n" and (target.stat().st_mode & 0o777) == 0o644
    assert wz.emu.is_live(k.key) and not wz.emu.calls("DELETE")
    r = wz.run("revoke", "-", "--yes", "--audit-log", str(link), input=k.key + "\n")
    assert r.code == 2 and "symbolic link" in r.err and wz.emu.is_live(k.key)


def test_journal_refuses_a_hard_linked_file(wz: Harness, tmp_path: Path) -> None:
    other = tmp_path / "other.log"
    other.write_text("")
    log = wz.out / "audit.jsonl"
    os.link(other, log)
    k = wz.seed("leaked")
    r = wz.run("revoke", "-", "--yes", "--audit-log", str(log), input=k.key + "\n")
    assert r.code == 2 and "hard links" in r.err and wz.emu.is_live(k.key)


def test_rotated_key_file_is_never_written_through_a_link(wz: Harness, tmp_path: Path) -> None:
    from wvzscan.errors import WvzscanError
    from wvzscan.response import create_key_file

    target = tmp_path / "t"
    link = tmp_path / "new.key"
    link.symlink_to(target)  # dangling: O_EXCL and O_NOFOLLOW refuse it
    with pytest.raises(WvzscanError):
        create_key_file(str(link))
    assert not target.exists()


# -- the admin key never goes to a proxy in clear text --------------------------------------------


class _Recorder:
    """A 'proxy' on loopback that records whether anything at all arrived."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.got: list[bytes] = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _run(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.got.append(conn.recv(65536) or b"<connected>")
            except OSError:
                self.got.append(b"<connected>")
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def test_plain_http_never_goes_through_a_proxy(wz: Harness) -> None:
    proxy = _Recorder()
    try:
        k = wz.seed("leaked")
        admin = wz.seed("ops-admin")
        env = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, "ALL_PROXY": proxy.url, "all_proxy": proxy.url}
        env["WEAVZ_API_KEY"] = admin.key
        r = wz.run("dir", str(wz.plant(k.key)), "--verify", "--format", "json", env=env)
        assert r.code == 1, r.err
        assert by_prefix(r.json())[k.prefix]["status"] == "live"
        r = wz.run("keys", "--format", "json", env=env)
        assert r.code == 0, r.err
    finally:
        proxy.close()
    assert proxy.got == [], "something was sent to the proxy"


# -- a hostile environment --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"WEAVZ_API_KEY": "wvz_caf\u00e9" + "x" * 28}, "WEAVZ_API_KEY holds a non-ASCII character"),
        ({"WEAVZ_API_KEY": "wvz_a b" + "x" * 28}, "WEAVZ_API_KEY holds spaces or control characters"),
        ({"WVZSCAN_TIMEOUT": "nan"}, "WVZSCAN_TIMEOUT must be a number from"),
        ({"WVZSCAN_TRIES": "1e300"}, "WVZSCAN_TRIES must be a number from"),
        ({"WEAVZ_API_URL": "https://\u00e4pi.example"}, "API URL must be plain ASCII"),
        ({"WEAVZ_API_URL": "http://127.0.0.1:99999"}, "API URL must look like https://host"),
    ],
)
def test_bad_environment_values_are_one_clear_line(wz: Harness, env: dict[str, str], says: str) -> None:
    k = wz.seed("leaked")
    for args, stdin in ((("dir", str(wz.plant(k.key)), "--verify"), None), (("verify", "-"), k.key + "\n")):
        r = wz.run(*args, input=stdin, env=env, url="WEAVZ_API_URL" not in env)
        assert r.code == 2, (args, r.err)
        assert "Traceback" not in r.err and says in r.err and len(r.err.strip().splitlines()) == 1, r.err
    if "WEAVZ_API_KEY" in env:
        r = wz.run("keys", "audit", env=env)
        assert r.code == 2 and says in r.err and "Traceback" not in r.err


# -- an unreachable API is said once ----------------------------------------------------------------


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_unreachable_api_is_one_line_and_keys_stay_unknown(wz: Harness) -> None:
    keys = [make_key() for _ in range(4)]
    url = f"http://127.0.0.1:{_closed_port()}"
    r = wz.run("dir", str(wz.plant(*keys)), "--verify", "--format", "json", "--api-url", url)
    assert r.code == 1, r.err  # found keys, not proven dead
    assert r.err.count("cannot reach the Weavz API") == 1
    doc = r.json()
    assert {f["status"] for f in doc["findings"]} == {"unknown"}
    assert len(doc["errors"]) == 1, doc["errors"]
    msg = doc["errors"][0]["message"]
    assert f"cannot reach the Weavz API at {url}: connection refused" in msg and "4 keys not verified" in msg


# -- bounded patterns on API-supplied names -----------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "name",
    ["-" * 8000, " " * 8000 + "x", "a" + "-_. " * 4000 + "(", "x" + "-v2" * 5000, "a" * 100_000, "(1)" * 5000],
)
def test_hostile_names_cost_bounded_time(name: str) -> None:
    for _ in range(20):
        name_stem(name)
        name_tokens(name)


def test_name_stems_unchanged_for_ordinary_names() -> None:
    assert name_stem("production-backend-v2") == "production-backend"
    assert name_stem("production-backend-rotated-20250101") == "production-backend"
    assert name_stem("Production Backend (2)") == "production backend"
    assert name_stem("ci-2025-01-01") == "ci"


@pytest.mark.timeout(60)
def test_keys_audit_with_a_hostile_name_finishes(wz: Harness) -> None:
    admin = wz.seed("ops-admin-prod")
    wz.seed("-" * 8000)
    wz.seed("-" * 7999 + "v2")
    r = wz.run("keys", "audit", "--format", "json", env={"WEAVZ_API_KEY": admin.key})
    assert r.code in (0, 1) and "Traceback" not in r.err


# -- the Python API ------------------------------------------------------------------------------------


def test_verify_keys_from_python(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    live = emulator.seed_key("live")
    dead = emulator.seed_key("dead", revoked=True)
    monkeypatch.setenv("WVZSCAN_BACKOFF", "0.01")
    got = verify_keys([live.key, dead.key, live.key], api_url=emulator.url)
    assert list(got) == [live.key, dead.key]
    assert got[live.key].status == "live" and got[live.key].scope == "org"
    assert got[dead.key].status == "invalid"


def test_journal_to_a_stream_name_is_written_as_a_stream(wz: Harness) -> None:
    k = wz.seed("leaked")
    # A subprocess: the journal writes to file descriptor 2 itself, which only a real process captures.
    r = wz.run("revoke", "-", "--yes", "--audit-log", "/dev/stderr", input=k.key + "\n", in_process=False)
    assert r.code == 0, r.err
    assert '"action": "verify-dead"' in r.err and not wz.emu.is_live(k.key)
