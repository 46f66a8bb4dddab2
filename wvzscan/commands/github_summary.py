"""`wvzscan github-summary` (hidden): the GitHub Action's job summary and step outputs.

The action (action.yml, scripts/action.sh) runs a scan with a JSON report, then this command turns
the report into Markdown for $GITHUB_STEP_SUMMARY and `name=value` lines for $GITHUB_OUTPUT. Only
redacted keys are written, whatever the report holds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

import click

from wvzscan.errors import WvzscanError

EXIT_MEANING = {
    0: "nothing to report under the --fail-on policy",
    1: "findings under the --fail-on policy",
    2: "the scan could not be done as asked",
    3: "no finding, but the scan was incomplete",
}
MAX_ROWS = 50  # the summary is for people; the SARIF and JSON reports hold everything
MAX_CELL = 300  # characters per table cell or list item (paths and messages can be kilobytes)
# GitHub drops a step's summary above 1 MiB; stay well under it whatever the report holds.
MAX_SUMMARY = 512 * 1024
ERROR_PREFIX = "wvzscan: error: "


def _plain(v: Any) -> str:
    """One line of Markdown: pipes, backticks and line breaks cannot break a table, control characters
    and terminal escapes are shown as escapes, no full key."""
    from wvzscan.output.terminal import safe_line

    s = "" if v is None else str(v).replace("\r", " ").replace("\n", " ")
    if len(s) > MAX_CELL:
        s = s[: MAX_CELL - 1] + "…"
    return safe_line(s).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")


def _cell(v: Any) -> str:
    """A Markdown table cell or list item: also ``<`` cannot open HTML (``<!--`` would hide the rest)."""
    return _plain(v).replace("<", "&lt;")


def _code(v: Any) -> str:
    s = _plain(v)  # in a code span, HTML is not HTML (and an entity would show as it is)
    return f"`{s}`" if s else ""


def counts(report: dict[str, Any] | None) -> dict[str, int]:
    findings = report.get("findings", []) if report else []
    return {
        "findings": len(findings),
        "unique-keys": len({f.get("fingerprint") for f in findings}),
        "live": len({f.get("fingerprint") for f in findings if f.get("status") == "live"}),
        "errors": len(report.get("errors", [])) if report else 0,
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _limit(items: list[Any], what: str) -> list[Any]:
    if len(items) <= MAX_ROWS:
        return items
    return [*items[:MAX_ROWS], f"... and {len(items) - MAX_ROWS} more {what} (see the JSON or SARIF report)"]


def markdown(report: dict[str, Any] | None, exit_code: int, title: str, errors: list[str] | None = None) -> str:
    """The job summary; never longer than MAX_SUMMARY bytes."""
    text = _markdown(report, exit_code, title, errors or [])
    data = text.encode("utf-8")
    if len(data) <= MAX_SUMMARY:
        return text
    cut = data[: MAX_SUMMARY - 200].decode("utf-8", "ignore")
    cut = cut[: cut.rfind("\n") + 1]
    return cut + "\n... the summary was cut short here; the JSON and SARIF reports hold everything.\n"


def _markdown(report: dict[str, Any] | None, exit_code: int, title: str, run_errors: list[str]) -> str:
    if report is None:
        out = [
            f"## {title}: could not run",
            "",
            f"wvzscan exited with code {exit_code} ({EXIT_MEANING.get(exit_code, 'unexpected')}) before "
            "writing a report" + (":" if run_errors else "; the job log says why."),
            "",
        ]
        out += [f"> {_cell(e)}" for e in _limit(run_errors, "errors")]
        return "\n".join(out) + "\n"
    c = counts(report)
    findings: list[dict[str, Any]] = report.get("findings", [])
    if findings:
        head = f"## {title}: {_plural(c['unique-keys'], 'Weavz API key')} found"
        if c["live"]:
            head += f", {c['live']} live"
    elif c["errors"]:
        head = f"## {title}: no key found, but the scan was incomplete"
    else:
        head = f"## {title}: no Weavz API key found"
    out = [head, ""]
    for note in _limit(list(report.get("notes", [])), "notes"):
        out.append(f"- {_cell(note)}")
    stats = report.get("stats", {})
    out.append(
        f"- {_plural(stats.get('objects_scanned', 0), 'object')} scanned, exit code {exit_code} "
        f"({EXIT_MEANING.get(exit_code, 'unexpected')})"
    )
    suppressed = stats.get("suppressed") or {}
    if suppressed:
        out.append("- suppressed: " + ", ".join(f"{n} by {why}" for why, n in sorted(suppressed.items())))
    out.append("")
    if findings:
        out += _table(findings)
        out += [
            "",
            "Revoke every key found here and create a replacement (`wvzscan revoke -`, `wvzscan rotate -`):",
            "removing it from the code does not make it safe, it stays in the history.",
            "",
        ]
    errors = report.get("errors", [])
    if errors:
        out.append(f"**{_plural(len(errors), 'item')} could not be read:**")
        out.append("")
        out += [f"- {_code(e.get('where'))}: {_cell(e.get('message'))}" for e in errors[:MAX_ROWS]]
        if len(errors) > MAX_ROWS:
            out.append(f"- ... and {len(errors) - MAX_ROWS} more (see the JSON or SARIF report)")
        out.append("")
    return "\n".join(out)


def _table(findings: Iterable[dict[str, Any]]) -> list[str]:
    rows = ["| Key | Status | Location | Commit | Author |", "|---|---|---|---|---|"]
    findings = list(findings)
    for f in findings[:MAX_ROWS]:
        where = f.get("path") or "<stdin>"
        if f.get("line") is not None:
            where += f":{f['line']}"
        status = f.get("status") or ""
        if f.get("scope"):
            status += f" ({f['scope']})"
        commit = (f.get("commit") or "")[:12]
        cells = [_code(f.get("redacted")), _cell(status), _code(where), _code(commit), _cell(f.get("author"))]
        rows.append("| " + " | ".join(cells) + " |")
    if len(findings) > MAX_ROWS:
        rows.append(f"| ... | | {len(findings) - MAX_ROWS} more in the SARIF and JSON reports | | |")
    return rows


def _append(path: str, text: str) -> None:
    from wvzscan.output.writer import append_text

    append_text(path, text)


def output_lines(outputs: dict[str, Any]) -> str:
    """$GITHUB_OUTPUT lines. Values that could hold a line break (a path from an input) use GitHub's
    delimiter form, so that no value can end its line early and set another output."""
    lines = []
    for k, v in outputs.items():
        s = str(v)
        if isinstance(v, int) and not isinstance(v, bool):
            lines.append(f"{k}={s}\n")
            continue
        delimiter = "WVZSCAN_EOF"
        while delimiter in s:
            delimiter += "_"
        lines.append(f"{k}<<{delimiter}\n{s}\n{delimiter}\n")
    return "".join(lines)


def _escape_command(s: str) -> str:
    """Workflow command data: one line, no control character (``safe_line``), ``%`` escaped."""
    from wvzscan.output.terminal import safe_line

    return safe_line(s).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def read_errors(path: str | None) -> list[str]:
    """The `wvzscan: error: ...` lines of wvzscan's stderr, as saved by the action."""
    if not path:
        return []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [line[len(ERROR_PREFIX) :].strip() for line in f if line.startswith(ERROR_PREFIX)]
    except OSError:
        return []


@click.command("github-summary", hidden=True)
@click.option("--report", "report_path", required=True, type=click.Path(dir_okay=False), help="wvzscan's JSON report.")
@click.option("--exit-code", type=int, required=True, help="wvzscan's exit code.")
@click.option("--title", default="wvzscan", show_default=True)
@click.option("--sarif-file", default="", help="Where the SARIF report was written (an output).")
@click.option("--stderr", "stderr_path", default=None, help="wvzscan's saved stderr: its errors go to the summary.")
def github_summary_cmd(report_path: str, exit_code: int, title: str, sarif_file: str, stderr_path: str | None) -> None:
    """Write the job summary ($GITHUB_STEP_SUMMARY) and outputs ($GITHUB_OUTPUT) for a scan."""

    report: dict[str, Any] | None = None
    try:
        with open(report_path, encoding="utf-8") as f:
            loaded = json.load(f)
        report = loaded if isinstance(loaded, dict) else None
    except FileNotFoundError:
        report = None  # wvzscan stopped before reporting (exit 2): the summary says so
    except (OSError, ValueError) as e:
        raise WvzscanError(f"cannot read the report {report_path}: {e}") from None
    c = counts(report)
    outputs = {**c, "exit-code": exit_code, "sarif-file": sarif_file}
    lines = output_lines(outputs)
    errors = read_errors(stderr_path) if exit_code == 2 else []
    for message in errors:
        # An annotation: shown on the run's page and the pull request, not only in the log.
        click.echo(f"::error title=wvzscan::{_escape_command(message)}")
    md = markdown(report, exit_code, title, errors)
    summary, output = os.environ.get("GITHUB_STEP_SUMMARY"), os.environ.get("GITHUB_OUTPUT")

    try:
        if summary:
            _append(summary, md + "\n")
        if output:
            _append(output, lines)
    except WvzscanError as e:
        raise WvzscanError(f"the GitHub summary or outputs: {e}") from None
    if not summary and not output:
        click.echo(md, nl=False)
        click.echo(lines, nl=False)
