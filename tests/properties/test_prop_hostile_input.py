"""Properties: whatever is handed to ``Verifier.verify``, the only failure is ``TokenRejected``.

Arbitrary bytes, text and JSON (as text, as bytes, as Python objects); dicts shaped like
checkout responses around random tokens; genuinely signed tokens whose payload or header
is arbitrary; a genuine token inside an arbitrary envelope. ``Verifier.check`` never
raises for any of them, and agrees with ``verify``.
"""

from __future__ import annotations

import base64
import functools
import json
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
ISSUED_AT = 1_700_000_000
NOW = ISSUED_AT + 600
REFUSED_HEADER_MEMBERS = ("crit", "b64", "zip", "enc", "cty")

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
    max_leaves=12,
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


ALGORITHM_NAMES = ("PS384", "PS256", "ES256", "EdDSA", "RS256", "none", "None", "HS256", "")
header_like = st.fixed_dictionaries(
    {"alg": st.sampled_from(ALGORITHM_NAMES) | json_values},
    optional={
        "typ": st.sampled_from(("JWT", "jwt", "JWE", "at+jwt")) | json_values,
        "kid": st.sampled_from((FINGERPRINT, "../../etc/passwd", "x" * 300)) | json_values,
        "crit": json_values,
        "b64": st.just(False) | json_values,
        "jwk": json_values,
        "zip": st.just("DEF"),
        "cty": json_values,
        "x5c": json_values,
    },
)
segments = st.one_of(
    st.binary(max_size=200).map(b64url),
    header_like.map(lambda header: b64url(json.dumps(header).encode())),
    json_values.map(lambda value: b64url(json.dumps(value).encode())),
    st.text(string.ascii_letters + string.digits + "-_=+/ .!", max_size=40),
)
random_tokens = st.tuples(segments, segments, segments).map(".".join) | st.lists(
    segments, max_size=6
).map(".".join)
responses = st.fixed_dictionaries(
    {"SignedToken": random_tokens | json_values | st.binary(max_size=50)},
    optional={
        name: st.text(max_size=30) | json_values
        for name in (
            "LicenseArn",
            "LicenseConsumptionToken",
            "NodeId",
            "IssuedAt",
            "Expiration",
            "EntitlementsAllowed",
            "CheckoutMetadata",
            "CheckoutType",
            "ResponseMetadata",
        )
    },
)


@functools.cache
def es256_issuer() -> TestIssuer:
    return TestIssuer.generate("ES256", fingerprint=FINGERPRINT)


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return es256_issuer()


@pytest.fixture(scope="module")
def verifier(issuer: TestIssuer) -> tv.Verifier:
    policy = tv.Policy(
        key_fingerprint=FINGERPRINT,
        node_id="node-1",
        requirements=[tv.Requirement("Users", unit="Count", minimum=5)],
    )
    return tv.Verifier(issuer.registry(), policy)


def assert_rejected(verifier: tv.Verifier, source: object, now: float = NOW) -> tv.Reason:
    """``source`` is refused by ``verify`` with TokenRejected, and by ``check`` alike."""
    with pytest.raises(tv.TokenRejected) as caught:
        verifier.verify(source, now=now)
    assert isinstance(caught.value.reason, tv.Reason)
    assert caught.value.description
    verdict = verifier.check(source, now=now)
    assert verdict == (False, caught.value.reason, caught.value.description, None)
    return caught.value.reason


def outcome(verifier: tv.Verifier, source: object, now: float = NOW) -> tv.VerifiedCheckout | None:
    """The checkout, or None on TokenRejected; anything else raised fails the test."""
    verdict = verifier.check(source, now=now)
    if not verdict.ok:
        with pytest.raises(tv.TokenRejected) as caught:
            verifier.verify(source, now=now)
        assert verdict == (False, caught.value.reason, caught.value.description, None)
        return None
    checkout = verifier.verify(source, now=now)
    assert verdict.checkout == checkout
    return checkout


@given(st.binary(max_size=2000))
@example(b"")
@example(b"\xef\xbb\xbf" + b"{}")
@example(b"{" * 100_000)
@example(b"[" * 100_000)
@example(b"a.b.c")
@example("{}".encode("utf-16"))
def test_arbitrary_bytes_are_rejected(verifier: tv.Verifier, data: bytes) -> None:
    assert_rejected(verifier, data)
    assert_rejected(verifier, bytearray(data))
    assert_rejected(verifier, memoryview(data))


@given(st.text(max_size=2000))
@example("")
@example(" \t\r\n")
@example('{"SignedToken": "' + "[" * 10_000 + '"}')
@example('{"SignedToken": ' + "[" * 100_000 + "]" * 100_000 + "}")
@example("\ud800.\udfff.x")
@example("eyJhbGciOiJub25lIn0.e30.")
def test_arbitrary_text_is_rejected(verifier: tv.Verifier, text: str) -> None:
    assert_rejected(verifier, text)


@given(json_values, st.booleans())
def test_arbitrary_json_is_rejected(verifier: tv.Verifier, value: Any, ensure_ascii: bool) -> None:
    document = json.dumps(value, ensure_ascii=ensure_ascii)
    assert_rejected(verifier, document)
    assert_rejected(verifier, document.encode("utf-8"))
    assert_rejected(verifier, value)  # the object itself: a dict is taken for a response


@given(responses, st.sampled_from(("dict", "text", "bytes")))
def test_responses_around_random_tokens_are_rejected(
    verifier: tv.Verifier, response: dict[str, Any], form: str
) -> None:
    if form == "dict":
        assert_rejected(verifier, response)
        return
    response = {k: v.decode("latin-1") if isinstance(v, bytes) else v for k, v in response.items()}
    document = json.dumps(response)
    assert_rejected(verifier, document if form == "text" else document.encode("utf-8"))


@given(st.binary(max_size=300))
@example(b"")
@example(b"[]")
@example(b'{"licenseArn": "a"}')
@example(b"\xff\xfe{}")
def test_signed_junk_payload_is_refused_as_invalid_claims(
    issuer: TestIssuer, verifier: tv.Verifier, payload: bytes
) -> None:
    token = issuer.sign(payload)
    # An empty segment is refused while parsing (unsigned or detached tokens look so).
    expected = tv.Reason.invalid_claims if payload else tv.Reason.malformed
    assert assert_rejected(verifier, token) is expected


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


numbers = st.integers() | st.floats() | st.booleans() | json_values
iso_or_junk = (
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(iso)
    | st.text(max_size=30)
    | json_values
)
entitlement_like = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(("Users", "Storage")) | json_values,
        "value": st.from_regex(r"[0-9]{1,45}(\.[0-9]{1,45})?", fullmatch=True) | json_values,
        "unit": st.sampled_from(("Count", "Gigabytes", "Bytes", "Bits", "count", "")) | json_values,
        "extra": json_values,
    },
)
claims_like = st.fixed_dictionaries(
    {},
    optional={
        "licenseArn": st.text(max_size=20) | json_values,
        "licenseConsumptionToken": st.text(max_size=20) | json_values,
        "nodeId": st.just("node-1") | json_values,
        "issuedAt": iso_or_junk,
        "expiration": iso_or_junk,
        "iat": numbers,
        "exp": numbers,
        "nbf": numbers,
        "entitlementsAllowed": st.lists(entitlement_like | json_values, max_size=4) | json_values,
        "checkoutMetadata": st.dictionaries(st.text(max_size=8), st.text(max_size=8) | json_values)
        | json_values,
        "productSKU": st.text(max_size=10) | json_values,
        "checkoutType": st.sampled_from(("PROVISIONAL", "PERPETUAL")) | json_values,
        "keyFingerprint": st.sampled_from((FINGERPRINT, "aws:1:Other:issuer-fingerprint"))
        | json_values,
        "beneficiary": json_values,
        "unknownClaim": json_values,
    },
)


#: Claims the verifier's policy accepts at NOW, to seed the search with near misses.
SOUND_CLAIMS: dict[str, Any] = {
    "licenseArn": "arn:aws:license-manager::111122223333:license:l-1",
    "licenseConsumptionToken": "t-1",
    "nodeId": "node-1",
    "issuedAt": "2023-11-14T22:13:20",
    "expiration": "2023-11-15T22:13:20",
    "entitlementsAllowed": [{"name": "Users", "value": "10", "unit": "Count"}],
}


@given(claims_like, st.integers(-(10**12), 10**12))
@example(SOUND_CLAIMS, NOW)
@example(SOUND_CLAIMS | {"keyFingerprint": FINGERPRINT}, NOW)
# A token naming another issuer than the key that verified it (a mutant deleting the
# keyFingerprint binding in _verifier passed every test before this example).
@example(SOUND_CLAIMS | {"keyFingerprint": "aws:1:Other:issuer-fingerprint"}, NOW)
def test_signed_arbitrary_claims_only_raise_token_rejected(
    issuer: TestIssuer, verifier: tv.Verifier, claims: dict[str, Any], now: int
) -> None:
    """Past the signature, every claim is hostile too: the issuer may be buggy."""
    checkout = outcome(verifier, issuer.sign(claims), now=now)
    if checkout is not None:  # only a checkout the policy asked for may pass
        assert checkout.node_id == "node-1"
        assert checkout.issued_at <= checkout.expiration
        assert checkout.entitlement("Users") is not None
        # The issuer a token names is the one whose key verified it, or it names none.
        assert checkout.claims.get("keyFingerprint", FINGERPRINT) == FINGERPRINT
        assert checkout.key_fingerprint == FINGERPRINT


#: Header members beside ``alg`` for a genuinely signed token; None removes a default.
header_extras = st.fixed_dictionaries(
    {},
    optional={
        "typ": st.sampled_from(("JWT", "jwt", "JWE", "at+jwt")) | st.none() | json_values,
        "kid": st.sampled_from((FINGERPRINT, "unknown-key")) | json_values,
        "jwk": json_values,
        "jku": st.just("https://attacker.example/jwks.json"),
        "x5c": json_values,
        "extra": json_values,
    },
)


def acceptable(header: dict[str, Any]) -> bool:
    """The header rules: our algorithm, a typ (if any) that is a string, a kid (if any)
    that is a string of 1 to 256 characters (a hint: the one issuer's key is tried
    whatever it says), no extensions."""
    kid = header.get("kid", FINGERPRINT)
    return (
        header.get("alg") == "ES256"
        and isinstance(header.get("typ", "JWT"), str)
        and isinstance(kid, str)
        and 0 < len(kid) <= 256
        and not set(REFUSED_HEADER_MEMBERS) & set(header)
    )


def _containers(value: Any) -> int:
    if isinstance(value, list):
        return 1 + sum(_containers(item) for item in value)
    if isinstance(value, dict):
        return 1 + sum(_containers(item) for item in value.values())
    return 0


def within_header_bounds(segment: str, header: dict[str, Any]) -> bool:
    """Small and flat: beyond this a header may be refused whatever it says (16 KiB,
    16 objects and arrays, as tokenverify bounds headers)."""
    return len(segment) <= 16 * 1024 and _containers(header) <= 16


@given(
    header_extras,
    st.sampled_from(ALGORITHM_NAMES) | st.none() | json_values,
    st.booleans() | json_values.filter(lambda value: value is not None),
)
def test_signed_header_is_accepted_exactly_when_it_follows_the_rules(
    issuer: TestIssuer,
    verifier: tv.Verifier,
    extras: dict[str, Any],
    other_algorithm: Any,
    refused_value: Any,
) -> None:
    """Each refused member, one at a time, beside the right alg and beside another."""
    payload = issuer.claims(node_id="node-1", issued_at=ISSUED_AT)
    for algorithm in ("ES256", other_algorithm):
        for member in (None, *REFUSED_HEADER_MEMBERS):
            overrides = {"alg": algorithm, **extras}
            if member is not None:
                overrides[member] = refused_value
            token = issuer.sign(payload, overrides)
            segment = token.split(".")[0]
            header = json.loads(base64.urlsafe_b64decode(segment + "=="))

            checkout = outcome(verifier, token)

            if checkout is not None:
                assert acceptable(header), header
                assert dict(checkout.header) == header
            elif within_header_bounds(segment, header):
                assert not acceptable(header), header


SIGNED_ARN = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef"
SIGNED_TOKEN_ID = "0cd7b2bc7c674573a669bea8f5b75f2d"
SIGNED_NODE = "node-1"
SIGNED_ENTITLEMENTS = [
    ("Users", "10", "Count"),
    ("Storage", "1.5", "Gigabytes"),
    ("Flag", None, "None"),
]
SIGNED_METADATA = {"Mac": "ABCDEFGHI", "Host": "build-7"}
ISSUED = datetime.fromtimestamp(ISSUED_AT, UTC)
EXPIRES = ISSUED + timedelta(hours=1)


def labelled(agreeing: st.SearchStrategy[Any], signed: Any) -> st.SearchStrategy[Any]:
    """(value, agrees): a plaintext value that says what the token signs, or one that does not."""
    disagreeing = (json_values | st.text(max_size=20)).filter(
        lambda v: v is not None and v != signed
    )
    return st.tuples(agreeing, st.just(True)) | st.tuples(disagreeing, st.just(False))


def time_spellings(moment: datetime) -> st.SearchStrategy[Any]:
    """Plaintext spellings of ``moment``: AWS's, with a zone, with an offset, a datetime."""
    plus_one = moment.astimezone(timezone(timedelta(hours=1)))
    return st.sampled_from(
        (
            iso(moment),
            iso(moment) + "Z",
            iso(moment) + ".000",
            plus_one.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
            moment,
            moment.replace(tzinfo=None),  # boto3 may hand back naive UTC datetimes
        )
    )


PLAIN_ENTITLEMENTS = [
    {"Name": n, "Unit": u, **({"Value": v} if v is not None else {})}
    for n, v, u in SIGNED_ENTITLEMENTS
]
PLAIN_METADATA = [{"Name": k, "Value": v} for k, v in SIGNED_METADATA.items()]


def shaped_junk(*members: str) -> st.SearchStrategy[Any]:
    """Lists of objects with the right member names and arbitrary values (never agreeing)."""
    item = st.fixed_dictionaries({}, optional=dict.fromkeys(members, json_values))
    signed_names = tuple(name for name, _, _ in SIGNED_ENTITLEMENTS) + tuple(SIGNED_METADATA)
    return st.lists(item | json_values, min_size=1, max_size=4).filter(
        lambda items: not any(isinstance(i, dict) and i.get("Name") in signed_names for i in items)
    )


#: The plaintext list is compared with the signed one as a set: order and repeats do not
#: matter, a missing or extra entry does.
entitlements_agreeing = st.permutations(PLAIN_ENTITLEMENTS) | st.permutations(
    [*PLAIN_ENTITLEMENTS, PLAIN_ENTITLEMENTS[0]]
)
entitlements_disagreeing = (
    st.permutations(PLAIN_ENTITLEMENTS).map(lambda items: items[1:])
    | st.permutations([*PLAIN_ENTITLEMENTS, {"Name": "Users", "Value": "11", "Unit": "Count"}])
    | st.just([{**PLAIN_ENTITLEMENTS[0], "Unit": "None"}, *PLAIN_ENTITLEMENTS[1:]])
    | shaped_junk("Name", "Value", "Unit")
)
#: Metadata folds as the signed list does: a name repeated with its value is one entry,
#: a name repeated with another value cannot agree.
metadata_agreeing = st.permutations(PLAIN_METADATA) | st.permutations(
    [*PLAIN_METADATA, PLAIN_METADATA[0]]
)
metadata_disagreeing = (
    st.just(PLAIN_METADATA[:1])
    | st.just([*PLAIN_METADATA, {**PLAIN_METADATA[0], "Value": "other"}])
    | st.just([PLAIN_METADATA[0], {"Name": "Host", "Value": "build-8"}])
    | shaped_junk("Name", "Value")
)

envelope_members = {
    "LicenseArn": labelled(st.just(SIGNED_ARN), SIGNED_ARN),
    "LicenseConsumptionToken": labelled(st.just(SIGNED_TOKEN_ID), SIGNED_TOKEN_ID),
    "NodeId": labelled(st.just(SIGNED_NODE), SIGNED_NODE),
    "IssuedAt": labelled(time_spellings(ISSUED), iso(ISSUED))
    | st.tuples(st.just(iso(ISSUED + timedelta(seconds=1))), st.just(False)),
    "Expiration": labelled(time_spellings(EXPIRES), iso(EXPIRES))
    | st.tuples(st.just(EXPIRES - timedelta(microseconds=1)), st.just(False)),
    "EntitlementsAllowed": labelled(entitlements_agreeing, None)
    | st.tuples(entitlements_disagreeing, st.just(False)),
    "CheckoutMetadata": labelled(metadata_agreeing, None)
    | st.tuples(metadata_disagreeing, st.just(False)),
}


@given(
    st.fixed_dictionaries(
        {},
        optional={
            **envelope_members,
            "CheckoutType": st.tuples(json_values, st.just(True)),  # not signed: not compared
            "ResponseMetadata": st.tuples(json_values, st.just(True)),
            "SomethingElse": st.tuples(json_values, st.just(True)),
        },
    )
)
def test_genuine_token_in_arbitrary_envelope_passes_only_if_the_envelope_agrees(
    issuer: TestIssuer, members: dict[str, tuple[Any, bool]]
) -> None:
    token = genuine_token(issuer)
    response = {name: value for name, (value, _) in members.items()}
    response["SignedToken"] = token
    verifier = tv.Verifier(issuer.registry(), tv.Policy(key_fingerprint=FINGERPRINT))
    agrees = all(agreeing for _, agreeing in members.values())

    checkout = outcome(verifier, response)

    assert (checkout is not None) == agrees
    if checkout is None:
        assert verifier.check(response, now=NOW).reason is tv.Reason.envelope_mismatch


@functools.cache
def genuine_token(issuer: TestIssuer) -> str:
    return issuer.sign(
        issuer.claims(
            node_id=SIGNED_NODE,
            license_arn=SIGNED_ARN,
            license_consumption_token=SIGNED_TOKEN_ID,
            entitlements=SIGNED_ENTITLEMENTS,
            checkout_metadata=SIGNED_METADATA,
            issued_at=ISSUED,
            ttl=(EXPIRES - ISSUED).total_seconds(),
        )
    )


unhashable = st.lists(json_scalars, max_size=2) | st.dictionaries(st.text(max_size=4), json_scalars)
junk_value = unhashable | json_values
#: Entries with every expected member present, so that their values must be handled.
entitlement_junk = st.lists(
    st.fixed_dictionaries({"Name": junk_value, "Value": junk_value, "Unit": junk_value})
    | entitlement_like
    | json_values,
    min_size=1,
    max_size=4,
)
metadata_junk = st.lists(
    st.fixed_dictionaries({"Name": junk_value, "Value": junk_value}) | json_values,
    min_size=1,
    max_size=4,
)
ENVELOPE_JUNK = {
    "LicenseArn": junk_value,
    "LicenseConsumptionToken": junk_value,
    "NodeId": junk_value,
    "IssuedAt": junk_value,
    "Expiration": junk_value,
    "EntitlementsAllowed": entitlement_junk | junk_value,
    "CheckoutMetadata": metadata_junk | junk_value,
}


@given(st.sampled_from(sorted(ENVELOPE_JUNK)), st.data())
def test_junk_in_a_signed_plaintext_member_is_an_envelope_mismatch(
    issuer: TestIssuer, member: str, data: st.DataObject
) -> None:
    junk = data.draw(ENVELOPE_JUNK[member].filter(lambda value: value is not None), label=member)
    response = {"SignedToken": genuine_token(issuer), member: junk}
    verifier = tv.Verifier(issuer.registry(), tv.Policy(key_fingerprint=FINGERPRINT))
    assert verifier.check({"SignedToken": genuine_token(issuer)}, now=NOW).ok
    assert assert_rejected(verifier, response) is tv.Reason.envelope_mismatch
