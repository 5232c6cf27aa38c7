"""The audit's fast per-token paths against the straightforward code they replaced.

Two shortcuts build every record and every jsonl line: ``entitlement_triples`` reads the
signed entitlements straight from the checkout's claims (not through the public
``entitlements`` property), and ``jsonl_line`` encodes a record once for both the writer
and the summary's digest. Each is run here beside the code it replaced, which is kept in
this file as the reference: the same records, the same bytes, on the hostile suite
through both claims decoders, on generated entitlement lists and on hostile text.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tokenverify as tv
from hostile import VERIFY_AT
from launch_paths import launch_first
from test_threats import CASES, CONTROLS
from tokenverify import _claims, audit
from tokenverify._units import UNITS
from tokenverify.audit import Auditor, AuditRecord
from tokenverify.audit._record import check_one, entitlement_triples, iso_utc, jsonl_line
from tokenverify.testing import TestIssuer

from .support import NODE, Store

Decoder = Callable[[bytes], Any]
_REFERENCE_ENCODE = msgspec.json.Encoder().encode
FINGERPRINT = "aws:111122223333:Fast Path Test:issuer-fingerprint"
ISSUER = TestIssuer.generate("ES256", fingerprint=FINGERPRINT)
VERIFIER = tv.Verifier(ISSUER.registry())


def _reference_triples(checkout: tv.VerifiedCheckout) -> tuple[tuple[str, str | None, str], ...]:
    """What the audit built before: through the public property."""
    return tuple((e.name, e.value, e.unit) for e in checkout.entitlements)


def _reference_record(
    verifier: tv.Verifier, source: str, payload: object, now: float
) -> AuditRecord:
    """``check_one`` as it was, with the public property's entitlements."""
    reason: tv.Reason | None = None
    message = "valid"
    try:
        checkout = verifier.verify(payload, now)
    except tv.TokenRejected as rejection:
        signed = rejection.signed_checkout
        if signed is None:
            return AuditRecord(
                source, False, rejection.reason, None, None, None, None, None, None,
                rejection.description,
            )  # fmt: skip
        checkout, reason, message = signed, rejection.reason, rejection.description
    return AuditRecord(
        source,
        reason is None,
        reason,
        checkout.license_arn,
        checkout.node_id,
        checkout.key_fingerprint,
        iso_utc(checkout.expiration),
        iso_utc(checkout.issued_at),
        checkout.license_consumption_token,
        message,
        _reference_triples(checkout),
    )


def _reference_line(record: AuditRecord) -> bytes:
    return _REFERENCE_ENCODE(record) + b"\n"


def _assert_plain(record: AuditRecord) -> None:
    # Plain tuples, as before: not Entitlement named tuples nor claim structs.
    if record.entitlements is not None:
        assert type(record.entitlements) is tuple
        assert all(type(triple) is tuple and len(triple) == 3 for triple in record.entitlements)


_SUITE = [pytest.param(case.verifier(), case.source, id=case.case_id) for case in CASES] + [
    pytest.param(tv.Verifier(control.registry, control.policy), control.source, id=control.case_id)
    for control in CONTROLS
]


@pytest.mark.parametrize("decoder", [launch_first, _claims.parse_claims], ids=["launch", "msgspec"])
@pytest.mark.parametrize(("verifier", "source"), _SUITE)
def test_hostile_suite_gives_the_same_records_and_lines(
    monkeypatch: pytest.MonkeyPatch, decoder: Decoder, verifier: tv.Verifier, source: object
) -> None:
    monkeypatch.setattr("tokenverify._verifier.parse_claims", decoder)
    fast = check_one(verifier, "suite.jsonl:1", source, VERIFY_AT)
    reference = _reference_record(verifier, "suite.jsonl:1", source, VERIFY_AT)
    assert fast == reference
    _assert_plain(fast)
    assert jsonl_line(fast) == _reference_line(reference)
    assert jsonl_line(fast) == _reference_line(fast)  # the remembered line, asked again


def test_the_suite_holds_signed_entitlements_from_both_decoders() -> None:
    """The comparison above is not vacuous: genuine checkouts with entitlements, on both
    claims decoders (the launch one holds its own entitlement objects)."""
    kinds: set[str] = set()
    for control in CONTROLS:
        checkout = tv.Verifier(control.registry, control.policy).verify(control.source, VERIFY_AT)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("tokenverify._verifier.parse_claims", launch_first)
            light = tv.Verifier(control.registry, control.policy).verify(control.source, VERIFY_AT)
        for one in (checkout, light):
            if one.entitlements:
                signed = one._claims.entitlements
                assert signed is not None
                kinds.add(type(signed[0]).__name__)
                assert entitlement_triples(one) == _reference_triples(one)
    assert {"SignedEntitlement", "LaunchEntitlement"} <= kinds


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("\x00\n\u202e\u2028"),
    max_size=12,
)
_ENTITLEMENT = st.tuples(_TEXT.filter(bool), st.none() | _TEXT, st.sampled_from(sorted(UNITS)))


@settings(max_examples=60, deadline=None)
@given(
    entitlements=st.lists(_ENTITLEMENT, max_size=50),
    node_id=st.none() | _TEXT.filter(bool),
    at=st.sampled_from(["issued", "now", "late"]),
)
def test_generated_checkouts_give_the_same_records_and_lines(
    entitlements: list[tuple[str, str | None, str]], node_id: str | None, at: str
) -> None:
    response = ISSUER.checkout(node_id=node_id, entitlements=entitlements, ttl=3600)
    token = response["SignedToken"]
    # Valid, not yet valid, expired: genuine records with and without a reason.
    moment = {"issued": time.time() - 86400, "now": time.time(), "late": 1e10}[at]
    for payload in (token, response):
        fast = check_one(VERIFIER, "generated", payload, moment)
        reference = _reference_record(VERIFIER, "generated", payload, moment)
        assert fast == reference
        _assert_plain(fast)
        assert jsonl_line(fast) == _reference_line(reference)


_HOSTILE_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from('\x00\x1b\x7f\u202e\u2066\u2028\ufeff"\\/'),
    max_size=40,
)
_MAYBE = st.none() | _HOSTILE_TEXT
_RECORDS = st.builds(
    AuditRecord,
    source=_HOSTILE_TEXT,
    ok=st.booleans(),
    reason=st.none() | st.sampled_from(list(tv.Reason)),
    license_arn=_MAYBE,
    node_id=_MAYBE,
    key_fingerprint=_MAYBE,
    expiration=_MAYBE,
    issued_at=_MAYBE,
    license_consumption_token=_MAYBE,
    message=_HOSTILE_TEXT,
    entitlements=st.none()
    | st.lists(st.tuples(_HOSTILE_TEXT, _MAYBE, _HOSTILE_TEXT), max_size=5).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(records=st.lists(_RECORDS, min_size=1, max_size=8), order=st.randoms())
def test_jsonl_line_is_the_reference_encoding_in_any_order(
    records: list[AuditRecord], order: Any
) -> None:
    """Lone surrogates, control, bidi and non-ASCII characters; a record asked for again
    right away, later, or never; equal records that are distinct objects."""
    calls = [*records, *records, *(msgspec.structs.replace(r) for r in records)]
    order.shuffle(calls)
    for record in calls:
        assert jsonl_line(record) == _reference_line(record)
        assert jsonl_line(record) == _reference_line(record)


def test_audit_run_writes_and_hashes_the_reference_lines(
    store: Store, in_store_parent: Path
) -> None:
    """The whole jsonl output and the summary's digest, byte for byte."""
    auditor = Auditor(store.keys, tv.Policy(node_id=NODE), at=store.at)
    stdout = io.BytesIO()
    summary = audit.run(["store"], auditor, format="jsonl", workers=1, stdout=stdout)
    records = list(Auditor(store.keys, tv.Policy(node_id=NODE), at=store.at).run(["store"]))
    expected = b"".join(_reference_line(record) for record in records)
    assert len(records) == len(store.entries) > 0
    assert stdout.getvalue() == expected
    assert summary.results_sha256 == hashlib.sha256(expected).hexdigest()
