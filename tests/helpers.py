"""Shared test helpers: keys made at run time (no key-shaped literal is ever committed), the CLI, git."""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "wvz" + "_"  # split so this file never holds a key-shaped literal

LOWER = string.ascii_lowercase + string.digits
MIXED = string.ascii_letters + string.digits


def make_key(kind: str = "lower32") -> str:
    """A random, realistic Weavz key. kinds: lower32, mixed40, uuid, hex64, lower16."""
    if kind == "lower32":
        body = "".join(secrets.choice(LOWER) for _ in range(32))
    elif kind == "mixed40":
        body = "".join(secrets.choice(MIXED) for _ in range(40))
    elif kind == "uuid":
        body = str(uuid.uuid4())
    elif kind == "hex64":
        body = secrets.token_hex(32)
    elif kind == "lower16":
        body = "".join(secrets.choice(LOWER) for _ in range(16))
    else:
        raise ValueError(kind)
    from wvzscan.detect import placeholder_reason

    key = PREFIX + body
    # One random body in ~10^5 trips a placeholder rule; tests need keys that are always keys.
    return key if placeholder_reason(key) is None else make_key(kind)


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_", "WEAVZ_", "PRE_COMMIT"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["NO_COLOR"] = "1"
    env.pop("CI", None)
    if extra:
        env.update(extra)
    return env


def run_cli(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    input: str | bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    in_process: bool | None = None,
) -> Run:
    """The real CLI, ``wvzscan.cli.main(argv)``: in this process by default (a subprocess costs ~75 ms),
    with its own environment, working folder and standard streams; ``in_process=False`` (or
    WVZSCAN_TEST_SUBPROCESS=1) runs ``python -m wvzscan`` with this checkout first on the path instead."""
    data = input.encode() if isinstance(input, str) else input
    if in_process is None:
        # The process's own descriptors (/dev/stdout, /dev/fd/3, ...) exist only in a real process.
        own_fds = any(d in a for a in args for d in ("/dev/std", "/dev/fd/", "/proc/self/fd"))
        in_process = not own_fds and not os.environ.get("WVZSCAN_TEST_SUBPROCESS")
    if in_process:
        return _in_process(list(args), cwd, data, cli_env(env))
    p = subprocess.run(
        [sys.executable, "-m", "wvzscan", *args],
        cwd=cwd,
        input=data,
        capture_output=True,
        env=cli_env(env),
        timeout=timeout,
    )
    return Run(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def _in_process(args: list[str], cwd: str | os.PathLike[str] | None, data: bytes | None, env: dict[str, str]) -> Run:
    import io
    import traceback

    from wvzscan.cli import main

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="surrogateescape", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True)
    sys.stdin = io.TextIOWrapper(io.BytesIO(data or b""), encoding="utf-8")
    sys.stdout, sys.stderr = stdout, stderr
    os.environ.clear()
    os.environ.update(env)
    try:
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(args)
        except SystemExit as e:  # a command that still exits by itself
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception:  # what an uncaught exception does to a real process
            traceback.print_exc(file=stderr)
            code = 1
        stdout.flush()
        stderr.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
    return Run(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))


def git(cwd: str | os.PathLike[str], *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
    full_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ada Lovelace",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Lovelace",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        **(env or {}),
    }
    p = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=full_env, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {p.stderr.decode(errors='replace')}")
    return p.stdout.decode("utf-8", "replace").strip()


def init_repo(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def commit_file(repo: Path, rel: str, content: str | bytes, message: str = "change") -> str:
    p = repo / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        p.write_text(content)
    else:
        p.write_bytes(content)
    git(repo, "add", "--", rel)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def sarif_schema() -> Any:
    """OASIS's SARIF 2.1.0 JSON schema (errata 01), kept in tests/data: reports are validated against it."""
    return json.loads((ROOT / "tests" / "data" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
