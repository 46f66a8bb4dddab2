"""Fixtures for the Weavz API tests: the emulator, and a harness that runs the real CLI against it
while recording every output, so that teardown can prove no full key leaked anywhere."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import Emulator, Seeded
from tests.helpers import Run, run_cli

# Short waits so that retries and lastUsedAt probes cost milliseconds in tests.
FAST_ENV = {
    "WVZSCAN_BACKOFF": "0.01",
    "WVZSCAN_RESOLVE_WAIT": "0.02",
    "WVZSCAN_MAX_WAIT": "2",
    "WVZSCAN_TIMEOUT": "2",
}


@dataclass
class Harness:
    emu: Emulator
    tmp: Path
    out: Path  # reports and audit logs go here; every file in it is checked for keys at teardown
    outputs: list[tuple[str, str]] = field(default_factory=list)
    exempt_files: set[Path] = field(default_factory=set)

    def seed(self, name: str = "key", **kw: Any) -> Seeded:
        return self.emu.seed_key(name, **kw)

    def plant(self, *keys: str, name: str = "config.env") -> Path:
        """A tree to scan, one key per line."""
        src = self.tmp / "src"
        src.mkdir(exist_ok=True)
        (src / name).write_text("".join(f"WEAVZ_API_KEY_{i}={k}\n" for i, k in enumerate(keys)))
        return src

    def run(
        self,
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        url: bool = True,
        in_process: bool | None = None,
    ) -> Run:
        full_env = dict(FAST_ENV)
        if url:
            full_env["WEAVZ_API_URL"] = self.emu.url
        full_env.update(env or {})
        r = run_cli(*args, input=input, env=full_env, cwd=self.tmp, timeout=60, in_process=in_process)
        if "--show-secrets" not in args and "--print-new-key" not in args:
            self.outputs.append((f"stdout of {args}", r.out))
        self.outputs.append((f"stderr of {args}", r.err))
        return r

    def audit(self, path: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in path.read_text().splitlines()]

    def leaks(self) -> list[str]:
        """Where any full key (seeded or created through the API) shows up in recorded output."""
        keys = set(self.emu.plain.values())
        found = []
        texts = list(self.outputs)
        for p in sorted(self.out.rglob("*")):
            if p.is_file() and p not in self.exempt_files:
                texts.append((str(p), p.read_text(errors="replace")))
        for label, text in texts:
            for k in keys:
                if k in text:
                    found.append(f"{k[:8]}… in {label}")
        return found


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def tls_emulator() -> Iterator[Emulator]:
    with Emulator(tls=True) as emu:
        yield emu


def _harness(emu: Emulator, tmp_path: Path) -> Iterator[Harness]:
    out = tmp_path / "out"
    out.mkdir()
    h = Harness(emu, tmp_path, out)
    yield h
    leaked = h.leaks()
    assert not leaked, f"full keys leaked: {leaked}"


@pytest.fixture
def wz(emulator: Emulator, tmp_path: Path) -> Iterator[Harness]:
    """The CLI against the emulator; fails at teardown if any full key appeared in any output."""
    yield from _harness(emulator, tmp_path)


@pytest.fixture
def wz_tls(tls_emulator: Emulator, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(tls_emulator, tmp_path)


def file_mode(p: Path) -> int:
    return os.stat(p).st_mode & 0o777


def reshape_list(emu: Emulator, fn: Callable[[dict[str, Any]], Any]) -> None:
    """Every 200 answer of GET /api/v1/api-keys goes through ``fn``."""
    orig = emu.handle

    def handle(method: str, path: str, auth: str | None, body: bytes) -> tuple[int, Any, dict[str, str]]:
        status, doc, headers = orig(method, path, auth, body)
        if method == "GET" and path.startswith("/api/v1/api-keys") and status == 200:
            doc = fn(doc)
        return status, doc, headers

    emu.handle = handle  # type: ignore[method-assign]
