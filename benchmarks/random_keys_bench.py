"""Cost of the detector's rules in missed keys: how many random keys of each real shape it drops.

Draws N random keys of each shape (default 10^6), runs the detector's own decision on each
(``wvzscan.detect.placeholder_reason``: names, placeholders, patterns, entropy) and reports how many it
drops and why. Target: at most 1 in 10^6 for every shape (docs/detection.md).

    python benchmarks/random_keys_bench.py                 # 10^6 of each shape
    python benchmarks/random_keys_bench.py --count 20000   # quick look
    python benchmarks/random_keys_bench.py --seed 7 --shape mixed16

Seeded (``--seed``, default 1) so a figure can be reproduced; a dropped key is printed only by shape,
reason and the first 8 characters.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wvzscan.detect import PREFIX, placeholder_reason  # noqa: E402

LOWER = string.ascii_lowercase + string.digits
MIXED = string.ascii_letters + string.digits
URLSAFE = MIXED + "_-"
HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Shape:
    name: str
    what: str
    draw: Callable[[random.Random], str]


def _chars(alphabet: str, n: int) -> Callable[[random.Random], str]:
    def draw(rng: random.Random) -> str:
        return "".join(rng.choices(alphabet, k=n))

    return draw


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _uuid_hex(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


SHAPES = (
    Shape("lower32", "32 lowercase alphanumerics (the documented shape)", _chars(LOWER, 32)),
    Shape("mixed40", "40 mixed-case alphanumerics", _chars(MIXED, 40)),
    Shape("urlsafe43", "43 characters of A-Za-z0-9_- (base64url of 32 bytes)", _chars(URLSAFE, 43)),
    Shape("urlsafe22", "22 characters of A-Za-z0-9_- (base64url of 16 bytes)", _chars(URLSAFE, 22)),
    Shape("uuid", "a UUID with dashes", _uuid),
    Shape("uuidhex", "a UUID's 32 hex digits", _uuid_hex),
    Shape("lower16", "16 lowercase alphanumerics (the shortest body)", _chars(LOWER, 16)),
    Shape("mixed16", "16 mixed-case alphanumerics (the shortest body)", _chars(MIXED, 16)),
    Shape("urlsafe16", "16 characters of A-Za-z0-9_- (the shortest body)", _chars(URLSAFE, 16)),
    Shape("mixed128", "128 mixed-case alphanumerics (the longest body)", _chars(MIXED, 128)),
    Shape("urlsafe128", "128 characters of A-Za-z0-9_- (the longest body)", _chars(URLSAFE, 128)),
)


def run(shape: Shape, count: int, seed: int) -> tuple[Counter[str], list[str]]:
    rng = random.Random(f"{seed}:{shape.name}")
    why: Counter[str] = Counter()
    examples: list[str] = []
    draw = shape.draw
    for _ in range(count):
        key = PREFIX.decode() + draw(rng)
        reason = placeholder_reason(key)
        if reason is not None:
            why[reason] += 1
            if len(examples) < 5:
                examples.append(key[:8] + "…")
    return why, examples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1_000_000, help="keys per shape (default 10^6)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", action="append", help="only these shapes (repeat); default: all")
    args = ap.parse_args(argv)
    shapes = [s for s in SHAPES if not args.shape or s.name in args.shape]
    worst = 0.0
    for shape in shapes:
        t = time.perf_counter()
        why, examples = run(shape, args.count, args.seed)
        dropped = sum(why.values())
        rate = dropped / args.count
        worst = max(worst, rate)
        detail = ", ".join(f"{n} {r}" for r, n in why.most_common())
        print(
            f"{shape.name:11s} {dropped:6d} of {args.count} dropped ({rate * 1e6:.2f} per 10^6)"
            f"{': ' + detail if detail else ''}  [{time.perf_counter() - t:.1f} s]  {shape.what}"
        )
    print(f"worst shape: {worst * 1e6:.2f} per 10^6 (target: at most 1)")
    return 0 if worst * 1e6 <= 1.0 or args.count < 1_000_000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
