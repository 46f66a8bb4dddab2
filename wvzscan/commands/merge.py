"""``wvzscan merge REPORT...``: shard reports of ``wvzscan org`` joined into one report."""

from __future__ import annotations

import click

from wvzscan.commands.common import SCAN_RAN, CliOptions, emit_reports, report_options, say, summarize_incomplete
from wvzscan.errors import WvzscanError
from wvzscan.options import FailOn, ScanOptions


@click.command("merge")
@click.argument("shards", metavar="REPORT...", nargs=-1, required=True, type=click.Path(dir_okay=False))
@report_options
@click.option("--allow-incomplete", is_flag=True, help="Exit 0 instead of 3 when a shard could not read everything.")
@click.option("--show-secrets", is_flag=True, help="Print full keys (only when every shard report holds them).")
@click.option("-q", "--quiet", is_flag=True, help="No messages on stderr.")
def merge_cmd(
    shards: tuple[str, ...],
    format_: str,
    output: str | None,
    reports: tuple[str, ...],
    fail_on: FailOn,
    allow_incomplete: bool,
    show_secrets: bool,
    quiet: bool,
) -> int:
    """Join JSON or JSON Lines reports (the shards of one `wvzscan org` run) into one report.

    Same findings, errors, notes and stats as one unsharded run; the exit code follows --fail-on
    as for a scan (1 findings, 3 incomplete, 0 clean).
    """
    from wvzscan.org.merge import ReportedFinding, merge

    result = merge(shards, say=(lambda _m: None) if quiet else say)
    if show_secrets and any(isinstance(f, ReportedFinding) and not f.has_secret for f in result.findings):
        raise WvzscanError("--show-secrets needs shard reports written with --show-secrets (these hold no keys)")
    opts = CliOptions(
        scan=ScanOptions(fail_on=fail_on, allow_incomplete=allow_incomplete),
        format=format_,
        output=output,
        reports=reports,
        show_secrets=show_secrets,
        quiet=quiet,
    )
    SCAN_RAN.set()
    emit_reports(result, opts, "org")
    summarize_incomplete(result, format_ == "text" and not output)
    return result.exit_code(fail_on, allow_incomplete)
