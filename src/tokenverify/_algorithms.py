"""The JWS algorithms we verify, each bound to the one key type (and curve) it needs.

OpenSSL will happily verify a P-384 key with SHA-256 or a PS384 signature with any salt
(``PSS.AUTO``), so nothing here is left for it to infer: hash, padding, salt length, curve
and exact signature length are fixed per algorithm (RFC 7518 section 3).
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ._errors import InvalidKey

__all__ = [
    "ALGORITHMS",
    "NEVER_ACCEPTED",
    "PublicKey",
    "SignatureCheck",
    "algorithms_for_key",
    "pss_salt_found",
    "signature_check",
]

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
#: ``check(signature, signing_input)`` returns True only for a valid signature.
SignatureCheck = Callable[[bytes, bytes], bool]

# Hash objects are immutable descriptors, so one instance per algorithm serves every key.
_RSA_PSS: dict[str, hashes.HashAlgorithm] = {
    "PS256": hashes.SHA256(),
    "PS384": hashes.SHA384(),
    "PS512": hashes.SHA512(),
}
_RSA_PKCS1: dict[str, hashes.HashAlgorithm] = {
    "RS256": hashes.SHA256(),
    "RS384": hashes.SHA384(),
    "RS512": hashes.SHA512(),
}
# alg -> (curve, hash, bytes per coordinate, group order n)
_ECDSA: dict[str, tuple[type[ec.EllipticCurve], type[hashes.HashAlgorithm], int, int]] = {
    "ES256": (
        ec.SECP256R1,
        hashes.SHA256,
        32,
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    ),
    "ES384": (
        ec.SECP384R1,
        hashes.SHA384,
        48,
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    ),
    "ES512": (
        ec.SECP521R1,
        hashes.SHA512,
        66,
        0x01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409,
    ),
}
#: Every algorithm a key can be pinned to.
ALGORITHMS = frozenset([*_RSA_PSS, *_RSA_PKCS1, *_ECDSA, "EdDSA"])
#: Names refused outright, whatever key they would be paired with (RFC 8725 3.1, 3.2).
NEVER_ACCEPTED = frozenset(["none", "HS256", "HS384", "HS512"])

MIN_RSA_BITS = 2048
RSA_EXPONENT = 65537


def algorithms_for_key(key: PublicKey) -> frozenset[str]:
    """The algorithms a key of this type and curve can verify."""
    if isinstance(key, rsa.RSAPublicKey):
        return frozenset([*_RSA_PSS, *_RSA_PKCS1])
    if isinstance(key, ec.EllipticCurvePublicKey):
        return frozenset(alg for alg, spec in _ECDSA.items() if isinstance(key.curve, spec[0]))
    return frozenset(["EdDSA"])


def check_key_strength(key: PublicKey) -> None:
    """Refuse keys nobody should trust: short or odd-exponent RSA, unsupported curves."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        if key.key_size < MIN_RSA_BITS:
            raise InvalidKey(
                f"RSA key of {key.key_size} bits refused: at least {MIN_RSA_BITS} needed"
            )
        if numbers.e != RSA_EXPONENT:
            raise InvalidKey(f"RSA public exponent {numbers.e} refused: only 65537 is accepted")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if not algorithms_for_key(key):
            raise InvalidKey(
                f"EC curve {key.curve.name} refused: only P-256, P-384 and P-521 (ES256/384/512)"
            )
    elif not isinstance(key, ed25519.Ed25519PublicKey):
        raise InvalidKey(f"{type(key).__name__} refused: use RSA, EC P-256/384/521 or Ed25519")


def signature_check(alg: str, key: PublicKey) -> SignatureCheck:
    """Build the verifier for ``alg`` with ``key``; ``InvalidKey`` if they do not belong together.

    Padding and hash objects are made once here, so the verify path allocates nothing
    beyond what OpenSSL needs.
    """
    if alg not in algorithms_for_key(key):
        raise InvalidKey(f"a {describe_key(key)} cannot verify {alg}")
    if isinstance(key, rsa.RSAPublicKey):
        return _rsa_check(alg, key)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _ecdsa_check(alg, key)
    assert isinstance(key, ed25519.Ed25519PublicKey)
    return _ed25519_check(key)


def describe_key(key: PublicKey) -> str:
    """A short human description: ``RSA-4096``, ``EC P-384``, ``Ed25519``."""
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size} key"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name} key"
    return "Ed25519 key"


def _rsa_check(alg: str, key: rsa.RSAPublicKey) -> SignatureCheck:
    signature_length = (key.key_size + 7) // 8
    pad: padding.AsymmetricPadding
    if alg in _RSA_PSS:
        digest = _RSA_PSS[alg]
        # JWS fixes the salt at the hash length, MGF1 over the same hash (RFC 7518 3.5).
        pad = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    else:
        digest = _RSA_PKCS1[alg]
        pad = padding.PKCS1v15()
    verify = key.verify

    def check(signature: bytes, signing_input: bytes) -> bool:
        if len(signature) != signature_length:
            return False
        try:
            verify(signature, signing_input, pad, digest)
        except InvalidSignature:
            return False
        return True

    return check


def pss_salt_found(alg: str, key: PublicKey, signature: bytes, signing_input: bytes) -> int | None:
    """For a PS* signature that failed: the salt length it does verify with, or None.

    A diagnosis, never an acceptance: called only after the pinned check failed, so that
    the refusal can say "off-standard salt" instead of "altered". One extra verification
    (``PSS.AUTO`` takes any salt) settles whether some salt fits; only then is the salt's
    length read from the encoded message (RFC 8017 9.1.2) and confirmed by OpenSSL.
    """
    digest = _RSA_PSS.get(alg)
    if digest is None or not isinstance(key, rsa.RSAPublicKey):
        return None
    if len(signature) != (key.key_size + 7) // 8:
        return None
    auto = padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO)
    if not _verifies(key, signature, signing_input, auto, digest):
        return None
    salt = _pss_salt_length(key, signature, digest)
    if salt is None:
        return None
    exact = padding.PSS(mgf=padding.MGF1(digest), salt_length=salt)
    return salt if _verifies(key, signature, signing_input, exact, digest) else None


def _verifies(
    key: rsa.RSAPublicKey,
    signature: bytes,
    signing_input: bytes,
    pad: padding.PSS,
    digest: hashes.HashAlgorithm,
) -> bool:
    try:
        key.verify(signature, signing_input, pad, digest)
    except (InvalidSignature, ValueError):
        return False
    return True


def _pss_salt_length(
    key: rsa.RSAPublicKey, signature: bytes, digest: hashes.HashAlgorithm
) -> int | None:
    """The salt length of an EMSA-PSS encoded message (RFC 8017 9.1.2 steps 1-10)."""
    numbers = key.public_numbers()
    em_bits = key.key_size - 1
    em_length = (em_bits + 7) // 8
    message = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n)
    if message.bit_length() > em_bits:
        return None
    encoded = message.to_bytes(em_length, "big")
    h_length = digest.digest_size
    if encoded[-1] != 0xBC or em_length < h_length + 2:
        return None
    masked, seed = encoded[: em_length - h_length - 1], encoded[em_length - h_length - 1 : -1]
    mask = bytearray()
    counter = 0
    while len(mask) < len(masked):  # MGF1 over the message's own hash
        block = hashes.Hash(digest)
        block.update(seed + counter.to_bytes(4, "big"))
        mask += block.finalize()
        counter += 1
    data = bytes(a ^ b for a, b in zip(masked, mask, strict=False))
    data = bytes([data[0] & (0xFF >> (8 * em_length - em_bits))]) + data[1:]
    separator = data.find(b"\x01")
    if separator < 0 or data[:separator].strip(b"\x00"):
        return None
    return len(data) - separator - 1


def _ecdsa_check(alg: str, key: ec.EllipticCurvePublicKey) -> SignatureCheck:
    _, hash_type, size, order = _ECDSA[alg]
    scheme = ec.ECDSA(hash_type())
    verify = key.verify
    from_bytes = int.from_bytes

    def check(signature: bytes, signing_input: bytes) -> bool:
        # JWS ECDSA signatures are raw r || s of fixed length, never DER (RFC 7518 3.4).
        if len(signature) != 2 * size:
            return False
        r = from_bytes(signature[:size], "big")
        s = from_bytes(signature[size:], "big")
        # Psychic signatures (CVE-2022-21449) and out-of-range values never reach OpenSSL.
        if not (0 < r < order and 0 < s < order):
            return False
        try:
            verify(encode_dss_signature(r, s), signing_input, scheme)
        except InvalidSignature:
            return False
        return True

    return check


def _ed25519_check(key: ed25519.Ed25519PublicKey) -> SignatureCheck:
    verify = key.verify

    def check(signature: bytes, signing_input: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            verify(signature, signing_input)  # OpenSSL refuses non-canonical S >= L
        except InvalidSignature:
            return False
        return True

    return check
