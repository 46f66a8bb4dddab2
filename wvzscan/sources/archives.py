"""Archives and databases opened in memory: zip (jar, whl, apk, docx...), tar (plain, gz, bz2, xz, zstd;
container images as ``docker save`` or OCI layout archives are tars of such tars), single-file gzip, bz2,
xz, zstd and zlib streams (git loose objects), PDF ``FlateDecode`` streams, and SQLite databases (cell
by cell). 7z is recognised and counted as not opened.

Recognised by their magic bytes, never by their names. Nothing is extracted to disk: members are
read into memory with bounded reads. Limits (config: archive_depth, archive_max_bytes,
archive_max_ratio, archive_max_entries) stop bombs, through one ``Budget`` per top-level input
(wvzscan.budget) that the decoded views charge too; what they skip is counted in ``skipped`` and
named in a note. Encrypted members cannot be read by anyone without the password: a counted skip.
A corrupt archive or member is content that was not read: an error (exit 3 when nothing is found).

A member's path is ``outer!inner``; nested: ``a.zip!b.tar.gz!c/.env``; a SQLite cell:
``app.db!table/rowid/column``. A chunk without a path (a git blob while it is scanned, stdin) gives
``!inner``: the git attribution puts the blob's path in front later.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wvzscan.budget import (
    RATIO_FLOOR,
    SKIP_BYTES,
    SKIP_DEPTH,
    SKIP_ENTRIES,
    SKIP_RATIO,
    Budget,
    OverLimit,
)
from wvzscan.config import ArchiveLimits
from wvzscan.finding import ScanResult
from wvzscan.sources import Chunk

__all__ = ["RATIO_FLOOR", "SKIP_BYTES", "SKIP_DEPTH", "SKIP_ENTRIES", "SKIP_RATIO", "expand", "kind"]

READ_BLOCK = 1024 * 1024
MIN_CELL = 20  # the shortest a key can be: shorter cells cannot hold one in any encoding

SKIP_ENCRYPTED = "encrypted archive member"
SKIP_7Z = "7z archive not opened (no reader)"
SKIP_GENERATED = "database value over the budget"

STREAMS = ("gzip", "bz2", "xz", "zstd", "zlib")  # single compressed streams
_ZLIB_FIRST = frozenset(b"\x08\x18\x28\x38\x48\x58\x68\x78")


def _is_zlib(head: bytes) -> bool:
    """A zlib header: deflate, a window of at most 32 KiB, no preset dictionary, its check bits."""
    return len(head) >= 2 and head[0] in _ZLIB_FIRST and (head[0] << 8 | head[1]) % 31 == 0 and not head[1] & 0x20


def kind(data: bytes) -> str | None:
    """What container ``data`` is, from its first bytes; None for anything else."""
    head = data[:16]
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    if head[:3] == b"\x1f\x8b\x08":
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if head[:6] == b"7z\xbc\xaf\x27\x1c":
        return "7z"
    if head[:5] == b"%PDF-":
        return "pdf"
    if head == b"SQLite format 3\x00":
        return "sqlite"
    if data[257:262] == b"ustar":
        return "tar"
    if _is_zlib(head) and head[0] == 0x78:  # 0x78: a 32 KiB window, what every writer uses
        return "zlib"
    return None


# The first byte of every container ``kind`` recognises (a tar is told at offset 257): most content
# starts with none of them, and then ``kind`` need not run (the per-object quick check of a history).
FIRST_BYTES = frozenset(b"P\x1fB\xfd\x287%Sx")
TAR_MAGIC_AT, TAR_MAGIC = 257, b"ustar"


def may_be_container(data: bytes | memoryview) -> bool:
    """False when ``kind`` would certainly say None (a test holds the two together)."""
    at = TAR_MAGIC_AT
    return bool(data) and (data[0] in FIRST_BYTES or data[at : at + len(TAR_MAGIC)] == TAR_MAGIC)


class _Unreadable(Exception):
    """Corrupt or unsupported content: an error."""


_OverLimit = OverLimit


@dataclass
class _Walk:
    result: ScanResult
    limits: ArchiveLimits
    budget: Budget  # the top-level input's, shared with the decoded views
    next_id: int = 0

    def skip(self, reason: str, where: str, detail: str) -> None:
        self.result.skipped[reason] += 1
        self.result.notes.append(f"{where}: {detail}")


def expand(chunk: Chunk, result: ScanResult, limits: ArchiveLimits, budget: Budget | None = None) -> Iterator[Chunk]:
    """Every member inside ``chunk`` (nested first), then ``chunk`` itself.

    Members come before their container so the scanner knows which keys the members held when it
    scans the container's raw bytes (see ``Scanner.scan``). ``budget``: the top-level input's (a new
    one when not given).
    """
    if limits.depth > 0 and kind(chunk.data) is not None:
        walk = _Walk(result, limits, budget if budget is not None else Budget(limits, result))
        yield from _open(chunk, walk, 1, ())
    else:
        yield chunk


def decompress(what: str, data: bytes, budget: Budget) -> bytes:
    """A whole compressed stream (``STREAMS``) within ``budget``; raises ``OverLimit`` or ValueError."""
    walk = _Walk(budget.result, budget.limits, budget)
    try:
        return _decompress(what, data, walk)
    except _Unreadable as e:
        raise ValueError(str(e)) from None


def _where(chunk: Chunk) -> str:
    if chunk.path:
        return chunk.path
    return "<stdin>" if chunk.source == "stdin" else ""


def _member(parent: Chunk, name: str, data: bytes, parents: tuple[int, ...]) -> Chunk:
    return Chunk(data, parent.source, f"{parent.path or ''}!{name}", parent.origin, archive_parents=parents)


def _open(chunk: Chunk, walk: _Walk, depth: int, parents: tuple[int, ...]) -> Iterator[Chunk]:
    """The members of ``chunk`` (an archive at nesting ``depth``), recursively, then ``chunk``."""
    what = kind(chunk.data)
    if what is None:
        yield chunk
        return
    if depth > walk.limits.depth:
        walk.skip(SKIP_DEPTH, _where(chunk), f"{what} not opened: nested deeper than archive_depth")
        yield chunk
        return
    my_id = walk.next_id
    walk.next_id += 1
    inner = (*parents, my_id)
    members: list[tuple[str, bytes]] = []
    try:
        if what == "zip":
            yield from _zip_members(chunk, walk, depth, inner)
        elif what == "tar":
            yield from _tar_members(chunk, chunk.data, walk, depth, inner)
        elif what == "sqlite":
            yield from _sqlite_members(chunk, walk, depth, inner)
        elif what == "pdf":
            members.extend(_pdf_streams(chunk, walk))
        elif what == "7z":
            walk.skip(SKIP_7Z, _where(chunk), "7z archive not opened: wvzscan has no 7z reader (scanned as raw bytes)")
        else:
            try:
                data = _decompress(what, chunk.data, walk)
            except _Unreadable:
                if what == "zlib" and not _inflates(chunk.data):
                    data = None  # two bytes that only look like a zlib header: content like any other
                else:
                    raise
            if data is None:
                pass
            elif kind(data) == "tar":
                yield from _tar_members(chunk, data, walk, depth, inner)
            else:
                members.append((_inner_name(chunk, what), data))
    except _OverLimit as e:
        walk.skip(e.reason, _where(chunk), str(e))
    except _Unreadable as e:
        walk.result.error(_where(chunk), f"cannot read {what} archive: {e}")
    except Exception as e:  # noqa: BLE001 - hostile input must end in an error, never a traceback
        walk.result.error(_where(chunk), f"cannot read {what} archive: {type(e).__name__}: {e}")
    for name, data in members:
        yield from _open(_member(chunk, name, data, inner), walk, depth + 1, inner)
    yield Chunk(chunk.data, chunk.source, chunk.path, chunk.origin, my_id, chunk.archive_parents)


def _inner_name(chunk: Chunk, what: str) -> str:
    """The name of the one file in a gzip/bz2/xz stream: the gzip header's, else the outer name."""
    data = chunk.data
    if what == "gzip" and len(data) > 10 and data[3] & 0x08:
        pos = 10
        if data[3] & 0x04:  # FEXTRA
            pos += 2 + int.from_bytes(data[10:12], "little")
        end = data.find(b"\0", pos)
        if end != -1:
            name = data[pos:end].decode("latin-1")
            if name:
                return name.replace("\\", "/").rsplit("/", 1)[-1]
    base = os.path.basename(chunk.path or "") or "content"
    if what == "zlib":
        return "inflated"  # a git loose object or a raw zlib stream: no name of its own
    for suffix in (".gz", ".bz2", ".xz", ".zst", ".zstd", ".gzip", ".z"):
        if base.lower().endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return base


# --- compressed streams --------------------------------------------------------------------------


def _inflates(data: bytes) -> bool:
    """Whether the first bytes of ``data`` inflate at all (a real zlib stream, maybe corrupt later)."""
    import zlib

    try:
        return bool(zlib.decompressobj().decompress(data[:4096], 64))
    except zlib.error:
        return False


class _Zstd:
    """zstd through the ``zstandard`` package, with the interface of the stdlib decompressors."""

    def __init__(self) -> None:
        import zstandard

        self._d = zstandard.ZstdDecompressor().decompressobj()
        self.unused_data = b""
        self.unconsumed_tail = b""
        self.needs_input = True

    @property
    def eof(self) -> bool:
        return bool(self._d.eof)

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        import zstandard

        try:
            out: bytes = self._d.decompress(data)
        except zstandard.ZstdError as e:
            raise ValueError(str(e)) from None
        self.unused_data = self._d.unused_data
        return out


def _decompressor(what: str) -> Any:
    if what == "gzip":
        import zlib

        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if what == "zlib":
        import zlib

        return zlib.decompressobj()
    if what == "zstd":
        return _Zstd()
    if what == "bz2":
        import bz2

        return bz2.BZ2Decompressor()
    import lzma

    return lzma.LZMADecompressor()


def _check(out: int, consumed: int, walk: _Walk, what: str) -> None:
    walk.budget.check(out, consumed, what)


def _decompress(what: str, data: bytes, walk: _Walk) -> bytes:
    """The whole stream (every member of a multi-member gzip/bz2/xz), within the limits."""
    import zlib

    out: list[bytes] = []
    total = 0
    pos = 0  # start of the current stream in ``data``
    while True:
        d = _decompressor(what)
        pending = data[pos:]
        try:
            while True:
                if what in ("gzip", "zlib"):
                    piece = d.decompress(pending, READ_BLOCK)
                    pending = d.unconsumed_tail
                else:
                    piece = d.decompress(pending, READ_BLOCK)
                    pending = b""
                out.append(piece)
                total += len(piece)
                _check(total, len(data) - len(pending), walk, what)
                if d.eof:
                    break
                if not piece and not pending and (what in ("gzip", "zlib", "zstd") or d.needs_input):
                    raise _Unreadable("truncated stream (unexpected end of data)")
        except (zlib.error, OSError, EOFError, ValueError) as e:
            raise _Unreadable(str(e) or type(e).__name__) from None
        rest = d.unused_data
        if rest and kind(rest) == what:  # concatenated streams (`cat a.gz b.gz`, pbzip2, xz -T)
            pos = len(data) - len(rest)
            continue
        break
    walk.budget.charge(total, len(data), what)
    return b"".join(out)


# --- PDF -------------------------------------------------------------------------------------------


# A stream's filter chain, applied in order: ASCII armour first is undone, then Flate (PDF 32000-1, 7.4).
_PDF_FILTER = re.compile(rb"/Filter\s*(\[[^\]]{0,512}\]|/[A-Za-z0-9]+)")
_ASCII_FILTERS = {b"ASCII85Decode": b"a85", b"A85": b"a85", b"ASCIIHexDecode": b"hex", b"AHx": b"hex"}


def _pdf_filters(dictionary: bytes) -> list[bytes] | None:
    """The ASCII layers before a final ``FlateDecode`` (``[]``: Flate alone); None for any other chain."""
    m = _PDF_FILTER.search(dictionary)
    if m is None:
        return None
    names = re.findall(rb"/([A-Za-z0-9]+)", m.group(1))
    if not names or names[-1] not in (b"FlateDecode", b"Fl"):
        return None
    layers = [_ASCII_FILTERS.get(n) for n in names[:-1]]
    return None if None in layers else [x for x in layers if x is not None]


def _pdf_ascii_layers(raw: bytes, layers: list[bytes]) -> bytes:
    """Undo ASCII85 and ASCIIHex armour (each ends at its own end marker); ValueError if it is broken."""
    import base64
    import binascii

    for layer in layers:
        if layer == b"a85":
            end = raw.find(b"~>")
            if end == -1:
                raise ValueError("ASCII85 data without its ~> end")
            raw = base64.a85decode(raw[:end].translate(None, b" \t\r\n\f\0"))
        else:
            end = raw.find(b">")
            if end == -1:
                raise ValueError("ASCIIHex data without its > end")
            digits = raw[:end].translate(None, b" \t\r\n\f\0")
            try:
                raw = binascii.unhexlify(digits + (b"0" if len(digits) % 2 else b""))
            except binascii.Error as e:
                raise ValueError(f"ASCIIHex data: {e}") from None
    return raw


def _pdf_streams(chunk: Chunk, walk: _Walk) -> list[tuple[str, bytes]]:
    """Every ``FlateDecode`` stream of a PDF, inflated (the page content, embedded files, metadata).

    Streams with other filters (images, LZW, ASCII85) are left as they are: the raw bytes are scanned.
    A stream that does not inflate is an error (content that was not read)."""
    import re
    import zlib

    data = chunk.data
    out: list[tuple[str, bytes]] = []
    n = 0
    for m in re.finditer(rb"(?<!end)stream\r?\n", data):
        obj = data.rfind(b" obj", max(0, m.start() - 4096), m.start())  # this stream's own dictionary
        dict_start = data.find(b"<<", obj if obj != -1 else max(0, m.start() - 4096), m.start())
        if dict_start == -1 or b"/Fl" not in data[dict_start : m.start()]:
            continue  # no Flate in this stream's filters (/FlateDecode, or /Fl abbreviated)
        filters = _pdf_filters(data[dict_start : m.start()])
        if filters is None:
            continue  # Flate after a filter wvzscan does not undo (LZW, a crypt filter): raw bytes are scanned
        if not walk.budget.entry():
            walk.skip(SKIP_ENTRIES, _where(chunk), f"streams after the first {n} not read (archive_max_entries)")
            break
        n += 1
        d = zlib.decompressobj()
        pieces: list[bytes] = []
        total = 0
        pending = data[m.end() :]
        try:
            pending = _pdf_ascii_layers(pending, filters)
            while not d.eof:
                piece = d.decompress(pending, READ_BLOCK)
                pending = d.unconsumed_tail
                if not piece and not pending:
                    break
                pieces.append(piece)
                total += len(piece)
                walk.budget.check(total, m.end() - m.start() + total // walk.limits.max_ratio, "PDF stream")
        except (zlib.error, ValueError) as e:
            walk.result.error(f"{_where(chunk)}!stream{n}", f"cannot inflate PDF stream: {e}")
            continue
        except OverLimit as e:
            walk.skip(e.reason, f"{_where(chunk)}!stream{n}", str(e))
            continue
        walk.budget.produced += total
        out.append((f"stream{n}", b"".join(pieces)))
    return out


# --- zip -----------------------------------------------------------------------------------------


def _zip_members(chunk: Chunk, walk: _Walk, depth: int, inner: tuple[int, ...]) -> Iterator[Chunk]:
    import zipfile
    import zlib

    try:
        zf = zipfile.ZipFile(io.BytesIO(chunk.data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError) as e:
        raise _Unreadable(str(e) or type(e).__name__) from None
    where = _where(chunk)
    for n, info in enumerate(infos):
        if not walk.budget.entry():
            limit = walk.limits.max_entries
            walk.skip(
                SKIP_ENTRIES, where, f"only the first {n} of {len(infos)} entries read (archive_max_entries: {limit})"
            )
            break
        name = f"{where}!{info.filename}"
        if info.flag_bits & 0x1:
            walk.skip(SKIP_ENCRYPTED, name, "encrypted: not read")
            continue
        try:
            data = _read_member(zf, info, walk)
        except _OverLimit as e:
            walk.skip(e.reason, name, str(e))
            continue
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as e:
            walk.result.error(name, f"cannot read zip member: {e or type(e).__name__}")
            continue
        yield from _open(_member(chunk, info.filename, data, inner), walk, depth + 1, inner)


def _read_member(zf: Any, info: Any, walk: _Walk) -> bytes:
    what = "member"
    if info.file_size > walk.budget.bytes_left:
        raise _OverLimit(SKIP_BYTES, f"{what} holds more than archive_max_bytes ({walk.limits.max_bytes} bytes)")
    out: list[bytes] = []
    total = 0
    with zf.open(info) as f:
        while True:
            piece = f.read(READ_BLOCK)
            if not piece:
                break
            out.append(piece)
            total += len(piece)
            _check(total, info.compress_size, walk, what)
    walk.budget.charge(total, info.compress_size, what)
    return b"".join(out)


# --- tar -----------------------------------------------------------------------------------------


def _tar_members(chunk: Chunk, data: bytes, walk: _Walk, depth: int, inner: tuple[int, ...]) -> Iterator[Chunk]:
    import tarfile

    where = _where(chunk)
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 - in memory, nothing to close
    except (tarfile.TarError, OSError, ValueError, EOFError) as e:
        raise _Unreadable(str(e) or type(e).__name__) from None
    count = 0
    while True:
        try:
            info = tf.next()
        except (tarfile.TarError, OSError, ValueError, EOFError, UnicodeError) as e:
            raise _Unreadable(str(e) or type(e).__name__) from None
        if info is None:
            break
        if not info.isreg():
            continue
        count += 1
        if not walk.budget.entry():
            walk.skip(SKIP_ENTRIES, where, f"entries after the first {count - 1} not read (archive_max_entries)")
            break
        name = f"{where}!{info.name}"
        # A tar member is a slice of bytes already read or already charged (the decompressed stream of a
        # tar.gz): it is not charged again.
        try:
            f = tf.extractfile(info)
            content = f.read() if f is not None else b""
        except (tarfile.TarError, OSError, ValueError, EOFError) as e:
            walk.result.error(name, f"cannot read tar member: {e or type(e).__name__}")
            continue
        if len(content) != info.size:
            walk.result.error(name, "cannot read tar member: truncated")
            continue
        yield from _open(_member(chunk, info.name, content, inner), walk, depth + 1, inner)


# --- SQLite --------------------------------------------------------------------------------------


def _sqlite_members(chunk: Chunk, walk: _Walk, depth: int, inner: tuple[int, ...]) -> Iterator[Chunk]:
    """Text and blob cells one by one: in the file SQLite packs cells back to back, so a key there
    is glued to its neighbours and pattern matching cannot tell where it ends."""
    import sqlite3

    where = _where(chunk)
    try:
        conn = _sqlite_open(chunk.data)
    except sqlite3.Error as e:
        raise _Unreadable(str(e)) from None
    try:
        conn.text_factory = bytes
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
        try:
            tables = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
            ).fetchall()
        except sqlite3.Error as e:
            raise _Unreadable(str(e)) from None
        if hasattr(conn, "setlimit"):
            # No value SQLite computes (a generated column of `zeroblob(n)`) may grow past what the
            # budget has left: a bigger one is an error of that table's read, counted as a skip.
            conn.setlimit(
                getattr(sqlite3, "SQLITE_LIMIT_LENGTH", 0), max(MIN_CELL, min(walk.budget.bytes_left, 1 << 30))
            )
        for (raw_name,) in tables:
            table = raw_name.decode("utf-8", "replace") if isinstance(raw_name, bytes) else str(raw_name)
            quoted = _quote(table)
            try:
                names = [r[1] for r in conn.execute(f"PRAGMA table_xinfo({quoted})").fetchall()]
                cols = [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names]

                def members(which: list[str], table: str = table, quoted: str = quoted) -> Iterator[Chunk]:
                    cells = _first_rows(_table_cells(conn, quoted, which, walk.budget.bytes_left), walk)
                    for rowid, col, value, size in cells:
                        if value is None and size is not None and size > 0:
                            detail = "value over archive_max_bytes: not read"
                            walk.skip(SKIP_GENERATED, f"{where}!{table}/{rowid}/{col}", detail)
                            continue
                        if isinstance(value, bytes) and len(value) >= MIN_CELL:
                            # charged as it is read: a table is never held whole in memory
                            walk.budget.charge(len(value), len(chunk.data), "database")
                            yield _member(chunk, f"{table}/{rowid}/{col}", value, inner)

                try:
                    try:
                        for member in members(cols):
                            yield from _open(member, walk, depth + 1, inner)
                    except sqlite3.Error as e:
                        if "too big" not in str(e):
                            raise
                        # One computed value past SQLITE_LIMIT_LENGTH stops the whole statement: read
                        # the table again column by column, so only that column is skipped (counted).
                        # Cells already reported are reported once (the scanner de-duplicates).
                        for c in cols:
                            try:
                                for member in members([c]):
                                    yield from _open(member, walk, depth + 1, inner)
                            except sqlite3.Error as e2:
                                if "too big" not in str(e2):
                                    raise
                                detail = "a value over archive_max_bytes: not read"
                                walk.skip(SKIP_GENERATED, f"{where}!{table}/{c}", detail)
                except OverLimit as e:
                    walk.skip(e.reason, where, f"{e} (cells after table {table} not read)")
                    return
            except sqlite3.DataError as e:  # a computed value past SQLITE_LIMIT_LENGTH
                walk.skip(SKIP_GENERATED, f"{where}!{table}", f"a value over archive_max_bytes: table not read ({e})")
            except sqlite3.Error as e:
                if "too big" in str(e):
                    walk.skip(
                        SKIP_GENERATED, f"{where}!{table}", f"a value over archive_max_bytes: table not read ({e})"
                    )
                else:
                    walk.result.error(f"{where}!{table}", f"cannot read SQLite table: {e}")
    finally:
        conn.close()


def _table_cells(conn: Any, quoted: str, cols: list[str], limit: int) -> Iterator[tuple[Any, str, Any, Any]]:
    """(rowid, column, value, size in bytes) of every cell; a value bigger than ``limit`` comes as None
    with its size (it is never fetched). Rows of a WITHOUT ROWID table are numbered from 1."""
    import sqlite3

    picks = ", ".join(
        f"CASE WHEN length(CAST({_quote(c)} AS BLOB)) > ?1 THEN NULL ELSE {_quote(c)} END, "
        f"length(CAST({_quote(c)} AS BLOB))"
        for c in cols
    )
    try:
        cur = conn.execute(f"SELECT rowid, {picks} FROM {quoted}", (limit,))
        numbered = False
    except sqlite3.OperationalError:  # WITHOUT ROWID tables
        cur = conn.execute(f"SELECT 0, {picks} FROM {quoted}", (limit,))
        numbered = True
    for n, row in enumerate(cur, 1):
        rowid = n if numbered else row[0]
        for i, col in enumerate(cols):
            yield rowid, col, row[1 + 2 * i], row[2 + 2 * i]


def _first_rows(cells: Iterator[tuple[Any, str, Any, Any]], walk: _Walk) -> Iterator[tuple[Any, str, Any, Any]]:
    """The cells of the rows the entries budget allows (rows count as entries)."""
    last = None
    for cell in cells:
        if cell[0] != last:
            last = cell[0]
            if not walk.budget.entry():
                walk.skip(SKIP_ENTRIES, "database", f"rows after the first {walk.limits.max_entries} not read")
                return
        yield cell


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_open(data: bytes) -> Any:
    import sqlite3

    buf = bytearray(data)
    if buf[18:20] == b"\x02\x02":  # WAL mode needs shared memory files: read this copy as rollback mode
        buf[18:20] = b"\x01\x01"
    if sys.version_info >= (3, 11):
        conn = sqlite3.connect(":memory:")
        try:
            conn.deserialize(bytes(buf))
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error:
            conn.close()
            raise
        return conn
    return _sqlite_via_private_file(bytes(buf))  # pragma: no cover - Python 3.10


def _sqlite_via_private_file(data: bytes) -> Any:  # pragma: no cover - Python 3.10 only
    """Python 3.10 has no ``deserialize``: a private file (0600, removed at once) read immutable."""
    import sqlite3
    import tempfile
    import urllib.parse

    fd, path = tempfile.mkstemp(prefix="wvzscan-", suffix=".db")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        uri = "file:" + urllib.parse.quote(path) + "?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        # The file can go now on POSIX: the open connection keeps its inode.
        return conn
    finally:
        os.unlink(path)
