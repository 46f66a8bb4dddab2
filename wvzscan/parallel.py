"""Both cores for file trees: the walk stays in this process, reading and scanning go to workers.

Workers are forked processes (the scan is CPU-bound Python: threads would share one core). Only a few
batches are in flight at once, so memory stays flat whatever the tree's size. Small inputs are scanned
inline: a process pool costs more to start than it saves. So is everything in a process that runs other
threads (a program calling the engine, a test suite): a fork copies only the forking thread, and a lock
another thread held at that moment stays held in the child for ever, which could hang the scan.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.pool import AsyncResult, Pool

from wvzscan import detect
from wvzscan.finding import Finding, ScanResult
from wvzscan.progress import Progress
from wvzscan.scan import Scanner
from wvzscan.sources.files import FileTask, read_task

BATCH_BYTES = 4 * 1024 * 1024
BATCH_FILES = 128
INLINE_BYTES = 32 * 1024 * 1024  # below this much content, a pool does not pay for itself...
INLINE_FILES = 2000  # ...unless there are many files: opening and reading them is work to share too

_worker: tuple[detect.Rules, bool] | None = None

Batch = list[FileTask]
BatchResult = tuple[list[Finding], ScanResult]


def _init(rules: detect.Rules, inline_allow: bool) -> None:
    global _worker
    _worker = (rules, inline_allow)


def _scan_batch(batch: Batch) -> BatchResult:
    assert _worker is not None
    result = ScanResult()
    scanner = Scanner(result, _worker[0], _worker[1])
    for task in batch:
        chunk = read_task(task, result)
        if chunk is not None:
            scanner.scan(chunk)
    findings, result.findings = result.findings, []
    return findings, result


def _batches(tasks: Iterable[FileTask], sizes: dict[str, int]) -> Iterator[Batch]:
    """Batches of BATCH_FILES files, or fewer when the sizes known add up to BATCH_BYTES."""
    batch: Batch = []
    size = 0
    for t in tasks:
        batch.append(t)
        size += sizes.get(t.fs_path, 0)
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _sizes(tasks: list[FileTask]) -> dict[str, int]:
    """Sizes of a small tree's files (the walk no longer stats files): enough to tell whether a few
    big files are worth a pool, and to spread them over batches."""
    sizes: dict[str, int] = {}
    for t in tasks:
        if t.stream:
            continue
        try:
            sizes[t.fs_path] = os.stat(t.fs_path).st_size
        except OSError:
            continue  # the read will say why
    return sizes


def _merge(scanner: Scanner, out: BatchResult, progress: Progress | None, nfiles: int) -> None:
    findings, partial = out
    scanner.result.merge(partial)
    for f in findings:
        scanner.add(f)
    if progress is not None:
        progress.tick(partial.bytes_scanned, nfiles)


def other_threads() -> bool:
    """Whether threads besides this one run in the process (any thread: Python's and C libraries')."""
    try:
        return len(os.listdir("/proc/self/task")) > 1
    except OSError:  # no /proc (not Linux): the threads Python knows of
        import threading

        return threading.active_count() > 1


def workers_available() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def scan_files(
    tasks: Iterable[FileTask], scanner: Scanner, progress: Progress | None = None, workers: int | None = None
) -> None:
    workers = workers or workers_available()
    rest = iter(tasks)
    # Walk ahead: a tree of INLINE_FILES files or more is worth a pool whatever its size; a smaller
    # one only if its content is big (a few stats tell).
    head = list(itertools.islice(rest, INLINE_FILES))
    sizes = _sizes(head) if len(head) < INLINE_FILES else {}
    small = len(head) < INLINE_FILES and sum(sizes.values()) < INLINE_BYTES
    batches = _batches(itertools.chain(head, rest), sizes)
    if workers < 2 or small or "fork" not in multiprocessing.get_all_start_methods() or other_threads():
        _init(scanner.rules, scanner.inline_allow)
        for b in batches:
            _merge(scanner, _scan_batch(b), progress, len(b))
        return
    ctx = multiprocessing.get_context("fork")
    pending: deque[tuple[AsyncResult[BatchResult], int]] = deque()
    with Pool(workers, _init, (scanner.rules, scanner.inline_allow), context=ctx) as pool:
        for b in batches:
            pending.append((pool.apply_async(_scan_batch, (b,)), len(b)))
            while len(pending) > 2 * workers:
                res, n = pending.popleft()
                _merge(scanner, res.get(), progress, n)
        while pending:
            res, n = pending.popleft()
            _merge(scanner, res.get(), progress, n)
