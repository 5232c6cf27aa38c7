"""Property: claims nobody has documented never change a verdict.

A genuinely signed checkout (valid, or refused for one defect) gets random extra claims
of any JSON shape beside the known ones (including look-alikes such as ``NodeId`` or
``nodeid``): the verdict and its reason are the same as without them, the signed values
read the same, and the extras are kept in ``claims`` as signed. Neither an acceptance
nor a refusal depends on them.
"""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
ISSUED_AT = 1_768_478_400
NOW = ISSUED_AT + 600
NODE = "node-1"
MAC = "02:42:ac:11:00:02"
KNOWN = frozenset(
    [
        "licenseArn",
        "licenseConsumptionToken",
        "entitlementsAllowed",
        "nodeId",
        "issuedAt",
        "expiration",
        "checkoutMetadata",
        "productSKU",
        "checkoutType",
        "keyFingerprint",
        "beneficiary",
        "iat",
        "exp",
        "nbf",
    ]
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=16,
)
extra_names = st.sampled_from(
    ("NodeId", "nodeid", "LicenseArn", "Expiration", "checkout_metadata", "sku", "kid", "")
) | st.text(max_size=16).filter(lambda name: name not in KNOWN)
extras = st.dictionaries(extra_names, json_values, min_size=1, max_size=6)

#: One defect each (or none), as the base claims' overrides and the policy that sees it.
DEFECTS: dict[str, tuple[dict[str, Any], tv.Reason | None]] = {
    "none": ({}, None),
    "wrong-node": ({"nodeId": "node-2"}, tv.Reason.node_mismatch),
    "no-node": ({"nodeId": None}, tv.Reason.node_mismatch),
    "other-mac": (
        {"checkoutMetadata": [{"Name": "Mac", "Value": "02:42:ac:11:00:03"}]},
        tv.Reason.metadata_mismatch,
    ),
    "no-metadata": ({"checkoutMetadata": None}, tv.Reason.metadata_mismatch),
    "too-few-users": (
        {"entitlementsAllowed": [{"name": "Users", "value": "2", "unit": "Count"}]},
        tv.Reason.entitlement_insufficient,
    ),
    "expired": ({"expiration": "2026-01-15T12:05:00"}, tv.Reason.expired),
    "other-issuer": (
        {"keyFingerprint": "aws:1:Other:issuer-fingerprint"},
        tv.Reason.invalid_claims,
    ),
    "bad-unit": (
        {"entitlementsAllowed": [{"name": "Users", "value": "10", "unit": "Seats"}]},
        tv.Reason.invalid_claims,
    ),
}
metadata_shapes = st.sampled_from(
    (
        {"Mac": MAC},
        [{"name": "Mac", "value": MAC}],
        [{"Name": "Mac", "Value": MAC}],
        [{"Name": "Mac", "Value": MAC}, {"Name": "Mac", "Value": MAC}],
    )
)


@functools.cache
def issuer() -> TestIssuer:
    return TestIssuer.generate("ES256", fingerprint=FINGERPRINT)


@functools.cache
def verifier() -> tv.Verifier:
    policy = tv.Policy(
        key_fingerprint=FINGERPRINT,
        node_id=NODE,
        checkout_metadata={"Mac": MAC},
        requirements=[tv.Requirement("Users", unit="Count", minimum=5)],
    )
    return tv.Verifier(issuer().registry(), policy)


def base_claims(defect: str, metadata: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "licenseArn": "arn:aws:license-manager::111122223333:license:l-1",
        "licenseConsumptionToken": "t-1",
        "entitlementsAllowed": [{"name": "Users", "value": "10", "unit": "Count"}],
        "nodeId": NODE,
        "issuedAt": "2026-01-15T12:00:00",
        "expiration": "2026-01-16T12:00:00",
        "checkoutMetadata": metadata,
        "keyFingerprint": FINGERPRINT,
    }
    for name, value in DEFECTS[defect][0].items():
        if value is None:
            del claims[name]
        else:
            claims[name] = value
    return claims


@given(st.sampled_from(sorted(DEFECTS)), metadata_shapes, extras, st.booleans())
def test_extra_claims_never_change_the_verdict(
    defect: str, metadata: Any, extra: dict[str, Any], extras_first: bool
) -> None:
    claims = base_claims(defect, metadata)
    with_extras = (extra | claims) if extras_first else (claims | extra)
    plain = verifier().check(issuer().sign(claims), now=NOW)
    extended = verifier().check(issuer().sign(with_extras), now=NOW)

    assert plain.reason is DEFECTS[defect][1], plain.message
    assert (extended.ok, extended.reason) == (plain.ok, plain.reason), extended.message
    if plain.ok:
        assert plain.checkout is not None
        assert extended.checkout is not None
        for field in ("license_arn", "node_id", "entitlements", "expiration", "key_fingerprint"):
            assert getattr(extended.checkout, field) == getattr(plain.checkout, field)
        assert dict(extended.checkout.checkout_metadata) == {"Mac": MAC}
        assert dict(extended.checkout.claims) == with_extras
