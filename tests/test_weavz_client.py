"""The client's own rules against the emulator, and the confirmation prompt on a real terminal (pty)."""

from __future__ import annotations

import email.utils
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.emulator import Emulator
from tests.helpers import ROOT, cli_env, run_cli
from tests.weavz_fixtures import FAST_ENV, Harness
from wvzscan.weavz import (
    Client,
    ConfigError,
    RedirectError,
    ServerError,
    Settings,
    TransportError,
    UncertainOutcome,
    check_base_url,
    retry_after,
)


def client(emu: Emulator, **kw: float) -> Client:
    return Client(Settings(base_url=emu.url, backoff=0.001, max_wait=2, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "http://localhost", "http://[::1]:8", "https://api.weavz.io/"])
def test_loopback_http_and_https_are_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://api.weavz.io", "http://127.0.0.1.nip.io", "https://a.io?x=1", "file:///x"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


def test_retry_after_seconds_and_http_date() -> None:
    assert retry_after("3") == 3.0
    assert retry_after(None) is None and retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (retry_after(later) or 0) <= 31


def test_post_is_not_retried_on_5xx_but_get_and_delete_are(emulator: Emulator) -> None:
    admin = emulator.seed_key("admin")
    emulator.fault("status", status=503)
    with client(emulator) as c:
        with pytest.raises(ServerError):
            c.create_key(admin.key, "x", None, None)
        with pytest.raises(ServerError):
            c.list_keys(admin.key)
        with pytest.raises(ServerError):
            c.delete_key(admin.key, admin.id)
    assert [len(emulator.calls(m)) for m in ("POST", "GET", "DELETE")] == [1, 3, 3]


def test_post_is_retried_on_429_and_refused_connections(emulator: Emulator) -> None:
    admin = emulator.seed_key("admin")
    emulator.fault("ratelimit", retry_after="0", times=2)
    with client(emulator) as c:
        rec, plain = c.create_key(admin.key, "x", None, None)
    assert emulator.is_live(plain) and len(emulator.calls("POST")) == 3
    dead_port = Emulator().start()
    url = dead_port.url
    dead_port.stop()
    with Client(Settings(base_url=url, backoff=0.001)) as c, pytest.raises(TransportError) as e:
        c.create_key(admin.key, "x", None, None)
    assert e.value.reason == "connection failed after 3 tries"


def test_errors_never_hold_the_key(emulator: Emulator) -> None:
    k = emulator.seed_key("k")
    emulator.fault("reset", method="POST", after=True)
    emulator.fault("redirect", path="/api/v1/workspaces")
    with client(emulator) as c:
        with pytest.raises(UncertainOutcome) as e1:
            c.create_key(k.key, "x", None, None)
        with pytest.raises(RedirectError) as e2:
            c.list_workspaces(k.key)
    for e in (e1.value, e2.value):
        assert k.key not in str(e) and k.key not in repr(e)
        assert e.__cause__ is None and (e.__context__ is None or e.__suppress_context__)


def test_concurrency_limit_is_honoured(emulator: Emulator) -> None:
    from wvzscan.response import verify_all

    emulator.latency = 0.05
    keys = [emulator.seed_key(f"k{i}").key for i in range(12)]
    active = 0
    peak = 0
    real_handle = emulator.handle

    def counting(*a: object) -> object:
        nonlocal active, peak
        with emulator.lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with emulator.lock:
            active -= 1
        return real_handle(*a)  # type: ignore[arg-type]

    emulator.handle = counting  # type: ignore[method-assign]
    with client(emulator, concurrency=3) as c:
        verdicts = verify_all(c, keys)
    assert {v.status for v in verdicts.values()} == {"live"}
    assert peak <= 3


def _read_until(fd: int, needle: bytes, timeout: float = 20) -> bytes:
    buf = b""
    end = time.monotonic() + timeout
    while needle not in buf and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


@pytest.mark.parametrize("answer", [b"y\n", b"n\n"])
def test_confirmation_prompt_on_a_terminal(wz: Harness, answer: bytes) -> None:
    org = wz.seed("ci")
    src = wz.plant(org.key)
    master, slave = pty.openpty()
    env = cli_env({**FAST_ENV, "WEAVZ_API_URL": wz.emu.url})
    p = subprocess.Popen(
        [sys.executable, "-m", "wvzscan", "dir", str(src), "--revoke", "-o", str(wz.out / "report.txt")],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    try:
        seen = _read_until(master, b"Revoke 1 key now?")
        assert b"Revoke 1 key now?" in seen, seen.decode(errors="replace")
        os.write(master, answer)
        seen += _read_until(master, b"\x00", timeout=10)  # read to the end
        code = p.wait(20)
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
    wz.outputs.append(("terminal", seen.decode(errors="replace")))
    if answer == b"y\n":
        assert code == 1 and not wz.emu.is_live(org.key)
    else:
        assert code == 2 and wz.emu.is_live(org.key) and b"not confirmed" in seen


def test_scans_without_verify_never_import_httpx(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("nothing\n")
    code = (
        "import sys; from wvzscan.cli import cli\n"
        "try:\n    cli(['dir', sys.argv[1], '-q'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print('httpx' in sys.modules)"
    )
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=cli_env())
    assert p.stdout.strip().endswith("False"), p.stdout + p.stderr


def test_emulator_runs_standalone_and_keeps_keys_off_stdout(tmp_path: Path) -> None:
    info_path = tmp_path / "emu.json"
    p = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--key-file", str(info_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=cli_env(),
    )
    try:
        assert p.stdout is not None
        first = p.stdout.readline().decode()
        second = p.stdout.readline().decode()
        info = json.loads(info_path.read_text())
        assert first.strip() == f"Weavz emulator on {info['url']}"
        assert info["admin_key"] not in first + second and oct(info_path.stat().st_mode & 0o777) == "0o600"
        r = run_cli("verify", "-", "--format", "json", input=info["admin_key"], env={"WEAVZ_API_URL": info["url"]})
        assert r.code == 1 and r.json()["key_name"] == "admin" and r.json()["scope"] == "org"
        r = run_cli("verify", "-", "--format", "json", input=info["workspace_key"], env={"WEAVZ_API_URL": info["url"]})
        assert r.json()["scope"] == "workspace"
    finally:
        p.terminate()
        p.wait(10)
