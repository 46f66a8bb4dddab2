"""Time ``wvzscan repo`` against the physical floor on any repository, with peak memory.

    python benchmarks/git_bench.py PATH [--runs 2] [-- extra wvzscan args]

The floor is ``git cat-file --batch-all-objects --batch --unordered > /dev/null``: reading every
object once, which no history scanner can beat by much. Both are run in the same session,
alternating, and the best run of each is kept. Memory: the peak RSS of the wvzscan process
itself (VmHWM) and the peak of the sum over its whole process tree (its git readers included,
sampled every 20 ms), next to the floor's git process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tree_rss_kb(pid: int) -> int:
    """Sum of VmRSS over ``pid`` and its descendants."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return total


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(cmd: list[str], stdout: int | None = None, env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall time, CPU time (the process and every child it waited for) and peak memory."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    peak_tree = hwm = 0
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        peak_tree = max(peak_tree, _tree_rss_kb(p.pid))
        hwm = max(hwm, _hwm_kb(p.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    p.returncode = code
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if code not in (0, 1, 3):
        sys.exit(f"{cmd[0]} failed ({code}): {err[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "tree_mb": peak_tree / 1024, "self_mb": hwm / 1024, "code": float(code)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--runs", type=int, default=2)
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = ap.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    git_dir = subprocess.run(
        ["git", "-C", args.path, "rev-parse", "--absolute-git-dir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    floor_cmd = ["git", "--git-dir", git_dir, "cat-file", "--batch-all-objects", "--batch", "--unordered"]
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        scan_cmd = [
            sys.executable,
            "-m",
            "wvzscan",
            "repo",
            args.path,
            "-q",
            "--format",
            "json",
            "-o",
            report,
        ]
        scan_cmd += extra
        floors, scans = [], []
        for _ in range(args.runs):
            with open(os.devnull, "wb") as null:
                floors.append(measure(floor_cmd, stdout=null.fileno()))
            scans.append(measure(scan_cmd, env=env))
        doc = json.loads(Path(report).read_text())
    floor = min(floors, key=lambda r: r["wall"])
    scan = min(scans, key=lambda r: r["wall"])
    stats = doc["stats"]
    print(f"repository     {args.path}")
    print(f"floor          {floor['wall']:.2f} s  (git cat-file --batch-all-objects --batch --unordered > /dev/null)")
    print(f"               peak RSS {floor['tree_mb']:.0f} MB, CPU {floor['cpu']:.2f} s")
    print(f"wvzscan repo   {scan['wall']:.2f} s  exit {int(scan['code'])}, CPU {scan['cpu']:.2f} s (all processes)")
    print(
        f"               peak RSS: wvzscan process {scan['self_mb']:.0f} MB, "
        f"with its git readers {scan['tree_mb']:.0f} MB"
    )
    print(
        f"               {stats['objects_scanned']:,} objects, "
        f"{stats['bytes_scanned'] / 1e9:.2f} GB scanned, "
        f"{len(doc['findings'])} findings, {len(doc['errors'])} errors"
    )
    print(f"ratio          {scan['wall'] / floor['wall']:.2f}x the floor")
    with open("/proc/loadavg") as f:
        print(f"load average   {f.read().split()[0]} after the runs ({os.cpu_count()} CPUs)")
    print(
        "all runs       floor "
        + ", ".join(f"{r['wall']:.2f}" for r in floors)
        + " | wvzscan "
        + ", ".join(f"{r['wall']:.2f}" for r in scans)
    )
    planted = Path(git_dir) / "planted.json"
    if planted.exists():
        want = {p["fingerprint"] for p in json.loads(planted.read_text())}
        got = {f["fingerprint"] for f in doc["findings"]}
        print(f"planted keys   {len(want & got)}/{len(want)} found")


if __name__ == "__main__":
    main()
