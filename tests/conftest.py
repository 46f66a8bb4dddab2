from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config leaks into tests; commits get a fixed identity."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "Ada Lovelace")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "ada@example.com")


# The Weavz API emulator and the leak-checking CLI harness (tests/weavz_fixtures.py).
from tests.weavz_fixtures import emulator, tls_emulator, wz, wz_tls  # noqa: E402, F401
