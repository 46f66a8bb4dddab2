"""``--shard K/N``: the K-th of N stable parts of the repository list.

A repository's part is a hash of its name alone, so adding or removing a repository moves no
other one between shards, and every machine computes the same split without talking to the others.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from wvzscan.errors import WvzscanError

T = TypeVar("T")

MAX_SHARDS = 10_000


@dataclass(frozen=True)
class Shard:
    index: int  # 0-based
    count: int

    def __str__(self) -> str:
        return f"{self.index + 1}/{self.count}"

    def holds(self, name: str) -> bool:
        return shard_of(name, self.count) == self.index


def shard_of(name: str, count: int) -> int:
    """The 0-based part of ``name``: SHA-256 of the name (UTF-8), as a big number, modulo ``count``."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse(spec: str, env: Mapping[str, str] | None = None) -> Shard:
    """``K/N`` (1-based K) or ``auto/N`` (K from ``JOB_COMPLETION_INDEX``, 0-based, as Kubernetes sets it)."""
    env = os.environ if env is None else env
    k_s, sep, n_s = spec.partition("/")
    if not sep or not n_s.strip().isdigit():
        raise WvzscanError(f"--shard expects K/N or auto/N (e.g. 2/4), got {spec!r}")
    n = int(n_s)
    if not 1 <= n <= MAX_SHARDS:
        raise WvzscanError(f"--shard {spec}: N must be between 1 and {MAX_SHARDS}")
    if k_s.strip() == "auto":
        raw = env.get("JOB_COMPLETION_INDEX")
        if raw is None or not raw.strip().isdigit():
            raise WvzscanError(
                f"--shard auto/{n} takes the shard from JOB_COMPLETION_INDEX (set by Kubernetes Indexed Jobs), "
                f"which is {'not set' if raw is None else 'not a number: ' + repr(raw)}; pass --shard K/{n} instead"
            )
        index = int(raw)
        if index >= n:
            raise WvzscanError(f"JOB_COMPLETION_INDEX={index} is out of range for --shard auto/{n} (0 to {n - 1})")
        return Shard(index, n)
    if not k_s.strip().isdigit() or not 1 <= int(k_s) <= n:
        raise WvzscanError(f"--shard {spec}: K must be a number from 1 to {n}")
    return Shard(int(k_s) - 1, n)


def select(items: Sequence[T], names: Sequence[str], shard: Shard | None) -> list[T]:
    if shard is None:
        return list(items)
    return [item for item, name in zip(items, names, strict=True) if shard.holds(name)]
