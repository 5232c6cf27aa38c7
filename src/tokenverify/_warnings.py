"""What a valid checkout still wants a person to know: structured warnings.

A warning never makes a checkout invalid (``Verifier.check`` stays ``ok``); it says that
the check passed on less than it could have: the checkout runs on grace, expires soon,
was not bound to this machine, or the clock guard had no state to compare with. Each
:class:`CheckoutWarning` has a stable :class:`WarningCode`, a message for people, and
``seconds_left`` where a deadline is involved.

Gathered only after every check passed (a rejection carries no warnings), by
:func:`tokenverify._warning_checks.gather_warnings`. This module is the vocabulary only
and imports nothing of the package: a result (:mod:`tokenverify._result`) carries
warnings without depending on the checks that raise.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

__all__ = [
    "CLOCK_MARK_STARTED",
    "NODE_NOT_CHECKED",
    "NO_WARNINGS",
    "ONLY_NODE_NOT_CHECKED",
    "CheckoutWarning",
    "WarningCode",
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

NODE_NOT_CHECKED = CheckoutWarning(
    WarningCode.node_not_checked,
    "the policy names no node_id, so this checkout was not checked to be bound to this "
    "machine: pass Policy(node_id=...) (CLI: --node-id, or --node-id auto)",
)
#: What gather_warnings returns inside the window for a policy that binds no node (the
#: verifier hands it out without the call).
ONLY_NODE_NOT_CHECKED = (NODE_NOT_CHECKED,)
CLOCK_MARK_STARTED = CheckoutWarning(
    WarningCode.clock_mark_started,
    "the clock guard had no state and started a new mark: a clock turned back before "
    "this run cannot be detected (create the state at installation: ClockGuard.initialize)",
)
