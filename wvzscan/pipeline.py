"""The pipeline every scan shares: config → rules → source → detection → suppressions → result.

A ``Source`` is one small interface (files, stdin, git history, git changes, the index, a push): it
knows where its config lives, which options it cannot honour, and how to feed its content to the
scanner. The pipeline owns everything around it, so each source gets the same treatment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Plan:
    """What a scan runs under, from its options and the config at its root: the same for every source
    (and for ``wvzscan org``, which scans many repositories under one plan)."""

    config: config_mod.Config
    rules: detect.Rules
    inline_allow: bool
    baseline: set[str] | None
    # The user's size limit (flag or config file), None when they set none: git blobs then have none.
    max_file_size: int | None

    def new_result(self) -> ScanResult:
        return ScanResult(settings=config_mod.changed_settings(self.config))

    def scanner(self, result: ScanResult) -> Scanner:
        return Scanner(result, self.rules, inline_allow=self.inline_allow)

    def suppress(self, result: ScanResult) -> None:
        """Config allow entries and the baseline (inline allows were applied while scanning)."""
        suppress.apply_suppressions(result, self.config, self.baseline)


def plan(options: ScanOptions, root: str, *, use_baseline: bool = True) -> Plan:
    """The config at ``root`` (or ``options.config``) with ``options`` applied, bounded and checked.
    Raises WvzscanError (a bad config, baseline or bound)."""
    cfg = config_mod.load(options.config, root)  # ConfigError is a WvzscanError (exit 2)
    baseline = suppress.load_baseline(options.baseline) if options.baseline and use_baseline else None
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
    return Plan(cfg, rules, options.inline_allow, baseline, user_limit)


def run(
    source: Source, options: ScanOptions, *, progress: Progress | None = None, use_baseline: bool = True
) -> ScanResult:
    """Scan ``source`` under ``options``. Raises WvzscanError when the scan cannot be done as asked."""
    why = source.refuses(options)
    if why:
        raise WvzscanError(why)
    p = plan(options, source.root, use_baseline=use_baseline)
    result = p.new_result()
    started = time.monotonic()
    source.produce(SourceContext(p.scanner(result), result, p.config, progress or _quiet(), p.max_file_size))
    result.seconds = time.monotonic() - started
    p.suppress(result)
    return result
