"""What a valid checkout still wants a person to know: structured warnings.

A warning never makes a checkout invalid (``Verifier.check`` stays ``ok``); it says that
the check passed on less than it could have: the checkout runs on grace, expires soon,
was not bound to this machine, or the clock guard had no state to compare with. Each
:class:`CheckoutWarning` has a stable :class:`WarningCode`, a message for people, and
``seconds_left`` where a deadline is involved.

Gathered only after every check passed (a rejection carries no warnings), by
:func:`gather_warnings`, which the verifier calls only when one could apply: a checkout
inside its window with no ``warn_before`` costs one comparison (and, when the policy
binds no node, hands out a prebuilt ``node_not_checked`` tuple).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ._claims import Claims
    from ._keys import RegisteredKey
    from ._policy import Policy

__all__ = [
    "NO_WARNINGS",
    "ONLY_NODE_NOT_CHECKED",
    "CheckoutWarning",
    "WarningCode",
    "gather_warnings",
]


class WarningCode(enum.StrEnum):
    """What a warning is about. The values are stable, short snake_case codes."""

    #: Past ``expiration + leeway`` but within the policy's ``grace``: valid for now.
    in_grace = "in_grace"
    #: Within the policy's ``warn_before`` of ``expiration``.
    expires_soon = "expires_soon"
    #: The trusted key's ``not_after`` is within ``warn_before``: checkouts it signs
    #: after that will be refused, so the product needs the issuer's next key.
    key_expires_soon = "key_expires_soon"
    #: The policy names no ``node_id``: the checkout was not checked against this machine.
    node_not_checked = "node_not_checked"
    #: The clock guard found no state and started a new high-water mark.
    clock_mark_started = "clock_mark_started"


class CheckoutWarning(NamedTuple):
    """One warning about a valid checkout: ``code``, ``message`` and, for a deadline,
    ``seconds_left`` until it (from the instant checked). Immutable and picklable."""

    code: WarningCode
    message: str
    seconds_left: float | None = None


NO_WARNINGS: tuple[CheckoutWarning, ...] = ()

_NODE_NOT_CHECKED = CheckoutWarning(
    WarningCode.node_not_checked,
    "the policy names no node_id, so this checkout was not checked to be bound to this "
    "machine: pass Policy(node_id=...) (CLI: --node-id, or --node-id auto)",
)
#: What gather_warnings returns inside the window for a policy that binds no node (the
#: verifier hands it out without the call).
ONLY_NODE_NOT_CHECKED = (_NODE_NOT_CHECKED,)
_CLOCK_MARK_STARTED = CheckoutWarning(
    WarningCode.clock_mark_started,
    "the clock guard had no state and started a new mark: a clock turned back before "
    "this run cannot be detected (create the state at installation: ClockGuard.initialize)",
)


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
        found.append(_NODE_NOT_CHECKED)
    if mark_started:
        found.append(_CLOCK_MARK_STARTED)
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
