"""verify and revoke through the Python API, against the Weavz API emulator on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.emulator import Emulator
from tests.weavz_fixtures import FAST_ENV
from wvzscan import api

# The emulator's fixture comes from tests/conftest.py.


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in FAST_ENV.items():
        monkeypatch.setenv(k, v)


def _tree(tmp_path: Path, *keys: str) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.env").write_text("".join(f"K{i}={k}\n" for i, k in enumerate(keys)))
    return src


def test_verify_fills_each_finding_once_per_key(emulator: Emulator, tmp_path: Path) -> None:
    live = emulator.seed_key("deploy").key
    old = emulator.seed_key("old")
    old.record.revoked = True  # revoked before the scan: the API must call it invalid
    dead = old.key
    result = api.scan_paths([str(_tree(tmp_path, live, dead, live))])
    outcome = api.verify(result, api_url=emulator.url)
    statuses = {(f.secret, f.status) for f in result.findings}
    assert statuses == {(live, "live"), (dead, "invalid")}
    assert outcome.exit_code == 0 and set(outcome.verdicts) == {live, dead}
    assert result.exit_code(fail_on="live") == 1


def test_revoke_needs_a_yes_and_writes_the_journal(emulator: Emulator, tmp_path: Path) -> None:
    key = emulator.seed_key("leaked").key
    result = api.scan_paths([str(_tree(tmp_path, key))])
    journal = tmp_path / "audit.jsonl"
    asked: list[str] = []
    said: list[str] = []

    def refuse(question: str) -> bool:
        asked.append(question)
        return False

    outcome = api.revoke(result, audit_log=str(journal), api_url=emulator.url, confirm=refuse, say=said.append)
    assert asked and emulator.is_live(key) and result.findings[0].revocation["result"] == "skipped"
    assert outcome.exit_code == 2
    outcome = api.revoke(result, audit_log=str(journal), api_url=emulator.url, yes=True)
    assert outcome.exit_code == 0 and not emulator.is_live(key)
    assert result.findings[0].revocation["result"] == "revoked"
    actions = [json.loads(line)["action"] for line in journal.read_text().splitlines()]
    assert "verify-dead" in actions
    assert key not in journal.read_text() and all(key not in s for s in said)
