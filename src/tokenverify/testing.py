"""Mint AWS-shaped checkouts for tests: ``TestIssuer`` plays AWS License Manager.

>>> issuer = TestIssuer.generate("PS384", fingerprint="aws:111122223333:Test:issuer-fingerprint")
>>> response = issuer.checkout(node_id="node-7", entitlements=[("Users", "10", "Count")])
>>> Verifier(issuer.registry()).verify(response)

Tokens are signed exactly as RFC 7515/7518 say (PSS salt = hash length, ECDSA raw r||s),
with the payload in AWS's camelCase and the response in boto3's PascalCase. Never ship a
test issuer's key in a product: anyone holding this module can mint with it.

Length: botocore's License Manager model says a SignedToken has at least 4096 characters
(``MIN_SIGNED_TOKEN_LENGTH``), and its Stubber refuses shorter ones. AWS's sample payload
makes about 1,100, so ``checkout`` adds one claim, ``"tokenverifyTestPadding"`` (a run of
``.``), just long enough to reach the minimum; a token already that long gets none.
``min_token_length=0`` turns it off. No real token carries that claim, and it is an
unknown claim to the verifier, which tolerates unknown claims: it changes no verdict.
``claims()`` and ``sign()`` stay exact (no padding) for tests that build tokens by hand.

Shapes AWS may emit, for vendors' own tests: ``checkout(kid=..., x5c=2, typ="JWS",
checkout_metadata=..., metadata_shape="list", claims={"anyClaim": [1, {"x": None}]})``.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from . import _base64url
from ._registry import KeyRegistry

__all__ = [
    "DEFAULT_FINGERPRINT",
    "MIN_SIGNED_TOKEN_LENGTH",
    "PADDING_CLAIM",
    "MetadataShape",
    "TestIssuer",
    "format_time",
]

DEFAULT_FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
#: botocore's License Manager model: ``SignedToken`` has at least this many characters.
MIN_SIGNED_TOKEN_LENGTH = 4096
#: The test-only claim that pads a minted token to ``min_token_length``; never in a real token.
PADDING_CLAIM = "tokenverifyTestPadding"
#: How ``checkoutMetadata`` is signed: ``{"Mac": "..."}`` (``"object"``), or a list of
#: ``{"name", "value"}`` (``"list"``) or of ``{"Name", "Value"}`` (``"api-list"``, the API's).
MetadataShape = Literal["object", "list", "api-list"]
_METADATA_SHAPES = ("object", "list", "api-list")
#: Label given to a test issuer's key in registries it builds.
TEST_ISSUER_LABEL = "tokenverify test issuer (never trust in production)"
_HASHES: dict[str, hashes.SHA256 | hashes.SHA384 | hashes.SHA512] = {
    "256": hashes.SHA256(),
    "384": hashes.SHA384(),
    "512": hashes.SHA512(),
}
_CURVES = {"ES256": (ec.SECP256R1, 32), "ES384": (ec.SECP384R1, 48), "ES512": (ec.SECP521R1, 66)}
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
EntitlementSpec = tuple[str, str | None, str]
MetadataSpec = Mapping[str, str] | Iterable[tuple[str, str]]
#: ``x5c``: a number of certificates of the issuer's key, or a chain given as DER/objects.
CertificateChain = int | Sequence[bytes | x509.Certificate]


def format_time(moment: datetime | float) -> str:
    """AWS's spelling: ``2021-04-13T05:35:47`` (UTC, whole seconds, no zone)."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class TestIssuer:
    """A private key playing an AWS License Manager issuer, for tests and demos."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        private_key: PrivateKey,
        algorithm: str = "PS384",
        fingerprint: str = DEFAULT_FINGERPRINT,
        *,
        kid: str | None = None,
    ) -> None:
        self.private_key = private_key
        self.algorithm = algorithm
        self.fingerprint = fingerprint
        self.kid = kid
        self._chains: dict[int, list[x509.Certificate]] = {}
        self.sign_bytes(b"")  # fail now, not at first use, if key and algorithm do not fit

    @classmethod
    def generate(
        cls,
        algorithm: str = "PS384",
        fingerprint: str = DEFAULT_FINGERPRINT,
        *,
        key_size: int = 4096,
        kid: str | None = None,
    ) -> TestIssuer:
        """A new issuer with a fresh key for ``algorithm`` (RSA ``key_size`` bits)."""
        key: PrivateKey
        if algorithm[:2] in ("PS", "RS"):
            key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        elif algorithm in _CURVES:
            key = ec.generate_private_key(_CURVES[algorithm][0]())
        elif algorithm == "EdDSA":
            key = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(f"cannot issue {algorithm!r} tokens")
        return cls(key, algorithm, fingerprint, kid=kid)

    @classmethod
    def from_pem(
        cls,
        pem: bytes | str,
        algorithm: str = "PS384",
        fingerprint: str = DEFAULT_FINGERPRINT,
        *,
        kid: str | None = None,
    ) -> TestIssuer:
        """An issuer from an unencrypted PKCS#8 private key PEM."""
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(
            key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
        ):
            raise ValueError(f"{type(key).__name__} cannot issue JWS tokens here")
        return cls(key, algorithm, fingerprint, kid=kid)

    def private_pem(self) -> str:
        """The private key as unencrypted PKCS#8 PEM (test material only)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def public_pem(self) -> str:
        """The public key as SPKI PEM: what a product ships."""
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def registry(self, algorithms: Iterable[str] | None = None) -> KeyRegistry:
        """A registry trusting this issuer's key, pinned to its algorithm."""
        registry = KeyRegistry()
        registry.add(
            self.fingerprint,
            self.private_key.public_key(),
            algorithms=list(algorithms) if algorithms is not None else [self.algorithm],
            label=TEST_ISSUER_LABEL,
            key_id=self.kid,
        )
        return registry

    def sign_bytes(self, signing_input: bytes) -> bytes:
        """The raw JWS signature of ``signing_input`` under this issuer's algorithm."""
        key, alg = self.private_key, self.algorithm
        if isinstance(key, rsa.RSAPrivateKey) and alg[:2] in ("PS", "RS"):
            digest = _HASHES[alg[2:]]
            if alg[:2] == "PS":
                pad: padding.AsymmetricPadding = padding.PSS(
                    mgf=padding.MGF1(digest), salt_length=digest.digest_size
                )
            else:
                pad = padding.PKCS1v15()
            return key.sign(signing_input, pad, digest)
        if isinstance(key, ec.EllipticCurvePrivateKey) and alg in _CURVES:
            curve, size = _CURVES[alg]
            if not isinstance(key.curve, curve):
                raise ValueError(f"{alg} needs a {curve.name} key")
            r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(_HASHES[alg[2:]])))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        if isinstance(key, ed25519.Ed25519PrivateKey) and alg == "EdDSA":
            return key.sign(signing_input)
        raise ValueError(f"a {type(key).__name__} cannot sign {alg}")

    def signature_length(self) -> int:
        """Characters of this issuer's signature segment (fixed for every JWS algorithm)."""
        key = self.private_key
        if isinstance(key, rsa.RSAPrivateKey):
            size = (key.key_size + 7) // 8
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            size = 2 * _CURVES[self.algorithm][1]
        else:
            size = 64
        return _encoded_length(size)

    def certificate_chain(self, length: int = 1) -> list[x509.Certificate]:
        """``length`` X.509 certificates of this issuer's key, leaf first, the last self-signed.

        Each certifies the issuer's public key, is signed by it and names the next one as
        its issuer: a genuine chain (if a pointless one) of realistic size for ``x5c``.
        Made once per length and kept.
        """
        if length < 1:
            raise ValueError("a certificate chain has at least one certificate")
        if length not in self._chains:
            top = length - 1
            self._chains[length] = [
                self._certificate(_chain_name(level), _chain_name(min(level + 1, top)), level > 0)
                for level in range(length)
            ]
        return list(self._chains[length])

    def jws_header(
        self,
        *,
        kid: str | None = None,
        typ: str | None = "JWT",
        x5c: CertificateChain = 0,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JWS header ``checkout`` signs: ``alg``, ``typ`` (None: no ``typ``), ``kid``
        (default the issuer's own, if any; any string, e.g. a KMS key ARN), ``x5c`` (a
        number of certificates of the issuer's key, or a chain given as DER bytes or
        ``x509.Certificate``; RFC 7515 base64 DER). ``overrides`` entries win; a ``None``
        value removes one."""
        fields: dict[str, Any] = {"alg": self.algorithm}
        if typ is not None:
            fields["typ"] = typ
        if kid is not None or self.kid is not None:
            fields["kid"] = kid if kid is not None else self.kid
        chain = self._x5c(x5c)
        if chain:
            fields["x5c"] = chain
        _merge(fields, overrides)
        return fields

    def sign(
        self,
        payload: Mapping[str, Any] | bytes,
        header: Mapping[str, Any] | None = None,
        *,
        min_token_length: int = 0,
    ) -> str:
        """A compact JWS over ``payload``. ``header`` entries override the defaults
        (``alg``, ``typ: JWT``, the issuer's ``kid``); a ``None`` value removes one.
        ``min_token_length`` pads a mapping payload with ``PADDING_CLAIM`` (default: exact)."""
        fields: dict[str, Any] = {"alg": self.algorithm, "typ": "JWT"}
        if self.kid is not None:
            fields["kid"] = self.kid
        _merge(fields, header)
        return self._sign_exactly(fields, payload, min_token_length)

    def _sign_exactly(
        self, header: Mapping[str, Any], payload: Mapping[str, Any] | bytes, min_token_length: int
    ) -> str:
        header_segment = _base64url.encode(_compact_json(header))
        if isinstance(payload, bytes):
            body = payload
        else:
            body = _padded(payload, len(header_segment) + self.signature_length(), min_token_length)
        signing_input = f"{header_segment}.{_base64url.encode(body)}"
        signature = self.sign_bytes(signing_input.encode("ascii"))
        return f"{signing_input}.{_base64url.encode(signature)}"

    def _x5c(self, chain: CertificateChain) -> list[str]:
        if isinstance(chain, int):
            certificates: Sequence[bytes | x509.Certificate] = (
                self.certificate_chain(chain) if chain else []
            )
        else:
            certificates = chain
        return [
            base64.b64encode(
                c if isinstance(c, bytes) else c.public_bytes(serialization.Encoding.DER)
            ).decode("ascii")
            for c in certificates
        ]

    def _certificate(self, subject: x509.Name, issuer: x509.Name, ca: bool) -> x509.Certificate:
        now = datetime.now(UTC).replace(microsecond=0)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(self.private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        key = self.private_key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return builder.sign(key, None)
        digest = _HASHES.get(self.algorithm[2:], hashes.SHA256())
        if isinstance(key, rsa.RSAPrivateKey) and self.algorithm.startswith("PS"):
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            return builder.sign(key, digest, rsa_padding=pss)
        return builder.sign(key, digest)

    def claims(
        self,
        *,
        node_id: str | None = "node-1",
        entitlements: Iterable[EntitlementSpec] = (("Users", "10", "Count"),),
        ttl: float = 3600,
        issued_at: datetime | float | None = None,
        license_arn: str | None = None,
        license_consumption_token: str | None = None,
        checkout_metadata: MetadataSpec | None = None,
        metadata_shape: MetadataShape = "object",
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The camelCase payload AWS signs, in the order of AWS's sample (never padded).

        ``checkout_metadata`` (a mapping, or ``(name, value)`` pairs, which may repeat a
        name in the list shapes) is signed in ``metadata_shape``. ``overrides`` entries
        (any JSON value) replace or add claims; a ``None`` value removes one.
        """
        start = _epoch(issued_at)
        account = (
            self.fingerprint.split(":")[1] if self.fingerprint.count(":") >= 3 else "111122223333"
        )
        payload: dict[str, Any] = {
            "licenseArn": license_arn
            or f"arn:aws:license-manager::{account}:license:l-{secrets.token_hex(16)}",
            "licenseConsumptionToken": license_consumption_token or secrets.token_hex(16),
            "entitlementsAllowed": [
                {"name": name, "value": value, "unit": unit}
                if value is not None
                else {"name": name, "unit": unit}
                for name, value, unit in entitlements
            ],
            "nodeId": node_id,
            "issuedAt": format_time(start),
            "expiration": format_time(start + ttl),
        }
        if node_id is None:
            del payload["nodeId"]
        if checkout_metadata is not None:
            payload["checkoutMetadata"] = _signed_metadata(
                _metadata_pairs(checkout_metadata), metadata_shape
            )
        _merge(payload, overrides)
        return payload

    def checkout(
        self,
        *,
        node_id: str | None = "node-1",
        entitlements: Iterable[EntitlementSpec] = (("Users", "10", "Count"),),
        ttl: float = 3600,
        issued_at: datetime | float | None = None,
        license_arn: str | None = None,
        license_consumption_token: str | None = None,
        checkout_metadata: MetadataSpec | None = None,
        metadata_shape: MetadataShape = "object",
        borrow: bool = False,
        kid: str | None = None,
        typ: str | None = "JWT",
        x5c: CertificateChain = 0,
        min_token_length: int = MIN_SIGNED_TOKEN_LENGTH,
        claims: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
        envelope: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A boto3 CheckoutLicense (or, with ``borrow``, CheckoutBorrowLicense) response.

        The SignedToken has at least ``min_token_length`` characters (default 4096, the
        botocore model's minimum; 0: exactly as long as its claims make it): when shorter,
        the claim ``PADDING_CLAIM`` is added to reach it. ``checkout_metadata`` is signed
        in ``metadata_shape`` (``"object"``, ``"list"`` or ``"api-list"``) and always
        returned as the API's ``CheckoutMetadata`` list. ``kid``, ``typ`` (None: none) and
        ``x5c`` shape the JWS header as ``jws_header`` says. ``claims``, ``header`` and
        ``envelope`` override the signed payload (any JSON values), the JWS header and the
        plaintext response fields; a ``None`` value removes the entry.
        """
        pairs = None if checkout_metadata is None else _metadata_pairs(checkout_metadata)
        payload = self.claims(
            node_id=node_id,
            entitlements=list(entitlements),
            ttl=ttl,
            issued_at=issued_at,
            license_arn=license_arn,
            license_consumption_token=license_consumption_token,
            checkout_metadata=pairs,
            metadata_shape=metadata_shape,
            overrides=claims,
        )
        fields = self.jws_header(kid=kid, typ=typ, x5c=x5c, overrides=header)
        response: dict[str, Any] = {}
        if not borrow:
            response["CheckoutType"] = "PROVISIONAL"
        response["LicenseArn"] = payload.get("licenseArn")
        response["LicenseConsumptionToken"] = payload.get("licenseConsumptionToken")
        response["EntitlementsAllowed"] = [
            {
                "Name": e["name"],
                "Unit": e["unit"],
                **({"Value": e["value"]} if "value" in e else {}),
            }
            for e in payload.get("entitlementsAllowed", [])
        ]
        response["NodeId"] = payload.get("nodeId")
        response["SignedToken"] = self._sign_exactly(fields, payload, min_token_length)
        response["IssuedAt"] = payload.get("issuedAt")
        response["Expiration"] = payload.get("expiration")
        if borrow or pairs is not None:
            response["CheckoutMetadata"] = [
                {"Name": name, "Value": value} for name, value in pairs or []
            ]
        response = {name: value for name, value in response.items() if value is not None}
        _merge(response, envelope)
        response["ResponseMetadata"] = {
            "RequestId": str(uuid.uuid4()),
            "HTTPStatusCode": 200,
            "HTTPHeaders": {"content-type": "application/x-amz-json-1.1"},
            "RetryAttempts": 0,
        }
        return response

    def __repr__(self) -> str:
        return f"<TestIssuer {self.algorithm} {self.fingerprint!r}>"


def _merge(target: dict[str, Any], overrides: Mapping[str, Any] | None) -> None:
    for name, value in (overrides or {}).items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value


def _metadata_pairs(metadata: MetadataSpec) -> list[tuple[str, str]]:
    if isinstance(metadata, Mapping):
        return [(str(name), str(value)) for name, value in metadata.items()]
    return [(str(name), str(value)) for name, value in metadata]


def _signed_metadata(pairs: list[tuple[str, str]], shape: MetadataShape) -> Any:
    if shape == "object":
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise ValueError("an object cannot repeat a metadata name; use a list shape")
        return dict(pairs)
    if shape == "list":
        return [{"name": name, "value": value} for name, value in pairs]
    if shape == "api-list":
        return [{"Name": name, "Value": value} for name, value in pairs]
    raise ValueError(f"metadata_shape must be one of {', '.join(_METADATA_SHAPES)}, not {shape!r}")


def _padded(payload: Mapping[str, Any], fixed_characters: int, minimum: int) -> bytes:
    """The payload's JSON, with ``PADDING_CLAIM`` added when the token would be shorter
    than ``minimum``; ``fixed_characters`` is the header and signature segments' length."""
    body = _compact_json(payload)
    if fixed_characters + 2 + _encoded_length(len(body)) >= minimum:
        return body
    bare = _compact_json({**payload, PADDING_CLAIM: ""})
    wanted = minimum - fixed_characters - 2  # characters of the payload segment
    size = max(len(bare), wanted * 3 // 4)
    while _encoded_length(size) < wanted:
        size += 1
    # "." is one byte that JSON never escapes: the claim adds exactly what it is long.
    return _compact_json({**payload, PADDING_CLAIM: "." * (size - len(bare))})


def _encoded_length(size: int) -> int:
    """Characters of unpadded base64url for ``size`` bytes."""
    return (4 * size + 2) // 3


def _chain_name(level: int) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "tokenverify test issuer"),
            x509.NameAttribute(
                x509.NameOID.COMMON_NAME, "leaf" if level == 0 else f"test CA {level}"
            ),
        ]
    )


def _compact_json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _epoch(moment: datetime | float | None) -> float:
    if moment is None:
        return float(int(time.time()))
    if isinstance(moment, datetime):
        return moment.timestamp()
    return float(moment)
