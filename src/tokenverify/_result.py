"""What a verification returns: a verified checkout, or a verdict that never raises."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from ._errors import Reason

__all__ = ["Entitlement", "Verdict", "VerifiedCheckout"]


class Entitlement(NamedTuple):
    """One signed entitlement: ``Entitlement("Users", "10", "Count")``.

    ``value`` is the signed text (AWS sends quantities as strings), or None when the
    entitlement carries no value (unit ``None``, a plain feature flag).
    """

    name: str
    value: str | None
    unit: str


class VerifiedCheckout:
    """A checkout whose signature, time, binding and entitlements were all checked.

    Every field comes from the signed token; the unsigned plaintext beside it in a
    response is only compared, never exposed. Immutable.
    """

    __slots__ = (
        "algorithm",
        "checkout_metadata",
        "checkout_type",
        "claims",
        "entitlements",
        "expiration",
        "header",
        "issued_at",
        "key_fingerprint",
        "key_thumbprint",
        "license_arn",
        "license_consumption_token",
        "node_id",
        "product_sku",
    )

    license_arn: str
    license_consumption_token: str
    node_id: str | None
    issued_at: datetime
    expiration: datetime
    entitlements: tuple[Entitlement, ...]
    checkout_metadata: Mapping[str, str]
    product_sku: str | None
    checkout_type: str | None
    algorithm: str
    key_fingerprint: str
    key_thumbprint: str
    header: Mapping[str, Any]
    claims: Mapping[str, Any]

    def __init__(self, **fields: Any) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, fields[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("VerifiedCheckout is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("VerifiedCheckout is immutable")

    def entitlement(self, name: str) -> Entitlement | None:
        """The first signed entitlement called ``name`` (exact match), if any."""
        return next((e for e in self.entitlements if e.name == name), None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifiedCheckout):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # holds mappings

    def __repr__(self) -> str:
        return (
            f"VerifiedCheckout(license_arn={self.license_arn!r}, node_id={self.node_id!r}, "
            f"expiration={self.expiration.isoformat()}, entitlements={len(self.entitlements)}, "
            f"algorithm={self.algorithm!r}, key_fingerprint={self.key_fingerprint!r})"
        )


class Verdict(NamedTuple):
    """The outcome of :meth:`Verifier.check`: ``ok`` with a checkout, or a reason."""

    ok: bool
    reason: Reason | None
    message: str
    checkout: VerifiedCheckout | None

    def __bool__(self) -> bool:
        return self.ok
