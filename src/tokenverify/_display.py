"""One escaping rule for text shown to people: nothing a token or file name holds can
drive the terminal.

Signed free-text claims (``nodeId``, ``checkoutMetadata``, entitlement names), key labels,
JWKS ``kid``s and file names are chosen by licensees, key owners or whoever writes a
folder. Printed raw, a CR repaints a line, a newline forges a table row, OSC 52 writes the
clipboard and bidi overrides reorder what is read. Every value interpolated into a human
view goes through :func:`printable`; machine formats (``--json``, jsonl, csv) stay exact.

The escape is lossless: a backslash is doubled, every character that is not printable
(``str.isprintable``: C0, DEL, C1, format characters such as bidi controls and ZWJ, line
and paragraph separators, unassigned and surrogate code points, spaces other than U+0020)
becomes ``\\n``, ``\\r``, ``\\t``, ``\\xHH``, ``\\uHHHH`` or ``\\UHHHHHHHH``, so
:func:`unescape` gives back the original.
"""

from __future__ import annotations

import re

__all__ = ["printable", "unescape"]

_SHORT = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPED = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[\\nrt])")
_UNSHORT = {"\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\t": "\t"}


def printable(value: object) -> str:
    """``str(value)`` with every non-printable character and backslash escaped."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and "\\" not in text:
        return text  # the common case: one C-level scan
    return "".join(_escape(character) for character in text)


def _escape(character: str) -> str:
    short = _SHORT.get(character)
    if short is not None:
        return short
    if character.isprintable():
        return character
    point = ord(character)
    if point <= 0xFF:
        return f"\\x{point:02x}"
    if point <= 0xFFFF:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def unescape(text: str) -> str:
    """The original of ``printable(original)``."""

    def original(match: re.Match[str]) -> str:
        escape = match.group()
        return _UNSHORT.get(escape) or chr(int(escape[2:], 16))

    return _ESCAPED.sub(original, text)
