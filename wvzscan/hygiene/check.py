"""Key hygiene: an organization's keys held against Weavz's own best practices (the seed guide).

Pure functions, no I/O: ``audit_keys(keys, now, policy)`` turns the entries of ``GET /api/v1/api-keys``
into findings, one per key and practice broken, each with a rule id, a severity, a message and the fix.

Timestamps the API sends in a form we cannot read are never a crash and never a silent pass: the check
that needed them is skipped for that key and a warning is counted (the command makes that exit 3 when
nothing else failed).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from wvzscan.finding import ScanError
from wvzscan.hygiene.names import environment_of, name_stem
from wvzscan.hygiene.rules import RANK, RULE_BY_ID, RULES, SEVERITIES, Policy, Rule, Severity
from wvzscan.isotime import parse_datetime
from wvzscan.weavz import ApiKey

FailOn = Literal["low", "medium", "high", "critical", "any", "none"]


# ---------------------------------------------------------------------------------------------
# Timestamps: ISO-8601 as the API documents it, read by the project's one reader (wvzscan.isotime);
# anything else is "garbage", never an exception.

_FIELDS = {"created_at": "createdAt", "last_used_at": "lastUsedAt", "expires_at": "expiresAt"}


def parse_time(text: str) -> dt.datetime | None:
    """An aware datetime, or None when ``text`` is not ISO-8601. Naive times are taken as UTC."""
    return parse_datetime(text)


StampState = Literal["ok", "null", "missing", "garbage"]


@dataclass(frozen=True)
class Stamp:
    state: StampState
    value: dt.datetime | None = None
    raw: Any = None


def read_stamp(key: ApiKey, attr: str) -> Stamp:
    """One of the key's timestamps, telling null (documented: never used / no expiry) from absent."""
    if key.raw:
        wire = _FIELDS[attr]
        if wire not in key.raw:
            return Stamp("missing")
        raw = key.raw[wire]
    else:
        raw = getattr(key, attr)
    if raw is None:
        return Stamp("null")
    if not isinstance(raw, str):
        return Stamp("garbage", raw=raw)
    t = parse_time(raw)
    return Stamp("ok", t, raw) if t is not None else Stamp("garbage", raw=raw)


# ---------------------------------------------------------------------------------------------


@dataclass
class AuditFinding:
    rule_id: str
    severity: Severity
    key_id: str
    key_name: str | None
    key_prefix: str | None
    message: str
    fix: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> Rule:
        return RULE_BY_ID[self.rule_id]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "key_id": self.key_id,
            "key_name": self.key_name,
            "key_prefix": self.key_prefix,
            "message": self.message,
            "fix": self.fix,
            **self.details,
        }


@dataclass
class Audit:
    keys: list[ApiKey]
    now: dt.datetime
    policy: Policy
    findings: list[AuditFinding] = field(default_factory=list)
    # Checks that could not be made (a timestamp we could not read): counted, never silent.
    warnings: list[ScanError] = field(default_factory=list)
    # Parts of the input that could not be read (set by the caller: a truncated key list, a bad entry).
    errors: list[ScanError] = field(default_factory=list)
    exempted: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    total: int | None = None  # what the API said the list holds

    def failing(self, fail_on: FailOn | str) -> list[AuditFinding]:
        if fail_on == "none":
            return []
        floor = RANK["low" if fail_on == "any" else fail_on]
        return [f for f in self.findings if RANK[f.severity] >= floor]

    def exit_code(self, fail_on: FailOn | str, allow_incomplete: bool = False) -> int:
        """1: a finding reaches --fail-on; 3: nothing did, but part of the audit could not be made."""
        if self.failing(fail_on):
            return 1
        if (self.errors or self.warnings) and not allow_incomplete:
            return 3
        return 0

    def add(self, k: ApiKey, rule_id: str, message: str, fix: str | None = None, **details: Any) -> None:
        """One finding, unless its rule is disabled or the key is exempt from it (then counted)."""
        p = self.policy
        if rule_id in p.disabled:
            return
        exempt = p.exempt.get(k.id, frozenset()) | (p.exempt.get(k.name, frozenset()) if k.name else frozenset())
        if rule_id in exempt or "*" in exempt:
            self.exempted[rule_id] += 1
            return
        rule = RULE_BY_ID[rule_id]
        sev = p.severity_of(rule_id)
        self.findings.append(AuditFinding(rule_id, sev, k.id, k.name, k.key_prefix, message, fix or rule.fix, details))

    def counts(self) -> dict[str, int]:
        c = Counter(f.severity for f in self.findings)
        return {s: c.get(s, 0) for s in reversed(SEVERITIES)}

    def sort(self) -> None:
        order = {r.id: i for i, r in enumerate(RULES)}
        self.findings.sort(key=lambda f: (-RANK[f.severity], (f.key_name or "").lower(), f.key_id, order[f.rule_id]))


def _days(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 86400)


def _ago(n: int) -> str:
    return "today" if n <= 0 else f"{n} day{'s' if n != 1 else ''} ago"


def key_label(k: ApiKey) -> str:
    return f"{k.name!r} ({k.id})" if k.name else k.id


class _Auditor:
    def __init__(self, now: dt.datetime, policy: Policy) -> None:
        self.now = now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)
        self.policy = policy
        self.audit: Audit

    def add(self, k: ApiKey, rule_id: str, message: str, fix: str | None = None, **details: Any) -> None:
        self.audit.add(k, rule_id, message, fix, **details)

    def stamp(self, k: ApiKey, attr: str, needed_for: str, null_ok: bool = True) -> Stamp:
        s = read_stamp(k, attr)
        if s.state in ("garbage", "missing") or (s.state == "null" and not null_ok):
            what = f"unreadable {_FIELDS[attr]} {str(s.raw)[:40]!r}" if s.state == "garbage" else f"no {_FIELDS[attr]}"
            self.audit.warnings.append(ScanError(f"key {key_label(k)}", f"{what}: {needed_for} not checked"))
        return s

    def run(self, keys: list[ApiKey]) -> Audit:
        self.audit = Audit(keys, self.now, self.policy)
        active: list[tuple[ApiKey, dt.datetime | None]] = []
        for k in keys:
            created = self.stamp(k, "created_at", "rotation age", null_ok=False)
            if self._one(k, created):
                active.append((k, created.value))
        self._stems(active)
        self.audit.sort()
        return self.audit

    def _one(self, k: ApiKey, created: Stamp) -> bool:
        """The per-key practices; False when the key has expired (then nothing else about it matters)."""
        p, now = self.policy, self.now
        expires = self.stamp(k, "expires_at", "expiry")
        if expires.value is not None and expires.value <= now:
            self.add(
                k,
                "expired",
                f"{key_label(k)} expired {_ago(_days(now - expires.value))} ({expires.raw}) but is still listed",
                expires_at=expires.raw,
            )
            return False
        if not k.scope_known:
            raw = str(k.raw.get("permissions"))[:40]
            self.audit.warnings.append(
                ScanError(f"key {key_label(k)}", f"unreadable permissions {raw!r}: scope not checked")
            )
        elif k.scope == "org":
            self.add(k, "org-wide-key", f"{key_label(k)} has org-wide access to every workspace and can manage keys")
        if expires.state == "null":
            self.add(k, "no-expiry", f"{key_label(k)} has no expiry date")
        elif expires.value is not None:
            left = expires.value - now
            if left <= dt.timedelta(days=p.expiring_days):
                n = round(left.total_seconds() / 86400)
                when = "within a day" if n == 0 else f"in {n} day{'s' if n != 1 else ''}"
                self.add(k, "expiring-soon", f"{key_label(k)} expires {when} ({expires.raw})", expires_at=expires.raw)
        if created.value is not None:
            age = _days(now - created.value)
            if age > p.rotation_days:
                self.add(
                    k,
                    "rotation-overdue",
                    f"{key_label(k)} was created {_ago(age)}, past the {p.rotation_days}-day rotation period",
                    age_days=age,
                    created_at=created.raw,
                )
        used = self.stamp(k, "last_used_at", "usage")
        if used.value is not None:
            idle = _days(now - used.value)
            if idle > p.unused_days:
                self.add(
                    k,
                    "unused",
                    f"{key_label(k)} was last used {_ago(idle)} (more than {p.unused_days} days)",
                    idle_days=idle,
                    last_used_at=used.raw,
                )
        # A key made this week and not deployed yet is normal; a month later it is forgotten.
        elif used.state == "null" and (created.value is None or _days(now - created.value) > p.unused_days):
            since = f", created {_ago(_days(now - created.value))}" if created.value is not None else ""
            self.add(k, "never-used", f"{key_label(k)} has never been used{since}")
        env = environment_of(k.name, p.environment_words)
        if env is None:
            what = f"the name {k.name!r}" if k.name else "the key has no name; it"
            self.add(
                k,
                "no-environment",
                f"{what} does not say its environment (production, staging, development, test...)",
            )
        return True

    def _stems(self, active: list[tuple[ApiKey, dt.datetime | None]]) -> None:
        groups: dict[str, list[tuple[ApiKey, dt.datetime | None]]] = {}
        for k, created in active:
            if k.name and k.name.strip():
                groups.setdefault(name_stem(k.name), []).append((k, created))
        for stem, members in groups.items():
            if len(members) < 2:
                continue
            dated = [(c, k.id, k) for k, c in members if c is not None]
            newest = max(dated, key=lambda m: (m[0], m[1]))[2] if len(dated) == len(members) else None
            names = ", ".join(key_label(k) for k, _ in members)
            for k, _ in members:
                if k is newest:
                    continue
                others = [key_label(o) for o, _ in members if o is not k]
                if newest is not None:
                    msg = (
                        f"{key_label(k)} is still active next to the newer {key_label(newest)} "
                        f"(name stem {stem!r}): a rotation left unfinished?"
                    )
                    fix = f"once {key_label(newest)} is deployed and verified, delete {key_label(k)}"
                else:
                    msg = f"{len(members)} active keys share the name stem {stem!r}: {names}; none is known newest"
                    fix = "keep the key that is deployed, delete the others"
                self.add(k, "unfinished-rotation", msg, fix, stem=stem, related_keys=others)


def audit_keys(keys: Iterable[ApiKey], now: dt.datetime, policy: Policy | None = None) -> Audit:
    """Findings for every key and practice broken, worst first. Keys listed twice are audited once."""
    unique = list({k.id: k for k in keys}.values())
    return _Auditor(now, policy or Policy()).run(unique)
