"""Findings, scan results, fingerprints and redaction.

A full key lives only in ``Finding.secret``; everything printed goes through ``to_dict``, which leaves
it out unless the user asked for ``--show-secrets``. Every other field a report shows (``to_dict``,
``location``, ``state``) is someone else's text and is scrubbed: a file named after a key
(``<key>.env``) or an API reason that echoes a key never shows it in full, even with ``--show-secrets``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from wvzscan.output.redact import REDACT_KEEP, redact, scrub
from wvzscan.output.terminal import fix_surrogates

# A finding's status: unverified until the Weavz API is asked (interface.md, JSON `status`).
KeyStatus = Literal["unverified", "live", "invalid", "unknown"]

__all__ = ["KeyStatus", "REDACT_KEEP", "Finding", "Locator", "ScanError", "ScanResult", "fingerprint", "redact"]

_BOM = b"\xef\xbb\xbf"


def fingerprint(key: str) -> str:
    import hashlib  # here: a clean scan (most hook runs) never needs it

    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def shown(v: Any) -> Any:
    """``v`` (a field a report shows: text, or a dict or list of them) with every key-shaped run scrubbed."""
    if isinstance(v, str):
        return scrub(fix_surrogates(v))
    if isinstance(v, dict):
        return {k: shown(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [shown(x) for x in v]
    return v


class Locator:
    """Line, column and "marker on this line" for offsets in one buffer, in one forward pass.

    Counting from the buffer's beginning for every key made a 20 MB log with a key on each line
    take a minute, a 20 MB minified line with 10,000 keys nine. Here
    each byte is counted once when offsets come in ascending order (any other order still works,
    from the start). A UTF-8 byte-order mark is not a column: editors do not show it.
    """

    def __init__(self, data: bytes, marker: bytes) -> None:
        self.data = data
        self.marker = marker
        self._reset()

    def _reset(self) -> None:
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.col = 1
        self.col_pos = len(_BOM) if self.data.startswith(_BOM) else 0
        self.marked: bool | None = None  # unknown until a key on this line asks

    def at(self, offset: int) -> tuple[int, int, bool]:
        if offset < self.pos:
            self._reset()
        data = self.data
        newlines = data.count(b"\n", self.pos, offset)
        if newlines:
            self.line += newlines
            self.line_start = self.col_pos = data.rfind(b"\n", self.pos, offset) + 1
            self.col = 1
            self.marked = None
        if offset > self.col_pos:
            self.col += len(data[self.col_pos : offset].decode("utf-8", "replace"))
            self.col_pos = offset
        self.pos = offset
        if self.marked is None:
            end = data.find(b"\n", offset)
            self.marked = data.find(self.marker, self.line_start, len(data) if end == -1 else end) != -1
        return self.line, self.col, self.marked


@dataclass
class Finding:
    secret: str
    source: str
    path: str | None
    line: int | None = None
    column: int | None = None
    encoding: str = "plain"
    commit: str | None = None
    author: str | None = None
    email: str | None = None
    date: str | None = None
    status: KeyStatus = "unverified"
    status_reason: str | None = None
    scope: str | None = None
    revocation: dict[str, Any] | None = None
    # Extra, source-specific fields (git: at_head, blob, ref; verify: key_id, key_name, ...).
    extra: dict[str, Any] = field(default_factory=dict)
    # The line the key sits on, the key (in whatever encoding) redacted, cut to a readable width and
    # with control characters escaped: for a person to judge the finding at a glance (text report).
    context: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.secret)

    @property
    def key_prefix(self) -> str:
        return self.secret[:REDACT_KEEP]

    @property
    def redacted(self) -> str:
        return redact(self.secret)

    def location(self) -> str:
        # Keys outside files (a commit or tag message) say where they are in extra["where"].
        where = scrub(fix_surrogates(str(self.path or self.extra.get("where") or "<stdin>")))
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def state(self) -> str:
        """Status, scope, key name and revocation in a few words, for every report's message."""
        parts: list[str] = [self.status]
        if self.scope:
            parts.append("org-wide" if self.scope == "org" else f"{self.scope}-scoped")
        if self.extra.get("key_name"):
            parts.append(f"name {self.extra['key_name']}")
        if self.revocation and self.revocation.get("result"):
            parts.append(f"revocation {self.revocation['result']}")
        return scrub(", ".join(parts))

    def identity(self) -> tuple[Any, ...]:
        """Same key at the same place: reported once."""
        return (self.secret, self.source, self.path, self.line, self.column, self.commit, self.encoding)

    def to_dict(self, show_secrets: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "fingerprint": self.fingerprint,
            "key_prefix": self.key_prefix,
            "redacted": self.redacted,
        }
        if show_secrets:
            d["secret"] = self.secret
        d.update(
            source=self.source,
            path=shown(self.path),
            line=self.line,
            column=self.column,
            commit=self.commit,
            author=shown(self.author),
            email=shown(self.email),
            date=shown(self.date),
            encoding=self.encoding,
            status=self.status,
            status_reason=shown(self.status_reason),
            scope=self.scope,
            revocation=shown(self.revocation),
        )
        for k, v in self.extra.items():
            d.setdefault(k, shown(v))
        return d


@dataclass(frozen=True)
class ScanError:
    """Something that should have been read and was not: makes a clean scan exit 3."""

    where: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"where": shown(self.where), "message": shown(self.message)}


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    # Skips the user chose (excludes, size limit): counted and shown, not errors. reason -> count.
    skipped: Counter[str] = field(default_factory=Counter)
    # Suppressed findings by what suppressed them (inline allow, baseline, config allow).
    suppressed: Counter[str] = field(default_factory=Counter)
    bytes_scanned: int = 0
    objects_scanned: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # e.g. "shallow clone: history before X not scanned"
    # Detection settings that differ from the defaults (config name -> value), e.g. {"min_entropy": 2.5}:
    # reports show them, so a scan with a narrowed detector says so (config.changed_settings).
    settings: dict[str, int | float | bool | str | list[str]] = field(default_factory=dict)

    def merge(self, other: ScanResult) -> None:
        """Add another (partial) result's counts, errors and notes; findings are merged by the caller."""
        self.errors.extend(other.errors)
        self.skipped.update(other.skipped)
        self.suppressed.update(other.suppressed)
        self.bytes_scanned += other.bytes_scanned
        self.objects_scanned += other.objects_scanned
        self.notes.extend(n for n in other.notes if n not in self.notes)

    def error(self, where: str, message: str) -> None:
        self.errors.append(ScanError(where, message))

    def failing(self, fail_on: str = "any") -> list[Finding]:
        """Findings that fail the run: ``live`` counts every key not proven dead (unverified too)."""
        if fail_on == "none":
            return []
        if fail_on == "live":
            return [f for f in self.findings if f.status != "invalid"]
        return list(self.findings)

    def exit_code(self, fail_on: str = "any", allow_incomplete: bool = False) -> int:
        """The interface's exit code: 1 findings under the policy, else 3 when incomplete, else 0."""
        if self.failing(fail_on):
            return 1
        if self.errors and not allow_incomplete:
            return 3
        return 0

    def stats(self) -> dict[str, Any]:
        return {
            "bytes_scanned": self.bytes_scanned,
            "objects_scanned": self.objects_scanned,
            "seconds": round(self.seconds, 3),
            "findings": len(self.findings),
            "unique_keys": len({f.secret for f in self.findings}),
            "skipped": dict(sorted(self.skipped.items())),
            "suppressed": dict(sorted(self.suppressed.items())),
            "settings": dict(sorted(self.settings.items())),
        }

    def settings_line(self) -> str | None:
        """The detection settings that differ from the defaults, in one line (None when none do):
        every report says so, as it says what was suppressed, so a narrowed detector is never silent."""
        if not self.settings:
            return None
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.settings.items()))
        return f"detection settings differ from the defaults: {shown}"
