"""Files and directory trees (``wvzscan dir``) and standard input.

Walks with ``os.scandir``, iteratively (a tree 10,000 folders deep is only a longer loop); never
follows directory symlinks (no loops); skips git's own ``.git`` folders (a folder named ``.git`` that
is no repository is scanned like any other); reads binary files as bytes (a key in a ``.pyc`` or a
SQLite file is a leak too). Everything not read is either a counted skip with a reason (excludes,
ignored by git, size limit, FIFOs...) or an error (unreadable).

System calls per file, the cost that dominates on large trees of small files: the walk takes the
file type from the directory entry (no ``lstat``), and a worker reads with ``open``, ``fstat`` (size
and type, checked on the open file, so a file swapped for a FIFO cannot block the scan), one
``read`` of size + 1 bytes and ``close``.

Exclude patterns (config ``exclude`` and ``--exclude``) follow gitignore semantics through the
``pathspec`` package, imported only when there is a pattern to match.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from wvzscan.errors import WvzscanError
from wvzscan.finding import ScanResult
from wvzscan.sources import Chunk

if TYPE_CHECKING:  # pathspec is imported only when an exclude or --respect-gitignore needs it
    from pathspec import GitIgnoreSpec

DEFAULT_MAX_FILE_SIZE = 100 * 1024 * 1024
GIT_DIR = ".git"
# A symlink whose target is not there (or cannot be, as in a loop): nothing to read.
_NO_TARGET = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG})
# O_NONBLOCK: a FIFO that replaced a regular file between the walk and the read must not block the
# scan (it is found out by fstat and counted); on regular files it changes nothing.
_STREAM_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_OPEN_FLAGS = _STREAM_FLAGS | getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True)
class FileOptions:
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    # Excludes are relative to this folder (the config's), whatever path the user named the tree by.
    root: str | None = None
    # `dir --respect-gitignore`: skip (and count) what the repository's .gitignore files ignore.
    respect_gitignore: bool = False


# --- exclude patterns: gitignore semantics ---------------------------------------------------------


def _pattern(pat: str) -> str:
    """``./build`` is written for the root's ``build``: in gitignore terms, ``/build``."""
    if pat.startswith("./"):
        while pat.startswith("./"):
            pat = pat[2:]
        return "/" + pat
    return pat


@lru_cache(maxsize=64)
def exclude_spec(patterns: tuple[str, ...]) -> GitIgnoreSpec:
    """The patterns compiled once, as git compiles a ``.gitignore`` at the scan root."""
    from pathspec import GitIgnoreSpec

    try:
        return GitIgnoreSpec.from_lines([_pattern(p) for p in patterns])
    except ValueError as e:  # pathspec's GitWildMatchPatternError
        raise WvzscanError(f"invalid exclude pattern: {e}") from None


def excluded(rel: str, patterns: Iterable[str], is_dir: bool = False) -> bool:
    """Whether ``rel`` (relative to the root excludes are written for) is excluded.

    As in git, a file inside an excluded folder stays excluded whatever a later ``!pattern`` says,
    so each parent folder is checked first (the tree walk prunes folders and never gets that far).
    """
    spec = exclude_spec(tuple(patterns))
    parts = rel.split("/")
    for i in range(1, len(parts)):
        if spec.match_file("/".join(parts[:i]) + "/"):
            return True
    return spec.match_file(rel + "/" if is_dir else rel)


def _load_ignore(data: bytes) -> GitIgnoreSpec | None:
    """A ``.gitignore``'s patterns; lines pathspec cannot parse are dropped, as git ignores them."""
    from pathspec import GitIgnoreSpec

    lines = data.decode("utf-8", "replace").splitlines()
    try:
        spec = GitIgnoreSpec.from_lines(lines)
    except ValueError:
        good = []
        for line in lines:
            try:
                GitIgnoreSpec.from_lines([line])
            except ValueError:
                continue
            good.append(line)
        spec = GitIgnoreSpec.from_lines(good)
    return spec if spec.patterns else None


# A .gitignore in force: its patterns and the current folder relative to the .gitignore's folder.
_Layer = tuple["GitIgnoreSpec", str]


def _ignored(layers: Sequence[_Layer], name: str, is_dir: bool) -> bool:
    """git's answer: the deepest .gitignore with a matching line decides, its last match wins."""
    for spec, base in reversed(layers):
        path = _join(base, name) + ("/" if is_dir else "")
        decided = spec.check_file(path).include
        if decided is not None:
            return bool(decided)
    return False


# --- small helpers ---------------------------------------------------------------------------------


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


def is_repository(path: str) -> bool:
    """Whether a folder named ``.git`` is git's: a HEAD that names a ref or a commit, and objects."""
    try:
        with open(os.path.join(path, "HEAD"), "rb") as f:
            head = f.read(256).strip()
    except OSError:
        return False
    if not (head.startswith(b"ref: refs/") or (len(head) in (40, 64) and all(c in b"0123456789abcdef" for c in head))):
        return False
    return os.path.isdir(os.path.join(path, "objects"))


def check_paths(paths: Iterable[str]) -> None:
    """Paths named on the command line exist and can be read: else one clear line, exit 2.

    A dangling symlink named on purpose is a missing path, not a skip: counting it as skipped
    would end a scan of nothing with exit 0. (``-`` is the paths source's: it is given the stream.)
    """
    for p in paths:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            raise WvzscanError(f"no such file or directory: {p}") from None
        except OSError as e:  # EACCES on a parent folder, ENAMETOOLONG, ...
            raise WvzscanError(f"cannot access {p}: {e.strerror or e}") from None
        if stat.S_ISLNK(st.st_mode):
            try:
                os.stat(p)
            except OSError as e:
                if e.errno in _NO_TARGET:
                    raise WvzscanError(f"no such file or directory: {p} (a symlink whose target is missing)") from None
                raise WvzscanError(f"cannot access {p}: {e.strerror or e}") from None


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileTask:
    """A file the walk decided to read: its real path, the path reports show, and the size limit."""

    fs_path: str
    rel: str
    max_size: int = DEFAULT_MAX_FILE_SIZE
    # A pipe or character device the user named (`dir /dev/stdin`, `dir <(cmd)`): read as a stream,
    # at most max_size bytes (its size is not known in advance).
    stream: bool = False


def _read_on(fd: int, data: bytes, want: int) -> bytes:
    """``data`` plus what follows on ``fd`` until end of file or ``want`` bytes in all."""
    parts = [data]
    got = len(data)
    while got < want:
        more = os.read(fd, min(want - got, 1 << 24))
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def read_task(task: FileTask, result: ScanResult) -> Chunk | None:
    """open, fstat, read(size + 1), close: four system calls for an ordinary file."""
    try:
        # A pipe the user named is opened blocking: it waits for its writer, as `cat` would.
        fd = os.open(task.fs_path, _STREAM_FLAGS if task.stream else _OPEN_FLAGS)
    except OSError as e:
        result.error(display(task.rel), f"cannot read: {e.strerror or e}")
        return None
    try:
        limit = task.max_size
        if task.stream:
            data = _read_on(fd, b"", limit + 1)
        else:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                # Replaced since the walk saw a regular file (a FIFO, a folder): not read, counted.
                kind = _special_kind(st.st_mode) or ("directory" if stat.S_ISDIR(st.st_mode) else "special file")
                result.skipped[kind] += 1
                return None
            if st.st_size > limit:
                result.skipped["over max_file_size"] += 1
                return None
            data = os.read(fd, st.st_size + 1)
            # Exactly st_size bytes: the whole file. Fewer: a short read (over 2 GB, or /proc) or a
            # file that shrank; more: it grew since fstat. Read on to the end, within the limit.
            if len(data) != st.st_size:
                data = _read_on(fd, data, limit + 1)
        if len(data) > limit:
            result.skipped["over max_file_size"] += 1
            return None
    except OSError as e:
        result.error(display(task.rel), f"cannot read: {e.strerror or e}")
        return None
    finally:
        os.close(fd)
    return Chunk(data, "file", display(task.rel))


# --- the walk --------------------------------------------------------------------------------------


class _Frame:
    """A folder being listed: its entries still to visit, and where it is for each kind of path.

    A plain class, not a dataclass: this module is imported by every `staged` hook run."""

    __slots__ = ("entries", "layers", "match", "rel")

    def __init__(self, entries: Iterator[os.DirEntry[str]], rel: str, match: str, layers: tuple[_Layer, ...]) -> None:
        self.entries = entries
        self.rel = rel  # as reports show it
        self.match = match  # relative to the root excludes are written for
        self.layers = layers  # .gitignore files in force (--respect-gitignore)


class FileWalker:
    """Decides what to read (and counts what it skips); reading is ``read_task``'s job."""

    def __init__(self, result: ScanResult, opts: FileOptions) -> None:
        self.result = result
        self.opts = opts
        self._spec = exclude_spec(tuple(opts.exclude)) if opts.exclude else None

    def _task(self, fs_path: str, rel: str, stream: bool = False) -> FileTask:
        return FileTask(fs_path, rel, self.opts.max_file_size, stream)

    def tasks(self, paths: Iterable[str]) -> Iterator[FileTask]:
        for top in paths:
            rel = os.path.normpath(top)
            rel = "" if rel == "." else rel
            yield from self._top(top, rel, self._from_root(top, rel))

    def _top(self, fs_path: str, rel: str, match: str) -> Iterator[FileTask]:
        """A path named on the command line: followed if a symlink, read if a pipe or device."""
        try:
            st = os.stat(fs_path)
        except OSError as e:
            # check_paths refused these up front; one that went missing since is still not read.
            self.result.error(display(rel or fs_path), f"cannot read: {e.strerror or e}")
            return
        if stat.S_ISDIR(st.st_mode):
            yield from self._walk(fs_path, rel, match)
            return
        if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
            # Named on the command line, it is input to read, not a tree's oddity to skip
            # (inside a tree, opening a FIFO would block the walk).
            yield self._task(fs_path, rel or fs_path, stream=True)
            return
        kind = _special_kind(st.st_mode)
        if kind is not None:
            self.result.skipped[kind] += 1
            return
        yield self._task(fs_path, rel or os.path.basename(fs_path))

    def _list(self, fs_dir: str, rel_dir: str) -> list[os.DirEntry[str]] | None:
        try:
            with os.scandir(fs_dir) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError as e:
            self.result.error(display(rel_dir or "."), f"cannot list directory: {e.strerror or e}")
            return None

    def _walk(self, fs_root: str, rel_root: str, match_root: str) -> Iterator[FileTask]:
        """Depth first, in name order, with an explicit stack: no recursion limit to hit."""
        layers = self._outer_ignores(fs_root) if self.opts.respect_gitignore else ()
        entries = self._list(fs_root, rel_root)
        if entries is None:
            return
        layers = self._enter(entries, fs_root, rel_root, layers)
        stack = [_Frame(iter(entries), rel_root, match_root, layers)]
        spec = self._spec
        skipped = self.result.skipped
        while stack:
            frame = stack[-1]
            entry = next(frame.entries, None)
            if entry is None:
                stack.pop()
                continue
            name = entry.name
            rel = _join(frame.rel, name)
            match = _join(frame.match, name)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)  # the directory entry's type: no system call
                is_file = not is_dir and entry.is_file(follow_symlinks=False)
            except OSError as e:
                self.result.error(display(rel), f"cannot stat: {e.strerror or e}")
                continue
            if is_dir and name == GIT_DIR and is_repository(entry.path):
                continue  # git's own folder: its history is `wvzscan repo`'s to scan
            if spec is not None and spec.match_file(match + "/" if is_dir else match):
                skipped["excluded"] += 1
                continue
            if frame.layers and _ignored(frame.layers, name, is_dir):
                skipped["ignored by .gitignore"] += 1
                continue
            if is_file:
                yield self._task(entry.path, rel)
            elif is_dir:
                sub = self._list(entry.path, rel)
                if sub is None:
                    continue
                inner = tuple((s, _join(base, name)) for s, base in frame.layers)
                inner = self._enter(sub, entry.path, rel, inner)
                stack.append(_Frame(iter(sub), rel, match, inner))
            else:
                yield from self._odd(entry, rel)

    def _odd(self, entry: os.DirEntry[str], rel: str) -> Iterator[FileTask]:
        """A symlink or a special file inside a tree (rare: these may cost a stat)."""
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as e:
            self.result.error(display(rel), f"cannot stat: {e.strerror or e}")
            return
        if stat.S_ISLNK(st.st_mode):
            try:
                st = os.stat(entry.path)
            except OSError as e:
                if e.errno in _NO_TARGET:
                    self.result.skipped["broken symlink"] += 1
                    return
                # A target that exists but cannot be reached (EACCES) was not read: an error.
                self.result.error(display(rel), f"cannot follow symlink: {e.strerror or e}")
                return
            if stat.S_ISDIR(st.st_mode):
                self.result.skipped["directory symlink (not followed)"] += 1
                return
            if stat.S_ISREG(st.st_mode):
                yield self._task(entry.path, rel)
                return
        kind = _special_kind(st.st_mode)
        if kind is None:  # pragma: no cover - a regular file or folder whose entry said otherwise
            self.result.skipped["special file"] += 1
            return
        self.result.skipped[kind] += 1

    # --- --respect-gitignore ---

    def _enter(
        self, entries: list[os.DirEntry[str]], fs_dir: str, rel_dir: str, layers: tuple[_Layer, ...]
    ) -> tuple[_Layer, ...]:
        """The layers in force inside a folder: its own .gitignore, if it has one, comes last."""
        if not self.opts.respect_gitignore:
            return layers
        for e in entries:
            if e.name == ".gitignore":
                spec = self._read_ignore(e.path, _join(rel_dir, e.name))
                if spec is not None:
                    return (*layers, (spec, ""))
                break
        return layers

    def _read_ignore(self, path: str, rel: str) -> GitIgnoreSpec | None:
        try:
            with open(path, "rb") as f:
                data = f.read(DEFAULT_MAX_FILE_SIZE)
        except OSError as e:
            if e.errno in _NO_TARGET or e.errno == errno.EISDIR:
                return None
            # What it ignores cannot be known: scan everything, and say why the run is incomplete.
            self.result.error(display(rel), f"cannot read .gitignore: {e.strerror or e}")
            return None
        return _load_ignore(data)

    def _outer_ignores(self, fs_root: str) -> tuple[_Layer, ...]:
        """``.git/info/exclude`` and the .gitignore files of the folders from the repository's root
        down to (not including) the walk's root, each with the walk root's path below it."""
        here = os.path.abspath(fs_root)
        chain = [here]
        while not os.path.lexists(os.path.join(chain[-1], GIT_DIR)):
            parent = os.path.dirname(chain[-1])
            if parent == chain[-1]:
                return ()  # not inside a repository: only the tree's own .gitignore files apply
            chain.append(parent)
        chain.reverse()  # repository root first
        layers: list[_Layer] = []
        info = os.path.join(chain[0], GIT_DIR, "info", "exclude")
        for folder in chain[:-1] + ([info] if os.path.isfile(info) else []):
            path = folder if folder == info else os.path.join(folder, ".gitignore")
            spec = self._read_ignore(path, path)
            if spec is None:
                continue
            base_dir = chain[0] if folder == info else folder
            below = os.path.relpath(here, base_dir).replace(os.sep, "/")
            # .git/info/exclude ranks below every .gitignore file.
            layers.insert(0 if folder == info else len(layers), (spec, below))
        return tuple(layers)

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
