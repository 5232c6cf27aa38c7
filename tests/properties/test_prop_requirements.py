"""Properties of entitlement requirements: exact decisions, monotone in the minimum.

A reference model (exact fractions, a unit table written out here) says whether a
requirement is met; the verifier must agree with it. Raising a requirement's minimum
never turns a rejection into acceptance, lowering it never turns acceptance into
rejection, and adding a requirement never turns a rejection into acceptance.
"""

from __future__ import annotations

import functools
from decimal import Context, Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
ISSUED_AT = 1_700_000_000
NOW = ISSUED_AT + 60


def _family(names: tuple[str, ...], family: str, step: int) -> dict[str, tuple[str, int]]:
    return {name: (family, step * index) for index, name in enumerate(names)}


#: unit -> (family, power of ten in the family's smallest unit); SI prefixes, 1000 not 1024.
REFERENCE_UNITS: dict[str, tuple[str, int]] = {
    **_family(("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes"), "bytes", 3),
    **_family(("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits"), "bits", 3),
    **_family(
        (
            "Bytes/Second",
            "Kilobytes/Second",
            "Megabytes/Second",
            "Gigabytes/Second",
            "Terabytes/Second",
        ),
        "bytes/s",
        3,
    ),
    **_family(
        ("Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second"),
        "bits/s",
        3,
    ),
    **_family(("Microseconds", "Milliseconds", "Seconds"), "time", 3),
    **{unit: (unit, 0) for unit in ("Count", "None", "Percent", "Count/Second")},
}
UNITS = tuple(REFERENCE_UNITS)
#: Enough digits that dividing by a power of ten is exact for every quantity drawn here.
EXACT = Context(prec=200)
NAMES = ("Users", "Storage", "Bandwidth")

digits = st.text(st.sampled_from("0123456789"), min_size=1, max_size=40)
#: Decimal text as AWS signs it, as long as ``_units.parse_quantity`` allows (40 + 40 digits).
quantities = st.builds(
    lambda whole, fraction: whole if fraction is None else f"{whole}.{fraction}",
    digits,
    st.none() | digits,
)
granted_entitlements = st.lists(
    st.tuples(st.sampled_from(NAMES), st.none() | quantities, st.sampled_from(UNITS)), max_size=5
)
minimums = (
    st.none() | quantities.map(Decimal) | st.decimals(min_value=0, max_value=10**16, places=4)
)


@functools.cache
def issuer() -> TestIssuer:
    return TestIssuer.generate("ES256", fingerprint=FINGERPRINT)


@functools.cache
def registry() -> tv.KeyRegistry:
    return issuer().registry()


def mint(granted: list[tuple[str, str | None, str]]) -> str:
    return issuer().sign(issuer().claims(entitlements=granted, issued_at=ISSUED_AT))


def decide(token: str, *requirements: tv.Requirement) -> tv.Verdict:
    verdict = tv.Verifier(registry(), tv.Policy(requirements=requirements)).check(token, now=NOW)
    assert verdict.ok or verdict.reason in {
        tv.Reason.entitlement_missing,
        tv.Reason.entitlement_insufficient,
    }, verdict
    return verdict


def reference_quantity(value: str, unit: str, to_unit: str | None) -> Fraction:
    """``value`` of ``unit`` in ``to_unit`` (unchanged when the requirement names no unit)."""
    quantity = Fraction(Decimal(value))
    if to_unit is None:
        return quantity
    return quantity * Fraction(10) ** (REFERENCE_UNITS[unit][1] - REFERENCE_UNITS[to_unit][1])


def reference_reason(
    granted: list[tuple[str, str | None, str]], requirement: tv.Requirement
) -> tv.Reason | None:
    """Why the reference model refuses ``requirement``, or None when it is met."""
    unit, minimum = requirement.unit, requirement.minimum
    candidates = [
        (value, granted_unit)
        for name, value, granted_unit in granted
        if name == requirement.name
        and (unit is None or REFERENCE_UNITS[granted_unit][0] == REFERENCE_UNITS[unit][0])
    ]
    if not candidates:
        return tv.Reason.entitlement_missing
    if minimum is None:
        return None
    if any(
        value is not None and reference_quantity(value, granted_unit, unit) >= Fraction(minimum)
        for value, granted_unit in candidates
    ):
        return None
    return tv.Reason.entitlement_insufficient


@given(granted_entitlements, st.sampled_from(NAMES), st.none() | st.sampled_from(UNITS), minimums)
def test_requirement_decision_matches_the_reference_model(
    granted: list[tuple[str, str | None, str]],
    name: str,
    unit: str | None,
    minimum: Decimal | None,
) -> None:
    requirement = tv.Requirement(name, unit=unit, minimum=minimum)
    assert decide(mint(granted), requirement).reason is reference_reason(granted, requirement)


@given(granted_entitlements, st.sampled_from(NAMES), st.none() | st.sampled_from(UNITS), st.data())
def test_requirement_decision_at_the_granted_quantity(
    granted: list[tuple[str, str | None, str]],
    name: str,
    unit: str | None,
    data: st.DataObject,
) -> None:
    """Minimums placed on and around a granted quantity, where off-by-one errors live."""
    valued = [(n, v, u) for n, v, u in granted if v is not None and n == name]
    if unit is not None:
        valued = [e for e in valued if REFERENCE_UNITS[e[2]][0] == REFERENCE_UNITS[unit][0]]
    if not valued:
        return
    _, value, granted_unit = data.draw(st.sampled_from(valued))
    exact = reference_quantity(value, granted_unit, unit)
    step = Fraction(1, 10 ** data.draw(st.integers(0, 12)))
    # Every minimum here is a terminating decimal: the quantity scaled by a power of ten.
    for candidate in (exact, exact + step, max(exact - step, Fraction(0))):
        minimum = EXACT.divide(Decimal(candidate.numerator), Decimal(candidate.denominator))
        assert Fraction(minimum) == candidate
        requirement = tv.Requirement(name, unit=unit, minimum=minimum)
        assert decide(mint(granted), requirement).reason is reference_reason(granted, requirement)


@given(
    granted_entitlements,
    st.sampled_from(NAMES),
    st.none() | st.sampled_from(UNITS),
    minimums,
    minimums,
)
def test_raising_the_minimum_never_turns_rejection_into_acceptance(
    granted: list[tuple[str, str | None, str]],
    name: str,
    unit: str | None,
    first: Decimal | None,
    second: Decimal | None,
) -> None:
    low, high = (
        (first, second)
        if first is None or (second is not None and first <= second)
        else (second, first)
    )
    token = mint(granted)

    lower = decide(token, tv.Requirement(name, unit=unit, minimum=low))
    higher = decide(token, tv.Requirement(name, unit=unit, minimum=high))

    # Acceptance at the higher minimum implies acceptance at the lower one; and a
    # rejection at the lower minimum stays a rejection, for the same reason, above it.
    assert not higher.ok or lower.ok
    if not lower.ok:
        assert higher.reason is lower.reason


@given(
    granted_entitlements,
    st.lists(
        st.builds(
            tv.Requirement, st.sampled_from(NAMES), st.none() | st.sampled_from(UNITS), minimums
        ),
        max_size=3,
    ),
    st.builds(tv.Requirement, st.sampled_from(NAMES), st.none() | st.sampled_from(UNITS), minimums),
)
def test_adding_a_requirement_never_turns_rejection_into_acceptance(
    granted: list[tuple[str, str | None, str]],
    requirements: list[tv.Requirement],
    extra: tv.Requirement,
) -> None:
    token = mint(granted)
    without = decide(token, *requirements)
    with_extra = decide(token, *requirements, extra)
    assert not with_extra.ok or without.ok
    assert with_extra.ok == (without.ok and reference_reason(granted, extra) is None)
