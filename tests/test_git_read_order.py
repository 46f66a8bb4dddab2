"""The readers' order: every delta before its base, and never an object more or less than listed."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import commit_file, git, init_repo, make_key, run_cli
from wvzscan.sources.git.objects import list_objects
from wvzscan.sources.git.process import discover
from wvzscan.sources.git.read_order import delta_post_order


def _lines(data: bytes, line_len: int) -> list[bytes]:
    return [data[i : i + line_len] for i in range(0, len(data), line_len)]


def _versions(repo: Path, count: int, key_at: int | None = None, key: str = "") -> None:
    """``count`` commits of one growing file, so that packing makes long chains of deltas."""
    rng = random.Random(5)
    body = [f"line {i} {rng.random()}\n" for i in range(400)]
    for v in range(count):
        body[rng.randrange(len(body))] = f"changed {v} {rng.random()}\n"
        text = "".join(body) + (f"token = {key}\n" if v == key_at else "")
        commit_file(repo, "notes.txt", text, f"v{v}")


def test_the_listing_puts_each_delta_before_its_base_and_keeps_every_object(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    _versions(repo, 60)
    git(repo, "repack", "-adq", "--depth=50", "--window=50")
    listing = git(
        repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(deltabase)", "--unordered"
    )
    rows = [ln.split() for ln in listing.splitlines()]
    base_of = {oid: base for oid, typ, base in rows if typ != "tree"}
    deltas = [oid for oid, base in base_of.items() if set(base) != {"0"}]
    assert len(deltas) > 40  # the history really is stored as deltas

    ol = list_objects(discover(str(repo)), sizes=False)
    order = [ln[:-1].decode() for ln in _lines(ol.ids, ol.line_len)]
    assert sorted(order) == sorted(base_of)  # the same objects, each once
    place = {oid: i for i, oid in enumerate(order)}
    assert all(place[oid] < place[base_of[oid]] for oid in deltas if base_of[oid] in place)


def test_a_key_in_a_blob_deep_in_a_delta_chain_is_found(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    key = make_key()
    _versions(repo, 40, key_at=23, key=key)
    git(repo, "repack", "-adq", "--depth=50", "--window=50")
    r = run_cli("repo", str(repo), "--format", "json")
    assert r.code == 1, r.err
    rep = json.loads(r.out)
    assert {f["key_prefix"] for f in rep["findings"]} == {key[:8]}
    types = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").split()
    assert rep["stats"]["objects_scanned"] == sum(1 for t in types if t != "tree")


def _check_permutation(ids: bytes, bases: bytes, width: int) -> bytes:
    out = delta_post_order(ids, bases, width + 1)
    assert sorted(_lines(out, width + 1)) == sorted(_lines(ids, width + 1))
    return out


def _forged(names: list[int], parents: list[int]) -> tuple[bytes, bytes]:
    """Ids from ``names``; each one's base: the id of line ``parents[i]``, an id not listed (past the
    end), or none (-1)."""
    ids = b"".join(b"%06d\n" % (1000 + n) for n in names)  # (000000 is no id: it means "no base")
    bases = b"".join(
        b"0" * 6 if p < 0 else b"%06d" % (1000 + names[p] if p < len(names) else 5000 + p)
        for p in (parents + [-1] * len(names))[: len(names)]
    )
    return ids, bases


# Forged delta bases (a pack is the repository's word): cycles, an object its own base, an id listed
# twice, bases that are not listed. The order may be anything then, but it holds every line once.
@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 30), max_size=40), st.lists(st.integers(-1, 45), max_size=40))
def test_any_forged_bases_still_give_every_line_exactly_once(names: list[int], parents: list[int]) -> None:
    _check_permutation(*_forged(names, parents), 6)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 40).flatmap(lambda n: st.lists(st.integers(-1, n + 3), min_size=n, max_size=n)))
def test_each_delta_a_root_leads_to_comes_before_its_base(parents: list[int]) -> None:
    names = list(range(len(parents)))
    out = _check_permutation(*_forged(names, parents), 6)
    place = {int(line) - 1000: i for i, line in enumerate(_lines(out, 7))}

    def rooted(i: int) -> bool:  # following bases from i ends at an object with no listed base
        seen = set()
        while 0 <= parents[i] < len(parents):
            if i in seen:
                return False
            seen.add(i)
            i = parents[i]
        return True

    for i, p in enumerate(parents):
        if 0 <= p < len(parents) and rooted(i):
            assert place[i] < place[p]


def test_lines_no_root_leads_to_follow_in_listing_order() -> None:
    width = 4
    ids = b"aaaa\nbbbb\ncccc\ndddd\n"
    bases = b"bbbb" + b"aaaa" + b"cccc" + b"0000"  # a and b each other's base, c its own, d none
    out = _check_permutation(ids, bases, width)
    assert out == b"dddd\naaaa\nbbbb\ncccc\n" or out == b"dddd\nbbbb\naaaa\ncccc\n"


def test_no_delta_at_all_keeps_the_listing_order() -> None:
    ids = b"aaaa\nbbbb\ncccc\n"
    assert delta_post_order(ids, b"0" * 12, 5) == ids
    assert delta_post_order(ids, b"", 5) == ids  # bases that do not fit the ids: no reordering


def test_findings_come_newest_commit_first_whatever_order_objects_were_read_in(tmp_path: Path) -> None:
    # Author dates out of commit order and in several time zones: 10:00+05:00 is before 06:00+00:00.
    repo = init_repo(tmp_path / "r")
    dates = [
        "2021-03-01T10:00:00+05:00",
        "2021-03-01T06:00:00+00:00",
        "2019-07-14T23:30:00-07:00",
        "2023-01-01T00:00:00+00:00",
        "2020-12-31T23:59:59+00:00",
    ]
    keys = [make_key() for _ in dates]
    for i, (when, key) in enumerate(zip(dates, keys, strict=True)):
        (repo / f"f{i}.txt").write_text(f"token = {key}\n")
        git(repo, "add", f"f{i}.txt")
        git(repo, "commit", "-q", "-m", f"c{i}", env={"GIT_AUTHOR_DATE": when})
    git(repo, "repack", "-adq")
    reports = []
    for _ in range(2):
        r = run_cli("repo", str(repo), "--format", "json")
        assert r.code == 1, r.err
        reports.append([(f["key_prefix"], f["date"]) for f in json.loads(r.out)["findings"]])
    assert reports[0] == reports[1]
    newest_first = [3, 1, 0, 4, 2]
    assert [prefix for prefix, _ in reports[0]] == [keys[i][:8] for i in newest_first]
