"""The files source (``wvzscan dir``): files, directory trees and standard input, as one ``Source``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from wvzscan.errors import WvzscanError
from wvzscan.options import ScanOptions
from wvzscan.sources import Chunk
from wvzscan.sources.context import SourceContext

STDIN = "-"


@dataclass(frozen=True)
class PathsSource:
    """``paths`` (``-`` for ``stdin``); the config is the one of the single folder named, else of ``.``."""

    paths: tuple[str, ...] = (".",)
    stdin: BinaryIO | None = None

    @classmethod
    def checked(cls, paths: Sequence[str], stdin: BinaryIO | None = None) -> PathsSource:
        """The source for ``paths``, refusing any named path that is not there."""
        paths = tuple(paths) or (".",)
        for p in paths:
            if p == STDIN:
                if stdin is None:
                    raise WvzscanError("'-' names standard input, and there is none to read")
                continue
            try:
                os.lstat(p)
            except FileNotFoundError:
                raise WvzscanError(f"no such file or directory: {p}") from None
            except OSError as e:  # EACCES on a parent folder, ENAMETOOLONG, ...
                raise WvzscanError(f"cannot access {p}: {e.strerror or e}") from None
        return cls(paths, stdin)

    @property
    def root(self) -> str:
        if len(self.paths) == 1 and self.paths[0] != STDIN and os.path.isdir(self.paths[0]):
            return self.paths[0]
        return "."

    def refuses(self, options: ScanOptions) -> str | None:
        return None  # every scan option applies to files

    def produce(self, ctx: SourceContext) -> None:
        from wvzscan.parallel import scan_files
        from wvzscan.sources.files import FileOptions, FileWalker

        cfg = ctx.config
        walker = FileWalker(ctx.result, FileOptions(tuple(cfg.exclude), cfg.max_file_size, self.root))
        if STDIN in self.paths and self.stdin is not None:
            data = self.stdin.read(cfg.max_file_size + 1)
            if len(data) > cfg.max_file_size:
                ctx.result.skipped["over max_file_size"] += 1
            else:
                ctx.scanner.scan(Chunk(data, "stdin", None))
        scan_files(walker.tasks([p for p in self.paths if p != STDIN]), ctx.scanner, ctx.progress)
        ctx.progress.done()
