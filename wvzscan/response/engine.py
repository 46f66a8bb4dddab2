"""Leak response for a scan: verify every unique key, then (when asked) revoke the live ones.

``respond`` is the engine behind ``--verify``/``--revoke`` of every scan command; ``verify_keys`` and
``revoke_keys`` are the same steps for keys given directly (``wvzscan verify -``, ``revoke -``, and
Python callers). Nothing here prints or exits: messages go to ``say``, questions to ``confirm``, and
"cannot be done as asked" is a ``WvzscanError``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from wvzscan.errors import WvzscanError
from wvzscan.finding import ScanResult
from wvzscan.output.redact import register, scrub
from wvzscan.response.journal import Journal
from wvzscan.response.revoke import Confirm, Leak, Outcome, Revocation, Say, revoke_leaks
from wvzscan.response.verify import Verdict, verify_all
from wvzscan.weavz import Client, ConfigError, Settings

Progress = Callable[[int], None]  # called with the number of keys verified so far


def _no_progress(n: int) -> None:
    pass


def scrubbing(say: Say) -> Say:
    """``say``, with every message through the one redaction point first."""

    def said(msg: str) -> None:
        say(scrub(msg))

    return said


def admin_key_from_env() -> str | None:
    """The org-wide admin key, from WEAVZ_API_KEY only (never from a flag); registered for redaction.

    WvzscanError when it cannot be an API key (non-ASCII, control characters, spaces inside): an HTTP
    header cannot carry it, and the message never shows it.
    """
    value = os.environ.get("WEAVZ_API_KEY", "").strip()
    if not value:
        return None
    register(value)
    if not value.isascii():
        raise WvzscanError("WEAVZ_API_KEY holds a non-ASCII character; it must be a Weavz key (wvz_...)")
    if not value.isprintable() or any(c.isspace() for c in value):
        raise WvzscanError("WEAVZ_API_KEY holds spaces or control characters; it must be a Weavz key (wvz_...)")
    if len(value) > 4096:
        raise WvzscanError("WEAVZ_API_KEY is too long to be a Weavz key")
    return value


def make_client(api_url: str | None = None, ca_bundle: str | None = None) -> Client:
    """A client for --api-url / WEAVZ_API_URL and --ca-bundle; WvzscanError for a bad setting."""
    if ca_bundle and not os.path.isfile(ca_bundle):
        raise WvzscanError(f"--ca-bundle {ca_bundle}: no such file")
    try:
        return Client(Settings.from_env(api_url, ca_bundle))
    except ConfigError as e:
        raise WvzscanError(e.reason) from None


def open_journal(path: str | None, api_url: str) -> Journal:
    """The journal --audit-log names (none: a journal that writes nothing); WvzscanError if it cannot be."""
    return Journal(path, api_url)


@dataclass(frozen=True)
class ResponseOptions:
    verify: bool = True
    revoke: bool = False
    dry_run: bool = False
    yes: bool = False
    api_url: str | None = None
    ca_bundle: str | None = None
    audit_log: str | None = None  # the journal's file (the user-facing flag keeps its name)
    quiet: bool = False


@dataclass
class ResponseOutcome:
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # revocation outcome per key (with --revoke)
    notes: list[str] = field(default_factory=list)
    revocation_failed: bool = False  # a revocation was asked for and did not happen for every live key

    @property
    def exit_code(self) -> int:
        """2 when a revocation was asked for and failed (interface.md), else 0."""
        return 2 if self.revocation_failed else 0


def unreachable_summary(verdicts: dict[str, Verdict], api_url: str) -> str | None:
    """One line when no key could be checked because the API could not be reached at all."""
    unknown = [v for v in verdicts.values() if v.status == "unknown"]
    if not unknown or any(v.unreachable is None for v in unknown):
        return None
    why = sorted({v.unreachable for v in unknown if v.unreachable})
    n = len(unknown)
    keys = f"{n} key{'s' if n != 1 else ''}"
    return f"cannot reach the Weavz API at {api_url}: {', '.join(why)}; {keys} not verified (status unknown)"


def verify_keys(
    keys: Iterable[str],
    *,
    client: Client | None = None,
    api_url: str | None = None,
    ca_bundle: str | None = None,
    admin_key: str | None = None,
    progress: Progress = _no_progress,
    notes: list[str] | None = None,
) -> dict[str, Verdict]:
    """Verdicts (live, invalid, unknown) for each unique key, from the Weavz API."""
    own = client is None
    c = client or make_client(api_url, ca_bundle)
    try:
        return verify_all(c, keys, admin_key, progress, notes)
    finally:
        if own:
            c.close()


def revoke_keys(
    leaks: list[Leak],
    verdicts: dict[str, Verdict],
    *,
    client: Client,
    admin_key: str | None,
    journal: Journal,
    dry_run: bool = False,
    yes: bool = False,
    confirm: Confirm,
    say: Say,
) -> Revocation:
    """Resolve, plan, confirm, revoke and prove dead every live key of ``leaks`` (see revoke.py)."""
    return revoke_leaks(
        client,
        leaks,
        verdicts,
        admin_key=admin_key,
        journal=journal,
        dry_run=dry_run,
        yes=yes,
        confirm=confirm,
        say=scrubbing(say),
    )


def respond(
    result: ScanResult,
    opts: ResponseOptions,
    *,
    admin_key: str | None,
    confirm: Confirm,
    say: Say,
    progress: Progress = _no_progress,
) -> ResponseOutcome:
    """Verify every unique key of ``result`` (and revoke with ``opts.revoke``); fills its findings.

    Findings get status, reason, scope and (with revoke) revocation; unknown verdicts become errors of
    the result (the scan is then incomplete). WvzscanError for settings that make it impossible.
    """
    say = scrubbing(say)
    first: dict[str, str] = {}
    for f in result.findings:
        where = f.location() + (f" (commit {f.commit[:12]})" if f.commit else "")
        first.setdefault(f.secret, where)
    out = ResponseOutcome()
    if not first:
        return out
    if admin_key:
        register(admin_key)
    client = make_client(opts.api_url, opts.ca_bundle)
    try:
        journal = open_journal(opts.audit_log, client.settings.base_url) if opts.revoke else None
        try:
            out.verdicts = verify_all(client, first, admin_key, progress, out.notes)
            for note in out.notes:
                say(f"warning: {note}")
            for f in result.findings:
                v = out.verdicts[f.secret]
                f.status, f.status_reason, f.scope = v.status, scrub(v.reason), v.scope
                f.extra.update(v.extra())
            summary = unreachable_summary(out.verdicts, client.settings.base_url)
            if summary is not None:
                result.error("verify", summary)
            else:
                for key, v in out.verdicts.items():
                    if v.status == "unknown":
                        result.error(scrub(f"verify {key[:8]}… ({first[key]})"), v.reason)
            if opts.revoke:
                assert journal is not None
                leaks = [Leak(k, w) for k, w in first.items()]
                rev = revoke_leaks(
                    client,
                    leaks,
                    out.verdicts,
                    admin_key=admin_key,
                    journal=journal,
                    dry_run=opts.dry_run,
                    yes=opts.yes,
                    confirm=confirm,
                    say=say,
                )
                out.outcomes, out.revocation_failed = rev.outcomes, not rev.ok
                for f in result.findings:
                    if f.secret in rev.outcomes:
                        f.revocation = rev.outcomes[f.secret].as_dict()
        finally:
            if journal is not None:
                journal.close()
    finally:
        client.close()
    return out
