"""Zero-downtime rotation of one key: create its replacement (same permissions, name plus a rotation
suffix), save it, verify it, then revoke the old key once the user says the new one is deployed.

Nothing here prints: messages go to ``say``, the question to ``confirm``, and the new key (when the
user asked for it on stdout) to ``emit_new_key``. The file that receives the new key is opened in one
small function (``create_key_file``) before the key exists, so a key is never made that cannot be saved.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from wvzscan.errors import EXIT_USAGE, WvzscanError
from wvzscan.finding import fingerprint
from wvzscan.isotime import format_utc
from wvzscan.response.journal import Journal
from wvzscan.response.resolve import resolve
from wvzscan.response.revoke import Confirm, Say, Target, revoke_one
from wvzscan.response.verify import Status, probe, verify_all
from wvzscan.weavz import Client, UncertainOutcome, WeavzError, key_label

_DURATION = re.compile(r"\s{0,8}(\d{1,9})\s{0,8}([smhdw]?)\s{0,8}")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 86400}
_ROTATED = re.compile(r"-rotated-\d{8}(?:-\d{1,9})?$")
MAX_EXPIRY = dt.timedelta(days=36500)


def parse_duration(text: str) -> dt.timedelta:
    """``90d``, ``12h``, ``2w``, ``30m``, ``45s``; a bare number is days. WvzscanError otherwise."""
    m = _DURATION.fullmatch(text) if len(text) <= 40 else None
    seconds = int(m.group(1)) * _UNITS[m.group(2)] if m else 0
    if not m or seconds == 0 or seconds > MAX_EXPIRY.total_seconds():
        shown = text[:40]
        raise WvzscanError(
            f"--expires-in: expected a duration like 90d, 12h, 2w (a bare number is days, at most 100 years), "
            f"got {shown!r}"
        )
    return dt.timedelta(seconds=seconds)


def rotated_name(name: str | None, today: dt.date) -> str:
    """Same name plus a rotation suffix; an earlier suffix is replaced, not stacked."""
    base = _ROTATED.sub("", name or "api-key")
    return f"{base}-rotated-{today:%Y%m%d}"


def create_key_file(path: str) -> int:
    """The file for the new key, created 0600 by the one writer (never through a link, never over an
    existing file; a stream the user named, such as /dev/stdout, is written as one)."""
    from wvzscan.output.writer import new_private_fd

    try:
        return new_private_fd(path)
    except WvzscanError as e:
        raise WvzscanError(f"--output (the file for the new key): {e}") from None


@dataclass(frozen=True)
class RotateOptions:
    output: str | None = None  # the file for the new key
    print_new_key: bool = False  # hand the new key to ``emit_new_key`` (stdout)
    expires_in: dt.timedelta | None = None
    revoke_old: bool = False  # revoke the old key without asking
    dry_run: bool = False


def check_rotate_options(opts: RotateOptions) -> None:
    """What can be refused before any key is read or any request made."""
    if not opts.output and not opts.print_new_key and not opts.dry_run:
        raise WvzscanError("rotate needs --output FILE for the new key (or --print-new-key to print it on stdout)")


def check_key_file(path: str | None) -> None:
    """Refuse an --output that exists before any key is read (it is checked again when created)."""
    if path and os.path.lexists(path):
        raise WvzscanError(f"--output {path} already exists; give a new file (it will hold the new key)")


def _discard(fd: int | None, path: str | None) -> None:
    if fd is not None and path is not None:
        os.close(fd)
        os.unlink(path)


def rotate(
    client: Client,
    key: str,
    admin: str | None,
    journal: Journal,
    opts: RotateOptions,
    *,
    confirm: Confirm,
    say: Say,
    emit_new_key: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Rotate ``key``; returns 0 (done, or the old key kept on purpose) or 2 (not done)."""
    output = opts.output
    v = verify_all(client, [key], admin)[key]
    if v.status != "live":
        say(f"cannot rotate {key_label(key)}: it is {v.status} ({v.reason})")
        if v.status == "invalid":
            say("it no longer works; create a new key in the dashboard (Settings -> API Keys)")
        return EXIT_USAGE
    res = resolve(client, key, v, admin)
    if res.problem or res.record is None:
        say(f"cannot rotate {key_label(key)}: {res.problem}")
        return EXIT_USAGE
    old = res.record
    creator = key if res.via == "self" else admin
    assert creator is not None
    now = dt.datetime.now(dt.timezone.utc)
    name = rotated_name(old.name, now.date())
    expires_at = format_utc(now + opts.expires_in, "seconds") if opts.expires_in else None
    perms = old.permissions  # None means org-wide, as the API has it
    ids = {"key_id": old.id, "key_name": old.name, "where": "stdin"}
    dest = output or ("stdout" if opts.print_new_key else "--output FILE")
    say(
        f"rotation plan: create {name!r} with the permissions of {old.id} "
        f"({'workspace-scoped' if old.scope == 'workspace' else 'org-wide'})"
        f"{', expiring ' + expires_at if expires_at else ''}; write it to {dest}; verify it; "
        f"then revoke {old.id} {key_label(key)}"
        f"{'' if opts.revoke_old else ' after you confirm the new key is deployed'}"
    )
    if opts.dry_run:
        journal.write("rotate", key, "dry-run", **ids, new_key_name=name)
        say("dry run: nothing was changed")
        return 0
    fd = create_key_file(output) if output else None
    if not journal.write("rotate-create", key, "started", **ids, new_key_name=name):
        _discard(fd, output)
        say(f"nothing created: {journal.failed}")
        return EXIT_USAGE
    try:
        new_rec, new_key = client.create_key(creator, name, perms, expires_at)
    except WeavzError as e:
        _discard(fd, output)
        maybe = isinstance(e, UncertainOutcome)
        journal.write(
            "rotate-create", key, "uncertain" if maybe else "failed", **ids, new_key_name=name, error=e.reason
        )
        say(f"creating the replacement failed: {e.reason}")
        if maybe:
            say(f"it may have been created anyway: look for a key named {name!r} before retrying")
        return EXIT_USAGE
    if fd is not None:
        os.write(fd, (new_key + "\n").encode("utf-8", "replace"))
        os.fsync(fd)
        os.close(fd)
    new_ids = {"new_key_id": new_rec.id, "new_key_name": new_rec.name, "new_fingerprint": fingerprint(new_key)}
    journal.write("rotate-create", key, "created", **ids, **new_ids)
    if opts.print_new_key:
        emit_new_key(new_key)
    say(f"created {new_rec.id} {new_rec.name!r}: {key_label(new_key)}" + (f", saved in {output}" if output else ""))
    status: Status = "unknown"
    reason = ""
    for attempt in range(3):
        p = probe(client, new_key)
        status, reason = p.status, p.reason
        if status == "live":
            break
        sleep(max(client.settings.backoff, 0.05) * 2**attempt)  # a new key may take a moment to spread
    journal.write("verify-new", key, status, **ids, **new_ids, error=None if status == "live" else reason)
    if status != "live":
        say(f"the new key does not verify ({status}: {reason}); the old key {old.id} is kept")
        return EXIT_USAGE
    say(f"the new key works ({reason})")
    go = opts.revoke_old
    if not go:
        answer = confirm(f"Deploy the new key now. Is it deployed and working, so that {old.id} can be revoked?")
        go = bool(answer)
        if not go:
            journal.write("revoke", key, "skipped", **ids, error="old key kept until the new one is deployed")
            say(f"the old key {old.id} stays live; once the new key is deployed: wvzscan revoke - < OLD_KEY_FILE")
            return 0
    t = Target(key, v, "stdin", resolution=res)
    outcome = revoke_one(client, t, admin, journal)
    say(f"old key {old.id}: {outcome.result} ({outcome.reason})")
    return 0 if outcome.result == "revoked" else EXIT_USAGE
