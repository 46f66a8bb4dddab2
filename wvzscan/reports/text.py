"""Human reports. Scans: one entry per key (worst first), its first appearance, then every location.
`keys`: a table of the organization's keys; `keys audit`: findings per key, worst first.

Every field that is someone else's text (paths, authors, key names, reasons, errors) goes through
``printable`` (``escape_line``): one line, no control character, no terminal escape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wvzscan.finding import Finding, ScanResult
from wvzscan.output.terminal import escape_line as printable
from wvzscan.reports import KeysContext, ReportContext

if TYPE_CHECKING:
    from wvzscan.hygiene import Audit, AuditFinding

_STATUS_RANK = {"live": 0, "unknown": 1, "unverified": 2, "invalid": 3}

_REVOKE_BY_HAND = "revoke it: fix what the revocation line says, or delete it in the dashboard (Settings -> API Keys)"
_STEPS = (
    "revoke it now (wvzscan revoke - < keyfile, or re-run with --revoke)",
    "rotate: create a replacement with the same permissions (wvzscan rotate -) and deploy it",
    "purge it from git history (git filter-repo) and force-push; tell everyone to re-clone",
    "check the Weavz Activity page for use you do not recognise",
)


class _Paint:
    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, s: str, code: str) -> str:
        return f"\033[{code}m{s}\033[0m" if self.on else s


def _rank(f: Finding) -> tuple[int, int]:
    return (_STATUS_RANK.get(f.status, 2), 0 if f.scope == "org" else 1)


def _where(f: Finding) -> str:
    s = f.location()
    if f.extra.get("repository"):  # wvzscan org: one report for many repositories
        s = f"{f.extra['repository']}: {s}"
    if f.encoding != "plain":
        s += f" [{f.encoding}]"
    if f.commit:
        who = f" by {f.author} <{f.email}>" if f.author else ""
        s += f"  (commit {f.commit[:12]}{who}{', ' + f.date if f.date else ''})"
    if f.extra.get("ref"):
        s += f"  (ref {f.extra['ref']})"
    return printable(s)


def _status(s: object) -> str:
    return printable(str(s))


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def render(result: ScanResult, ctx: ReportContext) -> str:
    paint = _Paint(ctx.color)
    groups: dict[str, list[Finding]] = {}
    for f in result.findings:
        groups.setdefault(f.secret, []).append(f)
    out: list[str] = []
    for key, fs in sorted(groups.items(), key=lambda kv: _rank(kv[1][0])):
        first = fs[0]
        shown = key if ctx.show_secrets else first.redacted
        status = first.status
        colour = "1;31" if status in ("live", "unknown", "unverified") else "32"
        head = f"{paint(shown, '1')}  {paint(_status(status), colour)}"
        if first.scope:
            scope = _status(first.scope)
            head += f" ({scope}-wide)" if first.scope == "org" else f" ({scope}-scoped)"
        if first.extra.get("key_name"):
            head += f"  name: {printable(str(first.extra['key_name']))}"
        if first.status_reason:
            head += f"  [{printable(first.status_reason)}]"
        out.append(head)
        out.append(f"  fingerprint {first.fingerprint}")
        out.append(f"  first seen  {_where(first)}")
        if first.context:
            out.append(f"              {printable(first.context)}")
        for f in fs[1:]:
            out.append(f"  also        {_where(f)}")
            if f.context:
                out.append(f"              {printable(f.context)}")
        rev = first.revocation
        if rev:
            line = f"  revocation  {_status(rev.get('result'))}"
            if rev.get("key_id"):
                line += f" (key id {_status(rev['key_id'])})"
            if rev.get("reason"):
                line += f": {printable(str(rev['reason']))}"
            out.append(line)
        if status == "live" and not (rev and rev.get("result") == "revoked"):
            # After a --revoke that could not go through, "re-run with --revoke" is no advice.
            steps = (_REVOKE_BY_HAND, *_STEPS[1:]) if rev else _STEPS
            out.append("  what to do:")
            out.extend(f"    {i}. {step}" for i, step in enumerate(steps, 1))
        out.append("")
    for note in result.notes:
        out.append(paint(f"note: {printable(note)}", "33"))
    if result.settings_line():
        out.append(paint(f"note: {printable(result.settings_line() or '')}", "33"))
    for e in result.errors:
        out.append(paint(f"error: {printable(e.where)}: {printable(e.message)}", "31"))
    nkeys, nloc = len(groups), len(result.findings)
    summary = (
        f"{nkeys} key{'s' if nkeys != 1 else ''} in {nloc} location{'s' if nloc != 1 else ''}; "
        f"scanned {result.objects_scanned} object{'s' if result.objects_scanned != 1 else ''}, "
        f"{_size(result.bytes_scanned)} in {result.seconds:.2f} s"
    )
    if result.suppressed:
        summary += "; suppressed " + ", ".join(f"{n} by {why}" for why, n in sorted(result.suppressed.items()))
    if result.skipped:
        summary += "; skipped " + ", ".join(f"{n} {why}" for why, n in sorted(result.skipped.items()))
    if result.errors:
        summary += f"; {len(result.errors)} could not be read or checked (scan incomplete)"
    out.append(paint(summary, "1"))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# `keys`: the organization's keys


def render_key_list(audit: Audit, ctx: KeysContext) -> str:
    from wvzscan.reports._keys import COLUMNS, list_footer, rows

    table = rows(audit.keys, ctx)
    foot = list_footer(audit, ctx)
    widths = [max(len(c), *(len(r[i]) for r in table)) if table else len(c) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    return "\n".join(lines + foot) + "\n"


# ---------------------------------------------------------------------------------------------
# `keys audit`


def render_key_audit(audit: Audit, ctx: KeysContext) -> str:
    from wvzscan.hygiene import key_label
    from wvzscan.reports._keys import COLOUR, paint, policy_line, scope_label, summary

    on = ctx.color
    by_key: dict[str, list[AuditFinding]] = {}
    for f in audit.findings:
        by_key.setdefault(f.key_id, []).append(f)
    keys = {k.id: k for k in audit.keys}
    out: list[str] = []
    width = max((len(f.rule_id) for f in audit.findings), default=0)
    for key_id, fs in by_key.items():  # findings are sorted worst first, so keys are too
        k = keys[key_id]
        head = (
            f"{paint(on, printable(k.name or '(no name)'), '1')}  {printable(k.key_prefix or '-')}…  {printable(k.id)}"
        )
        head += f"  {scope_label(k)}"
        if ctx.admin_key_id == key_id:
            head += "  (the key in WEAVZ_API_KEY)"
        out.append(head)
        for f in fs:
            sev = paint(on, f.severity.ljust(8), COLOUR[f.severity])
            label = key_label(k) + " "
            msg = f.message[len(label) :] if f.message.startswith(label) else f.message  # the head names the key
            out.append(f"  {sev}  {f.rule_id.ljust(width)}  {printable(msg)}")
            out.append(f"  {'':8}  {'':{width}}  fix: {printable(f.fix)}")
        out.append("")
    out += [paint(on, f"warning: {printable(w.where)}: {printable(w.message)}", "33") for w in audit.warnings]
    out += [paint(on, f"note: {printable(n)}", "33") for n in audit.notes]
    out += [paint(on, f"error: {printable(e.where)}: {printable(e.message)}", "31") for e in audit.errors]
    out.append(paint(on, printable(summary(audit)), "1"))
    out.append(printable(policy_line(audit)))
    return "\n".join(out) + "\n"
