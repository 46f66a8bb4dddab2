"""`wvzscan verify -`, `revoke -` and `rotate -`, and the terminal side of `--verify`/`--revoke`.

One key is read from standard input, never from argv: argv is visible to every user of the machine
(ps, /proc), so a key given there is refused without being echoed back. The work is done by
``wvzscan.response``; this module only reads the key, asks on the terminal, prints, and returns the
exit code.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import click

from wvzscan.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_USAGE, WvzscanError
from wvzscan.finding import fingerprint, redact

if TYPE_CHECKING:
    from wvzscan.finding import ScanResult
    from wvzscan.response import Verdict


def say(msg: str) -> None:
    """A message on stderr; an indented message continues the one before it (a plan's lines)."""
    from wvzscan.output.redact import scrub

    msg = scrub(msg)
    click.echo(msg if msg.startswith("  ") else f"wvzscan: {msg}", err=True)


def ask(question: str) -> bool | None:
    """Ask on the user's terminal: True/False, or None when there is no terminal to ask on.

    When stdin carries data (``revoke - < keyfile``) the question goes to /dev/tty, as ssh and sudo do.
    """
    if not sys.stderr.isatty():
        return None
    if sys.stdin.isatty():
        try:
            return click.confirm(question, default=False, err=True)
        except click.Abort:  # end of input (Ctrl-D) or Ctrl-C at the prompt: a "no", and the report still comes
            click.echo("", err=True)
            return False
    try:
        with open("/dev/tty", "r+", encoding="utf-8") as tty:
            tty.write(f"{question} [y/N]: ")
            tty.flush()
            return tty.readline().strip().lower() in ("y", "yes")
    except OSError:
        return None


class Progress:
    """ "verified 120/1000 keys" on a terminal; counts only, never a key."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total = total
        self.on = not quiet and sys.stderr.isatty() and total > 1

    def __call__(self, n: int) -> None:
        if self.on and (n == self.total or n % 10 == 0):
            sys.stderr.write(f"\rverified {n}/{self.total} keys\033[K")
            sys.stderr.flush()

    def done(self) -> None:
        if self.on:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


class _ResponseFlags(Protocol):
    """What the scan commands' options hold for a response (commands.common.CliOptions has these)."""

    @property
    def revoke(self) -> bool: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def yes(self) -> bool: ...
    @property
    def api_url(self) -> str | None: ...
    @property
    def ca_bundle(self) -> str | None: ...
    @property
    def audit_log(self) -> str | None: ...
    @property
    def quiet(self) -> bool: ...


def respond_for_scan(result: ScanResult, opts: _ResponseFlags) -> int:
    """--verify/--revoke of a scan command: the engine with this terminal's say, ask and progress.

    Returns 2 when a revocation was asked for and did not happen for every live key, else 0.
    """
    from wvzscan.response import ResponseOptions, admin_key_from_env, respond

    options = ResponseOptions(
        verify=True,
        revoke=opts.revoke,
        dry_run=opts.dry_run,
        yes=opts.yes,
        api_url=opts.api_url,
        ca_bundle=opts.ca_bundle,
        audit_log=opts.audit_log,
        quiet=opts.quiet,
    )
    progress = Progress(len({f.secret for f in result.findings}), opts.quiet)
    try:
        out = respond(result, options, admin_key=admin_key_from_env(), confirm=ask, say=say, progress=progress)
    finally:
        progress.done()
    return out.exit_code


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
        raise WvzscanError(
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
        raise WvzscanError(f"expected exactly one Weavz key on standard input, found {what}")
    return keys[0]


def _describe(key: str, v: Verdict) -> list[str]:
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


def _as_json(key: str, v: Verdict, revocation: dict[str, Any] | None = None) -> str:
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


def _echo(text: str) -> None:
    from wvzscan.output.redact import scrub

    click.echo(scrub(text))


@click.command("verify")
@_source_argument
@_api_options
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify_cmd(source: tuple[str, ...], api_url: str | None, ca_bundle: str | None, format_: str) -> int:
    """Check one key read from standard input: live, invalid or unknown.

    Exit 0: invalid (dead); 1: live; 3: could not tell; 2: usage error.
    """
    from wvzscan.response import admin_key_from_env, unreachable_summary, verify_keys

    admin = admin_key_from_env()
    key = read_key(source, "verify")
    notes: list[str] = []
    from wvzscan.response import make_client

    with make_client(api_url, ca_bundle) as client:
        v = verify_keys([key], client=client, admin_key=admin, notes=notes)[key]
        summary = unreachable_summary({key: v}, client.settings.base_url)
    for note in notes:
        say(f"warning: {note}")
    if summary:
        say(summary)
    _echo(_as_json(key, v) if format_ == "json" else "\n".join(_describe(key, v)))
    return {"live": EXIT_FINDINGS, "invalid": 0}.get(v.status, EXIT_INCOMPLETE)


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
) -> int:
    """Revoke one key read from standard input (verified live, id resolved, then proven dead).

    Exit 0: revoked, already invalid, or dry run; 2: not revoked (unknown status, id not resolved,
    not confirmed, or the DELETE failed).
    """
    from wvzscan.response import Leak, admin_key_from_env, make_client, open_journal, revoke_keys, verify_keys

    admin = admin_key_from_env()
    key = read_key(source, "revoke")
    with make_client(api_url, ca_bundle) as client, open_journal(audit_log, client.settings.base_url) as journal:
        v = verify_keys([key], client=client, admin_key=admin)[key]
        rev = revoke_keys(
            [Leak(key, "stdin")], {key: v}, client=client, admin_key=admin, journal=journal,
            dry_run=dry_run, yes=yes, confirm=ask, say=say,
        )  # fmt: skip
    outcome = rev.outcomes[key]
    if format_ == "json":
        _echo(_as_json(key, v, outcome.as_dict()))
    else:
        _echo("\n".join(_describe(key, v)))
        _echo(f"  revocation  {outcome.result}{': ' + outcome.reason if outcome.reason else ''}")
    if v.status == "unknown":
        say("not revoked: the key's status is unknown; re-run when the API answers")
        return EXIT_USAGE
    return 0 if rev.ok else EXIT_USAGE


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
) -> int:
    """Zero-downtime rotation of one key read from standard input.

    Creates a replacement with the same permissions and name plus a rotation suffix, writes it to
    --output (0600), verifies it, then revokes the old key once you confirm the new one is deployed
    (--revoke-old: without asking). Exit 0: done (or old key kept on purpose); 2: not done.
    """
    from wvzscan.response import (
        RotateOptions,
        admin_key_from_env,
        make_client,
        open_journal,
        parse_duration,
        rotate,
    )
    from wvzscan.response.rotate import check_key_file, check_rotate_options

    opts = RotateOptions(output=output, print_new_key=print_new_key, revoke_old=revoke_old, dry_run=dry_run)
    check_rotate_options(opts)
    if expires_in:
        opts = dataclasses.replace(opts, expires_in=parse_duration(expires_in))
    check_key_file(output)
    admin = admin_key_from_env()
    key = read_key(source, "rotate")
    with make_client(api_url, ca_bundle) as client, open_journal(audit_log, client.settings.base_url) as journal:
        code = rotate(client, key, admin, journal, opts, confirm=ask, say=say, emit_new_key=click.echo)
    if journal.failed:
        say(f"{journal.failed}: the audit log is incomplete")
        code = code or EXIT_USAGE
    return code
