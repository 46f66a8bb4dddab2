"""Key hygiene (``wvzscan keys audit``): an organization's keys held against Weavz's best practices.

``rules`` holds the rules and the ``[keys]`` policy, ``names`` reads environments and rotation stems
from key names, ``check`` turns key-list entries into findings, ``listing`` fetches the key list.
"""

from __future__ import annotations

from wvzscan.hygiene.check import (
    Audit,
    AuditFinding,
    FailOn,
    Stamp,
    StampState,
    audit_keys,
    key_label,
    parse_time,
    read_stamp,
)
from wvzscan.hygiene.names import environment_of, name_stem, name_tokens
from wvzscan.hygiene.rules import (
    ENVIRONMENT_WORDS,
    RANK,
    RULE_BY_ID,
    RULES,
    SEVERITIES,
    Policy,
    PolicyError,
    Rule,
    RuleId,
    Severity,
    parse_policy,
)

__all__ = [
    "ENVIRONMENT_WORDS",
    "RANK",
    "RULES",
    "RULE_BY_ID",
    "SEVERITIES",
    "Audit",
    "AuditFinding",
    "FailOn",
    "Policy",
    "PolicyError",
    "Rule",
    "RuleId",
    "Severity",
    "Stamp",
    "StampState",
    "audit_keys",
    "environment_of",
    "key_label",
    "name_stem",
    "name_tokens",
    "parse_policy",
    "parse_time",
    "read_stamp",
]
