"""Files and directory trees (``wvzscan dir``) and standard input.

Walks with ``os.scandir``; never follows directory symlinks (no loops); skips ``.git`` folders; reads
binary files as bytes (a key in a ``.pyc`` or a SQLite file is a leak too). Everything not read is
either a counted skip with a reason (excludes, size limit, FIFOs...) or an error (unreadable).
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from wvzscan.finding import ScanResult
from wvzscan.sources import Chunk

SKIP_DIRS = frozenset({".git"})
# A symlink whose target is not there (or cannot be, as in a loop): nothing to read.
_NO_TARGET = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG})


@dataclass(frozen=True)
class FileOptions:
    exclude: tuple[str, ...] = ()
    max_file_size: int = 100 * 1024 * 1024
    # Excludes are relative to this folder (the config's), whatever path the user named the tree by.
    root: str | None = None


def _pattern(pat: str) -> str:
    """``./build/``, ``/build`` and ``build`` mean the same folder at the root."""
    while pat.startswith("./"):
        pat = pat[2:]
    return pat.lstrip("/").rstrip("/") or pat


def excluded(rel: str, patterns: Iterable[str]) -> bool:
    """A glob matches the path relative to the root (``*`` crosses ``/``) or the file name."""
    name = rel.rsplit("/", 1)[-1]
    for pat in patterns:
        pat = _pattern(pat)
        if fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(name, pat):
            return True
        if pat.startswith("**/") and fnmatch.fnmatchcase(rel, pat[3:]):
            return True
    return False


def display(path: str) -> str:
    """A path as reports show it: undecodable bytes in names become U+FFFD, never a crash."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _join(base: str, name: str) -> str:
    return name if base in ("", ".") else f"{base}/{name}"


def _special_kind(mode: int) -> str | None:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return None


@dataclass(frozen=True)
class FileTask:
    """A regular file the walk decided to read: its real path and the path reports show."""

    fs_path: str
    rel: str
    size: int
    # A pipe or character device the user named (`dir /dev/stdin`, `dir <(cmd)`): read as a stream,
    # at most this many bytes (its size is not known in advance).
    stream_limit: int | None = None


def read_task(task: FileTask, result: ScanResult) -> Chunk | None:
    try:
        with open(task.fs_path, "rb") as f:
            if task.stream_limit is None:
                data = f.read()
            else:
                data = f.read(task.stream_limit + 1)
                if len(data) > task.stream_limit:
                    result.skipped["over max_file_size"] += 1
                    return None
    except OSError as e:
        result.error(display(task.rel), f"cannot read: {e.strerror or e}")
        return None
    return Chunk(data, "file", display(task.rel))


class FileWalker:
    """Decides what to read (and counts what it skips); reading is ``read_task``'s job."""

    def __init__(self, result: ScanResult, opts: FileOptions) -> None:
        self.result = result
        self.opts = opts

    def _entry(self, fs_path: str, rel: str, match: str, is_top: bool) -> Iterator[FileTask]:
        try:
            st = os.lstat(fs_path)
        except OSError as e:
            self.result.error(display(rel), f"cannot stat: {e.strerror or e}")
            return
        if stat.S_ISLNK(st.st_mode):
            try:
                st = os.stat(fs_path)
            except OSError as e:
                if e.errno in _NO_TARGET:
                    self.result.skipped["broken symlink"] += 1
                    return
                # A target that exists but cannot be reached (EACCES) was not read: an error.
                self.result.error(display(rel), f"cannot follow symlink: {e.strerror or e}")
                return
            if stat.S_ISDIR(st.st_mode) and not is_top:
                self.result.skipped["directory symlink (not followed)"] += 1
                return
        if stat.S_ISDIR(st.st_mode):
            yield from self._walk(fs_path, rel, match)
            return
        kind = _special_kind(st.st_mode)
        if kind is not None:
            if is_top and (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
                # Named on the command line, it is input to read, not a tree's oddity to skip
                # (inside a tree, opening a FIFO would block the walk).
                yield FileTask(fs_path, rel or fs_path, 0, self.opts.max_file_size)
                return
            self.result.skipped[kind] += 1
            return
        if st.st_size > self.opts.max_file_size:
            self.result.skipped["over max_file_size"] += 1
            return
        yield FileTask(fs_path, rel or os.path.basename(fs_path), st.st_size)

    def _walk(self, fs_dir: str, rel_dir: str, match_dir: str) -> Iterator[FileTask]:
        try:
            with os.scandir(fs_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            self.result.error(display(rel_dir or "."), f"cannot list directory: {e.strerror or e}")
            return
        for entry in entries:
            rel = _join(rel_dir, entry.name)
            if entry.name in SKIP_DIRS and entry.is_dir(follow_symlinks=False):
                continue
            if self.opts.exclude and excluded(_join(match_dir, entry.name), self.opts.exclude):
                self.result.skipped["excluded"] += 1
                continue
            yield from self._entry(entry.path, rel, _join(match_dir, entry.name), is_top=False)

    def tasks(self, paths: Iterable[str]) -> Iterator[FileTask]:
        for top in paths:
            rel = os.path.normpath(top)
            rel = "" if rel == "." else rel
            yield from self._entry(top, rel, self._from_root(top, rel), is_top=True)

    def _from_root(self, top: str, rel: str) -> str:
        """``top`` relative to the root excludes are written for (``dir /abs/tree``, ``dir ./tree``)."""
        if self.opts.root is None:
            return rel
        try:
            inner = os.path.relpath(os.path.abspath(top), os.path.abspath(self.opts.root))
        except ValueError:  # pragma: no cover - another drive on Windows
            return rel
        if inner == os.pardir or inner.startswith(os.pardir + os.sep):
            return rel  # outside the root: the path as named
        return "" if inner == "." else inner


def read_stdin() -> Chunk:
    return Chunk(sys.stdin.buffer.read(), "stdin", None)
