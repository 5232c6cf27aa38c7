"""``Verifier.verify_each`` is ``verify`` run on each source: the same outcome, in order.

``verify_each`` takes a few tokens through each stage together (read, signature, claims)
instead of one token through all of them. Nothing may depend on that order: for every
hostile case, every near miss, and generated mixtures of both (in any order, across the
stage batches' boundaries), each outcome is what ``verify`` gives on that source alone,
down to the rejection's reason, description and signed contents, and the warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hostile
import tokenverify as tv
from hostile import VERIFY_AT
from tokenverify import _verifier

ISSUERS = hostile.Issuers.generate()
CASES = hostile.cases(ISSUERS)
CONTROLS = hostile.controls(ISSUERS)
Outcome = tv.VerifiedCheckout | tv.TokenRejected


def one_by_one(verifier: tv.Verifier, sources: Sequence[object], now: object) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for source in sources:
        try:
            outcomes.append(verifier.verify(source, now))  # type: ignore[arg-type]
        except tv.TokenRejected as rejection:
            outcomes.append(rejection)
    return outcomes


def described(outcome: Outcome) -> tuple[object, ...]:
    """Everything a caller can read of an outcome."""
    if isinstance(outcome, tv.TokenRejected):
        signed = outcome.signed_checkout
        return ("rejected", outcome.reason, outcome.description, signed and described(signed))
    return ("verified", outcome, outcome.warnings, outcome.entitlements, dict(outcome.claims))


def assert_same(verifier: tv.Verifier, sources: Sequence[object], now: object) -> None:
    each = verifier.verify_each(sources, now)  # type: ignore[arg-type]
    assert [described(outcome) for outcome in each] == [
        described(outcome) for outcome in one_by_one(verifier, sources, now)
    ]


# Cases that share a registry, a policy and a size limit share a verifier.
GROUPS: dict[tuple[int, tv.Policy, int | None], list[object]] = {}
for _case in CASES:
    GROUPS.setdefault((id(_case.registry), _case.policy, _case.max_token_size), []).append(
        _case.source
    )
REGISTRIES = {id(case.registry): case.registry for case in CASES}


@pytest.mark.parametrize("group", list(GROUPS), ids=lambda key: f"{len(GROUPS[key])}-sources")
def test_every_hostile_case_is_rejected_alike(group: tuple[int, tv.Policy, int | None]) -> None:
    registry_id, policy, limit = group
    options = {} if limit is None else {"max_token_size": limit}
    verifier = tv.Verifier(REGISTRIES[registry_id], policy, **options)  # type: ignore[arg-type]
    sources = GROUPS[group]
    assert_same(verifier, sources, VERIFY_AT)
    assert all(
        isinstance(outcome, tv.TokenRejected)
        for outcome in verifier.verify_each(sources, VERIFY_AT)
    )


def _small(source: object) -> bool:
    if isinstance(source, str | bytes):
        return len(source) < 100_000
    if not isinstance(source, dict):
        return False
    token = source.get("SignedToken")
    return isinstance(token, str) and len(token) < 100_000 and len(source) < 50


# The near misses and the hostile cases of the trusted RSA issuer under the default policy:
# one verifier for all of them, so that generated mixtures interleave accepts and refusals.
RSA_SOURCES = [
    case.source
    for case in CASES
    if case.registry is ISSUERS.rsa_registry
    and case.policy == hostile.DEFAULT_POLICY
    and case.max_token_size is None
    # Inputs of megabytes would make each example slow; their groups are run above.
    and _small(case.source)
] + [control.source for control in CONTROLS if control.policy == hostile.DEFAULT_POLICY]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(RSA_SOURCES), max_size=3 * _verifier._STAGED + 5),
    st.sampled_from([VERIFY_AT, VERIFY_AT + 10 * 86400, "issued", None]),
)
def test_mixtures_come_out_as_one_by_one(sources: list[object], now: object) -> None:
    verifier = tv.Verifier(ISSUERS.rsa_registry)
    if now is None:
        # The clock moves between the two runs; no outcome here depends on seconds.
        now = datetime.now(UTC)
    assert_same(verifier, sources, now)


def test_a_clock_guard_sees_the_tokens_in_order(tmp_path: Path) -> None:
    issuer = ISSUERS.rsa
    # Issued an hour apart, out of order: the mark rises with each one seen, and a
    # token judged before the mark it raised would be refused as a rollback.
    later = [
        issuer.sign(
            hostile.claims(
                issuer,
                issuedAt=None,
                expiration=None,
                iat=VERIFY_AT + hours * 3600,
                exp=VERIFY_AT + 86400,
            )
        )
        for hours in (0, 2, 1, 3)
    ]
    sources = [*later, "not a token", *later]
    state = tmp_path / "state.clock"  # one path for both runs: messages name it
    described_runs: list[list[tuple[object, ...]]] = []
    states: list[bytes] = []
    for run in (True, False):
        state.unlink(missing_ok=True)
        verifier = tv.Verifier(ISSUERS.rsa_registry, clock_guard=tv.ClockGuard(state))
        at = VERIFY_AT + 2 * 3600
        outcomes = verifier.verify_each(sources, at) if run else one_by_one(verifier, sources, at)
        described_runs.append([described(outcome) for outcome in outcomes])
        states.append(state.read_bytes())
    assert described_runs[0] == described_runs[1]
    assert states[0] == states[1]
    # Not a vacuous comparison: the guard accepted some and refused some as a rollback.
    reasons = {entry[1] for entry in described_runs[0] if entry[0] == "rejected"}
    assert tv.Reason.clock_rollback in reasons
    assert any(entry[0] == "verified" for entry in described_runs[0])


def test_no_sources_give_no_outcomes() -> None:
    assert tv.Verifier(ISSUERS.rsa_registry).verify_each([]) == []
    assert tv.Verifier(ISSUERS.rsa_registry).verify_each(iter(())) == []


def test_a_generator_is_read_once_in_order() -> None:
    token = ISSUERS.rsa.sign(hostile.claims(ISSUERS.rsa))
    seen: list[int] = []

    def sources() -> object:
        for index in range(2 * _verifier._STAGED + 1):
            seen.append(index)
            yield token

    outcomes = tv.Verifier(ISSUERS.rsa_registry).verify_each(sources(), VERIFY_AT)  # type: ignore[arg-type]
    assert seen == list(range(2 * _verifier._STAGED + 1))
    assert len(outcomes) == len(seen)


@pytest.mark.parametrize(
    ("now", "error"),
    [(datetime(2026, 1, 1), ValueError), ("tomorrow", TypeError), (float("nan"), TypeError)],
)
def test_a_bad_now_is_refused_before_any_source_is_read(now: object, error: type) -> None:
    def sources() -> object:
        raise AssertionError("read before now was checked")
        yield

    with pytest.raises(error):
        tv.Verifier(ISSUERS.rsa_registry).verify_each(sources(), now)  # type: ignore[arg-type]
