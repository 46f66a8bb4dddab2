"""The GitHub Action's job summary and outputs, and the structure of action.yml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, make_key, run_cli


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


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
