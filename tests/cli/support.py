"""Constants and checks shared by the command line tests."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FINGERPRINT = "aws:111122223333:Cli Test:issuer-fingerprint"
OTHER_FINGERPRINT = "aws:444455556666:Cli Other:issuer-fingerprint"
NODE = "node-7"
ENTITLEMENTS = [("Users", "10", "Count"), ("Storage", "500", "Gigabytes")]
SCRIPT = Path(sys.executable).with_name("tokenverify")


@dataclass(frozen=True)
class Result:
    """What one run of the command printed and returned."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


RunCli = Callable[..., Result]


def on_terminal(args: Sequence[str | Path], env: Mapping[str, str]) -> bytes:
    """Run the script with stdout and stderr on a pseudo-terminal; return what reached it
    (the terminal turns each newline into CR LF)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(SCRIPT), *map(str, args)],
            stdout=terminal,
            stderr=terminal,
            stdin=subprocess.DEVNULL,
            env=dict(env),
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    finally:
        os.close(controller)
    return b"".join(chunks)


def assert_one_line_error(result: Result, code: int = 2) -> None:
    """Exit ``code``, nothing on stdout, exactly one line on stderr, no traceback."""
    assert result.code == code, result
    assert result.out == "", result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert "error" in lines[0]


def check_schema(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> None:
    """Assert ``value`` conforms to ``schema``: the JSON Schema subset pydantic emits.

    Covers type, const, enum, anyOf, $ref, properties, required, additionalProperties,
    items, minimum/maximum and minLength; enough to catch output drifting from the schema.
    """
    root = root if root is not None else schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        check_schema(value, root["$defs"][name], root)
        return
    if "anyOf" in schema:
        failures = []
        for option in schema["anyOf"]:
            try:
                check_schema(value, option, root)
            except AssertionError as exc:
                failures.append(str(exc))
            else:
                return
        raise AssertionError(f"{value!r} matches no anyOf option: {failures}")
    if "const" in schema:
        assert value == schema["const"], (value, schema)
    if "enum" in schema:
        assert value in schema["enum"], (value, schema["enum"])
    kind = schema.get("type")
    if kind is not None:
        assert _is_type(value, kind), f"{value!r} is not a JSON {kind}"
    if isinstance(value, str) and "minLength" in schema:
        assert len(value) >= schema["minLength"]
    if isinstance(value, int | float) and not isinstance(value, bool):
        assert value >= schema.get("minimum", value)
        assert value <= schema.get("maximum", value)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            assert name in value, f"required member {name!r} missing"
        for name, member in value.items():
            if name in properties:
                check_schema(member, properties[name], root)
            elif schema.get("additionalProperties") is False:
                raise AssertionError(f"member {name!r} is not in the schema")
            elif isinstance(schema.get("additionalProperties"), dict):
                check_schema(member, schema["additionalProperties"], root)
    if isinstance(value, list) and "items" in schema:
        for item in value:
            check_schema(item, schema["items"], root)


def _is_type(value: Any, kind: str) -> bool:
    checks: dict[str, Callable[[Any], bool]] = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    }
    return checks[kind](value)
