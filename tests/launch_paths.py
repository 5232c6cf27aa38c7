"""The two payload decoders side by side: ``_claims`` (msgspec) and ``_claims_launch`` (json).

:func:`both_decoders` is what ``tests/conftest.py`` puts in ``Verifier``'s place for the
whole suite: every payload any test verifies is decoded by both, and whenever the launch
decoder accepts one, msgspec's must accept it with the same values. Its result is always
msgspec's, so every other assertion of the suite still holds the reference decoder to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from tokenverify import _claims, _claims_launch
from tokenverify._claims import Claims
from tokenverify._claims_launch import LaunchClaims

__all__ = [
    "CLAIMS_VIEWS",
    "LAUNCH_ACCEPTED",
    "LAUNCH_TYPES",
    "both_decoders",
    "claims_values",
    "launch_first",
]

#: Payloads the launch decoder accepted (and msgspec's agreed with) in this session.
LAUNCH_ACCEPTED: list[bytes] = []

#: Views (properties) of Claims: every one must read the same on both.
CLAIMS_VIEWS = tuple(name for name, value in vars(Claims).items() if isinstance(value, property))


def claims_values(claims: Claims | LaunchClaims) -> dict[str, Any]:
    """Everything a consumer can read from decoded claims, as plain values: every field
    and view of ``Claims`` (whatever fields it has: a new one is compared too) and
    ``raw()``."""
    names = (*Claims._fields, *CLAIMS_VIEWS)
    values = {name: _plain(getattr(claims, name)) for name in names}
    values["raw()"] = _plain(claims.raw())
    return values


def _plain(value: Any) -> Any:
    """``value`` as comparable data, the type of every leaf kept (1 == 1.0 == True must
    not pass, nor a naive datetime for an aware one); structs and the launch decoder's
    objects become a mapping of their fields, named as the msgspec struct names them."""
    fields = _fields_of(value)
    if fields is not None:
        return {"struct": {name: _plain(getattr(value, name)) for name in fields}}
    if isinstance(value, dict):
        return {name: _plain(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return ("datetime", value, value.tzinfo)
    return (type(value).__name__, value)


def _fields_of(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, msgspec.Struct):
        return value.__struct_fields__
    for launch, typed in LAUNCH_TYPES.items():
        if isinstance(value, launch):
            return typed.__struct_fields__
    return None


#: Each launch decoder class and the msgspec struct it stands for.
LAUNCH_TYPES: dict[type, type[msgspec.Struct]] = {
    _claims_launch.LaunchPayload: _claims._SignedPayload,
    _claims_launch.LaunchEntitlement: _claims.SignedEntitlement,
    _claims_launch.LaunchPair: _claims._MetadataPair,
}


def both_decoders(payload: bytes) -> Claims:
    """msgspec's decoding of ``payload``, after checking the launch decoder against it."""
    light = _claims_launch.decode_light(payload)
    try:
        typed = _claims.parse_claims(payload)
    except Exception as exc:
        if light is not None:
            raise AssertionError(
                f"the launch decoder accepted a payload msgspec's refuses ({exc}): {payload!r}"
            ) from exc
        raise
    if light is not None:
        light_values, typed_values = claims_values(light), claims_values(typed)
        assert light_values == typed_values, (
            f"the decoders disagree on {payload!r}:\n{light_values}\n{typed_values}"
        )
        LAUNCH_ACCEPTED.append(payload)
    return typed


def launch_first(payload: bytes) -> Claims:
    """What a launch check does: the launch decoder, and msgspec's for anything it leaves."""
    light = _claims_launch.decode_light(payload)
    if light is not None:
        return light  # type: ignore[return-value]  # duck-typed Claims, as in _claims_launch
    return _claims.parse_claims(payload)
