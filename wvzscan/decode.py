"""Views of content in which a key may hide: base64, percent-encoding, JSON/JS escapes, UTF-16.

Cost decides the shape of this module. Decoding a whole file is never done: each encoding has a
prefilter that looks for what the *prefix* ``wvz_`` turns into under that encoding, and only a small
window around each hit is decoded and handed to the detector. On ordinary content the prefilters
are the whole cost, so each is as cheap as it can be made:

- base64: ``wvz_`` has exactly three shapes, one per alignment of the key in the decoded bytes
  (``d3Z6X``, ``d2el``, ``3dnpf``; none holds ``+`` or ``/``, so they are the URL-safe shapes too).
  Wrapped base64 may break a shape across lines, so pieces of the shapes are searched for
  (``B64_PIECES``). Searched only in text (no NUL byte in the first 8 KiB: the test git and grep use).
- percent-encoding (``url``): ``wvz%5F`` (found through the literal ``wvz``, which the plain scan
  looks for anyway) and ``%77%76%7A%5F``, searched only in text that holds a ``%``.
- JSON/JavaScript escapes (``json-escape``): ``wvz\\u005f``, ``wvz\\x5f`` (through ``wvz`` again) and
  fully escaped prefixes ``\\u0077\\u0076...``, ``\\x77\\x76...``, searched only in text holding ``\\``.
- UTF-16 (``utf-16``): ``w\\0v\\0z\\0_\\0``, searched only in content that holds NUL bytes. This one
  needle finds both byte orders (big-endian ``\\0w\\0v\\0z\\0_\\0b`` holds it too); the order is read
  from a BOM, else from the parity of the offset (UTF-16 code units start at even offsets).

Every ``Encoded`` gives the offset of the encoded key in the original content, so line and column
point at where the encoded text sits.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

from wvzscan import detect
from wvzscan.budget import SKIP_DEPTH, Budget, OverLimit

# What a text file is: no NUL in its first 8 KiB (git's and grep's test for binary content).
TEXT_PROBE = 8192

_LONGEST = len(detect.PREFIX) + detect.MAX_BODY + 1  # the detector reads one character past a key


@dataclass(frozen=True)
class Encoded:
    """A key found in a decoded view: ``start``/``end`` are offsets in the original content."""

    key: str
    start: int
    end: int
    encoding: str
    # Set when line/column cannot be read off the original bytes as UTF-8 (UTF-16 content).
    line: int | None = None
    column: int | None = None


def is_text(data: bytes) -> bool:
    return b"\0" not in data[:TEXT_PROBE]


def encoded_keys(
    data: bytes,
    rules: detect.Rules = detect.DEFAULT_RULES,
    has_wvz: bool | None = None,
    found: Found | None = None,
    budget: Budget | None = None,
    depth: int | None = None,
) -> Iterator[Encoded]:
    """Every key held in ``data`` in one of the encodings above (plain keys are not repeated here).

    ``has_wvz``: whether ``data`` holds the literal ``wvz`` (the caller's plain scan knows already).
    ``found``: where each of ``NEEDLES`` starts, when a one-pass prefilter already looked; else each
    decoder searches for its own needles.
    """
    want = rules.decode
    if not want:
        return
    if has_wvz is None:
        has_wvz = b"wvz" in data
    if depth is None:
        depth = rules.archives.decode_depth
    at = _Starts(data, found)
    if is_text(data):
        if "base64" in want:
            yield from _base64(data, rules, at)
            if depth >= 2:  # a base64 layer and one under it at least
                yield from _nested(data, rules, at, budget, depth)
        if want & {"url", "html", "json-escape"}:
            yield from _escaped(data, rules, has_wvz, at)
    elif "utf-16" in want:
        yield from _utf16(data, rules, at)


Found = dict[bytes, list[int]]


class _Starts:
    """Where a needle starts: from the one-pass prefilter when it ran, else by searching."""

    def __init__(self, data: bytes, found: Found | None) -> None:
        self.data = data
        self.found = found

    def group(self, needles: tuple[bytes, ...], pattern: re.Pattern[bytes]) -> dict[bytes, list[int]]:
        """Where each of ``needles`` starts. Without the prefilter, one regex pass (``pattern``: the
        needles as alternatives) costs less than one ``bytes.find`` pass per needle."""
        if self.found is not None:
            return {n: self.found.get(n, []) for n in needles}
        out: dict[bytes, list[int]] = {n: [] for n in needles}
        search = pattern.search
        m = search(self.data)
        while m is not None:  # from the next byte, not the match's end: needles may overlap
            p = m.start()
            for n in needles:
                if self.data.startswith(n, p):
                    out[n].append(p)
            m = search(self.data, p + 1)
        return out

    def __call__(self, needle: bytes) -> Iterator[int]:
        if self.found is not None and needle in self.found:
            yield from self.found[needle]
            return
        find = self.data.find
        pos = find(needle)
        while pos != -1:
            yield pos
            pos = find(needle, pos + 1)


# --- base64 --------------------------------------------------------------------------------------

# (alignment of `w` in its 3-byte group, offset of the shape in the 4-character quantum, shape)
B64_SHAPES = ((0, 0, b"d3Z6X"), (1, 2, b"d2el"), (2, 3, b"3dnpf"))
# What is searched for: pieces of the shapes such that a line break anywhere inside a shape (wrapped
# base64: MIME at 76 characters, PEM at 64, YAML block scalars) leaves at least one piece whole.
# (piece, index of its shape, offset of the piece in the shape). No piece of `d2el` survives a break
# between `d2` and `el`, so its pieces start one character before it: the character that holds the
# byte before the key's low bits and the top of `w` is one of `H`, `X`, `n`, `3`. (Pieces holding a
# newline, `d2\n`, would do too but slow Hyperscan down by a fifth on source code.)
B64_PIECES = (
    (b"d3Z", 0, 0),
    (b"Z6X", 0, 2),
    (b"Hd2", 1, -1),
    (b"Xd2", 1, -1),
    (b"nd2", 1, -1),
    (b"3d2", 1, -1),
    (b"2el", 1, 1),
    (b"3dn", 2, 0),
    (b"npf", 2, 2),
)
_B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
# `%2B`, `%2F`: a base64 token in a URL query or a form body (``url>base64``)
_B64_RUN = re.compile(rb"(?:[A-Za-z0-9+/_-]|%2[BbFf])+")
_B64_NEWLINE = re.compile(rb"=*\r?\n[ \t]*")
_URLSAFE = bytes.maketrans(b"-_", b"+/")
# Enough characters for a group of context, the longest key and the character after it.
_B64_WINDOW = 4 * ((3 + _LONGEST + 2) // 3 + 1)


def _b64_run(data: bytes, start: int, limit: int = _B64_WINDOW) -> tuple[bytes, list[int]]:
    """The base64 text from ``start``, across line breaks (MIME, PEM wrap at 64 or 76), capped at
    ``limit`` characters, and where each of its characters sits in ``data``."""
    out = b""
    where: list[int] = []
    pos = start
    while len(out) < limit:
        m = _B64_RUN.match(data, pos, pos + limit - len(out))
        if m is None:
            break
        piece = m.group()
        if b"%" in piece:
            for t in re.finditer(rb"%2[BbFf]|.", piece, re.DOTALL):
                out += (
                    b"+"
                    if t.group()[-1:] in b"Bb" and len(t.group()) == 3
                    else (b"/" if len(t.group()) == 3 else t.group())
                )
                where.append(m.start() + t.start())
        else:
            out += piece
            where.extend(range(m.start(), m.end()))
        pos = m.end()
        nl = _B64_NEWLINE.match(data, pos)
        if nl is None or nl.end() >= len(data) or data[nl.end()] not in _B64_CHARS or data[pos] == 0x3D:
            break  # no next line, or padding ended this one
        nxt = _B64_RUN.match(data, nl.end())
        if nxt is not None and nxt.end() < len(data) and data[nxt.end()] not in b"\r\n=\"'":
            break  # the next line is not base64 to its end (`kind: Secret` after a YAML value)
        pos = nl.end()
    return out, where


def _b64_back(data: bytes, pos: int, n: int) -> int | None:
    """Where the base64 character ``n`` characters before the one at ``pos`` sits, across line
    breaks (a newline, CRLF too, and the next line's indentation); None when the base64 text starts sooner."""
    while n > 0:
        j = pos - 1
        if j < 0:
            return None
        if data[j] not in _B64_CHARS:
            while j >= 0 and data[j] in b" \t":
                j -= 1
            if j < 0 or data[j] != 0x0A:
                return None
            j -= 1
            if j >= 0 and data[j] == 0x0D:
                j -= 1
            if j < 0 or data[j] not in _B64_CHARS:
                return None
        elif j >= 2 and data[j - 2] == 0x25 and data[j - 1] == 0x32 and data[j] in b"BbFf":
            j -= 2  # `%2B`, `%2F`: one character of a URL-encoded base64 token
        pos = j
        n -= 1
    return pos


def _b64_decode(text: bytes) -> bytes | None:
    text = text.translate(_URLSAFE)
    text = text[: len(text) - len(text) % 4] if len(text) % 4 == 1 else text
    try:
        return binascii.a2b_base64(text + b"=" * (-len(text) % 4))
    except binascii.Error:
        return None


def _base64(data: bytes, rules: detect.Rules, at: _Starts) -> Iterator[Encoded]:
    shapes: list[set[int]] = [set() for _ in B64_SHAPES]  # where each shape starts
    for piece, index, offset in B64_PIECES:
        shape = B64_SHAPES[index][2]
        for pos in at(piece):
            p = _b64_back(data, pos, offset) if offset > 0 else pos - offset
            if p is not None and p not in shapes[index] and _b64_run(data, p, len(shape))[0] == shape:
                shapes[index].add(p)
    for (align, offset, _shape), starts in zip(B64_SHAPES, shapes, strict=True):
        for pos in sorted(starts):
            hit = _b64_at(data, pos, align, offset, rules)
            if hit is not None:
                yield hit


def _b64_at(data: bytes, pos: int, align: int, offset: int, rules: detect.Rules) -> Encoded | None:
    q = _b64_back(data, pos, offset) if offset else pos  # where the 4-character group holding `w` starts
    if q is None:
        return None
    ctx = align
    before = _b64_back(data, q, 4)
    if before is not None:
        q = before  # one group more, so the detector sees the byte before the key
        ctx += 3
    text, where = _b64_run(data, q)
    decoded = _b64_decode(text)
    if decoded is None:
        return None
    for m in detect.find_keys(decoded, rules):
        if m.start == ctx:
            last = min(-(-8 * m.end // 6), len(where)) - 1  # the last character holding the key's bits
            s0, s1 = where[(8 * ctx) // 6], where[last] + 1
            name = "url>base64" if b"%" in data[where[0] : where[-1] + 1] else "base64"
            return Encoded(m.key, s0, s1, name)
        if m.start > ctx:
            break
    return None


# --- nested layers: base64 holding something to decode again ------------------------------------
#
# A decoded base64 layer is looked into again only where it can hold more: its shape says so before
# anything is decoded. Two kinds of needles, computed from what the inner layer starts with:
# - at any offset, the base64 shapes (three alignments) of the key's prefix in UTF-16 and of the three
#   base64 shapes of the prefix (base64 of base64): a window around them is decoded and looked into;
# - at the start of a base64 token, the base64 of a compressed stream's magic bytes (gzip, zstd, bz2,
#   xz), and the base64 of that base64 (Helm's release secrets: gzip, base64, base64 by Kubernetes):
#   the whole token is decoded, within the budget, and opened layer by layer.
# Each layer is named in the finding's encoding, outermost first: ``base64>base64>gzip``.


def _b64_shapes(prefix: bytes) -> list[tuple[int, int, bytes]]:
    """(alignment, offset in the quantum, shape) of ``prefix`` in base64, for each alignment 0-2: the
    characters its bits alone decide."""
    import base64

    out = []
    for align in range(3):
        enc = base64.b64encode(b"\0" * align + prefix + b"\0\0")
        first = -(-8 * align // 6)
        last = (8 * (align + len(prefix))) // 6  # exclusive
        out.append((align, first % 4, enc[first:last]))
    return out


def _b64_lead(prefix: bytes) -> bytes:
    """The base64 characters that ``prefix`` at the start of a token decides."""
    import base64

    return base64.b64encode(prefix)[: (8 * len(prefix)) // 6]


# Inner prefixes found at any offset: the key's prefix in UTF-16 (both orders) and its base64 shapes.
_INNER = (b"w\0v\0z\0_\0", b"\0w\0v\0z\0_", *(shape for _, _, shape in B64_SHAPES))
NESTED_SHAPES: tuple[tuple[int, int, bytes, int], ...] = tuple(
    (align, offset, shape, 2 if b"\0" in inner else 1)
    for inner in _INNER
    for align, offset, shape in _b64_shapes(inner)
    if len(shape) >= 5
)
_MAGICS = (b"\x1f\x8b\x08", b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ\x00")
# Needles at a token's start: base64 of a magic, base64 of base64 of it.
NESTED_LEADS: tuple[bytes, ...] = tuple(
    sorted({_b64_lead(m) for m in _MAGICS} | {_b64_lead(_b64_lead(m)) for m in _MAGICS})
)
_NESTED_NEEDLES = tuple(sorted({shape for _, _, shape, _ in NESTED_SHAPES} | set(NESTED_LEADS)))
_NESTED_RE = re.compile(b"|".join(re.escape(n) for n in _NESTED_NEEDLES))
_B64_TEXT = re.compile(rb"[A-Za-z0-9+/_\-\s]*=*\s*\Z")


def _nested(data: bytes, rules: detect.Rules, at: _Starts, budget: Budget | None, depth: int) -> Iterator[Encoded]:
    where = at.group(_NESTED_NEEDLES, _NESTED_RE)
    if not any(where.values()):
        return
    if budget is None:  # a caller outside a scan (tests, benchmarks): a budget of its own
        budget = Budget(rules.archives)
    for align, offset, shape, grow in NESTED_SHAPES:
        for pos in where[shape]:
            yield from _nested_window(data, pos, align, offset, grow, rules, budget, depth)
    for lead in NESTED_LEADS:
        for pos in where[lead]:
            if pos == 0 or data[pos - 1] not in _B64_CHARS:
                yield from _nested_token(data, pos, rules, budget, depth)


def _nested_window(
    data: bytes, pos: int, align: int, offset: int, grow: int, rules: detect.Rules, budget: Budget, depth: int
) -> Iterator[Encoded]:
    q = _b64_back(data, pos, offset) if offset else pos
    if q is None:
        return
    before = _b64_back(data, q, 8)
    if before is not None:
        q = before
    limit = 4 * ((6 + grow * 2 * _LONGEST + 8) // 3 + 2)
    text, where = _b64_run(data, q, limit)
    decoded = _b64_decode(text)
    if not decoded:
        return
    yield from _below(decoded, where, rules, budget, depth)


def _nested_token(data: bytes, pos: int, rules: detect.Rules, budget: Budget, depth: int) -> Iterator[Encoded]:
    limit = 4 * (budget.bytes_left // 3) + 4
    text, where = _b64_run(data, pos, min(limit, len(data) - pos + 4))
    if len(text) < 16:
        return
    decoded = _b64_decode(text)
    if not decoded:
        return
    try:
        budget.charge(len(decoded), len(text), "base64 layer")
    except OverLimit as e:
        budget.skip(e.reason, f"offset {pos}", str(e))
        return
    yield from _below(decoded, where, rules, budget, depth)


def _below(decoded: bytes, where: list[int], rules: detect.Rules, budget: Budget, depth: int) -> Iterator[Encoded]:
    """Keys in the layers under a decoded base64 run (``where``: its characters' offsets), placed on
    the run. A key as it is in the run's own layer is ``_base64``'s finding, not a nested one."""
    for key, inner in _layer(decoded, rules, budget, depth - 1):
        if inner != "plain":
            yield Encoded(key, where[0], where[-1] + 1, "base64>" + inner)


def _layer(data: bytes, rules: detect.Rules, budget: Budget, depth: int) -> Iterator[tuple[str, str]]:
    """Keys in one decoded layer and the layers under it (``depth`` of them at most), with the names of
    those layers ("plain" when the key sits in this layer as it is)."""
    from wvzscan.sources import archives

    what = archives.kind(data)
    if what in archives.STREAMS:
        if depth < 1:
            budget.skip(
                SKIP_DEPTH, "decoded layer", f"{what} inside decoded content not opened: deeper than decode_depth"
            )
            return
        try:
            out = archives.decompress(what, data, budget)
        except OverLimit as e:
            budget.skip(e.reason, "decoded layer", str(e))
            return
        except ValueError as e:
            budget.result.error("decoded layer", f"cannot read {what} inside decoded content: {e}")
            return
        for key, inner in _layer(out, rules, budget, depth - 1):
            yield key, what if inner == "plain" else f"{what}>{inner}"
        return
    if depth >= 1 and len(data) >= 16 and _B64_TEXT.match(data):
        again = _b64_decode(re.sub(rb"\s+", b"", data))
        if again and archives.kind(again) in archives.STREAMS:
            try:
                budget.charge(len(again), len(data), "base64 layer")
            except OverLimit as e:
                budget.skip(e.reason, "decoded layer", str(e))
                return
            for key, inner in _layer(again, rules, budget, depth - 1):
                yield key, "base64" if inner == "plain" else f"base64>{inner}"
            return
    for m in detect.find_keys(data, rules):
        yield m.key, "plain"
    if depth >= 1:
        for enc in encoded_keys(data, rules, budget=budget, depth=depth):
            yield enc.key, enc.encoding


# --- text escapes: percent-encoding, HTML/XML character references, string escapes, in any mix ---

# One escaped character of any kind. Groups: double percent, percent, hex and decimal character
# references, named reference, \u{...}, \U........, \u...., \x.., octal, any other backslash escape.
_UNIT = re.compile(
    rb"%25([0-9A-Fa-f]{2})|%([0-9A-Fa-f]{2})"
    rb"|&#[xX]0*([0-9A-Fa-f]{1,6});?|&#0*([0-9]{1,7});?|&([A-Za-z][A-Za-z0-9]{1,31};)"
    rb"|\\u\{0*([0-9A-Fa-f]{1,6})\}|\\U([0-9A-Fa-f]{8})|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})"
    rb"|\\([0-7]{1,3})|\\(.)",
    re.DOTALL,
)
_UNIT_BEFORE = re.compile(rb"(?:" + _UNIT.pattern + rb")\Z", re.DOTALL)
# The kind of escape each group of _UNIT is (the finding's ``encoding``); double percent is two layers.
_UNIT_KIND = (
    "url>url",
    "url",
    "html",
    "html",
    "html",
    "json-escape",
    "json-escape",
    "json-escape",
    "json-escape",
    "json-escape",
    "json-escape",
)
_UNIT_BASE = (16, 16, 16, 10, 0, 16, 16, 16, 16, 8, 0)
_SIMPLE_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"v": b"\v", b"a": b"\a"}
_LONGEST_UNIT = 12  # `\U0000005f` is 10 characters, `&#x0000005F;` 12

# Where an escaped key can start: `w` escaped in every way, a plain `w` before an escaped `v`, and a
# plain `wv` before an escaped `z` (a plain `wvz` is found through the plain scan's own needle). Whole
# escapes, not `w\\` or `w%` alone: those are in every regex and format string and would send ordinary
# files down the decoding path.
_W_FORMS = (b"%77", b"%2577", b"&#119", b"&#x77", b"&#X77", b"\\x77", b"\\u0077", b"\\U00000077", b"\\167", b"\\u{77}")
_V_FORMS = (b"%76", b"%2576", b"&#118", b"&#x76", b"&#X76", b"\\x76", b"\\u0076", b"\\U00000076", b"\\166", b"\\u{76}")
_Z_FORMS = (b"%7", b"%257", b"&#122", b"&#x7", b"&#X7", b"\\x7", b"\\u007", b"\\U0000007", b"\\172", b"\\u{7")
ESC_NEEDLES = (*_W_FORMS, *(b"w" + v for v in _V_FORMS), *(b"wv" + z for z in _Z_FORMS))
_INTRODUCERS = frozenset(b"%&\\")
_ESC_RE = re.compile(b"|".join(re.escape(n) for n in ESC_NEEDLES))
_BODY_RUN = re.compile(rb"[A-Za-z0-9_-]*")


def _named_refs() -> dict[bytes, bytes]:
    import html.entities

    return {k.encode(): v.encode("utf-8") for k, v in html.entities.html5.items() if k.endswith(";")}


_NAMED: dict[bytes, bytes] = {}


def _unit_value(m: re.Match[bytes]) -> tuple[bytes, str] | None:
    """What one escape stands for and its kind; None when it stands for nothing (an unknown name)."""
    i = m.lastindex
    if i is None:
        return None
    g = m.group(i)
    base = _UNIT_BASE[i - 1]
    kind = _UNIT_KIND[i - 1]
    if base == 0:
        if i == 5:  # a named reference: `&lowbar;`
            if not _NAMED:
                _NAMED.update(_named_refs())
            v = _NAMED.get(g)
            return (v, kind) if v is not None else None
        return _SIMPLE_ESCAPES.get(g, g), kind
    n = int(g, base)
    if i <= 2:  # percent: a byte
        return bytes([n]), kind
    if n > 0x10FFFF:
        return None
    return chr(n).encode("utf-8", "surrogatepass"), kind


@dataclass
class _Decoded:
    data: bytearray
    where: list[int]  # where[i]: offset in the original of the unit that gave decoded byte i
    kinds: list[str]  # kinds[i]: the escape that gave decoded byte i ("" for a plain byte)


def _unescape(data: bytes, start: int, end: int) -> _Decoded:
    out = _Decoded(bytearray(), [], [])
    pos = start
    for m in _UNIT.finditer(data, start, end):
        value = _unit_value(m)
        if value is None:
            continue
        if m.start() > pos:
            out.data += data[pos : m.start()]
            out.where.extend(range(pos, m.start()))
            out.kinds.extend([""] * (m.start() - pos))
        piece, kind = value
        out.data += piece
        out.where += [m.start()] * len(piece)
        out.kinds += [kind] * len(piece)
        pos = m.end()
    if end > pos:
        out.data += data[pos:end]
        out.where.extend(range(pos, end))
        out.kinds.extend([""] * (end - pos))
    return out


def _starts_prefix(data: bytes, s: int) -> bool:
    """Whether the text at ``s`` decodes to ``wvz_``: a needle hit that does not (`\\w\\s` in a regex,
    `w%` in a format string) costs four steps, not a window's decoding."""
    pos = s
    for want in detect.PREFIX:
        if pos >= len(data):
            return False
        if data[pos] in _INTRODUCERS:
            m = _UNIT.match(data, pos)
            value = _unit_value(m) if m is not None else None
            if value is None or value[0] != bytes([want]):
                return False
            pos = m.end() if m is not None else pos + 1
        elif data[pos] == want:
            pos += 1
        else:
            return False
    return True


def _kind_name(kinds: list[str]) -> str:
    used = sorted({k for k in kinds if k})
    return "+".join(used) if used else "plain"


def _escape_starts(data: bytes, has_wvz: bool, at: _Starts) -> list[int]:
    starts: set[int] = set()
    if any(ch in data for ch in (b"%", b"&#", b"\\")):
        for found in at.group(ESC_NEEDLES, _ESC_RE).values():
            starts.update(found)
    if has_wvz:
        # a plain `wvz` followed, at once or after a run of body characters, by an escape
        for p in at(b"wvz"):
            run = _BODY_RUN.match(data, p + 3, p + 4 + detect.MAX_BODY + 1)
            if run is not None and run.end() < len(data) and data[run.end()] in _INTRODUCERS:
                starts.add(p)
    return sorted(starts)


def _escaped(data: bytes, rules: detect.Rules, has_wvz: bool, at: _Starts) -> Iterator[Encoded]:
    """Keys with any of their characters escaped, in any mix of escapes."""
    allowed = {"url", "html", "json-escape"} & rules.decode
    for s in _escape_starts(data, has_wvz, at):
        if not _starts_prefix(data, s):
            continue
        b = _UNIT_BEFORE.search(data, max(0, s - _LONGEST_UNIT), s)
        first = b.start() if b is not None else max(0, s - 1)
        end = min(len(data), s + _LONGEST_UNIT * (_LONGEST + 1))
        view = _unescape(data, first, end)
        for m in detect.find_keys(bytes(view.data), rules):
            if view.where[m.start] != s:
                if view.where[m.start] > s:
                    break
                continue
            kinds = view.kinds[m.start : m.end]
            name = _kind_name(kinds)
            if name == "plain":
                continue  # the plain scan's
            if not all(k.split(">")[0] in allowed for k in kinds if k):
                continue
            stop = view.where[m.end] if m.end < len(view.where) else end
            yield Encoded(m.key, s, stop, name)
            break


# --- UTF-16 --------------------------------------------------------------------------------------

UTF16_NEEDLE = b"w\0v\0z\0_\0"


def _utf16(data: bytes, rules: detect.Rules, at: _Starts) -> Iterator[Encoded]:
    bom = data[:2]
    lines = _U16Lines(data)
    for p in at(UTF16_NEEDLE):
        if bom == b"\xff\xfe":
            big = False
        elif bom == b"\xfe\xff":
            big = True
        else:  # code units start at even offsets: `w` at an odd one is the low byte of a BE unit
            big = p % 2 == 1
        if big and (p == 0 or data[p - 1] != 0):
            big = False  # an odd-aligned little-endian string inside binary content
        unit = p - 1 if big else p  # where the code unit holding `w` starts
        first = max(unit - 2, unit % 2)
        chars = bytearray()
        for i in range(first, min(len(data), unit + 2 * (_LONGEST + 1)), 2):
            # A last code unit cut short by the end of the content: its missing byte taken as 0.
            other = data[i + 1] if i + 1 < len(data) else 0
            hi, lo = (data[i], other) if big else (other, data[i])
            chars.append(lo if hi == 0 and lo < 0x80 else 0xFF)
        ctx = (unit - first) // 2
        for m in detect.find_keys(bytes(chars), rules):
            if m.start == ctx:
                line, column = lines.at(unit, big)
                yield Encoded(m.key, unit, unit + 2 * len(m.key), "utf-16", line, column)
            if m.start >= ctx:
                break


class _U16Lines:
    """Line and column in characters of the UTF-16 text (BOM excluded) up to a code unit.

    Keys come in increasing order, so each call decodes only the text since the previous one: a file
    with thousands of keys costs one pass, not one pass per key."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.bom = 2 if data[:2] in (b"\xff\xfe", b"\xfe\xff") else 0
        self.state: dict[tuple[int, bool], tuple[int, int, int]] = {}  # (base, big) -> (unit, line, col)

    def at(self, unit: int, big: bool) -> tuple[int, int]:
        base = self.bom or unit % 2
        start, line, col = self.state.get((base, big), (base, 1, 1))
        if unit < start:
            start, line, col = base, 1, 1
        text = self.data[start:unit].decode("utf-16-be" if big else "utf-16-le", "replace")
        nl = text.count("\n")
        if nl:
            line += nl
            col = len(text) - text.rfind("\n")
        else:
            col += len(text)
        self.state[(base, big)] = (unit, line, col)
        return line, col


# Every needle a decoder starts from, plus the plain scan's `wvz`: what the one-pass prefilter looks for.
NEEDLES: tuple[bytes, ...] = (
    b"wvz",
    *(piece for piece, _, _ in B64_PIECES),
    *ESC_NEEDLES,
    UTF16_NEEDLE,
    *sorted({shape for _, _, shape, _ in NESTED_SHAPES}),
    *NESTED_LEADS,
)
