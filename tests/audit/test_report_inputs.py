"""What the audit reports from: grants, license files, revocations, skipped files,
provenance and its results digest; ``verify --at issued``."""

from __future__ import annotations

import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import tokenverify as tv
from tokenverify import audit
from tokenverify.audit import Grant, GrantError, grants_from, load_license, parse_grant

from .conftest import run_tokenverify
from .support import NODE, Store

ARN = "arn:aws:license-manager::111122223333:license:l-0123"


# -- grants ----------------------------------------------------------------------------


def test_grant_values_parse_with_and_without_unit() -> None:
    assert parse_grant(f"{ARN}:Users=10") == Grant(
        ARN, "Users", Decimal(10), None, False, None, "--grant"
    )
    assert parse_grant(f"{ARN}:Storage=2 Terabytes").unit == "Terabytes"
    assert parse_grant(f"{ARN}:Storage=2.5Gigabytes").max_count == Decimal("2.5")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Users=10", "is not LICENSE_ARN:NAME=QUANTITY"),
        (f"{ARN}:Users", "is not LICENSE_ARN:NAME=QUANTITY"),
        (f"{ARN}:=10", "names no entitlement"),
        (f"{ARN}:Users=ten", "is not a quantity"),
        (f"{ARN}:Users=-1", "is not a quantity"),
        (f"{ARN}:Users=10 Seats", "unknown unit 'Seats'"),
    ],
)
def test_bad_grant_values_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(GrantError, match=says):
        parse_grant(text)


def _license(tmp_path: Path, entitlements: object, name: str = "license.json") -> Path:
    document = {"License": {"LicenseArn": ARN, "Entitlements": entitlements, "Status": "AVAILABLE"}}
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_get_license_json_gives_max_count_grants(tmp_path: Path) -> None:
    path = _license(
        tmp_path,
        [
            {
                "Name": "Users",
                "Unit": "Count",
                "MaxCount": 25,
                "Overage": True,
                "AllowCheckIn": True,
            },
            {"Name": "Feature.Reporting", "Unit": "None"},  # no MaxCount: no limit
        ],
    )
    (grant,) = load_license(path)
    assert (grant.entitlement, grant.max_count, grant.unit) == ("Users", Decimal(25), "Count")
    assert grant.overage
    assert grant.allow_check_in
    assert grant.origin == str(path)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not json", "is not JSON"),
        ('{"Licenses": []}', "is not a get-license document"),
        (json.dumps({"License": {"LicenseArn": ARN, "Entitlements": {}}}), "is not a list"),
        (
            json.dumps({"License": {"LicenseArn": ARN, "Entitlements": [{"Name": "U"}]}}),
            "has no Unit",
        ),
        (
            json.dumps(
                {"License": {"LicenseArn": ARN, "Entitlements": [{"Name": "U", "Unit": "Seats"}]}}
            ),
            "unknown unit",
        ),
        (
            json.dumps(
                {
                    "License": {
                        "LicenseArn": ARN,
                        "Entitlements": [{"Name": "U", "Unit": "Count", "MaxCount": "10"}],
                    }
                }
            ),
            "is not a whole number",
        ),
    ],
)
def test_bad_license_files_say_what_is_wrong(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "license.json"
    path.write_text(content)
    with pytest.raises(GrantError, match=says):
        load_license(path)


def test_two_grants_for_one_entitlement_are_refused(tmp_path: Path) -> None:
    path = _license(tmp_path, [{"Name": "Users", "Unit": "Count", "MaxCount": 25}])
    with pytest.raises(GrantError, match="two grants for 'Users'"):
        grants_from([f"{ARN}:Users=10"], [str(path)])
    with pytest.raises(GrantError, match="two grants for 'Users'"):
        grants_from([f"{ARN}:Users=10", f"{ARN}:Users=12"], [])


@pytest.mark.parametrize(
    "flags",
    [
        ["--grant", f"{ARN}:Users=10 Seats"],
        ["--grant", f"{ARN}:Users=10", "--grant", f"{ARN}:Users=11"],
        ["--license", "missing.json"],
        ["--license", "store/archive.jsonl"],
    ],
)
def test_cli_bad_grants_exit_2_with_one_line_and_write_nothing(
    store: Store, tmp_path: Path, flags: list[str]
) -> None:
    output = tmp_path / "audit.html"
    result = run_tokenverify(
        "audit", "store", "--keys", store.keys, "--format", "jsonl", "-o", output, *flags,
        cwd=store.root.parent,
    )  # fmt: skip
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert not output.exists()


# -- skipped files, strict sources, revocations ------------------------------------------


@pytest.fixture
def demo_like(store: Store, tmp_path: Path) -> Path:
    """A folder as people keep one: checkouts beside a keys file, a PEM, notes."""
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(store.root / "saved" / "valid-1.json", folder / "valid-1.json")
    shutil.copy(store.root / "saved" / "valid-2.json", folder / "valid-2.json")
    shutil.copy(store.keys, folder / "keys.json")
    (folder / "issuer.pem").write_text(
        "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"
    )
    (folder / "notes.txt").write_text("meeting notes, not a checkout\n")
    return folder


def test_files_that_are_not_checkouts_are_skipped_and_listed(store: Store, demo_like: Path) -> None:
    auditor = audit.Auditor(store.keys, tv.Policy(node_id=NODE), at=store.at)
    output = str(demo_like.parent / "a.jsonl")
    summary = audit.run([demo_like], auditor, format="jsonl", output=output, workers=1)
    assert (summary.total, summary.rejected) == (2, 0)
    provenance = summary.report().provenance
    assert provenance is not None
    assert provenance.skipped_total == 3
    assert {Path(item.source).name: item.what for item in provenance.skipped} == {
        "issuer.pem": "a PEM block (a key or certificate)",
        "keys.json": "a tokenverify keys file ('tokenverify keys add' writes it)",
        "notes.txt": "no SignedToken and no token in it",
    }
    assert [s.items for s in provenance.sources] == [5]


def test_strict_sources_counts_every_file_as_a_token(store: Store, demo_like: Path) -> None:
    result = run_tokenverify(
        "audit", demo_like, "--keys", store.keys, "--node-id", NODE, "--strict-sources",
        "--format", "json", cwd=demo_like.parent,
    )  # fmt: skip
    assert result.code == 1, result
    summary = json.loads(result.out)["summary"]
    assert summary["by_reason"] == {"ok": 2, "malformed": 3}
    assert summary["provenance"]["skipped_total"] == 0
    assert summary["provenance"]["strict_sources"] is True


def test_revocations_apply_in_audits_and_are_cited(store: Store, tmp_path: Path) -> None:
    revoked = json.loads((store.root / "saved" / "valid-1.json").read_text())
    token = tv.Verifier(tv.KeyRegistry.load(store.keys)).verify(revoked, store.at)
    revocations = tmp_path / "revocations.json"
    revocations.write_text(
        json.dumps(
            {
                "format": "tokenverify-revocations",
                "version": 1,
                "revoked": [{"license_consumption_token": token.license_consumption_token}],
            }
        )
    )
    result = run_tokenverify(
        "audit", store.root / "saved" / "valid-1.json", "--keys", store.keys,
        "--revocations", revocations, "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 1, result
    summary = json.loads(result.out)["summary"]
    assert summary["by_reason"] == {"ok": 0, "revoked": 1}
    assert summary["findings"][0]["kind"] == "integrity"
    assert summary["findings"][0]["by_reason"] == {"revoked": 1}
    cited = summary["provenance"]["revocations"]
    assert cited["sha256"] == hashlib.sha256(revocations.read_bytes()).hexdigest()
    assert cited["entries"] == 1


# -- provenance --------------------------------------------------------------------------


def test_results_digest_is_the_sha256_of_the_jsonl_output(store: Store, tmp_path: Path) -> None:
    output = tmp_path / "audit.jsonl"
    auditor = audit.Auditor(store.keys, tv.Policy(node_id=NODE), at=store.at)
    summary = audit.run([store.root], auditor, format="jsonl", output=str(output), workers=1)
    provenance = summary.report().provenance
    assert provenance is not None
    assert provenance.results == summary.total == len(output.read_bytes().splitlines())
    assert provenance.results_sha256 == hashlib.sha256(output.read_bytes()).hexdigest()
    assert audit.results_sha256(output) == provenance.results_sha256
    # The same results as one json document: re-checked from its results array.
    document = tmp_path / "audit.json"
    audit.run([store.root], auditor, format="json", output=str(document), workers=1)
    assert audit.results_sha256(document) == provenance.results_sha256
    cited = json.loads(document.read_text())["summary"]["provenance"]
    assert cited["results_sha256"] == provenance.results_sha256
    # An edited result no longer matches.
    edited = output.read_bytes().replace(b'"ok":false', b'"ok":true ', 1)
    output.write_bytes(edited)
    assert audit.results_sha256(output) != provenance.results_sha256


def test_provenance_names_version_instant_policy_and_every_key(
    store: Store, tmp_path: Path
) -> None:
    registry = tv.KeyRegistry.load(store.keys)
    auditor = audit.Auditor(registry, tv.Policy(node_id=NODE), at=store.at)
    output = str(tmp_path / "a.jsonl")
    summary = audit.run([store.root], auditor, format="jsonl", output=output, workers=1)
    provenance = summary.report().provenance
    assert provenance is not None
    assert provenance.tokenverify == tv.__version__
    assert provenance.at != "issued"
    assert provenance.at.timestamp() == store.at
    assert provenance.policy["node_id"] == NODE
    assert [(k.fingerprint, k.thumbprint) for k in provenance.keys] == [
        (key.fingerprint, key.thumbprint) for key in registry
    ]
    assert [(s.source, s.items) for s in provenance.sources] == [
        (str(store.root), len(store.entries))
    ]
    assert provenance.skipped_total == 0


# -- verify --at issued ------------------------------------------------------------------


def test_verify_at_issued_judges_expiry_at_issue(store: Store) -> None:
    expired = store.root / "saved" / "expired.json"
    now = run_tokenverify("verify", expired, "--keys", store.keys, cwd=store.root)
    assert now.code == 1
    assert "expired" in now.out + now.err
    issued = run_tokenverify(
        "verify", expired, "--keys", store.keys, "--at", "issued", "--json", cwd=store.root
    )
    assert issued.code == 0, issued
    report = json.loads(issued.out)
    assert report["valid"] is True
    assert report["checked_at"] == report["checkout"]["issued_at"]
