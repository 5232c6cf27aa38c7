"""Grace and warnings: Policy(grace=, warn_before=), CheckoutWarning on results, the CLI.

Decisions pinned here (README "Decisions worth knowing"):
- within ``expiration + leeway + grace`` a checkout is valid with an ``in_grace`` warning;
  after it, ``expired`` saying the grace ran out;
- ``expires_soon`` from ``expiration - warn_before`` on, not once in grace (``in_grace``
  says more); ``key_expires_soon`` when the trusted key's not_after is that close;
- ``node_not_checked`` whenever the policy names no node_id, bound token or not;
- ``clock_mark_started`` when a ClockGuard had no state;
- a rejection carries no warnings: ``Verdict.warnings`` is empty, TokenRejected unchanged.
"""

from __future__ import annotations

import functools
import math
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from cli.support import check_schema
from tokenverify.formats._json_output import VerifyReport
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
ISSUED = 1_767_225_600  # 2026-01-01T00:00:00Z
TTL = 3600
EXPIRES = ISSUED + TTL
NODE = "node-1"  # TestIssuer's default nodeId
Code = tv.WarningCode


@functools.cache
def issuer() -> TestIssuer:
    return TestIssuer.generate("ES256", fingerprint=FINGERPRINT)


@functools.cache
def response() -> dict[str, Any]:
    return issuer().checkout(issued_at=ISSUED, ttl=TTL)


def check(policy: tv.Policy, now: float, **verifier: Any) -> tv.Verdict:
    return tv.Verifier(issuer().registry(), policy, **verifier).check(response(), now=now)


def codes(verdict: tv.Verdict) -> list[tv.WarningCode]:
    return [warning.code for warning in verdict.warnings]


# -- grace -------------------------------------------------------------------------------


def test_within_grace_is_valid_with_in_grace_and_time_left() -> None:
    policy = tv.Policy(node_id=NODE, leeway=60, grace=timedelta(hours=2))
    verdict = check(policy, EXPIRES + 3600)

    assert verdict.ok, verdict.message
    assert codes(verdict) == [Code.in_grace]
    (warning,) = verdict.warnings
    assert warning.seconds_left == 60 + 7200 - 3600
    assert "1 h 1 min left" in warning.message
    assert verdict.message.startswith("valid in grace: expired at 2026-01-01T01:00:00")
    assert verdict.checkout is not None
    assert verdict.checkout.in_grace
    assert verdict.checkout.warnings == verdict.warnings


def test_verify_returns_the_checkout_in_grace() -> None:
    verifier = tv.Verifier(issuer().registry(), tv.Policy(node_id=NODE, grace=600))
    checkout = verifier.verify(response(), now=EXPIRES + 300)
    assert checkout.in_grace
    assert [w.code for w in checkout.warnings] == [Code.in_grace]
    assert checkout.warnings[0].seconds_left == 60 + 600 - 300


def test_past_grace_is_expired_and_says_the_grace_ran_out() -> None:
    policy = tv.Policy(node_id=NODE, leeway=60, grace=600)
    verifier = tv.Verifier(issuer().registry(), policy)
    with pytest.raises(tv.TokenRejected) as caught:
        verifier.verify(response(), now=EXPIRES + 661)
    assert caught.value.reason is tv.Reason.expired
    assert "600 s of grace ran out" in caught.value.description
    verdict = check(policy, EXPIRES + 661)
    assert verdict == tv.Verdict(False, tv.Reason.expired, caught.value.description, None)
    assert verdict.warnings == ()


def test_without_grace_expired_says_nothing_of_grace() -> None:
    verdict = check(tv.Policy(node_id=NODE), EXPIRES + 61)
    assert verdict.reason is tv.Reason.expired
    assert "grace" not in verdict.message


@pytest.mark.parametrize(("grace", "leeway"), [(1, 0), (600, 60), (86_400, 0.5), (0.25, 30)])
def test_grace_window_edges_to_the_microsecond(grace: float, leeway: float) -> None:
    expires = datetime.fromtimestamp(EXPIRES, UTC)
    last = expires + timedelta(seconds=leeway) + timedelta(seconds=grace)
    policy = tv.Policy(node_id=NODE, leeway=leeway, grace=grace)
    verifier = tv.Verifier(issuer().registry(), policy)

    assert verifier.check(response(), now=last).ok
    assert verifier.check(response(), now=last).checkout.in_grace  # type: ignore[union-attr]
    past = verifier.check(response(), now=last + timedelta(microseconds=1))
    assert past.reason is tv.Reason.expired
    # One microsecond after expiration + leeway: in grace, not merely within the leeway.
    first = expires + timedelta(seconds=leeway, microseconds=1)
    assert codes(verifier.check(response(), now=first)) == [Code.in_grace]
    at_leeway = verifier.check(response(), now=expires + timedelta(seconds=leeway))
    assert at_leeway.ok
    assert at_leeway.warnings == ()


def test_grace_does_not_reach_back_before_issue() -> None:
    """Grace extends the end of the window only: not_yet_valid is unchanged."""
    verdict = check(tv.Policy(node_id=NODE, leeway=0, grace=86_400), ISSUED - 1)
    assert verdict.reason is tv.Reason.not_yet_valid


def test_grace_then_other_checks_still_apply() -> None:
    """An in-grace checkout must still meet the rest of the policy."""
    verdict = check(tv.Policy(node_id="node-7", grace=600), EXPIRES + 300)
    assert verdict.reason is tv.Reason.node_mismatch
    assert verdict.warnings == ()


def test_audit_at_issue_is_never_in_grace() -> None:
    verifier = tv.Verifier(issuer().registry(), tv.Policy(node_id=NODE, grace=600))
    assert verifier.check(response(), now="issued").warnings == ()


# -- warn_before and the other codes ----------------------------------------------------------


def test_expires_soon_from_warn_before_on() -> None:
    policy = tv.Policy(node_id=NODE, warn_before=timedelta(minutes=10))
    assert check(policy, EXPIRES - 601).warnings == ()
    soon = check(policy, EXPIRES - 600)
    assert codes(soon) == [Code.expires_soon]
    assert soon.warnings[0].seconds_left == 600
    assert "in 10 min" in soon.warnings[0].message
    within_leeway = check(policy, EXPIRES + 30)
    assert codes(within_leeway) == [Code.expires_soon]
    assert within_leeway.warnings[0].seconds_left == -30


def test_in_grace_replaces_expires_soon() -> None:
    policy = tv.Policy(node_id=NODE, warn_before=86_400, grace=3600)
    assert codes(check(policy, EXPIRES + 120)) == [Code.in_grace]


def test_no_warn_before_means_no_expiry_warning() -> None:
    assert check(tv.Policy(node_id=NODE), EXPIRES).warnings == ()


def test_node_not_checked_whenever_the_policy_names_no_node() -> None:
    verdict = check(tv.Policy(), ISSUED + 10)
    assert codes(verdict) == [Code.node_not_checked]
    assert "node_id" in verdict.warnings[0].message
    assert verdict.message == "valid"
    # An unbound token under an unbound policy: still not checked against this machine.
    unbound = issuer().checkout(issued_at=ISSUED, ttl=TTL, node_id=None)
    verifier = tv.Verifier(issuer().registry())
    assert [w.code for w in verifier.check(unbound, now=ISSUED + 10).warnings] == [
        Code.node_not_checked
    ]
    assert check(tv.Policy(node_id=NODE), ISSUED + 10).warnings == ()


def test_key_expires_soon_uses_the_keys_not_after() -> None:
    month = issuer().checkout(issued_at=ISSUED, ttl=30 * 86_400)
    not_after = datetime.fromtimestamp(ISSUED + 2 * 86_400, UTC)
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, issuer().public_pem(), algorithms=["ES256"], not_after=not_after)
    week = tv.Verifier(registry, tv.Policy(node_id=NODE, warn_before=timedelta(days=7)))
    verdict = week.check(month, now=ISSUED + 10)
    assert codes(verdict) == [Code.key_expires_soon]
    assert verdict.warnings[0].seconds_left == 2 * 86_400 - 10
    assert "trusted only until 2026-01-03T00:00:00+00:00 (1 d 23 h left)" in (
        verdict.warnings[0].message
    )
    # Past not_after, a checkout it signed before then stays valid: still warned.
    late = week.check(month, now=ISSUED + 3 * 86_400)
    assert codes(late) == [Code.key_expires_soon]
    assert "(already passed)" in late.warnings[0].message
    day = tv.Verifier(registry, tv.Policy(node_id=NODE, warn_before=86_400))
    assert day.check(month, now=ISSUED + 10).warnings == ()
    assert tv.Verifier(registry, tv.Policy(node_id=NODE)).check(month, now=ISSUED).warnings == ()


def test_clock_mark_started_only_when_the_guard_had_no_state(tmp_path: Path) -> None:
    guard = tv.ClockGuard(tmp_path / "clock.json")
    policy = tv.Policy(node_id=NODE)
    first = check(policy, ISSUED + 10, clock_guard=guard)
    assert codes(first) == [Code.clock_mark_started]
    assert "new mark" in first.warnings[0].message
    assert check(policy, ISSUED + 20, clock_guard=guard).warnings == ()


def test_clock_guard_observe_says_whether_it_started_a_mark(tmp_path: Path) -> None:
    guard = tv.ClockGuard(tmp_path / "clock.json")
    assert guard.observe(ISSUED, ISSUED, 60) is True
    assert guard.observe(ISSUED + 1, ISSUED, 60) is False
    initialized = tv.ClockGuard(tmp_path / "installed.json")
    initialized.initialize(ISSUED)
    assert initialized.observe(ISSUED + 1, ISSUED, 60) is False


def test_warnings_come_in_a_fixed_order() -> None:
    verdict = check(tv.Policy(warn_before=86_400, grace=600), EXPIRES + 300)
    assert codes(verdict) == [Code.in_grace, Code.node_not_checked]


def test_rejections_carry_no_warnings() -> None:
    verdict = check(tv.Policy(warn_before=86_400), EXPIRES + 61)
    assert not verdict.ok
    assert verdict.warnings == ()
    with pytest.raises(tv.TokenRejected) as caught:
        tv.Verifier(issuer().registry()).verify(response(), now=EXPIRES + 61)
    signed = caught.value.signed_checkout
    assert signed is not None
    assert signed.warnings == ()
    assert not signed.in_grace


# -- the warning type -------------------------------------------------------------------


def test_warnings_are_immutable_picklable_and_equal_by_value() -> None:
    (warning,) = check(tv.Policy(node_id=NODE, grace=600), EXPIRES + 300).warnings
    restored = pickle.loads(pickle.dumps(warning))  # noqa: S301  (our own bytes)
    assert restored == warning
    assert hash(restored) == hash(warning)
    assert restored.code is Code.in_grace
    with pytest.raises(AttributeError):
        warning.message = "x"  # type: ignore[misc]


def test_codes_are_stable_strings() -> None:
    assert {code.value for code in Code} == {
        "in_grace",
        "expires_soon",
        "key_expires_soon",
        "node_not_checked",
        "clock_mark_started",
    }
    assert Code("in_grace") is Code.in_grace
    assert {"CheckoutWarning", "WarningCode"} <= set(tv.__all__)


def test_warnings_do_not_change_checkout_equality() -> None:
    verifier = tv.Verifier(issuer().registry(), tv.Policy(node_id=NODE, grace=600))
    inside = verifier.verify(response(), now=ISSUED + 1)
    graced = verifier.verify(response(), now=EXPIRES + 300)
    assert inside.warnings != graced.warnings
    assert inside == graced


# -- Policy ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["grace", "warn_before"])
@pytest.mark.parametrize(
    ("value", "error"),
    [
        (-1, ValueError),
        (timedelta(seconds=-1), ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        (366 * 86_400 + 1, ValueError),
        (timedelta(days=367), ValueError),
        (True, TypeError),
        ("3600", TypeError),
        (None, TypeError),
    ],
)
def test_senseless_grace_or_warning_is_refused_at_construction(
    name: str, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=f"Policy {name}"):
        tv.Policy(**{name: value})  # type: ignore[arg-type]


def test_timedelta_and_seconds_are_one_value() -> None:
    policy = tv.Policy(grace=timedelta(days=3), warn_before=timedelta(microseconds=1))
    assert policy.grace == 259_200.0
    assert policy.warn_before == 1e-6
    assert policy == tv.Policy(grace=259_200, warn_before=0.000001)
    assert tv.Policy(grace=366 * 86_400).grace == 366 * 86_400
    assert tv.Policy().grace == 0
    assert tv.Policy().warn_before == 0


def test_policy_with_grace_pickles_compares_and_hashes() -> None:
    policy = tv.Policy(node_id=NODE, grace=600, warn_before=timedelta(days=7))
    restored = pickle.loads(pickle.dumps(policy))  # noqa: S301  (our own bytes)
    assert restored == policy
    assert hash(restored) == hash(policy)
    assert restored.grace == 600
    assert restored.warn_before == 7 * 86_400
    assert policy != tv.Policy(node_id=NODE, grace=601, warn_before=timedelta(days=7))
    assert policy != tv.Policy(node_id=NODE, grace=600)
    assert "grace=600.0" in repr(policy)
    assert "warn_before=604800.0" in repr(policy)
    assert eval(repr(policy), {"Policy": tv.Policy}) == policy  # noqa: S307  (our own repr)
    with pytest.raises(AttributeError):
        policy.grace = 0


# -- policy file -------------------------------------------------------------------------


def test_policy_file_carries_grace_and_warn_before(tmp_path: Path) -> None:
    from tokenverify.formats._policy_file import load_policy_file

    path = tmp_path / "policy.json"
    path.write_text('{"node_id": "node-1", "grace": 600, "warn_before": 86400}')
    policy = load_policy_file(path).to_policy()
    assert policy == tv.Policy(node_id="node-1", grace=600, warn_before=86_400)
    assert load_policy_file(path).to_policy(grace=60.0).grace == 60


@pytest.mark.parametrize(
    "member", ['"grace": -1', '"grace": true', '"warn_before": "600"', '"grace": 31622401']
)
def test_policy_file_refuses_senseless_periods(tmp_path: Path, member: str) -> None:
    from tokenverify.formats._policy_file import load_policy_file

    path = tmp_path / "policy.json"
    path.write_text("{" + member + "}")
    with pytest.raises(ValueError, match=r"grace|warn_before"):
        load_policy_file(path)


# -- command line ------------------------------------------------------------------------


@pytest.fixture
def cli_setup(tmp_path: Path) -> tuple[Path, Path]:
    keys = tmp_path / "keys.json"
    issuer().registry().save(keys)
    saved = tmp_path / "checkout.json"
    import json

    saved.write_text(json.dumps(response()))
    return keys, saved


def _run(*args: object) -> tuple[int, str, str]:
    import contextlib
    import io

    from tokenverify.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in args])
    return code, out.getvalue(), err.getvalue()


def test_cli_prints_node_not_checked_without_node_id(cli_setup: tuple[Path, Path]) -> None:
    keys, saved = cli_setup
    code, out, err = _run("verify", saved, "--keys", keys, "--at", ISSUED + 10)
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith("VALID  ")
    assert [line for line in lines if line.startswith("warning: ")] == [
        "warning: node_not_checked: "
        + tv.Verifier(issuer().registry()).check(response(), now=ISSUED + 10).warnings[0].message
    ]
    code, out, _ = _run("verify", saved, "--keys", keys, "--at", ISSUED + 10, "--node-id", NODE)
    assert code == 0
    assert "warning" not in out


def test_cli_in_grace_exit_0_then_1_with_strict_warnings(cli_setup: tuple[Path, Path]) -> None:
    keys, saved = cli_setup
    base = ("verify", saved, "--keys", keys, "--node-id", NODE, "--at", EXPIRES + 3600)
    code, out, err = _run(*base, "--grace", "2h")
    assert code == 0, err
    assert out.startswith("VALID IN GRACE  ")
    assert "(expired 1 h 0 min ago, in grace)" in out
    assert "warning: in_grace: expired at 2026-01-01T01:00:00+00:00" in out
    code, out, err = _run(*base, "--grace", "2h", "--strict-warnings")
    assert code == 1
    assert "VALID IN GRACE" in out
    assert err.splitlines() == [f"REJECTED  {saved}: --strict-warnings: valid, but with 1 warning"]
    code, _, err = _run(*base)  # no grace: expired as before
    assert code == 1
    assert "expired" in err
    code, out, err = _run(*base[:-2], "--at", ISSUED + 10, "--strict-warnings")
    assert code == 0
    assert err == ""


def test_cli_warn_before_and_bad_durations(cli_setup: tuple[Path, Path]) -> None:
    keys, saved = cli_setup
    base = ("verify", saved, "--keys", keys, "--node-id", NODE, "--at", EXPIRES - 60)
    code, out, _ = _run(*base, "--warn-before", "1h")
    assert code == 0
    assert "warning: expires_soon: expires at" in out
    code, out, err = _run(*base, "--grace", "400d")
    assert code == 2
    assert out == ""
    assert "grace must be from 0 to 366 days" in err
    code, out, err = _run(*base, "--warn-before", "-1h")
    assert code == 2
    assert out == ""


def test_cli_json_carries_warnings_in_the_schema(cli_setup: tuple[Path, Path]) -> None:
    import json

    keys, saved = cli_setup
    at = ("--at", EXPIRES + 600)
    code, out, _ = _run("verify", saved, "--keys", keys, *at, "--grace", "1h", "--json")
    assert code == 0
    report = json.loads(out)
    check_schema(report, VerifyReport.model_json_schema())
    assert [w["code"] for w in report["warnings"]] == ["in_grace", "node_not_checked"]
    assert report["warnings"][0]["seconds_left"] == 60 + 3600 - 600
    assert report["warnings"][1]["seconds_left"] is None
    assert report["valid"] is True
    schema = VerifyReport.model_json_schema()
    assert set(schema["$defs"]["WarningCode"]["enum"]) == {code.value for code in Code}
    code, out, _ = _run("verify", saved, "--keys", keys, *at, "--json", "--strict-warnings")
    assert code == 1
    assert json.loads(out)["warnings"] == []
    code, out, err = _run(
        "verify", saved, "--keys", keys, *at, "--grace", "1h", "--json", "--strict-warnings"
    )
    assert code == 1
    assert json.loads(out)["valid"] is True
    assert "--strict-warnings" in err


def test_cli_warning_lines_are_single_printable_lines(tmp_path: Path) -> None:
    """Key labels are quoted once (repr), as in rejection lines: no double escaping."""
    import json

    label = "aws:111122223333:Back\\slash \u00e9:issuer-fingerprint"
    other = TestIssuer.generate("ES256", fingerprint=label)
    registry = tv.KeyRegistry()
    registry.add(
        label,
        other.public_pem(),
        algorithms=["ES256"],
        not_after=datetime.fromtimestamp(EXPIRES, UTC),
    )
    keys = tmp_path / "keys.json"
    registry.save(keys)
    saved = tmp_path / "checkout.json"
    saved.write_text(json.dumps(other.checkout(issued_at=ISSUED, ttl=TTL)))
    args = ("verify", saved, "--keys", keys, "--node-id", NODE, "--at", ISSUED + 5)
    code, out, _ = _run(*args, "--warn-before", "2h")
    assert code == 0, out
    (line,) = [line for line in out.splitlines() if line.startswith("warning: key_expires_soon: ")]
    assert line.isprintable()
    assert f"of {label!r} is trusted only until" in line


@pytest.mark.parametrize("node_id", [None, NODE])
@pytest.mark.parametrize("warn_before", [0, 600])
@pytest.mark.parametrize("offset", [-TTL, -601, -600, 0, 60, 61, 300, 660])
def test_the_verifiers_shortcut_agrees_with_gather_warnings(
    node_id: str | None, warn_before: float, offset: float
) -> None:
    """Inside the window the verifier skips gather_warnings: same warnings either way."""
    from tokenverify._claims import parse_claims
    from tokenverify._token import decode_segment, parse_compact
    from tokenverify._warning_checks import gather_warnings

    policy = tv.Policy(node_id=node_id, warn_before=warn_before, grace=600)
    parsed = parse_compact(response()["SignedToken"], 65536)
    claims = parse_claims(decode_segment(parsed.payload_segment, "payload"))
    (key,) = issuer().registry().keys()
    now = EXPIRES + offset
    verdict = check(policy, now)
    assert verdict.ok, verdict.message
    assert verdict.warnings == gather_warnings(policy, claims, key, now)
