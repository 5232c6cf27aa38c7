"""Shared fixtures: test issuers are costly to make (RSA-4096 keygen), so one per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from launch_paths import both_decoders
from tokenverify.testing import TestIssuer

# "ci" keeps the whole suite within minutes; "deep" is for a long local run:
#   HYPOTHESIS_PROFILE=deep make test
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile(
    "deep", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
OTHER_FINGERPRINT = "aws:444455556666:Other:issuer-fingerprint"
#: Test vectors live outside the project (../shared/vectors); CI always has them.
VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors"


def vectors_dir(*parts: str) -> Path:
    """The folder of shared vectors, or skip the test saying where they were expected."""
    path = VECTORS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"test vectors not found at {path}: put the shared/ folder beside the project")
    return path


@pytest.fixture(scope="session", autouse=True)
def _both_payload_decoders() -> Iterator[None]:
    """Every payload the suite verifies goes through both decoders (tests/launch_paths.py):
    the launch decoder must agree with msgspec's wherever it accepts; msgspec's result is
    the one the tests see."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tokenverify._verifier.parse_claims", both_decoders)
        yield


@pytest.fixture(scope="session")
def ps384_issuer() -> TestIssuer:
    """AWS's sample setup: PS384 over RSA-4096."""
    return TestIssuer.generate("PS384", fingerprint=FINGERPRINT)


@pytest.fixture(scope="session")
def ps256_issuer() -> TestIssuer:
    return TestIssuer.generate("PS256", fingerprint=FINGERPRINT, key_size=2048)


@pytest.fixture(scope="session")
def es384_issuer() -> TestIssuer:
    return TestIssuer.generate("ES384", fingerprint=FINGERPRINT)


@pytest.fixture(scope="session")
def eddsa_issuer() -> TestIssuer:
    return TestIssuer.generate("EdDSA", fingerprint=FINGERPRINT)


@pytest.fixture(scope="session")
def other_issuer() -> TestIssuer:
    """A second issuer whose key nobody trusts by default."""
    return TestIssuer.generate("PS384", fingerprint=OTHER_FINGERPRINT, key_size=2048)
