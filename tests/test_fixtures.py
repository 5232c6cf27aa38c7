"""The committed fixtures decide as fixtures/manifest.json says, and the script remakes them.

``fixtures/make_fixtures.py`` writes TEST-ONLY keys, a keys file, saved checkouts and the
manifest; these tests load the committed files the way a product would (``KeyRegistry.load``
and a ``Path``) and check every outcome, every file's coverage and the TEST-ONLY marking.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

import tokenverify as tv
from tokenverify._keys import thumbprint

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CHECKOUTS = FIXTURES / "checkouts"
KEYS = FIXTURES / "keys"
TEST_ONLY_PREFIX = "TEST-ONLY-never-trust_"
TEST_ONLY_LABEL = "TEST ONLY - never trust"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text())
ENTRIES: list[dict[str, Any]] = MANIFEST["checkouts"]
POLICY_FIELDS = {
    "key_fingerprint",
    "node_id",
    "license_arn",
    "product_sku",
    "requirements",
    "leeway",
}


def entry_id(entry: dict[str, Any]) -> str:
    return f"{Path(entry['file']).name}:{entry['expected']}"


def policy_from(document: dict[str, Any]) -> tv.Policy:
    """A Policy from the manifest's JSON form; unknown fields fail rather than being ignored."""
    assert set(document) <= POLICY_FIELDS, set(document) - POLICY_FIELDS
    requirements = [
        tv.Requirement(item["name"], unit=item.get("unit"), minimum=item.get("minimum"))
        for item in document.get("requirements", [])
    ]
    return tv.Policy(
        key_fingerprint=document.get("key_fingerprint"),
        node_id=document.get("node_id"),
        license_arn=document.get("license_arn"),
        product_sku=document.get("product_sku"),
        requirements=requirements,
        leeway=document.get("leeway", 60),
    )


def decide(registry: tv.KeyRegistry, entry: dict[str, Any], source: object) -> tv.Verdict:
    verifier = tv.Verifier(registry, policy_from(entry["policy"]))
    return verifier.check(source, now=datetime.fromisoformat(entry["now"]))


def outcome(verdict: tv.Verdict) -> str:
    return "ok" if verdict.ok else str(verdict.reason)


@pytest.fixture(scope="module")
def registry() -> tv.KeyRegistry:
    return tv.KeyRegistry.load(FIXTURES / MANIFEST["keys_file"])


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry_id(e) for e in ENTRIES])
def test_fixture_decides_as_the_manifest_says(
    entry: dict[str, Any], registry: tv.KeyRegistry
) -> None:
    verdict = decide(registry, entry, FIXTURES / entry["file"])
    assert outcome(verdict) == entry["expected"], f"{entry['description']}: {verdict.message}"
    if not verdict.ok:
        assert verdict.checkout is None
        return
    checkout = verdict.checkout
    assert checkout is not None
    signed = entry.get("signed")
    if signed is None:
        return
    assert checkout.license_arn == signed["license_arn"]
    assert checkout.license_consumption_token == signed["license_consumption_token"]
    assert checkout.node_id == signed["node_id"]
    assert checkout.issued_at == datetime.fromisoformat(signed["issued_at"])
    assert checkout.expiration == datetime.fromisoformat(signed["expiration"])
    assert checkout.entitlements == tuple(tv.Entitlement(*e) for e in signed["entitlements"])
    assert dict(checkout.checkout_metadata) == signed["checkout_metadata"]
    assert checkout.algorithm == signed["algorithm"]
    assert checkout.key_fingerprint == signed["key_fingerprint"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry_id(e) for e in ENTRIES])
def test_fixture_decides_the_same_in_every_input_form(
    entry: dict[str, Any], registry: tv.KeyRegistry
) -> None:
    data = (FIXTURES / entry["file"]).read_bytes()
    forms: list[object] = [data, data.decode("utf-8")]
    if data.lstrip().startswith(b"{"):
        forms.append(json.loads(data))  # the boto3 response dict it was saved from
    for source in forms:
        assert outcome(decide(registry, entry, source)) == entry["expected"], type(source)


def test_manifest_covers_every_checkout_file() -> None:
    on_disk = {f"checkouts/{path.name}" for path in CHECKOUTS.iterdir()}
    listed = {entry["file"] for entry in ENTRIES}
    assert on_disk == listed
    assert all((FIXTURES / name).is_file() for name in listed)


def test_manifest_expectations_are_reasons() -> None:
    reasons = {reason.value for reason in tv.Reason}
    for entry in ENTRIES:
        assert entry["expected"] == "ok" or entry["expected"] in reasons, entry
        assert datetime.fromisoformat(entry["now"]).tzinfo is not None, entry
        if entry["expected"] == "ok":
            assert "signed" in entry, entry  # an accepted checkout says what it must contain


def test_manifest_keeps_the_required_cases() -> None:
    # The cases the fixture set exists for; deleting one must be a deliberate act.
    first: dict[str, str] = {}
    for entry in ENTRIES:  # a file's first entry is its own case; later ones vary the policy
        first.setdefault(Path(entry["file"]).name, entry["expected"])
    assert first == {
        "valid.json": "ok",
        "expired.json": "expired",
        "wrong-node.json": "node_mismatch",
        "tampered-envelope.json": "envelope_mismatch",
        "wrong-key.json": "bad_signature",
        "tampered-signature.json": "bad_signature",
        "tampered-payload.json": "bad_signature",
        "bare-token.jwt": "ok",
        "borrow-with-metadata.json": "ok",
        "ps256-rsa2048.json": "ok",
        "es384.json": "ok",
    }


def test_saved_checkouts_have_the_promised_shape(registry: tv.KeyRegistry) -> None:
    borrow = json.loads((CHECKOUTS / "borrow-with-metadata.json").read_text())
    assert borrow["CheckoutMetadata"] == [{"Name": "Mac", "Value": "ABCDEFGHI"}]
    assert "CheckoutType" not in borrow
    bare = (CHECKOUTS / "bare-token.jwt").read_text()
    assert bare.endswith("\n")
    assert bare.count(".") == 2
    assert not bare.lstrip().startswith("{")
    for name, algorithm, description in (
        ("ps256-rsa2048.json", "PS256", "RSA-2048 key"),
        ("es384.json", "ES384", "EC secp384r1 key"),
    ):
        token = json.loads((CHECKOUTS / name).read_text())["SignedToken"]
        fingerprint = fingerprint_for(name)
        header, _ = tv.verify_compact(token, registry, fingerprint)
        assert header["alg"] == algorithm
        (key,) = registry.keys(fingerprint)
        assert key.description == description


def fingerprint_for(name: str) -> str:
    """The key fingerprint the manifest verifies checkout ``name`` under."""
    fingerprint: str = next(
        entry["policy"]["key_fingerprint"]
        for entry in ENTRIES
        if entry["file"] == f"checkouts/{name}"
    )
    return fingerprint


# --- the keys ------------------------------------------------------------------------------


def private_keys() -> dict[str, Any]:
    """Each TEST-ONLY private key by issuer name."""
    keys = {}
    for path in sorted(KEYS.glob("*.private.pem")):
        name = path.name.removeprefix(TEST_ONLY_PREFIX).removesuffix(".private.pem")
        keys[name] = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return keys


def test_every_key_file_is_marked_test_only() -> None:
    names = [path.name for path in KEYS.iterdir()]
    assert names
    assert all(name.startswith(TEST_ONLY_PREFIX) for name in names), names
    assert TEST_ONLY_LABEL in (FIXTURES / "README.md").read_text()
    assert TEST_ONLY_LABEL in MANIFEST["about"]
    document = json.loads((FIXTURES / "keys.json").read_text())
    assert all(TEST_ONLY_LABEL in entry["label"] for entry in document["keys"])


def test_private_keys_are_pkcs8_and_match_their_public_files() -> None:
    for path in KEYS.glob("*.private.pem"):
        assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----\n"), path.name
        public_path = path.with_name(path.name.replace(".private.pem", ".public.pem"))
        public = serialization.load_pem_public_key(public_path.read_bytes())
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert thumbprint(private.public_key()) == thumbprint(public), path.name  # type: ignore[arg-type]


def test_keys_file_trusts_the_issuers_and_not_the_untrusted_key(registry: tv.KeyRegistry) -> None:
    assert "PRIVATE" not in (FIXTURES / "keys.json").read_text()
    trusted = {key.thumbprint for key in registry}
    keys = private_keys()
    assert set(keys) == {
        "issuer-ps384-rsa4096",
        "issuer-ps256-rsa2048",
        "issuer-es384-p384",
        "untrusted-ps384-rsa2048",
    }
    for name, key in keys.items():
        assert (thumbprint(key.public_key()) in trusted) == name.startswith("issuer-"), name
    descriptions = {key.description for key in registry}
    assert descriptions == {"RSA-4096 key", "RSA-2048 key", "EC secp384r1 key"}


# --- the script ----------------------------------------------------------------------------


def without_signatures(path: Path) -> object:
    """A saved checkout with its signature removed: everything else must be reproducible."""
    text = path.read_text()
    if path.suffix == ".jwt":
        return text.rsplit(".", 1)[0]
    document = json.loads(text)
    document["SignedToken"] = document["SignedToken"].rsplit(".", 1)[0]
    return document


def test_script_reuses_the_keys_and_remakes_the_same_fixtures(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    for path in KEYS.glob("*.private.pem"):
        shutil.copy(path, tmp_path / "keys" / path.name)
    subprocess.run(
        [sys.executable, str(FIXTURES / "make_fixtures.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # The same keys (no new key generated), and byte-identical keys file and manifest.
    for path in KEYS.iterdir():
        assert (tmp_path / "keys" / path.name).read_bytes() == path.read_bytes(), path.name
    assert (tmp_path / "keys.json").read_bytes() == (FIXTURES / "keys.json").read_bytes()
    assert (tmp_path / "manifest.json").read_bytes() == (FIXTURES / "manifest.json").read_bytes()
    remade = sorted(path.name for path in (tmp_path / "checkouts").iterdir())
    assert remade == sorted(path.name for path in CHECKOUTS.iterdir())
    for name in remade:
        assert without_signatures(tmp_path / "checkouts" / name) == without_signatures(
            CHECKOUTS / name
        ), name
    # Fresh signatures decide exactly as the committed ones.
    registry = tv.KeyRegistry.load(tmp_path / "keys.json")
    for entry in ENTRIES:
        assert outcome(decide(registry, entry, tmp_path / entry["file"])) == entry["expected"]
