"""Properties: extra JWS header members never change a verdict.

RFC 7515 section 4 says header members that are not understood are ignored, and AWS
documents none of its own: a genuine token may carry x5c, x5t, vendor members, any typ
and a kid no registry knows. Random members of any JSON shape (all but the refused
``crit``, ``b64``, ``zip``, ``enc``, ``cty``), a random typ and a random kid:

- leave a valid token valid, with the same claims and key, the members kept in
  ``header``;
- never make a refused token acceptable: signed by another key (even one trusted for
  another issuer, under whatever kid), or with its payload edited.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
OTHER = "aws:444455556666:Other:issuer-fingerprint"
ISSUED_AT = 1_700_000_000
NOW = ISSUED_AT + 600
REFUSED = frozenset(["crit", "b64", "zip", "enc", "cty"])
#: Members with a meaning elsewhere that tokenverify never reads, and odd names.
KNOWN_NAMES = ("x5c", "x5t", "x5t#S256", "x5u", "jwk", "jku", "url", "nonce", "iss", "")

TRUSTED = TestIssuer.generate("ES256", FINGERPRINT)
# Trusted for OTHER only: a key that verifies its own signatures, never FINGERPRINT's.
ANOTHER = TestIssuer.generate("ES256", OTHER)
ONE_ISSUER = TRUSTED.registry()
TWO_ISSUERS = tv.KeyRegistry()
TWO_ISSUERS.add(FINGERPRINT, TRUSTED.private_key.public_key())
TWO_ISSUERS.add(OTHER, ANOTHER.private_key.public_key())
VERIFIERS = (
    tv.Verifier(ONE_ISSUER),
    tv.Verifier(TWO_ISSUERS, tv.Policy(key_fingerprint=FINGERPRINT)),
)
MAX_CONTAINERS = 16

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
member_names = (st.sampled_from(KNOWN_NAMES) | st.text(max_size=12)).filter(
    lambda name: name not in REFUSED and name not in ("alg", "kid", "typ")
)
extra_members = st.dictionaries(member_names, json_values, max_size=5)
# A kid is a string of 1 to 256 characters; here it names nothing any registry holds
# (unless it happens to spell FINGERPRINT, which names the trusted issuer: fine too).
kids = st.none() | st.text(min_size=1, max_size=256)
typs = st.none() | st.text(max_size=40)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def sign(issuer: TestIssuer, header: dict[str, Any], payload: bytes) -> str:
    """Header and payload exactly as given (TestIssuer.sign would drop null members)."""
    header_json = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    signing_input = f"{b64url(header_json)}.{b64url(payload)}"
    return f"{signing_input}.{b64url(issuer.sign_bytes(signing_input.encode('ascii')))}"


def containers(value: Any) -> int:
    if isinstance(value, list):
        return 1 + sum(containers(item) for item in value)
    if isinstance(value, dict):
        return 1 + sum(containers(item) for item in value.values())
    return 0


def header_with(extras: dict[str, Any], kid: str | None, typ: str | None) -> dict[str, Any]:
    header: dict[str, Any] = {"alg": "ES256", **extras}
    if kid is not None:
        header["kid"] = kid
    if typ is not None:
        header["typ"] = typ
    return header


PAYLOAD = json.dumps(
    TRUSTED.claims(node_id="node-1", issued_at=ISSUED_AT), separators=(",", ":")
).encode()
PLAIN = sign(TRUSTED, {"alg": "ES256", "typ": "JWT"}, PAYLOAD)


def refusal(verifier: tv.Verifier, token: str) -> tv.Reason:
    verdict = verifier.check(token, now=NOW)
    assert not verdict.ok, f"accepted: {token[:120]}"
    assert verdict.reason is not None
    return verdict.reason


@given(extra_members, kids, typs)
def test_extra_header_members_never_change_a_valid_verdict(
    extras: dict[str, Any], kid: str | None, typ: str | None
) -> None:
    header = header_with(extras, kid, typ)
    assume(containers(header) <= MAX_CONTAINERS)
    token = sign(TRUSTED, header, PAYLOAD)
    for verifier in VERIFIERS:
        baseline = verifier.verify(PLAIN, now=NOW)
        checkout = verifier.verify(token, now=NOW)
        assert checkout.claims == baseline.claims
        assert checkout.key_thumbprint == baseline.key_thumbprint
        assert checkout.key_fingerprint == FINGERPRINT
        assert dict(checkout.header) == header
        header_out, payload_out = tv.verify_compact(token, verifier.registry, FINGERPRINT)
        assert header_out == header
        assert payload_out == PAYLOAD


@given(extra_members, kids, typs)
def test_extra_header_members_never_turn_another_keys_signature_into_acceptance(
    extras: dict[str, Any], kid: str | None, typ: str | None
) -> None:
    """ANOTHER's key verifies this token for OTHER; expecting FINGERPRINT, it never may."""
    header = header_with(extras, kid, typ)
    assume(containers(header) <= MAX_CONTAINERS)
    forged = sign(ANOTHER, header, PAYLOAD)
    for verifier in VERIFIERS:
        assert refusal(verifier, forged) is tv.Reason.bad_signature
    # The signature is genuine for its own issuer: only the choice of keys refused it.
    own = tv.Verifier(TWO_ISSUERS, tv.Policy(key_fingerprint=OTHER)).verify(forged, now=NOW)
    assert own.key_fingerprint == OTHER


@given(extra_members, kids, typs, st.sampled_from(("node-2", "node-10", "node-1 ")))
def test_extra_header_members_never_turn_an_edited_payload_into_acceptance(
    extras: dict[str, Any], kid: str | None, typ: str | None, node: str
) -> None:
    header = header_with(extras, kid, typ)
    assume(containers(header) <= MAX_CONTAINERS)
    header_segment, _, signature = sign(TRUSTED, header, PAYLOAD).split(".")
    edited = PAYLOAD.replace(b'"nodeId":"node-1"', json.dumps({"nodeId": node})[1:-1].encode())
    assert edited != PAYLOAD
    tampered = f"{header_segment}.{b64url(edited)}.{signature}"
    for verifier in VERIFIERS:
        assert refusal(verifier, tampered) is tv.Reason.bad_signature
