"""The command line: options → pipeline → reports → exit code. Thin on purpose.

Heavy modules (git, httpx, report formats) are imported inside the commands that need them: a
pre-commit hook pays only for what it uses.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import click

from wvzscan import __version__
from wvzscan.errors import EXIT_INCOMPLETE, EXIT_USAGE, WvzscanError


class LazyGroup(click.Group):
    """Commands defined in other modules, imported only when run (start-up time matters for hooks)."""

    # name -> "module:attribute" of a click.Command. One line per command, so features merge cleanly.
    lazy: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, _, attr = self.lazy[cmd_name].partition(":")
            cmd = getattr(importlib.import_module(module), attr)
            assert isinstance(cmd, click.Command)
            return cmd
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from wvzscan.commands.help import format_commands  # grouped by purpose, summaries whole

        format_commands(self, ctx, formatter)


LazyGroup.lazy = {
    "dir": "wvzscan.commands.files:dir_cmd",
    "baseline": "wvzscan.commands.files:baseline_cmd",
    "repo": "wvzscan.commands.git:repo_cmd",
    "staged": "wvzscan.commands.git:staged_cmd",
    "push": "wvzscan.commands.git:push_cmd",
    "verify": "wvzscan.commands.weavz:verify_cmd",
    "revoke": "wvzscan.commands.weavz:revoke_cmd",
    "rotate": "wvzscan.commands.weavz:rotate_cmd",
    "keys": "wvzscan.commands.keys:keys_cmd",
    "rules": "wvzscan.commands.rules:rules_cmd",
    "install-hooks": "wvzscan.commands.install_hooks:install_hooks_cmd",
    "github-summary": "wvzscan.commands.github_summary:github_summary_cmd",
    "ci": "wvzscan.commands.ci:ci_cmd",
    "uninstall-hooks": "wvzscan.commands.install_hooks:uninstall_hooks_cmd",
    "completion": "wvzscan.commands.help:completion_cmd",
    "scan": "wvzscan.commands.help:scan_cmd",
    "org": "wvzscan.commands.org:org_cmd",
    "merge": "wvzscan.commands.merge:merge_cmd",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="wvzscan")
def cli() -> None:
    """Find leaked Weavz API keys (wvz_...), verify them, revoke the live ones."""


def main(argv: Sequence[str] | None = None) -> int:
    """The one place that turns what a command returned or raised into the process's exit code.

    Commands return their exit code; the engine raises ``WvzscanError`` for "cannot be done as
    asked" (exit 2). Anything else is a defect or the machine's limit (MemoryError, RecursionError):
    one line, never a traceback, and never exit 1, which means "findings": 2 before the scan ran,
    3 once it had (what it found is not known to be complete). The console script exits with this.
    """
    from wvzscan.commands import common

    common.SCAN_RAN.clear()
    try:
        rv = cli.main(args=list(argv) if argv is not None else None, prog_name="wvzscan", standalone_mode=False)
    except WvzscanError as e:
        common.say(f"error: {e}")
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("wvzscan: interrupted", err=True)
        return 130
    except BrokenPipeError:  # `wvzscan ... | head`: the reader left, nothing more to say
        return EXIT_USAGE if not common.SCAN_RAN.is_set() else EXIT_INCOMPLETE
    except Exception as e:  # noqa: BLE001 - the last line of defence: one clear line, the right code
        detail = str(e)[:300]
        code = EXIT_INCOMPLETE if common.SCAN_RAN.is_set() else EXIT_USAGE
        common.say(
            f"error: unexpected {type(e).__name__}{': ' + detail if detail else ''} "
            f"({'the scan is incomplete' if code == EXIT_INCOMPLETE else 'the scan did not run to its end'}; "
            "set WVZSCAN_DEBUG=1 for a traceback)"
        )
        if os.environ.get("WVZSCAN_DEBUG"):
            import traceback

            from wvzscan.output.redact import scrub

            click.echo(scrub(traceback.format_exc()), err=True)
        return code
    return rv if isinstance(rv, int) else 0
