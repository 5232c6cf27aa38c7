"""tokenverify: verify AWS License Manager checkout tokens offline.

>>> import tokenverify as tv
>>> registry = tv.KeyRegistry()
>>> registry.add("aws:111122223333:My Company:issuer-fingerprint", PUBLIC_PEM, algorithms=["PS384"])
>>> verifier = tv.Verifier(registry, tv.Policy(node_id="node-7"))
>>> checkout = verifier.verify(Path("checkout.json"))   # or a boto3 response, or the token

Everything that is wrong with a token raises :class:`TokenRejected` with a :class:`Reason`;
:meth:`Verifier.check` returns a :class:`Verdict` instead. A valid checkout may carry
``warnings`` (:class:`CheckoutWarning`, coded by :class:`WarningCode`): in grace, expires
soon, node not checked, new clock mark. ``tokenverify.testing`` mints
AWS-shaped test checkouts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import InvalidKey, Reason, TokenRejected
from ._policy import Policy, Requirement
from ._registry import KeyRegistry
from ._result import Entitlement, Verdict, VerifiedCheckout
from ._signature import verify_compact
from ._verifier import Verifier
from ._warnings import CheckoutWarning, WarningCode

if TYPE_CHECKING:
    from . import node as node
    from . import testing as testing
    from . import trust as trust
    from ._clock import ClockGuard
    from ._revocation import Revocation, RevocationList

__all__ = [
    "CheckoutWarning",
    "ClockGuard",
    "Entitlement",
    "InvalidKey",
    "KeyRegistry",
    "Policy",
    "Reason",
    "Requirement",
    "Revocation",
    "RevocationList",
    "TokenRejected",
    "Verdict",
    "VerifiedCheckout",
    "Verifier",
    "WarningCode",
    "verify_compact",
]

__version__ = "0.1.0"


# Imported on first use: a launch check that uses neither pays nothing for them (the clock
# guard's file handling alone pulls in pathlib and tempfile, about 4 ms).
_LAZY = {
    "testing": ("tokenverify.testing", None),
    "node": ("tokenverify.node", None),
    "trust": ("tokenverify.trust", None),
    "ClockGuard": ("tokenverify._clock", "ClockGuard"),
    "Revocation": ("tokenverify._revocation", "Revocation"),
    "RevocationList": ("tokenverify._revocation", "RevocationList"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'tokenverify' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)
