"""Time `wvzscan dir` against `grep -rF wvz_` on the same tree, in the same run, with peak memory.

    python benchmarks/dir_bench.py [TREE] [--runs N]

TREE defaults to benchmarks/work/tree, built by make_tree.py when missing. Runs alternate between the
two commands (page cache warmed first) and the medians are compared: the ratio is what to report,
since machines here are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd: list[str], cwd: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KB, the process and the children it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tree", nargs="?", default=os.path.join(HERE, "work", "tree"))
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if not os.path.isdir(args.tree):
        subprocess.run([sys.executable, os.path.join(HERE, "make_tree.py"), args.tree], check=True)
    wvzscan = [sys.executable, "-m", "wvzscan", "dir", ".", "-q", "--format", "json", "-o", os.devnull]
    grep = [shutil.which("grep") or "grep", "-rF", "wvz_", "."]
    env_root = os.path.dirname(HERE)
    os.environ["PYTHONPATH"] = env_root + os.pathsep + os.environ.get("PYTHONPATH", "")
    timed(grep, args.tree)  # warm the page cache
    t_w, t_g, m_w, m_g = [], [], [], []
    for _ in range(args.runs):
        s, m = timed(grep, args.tree)
        t_g.append(s)
        m_g.append(m)
        s, m = timed(wvzscan, args.tree)
        t_w.append(s)
        m_w.append(m)
    g, w = statistics.median(t_g), statistics.median(t_w)
    print(f"tree: {args.tree}")
    print(f"grep -rF wvz_ : median {g:.2f} s over {args.runs} runs, peak {max(m_g) / 1024:.0f} MB")
    print(f"wvzscan dir   : median {w:.2f} s over {args.runs} runs, peak {max(m_w) / 1024:.0f} MB")
    print(f"ratio wvzscan/grep: {w / g:.2f}x")


if __name__ == "__main__":
    main()
