"""The one exception a bad token raises, and the reason codes it carries.

Exception tree::

    ValueError
    ├── TokenRejected   a token, response or file was refused; `.reason` says why
    └── InvalidKey      key material was refused when it was registered or loaded
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._result import VerifiedCheckout

__all__ = ["OFF_STANDARD_SALT", "InvalidKey", "Reason", "TokenRejected"]

#: The words of a ``bad_signature`` message whose signature verifies with another PSS salt
#: (a signer that breaks JWS, not tampering): the CLI gives that case its own remedy.
OFF_STANDARD_SALT = "verifies this signature only with an RSASSA-PSS salt"


class Reason(enum.StrEnum):
    """Why a token was rejected. The values are stable, short snake_case codes."""

    malformed = "malformed"
    too_large = "too_large"
    unsupported_algorithm = "unsupported_algorithm"
    unsupported_header = "unsupported_header"
    unknown_key = "unknown_key"
    key_not_valid = "key_not_valid"
    bad_signature = "bad_signature"
    invalid_claims = "invalid_claims"
    not_yet_valid = "not_yet_valid"
    expired = "expired"
    node_mismatch = "node_mismatch"
    license_mismatch = "license_mismatch"
    product_mismatch = "product_mismatch"
    metadata_mismatch = "metadata_mismatch"
    entitlement_missing = "entitlement_missing"
    entitlement_insufficient = "entitlement_insufficient"
    envelope_mismatch = "envelope_mismatch"
    revoked = "revoked"
    clock_rollback = "clock_rollback"


class TokenRejected(ValueError):
    """A checkout token (or the response or file around it) was refused.

    ``reason`` is a :class:`Reason`; ``description`` says what was wrong and what to
    do about it. ``str(error)`` is ``"{reason}: {description}"``.
    """

    reason: Reason
    description: str
    #: The signature-verified contents when the rejection came after the signature
    #: check (times, node, envelope, entitlements...), for reports. Never valid.
    signed_checkout: VerifiedCheckout | None

    def __init__(self, reason: Reason, description: str) -> None:
        super().__init__(f"{reason.value}: {description}")
        self.reason = reason
        self.description = description
        self.signed_checkout = None

    def __reduce__(self) -> tuple[type[TokenRejected], tuple[Reason, str]]:
        # Picklable as itself, so process pools carry the reason across; the signed
        # checkout (it holds key objects) stays behind.
        return (type(self), (self.reason, self.description))


class InvalidKey(ValueError):
    """Key material was refused: unparsable, private, weak, or unfit for its algorithms."""
