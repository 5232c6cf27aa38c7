"""One clear example per ``Reason``: what triggers it, and that its message says what to do.

Each example is AWS's sample setup (PS384 over RSA-4096) with exactly one thing wrong.
``test_every_reason_has_an_example`` fails when a ``Reason`` is added without one
(``revoked`` and ``clock_rollback`` belong to a later issue). ``Verifier.check`` must
turn every one of them into ``Verdict(False, reason, message, None)`` without raising.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

import tokenverify as tv
from conftest import FINGERPRINT, OTHER_FINGERPRINT
from tokenverify.testing import TestIssuer

#: Every example is issued at 2026-01-15T12:00:00Z, valid for an hour, checked a minute in.
ISSUED_AT = 1_768_478_400
TTL = 3600
NODE_ID = "node-7"
LICENSE_ARN = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef"
#: Reasons whose checks arrive with a later issue (revocation, clock rollback).
LATER = frozenset([tv.Reason.revoked, tv.Reason.clock_rollback])


class Example(NamedTuple):
    """A verifier, an input it must reject, and what the message must say."""

    verifier: tv.Verifier
    source: object
    says: tuple[str, ...]
    now: float = ISSUED_AT + 60


Builder = Callable[[TestIssuer, TestIssuer], Example]
EXAMPLES: dict[tv.Reason, Builder] = {}


def example(reason: tv.Reason) -> Callable[[Builder], Builder]:
    """Register the example builder of ``reason``."""

    def register(build: Builder) -> Builder:
        assert reason not in EXAMPLES, f"two examples for {reason}"
        EXAMPLES[reason] = build
        return build

    return register


def checkout(issuer: TestIssuer, **overrides: Any) -> dict[str, Any]:
    """A CheckoutLicense response valid at ISSUED_AT + 60 unless ``overrides`` say otherwise."""
    fields: dict[str, Any] = {
        "node_id": NODE_ID,
        "entitlements": [("Users", "10", "Count")],
        "ttl": TTL,
        "issued_at": ISSUED_AT,
        "license_arn": LICENSE_ARN,
    }
    return issuer.checkout(**(fields | overrides))


def token(issuer: TestIssuer, **overrides: Any) -> str:
    signed = checkout(issuer, **overrides)["SignedToken"]
    assert isinstance(signed, str)
    return signed


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def trusting(issuer: TestIssuer, policy: tv.Policy | None = None, **options: Any) -> tv.Verifier:
    return tv.Verifier(issuer.registry(), policy, **options)


@example(tv.Reason.malformed)
def _two_segments(issuer: TestIssuer, other: TestIssuer) -> Example:
    header, payload, _ = token(issuer).split(".")
    return Example(trusting(issuer), f"{header}.{payload}", ("2 segments", "exactly 3"))


@example(tv.Reason.too_large)
def _token_over_the_size_limit(issuer: TestIssuer, other: TestIssuer) -> Example:
    huge = token(issuer, claims={"note": "x" * 70_000})
    return Example(trusting(issuer), huge, ("65536 limit", "raise max_token_size"))


@example(tv.Reason.unsupported_algorithm)
def _hs256_keyed_with_the_public_key(issuer: TestIssuer, other: TestIssuer) -> Example:
    # The classic forgery: HMAC with the public key PEM as the shared secret.
    _, payload, _ = token(issuer).split(".")
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(issuer.public_pem().encode(), signing_input, hashlib.sha256).digest()
    forged = f"{header}.{payload}.{b64(mac)}"
    return Example(trusting(issuer), forged, ("'HS256'", "never accepted"))


@example(tv.Reason.unsupported_header)
def _crit_extension(issuer: TestIssuer, other: TestIssuer) -> Example:
    critical = token(issuer, header={"crit": ["exp"], "exp": ISSUED_AT + TTL})
    return Example(trusting(issuer), critical, ("'crit'", "refuses the token"))


@example(tv.Reason.unknown_key)
def _issuer_not_in_the_registry(issuer: TestIssuer, other: TestIssuer) -> Example:
    pinned = tv.Policy(key_fingerprint=OTHER_FINGERPRINT)
    return Example(
        trusting(issuer, pinned), token(other), (OTHER_FINGERPRINT, "add the issuer's public key")
    )


@example(tv.Reason.key_not_valid)
def _key_retired_before_the_checkout(issuer: TestIssuer, other: TestIssuer) -> Example:
    registry = tv.KeyRegistry()
    registry.add(
        FINGERPRINT, issuer.public_pem(), algorithms=["PS384"], not_after="2026-01-01T00:00:00Z"
    )
    return Example(
        tv.Verifier(registry), token(issuer), ("trusted only", "2026-01-01T00:00:00", FINGERPRINT)
    )


@example(tv.Reason.bad_signature)
def _payload_edited_after_signing(issuer: TestIssuer, other: TestIssuer) -> Example:
    header, payload, signature = token(issuer).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["entitlementsAllowed"][0]["value"] = "1000"
    edited = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    return Example(trusting(issuer), edited, ("does not verify", "altered or signed by another"))


@example(tv.Reason.invalid_claims)
def _license_arn_missing(issuer: TestIssuer, other: TestIssuer) -> Example:
    incomplete = token(issuer, claims={"licenseArn": None})
    return Example(trusting(issuer), incomplete, ("'licenseArn'", "missing"))


@example(tv.Reason.not_yet_valid)
def _issued_an_hour_from_now(issuer: TestIssuer, other: TestIssuer) -> Example:
    early = ISSUED_AT - 3600
    return Example(trusting(issuer), token(issuer), ("in the future", "clock"), now=early)


@example(tv.Reason.expired)
def _checked_two_hours_after_expiry(issuer: TestIssuer, other: TestIssuer) -> Example:
    late = ISSUED_AT + TTL + 7200
    says = ("expired at 2026-01-15T13:00:00", "check out again", "ExtendLicenseConsumption")
    return Example(trusting(issuer), token(issuer), says, now=late)


@example(tv.Reason.node_mismatch)
def _checked_out_for_another_node(issuer: TestIssuer, other: TestIssuer) -> Example:
    policy = tv.Policy(node_id="node-8")
    return Example(trusting(issuer, policy), token(issuer), ("'node-7'", "'node-8'"))


@example(tv.Reason.license_mismatch)
def _another_license(issuer: TestIssuer, other: TestIssuer) -> Example:
    expected = LICENSE_ARN.replace("l-0123", "l-9999")
    policy = tv.Policy(license_arn=expected)
    return Example(trusting(issuer, policy), token(issuer), ("licenseArn", LICENSE_ARN, expected))


@example(tv.Reason.product_mismatch)
def _another_product(issuer: TestIssuer, other: TestIssuer) -> Example:
    policy = tv.Policy(product_sku="prod-b")
    signed = token(issuer, claims={"productSKU": "prod-a"})
    return Example(trusting(issuer, policy), signed, ("productSKU", "'prod-a'", "'prod-b'"))


@example(tv.Reason.metadata_mismatch)
def _borrowed_for_another_mac(issuer: TestIssuer, other: TestIssuer) -> Example:
    policy = tv.Policy(checkout_metadata={"Mac": "02:42:ac:11:00:02"})
    signed = token(issuer, checkout_metadata={"Mac": "02:42:ac:11:00:03"})
    says = ("checkoutMetadata 'Mac'", "'02:42:ac:11:00:03'", "'02:42:ac:11:00:02'")
    return Example(trusting(issuer, policy), signed, says)


@example(tv.Reason.entitlement_missing)
def _entitlement_not_granted(issuer: TestIssuer, other: TestIssuer) -> Example:
    policy = tv.Policy(requirements=[tv.Requirement("Storage", unit="Gigabytes", minimum=1)])
    return Example(trusting(issuer, policy), token(issuer), ("'Storage'", "check out with it"))


@example(tv.Reason.entitlement_insufficient)
def _too_few_users(issuer: TestIssuer, other: TestIssuer) -> Example:
    policy = tv.Policy(requirements=[tv.Requirement("Users", unit="Count", minimum=5)])
    signed = token(issuer, entitlements=[("Users", "3", "Count")])
    return Example(trusting(issuer, policy), signed, ("'Users'", "grants 3", "Users >= 5 Count"))


@example(tv.Reason.envelope_mismatch)
def _plaintext_node_edited(issuer: TestIssuer, other: TestIssuer) -> Example:
    edited = checkout(issuer, envelope={"NodeId": "node-8"})
    says = ("NodeId", "'node-8'", "trust only the signed token")
    return Example(trusting(issuer), edited, says)


REASONS = sorted(EXAMPLES, key=list(tv.Reason).index)


@pytest.fixture
def build(ps384_issuer: TestIssuer, other_issuer: TestIssuer) -> Callable[[tv.Reason], Example]:
    return lambda reason: EXAMPLES[reason](ps384_issuer, other_issuer)


def test_every_reason_has_an_example() -> None:
    covered = set(EXAMPLES) | LATER
    missing = [reason.value for reason in tv.Reason if reason not in covered]
    assert not missing, f"add an example to tests/test_reasons.py for: {missing}"


@pytest.mark.parametrize("reason", REASONS, ids=[reason.value for reason in REASONS])
def test_example_is_rejected_with_its_reason_and_an_actionable_message(
    reason: tv.Reason, build: Callable[[tv.Reason], Example]
) -> None:
    case = build(reason)
    with pytest.raises(tv.TokenRejected) as caught:
        case.verifier.verify(case.source, now=case.now)
    rejection = caught.value
    assert rejection.reason is reason
    for phrase in case.says:
        assert phrase in rejection.description, (phrase, rejection.description)
    assert str(rejection) == f"{reason.value}: {rejection.description}"
    assert "\n" not in rejection.description


@pytest.mark.parametrize("reason", REASONS, ids=[reason.value for reason in REASONS])
def test_check_returns_a_verdict_instead_of_raising(
    reason: tv.Reason, build: Callable[[tv.Reason], Example]
) -> None:
    case = build(reason)
    with pytest.raises(tv.TokenRejected) as caught:
        case.verifier.verify(case.source, now=case.now)
    verdict = case.verifier.check(case.source, now=case.now)
    assert isinstance(verdict, tv.Verdict)
    assert verdict == tv.Verdict(False, reason, caught.value.description, None)
    assert not verdict


def test_the_examples_setup_accepts_a_sound_checkout(ps384_issuer: TestIssuer) -> None:
    """Without its one defect, each example's setup verifies: the defect is the cause."""
    policy = tv.Policy(
        key_fingerprint=FINGERPRINT,
        node_id=NODE_ID,
        license_arn=LICENSE_ARN,
        requirements=[tv.Requirement("Users", unit="Count", minimum=5)],
    )
    verifier = trusting(ps384_issuer, policy)
    response = checkout(ps384_issuer)
    verdict = verifier.check(response, now=ISSUED_AT + 60)
    assert verdict.ok
    assert verdict.reason is None
    assert verdict.checkout is not None
    assert verdict.checkout.node_id == NODE_ID
    assert verdict.checkout == verifier.verify(response["SignedToken"], now=ISSUED_AT + 60)
    # The time examples sit on either side of the window; its edges (with leeway) pass.
    for edge in (ISSUED_AT - 60, ISSUED_AT + TTL + 60):
        assert verifier.check(response, now=edge).ok
