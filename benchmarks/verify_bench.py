"""Verify 1,000 unique keys against the emulator answering with 20 ms of latency.

    python benchmarks/verify_bench.py [--keys 1000] [--latency 0.02] [--concurrency 16]

Prints the wall time and the requests per key (one probe per key, plus the scope check for live ones).
The keys are a realistic mix: org-wide, workspace-scoped and dead ones.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from multiprocessing.connection import Connection

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.emulator import Emulator, random_key  # noqa: E402
from wvzscan.response import verify_all  # noqa: E402
from wvzscan.weavz import Client, Settings  # noqa: E402


def serve(conn: Connection, n: int, latency: float, orgs: int) -> None:
    """The emulator in its own process, as the real API is not on our CPU."""
    with Emulator(latency=latency) as emu:
        emu.rate_limit.limit = 10**9
        keys = []
        for i in range(n):
            kind = i % 4
            if kind == 3:
                keys.append(random_key())  # dead: one probe
            else:
                scope = "workspace" if kind == 2 else "org"
                keys.append(emu.seed_key(f"k{i}", scope=scope, org_id=f"org_{i % orgs}").key)
        conn.send((emu.url, keys))
        conn.recv()  # until the client is done
        conn.send(len(emu.requests))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--concurrency", type=int, default=Settings.concurrency)
    ap.add_argument("--orgs", type=int, default=1, help="spread the keys over this many organizations")
    args = ap.parse_args()
    here, there = mp.Pipe()
    proc = mp.Process(target=serve, args=(there, args.keys, args.latency, args.orgs), daemon=True)
    proc.start()
    url, keys = here.recv()
    with Client(Settings(base_url=url, concurrency=args.concurrency)) as client:
        start = time.perf_counter()
        verdicts = verify_all(client, keys)
        elapsed = time.perf_counter() - start
        sent = client.requests_sent
    here.send("done")
    served = here.recv()
    proc.join(5)
    counts: dict[str, int] = {}
    for v in verdicts.values():
        label = v.status if v.status != "live" else f"live/{v.scope}"
        counts[label] = counts.get(label, 0) + 1
    print(
        f"{len(keys)} unique keys in {args.orgs} org{'s' if args.orgs != 1 else ''}, "
        f"{args.latency * 1000:.0f} ms latency, concurrency {args.concurrency}"
    )
    print(f"verdicts: {', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}")
    print(f"time: {elapsed:.2f} s ({len(keys) / elapsed:.0f} keys/s)")
    print(f"requests: {sent} sent, {served} served, {sent / len(keys):.2f} per key")
    return 0


if __name__ == "__main__":
    sys.exit(main())
