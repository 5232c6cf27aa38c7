"""The one exception a bad token raises, and the reason codes it carries.

Exception tree::

    ValueError
    ├── TokenRejected   a token, response or file was refused; `.reason` says why
    └── InvalidKey      key material was refused when it was registered or loaded
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._reasons import Reason

if TYPE_CHECKING:
    from ._result import VerifiedCheckout

__all__ = ["OFF_STANDARD_SALT", "InvalidKey", "Reason", "TokenRejected"]

#: The words of a ``bad_signature`` message whose signature verifies with another PSS salt
#: (a signer that breaks JWS, not tampering): the CLI gives that case its own remedy.
OFF_STANDARD_SALT = "verifies this signature only with an RSASSA-PSS salt"


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
