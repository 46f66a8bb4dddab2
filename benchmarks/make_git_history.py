"""Build a synthetic git history for benchmarks: many commits with realistic small deltas, keys planted.

    python benchmarks/make_git_history.py OUT_DIR [--commits 20000] [--files 1500] [--keys 12]

Written through ``git fast-import`` (a 20,000-commit history builds in well under a minute). Keys
are made at run time (never stored in this repository); the planted ones are listed in
OUT_DIR/planted.json (fingerprints and where they were put) so a run can be checked for recall.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import secrets
import string
import subprocess
import sys
from pathlib import Path

WORDS = [
    "def",
    "class",
    "return",
    "import",
    "from",
    "self",
    "data",
    "value",
    "result",
    "config",
    "client",
    "request",
    "response",
    "error",
    "handler",
    "user",
    "session",
    "token",
    "cache",
    "index",
    "query",
    "items",
    "count",
    "total",
    "name",
    "path",
    "file",
    "line",
    "test",
]
PREFIX = "wvz" + "_"
ALPHABET = string.ascii_lowercase + string.digits


def make_key(rng: random.Random) -> str:
    return PREFIX + "".join(rng.choice(ALPHABET) for _ in range(32))


def source_line(rng: random.Random) -> str:
    indent = "    " * rng.randint(0, 3)
    return indent + " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9))) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--commits", type=int, default=20000)
    ap.add_argument("--files", type=int, default=1500)
    ap.add_argument("--keys", type=int, default=12)
    ap.add_argument("--big-blob-mb", type=int, default=0, help="also commit one blob of this many MB")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    rng = random.Random(args.seed if args.seed is not None else secrets.randbits(64))
    out = Path(args.out)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(out)], check=True)
    files: dict[str, list[str]] = {}
    for i in range(args.files):
        d = f"src/pkg{i % 37}/mod{i % 11}"
        files[f"{d}/file{i}.py"] = [source_line(rng) for _ in range(rng.randint(20, 400))]
    plant_at = set(rng.sample(range(1, args.commits), min(args.keys, args.commits - 1)))
    planted: list[dict[str, object]] = []
    fi = subprocess.Popen(["git", "--git-dir", str(out), "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE)
    assert fi.stdin is not None
    w = fi.stdin.write

    def data(b: bytes) -> None:
        w(b"data %d\n" % len(b))
        w(b)
        w(b"\n")

    ts = 1_500_000_000
    branch = "refs/heads/main"
    for n in range(args.commits):
        ts += rng.randint(60, 20000)
        message = f"change {n}: " + " ".join(rng.choice(WORDS) for _ in range(6))
        ops: list[bytes] = []
        if n == 0:
            touched = list(files)
        else:
            touched = rng.sample(list(files), rng.randint(1, 3))
            for path in touched:
                lines = files[path]
                for _ in range(rng.randint(1, 6)):
                    pos = rng.randrange(len(lines) + 1)
                    if rng.random() < 0.6 and lines:
                        lines[min(pos, len(lines) - 1)] = source_line(rng)
                    else:
                        lines.insert(pos, source_line(rng))
            if rng.random() < 0.01:  # a new file now and then, a rename now and then
                path = f"src/new/file_{n}.py"
                files[path] = [source_line(rng) for _ in range(rng.randint(10, 200))]
                touched.append(path)
            if rng.random() < 0.005:
                old = rng.choice(list(files))
                new = f"src/moved/{n}_{old.rsplit('/', 1)[-1]}"
                files[new] = files.pop(old)
                touched = [t for t in touched if t != old] + [new]
                ops.append(b"D " + old.encode() + b"\n")
        if n in plant_at:
            key = make_key(rng)
            kind = rng.choice(["file", "file", "env", "message"])
            fp = hashlib.sha256(key.encode()).hexdigest()
            if kind == "message":
                message += f"\n\ntemporary key {key}"
                planted.append({"fingerprint": fp, "commit_index": n, "where": "commit message"})
            elif kind == "env":
                path = f"deploy/{n}.env"
                files[path] = [f"WEAVZ_API_KEY={key}\n"]
                touched.append(path)
                planted.append({"fingerprint": fp, "commit_index": n, "where": path})
            else:
                path = rng.choice(touched)
                files[path].insert(rng.randrange(len(files[path]) + 1), f'API_KEY = "{key}"\n')
                planted.append({"fingerprint": fp, "commit_index": n, "where": path})
        w(b"commit %s\n" % branch.encode())
        w(b"committer Bench <bench@example.com> %d +0000\n" % ts)
        data(message.encode())
        w(b"".join(ops))
        for path in touched:
            w(b"M 100644 inline " + path.encode() + b"\n")
            data("".join(files[path]).encode())
        if args.big_blob_mb and n == args.commits // 2:
            w(b"M 100644 inline assets/big.bin\n")
            data(bytes(rng.getrandbits(8) for _ in range(1024)) * (args.big_blob_mb * 1024))
    w(b"done\n")
    fi.stdin.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    (out / "planted.json").write_text(json.dumps(planted, indent=2) + "\n")
    count = subprocess.run(["git", "--git-dir", str(out), "count-objects", "-v"], capture_output=True, text=True)
    print(count.stdout.strip())
    print(f"{args.commits} commits, {len(planted)} keys planted -> {out}")


if __name__ == "__main__":
    main()
