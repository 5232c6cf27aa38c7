"""Mint AWS-shaped checkouts for tests: ``TestIssuer`` plays AWS License Manager.

>>> issuer = TestIssuer.generate("PS384", fingerprint="aws:111122223333:Test:issuer-fingerprint")
>>> response = issuer.checkout(node_id="node-7", entitlements=[("Users", "10", "Count")])
>>> Verifier(issuer.registry()).verify(response)

Tokens are signed exactly as RFC 7515/7518 say (PSS salt = hash length, ECDSA raw r||s),
with the payload in AWS's camelCase and the response in boto3's PascalCase. Never ship a
test issuer's key in a product: anyone holding this module can mint with it.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from . import _base64url
from ._registry import KeyRegistry

__all__ = ["DEFAULT_FINGERPRINT", "TestIssuer", "format_time"]

DEFAULT_FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
#: Label given to a test issuer's key in registries it builds.
TEST_ISSUER_LABEL = "tokenverify test issuer (never trust in production)"
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "256": hashes.SHA256(),
    "384": hashes.SHA384(),
    "512": hashes.SHA512(),
}
_CURVES = {"ES256": (ec.SECP256R1, 32), "ES384": (ec.SECP384R1, 48), "ES512": (ec.SECP521R1, 66)}
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
EntitlementSpec = tuple[str, str | None, str]


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

    def sign(
        self, payload: Mapping[str, Any] | bytes, header: Mapping[str, Any] | None = None
    ) -> str:
        """A compact JWS over ``payload``. ``header`` entries override the defaults; a
        ``None`` value removes one."""
        fields: dict[str, Any] = {"alg": self.algorithm, "typ": "JWT"}
        if self.kid is not None:
            fields["kid"] = self.kid
        _merge(fields, header)
        body = payload if isinstance(payload, bytes) else _compact_json(payload)
        signing_input = f"{_base64url.encode(_compact_json(fields))}.{_base64url.encode(body)}"
        signature = self.sign_bytes(signing_input.encode("ascii"))
        return f"{signing_input}.{_base64url.encode(signature)}"

    def claims(
        self,
        *,
        node_id: str | None = "node-1",
        entitlements: Iterable[EntitlementSpec] = (("Users", "10", "Count"),),
        ttl: float = 3600,
        issued_at: datetime | float | None = None,
        license_arn: str | None = None,
        license_consumption_token: str | None = None,
        checkout_metadata: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The camelCase payload AWS signs, in the order of AWS's sample."""
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
            payload["checkoutMetadata"] = dict(checkout_metadata)
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
        checkout_metadata: Mapping[str, str] | None = None,
        borrow: bool = False,
        claims: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
        envelope: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A boto3 CheckoutLicense (or, with ``borrow``, CheckoutBorrowLicense) response.

        ``claims``, ``header`` and ``envelope`` override the signed payload, the JWS header
        and the plaintext response fields; a ``None`` value removes the entry.
        """
        payload = self.claims(
            node_id=node_id,
            entitlements=list(entitlements),
            ttl=ttl,
            issued_at=issued_at,
            license_arn=license_arn,
            license_consumption_token=license_consumption_token,
            checkout_metadata=checkout_metadata,
            overrides=claims,
        )
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
        response["SignedToken"] = self.sign(payload, header)
        response["IssuedAt"] = payload.get("issuedAt")
        response["Expiration"] = payload.get("expiration")
        if borrow or checkout_metadata is not None:
            response["CheckoutMetadata"] = [
                {"Name": name, "Value": value} for name, value in (checkout_metadata or {}).items()
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


def _compact_json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _epoch(moment: datetime | float | None) -> float:
    if moment is None:
        return float(int(time.time()))
    if isinstance(moment, datetime):
        return moment.timestamp()
    return float(moment)
