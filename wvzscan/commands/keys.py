"""`wvzscan keys` (the organization's keys) and `wvzscan keys audit` (their hygiene against Weavz's guide).

The admin key comes from WEAVZ_API_KEY only, never from argv. Exit codes follow interface.md's spirit:
0 clean under --fail-on, 1 a finding reaches --fail-on, 2 nothing could be audited (no or unfit admin
key, API unreachable or not answering like the Weavz API, bad arguments or config), 3 the audit ran but
is incomplete (the API listed fewer keys than its ``total``, an entry or a timestamp could not be read)
and no finding reached --fail-on. A key list that could not be read never looks clean.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from wvzscan.errors import EXIT_INCOMPLETE, WvzscanError
from wvzscan.reports import KEY_AUDIT_FORMATS, KEY_LIST_FORMATS

if TYPE_CHECKING:
    from wvzscan.hygiene import Audit, Policy


def _api_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--ca-bundle", type=click.Path(dir_okay=False), help="CA bundle for the Weavz API's TLS.")(f)
    f = click.option("--api-url", help="Weavz API base URL (default $WEAVZ_API_URL, else https://api.weavz.io).")(f)
    f = click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to FILE (0600).")(f)
    return f


def _admin_key() -> str:
    from wvzscan.response import admin_key_from_env

    key = admin_key_from_env()
    if key is None:
        raise WvzscanError(
            "WEAVZ_API_KEY is not set: listing an organization's keys needs an org-wide key in that "
            "environment variable (never on the command line)"
        )
    return key


def _emit(text: str, output: str | None) -> None:
    if output:
        from wvzscan.output.writer import write_private  # no link followed, created 0600

        write_private(output, text)
    else:
        click.echo(text, nl=False)


def _say(msg: str) -> None:
    from wvzscan.commands.common import say

    say(msg)


def _listing(api_url: str | None, ca_bundle: str | None) -> tuple[Audit, str]:
    from wvzscan.hygiene import Audit, Policy
    from wvzscan.hygiene.listing import fetch_keys
    from wvzscan.response import make_client

    admin = _admin_key()
    with make_client(api_url, ca_bundle) as client:
        keys, total, errors = fetch_keys(client, admin)
    now = dt.datetime.now(dt.timezone.utc)
    listing = Audit(keys, now, Policy(), errors=errors, total=total)
    return listing, admin


def _list(format_: str, output: str | None, api_url: str | None, ca_bundle: str | None) -> int:
    from wvzscan.hygiene.listing import admin_key_id
    from wvzscan.reports import KeysContext, render_key_list

    listing, admin = _listing(api_url, ca_bundle)
    ctx = KeysContext(color=False, admin_key_id=admin_key_id(listing.keys, admin, listing.now))
    _emit(render_key_list(listing, format_, ctx), output)
    if listing.errors:
        if format_ != "text" or output:
            _say(f"the key list is incomplete: {listing.errors[0].where}: {listing.errors[0].message}")
        return EXIT_INCOMPLETE
    return 0


_LIST_FORMAT = click.option(
    "--format",
    "format_",
    type=click.Choice(KEY_LIST_FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)


@click.group("keys", invoke_without_command=True)
@_LIST_FORMAT
@_api_options
@click.pass_context
def keys_cmd(
    ctx: click.Context, format_: str, output: str | None, api_url: str | None, ca_bundle: str | None
) -> int | None:
    """List the organization's keys (admin key from WEAVZ_API_KEY): name, prefix, scope, dates.

    `wvzscan keys audit` checks them against Weavz's best practices.
    Exit 0: listed; 2: no list (missing, workspace-scoped or rejected key; API unreachable);
    3: the API listed fewer keys than it said it holds.
    """
    if ctx.invoked_subcommand is not None:
        given = [p.name for p in ctx.command.params if ctx.get_parameter_source(p.name or "") not in (None, _DEFAULT)]
        if given:
            raise WvzscanError(f"options go after the subcommand: wvzscan keys {ctx.invoked_subcommand} --format ...")
        return None
    return _list(format_, output, api_url, ca_bundle)


_DEFAULT = click.core.ParameterSource.DEFAULT


@keys_cmd.command("list")
@_LIST_FORMAT
@_api_options
def list_cmd(format_: str, output: str | None, api_url: str | None, ca_bundle: str | None) -> int:
    """List the organization's keys (the same as `wvzscan keys`)."""
    return _list(format_, output, api_url, ca_bundle)


def load_policy(config: str | None, root: str = ".") -> Policy:
    from wvzscan import config as config_mod
    from wvzscan.hygiene import PolicyError, parse_policy

    try:
        cfg = config_mod.load(config, root)
    except config_mod.ConfigError as e:
        raise WvzscanError(str(e)) from None
    table = cfg.raw.get("keys")
    pyproject = cfg.path is not None and os.path.basename(cfg.path) == "pyproject.toml"
    where = f"{cfg.path}: [{'tool.wvzscan.' if pyproject else ''}keys]"
    try:
        return parse_policy(table, where)
    except PolicyError as e:
        raise WvzscanError(str(e)) from None


def _days_option(name: str, what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        f"--{name}-days",
        type=click.IntRange(1, 36500),
        metavar="DAYS",
        help=f"{what} (overrides the config; default from [keys] or the built-in).",
    )


@keys_cmd.command("audit")
@click.option(
    "--format",
    "format_",
    type=click.Choice(KEY_AUDIT_FORMATS),
    default="text",
    show_default=True,
    help="Report format on stdout (or in --output).",
)
@_api_options
@click.option(
    "--fail-on",
    type=click.Choice(["low", "medium", "high", "critical", "any", "none"]),
    default="low",
    show_default=True,
    help="Exit 1 when a finding has this severity or worse (any = low; none: never).",
)
@click.option(
    "--config", type=click.Path(dir_okay=False), help="Config file (default: .wvzscan.toml or pyproject.toml)."
)
@click.option(
    "--leaks",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="JSON report of `wvzscan <scan> --verify --format json`: mark the keys that leaked and where.",
)
@_days_option("rotation", "Keys older than this are due for rotation (default 90).")
@_days_option("unused", "Keys unused this long are reported (default 30).")
@_days_option("expiring", "Keys expiring within this many days are reported (default 14).")
@click.option("--allow-incomplete", is_flag=True, help="Exit 0 instead of 3 when part of the audit could not be made.")
def audit_cmd(
    format_: str,
    output: str | None,
    api_url: str | None,
    ca_bundle: str | None,
    fail_on: str,
    config: str | None,
    leaks: str | None,
    rotation_days: int | None,
    unused_days: int | None,
    expiring_days: int | None,
    allow_incomplete: bool,
) -> int:
    """Audit the organization's keys against Weavz's best practices (admin key from WEAVZ_API_KEY).

    One finding per key and practice broken: org-wide keys, no expiry, rotation overdue, unused or never
    used, expiring soon, expired, unfinished rotations, names without an environment, and (with --leaks)
    leaked keys. Exit 0: nothing reaches --fail-on; 1: a finding does; 2: nothing could be audited;
    3: the audit is incomplete (part of the list or a timestamp could not be read).
    """
    import dataclasses

    from wvzscan.hygiene import audit_keys
    from wvzscan.hygiene.listing import admin_key_id
    from wvzscan.leakjoin import Leak, LeakFileError, join_leaks, load_leaks
    from wvzscan.reports import KeysContext, render_key_audit

    policy = load_policy(config)
    policy = dataclasses.replace(
        policy,
        rotation_days=rotation_days or policy.rotation_days,
        unused_days=unused_days or policy.unused_days,
        expiring_days=expiring_days or policy.expiring_days,
    )
    leak_list: list[Leak] = []
    leak_notes: list[str] = []
    if leaks is not None:
        try:
            with open(leaks, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as e:
            raise WvzscanError(f"--leaks {leaks}: {e.strerror}") from None
        try:
            leak_list, leak_notes = load_leaks(text, leaks)
        except LeakFileError as e:
            raise WvzscanError(str(e)) from None
    listing, admin = _listing(api_url, ca_bundle)
    audit = audit_keys(listing.keys, listing.now, policy)
    audit.errors, audit.total = listing.errors, listing.total
    audit.notes.extend(leak_notes)
    if leaks is not None:
        join_leaks(audit, leak_list)
    ctx = KeysContext(
        color=format_ == "text" and not output and sys.stdout.isatty() and "NO_COLOR" not in os.environ,
        admin_key_id=admin_key_id(audit.keys, admin, audit.now),
        fail_on="low" if fail_on == "any" else fail_on,
    )
    for finding in audit.findings:
        if finding.key_id == ctx.admin_key_id and finding.rule_id == "org-wide-key":
            name = json.dumps(finding.key_name or finding.key_id)
            finding.fix = (
                "this is the key in WEAVZ_API_KEY: key administration needs org-wide access, so give it to no "
                f'service, and exempt it in the config ([keys.exempt] {name} = ["org-wide-key"])'
            )
    _emit(render_key_audit(audit, format_, ctx), output)
    code = audit.exit_code(fail_on, allow_incomplete)
    if (audit.errors or audit.warnings) and (format_ != "text" or output):
        first = (audit.errors or audit.warnings)[0]
        n = len(audit.errors) + len(audit.warnings)
        _say(f"the audit is incomplete: {n} problem{'s' if n != 1 else ''} (first: {first.where}: {first.message})")
    return code
