"""Leak response: verify keys, resolve their ids, revoke them, rotate them, and the journal of what was
done (the file ``--audit-log`` names). Typed functions, no printing, no exiting: see ``engine.py``."""

from __future__ import annotations

from wvzscan.finding import KeyStatus
from wvzscan.response.engine import (
    ResponseOptions,
    ResponseOutcome,
    admin_key_from_env,
    make_client,
    open_journal,
    respond,
    revoke_keys,
    unreachable_summary,
    verify_keys,
)
from wvzscan.response.journal import Journal, open_journal_file
from wvzscan.response.revoke import Leak, Outcome, Revocation, RevocationResult, Target
from wvzscan.response.rotate import RotateOptions, create_key_file, parse_duration, rotate, rotated_name
from wvzscan.response.verify import Status, Verdict, verify_all

__all__ = [
    "Journal",
    "KeyStatus",
    "Leak",
    "Outcome",
    "ResponseOptions",
    "ResponseOutcome",
    "Revocation",
    "RevocationResult",
    "RotateOptions",
    "Status",
    "Target",
    "Verdict",
    "admin_key_from_env",
    "create_key_file",
    "make_client",
    "open_journal",
    "open_journal_file",
    "parse_duration",
    "respond",
    "revoke_keys",
    "rotate",
    "rotated_name",
    "unreachable_summary",
    "verify_all",
    "verify_keys",
]
