"""Time `wvzscan dir` against `grep -rF wvz_` on the same tree, in the same run, with peak memory.

    python benchmarks/dir_bench.py [TREE] [--runs N] [--compare SRC]

TREE defaults to benchmarks/work/tree, built by make_tree.py when missing. Runs alternate between the
two commands (page cache warmed first) and the medians are compared: the ratio is what to report,
since machines here are shared and noisy.

--compare SRC also times the wvzscan of another source folder (e.g. `git archive main | tar -x -C
/tmp/before`) in the same alternation, so a change is measured before/after under the same load.
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


def timed(cmd: list[str], cwd: str, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KB, the process and the children it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tree", nargs="?", default=os.path.join(HERE, "work", "tree"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--compare", metavar="SRC", help="also time the wvzscan in this source folder")
    args = ap.parse_args()
    if not os.path.isdir(args.tree):
        subprocess.run([sys.executable, os.path.join(HERE, "make_tree.py"), args.tree], check=True)
    wvzscan = [sys.executable, "-m", "wvzscan", "dir", ".", "-q", "--format", "json", "-o", os.devnull]
    grep = [shutil.which("grep") or "grep", "-rF", "wvz_", "."]
    env_root = os.path.dirname(HERE)
    os.environ["PYTHONPATH"] = env_root + os.pathsep + os.environ.get("PYTHONPATH", "")
    other_env = None
    if args.compare:
        other_env = {**os.environ, "PYTHONPATH": os.path.abspath(args.compare)}
    for src in [env_root] + ([args.compare] if args.compare else []):  # bytecode first, as an install has it
        subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(src, "wvzscan")], check=True)
    timed(grep, args.tree)  # warm the page cache
    t_w, t_g, t_o, m_w, m_g, m_o = [], [], [], [], [], []
    for _ in range(args.runs):
        s, m = timed(grep, args.tree)
        t_g.append(s)
        m_g.append(m)
        s, m = timed(wvzscan, args.tree)
        t_w.append(s)
        m_w.append(m)
        if other_env is not None:
            s, m = timed(wvzscan, args.tree, other_env)
            t_o.append(s)
            m_o.append(m)
    g, w = statistics.median(t_g), statistics.median(t_w)
    print(f"tree: {args.tree}")
    print(f"grep -rF wvz_ : median {g:.2f} s over {args.runs} runs, peak {max(m_g) / 1024:.0f} MB")
    print(f"wvzscan dir   : median {w:.2f} s over {args.runs} runs, peak {max(m_w) / 1024:.0f} MB")
    print(f"ratio wvzscan/grep: {w / g:.2f}x")
    # Paired: each run's ratio against the grep run next to it, then the median of those.
    print(f"paired median ratio: {statistics.median(x / y for x, y in zip(t_w, t_g, strict=True)):.2f}x")
    if t_o:
        o = statistics.median(t_o)
        print(f"compare ({args.compare}): median {o:.2f} s, peak {max(m_o) / 1024:.0f} MB, ratio {o / g:.2f}x")
        print(f"compare paired median ratio: {statistics.median(x / y for x, y in zip(t_o, t_g, strict=True)):.2f}x")


if __name__ == "__main__":
    main()
