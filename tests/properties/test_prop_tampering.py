"""Properties: no single-bit or single-byte change to a checkout is ever accepted.

Flipping any bit of the compact token (header, payload, signature or a separator) and
changing any byte of a saved response's signed fields end in ``TokenRejected``, never in
acceptance and never in another exception. Where the change is, bounds why it is refused:
a token change is refused before its claims are read, a plaintext change as an envelope
mismatch.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
ISSUED_AT = 1_700_000_000
NOW = ISSUED_AT + 600
ALGORITHMS = ("PS256", "PS384", "ES256", "ES384", "ES512", "EdDSA", "RS256")
#: What a token altered anywhere may be refused for: never a claim or policy reason, since
#: an altered token must fail before anything it says is believed.
BEFORE_CLAIMS = frozenset(
    {
        tv.Reason.malformed,
        tv.Reason.unsupported_algorithm,
        tv.Reason.unsupported_header,
        tv.Reason.unknown_key,
        tv.Reason.bad_signature,
    }
)
EXPECTED_BY_REGION = {
    # Changed header bytes may spell another algorithm, a typ or a kid.
    "header": BEFORE_CLAIMS,
    "payload": frozenset({tv.Reason.malformed, tv.Reason.bad_signature}),
    "signature": frozenset({tv.Reason.malformed, tv.Reason.bad_signature}),
    # A flipped '.' is never a '.': two segments remain.
    "separator": frozenset({tv.Reason.malformed}),
}
# Printable ASCII that JSON writes as itself: a one-character edit stays a one-byte edit.
SAFE_CHARACTERS = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')
safe_text = st.text(st.sampled_from(SAFE_CHARACTERS), min_size=1, max_size=20)
AWS_UNITS = ("Count", "None", "Seconds", "Gigabytes", "Megabits/Second", "Percent")
unique_entitlements = st.lists(
    st.tuples(
        safe_text,
        st.none() | st.from_regex(r"[0-9]{1,6}", fullmatch=True),
        st.sampled_from(AWS_UNITS),
    ),
    max_size=4,
    unique=True,  # the plaintext list is compared as a set; see test below
)


@functools.cache
def extra_issuer(algorithm: str) -> TestIssuer:
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


def verifier_for(issuer: TestIssuer, node_id: str | None = None) -> tv.Verifier:
    return tv.Verifier(issuer.registry(), tv.Policy(key_fingerprint=FINGERPRINT, node_id=node_id))


def rejection(verifier: tv.Verifier, source: object) -> tv.Reason:
    """The reason ``source`` is refused; fails the test on acceptance or a foreign exception."""
    with pytest.raises(tv.TokenRejected) as caught:
        verifier.verify(source, now=NOW)
    verdict = verifier.check(source, now=NOW)
    assert not verdict.ok
    assert verdict.checkout is None
    assert verdict.reason is caught.value.reason
    return caught.value.reason


def flip(token: bytes, position: int, bit: int) -> bytes:
    altered = bytearray(token)
    altered[position] ^= 1 << bit
    return bytes(altered)


def regions(token: bytes) -> dict[str, range]:
    """Byte positions of each part of a compact token."""
    first = token.index(b".")
    second = token.index(b".", first + 1)
    return {
        "header": range(first),
        "payload": range(first + 1, second),
        "signature": range(second + 1, len(token)),
        "separator": range(first, second + 1, second - first),
    }


def as_source(form: str, altered: bytes, response: dict[str, Any]) -> object:
    """The altered token as bytes, as text (latin-1 keeps every byte), or in its response."""
    if form == "bytes":
        return altered
    text = altered.decode("latin-1")
    if form == "text":
        return text
    return {**response, "SignedToken": text}


@given(
    algorithm=st.sampled_from(ALGORITHMS),
    node_id=safe_text,
    region=st.sampled_from(tuple(EXPECTED_BY_REGION)),
    bit=st.integers(0, 7),
    form=st.sampled_from(("bytes", "text", "response")),
    data=st.data(),
)
def test_flipping_any_bit_of_the_token_is_rejected(
    issuers: dict[str, TestIssuer],
    algorithm: str,
    node_id: str,
    region: str,
    bit: int,
    form: str,
    data: st.DataObject,
) -> None:
    issuer = issuers[algorithm]
    response = issuer.checkout(node_id=node_id, issued_at=ISSUED_AT)
    verifier = verifier_for(issuer, node_id)
    assert verifier.check(response, now=NOW).ok  # the unaltered checkout is good
    token = response["SignedToken"].encode("ascii")
    position = data.draw(st.sampled_from(regions(token)[region]), label="position")

    altered = flip(token, position, bit)

    assert rejection(verifier, as_source(form, altered, response)) in EXPECTED_BY_REGION[region]


def test_flipping_every_bit_of_one_token_is_rejected(eddsa_issuer: TestIssuer) -> None:
    """Exhaustive over one small EdDSA token (~3000 flips; Ed25519 verifies are cheap)."""
    token = eddsa_issuer.sign(eddsa_issuer.claims(issued_at=ISSUED_AT)).encode("ascii")
    verifier = verifier_for(eddsa_issuer)
    assert verifier.check(token, now=NOW).ok
    for region, positions in regions(token).items():
        for position in positions:
            for bit in range(8):
                reason = rejection(verifier, flip(token, position, bit))
                assert reason in EXPECTED_BY_REGION[region], (region, position, bit)


class SpanWriter:
    """Writes JSON exactly as ``json.dumps`` does and records where each string's text lies.

    ``spans[path] = (start, end)``: the characters between the quotes of the string at
    ``path`` (a tuple of member names and list indexes).
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: dict[tuple[str | int, ...], tuple[int, int]] = {}

    def dump(self, value: Any) -> str:
        self._value(value, ())
        text = "".join(self.parts)
        assert json.loads(text) == value
        return text

    def _write(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def _value(self, value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            self._write("{")
            for index, (name, item) in enumerate(value.items()):
                self._write(", " if index else "")
                self._write(json.dumps(name) + ": ")
                self._value(item, (*path, name))
            self._write("}")
        elif isinstance(value, list):
            self._write("[")
            for index, item in enumerate(value):
                self._write(", " if index else "")
                self._value(item, (*path, index))
            self._write("]")
        else:
            encoded = json.dumps(value)
            if isinstance(value, str):
                self.spans[path] = (self.length + 1, self.length + len(encoded) - 1)
            self._write(encoded)


#: Plaintext members the token also signs (CheckoutType is not in AWS's signed payload).
SIGNED_PLAINTEXT = (
    "LicenseArn",
    "LicenseConsumptionToken",
    "NodeId",
    "IssuedAt",
    "Expiration",
    "EntitlementsAllowed",
    "CheckoutMetadata",
)


def saved_response(
    issuer: TestIssuer,
    node_id: str,
    license_arn: str,
    granted: list[tuple[str, str | None, str]],
    checkout_metadata: dict[str, str],
) -> tuple[bytes, dict[tuple[str | int, ...], tuple[int, int]]]:
    response = issuer.checkout(
        node_id=node_id,
        license_arn=license_arn,
        entitlements=granted,
        checkout_metadata=checkout_metadata,
        issued_at=ISSUED_AT,
    )
    writer = SpanWriter()
    saved = writer.dump(response).encode("ascii")
    return saved, {path: span for path, span in writer.spans.items() if span[0] < span[1]}


response_fields = {
    "algorithm": st.sampled_from(("ES256", "EdDSA", "PS256")),
    "node_id": safe_text,
    "license_arn": safe_text,
    "granted": unique_entitlements,
    "checkout_metadata": st.dictionaries(safe_text, safe_text, max_size=3),
}


@given(**response_fields, data=st.data())
def test_editing_a_signed_plaintext_field_is_an_envelope_mismatch(
    issuers: dict[str, TestIssuer],
    algorithm: str,
    node_id: str,
    license_arn: str,
    granted: list[tuple[str, str | None, str]],
    checkout_metadata: dict[str, str],
    data: st.DataObject,
) -> None:
    issuer = issuers[algorithm]
    saved, spans = saved_response(issuer, node_id, license_arn, granted, checkout_metadata)
    verifier = verifier_for(issuer)
    assert verifier.check(saved, now=NOW).ok
    path = data.draw(
        st.sampled_from(sorted((p for p in spans if p[0] in SIGNED_PLAINTEXT), key=repr))
    )
    position = data.draw(st.integers(spans[path][0], spans[path][1] - 1))
    replacement = data.draw(
        st.sampled_from(SAFE_CHARACTERS).filter(lambda c: ord(c) != saved[position])
    )

    edited = saved[:position] + replacement.encode("ascii") + saved[position + 1 :]

    assert rejection(verifier, edited) is tv.Reason.envelope_mismatch, path


@given(**response_fields, replacement=st.integers(0, 255), data=st.data())
def test_changing_any_byte_of_a_signed_field_is_rejected(
    issuers: dict[str, TestIssuer],
    algorithm: str,
    node_id: str,
    license_arn: str,
    granted: list[tuple[str, str | None, str]],
    checkout_metadata: dict[str, str],
    replacement: int,
    data: st.DataObject,
) -> None:
    """Any byte value, in any signed plaintext field or in the SignedToken itself."""
    issuer = issuers[algorithm]
    saved, spans = saved_response(issuer, node_id, license_arn, granted, checkout_metadata)
    verifier = verifier_for(issuer)
    path = data.draw(
        st.sampled_from(
            sorted((p for p in spans if p[0] in (*SIGNED_PLAINTEXT, "SignedToken")), key=repr)
        )
    )
    position = data.draw(st.integers(spans[path][0], spans[path][1] - 1))
    if saved[position] == replacement:
        replacement ^= 0x01

    edited = saved[:position] + bytes([replacement]) + saved[position + 1 :]

    reason = rejection(verifier, edited)
    if path == ("SignedToken",):
        assert reason in BEFORE_CLAIMS
    else:
        # Either the JSON still parses and disagrees with the token, or it no longer parses.
        assert reason in {tv.Reason.envelope_mismatch, tv.Reason.malformed}
