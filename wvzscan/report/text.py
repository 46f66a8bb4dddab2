"""Human report: one entry per key (worst first), its first appearance, then every location."""

from __future__ import annotations

from wvzscan.finding import Finding, ScanResult
from wvzscan.report import ReportContext, printable

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
    if f.encoding != "plain":
        s += f" [{f.encoding}]"
    if f.commit:
        who = f" by {f.author} <{f.email}>" if f.author else ""
        s += f"  (commit {f.commit[:12]}{who}{', ' + f.date if f.date else ''})"
    if f.extra.get("ref"):
        s += f"  (ref {f.extra['ref']})"
    return printable(s)


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
        head = f"{paint(shown, '1')}  {paint(status, colour)}"
        if first.scope:
            head += f" ({first.scope}-wide)" if first.scope == "org" else f" ({first.scope}-scoped)"
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
            line = f"  revocation  {rev.get('result')}"
            if rev.get("key_id"):
                line += f" (key id {rev['key_id']})"
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
