"""``tokenverify keys``: every key format, atomic writes, refusal to overwrite, list/show/remove."""

from __future__ import annotations

import base64
import codecs
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import tokenverify as tv
from tokenverify._keys import thumbprint
from tokenverify.formats._keys_file import KeyFile
from tokenverify.testing import TestIssuer

from .support import FINGERPRINT, OTHER_FINGERPRINT, RunCli, assert_one_line_error


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _rsa_jwk(key: rsa.RSAPublicKey, **extra: Any) -> dict[str, Any]:
    numbers = key.public_numbers()
    return {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e), **extra}


def _kms_document(key: rsa.RSAPublicKey) -> dict[str, Any]:
    """What `aws kms get-public-key --output json` prints for an RSA_2048 signing key."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "PublicKey": base64.b64encode(der).decode(),
        "CustomerMasterKeySpec": "RSA_2048",
        "KeySpec": "RSA_2048",
        "KeyUsage": "SIGN_VERIFY",
        "SigningAlgorithms": [
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
        ],
    }


@pytest.fixture(scope="module")
def second_key() -> rsa.RSAPublicKey:
    return rsa.generate_private_key(65537, 2048).public_key()


def _sources(
    issuer: TestIssuer, second: rsa.RSAPublicKey
) -> dict[str, tuple[bytes, list[str], set[str]]]:
    """format -> (file content, extra flags, algorithms expected in the keys file)."""
    public = issuer.private_key.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    ps384 = ["--algorithms", "PS384"]
    return {
        "spki-pem": (issuer.public_pem().encode(), ps384, {"PS384"}),
        "spki-pem-crlf": (issuer.public_pem().replace("\n", "\r\n").encode(), ps384, {"PS384"}),
        "pkcs1-pem": (
            public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
            ps384,
            {"PS384"},
        ),
        "der": (
            public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            ["--algorithms", "PS384,PS256"],
            {"PS256", "PS384"},
        ),
        "jwk-with-alg": (
            json.dumps(_rsa_jwk(public, alg="PS384", kid="k1")).encode(),
            [],
            {"PS384"},
        ),
        "jwks": (
            json.dumps(
                {"keys": [_rsa_jwk(public, alg="PS384"), _rsa_jwk(second, alg="PS384")]}
            ).encode(),
            [],
            {"PS384"},
        ),
        "kms-get-public-key": (
            json.dumps(_kms_document(public)).encode(),
            [],
            {"PS256", "PS384", "PS512"},  # PKCS#1 v1.5 only when asked (issue 8, item 5)
        ),
        # PowerShell's '>' writes UTF-16 LE with a BOM and CRLF line ends.
        "kms-get-public-key-utf16": (
            codecs.BOM_UTF16_LE
            + json.dumps(_kms_document(public), indent=4).replace("\n", "\r\n").encode("utf-16-le"),
            [],
            {"PS256", "PS384", "PS512"},
        ),
        "kms-narrowed": (json.dumps(_kms_document(public)).encode(), ps384, {"PS384"}),
    }


FORMATS = [
    "spki-pem",
    "spki-pem-crlf",
    "pkcs1-pem",
    "der",
    "jwk-with-alg",
    "jwks",
    "kms-get-public-key",
    "kms-get-public-key-utf16",
    "kms-narrowed",
]


@pytest.mark.parametrize("form", FORMATS)
def test_add_every_key_format(
    call_cli: RunCli,
    issuer: TestIssuer,
    second_key: rsa.RSAPublicKey,
    tmp_path: Path,
    form: str,
) -> None:
    content, flags, algorithms = _sources(issuer, second_key)[form]
    source = tmp_path / "key.input"
    source.write_bytes(content)
    keys = tmp_path / "keys.json"
    result = call_cli("keys", "add", source, "--keys", keys, "--fingerprint", FINGERPRINT, *flags)
    assert result.code == 0, result
    assert "added RSA-2048 key" in result.out
    registry = tv.KeyRegistry.load(keys)
    expected = 2 if form == "jwks" else 1
    assert len(registry) == expected
    first = registry.keys(FINGERPRINT)[0]
    assert first.thumbprint == thumbprint(issuer.private_key.public_key())
    assert set(first.algorithms) == algorithms
    if form.startswith("kms"):
        assert first.key_id is not None
        assert first.key_id.startswith("arn:aws:kms:")
    # And the keys file verifies the issuer's tokens.
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout()))
    assert call_cli("verify", checkout, "--keys", keys).code == 0


def test_kms_document_on_stdin_as_aws_cli_pipes_it(
    run_cli: RunCli, issuer: TestIssuer, tmp_path: Path
) -> None:
    public = issuer.private_key.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    keys = tmp_path / "keys.json"
    document = json.dumps(_kms_document(public), indent=4).encode()
    result = run_cli(
        "keys",
        "add",
        "-",
        "--keys",
        keys,
        "--fingerprint",
        FINGERPRINT,
        "--algorithms",
        "PS384",
        input=document,
    )
    assert result.code == 0, result
    listing = run_cli("keys", "list", "--keys", keys)
    assert listing.code == 0
    assert listing.out.splitlines()[0] == FINGERPRINT
    assert "  key         RSA-2048 [PS384]" in listing.out
    assert f"  thumbprint  {thumbprint(public)}" in listing.out
    assert "  valid       any time" in listing.out
    assert "  key id      arn:aws:kms:us-east-1:111122223333:key/" in listing.out


def test_keys_add_of_kms_json_says_it_pinned_pss_and_why(
    call_cli: RunCli, issuer: TestIssuer, tmp_path: Path
) -> None:
    public = issuer.private_key.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    source = tmp_path / "kms.json"
    source.write_text(json.dumps(_kms_document(public), indent=4))
    keys = tmp_path / "keys.json"
    result = call_cli("keys", "add", source, "--keys", keys, "--fingerprint", FINGERPRINT)
    assert result.code == 0, result
    line = result.out.splitlines()[0]
    assert line.startswith(f"added RSA-2048 key {thumbprint(public)} for '{FINGERPRINT}': ")
    assert "pinned PS256, PS384, PS512 (KMS SigningAlgorithms; PKCS#1 v1.5 left out" in line
    assert "License Manager signs with RSASSA-PSS" in line
    assert "--algorithms RS256" in line
    assert tv.KeyRegistry.load(keys).keys(FINGERPRINT)[0].algorithms == {"PS256", "PS384", "PS512"}


def test_keys_add_with_algorithms_pins_pkcs1_when_asked(
    call_cli: RunCli, issuer: TestIssuer, tmp_path: Path
) -> None:
    public = issuer.private_key.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    source = tmp_path / "kms.json"
    source.write_text(json.dumps(_kms_document(public)))
    keys = tmp_path / "keys.json"
    result = call_cli(
        "keys", "add", source, "--keys", keys, "--fingerprint", FINGERPRINT,
        "--algorithms", "RS256,PS384",
    )  # fmt: skip
    assert result.code == 0, result
    assert "pinned PS384, RS256 (as asked)" in result.out
    assert tv.KeyRegistry.load(keys).keys(FINGERPRINT)[0].algorithms == {"PS384", "RS256"}


def test_keys_add_of_a_checkout_says_it_is_one(
    call_cli: RunCli, issuer: TestIssuer, tmp_path: Path
) -> None:
    source = tmp_path / "checkout.json"
    source.write_bytes(codecs.BOM_UTF16_LE + json.dumps(issuer.checkout()).encode("utf-16-le"))
    keys = tmp_path / "keys.json"
    result = call_cli("keys", "add", source, "--keys", keys, "--fingerprint", FINGERPRINT)
    assert result.code == 2
    assert "this is a checkout" in result.err
    assert not keys.exists()


def test_ec_key_needs_no_algorithms_and_lists_its_curve(call_cli: RunCli, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    source = tmp_path / "ec.pem"
    source.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    keys = tmp_path / "keys.json"
    added = call_cli("keys", "add", source, "--keys", keys, "--fingerprint", FINGERPRINT)
    assert added.code == 0
    assert "pinned ES384 (the only algorithm this key type can verify)" in added.out
    listing = call_cli("keys", "list", "--keys", keys)
    assert "  key         EC P-384 [ES384]" in listing.out


def test_adding_the_same_key_again_changes_nothing(
    call_cli: RunCli, cli_files: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    pem = cli_files / "issuer.pub.pem"
    args = (
        "keys",
        "add",
        pem,
        "--keys",
        keys,
        "--fingerprint",
        FINGERPRINT,
        "--algorithms",
        "PS384",
    )
    assert call_cli(*args).code == 0
    before = keys.read_bytes()
    again = call_cli(*args)
    assert again.code == 0
    assert "already registered" in again.out
    assert keys.read_bytes() == before


@pytest.mark.parametrize(
    "different",
    [
        ["--algorithms", "PS256"],
        ["--algorithms", "PS384", "--label", "renamed"],
        ["--algorithms", "PS384", "--not-after", "2030-01-01T00:00:00Z"],
    ],
)
def test_never_overwrites_a_registration_silently(
    call_cli: RunCli, cli_files: Path, tmp_path: Path, different: list[str]
) -> None:
    keys = tmp_path / "keys.json"
    pem = cli_files / "issuer.pub.pem"
    assert (
        call_cli(
            "keys",
            "add",
            pem,
            "--keys",
            keys,
            "--fingerprint",
            FINGERPRINT,
            "--algorithms",
            "PS384",
        ).code
        == 0
    )
    before = keys.read_bytes()
    result = call_cli("keys", "add", pem, "--keys", keys, "--fingerprint", FINGERPRINT, *different)
    assert_one_line_error(result)
    assert "already registered" in result.err
    assert "keys remove" in result.err
    assert keys.read_bytes() == before


def test_refuses_to_overwrite_a_file_that_is_not_a_keys_file(
    run_cli: RunCli, cli_files: Path, tmp_path: Path
) -> None:
    # The classic slip: the key and the keys file swapped.
    target = tmp_path / "issuer.pub.pem"
    target.write_bytes((cli_files / "issuer.pub.pem").read_bytes())
    before = target.read_bytes()
    result = run_cli(
        "keys",
        "add",
        cli_files / "issuer.pub.pem",
        "--keys",
        target,
        "--fingerprint",
        FINGERPRINT,
        "--algorithms",
        "PS384",
    )
    assert_one_line_error(result)
    assert "refusing to overwrite" in result.err
    assert target.read_bytes() == before


def test_a_second_key_under_one_fingerprint_is_rotation(
    call_cli: RunCli, cli_files: Path, second_key: rsa.RSAPublicKey, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    second = tmp_path / "second.pem"
    second.write_bytes(
        second_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    for pem in (cli_files / "issuer.pub.pem", second):
        assert (
            call_cli(
                "keys",
                "add",
                pem,
                "--keys",
                keys,
                "--fingerprint",
                FINGERPRINT,
                "--algorithms",
                "PS384",
            ).code
            == 0
        )
    assert len(tv.KeyRegistry.load(keys).keys(FINGERPRINT)) == 2
    assert call_cli("keys", "list", "--keys", keys).out.count(FINGERPRINT) == 2
    # No temporary files are left beside the keys file (only the lock file of its writers).
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "keys.json",
        "keys.json.lock",
        "second.pem",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "private key"),
        (b'{"kty": "oct", "k": "c2VjcmV0"}', "never accepted"),
        (b"not a key at all", "not a public key"),
        (b"{", "does not parse"),
        (b'{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"}', "private members"),
        (b'{"PublicKey": "!!!", "KeyUsage": "SIGN_VERIFY"}', "not base64"),
        (b'{"PublicKey": "AAAA", "KeyUsage": "ENCRYPT_DECRYPT"}', "SIGN_VERIFY"),
        (b"weak", "at least 2048"),
    ],
)
def test_refused_key_material_is_exit_2_and_writes_nothing(
    call_cli: RunCli, issuer: TestIssuer, tmp_path: Path, content: bytes | None, problem: str
) -> None:
    if content is None:
        content = issuer.private_pem().encode()
    elif content == b"weak":
        weak = rsa.generate_private_key(65537, 1024).public_key()  # noqa: S505 - the point
        content = weak.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    source = tmp_path / "key.input"
    source.write_bytes(content)
    keys = tmp_path / "keys.json"
    result = call_cli(
        "keys", "add", source, "--keys", keys, "--fingerprint", FINGERPRINT, "--algorithms", "PS384"
    )
    assert_one_line_error(result)
    assert problem in result.err
    assert not keys.exists()


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        (["--not-before", "yesterday"], "not_before"),
        (
            ["--not-after", "2020-01-01T00:00:00Z", "--not-before", "2021-01-01T00:00:00Z"],
            "never be valid",
        ),
        (["--algorithms", "PS384,"], "argument --algorithms"),
        (["--algorithms", "none"], "never accepted"),
    ],
)
def test_bad_add_flags_are_exit_2(
    call_cli: RunCli, cli_files: Path, tmp_path: Path, flags: list[str], problem: str
) -> None:
    keys = tmp_path / "keys.json"
    result = call_cli(
        "keys",
        "add",
        cli_files / "issuer.pub.pem",
        "--keys",
        keys,
        "--fingerprint",
        FINGERPRINT,
        "--algorithms",
        "PS384",
        *flags,
    )
    assert_one_line_error(result)
    assert problem in result.err
    assert not keys.exists()


def test_missing_folder_or_source_is_exit_2(
    call_cli: RunCli, cli_files: Path, tmp_path: Path
) -> None:
    no_folder = call_cli(
        "keys",
        "add",
        cli_files / "issuer.pub.pem",
        "--keys",
        tmp_path / "no" / "keys.json",
        "--fingerprint",
        FINGERPRINT,
        "--algorithms",
        "PS384",
    )
    assert_one_line_error(no_folder)
    no_source = call_cli(
        "keys",
        "add",
        tmp_path / "absent.pem",
        "--keys",
        tmp_path / "keys.json",
        "--fingerprint",
        FINGERPRINT,
    )
    assert_one_line_error(no_source)
    assert "cannot read key" in no_source.err


def test_validity_and_label_are_listed(call_cli: RunCli, cli_files: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    result = call_cli(
        "keys",
        "add",
        cli_files / "issuer.pub.pem",
        "--keys",
        keys,
        "--fingerprint",
        FINGERPRINT,
        "--algorithms",
        "PS384",
        "--not-before",
        "2025-01-01T00:00:00Z",
        "--not-after",
        "2027-01-01T00:00:00+01:00",
        "--label",
        "KMS key of 2026",
        "--key-id",
        "kid-2026",
    )
    assert result.code == 0, result
    listing = call_cli("keys", "list", "--keys", keys).out
    assert "  valid       2025-01-01T00:00:00Z to 2026-12-31T23:00:00Z" in listing
    assert "  label       KMS key of 2026" in listing
    assert "  key id      kid-2026" in listing
    shown = call_cli("keys", "show", "kid-2026", "--keys", keys)
    assert shown.code == 0
    assert "-----BEGIN PUBLIC KEY-----" in shown.out


def test_show_by_thumbprint_fingerprint_or_key_id(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path
) -> None:
    key = tv.KeyRegistry.load(keys_file).keys(FINGERPRINT)[0]
    for selector in (key.thumbprint, FINGERPRINT):
        # After '--', as the help says: a thumbprint may start with '-' (one in 64 does).
        shown = call_cli("keys", "show", "--keys", keys_file, "--", selector)
        assert shown.code == 0
        assert issuer.public_pem().strip() in shown.out
        assert f"  thumbprint  {key.thumbprint}" in shown.out
    missing = call_cli("keys", "show", "nothing-like-it", "--keys", keys_file)
    assert_one_line_error(missing)


def test_remove_one_key_or_all(
    call_cli: RunCli, cli_files: Path, second_key: rsa.RSAPublicKey, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    second = tmp_path / "second.pem"
    second.write_bytes(
        second_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    for pem, fingerprint in (
        (cli_files / "issuer.pub.pem", FINGERPRINT),
        (second, FINGERPRINT),
        (second, OTHER_FINGERPRINT),
    ):
        assert (
            call_cli(
                "keys",
                "add",
                pem,
                "--keys",
                keys,
                "--fingerprint",
                fingerprint,
                "--algorithms",
                "PS384",
            ).code
            == 0
        )
    ambiguous = call_cli("keys", "remove", "--keys", keys, "--fingerprint", FINGERPRINT)
    assert_one_line_error(ambiguous)
    assert "--all" in ambiguous.err
    assert "--thumbprint=T" in ambiguous.err  # the form that survives a leading '-'
    assert len(tv.KeyRegistry.load(keys)) == 3
    wrong = call_cli(
        "keys", "remove", "--keys", keys, "--fingerprint", FINGERPRINT, "--thumbprint", "nope"
    )
    assert_one_line_error(wrong)
    unknown = call_cli(
        "keys", "remove", "--keys", keys, "--fingerprint", "aws:1:x:issuer-fingerprint"
    )
    assert_one_line_error(unknown)
    one = call_cli(
        "keys",
        "remove",
        "--keys",
        keys,
        "--fingerprint",
        FINGERPRINT,
        # '=' form: a base64url thumbprint starts with '-' one time in 64, and argparse
        # would take "--thumbprint -abc" for two options (this test was flaky before).
        f"--thumbprint={thumbprint(second_key)}",
    )
    assert one.code == 0
    assert "removed 1 key" in one.out
    remaining = tv.KeyRegistry.load(keys)
    assert [k.thumbprint for k in remaining.keys(FINGERPRINT)] != [thumbprint(second_key)]
    assert len(remaining) == 2
    everything = call_cli(
        "keys", "remove", "--keys", keys, "--fingerprint", OTHER_FINGERPRINT, "--all"
    )
    assert everything.code == 0
    assert len(tv.KeyRegistry.load(keys)) == 1


def test_list_of_an_empty_keys_file(call_cli: RunCli, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    tv.KeyRegistry().save(keys)
    result = call_cli("keys", "list", "--keys", keys)
    assert result.code == 0
    assert result.out.strip() == f"no keys in {keys}"


def test_keys_schema_is_the_keys_file_schema(run_cli: RunCli, keys_file: Path) -> None:
    result = run_cli("keys", "schema")
    assert result.code == 0
    assert result.json() == KeyFile.model_json_schema()
    assert run_cli("schema", "keys").json() == result.json()
    # The file 'keys add' writes is an instance of it.
    from .support import check_schema

    check_schema(json.loads(keys_file.read_text()), result.json())


def test_swapped_key_and_keys_file_are_caught(
    call_cli: RunCli, cli_files: Path, keys_file: Path
) -> None:
    listing = call_cli("keys", "list", "--keys", cli_files / "issuer.pub.pem")
    assert_one_line_error(listing)
    assert "is not a tokenverify keys file" in listing.err
    added = call_cli("keys", "add", keys_file, "--keys", keys_file, "--fingerprint", FINGERPRINT)
    assert_one_line_error(added)
    assert "is a tokenverify keys file, not a public key" in added.err


def test_a_thumbprint_that_starts_with_a_dash_is_shown_after_two_dashes(
    call_cli: RunCli, tmp_path: Path
) -> None:
    # One key in 64 has such a thumbprint: make EC keys until one does (cheap, ~64 tries).
    for _ in range(10_000):
        public = ec.generate_private_key(ec.SECP256R1()).public_key()
        if thumbprint(public).startswith("-"):
            break
    else:
        pytest.fail("no thumbprint starting with '-' in 10,000 keys")
    registry = tv.KeyRegistry()
    key = registry.add(FINGERPRINT, public)[0]
    keys = tmp_path / "keys.json"
    registry.save(keys)
    shown = call_cli("keys", "show", "--keys", keys, "--", key.thumbprint)
    assert shown.code == 0
    assert f"  thumbprint  {key.thumbprint}" in shown.out
    # Without '--' argparse takes it for an option: a one-line usage error, exit 2.
    mistaken = call_cli("keys", "show", key.thumbprint, "--keys", keys)
    assert mistaken.code == 2
    assert_one_line_error(mistaken)
