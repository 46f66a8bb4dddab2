"""Differential fuzz of the history reader's fast path (issue 15; written by a reviewer of it).

(a) ``AnswerReader.take()`` repeated until None yields exactly the answers ``next()`` (``_one``) yields
    on the same stream, whatever the read piece sizes and buffer sizes on either side, and a
    Truncated/GitError (or any other exception) surfaces at the same point.
(b) for every run ``take()`` hands over, ``ObjectScanner.quick_run`` leaves in ``rest`` every object the
    per-object check calls "maybe" (blobs: over ``max_size`` or not ``scan.certainly_clean``;
    commits/tags: ``ObjectScanner.quick_message`` returns None; trees, problems and anything else), keeps
    ``rest`` in order, and counts passed objects / bytes right. Runs with more than 4096 needles
    (one look stops) are generated on purpose; objects holding a real key must never be passed.

Streams include lying and garbage size fields ("-1", 25 digits, 2**64): the reader must end them
(GitError or Truncated) without allocating what they claim.

Longer runs:  python tests/test_git_fuzz_quick.py [cases] [seed]   (3000 cases: about 11 s)
"""

from __future__ import annotations

import gzip
import io
import random
import sys
import zipfile
from collections import Counter

from wvzscan import scan
from wvzscan.decode import NEEDLES
from wvzscan.finding import ScanResult
from wvzscan.prefilter import Prefilter
from wvzscan.sources.git.common import ObjectScanner, _Look
from wvzscan.sources.git.process import PIPE_SIZE, AnswerReader

HEX = "0123456789abcdef"
KEYCHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
ALPHA = b"abcdefxyz0123456789 \n=+/_-%&#\\wvzWVZ3d2HX"


def make_key(rng: random.Random) -> bytes:
    from wvzscan.detect import placeholder_reason

    while True:
        key = "wvz" + "_" + "".join(rng.choice(KEYCHARS) for _ in range(32))
        if placeholder_reason(key) is None:
            return key.encode()


# ---------------------------------------------------------------- stream generation


def rand_oid(rng: random.Random) -> bytes:
    r = rng.random()
    n = 40 if rng.random() < 0.6 else 64
    oid = "".join(rng.choice(HEX) for _ in range(n))
    if rng.random() < 0.15:  # a needle inside the header's id
        at = rng.randrange(0, n - 3)
        oid = oid[:at] + "3d2" + oid[at + 3 :]
    if r < 0.05:
        oid = oid.upper()
    elif r < 0.08:
        oid = oid[: rng.choice([1, 39, 41, 50, 63, 65])] if rng.random() < 0.5 else oid + "a"
    elif r < 0.09:
        oid = "g" + oid[1:]
    return oid.encode()


def tar_like(rng: random.Random, size: int) -> bytes:
    body = bytearray(rng.randbytes(max(size, 262)) if rng.random() < 0.5 else b"a" * max(size, 262))
    body[257:262] = b"ustar"
    if rng.random() < 0.5:
        body[262:265] = b"\x0000"
    return bytes(body[: max(size, 262)])


def real_archive(rng: random.Random, key: bytes) -> bytes:
    if rng.random() < 0.5:
        return gzip.compress(b"k=" + key + b"\n")
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("a.txt", b"k=" + key + b"\n")
    return b.getvalue()


def rand_content(rng: random.Random, typ: str) -> bytes:
    n = rng.choice([0, 0, 1, 2, 3, rng.randrange(0, 40), rng.randrange(0, 300), rng.randrange(250, 300)])
    body = bytearray(rng.randbytes(n)) if rng.random() < 0.3 else bytearray(rng.choice(ALPHA) for _ in range(n))
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 5])):
        needle = rng.choice(NEEDLES)
        if rng.random() < 0.2:
            needle = needle[: rng.randrange(1, len(needle))] if len(needle) > 1 else needle  # cut short
        at = rng.choice([0, len(body), rng.randrange(0, len(body) + 1)])
        body[at:at] = needle
    if rng.random() < 0.05:
        at = rng.randrange(0, len(body) + 1)
        body[at:at] = b"K=" + make_key(rng) + b"\n"
    r = rng.random()
    if r < 0.04:
        body[0:0] = rng.choice([b"\x1f\x8b\x08\0\0\0\0\0", b"PK\x03\x04", b"\x1f\x8b", b"P", b"BZh9", b"\xfd7zXZ\0"])
    elif r < 0.06:
        body = bytearray(tar_like(rng, rng.choice([261, 262, 263, 300, 600])))
    elif r < 0.07:
        body = bytearray(real_archive(rng, make_key(rng)))
    elif r < 0.09:  # a first byte of FIRST_BYTES that starts no container
        body[0:0] = bytes([rng.choice(b"P\x1fB\xfd\x287%Sx")])
    elif r < 0.1:  # ustar one byte off 257
        body = bytearray(b"a" * 300)
        off = rng.choice([256, 258])
        body[off : off + 5] = b"ustar"
    if typ in ("commit", "tag") and rng.random() < 0.8:
        head = b"tree " + rand_oid(rng) + b"\nauthor A <a@b> 1 +0000\n"
        if rng.random() < 0.3:
            head += b"x-needle " + rng.choice(NEEDLES) + b"\n"
        sep = b"\n" if rng.random() < 0.9 else b""
        body = bytearray(head + sep + bytes(body))
    return bytes(body)


def rand_size_field(rng: random.Random, size: int) -> tuple[bytes, bool]:
    """(size field, whether it states the content's real size)."""
    r = rng.random()
    if r < 0.85:
        return str(size).encode(), True
    if r < 0.90:
        return b"0" * rng.randrange(1, 25) + str(size).encode(), True  # leading zeros (maybe > 20 digits)
    if r < 0.92:
        return b"+" + str(size).encode(), True  # int() takes it; the regex does not
    if r < 0.93 and size >= 10:
        s = str(size)
        return (s[:1] + "_" + s[1:]).encode(), True  # int() takes it too
    if r < 0.96:
        # huge: 20 digits (regex-sized) or more; never 10**9..10**18 (the reader would try to allocate it)
        return rng.choice([b"9" * 20, b"1" + b"0" * 19, b"9" * 25, str(2**64).encode()]), False
    if r < 0.98:
        return str(size + rng.choice([-2, -1, 1, 2])).encode() if size >= 2 else b"5", False
    return rng.choice([b"-1", b"x", b"", b"1e3", b"0x10"]), False


def rand_answer(rng: random.Random, clean: bool = False) -> bytes:
    r = rng.random()
    if clean:  # well-formed: what git writes (objects and problems, lowercase ids, exact sizes)
        if r < 0.03:
            return "".join(rng.choice(HEX) for _ in range(40)).encode() + b" missing\n"
        typ = rng.choices(["blob", "commit", "tag", "tree"], [75, 12, 5, 8])[0]
        content = rand_content(rng, typ)
        oid = "".join(rng.choice(HEX) for _ in range(rng.choice([40, 64])))
        if rng.random() < 0.15:
            oid = oid[:10] + "3d2" + oid[13:]
        return f"{oid} {typ} {len(content)}\n".encode() + content + b"\n"
    if r < 0.07:
        return rand_oid(rng) + rng.choice([b" missing\n", b" ambiguous\n"])
    if r < 0.075:
        return rng.choice([b"garbage line\n", rand_oid(rng) + b" missing extra\n", b"\n", rand_oid(rng) + b"\n"])
    typ = rng.choices(["blob", "commit", "tag", "tree", "other"], [70, 10, 5, 12, 3])[0]
    content = rand_content(rng, typ)
    typ_b = typ.encode() if typ != "other" else rng.choice([b"BLOB", b"blobx", b"missing", b"ambiguous", b"x"])
    size_b, _ = rand_size_field(rng, len(content))
    sep1 = b" " if rng.random() < 0.97 else rng.choice([b"  ", b"\t", b" \x0b"])
    sep2 = b" " if rng.random() < 0.97 else rng.choice([b"  ", b"\t", b"\r"])
    tail = b"\n" if rng.random() < 0.98 else rng.choice([b"", b"X", b"\r\n"])
    return rand_oid(rng) + sep1 + typ_b + sep2 + size_b + b"\n" + content + tail


def dense_answers(rng: random.Random) -> list[bytes]:
    """A run with more than 4096 needles in all (the one look stops), maybe a key somewhere."""
    out = []
    for _i in range(rng.randrange(3, 12)):
        content = (rng.choice([b"3d2 ", b"wvz.", b"Hd2", b"%77"]) * rng.randrange(300, 1500)) + b"\n"
        if rng.random() < 0.3:
            content += b"K=" + make_key(rng) + b"\n"
        typ = rng.choice([b"blob", b"blob", b"blob", b"commit"])
        if typ == b"commit":
            content = b"tree " + b"a" * 40 + b"\n\n" + content
        out.append(rand_oid(rng) + b" " + typ + b" " + str(len(content)).encode() + b"\n" + content + b"\n")
    # clean small blobs between them: they must still be judged each alone
    for _ in range(rng.randrange(0, 6)):
        c = bytes(rng.choice(b"abc \n") for _ in range(rng.randrange(0, 30)))
        out.insert(rng.randrange(0, len(out) + 1), b"b" * 40 + b" blob " + str(len(c)).encode() + b"\n" + c + b"\n")
    return out


def rand_stream(rng: random.Random) -> bytes:
    if rng.random() < 0.1:
        parts = dense_answers(rng)
    else:
        clean = rng.random() < 0.5
        count = rng.choice([1, 2, 5, rng.randrange(1, 60), rng.randrange(1, 200)])
        parts = [rand_answer(rng, clean) for _ in range(count)]
        if rng.random() < 0.03:
            # an overlong header line: ended by a newline, running into the next answer's header (a
            # line of three words then), or at the very end of the stream
            long = b"x" * rng.choice([4095, 4096, 4097, 5000])
            where = rng.random()
            if where < 0.35:
                parts.insert(rng.randrange(0, len(parts) + 1), long + b"\n")
            elif where < 0.7:
                parts.insert(rng.randrange(0, len(parts) + 1), long)
            else:
                parts.append(long)
    stream = b"".join(parts)
    if rng.random() < 0.12 and stream:
        stream = stream[: rng.randrange(0, len(stream))]  # truncated tail
    return stream


# ---------------------------------------------------------------- readers


def reader_of(stream: bytes, piece: int, size: int) -> AnswerReader:
    src = io.BytesIO(stream)

    def read_into(view: memoryview) -> int:
        chunk = src.read(min(piece, len(view)))
        view[: len(chunk)] = chunk
        return len(chunk)

    return AnswerReader(read_into, size=size)


def via_next(stream: bytes, piece: int, size: int) -> tuple[list, str | None]:
    reader = reader_of(stream, piece, size)
    out = []
    try:
        while (a := reader.next()) is not None:
            oid, typ, view = a
            assert type(oid) is bytes and type(typ) is str, (type(oid), type(typ))
            out.append((oid, typ, None if view is None else bytes(view)))
    except Exception as e:  # noqa: BLE001 - compared
        return out, type(e).__name__
    return out, None


STATS: Counter[str] = Counter()


def via_take(stream: bytes, piece: int, size: int, rng: random.Random) -> tuple[list, str | None]:
    reader = reader_of(stream, piece, size)
    out = []
    takes = 0
    try:
        while (got := reader.take()) is not None:
            takes += 1
            assert takes <= len(stream) + 2, "take() makes no progress"
            view, answers = got
            assert answers, "take() handed over an empty run"
            for oid, typ, body, n in answers:
                assert type(oid) is bytes and type(typ) is str and type(body) is int and type(n) is int
                out.append((oid, typ, None if body < 0 else bytes(view[body : body + n])))
            try:
                check_quick_run(view, answers, rng)
            except AssertionError:
                raise
            except Exception as e:  # noqa: BLE001
                raise AssertionError(f"quick_run raised {e!r} on {answers!r}") from e
    except Exception as e:  # noqa: BLE001 - compared
        if isinstance(e, AssertionError):
            raise
        return out, type(e).__name__
    return out, None


# ---------------------------------------------------------------- quick_run oracle


def holds_key(content: bytes) -> bool:
    return any(True for _ in scan.hits(content))


def check_quick_run(view: memoryview, answers: list, rng: random.Random) -> None:
    max_size = rng.choice([None, None, 0, 1, 50, 100, 300])
    result = ScanResult()
    quick = ObjectScanner(scan.Scanner(result), result, max_size=max_size)
    look = _Look(view, answers)
    if look.hits is None:
        STATS["look_none"] += 1
    else:
        STATS["look_used"] += 1
    if len(answers) >= 2 and min(a[2] for a in answers) >= 0:
        lo, hi = answers[0][2], answers[-1][2] + answers[-1][3]
        if scan.needle_spans(view[lo:hi]) is None:
            STATS["look_stopped"] += 1  # Hyperscan is there (the test needs it): the look stopped
    # Sometimes hand quick_run a view whose .obj is bytes, or one that is neither bytes nor bytearray.
    mode = rng.random()
    if mode < 0.15:
        qview = memoryview(bytes(view))
    elif mode < 0.25:
        import array

        qview = memoryview(array.array("B", bytes(view))).cast("B")
    else:
        qview = view
    passed, counted, raw, rest = quick.quick_run(qview, answers)
    # rest: a subsequence of answers, in order, the very tuples
    it = iter(range(len(answers)))
    kept = set()
    for r in rest:
        for i in it:
            if answers[i] is r or answers[i] == r:
                kept.add(i)
                break
        else:
            raise AssertionError(f"rest is not an ordered subsequence of the answers: {r!r}")
    want_passed = want_counted = want_raw = 0
    for i, (_oid, typ, body, size) in enumerate(answers):
        content = None if body < 0 else bytes(view[body : body + size])
        if body < 0 or typ not in ("blob", "commit", "tag"):
            maybe, n = True, None
        elif typ == "blob":
            if max_size is not None and size > max_size:
                maybe, n = True, None
            else:
                maybe = not scan.certainly_clean(content)
                n = None if maybe else len(content)
        else:
            n = quick.quick_message(memoryview(content))
            maybe = n is None
        if maybe:
            STATS["maybe"] += 1
            assert i in kept, (
                f"MISS: quick_run passed answer {i} ({typ}, size {size}) that the per-object check calls maybe: "
                f"{content[:120]!r}"
            )
        if content is not None and i not in kept:
            scanned = content if typ == "blob" else content.partition(b"\n\n")[2]  # what ``chunk`` scans
            assert not holds_key(scanned), f"MISS: passed a {typ} holding a key: {content[:120]!r}"
        if i not in kept:
            STATS["passed"] += 1
            want_passed += 1
            want_raw += size
            want_counted += n if n is not None else 0
            assert n is not None, "passed an object the per-object check could not count"
        elif not maybe:
            # kept though the per-object check would pass it (fine: the full path decides)
            STATS[f"conservative:{typ}:{'look' if look.hits is not None else 'alone'}"] += 1
        if i not in kept and look.hits is not None:
            STATS["passed_by_look"] += 1
    assert (passed, counted, raw) == (want_passed, want_counted, want_raw), (
        (passed, counted, raw),
        (want_passed, want_counted, want_raw),
    )


# ---------------------------------------------------------------- driver

PIECES = [1, 2, 3, 7, 13, 64, 1000, 1 << 20, 1 << 20, 1 << 20]
SIZES = [64, 100, 256, 4096, 1 << 16, 4 * PIPE_SIZE, 4 * PIPE_SIZE]


def dump(stream: bytes, piece: int, size: int) -> None:
    with open("/tmp/fuzz_quick_fail.bin", "wb") as f:
        f.write(stream)
    print(f"failing stream in /tmp/fuzz_quick_fail.bin (piece={piece}, size={size})", file=sys.stderr)


def one_case(rng: random.Random, stream: bytes | None = None, cross_pieces: bool = True) -> None:
    if stream is None:
        stream = rand_stream(rng)
    ref = via_next(stream, rng.choice(PIECES), rng.choice(SIZES))
    STATS["cases"] += 1
    STATS["answers"] += len(ref[0])
    STATS[f"end:{ref[1]}"] += 1
    for _ in range(2):
        piece, size = rng.choice(PIECES), rng.choice(SIZES)
        if rng.random() < 0.3:
            piece, size = 1 << 22, (len(stream) + 1) << 1  # everything in one take
        if not cross_pieces:
            ref = via_next(stream, piece, size)  # the same pieces on both sides
        again = via_next(stream, piece, size)
        assert again == ref, f"next() itself differs with piece={piece} size={size}: {stream[:200]!r}"
        try:
            got = via_take(stream, piece, size, rng)
        except AssertionError:
            dump(stream, piece, size)
            raise
        if got != ref:
            dump(stream, piece, size)
            # find the first difference for the report
            a, b = ref[0], got[0]
            k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            raise AssertionError(
                f"take() != next(): piece={piece} size={size} first diff at answer {k}: "
                f"next={a[k : k + 1]!r} ({len(a)}, end {ref[1]}) take={b[k : k + 1]!r} ({len(b)}, end {got[1]})\n"
                f"stream={stream[:400]!r}"
            )


def run(cases: int, seed: int) -> Counter[str]:
    rng = random.Random(seed)
    for c in range(cases):
        state = rng.getstate()
        try:
            one_case(rng)
        except AssertionError:
            print(f"case {c} (seed {seed}) failed", file=sys.stderr)
            rng.setstate(state)
            raise
    return STATS


def test_fuzz_quick() -> None:
    if not Prefilter([b"wvz"]).available:
        import pytest

        pytest.skip("Hyperscan is not installed")
    run(400, 1)


if __name__ == "__main__":
    assert Prefilter([b"wvz"]).available, "Hyperscan is needed for the one-look path"
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    import time

    t = time.time()
    stats = run(n, seed)
    print(f"{time.time() - t:.1f}s", dict(sorted(stats.items())))
