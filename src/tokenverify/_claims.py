"""The AWS checkout payload (camelCase), decoded and type-checked in one pass.

Required: ``licenseArn``, ``licenseConsumptionToken``, an issue time and an expiry (a
token that never expires is refused). Optional: ``nodeId``, ``entitlementsAllowed``,
``checkoutMetadata``, ``productSKU``, ``checkoutType``, ``keyFingerprint``,
``beneficiary`` and the JWT ``iat``/``exp``/``nbf``. Other claims, of any JSON shape, are
tolerated and kept.

``checkoutMetadata`` may be signed as an object (``{"Mac": "..."}``) or as a list of
pairs, ``[{"name": ..., "value": ...}]`` or the API's own ``[{"Name": ..., "Value":
...}]``: AWS documents neither, so both are read into one name -> value mapping. In a
list, a name repeated with the same value is one entry; with two values it is refused,
since no reading of it would be the issuer's. (In the object form a repeated member is
a JSON duplicate and follows the payload's rule below.)

Decoding is msgspec into typed structs: it checks every type and unit in C, 3x faster
than ``json.loads`` plus a Python loop over 45 entitlements (measured; see README).
A payload made only of known claims (AWS's documented shape) takes that path alone; one
with extra claims is also decoded in full, so that every value in it is checked too and
``claims`` (the raw mapping) can always be produced. Duplicate member names in the signed
payload resolve to the last one, as RFC 7519 section 4 allows: the issuer's signature
covers those bytes, so no attacker chose them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal, NamedTuple

import msgspec

from ._errors import Reason, TokenRejected
from ._times import from_epoch, parse_iso8601, parse_numeric_date

__all__ = ["Claims", "SignedEntitlement", "parse_claims"]

Unit = Literal[
    "Count", "None", "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
    "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits",
    "Terabits", "Percent", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
    "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
    "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second",
]  # fmt: skip
NumericDate = int | float
# NumericDate and ISO spellings of one instant may differ by the fraction NumericDate drops.
_SPELLING_TOLERANCE = 1.0


# gc=False: these hold only strings (no cycle can pass through them), so msgspec skips the
# garbage collector's bookkeeping when it makes and frees them, 45 per AWS borrow token.
class SignedEntitlement(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """An ``entitlementsAllowed`` entry as signed (exposed as ``Entitlement``)."""

    name: str
    unit: Unit
    value: str | None = None


class _MetadataPair(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    # Either spelling may be signed; which one a pair uses is checked after decoding.
    name: str | None = None
    value: str | None = None
    Name: str | None = None
    Value: str | None = None


class _SignedPayload(msgspec.Struct, forbid_unknown_fields=True):
    licenseArn: str | None = None
    licenseConsumptionToken: str | None = None
    entitlementsAllowed: tuple[SignedEntitlement, ...] | None = None
    nodeId: str | None = None
    issuedAt: str | None = None
    expiration: str | None = None
    checkoutMetadata: dict[str, str] | tuple[_MetadataPair, ...] | None = None
    productSKU: str | None = None
    checkoutType: str | None = None
    keyFingerprint: str | None = None
    beneficiary: str | None = None
    iat: NumericDate | None = None
    exp: NumericDate | None = None
    nbf: NumericDate | None = None


class _LenientEntitlement(SignedEntitlement, frozen=True, forbid_unknown_fields=False):
    pass


class _LenientPair(_MetadataPair, frozen=True, forbid_unknown_fields=False):
    pass


class _LenientPayload(_SignedPayload, forbid_unknown_fields=False):
    entitlementsAllowed: tuple[_LenientEntitlement, ...] | None = None
    checkoutMetadata: dict[str, str] | tuple[_LenientPair, ...] | None = None


_DECODE_KNOWN = msgspec.json.Decoder(_SignedPayload).decode
_DECODE_LENIENT = msgspec.json.Decoder(_LenientPayload).decode
_DECODE_ANY = msgspec.json.Decoder().decode
_new_claims = tuple.__new__


class Claims(NamedTuple):
    """The payload's claims, checked for type and shape, with its instants parsed."""

    signed: _SignedPayload
    issued_at: datetime
    expiration: datetime
    issued_at_epoch: float
    expiration_epoch: float
    not_before_epoch: float | None
    payload: bytes
    #: The decoded payload when it had to be decoded whole (it has unknown claims).
    decoded: dict[str, Any] | None
    #: ``checkoutMetadata`` as one mapping whichever shape was signed; None when absent.
    metadata: dict[str, str] | None

    # Views of ``signed`` under the names the rest of the library uses.
    @property
    def license_arn(self) -> str:
        """``licenseArn`` (checked present)."""
        return self.signed.licenseArn  # type: ignore[return-value]

    @property
    def license_consumption_token(self) -> str:
        """``licenseConsumptionToken`` (checked present)."""
        return self.signed.licenseConsumptionToken  # type: ignore[return-value]

    @property
    def node_id(self) -> str | None:
        """``nodeId``."""
        return self.signed.nodeId

    @property
    def entitlements(self) -> tuple[SignedEntitlement, ...] | None:
        """``entitlementsAllowed``; None when the token has no such claim."""
        return self.signed.entitlementsAllowed

    @property
    def checkout_metadata(self) -> dict[str, str] | None:
        """``checkoutMetadata`` as name -> value; None when the token has no such claim."""
        return self.metadata

    @property
    def product_sku(self) -> str | None:
        """``productSKU``."""
        return self.signed.productSKU

    @property
    def checkout_type(self) -> str | None:
        """``checkoutType``."""
        return self.signed.checkoutType

    @property
    def key_fingerprint(self) -> str | None:
        """``keyFingerprint``: the issuer the token says signed it."""
        return self.signed.keyFingerprint

    def raw(self) -> dict[str, Any]:
        """The whole decoded payload (a new dict on each call)."""
        if self.decoded is not None:
            return dict(self.decoded)
        # Cannot fail: the typed decode already checked every member of this payload.
        return _DECODE_ANY(self.payload)  # type: ignore[no-any-return]


def parse_claims(payload: bytes) -> Claims:
    """Decode and check the verified payload; ``TokenRejected(invalid_claims)`` if wrong."""
    decoded: dict[str, Any] | None = None
    try:
        try:
            signed: _SignedPayload = _DECODE_KNOWN(payload)
        except msgspec.ValidationError as exc:
            if "unknown field" not in str(exc):
                raise
            decoded = _DECODE_ANY(payload)  # checks every value, including unknown claims
            signed = _DECODE_LENIENT(payload)
    except (msgspec.MsgspecError, ValueError, RecursionError) as exc:
        raise _invalid(f"payload: {_describe(exc)}") from None
    issued_at, issued_epoch = _instant(signed.issuedAt, signed.iat, "issuedAt", "iat")
    expiration, expiration_epoch = _instant(signed.expiration, signed.exp, "expiration", "exp")
    if issued_epoch > expiration_epoch:
        raise _invalid(
            f"issuedAt {issued_at.isoformat()} is after expiration {expiration.isoformat()}"
        )
    not_before = None
    if signed.nbf is not None:
        try:
            not_before = parse_numeric_date(signed.nbf)
        except ValueError as exc:
            raise _invalid(f"claim 'nbf': {exc}") from None
    if signed.licenseArn is None or signed.licenseConsumptionToken is None:
        missing = "licenseArn" if signed.licenseArn is None else "licenseConsumptionToken"
        raise _invalid(f"claim {missing!r} is missing")
    metadata = signed.checkoutMetadata
    if isinstance(metadata, tuple):
        metadata = _metadata_mapping(metadata)  # only the list shape costs anything
    # tuple.__new__ is what Claims(...) runs, without its Python-level __new__.
    return _new_claims(
        Claims,
        (
            signed,
            issued_at,
            expiration,
            issued_epoch,
            expiration_epoch,
            not_before,
            payload,
            decoded,
            metadata,
        ),
    )


def _metadata_mapping(pairs: Iterable[_MetadataPair]) -> dict[str, str]:
    """A signed list of metadata pairs as name -> value, in signed order."""
    mapping: dict[str, str] = {}
    for index, pair in enumerate(pairs):
        lower = pair.name is not None or pair.value is not None
        if lower and (pair.Name is not None or pair.Value is not None):
            raise _invalid(
                f"checkoutMetadata[{index}] mixes name/value with Name/Value; "
                "a pair is spelled one way"
            )
        name, value = (pair.name, pair.value) if lower else (pair.Name, pair.Value)
        if name is None or value is None:
            raise _invalid(
                f"checkoutMetadata[{index}] needs both a name and a value "
                "({'Name': ..., 'Value': ...} or {'name': ..., 'value': ...})"
            )
        seen = mapping.setdefault(name, value)
        if seen != value:
            raise _invalid(
                f"checkoutMetadata names {name[:80]!r} twice, with values {seen[:80]!r} and "
                f"{value[:80]!r}: the token does not say which one it binds"
            )
    return mapping


def _instant(
    iso: str | None, numeric: NumericDate | None, iso_name: str, numeric_name: str
) -> tuple[datetime, float]:
    try:
        if iso is not None:
            moment = parse_iso8601(iso)
            epoch = moment.timestamp()
            if (
                numeric is not None
                and abs(parse_numeric_date(numeric) - epoch) >= _SPELLING_TOLERANCE
            ):
                raise ValueError(f"disagrees with {numeric_name!r} ({numeric!r})")
            return moment, epoch
        if numeric is not None:
            epoch = parse_numeric_date(numeric)
            return from_epoch(epoch), epoch
    except ValueError as exc:
        raise _invalid(f"claim {iso_name!r}: {exc}") from None
    raise _invalid(
        f"claim {iso_name!r} is missing; a checkout token must say when it was issued and expires"
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nesting is too deep"
    text = str(exc).split("\n", 1)[0]
    # msgspec says "Invalid enum value 'Cnt' - at `$.entitlementsAllowed[0].unit`".
    text = text.replace("Invalid enum value", "not an AWS unit or allowed value:")
    return text[:200]


def _invalid(description: str) -> TokenRejected:
    return TokenRejected(Reason.invalid_claims, description)
