"""The strict JSON parse as it was before its shortcuts, for the properties that hold the
shortcuts to it (``tests/properties/test_prop_json_*.py``)."""

from __future__ import annotations

from tokenverify import _json


def hooked_loads(data: bytes) -> object:
    """``loads_object`` as it was: the depth check, then the parse with the hook."""
    _json._check_depth(data)
    return _json._loads_hooked(data)


def outcome(parse: object, data: bytes) -> object:
    """What ``parse`` makes of ``data``: its value's repr, or its refusal's message."""
    try:
        return ("value", repr(parse(data)))  # type: ignore[operator]
    except ValueError as exc:
        return ("refused", str(exc))
