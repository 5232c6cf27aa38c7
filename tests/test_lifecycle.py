"""Key lifecycle: retiring a key keeps its old checkouts auditable, and no more.

A vendor retires a signing key by re-adding it with ``not_after``: checkouts issued
before that instant still verify when judged at their own issue time (``now="issued"``,
the CLI's ``--at issued``), checkouts issued after it are ``key_not_valid`` however they
are judged. Validity windows are compared with the signed ``issuedAt``, never the clock.
(Windows themselves are tested in test_keys.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
RETIRED_AT = datetime(2026, 2, 1, tzinfo=UTC)
BEFORE = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
AFTER = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def rejection(action: Any) -> tv.TokenRejected:
    with pytest.raises(tv.TokenRejected) as caught:
        action()
    return caught.value


def retire(registry: tv.KeyRegistry, issuer: TestIssuer, at: datetime) -> None:
    """What a vendor does: remove the key, add it back with an end to its validity."""
    (key,) = registry.keys(FINGERPRINT)
    assert registry.remove(FINGERPRINT, key.thumbprint) == 1
    registry.add(FINGERPRINT, issuer.public_pem(), algorithms=["PS256"], not_after=at)


@pytest.fixture
def registry(ps256_issuer: TestIssuer) -> tv.KeyRegistry:
    trusted = tv.KeyRegistry()
    trusted.add(FINGERPRINT, ps256_issuer.public_pem(), algorithms=["PS256"])
    return trusted


def test_retired_key_keeps_old_checkouts_auditable_and_refuses_new_ones(
    ps256_issuer: TestIssuer, registry: tv.KeyRegistry
) -> None:
    old = ps256_issuer.checkout(issued_at=BEFORE)
    late = ps256_issuer.checkout(issued_at=AFTER)
    verifier = tv.Verifier(registry)
    # Before retirement both verify.
    verifier.verify(old, now="issued")
    verifier.verify(late, now="issued")

    retire(registry, ps256_issuer, RETIRED_AT)
    (retired,) = registry.keys(FINGERPRINT)
    assert retired.not_after == RETIRED_AT

    audited = verifier.verify(old, now="issued")
    assert audited.issued_at == BEFORE
    assert audited.key_thumbprint == retired.thumbprint
    # Long after its own expiry the old checkout is expired, not key_not_valid: the key
    # window is judged at issuedAt, whatever "now" is.
    assert rejection(lambda: verifier.verify(old, now=AFTER)).reason is tv.Reason.expired

    for now in ("issued", AFTER + timedelta(minutes=1)):
        refused = rejection(lambda now=now: verifier.verify(late, now=now))
        assert refused.reason is tv.Reason.key_not_valid
        assert retired.thumbprint in refused.description
        assert "2026-02-01" in refused.description
        # Refused after the signature was verified: a report can show what was signed.
        assert refused.signed_checkout is not None
        assert refused.signed_checkout.issued_at == AFTER
    verdict = verifier.check(late, now="issued")
    assert (verdict.ok, verdict.reason) == (False, tv.Reason.key_not_valid)


@pytest.mark.parametrize(
    ("issued_at", "valid"),
    [
        (RETIRED_AT - timedelta(seconds=1), True),
        (RETIRED_AT, True),  # not_after is inclusive
        (RETIRED_AT + timedelta(seconds=1), False),
    ],
    ids=["one-second-before", "at-retirement", "one-second-after"],
)
def test_retirement_instant_is_inclusive(
    ps256_issuer: TestIssuer, registry: tv.KeyRegistry, issued_at: datetime, valid: bool
) -> None:
    retire(registry, ps256_issuer, RETIRED_AT)
    checkout = ps256_issuer.checkout(issued_at=issued_at)
    verdict = tv.Verifier(registry).check(checkout, now="issued")
    assert verdict.ok is valid, verdict.message
    if not valid:
        assert verdict.reason is tv.Reason.key_not_valid


def test_retirement_survives_the_keys_file(
    ps256_issuer: TestIssuer, registry: tv.KeyRegistry, tmp_path: Path
) -> None:
    retire(registry, ps256_issuer, RETIRED_AT)
    path = tmp_path / "keys.json"
    registry.save(path)
    loaded = tv.KeyRegistry.load(path)
    (key,) = loaded.keys(FINGERPRINT)
    assert (key.not_before, key.not_after) == (None, RETIRED_AT)
    verifier = tv.Verifier(loaded)
    verifier.verify(ps256_issuer.checkout(issued_at=BEFORE), now="issued")
    late = ps256_issuer.checkout(issued_at=AFTER)
    assert rejection(lambda: verifier.verify(late, now="issued")).reason is (
        tv.Reason.key_not_valid
    )


def test_successor_takes_over_at_retirement(
    ps256_issuer: TestIssuer, other_issuer: TestIssuer, registry: tv.KeyRegistry
) -> None:
    """Retire the old key at R, trust the new one from R: each period audits on its key."""
    successor = TestIssuer(other_issuer.private_key, "PS384", FINGERPRINT)
    retire(registry, ps256_issuer, RETIRED_AT)
    registry.add(FINGERPRINT, successor.public_pem(), algorithms=["PS384"], not_before=RETIRED_AT)
    verifier = tv.Verifier(registry)
    assert verifier.verify(ps256_issuer.checkout(issued_at=BEFORE), now="issued").algorithm == (
        "PS256"
    )
    assert verifier.verify(successor.checkout(issued_at=AFTER), now="issued").algorithm == "PS384"
    # Neither key vouches for the other's period.
    for token in (
        ps256_issuer.checkout(issued_at=AFTER),
        successor.checkout(issued_at=BEFORE),
    ):
        assert rejection(lambda token=token: verifier.verify(token, now="issued")).reason is (
            tv.Reason.key_not_valid
        )


def test_verify_compact_checks_the_signature_only_not_key_windows(
    ps256_issuer: TestIssuer, registry: tv.KeyRegistry
) -> None:
    """verify_compact reads no claims, so it has no issuedAt to judge a window by: a
    product checking checkouts must use Verifier."""
    retire(registry, ps256_issuer, RETIRED_AT)
    late = ps256_issuer.checkout(issued_at=AFTER)["SignedToken"]
    header, _ = tv.verify_compact(late, registry)
    assert header["alg"] == "PS256"
    assert rejection(lambda: tv.Verifier(registry).verify(late, now="issued")).reason is (
        tv.Reason.key_not_valid
    )
