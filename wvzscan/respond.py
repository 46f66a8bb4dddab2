"""Leak response for a scan: verify every unique key, then (with --revoke) revoke the live ones.

Called by ``cli.run_scan`` when --verify or --revoke is given; also the engine behind
``wvzscan verify -`` and ``wvzscan revoke -``. Messages go to stderr; the report stays on stdout.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from wvzscan.errors import EXIT_USAGE
from wvzscan.errors import WvzscanError as UserError
from wvzscan.finding import ScanResult, fingerprint

if TYPE_CHECKING:
    from wvzscan.commands.common import (
        CliOptions as ScanOptions,
    )  # the real imports are lazy: httpx comes with wvzscan.weavz's Client
    from wvzscan.revoke import AuditLog, Outcome, Target
    from wvzscan.verify import Verdict
    from wvzscan.weavz import Client


def say(msg: str) -> None:
    click.echo(f"wvzscan: {msg}", err=True)


def admin_key_from_env() -> str | None:
    """The org-wide admin key comes from the environment only, never from a flag."""
    value = os.environ.get("WEAVZ_API_KEY", "").strip()
    return value or None


def make_client(api_url: str | None, ca_bundle: str | None) -> Client:
    from wvzscan.weavz import Client, ConfigError, Settings

    if ca_bundle and not os.path.isfile(ca_bundle):
        raise UserError(f"--ca-bundle {ca_bundle}: no such file")
    try:
        return Client(Settings.from_env(api_url, ca_bundle))
    except ConfigError as e:
        raise UserError(e.reason) from None


def open_audit(path: str | None, api_url: str) -> AuditLog:
    from wvzscan.revoke import AuditLog

    try:
        return AuditLog(path, api_url)
    except OSError as e:
        raise UserError(f"cannot open audit log {path}: {e.strerror}") from None


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


@dataclass
class Leak:
    key: str
    where: str


def revoke_leaks(
    client: Client,
    leaks: list[Leak],
    verdicts: dict[str, Verdict],
    *,
    admin_key: str | None,
    audit: AuditLog,
    dry_run: bool,
    yes: bool,
    confirm: Callable[[str], bool | None] = ask,
) -> tuple[dict[str, Outcome], int]:
    """Resolve, plan, confirm, revoke, re-verify. Returns outcomes by key and 0, or 2 if any failed."""
    from wvzscan.revoke import Outcome, Target, order, resolve, revoke_one

    outcomes: dict[str, Outcome] = {}
    targets: list[Target] = []
    admin_fp = fingerprint(admin_key) if admin_key else None
    for leak in leaks:
        v = verdicts[leak.key]
        if v.status == "invalid":
            outcomes[leak.key] = Outcome("skipped", None, f"already invalid ({v.reason})")
        elif v.status != "live":
            outcomes[leak.key] = Outcome("skipped", None, f"status unknown ({v.reason}): not proven live")
        else:
            targets.append(Target(leak.key, v, leak.where, is_admin=fingerprint(leak.key) == admin_fp))
    if not targets:
        return outcomes, 0
    for t in targets:
        t.resolution = resolve(client, t.key, t.verdict, admin_key)
    targets = order(targets)
    doable = [t for t in targets if not t.resolution.problem]
    say(f"revocation plan ({len(targets)} live key{'s' if len(targets) != 1 else ''}):")
    for t in targets:
        click.echo(f"  {t.describe()}", err=True)
    go = True
    if doable and dry_run:
        go = False
        for t in doable:
            audit.write("revoke", t.key, "dry-run", key_id=t.key_id, key_name=t.key_name, where=t.where)
            outcomes[t.key] = Outcome("dry-run", t.key_id, "dry run: nothing changed")
    elif doable and not yes:
        answer = confirm(f"Revoke {len(doable)} key{'s' if len(doable) != 1 else ''} now?")
        if answer is None:
            say("not revoking: no terminal to confirm on; re-run with --yes to revoke without a prompt")
        elif not answer:
            say("not revoking: not confirmed")
        if not answer:
            go = False
            why = "not confirmed (no terminal; use --yes)" if answer is None else "not confirmed"
            for t in doable:
                audit.write("revoke", t.key, "skipped", key_id=t.key_id, key_name=t.key_name, where=t.where, error=why)
                outcomes[t.key] = Outcome("skipped", t.key_id, why)
    for t in targets:
        if t.resolution.problem or go:
            outcomes[t.key] = revoke_one(client, t, admin_key, audit)
    if audit.failed:
        say(f"{audit.failed}: the audit log is incomplete")
    failed = [t for t in targets if outcomes[t.key].result in ("failed", "skipped")]
    revoked = [t for t in targets if outcomes[t.key].result == "revoked"]
    if dry_run:
        say(f"dry run: would revoke {len(doable)} of {len(targets)}; nothing was changed")
    else:
        summary = f"revoked {len(revoked)} of {len(targets)} live key{'s' if len(targets) != 1 else ''}"
        if failed:
            summary += "; NOT revoked: " + "; ".join(f"{t.key[:8]}… ({outcomes[t.key].reason})" for t in failed)
        say(summary)
    return outcomes, (EXIT_USAGE if failed or audit.failed else 0)


def run(result: ScanResult, opts: ScanOptions) -> int:
    """Verify every unique key of ``result`` (and revoke with opts.revoke); fills the findings.

    Returns 2 when a revocation was asked for but did not happen for every live key, else 0.
    """
    from wvzscan.verify import verify_all

    first: dict[str, str] = {}
    for f in result.findings:
        where = f.location() + (f" (commit {f.commit[:12]})" if f.commit else "")
        first.setdefault(f.secret, where)
    if not first:
        return 0
    admin_key = admin_key_from_env()
    client = make_client(opts.api_url, opts.ca_bundle)
    audit = open_audit(opts.audit_log, client.settings.base_url) if opts.revoke else None
    code = 0
    try:
        progress = Progress(len(first), opts.quiet)
        notes: list[str] = []
        verdicts = verify_all(client, first, admin_key, progress, notes)
        progress.done()
        for note in notes:
            say(f"warning: {note}")
        for f in result.findings:
            v = verdicts[f.secret]
            f.status, f.status_reason, f.scope = v.status, v.reason, v.scope
            f.extra.update(v.extra())
        for key, v in verdicts.items():
            if v.status == "unknown":
                result.error(f"verify {key[:8]}… ({first[key]})", v.reason)
        if opts.revoke:
            assert audit is not None
            leaks = [Leak(k, w) for k, w in first.items()]
            outcomes, code = revoke_leaks(
                client, leaks, verdicts, admin_key=admin_key, audit=audit, dry_run=opts.dry_run, yes=opts.yes
            )
            for f in result.findings:
                if f.secret in outcomes:
                    f.revocation = outcomes[f.secret].as_dict()
    finally:
        client.close()
        if audit is not None:
            audit.close()
    return code
