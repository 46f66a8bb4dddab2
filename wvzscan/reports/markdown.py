"""Markdown for `keys` reports (a job summary, a wiki page): tables whose cells no key name can break."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wvzscan.reports import KeysContext
from wvzscan.reports._keys import COLUMNS, list_footer, md, policy_line, rows, summary

if TYPE_CHECKING:
    from wvzscan.hygiene import Audit


def render_key_list(audit: Audit, ctx: KeysContext) -> str:
    table = rows(audit.keys, ctx)
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    out += ["| " + " | ".join(md(c) for c in r) + " |" for r in table]
    return "\n".join(out + [""] + [f"{line}  " for line in list_footer(audit, ctx)]) + "\n"


def render_key_audit(audit: Audit, ctx: KeysContext) -> str:
    out = ["## Weavz key audit", "", md(summary(audit)) + ".", ""]
    if audit.findings:
        out += ["| severity | rule | key | prefix | finding | fix |", "|---|---|---|---|---|---|"]
        for f in audit.findings:
            key = md(f.key_name or "(no name)") + f" (`{md(f.key_id)}`)"
            cells = [f"**{f.severity}**" if f.severity in ("critical", "high") else f.severity, f"`{f.rule_id}`", key]
            cells += [f"`{md(f.key_prefix or '-')}…`", md(f.message), md(f.fix)]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    for label, items in (
        ("Checks not made", [f"{w.where}: {w.message}" for w in audit.warnings]),
        ("Not read", [f"{e.where}: {e.message}" for e in audit.errors]),
        ("Notes", list(audit.notes)),
    ):
        if items:
            out += [f"**{label}**", ""] + [f"- {md(i)}" for i in items] + [""]
    out.append(md(policy_line(audit)))
    return "\n".join(out) + "\n"
