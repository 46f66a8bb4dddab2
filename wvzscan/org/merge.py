"""``wvzscan merge``: shard reports (JSON or JSON Lines) joined into one, as if one machine had
scanned every repository: the same findings, errors, notes and stats, each key de-duplicated.

A report holds no key (unless it was written with ``--show-secrets``), so the findings read back
are ``ReportedFinding``s: their fingerprint, prefix and redacted form come from the report.
``canonical`` puts a result in the one order both ``wvzscan org`` and ``merge`` print, so a merge of
shards and an unsharded run give the same report.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from wvzscan.errors import WvzscanError
from wvzscan.finding import Finding, KeyStatus, ScanError, ScanResult

MAX_REPORT_BYTES = 1 << 30

# Which verdict about a key wins when two shards disagree: a proven state over a guess.
_STATUS_RANK = {"live": 0, "invalid": 1, "unknown": 2, "unverified": 3}
_REVOCATION_RANK = {"revoked": 0, "failed": 1, "dry-run": 2, "skipped": 3}
_CORE = (
    "fingerprint",
    "key_prefix",
    "redacted",
    "secret",
    "source",
    "path",
    "line",
    "column",
    "encoding",
    "commit",
    "author",
    "email",
    "date",
    "status",
    "status_reason",
    "scope",
    "revocation",
)


class ReportedFinding(Finding):
    """A finding read back from a report: identity from its fingerprint, not from a key."""

    def __init__(self, doc: dict[str, Any]) -> None:
        fp = doc.get("fingerprint")
        if not isinstance(fp, str) or len(fp) != 64:
            raise ValueError("a finding without a fingerprint")
        secret = doc.get("secret")
        super().__init__(
            secret=secret if isinstance(secret, str) else f"<{fp}>",
            source=str(doc.get("source") or "git"),
            path=_s(doc.get("path")),
            line=_i(doc.get("line")),
            column=_i(doc.get("column")),
            encoding=str(doc.get("encoding") or "plain"),
            commit=_s(doc.get("commit")),
            author=_s(doc.get("author")),
            email=_s(doc.get("email")),
            date=_s(doc.get("date")),
            status=_status(doc.get("status")),
            status_reason=_s(doc.get("status_reason")),
            scope=_s(doc.get("scope")),
            revocation=doc.get("revocation") if isinstance(doc.get("revocation"), dict) else None,
            extra={k: v for k, v in doc.items() if k not in _CORE},
        )
        self._fp = fp
        self._prefix = str(doc.get("key_prefix") or "")
        self._redacted = str(doc.get("redacted") or self._prefix + "…")
        self.has_secret = isinstance(secret, str)

    @property
    def fingerprint(self) -> str:
        return self._fp

    @property
    def key_prefix(self) -> str:
        return self._prefix

    @property
    def redacted(self) -> str:
        return self._redacted


def _status(value: object) -> KeyStatus:
    """A shard report's status, one of the four the interface names (anything else: unknown)."""
    if value in (None, "unverified"):
        return "unverified"
    return value if value in ("live", "invalid", "unknown") else "unknown"


def _s(v: object) -> str | None:
    return v if isinstance(v, str) else None


def _i(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def canonical(result: ScanResult) -> None:
    """Findings by repository (stable: in scan order within one), errors and notes sorted."""
    result.findings.sort(key=lambda f: str(f.extra.get("repository") or ""))
    result.errors.sort(key=lambda e: (e.where, e.message))
    result.notes[:] = sorted(dict.fromkeys(result.notes))


def _load(path: str, say: Callable[[str], None]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_REPORT_BYTES + 1)
    except OSError as e:
        raise WvzscanError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > MAX_REPORT_BYTES:
        raise WvzscanError(f"{path}: larger than {MAX_REPORT_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise WvzscanError(f"{path}: not UTF-8 text") from None
    stripped = text.strip()
    if not stripped:
        say(f"{path} is empty: a JSON Lines report of a shard without findings")
        return [], None
    try:
        doc = json.loads(stripped)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "findings" in doc:
        if doc.get("tool") != "wvzscan" or not isinstance(doc.get("findings"), list):
            raise WvzscanError(f"{path}: not a wvzscan JSON report")
        return [_obj(x, path) for x in doc["findings"]], doc
    findings = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            findings.append(_obj(json.loads(line), f"{path} line {n}"))
        except ValueError:
            raise WvzscanError(f"{path} line {n}: neither a JSON report nor JSON Lines") from None
    say(f"{path} is JSON Lines: it holds findings only (no errors, notes or stats); shards should write --format json")
    return findings, None


def _obj(x: object, where: str) -> dict[str, Any]:
    if not isinstance(x, dict):
        raise WvzscanError(f"{where}: a finding that is not a JSON object")
    return x


def merge(paths: Iterable[str], say: Callable[[str], None] = lambda _m: None) -> ScanResult:
    result = ScanResult()
    seen: set[tuple[Any, ...]] = set()
    for path in paths:
        docs, report = _load(path, say)
        for d in docs:
            try:
                f = ReportedFinding(d)
            except ValueError as e:
                raise WvzscanError(f"{path}: {e}") from None
            ident = (f.fingerprint, f.extra.get("repository"), *f.identity()[1:], f.extra.get("where"))
            if ident not in seen:
                seen.add(ident)
                result.findings.append(f)
        if report is None:
            continue
        for err in report.get("errors") or []:
            if isinstance(err, dict):
                result.errors.append(ScanError(str(err.get("where", "")), str(err.get("message", ""))))
        result.notes.extend(str(n) for n in report.get("notes") or [])
        stats = report.get("stats") if isinstance(report.get("stats"), dict) else {}
        assert isinstance(stats, dict)
        result.bytes_scanned += _num(stats.get("bytes_scanned"))
        result.objects_scanned += _num(stats.get("objects_scanned"))
        result.seconds += float(stats.get("seconds") or 0)
        for field, counter in (("skipped", result.skipped), ("suppressed", result.suppressed)):
            part = stats.get(field)
            if isinstance(part, dict):
                counter.update(Counter({str(k): _num(v) for k, v in part.items()}))
    _one_verdict_per_key(result.findings)
    canonical(result)
    return result


def _num(v: object) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _one_verdict_per_key(findings: list[Finding]) -> None:
    """Every location of a key says the same about it: the most definite verdict any shard had."""
    best: dict[str, Finding] = {}
    for f in findings:
        b = best.get(f.fingerprint)
        if b is None or _rank(f) < _rank(b):
            best[f.fingerprint] = f
    for f in findings:
        b = best[f.fingerprint]
        f.status, f.status_reason, f.scope, f.revocation = b.status, b.status_reason, b.scope, b.revocation


def _rank(f: Finding) -> tuple[int, int]:
    rev = (f.revocation or {}).get("result")
    return _STATUS_RANK.get(f.status, 3), _REVOCATION_RANK.get(str(rev), 4)
