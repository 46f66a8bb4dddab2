"""The suppression policy: what gets reported and what fails the run (config allow entries,
baselines, ``--fail-on``). Inline ``wvzscan:allow`` comments are the scanner's (scan.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from wvzscan.config import Config
from wvzscan.errors import WvzscanError
from wvzscan.finding import Finding, ScanResult

FAIL_ON = ("any", "live", "none")
# A baseline holds one short entry per key: 256 MiB is millions of keys, and no file is read unbounded.
MAX_BASELINE_BYTES = 256 * 1024 * 1024


class BaselineError(WvzscanError):
    """A baseline that cannot be used: one clear line, exit 2."""


def load_baseline(path: str) -> set[str]:
    import json  # here: only runs with a baseline import it

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BASELINE_BYTES + 1)
    except OSError as e:
        raise BaselineError(f"baseline {path}: cannot read: {e.strerror or e}") from None
    if len(raw) > MAX_BASELINE_BYTES:
        raise BaselineError(f"baseline {path}: not a baseline: larger than {MAX_BASELINE_BYTES >> 20} MiB")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise BaselineError(f"baseline {path}: not valid JSON: not UTF-8 text (byte {e.start})") from None
    except ValueError as e:
        raise BaselineError(f"baseline {path}: not valid JSON: {e}") from None
    except RecursionError:
        raise BaselineError(f"baseline {path}: not valid JSON: nested too deeply") from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise BaselineError(f"baseline {path}: expected an object with a 'findings' list")
    fps = set()
    for entry in entries:
        fp = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(fp, str):
            raise BaselineError(f"baseline {path}: every entry needs a fingerprint")
        fps.add(fp)
    return fps


def baseline_document(findings: Iterable[Finding]) -> str:
    """Stable bytes: sorted, no timestamps, no secrets, so re-running on an unchanged tree is a no-op."""
    by_fp: dict[str, dict[str, object]] = {}
    for f in findings:
        e = by_fp.setdefault(f.fingerprint, {"fingerprint": f.fingerprint, "key_prefix": f.key_prefix, "paths": set()})
        if f.path is not None:
            e["paths"].add(f.path)  # type: ignore[attr-defined]
    entries = [
        {**e, "paths": sorted(e["paths"])}  # type: ignore[call-overload]
        for _, e in sorted(by_fp.items())
    ]
    doc = {"tool": "wvzscan", "baseline_version": 1, "findings": entries}
    import json

    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def apply_suppressions(
    result: ScanResult, config: Config, baseline: set[str] | None, today: dt.date | None = None
) -> None:
    """Drop findings allowed by config or listed in the baseline, counting each by its cause."""
    today = today or dt.date.today()
    active = {e.fingerprint for e in config.allow if e.active(today)}
    expired = {e.fingerprint: e for e in config.allow if not e.active(today)}
    kept = []
    noted: set[str] = set()
    for f in result.findings:
        fp = f.fingerprint
        if fp in active:
            result.suppressed["config allow"] += 1
        elif baseline is not None and fp in baseline:
            result.suppressed["baseline"] += 1
        else:
            if fp in expired and fp not in noted:
                noted.add(fp)
                result.notes.append(f"allow entry for {f.redacted} expired on {expired[fp].expires}")
            kept.append(f)
    result.findings = kept
