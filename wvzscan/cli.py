"""The command line: options → pipeline → reports → exit code. Thin on purpose.

Heavy modules (git, httpx, report formats) are imported inside the commands that need them: a
pre-commit hook pays only for what it uses.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import click

from wvzscan import __version__

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3


class UserError(click.ClickException):
    """A clear one-line message and exit 2, never a traceback."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"wvzscan: error: {self.format_message()}", err=True)


@dataclass
class ScanOptions:
    format: str = "text"
    output: str | None = None
    reports: tuple[str, ...] = ()
    verify: bool = False
    revoke: bool = False
    dry_run: bool = False
    yes: bool = False
    fail_on: str = "any"
    baseline: str | None = None
    no_inline_allow: bool = False
    allow_incomplete: bool = False
    config: str | None = None
    show_secrets: bool = False
    audit_log: str | None = None
    api_url: str | None = None
    ca_bundle: str | None = None
    quiet: bool = False
    include_examples: bool = False
    exclude: tuple[str, ...] = ()
    max_file_size: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _parse_report(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    from wvzscan.report import FORMATS

    for v in values:
        fmt, sep, path = v.partition(":")
        if not sep or not path or fmt not in FORMATS:
            raise click.BadParameter(f"expected FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}, got {v!r}")
    return values


_SCAN_OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option(
        "--format",
        "format_",
        type=click.Choice(["text", "json", "jsonl", "sarif", "junit", "github"]),
        default="text",
        show_default=True,
        help="Report format on stdout (or in --output).",
    ),
    click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to FILE (created 0600)."),
    click.option(
        "--report",
        "reports",
        multiple=True,
        callback=_parse_report,
        metavar="FORMAT:FILE",
        help="Also write a report in FORMAT to FILE; repeatable.",
    ),
    click.option("--verify", is_flag=True, help="Check every unique key against the Weavz API."),
    click.option("--revoke", is_flag=True, help="Revoke keys that verification confirmed live (implies --verify)."),
    click.option("--dry-run", is_flag=True, help="With --revoke: print the plan, change nothing."),
    click.option("--yes", is_flag=True, help="Do not ask for confirmation before revoking."),
    click.option(
        "--fail-on",
        type=click.Choice(["any", "live", "none"]),
        default="any",
        show_default=True,
        help="Which findings make the exit code 1 (live: live or not proven dead).",
    ),
    click.option("--baseline", type=click.Path(dir_okay=False), help="Hide findings whose fingerprint is in FILE."),
    click.option("--no-inline-allow", is_flag=True, help="Ignore `wvzscan:allow` comments."),
    click.option("--allow-incomplete", is_flag=True, help="Exit 0 instead of 3 when part of the input was unreadable."),
    click.option(
        "--config",
        type=click.Path(dir_okay=False),
        help="Config file (default: .wvzscan.toml or pyproject.toml).",
    ),
    click.option("--show-secrets", is_flag=True, help="Print full keys (default: redacted everywhere)."),
    click.option(
        "--audit-log", type=click.Path(dir_okay=False), help="Append every revocation as a JSON line to FILE."
    ),
    click.option("--api-url", help="Weavz API base URL (default $WEAVZ_API_URL, else https://api.weavz.io)."),
    click.option("--ca-bundle", type=click.Path(dir_okay=False), help="CA bundle for the Weavz API's TLS."),
    click.option("-q", "--quiet", "--no-progress", "quiet", is_flag=True, help="No progress on stderr."),
    click.option("--include-examples", is_flag=True, help="Also report Weavz's documentation example keys."),
    click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB; repeatable."),
    click.option("--max-file-size", type=int, metavar="BYTES", help="Skip files larger than this (default 100 MB)."),
]


def scan_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add every scan option and hand the command one ``ScanOptions`` as ``opts``."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        names = set(ScanOptions.__dataclass_fields__)
        fields = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        fields["format"] = kwargs.pop("format_")
        return f(*args, opts=ScanOptions(**fields), **kwargs)

    for opt in reversed(_SCAN_OPTIONS):
        wrapper = opt(wrapper)
    return wrapper


Producer = Callable[[Any, Any], None]  # (Scanner, ScanResult) -> None


def collect(opts: ScanOptions, root: str, produce: Producer, use_baseline: bool = True) -> Any:
    """Config, scan, suppressions: the part every scan command shares. Returns the ScanResult."""
    from wvzscan import config as config_mod
    from wvzscan import detect, policy
    from wvzscan.finding import ScanResult
    from wvzscan.scan import Scanner

    if opts.dry_run and not opts.revoke:
        raise UserError("--dry-run only goes with --revoke")
    try:
        cfg = config_mod.load(opts.config, root)
    except config_mod.ConfigError as e:
        raise UserError(str(e)) from None
    baseline = None
    if opts.baseline and use_baseline:
        try:
            baseline = policy.load_baseline(opts.baseline)
        except policy.BaselineError as e:
            raise UserError(str(e)) from None
    cfg.exclude.extend(opts.exclude)
    if opts.max_file_size is not None:
        if opts.max_file_size <= 0:
            raise UserError("--max-file-size must be a positive number of bytes")
        cfg.max_file_size = opts.max_file_size
    opts.extra["config"] = cfg
    rules = detect.Rules(
        min_entropy=cfg.min_entropy,
        include_examples=opts.include_examples or cfg.include_examples,
        decode=frozenset(cfg.decode),
        archives=cfg.archives,
    )
    result = ScanResult()
    scanner = Scanner(result, rules, inline_allow=not opts.no_inline_allow)
    started = time.monotonic()
    produce(scanner, result)
    result.seconds = time.monotonic() - started
    policy.apply_suppressions(result, cfg, baseline)
    return result


def run_scan(opts: ScanOptions, root: str, command: str, produce: Producer) -> NoReturn:
    """The shared pipeline for every scan command; exits with the interface's code."""
    from wvzscan import policy

    if opts.extra.get("baseline_mode"):
        _write_baseline(collect(opts, root, produce, use_baseline=False), opts)
    result = collect(opts, root, produce)
    response_code = 0
    if opts.verify or opts.revoke:
        response_code = respond(result, opts)
    emit_reports(result, opts, command)
    code = policy.exit_code(result, opts.fail_on, opts.allow_incomplete)
    # A revocation that was asked for and failed is exit 2 (interface.md), whatever was found.
    if response_code == EXIT_USAGE:
        code = EXIT_USAGE
    _summarize_incomplete(result, opts.format == "text" and not opts.output)
    sys.exit(code)


def respond(result: Any, opts: ScanOptions) -> int:
    """Verify (and revoke) the found keys; returns 2 when a revocation was asked for but failed."""
    from wvzscan import respond as respond_mod  # httpx and the API client: only when asked for

    return respond_mod.run(result, opts)


def _summarize_incomplete(result: Any, report_on_stdout: bool) -> None:
    """One line on stderr when the errors are not already in a text report on stdout."""
    if result.errors and not report_on_stdout:
        n = len(result.errors)
        click.echo(
            f"wvzscan: {n} item{'s' if n != 1 else ''} could not be read or checked; the scan is incomplete "
            f"(first: {result.errors[0].where}: {result.errors[0].message})",
            err=True,
        )


def emit_reports(result: Any, opts: ScanOptions, command: str) -> None:
    from wvzscan.report import ReportContext, renderer

    to_terminal = opts.output is None and sys.stdout.isatty()
    color = to_terminal and "NO_COLOR" not in os.environ and opts.format == "text"
    ctx = ReportContext(show_secrets=opts.show_secrets, color=color, command=command, fail_on=opts.fail_on)
    text = renderer(opts.format)(result, ctx)
    if opts.output:
        _write(opts.output, text)
    else:
        click.echo(text, nl=False)
    plain = ReportContext(show_secrets=opts.show_secrets, command=command, fail_on=opts.fail_on)
    for spec in opts.reports:
        fmt, _, path = spec.partition(":")
        _write(path, renderer(fmt)(result, plain))


def _write(path: str, text: str) -> None:
    from wvzscan.report import write_private

    try:
        write_private(path, text)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror}") from None


class LazyGroup(click.Group):
    """Commands defined in other modules, imported only when run (start-up time matters for hooks)."""

    # name -> "module:attribute" of a click.Command. One line per command, so features merge cleanly.
    lazy: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, _, attr = self.lazy[cmd_name].partition(":")
            cmd = getattr(importlib.import_module(module), attr)
            assert isinstance(cmd, click.Command)
            return cmd
        return super().get_command(ctx, cmd_name)


LazyGroup.lazy = {
    "repo": "wvzscan.commands.git:repo_cmd",
    "staged": "wvzscan.commands.git:staged_cmd",
    "push": "wvzscan.commands.git:push_cmd",
    "verify": "wvzscan.commands.weavz:verify_cmd",
    "revoke": "wvzscan.commands.weavz:revoke_cmd",
    "rotate": "wvzscan.commands.weavz:rotate_cmd",
    "keys": "wvzscan.commands.keys:keys_cmd",
    "rules": "wvzscan.commands.rules:rules_cmd",
    "install-hooks": "wvzscan.commands.install_hooks:install_hooks_cmd",
    "github-summary": "wvzscan.commands.github_summary:github_summary_cmd",
    "ci": "wvzscan.commands.ci:ci_cmd",
    "org": "wvzscan.commands.org:org_cmd",
    "merge": "wvzscan.commands.merge:merge_cmd",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wvzscan")
def cli() -> None:
    """Find leaked Weavz API keys (wvz_...), verify them, revoke the live ones."""


def _config_root(paths: tuple[str, ...]) -> str:
    if len(paths) == 1 and paths[0] != "-" and os.path.isdir(paths[0]):
        return paths[0]
    return "."


def _check_paths(paths: tuple[str, ...]) -> None:
    for p in paths:
        if p == "-":
            continue
        try:
            os.lstat(p)
        except FileNotFoundError:
            raise UserError(f"no such file or directory: {p}") from None
        except OSError as e:  # EACCES on a parent folder, ENAMETOOLONG, ...
            raise UserError(f"cannot access {p}: {e.strerror or e}") from None


@cli.command("dir")
@click.argument("paths", nargs=-1, type=click.Path())
@scan_options
def dir_cmd(paths: tuple[str, ...], opts: ScanOptions) -> None:
    """Scan files and directory trees (default: .); `-` reads standard input."""
    paths = paths or (".",)
    _check_paths(paths)
    run_scan(opts, _config_root(paths), "dir", functools.partial(_produce_files, paths, opts))


def _produce_files(paths: tuple[str, ...], opts: ScanOptions, scanner: Any, result: Any) -> None:
    from wvzscan.parallel import scan_files
    from wvzscan.progress import Progress
    from wvzscan.sources.files import FileOptions, FileWalker, read_stdin

    cfg = opts.extra["config"]
    walker = FileWalker(result, FileOptions(tuple(cfg.exclude), cfg.max_file_size, _config_root(paths)))
    progress = Progress.for_terminal(opts.quiet)
    files = [p for p in paths if p != "-"]
    if "-" in paths:
        scanner.scan(read_stdin())
    scan_files(walker.tasks(files), scanner, progress)
    progress.done()


@cli.command("baseline")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--git",
    "history",
    is_flag=True,
    help="Baseline a repository's whole history (PATH or URL, default .), as `wvzscan repo` scans it.",
)
@scan_options
def baseline_cmd(paths: tuple[str, ...], history: bool, opts: ScanOptions) -> None:
    """Write a baseline of the current findings (fingerprints, never secrets).

    Files and trees by default; with --git, every key in a repository's history (for CI jobs that
    run `wvzscan repo --baseline FILE`). Written to --output (default: stdout); pass it back with
    --baseline FILE to hide these findings. Re-running on unchanged input writes the same bytes.
    """
    ignored = [
        flag
        for flag, used in (
            ("--format", opts.format != "text"),
            ("--report", bool(opts.reports)),
            ("--verify", opts.verify),
            ("--revoke", opts.revoke),
            ("--audit-log", opts.audit_log is not None),
            ("--show-secrets", opts.show_secrets),
        )
        if used
    ]
    if ignored:
        raise UserError(f"baseline writes fingerprints only: {', '.join(ignored)} does not apply here")
    opts.extra["baseline_mode"] = True
    if history:
        from wvzscan.commands.git import scan_repository

        if len(paths) > 1:
            raise UserError("--git takes one repository (a path or a URL)")
        scan_repository(paths[0] if paths else ".", opts)
    paths = paths or (".",)
    _check_paths(paths)
    run_scan(opts, _config_root(paths), "baseline", functools.partial(_produce_files, paths, opts))


def _write_baseline(result: Any, opts: ScanOptions) -> NoReturn:
    from wvzscan import policy

    doc = policy.baseline_document(result.findings)
    if opts.output:
        _write(opts.output, doc)
    else:
        click.echo(doc, nl=False)
    n = len({f.fingerprint for f in result.findings})
    click.echo(f"wvzscan: baseline holds {n} key{'s' if n != 1 else ''}", err=True)
    _summarize_incomplete(result, report_on_stdout=False)
    sys.exit(EXIT_INCOMPLETE if result.errors and not opts.allow_incomplete else 0)


def main(argv: Sequence[str] | None = None) -> int:
    """The one place that turns what a command returned or raised into the process's exit code.

    Commands return their exit code; the engine raises ``WvzscanError`` for "cannot be done as
    asked" (exit 2). The console script exits with what this returns.
    """
    from wvzscan.errors import WvzscanError

    try:
        rv = cli.main(args=list(argv) if argv is not None else None, prog_name="wvzscan", standalone_mode=False)
    except WvzscanError as e:
        click.echo(f"wvzscan: error: {e}", err=True)
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("wvzscan: interrupted", err=True)
        return 130
    return rv if isinstance(rv, int) else 0
