"""Reading git's object store as a stream: list objects once, then ``cat-file --batch`` readers.

Trees are never read (they cannot hold a key's text). Several readers run side by side over one
shared list of object ids, each delta before its base (``read_order``: git's delta-base cache then
serves the bases), handed out in large contiguous blocks (so a delta tree mostly stays with one
reader) and on demand (so a reader that hits big blobs does not hold the others up). A reader
whose ``git cat-file`` dies on a corrupt object is restarted after that object: one bad object
costs one error, never the rest of the scan.
"""

from __future__ import annotations

import contextlib
import threading
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from wvzscan.sources.git.process import (
    AnswerReader,
    Batch,
    GitError,
    Parsed,
    Repo,
    Truncated,
    explain,
)
from wvzscan.sources.git.read_order import CACHE_BYTES, delta_post_order

# object id (hex), type, content
Handler = Callable[[str, str, bytes], None]
Problem = Callable[[str, str], None]  # (object id, message)


class FastPath(Protocol):
    """The common path of a handler, run by each reader thread without the lock."""

    def quick_run(self, view: memoryview, answers: list[Parsed]) -> tuple[int, int, int, list[Parsed]]:
        """Look at a run of buffered answers at once (``AnswerReader.take``): (objects that
        certainly hold nothing, the bytes the full path would count for them, their size, and the
        answers left for the reader: objects the full path (``handle``, under the lock) must see,
        problems and trees, in order)."""

    def counted(self, objects: int, scanned: int, raw: int) -> None:
        """Add what ``quick_run`` passed (called under the lock, in batches)."""


FLUSH = 256  # objects the quick path passes before a reader adds them up under the lock

BLOCK = 512  # object ids handed to a reader at a time
READER_CACHE = f"core.deltaBaseCacheLimit={CACHE_BYTES >> 20}m"  # the cache read_order plans for
READ_TYPES = frozenset({b"blob", b"commit", b"tag"})
READ_TYPES_STR = frozenset({"blob", "commit", "tag"})


@dataclass
class ObjectList:
    """Object ids to read as one ``b"<oid>\\n"`` run (every line the same length)."""

    ids: bytes
    line_len: int
    total_bytes: int = 0
    skipped_large: int = 0
    notes: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # listed, but the header cannot be read
    listed: int = 0  # every object git listed (trees and unreadable ones included)
    errors: list[str] = field(default_factory=list)  # what git said it could not list

    @property
    def count(self) -> int:
        return len(self.ids) // self.line_len if self.line_len else 0

    def blocks(self, size: int = BLOCK) -> Iterator[bytes]:
        step = size * self.line_len
        for i in range(0, len(self.ids), step):
            yield self.ids[i : i + step]


def from_ids(oids: list[str]) -> ObjectList:
    if not oids:
        return ObjectList(b"", 0)
    return ObjectList("".join(o + "\n" for o in oids).encode("ascii"), len(oids[0]) + 1)


def list_objects(repo: Repo, max_size: int | None = None) -> ObjectList:
    """Every blob, commit and tag in the object store (reachable or not), each delta before its
    base where that pays (``read_order``), the trees of deltas in pack order.

    Each object's size and delta base are listed for that order (and the size for a size limit and
    the progress total). git's enumeration skips what it cannot open (a corrupt pack index, an
    unreadable folder) with an error line and exit code 0: any error output is recorded
    (``errors``), never ignored."""
    fmt = "--batch-check=%(objectname) %(objecttype) %(objectsize) %(deltabase)"
    ids = bytearray()  # one flat buffer: 850,000 ids cost 35 MB as a list of bytes, 35 MB less this way
    # Each id's delta base (all zeros for none) and size: the repository's word, used only to order.
    bases = bytearray()
    sizes = array("q")
    total = skipped = listed = 0
    line_len = 0
    unreadable = []
    stream = repo.stream("cat-file", "--batch-all-objects", fmt, "--unordered")
    try:
        with stream:
            for line in stream.stdout:
                fields = line.split()
                if not fields:
                    continue
                listed += 1
                if len(fields) != 4 or fields[1] == b"missing" or not fields[2].isdigit():
                    # "<oid> missing": a corrupt loose object is listed but cannot be read
                    unreadable.append(fields[0].decode("ascii", "replace"))
                    continue
                oid, typ = fields[0], fields[1]
                if typ not in READ_TYPES:
                    continue
                size = int(fields[2])
                if max_size is not None and typ == b"blob" and size > max_size:
                    skipped += 1
                    continue
                total += size
                ids += oid
                ids += b"\n"
                base = fields[3]
                bases += base if len(base) == len(oid) else b"0" * len(oid)
                sizes.append(min(size, 1 << 62))  # (an array of int64: a forged header may claim more)
                line_len = len(oid) + 1
    except GitError as e:
        # An object whose header cannot be read stops --batch-check; list names only (git then
        # reads no object at all) and let the readers find out which objects are broken.
        ol = _list_names(repo, str(e))
        ol.errors.extend(_stderr_errors(stream.stderr_text))
        return ol
    listed_ids, ids = bytes(ids), bytearray()  # (one copy at a time: git/git's ids are 19 MB)
    listed_bases, bases = bytes(bases), bytearray()
    order = delta_post_order(listed_ids, listed_bases, sizes, line_len)
    del listed_ids, listed_bases, sizes
    ol = ObjectList(order, line_len, total, skipped, unreadable=unreadable, listed=listed)
    ol.errors.extend(_stderr_errors(stream.stderr_text))
    return ol


def _stderr_errors(text: str) -> list[str]:
    """git's error output while listing: each distinct error line is something not listed
    (warnings, such as a partial clone's "uses promisor remotes", are not)."""
    seen: list[str] = []
    for ln in text.splitlines():
        ln = ln.strip()
        if ln and not ln.startswith(("hint:", "warning:")) and ln not in seen:
            seen.append(ln)
    return seen[:20]


def _list_names(repo: Repo, why: str) -> ObjectList:
    p = repo.run_full("cat-file", "--batch-all-objects", "--batch-check=%(objectname)", "--unordered")
    if p.code != 0:
        raise GitError(f"the object store cannot be listed: {explain(p.stderr, 'git cat-file')}")
    lines = p.stdout.split()
    ol = ObjectList(b"\n".join(lines) + b"\n" if lines else b"", len(lines[0]) + 1 if lines else 0)
    ol.listed = len(lines)
    ol.notes.append(f"object sizes could not be listed ({why}); trees were read too")
    return ol


class _Source:
    """Hands out blocks of object ids to readers, on demand."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._lock = threading.Lock()

    def next(self) -> bytes | None:
        with self._lock:
            return next(self._blocks, None)


class ParallelReader:
    """``workers`` ``git cat-file --batch`` processes over one list; ``handle`` runs under one lock."""

    def __init__(
        self,
        repo: Repo,
        objects: ObjectList,
        handle: Handler,
        on_missing: Problem,
        on_error: Problem,
        workers: int = 2,
        fast: FastPath | None = None,
    ) -> None:
        self.repo = repo
        self.fast = fast
        self.objects = objects
        self.handle = handle
        self.on_missing = on_missing
        self.on_error = on_error
        self.workers = max(1, workers)
        self.lock = threading.Lock()
        # Large contiguous runs per reader: objects next to each other in the list share delta
        # bases, which a reader can reuse only if it reads them itself. Sixteen runs still balance
        # the load between two readers.
        self._source = _Source(objects.blocks(max(BLOCK, objects.count // 16)))
        self._procs: set[Batch] = set()
        self._failure: BaseException | None = None

    def run(self) -> None:
        if not self.objects.count:
            return
        if self.workers == 1 or self.objects.count < BLOCK:
            self._worker()
        else:
            threads = [threading.Thread(target=self._guard, daemon=True) for _ in range(self.workers)]
            for t in threads:
                t.start()
            try:
                for t in threads:
                    while t.is_alive():
                        t.join(0.2)
            except BaseException:
                self.stop()
                raise
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        for p in list(self._procs):
            p.kill()

    def _guard(self) -> None:
        try:
            self._worker()
        except BaseException as e:  # surfaced in run(); the other readers are stopped
            self._failure = e
            self.stop()

    def _worker(self) -> None:
        pending: deque[bytes] = deque()
        while True:
            leftover, crashed, message = self._one_process(pending)
            if not leftover and not crashed:
                return
            if self._failure is not None:
                return
            if leftover:
                bad = leftover.popleft().rstrip(b"\n").decode("ascii")
                with self.lock:
                    self.on_error(bad, f"cannot read object: {message}")
            pending = leftover

    def _one_process(self, pending: deque[bytes]) -> tuple[deque[bytes], bool, str]:
        """Run one cat-file until the work runs out or it dies; return what it left unanswered."""
        batch = self.repo.batch(READER_CACHE)
        self._procs.add(batch)
        sent: deque[bytes] = deque()
        writer = threading.Thread(target=self._write, args=(batch, pending, sent), daemon=True)
        writer.start()
        crashed = True  # until _read returns: if it raises, git must be stopped before it is waited
        # for (blocked on a full pipe that nobody reads, it would never exit, nor would the writer)
        try:
            crashed = not self._read(batch, sent)
        finally:
            if crashed:
                batch.kill()
            code, message = batch.close()
            writer.join()
            self._procs.discard(batch)
        crashed = crashed or code != 0
        if not crashed:
            message = ""
        elif not message:
            # exit code 0 and no error, yet no whole answer: a header that claimed more than followed
            message = f"git cat-file exited with code {code}" if code else "git cat-file gave no whole answer for it"
        return sent, crashed, message

    def _write(self, batch: Batch, pending: deque[bytes], sent: deque[bytes]) -> None:
        stdin = batch.stdin
        try:
            while pending:
                n = min(len(pending), BLOCK)
                lines = [pending.popleft() for _ in range(n)]
                sent.extend(lines)
                stdin.write(b"".join(lines))
                stdin.flush()
            ll = self.objects.line_len
            while self._failure is None:
                block = self._source.next()
                if block is None:
                    break
                sent.extend(block[i : i + ll] for i in range(0, len(block), ll))
                stdin.write(block)
                stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the reader saw the process die; what was sent and not answered is re-queued
        finally:
            with contextlib.suppress(BrokenPipeError, OSError):
                stdin.close()

    def _read(self, batch: Batch, sent: deque[bytes]) -> bool:
        """Answers in order; False when the process died before answering everything.

        Objects the quick check passes (``fast.quick_run``: the common case) are counted in this
        thread, outside the lock; only the others go through ``handle`` under the lock."""
        reader = AnswerReader.of_fd(batch.stdout.fileno(), batch.pipe_size)
        handle, lock, fast = self.handle, self.lock, self.fast
        n = scanned = raw = 0
        try:
            while True:
                try:
                    got = reader.take()
                except Truncated:
                    return False
                if got is None:
                    return not sent
                view, answers = got
                for _ in range(len(answers)):
                    sent.popleft()
                if fast is not None:
                    passed, counted, size, answers = fast.quick_run(view, answers)
                    n, scanned, raw = n + passed, scanned + counted, raw + size
                    if n >= FLUSH:
                        with lock:
                            fast.counted(n, scanned, raw)
                        n = scanned = raw = 0
                for oid, typ, body, size in answers:
                    if body < 0:
                        with lock:
                            self.on_missing(oid.decode("ascii", "replace"), typ)
                    elif typ in READ_TYPES_STR:
                        with lock:
                            handle(oid.decode("ascii", "replace"), typ, bytes(view[body : body + size]))
                del view, answers
        finally:
            if n and fast is not None:
                with lock:
                    fast.counted(n, scanned, raw)


def read_one(repo: Repo, oid: str) -> tuple[str, bytes] | None:
    """One object's type and content (None when it cannot be read)."""
    answers, _ = repo.cat([oid])
    if not answers or answers[0].data is None:
        return None
    return answers[0].type, answers[0].data
