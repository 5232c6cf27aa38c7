"""Every form a checkout reaches ``Verifier.verify`` in: one helper for the AWS-shape tests.

Each form carries the same checkout; a test asserts the same verdict and values for all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: name -> how to turn (response, a fresh file path) into what ``verify`` is given.
Form = Callable[[dict[str, Any], Path], object]


def _json_text(response: dict[str, Any]) -> str:
    # As the AWS CLI and json.dump write it (indent 4).
    return json.dumps(response, indent=4)


RESPONSE_FORMS: dict[str, Form] = {
    "dict": lambda response, _path: response,
    "json_text": lambda response, _path: _json_text(response),
    "json_utf8": lambda response, _path: _json_text(response).encode("utf-8"),
    "path": lambda response, path: _write(path, _json_text(response).encode("utf-8")),
}

TOKEN_FORMS: dict[str, Form] = {
    "token": lambda response, _path: response["SignedToken"],
    "token_bytes": lambda response, _path: response["SignedToken"].encode("ascii"),
    "token_path": lambda response, path: _write(path, response["SignedToken"].encode("ascii")),
}

ALL_FORMS: dict[str, Form] = {**RESPONSE_FORMS, **TOKEN_FORMS}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def every_form(
    response: dict[str, Any], tmp_path: Path, forms: dict[str, Form] | None = None
) -> list[tuple[str, object]]:
    """``(form name, source)`` for each form of ``response``; files go under ``tmp_path``."""
    chosen = ALL_FORMS if forms is None else forms
    return [(name, make(response, tmp_path / f"{name}.json")) for name, make in chosen.items()]
