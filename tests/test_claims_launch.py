"""The launch decoder (``_claims_launch``, stdlib json) against msgspec's (``_claims``).

A launch check decodes its payload without importing msgspec; both decoders must give the
same verdict and the same values. ``tests/conftest.py`` runs every payload of the suite
through both (``launch_paths.both_decoders``); here the whole hostile suite is verified
end to end on each path, the launch decoder is shown to accept what AWS signs (so that
agreement is not the vacuous kind), and fresh processes show what a launch imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hostile
import tokenverify as tv
from hostile import VERIFY_AT
from launch_paths import CLAIMS_VIEWS, LAUNCH_TYPES, claims_values, launch_first
from test_threats import CASES, CONTROLS
from tokenverify import _claims, _claims_launch
from tokenverify._trust_export import export_module
from tokenverify.testing import TestIssuer

Decoder = Callable[[bytes], Any]
FINGERPRINT = "aws:111122223333:Launch Test:issuer-fingerprint"


def _checkout_values(checkout: tv.VerifiedCheckout | None) -> dict[str, Any] | None:
    if checkout is None:
        return None
    return {
        "license_arn": checkout.license_arn,
        "license_consumption_token": checkout.license_consumption_token,
        "node_id": checkout.node_id,
        "issued_at": checkout.issued_at,
        "expiration": checkout.expiration,
        "entitlements": checkout.entitlements,
        "checkout_metadata": dict(checkout.checkout_metadata),
        "product_sku": checkout.product_sku,
        "checkout_type": checkout.checkout_type,
        "claims": json.dumps(dict(checkout.claims), sort_keys=True),
        "key": (checkout.key_fingerprint, checkout.key_thumbprint, checkout.algorithm),
    }


def _outcome(
    monkeypatch: pytest.MonkeyPatch, decoder: Decoder, verifier: tv.Verifier, source: object
) -> tuple[object, ...]:
    """Verdict and values of ``check`` and of ``verify`` with ``decoder`` doing the payload."""
    monkeypatch.setattr("tokenverify._verifier.parse_claims", decoder)
    verdict = verifier.check(source, now=VERIFY_AT)
    try:
        verifier.verify(source, now=VERIFY_AT)
    except tv.TokenRejected as rejection:
        signed = _checkout_values(rejection.signed_checkout)
    else:
        signed = None
    return verdict.ok, verdict.reason, verdict.message, _checkout_values(verdict.checkout), signed


@pytest.mark.parametrize(
    ("verifier", "source"),
    [pytest.param(case.verifier(), case.source, id=case.case_id) for case in CASES]
    + [
        pytest.param(
            tv.Verifier(control.registry, control.policy), control.source, id=control.case_id
        )
        for control in CONTROLS
    ],
)
def test_hostile_suite_gets_one_verdict_from_both_decoders(
    monkeypatch: pytest.MonkeyPatch, verifier: tv.Verifier, source: object
) -> None:
    at_launch = _outcome(monkeypatch, launch_first, verifier, source)
    with_msgspec = _outcome(monkeypatch, _claims.parse_claims, verifier, source)
    assert at_launch == with_msgspec


@pytest.mark.parametrize("control", CONTROLS, ids=[control.case_id for control in CONTROLS])
def test_launch_decoder_itself_accepts_every_near_miss(control: hostile.Control) -> None:
    """Agreement means something only where the launch decoder does decide."""
    seen: list[bytes] = []

    def recording(payload: bytes) -> Any:
        seen.append(payload)
        return _claims.parse_claims(payload)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tokenverify._verifier.parse_claims", recording)
        tv.Verifier(control.registry, control.policy).verify(control.source, now=VERIFY_AT)
    assert len(seen) == 1
    light = _claims_launch.decode_light(seen[0])
    assert light is not None
    assert claims_values(light) == claims_values(_claims.parse_claims(seen[0]))


def test_the_launch_classes_have_every_field_and_view_of_what_they_stand_for() -> None:
    """A field or view added to _claims must be added here too, or this fails."""
    assert set(_claims_launch.LaunchClaims.__slots__) == set(_claims.Claims._fields)
    for view in (*CLAIMS_VIEWS, "raw"):
        assert callable(getattr(_claims_launch.LaunchClaims, view, None)) or isinstance(
            getattr(_claims_launch.LaunchClaims, view, None), property
        ), view
    for launch, typed in LAUNCH_TYPES.items():
        assert set(launch.__slots__) == set(typed.__struct_fields__), launch  # type: ignore[attr-defined]


def _payload(issuer: TestIssuer, **options: Any) -> bytes:
    token = issuer.checkout(**options)["SignedToken"]
    return tv.verify_compact(token, issuer.registry())[1]


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="default-padded"),
        pytest.param({"min_token_length": 0}, id="aws-sample-shape"),
        pytest.param({"checkout_metadata": {"Mac": "0A:1B"}, "borrow": True}, id="metadata-object"),
        pytest.param({"checkout_metadata": {"Mac": "0A"}, "metadata_shape": "list"}, id="pairs"),
        pytest.param(
            {"checkout_metadata": {"Mac": "0A"}, "metadata_shape": "api-list"}, id="api-pairs"
        ),
        pytest.param({"entitlements": [("Feature.X", None, "None")]}, id="valueless"),
        pytest.param({"entitlements": []}, id="no-entitlements"),
        pytest.param({"node_id": None}, id="no-node"),
        pytest.param(
            {
                "claims": {
                    "issuedAt": None,
                    "expiration": None,
                    "iat": 1_700_000_000,
                    "exp": 4_100_000_000,
                }
            },
            id="numeric",
        ),
        pytest.param(
            {"claims": {"issuedAt": None, "expiration": None, "iat": 1_700_000_000.5, "exp": 4e9}},
            id="float-iat",
        ),
        pytest.param({"claims": {"nbf": 1_600_000_000, "productSKU": "SKU-1"}}, id="nbf-sku"),
        pytest.param({"claims": {"checkoutType": "PERPETUAL", "keyFingerprint": "k"}}, id="type"),
        pytest.param({"claims": {"note": {"nested": [1, 2.5, None, True, "é"]}}}, id="extra"),
        pytest.param(
            {
                "claims": {
                    "entitlementsAllowed": [
                        {"name": "Users", "unit": "Count", "value": "5", "overage": True}
                    ]
                }
            },
            id="extra-entitlement-member",
        ),
    ],
)
def test_launch_decoder_decides_what_aws_and_test_issuers_sign(
    ps256_issuer: TestIssuer, options: dict[str, Any]
) -> None:
    payload = _payload(ps256_issuer, **options)
    light = _claims_launch.decode_light(payload)
    assert light is not None
    assert claims_values(light) == claims_values(_claims.parse_claims(payload))


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"licenseArn": 7}, id="wrong-type"),
        pytest.param({"iat": True}, id="bool-numeric-date"),
        pytest.param({"entitlementsAllowed": [{"name": "Users", "unit": "Cnt"}]}, id="unit"),
        pytest.param({"checkoutMetadata": [{"Name": "a", "value": "b"}]}, id="mixed-pair"),
        pytest.param(
            {"checkoutMetadata": [{"Name": "a", "Value": "b"}, {"Name": "a", "Value": "c"}]},
            id="two-values",
        ),
        pytest.param({"expiration": "2020-01-01T00:00:00Z"}, id="before-issue"),
        pytest.param({"licenseConsumptionToken": None}, id="missing"),
    ],
)
def test_launch_decoder_leaves_every_refusal_to_msgspec(
    ps256_issuer: TestIssuer, claims: dict[str, Any]
) -> None:
    """It never refuses: what it is unsure of, msgspec's decoder decides, message and all."""
    response = ps256_issuer.checkout(claims=claims)
    payload = tv.verify_compact(response["SignedToken"], ps256_issuer.registry())[1]
    assert _claims_launch.decode_light(payload) is None
    with pytest.raises(tv.TokenRejected) as typed:
        _claims.parse_claims(payload)
    with pytest.raises(tv.TokenRejected) as dispatched:
        _claims_launch.parse_claims(payload)  # _claims is imported here: it decides
    assert (dispatched.value.reason, dispatched.value.description) == (
        typed.value.reason,
        typed.value.description,
    )


# A fresh process, as a product starts: what it imports and which decoder decides.
#: Packages a launch must not import: each costs milliseconds that a launch never earns back
#: (msgspec ~11 ms, pydantic ~110 ms, pathlib ~4 ms, decimal ~2 ms; measured, README).
WATCHED = ("msgspec", "pydantic", "pydantic_core", "pathlib", "decimal", "typing_extensions")
WATCHED_TOKENVERIFY = (
    "tokenverify._claims",
    "tokenverify.formats._keys_file",
    "tokenverify._sniff",
    "tokenverify._clock",
    "tokenverify._revocation",
    "tokenverify.testing",
    "tokenverify.cli",
)
_LAUNCH = textwrap.dedent(
    """\
    import json, sys

    import tokenverify as tv
    import trust_anchors

    verifier = tv.Verifier(
        trust_anchors.registry(),
        tv.Policy(key_fingerprint={fingerprint!r}, node_id="node-1",
                  requirements=[tv.Requirement("Users", unit="Count", minimum=5)]),
    )
    with open(sys.argv[1], "rb") as handle:
        saved = handle.read()
    checkouts = [verifier.check(saved) for _ in range(int(sys.argv[2]))]
    keys_file = tv.Verifier(tv.KeyRegistry.load(sys.argv[3])).check(saved)
    print(json.dumps({{
        "ok": [verdict.ok for verdict in checkouts] + [keys_file.ok],
        "modules": sorted(name for name in sys.modules if name.split(".")[0] in {watched!r}
                          or name in {watched_tokenverify!r}),
    }}))
    """
)


def _launch(folder: Path, issuer: TestIssuer, checks: int) -> dict[str, Any]:
    checkout = folder / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout(entitlements=[("Users", "10", "Count")])))
    registry = issuer.registry()
    registry.save(folder / "keys.json")
    (folder / "trust_anchors.py").write_text(export_module(registry), encoding="utf-8")
    script = folder / "launch.py"
    script.write_text(
        _LAUNCH.format(
            fingerprint=issuer.fingerprint,
            watched=WATCHED,
            watched_tokenverify=WATCHED_TOKENVERIFY,
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script), str(checkout), str(checks), str(folder / "keys.json")],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_launch_imports_nothing_it_does_not_use(tmp_path: Path, ps256_issuer: TestIssuer) -> None:
    result = _launch(tmp_path, ps256_issuer, checks=1)
    assert result["ok"] == [True, True]
    assert result["modules"] == []


def test_a_long_running_process_moves_to_msgspec_once_it_pays(
    tmp_path: Path, ps256_issuer: TestIssuer
) -> None:
    before = _launch(tmp_path, ps256_issuer, checks=_claims_launch.LIGHT_PAYLOADS - 1)
    assert "msgspec" not in before["modules"]
    after = _launch(tmp_path, ps256_issuer, checks=_claims_launch.LIGHT_PAYLOADS + 1)
    assert "msgspec" in after["modules"]
    assert "tokenverify._claims" in after["modules"]
    assert all(after["ok"])
