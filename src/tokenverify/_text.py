"""Files people carry in, decoded once at the edge: UTF-8 with or without BOM, UTF-16/32
with BOM (Windows PowerShell's ``>`` writes UTF-16 LE with a BOM; ``Out-File -Encoding
utf8`` adds a UTF-8 BOM).

The result is UTF-8 bytes without a BOM, so the strict parsers behind (JSON, PEM, the
token's ASCII) see one encoding. Size limits are judged by the caller on the result.
Only a BOM selects an encoding: without one the bytes are taken as UTF-8, never guessed.
"""

from __future__ import annotations

import codecs

__all__ = ["encoded_limit", "to_utf8"]

# UTF-32 LE's BOM begins with UTF-16 LE's, so the longer marks are tried first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def encoded_limit(limit: int) -> int:
    """The most bytes a text of at most ``limit`` UTF-8 bytes takes in any encoding here.

    UTF-32 spends four bytes on an ASCII character, plus its BOM: a reader reads up to
    this many raw bytes, refuses more unread, and judges ``limit`` on the decoded text.
    """
    return 4 * limit + len(codecs.BOM_UTF32_LE)


def to_utf8(data: bytes) -> bytes:
    """``data`` as UTF-8 without a BOM; ``ValueError`` naming the encoding if it is broken."""
    if not data or data[0] not in b"\xef\xff\xfe\x00":  # no BOM can start here: no copy
        return data
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if encoding == "utf-8":
                return body
            try:
                return body.decode(encoding).encode("utf-8")
            except UnicodeError:
                raise ValueError(
                    f"the file starts with a {encoding.upper()} byte order mark but is not "
                    f"valid {encoding.upper()}"
                ) from None
    return data
