"""The readers' order: every delta before its base, and never an object more or less than listed."""

from __future__ import annotations

import json
import random
from array import array
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

    ol = list_objects(discover(str(repo)))
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


def test_a_chain_of_large_blobs_keeps_the_listing_order(tmp_path: Path) -> None:
    # 24 versions of a 3 MiB file in one chain: its bases, 72 MiB on the way down, do not fit the
    # readers' cache together, and in post-order git would rebuild the chain from its root again
    # and again. That tree keeps the listing's order (each base read just before its delta); a
    # chain of small versions in the same store is read in post-order.
    repo = init_repo(tmp_path / "r")
    rng = random.Random(3)
    big = bytearray(b"".join(b"row %07d %024x\n" % (i, rng.getrandbits(96)) for i in range(3 * 1024 * 1024 // 37)))
    bigs, smalls = [], []
    for v in range(24):
        at = rng.randrange(len(big) - 8)
        big[at : at + 8] = b"%08d" % v
        bigs.append(bytes(big))
        smalls.append(b"".join(b"small %d %d\n" % (i, v if i == v else 0) for i in range(200)))
    # fast-import stores each blob as a delta of the one before it: one chain each, in one pack.
    stream = b"".join(b"blob\ndata %d\n%s\n" % (len(data), data) for data in bigs + smalls)
    git(repo, "-c", "fastimport.unpackLimit=0", "fast-import", "--quiet", "--depth=50", input=stream)
    rows = git(
        repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objectsize) %(deltabase)", "--unordered"
    ).split("\n")
    size_of = {r.split()[0]: int(r.split()[1]) for r in rows if r}
    base_of = {r.split()[0]: r.split()[2] for r in rows if r and set(r.split()[2]) != {"0"}}
    order = [ln[:-1].decode() for ln in _lines(list_objects(discover(str(repo))).ids, 41)]
    place = {oid: i for i, oid in enumerate(order)}
    big_deltas = [o for o in base_of if size_of[o] > 1 << 20]
    small_deltas = [o for o in base_of if size_of[o] < 1 << 20]
    assert len(big_deltas) > 15 and len(small_deltas) > 15
    assert all(place[base_of[o]] < place[o] for o in big_deltas)  # the listing's order: base first
    assert all(place[o] < place[base_of[o]] for o in small_deltas)  # post-order: delta first


def _check_permutation(ids: bytes, bases: bytes, width: int, sizes: list[int] | None = None) -> bytes:
    n = len(ids) // (width + 1)
    out = delta_post_order(ids, bases, array("q", sizes or [1] * n), width + 1)
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


# Forged delta bases and sizes (a pack is the repository's word): cycles, an object its own base, an
# id listed twice, bases that are not listed, any sizes. The order may be anything then (the listing's
# own, say), but it holds every line once.
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 30), max_size=40),
    st.lists(st.integers(-1, 45), max_size=40),
    st.lists(st.integers(0, 1 << 40), max_size=40),
)
def test_any_forged_bases_still_give_every_line_exactly_once(
    names: list[int], parents: list[int], sizes: list[int]
) -> None:
    _check_permutation(*_forged(names, parents), 6, (sizes + [1] * len(names))[: len(names)])


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 40).flatmap(lambda n: st.lists(st.integers(-1, n + 3), min_size=n, max_size=n)))
def test_with_no_cycle_each_delta_comes_before_its_base(parents: list[int]) -> None:
    def rooted(i: int) -> bool:  # following bases from i ends at an object with no listed base
        seen = set()
        while 0 <= parents[i] < len(parents):
            if i in seen:
                return False
            seen.add(i)
            i = parents[i]
        return True

    names = list(range(len(parents)))
    out = _check_permutation(*_forged(names, parents), 6)
    if not all(rooted(i) for i in names):
        assert out == _forged(names, parents)[0]  # a cycle: the listing's order, whole
        return
    place = {int(line) - 1000: i for i, line in enumerate(_lines(out, 7))}
    for i, p in enumerate(parents):
        if 0 <= p < len(parents):
            assert place[i] < place[p]


def test_a_tree_whose_bases_exceed_the_budget_keeps_the_listing_order() -> None:
    ids = b"aaaa\nbbbb\ncccc\ndddd\n"
    bases = b"0000" + b"aaaa" + b"bbbb" + b"0000"  # a <- b <- c, and d alone
    assert delta_post_order(ids, bases, array("q", [10, 10, 10, 5]), 5, budget=30) == b"cccc\nbbbb\naaaa\ndddd\n"
    assert delta_post_order(ids, bases, array("q", [10, 10, 11, 5]), 5, budget=30) == ids


def test_inputs_that_do_not_fit_keep_the_listing_order() -> None:
    ids = b"aaaa\nbbbb\ncccc\n"
    one = array("q", [1, 1, 1])
    assert delta_post_order(ids, b"0" * 12, one, 5) == ids  # no delta at all
    assert delta_post_order(ids, b"", one, 5) == ids  # bases that do not fit the ids
    assert delta_post_order(ids + b"d", b"0000aaaabbbb", one, 5) == ids + b"d"  # a partial line
    assert delta_post_order(b"\n\n\n", b"", one, 1) == b"\n\n\n"  # empty ids


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


def test_one_key_at_one_place_in_two_objects_gives_one_report_whatever_the_read_order(tmp_path: Path) -> None:
    # Two dangling blobs with the same key on the same line, and two annotated tags of one commit
    # with the same key: each pair is one location, and which object names it must not depend on
    # which one a reader met first.
    from wvzscan.finding import ScanResult
    from wvzscan.scan import Scanner
    from wvzscan.sources.git.common import ObjectScanner, add_findings
    from wvzscan.sources.git.history_scan import attribute, read_objects
    from wvzscan.sources.git.objects import from_ids

    repo = init_repo(tmp_path / "r")
    commit_file(repo, "x.txt", "nothing\n")
    key = make_key()
    b1 = git(repo, "hash-object", "-w", "--stdin", input=f"token = {key}\none\n".encode())
    b2 = git(repo, "hash-object", "-w", "--stdin", input=f"token = {key}\ntwo\n".encode())
    git(repo, "tag", "-a", "t1", "-m", f"key {key}")
    git(repo, "tag", "-a", "t2", "-m", f"key {key}")
    t1, t2 = git(repo, "rev-parse", "t1"), git(repo, "rev-parse", "t2")

    def report(order: list[str]) -> list[tuple[object, object]]:
        result = ScanResult()
        scanner = ObjectScanner(Scanner(result), result)
        read_objects(discover(str(repo)), from_ids(order), scanner, 1)
        add_findings(result, attribute(discover(str(repo)), scanner.found, result, "git", include_unreachable=True))
        return [(f.extra.get("blob") or f.extra.get("tag"), f.extra.get("ref")) for f in result.findings]

    first = report([b1, b2, t1, t2])
    assert len(first) == 2 and report([b2, b1, t2, t1]) == first
