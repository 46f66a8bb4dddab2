"""The Python side of reading a history, alone: real ``cat-file`` answers replayed from a file.

    python benchmarks/replay_bench.py PATH [--objects 120000] [--runs 5]

Captures the answers for the first ``--objects`` blobs, commits and tags of PATH (in pack order, as
``wvzscan repo`` reads them) into a temporary file once, then replays that file through the history
reader's own loop (``ParallelReader._read``: the parser, the quick check over each run of answers,
the full path for the few objects that need it) with no git process running. Without git, the pipe
and the other processes in the way, what is left is this process's CPU per object:

- ``parse``: ``AnswerReader.take`` alone;
- ``quick``: the reader's loop with the real quick check (``ObjectScanner.quick_run``), with the
  Hyperscan part (``scan.needle_spans``) and the full path timed on their own.

Reads are as big as the buffer (4 MiB) rather than a pipe's, so there are fewer, longer runs of
answers than in a real scan: compare versions with it, not with ``git_bench.py``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import threading
import time
import types
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wvzscan import scan  # noqa: E402
from wvzscan.finding import ScanResult  # noqa: E402
from wvzscan.sources.git import common  # noqa: E402
from wvzscan.sources.git.common import ObjectScanner  # noqa: E402
from wvzscan.sources.git.objects import ObjectList, ParallelReader, list_objects  # noqa: E402
from wvzscan.sources.git.process import DELTA_BASE_CACHE, AnswerReader, discover  # noqa: E402


def _user() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--objects", type=int, default=120_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    repo = discover(args.path)
    listed = list_objects(repo)
    names = listed.ids[: args.objects * listed.line_len]
    count = len(names) // listed.line_len if listed.line_len else 0
    timed = {"spans": 0.0, "full": 0.0}
    spans, full = scan.needle_spans, ObjectScanner.__call__

    def timed_spans(data: bytes | memoryview) -> tuple[list[int], list[int], int] | None:
        t = time.thread_time()
        try:
            return spans(data)
        finally:
            timed["spans"] += time.thread_time() - t

    def timed_full(self: ObjectScanner, oid: str, typ: str, data: bytes) -> None:
        t = time.thread_time()
        try:
            full(self, oid, typ, data)
        finally:
            timed["full"] += time.thread_time() - t

    common.pipeline.needle_spans = timed_spans  # type: ignore[assignment]
    ObjectScanner.__call__ = timed_full  # type: ignore[method-assign]

    with tempfile.TemporaryFile() as answers:
        batch = repo.batch(DELTA_BASE_CACHE)

        def feed() -> None:
            batch.stdin.write(names)
            batch.stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)  # git answers while it is fed
        feeder.start()
        while chunk := batch.stdout.read(1 << 20):
            answers.write(chunk)
        feeder.join()
        code, message = batch.close()
        if code != 0:
            sys.exit(f"git cat-file failed: {message}")
        size = answers.tell()
        print(f"{count:,} answers, {size / 1e6:,.0f} MB, replayed {args.runs} times")
        parse: list[float] = []
        quick: list[tuple[float, float, float]] = []
        for _ in range(args.runs):
            answers.seek(0)
            reader = AnswerReader(answers.readinto)
            t = _user()
            while reader.take() is not None:
                pass
            parse.append(_user() - t)

            answers.seek(0)
            result = ScanResult()
            handler = ObjectScanner(scan.Scanner(result), result)
            lines = deque(names[i : i + listed.line_len] for i in range(0, len(names), listed.line_len))
            objs = ObjectList(names, listed.line_len)
            pr = ParallelReader(repo, objs, handler, handler.missing, handler.unreadable_object, fast=handler)
            timed.update(spans=0.0, full=0.0)
            t = _user()
            pr._read(types.SimpleNamespace(stdout=answers, pipe_size=0), lines)  # type: ignore[arg-type]
            quick.append((_user() - t, timed["spans"], timed["full"]))
        us = 1e6 / max(count, 1)
        p = statistics.median(parse)
        q, s, f = (statistics.median(x[i] for x in quick) for i in range(3))
        print(f"parse: {p:.3f} s user, {p * us:.2f} us an answer")
        print(
            f"quick: {q:.3f} s user ({q * us:.2f} us an answer): Hyperscan {s:.3f} s, full path {f:.3f} s,"
            f" the rest {(q - s - f) * us:.2f} us an answer"
        )


if __name__ == "__main__":
    main()
