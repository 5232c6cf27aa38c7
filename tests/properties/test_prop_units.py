"""Properties of unit conversion: exact both ways, transitive, confined to one family.

``tokenverify._units`` holds the 27 AWS units; conversions use decimal SI prefixes within
the bytes, bits, bytes/second, bits/second and time families. Checked directly and
through a ``Verifier``: a requirement in Gigabytes is met by the same quantity in
Megabytes or Bytes and not by one unit less.
"""

from __future__ import annotations

import functools
from decimal import Context, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify import _units
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
ISSUED_AT = 1_700_000_000
NOW = ISSUED_AT + 60
#: EntitlementDataUnit as the botocore service model lists it.
AWS_UNITS = frozenset(
    (
        "Count", "None", "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
        "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits",
        "Terabits", "Percent", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
        "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
        "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second",
    )
)  # fmt: skip
#: The families, smallest unit first; each step is a factor of 1000.
FAMILIES = (
    ("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes"),
    ("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits"),
    (
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
    ),
    ("Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second"),
    ("Microseconds", "Milliseconds", "Seconds"),
    ("Count",),
    ("None",),
    ("Percent",),
    ("Count/Second",),
)
FAMILY_OF = {unit: index for index, family in enumerate(FAMILIES) for unit in family}
SCALE_OF = {unit: 1000**position for family in FAMILIES for position, unit in enumerate(family)}
SORTED_UNITS = sorted(AWS_UNITS)
#: Precision for exact arithmetic on the longest quantities (40 + 40 digits).
EXACT = Context(prec=200)

digits = st.text(st.sampled_from("0123456789"), min_size=1, max_size=40)
#: Non-negative decimals as long as ``_units.parse_quantity`` allows (40 + 40 digits).
quantities = st.builds(
    lambda whole, fraction: Decimal(whole if fraction is None else f"{whole}.{fraction}"),
    digits,
    st.none() | digits,
)
#: The unit space is small: every pair and triple is checked for each drawn quantity.
SAME_FAMILY_PAIRS = [(a, b) for family in FAMILIES for a in family for b in family]
SAME_FAMILY_TRIPLES = [
    (a, b, c) for family in FAMILIES for a in family for b in family for c in family
]


def reference(quantity: Decimal, unit: str, to_unit: str) -> Fraction:
    return Fraction(quantity) * Fraction(SCALE_OF[unit], SCALE_OF[to_unit])


def test_the_units_are_exactly_the_27_aws_units() -> None:
    assert _units.UNITS == AWS_UNITS
    assert len(AWS_UNITS) == 27
    assert set(FAMILY_OF) == AWS_UNITS


@given(quantities)
def test_conversion_round_trips_exactly_and_matches_the_reference(quantity: Decimal) -> None:
    for unit, other in SAME_FAMILY_PAIRS:
        converted = _units.convert(quantity, unit, other)
        assert Fraction(converted) == reference(quantity, unit, other), (unit, other)
        back = _units.convert(converted, other, unit)
        assert back == quantity, (unit, other)


@given(quantities)
def test_conversion_is_transitive(quantity: Decimal) -> None:
    for first, middle, last in SAME_FAMILY_TRIPLES:
        via_middle = _units.convert(_units.convert(quantity, first, middle), middle, last)
        assert via_middle == _units.convert(quantity, first, last), (first, middle, last)


@given(quantities)
def test_compatibility_is_the_family_and_conversion_never_crosses_it(quantity: Decimal) -> None:
    for unit in SORTED_UNITS:
        for other in SORTED_UNITS:
            same = FAMILY_OF[unit] == FAMILY_OF[other]
            assert _units.compatible(unit, other) is same, (unit, other)
            if same:
                continue  # the value is checked against the reference above
            with pytest.raises(ValueError, match="cannot be converted"):
                _units.convert(quantity, unit, other)


@functools.cache
def issuer() -> TestIssuer:
    return TestIssuer.generate("ES256", fingerprint=FINGERPRINT)


def storage_verdict(value: Decimal, unit: str, minimum_gigabytes: Decimal) -> tv.Verdict:
    """A token granting ``value`` ``unit`` of Storage, checked against a Gigabytes minimum."""
    text = format(value, "f")
    token = issuer().sign(
        issuer().claims(entitlements=[("Storage", text, unit)], issued_at=ISSUED_AT)
    )
    requirement = tv.Requirement("Storage", unit="Gigabytes", minimum=minimum_gigabytes)
    return tv.Verifier(issuer().registry(), tv.Policy(requirements=[requirement])).check(
        token, now=NOW
    )


# Up to 40 digits: the longest integer part a signed quantity may have.
@given(
    st.integers(1, 10**40 - 1), st.sampled_from(("Bytes", "Kilobytes", "Megabytes", "Gigabytes"))
)
def test_gigabyte_requirement_is_met_by_the_same_quantity_in_smaller_units(
    count: int, unit: str
) -> None:
    """``count`` whole ``unit``s; the requirement asks for exactly that many, in Gigabytes."""
    shift = {"Bytes": 9, "Kilobytes": 6, "Megabytes": 3, "Gigabytes": 0}[unit]
    in_gigabytes = Decimal(count).scaleb(-shift, context=EXACT)  # the default would round

    assert storage_verdict(Decimal(count), unit, in_gigabytes).ok
    one_less = storage_verdict(Decimal(count - 1), unit, in_gigabytes)
    assert one_less.reason is tv.Reason.entitlement_insufficient


@given(st.integers(0, 10**15), st.sampled_from(sorted(AWS_UNITS - set(FAMILIES[0]))))
def test_gigabyte_requirement_is_never_met_from_another_family(count: int, unit: str) -> None:
    verdict = storage_verdict(Decimal(count), unit, Decimal(0))
    assert verdict.reason is tv.Reason.entitlement_missing


#: Always beyond Decimal's default 28-digit precision, which scaleb would round to.
long_quantities = st.builds(
    lambda head, tail: Decimal(f"{head}{tail}"),
    st.integers(1, 9),
    st.text(st.sampled_from("0123456789"), min_size=29, max_size=39),
)


@given(long_quantities)
def test_conversion_is_exact_beyond_28_digits(quantity: Decimal) -> None:
    assert _units.parse_quantity(format(quantity, "f")) == quantity
    for unit, other in SAME_FAMILY_PAIRS:
        converted = _units.convert(quantity, unit, other)
        assert Fraction(converted) == reference(quantity, unit, other), (unit, other)
        assert _units.convert(converted, other, unit) == quantity, (unit, other)


def test_requirement_is_not_met_by_a_rounded_up_quantity() -> None:
    """Regression: a rounding conversion once granted 0.001 KB more than was signed."""
    granted = Decimal("1234567890123456789012345678901")  # Bytes
    needed = Decimal("1234567890123456789012345678.902")  # Kilobytes: 0.001 KB more
    token = issuer().sign(
        issuer().claims(entitlements=[("Storage", str(granted), "Bytes")], issued_at=ISSUED_AT)
    )
    requirement = tv.Requirement("Storage", unit="Kilobytes", minimum=needed)
    verdict = tv.Verifier(issuer().registry(), tv.Policy(requirements=[requirement])).check(
        token, now=NOW
    )
    assert verdict.reason is tv.Reason.entitlement_insufficient


def test_requirement_equal_to_a_long_quantity_is_met() -> None:
    """Regression: a rounding conversion once refused exactly the signed quantity."""
    granted = "1111111111111111111111111111149"
    token = issuer().sign(
        issuer().claims(entitlements=[("Users", granted, "Count")], issued_at=ISSUED_AT)
    )
    requirement = tv.Requirement("Users", unit="Count", minimum=granted)
    verdict = tv.Verifier(issuer().registry(), tv.Policy(requirements=[requirement])).check(
        token, now=NOW
    )
    assert verdict.ok, verdict
