"""The two payload decoders side by side: ``_claims`` (msgspec) and ``_claims_launch`` (json).

:func:`both_decoders` is what ``tests/conftest.py`` puts in ``Verifier``'s place for the
whole suite: every payload any test verifies is decoded by both, and whenever the launch
decoder accepts one, msgspec's must accept it with the same values. Its result is always
msgspec's, so every other assertion of the suite still holds the reference decoder to it.
"""

from __future__ import annotations

from typing import Any

from tokenverify import _claims, _claims_launch
from tokenverify._claims import Claims
from tokenverify._claims_launch import LaunchClaims

__all__ = ["LAUNCH_ACCEPTED", "both_decoders", "claims_values", "launch_first"]

#: Payloads the launch decoder accepted (and msgspec's agreed with) in this session.
LAUNCH_ACCEPTED: list[bytes] = []

_SIGNED_STRINGS = (
    "licenseArn",
    "licenseConsumptionToken",
    "nodeId",
    "issuedAt",
    "expiration",
    "productSKU",
    "checkoutType",
    "keyFingerprint",
    "beneficiary",
    "iat",
    "exp",
    "nbf",
)


def claims_values(claims: Claims | LaunchClaims) -> dict[str, Any]:
    """Everything a consumer can read from decoded claims, as plain values."""
    signed = claims.signed
    entitlements = signed.entitlementsAllowed
    metadata = signed.checkoutMetadata
    return {
        "signed": {name: _typed(getattr(signed, name)) for name in _SIGNED_STRINGS},
        "entitlements": None
        if entitlements is None
        else [(e.name, e.unit, e.value, type(e.value)) for e in entitlements],
        "signed_metadata": metadata
        if metadata is None or isinstance(metadata, dict)
        else [(p.name, p.value, p.Name, p.Value) for p in metadata],
        "issued_at": (claims.issued_at, claims.issued_at.tzinfo),
        "expiration": (claims.expiration, claims.expiration.tzinfo),
        "epochs": _typed((claims.issued_at_epoch, claims.expiration_epoch)),
        "not_before": _typed(claims.not_before_epoch),
        "payload": claims.payload,
        "decoded": claims.decoded,
        "metadata": claims.metadata,
        "views": (
            claims.license_arn,
            claims.license_consumption_token,
            claims.node_id,
            claims.checkout_metadata,
            claims.product_sku,
            claims.checkout_type,
            claims.key_fingerprint,
        ),
        "raw": _typed(claims.raw()),
    }


def _typed(value: Any) -> Any:
    """``value`` with the type of every number kept: 1 == 1.0 == True must not pass."""
    if isinstance(value, dict):
        return {name: _typed(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


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
