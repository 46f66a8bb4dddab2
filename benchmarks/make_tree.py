"""Build a large file tree for `wvzscan dir` benchmarks: copies of a real source tree, keys planted.

    python benchmarks/make_tree.py OUT [--source DIR] [--copies N] [--keys K]

The default source is this Python's standard library (sources and bytecode, no site-packages).
Keys are generated at run time and planted in K random files; their count is printed.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import string
import sysconfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--source", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--copies", type=int, default=7)
    ap.add_argument("--keys", type=int, default=25)
    args = ap.parse_args()
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    ignore = shutil.ignore_patterns("site-packages")
    for i in range(args.copies):
        shutil.copytree(args.source, os.path.join(args.out, f"copy{i:02d}"), ignore=ignore, symlinks=True)
    files = []
    total = 0
    for d, _dirs, names in os.walk(args.out):
        for n in names:
            p = os.path.join(d, n)
            if os.path.isfile(p) and not os.path.islink(p):
                files.append(p)
                total += os.path.getsize(p)
    rng = random.Random(7)
    alphabet = string.ascii_lowercase + string.digits
    for p in rng.sample(files, min(args.keys, len(files))):
        key = "wvz_" + "".join(secrets.choice(alphabet) for _ in range(32))
        with open(p, "ab") as f:
            f.write(f"\nWEAVZ_API_KEY = '{key}'\n".encode())
    print(f"{len(files)} files, {total / 1e6:.0f} MB, {args.keys} keys planted in {args.out}")


if __name__ == "__main__":
    main()
