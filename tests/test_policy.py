"""Policy: checked at construction, immutable, picklable, hashable, equal by value."""

from __future__ import annotations

import pickle
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

import tokenverify as tv

FULL = tv.Policy(
    key_fingerprint="aws:111122223333:Test:issuer-fingerprint",
    node_id="node-7",
    license_arn="arn:aws:license-manager::111122223333:license:l-1",
    product_sku="prod-1",
    requirements=[tv.Requirement("Users", unit="Count", minimum=5)],
    leeway=30,
    checkout_metadata={"Mac": "02:42:ac:11:00:02", "Hostname": "build-07"},
    typ="JWT",
    grace=timedelta(days=3),
    warn_before=7 * 86_400,
)


@pytest.mark.parametrize(
    ("arguments", "error", "says"),
    [
        ({"node_id": 7}, TypeError, "node_id must be a string"),
        ({"node_id": ""}, ValueError, "node_id is empty"),
        ({"key_fingerprint": ""}, ValueError, "key_fingerprint is empty"),
        ({"typ": ""}, ValueError, "typ is empty"),
        ({"typ": b"JWT"}, TypeError, "typ must be a string"),
        ({"checkout_metadata": {}}, ValueError, "checkout_metadata is empty"),
        ({"checkout_metadata": {"": "x"}}, ValueError, "empty name"),
        ({"checkout_metadata": {"Mac": 5}}, TypeError, "names and values must be strings"),
        ({"checkout_metadata": {5: "x"}}, TypeError, "names and values must be strings"),
        ({"checkout_metadata": [("Mac", "x")]}, TypeError, "mapping of name to value"),
        ({"checkout_metadata": "Mac=x"}, TypeError, "mapping of name to value"),
        ({"requirements": ["Users"]}, TypeError, "Requirement objects"),
        ({"leeway": True}, ValueError, "leeway"),
    ],
)
def test_bad_arguments_are_refused_at_construction(
    arguments: dict[str, Any], error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says):
        tv.Policy(**arguments)


def test_metadata_is_copied_and_read_only() -> None:
    given = {"Mac": "02:42:ac:11:00:02"}
    policy = tv.Policy(checkout_metadata=given)
    given["Mac"] = "edited later"
    assert policy.checkout_metadata == {"Mac": "02:42:ac:11:00:02"}
    assert policy.checkout_metadata is not None
    with pytest.raises(TypeError):
        policy.checkout_metadata["Mac"] = "x"  # type: ignore[index]


def test_policy_is_immutable() -> None:
    with pytest.raises(AttributeError):
        FULL.typ = "JOSE"
    with pytest.raises(AttributeError):
        del FULL.node_id


def test_policy_pickles_with_every_field() -> None:
    restored = pickle.loads(pickle.dumps(FULL))  # noqa: S301  (our own bytes)
    assert restored == FULL
    assert hash(restored) == hash(FULL)
    assert restored.checkout_metadata == FULL.checkout_metadata
    assert restored.typ == "JWT"
    assert (restored.grace, restored.warn_before) == (259_200, 604_800)


def test_equal_policies_hash_alike_and_differ_by_each_field() -> None:
    same = tv.Policy(
        key_fingerprint=FULL.key_fingerprint,
        node_id=FULL.node_id,
        license_arn=FULL.license_arn,
        product_sku=FULL.product_sku,
        requirements=FULL.requirements,
        leeway=FULL.leeway,
        # Another order of the same mapping is the same binding.
        checkout_metadata={"Hostname": "build-07", "Mac": "02:42:ac:11:00:02"},
        typ="JWT",
        grace=259_200,
        warn_before=timedelta(days=7),
    )
    assert same == FULL
    assert hash(same) == hash(FULL)
    assert len({FULL, same}) == 1
    assert tv.Policy(checkout_metadata={"Mac": "a"}) != tv.Policy(checkout_metadata={"Mac": "b"})
    assert tv.Policy(typ="JWT") != tv.Policy(typ="JOSE")
    assert tv.Policy(typ="JWT") != tv.Policy()
    assert tv.Policy(grace=1) != tv.Policy()
    assert tv.Policy(warn_before=1) != tv.Policy()


def test_repr_names_every_field_and_rebuilds_the_policy() -> None:
    text = repr(FULL)
    for name in (
        "key_fingerprint",
        "node_id",
        "license_arn",
        "product_sku",
        "requirements",
        "leeway",
        "checkout_metadata",
        "typ",
        "grace",
        "warn_before",
    ):
        assert f"{name}=" in text
    namespace = {"Policy": tv.Policy, "Requirement": tv.Requirement, "Decimal": Decimal}
    assert eval(text, namespace) == FULL  # noqa: S307  (our own repr)
