"""Verifier input forms and the plaintext envelope cross-check.

Every form a caller may hold (boto3 response, saved JSON, bare token, path) must reach the
same verified checkout; anything else must end in ``TokenRejected``. The plaintext beside a
SignedToken is compared with what the token signs: a different spelling of the same value
passes, a different value is ``envelope_mismatch``, and the result carries signed values only.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.testing import TestIssuer

ISSUED = datetime(2026, 1, 1, tzinfo=UTC)
NOW = ISSUED + timedelta(minutes=10)
NODE = "node-7"
LICENSE_ARN = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef"
CONSUMPTION_TOKEN = "0cd7b2bc7c674573a669bea8f5b75f2d"
ENTITLEMENTS = (
    ("Users", "10", "Count"),
    ("Storage", "500", "Gigabytes"),
    ("Premium", None, "None"),
)
METADATA = {"Mac": "ABCDEFGHI", "Host": "build-01"}


@pytest.fixture(scope="module")
def issuer(ps256_issuer: TestIssuer) -> TestIssuer:
    """PS256 over RSA-2048: input handling does not depend on key size, so keep it fast."""
    return ps256_issuer


@pytest.fixture(scope="module")
def verifier(issuer: TestIssuer) -> tv.Verifier:
    return tv.Verifier(
        issuer.registry(), tv.Policy(key_fingerprint=issuer.fingerprint, node_id=NODE)
    )


@pytest.fixture(scope="module")
def response(issuer: TestIssuer) -> dict[str, Any]:
    """A CheckoutLicense response as boto3 returns it (ResponseMetadata included)."""
    return issuer.checkout(
        node_id=NODE,
        entitlements=ENTITLEMENTS,
        issued_at=ISSUED,
        license_arn=LICENSE_ARN,
        license_consumption_token=CONSUMPTION_TOKEN,
    )


@pytest.fixture(scope="module")
def borrow_response(issuer: TestIssuer) -> dict[str, Any]:
    """A CheckoutBorrowLicense response with CheckoutMetadata (list beside, object signed)."""
    return issuer.checkout(
        node_id=NODE,
        entitlements=ENTITLEMENTS,
        issued_at=ISSUED,
        ttl=86400,
        license_arn=LICENSE_ARN,
        license_consumption_token=CONSUMPTION_TOKEN,
        checkout_metadata=METADATA,
        borrow=True,
    )


def fresh(response: dict[str, Any]) -> dict[str, Any]:
    """A copy a test may edit without touching the module-scoped response."""
    return copy.deepcopy(response)


def rejection(action: Callable[[], object]) -> tv.TokenRejected:
    with pytest.raises(tv.TokenRejected) as caught:
        action()
    return caught.value


def assert_expected_checkout(checkout: tv.VerifiedCheckout) -> None:
    """The signed values of the ``response`` fixture."""
    assert checkout.license_arn == LICENSE_ARN
    assert checkout.license_consumption_token == CONSUMPTION_TOKEN
    assert checkout.node_id == NODE
    assert checkout.issued_at == ISSUED
    assert checkout.expiration == ISSUED + timedelta(hours=1)
    assert checkout.entitlements == tuple(tv.Entitlement(*e) for e in ENTITLEMENTS)


# --- accepted forms ------------------------------------------------------------------------


def test_boto3_response_dict_with_response_metadata(
    verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    assert "ResponseMetadata" in response
    assert_expected_checkout(verifier.verify(response, now=NOW))


@pytest.mark.parametrize(
    ("issued", "expires"),
    [
        (ISSUED, ISSUED + timedelta(hours=1)),
        (ISSUED.replace(tzinfo=None), (ISSUED + timedelta(hours=1)).replace(tzinfo=None)),
        (
            ISSUED.astimezone(timezone(timedelta(hours=5, minutes=30))),
            (ISSUED + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-8))),
        ),
    ],
    ids=["aware-utc", "naive-utc", "aware-other-zones"],
)
def test_boto3_response_with_datetime_times(
    issued: datetime, expires: datetime, verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    edited = fresh(response)
    edited["IssuedAt"], edited["Expiration"] = issued, expires
    checkout = verifier.verify(edited, now=NOW)
    assert_expected_checkout(checkout)
    assert checkout.issued_at.tzinfo is not None
    assert checkout.issued_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "encode",
    [
        json.dumps,
        lambda r: json.dumps(r, indent=2) + "\n",
        lambda r: json.dumps(r).encode(),
        lambda r: b"\r\n  " + json.dumps(r, indent=4).encode() + b"\n\n",
        lambda r: bytearray(json.dumps(r).encode()),
        lambda r: memoryview(json.dumps(r).encode()),
    ],
    ids=["str", "str-indented", "bytes", "bytes-padded", "bytearray", "memoryview"],
)
def test_saved_response_json(
    encode: Callable[[dict[str, Any]], object], verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    assert_expected_checkout(verifier.verify(encode(response), now=NOW))


def test_saved_response_json_with_non_ascii_plaintext(
    verifier: tv.Verifier, issuer: TestIssuer
) -> None:
    node = "nœud-7"
    saved = json.dumps(issuer.checkout(node_id=node, issued_at=ISSUED), ensure_ascii=False)
    assert not saved.isascii()
    policy = tv.Policy(key_fingerprint=issuer.fingerprint, node_id=node)
    assert tv.Verifier(verifier.registry, policy).verify(saved, now=NOW).node_id == node


@pytest.mark.parametrize("padding", ["", " ", "\n", "\r\n", "\t \n", "\n\n  \t"])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_bare_token_with_surrounding_whitespace(
    padding: str, as_bytes: bool, verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    text = padding + response["SignedToken"] + padding[::-1]
    source: str | bytes = text.encode("ascii") if as_bytes else text
    assert_expected_checkout(verifier.verify(source, now=NOW))


def test_signed_token_in_response_with_whitespace(
    verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    edited = fresh(response)
    edited["SignedToken"] = "\n" + edited["SignedToken"] + "\r\n"
    assert_expected_checkout(verifier.verify(edited, now=NOW))


def test_signed_token_as_bytes_in_response(verifier: tv.Verifier, response: dict[str, Any]) -> None:
    edited = fresh(response)
    edited["SignedToken"] = edited["SignedToken"].encode("ascii")
    assert_expected_checkout(verifier.verify(edited, now=NOW))


class _FsPath(os.PathLike[str]):
    """An os.PathLike that is not a pathlib.Path."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def __fspath__(self) -> str:
        return str(self._path)


@pytest.mark.parametrize("kind", ["json", "json-indented", "token", "token-crlf"])
@pytest.mark.parametrize("wrap", [Path, _FsPath], ids=["pathlib", "pathlike"])
def test_path_to_saved_file(
    kind: str,
    wrap: Callable[[Path], os.PathLike[str]],
    verifier: tv.Verifier,
    response: dict[str, Any],
    tmp_path: Path,
) -> None:
    path = tmp_path / f"checkout.{kind}"
    content = {
        "json": json.dumps(response),
        "json-indented": json.dumps(response, indent=2) + "\n",
        "token": response["SignedToken"] + "\n",
        "token-crlf": response["SignedToken"] + "\r\n",
    }[kind]
    path.write_bytes(content.encode("ascii"))
    assert_expected_checkout(verifier.verify(wrap(path), now=NOW))


def test_all_forms_give_the_same_checkout(
    verifier: tv.Verifier, response: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "checkout.json"
    path.write_text(json.dumps(response))
    results = [
        verifier.verify(source, now=NOW)
        for source in (response, json.dumps(response), response["SignedToken"], path)
    ]
    assert all(result == results[0] for result in results)


# --- refused forms -------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["absolute", "relative", "dot-relative", "absolute-bytes"])
def test_str_naming_a_file_is_not_read_as_a_path(
    spelling: str,
    verifier: tv.Verifier,
    response: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The file exists and holds a valid checkout: reading it would verify, so a rejection
    # proves the name was taken for a (malformed) token.
    path = tmp_path / "checkout.json"
    path.write_text(json.dumps(response))
    monkeypatch.chdir(tmp_path)
    name = {
        "absolute": str(path),
        "relative": "checkout.json",
        "dot-relative": "./checkout.json",
        "absolute-bytes": os.fsencode(path),
    }[spelling]
    assert rejection(lambda: verifier.verify(name, now=NOW)).reason is tv.Reason.malformed


@pytest.mark.parametrize(
    "source",
    [42, 4.2, None, True, [], ["token"], ("a", "b"), {"SignedToken"}, object()],
    ids=["int", "float", "None", "bool", "empty-list", "list", "tuple", "set", "object"],
)
def test_unsupported_types_are_malformed(source: object, verifier: tv.Verifier) -> None:
    refused = rejection(lambda: verifier.verify(source, now=NOW))
    assert refused.reason is tv.Reason.malformed
    assert type(source).__name__ in refused.description
    verdict = verifier.check(source, now=NOW)
    assert (verdict.ok, verdict.reason, verdict.checkout) == (False, tv.Reason.malformed, None)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.pop("SignedToken"),
        lambda r: r.update(SignedToken=None),
        lambda r: r.update(SignedToken=12345),
        lambda r: r.update(SignedToken=["a.b.c"]),
        lambda r: r.update(SignedToken=""),
        lambda r: r.update(SignedToken="é" + r["SignedToken"]),
    ],
    ids=["missing", "null", "int", "list", "empty", "non-ascii"],
)
def test_response_without_a_usable_signed_token(
    change: Callable[[dict[str, Any]], object], verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    edited = fresh(response)
    change(edited)
    for source in (edited, json.dumps(edited), json.dumps(edited).encode()):
        assert verifier.check(source, now=NOW).reason is tv.Reason.malformed


def test_missing_signed_token_says_what_to_save(
    verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    edited = fresh(response)
    del edited["SignedToken"]
    assert "SignedToken" in rejection(lambda: verifier.verify(edited, now=NOW)).description


@pytest.mark.parametrize(
    "text",
    [
        "{",
        '{"SignedToken": "a.b.c",}',
        '{"SignedToken": "x", "SignedToken": "y"}',  # duplicate names: which one is meant?
        '{"SignedToken": "a.b.c", "Expiration": NaN}',
        "{" * 100_000,
        '{"SignedToken": "\\ud800"}',
        "\ufeff{}",
    ],
    ids=["truncated", "trailing-comma", "duplicate", "nan", "nesting-bomb", "surrogate", "bom"],
)
def test_broken_response_json_is_malformed(text: str, verifier: tv.Verifier) -> None:
    for source in (text, text.encode("utf-8", "surrogatepass")):
        assert verifier.check(source, now=NOW).reason is tv.Reason.malformed


def test_non_utf8_response_is_malformed(verifier: tv.Verifier, response: dict[str, Any]) -> None:
    saved = json.dumps(response).encode()
    latin1 = saved.replace(b'"NodeId": "node-7"', b'"NodeId": "n\xf6de-7"')
    assert latin1 != saved
    # Only a BOM selects another encoding: UTF-16 without one is never guessed.
    for source in (latin1, json.dumps(response).encode("utf-16-le")):
        assert verifier.check(source, now=NOW).reason is tv.Reason.malformed


def test_missing_file_and_directory_are_malformed(verifier: tv.Verifier, tmp_path: Path) -> None:
    for path in (tmp_path / "absent.json", tmp_path):
        verdict = verifier.check(path, now=NOW)
        assert verdict.reason is tv.Reason.malformed
        assert str(path) in verdict.message


def test_oversize_file_is_too_large(
    verifier: tv.Verifier, response: dict[str, Any], tmp_path: Path
) -> None:
    # A valid response padded with whitespace past the limit for a 64 KiB token.
    path = tmp_path / "huge.json"
    path.write_bytes(json.dumps(response).encode() + b" " * (4 * 65536 + 65536))
    assert rejection(lambda: verifier.verify(path, now=NOW)).reason is tv.Reason.too_large


def test_file_limit_follows_max_token_size(
    issuer: TestIssuer, response: dict[str, Any], tmp_path: Path
) -> None:
    small = tv.Verifier(issuer.registry(), max_token_size=512)
    limit = 4 * 512 + 65536
    token = response["SignedToken"].encode()
    path = tmp_path / "checkout.jwt"
    path.write_bytes(token + b"\n" * (limit - len(token)))
    # At the limit the file is read; its token (over 512 characters) is refused by itself.
    refused = rejection(lambda: small.verify(path, now=NOW))
    assert refused.reason is tv.Reason.too_large
    assert "token is" in refused.description
    path.write_bytes(token + b"\n" * (limit - len(token) + 1))
    refused = rejection(lambda: small.verify(path, now=NOW))
    assert refused.reason is tv.Reason.too_large
    assert str(path) in refused.description


@pytest.mark.parametrize("as_bytes", [False, True])
def test_oversize_text_is_too_large(
    as_bytes: bool, verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    text = json.dumps(response) + " " * (4 * 65536 + 65536)
    source: str | bytes = text.encode() if as_bytes else text
    assert rejection(lambda: verifier.verify(source, now=NOW)).reason is tv.Reason.too_large


def test_oversize_token_in_response_is_too_large(
    verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    edited = fresh(response)
    edited["SignedToken"] = "a" * 70_000 + ".b.c"
    assert rejection(lambda: verifier.verify(edited, now=NOW)).reason is tv.Reason.too_large


# --- envelope cross-check: plaintext fields ------------------------------------------------


def envelope_check(verifier: tv.Verifier, response: dict[str, Any], **plaintext: Any) -> tv.Verdict:
    """Verify ``response`` with some plaintext fields replaced, as a dict and as saved JSON."""
    edited = fresh(response)
    edited.update(plaintext)
    verdict = verifier.check(edited, now=NOW)
    if not any(isinstance(value, datetime) for value in plaintext.values()):
        # The saved form of the same response must be decided the same way.
        saved = verifier.check(json.dumps(edited), now=NOW)
        assert (saved.ok, saved.reason) == (verdict.ok, verdict.reason)
    return verdict


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("LicenseArn", LICENSE_ARN.replace("0123", "9999")),
        ("LicenseArn", LICENSE_ARN + " "),
        ("LicenseArn", LICENSE_ARN.upper()),
        ("LicenseArn", ["arn"]),
        ("LicenseConsumptionToken", "ffffffffffffffffffffffffffffffff"),
        ("LicenseConsumptionToken", CONSUMPTION_TOKEN.upper()),
        ("NodeId", "node-8"),
        ("NodeId", "n\u043ede-7"),  # Cyrillic "o"
        ("NodeId", "node-7\u200d"),  # zero-width joiner
        ("NodeId", "node-\uff17"),  # full-width 7
        ("NodeId", ""),
        ("NodeId", 7),
    ],
)
def test_plaintext_string_field_differing_from_signed_is_refused(
    member: str, value: object, verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    verdict = envelope_check(verifier, response, **{member: value})
    assert verdict.reason is tv.Reason.envelope_mismatch
    assert member in verdict.message


@pytest.mark.parametrize("member", ["LicenseArn", "LicenseConsumptionToken", "NodeId"])
def test_plaintext_string_field_equal_to_signed_passes(
    member: str, verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    assert member in response  # the comparison below is not vacuous
    verdict = envelope_check(verifier, response, **{member: response[member]})
    assert verdict.ok, verdict.message


def test_plaintext_checkout_type_is_compared_when_signed(
    verifier: tv.Verifier, issuer: TestIssuer
) -> None:
    response = issuer.checkout(
        node_id=NODE, issued_at=ISSUED, claims={"checkoutType": "PROVISIONAL"}
    )
    assert response["CheckoutType"] == "PROVISIONAL"
    assert verifier.check(response, now=NOW).ok
    verdict = envelope_check(verifier, response, CheckoutType="PERPETUAL")
    assert verdict.reason is tv.Reason.envelope_mismatch


SIGNED_TIMES = {"IssuedAt": ISSUED, "Expiration": ISSUED + timedelta(hours=1)}


@pytest.mark.parametrize("member", sorted(SIGNED_TIMES))
@pytest.mark.parametrize(
    ("shift", "spelling"),
    [
        (timedelta(0), "%Y-%m-%dT%H:%M:%S"),
        (timedelta(0), "%Y-%m-%dT%H:%M:%SZ"),
        (timedelta(0), "%Y-%m-%dT%H:%M:%S+00:00"),
        (timedelta(0), "%Y-%m-%dT%H:%M:%S-00:00"),
        (timedelta(0), "%Y-%m-%dT%H:%M:%S.000Z"),
        (timedelta(0), "%Y-%m-%dT%H:%M:%S.000000"),
        (timedelta(hours=2), "%Y-%m-%dT%H:%M:%S+02:00"),
        (timedelta(hours=-5, minutes=-30), "%Y-%m-%dT%H:%M:%S-05:30"),
    ],
)
def test_plaintext_time_in_another_spelling_of_the_same_instant_passes(
    member: str,
    shift: timedelta,
    spelling: str,
    verifier: tv.Verifier,
    response: dict[str, Any],
) -> None:
    plain = (SIGNED_TIMES[member] + shift).strftime(spelling)
    verdict = envelope_check(verifier, response, **{member: plain})
    assert verdict.ok, f"{plain}: {verdict.message}"


@pytest.mark.parametrize("member", sorted(SIGNED_TIMES))
@pytest.mark.parametrize(
    "spelling",
    [
        "%Y-%m-%dT%H:%M:%S+01:00",  # the same wall clock time, another instant
        "%Y-%m-%dT%H:%M:%S-01:00",
        "%Y-%m-%dT%H:%M:%S.001Z",
        "%Y-%m-%dT%H:%M:%S.999999",
        "%Y-%m-%d %H:%M:%S",  # not AWS's spelling
        "%Y%m%dT%H%M%SZ",
        "%Y-%m-%d",
        "",
    ],
)
def test_plaintext_time_of_another_instant_or_unreadable_is_refused(
    member: str, spelling: str, verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    plain = SIGNED_TIMES[member].strftime(spelling)
    verdict = envelope_check(verifier, response, **{member: plain})
    assert verdict.reason is tv.Reason.envelope_mismatch
    assert member in verdict.message


def test_plaintext_time_one_second_off_is_refused(
    verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    for member, signed in SIGNED_TIMES.items():
        for offset in (timedelta(seconds=1), timedelta(seconds=-1)):
            plain = (signed + offset).strftime("%Y-%m-%dT%H:%M:%S")
            verdict = envelope_check(verifier, response, **{member: plain})
            assert verdict.reason is tv.Reason.envelope_mismatch, plain


@pytest.mark.parametrize("member", sorted(SIGNED_TIMES))
@pytest.mark.parametrize(
    "value", [1767225600, 1767225600.0, True, ["2026-01-01T00:00:00"], {"t": 1}]
)
def test_plaintext_time_of_another_type_is_refused(
    member: str, value: object, verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    verdict = envelope_check(verifier, response, **{member: value})
    assert verdict.reason is tv.Reason.envelope_mismatch


@pytest.mark.parametrize(
    "plain",
    [
        ISSUED + timedelta(seconds=1),
        (ISSUED + timedelta(hours=1)).replace(tzinfo=None),  # naive means UTC: an hour off
        ISSUED.replace(tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_plaintext_datetime_of_another_instant_is_refused(
    plain: datetime, verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    verdict = envelope_check(verifier, response, IssuedAt=plain)
    assert verdict.reason is tv.Reason.envelope_mismatch


def test_token_signing_zoned_times_matches_zone_less_plaintext(
    verifier: tv.Verifier, issuer: TestIssuer
) -> None:
    response = issuer.checkout(
        node_id=NODE,
        issued_at=ISSUED,
        claims={"issuedAt": "2026-01-01T00:00:00Z", "expiration": "2026-01-01T02:00:00+01:00"},
    )
    edited = fresh(response)
    edited["IssuedAt"], edited["Expiration"] = "2026-01-01T00:00:00", "2026-01-01T01:00:00"
    checkout = verifier.verify(edited, now=NOW)
    assert checkout.expiration == ISSUED + timedelta(hours=1)
    edited["Expiration"] = "2026-01-01T02:00:00"  # the signed wall clock, but not its instant
    assert rejection(lambda: verifier.verify(edited, now=NOW)).reason is (
        tv.Reason.envelope_mismatch
    )


# --- envelope cross-check: entitlements as a set -------------------------------------------

EntitlementSpec = tuple[str, str | None, str]


def plain_entitlements(*entries: EntitlementSpec) -> list[dict[str, Any]]:
    """The API's PascalCase spelling of entitlements (no Value for a valueless one)."""
    return [
        {"Name": name, "Unit": unit, **({"Value": value} if value is not None else {})}
        for name, value, unit in entries
    ]


@pytest.mark.parametrize(
    "entries",
    [ENTITLEMENTS, ENTITLEMENTS[::-1], (ENTITLEMENTS[1], ENTITLEMENTS[2], ENTITLEMENTS[0])],
    ids=["same-order", "reversed", "rotated"],
)
def test_plaintext_entitlements_in_any_order_pass(
    entries: tuple[EntitlementSpec, ...], verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    verdict = envelope_check(verifier, response, EntitlementsAllowed=plain_entitlements(*entries))
    assert verdict.ok, verdict.message


def test_plaintext_entitlement_member_order_does_not_matter(
    verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    reordered = [dict(reversed(list(item.items()))) for item in response["EntitlementsAllowed"]]
    assert envelope_check(verifier, response, EntitlementsAllowed=reordered).ok


ENTITLEMENT_CHANGES: dict[str, object] = {
    "value-raised": plain_entitlements(("Users", "1000", "Count"), *ENTITLEMENTS[1:]),
    "value-respelled": plain_entitlements(("Users", "10.0", "Count"), *ENTITLEMENTS[1:]),
    "unit-changed": plain_entitlements(
        ENTITLEMENTS[0], ("Storage", "500", "Terabytes"), ENTITLEMENTS[2]
    ),
    "name-changed": plain_entitlements(("users", "10", "Count"), *ENTITLEMENTS[1:]),
    "value-given-to-flag": plain_entitlements(*ENTITLEMENTS[:2], ("Premium", "1", "None")),
    "extra": plain_entitlements(*ENTITLEMENTS, ("Admins", "5", "Count")),
    "missing": plain_entitlements(*ENTITLEMENTS[:2]),
    "empty": [],
    "not-a-list": {"Name": "Users", "Value": "10", "Unit": "Count"},
    "list-of-strings": ["Users"],
    "camel-case-members": [{"name": n, "value": v, "unit": u} for n, v, u in ENTITLEMENTS],
    "unhashable-value": [
        *plain_entitlements(*ENTITLEMENTS[1:]),
        {"Name": "Users", "Value": ["10"], "Unit": "Count"},
    ],
}


@pytest.mark.parametrize("change", sorted(ENTITLEMENT_CHANGES))
def test_plaintext_entitlements_differing_from_signed_are_refused(
    change: str, verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    verdict = envelope_check(verifier, response, EntitlementsAllowed=ENTITLEMENT_CHANGES[change])
    assert verdict.reason is tv.Reason.envelope_mismatch
    assert "EntitlementsAllowed" in verdict.message


# --- envelope cross-check: checkout metadata -----------------------------------------------


def test_borrow_checkout_metadata_list_matches_signed_object(
    verifier: tv.Verifier, borrow_response: dict[str, Any]
) -> None:
    assert borrow_response["CheckoutMetadata"] == [
        {"Name": "Mac", "Value": "ABCDEFGHI"},
        {"Name": "Host", "Value": "build-01"},
    ]
    checkout = verifier.verify(borrow_response, now=NOW)
    assert dict(checkout.checkout_metadata) == METADATA
    reordered = fresh(borrow_response)
    reordered["CheckoutMetadata"].reverse()
    assert dict(verifier.verify(reordered, now=NOW).checkout_metadata) == METADATA


METADATA_CHANGES: dict[str, object] = {
    "value-changed": [{"Name": "Mac", "Value": "ZZZ"}, {"Name": "Host", "Value": "build-01"}],
    "name-changed": [{"Name": "MAC", "Value": "ABCDEFGHI"}, {"Name": "Host", "Value": "build-01"}],
    "extra": [
        {"Name": "Mac", "Value": "ABCDEFGHI"},
        {"Name": "Host", "Value": "build-01"},
        {"Name": "Seat", "Value": "3"},
    ],
    "missing": [{"Name": "Mac", "Value": "ABCDEFGHI"}],
    "duplicate-name-two-values": [
        {"Name": "Mac", "Value": "ABCDEFGHI"},
        {"Name": "Host", "Value": "build-01"},
        {"Name": "Mac", "Value": "ZZZ"},
    ],
    "duplicate-name-then-missing": [
        {"Name": "Mac", "Value": "ABCDEFGHI"},
        {"Name": "Mac", "Value": "ABCDEFGHI"},
    ],
    "empty": [],
    "object-instead-of-list": dict(METADATA),
    "list-of-strings": ["Mac", "Host"],
    "unhashable-name": [{"Name": ["Mac"], "Value": "ABCDEFGHI"}],
}


def test_plaintext_metadata_repeating_a_pair_agrees_with_the_signed_mapping(
    verifier: tv.Verifier, borrow_response: dict[str, Any]
) -> None:
    """A name repeated with the same value says nothing new: folded as the signed list is
    (tests/aws_shapes/test_claims_shapes.py), so a genuine list with a repeat passes."""
    repeated = [
        {"Name": "Mac", "Value": "ABCDEFGHI"},
        {"Name": "Host", "Value": "build-01"},
        {"Name": "Mac", "Value": "ABCDEFGHI"},
    ]
    verdict = envelope_check(verifier, borrow_response, CheckoutMetadata=repeated)
    assert verdict.ok, verdict.message
    assert verdict.checkout is not None
    assert dict(verdict.checkout.checkout_metadata) == METADATA


@pytest.mark.parametrize("change", sorted(METADATA_CHANGES))
def test_plaintext_metadata_differing_from_signed_is_refused(
    change: str, verifier: tv.Verifier, borrow_response: dict[str, Any]
) -> None:
    verdict = envelope_check(verifier, borrow_response, CheckoutMetadata=METADATA_CHANGES[change])
    assert verdict.reason is tv.Reason.envelope_mismatch
    assert "CheckoutMetadata" in verdict.message


# --- the result exposes signed values only -------------------------------------------------


def test_plaintext_the_token_does_not_sign_never_reaches_the_result(
    verifier: tv.Verifier, issuer: TestIssuer
) -> None:
    # A token that signs no nodeId, entitlements, metadata or SKU: the plaintext beside it
    # has nothing to be compared with, and must not fill those gaps in the result.
    response = issuer.checkout(
        node_id=None,
        issued_at=ISSUED,
        claims={"entitlementsAllowed": None},
        envelope={
            "NodeId": NODE,
            "EntitlementsAllowed": plain_entitlements(("Users", "9999", "Count")),
            "CheckoutMetadata": [{"Name": "Mac", "Value": "ABCDEFGHI"}],
            "ProductSKU": "sku-premium",
        },
    )
    checkout = tv.Verifier(verifier.registry).verify(response, now=NOW)
    assert checkout.node_id is None
    assert checkout.entitlements == ()
    assert dict(checkout.checkout_metadata) == {}
    assert checkout.product_sku is None
    # Nor does the plaintext satisfy a policy that needs what only it claims.
    needs_node = tv.Verifier(verifier.registry, tv.Policy(node_id=NODE))
    # A claim the token does not sign fails as that claim's mismatch (not invalid_claims).
    assert needs_node.check(response, now=NOW).reason is tv.Reason.node_mismatch
    needs_users = tv.Verifier(verifier.registry, tv.Policy(requirements=[tv.Requirement("Users")]))
    assert needs_users.check(response, now=NOW).reason is tv.Reason.entitlement_missing


def test_result_fields_come_from_the_signed_payload(
    verifier: tv.Verifier, borrow_response: dict[str, Any]
) -> None:
    checkout = verifier.verify(borrow_response, now=NOW)
    payload = dict(checkout.claims)
    assert "SignedToken" not in payload
    assert "ResponseMetadata" not in payload
    assert payload["licenseArn"] == checkout.license_arn == LICENSE_ARN
    assert payload["nodeId"] == checkout.node_id == NODE
    assert payload["issuedAt"] == "2026-01-01T00:00:00"
    assert checkout.issued_at == ISSUED
    assert checkout.expiration == ISSUED + timedelta(days=1)
    assert checkout.checkout_type is None  # a borrow response has no CheckoutType at all
    assert checkout.algorithm == "PS256"
    assert set(checkout.header) == {"alg", "typ"}
    with pytest.raises(AttributeError):
        checkout.node_id = "node-8"  # type: ignore[misc]


# --- every non-token input ends in TokenRejected (issue 8, item 7) -------------------------


@pytest.mark.parametrize(
    "source",
    [
        {},
        {"NodeId": NODE},
        {"SignedToken": {"nested": "a.b.c"}},
        b"\x00\xff garbage \x80",
        b"",
        "",
        "   \r\n",
        "not a token at all",
        bytearray(b"\xfe\xff\x00"),  # a UTF-16 BE BOM with half a character
        1 + 2j,
        frozenset({"SignedToken"}),
        range(4),
        type,
        print,
    ],
    ids=[
        "empty-dict",
        "dict-without-token",
        "nested-token",
        "garbage-bytes",
        "empty-bytes",
        "empty-str",
        "whitespace",
        "prose",
        "broken-bom",
        "complex",
        "frozenset",
        "range",
        "type",
        "function",
    ],
)
def test_any_other_value_is_rejected_never_raised_otherwise(
    source: object, verifier: tv.Verifier
) -> None:
    refused = rejection(lambda: verifier.verify(source, now=NOW))
    assert refused.reason in (tv.Reason.malformed, tv.Reason.too_large)
    assert verifier.check(source, now=NOW).ok is False


_ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=60)
    | st.binary(max_size=60)
    | st.builds(object)
    | st.complex_numbers()
    | st.decimals()
    | st.datetimes()
    | st.sampled_from(["eyJhbGciOiJQUzI1NiJ9.e30.c2ln", "{", "\ufeff{}", "-----BEGIN X"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.sets(st.integers() | st.text(max_size=5), max_size=3)
        | st.tuples(children, children)
        | st.dictionaries(
            st.sampled_from(["SignedToken", "NodeId", "IssuedAt", "SigningAlgorithms"])
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)


# Built-in and stdlib types hypothesis can make instances of (st.from_type of any type is
# open-ended: it may resolve a Path to a device file or fail to resolve at all).
_TYPES = st.sampled_from(
    [int, float, complex, bool, str, bytes, bytearray, list, dict, set, frozenset, tuple,
     Decimal, Fraction, datetime, timedelta, uuid.UUID, range, type(None)]
)  # fmt: skip


@given(source=_ANY_VALUE | _TYPES.flatmap(st.from_type))
def test_verify_of_any_value_raises_only_token_rejected(
    source: object, verifier: tv.Verifier
) -> None:
    with pytest.raises(tv.TokenRejected) as refusal:
        verifier.verify(source, now=NOW)
    assert refusal.value.description
    verdict = verifier.check(source, now=NOW)
    assert verdict.ok is False
    assert verdict.checkout is None
