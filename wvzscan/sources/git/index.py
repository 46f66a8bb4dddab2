"""The index as a source: what ``git commit`` would record (the ``staged`` hook). Kept apart from
the other git sources so a hook imports only this one."""

from __future__ import annotations

from dataclasses import dataclass

from wvzscan.options import ScanOptions
from wvzscan.sources.context import SourceContext
from wvzscan.sources.git.process import Repo
from wvzscan.sources.git.repository import root_of


@dataclass(frozen=True)
class IndexSource:
    """What ``git commit`` would record: the lines the staged changes add (``whole``: every indexed file)."""

    repo: Repo
    whole: bool = False

    @property
    def root(self) -> str:
        return root_of(self.repo)

    def refuses(self, options: ScanOptions) -> str | None:
        if self.repo.work_tree is None:
            return f"{self.repo.git_dir} is a bare repository: it has no index to scan"
        return None

    def produce(self, ctx: SourceContext) -> None:
        from wvzscan.sources.git.changes import scan_index

        if self.whole:
            ctx.result.notes.append(
                "run by the pre-commit framework with nothing staged (pre-commit run --all-files): "
                "every file in the index was scanned"
            )
        cfg = ctx.config
        scan_index(
            self.repo, ctx.scanner, ctx.result, exclude=cfg.exclude, whole=self.whole, max_size=ctx.max_file_size
        )


def nothing_staged(repo: Repo) -> bool:
    if repo.head() is None:
        return False  # a first commit: everything staged is new anyway
    return not repo.run("diff-index", "--cached", "--name-only", "-z", "HEAD")
