"""The shipped examples parse, and every option their wvzscan command lines use exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli

yaml = pytest.importorskip("yaml")


def _flags(text: str, command: str) -> set[str]:
    flags: set[str] = set()
    text = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    for m in re.finditer(rf"wvzscan {command}\b(.*?)(?:\n\s*\n|\n\s*- |\Z|code=)", text, re.S):
        flags |= set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", m.group(1)))
    return flags


def test_examples_parse_and_use_real_options() -> None:
    gha = (ROOT / "examples" / "github-actions-org-scan.yml").read_text()
    k8s = (ROOT / "examples" / "k8s-indexed-job.yaml").read_text()
    wf = yaml.safe_load(gha)
    assert wf["jobs"]["scan"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert "upload-sarif" in gha and wf["jobs"]["merge"]["needs"] == "scan"
    docs = list(yaml.safe_load_all(k8s))
    job = next(d for d in docs if d["kind"] == "Job")
    assert job["spec"]["completionMode"] == "Indexed" and "auto/4" in k8s
    org_help = run_cli("org", "--help").out
    merge_help = run_cli("merge", "--help").out
    for text in (gha, k8s):
        for flag in _flags(text, "org"):
            assert flag in org_help, flag
        for flag in _flags(text, "merge"):
            assert flag in merge_help, flag
    assert _flags(gha, "org") >= {"--shard", "--state", "--mirror-dir", "--github"}


def test_docs_page_names_the_examples() -> None:
    page = (Path(ROOT) / "docs" / "organizations.md").read_text()
    assert "examples/github-actions-org-scan.yml" in page and "examples/k8s-indexed-job.yaml" in page
