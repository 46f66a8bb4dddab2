"""GitHub Actions workflow commands: one ``::error`` annotation per finding."""

from __future__ import annotations

from wvzscan.finding import ScanResult
from wvzscan.report import ReportContext


def _data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


def render(result: ScanResult, ctx: ReportContext) -> str:
    out = []
    for f in result.findings:
        props = []
        if f.path is not None:
            props.append(f"file={_prop(f.path)}")
            if f.line is not None:
                props.append(f"line={f.line}")
            if f.column is not None:
                props.append(f"col={f.column}")
        props.append("title=" + _prop(f"Weavz API key ({f.state()})"))
        key = f.secret if ctx.show_secrets else f.redacted
        msg = f"Weavz API key {key} ({f.state()}) at {f.location()}"
        if f.commit:
            msg += f" (commit {f.commit[:12]})"
        msg += f"; fingerprint {f.fingerprint}. Revoke it and rotate."
        level = "warning" if f.status == "invalid" else "error"
        out.append(f"::{level} {','.join(props)}::{_data(msg)}")
    for e in result.errors:
        out.append(f"::warning title=wvzscan could not read::{_data(e.where + ': ' + e.message)}")
    return "".join(line + "\n" for line in out)
