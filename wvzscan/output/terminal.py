"""Escaping of every line a human or a CI runner reads.

File names, archive member names, commit authors and API fields are someone else's text. Raw, a newline
in a name starts a new line (a forged ``::error`` workflow command in a GitHub job log, a forged finding
in a text report), an ESC or OSC sequence drives the reader's terminal, and a name that is not valid
UTF-8 (surrogate-escaped bytes) crashes whatever encodes it. Everything here is a pure function: the CLI
layer prints, this module only decides what is safe to print.
"""

from __future__ import annotations

import re

from wvzscan.output.redact import scrub

# GitHub's runner takes a line as a workflow command when it starts with "::" after leading blanks
# (`::error ...`, `::add-mask::`, `::stop-commands::`), and the older "##[command]" form anywhere in a line.
_COMMAND_START = re.compile(r"^(\s*):(?=:)")
_LEGACY_COMMAND = "##["


def _escape_char(c: str) -> str:
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape: show the byte
        return f"\\x{o - 0xDC00:02x}"
    if o < 0x100:
        return f"\\x{o:02x}" if c not in "\n\r\t" else {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c]
    if o < 0x10000:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def escape_line(s: str) -> str:
    """``s`` on one line, with control, invisible and non-UTF-8 characters written as escapes.

    ``\\n``, ``\\x1b``, ``\\u202e`` (a bidi override), ``\\xff`` (a byte that was not UTF-8). The result is
    printable, holds no line break, and encodes as UTF-8 whatever ``s`` held. GitHub's legacy ``##[``
    command marker is broken up too (``#\\x23[``), since the runner finds it anywhere in a line.
    """
    if not s.isprintable():
        s = "".join(c if c.isprintable() else _escape_char(c) for c in s)
    if _LEGACY_COMMAND in s:
        s = s.replace(_LEGACY_COMMAND, "#\\x23[")
    return s


def escape_ci_line(line: str) -> str:
    """A whole line as a CI runner reads it: :func:`escape_line`, and no workflow command at its start."""
    return _COMMAND_START.sub(r"\1\\x3a", escape_line(line))


def safe_line(s: str) -> str:
    """What every line on stderr goes through: no full key (:func:`~wvzscan.output.redact.scrub`), one line,
    no terminal escape, no workflow command."""
    return escape_ci_line(scrub(s))


def safe_text(text: str) -> str:
    """Several lines (an error message with a traceback-like body): each made safe, line breaks kept."""
    return "\n".join(safe_line(line) for line in text.split("\n"))


def fix_surrogates(text: str) -> str:
    """``text`` with lone surrogates (bytes that were not UTF-8) written as ``\\xNN`` escapes, so that it
    encodes as UTF-8. Everything else is left as it is (a JSON document stays valid)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join(_escape_char(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def replace_surrogates(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD: the last net under a whole document (JSON, XML),
    where a textual escape would break the syntax. Fields are escaped before that (:func:`fix_surrogates`)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
