"""Property: every checkout a TestIssuer mints verifies under a policy that matches it.

Across every algorithm family (PS256 over RSA-2048, PS384 over RSA-4096 as in AWS's sample,
ES256/ES384/ES512, EdDSA, RS256), arbitrary node ids, entitlements in any of the 27 AWS
units, metadata and lifetimes, and every input form ``Verifier.verify`` takes, the result
holds exactly what was signed.
"""

from __future__ import annotations

import base64
import functools
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
#: EntitlementDataUnit as the botocore service model lists it (27 values).
AWS_UNITS = (
    "Count", "None", "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
    "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits",
    "Terabits", "Percent", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
    "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
    "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second",
)  # fmt: skip
ALGORITHMS = ("PS256", "PS384", "ES256", "ES384", "ES512", "EdDSA", "RS256")
INPUT_FORMS = ("json_text", "json_ascii", "json_bytes", "token", "token_bytes", "path")
# 2000-01-01 .. 2100-01-01: whole seconds, as AWS prints them.
EPOCHS = st.integers(946_684_800, 4_102_444_800)

#: Any Unicode text JSON can carry (lone surrogates cannot be encoded as UTF-8).
unicode_text = st.text(st.characters(codec="utf-8"), max_size=30)
nonempty_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
digits = st.text(st.sampled_from("0123456789"), min_size=1, max_size=40)
#: AWS quantities: ASCII decimals, as long as ``_units.parse_quantity`` allows (40 + 40).
quantities = st.builds(
    lambda whole, fraction: whole if fraction is None else f"{whole}.{fraction}",
    digits,
    st.none() | digits,
)
entitlements = st.lists(
    st.tuples(nonempty_text, st.none() | quantities, st.sampled_from(AWS_UNITS)), max_size=5
)
metadata = st.none() | st.dictionaries(unicode_text, unicode_text, max_size=4)


@functools.cache
def extra_issuer(algorithm: str) -> TestIssuer:
    """Issuers the session fixtures do not provide; RSA-2048 where size does not matter."""
    return TestIssuer.generate(algorithm, fingerprint=FINGERPRINT, key_size=2048)


@pytest.fixture(scope="module")
def issuers(
    ps256_issuer: TestIssuer,
    ps384_issuer: TestIssuer,
    es384_issuer: TestIssuer,
    eddsa_issuer: TestIssuer,
) -> dict[str, TestIssuer]:
    pool = {"PS256": ps256_issuer, "PS384": ps384_issuer, "ES384": es384_issuer}
    pool["EdDSA"] = eddsa_issuer
    for algorithm in ("ES256", "ES512", "RS256"):
        pool[algorithm] = extra_issuer(algorithm)
    return pool


@pytest.fixture(scope="module")
def saved_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("saved-checkouts")


def as_input(form: str, response: dict[str, Any], folder: Path) -> object:
    """The same checkout as another kind of source a caller may hold (besides the dict)."""
    token = response["SignedToken"]
    if form == "json_text":
        return json.dumps(response, ensure_ascii=False)
    if form == "json_ascii":
        return json.dumps(response)
    if form == "json_bytes":
        return json.dumps(response, ensure_ascii=False).encode("utf-8")
    if form == "token":
        return token
    if form == "token_bytes":
        return b"\r\n " + token.encode("ascii") + b"\n\t"
    path = folder / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(response, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def decode_payload(token: str) -> Any:
    """The signed payload, decoded with the stdlib (independent of tokenverify)."""
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def matching_requirements(
    granted: list[tuple[str, str | None, str]],
) -> list[tv.Requirement]:
    """One requirement per entitlement, asking for exactly what was granted."""
    return [
        tv.Requirement(name, unit=unit, minimum=None if value is None else Decimal(value))
        for name, value, unit in granted
    ]


@given(
    algorithm=st.sampled_from(ALGORITHMS),
    node_id=st.none() | nonempty_text,
    granted=entitlements,
    checkout_metadata=metadata,
    license_arn=nonempty_text,
    consumption_token=nonempty_text,
    issued_at=EPOCHS,
    ttl=st.integers(0, 400 * 86_400),
    elapsed=st.floats(0, 1),
    borrow=st.booleans(),
)
def test_minted_checkout_verifies_and_returns_what_was_signed(
    issuers: dict[str, TestIssuer],
    saved_dir: Path,
    algorithm: str,
    node_id: str | None,
    granted: list[tuple[str, str | None, str]],
    checkout_metadata: dict[str, str] | None,
    license_arn: str,
    consumption_token: str,
    issued_at: int,
    ttl: int,
    elapsed: float,
    borrow: bool,
) -> None:
    issuer = issuers[algorithm]
    response = issuer.checkout(
        node_id=node_id,
        entitlements=granted,
        ttl=ttl,
        issued_at=issued_at,
        license_arn=license_arn,
        license_consumption_token=consumption_token,
        checkout_metadata=checkout_metadata,
        borrow=borrow,
    )
    policy = tv.Policy(
        key_fingerprint=FINGERPRINT,
        node_id=node_id,
        license_arn=license_arn,
        requirements=matching_requirements(granted),
    )
    verifier = tv.Verifier(issuer.registry(), policy)
    now = issued_at + elapsed * ttl
    checkout = verifier.verify(response, now=now)

    assert checkout.license_arn == license_arn
    assert checkout.license_consumption_token == consumption_token
    assert checkout.node_id == node_id
    assert checkout.issued_at == datetime.fromtimestamp(issued_at, UTC)
    assert checkout.expiration == datetime.fromtimestamp(issued_at + ttl, UTC)
    assert checkout.issued_at.utcoffset() == checkout.expiration.utcoffset() == timedelta(0)
    assert checkout.entitlements == tuple(tv.Entitlement(*e) for e in granted)
    assert all(isinstance(e, tv.Entitlement) for e in checkout.entitlements)
    assert dict(checkout.checkout_metadata) == (checkout_metadata or {})
    assert checkout.algorithm == algorithm
    assert checkout.key_fingerprint == FINGERPRINT
    assert dict(checkout.header) == {"alg": algorithm, "typ": "JWT"}
    assert dict(checkout.claims) == decode_payload(response["SignedToken"])
    # Every other form of the same checkout gives the same result, and so does check().
    for form in INPUT_FORMS:
        source = as_input(form, response, saved_dir)
        assert verifier.verify(source, now=now) == checkout, form
        verdict = verifier.check(source, now=now)
        assert verdict.ok
        assert verdict.reason is None
        assert verdict.checkout == checkout


@given(
    algorithm=st.sampled_from(ALGORITHMS),
    node_id=st.none() | nonempty_text,
    granted=entitlements,
    checkout_metadata=metadata,
)
def test_verify_compact_returns_the_signed_header_and_payload(
    issuers: dict[str, TestIssuer],
    algorithm: str,
    node_id: str | None,
    granted: list[tuple[str, str | None, str]],
    checkout_metadata: Mapping[str, str] | None,
) -> None:
    issuer = issuers[algorithm]
    payload = issuer.claims(
        node_id=node_id, entitlements=granted, checkout_metadata=checkout_metadata
    )
    token = issuer.sign(payload)

    header, payload_bytes = tv.verify_compact(token, issuer.registry(), FINGERPRINT)

    assert header == {"alg": algorithm, "typ": "JWT"}
    assert json.loads(payload_bytes) == payload
