"""How to read a git object store: one ``--batch-all-objects`` pass against the listing and by-name readers.

    python benchmarks/reader_bench.py PATH [--runs 3]

Times only the reading (no scanning: every object is passed as clean), alternating:

- ``one``: ONE ``git cat-file --batch --batch-all-objects --unordered`` (pack order, no listing, no
  object names to feed), parsed in place with wvzscan's ``AnswerReader``, trees skipped in Python;
- ``two``: what ``wvzscan repo`` does: the listing (``--batch-check``, no sizes), then two
  ``cat-file --batch`` readers fed the blobs, commits and tags by name (``ParallelReader``);
- ``quick``: ``two`` with wvzscan's real quick check (``ObjectScanner``: one Hyperscan look over the
  answers buffered, the container check; an object that may hold a key takes the full path), which
  is what the Python process of a history scan spends its time on.

``--ways two,quick`` picks some of them (default: all).

It prints wall seconds, git's CPU (every child process) and this process's CPU for each run. On
git/git with git 2.39 the one pass was slower: it inflates and pipes every tree too, in one serial
process (docs/benchmarks.md). Worth re-running with a git whose ``cat-file`` can filter by type.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wvzscan.sources.git.objects import ParallelReader, list_objects  # noqa: E402
from wvzscan.sources.git.process import DELTA_BASE_CACHE, AnswerReader, Batch, Parsed, Repo, discover  # noqa: E402


class _Clean:
    """A handler that passes everything as clean (only the reading is timed)."""

    def quick_run(self, view: memoryview, answers: list[Parsed]) -> tuple[int, int, int, list[Parsed]]:
        size = sum(a[3] for a in answers if a[2] >= 0)
        return len(answers), size, size, []

    def counted(self, objects: int, scanned: int, raw: int) -> None:
        pass


def _nothing(*_: object) -> None:
    pass


def one_pass(repo: Repo) -> int:
    cmd = repo.cmd("-c", DELTA_BASE_CACHE, "cat-file", "--batch", "--batch-all-objects", "--unordered")
    batch = Batch(cmd, repo.env())
    batch.stdin.close()
    reader = AnswerReader.of_fd(batch.stdout.fileno())
    n = 0
    while (answer := reader.next()) is not None:
        if answer[1] != "tree" and answer[2] is not None:
            n += 1
    code, message = batch.close()
    if code != 0:
        sys.exit(f"git cat-file failed: {message}")
    return n


def by_name(repo: Repo) -> int:
    objs = list_objects(repo)
    ParallelReader(repo, objs, _nothing, _nothing, _nothing, workers=2, fast=_Clean()).run()
    return objs.count


def quick(repo: Repo) -> int:
    from wvzscan import scan
    from wvzscan.finding import ScanResult
    from wvzscan.sources.git.common import ObjectScanner

    result = ScanResult()
    objs = list_objects(repo)
    handler = ObjectScanner(scan.Scanner(result), result)
    ParallelReader(repo, objs, handler, handler.missing, handler.unreadable_object, workers=2, fast=handler).run()
    return result.objects_scanned


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ways", default="one,two,quick")
    args = ap.parse_args()
    repo = discover(args.path)
    every = {"one": one_pass, "two": by_name, "quick": quick}
    ways = {w: every[w] for w in args.ways.split(",")}
    runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in ways}
    for _ in range(args.runs):
        for name, way in ways.items():
            t, git0, me0 = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN), _cpu(resource.RUSAGE_SELF)
            n = way(repo)
            wall = time.perf_counter() - t
            git = _cpu(resource.RUSAGE_CHILDREN) - git0
            me = _cpu(resource.RUSAGE_SELF) - me0
            runs[name].append((wall, git, me))
            print(f"{name}: {n:,} objects read, wall {wall:.2f} s, git CPU {git:.2f} s, python CPU {me:.2f} s")
    for name, rs in runs.items():
        med = [statistics.median(r[i] for r in rs) for i in range(3)]
        print(f"{name} (median): wall {med[0]:.2f} s, git CPU {med[1]:.2f} s, python CPU {med[2]:.2f} s")


if __name__ == "__main__":
    main()
