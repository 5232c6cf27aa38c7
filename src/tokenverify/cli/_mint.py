"""``tokenverify mint``: AWS-shaped test checkouts for vendors' own pipelines.

Everything here is test material: keys made by ``--new-key`` are test issuer keys, and
every minted response carries a ``TokenverifyTestIssuer`` member saying so (the signed
payload keeps AWS's exact shape so that parsers under test see the real thing, plus the
``tokenverifyTestPadding`` claim that brings the token to 4096 characters, the minimum of
botocore's model; ``--min-length 0`` leaves it out).

The shapes AWS may emit: ``--kid`` (any string), ``--x5c N`` (a chain of N certificates
of the issuer key), ``--typ``/``--no-typ``, ``--metadata-shape object|list|api-list`` and
``--claim NAME=JSON`` (any JSON value; ``null`` removes the claim).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ..testing import DEFAULT_FINGERPRINT, PrivateKey, TestIssuer
from ._output import CliError, Console

__all__ = ["TEST_ISSUER_NOTE", "mint", "parse_chain_length", "parse_claim", "parse_min_length"]

#: The member added to every minted response.
TEST_ISSUER_NOTE = (
    "minted by 'tokenverify mint' with a test issuer key: never trust it in production"
)
_CURVE_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_MAX_KEY_FILE = 1 << 20
_MAX_CHAIN = 8
_MAX_MIN_LENGTH = 64 * 1024  # the verifier's default token size limit


def mint(args: argparse.Namespace, console: Console) -> int:
    """``mint --new-key`` or ``mint --issuer-key``."""
    if args.new_key is not None:
        return _new_key(args, console)
    if args.issuer_key is None or args.fingerprint is None:
        raise CliError("mint needs --issuer-key KEY.pem and --fingerprint F (or --new-key KEY.pem)")
    issuer = _load_issuer(args.issuer_key, args.alg, args.fingerprint, args.kid)
    metadata: list[tuple[str, str]] | None = args.metadata
    if metadata and args.metadata_shape == "object":
        names = [name for name, _ in metadata]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise CliError(
                f"--metadata {repeated[0]!r} is given twice; an object holds each name once "
                "(use --metadata-shape list or api-list to sign a repeated name)"
            )
    response = issuer.checkout(
        node_id=args.node_id,
        entitlements=args.entitlement or [("Users", "10", "Count")],
        ttl=args.ttl,
        issued_at=args.issued_at,
        license_arn=args.license_arn,
        checkout_metadata=metadata or None,
        metadata_shape=args.metadata_shape,
        borrow=args.borrow,
        typ=args.typ,
        x5c=args.x5c,
        min_token_length=args.min_length,
        claims=dict(args.claim) if args.claim else None,
    )
    response["TokenverifyTestIssuer"] = TEST_ISSUER_NOTE
    if args.out is None:
        console.print(json.dumps(response, indent=2, ensure_ascii=False))
    else:
        from ..aws import save_checkout

        try:
            save_checkout(response, args.out)
        except OSError as exc:
            raise CliError(f"cannot write {args.out!r}: {exc.strerror or exc}") from None
        console.print(
            f"wrote a {'CheckoutBorrowLicense' if args.borrow else 'CheckoutLicense'} test "
            f"response ({issuer.algorithm}, expires {response['Expiration']}Z) to {args.out}"
        )
    console.error(f"note: {TEST_ISSUER_NOTE}")
    return 0


def parse_chain_length(text: str) -> int:
    """``--x5c``: how many certificates, 0 to 8."""
    if not text.isascii() or not text.isdigit() or int(text) > _MAX_CHAIN:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a number of certificates from 0 to {_MAX_CHAIN}"
        )
    return int(text)


def parse_min_length(text: str) -> int:
    """``--min-length``: characters the token is padded to, 0 (off) to 65536."""
    if not text.isascii() or not text.isdigit() or int(text) > _MAX_MIN_LENGTH:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a length from 0 (no padding) to {_MAX_MIN_LENGTH}"
        )
    return int(text)


def parse_claim(text: str) -> tuple[str, Any]:
    """``--claim``: ``NAME=JSON``, e.g. ``productSKU="sku-1"`` or ``licenseDetails={"a":[1]}``."""
    name, equals, value = text.partition("=")
    example = """(e.g. productSKU='"sku-1"' or extra='[1, {"a": null}]')"""
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not NAME=JSON {example}")
    try:
        decoded = json.loads(value, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"the value of claim {name[:40]!r} is not JSON ({exc}); quote strings {example}"
        ) from None
    return name, decoded


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _new_key(args: argparse.Namespace, console: Console) -> int:
    algorithm = args.alg or "PS384"
    private_path = Path(args.new_key)
    public_path = _public_path(private_path)
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise CliError(f"{str(path)!r} already exists; refusing to overwrite it")
    try:
        issuer = TestIssuer.generate(algorithm, key_size=args.key_size)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    # O_EXCL: never replace a file that appeared meanwhile; 0600: it is a private key.
    _create(private_path, issuer.private_pem(), 0o600)
    _create(public_path, issuer.public_pem(), 0o644)
    kind = "Ed25519" if algorithm == "EdDSA" else _key_kind(issuer.private_key)
    console.print(f"wrote test issuer private key ({algorithm}, {kind}) to {private_path}")
    console.print(f"wrote its public key to {public_path}")
    console.print(
        f"next: tokenverify keys add {public_path} --keys keys.json "
        f"--fingerprint '{DEFAULT_FINGERPRINT}' --algorithms {algorithm}"
    )
    console.error(
        "note: a test issuer key; anyone holding it can mint tokens: never ship or trust it"
    )
    return 0


def _load_issuer(path: str, algorithm: str | None, fingerprint: str, kid: str | None) -> TestIssuer:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise CliError(f"cannot read issuer key {path!r}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CliError(
            f"{path!r} is not an unencrypted PEM private key ({first[:120]}); "
            "make one with 'tokenverify mint --new-key KEY.pem'"
        ) from None
    if not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise CliError(f"{path!r} holds a {type(key).__name__}, which cannot sign JWS tokens here")
    chosen = algorithm or _default_algorithm(key)
    try:
        return TestIssuer(key, chosen, fingerprint, kid=kid)
    except (ValueError, KeyError) as exc:
        raise CliError(f"--alg {chosen}: {exc}") from None


def _default_algorithm(key: PrivateKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return _CURVE_ALGORITHMS.get(key.curve.name, "ES256")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    return "PS384"  # what CheckoutBorrowLicense signs with


def _key_kind(key: PrivateKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    return "Ed25519"


def _public_path(private_path: Path) -> Path:
    if private_path.suffix == ".pem":
        return private_path.with_suffix(".pub.pem")
    return private_path.with_name(private_path.name + ".pub")


def _create(path: Path, text: str, mode: int) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise CliError(f"{str(path)!r} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise CliError(f"cannot create {str(path)!r}: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(text)
