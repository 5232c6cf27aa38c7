"""tokenverify: verify AWS License Manager checkout tokens offline.

>>> import tokenverify as tv
>>> registry = tv.KeyRegistry()
>>> registry.add("aws:111122223333:My Company:issuer-fingerprint", PUBLIC_PEM, algorithms=["PS384"])
>>> verifier = tv.Verifier(registry, tv.Policy(node_id="node-7"))
>>> checkout = verifier.verify(Path("checkout.json"))   # or a boto3 response, or the token

Everything that is wrong with a token raises :class:`TokenRejected` with a :class:`Reason`;
:meth:`Verifier.check` returns a :class:`Verdict` instead. ``tokenverify.testing`` mints
AWS-shaped test checkouts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._clock import ClockGuard
from ._errors import InvalidKey, Reason, TokenRejected
from ._policy import Policy, Requirement
from ._registry import KeyRegistry
from ._result import Entitlement, Verdict, VerifiedCheckout
from ._revocation import Revocation, RevocationList
from ._signature import verify_compact
from ._verifier import Verifier

if TYPE_CHECKING:
    from . import testing as testing

__all__ = [
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
    "verify_compact",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # ``tv.testing`` without importing it (and its key generation code) at launch.
    if name == "testing":
        import importlib

        return importlib.import_module("tokenverify.testing")
    raise AttributeError(f"module 'tokenverify' has no attribute {name!r}")
