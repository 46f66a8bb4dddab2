"""`wvzscan install-hooks`: put the plain git hooks (pre-commit, pre-push) into a repository.

The scripts ship inside the package (wvzscan/hooks/, identical to the repository's hooks/), so an
installed wvzscan can install them. The hooks folder is git's own answer (`git rev-parse --git-path
hooks`): it honours core.hooksPath and resolves worktrees to the common hooks folder.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources

import click

from wvzscan.errors import WvzscanError

HOOKS = ("pre-commit", "pre-push")
MARKER = b"# wvzscan-hook:"  # every version of our hooks carries it: such a hook is ours to update
PRE_COMMIT_FRAMEWORK = b"pre-commit.com"
FRAMEWORK_HOOK = "it is the pre-commit framework's hook"


def hook_script(name: str) -> bytes:
    return resources.files("wvzscan").joinpath("hooks").joinpath(name).read_bytes()


def hooks_dir(repo: str) -> str:
    """The folder git runs hooks from, for the repository at ``repo``."""

    try:
        p = subprocess.run(
            ["git", "rev-parse", "--git-path", "hooks"], cwd=repo, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise WvzscanError("git is not installed or not on PATH") from None
    except NotADirectoryError:
        raise WvzscanError(f"not a directory: {repo}") from None
    if p.returncode != 0:
        raise WvzscanError(f"not a git repository: {repo}")
    # Relative answers (core.hooksPath = .githooks) are relative to where git was run.
    return os.path.normpath(os.path.join(repo, p.stdout.strip()))


@dataclass
class Plan:
    name: str
    path: str
    action: str  # install, update, unchanged, conflict
    detail: str = ""


def plan(directory: str, names: tuple[str, ...]) -> list[Plan]:
    plans = []
    for name in names:
        path = os.path.join(directory, name)
        want = hook_script(name)
        if not os.path.lexists(path):
            plans.append(Plan(name, path, "install"))
            continue
        try:
            with open(path, "rb") as f:
                have = f.read()
        except OSError:
            have = b""  # a dangling symlink or an unreadable file: not ours
        if have == want and not os.path.islink(path):
            ok = os.access(path, os.X_OK)
            plans.append(Plan(name, path, "unchanged" if ok else "update", "" if ok else "made executable"))
        elif MARKER in have and not os.path.islink(path):
            plans.append(Plan(name, path, "update", "replaced an older wvzscan hook"))
        elif PRE_COMMIT_FRAMEWORK in have:
            plans.append(Plan(name, path, "conflict", FRAMEWORK_HOOK))
        elif os.path.islink(path):
            # Left alone: the link's target may be shared (a hooks folder several repositories use).
            whose = "a wvzscan hook" if MARKER in have else "a file that is not a wvzscan hook"
            plans.append(Plan(name, path, "conflict", f"it is a symbolic link to {whose} ({os.readlink(path)})"))
        else:
            plans.append(Plan(name, path, "conflict", "it is not wvzscan's"))
    return plans


def _backup_name(path: str) -> str:
    candidate = path + ".wvzscan-backup"
    n = 1
    while os.path.lexists(candidate):
        candidate = f"{path}.wvzscan-backup.{n}"
        n += 1
    return candidate


def _write_hook(path: str, data: bytes) -> None:
    """Atomic: a commit running meanwhile sees the old hook or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


@click.command("install-hooks")
@click.argument("repo", default=".", type=click.Path(file_okay=False))
@click.option(
    "--hook",
    "hooks",
    multiple=True,
    type=click.Choice(HOOKS),
    help="Install only this hook; repeatable (default: pre-commit and pre-push).",
)
@click.option("--force", is_flag=True, help="Replace existing hooks that are not wvzscan's (kept as *.wvzscan-backup).")
def install_hooks_cmd(repo: str, hooks: tuple[str, ...], force: bool) -> None:
    """Install wvzscan's git hooks into REPO's hooks folder (default: the repository here).

    pre-commit runs `wvzscan staged`, pre-push runs `wvzscan push`. core.hooksPath is honoured.
    Running it again is harmless; an existing hook that is not wvzscan's is left alone unless --force.
    """

    if not os.path.isdir(repo):
        raise WvzscanError(f"no such directory: {repo}")
    directory = hooks_dir(repo)
    plans = plan(directory, hooks or HOOKS)
    conflicts = [p for p in plans if p.action == "conflict"]
    if conflicts and not force:
        for p in conflicts:
            click.echo(f"wvzscan: {p.path} already exists and {p.detail}", err=True)
        hint = "pass --force to replace them (the old hooks are kept as *.wvzscan-backup)"
        if any(p.detail == FRAMEWORK_HOOK for p in conflicts):
            hint += ", or add wvzscan to .pre-commit-config.yaml instead (see the README)"
        raise WvzscanError(f"nothing installed: {hint}")
    try:
        os.makedirs(directory, exist_ok=True)
        for p in plans:
            if p.action == "unchanged":
                click.echo(f"{p.name}: already installed at {p.path}")
                continue
            if p.action == "conflict":
                backup = _backup_name(p.path)
                os.rename(p.path, backup)
                p.detail = f"the previous hook is now {backup}"
            _write_hook(p.path, hook_script(p.name))
            verb = "installed" if p.action in ("install", "conflict") else "updated"
            click.echo(f"{p.name}: {verb} at {p.path}" + (f" ({p.detail})" if p.detail else ""))
    except OSError as e:
        raise WvzscanError(f"cannot write hooks in {directory}: {e.strerror}") from None


def _backups(path: str) -> list[str]:
    """The backups `install-hooks --force` made of ``path``, oldest first."""
    found = []
    first = path + ".wvzscan-backup"
    if os.path.lexists(first):
        found.append(first)
    n = 1
    while os.path.lexists(f"{first}.{n}"):
        found.append(f"{first}.{n}")
        n += 1
    return found


def _is_ours(path: str) -> bool:
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as f:
            return MARKER in f.read()
    except OSError:
        return False


@click.command("uninstall-hooks")
@click.argument("repo", default=".", type=click.Path(file_okay=False))
@click.option(
    "--hook",
    "hooks",
    multiple=True,
    type=click.Choice(HOOKS),
    help="Remove only this hook; repeatable (default: pre-commit and pre-push).",
)
def uninstall_hooks_cmd(repo: str, hooks: tuple[str, ...]) -> int:
    """Remove the hooks `wvzscan install-hooks` put into REPO (default: the repository here).

    A hook that is not wvzscan's is left alone. A hook that `install-hooks --force` set aside
    (*.wvzscan-backup) is put back in its place.
    """

    if not os.path.isdir(repo):
        raise WvzscanError(f"no such directory: {repo}")
    directory = hooks_dir(repo)
    try:
        for name in hooks or HOOKS:
            path = os.path.join(directory, name)
            if not os.path.lexists(path):
                click.echo(f"{name}: not installed")
                continue
            if not _is_ours(path):
                click.echo(f"{name}: {path} is not wvzscan's hook: left alone")
                continue
            os.unlink(path)
            backups = _backups(path)
            if backups:
                os.rename(backups[-1], path)
                click.echo(f"{name}: removed; restored the previous hook from {backups[-1]}")
            else:
                click.echo(f"{name}: removed from {path}")
    except OSError as e:
        raise WvzscanError(f"cannot change hooks in {directory}: {e.strerror}") from None
    return 0
