"""Time ``wvzscan repo`` against the physical floor on any repository, with peak memory.

    python benchmarks/git_bench.py PATH [--runs 5] [--compare SRC]... [-- extra wvzscan args]

The floor is ``git cat-file --batch-all-objects --batch --unordered > /dev/null``: reading every
object once, which no history scanner can beat by much. Both are run in the same session,
alternating, and the medians are compared (also paired: the median of each run's ratio to the floor
run next to it), in wall and CPU seconds: machines here are shared and noisy, so ratios and CPU
seconds are what to report. ``--compare SRC`` times the wvzscan of another source folder (e.g.
``git archive main | tar -x -C /tmp/before``) in the same alternation and checks that its JSON
report is identical (every finding, error and note) minus the ``seconds``. Memory: the peak RSS of the wvzscan process
itself (VmHWM) and the peak of the sum over its whole process tree (its git readers included,
sampled every 20 ms), next to the floor's git process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def measure(
    cmd: list[str], stdout: int | None = None, env: dict[str, str] | None = None, cwd: str | None = None
) -> dict[str, float]:
    """Wall time, CPU time (the process and every child it waited for) and peak memory."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env, cwd=cwd)
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


def _strip_seconds(doc: object) -> object:
    """The report without its timings: what must be identical before and after a change."""
    if isinstance(doc, dict):
        return {k: _strip_seconds(v) for k, v in doc.items() if k != "seconds"}
    if isinstance(doc, list):
        return [_strip_seconds(v) for v in doc]
    return doc


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def _paired(xs: list[float], ys: list[float]) -> float:
    """The median of the per-run ratios x/y (each run against the one next to it)."""
    return statistics.median(x / y for x, y in zip(xs, ys, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--compare",
        metavar="SRC",
        action="append",
        default=[],
        help="also time the wvzscan in this source folder (repeatable), in the same alternation",
    )
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = ap.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    git_dir = subprocess.run(
        ["git", "-C", args.path, "rev-parse", "--absolute-git-dir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    floor_cmd = ["git", "--git-dir", git_dir, "cat-file", "--batch-all-objects", "--batch", "--unordered"]
    sources = [("wvzscan", str(ROOT))] + [(os.path.basename(os.path.abspath(c)) or c, c) for c in args.compare]
    for _, src in sources:
        # Bytecode first, as an install has it: with PYTHONDONTWRITEBYTECODE set, a source never
        # compiled would pay ~40 ms of compiling in every run (a false 7% on a small repository).
        subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(src, "wvzscan")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        floors: list[dict[str, float]] = []
        scans: dict[str, list[dict[str, float]]] = {name: [] for name, _ in sources}
        docs: dict[str, object] = {}
        for _ in range(args.runs):
            with open(os.devnull, "wb") as null:
                floors.append(measure(floor_cmd, stdout=null.fileno()))
            for i, (name, src) in enumerate(sources):
                report = os.path.join(tmp, f"report{i}.json")
                scan_cmd = [sys.executable, "-m", "wvzscan", "repo", os.path.abspath(args.path), "-q"]
                scan_cmd += ["--format", "json", "-o", report]
                env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
                # Run in the empty temporary folder: ``python -m`` puts the working directory first
                # on sys.path, so started from a checkout every source would import that checkout.
                scans[name].append(measure(scan_cmd + extra, env=env, cwd=tmp))
                docs[name] = json.loads(Path(report).read_text())
    fw = [r["wall"] for r in floors]
    fc = [r["cpu"] for r in floors]
    print(f"repository     {args.path}  ({args.runs} runs, alternating; medians; paired = median of per-run ratios)")
    peak = max(r["tree_mb"] for r in floors)
    print(f"floor          wall {_median(fw):.2f} s, CPU {_median(fc):.2f} s, peak RSS {peak:.0f} MB")
    print("               (git cat-file --batch-all-objects --batch --unordered > /dev/null)")
    first = sources[0][0]
    for name, src in sources:
        rs = scans[name]
        w = [r["wall"] for r in rs]
        c = [r["cpu"] for r in rs]
        doc = docs[name]
        assert isinstance(doc, dict)
        stats = doc["stats"]
        print(f"{name:<14} {src}")
        print(
            f"               wall {_median(w):.2f} s, CPU {_median(c):.2f} s (all processes), "
            f"exit {int(rs[0]['code'])}; "
            f"paired wall {_paired(w, fw):.3f}x the floor, "
            f"CPU {_paired(c, fc):.3f}x"
        )
        print(
            f"               peak RSS: wvzscan process {max(r['self_mb'] for r in rs):.0f} MB, "
            f"with its git readers {max(r['tree_mb'] for r in rs):.0f} MB"
        )
        print(
            f"               {stats['objects_scanned']:,} objects, {stats['bytes_scanned'] / 1e9:.2f} GB scanned, "
            f"{len(doc['findings'])} findings, {len(doc['errors'])} errors, {len(doc.get('notes', []))} notes"
        )
        print("               runs: " + ", ".join(f"{r['wall']:.2f}/{r['cpu']:.1f}" for r in rs) + " (wall/CPU s)")
        if name != first:
            w0 = [r["wall"] for r in scans[first]]
            c0 = [r["cpu"] for r in scans[first]]
            same = _strip_seconds(doc) == _strip_seconds(docs[first])
            if not same:
                for n in (first, name):
                    kept = Path(tempfile.gettempdir()) / f"git_bench_{n}.json"
                    kept.write_text(json.dumps(docs[n], indent=1, sort_keys=True))
                    print(f"               report kept: {kept}")
            print(
                f"               {first}/{name}: paired wall {_paired(w0, w):.3f}, "
                f"CPU {_paired(c0, c):.3f}; "
                f"reports {'identical' if same else 'DIFFER'} (minus seconds)"
            )
    print("floor runs     " + ", ".join(f"{r['wall']:.2f}/{r['cpu']:.1f}" for r in floors))
    with open("/proc/loadavg") as f:
        print(f"load average   {f.read().split()[0]} after the runs ({os.cpu_count()} CPUs)")
    planted = Path(git_dir) / "planted.json"
    if planted.exists():
        want = {p["fingerprint"] for p in json.loads(planted.read_text())}
        doc = docs[first]
        assert isinstance(doc, dict)
        got = {f["fingerprint"] for f in doc["findings"]}
        print(f"planted keys   {len(want & got)}/{len(want)} found")


if __name__ == "__main__":
    main()
