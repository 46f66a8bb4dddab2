"""``wvzscan dir`` and ``wvzscan baseline``: files and trees, and a baseline of what they (or a
repository's history) hold."""

from __future__ import annotations

import dataclasses
import sys
from typing import BinaryIO

import click

from wvzscan import api
from wvzscan.commands.common import (
    BASELINE_REFUSES,
    SCAN_RAN,
    CliOptions,
    baseline_options,
    finish,
    say,
    scan_options,
    summarize_incomplete,
    write,
)
from wvzscan.errors import EXIT_INCOMPLETE, WvzscanError
from wvzscan.finding import ScanResult


@click.command("dir")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--respect-gitignore", is_flag=True, help="Skip what the repository's .gitignore files ignore.")
@scan_options
def dir_cmd(paths: tuple[str, ...], respect_gitignore: bool, opts: CliOptions) -> int:
    """Scan files and directory trees (default: .); `-` reads standard input."""
    result = api.scan_paths(
        paths or (".",), opts.scan, stdin=stdin(), respect_gitignore=respect_gitignore, progress=opts.progress()
    )
    return finish(result, opts, "dir")


def stdin() -> BinaryIO | None:
    """Standard input as bytes, or None when the process has none (closed: ``wvzscan dir - <&-``)."""
    return sys.stdin.buffer if sys.stdin is not None else None


@click.command("baseline")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--git",
    "history",
    is_flag=True,
    help="Baseline a repository's whole history (PATH or URL, default .), as `wvzscan repo` scans it.",
)
@baseline_options
def baseline_cmd(paths: tuple[str, ...], history: bool, opts: CliOptions) -> int:
    """Write a baseline of the current findings (fingerprints, never secrets).

    Files and trees by default; with --git, every key in a repository's history (for CI jobs that
    run `wvzscan repo --baseline FILE`). Written to --output (default: stdout); pass it back with
    --baseline FILE to hide these findings. Re-running on unchanged input writes the same bytes.
    """
    ignored = [flag for flag, given in BASELINE_REFUSES.items() if given(opts)]
    if ignored:
        raise WvzscanError(f"baseline writes fingerprints only: {', '.join(ignored)} does not apply here")
    # Recording a baseline never hides what an older baseline lists.
    scan = dataclasses.replace(opts.scan, baseline=None)
    if history:
        if len(paths) > 1:
            raise WvzscanError("--git takes one repository (a path or a URL)")
        result = api.scan_repository(paths[0] if paths else ".", scan, progress=opts.progress("objects"))
    else:
        result = api.scan_paths(paths or (".",), scan, stdin=stdin(), progress=opts.progress())
    return _write_baseline(result, opts)


def _write_baseline(result: ScanResult, opts: CliOptions) -> int:
    from wvzscan import suppress

    SCAN_RAN.set()
    doc = suppress.baseline_document(result.findings)
    if opts.output:
        write(opts.output, doc)
    else:
        click.echo(doc, nl=False)
    n = len({f.fingerprint for f in result.findings})
    say(f"baseline holds {n} key{'s' if n != 1 else ''}")
    summarize_incomplete(result, report_on_stdout=False)
    return EXIT_INCOMPLETE if result.errors and not opts.allow_incomplete else 0
