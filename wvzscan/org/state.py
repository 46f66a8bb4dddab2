"""``--state FILE``: what earlier ``wvzscan org`` runs scanned, in one SQLite file.

For each repository: the ref tips scanned, the digest of what decides its findings (wvzscan's
version, the rules, the configuration), and its findings as reports show them without the key
(fingerprint, redacted form, location, and the id of the object that holds the key, so a later run
can read the key back from the repository when it must verify or revoke it). No key and no token is
ever written here; the file is created 0600 all the same, and is safe to keep as a CI cache.

Each repository is written in one transaction when its scan is complete: an interrupted run (Ctrl-C,
a killed job) leaves every repository either as the last finished run left it or as this run
finished it, and the next run redoes only the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from wvzscan import __version__
from wvzscan.errors import WvzscanError
from wvzscan.finding import Finding
from wvzscan.output.redact import scrub

SCHEMA_VERSION = 1
_APP_ID = 0x77767A73  # "wvzs": marks the SQLite file as ours

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS repos (
    name TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    tips TEXT NOT NULL,
    pushed TEXT
);
CREATE TABLE IF NOT EXISTS findings (
    repo TEXT NOT NULL REFERENCES repos(name) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    holder TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (repo, seq)
);
"""

# Finding fields rebuilt from a stored document; everything else goes back to ``extra``.
_CORE = ("source", "path", "line", "column", "encoding", "commit", "author", "email", "date")
_VOLATILE = ("fingerprint", "key_prefix", "redacted", "secret", "status", "status_reason", "scope", "revocation")


def _fix(path: str) -> str:
    return (
        f"delete {path} (the next run scans every repository in full and writes a new one) "
        "or restore the copy from an earlier run"
    )


@dataclass(frozen=True)
class Stored:
    """One finding as the state keeps it: no key, only what points back to it."""

    fingerprint: str
    holder: str | None  # the blob, commit or tag that holds the key
    doc: dict[str, object]


@dataclass(frozen=True)
class RepoState:
    digest: str
    tips: dict[str, str]
    findings: list[Stored]
    pushed: str | None = None  # the forge's last-push stamp when this entry was written


def digest(parts: dict[str, object]) -> str:
    doc = json.dumps({"version": __version__, "schema": SCHEMA_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(doc.encode()).hexdigest()


def holder_of(f: Finding) -> str | None:
    for k in ("blob", "tag", "commit"):
        v = f.extra.get(k)
        if isinstance(v, str):
            return v
    return None


def stored(f: Finding) -> Stored:
    doc = {k: v for k, v in f.to_dict(show_secrets=False).items() if k not in _VOLATILE}
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False)
    # A path or an author can be key-shaped (a file named after a key): the state never holds one.
    cleaned = json.loads(scrub(text)) if f.secret in text or "wvz_" in text.lower() else doc
    return Stored(f.fingerprint, holder_of(f), cleaned)


def rebuild(s: Stored, secret: str) -> Finding:
    d = s.doc
    core = {k: d.get(k) for k in _CORE}
    extra = {k: v for k, v in d.items() if k not in _CORE}
    return Finding(
        secret=secret,
        source=str(core["source"] or "git"),
        path=_opt_str(core["path"]),
        line=_opt_int(core["line"]),
        column=_opt_int(core["column"]),
        encoding=str(core["encoding"] or "plain"),
        commit=_opt_str(core["commit"]),
        author=_opt_str(core["author"]),
        email=_opt_str(core["email"]),
        date=_opt_str(core["date"]),
        extra=extra,
    )


def _opt_str(v: object) -> str | None:
    return v if isinstance(v, str) else None


def _opt_int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


class State:
    def __init__(self, path: str) -> None:
        self.path = path
        fresh = not os.path.exists(path)
        if fresh:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except OSError as e:
                raise WvzscanError(f"--state {path}: cannot create it: {e.strerror}") from None
        elif not os.path.isfile(path):
            raise WvzscanError(f"--state {path}: not a regular file")
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT) below.
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._check(fresh or os.path.getsize(path) == 0)
        except sqlite3.DatabaseError as e:
            raise WvzscanError(
                f"--state {path} is not a wvzscan state file or is corrupt ({e}); {_fix(path)}"
            ) from None

    def _check(self, fresh: bool) -> None:
        db = self.db
        db.execute("PRAGMA foreign_keys = ON")
        if fresh:
            db.execute("PRAGMA journal_mode = DELETE")  # one file: safe to copy as a CI cache
            db.execute(f"PRAGMA application_id = {_APP_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.executescript(_SCHEMA)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('tool', 'wvzscan')")
            return
        app = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if app != _APP_ID:
            raise WvzscanError(f"--state {self.path} is an SQLite file, but not one wvzscan wrote; {_fix(self.path)}")
        if version != SCHEMA_VERSION:
            newer = version > SCHEMA_VERSION
            raise WvzscanError(
                f"--state {self.path} has format {version}, this wvzscan reads format {SCHEMA_VERSION}"
                + (" (it was written by a newer wvzscan: upgrade wvzscan)" if newer else f"; {_fix(self.path)}")
            )
        ok = db.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise WvzscanError(f"--state {self.path} is corrupt ({ok}); {_fix(self.path)}")

    def get(self, name: str) -> RepoState | None:
        try:
            row = self.db.execute("SELECT digest, tips, pushed FROM repos WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            rows = self.db.execute(
                "SELECT fingerprint, holder, doc FROM findings WHERE repo = ? ORDER BY seq", (name,)
            ).fetchall()
            tips = json.loads(row[1])
            found = [Stored(fp, holder, json.loads(doc)) for fp, holder, doc in rows]
        except (sqlite3.DatabaseError, ValueError) as e:
            raise WvzscanError(f"--state {self.path}: cannot read {name!r} ({e}); {_fix(self.path)}") from None
        if not isinstance(tips, dict) or not all(isinstance(d, dict) for d in (s.doc for s in found)):
            raise WvzscanError(f"--state {self.path}: the entry of {name!r} is malformed; {_fix(self.path)}")
        pushed = row[2] if isinstance(row[2], str) else None
        return RepoState(str(row[0]), {str(k): str(v) for k, v in tips.items()}, found, pushed)

    def put(
        self, name: str, digest_: str, tips: dict[str, str], findings: Iterable[Stored], pushed: str | None = None
    ) -> None:
        """Replace one repository's entry, in one transaction."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM findings WHERE repo = ?", (name,))
                db.execute(
                    "INSERT OR REPLACE INTO repos (name, digest, tips, pushed) VALUES (?, ?, ?, ?)",
                    (name, digest_, json.dumps(tips, sort_keys=True), pushed),
                )
                db.executemany(
                    "INSERT INTO findings (repo, seq, fingerprint, holder, doc) VALUES (?, ?, ?, ?, ?)",
                    [
                        (name, i, s.fingerprint, s.holder, json.dumps(s.doc, sort_keys=True, ensure_ascii=False))
                        for i, s in enumerate(findings)
                    ],
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            raise WvzscanError(f"--state {self.path}: cannot write ({e})") from None

    def forget(self, name: str) -> None:
        """Drop a repository's entry (its next scan is a full one)."""
        try:
            self.db.execute("DELETE FROM repos WHERE name = ?", (name,))
        except sqlite3.DatabaseError as e:
            raise WvzscanError(f"--state {self.path}: cannot write ({e})") from None

    def close(self) -> None:
        self.db.close()
