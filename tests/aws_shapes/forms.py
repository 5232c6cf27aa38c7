"""Every form a checkout reaches ``Verifier.verify`` in: one helper for the AWS-shape tests.

Each form carries the same checkout; a test asserts the same verdict and values for all.
Besides the plain forms (dict, JSON text and bytes, a path, the bare token) come the
encodings people carry files in: UTF-8 with a BOM (``Out-File -Encoding utf8``), UTF-16 LE
with a BOM and CRLF line ends (Windows PowerShell's ``>``), UTF-16 BE and UTF-32 with a
BOM, and CRLF line ends alone.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: name -> how to turn (response, a fresh file path) into what ``verify`` is given.
Form = Callable[[dict[str, Any], Path], object]
#: name -> how a text is written to bytes: (byte order mark, codec, line end).
ENCODINGS: dict[str, tuple[bytes, str, str]] = {
    "utf8": (b"", "utf-8", "\n"),
    "utf8_bom": (codecs.BOM_UTF8, "utf-8", "\n"),
    "utf16le_bom_crlf": (codecs.BOM_UTF16_LE, "utf-16-le", "\r\n"),  # PowerShell 5 '>'
    "utf16be_bom": (codecs.BOM_UTF16_BE, "utf-16-be", "\n"),
    "utf32le_bom": (codecs.BOM_UTF32_LE, "utf-32-le", "\n"),
    "utf32be_bom": (codecs.BOM_UTF32_BE, "utf-32-be", "\n"),
    "crlf": (b"", "utf-8", "\r\n"),
}


def encode(text: str, encoding: str) -> bytes:
    """``text`` written as ``ENCODINGS[encoding]`` says, with a final line end."""
    bom, codec, line_end = ENCODINGS[encoding]
    return bom + (text.replace("\n", line_end) + line_end).encode(codec)


def _json_text(response: dict[str, Any]) -> str:
    # As the AWS CLI and json.dump write it (indent 4).
    return json.dumps(response, indent=4)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _json_bytes(encoding: str) -> Form:
    return lambda response, _path: encode(_json_text(response), encoding)


def _json_file(encoding: str) -> Form:
    return lambda response, path: _write(path, encode(_json_text(response), encoding))


def _token_bytes(encoding: str) -> Form:
    return lambda response, _path: encode(response["SignedToken"], encoding)


def _token_file(encoding: str) -> Form:
    return lambda response, path: _write(path, encode(response["SignedToken"], encoding))


_OTHER_ENCODINGS = [name for name in ENCODINGS if name != "utf8"]

RESPONSE_FORMS: dict[str, Form] = {
    "dict": lambda response, _path: response,
    "json_text": lambda response, _path: _json_text(response),
    # A file read with encoding="utf-8" (not "utf-8-sig") keeps its BOM as U+FEFF.
    "json_text_bom": lambda response, _path: "\ufeff" + _json_text(response),
    "json_utf8": lambda response, _path: _json_text(response).encode("utf-8"),
    "path": lambda response, path: _write(path, _json_text(response).encode("utf-8")),
    **{f"json_{name}": _json_bytes(name) for name in _OTHER_ENCODINGS},
    **{f"path_{name}": _json_file(name) for name in _OTHER_ENCODINGS},
}

TOKEN_FORMS: dict[str, Form] = {
    "token": lambda response, _path: response["SignedToken"],
    "token_bytes": lambda response, _path: response["SignedToken"].encode("ascii"),
    "token_path": lambda response, path: _write(path, response["SignedToken"].encode("ascii")),
    # The encodings that PowerShell and Windows editors write a bare token in.
    **{f"token_{name}": _token_bytes(name) for name in ("utf8_bom", "utf16le_bom_crlf", "crlf")},
    **{f"token_path_{name}": _token_file(name) for name in ("utf8_bom", "utf16le_bom_crlf")},
}

ALL_FORMS: dict[str, Form] = {**RESPONSE_FORMS, **TOKEN_FORMS}


def every_form(
    response: dict[str, Any], tmp_path: Path, forms: dict[str, Form] | None = None
) -> list[tuple[str, object]]:
    """``(form name, source)`` for each form of ``response``; files go under ``tmp_path``."""
    chosen = ALL_FORMS if forms is None else forms
    return [(name, make(response, tmp_path / f"{name}.json")) for name, make in chosen.items()]
