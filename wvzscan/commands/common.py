"""What every scan command shares on the command line: the scan options, and the finish (leak
response, reports, the stderr summary, the exit code). Click lives here and in the commands only.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from wvzscan.errors import EXIT_FINDINGS, EXIT_USAGE, WvzscanError
from wvzscan.finding import ScanResult
from wvzscan.options import FAIL_ON, FailOn, ScanOptions
from wvzscan.progress import Progress
from wvzscan.reports import SCAN_FORMATS

# Set once a scan has produced its result: an unexpected failure after that is exit 3, not 2 (cli.main).
SCAN_RAN = threading.Event()


@dataclass(frozen=True)
class CliOptions:
    """The scan options (``scan``, the engine's) and what the command line adds: reports and response."""

    scan: ScanOptions = field(default_factory=ScanOptions)
    format: str = "text"
    output: str | None = None
    reports: tuple[str, ...] = ()
    show_secrets: bool = False
    quiet: bool = False
    verify: bool = False
    revoke: bool = False
    dry_run: bool = False
    yes: bool = False
    audit_log: str | None = None
    api_url: str | None = None
    ca_bundle: str | None = None

    @property
    def fail_on(self) -> FailOn:
        return self.scan.fail_on

    @property
    def allow_incomplete(self) -> bool:
        return self.scan.allow_incomplete

    def progress(self, what: str = "files") -> Progress:
        return Progress.for_terminal(self.quiet, what=what)


def _parse_report(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    for v in values:
        fmt, sep, path = v.partition(":")
        if not sep or not path or fmt not in SCAN_FORMATS:
            raise click.BadParameter(f"expected FORMAT:FILE with FORMAT one of {', '.join(SCAN_FORMATS)}, got {v!r}")
    return values


_Spec = tuple[tuple[str, ...], dict[str, Any]]


def _opt(*decls: str, **attrs: Any) -> _Spec:
    return decls, attrs


_SCAN_OPTIONS: list[_Spec] = [
    _opt(
        "--format",
        "format_",
        type=click.Choice(SCAN_FORMATS),
        default="text",
        show_default=True,
        help="Report format on stdout (or in --output).",
    ),
    _opt("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to FILE (created 0600)."),
    _opt(
        "--report",
        "reports",
        multiple=True,
        callback=_parse_report,
        metavar="FORMAT:FILE",
        help="Also write a report in FORMAT to FILE; repeatable.",
    ),
    _opt("--verify", is_flag=True, help="Check every unique key against the Weavz API."),
    _opt("--revoke", is_flag=True, help="Revoke keys that verification confirmed live (implies --verify)."),
    _opt("--dry-run", is_flag=True, help="With --revoke: print the plan, change nothing."),
    _opt("--yes", is_flag=True, help="Do not ask for confirmation before revoking."),
    _opt(
        "--fail-on",
        type=click.Choice(FAIL_ON),
        default="any",
        show_default=True,
        help="Which findings make the exit code 1 (live: live or not proven dead).",
    ),
    _opt("--baseline", type=click.Path(dir_okay=False), help="Hide findings whose fingerprint is in FILE."),
    _opt("--no-inline-allow", is_flag=True, help="Ignore `wvzscan:allow` comments."),
    _opt("--allow-incomplete", is_flag=True, help="Exit 0 instead of 3 when part of the input was unreadable."),
    _opt(
        "--config",
        type=click.Path(dir_okay=False),
        help="Config file (default: .wvzscan.toml or pyproject.toml).",
    ),
    _opt("--show-secrets", is_flag=True, help="Print full keys (default: redacted everywhere)."),
    _opt("--audit-log", type=click.Path(dir_okay=False), help="Append every revocation as a JSON line to FILE."),
    _opt("--api-url", help="Weavz API base URL (default $WEAVZ_API_URL, else https://api.weavz.io)."),
    _opt("--ca-bundle", type=click.Path(dir_okay=False), help="CA bundle for the Weavz API's TLS."),
    _opt("-q", "--quiet", "--no-progress", "quiet", is_flag=True, help="No progress on stderr."),
    _opt("--include-examples", is_flag=True, help="Also report Weavz's documentation example keys."),
    _opt("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB; repeatable."),
    _opt("--max-file-size", type=int, metavar="BYTES", help="Skip files larger than this (default 100 MB)."),
]


def scan_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add every scan option and hand the command one ``CliOptions`` as ``opts``."""
    return _with_options(f, hidden=frozenset())


# What `wvzscan baseline` does not use, and how to tell it was given: still parsed (and refused with a
# reason when given), not in its help. The order is the order the refusal names them.
BASELINE_REFUSES: dict[str, Callable[[CliOptions], bool]] = {
    "--format": lambda o: o.format != "text",
    "--report": lambda o: bool(o.reports),
    "--verify": lambda o: o.verify,
    "--revoke": lambda o: o.revoke,
    "--audit-log": lambda o: o.audit_log is not None,
    "--show-secrets": lambda o: o.show_secrets,
    "--baseline": lambda o: o.scan.baseline is not None,
    "--dry-run": lambda o: o.dry_run,
    "--yes": lambda o: o.yes,
    "--api-url": lambda o: o.api_url is not None,
    "--ca-bundle": lambda o: o.ca_bundle is not None,
    "--fail-on": lambda o: o.fail_on != "any",
}
BASELINE_HIDES = frozenset(BASELINE_REFUSES)


def baseline_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The scan options a baseline uses, in its help; the others hidden (``BASELINE_HIDES``)."""
    return _with_options(f, hidden=BASELINE_HIDES)


def report_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--format``, ``-o``, ``--report`` (checked) and ``--fail-on``, as the scan commands declare
    them, for a command that reports without scanning (``merge``): passed as they are."""
    for decls, attrs in reversed(_SCAN_OPTIONS):
        if decls[0] in ("--format", "-o", "--report", "--fail-on"):
            f = click.option(*decls, **attrs)(f)
    return f


def _with_options(f: Callable[..., Any], hidden: frozenset[str]) -> Callable[..., Any]:

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scan = ScanOptions(
            config=kwargs.pop("config"),
            exclude=tuple(kwargs.pop("exclude")),
            max_file_size=kwargs.pop("max_file_size"),
            include_examples=kwargs.pop("include_examples"),
            inline_allow=not kwargs.pop("no_inline_allow"),
            baseline=kwargs.pop("baseline"),
            fail_on=kwargs.pop("fail_on"),
            allow_incomplete=kwargs.pop("allow_incomplete"),
        )
        names = [n for n in CliOptions.__dataclass_fields__ if n not in ("scan", "format")]
        opts = CliOptions(scan=scan, format=kwargs.pop("format_"), **{n: kwargs.pop(n) for n in names})
        if opts.dry_run and not opts.revoke:
            raise WvzscanError("--dry-run only goes with --revoke")
        return f(*args, opts=opts, **kwargs)

    for decls, attrs in reversed(_SCAN_OPTIONS):
        long = next(d for d in decls if d.startswith("--"))
        wrapper = click.option(*decls, **attrs, hidden=long in hidden)(wrapper)
    return wrapper


def say(msg: str) -> None:
    """One line on stderr, safe whatever ``msg`` holds: no full key, no control character, no terminal
    escape, no GitHub workflow command (``output.terminal.safe_line``)."""
    from wvzscan.output.terminal import safe_line

    click.echo(f"wvzscan: {safe_line(msg)}", err=True)


def finish(result: ScanResult, opts: CliOptions, command: str) -> int:
    """Leak response (when asked), reports, the stderr summary; returns the interface's exit code."""
    SCAN_RAN.set()
    response_code = 0
    if opts.verify or opts.revoke:
        from wvzscan.commands.weavz import respond_for_scan  # httpx and the API client: only when asked for

        response_code = respond_for_scan(result, opts)
    code = result.exit_code(opts.fail_on, opts.allow_incomplete)
    # A commit that passes the hook prints nothing (a report on stdout that says "0 keys" is noise).
    quiet_pass = (
        command == "staged"
        and code == 0
        and opts.format == "text"
        and not opts.output
        and not opts.reports
        and not result.notes
    )
    if not quiet_pass:
        emit_reports(result, opts, command)
    # A revocation that was asked for and failed is exit 2 (interface.md), whatever was found.
    if response_code == EXIT_USAGE:
        code = EXIT_USAGE
    summarize_incomplete(result, opts.format == "text" and not opts.output)
    _after_scan(result, opts, command, code)
    return code


def _after_scan(result: ScanResult, opts: CliOptions, command: str, code: int) -> None:
    """What a person or a CI runner is told once the reports are out."""
    if command == "staged" and code == EXIT_FINDINGS:
        from wvzscan.commands.summary import blocked_commit_message

        n = len({f.fingerprint for f in result.failing(opts.fail_on)})
        click.echo(blocked_commit_message(n), err=True)
    if opts.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        _github_step_summary(result, opts, command, code)


def _github_step_summary(result: ScanResult, opts: CliOptions, command: str, code: int) -> None:
    """`--format github` in a workflow also writes the job summary, as the Action does."""
    import json

    from wvzscan.commands import github_summary
    from wvzscan.reports import ReportContext, render_scan

    ctx = ReportContext(show_secrets=False, command=command, fail_on=opts.fail_on)
    report = json.loads(render_scan(result, "json", ctx))
    try:
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as f:
            f.write(github_summary.markdown(report, code, "wvzscan") + "\n")
    except OSError as e:
        say(f"cannot write the GitHub step summary: {e.strerror}")


def summarize_incomplete(result: ScanResult, report_on_stdout: bool) -> None:
    """Similar errors grouped (unless a text report on stdout lists them), then the way to a clean run."""
    if not result.errors:
        return  # a complete scan: nothing to say (and nothing more to import)
    from wvzscan.commands.summary import incomplete_summary
    from wvzscan.output.terminal import safe_line

    for line in incomplete_summary(result, errors_shown=report_on_stdout):
        click.echo(safe_line(line), err=True)


def emit_reports(result: ScanResult, opts: CliOptions, command: str) -> None:
    from wvzscan.reports import ReportContext, render_scan

    to_terminal = opts.output is None and sys.stdout.isatty()
    color = to_terminal and "NO_COLOR" not in os.environ and opts.format == "text"
    ctx = ReportContext(show_secrets=opts.show_secrets, color=color, command=command, fail_on=opts.fail_on)
    text = render_scan(result, opts.format, ctx)
    if opts.output:
        write(opts.output, text)
    else:
        click.echo(text, nl=False)
    plain = ReportContext(show_secrets=opts.show_secrets, command=command, fail_on=opts.fail_on)
    for spec in opts.reports:
        fmt, _, path = spec.partition(":")
        write(path, render_scan(result, fmt, plain))


def write(path: str, text: str) -> None:
    """Every file a scan command writes goes through output.writer (no link followed, created 0600);
    it raises WvzscanError (exit 2) for a path it refuses or cannot write."""
    from wvzscan.output.writer import write_private

    write_private(path, text)
