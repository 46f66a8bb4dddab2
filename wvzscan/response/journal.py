"""The journal of what a response did (the file ``--audit-log`` names): JSON lines, appended and fsynced
before and after each call; fingerprints, never keys.

A write that fails (disk full, I/O error) never raises: it returns False and is remembered in
``failed``, so that no change is made that cannot be written down, and the run ends with exit 2.

Opening the file is one small function (``open_journal_file``), the only place the journal touches the
file system by name: it never follows a symlink, and appends only to a regular file owned by the user
(or to a stream the user named: a pipe, a character device such as /dev/stderr).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
from typing import Any, Literal

from wvzscan.errors import WvzscanError
from wvzscan.finding import fingerprint
from wvzscan.isotime import format_utc
from wvzscan.output.redact import scrub

Action = Literal["revoke", "verify-dead", "rotate", "rotate-create", "verify-new"]

_STREAMS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/")  # named on purpose: may be links


def open_journal_file(path: str) -> int:
    """An fd to append journal lines to ``path``; WvzscanError (exit 2) when it must not be written.

    The one writer decides (``output.writer.append_private_fd``): a new file is created 0600; an
    existing one must be a regular file of the user's with one link (then narrowed to 0600); a
    symlink is refused; a stream the user named (/dev/stderr, /dev/fd/N, a pipe) is written as one.
    """
    from wvzscan.output.writer import append_private_fd

    try:
        return append_private_fd(path)
    except WvzscanError as e:
        raise WvzscanError(f"audit log: {e}") from None


class Journal:
    """What was done, one JSON line per step; no file (``path`` None) writes nothing."""

    def __init__(self, path: str | None, api_url: str = "") -> None:
        self.path = path
        self.api_url = api_url
        self.failed: str | None = None
        self._fd: int | None = open_journal_file(path) if path else None

    def write(self, action: Action, key: str, result: str, **fields: Any) -> bool:
        if self._fd is None:
            return True
        rec: dict[str, Any] = {
            "time": format_utc(dt.datetime.now(dt.timezone.utc)),
            "action": action,
            "fingerprint": fingerprint(key),
            "key_prefix": key[:8],
            "key_id": None,
            "key_name": None,
            "where": None,
            "result": result,
            "error": None,
            "api_url": self.api_url,
        }
        rec.update(fields)
        line = json.dumps({k: scrub(v) if isinstance(v, str) else v for k, v in rec.items()}, ensure_ascii=False)
        data = (line + "\n").encode("utf-8", "replace")
        try:
            if os.write(self._fd, data) != len(data):
                raise OSError(errno.ENOSPC, "short write")
            try:
                os.fsync(self._fd)
            except OSError as e:
                if e.errno != errno.EINVAL:  # pipes and ttys cannot be synced; files must be
                    raise
        except OSError as e:
            self.failed = f"cannot write audit log {self.path}: {e.strerror or e}"
            return False
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
