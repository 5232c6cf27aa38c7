"""``tokenverify schema DOCUMENT``: print the JSON Schema of a file or output format.

Each schema comes from its model in :mod:`tokenverify.formats`; this module, and so
pydantic, is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from ..formats import _audit_report, _json_output, _keys_file, _policy_file
from ._output import Console

__all__ = ["print_schema"]

_SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "keys": _keys_file.json_schema,
    "policy": _policy_file.json_schema,
    "verify": _json_output.verify_schema,
    "inspect": _json_output.inspect_schema,
    "audit": _audit_report.json_schema,
}


def print_schema(args: argparse.Namespace, console: Console) -> int:
    """Print the JSON Schema of ``args.document``, indented by two."""
    console.print(json.dumps(_SCHEMAS[args.document](), indent=2))
    return 0
