"""The audit log when writing it fails or it is not a regular file: no change that is not written down."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from tests.weavz_fixtures import Harness


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_disk_full_audit_log_revokes_nothing_and_exits_2(wz: Harness) -> None:
    k = wz.seed("leaked")
    mode = os.stat("/dev/full").st_mode & 0o777
    try:
        r = wz.run("dir", str(wz.plant(k.key)), "--revoke", "--yes", "--audit-log", "/dev/full")
        assert os.stat("/dev/full").st_mode & 0o777 == mode, "the device's permissions were changed"
    finally:
        if os.stat("/dev/full").st_mode & 0o777 != mode:
            os.chmod("/dev/full", mode)
    assert r.code == 2, r.err
    assert "Traceback" not in r.err and "No space left on device" in r.err and "NOT revoked" in r.err
    assert wz.emu.is_live(k.key) and not wz.emu.calls("DELETE")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_disk_full_audit_log_stops_a_rotation_before_creating(wz: Harness) -> None:
    k = wz.seed("leaked")
    mode = os.stat("/dev/full").st_mode & 0o777
    new = wz.out / "new.key"
    try:
        r = wz.run("rotate", "-", "-o", str(new), "--revoke-old", "--audit-log", "/dev/full", input=k.key + "\n")
    finally:
        if os.stat("/dev/full").st_mode & 0o777 != mode:
            os.chmod("/dev/full", mode)
    assert r.code == 2 and "Traceback" not in r.err and "nothing created" in r.err
    assert not new.exists() and not wz.emu.calls("POST") and wz.emu.is_live(k.key)


def test_audit_log_to_a_pipe_keeps_the_pipes_permissions(wz: Harness, tmp_path: Path) -> None:
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo, 0o644)
    os.chmod(fifo, 0o644)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=read, daemon=True)
    t.start()
    k = wz.seed("leaked")
    r = wz.run("dir", str(wz.plant(k.key)), "--revoke", "--yes", "--audit-log", str(fifo))
    t.join(10)
    assert r.code == 1, r.err
    assert stat.S_IMODE(os.stat(fifo).st_mode) == 0o644
    assert b'"result": "deleted"' in got[0] and k.key.encode() not in got[0]
    assert not wz.emu.is_live(k.key)
