"""``wvzscan org``: every repository of a GitHub organization or user, a GitLab group, or a list.

The click layer: options in, one fleet scan, suppressions, one verification (and revocation) for the
whole fleet, reports, an exit code returned. The work is in ``wvzscan.org``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from wvzscan.commands.common import CliOptions, finish, say, scan_options
from wvzscan.errors import WvzscanError

if TYPE_CHECKING:
    from wvzscan.org.credentials import Credential
    from wvzscan.org.targets import Target

_ENV_TOKENS = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}


def _say(msg: str) -> None:
    say(msg)  # scrubbed and escaped: tokens are registered secrets


def _token(kind: str) -> str | None:
    from wvzscan.output.redact import register

    value = os.environ.get(_ENV_TOKENS[kind], "").strip()
    if value:
        register(value)  # never printed, whatever carries it (an API error that echoes it)
    return value or None


@click.command("org")
@click.option("--github", "github_name", metavar="NAME", help="A GitHub organization or user (token: GITHUB_TOKEN).")
@click.option(
    "--github-api-url",
    default="https://api.github.com",
    show_default=True,
    help="GitHub Enterprise Server: https://HOST/api/v3.",
)
@click.option(
    "--gitlab", "gitlab_group", metavar="GROUP", help="A GitLab group and its subgroups (token: GITLAB_TOKEN)."
)
@click.option("--gitlab-url", default="https://gitlab.com", show_default=True, help="A self-managed GitLab's URL.")
@click.option(
    "--repos",
    "repos_file",
    metavar="FILE",
    help="Clone URLs or local paths, one a line, # comments; - reads standard input.",
)
@click.option("--include-forks", is_flag=True, help="Also scan forks.")
@click.option("--include-archived", is_flag=True, help="Also scan archived repositories.")
@click.option(
    "--shard",
    metavar="K/N",
    help="Only the K-th of N stable parts (by a hash of each name); auto/N takes K from JOB_COMPLETION_INDEX.",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False),
    help="SQLite file of earlier runs: scan only new objects, report earlier findings again (no secrets).",
)
@click.option(
    "--mirror-dir",
    type=click.Path(file_okay=False),
    help="Keep bare mirrors here between runs (fetch instead of clone).",
)
@click.option("--include-unreachable", is_flag=True, help="Also report keys in objects no ref reaches (dangling).")
@click.option(
    "--no-connectivity-check",
    is_flag=True,
    help="Do not walk every tree looking for objects missing from the store (faster).",
)
@click.option(
    "--always-fetch",
    is_flag=True,
    help="Fetch every mirror, even when the forge reports no push since the last run.",
)
@click.option("--list", "list_only", is_flag=True, help="Print the repositories that would be scanned, then stop.")
@scan_options
def org_cmd(
    github_name: str | None,
    github_api_url: str,
    gitlab_group: str | None,
    gitlab_url: str,
    repos_file: str | None,
    include_forks: bool,
    include_archived: bool,
    shard: str | None,
    state_file: str | None,
    mirror_dir: str | None,
    include_unreachable: bool,
    no_connectivity_check: bool,
    always_fetch: bool,
    list_only: bool,
    opts: CliOptions,
) -> int:
    """Scan every repository of an organization: one report, each key verified once for the fleet.

    Every finding names its repository. With --state, later runs scan only what changed; with
    --shard K/N, N machines split the list and `wvzscan merge` joins their JSON reports.
    """
    from wvzscan.org import shard as shard_mod
    from wvzscan.org import targets as targets_mod

    chosen = [n for n, v in (("--github", github_name), ("--gitlab", gitlab_group), ("--repos", repos_file)) if v]
    if len(chosen) != 1:
        raise WvzscanError("name exactly one of --github NAME, --gitlab GROUP or --repos FILE")
    part = shard_mod.parse(shard) if shard else None
    interactive = not opts.quiet and sys.stderr.isatty()
    waiter = targets_mod.Waiter(say=_say if not opts.quiet else None)
    if github_name:
        token = _token("github")
        listing = targets_mod.github(
            github_name,
            github_api_url,
            token,
            include_forks=include_forks,
            include_archived=include_archived,
            get=targets_mod.httpx_get(),
            waiter=waiter,
        )
    elif gitlab_group:
        token = _token("gitlab")
        listing = targets_mod.gitlab(
            gitlab_group,
            gitlab_url,
            token,
            include_forks=include_forks,
            include_archived=include_archived,
            get=targets_mod.httpx_get(),
            waiter=waiter,
        )
    else:
        assert repos_file is not None
        listing = targets_mod.from_lines(_read_lines(repos_file), repos_file, credentials=_list_credentials())
    names = [t.name for t in listing.targets]
    targets = shard_mod.select(listing.targets, names, part)
    if part is not None and not opts.quiet:
        _say(f"shard {part}: {len(targets)} of {len(names)} repositories")
    if list_only:
        from wvzscan.output.terminal import escape_line as printable

        for t in targets:
            click.echo(printable(t.name))
        return 0
    return _scan(
        targets,
        listing.notes,
        opts,
        state_file,
        mirror_dir,
        include_unreachable,
        no_connectivity_check,
        interactive,
        always_fetch,
    )


def _list_credentials() -> tuple[Credential, ...]:
    """Tokens for URLs in a --repos list: GITHUB_TOKEN for github.com, GITLAB_TOKEN for gitlab.com."""
    from wvzscan.org.credentials import Credential

    creds: list[Credential] = []
    gh, gl = _token("github"), _token("gitlab")
    if gh:
        creds.append(Credential("https://github.com", "x-access-token", gh))
    if gl:
        creds.append(Credential("https://gitlab.com", "oauth2", gl))
    return tuple(creds)


def _read_lines(path: str) -> list[str]:
    if path == "-":
        return sys.stdin.read().splitlines()
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except OSError as e:
        raise WvzscanError(f"--repos {path}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise WvzscanError(f"--repos {path}: not UTF-8 text") from None


def _scan(
    targets: list[Target],
    notes: list[str],
    opts: CliOptions,
    state_file: str | None,
    mirror_dir: str | None,
    include_unreachable: bool,
    no_connectivity_check: bool,
    interactive: bool,
    always_fetch: bool = False,
) -> int:
    from wvzscan.org.engine import EngineOptions
    from wvzscan.org.fleet import Tick, scan_fleet
    from wvzscan.org.merge import canonical
    from wvzscan.org.state import State
    from wvzscan.pipeline import plan

    # One plan for the whole fleet: the config here (or --config), never one inside a scanned repository.
    p = plan(opts.scan, ".")
    cfg, rules = p.config, p.rules
    engine = EngineOptions(
        rules=rules,
        inline_allow=p.inline_allow,
        exclude=tuple(cfg.exclude),
        max_size=p.max_file_size,
        include_unreachable=include_unreachable,
        connectivity_check=not no_connectivity_check,
    )
    if mirror_dir is not None:
        try:
            os.makedirs(mirror_dir, mode=0o700, exist_ok=True)
        except OSError as e:
            raise WvzscanError(f"--mirror-dir {mirror_dir}: {e.strerror}") from None
    state = State(state_file) if state_file else None

    def tick(t: Tick) -> None:
        if not interactive:
            return
        from wvzscan.output.terminal import escape_line as printable

        line = f"\r[{t.done}/{t.total}] {printable(t.name)[:60]}  {t.findings} finding{'s' if t.findings != 1 else ''}"
        sys.stderr.write(line + "\033[K")
        sys.stderr.flush()

    try:
        fleet = scan_fleet(targets, engine, state=state, mirror_dir=mirror_dir, on_tick=tick, always_fetch=always_fetch)
    finally:
        if interactive:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
        if state is not None:
            state.close()
    result = fleet.result
    result.notes[:0] = notes
    result.settings = p.new_result().settings
    p.suppress(result)
    canonical(result)  # the order `wvzscan merge` gives shards too
    if not opts.quiet:
        done = len(fleet.outcomes) - fleet.count("failed")
        summary = f"{done} of {len(fleet.outcomes)} repositories scanned"
        if state is not None:
            summary += (
                f" ({fleet.count('full')} in full, {fleet.count('incremental')} incrementally, "
                f"{fleet.count('unchanged')} unchanged)"
            )
        _say(summary)
    # Verified (and revoked) once for the fleet: one request set per unique key, whatever holds it.
    return finish(result, opts, "org")
