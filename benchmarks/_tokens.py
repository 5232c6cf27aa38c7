"""The tokens both benchmarks verify, and a one-line description of the machine.

Two scenarios from issue 2's performance section:

* ``A``: what AWS's borrow sample produces at scale: PS384 over RSA-4096 with ~45
  entitlements, a ~4 KB token (the service model says SignedToken has at least 4096
  characters).
* ``B``: a small CheckoutLicense token: PS256 over RSA-2048, three entitlements, ~1 KB.

Everything but the key and the random license/consumption ids is fixed, so token lengths
are the same from run to run. ``min_token_length=0``: the tokens are exactly as long as
their claims make them (no test padding claim), as when these baselines were measured.
"""

from __future__ import annotations

import platform
import ssl
import sys
from dataclasses import dataclass, field
from typing import Any

import cryptography
from cryptography.hazmat.backends.openssl import backend as openssl_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

import tokenverify as tv
from tokenverify.testing import TestIssuer

__all__ = [
    "FINGERPRINT",
    "NODE_ID",
    "Scenario",
    "build_scenario",
    "describe_machine",
    "scenario_a_entitlements",
]

FINGERPRINT = "aws:111122223333:Benchmark Vendor:issuer-fingerprint"
NODE_ID = "i-0123456789abcdef0"
BORROW_TTL = 1440 * 60  # AWS's sample borrows for 1440 minutes
#: The entitlement every policy demands (it is granted 250, the policy asks for 5).
REQUIRED = tv.Requirement("Users", unit="Count", minimum=5)

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "PS256": hashes.SHA256,
    "PS384": hashes.SHA384,
    "PS512": hashes.SHA512,
}


def scenario_a_entitlements() -> list[tuple[str, str | None, str]]:
    """45 entitlements in the shapes vendors use: seats, quotas, rates, feature flags."""
    entitlements: list[tuple[str, str | None, str]] = [
        ("Users", "250", "Count"),
        ("Administrators", "10", "Count"),
        ("Storage", "500", "Gigabytes"),
        ("Bandwidth", "10", "Gigabits/Second"),
        ("SessionLength", "86400", "Seconds"),
        ("ApiRequests", "1000000", "Count"),
        ("RequestRate", "250", "Count/Second"),
        ("CpuShare", "75", "Percent"),
        ("ArchiveRetention", "2", "Terabytes"),
        ("ReplicationThroughput", "400", "Megabytes/Second"),
    ]
    entitlements += [(f"Module.Analytics{i:02d}", "1", "Count") for i in range(1, 11)]
    entitlements += [(f"Feature.Connector{i:02d}", None, "None") for i in range(1, 26)]
    return entitlements


@dataclass(frozen=True)
class Scenario:
    """One benchmark token with everything each contender needs, all prepared up front."""

    key: str
    title: str
    issuer: TestIssuer
    response: dict[str, Any]
    token: str
    policy: tv.Policy
    registry: tv.KeyRegistry
    target: float
    public_key: rsa.RSAPublicKey = field(repr=False)
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    @property
    def algorithm(self) -> str:
        return self.issuer.algorithm

    @property
    def hash_algorithm(self) -> hashes.HashAlgorithm:
        return _HASHES[self.algorithm]()

    @property
    def entitlement_count(self) -> int:
        return len(self.response["EntitlementsAllowed"])


def build_scenario(key: str) -> Scenario:
    """Scenario ``"A"`` (4 KB PS384 RSA-4096) or ``"B"`` (1 KB PS256 RSA-2048)."""
    if key not in ("A", "B"):
        raise ValueError(f"unknown scenario {key!r}")
    algorithm, key_size = ("PS384", 4096) if key == "A" else ("PS256", 2048)
    issuer = TestIssuer.generate(algorithm, fingerprint=FINGERPRINT, key_size=key_size)
    return _scenario(key, issuer, _checkout(key, issuer, None))


def more_tokens(scenario: Scenario, count: int) -> list[str]:
    """``count`` more tokens of the scenario's shape, key and license: as many checkouts."""
    license_arn = scenario.response["LicenseArn"]
    return [
        _checkout(scenario.key, scenario.issuer, license_arn)["SignedToken"] for _ in range(count)
    ]


def _checkout(key: str, issuer: TestIssuer, license_arn: str | None) -> dict[str, Any]:
    if key == "A":
        return issuer.checkout(
            license_arn=license_arn,
            min_token_length=0,
            node_id=NODE_ID,
            entitlements=scenario_a_entitlements(),
            ttl=BORROW_TTL,
            borrow=True,
            checkout_metadata={"Mac": "0A:1B:2C:3D:4E:5F", "Hostname": "build-agent-07"},
        )
    return issuer.checkout(
        license_arn=license_arn,
        min_token_length=0,
        node_id=NODE_ID,
        entitlements=[
            ("Users", "250", "Count"),
            ("Storage", "500", "Gigabytes"),
            ("Feature.Reporting", None, "None"),
        ],
        ttl=3600,
        checkout_metadata={"Mac": "0A:1B:2C:3D:4E:5F"},
    )


def _scenario(key: str, issuer: TestIssuer, response: dict[str, Any]) -> Scenario:
    if key == "A":
        title = "A: ~4 KB AWS-shaped borrow token, PS384, RSA-4096"
        target = 1.3  # issue 11
    else:
        title = "B: ~1 KB checkout token, PS256, RSA-2048"
        target = 1.5
    token: str = response["SignedToken"]
    signing_input, _, signature_segment = token.rpartition(".")
    public_key = issuer.private_key.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    policy = tv.Policy(
        key_fingerprint=FINGERPRINT,
        node_id=NODE_ID,
        license_arn=response["LicenseArn"],
        requirements=[REQUIRED],
    )
    return Scenario(
        key=key,
        title=title,
        issuer=issuer,
        response=response,
        token=token,
        policy=policy,
        registry=issuer.registry(),
        target=target,
        public_key=public_key,
        signing_input=signing_input.encode("ascii"),
        signature=_b64url_decode(signature_segment),
    )


def _source_revision() -> str:
    """The commit tokenverify's source is at, ``+dirty`` if src/ has uncommitted changes."""
    import subprocess
    from pathlib import Path

    source = Path(tv.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "source revision unknown"
    return f"commit {commit}{'+dirty' if changes else ''}"


def _b64url_decode(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def describe_machine() -> dict[str, str]:
    """Versions and hardware that the numbers depend on."""
    import os

    return {
        "tokenverify": f"{tv.__version__} ({_source_revision()})",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cryptography": cryptography.__version__,
        "openssl": openssl_backend.openssl_version_text(),
        "python_ssl": ssl.OPENSSL_VERSION,
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "cpus": str(os.cpu_count()),
        "executable": sys.executable,
    }
