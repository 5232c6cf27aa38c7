"""What the launch path does differently to import less, held to what it replaced.

A whole-number ``Requirement`` minimum is compared as an int (no ``decimal`` import) only
where the Decimal path would give the same answer; ``TrustAnchor`` is a plain class (no
``@dataclass`` at import) that behaves as the frozen, keyword-only dataclass it was.
A launch (``import tokenverify``, a keys file loaded, a verify, a rejection) imports
neither the command line, the file-format models nor pydantic (docs/architecture.md).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from dataclasses import FrozenInstanceError
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from tokenverify.testing import TestIssuer
from tokenverify.trust import TrustAnchor, build_registry


def test_a_whole_minimum_reads_pickles_and_compares_as_the_decimal_it_means() -> None:
    whole = tv.Requirement("Users", unit="Count", minimum=5)
    assert type(whole.minimum) is Decimal
    assert whole.minimum == Decimal(5)
    assert whole == tv.Requirement("Users", unit="Count", minimum=Decimal(5))
    assert whole == tv.Requirement("Users", unit="Count", minimum="5")
    assert hash(whole) == hash(tv.Requirement("Users", unit="Count", minimum="5"))
    assert pickle.loads(pickle.dumps(whole)) == whole  # noqa: S301 - our own bytes
    assert repr(whole) == "Requirement('Users', unit='Count', minimum=Decimal('5'))"
    assert whole.describe() == "Users >= 5 Count"
    with pytest.raises(AttributeError):
        whole.minimum = Decimal(6)  # type: ignore[misc]
    for refused in (-1, True, 1.5):
        with pytest.raises((ValueError, TypeError)):
            tv.Requirement("Users", minimum=refused)  # type: ignore[arg-type]


def _verdict(
    issuer: TestIssuer, entitlements: list[tuple[str, str | None, str]], requirement: Any
) -> tuple[bool, tv.Reason | None, str]:
    response = issuer.checkout(entitlements=entitlements)
    verdict = tv.Verifier(issuer.registry(), tv.Policy(requirements=[requirement])).check(response)
    return verdict.ok, verdict.reason, verdict.message


@pytest.mark.parametrize(
    ("entitlements", "unit"),
    [
        pytest.param([("Users", "10", "Count")], "Count", id="met"),
        pytest.param([("Users", "4", "Count")], "Count", id="short"),
        pytest.param([("Users", "4", "Count"), ("Users", "10", "Count")], "Count", id="second"),
        # The Decimal path reads entitlements in signed order and stops at a bad value: the
        # int path must not skip it to reach a good one.
        pytest.param([("Users", "x1", "Count"), ("Users", "10", "Count")], "Count", id="bad-first"),
        pytest.param([("Users", "4.5", "Count"), ("Users", "10", "Count")], "Count", id="fraction"),
        pytest.param([("Users", "\u0661\u0660", "Count")], "Count", id="arabic-digits"),
        pytest.param([("Users", "0" * 41, "Count")], "Count", id="too-many-digits"),
        pytest.param([("Users", None, "Count"), ("Users", "5", "Count")], "Count", id="valueless"),
        pytest.param([("Users", "5", "Count")], None, id="no-unit"),
        pytest.param([("Storage", "5000", "Megabytes")], "Gigabytes", id="conversion"),
        pytest.param([("Storage", "4999", "Megabytes")], "Gigabytes", id="conversion-short"),
    ],
)
def test_a_whole_minimum_gives_the_decimal_verdict(
    ps256_issuer: TestIssuer, entitlements: list[tuple[str, str | None, str]], unit: str | None
) -> None:
    name = entitlements[0][0]
    whole = tv.Requirement(name, unit=unit, minimum=5)
    as_decimal = tv.Requirement(name, unit=unit, minimum=Decimal(5))
    assert as_decimal._whole_minimum is None  # the reference takes the Decimal path
    assert _verdict(ps256_issuer, entitlements, whole) == _verdict(
        ps256_issuer, entitlements, as_decimal
    )


ANCHOR = {
    "fingerprint": "aws:111122223333:Test:issuer-fingerprint",
    "public_key": "PEM",
    "algorithms": ("PS384",),
    "thumbprint": "t",
    "seal": "s",
}


def test_a_trust_anchor_is_frozen_keyword_only_and_compared_by_value() -> None:
    anchor = TrustAnchor(**ANCHOR)  # type: ignore[arg-type]
    assert (anchor.not_before, anchor.not_after, anchor.label, anchor.key_id) == (None,) * 4
    with pytest.raises(FrozenInstanceError):
        anchor.label = "edited"
    with pytest.raises(FrozenInstanceError):
        del anchor.label
    with pytest.raises(AttributeError):
        anchor.extra = 1
    with pytest.raises(TypeError):
        TrustAnchor("fingerprint", "PEM", ("PS384",), thumbprint="t", seal="s")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        TrustAnchor(fingerprint="f", public_key="PEM", algorithms=("PS384",))  # type: ignore[call-arg]
    same = TrustAnchor(**ANCHOR)  # type: ignore[arg-type]
    assert anchor == same
    assert hash(anchor) == hash(same)
    assert anchor != TrustAnchor(**{**ANCHOR, "label": "other"})  # type: ignore[arg-type]
    assert anchor != ANCHOR
    assert repr(anchor) == (
        "TrustAnchor(fingerprint='aws:111122223333:Test:issuer-fingerprint', "
        "public_key='PEM', algorithms=('PS384',), not_before=None, not_after=None, "
        "label=None, key_id=None, thumbprint='t', seal='s')"
    )


def test_an_edited_anchor_is_still_refused(ps256_issuer: TestIssuer) -> None:
    key = next(iter(ps256_issuer.registry()))
    fields: dict[str, Any] = {
        "fingerprint": key.fingerprint,
        "public_key": key.public_pem(),
        "algorithms": ("PS256", "PS384"),  # widened: the seal was made for PS256 only
        "thumbprint": key.thumbprint,
        "seal": "not-the-seal",
    }
    with pytest.raises(tv.InvalidKey, match="do not match its seal"):
        build_registry([TrustAnchor(**fields)])


#: What a launch must never import: the outer packages of the layout, and pydantic.
_NOT_AT_LAUNCH = ("tokenverify.cli", "tokenverify.formats", "tokenverify.audit", "pydantic")

_LAUNCH = """
import sys
from pathlib import Path

import tokenverify as tv

keys, valid, tampered = sys.argv[1:]
verifier = tv.Verifier(tv.KeyRegistry.load(keys), tv.Policy(node_id="node-7"))
checkout = verifier.verify(Path(valid))
verdict = verifier.check(Path(tampered))
assert checkout.node_id == "node-7" and not verdict.ok, verdict
outer = sys.argv[0].split(",")
print(sorted(m for m in sys.modules if any(m == o or m.startswith(o + ".") for o in outer)))
"""


def test_a_launch_imports_no_cli_formats_audit_or_pydantic(
    ps256_issuer: TestIssuer, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    ps256_issuer.registry().save(keys)
    valid, tampered = tmp_path / "valid.json", tmp_path / "tampered.json"
    response = ps256_issuer.checkout(node_id="node-7")
    valid.write_text(json.dumps(response))
    head, payload, signature = response["SignedToken"].split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    tampered.write_text(json.dumps({**response, "SignedToken": f"{head}.{payload}.{flipped}"}))
    code = _LAUNCH.replace("sys.argv[0]", repr(",".join(_NOT_AT_LAUNCH)))
    out = subprocess.run(
        [sys.executable, "-c", code, str(keys), str(valid), str(tampered)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "[]"
