"""The GitHub Action's job summary and outputs, and the structure of action.yml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, make_key, run_cli
from tests.integration_helpers import parse_github_output


def outputs(path: Path) -> dict[str, str]:
    return parse_github_output(path.read_text())


def scan_report(tmp_path: Path, files: dict[str, str], *args: str) -> tuple[Path, int]:
    tree = tmp_path / "tree"
    for rel, text in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    report = tmp_path / "report.json"
    r = run_cli("dir", ".", "--format", "github", "--report", f"json:{report}", *args, cwd=tree)
    return report, r.code


def test_summary_and_outputs_for_findings(tmp_path: Path) -> None:
    k1, k2 = make_key(), make_key("uuid")
    report, code = scan_report(
        tmp_path,
        {
            "a|b.env": f"K={k1}\n",
            "src/app.py": f"x = '{k2}'\ny = '{k1}'\n",
            "ok.py": f"z = '{make_key()}'  # wvzscan:allow\n",
        },
        "--show-secrets",  # even then, the summary holds redacted keys only
    )
    assert code == 1
    summary, out = tmp_path / "summary.md", tmp_path / "output"
    summary.write_text("earlier step\n")
    r = run_cli(
        "github-summary",
        "--report",
        str(report),
        "--exit-code",
        str(code),
        "--sarif-file",
        "wvzscan.sarif",
        env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(out)},
    )
    assert r.code == 0, r.err
    md = summary.read_text()
    assert md.startswith("earlier step\n## wvzscan: 2 Weavz API keys found\n")  # appended, not replaced
    assert k1[:8] in md and k1 not in md and k2 not in md
    assert "a\\|b.env:1" in md  # a pipe in a path cannot break the table
    assert "`src/app.py:2`" in md
    assert "suppressed: 1 by inline allow" in md
    assert "exit code 1 (findings under the --fail-on policy)" in md
    assert outputs(out) == {
        "findings": "3",
        "unique-keys": "2",
        "live": "0",
        "errors": "0",
        "exit-code": "1",
        "sarif-file": "wvzscan.sarif",
    }


def test_summary_clean_and_missing_report(tmp_path: Path) -> None:
    report, code = scan_report(tmp_path, {"a.txt": "nothing\n"})
    assert code == 0
    summary, out = tmp_path / "summary.md", tmp_path / "output"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(out)}
    assert run_cli("github-summary", "--report", str(report), "--exit-code", "0", env=env).code == 0
    assert "## wvzscan: no Weavz API key found" in summary.read_text()
    assert outputs(out)["findings"] == "0"

    summary.unlink()
    out.unlink()
    r = run_cli("github-summary", "--report", str(tmp_path / "none.json"), "--exit-code", "2", env=env)
    assert r.code == 0
    assert "could not run" in summary.read_text() and "the scan could not be done as asked" in summary.read_text()
    assert outputs(out)["exit-code"] == "2" and outputs(out)["findings"] == "0"

    (tmp_path / "bad.json").write_text("{")
    r = run_cli("github-summary", "--report", str(tmp_path / "bad.json"), "--exit-code", "1", env=env)
    assert r.code == 2 and "cannot read the report" in r.err


def test_summary_of_an_incomplete_scan(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_text(
        json.dumps(
            {
                "tool": "wvzscan",
                "findings": [],
                "errors": [{"where": "git object 1234", "message": "missing"}],
                "notes": ["push to refs/heads/main: the pushed commits"],
                "stats": {"objects_scanned": 4},
            }
        )
    )
    summary = tmp_path / "s.md"
    r = run_cli(
        "github-summary",
        "--report",
        str(report),
        "--exit-code",
        "3",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert r.code == 0
    md = summary.read_text()
    assert "no key found, but the scan was incomplete" in md
    assert "- push to refs/heads/main: the pushed commits" in md
    assert "`git object 1234`: missing" in md


def test_an_output_value_cannot_set_another_output(tmp_path: Path) -> None:
    """The SARIF path comes from an input; a line break in it must not end the line and add outputs."""
    report, code = scan_report(tmp_path, {"a.txt": f"{make_key()}\n"})
    assert code == 1
    out = tmp_path / "output"
    r = run_cli(
        "github-summary",
        "--report",
        str(report),
        "--exit-code",
        "1",
        "--sarif-file",
        "w.sarif\nfindings=0\nexit-code=0",
        env={"GITHUB_OUTPUT": str(out)},
    )
    assert r.code == 0, r.err
    got = outputs(out)
    assert got["findings"] == "1" and got["exit-code"] == "1"
    assert got["sarif-file"] == "w.sarif\nfindings=0\nexit-code=0"


def test_summary_stays_under_githubs_size_limit(tmp_path: Path) -> None:
    """GitHub drops a step summary over 1 MiB: thousands of findings, notes and errors with long paths
    and messages still give a summary well under it, which says where the rest is."""
    long = "d" * 4000
    report = tmp_path / "r.json"
    findings = [
        {
            "fingerprint": f"{i:064x}",
            "redacted": "wvz_abcd…",
            "path": f"{long}/f{i}.txt",
            "line": 1,
            "status": "unverified",
            "commit": "a" * 40,
            "author": "x" * 3000,
        }
        for i in range(5000)
    ]
    notes = [f"{long}/archive{i}.zip: an encrypted member was skipped" for i in range(5000)]
    errors = [{"where": f"{long}/{i}", "message": "m" * 5000} for i in range(5000)]
    report.write_text(json.dumps({"findings": findings, "notes": notes, "errors": errors, "stats": {}}))
    summary = tmp_path / "s.md"
    r = run_cli(
        "github-summary", "--report", str(report), "--exit-code", "1", env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert r.code == 0, r.err
    md = summary.read_text()
    assert len(md.encode()) < 1024 * 1024 // 2 + 1024
    assert "## wvzscan: 5000 Weavz API keys found" in md
    assert "4950 more in the SARIF and JSON reports" in md
    assert "and 4950 more notes" in md and "and 4950 more (see the JSON or SARIF report)" in md


def test_an_error_that_stopped_the_scan_reaches_the_summary_and_an_annotation(tmp_path: Path) -> None:
    stderr = tmp_path / "stderr"
    stderr.write_text(
        "wvzscan ci: GitHub Actions: pull_request #3: the pull request's commits\n"
        "wvzscan: error: this checkout is shallow and lacks the base commit 0123abcd: set `fetch-depth: 0` (100%)\n"
    )
    summary = tmp_path / "s.md"
    r = run_cli(
        "github-summary",
        "--report",
        str(tmp_path / "none.json"),
        "--exit-code",
        "2",
        "--stderr",
        str(stderr),
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert r.code == 0, r.err
    md = summary.read_text()
    assert "## wvzscan: could not run" in md
    assert "> this checkout is shallow and lacks the base commit 0123abcd: set 'fetch-depth: 0' (100%)" in md
    assert "pull request's commits" not in md  # only the errors
    # Workflow command data escapes % (and line breaks), as GitHub's toolkit does.
    assert r.out.splitlines()[0] == (
        "::error title=wvzscan::this checkout is shallow and lacks the base commit 0123abcd: "
        "set `fetch-depth: 0` (100%25)"
    )


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((ROOT / "action.yml").read_text())  # type: ignore[no-any-return]


def test_action_yml_structure(action: dict[str, Any]) -> None:
    assert action["name"] and action["description"]
    assert set(action["inputs"]) >= {"mode", "verify", "revoke", "fail-on", "sarif-file", "api-url", "args"}
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
        assert isinstance(spec.get("default", ""), str), name  # action inputs are strings
    assert action["inputs"]["mode"]["default"] == "ci"
    assert set(action["outputs"]) >= {"findings", "live", "exit-code"}
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.scan.outputs.{name} }}}}", name
    runs = action["runs"]
    assert runs["using"] == "composite"
    ids = [s.get("id") for s in runs["steps"]]
    assert "scan" in ids
    for step in runs["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            # Inputs go through env, never into the script text (script injection).
            assert "${{" not in step["run"], step["run"]
            script = step["run"].strip().strip("'\"").replace("$GITHUB_ACTION_PATH/", "")
            assert (ROOT / script.strip('"')).is_file()
    env = runs["steps"][ids.index("scan")]["env"]
    for name in action["inputs"]:
        assert env[f"INPUT_{name.upper().replace('-', '_')}"] == f"${{{{ inputs.{name} }}}}"


def test_hostile_names_cannot_steer_the_summary_or_the_log(tmp_path: Path) -> None:
    """Paths, notes and errors from a hostile repository: no HTML comment, terminal escape, full key or
    workflow command reaches the step summary or the annotations printed for the job log."""
    key = make_key()
    evil = "a\x1b]0;t\x07<!-- hide\n::error::forged ##[warning]x " + key
    report = tmp_path / "r.json"
    findings = [{"fingerprint": "f", "redacted": key[:8] + "…", "path": evil, "line": 1, "status": "unverified"}]
    report.write_text(json.dumps({"findings": findings, "notes": [evil], "errors": [{"where": evil, "message": evil}]}))
    stderr = tmp_path / "stderr"
    stderr.write_text(f"wvzscan: error: {evil}\n")
    summary = tmp_path / "summary.md"
    summary.write_text("")
    r = run_cli(
        "github-summary", "--report", str(report), "--exit-code", "2", "--stderr", str(stderr),
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert r.code == 0, r.err
    md = summary.read_text()
    for text in (md, r.out):
        assert "\x1b" not in text and "\x07" not in text and key not in text and "##[" not in text
    import re

    assert "<!--" not in re.sub(r"`[^`]*`", "", md)  # outside code spans `<` is &lt;
    assert all(
        not line.lstrip().startswith("::") or line.startswith("::error title=wvzscan::") for line in r.out.splitlines()
    )


def test_summary_refuses_a_symlinked_summary_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "summary.md").symlink_to(victim)
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"findings": [], "errors": [], "notes": [], "stats": {}}))
    r = run_cli(
        "github-summary",
        "--report",
        str(report),
        "--exit-code",
        "0",
        env={"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")},
    )
    assert r.code == 2 and "symbolic link" in r.err and victim.read_text() == "precious"
