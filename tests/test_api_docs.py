"""The Python API's documented examples run as written (README and docs/api.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, cli_env, make_key

_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    out = []
    api_page = ROOT / "docs" / "api.md"
    out += [(f"docs/api.md#{i}", b) for i, b in enumerate(_BLOCK.findall(api_page.read_text(encoding="utf-8")))]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Using wvzscan from Python\n(.*?)(?=^## )", readme, re.S | re.M)
    if section:
        out += [(f"README.md#{i}", b) for i, b in enumerate(_BLOCK.findall(section.group(1)))]
    return out


def test_the_api_is_documented_with_examples() -> None:
    assert any(name.startswith("docs/api.md") for name, _ in _examples())


@pytest.mark.parametrize(("name", "code"), _examples(), ids=[n for n, _ in _examples()])
def test_documented_example_runs(name: str, code: str, tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "settings.env").write_text(f"WEAVZ_API_KEY={key}\n")
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=cli_env(), timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert key[:8] in p.stdout and key not in p.stdout + p.stderr
