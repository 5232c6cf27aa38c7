"""The reason codes a rejection carries: :class:`Reason`, re-exported by ``_errors``.

A module of its own, below everything, so that what a verification returns
(:mod:`tokenverify._result`) can name a reason without importing the exception, whose
``signed_checkout`` is in turn a result.
"""

from __future__ import annotations

import enum

__all__ = ["Reason"]


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
