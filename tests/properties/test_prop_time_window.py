"""Property: the validity window [issuedAt - leeway, expiration + leeway] is decided exactly.

Both bounds are inclusive: ``now == expiration + leeway`` is still valid and one
microsecond later is ``expired``; ``now == issuedAt - leeway`` is valid and one
microsecond earlier is ``not_yet_valid``. ``now`` is given as epoch seconds (float and
int) and as aware datetimes in arbitrary UTC offsets; leeways are random, including
fractions of a second.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
MICROSECOND = timedelta(microseconds=1)
# Issue times 2000..2100 in whole seconds, lifetimes up to a year: AWS's spelling.
issue_times = st.integers(946_684_800, 4_102_444_800)
lifetimes = st.integers(0, 366 * 86_400)
#: Policy accepts 0..86400 s; drawn in whole microseconds so that datetimes can hit a bound.
leeways_us = st.integers(0, 86_400 * 10**6) | st.sampled_from((0, 1, 60 * 10**6, 86_400 * 10**6))
#: Any whole-minute UTC offset a datetime may carry (strictly inside +-24 h).
zones = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@functools.cache
def issuer() -> TestIssuer:
    return TestIssuer.generate("ES256", fingerprint=FINGERPRINT)


def minted(issued_at: int, ttl: int) -> dict[str, object]:
    return issuer().checkout(issued_at=issued_at, ttl=ttl)


def verdict_at(response: dict[str, object], leeway_us: int, now: datetime | float) -> tv.Verdict:
    verifier = tv.Verifier(issuer().registry(), tv.Policy(leeway=leeway_us / 10**6))
    verdict = verifier.check(response, now=now)
    assert verdict.ok == (verdict.reason is None)
    return verdict


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@given(issue_times, lifetimes, leeways_us, zones)
def test_bounds_are_inclusive_for_aware_datetimes(
    issued_at: int, ttl: int, leeway_us: int, zone: timezone
) -> None:
    response = minted(issued_at, ttl)
    leeway = timedelta(microseconds=leeway_us)
    earliest = (utc(issued_at) - leeway).astimezone(zone)
    latest = (utc(issued_at + ttl) + leeway).astimezone(zone)

    assert verdict_at(response, leeway_us, earliest).ok
    assert verdict_at(response, leeway_us, latest).ok
    assert verdict_at(response, leeway_us, earliest - MICROSECOND).reason is tv.Reason.not_yet_valid
    assert verdict_at(response, leeway_us, latest + MICROSECOND).reason is tv.Reason.expired


@given(issue_times, lifetimes, leeways_us)
def test_bounds_are_inclusive_for_epoch_seconds(issued_at: int, ttl: int, leeway_us: int) -> None:
    response = minted(issued_at, ttl)
    leeway = leeway_us / 10**6
    # A float cannot hold every microsecond of an epoch: compare with the float neighbours
    # of the exact bound, as a caller computing ``expiration + leeway`` would get them.
    earliest = issued_at - leeway
    latest = issued_at + ttl + leeway

    assert verdict_at(response, leeway_us, earliest).ok
    assert verdict_at(response, leeway_us, latest).ok
    assert verdict_at(response, leeway_us, earliest - 1e-6).reason is tv.Reason.not_yet_valid
    assert verdict_at(response, leeway_us, latest + 1e-6).reason is tv.Reason.expired


@given(issue_times, lifetimes, st.integers(0, 86_400), st.data())
def test_integer_epochs_decide_like_the_window(
    issued_at: int, ttl: int, leeway: int, data: st.DataObject
) -> None:
    """Whole seconds and whole-second leeways: every ``now`` is decided by the window alone."""
    response = minted(issued_at, ttl)
    earliest, latest = issued_at - leeway, issued_at + ttl + leeway
    now = data.draw(
        st.integers(earliest, latest)
        | st.integers(earliest - 10**6, earliest - 1)
        | st.integers(latest + 1, latest + 10**6)
        | st.sampled_from((earliest - 1, earliest, latest, latest + 1))
    )

    verdict = verdict_at(response, leeway * 10**6, now)

    if now < earliest:
        assert verdict.reason is tv.Reason.not_yet_valid
    elif now > latest:
        assert verdict.reason is tv.Reason.expired
    else:
        assert verdict.ok


@given(issue_times, lifetimes, leeways_us, zones, st.data())
def test_datetime_and_epoch_spellings_of_now_agree(
    issued_at: int, ttl: int, leeway_us: int, zone: timezone, data: st.DataObject
) -> None:
    response = minted(issued_at, ttl)
    margin = 2 * 86_400 * 10**6
    offset_us = data.draw(st.integers(-margin, ttl * 10**6 + margin))
    # Whole milliseconds: exactly representable as datetimes and within float precision.
    offset_us -= offset_us % 1000
    now = utc(issued_at) + timedelta(microseconds=offset_us)

    as_datetime = verdict_at(response, leeway_us, now.astimezone(zone))
    as_epoch = verdict_at(response, leeway_us, issued_at + offset_us / 10**6)

    assert as_datetime.reason is as_epoch.reason


@given(issue_times, lifetimes, st.integers(0, 86_400), st.data())
def test_nbf_later_than_issued_at_moves_the_start_of_the_window(
    issued_at: int, ttl: int, leeway: int, data: st.DataObject
) -> None:
    """``nbf`` is a bound of its own: valid iff max(issuedAt, nbf) - leeway <= now."""
    not_before = data.draw(st.integers(issued_at, issued_at + ttl), label="nbf")
    response = issuer().checkout(issued_at=issued_at, ttl=ttl, claims={"nbf": not_before})
    earliest, latest = not_before - leeway, issued_at + ttl + leeway
    now = data.draw(
        st.integers(earliest, latest)
        | st.integers(issued_at - leeway - 10, earliest - 1)
        | st.sampled_from((earliest - 1, earliest, issued_at - leeway))
    )

    verdict = verdict_at(response, leeway * 10**6, now)

    if now < earliest:
        assert verdict.reason is tv.Reason.not_yet_valid
        assert "nbf" in verdict.message or now < issued_at - leeway
    else:
        assert verdict.ok, verdict.message


#: Policy accepts grace of 0..366 days; drawn in whole microseconds like the leeways.
graces_us = st.integers(1, 366 * 86_400 * 10**6) | st.sampled_from((1, 10**6, 86_400 * 10**6))


def verdict_with_grace(
    response: dict[str, object], leeway_us: int, grace_us: int, now: datetime | float
) -> tv.Verdict:
    policy = tv.Policy(node_id="node-1", leeway=leeway_us / 10**6, grace=grace_us / 10**6)
    verdict = tv.Verifier(issuer().registry(), policy).check(response, now=now)
    assert verdict.ok == (verdict.reason is None)
    return verdict


def in_grace(verdict: tv.Verdict) -> bool:
    return [w.code for w in verdict.warnings] == [tv.WarningCode.in_grace]


@given(issue_times, lifetimes, leeways_us, graces_us, zones)
def test_grace_bounds_are_inclusive_for_aware_datetimes(
    issued_at: int, ttl: int, leeway_us: int, grace_us: int, zone: timezone
) -> None:
    """Valid through ``expiration + leeway + grace``; in grace from one microsecond past
    ``expiration + leeway``; ``expired`` one microsecond after the grace."""
    response = minted(issued_at, ttl)
    expires = utc(issued_at + ttl)
    leeway, grace = timedelta(microseconds=leeway_us), timedelta(microseconds=grace_us)
    end_of_leeway = (expires + leeway).astimezone(zone)
    end_of_grace = (expires + leeway + grace).astimezone(zone)

    at_leeway = verdict_with_grace(response, leeway_us, grace_us, end_of_leeway)
    assert at_leeway.ok
    assert at_leeway.warnings == ()
    first = verdict_with_grace(response, leeway_us, grace_us, end_of_leeway + MICROSECOND)
    assert in_grace(first), first
    last = verdict_with_grace(response, leeway_us, grace_us, end_of_grace)
    assert in_grace(last), last
    assert last.warnings[0].seconds_left is not None
    assert abs(last.warnings[0].seconds_left) < 1e-3  # nothing left at the very end
    after = verdict_with_grace(response, leeway_us, grace_us, end_of_grace + MICROSECOND)
    assert after.reason is tv.Reason.expired
    assert after.warnings == ()


@given(issue_times, lifetimes, st.integers(0, 86_400), st.integers(0, 366 * 86_400), st.data())
def test_integer_epochs_decide_like_the_graced_window(
    issued_at: int, ttl: int, leeway: int, grace: int, data: st.DataObject
) -> None:
    """Whole seconds: valid iff within the window plus grace; in grace iff past the window;
    ``seconds_left`` is the exact time to the end of the grace."""
    response = minted(issued_at, ttl)
    end, latest = issued_at + ttl + leeway, issued_at + ttl + leeway + grace
    now = data.draw(
        st.integers(max(end - 10, issued_at - leeway), latest + 10)
        | st.integers(issued_at - leeway, latest + 10**6)
        | st.sampled_from((end, end + 1, latest, latest + 1))
    )

    verdict = verdict_with_grace(response, leeway * 10**6, grace * 10**6, now)

    if now > latest:
        assert verdict.reason is tv.Reason.expired
        assert ("grace ran out" in verdict.message) == (grace > 0)
    elif now > end:
        assert in_grace(verdict), verdict
        assert verdict.warnings[0].seconds_left == latest - now
    else:
        assert verdict.ok
        assert verdict.warnings == ()
