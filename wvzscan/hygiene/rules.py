"""The key-hygiene rules of Weavz's guide and the policy that tunes them (the ``[keys]`` config table).

``parse_policy`` reads the ``[keys]`` table of the config file (``[tool.wvzscan.keys]`` in pyproject.toml);
every mistake is one clear line naming the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]
RuleId = Literal[
    "leaked",
    "org-wide-key",
    "no-expiry",
    "rotation-overdue",
    "unfinished-rotation",
    "expiring-soon",
    "unused",
    "never-used",
    "expired",
    "no-environment",
]

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Rule:
    id: str  # one of RuleId
    name: str  # PascalCase, for SARIF
    severity: Severity  # the default; the config may override it
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
    severity: Mapping[str, Severity] = field(default_factory=dict)
    environment_words: frozenset[str] = ENVIRONMENT_WORDS
    exempt: Mapping[str, frozenset[str]] = field(default_factory=dict)  # key id or name -> rule ids ("*": all)

    def severity_of(self, rule_id: str) -> Severity:
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
