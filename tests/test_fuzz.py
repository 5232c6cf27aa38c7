"""Structure-aware fuzzing: JWS tokens assembled from independently mutated parts.

Hypothesis draws a token part by part (header members, header JSON spelling, payload
claims and spelling, the base64url of each segment, the signature, the segment
structure and the input form) from choices that are each either harmless or a known
reason for refusal. The oracle follows from the draw: a token with no harmful choice
must verify (and say what was signed); a token with some must be refused with the
reason of one of them, never anything else and never another exception.

A second fuzzer edits genuine tokens byte by byte: only the genuine token (up to
surrounding whitespace and canonical padding) may verify. And the atheris harness
(fuzz/fuzz_verify.py) gets a short bounded run here, so that CI runs it on every
change (with atheris when it is installed, else its plain-Python driver).
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Fuzz:issuer-fingerprint"
ISSUED_AT = 1_768_478_400
NOW = ISSUED_AT + 60
NODE_ID = "node-7"
LICENSE_ARN = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef"
CONSUMPTION_TOKEN = "0cd7b2bc7c674573a669bea8f5b75f2d"
POLICY = tv.Policy(node_id=NODE_ID, requirements=[tv.Requirement("Users", unit="Count", minimum=5)])
ALGORITHMS = ("EdDSA", "ES256", "PS256")
HARNESS = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_verify.py"
#: Inputs the CI run of the harness executes (a few seconds either way).
HARNESS_RUNS = 4000
R = tv.Reason


@functools.cache
def issuer(alg: str) -> TestIssuer:
    return TestIssuer.generate(alg, FINGERPRINT, key_size=2048)


@functools.cache
def attacker(alg: str) -> TestIssuer:
    return TestIssuer.generate(alg, FINGERPRINT, key_size=2048)


@functools.cache
def verifier(alg: str) -> tv.Verifier:
    return tv.Verifier(issuer(alg).registry(), POLICY)


def thumbprint(alg: str) -> str:
    return next(iter(issuer(alg).registry())).thumbprint


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class Choice(NamedTuple):
    """One drawn part of a token: harmless (reason None) or a reason to refuse it."""

    name: str
    reason: tv.Reason | None


class Drawn(NamedTuple):
    """A token (in some input form), its issuer's algorithm and the choices it was made of."""

    alg: str
    source: object
    choices: tuple[Choice, ...]

    @property
    def expected(self) -> frozenset[tv.Reason]:
        return frozenset(c.reason for c in self.choices if c.reason is not None)


# --- the parts -------------------------------------------------------------------------

_SIBLING = {"EdDSA": "ES256", "ES256": "ES384", "PS256": "PS384"}
ALG_CHOICES: dict[str, tuple[object, tv.Reason | None]] = {
    "alg-genuine": ("<alg>", None),
    "alg-none": ("none", R.unsupported_algorithm),
    "alg-hs256": ("HS256", R.unsupported_algorithm),
    "alg-lowercase": ("<lower>", R.unsupported_algorithm),
    "alg-sibling-not-pinned": ("<sibling>", R.unsupported_algorithm),
    "alg-number": (7, R.unsupported_algorithm),
    "alg-null": (None, R.unsupported_algorithm),
    "alg-missing": ("<missing>", R.malformed),
}
TYP_CHOICES: dict[str, tuple[object, tv.Reason | None]] = {
    "typ-absent": ("<missing>", None),
    "typ-JWT": ("JWT", None),
    "typ-jwt": ("jwt", None),
    "typ-media-type": ("application/jwt", None),
    "typ-JOSE": ("JOSE", None),
    "typ-JWE": ("JWE", R.unsupported_header),
    "typ-number": (7, R.unsupported_header),
    "typ-null": (None, R.unsupported_header),
}
KID_CHOICES: dict[str, tuple[object, tv.Reason | None]] = {
    "kid-absent": ("<missing>", None),
    "kid-fingerprint": (FINGERPRINT, None),
    "kid-thumbprint": ("<thumbprint>", None),
    "kid-unknown": ("someone-else", R.unknown_key),
    "kid-number": (7, R.malformed),
    "kid-empty": ("", R.malformed),
    "kid-300-characters": ("k" * 300, R.malformed),
}
IGNORED_MEMBERS: dict[str, tuple[str, object]] = {
    "jku-ignored": ("jku", "https://attacker.example/jwks.json"),
    "x5u-ignored": ("x5u", "https://attacker.example/cert.pem"),
    "jwk-ignored": ("jwk", {"kty": "OKP", "crv": "Ed25519", "x": b64(bytes(32))}),
    "x5c-ignored": ("x5c", ["MIIB"]),
    "vendor-member": ("vendor", 1),
}
REFUSED_MEMBERS: dict[str, tuple[str, object]] = {
    "crit": ("crit", ["exp"]),
    "crit-empty": ("crit", []),
    "b64-false": ("b64", False),
    "b64-true": ("b64", True),
    "zip": ("zip", "DEF"),
    "enc": ("enc", "A256GCM"),
    "cty": ("cty", "JWT"),
}


def header_spelling(header: dict[str, Any], name: str) -> bytes:
    """The header object as JSON, spelled per ``name`` (see HEADER_SPELLINGS)."""
    compact = json.dumps(header, separators=(",", ":")).encode()
    if name == "compact":
        return compact
    if name == "spaced":
        return json.dumps(header, indent=1).encode()
    if name == "escaped":
        return json.dumps(header).encode().replace(b'"alg"', b'"\\u0061lg"')
    if name == "duplicate-member":
        return compact[:-1] + b',"dup":1,"dup":1}'
    if name == "utf8-bom":
        return b"\xef\xbb\xbf" + compact
    if name == "utf16":
        return json.dumps(header).encode("utf-16-le")
    if name == "nan":
        return compact[:-1] + b',"vendor2":NaN}'
    if name == "trailing-comma":
        return compact[:-1] + b",}"
    if name == "trailing-garbage":
        return compact + b"x"
    if name == "array":
        return b"[" + compact + b"]"
    assert name == "deep-nesting"
    return compact[:-1] + b',"deep":' + b"[" * 40 + b"]" * 40 + b"}"


HEADER_SPELLINGS = {
    "compact": None,
    "spaced": None,
    "escaped": None,
    "duplicate-member": R.malformed,
    "utf8-bom": R.malformed,
    "utf16": R.malformed,
    "nan": R.malformed,
    "trailing-comma": R.malformed,
    "trailing-garbage": R.malformed,
    "array": R.malformed,
    "deep-nesting": R.malformed,
}


def claims(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "licenseArn": LICENSE_ARN,
        "licenseConsumptionToken": CONSUMPTION_TOKEN,
        "entitlementsAllowed": [{"name": "Users", "value": "10", "unit": "Count"}],
        "nodeId": NODE_ID,
        "issuedAt": "2026-01-15T12:00:00",
        "expiration": "2026-01-15T13:00:00",
    }
    document.update(overrides)
    return {name: value for name, value in document.items() if value is not None}


def payload_bytes(name: str, spaced: bool) -> bytes:
    """The payload per ``name`` (see PAYLOADS), compact or spaced."""

    def dump(value: object) -> bytes:
        return json.dumps(value, indent=1 if spaced else None).encode()

    if name == "genuine":
        return dump(claims())
    if name == "extra-claims":
        return dump(claims(vendor={"tier": "gold"}, productSKU="sku-1", iat=ISSUED_AT))
    if name == "reordered":
        return dump(dict(reversed(list(claims().items()))))
    if name == "duplicate-node-genuine-last":
        return dump(claims(nodeId="node-8"))[:-1] + f',"nodeId":"{NODE_ID}"}}'.encode()
    if name == "duplicate-node-other-last":
        return dump(claims())[:-1] + b',"nodeId":"node-8"}'
    if name == "no-license-arn":
        return dump(claims(licenseArn=None))
    if name == "unknown-unit":
        return dump(claims(entitlementsAllowed=[{"name": "Users", "value": "9", "unit": "Cnt"}]))
    if name == "expired":
        return dump(claims(issuedAt="2025-01-15T12:00:00", expiration="2025-01-15T13:00:00"))
    if name == "not-yet-valid":
        return dump(claims(issuedAt="2026-01-16T12:00:00", expiration="2026-01-16T13:00:00"))
    if name == "other-node":
        return dump(claims(nodeId="node-8"))
    if name == "too-few-users":
        return dump(claims(entitlementsAllowed=[{"name": "Users", "value": "2", "unit": "Count"}]))
    if name == "issued-after-expiration":
        return dump(claims(issuedAt="2026-01-15T14:00:00"))
    if name == "nan":
        return dump(claims())[:-1] + b',"x":NaN}'
    if name == "array":
        return b"[" + dump(claims()) + b"]"
    assert name == "trailing-garbage"
    return dump(claims()) + b"x"


PAYLOADS = {
    "genuine": None,
    "extra-claims": None,
    "reordered": None,
    "duplicate-node-genuine-last": None,
    "duplicate-node-other-last": R.node_mismatch,
    "no-license-arn": R.invalid_claims,
    "unknown-unit": R.invalid_claims,
    "expired": R.expired,
    "not-yet-valid": R.not_yet_valid,
    "other-node": R.node_mismatch,
    "too-few-users": R.entitlement_insufficient,
    "issued-after-expiration": R.invalid_claims,
    "nan": R.invalid_claims,
    "array": R.invalid_claims,
    "trailing-garbage": R.invalid_claims,
}
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


SPELLINGS: dict[str, tv.Reason | None] = {
    "canonical": None,
    "canonical-padding": None,
    "unused-bits-set": R.malformed,
    "standard-alphabet": R.malformed,
    "junk-character": R.malformed,
    "inner-space": R.malformed,
    "excess-padding": R.malformed,
}


def applicable(data: bytes, spelling: str) -> str:
    """``spelling``, or "canonical" where it cannot apply to ``data``.

    Drawing from one fixed list keeps hypothesis's draws the same when ``data`` (a
    randomized signature) differs between runs of one example.
    """
    if spelling in ("canonical-padding", "unused-bits-set") and not len(data) % 3:
        return "canonical"  # a multiple of three bytes has no padding and no unused bits
    if spelling == "standard-alphabet" and not ("-" in b64(data) or "_" in b64(data)):
        return "canonical"
    return spelling


def encode(data: bytes, spelling: str) -> str:
    text = b64(data)
    if spelling == "canonical":
        return text
    if spelling == "canonical-padding":
        return text + "=" * (-len(text) % 4)
    if spelling == "unused-bits-set":
        return text[:-1] + _ALPHABET[_ALPHABET.index(text[-1]) | 1]
    if spelling == "standard-alphabet":
        return text.replace("-", "+").replace("_", "/")
    if spelling == "junk-character":
        return text[:1] + "!" + text[1:]
    if spelling == "inner-space":
        return text[:2] + " " + text[2:]
    assert spelling == "excess-padding"
    return text + "=" * (-len(text) % 4) + "===="


SIGNATURES = {
    "genuine": None,
    "other-key": R.bad_signature,
    "bit-flipped": R.bad_signature,
    "one-byte-short": R.bad_signature,
    "empty": R.malformed,
}
STRUCTURES = {
    "bare-token": None,
    "surrounding-whitespace": None,
    "response-dict": None,
    "response-json": None,
    "bytes": None,
    "trailing-dot": R.malformed,
    "extra-segment": R.malformed,
    "no-signature-segment": R.malformed,
    "leading-dot": R.malformed,
}


def _pick(draw: st.DrawFn, options: dict[str, Any]) -> str:
    return draw(st.sampled_from(sorted(options)))


@st.composite
def drawn_tokens(draw: st.DrawFn) -> Drawn:
    """A token assembled from independently drawn parts, with what each part means."""
    alg = draw(st.sampled_from(ALGORITHMS))
    chosen: list[Choice] = []

    def choose(name: str, reason: tv.Reason | None) -> None:
        chosen.append(Choice(name, reason))

    header: dict[str, Any] = {}
    alg_choice = _pick(draw, ALG_CHOICES)
    value, reason = ALG_CHOICES[alg_choice]
    placeholders = {"<alg>": alg, "<lower>": alg.lower(), "<sibling>": _SIBLING[alg]}
    if value != "<missing>":
        header["alg"] = placeholders.get(value, value) if isinstance(value, str) else value
    choose(alg_choice, reason)
    for options in (TYP_CHOICES, KID_CHOICES):
        name = _pick(draw, options)
        value, reason = options[name]
        if value != "<missing>":
            member = name.split("-", 1)[0]
            header[member] = thumbprint(alg) if value == "<thumbprint>" else value
        choose(name, reason)
    for name in draw(st.sets(st.sampled_from(sorted(IGNORED_MEMBERS)), max_size=2)):
        member, value = IGNORED_MEMBERS[name]
        header[member] = value
        choose(name, None)
    refused = draw(st.none() | st.sampled_from(sorted(REFUSED_MEMBERS)))
    if refused is not None:
        member, value = REFUSED_MEMBERS[refused]
        header[member] = value
        choose(refused, R.unsupported_header)
    spelling = _pick(draw, HEADER_SPELLINGS)
    header_json = header_spelling(header, spelling)
    choose(f"header-{spelling}", HEADER_SPELLINGS[spelling])

    payload_name = _pick(draw, PAYLOADS)
    payload = payload_bytes(payload_name, spaced=draw(st.booleans()))
    choose(f"payload-{payload_name}", PAYLOADS[payload_name])

    segments = []
    for part, data in (("header", header_json), ("payload", payload)):
        spelled = applicable(data, _pick(draw, SPELLINGS))
        segments.append(encode(data, spelled))
        choose(f"{part}-segment-{spelled}", SPELLINGS[spelled])
    signing_input = ".".join(segments).encode("ascii")

    signature_name = _pick(draw, SIGNATURES)
    signer = attacker(alg) if signature_name == "other-key" else issuer(alg)
    signature = signer.sign_bytes(signing_input)
    if signature_name == "bit-flipped":
        index = draw(st.integers(0, len(signature) * 8 - 1))
        flipped = bytearray(signature)
        flipped[index // 8] ^= 1 << (index % 8)
        signature = bytes(flipped)
    elif signature_name == "one-byte-short":
        signature = signature[:-1]
    elif signature_name == "empty":
        signature = b""
    choose(f"signature-{signature_name}", SIGNATURES[signature_name])
    spelled = applicable(signature, _pick(draw, SPELLINGS)) if signature else "canonical"
    signature_text = encode(signature, spelled)
    choose(f"signature-segment-{spelled}", SPELLINGS[spelled])

    token = f"{signing_input.decode()}.{signature_text}"
    structure = _pick(draw, STRUCTURES)
    choose(f"structure-{structure}", STRUCTURES[structure])
    source: object = {
        "bare-token": token,
        "surrounding-whitespace": f" \n{token}\r\n\t",
        "response-dict": {"SignedToken": token},
        "response-json": json.dumps({"SignedToken": token}),
        "bytes": token.encode(),
        "trailing-dot": f"{token}.",
        "extra-segment": f"{token}.{segments[1]}",
        "no-signature-segment": signing_input.decode(),
        "leading-dot": f".{token}",
    }[structure]
    return Drawn(alg, source, tuple(chosen))


@given(drawn_tokens())
def test_structured_token_is_decided_as_its_parts_say(drawn: Drawn) -> None:
    alg, source = drawn.alg, drawn.source
    check = verifier(alg)
    verdict = check.check(source, now=NOW)
    expected = drawn.expected
    names = [c.name for c in drawn.choices]
    if not expected:
        assert verdict.ok, (verdict.reason, verdict.message, names)
        checkout = check.verify(source, now=NOW)
        assert checkout.license_consumption_token == CONSUMPTION_TOKEN
        assert checkout.node_id == NODE_ID
        assert checkout.algorithm == alg
        return
    assert not verdict.ok, names
    assert verdict.reason in expected, (verdict.reason, verdict.message, names)
    with pytest.raises(tv.TokenRejected) as caught:
        check.verify(source, now=NOW)
    assert (caught.value.reason, caught.value.description) == (verdict.reason, verdict.message)


@functools.cache
def genuine(alg: str) -> str:
    response: dict[str, Any] = issuer(alg).checkout(issued_at=ISSUED_AT, node_id=NODE_ID)
    token: str = response["SignedToken"]
    return token


def _normalized(token: bytes) -> bytes:
    """Without surrounding whitespace and canonical '=' padding, the two allowed variations."""
    segments = []
    for segment in token.strip(b" \t\r\n").split(b"."):
        bare = segment.rstrip(b"=")
        canonical = len(segment) % 4 == 0 and len(segment) - len(bare) == -len(bare) % 4
        segments.append(bare if canonical else segment)
    return b".".join(segments)


edits = st.lists(
    st.tuples(
        st.sampled_from(("replace", "insert", "delete")),
        st.integers(0, 10_000),
        st.sampled_from(b"AZaz09-_=+/. \n\t\x00\xff{}\"'\\"),
    ),
    min_size=1,
    max_size=4,
)


@given(st.sampled_from(ALGORITHMS), edits)
def test_edited_genuine_token_verifies_only_if_it_is_still_the_genuine_one(
    alg: str, changes: list[tuple[str, int, int]]
) -> None:
    original = genuine(alg).encode("ascii")
    token = bytearray(original)
    for operation, offset, value in changes:
        position = offset % (len(token) + 1)
        if operation == "insert":
            token.insert(position, value)
        elif position < len(token):
            if operation == "replace":
                token[position] = value
            else:
                del token[position]
    edited = bytes(token)
    verdict = verifier(alg).check(edited, now=NOW)
    if verdict.ok:
        assert _normalized(edited) == original, edited
    else:
        # Refused before any claim is believed: an edit never survives the signature.
        assert verdict.reason in {
            R.malformed,
            R.bad_signature,
            R.unsupported_algorithm,
            R.unsupported_header,
            R.unknown_key,
        }, verdict


# --- the atheris harness, bounded -------------------------------------------------------

ATHERIS = importlib.util.find_spec("atheris") is not None


def test_fuzz_harness_runs_a_bounded_number_of_inputs(tmp_path: Path) -> None:
    """CI's short run: atheris (coverage-guided) when installed, else the fallback driver.

    The long run and the corpus are documented in fuzz/README.md. A crash, an escaped
    exception or a broken invariant makes the harness exit non-zero.
    """
    corpus = tmp_path / "corpus"
    made = subprocess.run(
        [sys.executable, str(HARNESS), "--make-corpus", str(corpus)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    seeds = list(corpus.iterdir())
    assert len(seeds) >= 10
    if ATHERIS:
        command = [
            sys.executable,
            str(HARNESS),
            f"-runs={HARNESS_RUNS}",
            "-seed=1",
            "-max_len=4096",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ]
        done = re.compile(r"Done (\d+) runs")
    else:
        command = [sys.executable, str(HARNESS), "--fallback", "--runs", str(HARNESS_RUNS)]
        done = re.compile(r"fallback: Done (\d+) runs")
    finished = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path)
    log = finished.stderr
    assert finished.returncode == 0, log[-3000:]
    match = done.search(log)
    assert match is not None, log[-2000:]
    assert int(match.group(1)) >= HARNESS_RUNS
    assert not list(tmp_path.glob("crash-*")), log[-2000:]
