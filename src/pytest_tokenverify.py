"""pytest fixtures for products that verify AWS License Manager checkouts with tokenverify.

Installed with tokenverify and loaded by pytest through the ``pytest11`` entry point
``tokenverify`` (``-p no:tokenverify`` turns it off). It defines fixtures and nothing else:
no hooks, options, markers or autouse fixtures, so a suite that uses none of them runs as
before. Loading it imports only pytest: ``tokenverify`` itself, ``cryptography`` and key
generation wait until a test first asks for a fixture. It is a top-level module, not
``tokenverify.pytest_plugin``, because importing any ``tokenverify.*`` module imports the
package (and cryptography) first: about 160 ms on every pytest run.

Fixtures (all keys are test issuer keys: never trust one in production):

``tokenverify_issuer`` (session)
    A ``TestIssuer``: PS384 over RSA-2048 (fast to generate; AWS uses RSA-4096, which
    changes nothing a product checks). Another algorithm by indirect parametrization,
    ``@pytest.mark.parametrize("tokenverify_issuer", ["ES256", "PS256"], indirect=True)``,
    or override the fixture in a conftest with ``tokenverify_issuers("PS384", key_size=4096)``.
``tokenverify_issuers`` (session)
    ``tokenverify_issuers(algorithm="PS384", *, key_size=2048, fingerprint=...)``: one
    issuer per distinct argument set, made once per session.
``tokenverify_registry``
    A fresh ``KeyRegistry`` trusting ``tokenverify_issuer``'s key (pinned to its algorithm).
``tokenverify_keys_file``
    A keys file (``tmp_path / "tokenverify-keys.json"``) trusting the same key, for
    products that load one (``KeyRegistry.load``, ``tokenverify verify --keys``).
``tokenverify_checkout``
    ``tokenverify_checkout(**options)``: a boto3-shaped checkout response from
    ``tokenverify_issuer``; the options are ``TestIssuer.checkout``'s (``node_id``,
    ``entitlements``, ``borrow``, ``kid``, ``x5c``, ``checkout_metadata``...). Its
    SignedToken has at least 4096 characters, so botocore's Stubber accepts it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tokenverify import KeyRegistry
    from tokenverify.testing import TestIssuer

__all__ = [
    "tokenverify_checkout",
    "tokenverify_issuer",
    "tokenverify_issuers",
    "tokenverify_keys_file",
    "tokenverify_registry",
]

#: The fingerprint the fixtures' issuer signs as (AWS's pattern, a test account).
FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
IssuerFactory = Callable[..., "TestIssuer"]


@pytest.fixture(scope="session")
def tokenverify_issuers() -> IssuerFactory:
    """``tokenverify_issuers(algorithm, *, key_size=2048, fingerprint=...)``: cached issuers."""
    made: dict[tuple[str, int, str], TestIssuer] = {}

    def issuer(
        algorithm: str = "PS384", *, key_size: int = 2048, fingerprint: str = FINGERPRINT
    ) -> TestIssuer:
        from tokenverify.testing import TestIssuer

        wanted = (algorithm, key_size, fingerprint)
        if wanted not in made:
            made[wanted] = TestIssuer.generate(algorithm, fingerprint, key_size=key_size)
        return made[wanted]

    return issuer


@pytest.fixture(scope="session")
def tokenverify_issuer(
    request: pytest.FixtureRequest, tokenverify_issuers: IssuerFactory
) -> TestIssuer:
    """PS384 over RSA-2048, or the algorithm given by indirect parametrization."""
    algorithm: str = getattr(request, "param", "PS384")
    return tokenverify_issuers(algorithm)


@pytest.fixture
def tokenverify_registry(tokenverify_issuer: TestIssuer) -> KeyRegistry:
    """A new registry trusting ``tokenverify_issuer`` (a test may add to it freely)."""
    return tokenverify_issuer.registry()


@pytest.fixture
def tokenverify_keys_file(tokenverify_issuer: TestIssuer, tmp_path: Path) -> Path:
    """A keys file trusting ``tokenverify_issuer``, in this test's ``tmp_path``."""
    path = tmp_path / "tokenverify-keys.json"
    tokenverify_issuer.registry().save(path)
    return path


@pytest.fixture
def tokenverify_checkout(tokenverify_issuer: TestIssuer) -> Callable[..., dict[str, Any]]:
    """``tokenverify_checkout(**options)``: a fresh checkout response (``TestIssuer.checkout``)."""

    def checkout(**options: Any) -> dict[str, Any]:
        return tokenverify_issuer.checkout(**options)

    return checkout
