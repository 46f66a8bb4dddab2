"""Where content comes from. Each source yields ``Chunk``s and records what it could not read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Chunk:
    """One piece of content to scan: a file, a git blob, a commit message, an archive member."""

    data: bytes
    source: str  # file, git, staged, push, stdin
    path: str | None
    # Attribution a source already knows (git: commit, author, email, date, blob id, ...).
    meta: dict[str, Any] = field(default_factory=dict)
