"""The config file: ``.wvzscan.toml``, else ``[tool.wvzscan]`` in ``pyproject.toml``, at the scan root."""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MAX_FILE_SIZE = 100 * 1024 * 1024
ENCODINGS = ("base64", "url", "html", "json-escape", "utf-16")


@dataclass(frozen=True)
class ArchiveLimits:
    """How far archives are opened (config: archive_depth, archive_max_bytes, ...)."""

    depth: int = 3  # nested levels opened; 0: archives are scanned as raw bytes only
    max_bytes: int = 256 * 1024 * 1024  # uncompressed bytes read from one file, all levels together
    max_ratio: int = 200  # uncompressed/compressed size of one member, checked past 1 MiB
    max_entries: int = 100_000  # members (rows for SQLite) read from one archive
    decode_depth: int = 3  # layers of encodings and containers a key may sit under in text (base64>base64>gzip)


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class AllowEntry:
    fingerprint: str
    reason: str | None = None
    expires: dt.date | None = None

    def active(self, today: dt.date) -> bool:
        return self.expires is None or today <= self.expires


@dataclass
class Config:
    path: str | None = None
    exclude: list[str] = field(default_factory=list)
    allow: list[AllowEntry] = field(default_factory=list)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    min_entropy: float | None = None
    include_examples: bool = False
    decode: tuple[str, ...] = ENCODINGS
    archives: ArchiveLimits = field(default_factory=ArchiveLimits)
    # Sections other features read (e.g. [tool.wvzscan.keys] for the key audit).
    raw: dict[str, Any] = field(default_factory=dict)


_ARCHIVE_KEYS = {
    "archive_depth": "depth",
    "archive_max_bytes": "max_bytes",
    "archive_max_ratio": "max_ratio",
    "archive_max_entries": "max_entries",
    "decode_depth": "decode_depth",
}


def _parse_date(value: Any, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as e:
            raise ConfigError(f"{where}: expires must be a date like 2027-01-31, got {value!r}") from e
    raise ConfigError(f"{where}: expires must be a date, got {value!r}")


def _is_fingerprint(s: Any) -> bool:
    return isinstance(s, str) and len(s) == 64 and all(c in "0123456789abcdef" for c in s)


def parse(table: dict[str, Any], path: str) -> Config:
    cfg = Config(path=path, raw=table)
    known = {"exclude", "allow", "max_file_size", "min_entropy", "include_examples", "decode", *_ARCHIVE_KEYS}
    exclude = table.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        raise ConfigError(f"{path}: exclude must be a list of glob strings")
    cfg.exclude = list(exclude)
    for i, entry in enumerate(table.get("allow", [])):
        where = f"{path}: allow[{i}]"
        if isinstance(entry, str):
            entry = {"fingerprint": entry}
        if not isinstance(entry, dict) or not _is_fingerprint(entry.get("fingerprint")):
            raise ConfigError(f"{where}: needs fingerprint = a 64-character lowercase hex SHA-256")
        cfg.allow.append(
            AllowEntry(entry["fingerprint"], entry.get("reason"), _parse_date(entry.get("expires"), where))
        )
    size = table.get("max_file_size", DEFAULT_MAX_FILE_SIZE)
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ConfigError(f"{path}: max_file_size must be a positive number of bytes")
    cfg.max_file_size = size
    ent = table.get("min_entropy")
    if ent is not None and (not isinstance(ent, (int, float)) or isinstance(ent, bool) or ent < 0):
        raise ConfigError(f"{path}: min_entropy must be a non-negative number (bits per character)")
    cfg.min_entropy = float(ent) if ent is not None else None
    examples = table.get("include_examples", False)
    if not isinstance(examples, bool):
        raise ConfigError(f"{path}: include_examples must be true or false")
    cfg.include_examples = examples
    decode = table.get("decode", list(ENCODINGS))
    if not isinstance(decode, list) or not all(isinstance(x, str) and x in ENCODINGS for x in decode):
        raise ConfigError(f"{path}: decode must be a list of encodings among {', '.join(ENCODINGS)}")
    cfg.decode = tuple(decode)
    limits = {}
    for key, attr in _ARCHIVE_KEYS.items():
        value = table.get(key, getattr(ArchiveLimits, attr))
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < (0 if attr in ("depth", "decode_depth") else 1)
        ):
            what = "a non-negative" if attr in ("depth", "decode_depth") else "a positive"
            raise ConfigError(f"{path}: {key} must be {what} whole number")
        limits[attr] = value
    cfg.archives = ArchiveLimits(**limits)
    unknown = {k for k, v in table.items() if k not in known and not isinstance(v, dict)}
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
    return cfg


def _read_toml(path: str) -> dict[str, Any]:
    # Imported here: most scans have no config file, and tomllib costs hooks 5-10 ms to import.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            data: dict[str, Any] = tomllib.load(f)
            return data
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e


def _mentions_wvzscan(path: str) -> bool:
    """Whether a pyproject.toml can hold [tool.wvzscan] at all: most projects' pyproject.toml
    does not, and parsing it costs every hook run the TOML parser's import (5-10 ms)."""
    try:
        with open(path, "rb") as f:
            return b"wvzscan" in f.read()
    except OSError:
        return True  # let _read_toml report it


def load(explicit: str | None, root: str) -> Config:
    """The config named by ``--config``, else the one found at ``root``, else the defaults."""
    if explicit is not None:
        data = _read_toml(explicit)
        table = _tool_table(data, explicit)
        if table is None and os.path.basename(explicit) == "pyproject.toml":
            table = {}  # a pyproject without our section: the defaults
        return parse(data if table is None else table, explicit)
    own = os.path.join(root, ".wvzscan.toml")
    if os.path.isfile(own):
        data = _read_toml(own)
        return parse(_tool_table(data, own) or data, own)
    pyproject = os.path.join(root, "pyproject.toml")
    # Someone else's pyproject (a cookiecutter template that is not even TOML) is never parsed when it
    # cannot hold our section: ignoring it can only make the scan report more, never less.
    if os.path.isfile(pyproject) and _mentions_wvzscan(pyproject):
        table = _tool_table(_read_toml(pyproject), pyproject)
        if table is not None:
            return parse(table, pyproject)
    return Config()


def _tool_table(data: dict[str, Any], path: str) -> dict[str, Any] | None:
    """``[tool.wvzscan]`` in ``data``, or None; written in .wvzscan.toml too, it is read the same way."""
    tool = data.get("tool")
    if not isinstance(tool, dict) or "wvzscan" not in tool:
        return None
    table = tool["wvzscan"]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.wvzscan] must be a table")
    return table
