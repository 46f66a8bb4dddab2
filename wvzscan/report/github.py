"""GitHub Actions workflow commands: one ``::error`` annotation per finding."""

from __future__ import annotations

from wvzscan.finding import ScanResult
from wvzscan.report import ReportContext


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render(result: ScanResult, ctx: ReportContext) -> str:
    out = []
    for f in result.findings:
        props = []
        # An annotation lands on a file of the checkout: for an archive member that is the archive;
        # a key only in history (not at HEAD) has no line there to point at.
        outer, bang, _ = (f.path or "").partition("!")
        if outer and f.extra.get("at_head") is not False:
            props.append(f"file={escape_property(outer)}")
            if f.line is not None and not bang:
                props.append(f"line={f.line}")
                if f.column is not None:
                    props.append(f"col={f.column}")
        props.append("title=" + escape_property(f"Weavz API key ({f.state()})"))
        key = f.secret if ctx.show_secrets else f.redacted
        msg = f"Weavz API key {key} ({f.state()}) at {f.location()}"
        if f.commit:
            msg += f" (commit {f.commit[:12]})"
        revoked = (f.revocation or {}).get("result") == "revoked"
        advice = "Revoked: rotate it and purge it from history." if revoked else "Revoke it and rotate."
        msg += f"; fingerprint {f.fingerprint}. {advice}"
        level = "warning" if f.status == "invalid" else "error"
        out.append(f"::{level} {','.join(props)}::{escape_data(msg)}")
    for e in result.errors:
        out.append(f"::warning title=wvzscan could not read::{escape_data(e.where + ': ' + e.message)}")
    return "".join(line + "\n" for line in out)
