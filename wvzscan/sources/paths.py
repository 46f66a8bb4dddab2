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
    respect_gitignore: bool = False  # skip (and count) what the repository's .gitignore files ignore

    @classmethod
    def checked(
        cls, paths: Sequence[str], stdin: BinaryIO | None = None, respect_gitignore: bool = False
    ) -> PathsSource:
        """The source for ``paths``, refusing any named path that is not there (a dangling symlink
        named on purpose included) and ``-`` without a standard input to read."""
        from wvzscan.sources.files import check_paths

        paths = tuple(paths) or (".",)
        if STDIN in paths and stdin is None:
            raise WvzscanError("standard input is closed: nothing to read for `-`")
        check_paths(p for p in paths if p != STDIN)
        return cls(paths, stdin, respect_gitignore)

    @property
    def root(self) -> str:
        if len(self.paths) == 1 and self.paths[0] != STDIN and os.path.isdir(self.paths[0]):
            return self.paths[0]
        return "."

    def refuses(self, options: ScanOptions) -> str | None:
        if all(p == STDIN for p in self.paths):
            # Standard input has no path to match.
            for flag, used in (("--exclude", bool(options.exclude)), ("--respect-gitignore", self.respect_gitignore)):
                if used:
                    return f"{flag} does not apply to standard input (`-` has no path to match)"
        return None

    def produce(self, ctx: SourceContext) -> None:
        from wvzscan.parallel import scan_files
        from wvzscan.sources.files import FileOptions, FileWalker

        cfg = ctx.config
        options = FileOptions(tuple(cfg.exclude), cfg.max_file_size, self.root, self.respect_gitignore)
        walker = FileWalker(ctx.result, options)
        if STDIN in self.paths and self.stdin is not None:
            try:
                data = self.stdin.read(cfg.max_file_size + 1)
            except (OSError, ValueError) as e:  # EBADF, a closed stream
                raise WvzscanError(f"cannot read standard input: {getattr(e, 'strerror', None) or e}") from None
            if len(data) > cfg.max_file_size:
                ctx.result.skipped["over max_file_size"] += 1
            else:
                ctx.scanner.scan(Chunk(data, "stdin", None))
        scan_files(walker.tasks([p for p in self.paths if p != STDIN]), ctx.scanner, ctx.progress)
        ctx.progress.done()
