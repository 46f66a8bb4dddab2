"""Cost of decoded views and archives on ordinary content: `wvzscan dir` on a large tree of real files.

Builds (once, cached) a tree of N copies of the Python standard library's sources, then times the real CLI
(`python -m wvzscan dir TREE --format json -q`) for each code checkout given, alternating runs to even out
drift, plus an in-process figure for ``scan.hits`` alone over the same bytes held in memory (no I/O: the
worst case for any overhead the decoders add).

    python benchmarks/decode_bench.py --code BEFORE_CHECKOUT --code . --copies 4 --runs 5

``--with-archives`` also copies the archives the standard library ships (wheels, test zips and tars), so
the second figure includes the cost of opening them. The in-memory figure is also given for the plain
scan alone (decoding off, same process): the decoded views' own cost, which should stay under 10%. Run it
with ``WVZSCAN_NO_HYPERSCAN=1`` for the figure without Hyperscan.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ARCHIVE_SUFFIXES = (".zip", ".whl", ".tar", ".gz", ".xz", ".bz2", ".tgz", ".db", ".sqlite")

HITS_SNIPPET = r"""
import os, sys, time
from wvzscan import scan
from wvzscan.detect import Rules
blobs = []
for d, dirs, files in os.walk(sys.argv[1]):
    for n in files:
        with open(os.path.join(d, n), "rb") as f:
            blobs.append(f.read())
plain = Rules(decode=frozenset())
best = {"views": None, "plain": None}
for _ in range(int(sys.argv[2])):
    for name, rules in (("views", None), ("plain", plain)):
        t = time.perf_counter()
        for b in blobs:
            for _h in (scan.hits(b) if rules is None else scan.hits(b, rules)):
                pass
        el = time.perf_counter() - t
        best[name] = el if best[name] is None else min(best[name], el)
print(best["views"], sum(map(len, blobs)), best["plain"])
"""


def build_tree(dest: Path, copies: int, with_archives: bool) -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    if os.environ.get("BENCH_STDLIB"):
        stdlib = Path(os.environ["BENCH_STDLIB"])

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in ("__pycache__", "site-packages") or n.startswith("config-")}
        if not with_archives:
            skip |= {n for n in names if n.endswith(ARCHIVE_SUFFIXES)}
        return skip

    tmp = dest.with_name(dest.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    for i in range(copies):
        shutil.copytree(stdlib, tmp / f"copy{i}", ignore=ignore, symlinks=True)
    tmp.rename(dest)


def tree_size(root: Path) -> tuple[int, int]:
    files = size = 0
    for d, _dirs, names in os.walk(root):
        for n in names:
            files += 1
            size += os.lstat(os.path.join(d, n)).st_size
    return files, size


def cli_once(code: str, tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": code}
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "wvzscan", "dir", str(tree), "--format", "json", "-q"],
        env=env,
        capture_output=True,
        cwd="/",  # not a checkout: `-m` puts the working directory first on sys.path
    )
    el = time.perf_counter() - t
    if p.returncode not in (0, 1, 3):
        raise SystemExit(f"wvzscan failed with {p.returncode}: {p.stderr.decode(errors='replace')}")
    return el


def hits_time(code: str, tree: Path, runs: int) -> tuple[float, int, float]:
    """Best time of ``scan.hits`` over the tree in memory with the decoded views, its bytes, and the best
    time of the plain scan alone (decoding off) in the same process."""
    env = {**os.environ, "PYTHONPATH": code}
    out = subprocess.run(
        [sys.executable, "-c", HITS_SNIPPET, str(tree), str(runs)], env=env, capture_output=True, check=True, cwd="/"
    ).stdout.split()
    return float(out[0]), int(out[1]), float(out[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--code", action="append", required=True, help="checkout to time (repeat to compare)")
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--with-archives", action="store_true")
    ap.add_argument("--tree", help="where to build the tree (default: /tmp/wvzscan-bench-*)")
    args = ap.parse_args()
    kind = "archives" if args.with_archives else "plain"
    tree = Path(args.tree or f"/tmp/wvzscan-bench-{kind}-{args.copies}")
    if not tree.exists():
        build_tree(tree, args.copies, args.with_archives)
    files, size = tree_size(tree)
    print(f"tree {tree}: {files} files, {size / 1e6:.1f} MB")
    codes = [str(Path(c).resolve()) for c in args.code]
    for c in codes:  # warm the page cache and each checkout's bytecode
        cli_once(c, tree)
    times: dict[str, list[float]] = {c: [] for c in codes}
    for _ in range(args.runs):
        for c in codes:
            times[c].append(cli_once(c, tree))
    base = None
    for c in codes:
        med, best = statistics.median(times[c]), min(times[c])
        h, nbytes, plain = hits_time(c, tree, args.runs)
        line = (
            f"{c}: wvzscan dir median {med:.2f} s, best {best:.2f} s ({size / 1e6 / med:.0f} MB/s); "
            f"hits() in memory best {h:.2f} s ({nbytes / 1e6 / h:.0f} MB/s), plain scan alone {plain:.2f} s: "
            f"decoded views {100 * (h / plain - 1):+.1f}%"
        )
        if base is None:
            base = (med, h)
        else:
            line += f"; vs first: dir {100 * (med / base[0] - 1):+.1f}%, hits {100 * (h / base[1] - 1):+.1f}%"
        print(line)


if __name__ == "__main__":
    main()
