"""Decoding at the edge by BOM, and naming what a non-checkout file looks like."""

from __future__ import annotations

import codecs

import pytest

from tokenverify._sniff import looks_like
from tokenverify._text import to_utf8

TEXT = '{"SignedToken": "eyJ.a.b", "NodeId": "nœud-7"}\r\n'


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (b"", "utf-8"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_every_bom_decodes_to_the_same_utf8(bom: bytes, encoding: str) -> None:
    assert to_utf8(bom + TEXT.encode(encoding)) == TEXT.encode("utf-8")


def test_utf8_without_bom_is_returned_as_is() -> None:
    data = TEXT.encode("utf-8")
    assert to_utf8(data) is data


def test_a_broken_utf16_body_names_the_encoding() -> None:
    with pytest.raises(ValueError, match="UTF-16-LE"):
        to_utf8(codecs.BOM_UTF16_LE + b"\x00\xd8")  # a lone high surrogate


def test_no_bom_no_guess() -> None:
    # UTF-16 without a BOM is not guessed at: it stays bytes for the strict parser to refuse.
    data = TEXT.encode("utf-16-le")
    assert to_utf8(data) == data


@pytest.mark.parametrize(
    ("data", "word"),
    [
        (b"-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "PEM"),
        (b"<!DOCTYPE html><html><body>Access denied</body></html>", "HTML"),
        (b'{"format": "tokenverify-keys", "version": 1, "keys": []}', "keys file"),
        (b'{"format": "tokenverify-revocations", "revoked": []}', "revocation"),
        (b'{"KeyId": "arn:aws:kms:...", "PublicKey": "MII", "SigningAlgorithms": []}', "kms"),
        (b'{"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]}', "JWK"),
        (b'{"node_id": "n", "requirements": []}', "policy"),
        (b'{"License": {"LicenseArn": "arn:aws:license-manager::1:license:l-1"}}', "license"),
        (
            b"PROVISIONAL\tarn:aws:license-manager::1:license:l-1\teyJhbGciOi.eyJsaWNl.c2ln\n",
            "--output",
        ),
    ],
)
def test_plainly_not_a_checkout(data: bytes, word: str) -> None:
    description = looks_like(data)
    assert description is not None
    assert word.lower() in description.lower()


@pytest.mark.parametrize(
    "data",
    [
        b'{"SignedToken": "eyJ.a.b", "LicenseArn": "arn", "SigningAlgorithms": []}',
        b"eyJhbGciOiJQUzM4NCJ9.eyJsaWNlbnNlQXJuIjoiYSJ9.c2ln",
        b'{"unknown": 1}',
        b"",
    ],
)
def test_may_be_a_checkout(data: bytes) -> None:
    assert looks_like(data) is None
