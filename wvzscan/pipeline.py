"""The pipeline every scan shares: config → rules → source → detection → suppressions → result.

A ``Source`` is one small interface (files, stdin, git history, git changes, the index, a push): it
knows where its config lives, which options it cannot honour, and how to feed its content to the
scanner. The pipeline owns everything around it, so each source gets the same treatment.
"""

from __future__ import annotations

import time
from typing import Protocol

from wvzscan import config as config_mod
from wvzscan import detect, suppress
from wvzscan.errors import WvzscanError
from wvzscan.finding import ScanResult
from wvzscan.options import ScanOptions
from wvzscan.progress import Progress
from wvzscan.scan import Scanner
from wvzscan.sources.context import SourceContext


class Source(Protocol):
    @property
    def root(self) -> str:
        """The folder whose .wvzscan.toml / pyproject.toml configures the scan."""
        ...

    def refuses(self, options: ScanOptions) -> str | None:
        """Why this source cannot honour ``options`` (one line), or None."""
        ...

    def produce(self, ctx: SourceContext) -> None:
        """Feed every piece of content to ``ctx.scanner``; record what could not be read in ``ctx.result``."""
        ...


def _quiet() -> Progress:
    return Progress(enabled=False)


def run(
    source: Source, options: ScanOptions, *, progress: Progress | None = None, use_baseline: bool = True
) -> ScanResult:
    """Scan ``source`` under ``options``. Raises WvzscanError when the scan cannot be done as asked."""
    why = source.refuses(options)
    if why:
        raise WvzscanError(why)
    cfg = config_mod.load(options.config, source.root)  # ConfigError is a WvzscanError (exit 2)
    baseline = None
    if options.baseline and use_baseline:
        try:
            baseline = suppress.load_baseline(options.baseline)
        except suppress.BaselineError as e:
            raise WvzscanError(str(e)) from None
    cfg.exclude.extend(options.exclude)
    user_limit = options.max_file_size
    if user_limit is None and "max_file_size" in cfg.raw:
        user_limit = int(cfg.max_file_size)
    if options.max_file_size is not None:
        cfg.max_file_size = config_mod.check_bound("max_file_size", options.max_file_size, "--max-file-size")
    cfg.include_examples = options.include_examples or cfg.include_examples
    rules = detect.Rules(
        min_entropy=cfg.min_entropy,
        include_examples=cfg.include_examples,
        decode=frozenset(cfg.decode),
        archives=cfg.archives,
    )
    result = ScanResult(settings=config_mod.changed_settings(cfg))
    scanner = Scanner(result, rules, inline_allow=options.inline_allow)
    started = time.monotonic()
    source.produce(SourceContext(scanner, result, cfg, progress or _quiet(), user_limit))
    result.seconds = time.monotonic() - started
    suppress.apply_suppressions(result, cfg, baseline)
    return result
