"""wvzscan: find, verify and revoke leaked Weavz API keys.

The engine is importable (see ``wvzscan.api``): ``wvzscan.scan_paths``, ``wvzscan.scan_repository``,
... are loaded on first use, so ``import wvzscan`` stays cheap for the git hooks.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = frozenset(
    {
        "ScanOptions",
        "ScanResult",
        "Finding",
        "ScanError",
        "WvzscanError",
        "scan",
        "scan_paths",
        "scan_repository",
        "scan_commits",
        "scan_index",
        "scan_push",
        "verify",
        "revoke",
    }
)


def __getattr__(name: str) -> Any:
    if name in _API:
        from wvzscan import api

        return getattr(api, name)
    raise AttributeError(f"module 'wvzscan' has no attribute {name!r}")
