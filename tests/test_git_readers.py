"""The history readers' fast path (issue 15): the buffered cat-file parser, wide pipes, the quick check
outside the lock, the listing without sizes, and the walk that starts first."""

from __future__ import annotations

import base64
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import commit_file, git, init_repo, make_key, run_cli
from wvzscan import scan
from wvzscan.prefilter import Prefilter
from wvzscan.sources import archives
from wvzscan.sources.git import objects
from wvzscan.sources.git.process import (
    AnswerReader,
    GitError,
    Parsed,
    Truncated,
    discover,
    parse_batch,
    widen_pipe,
)

OID = "a" * 40


def _answers(data: bytes, piece: int) -> list[tuple[bytes, str, bytes | None]]:
    """Every answer, the stream handed over ``piece`` bytes at a time (a pipe that gives little)."""
    src = io.BytesIO(data)

    def read_into(view: memoryview) -> int:
        chunk = src.read(min(piece, len(view)))
        view[: len(chunk)] = chunk
        return len(chunk)

    reader = AnswerReader(read_into, size=64)
    out: list[tuple[bytes, str, bytes | None]] = []
    while (a := reader.next()) is not None:
        oid, typ, view = a
        out.append((oid, typ, None if view is None else bytes(view)))
    return out


@pytest.mark.parametrize("piece", [1, 3, 7, 64, 1 << 20])
def test_answer_reader_parses_in_any_pieces_and_grows_for_big_objects(piece: int) -> None:
    big = os.urandom(1000)  # bigger than the 64-byte buffer: it grows, then shrinks back
    stream = (
        f"{OID} blob 5\n".encode()
        + b"hello\n"
        + f"{'b' * 40} missing\n".encode()
        + f"{'c' * 40} blob {len(big)}\n".encode()
        + big
        + b"\n"
        + f"{'d' * 40} commit 0\n\n".encode()
        + f"{'e' * 40} ambiguous\n".encode()
    )
    assert _answers(stream, piece) == [
        (OID.encode(), "blob", b"hello"),
        (b"b" * 40, "missing", None),
        (b"c" * 40, "blob", big),
        (b"d" * 40, "commit", b""),
        (b"e" * 40, "ambiguous", None),
    ]


def test_answer_reader_truncation_and_garbage() -> None:
    with pytest.raises(Truncated):
        _answers(f"{OID} blob 10\nshort".encode(), 4)
    with pytest.raises(Truncated):
        _answers(f"{OID} blob 3\nabcX".encode(), 4)  # no newline after the content
    with pytest.raises(Truncated):
        _answers(f"{OID} blo".encode(), 4)  # died inside a header
    with pytest.raises(GitError):
        _answers(b"not an answer at all\n", 4)
    with pytest.raises(GitError):
        _answers(b"x" * 10_000, 1 << 20)  # no header line ends
    answers, truncated = parse_batch(f"{OID} tag 2\nok\n{OID} blob 9\nabc".encode())
    assert truncated and [(a.oid, a.type, a.data) for a in answers] == [(OID, "tag", b"ok")]


def test_pipes_are_widened_where_allowed_and_silently_kept_elsewhere(tmp_path: Path) -> None:
    import fcntl

    r, w = os.pipe()
    try:
        widen_pipe(r)
        getsz = getattr(fcntl, "F_GETPIPE_SZ", None)
        if getsz is not None:
            size = fcntl.fcntl(r, getsz)
            max_file = Path("/proc/sys/fs/pipe-max-size")
            limit = int(max_file.read_text()) if max_file.exists() else 0
            assert size >= min(1 << 20, limit) or size == 65536  # over the user's quota: the default
            assert widen_pipe(r) == size  # the size it has, for the reader to know
    finally:
        os.close(r)
        os.close(w)
    with open(tmp_path / "f", "wb") as f:
        widen_pipe(f.fileno())  # not a pipe: nothing happens, nothing is raised


@pytest.mark.parametrize("pipe_size", [0, 1 << 20])
def test_patient_reader_gets_every_answer_from_a_slow_writer(pipe_size: int) -> None:
    # A writer that gives a few bytes at a time, slowly: the patient reader (a wide pipe) pauses
    # after each small read and must still parse every answer whole, as the plain reader does.
    import threading
    import time

    blobs = [os.urandom(n) for n in (0, 1, 5000, 70_000, 3)]
    stream = b"".join(f"{i:040x} blob {len(b)}\n".encode() + b + b"\n" for i, b in enumerate(blobs))
    r, w = os.pipe()

    def write() -> None:
        for i in range(0, len(stream), 30_000):
            os.write(w, stream[i : i + 30_000])
            time.sleep(0.002)
        os.close(w)

    t = threading.Thread(target=write)
    t.start()
    try:
        reader = AnswerReader.of_fd(r, pipe_size)
        got = []
        while (a := reader.next()) is not None:
            assert a[2] is not None
            got.append(bytes(a[2]))
    finally:
        t.join()
        os.close(r)
    assert got == blobs


def test_prefilter_any_stops_at_the_first_needle_and_works_on_views() -> None:
    p = Prefilter([b"wvz", b"d3Z"])
    if not p.available:
        pytest.skip("Hyperscan is not installed")
    assert p.any(b"x" * 5000) is False
    assert p.any(b"x" * 5000 + b"wvz") is True
    assert p.any(memoryview(b"..d3Z..")[1:]) is True
    assert p.any(b"") is False
    assert Prefilter([b"wvz"], use_hyperscan=False).any(b"wvz") is None  # cannot tell: the full path decides


def test_certainly_clean_is_false_for_needles_of_every_encoding_and_containers() -> None:
    if not Prefilter([b"wvz"]).available:
        pytest.skip("Hyperscan is not installed")
    key = make_key()
    assert scan.certainly_clean(b"def f():\n    return 1\n" * 100)
    assert not scan.certainly_clean(f"K={key}\n".encode())
    assert not scan.certainly_clean(base64.b64encode(f"K={key}".encode()))
    assert not scan.certainly_clean(key.encode("utf-16-le"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", "nothing here\n" * 100)
    assert not scan.certainly_clean(buf.getvalue())  # a container: its members need the full path
    assert not scan.certainly_clean(memoryview(b"\x1f\x8b\x08" + b"\0" * 100))


_MAGICS = [b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b\x08", b"BZh91AY&SY", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd"]
_MAGICS += [b"7z\xbc\xaf\x27\x1c", b"%PDF-", b"SQLite format 3\x00", b"\x78\x9c", b"\x78\x01", b"\x78\xda"]


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from([b"", *_MAGICS]), st.binary(max_size=300), st.booleans())
def test_property_may_be_container_never_misses_what_kind_recognises(head: bytes, tail: bytes, tar: bool) -> None:
    data = head + tail
    if tar:
        data = data.ljust(257, b"\0")[:257] + b"ustar" + tail
    for d in (data, memoryview(data)):
        if archives.kind(bytes(d)) is not None:
            assert archives.may_be_container(d)
    assert not archives.may_be_container(b"#!/bin/sh\n" * 40)  # the common case: kind is not asked


def _busy_repo(tmp: Path) -> tuple[Path, str]:
    """Hundreds of clean objects and keys in a blob, an encoded blob, a zip, a commit and a tag message."""
    repo = init_repo(tmp)
    for i in range(40):
        for j in range(16):
            (repo / f"d{j}").mkdir(exist_ok=True)
            (repo / f"d{j}" / f"f{i}.txt").write_text(f"clean line {i} {j}\n" * (i + 1))
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", f"commit {i}")
    keys = [make_key() for _ in range(5)]
    commit_file(repo, "plain.env", f"K={keys[0]}\n")
    commit_file(repo, "b64.txt", base64.b64encode(f"token: {keys[1]}".encode()) + b"\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("inner/.env", f"K={keys[2]}\n")
    commit_file(repo, "bundle.zip", buf.getvalue())
    commit_file(repo, "x.txt", "x\n", f"rotate\n\nold key {keys[3]}")
    git(repo, "tag", "-a", "v1", "-m", f"release\n\n{keys[4]}")
    for i in range(40):  # clean objects after the keys too
        commit_file(repo, "late.txt", f"late {i}\n", f"late {i}")
    return repo, "\n".join(keys)


def _strip(doc: object) -> object:
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k != "seconds"}
    if isinstance(doc, list):
        return [_strip(v) for v in doc]
    return doc


def test_quick_path_reports_exactly_what_the_full_path_reports(tmp_path: Path) -> None:
    """With Hyperscan the quick check passes the clean objects outside the lock; without it every
    object takes the full path. Every finding, error, note and count is the same."""
    if not Prefilter([b"wvz"]).available:
        pytest.skip("Hyperscan is not installed")
    repo, keys = _busy_repo(tmp_path / "r")
    fast = run_cli("repo", str(repo), "--format", "json", in_process=False)
    full = run_cli("repo", str(repo), "--format", "json", env={"WVZSCAN_NO_HYPERSCAN": "1"}, in_process=False)
    assert fast.code == full.code == 1
    a, b = fast.json(), full.json()
    for doc in (a, b):  # two readers hand objects over in either order
        doc["findings"].sort(key=lambda f: json.dumps(f, sort_keys=True))
    assert _strip(a) == _strip(b)
    found = {f["secret"] if "secret" in f else f["fingerprint"] for f in a["findings"]}
    assert len(a["findings"]) >= 5 and found
    assert a["stats"]["objects_scanned"] > 700
    for k in keys.split("\n"):
        assert k[:8] in json.dumps(a)  # every planted key is reported (redacted: its start shows)


def test_the_listing_counts_sizes_and_skips_blobs_over_the_limit(tmp_path: Path) -> None:
    repo_path, _ = _busy_repo(tmp_path / "r")
    repo = discover(str(repo_path))
    listed = objects.list_objects(repo)
    sizes = git(repo_path, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)").split("\n")
    assert listed.total_bytes == sum(int(s.split()[1]) for s in sizes if s and not s.startswith("tree"))
    limited = objects.list_objects(repo, max_size=10)
    assert limited.skipped_large > 0 and limited.count + limited.skipped_large == listed.count


def _repack_without(repo: Path, lost: set[str]) -> None:
    """Every object in one pack, less ``lost`` (a pack that lacks entries), no loose objects."""
    git(repo, "repack", "-q", "-a", "-d")
    pack_dir = repo / ".git" / "objects" / "pack"
    old = list(pack_dir.iterdir())
    keep = [ln.split()[0] for ln in git(repo, "cat-file", "--batch-all-objects", "--batch-check").splitlines()]
    names = "".join(o + "\n" for o in keep if o not in lost).encode()
    git(repo, "pack-objects", "-q", str(pack_dir / "pack"), input=names)
    for f in old:
        f.chmod(0o644)
        f.unlink()


def test_missing_objects_found_with_the_walk_started_first(tmp_path: Path) -> None:
    """A pack entry and a loose object removed: both reported, exit 3 (the walk runs first, beside
    the listing and the readers)."""
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "a.txt", "packed and then lost\n", "one")
    lost_packed = git(repo, "rev-parse", "HEAD:a.txt")
    git(repo, "rm", "-q", "a.txt")
    commit_file(repo, "b.txt", "kept\n", "two")
    _repack_without(repo, {lost_packed})
    commit_file(repo, "c.txt", "loose and then lost\n", "three")
    lost_loose = git(repo, "rev-parse", "HEAD:c.txt")
    (repo / ".git" / "objects" / lost_loose[:2] / lost_loose[2:]).unlink()
    r = run_cli("repo", str(repo), "--format", "json")
    assert r.code == 3
    wheres = {e["where"] for e in r.json()["errors"]}
    assert wheres == {f"git object {lost_loose}", f"git object {lost_packed}"}


def _forge_commit_graph(repo: Path, commit: str, tree: str) -> None:
    """Write a commit-graph, then give ``commit`` another root tree in it (git trusts the file:
    only ``git commit-graph verify`` checks it against the objects)."""
    import struct

    git(repo, "commit-graph", "write", "--reachable")
    path = repo / ".git" / "objects" / "info" / "commit-graph"
    path.chmod(0o644)
    d = bytearray(path.read_bytes())
    assert d[:4] == b"CGPH"
    chunks = {}
    for i in range(d[6] + 1):
        cid, off = struct.unpack(">4sQ", d[8 + 12 * i : 20 + 12 * i])
        chunks[cid] = off
    oidl, cdat = chunks[b"OIDL"], chunks[b"CDAT"]
    ids = [bytes(d[oidl + 20 * i : oidl + 20 * i + 20]) for i in range((cdat - oidl) // 20)]
    i = ids.index(bytes.fromhex(commit))
    d[cdat + 36 * i : cdat + 36 * i + 20] = bytes.fromhex(tree)
    path.write_bytes(bytes(d))


def test_a_planted_commit_graph_hides_nothing(tmp_path: Path) -> None:
    """A commit-graph can give a commit another tree: git's own walk (commit-graph on) then misses
    an object that is gone, and its log shows no change. wvzscan does not read the file
    (core.commitGraph=false in the runner's policy): the missing object is still an error."""
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "a.txt", "old\n", "one")
    old_tree = git(repo, "rev-parse", "HEAD^{tree}")
    head = commit_file(repo, "b.txt", "gone\n", "two")
    gone = git(repo, "rev-parse", "HEAD:b.txt")
    _forge_commit_graph(repo, head, old_tree)
    (repo / ".git" / "objects" / gone[:2] / gone[2:]).unlink()
    believed = git(repo, "-c", "core.commitGraph=true", "rev-list", "--objects", "--missing=print", "--all")
    assert f"?{gone}" not in believed.split()  # what reading the planted file would cost
    r = run_cli("repo", str(repo), "--format", "json")
    assert r.code == 3
    assert [e["where"] for e in r.json()["errors"]] == [f"git object {gone}"]


@pytest.mark.parametrize("seed", range(5))
def test_one_look_over_many_answers_places_each_needle_in_its_own_object(seed: int) -> None:
    # One Hyperscan scan over a run of buffered answers must say of each object exactly what a
    # scan of that object alone says: needles at its edges count, needles that run into the next
    # header (or come from the header's object id) do not; a container is never passed.
    import random

    from wvzscan.finding import ScanResult
    from wvzscan.sources.git.common import ObjectScanner

    if not Prefilter([b"wvz"]).available:
        pytest.skip("Hyperscan is not installed")
    rng = random.Random(seed)
    pieces = [b"wvz", b"d3Z6X", b"%77", b"w\0v\0z\0_\0", b"H4sI", b"3d2"]
    contents = []
    for _ in range(300):
        body = bytes(rng.choice(b"abcdefxyz0123456789 \n") for _ in range(rng.randrange(0, 60)))
        if rng.random() < 0.3:
            at = rng.randrange(0, len(body) + 1)
            body = body[:at] + rng.choice(pieces) + body[at:]
        if rng.random() < 0.1:
            body += rng.choice(pieces)[:-1]  # a needle cut short by the object's end
        if rng.random() < 0.05:
            body = rng.choice([b"\x1f\x8b\x08\0\0\0\0\0", b"PK\x03\x04"]) + body  # a container's head
        contents.append(body)
    stream = b"".join(f"{i:040x} blob {len(c)}\n".encode() + c + b"\n" for i, c in enumerate(contents))
    reader = AnswerReader(io.BytesIO(stream).readinto, size=len(stream) + 1)
    got = reader.take()
    assert got is not None
    view, answers = got
    assert len(answers) == len(contents)  # every whole answer buffered, in one take
    result = ScanResult()
    quick = ObjectScanner(scan.Scanner(result), result)
    passed, counted, raw, rest = quick.quick_run(view, answers)
    left = {body for _, _, body, _ in rest}
    for (_, _, body, size), content in zip(answers, contents, strict=True):
        assert bytes(view[body : body + size]) == content
        assert (body in left) == (not scan.certainly_clean(content)), content
    assert passed == len(answers) - len(rest) and counted == raw == sum(len(c) for c in contents) - sum(
        size for *_, size in rest
    )


def test_a_run_with_more_needles_than_one_look_counts_still_finds_its_key(tmp_path: Path) -> None:
    # One look over a run of answers stops after 4096 needles (3-byte base64 shapes of `wvz` are
    # common in data). A stopped look vouches for nothing: each object is then looked at alone.
    # It once read "no needle listed" as "no needle", and passed every object of the run: exit 0.
    if not Prefilter([b"wvz"]).available:
        pytest.skip("Hyperscan is not installed")
    repo = init_repo(tmp_path / "r")
    key = make_key()
    for i in range(30):
        text = "3d2 " * 5000 + (f"\nK={key}\n" if i == 7 else "\n")
        (repo / f"f{i}.txt").write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "data")
    r = run_cli("repo", str(repo), "--format", "json")
    assert r.code == 1
    assert [f["path"] for f in r.json()["findings"]] == ["f7.txt"]


def test_spans_stopped_at_the_limit_vouch_for_nothing() -> None:
    p = Prefilter([b"wvz", b"abc"])
    if not p.available:
        pytest.skip("Hyperscan is not installed")
    data = b"..wvz.." * 10 + b"abc"
    assert p.spans(data, limit=3) is None  # stopped: it vouches for no offset, as without Hyperscan
    assert p.spans(data) == ([2 + 7 * i for i in range(10)] + [70], [5 + 7 * i for i in range(10)] + [73])
    assert Prefilter([b"wvz"], use_hyperscan=False).spans(data) is None


def test_a_handler_that_fails_stops_the_readers_instead_of_hanging(tmp_path: Path) -> None:
    # More output than a pipe holds: if the reading thread dies, git blocks writing, the feeding
    # thread blocks writing names, and waiting for git would wait forever. The failure must surface.
    import threading

    repo = init_repo(tmp_path / "r")
    for i in range(700):
        (repo / f"f{i}.txt").write_bytes(os.urandom(3000).hex().encode())
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "many")

    class Broken:
        def quick_run(self, view: memoryview, answers: list[Parsed]) -> tuple[int, int, int, list[Parsed]]:
            raise RuntimeError("handler bug")

        def counted(self, objects: int, scanned: int, raw: int) -> None:
            pass

    def nothing(*_: object) -> None:
        pass

    r = discover(str(repo))
    objs = objects.list_objects(r)
    assert objs.count > objects.BLOCK
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            objects.ParallelReader(r, objs, nothing, nothing, nothing, workers=2, fast=Broken()).run()
        except BaseException as e:  # noqa: BLE001 - what the test looks at
            outcome.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "the readers hung"
    assert outcome and "handler bug" in str(outcome[0])


def test_take_hands_over_the_whole_answers_before_a_broken_one() -> None:
    # A broken answer after good ones in the same buffer: the good ones are handed over (they are
    # answered), and the next take raises for the broken one instead of dropping them with it.
    good = f"{OID} blob 2\nok\n{'b' * 40} blob 3\nyes\n".encode()
    for bad in (f"{'c' * 40} blob 1\nCC\n".encode(), b"not an answer\n"):
        reader = AnswerReader(io.BytesIO(good + bad).readinto, size=1 << 10)
        got = reader.take()
        assert got is not None
        view, answers = got
        assert [bytes(view[b : b + n]) for _, _, b, n in answers] == [b"ok", b"yes"]
        with pytest.raises((Truncated, GitError)):
            reader.take()


@pytest.mark.parametrize("size", [b"-1", b"+5", b"1_0", b"5x"])
def test_a_size_field_that_is_not_digits_is_no_answer(size: bytes) -> None:
    # int() takes "-1", "+5" and "1_0": as a size, "-1" once made an empty answer that the quick
    # check then read one byte past.
    stream = b"a" * 40 + b" blob " + size + b"\nhello\n"
    with pytest.raises(GitError):
        AnswerReader(io.BytesIO(stream).readinto).take()
    with pytest.raises(GitError):
        AnswerReader(io.BytesIO(stream).readinto).next()
    reader = AnswerReader(io.BytesIO(b"b" * 40 + b" blob 2\nhi\n" + stream).readinto)
    got = reader.take()  # the whole answer before it is handed over; the next call raises
    assert got is not None and [a[3] for a in got[1]] == [2]
    with pytest.raises(GitError):
        reader.take()


@pytest.mark.parametrize("piece", [64, 4096, 1 << 20])
def test_an_overlong_header_line_is_no_answer_however_the_reads_cut_it(piece: int) -> None:
    # 5,000 bytes of garbage run into a real header: three words on one line. It was parsed as an
    # answer when one read brought the whole line, and refused when reads came in smaller pieces.
    stream = b"x" * 5000 + b"a" * 40 + b" blob 5\nhello\n"

    def reader() -> AnswerReader:
        src = io.BytesIO(stream)
        return AnswerReader(lambda view: src.readinto(view[:piece]))

    with pytest.raises(GitError):
        reader().take()
    with pytest.raises(GitError):
        reader().next()


def test_a_size_git_claims_is_not_allocated_before_the_bytes_arrive() -> None:
    # A planted loose object can claim 10^12 bytes and hold 5: the reader's buffer grows with
    # what arrives (at most doubling), so the claim costs nothing and the answer ends truncated.
    import tracemalloc

    stream = b"a" * 40 + b" blob 999999999999\nhello"
    tracemalloc.start()
    try:
        with pytest.raises(Truncated):
            AnswerReader(io.BytesIO(stream).readinto).take()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


def test_a_loose_object_whose_header_lies_about_its_size_is_one_error(tmp_path: Path) -> None:
    # A planted loose object claiming 10^12 bytes and holding 5: git answers with the claim and
    # the 5 bytes. It once made the reader allocate the claim (MemoryError, exit 2); now it is one
    # error on that object, the rest is scanned, and the way out says git fsck, not fetch.
    import hashlib
    import zlib

    repo = init_repo(tmp_path / "r")
    key = make_key()
    commit_file(repo, "a.env", f"K={key}\n")
    raw = b"blob 999999999999\0hello"
    oid = hashlib.sha1(raw).hexdigest()
    folder = repo / ".git" / "objects" / oid[:2]
    folder.mkdir(exist_ok=True)
    (folder / oid[2:]).write_bytes(zlib.compress(raw))
    r = run_cli("repo", str(repo), "--format", "json")
    assert r.code == 1  # a key found outranks the incomplete scan (3)
    doc = r.json()
    assert [f["path"] for f in doc["findings"]] == ["a.env"]
    assert [e["where"] for e in doc["errors"]] == [f"git object {oid}"]
    assert "no whole answer" in doc["errors"][0]["message"]
    assert "git fsck" in r.err and "fetch the missing" not in r.err
