"""RevocationList: withdrawn licenses, checkouts and keys are refused as ``revoked``.

Entries name claims (licenseArn, licenseConsumptionToken) or keys (issuer fingerprint,
RFC 7638 thumbprint), never token bytes: the ECDSA high-S twin of a revoked checkout is
different bytes and must stay revoked. Loading a revocations file is strict: every
problem raises ``ValueError`` naming the file and the place.
"""

from __future__ import annotations

import base64
import codecs
import json
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Test:issuer-fingerprint"
OTHER_FINGERPRINT = "aws:444455556666:Other:issuer-fingerprint"
T0 = 1_768_478_400.0
LICENSE = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef"
OTHER_LICENSE = "arn:aws:license-manager::111122223333:license:l-ffffffffffffffffffffffffffffffff"
CONSUMPTION = "0cd7b2bc7c674573a669bea8f5b75f2d"
# ECDSA P-384 group order (SEC 2).
P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)


def checkout(issuer: TestIssuer, **fields: Any) -> dict[str, Any]:
    fields.setdefault("license_arn", LICENSE)
    fields.setdefault("issued_at", T0)
    response: dict[str, Any] = issuer.checkout(**fields)
    return response


def verifier(
    registry: tv.KeyRegistry, *entries: tv.Revocation, policy: tv.Policy | None = None
) -> tv.Verifier:
    return tv.Verifier(registry, policy, revocations=tv.RevocationList(entries))


def revoked(action: Any) -> tv.TokenRejected:
    with pytest.raises(tv.TokenRejected) as caught:
        action()
    assert caught.value.reason is tv.Reason.revoked, caught.value.description
    return caught.value


def thumbprint_of(issuer: TestIssuer) -> str:
    return next(iter(issuer.registry())).thumbprint


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


# --- what an entry revokes -------------------------------------------------------------


def test_revoking_a_license_refuses_its_checkouts_only(eddsa_issuer: TestIssuer) -> None:
    check = verifier(eddsa_issuer.registry(), tv.Revocation(license_arn=LICENSE))
    rejection = revoked(lambda: check.verify(checkout(eddsa_issuer), now=T0 + 60))
    assert LICENSE in rejection.description
    assert rejection.signed_checkout is not None
    assert rejection.signed_checkout.license_arn == LICENSE
    other = checkout(eddsa_issuer, license_arn=OTHER_LICENSE)
    assert check.verify(other, now=T0 + 60).license_arn == OTHER_LICENSE


def test_revoking_a_consumption_token_refuses_that_checkout_only(
    eddsa_issuer: TestIssuer,
) -> None:
    check = verifier(eddsa_issuer.registry(), tv.Revocation(license_consumption_token=CONSUMPTION))
    revoked(
        lambda: check.verify(
            checkout(eddsa_issuer, license_consumption_token=CONSUMPTION), now=T0 + 60
        )
    )
    # Another checkout of the same license is still good.
    assert check.verify(checkout(eddsa_issuer), now=T0 + 60).license_arn == LICENSE


def test_revoking_an_issuer_fingerprint_refuses_every_key_of_it(
    ps256_issuer: TestIssuer, other_issuer: TestIssuer
) -> None:
    rotated = TestIssuer(other_issuer.private_key, "PS384", FINGERPRINT)
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, ps256_issuer.public_pem(), algorithms=["PS256"])
    registry.add(FINGERPRINT, rotated.public_pem(), algorithms=["PS384"])
    registry.add(OTHER_FINGERPRINT, other_issuer.public_pem(), algorithms=["PS384"])
    check = verifier(
        registry,
        tv.Revocation(key_fingerprint=FINGERPRINT, reason="issuer compromised"),
        policy=tv.Policy(key_fingerprint=FINGERPRINT),
    )
    for issuer in (ps256_issuer, rotated):
        rejection = revoked(lambda issuer=issuer: check.verify(checkout(issuer), now=T0 + 60))
        assert "(issuer compromised)" in rejection.description
    other_check = verifier(
        registry,
        tv.Revocation(key_fingerprint=FINGERPRINT),
        policy=tv.Policy(key_fingerprint=OTHER_FINGERPRINT),
    )
    assert other_check.verify(checkout(other_issuer), now=T0 + 60).key_fingerprint == (
        OTHER_FINGERPRINT
    )


def test_revoking_a_key_thumbprint_refuses_that_key_and_keeps_its_successor(
    ps256_issuer: TestIssuer, other_issuer: TestIssuer
) -> None:
    successor = TestIssuer(other_issuer.private_key, "PS384", FINGERPRINT)
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, ps256_issuer.public_pem(), algorithms=["PS256"])
    registry.add(FINGERPRINT, successor.public_pem(), algorithms=["PS384"])
    old_thumbprint = thumbprint_of(ps256_issuer)
    check = verifier(
        registry, tv.Revocation(key_thumbprint=old_thumbprint, revoked_at="2026-01-01")
    )
    rejection = revoked(lambda: check.verify(checkout(ps256_issuer), now=T0 + 60))
    assert old_thumbprint in rejection.description
    assert "on 2026-01-01" in rejection.description
    assert check.verify(checkout(successor), now=T0 + 60).key_thumbprint == (
        thumbprint_of(successor)
    )


def test_combined_entry_revokes_only_what_matches_every_identifier(
    ps256_issuer: TestIssuer, other_issuer: TestIssuer
) -> None:
    """One license, only as signed by one key: both must match."""
    successor = TestIssuer(other_issuer.private_key, "PS384", FINGERPRINT)
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, ps256_issuer.public_pem(), algorithms=["PS256"])
    registry.add(FINGERPRINT, successor.public_pem(), algorithms=["PS384"])
    entry = tv.Revocation(license_arn=LICENSE, key_thumbprint=thumbprint_of(ps256_issuer))
    check = verifier(registry, entry)
    revoked(lambda: check.verify(checkout(ps256_issuer), now=T0 + 60))
    check.verify(checkout(successor), now=T0 + 60)  # same license, other key
    check.verify(checkout(ps256_issuer, license_arn=OTHER_LICENSE), now=T0 + 60)
    three = tv.Revocation(
        license_arn=LICENSE,
        license_consumption_token=CONSUMPTION,
        key_fingerprint=FINGERPRINT,
    )
    check = verifier(registry, three)
    revoked(
        lambda: check.verify(
            checkout(successor, license_consumption_token=CONSUMPTION), now=T0 + 60
        )
    )
    check.verify(checkout(successor), now=T0 + 60)  # another checkout of the license


def test_single_and_combined_entries_mix_in_one_list(eddsa_issuer: TestIssuer) -> None:
    check = verifier(
        eddsa_issuer.registry(),
        tv.Revocation(license_arn=OTHER_LICENSE, key_fingerprint=OTHER_FINGERPRINT),
        tv.Revocation(license_consumption_token="not-this-one"),
        tv.Revocation(license_arn=LICENSE, key_fingerprint=FINGERPRINT),
    )
    revoked(lambda: check.verify(checkout(eddsa_issuer), now=T0 + 60))
    check.verify(checkout(eddsa_issuer, license_arn=OTHER_LICENSE), now=T0 + 60)


def test_ecdsa_high_s_twin_of_a_revoked_checkout_is_still_revoked(
    es384_issuer: TestIssuer,
) -> None:
    """(r, n - s) is a second valid token string for the same checkout: revocation keyed
    on token bytes would miss it, revocation keyed on the claims does not."""
    response = checkout(es384_issuer, license_consumption_token=CONSUMPTION)
    header, payload, signature = response["SignedToken"].split(".")
    raw = b64decode(signature)
    r, s = raw[:48], int.from_bytes(raw[48:], "big")
    twin_token = f"{header}.{payload}.{b64encode(r + (P384_ORDER - s).to_bytes(48, 'big'))}"
    assert twin_token != response["SignedToken"]
    plain = tv.Verifier(es384_issuer.registry())
    assert plain.verify(twin_token, now=T0 + 60) == plain.verify(response, now=T0 + 60)
    check = verifier(es384_issuer.registry(), tv.Revocation(license_consumption_token=CONSUMPTION))
    revoked(lambda: check.verify(response, now=T0 + 60))
    revoked(lambda: check.verify(twin_token, now=T0 + 60))
    revoked(lambda: check.verify({**response, "SignedToken": twin_token}, now=T0 + 60))


def test_revocation_is_reported_before_expiry_and_policy(eddsa_issuer: TestIssuer) -> None:
    """A revoked checkout says revoked even when it has also expired or is for another node:
    the vendor's decision is the one to tell the user."""
    check = verifier(
        eddsa_issuer.registry(),
        tv.Revocation(license_arn=LICENSE),
        policy=tv.Policy(node_id="another-node"),
    )
    revoked(lambda: check.verify(checkout(eddsa_issuer), now=T0 + 86_400 * 365))
    verdict = check.check(checkout(eddsa_issuer), now=T0 + 60)
    assert (verdict.ok, verdict.reason) == (False, tv.Reason.revoked)


def test_an_empty_list_revokes_nothing(eddsa_issuer: TestIssuer) -> None:
    empty = tv.RevocationList()
    assert len(empty) == 0
    assert repr(empty) == "<RevocationList 0 entries>"
    tv.Verifier(eddsa_issuer.registry(), revocations=empty).verify(
        checkout(eddsa_issuer), now=T0 + 60
    )


def test_verifier_refuses_a_revocation_list_of_the_wrong_type(eddsa_issuer: TestIssuer) -> None:
    with pytest.raises(TypeError, match="RevocationList"):
        tv.Verifier(eddsa_issuer.registry(), revocations=[tv.Revocation(license_arn=LICENSE)])  # type: ignore[arg-type]


# --- entries built in Python -----------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "error", "message"),
    [
        (tv.Revocation(), ValueError, "names no license"),
        (tv.Revocation(reason="no identifier"), ValueError, "names no license"),
        (tv.Revocation(license_arn=""), ValueError, "empty or has surrounding whitespace"),
        (
            tv.Revocation(license_arn=LICENSE, key_fingerprint=""),
            ValueError,
            "empty or has surrounding whitespace",
        ),
        (tv.Revocation(license_arn=f" {LICENSE}"), ValueError, "surrounding whitespace"),
        (tv.Revocation(license_consumption_token=f"{CONSUMPTION}\n"), ValueError, "whitespace"),
        (tv.Revocation(license_arn=123), TypeError, "must be a string"),  # type: ignore[arg-type]
        (tv.Revocation(key_thumbprint="ab" * 32), ValueError, "not an RFC 7638"),
        (tv.Revocation(key_thumbprint="A" * 43 + "="), ValueError, "not an RFC 7638"),
        (tv.Revocation(key_thumbprint="A" * 42 + "B"), ValueError, "not an RFC 7638"),
    ],
    ids=[
        "nothing",
        "only-a-reason",
        "empty-string",
        "empty-in-combined",
        "leading-space",
        "trailing-newline",
        "not-a-string",
        "hex-thumbprint",
        "padded-thumbprint",
        "non-canonical-thumbprint",
    ],
)
def test_entries_that_could_never_match_are_refused(
    entry: tv.Revocation, error: type[Exception], message: str
) -> None:
    """A revocation that silently matches nothing is worse than an error."""
    with pytest.raises(error, match=message):
        tv.RevocationList([entry])


def test_list_holds_only_revocations() -> None:
    with pytest.raises(TypeError, match="Revocation entries"):
        tv.RevocationList([{"license_arn": LICENSE}])  # type: ignore[list-item]


def test_a_real_thumbprint_is_a_valid_identifier(eddsa_issuer: TestIssuer) -> None:
    entry = tv.Revocation(key_thumbprint=thumbprint_of(eddsa_issuer))
    assert len(tv.RevocationList([entry])) == 1


# --- the revocations file --------------------------------------------------------------


def write(tmp_path: Path, document: object, name: str = "revocations.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_file_with_every_kind_of_entry_is_loaded_and_enforced(
    tmp_path: Path, eddsa_issuer: TestIssuer, es384_issuer: TestIssuer
) -> None:
    thumbprint = thumbprint_of(es384_issuer)
    path = write(
        tmp_path,
        {
            "format": "tokenverify-revocations",
            "version": 1,
            "revoked": [
                {"license_arn": OTHER_LICENSE, "reason": "refunded"},
                {"license_consumption_token": CONSUMPTION, "revoked_at": "2026-01-15"},
                {"key_fingerprint": OTHER_FINGERPRINT},
                {"key_thumbprint": thumbprint},
                {"license_arn": LICENSE, "key_fingerprint": "aws:1:Nobody:issuer-fingerprint"},
            ],
        },
    )
    revocations = tv.RevocationList.load(path)
    assert len(revocations) == 5
    assert revocations.entries[0] == tv.Revocation(license_arn=OTHER_LICENSE, reason="refunded")
    assert revocations.entries[3].key_thumbprint == thumbprint
    check = tv.Verifier(eddsa_issuer.registry(), revocations=revocations)
    check.verify(checkout(eddsa_issuer), now=T0 + 60)  # the combined entry needs another key
    rejection = revoked(
        lambda: check.verify(checkout(eddsa_issuer, license_arn=OTHER_LICENSE), now=T0 + 60)
    )
    assert "(refunded)" in rejection.description
    revoked(
        lambda: check.verify(
            checkout(eddsa_issuer, license_consumption_token=CONSUMPTION), now=T0 + 60
        )
    )
    es_check = tv.Verifier(es384_issuer.registry(), revocations=revocations)
    revoked(lambda: es_check.verify(checkout(es384_issuer), now=T0 + 60))


def test_minimal_files_are_valid(tmp_path: Path) -> None:
    assert len(tv.RevocationList.load(write(tmp_path, {}))) == 0
    assert len(tv.RevocationList.load(write(tmp_path, {"revoked": []}))) == 0
    loaded = tv.RevocationList.load(write(tmp_path, {"revoked": [{"license_arn": LICENSE}]}))
    assert loaded.entries == (tv.Revocation(license_arn=LICENSE),)


ENTRY = {"license_arn": LICENSE}
INVALID_FILES: dict[str, tuple[str, str]] = {
    # id: (file text, what the error must name)
    "unknown-top-level-field": (
        json.dumps({"revoked": [], "revocations": []}),
        "revocations: Extra inputs",
    ),
    "unknown-entry-field": (
        json.dumps({"revoked": [{**ENTRY, "license": "x"}]}),
        "revoked.0.license: Extra inputs",
    ),
    "misspelled-identifier": (
        json.dumps({"revoked": [{"licenseArn": LICENSE}]}),
        "revoked.0.licenseArn",
    ),
    "duplicate-top-level-member": (
        '{"revoked": [{"license_arn": "a"}], "revoked": []}',
        "duplicate member name 'revoked'",
    ),
    "duplicate-entry-member": (
        '{"revoked": [{"license_arn": "a", "license_arn": "b"}]}',
        "duplicate member name 'license_arn'",
    ),
    "empty-entry": (json.dumps({"revoked": [{}]}), "must name a license_arn"),
    "entry-with-only-reason": (
        json.dumps({"revoked": [{"reason": "x", "revoked_at": "2026"}]}),
        "must name a license_arn",
    ),
    "all-null-entry": (
        json.dumps({"revoked": [{"license_arn": None, "key_thumbprint": None}]}),
        "must name a license_arn",
    ),
    "empty-identifier": (json.dumps({"revoked": [{"license_arn": ""}]}), "at least 1 character"),
    "whitespace-identifier": (
        json.dumps({"revoked": [{"license_arn": f"{LICENSE} "}]}),
        "surrounding whitespace",
    ),
    "bad-thumbprint": (
        json.dumps({"revoked": [{"key_thumbprint": "sha256:abc"}]}),
        "not an RFC 7638",
    ),
    "identifier-number": (json.dumps({"revoked": [{"license_arn": 7}]}), "valid string"),
    "identifier-list": (json.dumps({"revoked": [{"license_arn": [LICENSE]}]}), "valid string"),
    "reason-number": (json.dumps({"revoked": [{**ENTRY, "reason": 1}]}), "reason"),
    "revoked-at-number": (json.dumps({"revoked": [{**ENTRY, "revoked_at": 1}]}), "revoked_at"),
    "revoked-not-a-list": (json.dumps({"revoked": ENTRY}), "revoked: Input should be a valid list"),
    "entry-not-an-object": (json.dumps({"revoked": [LICENSE]}), "revoked.0"),
    "top-level-list": (json.dumps([ENTRY]), "expected a JSON object"),
    "wrong-format": (json.dumps({"format": "tokenverify-keys", "revoked": []}), "format"),
    "format-null": (json.dumps({"format": None, "revoked": []}), "format"),
    "version-2": (json.dumps({"version": 2, "revoked": []}), "version"),
    "version-string": (json.dumps({"version": "1", "revoked": []}), "version"),
    "version-true": (json.dumps({"version": True, "revoked": []}), "version"),
    "version-float": (json.dumps({"version": 1.0, "revoked": []}), "version"),
    "not-json": ("license_arn = arn:aws:...", "revocations file"),
    "empty-file": ("", "revocations file"),
    "trailing-garbage": (json.dumps({"revoked": []}) + " x", "revocations file"),
    "nan": ('{"revoked": [], "x": NaN}', "NaN is not JSON"),
    "lone-surrogate": ('{"revoked": [{"license_arn": "a\\ud800"}]}', "unpaired surrogate"),
    "deep-nesting": ('{"revoked": ' + "[" * 100_000 + "]" * 100_000 + "}", "nesting is too deep"),
}


@pytest.mark.parametrize(
    ("text", "names"), list(INVALID_FILES.values()), ids=list(INVALID_FILES.keys())
)
def test_invalid_file_is_refused_naming_the_file_and_the_problem(
    tmp_path: Path, text: str, names: str
) -> None:
    path = tmp_path / "revocations.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="revocations file") as caught:
        tv.RevocationList.load(path)
    message = str(caught.value)
    assert str(path) in message
    assert names in message, message


@pytest.mark.parametrize(
    "content",
    [
        codecs.BOM_UTF8 + json.dumps({"revoked": [ENTRY]}).encode(),
        json.dumps({"revoked": [ENTRY]}, indent=2).replace("\n", "\r\n").encode("utf-16"),
        codecs.BOM_UTF32_BE + json.dumps({"revoked": [ENTRY]}).encode("utf-32-be"),
    ],
    ids=["utf8-bom", "utf16-bom-crlf", "utf32-be-bom"],
)
def test_file_with_a_byte_order_mark_loads_the_same(tmp_path: Path, content: bytes) -> None:
    """Decoded by BOM at the edge (issue 8, item 4), as PowerShell writes files."""
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"revoked": [ENTRY]}))
    path = tmp_path / "revocations.json"
    path.write_bytes(content)
    assert tv.RevocationList.load(path).entries == tv.RevocationList.load(plain).entries
    assert len(tv.RevocationList.load(path)) == 1


@pytest.mark.parametrize(
    ("content", "names"),
    [
        (b'{"revoked": [{"license_arn": "\xff"}]}', "utf-8"),
        ('{"revoked": []}'.encode("utf-16-le"), "revocations file"),  # no BOM: not guessed
        (codecs.BOM_UTF16_LE + b"{\x00\x00\xd8", "UTF-16-LE"),
    ],
    ids=["invalid-utf8", "utf16-without-bom", "broken-utf16"],
)
def test_file_that_is_not_utf8_json_is_refused(tmp_path: Path, content: bytes, names: str) -> None:
    path = tmp_path / "revocations.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=names):
        tv.RevocationList.load(path)


def test_missing_or_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot read revocations file .*No such file"):
        tv.RevocationList.load(tmp_path / "absent.json")
    with pytest.raises(ValueError, match="cannot read revocations file"):
        tv.RevocationList.load(tmp_path)  # a folder


def test_oversized_file_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokenverify import _json
    from tokenverify.formats import _revocation_file as _revocationfile

    def no_parsing(data: bytes) -> dict[str, Any]:
        raise AssertionError("parsed an oversized file")

    monkeypatch.setattr(_revocationfile, "_MAX_FILE", 64)
    monkeypatch.setattr(_json, "loads_object", no_parsing)
    path = write(tmp_path, {"revoked": [ENTRY]})
    with pytest.raises(ValueError, match="is over 64 MiB"):
        tv.RevocationList.load(path)


def test_loaded_file_accepts_every_path_type(tmp_path: Path) -> None:
    path = write(tmp_path, {"revoked": [ENTRY]})
    for spelling in (path, str(path)):
        assert tv.RevocationList.load(spelling).entries == (tv.Revocation(license_arn=LICENSE),)


def test_schema_forbids_unknown_fields_and_documents_every_identifier() -> None:
    from tokenverify.formats import _revocation_file as _revocationfile

    schema = _revocationfile.json_schema()
    entry = schema["$defs"]["RevocationEntry"]
    assert entry["additionalProperties"] is False
    assert schema["additionalProperties"] is False
    assert {"license_arn", "license_consumption_token", "key_fingerprint", "key_thumbprint"} <= set(
        entry["properties"]
    )
