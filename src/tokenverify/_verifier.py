"""The straight path: input -> token -> key -> signature -> claims -> policy -> result."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from ._claims_launch import parse_claims
from ._envelope import check_envelope
from ._errors import Reason, TokenRejected
from ._input import read_input
from ._keys import RegisteredKey
from ._policy import Policy, check_policy, check_typ
from ._registry import KeyRegistry
from ._result import Verdict, VerifiedCheckout
from ._signature import check_signature
from ._token import DEFAULT_MAX_TOKEN_SIZE, CompactToken, decode_segment, parse_compact
from ._warning_checks import gather_warnings
from ._warnings import NO_WARNINGS, ONLY_NODE_NOT_CHECKED, WarningCode

if TYPE_CHECKING:
    from ._claims import Claims
    from ._clock import ClockGuard
    from ._revocation import RevocationList

__all__ = ["Verifier"]

_DEFAULT_POLICY = Policy()
#: When to judge a checkout: the clock (None), an aware datetime, epoch seconds, or
#: ``"issued"`` for the checkout's own issuedAt.
Instant = datetime | float | Literal["issued"] | None
#: Tokens that verify_each takes through each stage together: enough for the stages'
#: code to stay warm, few enough that the tokens' own bytes stay in cache between stages.
_STAGED = 32


class Verifier:
    """Verifies checkouts against trusted keys and a policy, entirely offline.

    >>> verifier = Verifier(registry, Policy(node_id="node-7"))
    >>> checkout = verifier.verify(response)           # raises TokenRejected
    >>> verdict = verifier.check(Path("checkout.json"))  # never raises for bad input
    """

    __slots__ = ("clock_guard", "max_token_size", "policy", "registry", "revocations")

    def __init__(
        self,
        registry: KeyRegistry,
        policy: Policy | None = None,
        *,
        clock_guard: ClockGuard | None = None,
        revocations: RevocationList | None = None,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    ) -> None:
        if not isinstance(registry, KeyRegistry):
            raise TypeError("Verifier needs a KeyRegistry")
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError("policy must be a Policy")
        if clock_guard is not None:
            from ._clock import ClockGuard  # only products that use one import it

            if not isinstance(clock_guard, ClockGuard):
                raise TypeError("clock_guard must be a ClockGuard")
        if revocations is not None:
            from ._revocation import RevocationList

            if not isinstance(revocations, RevocationList):
                raise TypeError("revocations must be a RevocationList")
        if (
            isinstance(max_token_size, bool)
            or not isinstance(max_token_size, int)
            or max_token_size < 1
        ):
            raise ValueError("max_token_size is a positive number of characters")
        self.registry = registry
        self.policy = policy or _DEFAULT_POLICY
        self.clock_guard = clock_guard
        self.revocations = revocations
        self.max_token_size = max_token_size

    def verify(self, source: object, now: Instant = None) -> VerifiedCheckout:
        """Verify a checkout and return its signed contents; raise :class:`TokenRejected`.

        ``source``: a boto3 response dict, its saved JSON (str or bytes), a compact token,
        or an ``os.PathLike``. ``now``: an aware datetime or epoch seconds (default: the
        system clock), or ``"issued"`` to judge the checkout at its own ``issuedAt``, as
        an audit asks "was it valid when it was issued?" (no clock guard then).

        A rejection that comes after the signature was verified (times, node, envelope,
        entitlements, revocation) carries the signed contents in
        ``TokenRejected.signed_checkout``, for reports; never treat it as valid.

        The checkout's ``warnings`` say what it passed on less than it could have: the
        policy's grace, an expiry within ``warn_before``, no ``node_id`` in the policy, a
        clock guard that started a new mark (see :class:`CheckoutWarning`).
        """
        if now == "issued":
            at_issue, instant = True, 0.0  # replaced by issuedAt once it is known
        else:
            at_issue, instant = False, _instant(now)
        parsed, envelope = self._read(source)
        key = check_signature(parsed, self.registry, self.policy.key_fingerprint)
        return self._finish(parsed, envelope, key, at_issue, instant)

    def verify_each(
        self, sources: Iterable[object], now: Instant = None
    ) -> list[VerifiedCheckout | TokenRejected]:
        """:meth:`verify` each source, in order: its checkout, or the ``TokenRejected``
        it raised, in its place. Any other exception propagates, as from :meth:`verify`.

        The same checks with the same results, faster on many tokens (an audit's chunk):
        a few tokens at a time are read and parsed, then their signatures checked, then
        their claims, so that each stage's code stays warm in the CPU's caches instead of
        being pushed out by OpenSSL's at every token (``benchmarks/verify_cost.py``).
        """
        # A bad ``now`` is refused before any work, as by verify; the clock (now=None) is
        # read for each token as its claims are checked.
        fixed: float | None = None
        if now == "issued":
            at_issue, fixed = True, 0.0
        else:
            at_issue = False
            if now is not None:
                fixed = _instant(now)
        registry, fingerprint = self.registry, self.policy.key_fingerprint
        results: list[VerifiedCheckout | TokenRejected] = []
        iterator = iter(sources)
        while batch := list(itertools.islice(iterator, _STAGED)):
            outcomes: list[VerifiedCheckout | TokenRejected | None] = [None] * len(batch)
            read: list[tuple[int, CompactToken, Mapping[str, Any] | None]] = []
            for index, source in enumerate(batch):
                try:
                    parsed, envelope = self._read(source)
                except TokenRejected as rejection:
                    outcomes[index] = rejection
                    continue
                read.append((index, parsed, envelope))
            signed: list[tuple[int, CompactToken, Mapping[str, Any] | None, RegisteredKey]] = []
            for index, parsed, envelope in read:
                try:
                    key = check_signature(parsed, registry, fingerprint)
                except TokenRejected as rejection:
                    outcomes[index] = rejection
                    continue
                signed.append((index, parsed, envelope, key))
            for index, parsed, envelope, key in signed:
                instant = time.time() if fixed is None else fixed
                try:
                    outcomes[index] = self._finish(parsed, envelope, key, at_issue, instant)
                except TokenRejected as rejection:
                    outcomes[index] = rejection
            # Every slot is filled: by the read, the signature check or the claims stage.
            results.extend(cast("list[VerifiedCheckout | TokenRejected]", outcomes))
        return results

    def _read(self, source: object) -> tuple[CompactToken, Mapping[str, Any] | None]:
        """The parsed token (typ checked) and the response it came in, if any."""
        token, envelope = read_input(source, self.max_token_size)
        parsed = parse_compact(token, self.max_token_size)
        if self.policy.typ is not None:
            check_typ(self.policy, parsed.header)
        return parsed, envelope

    def _finish(
        self,
        parsed: CompactToken,
        envelope: Mapping[str, Any] | None,
        key: RegisteredKey,
        at_issue: bool,
        instant: float,
    ) -> VerifiedCheckout:
        """Everything after the signature: claims, binding, envelope, clock, policy."""
        claims = parse_claims(decode_segment(parsed.payload_segment, "payload"))
        mark_started = False
        try:
            _check_key_binding(key, claims)
            if self.revocations is not None:
                self.revocations.check(claims, key)
            if envelope is not None:
                check_envelope(envelope, claims)
            if at_issue:
                instant = claims.issued_at_epoch
            elif self.clock_guard is not None:
                mark_started = self.clock_guard.observe(
                    instant, claims.issued_at_epoch, self.policy.leeway
                )
            check_policy(self.policy, claims, instant)
        except TokenRejected as rejection:
            rejection.signed_checkout = VerifiedCheckout(claims, key, parsed)
            raise
        policy = self.policy
        # Inside its window, without warn_before or a new clock mark: no warning is built.
        if policy.warn_before or mark_started or instant > claims.expiration_epoch + policy.leeway:
            warnings = gather_warnings(policy, claims, key, instant, mark_started=mark_started)
        elif policy.node_id is None:
            warnings = ONLY_NODE_NOT_CHECKED
        else:
            warnings = NO_WARNINGS
        return VerifiedCheckout(claims, key, parsed, warnings)

    def check(self, source: object, now: Instant = None) -> Verdict:
        """Like :meth:`verify`, but return a :class:`Verdict` instead of raising."""
        try:
            checkout = self.verify(source, now)
        except TokenRejected as rejection:
            return Verdict(False, rejection.reason, rejection.description, None)
        return Verdict(True, None, _valid_message(checkout), checkout)


def _valid_message(checkout: VerifiedCheckout) -> str:
    for warning in checkout.warnings:
        if warning.code is WarningCode.in_grace:
            return f"valid in grace: {warning.message}"
    return "valid"


def _check_key_binding(key: RegisteredKey, claims: Claims) -> None:
    if not key.valid_at(claims.issued_at):
        raise TokenRejected(
            Reason.key_not_valid,
            f"signed by key {key.thumbprint} of {key.fingerprint!r}, which is trusted only "
            f"from {_bound(key.not_before)} to {_bound(key.not_after)}, at "
            f"{claims.issued_at.isoformat()}",
        )
    if claims.key_fingerprint is not None and claims.key_fingerprint != key.fingerprint:
        raise TokenRejected(
            Reason.invalid_claims,
            f"token names issuer {claims.key_fingerprint[:80]!r} but verified with a key of "
            f"{key.fingerprint!r}",
        )


def _bound(moment: datetime | None) -> str:
    return "any time" if moment is None else moment.isoformat()


def _instant(now: datetime | float | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
        return now.timestamp()
    if isinstance(now, bool) or not isinstance(now, int | float) or math.isnan(now):
        raise TypeError("now must be an aware datetime, epoch seconds or 'issued'")
    return float(now)
