"""The AWS checkout payload (camelCase), read strictly from the verified bytes.

Required: ``licenseArn``, ``licenseConsumptionToken``, an issue time and an expiry (a
token that never expires is refused). Optional: ``nodeId``, ``entitlementsAllowed``,
``checkoutMetadata``, ``productSKU``, ``checkoutType``, ``keyFingerprint``, and the JWT
``iat``/``exp``/``nbf``. Unknown claims are kept in ``claims`` and otherwise ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from ._errors import Reason, TokenRejected
from ._result import Entitlement
from ._times import from_epoch, parse_iso8601, parse_numeric_date
from ._units import UNITS

__all__ = ["Claims", "parse_claims"]

_EMPTY: Mapping[str, str] = MappingProxyType({})
# NumericDate and ISO spellings of one instant may differ by the fraction NumericDate drops.
_SPELLING_TOLERANCE = 1.0
_new_entitlement = tuple.__new__  # skips NamedTuple.__new__'s argument handling (hot loop)


class Claims(NamedTuple):
    """The payload's claims, checked for type and shape."""

    license_arn: str
    license_consumption_token: str
    node_id: str | None
    issued_at: datetime
    expiration: datetime
    issued_at_epoch: float
    expiration_epoch: float
    not_before_epoch: float | None
    entitlements: tuple[Entitlement, ...]
    checkout_metadata: Mapping[str, str]
    product_sku: str | None
    checkout_type: str | None
    key_fingerprint: str | None
    raw: Mapping[str, Any]


def parse_claims(payload: object) -> Claims:
    """Check the decoded payload; ``TokenRejected(invalid_claims)`` names what is wrong."""
    if type(payload) is not dict:
        raise _invalid(f"payload is a JSON {type(payload).__name__}, not an object")
    issued_at, issued_epoch = _instant(payload, "issuedAt", "iat")
    expiration, expiration_epoch = _instant(payload, "expiration", "exp")
    if issued_epoch > expiration_epoch:
        raise _invalid(f"issuedAt {issued_at.isoformat()} is after expiration {expiration.isoformat()}")
    not_before = payload.get("nbf")
    if not_before is not None:
        try:
            not_before = parse_numeric_date(not_before)
        except ValueError as exc:
            raise _invalid(f"nbf: {exc}") from None
    return Claims(
        _string(payload, "licenseArn", required=True),  # type: ignore[arg-type]
        _string(payload, "licenseConsumptionToken", required=True),  # type: ignore[arg-type]
        _string(payload, "nodeId"),
        issued_at,
        expiration,
        issued_epoch,
        expiration_epoch,
        not_before,
        _entitlements(payload.get("entitlementsAllowed")),
        _metadata(payload.get("checkoutMetadata")),
        _string(payload, "productSKU"),
        _string(payload, "checkoutType"),
        _string(payload, "keyFingerprint"),
        MappingProxyType(payload),
    )


def _string(payload: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = payload.get(name)
    if type(value) is str:
        return value
    if value is None and not required:
        return None
    if value is None:
        raise _invalid(f"claim {name!r} is missing")
    raise _invalid(f"claim {name!r} is a {type(value).__name__}, not a string")


def _instant(payload: dict[str, Any], iso_name: str, numeric_name: str) -> tuple[datetime, float]:
    iso = payload.get(iso_name)
    numeric = payload.get(numeric_name)
    try:
        if iso is not None:
            moment = parse_iso8601(iso)
            epoch = moment.timestamp()
            if numeric is not None and abs(parse_numeric_date(numeric) - epoch) >= _SPELLING_TOLERANCE:
                raise ValueError(f"disagrees with {numeric_name!r} ({numeric!r})")
            return moment, epoch
        if numeric is not None:
            epoch = parse_numeric_date(numeric)
            return from_epoch(epoch), epoch
    except ValueError as exc:
        raise _invalid(f"claim {iso_name!r}: {exc}") from None
    raise _invalid(f"claim {iso_name!r} is missing; a checkout token must say when it was issued and expires")


def _entitlements(value: object) -> tuple[Entitlement, ...]:
    if value is None:
        return ()
    if type(value) is not list:
        raise _invalid("entitlementsAllowed is not a list")
    entitlements = []
    for item in value:
        if type(item) is not dict:
            raise _invalid("an entitlementsAllowed entry is not an object")
        name = item.get("name")
        unit = item.get("unit")
        amount = item.get("value")
        if type(name) is not str or type(unit) is not str or unit not in UNITS or not (amount is None or type(amount) is str):
            raise _invalid(_entitlement_problem(item))
        entitlements.append(_new_entitlement(Entitlement, (name, amount, unit)))
    return tuple(entitlements)


def _entitlement_problem(item: dict[str, Any]) -> str:
    if type(item.get("name")) is not str:
        return f"an entitlement has no string 'name': {_preview(item)}"
    unit = item.get("unit")
    if type(unit) is not str or unit not in UNITS:
        return f"entitlement {item['name'][:40]!r} has unit {_preview(item.get('unit'))}, not an AWS unit"
    return f"entitlement {item['name'][:40]!r} has a non-string value {_preview(item.get('value'))}"


def _metadata(value: object) -> Mapping[str, str]:
    if value is None:
        return _EMPTY
    if type(value) is not dict or not all(type(v) is str for v in value.values()):
        raise _invalid("checkoutMetadata is not an object of strings")
    return MappingProxyType(value)


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _invalid(description: str) -> TokenRejected:
    return TokenRejected(Reason.invalid_claims, description)
