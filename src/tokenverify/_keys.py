"""Public keys from the forms people hand us, checked once and pinned to algorithms.

Accepted: PEM (SPKI, PKCS#1, X.509 certificate), DER, JWK, JWKS, ``cryptography`` key
objects, and the JSON printed by ``aws kms get-public-key`` (or boto3's response).
Private key material is refused everywhere: a product must ship only public keys.
Bytes and files are decoded by BOM first (a KMS JSON saved by PowerShell is UTF-16), and
anything that is not a key (a checkout, a keys file, an HTML page) is named as what it is.

A source that names both RSASSA-PSS and PKCS#1 v1.5 (a KMS RSA key always lists both)
pins only the PSS members: License Manager signs with RSASSA-PSS, so RS256/384/512 are
pinned only when the caller asks for them.
"""

from __future__ import annotations

import binascii
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from . import _base64url
from ._algorithms import (
    ALGORITHMS,
    NEVER_ACCEPTED,
    PublicKey,
    SignatureCheck,
    algorithms_for_key,
    check_key_strength,
    describe_key,
    signature_check,
)
from ._errors import InvalidKey
from ._json import loads_object
from ._text import encoded_limit, to_utf8
from ._times import parse_iso8601

__all__ = [
    "KeySource",
    "RegisteredKey",
    "explain_pins",
    "key_type",
    "load_key_source",
    "pin_algorithms",
    "thumbprint",
]

KeySource = PublicKey | str | bytes | Mapping[str, Any] | os.PathLike[str]

#: AWS KMS SigningAlgorithms -> JWS "alg". Others (SM2DSA, ED25519_PHA_SHA_512,
#: secp256k1) have no JWS equivalent we support and are ignored.
KMS_ALGORITHMS = MappingProxyType(
    {
        "RSASSA_PSS_SHA_256": "PS256",
        "RSASSA_PSS_SHA_384": "PS384",
        "RSASSA_PSS_SHA_512": "PS512",
        "RSASSA_PKCS1_V1_5_SHA_256": "RS256",
        "RSASSA_PKCS1_V1_5_SHA_384": "RS384",
        "RSASSA_PKCS1_V1_5_SHA_512": "RS512",
        "ECDSA_SHA_256": "ES256",
        "ECDSA_SHA_384": "ES384",
        "ECDSA_SHA_512": "ES512",
        "ED25519_SHA_512": "EdDSA",
    }
)
_JWK_CURVES: Mapping[str, tuple[type[ec.EllipticCurve], int]] = MappingProxyType(
    {"P-256": (ec.SECP256R1, 32), "P-384": (ec.SECP384R1, 48), "P-521": (ec.SECP521R1, 66)}
)
_CURVE_NAMES = MappingProxyType({"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"})
_JWK_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_MAX_KEY_FILE = 1 << 20
_PSS = frozenset(["PS256", "PS384", "PS512"])
_PKCS1 = frozenset(["RS256", "RS384", "RS512"])
_SUPPORTED_KEYS = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)


class RegisteredKey:
    """One trusted public key: its issuer fingerprint, pinned algorithms and validity."""

    __slots__ = (
        "_checks",
        "algorithms",
        "fingerprint",
        "key_id",
        "label",
        "not_after",
        "not_before",
        "public_key",
        "thumbprint",
    )

    fingerprint: str
    public_key: PublicKey
    algorithms: frozenset[str]
    not_before: datetime | None
    not_after: datetime | None
    label: str | None
    key_id: str | None
    thumbprint: str
    _checks: Mapping[str, SignatureCheck]

    def __init__(
        self,
        fingerprint: str,
        public_key: PublicKey,
        algorithms: Iterable[str],
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        label: str | None = None,
        key_id: str | None = None,
    ) -> None:
        if not isinstance(public_key, _SUPPORTED_KEYS):
            raise InvalidKey(f"cannot register a {type(public_key).__name__} as a public key")
        for name, text in (("label", label), ("key_id", key_id)):
            if text is not None and not isinstance(text, str):
                raise InvalidKey(f"{name} must be a string, not a {type(text).__name__}")
        check_key_strength(public_key)
        pinned = _algorithm_names(algorithms)
        checks = {alg: signature_check(alg, public_key) for alg in sorted(pinned)}
        if not checks:
            raise InvalidKey("a key must be pinned to at least one algorithm")
        if not_before and not_after and not_before > not_after:
            raise InvalidKey("not_before is after not_after: the key would never be valid")
        values = {
            "fingerprint": fingerprint,
            "public_key": public_key,
            "algorithms": pinned,
            "not_before": not_before,
            "not_after": not_after,
            "label": label,
            "key_id": key_id,
            "thumbprint": thumbprint(public_key),
            "_checks": MappingProxyType(checks),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("RegisteredKey is immutable")

    def check(self, algorithm: str) -> SignatureCheck | None:
        """The signature check for ``algorithm``, or None if this key is not pinned to it."""
        return self._checks.get(algorithm)

    def valid_at(self, instant: datetime) -> bool:
        """Whether ``instant`` lies inside the key's validity window (inclusive)."""
        return (self.not_before is None or self.not_before <= instant) and (
            self.not_after is None or instant <= self.not_after
        )

    def public_pem(self) -> str:
        """The key as an SPKI PEM block."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    @property
    def description(self) -> str:
        """``RSA-4096 key``, ``EC secp384r1 key`` or ``Ed25519 key``."""
        return describe_key(self.public_key)

    def __repr__(self) -> str:
        algs = ",".join(sorted(self.algorithms))
        return f"<RegisteredKey {self.fingerprint!r} {self.description} [{algs}] {self.thumbprint}>"


def load_key_source(source: KeySource) -> list[tuple[PublicKey, frozenset[str] | None, str | None]]:
    """Parse ``source`` into (public key, algorithms the source names, key id) triples.

    Whatever ``source`` is, the only exception is :class:`InvalidKey`.
    """
    if isinstance(source, _SUPPORTED_KEYS):
        return [(source, None, None)]
    if isinstance(source, os.PathLike):
        try:
            with open(source, "rb") as handle:
                # Any encoding's worth: the limit is judged on the decoded text.
                data = handle.read(encoded_limit(_MAX_KEY_FILE) + 1)
        except (OSError, TypeError, ValueError) as exc:
            raise InvalidKey(f"cannot read key file {_path_name(source)}: {_why(exc)}") from None
        if len(data) > encoded_limit(_MAX_KEY_FILE):
            raise InvalidKey(f"key file {_path_name(source)} is over 1 MiB")
        decoded = _decoded(data)
        if len(decoded) > _MAX_KEY_FILE:
            raise InvalidKey(f"key file {_path_name(source)} is over 1 MiB")
        return _from_bytes(decoded)
    if isinstance(source, Mapping):
        if "SignedToken" in source:
            raise InvalidKey(_CHECKOUT_GIVEN)
        return _from_json_object(source)
    if isinstance(source, str):
        source = source.removeprefix("\ufeff").encode("utf-8", "surrogatepass")
    if isinstance(source, bytes | bytearray | memoryview):
        return _from_bytes(_decoded(bytes(source)))
    if hasattr(source, "private_bytes"):
        raise InvalidKey("a private key was given: register only its public_key()")
    raise InvalidKey(
        f"cannot read a public key from a {type(source).__name__}: pass PEM or DER bytes, a "
        "JWK or JWKS, the JSON of 'aws kms get-public-key', a path, or a public key object"
    )


def explain_pins(algorithms: frozenset[str], requested: bool, named: frozenset[str] | None) -> str:
    """Why a key was pinned to ``algorithms``, for people (``keys add`` prints it).

    ``named``: what the source named (KMS SigningAlgorithms, a JWK alg), or None.
    """
    if requested:
        return "as asked"
    if named is None:
        return "the only algorithm this key type can verify"
    left_out = sorted(named - algorithms)
    if left_out and algorithms <= _PSS:
        first = left_out[0]
        return (
            f"KMS SigningAlgorithms; PKCS#1 v1.5 left out ({', '.join(left_out)}): License "
            f"Manager signs with RSASSA-PSS; pass --algorithms {first} (algorithms=[...]) "
            "to allow it"
        )
    return "named by the key source"


_CHECKOUT_GIVEN = (
    "this is a checkout (it holds a SignedToken), not a public key: register the issuer's "
    "public key (e.g. the JSON of 'aws kms get-public-key')"
)


def _decoded(data: bytes) -> bytes:
    try:
        return to_utf8(data)
    except ValueError as exc:
        raise InvalidKey(str(exc)) from None


def _path_name(path: os.PathLike[str]) -> str:
    try:
        return repr(os.fspath(path))
    except TypeError:
        return f"(a {type(path).__name__})"


def _why(exc: Exception) -> str:
    return str(exc.strerror) if isinstance(exc, OSError) and exc.strerror else str(exc)


def _algorithm_names(algorithms: object) -> frozenset[str]:
    if isinstance(algorithms, str):
        algorithms = [algorithms]
    if isinstance(algorithms, Mapping) or not isinstance(algorithms, Iterable):
        raise InvalidKey(
            f"algorithms must be a list of names such as ['PS384'], not a "
            f"{type(algorithms).__name__}"
        )
    names = list(algorithms)
    for name in names:
        if not isinstance(name, str):
            raise InvalidKey(f"algorithm names are strings, not a {type(name).__name__}")
    return frozenset(names)


def pin_algorithms(
    key: PublicKey, requested: Iterable[str] | None, named: frozenset[str] | None
) -> frozenset[str]:
    """Decide a key's algorithms from what the caller asked for and what the source names."""
    if requested is not None:
        wanted = _algorithm_names(requested)
        if not wanted:
            raise InvalidKey("algorithms is empty: pin the key to at least one algorithm")
        for alg in sorted(wanted):
            if alg in NEVER_ACCEPTED:
                raise InvalidKey(f"{alg} is never accepted: it would let anyone forge tokens")
            if alg not in ALGORITHMS:
                raise InvalidKey(
                    f"unknown algorithm {alg!r}; use one of {', '.join(sorted(ALGORITHMS))}"
                )
        if named is not None and not wanted <= named:
            extra = ", ".join(sorted(wanted - named))
            raise InvalidKey(
                f"the key source does not allow {extra}; it names {', '.join(sorted(named))}"
            )
        return wanted
    if named is not None:
        if named & _PSS:
            # KMS lists PKCS#1 v1.5 beside PSS for every RSA key; License Manager signs with
            # PSS, so the weaker-proved padding is pinned only when asked for.
            return named - _PKCS1
        return named
    inferred = algorithms_for_key(key)
    if len(inferred) == 1:  # an EC curve or Ed25519 admits exactly one algorithm
        return inferred
    raise InvalidKey(
        f"a {describe_key(key)} can verify several algorithms: pass algorithms=[...] "
        "(AWS License Manager signs with PS384 or PS256)"
    )


def thumbprint(key: PublicKey) -> str:
    """The RFC 7638 JWK SHA-256 thumbprint, base64url."""
    members: dict[str, str]
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        members = {"e": _uint(numbers.e), "kty": "RSA", "n": _uint(numbers.n)}
    elif isinstance(key, ec.EllipticCurvePublicKey):
        ec_numbers = key.public_numbers()
        size = (key.curve.key_size + 7) // 8
        members = {
            "crv": _CURVE_NAMES.get(key.curve.name, key.curve.name),
            "kty": "EC",
            "x": _base64url.encode(ec_numbers.x.to_bytes(size, "big")),
            "y": _base64url.encode(ec_numbers.y.to_bytes(size, "big")),
        }
    else:
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"crv": "Ed25519", "kty": "OKP", "x": _base64url.encode(raw)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("ascii")
    # cryptography's SHA-256, not hashlib: hashlib loads a second libcrypto at launch (3 ms).
    digest = hashes.Hash(hashes.SHA256())
    digest.update(canonical)
    return _base64url.encode(digest.finalize())


def key_type(key: RegisteredKey) -> str:
    """``RSA-4096``, ``EC P-384`` or ``Ed25519``: how the CLI and its ``--json`` name a key."""
    public = key.public_key
    if isinstance(public, rsa.RSAPublicKey):
        return f"RSA-{public.key_size}"
    if isinstance(public, ec.EllipticCurvePublicKey):
        return f"EC {_CURVE_NAMES.get(public.curve.name, public.curve.name)}"
    return "Ed25519"


def _uint(value: int) -> str:
    return _base64url.encode(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def _from_bytes(data: bytes) -> list[tuple[PublicKey, frozenset[str] | None, str | None]]:
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        return [(_from_pem(text), None, None)]
    if text.startswith(b"{"):
        if b'"SignedToken"' in text:
            raise InvalidKey(_CHECKOUT_GIVEN)
        try:
            document = loads_object(text)  # strict, and bounded in depth
        except ValueError as exc:
            raise InvalidKey(
                f"key JSON does not parse as a JWK, JWKS or KMS object: {str(exc)[:120]}"
            ) from None
        return _from_json_object(document, text)
    return [(_from_der(data), None, None)]


def _from_pem(text: bytes) -> PublicKey:
    if b"PRIVATE KEY" in text.split(b"\n", 1)[0]:
        raise InvalidKey("a private key PEM was given: register only the public key")
    if text.count(b"-----BEGIN") != 1:
        raise InvalidKey("the PEM text holds several blocks: give one key at a time")
    if text.startswith(b"-----BEGIN CERTIFICATE-----"):
        from cryptography import x509  # only certificates need it; keep it off the launch path

        try:
            key: Any = x509.load_pem_x509_certificate(text).public_key()
        except UnsupportedAlgorithm as exc:
            raise InvalidKey(_unsupported(exc)) from None
        except (ValueError, TypeError) as exc:
            raise InvalidKey(f"certificate PEM does not parse: {exc}") from None
    else:
        try:
            key = serialization.load_pem_public_key(text)
        except UnsupportedAlgorithm as exc:
            raise InvalidKey(_unsupported(exc)) from None
        except (ValueError, TypeError) as exc:
            raise InvalidKey(f"public key PEM does not parse: {exc}") from None
    return _supported(key)


def _from_der(data: bytes) -> PublicKey:
    try:
        key = serialization.load_der_public_key(data)
    except UnsupportedAlgorithm as exc:
        raise InvalidKey(_unsupported(exc)) from None
    except (ValueError, TypeError):
        raise InvalidKey(_not_a_key(data)) from None
    return _supported(key)


def _unsupported(exc: UnsupportedAlgorithm) -> str:
    # OpenSSL names the curve by OID (sect571r1 is 1.3.132.0.39, SM2 1.2.156.10197.1.301).
    return f"{exc}: use RSA, EC P-256/384/521 or Ed25519"


def _not_a_key(data: bytes) -> str:
    expected = (
        "expected PEM, DER (SubjectPublicKeyInfo), a JWK or JWKS, or the JSON of "
        "'aws kms get-public-key'"
    )
    text = data.strip()
    if _TOKEN_SHAPE.fullmatch(text):
        return f"this is a checkout token, not a public key: {expected}"
    if b"\t" in text[:4096] and b"SIGN_VERIFY" in text:
        return (
            "this is the text output of 'aws kms get-public-key' (--output text); save it "
            "with --output json"
        )
    from ._sniff import looks_like  # error paths only: off the launch path

    kind = looks_like(text)
    if kind is not None:
        return f"not a public key: it looks like {kind}; {expected}"
    return f"not a public key: {expected}"


_TOKEN_SHAPE = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _supported(key: object) -> PublicKey:
    if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        return key
    raise InvalidKey(f"{type(key).__name__} is not supported: use RSA, EC P-256/384/521 or Ed25519")


def _from_json_object(
    document: Mapping[str, Any], text: bytes | None = None
) -> list[tuple[PublicKey, frozenset[str] | None, str | None]]:
    if "PublicKey" in document:
        return [_from_kms(document)]
    if document.get("format") == "tokenverify-keys":
        raise InvalidKey(
            "this is a tokenverify keys file, not a public key: load it with "
            "KeyRegistry.load (--keys FILE)"
        )
    if "keys" in document:
        keys = document["keys"]
        if not isinstance(keys, list) or not keys:
            raise InvalidKey("JWKS 'keys' must be a non-empty list")
        loaded = []
        for index, jwk in enumerate(keys):
            if not isinstance(jwk, Mapping):
                raise InvalidKey(f"JWKS key {index} is not an object")
            try:
                loaded.append(_from_jwk(jwk))
            except InvalidKey as exc:
                raise InvalidKey(f"JWKS key {index}: {exc}") from None
        return loaded
    if "kty" in document:
        return [_from_jwk(document)]
    from ._sniff import looks_like  # error paths only: off the launch path

    kind = looks_like(text) if text is not None else None
    if kind is not None:
        raise InvalidKey(f"not a public key: this JSON looks like {kind}")
    raise InvalidKey("JSON key source is neither a JWK, a JWKS nor 'aws kms get-public-key' output")


def _from_kms(document: Mapping[str, Any]) -> tuple[PublicKey, frozenset[str] | None, str | None]:
    usage = document.get("KeyUsage", "SIGN_VERIFY")
    if usage != "SIGN_VERIFY":
        raise InvalidKey(f"KMS key usage is {usage!r}; a signing key has SIGN_VERIFY")
    encoded = document["PublicKey"]
    if isinstance(encoded, str):
        try:
            der = binascii.a2b_base64(encoded.encode("ascii"), strict_mode=True)
        except (UnicodeEncodeError, binascii.Error):
            raise InvalidKey("KMS 'PublicKey' is not base64 DER") from None
    elif isinstance(encoded, bytes | bytearray):
        der = bytes(encoded)  # boto3 returns the DER bytes themselves
    else:
        raise InvalidKey("KMS 'PublicKey' must be base64 text or bytes")
    key = _from_der(der)
    names = document.get("SigningAlgorithms")
    named: frozenset[str] | None = None
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise InvalidKey("KMS 'SigningAlgorithms' must be a list of names")
        named = frozenset(KMS_ALGORITHMS[name] for name in names if name in KMS_ALGORITHMS)
        named &= algorithms_for_key(key)
        if not named:
            raise InvalidKey(f"none of the KMS SigningAlgorithms {names} has a JWS equivalent")
    key_id = document.get("KeyId")
    return key, named, key_id if isinstance(key_id, str) and key_id else None


def _from_jwk(jwk: Mapping[str, Any]) -> tuple[PublicKey, frozenset[str] | None, str | None]:
    kty = jwk.get("kty")
    if kty == "oct":
        raise InvalidKey("symmetric (oct) JWKs are never accepted: HMAC tokens are forgeable")
    private = [name for name in _JWK_PRIVATE_MEMBERS if name in jwk]
    if private:
        raise InvalidKey(f"the JWK holds private members {private}: register the public key only")
    if jwk.get("use", "sig") != "sig":
        raise InvalidKey(f"the JWK's 'use' is {jwk.get('use')!r}, not 'sig'")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise InvalidKey("the JWK's 'key_ops' does not include 'verify'")
    try:
        key = _jwk_public_key(kty, jwk)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InvalidKey):
            raise
        raise InvalidKey(f"{kty} JWK is incomplete or invalid: {exc}") from None
    alg = jwk.get("alg")
    named = None
    if alg is not None:
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            raise InvalidKey(f"the JWK's 'alg' {alg!r} is not a supported signature algorithm")
        named = frozenset([alg])
    kid = jwk.get("kid")
    return key, named, kid if isinstance(kid, str) and kid else None


def _jwk_public_key(kty: object, jwk: Mapping[str, Any]) -> PublicKey:
    if kty == "RSA":
        n = int.from_bytes(_jwk_bytes(jwk, "n"), "big")
        e = int.from_bytes(_jwk_bytes(jwk, "e"), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if kty == "EC":
        crv = jwk["crv"]
        if crv not in _JWK_CURVES:
            raise InvalidKey(f"EC curve {crv!r} is not supported: use P-256, P-384 or P-521")
        curve, size = _JWK_CURVES[crv]
        x, y = _jwk_bytes(jwk, "x"), _jwk_bytes(jwk, "y")
        if len(x) != size or len(y) != size:
            raise InvalidKey(f"{crv} coordinates must be {size} bytes each")
        # public_key() refuses points that are not on the curve.
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve()
        )
        return numbers.public_key()
    if kty == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise InvalidKey(f"OKP curve {jwk.get('crv')!r} is not supported: only Ed25519")
        return ed25519.Ed25519PublicKey.from_public_bytes(_jwk_bytes(jwk, "x"))
    raise InvalidKey(f"JWK 'kty' {kty!r} is not supported: use RSA, EC or OKP")


def _jwk_bytes(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk[name]
    if not isinstance(value, str):
        raise InvalidKey(f"JWK member {name!r} must be a base64url string")
    try:
        return _base64url.decode(value.encode("ascii"))
    except (UnicodeEncodeError, ValueError) as exc:
        raise InvalidKey(f"JWK member {name!r} {exc}") from None


def parse_validity(value: datetime | str | None, name: str) -> datetime | None:
    """A validity bound given as an aware datetime or an ISO 8601 string."""
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            raise InvalidKey(f"{name} must be timezone-aware")
        return value
    if not isinstance(value, str):
        raise InvalidKey(
            f"{name} must be an aware datetime or an ISO 8601 string, not a {type(value).__name__}"
        )
    try:
        return parse_iso8601(value)
    except ValueError as exc:
        raise InvalidKey(f"{name}: {exc}") from None
