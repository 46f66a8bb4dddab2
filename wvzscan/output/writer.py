"""The one writer for every file wvzscan writes: reports (``-o``, ``--report``), baselines, the audit log
(``--audit-log``, appended) and rotated-key files.

A path is someone else's ground: a pull request can commit ``wvzscan.sarif -> /some/file`` (or a folder
``results -> /etc``) and CI then runs wvzscan with that path. So:

- a new file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``, mode 0600;
- an existing regular file is replaced by a temporary file written in the same folder and renamed over
  it (a rename replaces the directory entry: it never writes through a link, hard or symbolic);
- a symbolic link, a directory or a block device at the path is refused (``WvzscanError``, exit 2);
- in a relative path, no folder on the way may be a symbolic link (each is opened with ``O_NOFOLLOW``);
  an absolute path's folders are the user's own choice and are followed;
- a stream the user names on purpose is written as a stream, never created, truncated or chmodded:
  ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N`` (the descriptor the shell opened,
  written at its own offset), a FIFO, a character device (``/dev/null``, a tty);
- the audit log is appended to only when it is a regular file owned by the user with no other hard link
  (``O_NOFOLLOW`` then ``fstat``), and is made 0600.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from wvzscan.errors import WvzscanError
from wvzscan.output.terminal import escape_line, fix_surrogates

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NAMED_FD = re.compile(r"/(?:dev/fd|proc/self/fd)/([0-9]{1,9})")
_STD_STREAMS = {"/dev/stdout": 1, "/dev/stderr": 2}


class _Refused(Exception):
    """Why the path is not written (becomes ``WvzscanError("cannot write PATH: why")``)."""


def _fail(path: str, why: str) -> WvzscanError:
    return WvzscanError(f"cannot write {escape_line(path)}: {why}")


@contextlib.contextmanager
def _failing(path: str) -> Iterator[None]:
    """A refusal or an OS error inside becomes the one clear ``WvzscanError`` for ``path``."""
    try:
        yield
    except _Refused as e:
        raise _fail(path, str(e)) from None
    except OSError as e:
        raise _fail(path, _os_reason(e)) from None


def _os_reason(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "it is a symbolic link (refused: wvzscan never writes through a link)"
    return e.strerror or str(e)


def _named_fd(path: str) -> int | None:
    """The descriptor behind ``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/3``, else None."""
    if path in _STD_STREAMS:
        return _STD_STREAMS[path]
    m = _NAMED_FD.fullmatch(path)
    return int(m.group(1)) if m else None


def _is_stream(mode: int) -> bool:
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "it is a symbolic link (refused: wvzscan never writes through a link)"
    if stat.S_ISDIR(mode):
        return "it is a directory"
    if stat.S_ISBLK(mode):
        return "it is a block device"
    return "it is not a regular file"


def _open_parent(path: str) -> tuple[int, str]:
    """A descriptor of the folder that holds ``path``, and the name in it.

    In a relative path every folder is opened without following a symbolic link: a repository under
    scan can hold links, the user's own absolute paths are trusted as named.
    """
    head, name = os.path.split(path)
    if not name or name in (".", ".."):
        raise _Refused("it is a directory")
    flags = os.O_RDONLY | _DIRECTORY | _CLOEXEC
    if os.path.isabs(path):
        try:
            return os.open(head or "/", flags), name
        except OSError as e:
            raise _Refused(f"its folder: {_os_reason(e)}") from None
    fd = os.open(".", flags)
    try:
        for part in head.split(os.sep):
            if part in ("", "."):
                continue
            try:
                nxt = os.open(part, flags | _NOFOLLOW, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _Refused(
                        f"the folder {escape_line(part)} on the way is a symbolic link or not a folder"
                    ) from None
                raise _Refused(f"the folder {escape_line(part)}: {_os_reason(e)}") from None
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd, name


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _encode(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else fix_surrogates(text).encode("utf-8")


def _dup_stream(path: str, fd: int) -> int:
    try:
        return os.dup(fd)
    except OSError as e:
        raise _fail(path, f"descriptor {fd}: {_os_reason(e)}") from None


def _stream_fd(path: str, name: str, dirfd: int, follow: bool) -> int:
    """Open an existing FIFO or character device for writing, as it is."""
    flags = os.O_WRONLY | _NOCTTY | _CLOEXEC | (0 if follow else _NOFOLLOW)
    fd = os.open(name if not follow else path, flags, dir_fd=None if follow else dirfd)
    if not _is_stream(os.fstat(fd).st_mode):  # it changed under us
        os.close(fd)
        raise _Refused("it changed while it was opened")
    return fd


def _lstat(name: str, dirfd: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _dev_link_stream(path: str, st: os.stat_result | None) -> bool:
    """A system link under /dev (``/dev/log``-like) to a stream: the user named it, it is not a plant."""
    if st is None or not stat.S_ISLNK(st.st_mode) or not path.startswith("/dev/"):
        return False
    try:
        return _is_stream(os.stat(path).st_mode)
    except OSError:
        return False


def write_private(path: str, text: str | bytes) -> None:
    """Write a whole file (a report, a baseline): created 0600, an existing regular file replaced by
    rename, a named stream written as it is. Raises ``WvzscanError`` when the path is refused."""
    data = _encode(text)
    fd = _named_fd(path)
    if fd is not None:
        out = _dup_stream(path, fd)
        try:
            with _failing(path):
                _write_all(out, data)
        finally:
            os.close(out)
        return
    with _failing(path):
        dirfd, name = _open_parent(path)
    try:
        with _failing(path):
            _write_in(path, dirfd, name, data)
    finally:
        os.close(dirfd)


def _write_in(path: str, dirfd: int, name: str, data: bytes) -> None:
    st = _lstat(name, dirfd)
    if st is None:
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dirfd)
        except FileExistsError:
            raise _Refused("it appeared while it was being created") from None
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        return
    if _is_stream(st.st_mode) or _dev_link_stream(path, st):
        fd = _stream_fd(path, name, dirfd, follow=stat.S_ISLNK(st.st_mode))
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        return
    if not stat.S_ISREG(st.st_mode):
        raise _Refused(_kind(st.st_mode))
    _replace(dirfd, name, data)


def _replace(dirfd: int, name: str, data: bytes) -> None:
    """A temporary file in the same folder, renamed over the regular file ``name``."""
    tmp = f".{name[:100]}.{secrets.token_hex(6)}.wvzscan-tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dirfd)
    except PermissionError:
        _overwrite_in_place(dirfd, name, data)  # a folder we cannot write in, a file we may
        return
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dirfd, dst_dir_fd=dirfd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dirfd)
        raise


def _overwrite_in_place(dirfd: int, name: str, data: bytes) -> None:
    fd = os.open(name, os.O_WRONLY | _NOFOLLOW | _NOCTTY | _CLOEXEC, dir_fd=dirfd)
    try:
        _check_own_regular(fd)
        os.ftruncate(fd, 0)
        _write_all(fd, data)
    finally:
        os.close(fd)


def _check_own_regular(fd: int, private: bool = True) -> None:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise _Refused(_kind(st.st_mode))
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise _Refused("it belongs to another user")
    if st.st_nlink != 1:
        raise _Refused("it has other hard links (refused: wvzscan never writes through a link)")
    if private and st.st_mode & 0o077:
        os.fchmod(fd, 0o600)


def _open_fd(path: str, append: bool, private: bool = True) -> int:
    """A new private file (``append`` False: it must not exist) or the audit log to append to."""
    fd = _named_fd(path)
    if fd is not None:
        return _dup_stream(path, fd)
    with _failing(path):
        dirfd, name = _open_parent(path)
    try:
        with _failing(path):
            for _ in range(3):
                st = _lstat(name, dirfd)
                if st is None:
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | (os.O_APPEND if append else 0)
                    try:
                        return os.open(name, flags, 0o600, dir_fd=dirfd)
                    except FileExistsError:
                        continue  # created between the look and the open: look again
                if _is_stream(st.st_mode) or _dev_link_stream(path, st):
                    return _stream_fd(path, name, dirfd, follow=stat.S_ISLNK(st.st_mode))
                if not append:
                    if stat.S_ISREG(st.st_mode):
                        raise _Refused("it already exists; give a new file")
                    raise _Refused(_kind(st.st_mode))
                if not stat.S_ISREG(st.st_mode):
                    raise _Refused(_kind(st.st_mode))
                out = os.open(name, os.O_WRONLY | os.O_APPEND | _NOFOLLOW | _NOCTTY | _CLOEXEC, dir_fd=dirfd)
                try:
                    _check_own_regular(out, private)
                except BaseException:
                    os.close(out)
                    raise
                return out
            raise _Refused("it keeps changing while it is opened")
    finally:
        os.close(dirfd)


def append_private_fd(path: str) -> int:
    """A descriptor to append to (the audit log): created 0600 when missing; an existing file only when it
    is a regular file owned by the user with one link (then made 0600); a named stream as it is."""
    return _open_fd(path, append=True)


def append_private(path: str) -> TextIO:
    """:func:`append_private_fd` as a UTF-8 text file (``.fileno()`` for ``os.fsync``)."""
    return os.fdopen(append_private_fd(path), "a", encoding="utf-8", errors="backslashreplace")


def new_private_fd(path: str) -> int:
    """:func:`open_new_private` as a raw descriptor (a drop-in for ``os.open(path, O_CREAT|O_EXCL, 0o600)``)."""
    return _open_fd(path, append=False)


def open_new_private(path: str) -> BinaryIO:
    """A file that must not exist yet (a rotated key is written here): created 0600 with ``O_EXCL``
    and ``O_NOFOLLOW``, or a stream the user named (``/dev/stdout``). Open it before making the key,
    so that a key is never made that cannot be saved."""
    return os.fdopen(_open_fd(path, append=False), "wb")


def write_new_private(path: str, text: str | bytes) -> None:
    """:func:`open_new_private`, then write ``text`` and close."""
    with open_new_private(path) as f:
        f.write(_encode(text))


def append_text(path: str, text: str) -> None:
    """Append ``text`` to a file another program gave us to append to (``$GITHUB_STEP_SUMMARY``,
    ``$GITHUB_OUTPUT``): the same checks as :func:`append_private_fd`, its mode left as it is."""
    fd = _open_fd(path, append=True, private=False)
    try:
        with _failing(path):
            _write_all(fd, _encode(text))
    finally:
        os.close(fd)
