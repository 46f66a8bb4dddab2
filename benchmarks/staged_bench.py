"""Start-up of the pre-commit hook: `wvzscan staged` on a one-line staged change, paired runs.

    python benchmarks/staged_bench.py [--runs 30] [--compare SRC]

Builds a small repository in a temporary folder (one 200-line file committed, one line of it changed
and staged), then times `python -m wvzscan staged` there: this checkout, and with ``--compare SRC``
another source folder (e.g. `git archive main | tar -x -C /tmp/before`), alternately, after three
warm-up runs each (which also write the bytecode, as an install has it). Prints the median wall and
CPU seconds of each and the median of the paired ratios: compare versions with the ratio, since
machines here are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _repo(folder: Path) -> Path:
    repo = folder / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.name", "bench")
    _git(repo, "config", "user.email", "bench@example.com")
    lines = [f"value_{i} = {i * 7919 % 1000}\n" for i in range(200)]
    (repo / "settings.py").write_text("".join(lines))
    _git(repo, "add", "settings.py")
    _git(repo, "commit", "-q", "-m", "start")
    lines[100] = "value_100 = 'changed'\n"
    (repo / "settings.py").write_text("".join(lines))
    _git(repo, "add", "settings.py")
    return repo


def _run(src: Path, repo: Path) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(src)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "wvzscan", "staged"], cwd=repo, env=env, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"wvzscan staged from {src} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--compare", type=Path)
    args = ap.parse_args()
    sources = {"wvzscan": ROOT} | ({args.compare.name or "compare": args.compare.resolve()} if args.compare else {})
    with tempfile.TemporaryDirectory() as tmp:
        repo = _repo(Path(tmp))
        for src in sources.values():
            for _ in range(3):
                _run(src, repo)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in sources}
        for _ in range(args.runs):
            for name, src in sources.items():
                times[name].append(_run(src, repo))
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:12} {sources[name]}: median wall {wall * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms", end="")
        print(f" over {len(runs)} runs")
    if args.compare:
        a, b = times.values()
        ratio = statistics.median(x[0] / y[0] for x, y in zip(a, b, strict=True))
        print(f"paired median wall ratio wvzscan/{list(sources)[1]}: {ratio:.3f}")


if __name__ == "__main__":
    main()
