"""The revocation prompt on a real terminal (a pty): no, yes, and end of input."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT
from tests.weavz_fixtures import FAST_ENV, Harness

pty = pytest.importorskip("pty")


def _on_tty(wz: Harness, args: list[str], answer: bytes) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEAVZ_", "CI", "GITHUB_"))}
    env.update(FAST_ENV, WEAVZ_API_URL=wz.emu.url, PYTHONPATH=str(ROOT), NO_COLOR="1")
    # A pty pair and subprocess rather than pty.fork(): forking this multi-threaded process (the
    # emulator serves from a thread) is deprecated since Python 3.12 and may deadlock the child.
    fd, tty = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "wvzscan", *args],
        stdin=tty,
        stdout=tty,
        stderr=tty,
        cwd=wz.tmp,
        env=env,
        start_new_session=True,
    )
    os.close(tty)
    out, sent, start = b"", False, time.monotonic()
    while time.monotonic() - start < 30:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
        if not sent and b"[y/N]" in out:
            os.write(fd, answer)
            sent = True
    code = child.wait(timeout=30)
    os.close(fd)
    text = out.decode(errors="replace")
    wz.outputs.append((f"terminal of {args}", text))
    return code, text


@pytest.mark.parametrize(
    ("answer", "revoked"),
    [(b"n\n", False), (b"\n", False), (b"y\n", True), (b"\x04", False)],
    ids=["no", "enter", "yes", "eof"],
)
def test_prompt_on_a_terminal(wz: Harness, answer: bytes, revoked: bool) -> None:
    k = wz.seed("leaked")
    log = wz.out / "audit.jsonl"
    code, text = _on_tty(
        wz, ["dir", str(wz.plant(k.key)), "--revoke", "--no-progress", "--audit-log", str(log)], answer
    )
    assert "Traceback" not in text and "Aborted" not in text
    assert wz.emu.is_live(k.key) is not revoked
    if revoked:
        assert code == 1 and "revoked (key id" in text
    else:
        assert code == 2 and "not confirmed" in text and "revocation" in text  # the report still comes
        assert [r["result"] for r in wz.audit(log)] == ["skipped"] and not wz.emu.calls("DELETE")
