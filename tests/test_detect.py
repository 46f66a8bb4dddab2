"""The detector: what is a key, what is a placeholder, and properties over random input."""

from __future__ import annotations

import re
import secrets
import string
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import LOWER, MIXED, PREFIX, make_key
from wvzscan.detect import DOC_EXAMPLES, Rules, candidates, find_keys, placeholder_reason

# Weavz's own guide, in ../shared/seed beside the project root (where the project keeps it; not shipped).
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed"


def keys_in(text: str, rules: Rules | None = None) -> list[str]:
    return [m.key for m in find_keys(text.encode(), rules or Rules())]


def _raw_key(kind: str) -> str:
    # Not make_key(): that one re-rolls the rare body a rule rejects, which would hide a miss here.
    if kind == "uuid":
        return PREFIX + str(uuid.uuid4())
    n, alphabet = {"lower32": (32, LOWER), "mixed40": (40, MIXED), "hex64": (64, "0123456789abcdef")}[kind]
    return PREFIX + "".join(secrets.choice(alphabet) for _ in range(n))


@pytest.mark.parametrize("kind", ["lower32", "mixed40", "uuid", "hex64"])
def test_random_keys_are_always_found(kind: str) -> None:
    for _ in range(5000):
        key = _raw_key(kind)
        assert keys_in(f"token = '{key}'\n") == [key], placeholder_reason(key)


@pytest.mark.parametrize(
    "body",
    [
        "your_api_key_here",
        "YOUR_WEAVZ_API_KEY_HERE",
        "your_existing_key",
        "replace-with-your-key",
        "test_key_1234567890",
        "examplekey1234567890",
        "xxxxxxxxxxxxxxxxxxxxxxxx",
        "0000000000000000",
        "abcdefghijklmnopqrstuvwxyz",
        "0123456789abcdef0123",
        "abc123abc123abc123abc123",
        "aaaabbbbccccdddd",
        "ab12cd34ef56gh78ij90kl12mn34op99",
        "changeme_changeme_changeme",
        "dummy-token-for-tests",
        "redacted_redacted_redacted",
    ],
)
def test_placeholders_are_not_keys(body: str) -> None:
    assert placeholder_reason(PREFIX + body) is not None
    assert keys_in(f"KEY={PREFIX}{body}\n") == []


def test_doc_examples_only_with_include_examples() -> None:
    text = " ".join(sorted(DOC_EXAMPLES))
    assert keys_in(text) == []
    assert sorted(keys_in(text, Rules(include_examples=True))) == sorted(DOC_EXAMPLES)


@pytest.mark.parametrize("tail", ["…op56", "****", "...", "…", "********************"])
def test_masked_forms_and_own_reports_are_not_keys(tail: str) -> None:
    key = make_key()
    masked = key[:8] + tail
    assert keys_in(f"key {masked} was found") == []


def test_seed_guide_placeholders_give_no_finding() -> None:
    if not SEED.is_dir():
        pytest.skip(f"Weavz's guide is not on this machine ({SEED}: the shared folder beside the project root)")
    for path in SEED.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PREFIX.encode() in data  # the guide does show key-like examples
            assert list(find_keys(data)) == []


@pytest.mark.parametrize(
    "before,after",
    [("a", ""), ("_", ""), ("-", ""), ("9", "")],
)
def test_key_glued_to_identifier_before_is_not_a_candidate(before: str, after: str) -> None:
    key = make_key()
    assert keys_in(before + key + after) == []


def test_body_length_bounds() -> None:
    short = PREFIX + make_key("lower16")[4:19]  # 15 characters
    assert list(candidates(short.encode())) == []
    long_key = PREFIX + "".join(make_key("mixed40")[4:] for _ in range(4))[:129]
    assert list(candidates(long_key.encode())) == []
    ok = PREFIX + "".join(make_key("mixed40")[4:] for _ in range(4))[:128]
    assert [m.key for m in candidates(ok.encode())] == [ok]


@pytest.mark.parametrize("sep", [",", " ", ", ", ";", "\t", "\n", '","'])
def test_two_keys_on_one_line(sep: str) -> None:
    a, b = make_key(), make_key("mixed40")
    assert keys_in(f"[{a}{sep}{b}]") == [a, b]


def test_min_entropy_rule_is_configurable() -> None:
    key = make_key("hex64")
    assert keys_in(key) == [key]
    assert keys_in(key, Rules(min_entropy=5.5)) == []


_body = st.text(alphabet=string.ascii_letters + string.digits, min_size=32, max_size=32)
_noise = st.text(alphabet=string.printable.replace("_", "").replace("-", ""), max_size=200)


@settings(max_examples=300, deadline=None)
@given(prefix=_noise, suffix=_noise)
def test_random_key_in_random_text_found_once_at_offset(prefix: str, suffix: str) -> None:
    key = make_key("mixed40")
    sep_before = "" if not prefix or not re.match(r"[A-Za-z0-9]", prefix[-1]) else " "
    sep_after = "" if not suffix or not re.match(r"[A-Za-z0-9]", suffix[0]) else " "
    text = prefix + sep_before + key + sep_after + suffix
    data = text.encode()
    found = list(find_keys(data))
    assert [m.key for m in found] == [key]
    assert found[0].start == data.index(key.encode())


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    for m in find_keys(data):
        assert m.key.startswith(PREFIX)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512), st.binary(max_size=512))
def test_arbitrary_bytes_around_a_key(before: bytes, after: bytes) -> None:
    key = make_key()
    if before[-1:] and re.match(rb"[A-Za-z0-9_-]", before[-1:]):
        before += b" "
    if after[:1] and re.match(rb"[A-Za-z0-9_-]", after[:1]):
        after = b" " + after
    found = [m.key for m in find_keys(before + key.encode() + after)]
    assert key in found


@pytest.mark.parametrize("before", ["\\n", "\\t", "\\r", "%3D", "%3d", "%0A", "%20"])
def test_escape_right_before_the_key_is_a_boundary(before: str) -> None:
    key = make_key()
    assert keys_in(f'"first line{before}{key}"') == [key]
    assert keys_in(f"GET /cb?api_key{before}{key}%26next=1") == [key]


@pytest.mark.parametrize(
    "body",
    [
        "a1b2c3d4e5f6g7h8i9j0",  # interleaved sequences
        "0a1b2c3d4e5f6a7b8c9d0e1f",
        "zyxwvutsrqponmlkjihgfedcba",  # descending
        "aaaabbbbccccddddeeeeffff",  # stuttering
        "INSERT_KEY_HERE_PLEASE",
        "ENV_VAR_NAME_HERE",
        "key_from_dashboard_here",
    ],
)
def test_more_placeholder_shapes_users_write(body: str) -> None:
    assert placeholder_reason(PREFIX + body) is not None


@pytest.mark.parametrize("suffix", ["_example", "-prod", "_v2", "XX"])
def test_doc_examples_with_a_suffix_are_still_examples(suffix: str) -> None:
    for example in sorted(DOC_EXAMPLES):
        assert keys_in(f"token: {example}{suffix}\n") == []


@pytest.mark.parametrize("body", ["9567eff01789c67c", "312EDE7676789BC2", "05678e9789d23475"])
def test_random_short_hex_with_a_few_ascending_pairs_is_a_key(body: str) -> None:
    # Real draws a random-key run rejected (7 ascending pairs of 15); `ab12cd34ef56gh78` has 8.
    assert placeholder_reason(PREFIX + body) is None
    assert placeholder_reason(PREFIX + "ab12cd34ef56gh78") is not None


# --- names made of words are not keys, whatever the words ----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "fetch_team_members",
        "session_manager_for_tests",
        "billing_invoice_reconciler",
        "DEFAULT_RETRY_COUNT",
        "DATABASE_CONNECTION_POOL",
        "loadOrgSettings",
        "renderDashboardWidget",
        "MemberListSerializer",
        "enableDarkModeToggle",
        "nav-item-active-dark",
        "sidebar-menu-collapsed",
        "parseHTTPResponse",
        "getXCoordinate",
        "oauth2_client_secret",
        "migration_rollback_handler",
        "QuarterlyRevenueForecast",
        "checkout-button-primary",
    ],
)
def test_names_made_of_words_are_not_keys(body: str) -> None:
    assert placeholder_reason(PREFIX + body) is not None
    for text in (f"def {PREFIX}{body}():\n", f'<div class="{PREFIX}{body}">', f"{PREFIX}{body} = 3\n"):
        assert keys_in(text) == []


@pytest.mark.parametrize(
    "body",
    [
        # random bodies that happen to have separators or case humps are still keys
        "k7Qx_9fLm2-Zp4Rt8Wv1Ys",
        "Xq3vLm9PzT4kWn8RbJ5cHd",
        "a9f3-4c1e-88b2-7d6e05fa",
    ],
)
def test_random_bodies_with_separators_or_humps_are_keys(body: str) -> None:
    assert placeholder_reason(PREFIX + body) is None


def test_random_key_benchmark_small_run_drops_nothing() -> None:
    # The benchmark of record draws 10^6 keys of each shape (docs/detection.md); a smaller seeded run
    # here keeps the rule from drifting.
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "random_keys_bench.py"
    spec = importlib.util.spec_from_file_location("random_keys_bench", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    import sys

    sys.modules["random_keys_bench"] = bench  # its dataclasses look themselves up there
    spec.loader.exec_module(bench)
    for shape in bench.SHAPES:
        why, _ = bench.run(shape, 3000, seed=11)
        assert sum(why.values()) == 0, (shape.name, why)
