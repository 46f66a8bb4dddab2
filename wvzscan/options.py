"""What a scan is asked to do, the same for every source: the engine's typed options.

The CLI builds these from its flags; Python callers build them directly. Report options (format,
output files, --show-secrets) are the CLI's and live there; leak-response options are
``wvzscan.response``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FailOn = Literal["any", "live", "none"]
FAIL_ON: tuple[FailOn, ...] = ("any", "live", "none")


@dataclass(frozen=True)
class ScanOptions:
    config: str | None = None  # None: .wvzscan.toml, else [tool.wvzscan] in pyproject.toml, at the root
    exclude: tuple[str, ...] = ()  # added to the config's excludes
    max_file_size: int | None = None  # bytes; None: the config's (files: 100 MB; git blobs: no limit)
    include_examples: bool = False  # also report Weavz's documentation example keys
    inline_allow: bool = True  # honour `wvzscan:allow` comments
    baseline: str | None = None  # hide findings whose fingerprint is in this baseline file
    fail_on: FailOn = "any"
    allow_incomplete: bool = False  # exit 0 instead of 3 when part of the input was unreadable
