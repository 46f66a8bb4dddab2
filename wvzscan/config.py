"""The config file: ``.wvzscan.toml``, else ``[tool.wvzscan]`` in ``pyproject.toml``, at the scan root."""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from wvzscan.errors import WvzscanError

DEFAULT_MAX_FILE_SIZE = 100 * 1024 * 1024
ENCODINGS = ("base64", "url", "html", "json-escape", "utf-16")
# A config file is a few KB; anything bigger than this is not one (and is not read whole).
MAX_CONFIG_BYTES = 4 * 1024 * 1024
_MiB = 1024 * 1024

# Every number a config (or a pull request adding one) can set, bounded: a value outside its range
# would switch detection off in all but name (min_entropy = 99 drops every key). One line a setting.
# name: (lowest, highest, unit shown in the error)
BOUNDS: dict[str, tuple[float, float, str]] = {
    "max_file_size": (256, 4096 * _MiB, "bytes"),
    "min_entropy": (0.0, 3.0, "bits per character"),
    "archive_depth": (0, 10, "levels"),
    "archive_max_bytes": (64 * 1024, 16384 * _MiB, "bytes"),
    "archive_max_ratio": (2, 1_000_000, ""),
    "archive_max_entries": (1, 10_000_000, ""),
    "decode_depth": (0, 8, "layers"),
}
# Tables (sections) a config may hold besides its settings; [[allow]] is a list of tables.
TABLES = frozenset({"keys"})

SettingValue = int | float | bool | str | list[str]


@dataclass(frozen=True)
class ArchiveLimits:
    """How far archives are opened (config: archive_depth, archive_max_bytes, ...)."""

    depth: int = 3  # nested levels opened; 0: archives are scanned as raw bytes only
    max_bytes: int = 256 * 1024 * 1024  # uncompressed bytes read from one file, all levels together
    max_ratio: int = 200  # uncompressed/compressed size of one member, checked past 1 MiB
    max_entries: int = 100_000  # members (rows for SQLite) read from one archive
    decode_depth: int = 3  # layers of encodings and containers a key may sit under in text (base64>base64>gzip)


class ConfigError(WvzscanError):
    """A config that cannot be used as written: one clear line, exit 2."""


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
        from wvzscan.isotime import parse_date

        day = parse_date(value)
        if day is None:
            raise ConfigError(f"{where}: expires must be a date like 2027-01-31, got {value[:40]!r}")
        return day
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
        raise ConfigError(f"{path}: max_file_size must be a positive number of bytes{_range('max_file_size')}")
    cfg.max_file_size = check_bound("max_file_size", size, path)
    ent = table.get("min_entropy")
    if ent is not None and (not isinstance(ent, (int, float)) or isinstance(ent, bool) or ent < 0):
        raise ConfigError(
            f"{path}: min_entropy must be a non-negative number (bits per character){_range('min_entropy')}"
        )
    cfg.min_entropy = float(check_bound("min_entropy", ent, path)) if ent is not None else None
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
            raise ConfigError(f"{path}: {key} must be {what} whole number{_range(key)}")
        limits[attr] = check_bound(key, value, path)
    cfg.archives = ArchiveLimits(**limits)
    _refuse_unknown(table, known, path)
    return cfg


def _range(name: str) -> str:
    lo, hi, unit = BOUNDS[name]
    return f" from {_num(lo)} to {_num(hi)}{' ' + unit if unit else ''}"


def _num(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def check_bound(name: str, value: Any, where: str) -> Any:
    """``value`` if it lies in the setting's range, else a ConfigError naming the setting and the range.

    Also for flags (``--max-file-size``): ``where`` is then the flag."""
    lo, hi, _ = BOUNDS[name]
    if not lo <= value <= hi:
        raise ConfigError(f"{where}: {name} must be{_range(name)}, got {_num(value)}")
    return value


def _refuse_unknown(table: dict[str, Any], known: set[str], path: str) -> None:
    """Unknown settings and unknown tables are errors (a typo must not pass as "no setting"),
    with the closest known name as a hint."""
    tables = sorted(k for k, v in table.items() if isinstance(v, dict) and k not in TABLES)
    if tables:
        hints = _hints(tables, TABLES | known)
        raise ConfigError(f"{path}: unknown table(s): {', '.join(f'[{t}]' for t in tables)}{hints}")
    unknown = sorted(k for k, v in table.items() if not isinstance(v, dict) and k not in known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(unknown)}{_hints(unknown, known | TABLES)}")


def _hints(names: list[str], choices: set[str] | frozenset[str]) -> str:
    """`` (did you mean 'min_entropy'?)`` for the names that are close to a known one."""
    said = []
    for name in names:
        import difflib  # here: only a config with an unknown name needs it

        close = difflib.get_close_matches(name, sorted(choices - {name}), n=1, cutoff=0.6)
        if close:
            said.append(f"{close[0]!r}" if len(names) == 1 else f"{close[0]!r} for {name!r}")
    return f" (did you mean {', '.join(said)}?)" if said else ""


def changed_settings(cfg: Config) -> dict[str, SettingValue]:
    """The detection settings that differ from the defaults, by config name, with their values.

    Reports show them next to the suppressions: a scan that ran with a narrowed detector says so.
    """
    default = Config()
    out: dict[str, SettingValue] = {}
    if cfg.min_entropy is not None:
        out["min_entropy"] = cfg.min_entropy
    if cfg.include_examples:
        out["include_examples"] = True
    if cfg.decode != default.decode:
        out["decode"] = list(cfg.decode)
    if cfg.max_file_size != default.max_file_size:
        out["max_file_size"] = cfg.max_file_size
    if cfg.exclude:
        out["exclude"] = list(cfg.exclude)
    for key, attr in _ARCHIVE_KEYS.items():
        value = getattr(cfg.archives, attr)
        if value != getattr(default.archives, attr):
            out[key] = value
    return out


def _read_toml(path: str) -> dict[str, Any]:
    # Imported here: most scans have no config file, and tomllib costs hooks 5-10 ms to import.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from e
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: not a config file: larger than {MAX_CONFIG_BYTES // _MiB} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text (byte {e.start})") from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    return data


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
