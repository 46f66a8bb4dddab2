"""GitHub Actions workflow commands: one ``::error`` annotation per finding (scans) or per key and
practice broken (`keys audit`).

Every value goes through :func:`escape_data`: one line (a newline in a file name cannot end the command
and start another), no control character or terminal escape (``escape_line``), ``%`` escaped as the
runner expects. Properties also escape ``:`` and ``,``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wvzscan.finding import ScanResult
from wvzscan.output.redact import scrub
from wvzscan.output.terminal import escape_line
from wvzscan.reports import KeysContext, ReportContext

if TYPE_CHECKING:
    from wvzscan.hygiene import Audit


def escape_data(s: str) -> str:
    return escape_line(s).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


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
            props.append(f"file={escape_property(scrub(outer))}")
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
    if result.settings_line():
        out.append(f"::warning title=wvzscan settings::{escape_data(result.settings_line() or '')}")
    return "".join(line + "\n" for line in out)


def render_key_audit(audit: Audit, ctx: KeysContext) -> str:
    from wvzscan.reports._keys import GITHUB_LEVEL

    out = []
    for f in audit.findings:
        props = []
        locs = [loc for loc in f.details.get("locations", []) if loc.get("path")]
        if locs:
            props.append(f"file={escape_property(str(locs[0]['path']))}")
            if isinstance(locs[0].get("line"), int):
                props.append(f"line={locs[0]['line']}")
        props.append("title=" + escape_property(f"Weavz key {f.key_name or f.key_id}: {f.rule_id} ({f.severity})"))
        out.append(f"::{GITHUB_LEVEL[f.severity]} {','.join(props)}::{escape_data(f'{f.message}. Fix: {f.fix}.')}")
    for w in audit.warnings:
        out.append(f"::warning title=wvzscan keys audit: check not made::{escape_data(w.where + ': ' + w.message)}")
    for e in audit.errors:
        out.append(f"::error title=wvzscan keys audit incomplete::{escape_data(e.where + ': ' + e.message)}")
    return "".join(line + "\n" for line in out)
