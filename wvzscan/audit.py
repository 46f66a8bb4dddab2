"""Key hygiene: an organization's keys held against Weavz's own best practices (the seed guide).

Pure functions, no I/O: ``audit_keys(keys, now, policy)`` turns the entries of ``GET /api/v1/api-keys``
into findings, one per key and practice broken, each with a rule id, a severity, a message and the fix.
``parse_policy`` reads the ``[keys]`` table of the config file (``[tool.wvzscan.keys]`` in pyproject.toml).

Timestamps the API sends in a form we cannot read are never a crash and never a silent pass: the check
that needed them is skipped for that key and a warning is counted (the CLI makes that exit 3 when
nothing else failed).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wvzscan.finding import ScanError
from wvzscan.weavz import ApiKey

SEVERITIES = ("low", "medium", "high", "critical")
RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Rule:
    id: str
    name: str  # PascalCase, for SARIF
    severity: str  # the default; the config may override it
    summary: str
    practice: str  # the guide's words
    fix: str


RULES: tuple[Rule, ...] = (
    Rule(
        "leaked",
        "LeakedKey",
        "critical",
        "The key was found in a scanned file or commit",
        "Revoke compromised keys immediately: if a key is leaked, delete it and create a new one.",
        "revoke it now (wvzscan revoke - < keyfile), create a replacement (wvzscan rotate -), "
        "remove it from the code and its history",
    ),
    Rule(
        "org-wide-key",
        "OrgWideKey",
        "high",
        "The key has org-wide access",
        "Use workspace-scoped keys for least-privilege access: each service should only access the "
        "workspaces it needs.",
        "replace it with a key scoped to the workspaces the service uses "
        '(permissions {"scope": "workspace", "workspaceIds": [...]}); keep org-wide keys for key '
        "administration only",
    ),
    Rule(
        "no-expiry",
        "KeyWithoutExpiry",
        "medium",
        "The key never expires",
        "Set expiration dates: rotate keys periodically for better security.",
        "create a replacement with an expiry (wvzscan rotate - --expires-in 90d), deploy it, delete this key",
    ),
    Rule(
        "rotation-overdue",
        "RotationOverdue",
        "medium",
        "The key is older than the rotation period",
        "Rotate keys periodically.",
        "rotate it without downtime: wvzscan rotate - < keyfile (create, deploy, verify, then delete the old key)",
    ),
    Rule(
        "unfinished-rotation",
        "UnfinishedRotation",
        "medium",
        "Several active keys share one name stem: a rotation was left unfinished",
        "Key rotation: create a new key, deploy it, verify it, then delete the old key.",
        "once the newer key is deployed and verified, delete the older one",
    ),
    Rule(
        "expiring-soon",
        "KeyExpiringSoon",
        "medium",
        "The key expires soon",
        "Rotate without downtime: create and deploy the replacement before the old key stops working.",
        "create a replacement now (wvzscan rotate -), deploy and verify it before the expiry",
    ),
    Rule(
        "unused",
        "UnusedKey",
        "low",
        "The key has not been used for a long time",
        "Monitor usage: check the Activity page to track API key usage.",
        "if nothing needs it any more, delete it; unused keys are risk without benefit",
    ),
    Rule(
        "never-used",
        "NeverUsedKey",
        "low",
        "The key has never been used",
        "Monitor usage: check the Activity page to track API key usage.",
        "if nothing needs it, delete it",
    ),
    Rule(
        "expired",
        "ExpiredKey",
        "low",
        "The key has expired but is still listed",
        "Delete the old key once its replacement works.",
        "delete it so the key list shows only keys in use",
    ),
    Rule(
        "no-environment",
        "NameWithoutEnvironment",
        "low",
        "The key's name does not say which environment it is for",
        "Separate keys per environment: use different keys for development, staging, and production.",
        "name keys for their environment and service (e.g. production-backend, staging-server); "
        "one key per environment",
    ),
)
RULE_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

_ENV = "prod production prd live staging stage stg preprod preproduction nonprod dev develop development"
_ENV += " test testing tst qa uat sandbox sbx local localhost preview demo ci e2e perf canary"
ENVIRONMENT_WORDS = frozenset(_ENV.split(" "))


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Policy:
    rotation_days: int = 90
    unused_days: int = 30
    expiring_days: int = 14
    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, str] = field(default_factory=dict)
    environment_words: frozenset[str] = ENVIRONMENT_WORDS
    exempt: Mapping[str, frozenset[str]] = field(default_factory=dict)  # key id or name -> rule ids ("*": all)

    def severity_of(self, rule_id: str) -> str:
        return self.severity.get(rule_id, RULE_BY_ID[rule_id].severity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rotation_days": self.rotation_days,
            "unused_days": self.unused_days,
            "expiring_days": self.expiring_days,
            "disabled": sorted(self.disabled),
            "severity": {r.id: self.severity_of(r.id) for r in RULES},
        }


_POLICY_KEYS = ("rotation_days", "unused_days", "expiring_days", "disable", "severity", "environment_words", "exempt")


def _rule_ids(value: Any, where: str, allow_star: bool = False) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where} must be a list of rule ids")
    known = set(RULE_BY_ID) | ({"*"} if allow_star else set())
    bad = [v for v in value if v not in known]
    if bad:
        raise PolicyError(f"{where}: unknown rule(s) {', '.join(bad)}; known: {', '.join(RULE_BY_ID)}")
    return frozenset(value)


def parse_policy(table: Any, where: str = "[keys]") -> Policy:
    """The ``[keys]`` config table; every mistake is one clear line naming the setting."""
    if table is None:
        return Policy()
    if not isinstance(table, dict):
        raise PolicyError(f"{where} must be a table")
    unknown = sorted(set(table) - set(_POLICY_KEYS))
    if unknown:
        raise PolicyError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(_POLICY_KEYS)}")
    days: dict[str, int] = {}
    for name in ("rotation_days", "unused_days", "expiring_days"):
        v = table.get(name, getattr(Policy, name))
        if not isinstance(v, int) or isinstance(v, bool) or v < 1 or v > 36500:
            raise PolicyError(f"{where}: {name} must be a whole number of days from 1 to 36500, got {v!r}")
        days[name] = v
    disabled = _rule_ids(table.get("disable", []), f"{where}: disable")
    sev = table.get("severity", {})
    if not isinstance(sev, dict):
        raise PolicyError(f"{where}: severity must be a table of rule id = severity")
    for rid, level in sev.items():
        if rid not in RULE_BY_ID:
            raise PolicyError(f"{where}: severity: unknown rule {rid!r}; known: {', '.join(RULE_BY_ID)}")
        if level not in SEVERITIES:
            raise PolicyError(f"{where}: severity.{rid} must be one of {', '.join(SEVERITIES)}, got {level!r}")
    words = table.get("environment_words", [])
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        raise PolicyError(f"{where}: environment_words must be a list of words")
    exempt_t = table.get("exempt", {})
    if not isinstance(exempt_t, dict):
        raise PolicyError(f"{where}: exempt must be a table of key id or name = [rule ids]")
    exempt = {str(k): _rule_ids(v, f"{where}: exempt.{k}", allow_star=True) for k, v in exempt_t.items()}
    return Policy(
        rotation_days=days["rotation_days"],
        unused_days=days["unused_days"],
        expiring_days=days["expiring_days"],
        disabled=disabled,
        severity=dict(sev),
        environment_words=ENVIRONMENT_WORDS | {w.strip().lower() for w in words},
        exempt=exempt,
    )


# ---------------------------------------------------------------------------------------------
# Timestamps: ISO-8601 as the API documents it, read generously (Python 3.10's fromisoformat
# knows neither "Z" nor nanoseconds); anything else is "garbage", never an exception.

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)

_FIELDS = {"created_at": "createdAt", "last_used_at": "lastUsedAt", "expires_at": "expiresAt"}


def parse_time(text: str) -> dt.datetime | None:
    """An aware datetime, or None when ``text`` is not ISO-8601. Naive times are taken as UTC."""
    m = _ISO.match(text.strip())
    if not m:
        return None
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    try:
        tzinfo = dt.timezone.utc
        if tz and tz not in ("Z", "z"):
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
            tzinfo = dt.timezone(sign * offset)
        micro = int((frac or "0")[:6].ljust(6, "0"))
        return dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), micro, tzinfo)
    except ValueError:  # month 13, hour 25, offset beyond a day...
        return None


@dataclass(frozen=True)
class Stamp:
    state: str  # ok | null | missing | garbage
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
# Names: environment words and rotation stems.


def name_tokens(name: str) -> list[str]:
    """``productionBackend-v2`` -> [production, backend, v]: camelCase and separators split, digits dropped."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [t.rstrip("0123456789") for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t.rstrip("0123456789")]


def environment_of(name: str | None, words: Iterable[str] = ENVIRONMENT_WORDS) -> str | None:
    if not name:
        return None
    known = set(words)
    return next((t for t in name_tokens(name) if t in known), None)


# Suffixes people (and `wvzscan rotate`) add to a key's name when they make its replacement.
_SUFFIX = re.compile(
    r"(?:[-_. ]+(?:v\d+|\d{1,3}|new|old|copy|backup|bak|tmp|temp|next|prev|previous|replacement|rotated"
    r"|\d{4}-?\d{2}(?:-?\d{2})?)|\s*\(\d+\))$",
    re.IGNORECASE,
)


def name_stem(name: str) -> str:
    """``production-backend-v2``, ``production-backend-rotated-20250101`` -> ``production-backend``."""
    s = name.strip().lower()
    while True:
        shorter = _SUFFIX.sub("", s)
        if shorter == s or not shorter:
            return s
        s = shorter


# ---------------------------------------------------------------------------------------------


@dataclass
class AuditFinding:
    rule_id: str
    severity: str
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

    def failing(self, fail_on: str) -> list[AuditFinding]:
        if fail_on == "none":
            return []
        floor = RANK["low" if fail_on == "any" else fail_on]
        return [f for f in self.findings if RANK[f.severity] >= floor]

    def exit_code(self, fail_on: str, allow_incomplete: bool = False) -> int:
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
