"""What a verification returns: a verified checkout, or a verdict that never raises."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ._reasons import Reason
from ._warnings import NO_WARNINGS, CheckoutWarning, WarningCode

if TYPE_CHECKING:
    # What a result reads of the claims, the key and the token, as shapes: importing
    # ``_claims``, ``_keys`` or ``_token`` here would close a circle through ``_errors``
    # (they raise TokenRejected, whose ``signed_checkout`` is a VerifiedCheckout).

    class _SignedEntitlement(Protocol):
        @property
        def name(self) -> str: ...
        @property
        def value(self) -> str | None: ...
        @property
        def unit(self) -> str: ...

    class Claims(Protocol):
        @property
        def license_arn(self) -> str: ...
        @property
        def license_consumption_token(self) -> str: ...
        @property
        def node_id(self) -> str | None: ...
        @property
        def issued_at(self) -> datetime: ...
        @property
        def expiration(self) -> datetime: ...
        @property
        def entitlements(self) -> Sequence[_SignedEntitlement] | None: ...
        @property
        def checkout_metadata(self) -> Mapping[str, str] | None: ...
        @property
        def product_sku(self) -> str | None: ...
        @property
        def checkout_type(self) -> str | None: ...
        def raw(self) -> dict[str, Any]: ...

    class RegisteredKey(Protocol):
        @property
        def fingerprint(self) -> str: ...
        @property
        def thumbprint(self) -> str: ...

    class CompactToken(Protocol):
        @property
        def algorithm(self) -> str: ...
        @property
        def header(self) -> Mapping[str, Any]: ...


__all__ = ["Entitlement", "Verdict", "VerifiedCheckout", "entitlement_triples"]

_NO_METADATA: Mapping[str, str] = MappingProxyType({})


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

    ``warnings`` says what the check passed on less than it could have (grace, an
    expiry or key rotation due soon, no node bound, a new clock mark); they belong to the
    check at one instant, so equality ignores them.
    """

    __slots__ = ("_claims", "_entitlements", "_key", "_raw", "_token", "_warnings")

    _claims: Claims
    _key: RegisteredKey
    _token: CompactToken
    _entitlements: tuple[Entitlement, ...] | None
    _raw: Mapping[str, Any] | None
    _warnings: tuple[CheckoutWarning, ...]

    def __init__(
        self,
        claims: Claims,
        key: RegisteredKey,
        token: CompactToken,
        warnings: tuple[CheckoutWarning, ...] = NO_WARNINGS,
    ) -> None:
        # Entitlement tuples and the raw claims are built on first use: a launch check
        # reads one or two fields, an audit perhaps none. The slots are set through their
        # descriptors, past __setattr__: a quarter cheaper than object.__setattr__ (measured).
        _set_claims(self, claims)
        _set_key(self, key)
        _set_token(self, token)
        _set_entitlements(self, None)
        _set_raw(self, None)
        _set_warnings(self, warnings)

    @property
    def warnings(self) -> tuple[CheckoutWarning, ...]:
        """What the check at its instant passed on less than it could have; see
        :class:`CheckoutWarning`. Empty for a bound checkout well inside its window."""
        return self._warnings

    @property
    def in_grace(self) -> bool:
        """True when it was valid only on the policy's grace (an ``in_grace`` warning)."""
        return any(w.code is WarningCode.in_grace for w in self._warnings)

    @property
    def algorithm(self) -> str:
        """The token's JWS ``alg``."""
        return self._token.algorithm

    @property
    def header(self) -> Mapping[str, Any]:
        """The protected JWS header, read-only."""
        return self._token.header

    @property
    def key_fingerprint(self) -> str:
        """The issuer fingerprint of the registered key that verified the signature."""
        return self._key.fingerprint

    @property
    def key_thumbprint(self) -> str:
        """RFC 7638 thumbprint of that key."""
        return self._key.thumbprint

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("VerifiedCheckout is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("VerifiedCheckout is immutable")

    @property
    def license_arn(self) -> str:
        """``licenseArn``."""
        return self._claims.license_arn

    @property
    def license_consumption_token(self) -> str:
        """``licenseConsumptionToken``: the checkout's identity (key replay checks on it)."""
        return self._claims.license_consumption_token

    @property
    def node_id(self) -> str | None:
        """``nodeId``, or None if the checkout is not bound to a node."""
        return self._claims.node_id

    @property
    def issued_at(self) -> datetime:
        """``issuedAt`` as an aware UTC datetime."""
        return self._claims.issued_at

    @property
    def expiration(self) -> datetime:
        """``expiration`` as an aware UTC datetime."""
        return self._claims.expiration

    @property
    def entitlements(self) -> tuple[Entitlement, ...]:
        """``entitlementsAllowed`` in signed order."""
        if self._entitlements is None:
            signed = self._claims.entitlements or ()
            object.__setattr__(
                self, "_entitlements", tuple(Entitlement(e.name, e.value, e.unit) for e in signed)
            )
        assert self._entitlements is not None
        return self._entitlements

    @property
    def checkout_metadata(self) -> Mapping[str, str]:
        """``checkoutMetadata`` as name -> value in signed order (empty when absent),
        read-only, whether it was signed as an object or a list of name/value pairs."""
        metadata = self._claims.checkout_metadata
        return _NO_METADATA if metadata is None else MappingProxyType(metadata)

    @property
    def product_sku(self) -> str | None:
        """``productSKU`` when the token carries it."""
        return self._claims.product_sku

    @property
    def checkout_type(self) -> str | None:
        """``checkoutType`` (PROVISIONAL or PERPETUAL) when the token carries it."""
        return self._claims.checkout_type

    @property
    def claims(self) -> Mapping[str, Any]:
        """The whole signed payload as decoded, read-only at the top level."""
        if self._raw is None:
            object.__setattr__(self, "_raw", MappingProxyType(self._claims.raw()))
        assert self._raw is not None
        return self._raw

    def entitlement(self, name: str) -> Entitlement | None:
        """The first signed entitlement called ``name`` (exact match), if any."""
        return next((e for e in self.entitlements if e.name == name), None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifiedCheckout):
            return NotImplemented
        return (self.claims, self.algorithm, self.key_thumbprint, dict(self.header)) == (
            other.claims,
            other.algorithm,
            other.key_thumbprint,
            dict(other.header),
        )

    __hash__ = None  # type: ignore[assignment]  # holds mappings

    def __repr__(self) -> str:
        return (
            f"VerifiedCheckout(license_arn={self.license_arn!r}, node_id={self.node_id!r}, "
            f"expiration={self.expiration.isoformat()}, entitlements={len(self.entitlements)}, "
            f"algorithm={self.algorithm!r}, key_fingerprint={self.key_fingerprint!r})"
        )


def _slot_setter(name: str) -> Callable[[VerifiedCheckout, object], None]:
    """The slot's own setter, which __setattr__ (immutability) does not stand in front of."""
    setter: Callable[[VerifiedCheckout, object], None] = VerifiedCheckout.__dict__[name].__set__
    return setter


_set_claims = _slot_setter("_claims")
_set_key = _slot_setter("_key")
_set_token = _slot_setter("_token")
_set_entitlements = _slot_setter("_entitlements")
_set_raw = _slot_setter("_raw")
_set_warnings = _slot_setter("_warnings")

#: ``(name, value, unit)`` of one signed entitlement, in C.
_TRIPLE = attrgetter("name", "value", "unit")


def entitlement_triples(checkout: VerifiedCheckout) -> tuple[tuple[str, str | None, str], ...]:
    """``checkout.entitlements`` as plain ``(name, value, unit)`` tuples, in signed order.

    For the audit, which stores them in every record: read off the signed claims, without
    the :class:`Entitlement` per entry that the property builds first (~10 µs against ~48
    on a 45-entitlement token, measured). ``tests/audit/test_record_fast.py`` holds it to
    the property's values on the hostile suite, both claims decoders and generated lists.
    """
    signed = checkout._claims.entitlements
    return tuple(map(_TRIPLE, signed)) if signed else ()


class Verdict(NamedTuple):
    """The outcome of :meth:`Verifier.check`: ``ok`` with a checkout, or a reason."""

    ok: bool
    reason: Reason | None
    message: str
    checkout: VerifiedCheckout | None

    @property
    def warnings(self) -> tuple[CheckoutWarning, ...]:
        """The checkout's warnings when ``ok``; always empty for a rejection (the reason
        is what to act on, and nothing about a refused token is reassuring)."""
        checkout = self.checkout
        return NO_WARNINGS if checkout is None else checkout._warnings

    def __bool__(self) -> bool:
        return self.ok
