"""The documentation does not rot: every `wvzscan ...` command shown parses with the real CLI, the pasted
outputs match a real run today, the cited version is the one released, and the site builds strictly."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from tests.helpers import ROOT, git, init_repo, make_key, run_cli
from wvzscan import __version__
from wvzscan.cli import cli
from wvzscan.commands.summary import blocked_commit_message

README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "(", ")"}
COMMAND_KEYS = re.compile(r"^\s*(?:-\s+)?(?:run|entry|script):\s*|^\s*-\s+")


def blocks(path: Path) -> Iterator[tuple[str, str, str]]:
    """(language, marker, body) of each fenced block; marker is a `<!-- docs-check: NAME -->` just above."""
    text = path.read_text()
    for m in re.finditer(r"(?:<!-- docs-check: (\S+) -->\n)?^( *)```(\w*)\n(.*?)^\2```", text, re.S | re.M):
        body = "\n".join(line[len(m.group(2)) :] for line in m.group(4).splitlines())
        yield m.group(3), m.group(1) or "", body


def wvzscan_commands(body: str) -> Iterator[list[str]]:
    """The argument lists of every `wvzscan` invocation in a block of shell (or YAML `run:` lines)."""
    for raw in body.splitlines():
        line = COMMAND_KEYS.sub("", raw.removeprefix("$ "))
        if "wvzscan" not in line:
            continue
        for inner in re.findall(r"\$\(([^)]*)\)", line):  # eval "$(wvzscan completion bash)"
            yield from wvzscan_commands(inner)
        lex = shlex.shlex(line, posix=True, punctuation_chars="|&;<>()")
        lex.whitespace_split = True
        lex.commenters = "#"
        try:
            tokens = list(lex)
        except ValueError:
            continue
        start = True
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok in SHELL_OPERATORS or set(tok) <= set("|&;<>()"):
                start = True
            elif start and (re.match(r"^[A-Z_][A-Z0-9_]*=", tok) or tok in ("exec", "eval")):
                pass
            elif start and tok == "wvzscan":
                args = []
                i += 1
                while i < len(tokens) and not (tokens[i] in SHELL_OPERATORS or set(tokens[i]) <= set("|&;<>()")):
                    args.append(tokens[i])
                    i += 1
                yield args
                start = True
                continue
            else:
                start = False
            i += 1


def parse(args: list[str]) -> None:
    """Parse ``args`` as the real CLI would, down to the leaf command (nothing runs)."""
    cmd: click.Command = cli
    ctx = cli.make_context("wvzscan", list(args), resilient_parsing=False)
    rest = [*ctx._protected_args, *ctx.args]
    while isinstance(cmd, click.Group) and rest:
        assert isinstance(ctx.command, click.Group)
        _, sub, rest = ctx.command.resolve_command(ctx, rest)
        assert sub is not None
        cmd = sub
        ctx = sub.make_context(sub.name or "", rest, parent=ctx)
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args] if isinstance(sub, click.Group) else []


def all_commands() -> list[tuple[str, list[str]]]:
    out = []
    for path in [README, *PAGES]:
        for lang, _, body in blocks(path):
            if lang in ("sh", "console", "bash", "yaml", ""):
                out += [(f"{path.name}: wvzscan {' '.join(a)}", a) for a in wvzscan_commands(body)]
        # Commands quoted in the prose too, unless they hold a placeholder (`wvzscan COMMAND --help`).
        prose = re.sub(r"^( *)```.*?^\1```", "", path.read_text(), flags=re.S | re.M)
        for span in re.findall(r"`(wvzscan [^`]+)`", prose):
            if re.search(r"\b[A-Z]{2,}\b|\.\.\.|…", span):
                continue
            out += [(f"{path.name}: `wvzscan {' '.join(a)}`", a) for a in wvzscan_commands(span)]
    return out


COMMANDS = all_commands()


def test_the_docs_show_commands() -> None:
    assert len(COMMANDS) > 40  # the extractor finds them (a regex that finds nothing would pass everything)


@pytest.mark.parametrize("where,args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_command_shown_parses(where: str, args: list[str]) -> None:
    if args and args[0] in ("scan",):
        return  # shown as what not to type
    try:
        parse(args)
    except click.exceptions.Exit:
        pass  # --version, --help
    except click.MissingParameter:
        if "`" not in where:  # prose may name a command (`wvzscan rules`); a code block must be complete
            raise
    except click.ClickException as e:
        pytest.fail(f"{where}: {e.format_message()}")


def test_readme_starts_with_the_two_setup_commands_and_they_are_true() -> None:
    lang, _, body = next(blocks(README))
    assert lang == "sh"
    install, tests = body.splitlines()
    assert install.startswith("pip install . && wvzscan repo .")
    assert tests.startswith("pip install -e '.[test]' && python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-e '.[test]'" in ci and "\npython -m pytest\n" in ci  # CI runs what the README says


def test_readme_is_the_quick_path() -> None:
    text = README.read_text()
    assert len(text.encode()) < 10_000
    for heading in (
        "## What a finding looks like",
        "## Install",
        "## Four ways to run it",
        "## I got a false positive: what now?",
        "## Dependencies",
        "## Using wvzscan from Python",
    ):
        assert heading in text
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / link).is_file(), link


def _normalise(text: str) -> str:
    text = re.sub(r"wvz_\w{4}…", "wvz_XXXX…", text)
    text = re.sub(r"wvz_\w{4}\*{4}", "wvz_XXXX****", text)  # the matched line, key masked
    text = re.sub(r"\b[0-9a-f]{64}\b", "H" * 64, text)
    return re.sub(r"\d+ B in \d+\.\d\d s", "N B in T s", text)


def _console(path: Path, marker: str) -> tuple[str, str]:
    for _lang, m, body in blocks(path):
        if m == marker:
            command, _, output = body.partition("\n")
            return command, output
    raise AssertionError(f"{path.name}: no block marked {marker}")


def test_readme_finding_is_what_a_run_prints_today(tmp_path: Path) -> None:
    command, shown = _console(README, "finding")
    assert command == "$ wvzscan dir ."
    (tmp_path / ".env").write_text(f"WEAVZ_API_KEY={make_key()}\n")
    r = run_cli(*shlex.split(command)[2:], cwd=tmp_path)
    assert r.code == 1
    assert _normalise(r.out.rstrip("\n")) == _normalise(shown)


def test_the_blocked_commit_shown_is_what_the_hook_prints(tmp_path: Path) -> None:
    readme = [body for lang, _, body in blocks(README) if "commit blocked" in body]
    assert readme == [blocked_commit_message(1)]
    repo = init_repo(tmp_path / "r")
    (repo / ".env").write_text(f"WEAVZ_API_KEY={make_key()}\n")
    git(repo, "add", ".")
    r = run_cli("staged", cwd=repo)
    assert r.code == 1
    hooks = [body for lang, _, body in blocks(ROOT / "docs" / "hooks.md") if "commit blocked" in body]
    assert [_normalise(b) for b in hooks] == [_normalise(r.out + r.err.rstrip("\n"))]


def test_the_exit_3_shown_is_what_a_run_prints(tmp_path: Path) -> None:
    for i in range(24):
        (tmp_path / f"bad{i:02d}.zip").write_bytes(b"PK\x03\x04" + bytes(range(40)) * 3)
    r = run_cli("dir", ".", "--format", "json", "-o", str(tmp_path / "report.json"), cwd=tmp_path)
    assert r.code == 3
    shown = [body for lang, _, body in blocks(ROOT / "docs" / "cli.md") if "scan incomplete" in body]
    assert shown == [r.err.rstrip("\n")]


def test_snippets_cite_the_released_version() -> None:
    tag = f"v{__version__}"
    cited = []
    for path in [README, *PAGES]:
        text = path.read_text()
        cited += re.findall(r"rev: (v\d\S*)", text) + re.findall(r"wvzscan@(v\d[\w.]*)", text)
    assert cited and set(cited) == {tag}
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text()
    assert "git tag -a vX.Y.Z" in (ROOT / "docs" / "releasing.md").read_text()
    assert "Apache License" in (ROOT / "LICENSE").read_text()


def test_every_page_is_in_the_site_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in PAGES:
        assert f": {page.name}\n" in nav, page.name


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed")
def test_site_builds_strictly(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr


def test_the_check_catches_a_rotten_command() -> None:
    assert list(wvzscan_commands('$ X=1 wvzscan dir . | jq . && eval "$(wvzscan completion zsh)"')) == [
        ["completion", "zsh"],
        ["dir", "."],
    ]
    parse(["keys", "audit", "--fail-on", "critical"])
    for rotten in (["dir", "--no-such-flag"], ["repo", "--format", "pdf"], ["no-such-command"], ["keys", "nope"]):
        with pytest.raises(click.ClickException):
            parse(rotten)
