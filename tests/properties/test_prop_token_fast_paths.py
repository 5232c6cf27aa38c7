"""Property: the token path's shortcuts decide as the full checks they skip.

``_policy._check_requirement`` first looks for the first entitlement of the required
name and accepts when it meets a whole-number minimum in the required unit as plain
digits (``_first_meets_whole``); otherwise the full check decides. Both run here on the
same signed entitlements (names repeated, units of one family or not, values absent,
fractional, non-ASCII digits, over-long, signed) and requirements (with or without a
unit, whole or decimal minimums): same acceptance, or the same reason and message.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify import _claims, _policy

UNITS = ["Count", "None", "Gigabytes", "Megabytes", "Seconds", "Bits"]
values = st.one_of(
    st.none(),
    st.integers(0, 300).map(str),
    st.sampled_from(["1.5", "0", "007", "5", "4", "\u0665", " 5", "1e3", "-1", "9" * 41, "+5", ""]),
)
entitlements = st.lists(
    st.tuples(st.sampled_from(["Users", "Storage", "Other"]), values, st.sampled_from(UNITS)),
    max_size=6,
)
requirements = st.builds(
    tv.Requirement,
    st.sampled_from(["Users", "Storage"]),
    st.one_of(st.none(), st.sampled_from(UNITS)),
    st.one_of(st.none(), st.integers(0, 300), st.sampled_from(["1.5", "0.001", "250"])),
)


def _claims_with(granted: list[tuple[str, str | None, str]]) -> _claims.Claims:
    payload = {
        "licenseArn": "arn:aws:license-manager::111122223333:license:l-1",
        "licenseConsumptionToken": "t-1",
        "issuedAt": "2026-01-01T00:00:00Z",
        "expiration": "2026-01-02T00:00:00Z",
        "entitlementsAllowed": [
            {"name": name, "unit": unit, **({} if value is None else {"value": value})}
            for name, value, unit in granted
        ],
    }
    return _claims.parse_claims(json.dumps(payload).encode())


def _outcome(check: object, requirement: tv.Requirement, claims: _claims.Claims) -> object:
    try:
        check(requirement, claims)  # type: ignore[operator]
    except tv.TokenRejected as rejection:
        return (rejection.reason, rejection.description)
    return "met"


@given(entitlements, requirements)
def test_the_first_named_shortcut_decides_as_the_full_requirement_check(
    granted: list[tuple[str, str | None, str]], requirement: tv.Requirement
) -> None:
    claims = _claims_with(granted)
    assert _outcome(_policy._check_requirement, requirement, claims) == _outcome(
        _policy._check_requirement_fully, requirement, claims
    )


def test_the_shortcut_takes_the_usual_case_and_leaves_the_rest() -> None:
    claims = _claims_with([("Users", "250", "Count"), ("Users", "1", "Count")])
    entitlements = claims.entitlements or ()
    assert _policy._first_meets_whole(tv.Requirement("Users", "Count", 5), entitlements)
    # Short of the minimum, another unit, a decimal minimum: the full check decides.
    assert not _policy._first_meets_whole(tv.Requirement("Users", "Count", 251), entitlements)
    assert not _policy._first_meets_whole(tv.Requirement("Users", "Percent", 5), entitlements)
    assert not _policy._first_meets_whole(tv.Requirement("Users", "Count", "1.5"), entitlements)
