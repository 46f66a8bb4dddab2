"""The GitHub Action's step, run locally the way a runner runs it.

The `run:` of action.yml's step goes to `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`)
with the step's `env:` after `${{ inputs.* }}` substitution, under a simulated GitHub environment: a
pull_request payload at GITHUB_EVENT_PATH, summary and output files, GITHUB_ACTION_PATH at a copy of this
checkout and a temporary repository as the workspace. The action installs wvzscan from that copy (pip,
dependencies from the package index) once per module; later runs reuse the virtualenv, as one job would.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, commit_file, git, init_repo, make_key
from tests.integration_helpers import SYSTEM_PATH, Proc, copy_checkout, git_env, parse_github_output, run

yaml = pytest.importorskip("yaml")


# The action's install step builds a virtual environment with pip: minutes, not seconds.
pytestmark = pytest.mark.venv


@pytest.fixture(scope="module")
def gh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("action")
    action_path = tmp / "wvzscan-action"
    copy_checkout(action_path)
    origin = init_repo(tmp / "origin")
    old = make_key()
    commit_file(origin, "a.py", f"KEY = '{old}'\n", "old key")
    base = commit_file(origin, "a.py", "KEY = None\n", "fix")
    git(origin, "checkout", "-q", "-b", "feature")
    new = make_key("mixed40")
    head = commit_file(origin, "src/app.py", f"client = Weavz('{new}')\n", "new key")
    workspace = tmp / "workspace"
    git(tmp, "clone", "-q", f"file://{origin}", str(workspace))
    git(workspace, "checkout", "-q", head)
    event = tmp / "event.json"
    event.write_text(
        json.dumps({"number": 9, "pull_request": {"number": 9, "base": {"sha": base}, "head": {"sha": head}}})
    )
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir()
    return {
        "tmp": tmp,
        "action_path": action_path,
        "workspace": workspace,
        "event": event,
        "runner_temp": runner_temp,
        "old": old,
        "new": new,
        "n": 0,
    }


def run_action(gh: dict[str, Any], inputs: dict[str, str] | None = None) -> tuple[Proc, str, dict[str, str]]:
    action = yaml.safe_load((gh["action_path"] / "action.yml").read_text())
    given = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    given["python"] = sys.executable  # any Python 3.10+; the runner's would be python3
    given.update(inputs or {})
    gh["n"] += 1
    summary, output = gh["tmp"] / f"summary-{gh['n']}.md", gh["tmp"] / f"output-{gh['n']}"
    env = git_env(
        SYSTEM_PATH,
        {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(gh["event"]),
            "GITHUB_WORKSPACE": str(gh["workspace"]),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_ACTION_PATH": str(gh["action_path"]),
            "RUNNER_TEMP": str(gh["runner_temp"]),
        },
    )
    (step,) = action["runs"]["steps"]
    for k, v in step["env"].items():
        env[k] = re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: given[m.group(1)], v)
    script = gh["tmp"] / f"step-{gh['n']}.sh"
    script.write_text(step["run"])
    p = run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], gh["workspace"], env, timeout=600)
    outputs = parse_github_output(output.read_text()) if output.exists() else {}
    return p, summary.read_text() if summary.exists() else "", outputs


def test_pull_request_with_a_key(gh: dict[str, Any]) -> None:
    p, summary, outputs = run_action(gh, {"sarif-file": "wvzscan.sarif"})
    assert p.code == 1, p.out + p.err
    # Annotations on stdout, the full key nowhere.
    assert re.search(r"^::error file=src/app\.py,line=1,col=\d+,title=", p.out, re.M), p.out
    for text in (p.out, p.err, summary):
        assert gh["new"] not in text and gh["old"] not in text
    # Only the pull request's commits: the old key on main is not reported.
    assert gh["new"][:8] in summary and gh["old"][:8] not in summary
    assert summary.startswith("## wvzscan: 1 Weavz API key found")
    assert outputs == {
        "findings": "1",
        "unique-keys": "1",
        "live": "0",
        "errors": "0",
        "exit-code": "1",
        "sarif-file": "wvzscan.sarif",
    }
    sarif = json.loads((gh["workspace"] / "wvzscan.sarif").read_text())
    (result,) = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/app.py"


def test_repo_mode_extra_args_and_fail_on_none(gh: dict[str, Any]) -> None:
    p, summary, outputs = run_action(
        gh,
        {"mode": "repo", "fail-on": "none", "args": "--exclude 'src/*' --no-inline-allow", "sarif-file": "all.sarif"},
    )
    assert p.code == 0, p.out + p.err
    assert outputs["exit-code"] == "0" and outputs["findings"] == "1"  # the old key; src/ excluded
    assert gh["old"][:8] in summary
    assert (gh["workspace"] / "all.sarif").is_file()


def test_bad_inputs_fail_clearly(gh: dict[str, Any]) -> None:
    p, _, _ = run_action(gh, {"mode": "everything"})
    assert p.code == 2 and "::error title=wvzscan::input 'mode' must be 'ci' or 'repo'" in p.out
    p, _, _ = run_action(gh, {"args": "--exclude 'unbalanced"})
    assert p.code == 2 and "could not be split" in p.out
    p, _, _ = run_action(gh, {"verify": "maybe"})
    assert p.code == 2 and "true/false" in p.out


def test_the_installed_package_carries_the_hooks(gh: dict[str, Any], tmp_path: Path) -> None:
    """The action's install is a real pip install: install-hooks works from it (package data)."""
    run_action(gh, {"fail-on": "none"})
    wvzscan = gh["runner_temp"] / "wvzscan-venv" / "bin" / "wvzscan"
    repo = init_repo(tmp_path / "r")
    p = run([str(wvzscan), "install-hooks"], repo, git_env(SYSTEM_PATH))
    assert p.code == 0, p.err
    assert (repo / ".git" / "hooks" / "pre-commit").read_bytes() == (ROOT / "hooks" / "pre-commit").read_bytes()


def test_docs_workflow_uses_this_action_as_tested() -> None:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```yaml\n(name: wvzscan\n.*?)```", text, re.S)
    assert block, "the workflow example is missing from README.md"
    workflow = yaml.safe_load(block.group(1))
    steps = workflow["jobs"]["wvzscan"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@") and steps[0]["with"]["fetch-depth"] == 0
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    ours = steps[1]
    assert set(ours["with"]) <= set(action["inputs"])
    assert ours["with"]["mode"] in ("ci", "repo")
    assert steps[2]["uses"].startswith("github/codeql-action/upload-sarif@")
    assert steps[2]["with"]["sarif_file"] == ours["with"]["sarif-file"]
    assert "WEAVZ_API_KEY" in ours["env"]


def test_sarif_file_in_a_folder_that_does_not_exist_yet(gh: dict[str, Any]) -> None:
    p, summary, outputs = run_action(gh, {"sarif-file": "reports/security/wvzscan.sarif"})
    assert p.code == 1, p.out + p.err
    assert outputs["exit-code"] == "1" and outputs["sarif-file"] == "reports/security/wvzscan.sarif"
    sarif = json.loads((gh["workspace"] / "reports" / "security" / "wvzscan.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == 1


def test_default_shallow_checkout_fails_closed_and_says_why(gh: dict[str, Any]) -> None:
    """actions/checkout fetches one commit unless told otherwise: neither mode may call that clean, and the
    reason reaches the job summary and an annotation, not only the log."""
    shallow = gh["tmp"] / "shallow-checkout"
    if not shallow.exists():
        git(gh["tmp"], "clone", "-q", "--depth", "1", "-b", "main", f"file://{gh['tmp'] / 'origin'}", str(shallow))
    # The shallow main holds no key: a scan of what is there would come out clean.
    here = {**gh, "workspace": shallow}
    for mode in ("repo", "ci"):
        p, summary, outputs = run_action(here, {"mode": mode, "sarif-file": f"{mode}.sarif"})
        assert p.code == 2, (mode, p.out + p.err)
        assert outputs["exit-code"] == "2" and outputs["findings"] == "0"
        assert summary.startswith("## wvzscan: could not run"), summary
        assert "fetch-depth: 0" in summary, summary
        assert re.search(r"^::error title=wvzscan::.*fetch-depth: 0", p.out, re.M), p.out
        assert not (shallow / f"{mode}.sarif").exists()  # upload-sarif's hashFiles() guard skips it
    gh["n"] = here["n"]


def test_a_hostile_pull_request_cannot_write_through_a_link_or_forge_commands(gh: dict[str, Any]) -> None:
    """A pull request commits `wvzscan.sarif -> a file outside` and a file whose name holds a workflow
    command and terminal escapes: the link is refused (nothing written through it), and no line of the job
    log is a command but the action's own annotations."""
    tmp = gh["tmp"] / "hostile"
    victim = gh["tmp"] / "victim.txt"
    victim.write_text("precious\n")
    origin = init_repo(tmp / "origin")
    base = commit_file(origin, "README", "hello\n", "base")
    key = make_key()
    evil = "x\n::error title=forged::pwned \x1b]0;t\x07 ##[warning]w.env"
    commit_file(origin, evil, f"K={key}\n", "evil name")
    commit_file(origin, "broken " + evil.replace(".env", ".zip"), b"PK\x03\x04 not a zip", "broken")
    (origin / "wvzscan.sarif").symlink_to(victim)
    git(origin, "add", "wvzscan.sarif")
    git(origin, "commit", "-qm", "plant a link")
    head = git(origin, "rev-parse", "HEAD").strip()
    workspace = tmp / "workspace"
    git(tmp, "clone", "-q", f"file://{origin}", str(workspace))
    event = tmp / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 1, "base": {"sha": base}, "head": {"sha": head}}}))
    here = {**gh, "workspace": workspace, "event": event}
    p, summary, outputs = run_action(here, {"sarif-file": "wvzscan.sarif"})
    gh["n"] = here["n"]
    assert p.code == 2, p.out + p.err
    assert victim.read_text() == "precious\n"
    assert "symbolic link" in summary
    for text in (p.out, p.err, summary):
        assert key not in text and "\x1b" not in text and "##[" not in text
    _only_own_commands(p.out + "\n" + p.err)
    # Without the link, the same pull request is reported (the link is the only reason for exit 2).
    p, summary, _ = run_action(here, {"sarif-file": "elsewhere.sarif"})
    gh["n"] = here["n"]
    assert p.code == 1, p.out + p.err
    assert "pwned" in p.out  # named, escaped (errors about archives in blobs lose their path: issue 10)
    _only_own_commands(p.out + "\n" + p.err)


def _only_own_commands(log: str) -> None:
    for line in log.splitlines():
        if not line.lstrip().startswith("::"):
            continue
        m = re.match(r"::(error|warning|group|endgroup)( [^:]*)?::", line)
        assert m, line
        props = (m.group(2) or "").strip().split(",") if m.group(2) else []
        assert {p.split("=", 1)[0] for p in props} <= {"file", "line", "col", "title"}, line
        assert not any(p.startswith("title=forged") for p in props), line
