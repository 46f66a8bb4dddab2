"""A CLI people can find their way in: help grouped by purpose, `scan` pointing at `dir`/`repo`,
and shell completion (`wvzscan completion bash|zsh|fish`)."""

from __future__ import annotations

from typing import Any

import click

from wvzscan.errors import WvzscanError

# Titles and the commands under each, in the order a new user meets them. A command not listed here
# (a new one) is shown under "Other commands", so none is ever hidden by accident.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Find keys", ("dir", "repo", "staged", "push", "ci", "baseline")),
    ("Respond to a leak (Weavz API)", ("verify", "revoke", "rotate")),
    ("Your organization's keys (Weavz API)", ("keys",)),
    ("Set up", ("install-hooks", "uninstall-hooks", "rules", "completion")),
)
SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_WVZSCAN_COMPLETE"
SUMMARY_LIMIT = 300  # click cuts summaries at 45 characters; ours are one sentence and stay whole


def format_commands(group: click.Group, ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """The group's commands under a heading per purpose, each with its whole one-line summary."""
    commands: dict[str, click.Command] = {}
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is not None and not cmd.hidden:
            commands[name] = cmd
    placed: set[str] = set()
    sections: list[tuple[str, list[str]]] = []
    for title, group_names in GROUPS:
        present = [n for n in group_names if n in commands]
        placed.update(present)
        sections.append((title, present))
    sections.append(("Other commands", [n for n in commands if n not in placed]))
    for title, names in sections:
        if not names:
            continue
        with formatter.section(title):
            formatter.write_dl([(n, commands[n].get_short_help_str(limit=SUMMARY_LIMIT)) for n in names])


@click.command(
    "scan",
    hidden=True,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def scan_cmd(args: tuple[str, ...]) -> None:
    """There is no `scan`: the verb other scanners use points at `dir` and `repo`."""
    where = " ".join(a for a in args if not a.startswith("-")) or "."
    raise WvzscanError(
        "wvzscan has no `scan` command. Files and folders: "
        f"`wvzscan dir {where}`; a git repository's whole history: `wvzscan repo {where}`; "
        "what a commit would add: `wvzscan staged`; all commands: `wvzscan --help`"
    )


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_cmd(shell: str) -> int:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(wvzscan completion bash)"        (in ~/.bashrc)
    zsh:   eval "$(wvzscan completion zsh)"         (in ~/.zshrc)
    fish:  wvzscan completion fish > ~/.config/fish/completions/wvzscan.fish
    """
    from click.shell_completion import get_completion_class

    root = click.get_current_context().find_root().command
    cls: Any = get_completion_class(shell)
    assert cls is not None  # every name in SHELLS is one click knows
    click.echo(cls(root, {}, "wvzscan", COMPLETE_VAR).source())
    return 0
