"""Where content comes from. Each source yields ``Chunk``s and records what it could not read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Source = Literal["file", "git", "staged", "push", "stdin"]


@dataclass(frozen=True)
class Origin:
    """What a source knows of a chunk's place beyond its path when it reads it.

    A git blob knows its id (commit and path come later, from attribution); a commit or tag
    message knows its object; ``where`` names content that is no file ("commit message").
    """

    blob: str | None = None
    commit: str | None = None
    tag: str | None = None
    where: str | None = None

    def fields(self) -> dict[str, str]:
        """The finding fields this origin fills (JSON ``blob``, ``commit``, ``tag``, ``where``)."""
        return {
            k: v
            for k, v in (("blob", self.blob), ("commit", self.commit), ("tag", self.tag), ("where", self.where))
            if v is not None
        }


NO_ORIGIN = Origin()


@dataclass
class Chunk:
    """One piece of content to scan: a file, a git blob, a commit message, an archive member."""

    data: bytes
    source: Source
    path: str | None
    origin: Origin = NO_ORIGIN
    # Set by the archive walk: the id of a container opened from this chunk, and the ids of the
    # containers a member sits in (so the container's raw bytes do not report a member's key twice).
    archive_id: int | None = None
    archive_parents: tuple[int, ...] = field(default=())
