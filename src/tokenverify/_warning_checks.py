"""When a checkout that passed every check still gets a warning: :func:`gather_warnings`.

The verifier calls it only when one could apply: a checkout inside its window with no
``warn_before`` costs one comparison (and, when the policy binds no node, gets the
prebuilt ``ONLY_NODE_NOT_CHECKED`` tuple). The warnings themselves are in
:mod:`tokenverify._warnings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._warnings import CLOCK_MARK_STARTED, NODE_NOT_CHECKED, CheckoutWarning, WarningCode

if TYPE_CHECKING:
    from ._claims import Claims
    from ._keys import RegisteredKey
    from ._policy import Policy

__all__ = ["gather_warnings"]


def gather_warnings(
    policy: Policy,
    claims: Claims,
    key: RegisteredKey,
    now: float,
    *,
    mark_started: bool = False,
) -> tuple[CheckoutWarning, ...]:
    """The warnings for a checkout that passed every check at ``now`` (epoch seconds)."""
    found: list[CheckoutWarning] = []
    expiration = claims.expiration_epoch
    if now > expiration + policy.leeway:
        # Same association as check_policy's bound, so the edges agree to the microsecond.
        left = expiration + (policy.leeway + policy.grace) - now
        found.append(
            CheckoutWarning(
                WarningCode.in_grace,
                f"expired at {claims.expiration.isoformat()} ({now - expiration:.0f} s ago) "
                f"and valid only on the policy's grace, {_duration(left)} left; check out "
                "again (CheckoutLicense or CheckoutBorrowLicense) for a fresh token",
                left,
            )
        )
    elif policy.warn_before > 0.0 and now >= expiration - policy.warn_before:
        left = expiration - now
        found.append(
            CheckoutWarning(
                WarningCode.expires_soon,
                f"expires at {claims.expiration.isoformat()}, "
                + (f"in {_duration(left)}" if left >= 0 else "now (within the leeway)")
                + "; check out again before then for a fresh token",
                left,
            )
        )
    not_after = key.not_after
    if policy.warn_before > 0.0 and not_after is not None:
        left = not_after.timestamp() - now
        if left <= policy.warn_before:
            found.append(
                CheckoutWarning(
                    WarningCode.key_expires_soon,
                    f"the issuer key {key.thumbprint} of {key.fingerprint!r} is trusted only "
                    f"until {not_after.isoformat()} "
                    + (f"({_duration(left)} left)" if left >= 0 else "(already passed)")
                    + ": checkouts it signs after that are refused; ship the issuer's next key",
                    left,
                )
            )
    if policy.node_id is None:
        found.append(NODE_NOT_CHECKED)
    if mark_started:
        found.append(CLOCK_MARK_STARTED)
    return tuple(found)


def _duration(seconds: float) -> str:
    """``45 s``, ``59 min``, ``23 h 59 min``, ``3 d 4 h`` (rounded down, never negative)."""
    whole = max(int(seconds), 0)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"
