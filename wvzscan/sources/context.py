"""What the pipeline hands a source: where its findings, counts and errors go."""

from __future__ import annotations

from dataclasses import dataclass

from wvzscan.config import Config
from wvzscan.finding import ScanResult
from wvzscan.progress import Progress
from wvzscan.scan import Scanner


@dataclass(frozen=True)
class SourceContext:
    """What a source is handed to produce its content: where findings, counts and errors go."""

    scanner: Scanner
    result: ScanResult
    config: Config
    progress: Progress
    # The user's size limit (flag or config file), None when they set none: git blobs then have no
    # limit, files get the config's default.
    max_file_size: int | None
