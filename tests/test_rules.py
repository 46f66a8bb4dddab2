"""`wvzscan rules`: the exported gitleaks and Kingfisher rules find what wvzscan finds.

The rule files are read back the way the other tools read them (TOML, YAML), and their regexes run
through Python's `re`, which accepts the RE2 subset they are written in, with gitleaks' own order:
regex, secret group, entropy, allowlist.
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PREFIX, make_key, run_cli
from wvzscan.finding import redact

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as wvzscan itself uses it there
    import tomli as tomllib

KINDS = ("lower32", "mixed40", "uuid", "hex64", "lower16")
N_SAMPLE = 14  # keys that sample_text places


def entropy(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def sample_text(keys: list[str]) -> str:
    """Keys in the places they are found in real files, and masked forms that are not keys."""
    k = iter(keys)
    return "\n".join(
        [
            next(k) + " at the very start",
            f"WEAVZ_API_KEY={next(k)}",
            f'{{"apiKey": "{next(k)}", "other": 1}}',
            f"export TOKEN='{next(k)}'",
            f"Authorization: Bearer {next(k)}",
            f"two adjacent: {next(k)},{next(k)};{next(k)}",
            f"url https://x.example/?key={next(k)}&a=b",
            f"  - {next(k)}",
            f"(key={next(k)})",
            # An escape right before the key ends the previous token.
            f'{{"log": "line one\\n{next(k)} line two"}}',
            f"GET /cb?token%3D{next(k)}&x=1",
            # Not keys: glued to other key characters, too short, masked.
            f"x{PREFIX}{'q7' * 12}",
            f"{PREFIX}short1",
            redact(keys[0]),
            PREFIX + "ab12" + "*" * 24,
            PREFIX + "…",
            f"{next(k)}",
        ]
    )


def wvzscan_keys(tmp_path: Path, text: str) -> list[str]:
    f = tmp_path / "sample.txt"
    f.write_text(text)
    r = run_cli("dir", str(f), "--format", "json", "--show-secrets")
    assert r.code in (0, 1), r.err
    return sorted(x["secret"] for x in r.json()["findings"])


@pytest.fixture(scope="module")
def gitleaks_rule() -> dict[str, Any]:
    r = run_cli("rules", "--format", "gitleaks")
    assert r.code == 0, r.err
    cfg = tomllib.loads(r.out)
    (rule,) = cfg["rules"]
    return rule  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def kingfisher_rule() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    r = run_cli("rules", "--format", "kingfisher", "--api-url", "https://weavz.test")
    assert r.code == 0, r.err
    doc = yaml.safe_load(r.out)
    (rule,) = doc["rules"]
    return rule  # type: ignore[no-any-return]


def gitleaks_find(rule: dict[str, Any], text: str) -> list[str]:
    """gitleaks' detection order for one rule: regex, secretGroup, entropy (strictly above), allowlist."""
    out = []
    allow = rule["allowlist"]
    assert allow["regexTarget"] == "secret"
    for m in re.finditer(rule["regex"], text):
        secret = m.group(rule["secretGroup"])
        if entropy(secret) <= rule["entropy"]:
            continue
        if any(re.search(p, secret) for p in allow["regexes"]):
            continue
        out.append(secret)
    return sorted(out)


def kingfisher_find(rule: dict[str, Any], text: str) -> list[str]:
    out = []
    words = rule["pattern_requirements"]["ignore_if_contains"]
    for m in re.finditer(rule["pattern"], text):
        token = m.group(1)
        if entropy(token) < rule["min_entropy"] or any(w in token.lower() for w in words):
            continue
        out.append(token)
    return sorted(out)


def assert_re2_subset(pattern: str) -> None:
    """No lookaround, no backreferences: RE2 (gitleaks) and Hyperscan reject them."""
    assert not re.search(r"\(\?<?[=!]|\(\?<[A-Za-z]|\\[1-9]", pattern), pattern


def test_gitleaks_rule_is_well_formed(gitleaks_rule: dict[str, Any]) -> None:
    assert gitleaks_rule["id"] == "weavz-api-key"
    assert gitleaks_rule["keywords"] == [PREFIX]
    assert gitleaks_rule["secretGroup"] == 1
    assert 0 < gitleaks_rule["entropy"] < 3.5
    assert_re2_subset(gitleaks_rule["regex"])
    for p in gitleaks_rule["allowlist"]["regexes"]:
        assert_re2_subset(p)
        re.compile(p)


@pytest.mark.parametrize("kind", KINDS)
def test_gitleaks_finds_what_wvzscan_finds(tmp_path: Path, gitleaks_rule: dict[str, Any], kind: str) -> None:
    keys = [make_key(kind) for _ in range(N_SAMPLE)]
    text = sample_text(keys)
    found = wvzscan_keys(tmp_path, text)
    assert found == sorted(keys)
    assert gitleaks_find(gitleaks_rule, text) == found


def test_gitleaks_keeps_random_keys_and_drops_placeholders(gitleaks_rule: dict[str, Any], tmp_path: Path) -> None:
    keys = [make_key(kind) for kind in KINDS for _ in range(400)]
    text = "\n".join(keys)
    assert gitleaks_find(gitleaks_rule, text) == sorted(keys)

    placeholders = [
        PREFIX + "your_api_key_here",
        PREFIX + "YOUR-API-KEY-GOES-HERE",
        PREFIX + "test_key_1234567890",
        PREFIX + "replace-with-real-token",
        PREFIX + "x" * 32,
        PREFIX + "0" * 40,
        PREFIX + "ab12cd34ef56gh78ij90kl12mn34op56",  # Weavz's documentation example
        PREFIX + "550e8400-e29b-41d4-a716-446655440000",
    ]
    text = "\n".join(placeholders)
    assert wvzscan_keys(tmp_path, text) == []  # wvzscan agrees these are not keys
    assert gitleaks_find(gitleaks_rule, text) == []


def test_kingfisher_rule(kingfisher_rule: dict[str, Any], tmp_path: Path) -> None:
    rule = kingfisher_rule
    assert rule["id"].startswith("custom.") and rule["confidence"] in ("low", "medium", "high")
    assert_re2_subset(rule["pattern"])
    # Kingfisher checks that every example matches.
    for ex in rule["examples"]:
        assert re.search(rule["pattern"], ex).group(1) == ex  # type: ignore[union-attr]
    req = rule["validation"]["content"]["request"]
    assert rule["validation"]["type"] == "Http"
    assert req["method"] == "GET" and req["url"] == "https://weavz.test/api/v1/workspaces"
    assert req["headers"]["Authorization"] == "Bearer {{ TOKEN }}"
    statuses = [m["status"] for m in req["response_matcher"] if m.get("type") == "StatusMatch"]
    assert statuses == [[200, 403]]

    keys = [make_key(kind) for kind in KINDS for _ in range(3)][:N_SAMPLE]
    text = sample_text(keys)
    assert kingfisher_find(rule, text) == wvzscan_keys(tmp_path, text) == sorted(keys)
    many = [make_key(kind) for kind in KINDS for _ in range(400)]
    # ignore_if_contains drops the rare random key that holds one of its words anywhere (ignoring
    # case): about one in a million, documented in docs/cli.md. Every other key is found.
    words = rule["pattern_requirements"]["ignore_if_contains"]
    wordless = [k for k in many if not any(w in k.lower() for w in words)]
    assert len(many) - len(wordless) <= 2
    assert kingfisher_find(rule, "\n".join(many)) == sorted(wordless)


def test_rules_output_file_and_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "weavz.toml"
    r = run_cli("rules", "--format", "gitleaks", "-o", str(out))
    assert r.code == 0 and r.out == ""
    assert tomllib.loads(out.read_text())["rules"][0]["id"] == "weavz-api-key"
    r = run_cli("rules", "--format", "kingfisher", "--api-url", "ftp://x")
    assert r.code == 2 and "error: API URL" in r.err and "Traceback" not in r.err
    # Kingfisher would send every key it finds to that URL: clear-text http only to loopback.
    r = run_cli("rules", "--format", "kingfisher", "--api-url", "http://weavz.example")
    assert r.code == 2 and "https" in r.err and "weavz.example/api" not in r.out
    assert run_cli("rules", "--format", "kingfisher", "--api-url", "http://127.0.0.1:8080").code == 0
    r = run_cli("rules")
    assert r.code == 2 and "--format" in r.err
    # The environment's API URL is used for validation when no flag is given.
    r = run_cli("rules", "--format", "kingfisher", env={"WEAVZ_API_URL": "https://eu.weavz.test/"})
    assert "https://eu.weavz.test/api/v1/workspaces" in r.out


def test_rule_files_are_clean_under_wvzscan(tmp_path: Path) -> None:
    """Teams commit these files: wvzscan must not flag them (their examples are Weavz's doc examples)."""
    for fmt in ("gitleaks", "kingfisher"):
        assert run_cli("rules", "--format", fmt, "-o", str(tmp_path / f"{fmt}.rules")).code == 0
    r = run_cli("dir", str(tmp_path))
    assert r.code == 0, r.out
