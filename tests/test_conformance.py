"""Conformance: Wycheproof and RFC 7520 (JOSE Cookbook) vectors through tokenverify.

The vectors live in ``../shared/vectors`` (read through ``conftest.vectors_dir``, never
copied into the project); every test here skips cleanly where that folder is absent.

- ``json_web_signature_test.json``: each group's JWK goes through ``KeyRegistry.add`` and
  each token through ``verify_compact``, the public signature-only entry point. The
  "base64" group is also run segment by segment through the strict base64url decoder,
  because its HS256 tokens are refused for their algorithm before any payload is decoded.
- Raw-signature files (RSA-PSS, RSA PKCS#1 v1.5, ECDSA P1363, Ed25519): each group's key is
  loaded from every form the file provides (DER, PEM, JWK) and each (msg, sig) pair goes
  through ``RegisteredKey.check(alg)``, the exact function the verifier calls.
- ``rfc7520/``: the cookbook's signature examples through ``verify_compact``.

Where tokenverify deliberately disagrees with a vector's label, :data:`DEVIATIONS` says
so and why. It is the one list of deviations: the tests hold the implementation to it,
check that every entry still contradicts a real label, and check that
``docs/CONFORMANCE.md`` reports the same counts.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import tokenverify as tv
from conftest import vectors_dir
from tokenverify import _base64url
from tokenverify._keys import RegisteredKey

#: What tokenverify does with a vector. ``key_refused``: the key cannot be registered
#: (``InvalidKey``), so nothing signed with it can ever verify.
Outcome = Literal["accept", "reject", "key_refused"]


class Deviation(NamedTuple):
    """A deliberate disagreement with a vector's label (or our decision on "acceptable")."""

    outcome: Outcome
    why: str
    #: For a token refused by ``verify_compact``: the ``Reason`` it must carry.
    reason: tv.Reason | None = None


# Each reason once; docs/CONFORMANCE.md explains them at more length.
_HMAC = (
    "HS256 is never accepted (threats.md 2, RFC 8725 3.1): an oct JWK cannot be registered "
    "and HS* tokens are refused before any key lookup"
)
_HMAC_AND_BAD_CHARACTER = (
    "HS256 is never accepted; besides, '?' is outside the base64url alphabet and the header "
    "segment is refused before its alg is even read (RFC 4648 3.3)"
)
_EMPTY_PAYLOAD = (
    "an empty payload segment is refused as malformed: a compact token with an empty segment "
    "is unsigned, detached (RFC 7515 appendix F) or, as here, has an empty payload, which no "
    "checkout token can have"
)
_JWK_ALG_PS256 = (
    "the JWK says alg PS256 but the token (RFC 7520 figure 20) is PS384: a JWK's alg pins the "
    "key (RFC 7517 4.4); rfc7520:4.2 verifies the same token with the key pinned to PS384"
)
_JWK_ALG_ES521 = (
    "the JWK's alg is 'ES521', which is no JWS algorithm (RFC 7518 says ES512), so the key is "
    "refused at registration; rfc7520:4.3 verifies the same token with a correct key"
)
_SAME_BYTES_AS_357 = (
    "byte-identical to the valid tcId 357 (the padding its comment names was lost upstream): "
    "identical segments decode identically"
)
_QUESTION_MARK = (
    "'?' is outside the base64url alphabet; RFC 4648 3.3 says to reject such data and "
    "threats.md 7 forbids decoders that skip junk"
)
_SALT_ZERO = (
    "PS256 means salt length = hash length = 32 (RFC 7518 3.5); this file signs with salt 0, "
    "which a JWS verifier must refuse (threats.md 23)"
)
_SALT_32 = (
    "'s_len changed to 32' is a correct PS256 signature (salt = hash length); it is labelled "
    "invalid only because this file's parameters say salt 0"
)
_MISSING_NULL = (
    "acceptable, decided as reject: a DigestInfo without the NULL parameter is not the "
    "encoding RFC 8017 9.2 prescribes for RS256, and OpenSSL refuses it"
)
_EXPONENT_3 = (
    "RSA e = 3 is refused at registration (threats.md 22): only e = 65537 is accepted, "
    "as AWS KMS keys always have"
)

_MGF1_0 = "rsa_pss_2048_sha256_mgf1_0_test"
_JWS = "json_web_signature_test"
_JWS_BASE64 = "json_web_signature_test/base64url"

#: Every deliberate deviation from a vector's label, by vector id ("file:tcId").
DEVIATIONS: Mapping[str, Deviation] = {
    # json_web_signature_test.json through verify_compact
    **{
        f"{_JWS}:{tc}": Deviation("reject", _HMAC, tv.Reason.unsupported_algorithm)
        for tc in (1, 348, 352, 357, 358, 359, 373, 376, 377)
    },
    f"{_JWS}:372": Deviation("reject", _HMAC_AND_BAD_CHARACTER, tv.Reason.malformed),
    **{
        f"{_JWS}:{tc}": Deviation("reject", _EMPTY_PAYLOAD, tv.Reason.malformed)
        for tc in (259, 264, 268, 272, 320, 325)
    },
    f"{_JWS}:346": Deviation("reject", _JWK_ALG_PS256, tv.Reason.unsupported_algorithm),
    f"{_JWS}:350": Deviation("reject", _JWK_ALG_PS256, tv.Reason.unsupported_algorithm),
    f"{_JWS}:347": Deviation("key_refused", _JWK_ALG_ES521, tv.Reason.unknown_key),
    f"{_JWS}:351": Deviation("key_refused", _JWK_ALG_ES521, tv.Reason.unknown_key),
    # the "base64" group of json_web_signature_test.json, segment by segment
    f"{_JWS_BASE64}:367": Deviation("accept", _SAME_BYTES_AS_357),
    f"{_JWS_BASE64}:370": Deviation("accept", _SAME_BYTES_AS_357),
    f"{_JWS_BASE64}:372": Deviation("reject", _QUESTION_MARK),
    f"{_JWS_BASE64}:373": Deviation("reject", _QUESTION_MARK),
    # rsa_pss_2048_sha256_mgf1_0_test.json checked as PS256
    **{f"{_MGF1_0}:{tc}": Deviation("reject", _SALT_ZERO) for tc in range(1, 62)},
    f"{_MGF1_0}:69": Deviation("accept", _SALT_32),
    # rsa_signature_2048_sha256_test.json checked as RS256
    "rsa_signature_2048_sha256_test:8": Deviation("reject", _MISSING_NULL),
    "rsa_signature_2048_sha256_test:258": Deviation("key_refused", _EXPONENT_3),
    "rsa_signature_2048_sha256_test:259": Deviation("key_refused", _EXPONENT_3),
    # RFC 7520 section 4.4 (the cookbook has no labels: every example is valid)
    "rfc7520:4.4": Deviation("reject", _HMAC, tv.Reason.unsupported_algorithm),
}

#: Wycheproof raw-signature files and the JWS algorithm each is checked as.
RAW_FILES: Mapping[str, str] = {
    "rsa_pss_2048_sha256_mgf1_0_test.json": "PS256",
    "rsa_pss_2048_sha256_mgf1_32_test.json": "PS256",
    "rsa_pss_4096_sha256_mgf1_32_test.json": "PS256",
    "rsa_pss_4096_sha384_mgf1_48_test.json": "PS384",
    "rsa_pss_4096_sha512_mgf1_64_test.json": "PS512",
    "rsa_signature_2048_sha256_test.json": "RS256",
    "ecdsa_secp256r1_sha256_p1363_test.json": "ES256",
    "ecdsa_secp384r1_sha384_p1363_test.json": "ES384",
    "ecdsa_secp521r1_sha512_p1363_test.json": "ES512",
    "ed25519_test.json": "EdDSA",
}
JWS_FILE = "json_web_signature_test.json"
RFC7520_FILES: Mapping[str, str] = {
    "4.1": "4_1.rsa_v15_signature.json",
    "4.2": "4_2.rsa-pss_signature.json",
    "4.3": "4_3.ecdsa_signature.json",
    "4.4": "4_4.hmac-sha2_integrity_protection.json",
}
#: Suite names as docs/CONFORMANCE.md's summary table spells them.
SUITE_JWS_BASE64 = "json_web_signature_test.json, base64 group, segment decoding"
SUITE_RFC7520 = "rfc7520/ (RFC 7520 4.1-4.4)"
CONFORMANCE_DOC = Path(__file__).resolve().parents[1] / "docs" / "CONFORMANCE.md"

#: RFC 7518's asymmetric signature algorithms plus EdDSA (RFC 8037): all tokenverify verifies.
_ASYMMETRIC_JWS_ALGORITHMS = frozenset(
    ["PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"]
)
FINGERPRINT = "conformance:vectors:issuer-fingerprint"
_JWK_PRIVATE_MEMBERS = frozenset(["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
#: Wycheproof JWS comments naming a broken token structure: refused before any key is used.
_STRUCTURAL_DEFECTS = frozenset(
    [
        "rejectsMissingSignature",
        "rejectsMissingSignatureAndSeparator",
        "rejectsMissingPayload",
        "rejectsMissingPayloadAndSeparator",
        "rejectsMissingHeader",
        "rejectsMissingHeaderAndSeparator",
        "rejectsMissingHeaderAndSignature",
        "rejectsMissingHeaderSignatureAndSeparators",
        "rejectsMissingHeaderSignatureAndSeparator",  # both spellings occur
        "rejectsEmptyString",
        "rejectsExtraEmptyComponent",
        "rejectsExtraComponent",
        "rejectsNoneAlgorithmAndMissingSignature",
        "rejectsValidJsonSerialization",
        "algIsNone",  # alg none comes with an empty signature segment
        "spacesInHeader",
        "invalidCharactersInHeader",
    ]
)


# --- loading -------------------------------------------------------------------------


@functools.cache
def _load(*parts: str) -> Any:
    """A vector file's JSON; skips (through ``vectors_dir``) when the folder is absent."""
    return json.loads(vectors_dir(*parts).read_text(encoding="utf-8"))


def _missing(*parts: str) -> str | None:
    """Why the vector file cannot be read at collection time, or None if it can."""
    try:
        vectors_dir(*parts)
    except pytest.skip.Exception as skipped:
        return str(skipped.msg)
    return None


@dataclass(frozen=True)
class Vector:
    """One labelled test: its id (``file:tcId``), label and where its data is."""

    id: str
    label: str  # "valid", "invalid" or "acceptable"
    file: str
    group: int
    test: int  # index in the group's "tests"

    @property
    def data(self) -> Any:
        return _load("wycheproof", self.file)["testGroups"][self.group]["tests"][self.test]

    @property
    def group_data(self) -> Any:
        return _load("wycheproof", self.file)["testGroups"][self.group]


def _wycheproof_vectors(file: str, prefix: str, group_type: str | None = None) -> list[Vector]:
    if _missing("wycheproof", file):
        return []
    vectors = []
    for group_index, group in enumerate(_load("wycheproof", file)["testGroups"]):
        if group_type is not None and group.get("comment") != group_type:
            continue
        for test_index, test in enumerate(group["tests"]):
            vectors.append(
                Vector(f"{prefix}:{test['tcId']}", test["result"], file, group_index, test_index)
            )
    return vectors


def _params(vectors: list[Vector], *parts: str) -> list[Any]:
    missing = _missing(*parts)
    if missing:
        return [pytest.param(None, id="vectors-missing", marks=pytest.mark.skip(reason=missing))]
    return [pytest.param(vector, id=vector.id) for vector in vectors]


#: Suite name -> its vectors, for the per-vector tests, the deviation audit and the doc check.
SUITES: dict[str, list[Vector]] = {
    file: _wycheproof_vectors(file, file.removesuffix(".json")) for file in RAW_FILES
}
SUITES[JWS_FILE] = _wycheproof_vectors(JWS_FILE, _JWS)
SUITES[SUITE_JWS_BASE64] = _wycheproof_vectors(JWS_FILE, _JWS_BASE64, group_type="base64")
SUITES[SUITE_RFC7520] = [
    Vector(f"rfc7520:{section}", "valid", name, 0, 0)
    for section, name in RFC7520_FILES.items()
    if not _missing("rfc7520", name)
]


def expected_outcome(vector: Vector) -> Outcome:
    """The label, unless DEVIATIONS says otherwise; "acceptable" always needs a decision."""
    deviation = DEVIATIONS.get(vector.id)
    if deviation is not None:
        return deviation.outcome
    assert vector.label != "acceptable", f"{vector.id} is 'acceptable': decide it in DEVIATIONS"
    return "accept" if vector.label == "valid" else "reject"


def _b64(segment: str) -> bytes:
    """Lenient base64url (test side only): what the vector author meant to encode."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _public_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in jwk.items() if name not in _JWK_PRIVATE_MEMBERS}


# --- Wycheproof raw signatures through RegisteredKey.check ---------------------------


@functools.cache
def _raw_key(file: str, group: int) -> RegisteredKey:
    """The group's key registered from its DER form, pinned to the file's algorithm."""
    der = bytes.fromhex(_load("wycheproof", file)["testGroups"][group]["publicKeyDer"])
    (key,) = tv.KeyRegistry().add(FINGERPRINT, der, algorithms=[RAW_FILES[file]])
    return key


def _raw_outcome(vector: Vector) -> Outcome:
    try:
        key = _raw_key(vector.file, vector.group)
    except tv.InvalidKey:
        return "key_refused"
    check = key.check(RAW_FILES[vector.file])
    assert check is not None
    verdict = check(bytes.fromhex(vector.data["sig"]), bytes.fromhex(vector.data["msg"]))
    assert isinstance(verdict, bool)
    return "accept" if verdict else "reject"


@pytest.mark.parametrize(
    "vector",
    [param for file in RAW_FILES for param in _params(SUITES[file], "wycheproof", file)],
)
def test_wycheproof_signature(vector: Vector) -> None:
    """Each raw (msg, sig) vector: accepted exactly when its label (or deviation) says so."""
    expected = expected_outcome(vector)
    if expected == "key_refused":
        with pytest.raises(tv.InvalidKey):
            _raw_key(vector.file, vector.group)
    assert _raw_outcome(vector) == expected, vector.data["comment"]


class _KeyGroup(NamedTuple):
    file: str
    group: int


def _key_group_params() -> list[Any]:
    params: list[Any] = []
    for file in RAW_FILES:
        missing = _missing("wycheproof", file)
        if missing:
            params.append(
                pytest.param(None, id=f"{file}:missing", marks=pytest.mark.skip(reason=missing))
            )
            continue
        groups = _load("wycheproof", file)["testGroups"]
        params += [
            pytest.param(_KeyGroup(file, index), id=f"{file.removesuffix('.json')}:group{index}")
            for index in range(len(groups))
        ]
    return params


def _key_forms(group: Mapping[str, Any]) -> dict[str, Any]:
    """Every encoding of the group's public key that the file provides."""
    forms: dict[str, Any] = {
        "DER": bytes.fromhex(group["publicKeyDer"]),
        "PEM": group["publicKeyPem"],
    }
    jwk = group.get("publicKeyJwk", group.get("keyJwk"))
    if jwk is not None:
        forms["JWK"] = jwk
    return forms


def _published_numbers(group: Mapping[str, Any]) -> dict[str, int]:
    """The key as Wycheproof spells it out in hex, independent of any encoding."""
    published = group["publicKey"]
    if "modulus" in published:
        return {"n": int(published["modulus"], 16), "e": int(published["publicExponent"], 16)}
    if "wx" in published:
        return {"x": int(published["wx"], 16), "y": int(published["wy"], 16)}
    return {"pk": int(published["pk"], 16)}


def _loaded_numbers(key: RegisteredKey) -> dict[str, int]:
    public_key = key.public_key
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"n": numbers.n, "e": numbers.e}
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        point = public_key.public_numbers()
        return {"x": point.x, "y": point.y}
    assert isinstance(public_key, ed25519.Ed25519PublicKey)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"pk": int.from_bytes(raw, "big")}


#: An algorithm of the wrong key type or curve for each file's key (threats.md 3).
_WRONG_ALGORITHM = {"PS": "ES256", "RS": "EdDSA", "ES": "EdDSA", "Ed": "RS256"}
_OTHER_CURVE = {"ES256": "ES384", "ES384": "ES512", "ES512": "ES256"}


@pytest.mark.parametrize("key_group", _key_group_params())
def test_wycheproof_key_loading(key_group: _KeyGroup) -> None:
    """Every form of a group's key loads to the same key, the numbers Wycheproof publishes."""
    group = _load("wycheproof", key_group.file)["testGroups"][key_group.group]
    alg = RAW_FILES[key_group.file]
    forms = _key_forms(group)
    published = _published_numbers(group)
    if published.get("e", 65537) != 65537:
        for source in forms.values():
            with pytest.raises(tv.InvalidKey, match="exponent"):
                tv.KeyRegistry().add(FINGERPRINT, source, algorithms=[alg])
        return
    thumbprints = set()
    for form, source in forms.items():
        (key,) = tv.KeyRegistry().add(FINGERPRINT, source, algorithms=[alg])
        assert key.algorithms == {alg}, form
        assert _loaded_numbers(key) == published, form
        thumbprints.add(key.thumbprint)
    assert len(thumbprints) == 1
    if "JWK" in forms:
        # The JWK names its algorithm (RSA) or the key admits one (EC curve, Ed25519).
        (key,) = tv.KeyRegistry().add(FINGERPRINT, forms["JWK"])
        assert key.algorithms == {alg}
    # The algorithm is bound to the key type and curve: anything else is refused.
    refused = ["HS256", _WRONG_ALGORITHM[alg[:2]]]
    if alg in _OTHER_CURVE:
        refused.append(_OTHER_CURVE[alg])
    for wrong in refused:
        with pytest.raises(tv.InvalidKey):
            tv.KeyRegistry().add(FINGERPRINT, forms["DER"], algorithms=[wrong])


# --- Wycheproof JWS through KeyRegistry.add and verify_compact -----------------------


def _jws_fingerprint(group: int) -> str:
    return f"wycheproof:jws-group-{group}:issuer-fingerprint"


def _jwk_refused_by_its_own_terms(jwk: Mapping[str, Any]) -> bool:
    """HMAC keys, and keys whose use / key_ops exclude verifying (RFC 7517 4.2, 4.3)."""
    ops = jwk.get("key_ops")
    return (
        jwk.get("kty") == "oct"
        or jwk.get("use", "sig") != "sig"
        or (ops is not None and "verify" not in ops)
    )


@functools.cache
def _jws_registry(group: int) -> tuple[tv.KeyRegistry, str | None]:
    """The group's registry and, if its JWK was refused, why. HMAC groups have no public
    JWK: their (secret) oct key is offered instead, as a careless caller would."""
    data = _load("wycheproof", JWS_FILE)["testGroups"][group]
    registry = tv.KeyRegistry()
    try:
        registry.add(_jws_fingerprint(group), data.get("public", data["private"]))
    except tv.InvalidKey as refused:
        return registry, str(refused)
    return registry, None


def _header(token: str) -> dict[str, Any]:
    """The token's header as its author meant it (lenient), or {} if it has none."""
    try:
        header = json.loads(_b64(token.split(".", maxsplit=1)[0]))
    except (ValueError, binascii.Error):
        return {}
    return header if isinstance(header, dict) else {}


def _expected_jws_reason(vector: Vector, key_refused: bool) -> tv.Reason:
    """Why a token must be refused, in the order any strict verifier finds out."""
    deviation = DEVIATIONS.get(vector.id)
    if deviation is not None and deviation.reason is not None:
        return deviation.reason
    if vector.data["comment"] in _STRUCTURAL_DEFECTS:
        return tv.Reason.malformed
    alg = _header(vector.data["jws"]).get("alg")
    if alg not in _ASYMMETRIC_JWS_ALGORITHMS:
        return tv.Reason.unsupported_algorithm  # HS256 and none, whatever the key
    if key_refused:
        return tv.Reason.unknown_key
    # rejectsModifiedHeader (the kid altered): a kid is a hint, so the group's own key is
    # tried anyway, and the signature over the original header fails: bad_signature.
    if alg != vector.group_data["public"]["alg"]:
        return tv.Reason.unsupported_algorithm  # e.g. RS256 against a PS512-only key
    return tv.Reason.bad_signature


@pytest.mark.parametrize("vector", _params(SUITES[JWS_FILE], "wycheproof", JWS_FILE))
def test_wycheproof_jws(vector: Vector) -> None:
    """Each JWS vector: key registration, then verify_compact, as labelled or deviated."""
    expected = expected_outcome(vector)
    group = vector.group_data
    registry, refusal = _jws_registry(vector.group)
    key_refused = expected == "key_refused" or _jwk_refused_by_its_own_terms(
        group.get("public", group["private"])
    )
    assert (refusal is not None) == key_refused, refusal
    token = vector.data["jws"]
    fingerprint = _jws_fingerprint(vector.group)
    if expected == "accept":
        header, payload = tv.verify_compact(token, registry, fingerprint)
        header_segment, payload_segment, _ = token.split(".")
        assert header == json.loads(_b64(header_segment))
        assert payload == _b64(payload_segment)
    else:
        with pytest.raises(tv.TokenRejected) as rejected:
            tv.verify_compact(token, registry, fingerprint)
        assert rejected.value.reason == _expected_jws_reason(vector, key_refused), rejected.value


def _jws_group_params() -> list[Any]:
    missing = _missing("wycheproof", JWS_FILE)
    if missing:
        return [pytest.param(None, id="vectors-missing", marks=pytest.mark.skip(reason=missing))]
    groups = _load("wycheproof", JWS_FILE)["testGroups"]
    return [pytest.param(index, id=f"{_JWS}:group{index}") for index in range(len(groups))]


@pytest.mark.parametrize("group", _jws_group_params())
def test_wycheproof_jws_private_jwk_refused(group: int) -> None:
    """Each group's private JWK (and oct secret) is refused: only public keys are trusted."""
    private = _load("wycheproof", JWS_FILE)["testGroups"][group]["private"]
    with pytest.raises(tv.InvalidKey, match=r"private members|never accepted"):
        tv.KeyRegistry().add(FINGERPRINT, private)


@pytest.mark.parametrize("vector", _params(SUITES[SUITE_JWS_BASE64], "wycheproof", JWS_FILE))
def test_wycheproof_jws_base64url_segments(vector: Vector) -> None:
    """The base64 group's encodings, judged by the strict decoder every segment goes through.

    verify_compact refuses these HS256 tokens for their algorithm before reading the
    payload, so the group's real subject (canonical base64url) is checked here directly.
    """
    segments = vector.data["jws"].encode("ascii").split(b".")
    assert len(segments) == 3
    try:
        for segment in segments:
            _base64url.decode(segment)
    except ValueError:
        outcome: Outcome = "reject"
    else:
        outcome = "accept"
    assert outcome == expected_outcome(vector), vector.data["comment"]


def test_wycheproof_jws_quirks_are_still_there() -> None:
    """The data behind the base64 deviations: if Wycheproof fixes it, revisit DEVIATIONS."""
    tokens = {
        test["tcId"]: test["jws"]
        for group in _load("wycheproof", JWS_FILE)["testGroups"]
        for test in group["tests"]
    }
    assert tokens[367] == tokens[357]
    assert tokens[370] == tokens[357]
    assert "?" in tokens[372].split(".")[0]
    assert "?" in tokens[373].split(".")[1]


# --- RFC 7520 (JOSE Cookbook) section 4 ----------------------------------------------


@pytest.mark.parametrize("vector", _params(SUITES[SUITE_RFC7520], "rfc7520"))
def test_rfc7520_signature_example(vector: Vector) -> None:
    """4.1 RS256, 4.2 PS384, 4.3 ES512 verify to the exact payload; 4.4 HS256 never does."""
    example = _load("rfc7520", vector.file)
    key, alg = example["input"]["key"], example["input"]["alg"]
    token = example["output"]["compact"]
    registry = tv.KeyRegistry()
    # The cookbook's key is a private JWK: registering it as such is refused.
    with pytest.raises(tv.InvalidKey):
        registry.add(FINGERPRINT, key, algorithms=[alg])
    if expected_outcome(vector) == "accept":
        registry.add(FINGERPRINT, _public_jwk(key), algorithms=[alg])
        header, payload = tv.verify_compact(token, registry, FINGERPRINT)
        assert payload == example["input"]["payload"].encode("utf-8")
        assert header == example["signing"]["protected"]
        # The header's kid finds the key on its own too.
        assert tv.verify_compact(token, registry) == (header, payload)
    else:
        # Even with a trusted RSA key under the same fingerprint and kid, HS256 is refused.
        rsa_jwk = _public_jwk(_load("rfc7520", RFC7520_FILES["4.1"])["input"]["key"])
        registry.add(FINGERPRINT, {**rsa_jwk, "kid": key["kid"]}, algorithms=["RS256"])
        with pytest.raises(tv.TokenRejected) as rejected:
            tv.verify_compact(token, registry, FINGERPRINT)
        assert rejected.value.reason == DEVIATIONS[vector.id].reason
    # The JSON serializations of the same signature are refused: compact only.
    for serialization_name in ("json", "json_flat"):
        with pytest.raises(tv.TokenRejected) as rejected:
            tv.verify_compact(
                json.dumps(example["output"][serialization_name]), registry, FINGERPRINT
            )
        assert rejected.value.reason == tv.Reason.malformed


def test_rfc7520_hmac_key_refused_in_every_spelling() -> None:
    """The cookbook's oct key cannot be registered, whatever algorithm it is offered for."""
    key = _load("rfc7520", RFC7520_FILES["4.4"])["input"]["key"]
    for algorithms in (None, ["HS256"], ["RS256"]):
        with pytest.raises(tv.InvalidKey):
            tv.KeyRegistry().add(FINGERPRINT, key, algorithms=algorithms)


# --- the deviation list itself --------------------------------------------------------


def _all_vectors() -> dict[str, Vector]:
    vectors_dir()  # skip when the vectors are absent
    return {vector.id: vector for suite in SUITES.values() for vector in suite}


def test_every_deviation_names_a_vector_and_contradicts_its_label() -> None:
    """No stale entries: each deviation exists and disagrees with its label."""
    vectors = _all_vectors()
    for vector_id, deviation in DEVIATIONS.items():
        assert vector_id in vectors, f"DEVIATIONS names {vector_id}, which no vector file has"
        label = vectors[vector_id].label
        if label == "valid":
            assert deviation.outcome in ("reject", "key_refused"), vector_id
        elif label == "invalid":
            assert deviation.outcome == "accept", vector_id
        assert deviation.why, vector_id


def test_every_acceptable_vector_is_decided() -> None:
    acceptable = [v.id for v in _all_vectors().values() if v.label == "acceptable"]
    assert acceptable  # the data has some; an empty list means the loader lost them
    assert [v for v in acceptable if v not in DEVIATIONS] == []


def _summary_rows() -> list[str]:
    rows = []
    for suite, vectors in SUITES.items():
        deviations = sum(vector.id in DEVIATIONS for vector in vectors)
        name = f"`{suite}`"
        rows.append(f"| {name} | {len(vectors)} | {len(vectors) - deviations} | {deviations} |")
    return rows


def test_conformance_doc_reports_the_same_counts() -> None:
    """docs/CONFORMANCE.md's summary rows are exactly what the vectors and DEVIATIONS give."""
    _all_vectors()
    doc = CONFORMANCE_DOC.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `[^`]+` \| \d+ \| \d+ \| \d+ \|$", doc, flags=re.MULTILINE))
    assert rows == set(_summary_rows())
