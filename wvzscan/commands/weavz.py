"""`wvzscan verify -`, `revoke -` and `rotate -`: one key, read from standard input, never from argv.

argv is visible to every user of the machine (ps, /proc), so a key given there is refused without
being echoed back.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from wvzscan.cli import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_USAGE, UserError
from wvzscan.finding import fingerprint, redact


def _api_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--ca-bundle", type=click.Path(dir_okay=False), help="CA bundle for the Weavz API's TLS.")(f)
    f = click.option("--api-url", help="Weavz API base URL (default $WEAVZ_API_URL, else https://api.weavz.io).")(f)
    return f


def _source_argument(f: Callable[..., Any]) -> Callable[..., Any]:
    # nargs=-1 so that a key pasted as an argument reaches our check instead of click's error
    # message, which would print it.
    return click.argument("source", nargs=-1, metavar="-")(f)


def read_key(source: tuple[str, ...], command: str) -> str:
    """The one key on standard input (a prompt with hidden input on a terminal)."""
    from wvzscan import detect

    if source != ("-",):
        raise UserError(
            f"the key is read from standard input only: wvzscan {command} - < keyfile "
            "(a key on the command line is visible to every user of this machine)"
        )
    if sys.stdin.isatty():
        text = click.prompt("Weavz key", hide_input=True, err=True)
    else:
        text = sys.stdin.buffer.read(1 << 20).decode("utf-8", "replace")
    keys = list(dict.fromkeys(m.key for m in detect.candidates(text.strip().encode("utf-8", "replace"))))
    if len(keys) != 1:
        what = "no Weavz key (wvz_...)" if not keys else f"{len(keys)} different keys"
        raise UserError(f"expected exactly one Weavz key on standard input, found {what}")
    return keys[0]


def _describe(key: str, v: Any) -> list[str]:
    scope = {"org": " (org-wide)", "workspace": " (workspace-scoped)"}.get(v.scope or "", "")
    extra = v.extra()
    head = f"{redact(key)}  {v.status}{scope}"
    if extra.get("key_name"):
        head += f"  name: {extra['key_name']}"
    if extra.get("key_id"):
        head += f"  id: {extra['key_id']}"
    head += f"  [{v.reason}]"
    lines = [head, f"  fingerprint {fingerprint(key)}"]
    for label, field in (
        ("created", "key_created_at"),
        ("last used", "key_last_used_at"),
        ("expires", "key_expires_at"),
    ):
        if extra.get(field):
            lines.append(f"  {label:<11} {extra[field]}")
    if extra.get("key_workspace_ids"):
        lines.append(f"  workspaces  {', '.join(extra['key_workspace_ids'])}")
    if extra.get("key_candidates"):
        lines.append(f"  candidates  {', '.join(extra['key_candidates'])} (several keys share the prefix)")
    return lines


def _as_json(key: str, v: Any, revocation: dict[str, Any] | None = None) -> str:
    doc = {
        "fingerprint": fingerprint(key),
        "key_prefix": key[:8],
        "redacted": redact(key),
        "status": v.status,
        "status_reason": v.reason,
        "scope": v.scope,
        "revocation": revocation,
        **v.extra(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


@click.command("verify")
@_source_argument
@_api_options
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify_cmd(source: tuple[str, ...], api_url: str | None, ca_bundle: str | None, format_: str) -> None:
    """Check one key read from standard input: live, invalid or unknown.

    Exit 0: invalid (dead); 1: live; 3: could not tell; 2: usage error.
    """
    from wvzscan.respond import admin_key_from_env, make_client, say
    from wvzscan.verify import verify_all

    key = read_key(source, "verify")
    notes: list[str] = []
    with make_client(api_url, ca_bundle) as client:
        v = verify_all(client, [key], admin_key_from_env(), notes=notes)[key]
    for note in notes:
        say(f"warning: {note}")
    click.echo(_as_json(key, v) if format_ == "json" else "\n".join(_describe(key, v)))
    sys.exit({"live": EXIT_FINDINGS, "invalid": 0}.get(v.status, EXIT_INCOMPLETE))


@click.command("revoke")
@_source_argument
@_api_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Print the plan, change nothing.")
@click.option("--audit-log", type=click.Path(dir_okay=False), help="Append what was done to FILE (JSON lines).")
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text", show_default=True)
def revoke_cmd(
    source: tuple[str, ...],
    api_url: str | None,
    ca_bundle: str | None,
    yes: bool,
    dry_run: bool,
    audit_log: str | None,
    format_: str,
) -> None:
    """Revoke one key read from standard input (verified live, id resolved, then proven dead).

    Exit 0: revoked, already invalid, or dry run; 2: not revoked (unknown status, id not resolved,
    not confirmed, or the DELETE failed).
    """
    from wvzscan.respond import Leak, admin_key_from_env, make_client, open_audit, revoke_leaks, say
    from wvzscan.verify import verify_all

    key = read_key(source, "revoke")
    admin = admin_key_from_env()
    with make_client(api_url, ca_bundle) as client:
        audit = open_audit(audit_log, client.settings.base_url)
        try:
            v = verify_all(client, [key], admin)[key]
            outcomes, code = revoke_leaks(
                client, [Leak(key, "stdin")], {key: v}, admin_key=admin, audit=audit, dry_run=dry_run, yes=yes
            )
        finally:
            audit.close()
    outcome = outcomes[key]
    if format_ == "json":
        click.echo(_as_json(key, v, outcome.as_dict()))
    else:
        click.echo("\n".join(_describe(key, v)))
        click.echo(f"  revocation  {outcome.result}{': ' + outcome.reason if outcome.reason else ''}")
    if v.status == "unknown":
        say("not revoked: the key's status is unknown; re-run when the API answers")
        code = EXIT_USAGE
    sys.exit(code)


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 86400}
_ROTATED = re.compile(r"-rotated-\d{8}(?:-\d+)?$")


def parse_duration(text: str) -> dt.timedelta:
    m = _DURATION.match(text)
    if not m or int(m.group(1)) == 0:
        raise UserError(f"--expires-in: expected a duration like 90d, 12h, 2w (a bare number is days), got {text!r}")
    return dt.timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


def rotated_name(name: str | None, today: dt.date) -> str:
    """Same name plus a rotation suffix; an earlier suffix is replaced, not stacked."""
    base = _ROTATED.sub("", name or "api-key")
    return f"{base}-rotated-{today:%Y%m%d}"


def _create_private(path: str) -> int:
    """The output file, created 0600 before the key exists, so a key is never made that cannot be saved."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UserError(f"--output {path} already exists; give a new file (it will hold the new key)") from None
    except OSError as e:
        raise UserError(f"cannot create {path}: {e.strerror}") from None
    os.fchmod(fd, 0o600)
    return fd


@click.command("rotate")
@_source_argument
@_api_options
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the new key to FILE (created 0600).")
@click.option("--print-new-key", is_flag=True, help="Print the new key on stdout (and nothing else there).")
@click.option("--expires-in", metavar="DURATION", help="Expiry of the new key: 90d, 12h, 2w, 30m (bare number: days).")
@click.option("--revoke-old", is_flag=True, help="Revoke the old key without asking (for scripts).")
@click.option("--dry-run", is_flag=True, help="Print the plan, change nothing.")
@click.option("--audit-log", type=click.Path(dir_okay=False), help="Append what was done to FILE (JSON lines).")
def rotate_cmd(
    source: tuple[str, ...],
    api_url: str | None,
    ca_bundle: str | None,
    output: str | None,
    print_new_key: bool,
    expires_in: str | None,
    revoke_old: bool,
    dry_run: bool,
    audit_log: str | None,
) -> None:
    """Zero-downtime rotation of one key read from standard input.

    Creates a replacement with the same permissions and name plus a rotation suffix, writes it to
    --output (0600), verifies it, then revokes the old key once you confirm the new one is deployed
    (--revoke-old: without asking). Exit 0: done (or old key kept on purpose); 2: not done.
    """
    from wvzscan.respond import admin_key_from_env, ask, make_client, open_audit, say

    if not output and not print_new_key and not dry_run:
        raise UserError("rotate needs --output FILE for the new key (or --print-new-key to print it on stdout)")
    expires = parse_duration(expires_in) if expires_in else None
    if output and os.path.lexists(output):
        raise UserError(f"--output {output} already exists; give a new file (it will hold the new key)")
    key = read_key(source, "rotate")
    admin = admin_key_from_env()
    with make_client(api_url, ca_bundle) as client:
        audit = open_audit(audit_log, client.settings.base_url)
        try:
            code = _rotate(client, key, admin, audit, output, print_new_key, expires, revoke_old, dry_run, ask, say)
        finally:
            audit.close()
    if audit.failed:
        say(f"{audit.failed}: the audit log is incomplete")
        code = code or EXIT_USAGE
    sys.exit(code)


def _rotate(
    client: Any,
    key: str,
    admin: str | None,
    audit: Any,
    output: str | None,
    print_new_key: bool,
    expires: dt.timedelta | None,
    revoke_old: bool,
    dry_run: bool,
    ask: Callable[[str], bool | None],
    say: Callable[[str], None],
) -> int:
    from wvzscan.revoke import Target, resolve, revoke_one
    from wvzscan.verify import probe, verify_all
    from wvzscan.weavz import UncertainOutcome, WeavzError, key_label

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
    expires_at = (now + expires).isoformat(timespec="seconds").replace("+00:00", "Z") if expires else None
    perms = old.permissions  # None means org-wide, as the API has it
    ids = {"key_id": old.id, "key_name": old.name, "where": "stdin"}
    dest = output or ("stdout" if print_new_key else "--output FILE")
    say(
        f"rotation plan: create {name!r} with the permissions of {old.id} "
        f"({'workspace-scoped' if old.scope == 'workspace' else 'org-wide'})"
        f"{', expiring ' + expires_at if expires_at else ''}; write it to {dest}; verify it; "
        f"then revoke {old.id} {key_label(key)}"
        f"{'' if revoke_old else ' after you confirm the new key is deployed'}"
    )
    if dry_run:
        audit.write("rotate", key, "dry-run", **ids, new_key_name=name)
        say("dry run: nothing was changed")
        return 0
    fd = _create_private(output) if output else None
    if not audit.write("rotate-create", key, "started", **ids, new_key_name=name):
        if fd is not None:
            os.close(fd)
            os.unlink(output)  # type: ignore[arg-type]
        say(f"nothing created: {audit.failed}")
        return EXIT_USAGE
    try:
        new_rec, new_key = client.create_key(creator, name, perms, expires_at)
    except WeavzError as e:
        if fd is not None:
            os.close(fd)
            os.unlink(output)  # type: ignore[arg-type]
        maybe = isinstance(e, UncertainOutcome)
        audit.write("rotate-create", key, "uncertain" if maybe else "failed", **ids, new_key_name=name, error=e.reason)
        say(f"creating the replacement failed: {e.reason}")
        if maybe:
            say(f"it may have been created anyway: look for a key named {name!r} before retrying")
        return EXIT_USAGE
    if fd is not None:
        os.write(fd, (new_key + "\n").encode())
        os.fsync(fd)
        os.close(fd)
    new_ids = {
        "new_key_id": new_rec.id,
        "new_key_name": new_rec.name,
        "new_fingerprint": fingerprint(new_key),
    }
    audit.write("rotate-create", key, "created", **ids, **new_ids)
    if print_new_key:
        click.echo(new_key)
    say(f"created {new_rec.id} {new_rec.name!r}: {key_label(new_key)}" + (f", saved in {output}" if output else ""))
    status, reason = "unknown", ""
    for attempt in range(3):
        status, reason, _ = probe(client, new_key)
        if status == "live":
            break
        time.sleep(max(client.settings.backoff, 0.05) * 2**attempt)  # a new key may take a moment to spread
    audit.write("verify-new", key, status, **ids, **new_ids, error=None if status == "live" else reason)
    if status != "live":
        say(f"the new key does not verify ({status}: {reason}); the old key {old.id} is kept")
        return EXIT_USAGE
    say(f"the new key works ({reason})")
    go = revoke_old
    if not go:
        answer = ask(f"Deploy the new key now. Is it deployed and working, so that {old.id} can be revoked?")
        go = bool(answer)
        if not go:
            audit.write("revoke", key, "skipped", **ids, error="old key kept until the new one is deployed")
            say(f"the old key {old.id} stays live; once the new key is deployed: wvzscan revoke - < OLD_KEY_FILE")
            return 0
    t = Target(key, v, "stdin", resolution=res)
    outcome = revoke_one(client, t, admin, audit)
    say(f"old key {old.id}: {outcome.result} ({outcome.reason})")
    return 0 if outcome.result == "revoked" else EXIT_USAGE
