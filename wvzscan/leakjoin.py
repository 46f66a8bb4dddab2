"""Join a scan report (``wvzscan <scan> --verify --format json``) with a key audit: which listed keys leaked.

A report finding names its key by ``key_id`` when verification resolved it, by ``key_candidates`` when
several keys shared its prefix, and always by ``key_prefix``. A match by prefix alone is said to be one,
and a prefix shared by several listed keys marks each of them, saying the match is ambiguous: a key that
may have leaked is treated as leaked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from wvzscan.hygiene import Audit, key_label, read_stamp
from wvzscan.weavz import ApiKey


class LeakFileError(ValueError):
    pass


@dataclass
class Leak:
    """One leaked key (a fingerprint) and every place the report found it."""

    fingerprint: str
    key_prefix: str
    status: str | None = None
    scope: str | None = None
    key_id: str | None = None
    candidates: list[str] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)

    def where(self) -> list[str]:
        out = []
        for loc in self.locations:
            s = str(loc.get("path") or "<stdin>")
            if loc.get("line") is not None:
                s += f":{loc['line']}"
            if loc.get("commit"):
                s += f" (commit {str(loc['commit'])[:12]})"
            out.append(s)
        return out


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def load_leaks(text: str, where: str) -> tuple[list[Leak], list[str]]:
    """The leaked keys of a JSON (or JSONL) scan report, and notes about the report itself."""
    try:
        doc: Any = json.loads(text)
    except ValueError:
        try:
            doc = {"findings": [json.loads(line) for line in text.splitlines() if line.strip()]}
        except ValueError:
            raise LeakFileError(
                f"{where}: not a JSON report (make one with: wvzscan dir --verify --format json)"
            ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise LeakFileError(f"{where}: no findings list; expected the JSON report of a wvzscan scan")
    notes: list[str] = []
    leaks: dict[str, Leak] = {}
    unverified = 0
    for i, f in enumerate(doc["findings"]):
        fp, prefix = (_str(f.get("fingerprint")), _str(f.get("key_prefix"))) if isinstance(f, dict) else (None, None)
        if not isinstance(f, dict) or fp is None or prefix is None:
            raise LeakFileError(f"{where}: finding #{i + 1} has no fingerprint and key_prefix")
        leak = leaks.setdefault(fp, Leak(fp, prefix))
        leak.status = leak.status or _str(f.get("status"))
        leak.scope = leak.scope or _str(f.get("scope"))
        leak.key_id = leak.key_id or _str(f.get("key_id"))
        cands = f.get("key_candidates")
        if isinstance(cands, list) and not leak.candidates:
            leak.candidates = [str(c) for c in cands]
        leak.locations.append({k: f.get(k) for k in ("source", "path", "line", "column", "commit")})
        unverified += f.get("status") == "unverified"
    if unverified:
        notes.append(f"{where}: {unverified} finding(s) were not verified (scan without --verify): matched by prefix")
    errors = doc.get("errors")
    if isinstance(errors, list) and errors:
        notes.append(f"{where}: the scan was incomplete ({len(errors)} error(s)): keys may have leaked elsewhere too")
    return list(leaks.values()), notes


def _expired(k: ApiKey, audit: Audit) -> bool:
    s = read_stamp(k, "expires_at")
    return s.value is not None and s.value <= audit.now


def _matches(leak: Leak, audit: Audit) -> tuple[list[ApiKey], str]:
    by_id = {k.id: k for k in audit.keys}
    if leak.key_id:
        return ([by_id[leak.key_id]], "key_id") if leak.key_id in by_id else ([], "key_id")
    if leak.candidates:
        found = [by_id[c] for c in leak.candidates if c in by_id]
        return found, "key_id" if len(found) == 1 else "ambiguous"
    found = [k for k in audit.keys if k.key_prefix == leak.key_prefix]
    if leak.scope in ("org", "workspace"):
        found = [k for k in found if k.scope == leak.scope]
    if leak.status == "live":
        found = [k for k in found if not _expired(k, audit)]  # a listed live key is not expired
    elif leak.status == "invalid":
        found = [k for k in found if _expired(k, audit)]  # a dead key in the list can only be an expired one
    return found, "key_prefix" if len(found) == 1 else "ambiguous"


def join_leaks(audit: Audit, leaks: list[Leak]) -> None:
    """Add one critical ``leaked`` finding per listed key that leaked, saying where; notes for the rest."""
    per_key: dict[str, list[tuple[Leak, str, int]]] = {}
    for leak in leaks:
        found, how = _matches(leak, audit)
        if not found:
            why = "revoked, or of another organization" if leak.status != "invalid" else "it no longer works"
            audit.notes.append(
                f"leaked key {leak.key_prefix}… (fp {leak.fingerprint[:12]}) is not in the key list ({why})"
            )
        for k in found:
            per_key.setdefault(k.id, []).append((leak, how, len(found)))
    by_id = {k.id: k for k in audit.keys}
    for key_id, hits in per_key.items():
        k = by_id[key_id]
        places = [p for leak, _, _ in hits for p in leak.where()]
        shown = ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
        hows = {how for _, how, _ in hits}
        how = "ambiguous" if "ambiguous" in hows else ("key_id" if "key_id" in hows else "key_prefix")
        msg = f"{key_label(k)} leaked at {shown}"
        if how == "ambiguous":
            n = max(n for _, _, n in hits)
            msg += f" (ambiguous: one of {n} listed keys with prefix {k.key_prefix}…; treat each as leaked)"
        elif how == "key_prefix":
            msg += " (matched by key prefix only)"
        statuses = sorted({leak.status for leak, _, _ in hits if leak.status})
        if statuses:
            msg += f"; the scan found it {'/'.join(statuses)}"
        audit.add(
            k,
            "leaked",
            msg,
            match=how,
            leaked_fingerprints=sorted({leak.fingerprint for leak, _, _ in hits}),
            locations=[loc for leak, _, _ in hits for loc in leak.locations],
        )
    audit.sort()
