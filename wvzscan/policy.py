"""What gets reported and what fails the run: config allow entries, baselines, ``--fail-on``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from wvzscan.config import Config
from wvzscan.finding import Finding, ScanResult

FAIL_ON = ("any", "live", "none")


class BaselineError(Exception):
    pass


def load_baseline(path: str) -> set[str]:
    import json  # here: only runs with a baseline import it

    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise BaselineError(f"baseline {path}: cannot read: {e.strerror}") from e
    except ValueError as e:
        raise BaselineError(f"baseline {path}: not valid JSON: {e}") from e
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
