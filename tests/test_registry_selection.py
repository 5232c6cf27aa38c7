"""``KeyRegistry.select`` keeps its answers per (kid, fingerprint): never a stale one.

The kept answer must be what choosing afresh gives, after any sequence of adds and
removes, and the store of answers must stay bounded whatever kids tokens carry.
"""

from __future__ import annotations

import contextlib

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify._algorithms import PublicKey

FINGERPRINTS = ("aws:111122223333:A:issuer-fingerprint", "aws:444455556666:B:issuer-fingerprint")
KEY_IDS = ("key-1", "key-2", None)
# A few keys made once: EC and Ed25519 keys are cheap, and the property needs variety, not size.
KEYS: tuple[PublicKey, ...] = (
    ec.generate_private_key(ec.SECP256R1()).public_key(),
    ec.generate_private_key(ec.SECP384R1()).public_key(),
    ed25519.Ed25519PrivateKey.generate().public_key(),
    ed25519.Ed25519PrivateKey.generate().public_key(),
)
THUMBPRINTS = tuple(tv.KeyRegistry().add(FINGERPRINTS[0], key)[0].thumbprint for key in KEYS)
KIDS = (None, *FINGERPRINTS, "key-1", "key-2", *THUMBPRINTS, "unknown-kid")

adds = st.tuples(
    st.just("add"), st.sampled_from(FINGERPRINTS), st.integers(0, 3), st.sampled_from(KEY_IDS)
)
removes = st.tuples(
    st.just("remove"),
    st.sampled_from(FINGERPRINTS),
    st.sampled_from((None, *THUMBPRINTS)),
    st.none(),
)
selects = st.tuples(
    st.just("select"),
    st.sampled_from(KIDS),
    st.sampled_from((None, *FINGERPRINTS)),
    st.none(),
)


@settings(max_examples=200)
@given(st.lists(adds | removes | selects, max_size=30))
def test_a_kept_selection_is_always_the_fresh_one(operations: list[tuple[object, ...]]) -> None:
    registry = tv.KeyRegistry()
    for operation, first, second, third in operations:
        if operation == "add":
            assert isinstance(first, str)
            assert isinstance(second, int)
            # InvalidKey: that key is already registered for this fingerprint.
            with contextlib.suppress(tv.InvalidKey):
                registry.add(first, KEYS[second], key_id=third)  # type: ignore[arg-type]
        elif operation == "remove":
            registry.remove(first, second)  # type: ignore[arg-type]
        else:
            kid, fingerprint = first, second
            fresh = registry._select(kid, fingerprint)  # type: ignore[arg-type]
            assert registry.select(kid, fingerprint) == fresh  # type: ignore[arg-type]
            assert registry.select(kid, fingerprint) == fresh  # type: ignore[arg-type]
        # After every step, each kept answer is still the fresh one.
        for (kid, fingerprint), kept in registry._selections.items():
            assert kept == registry._select(kid, fingerprint)


def test_kids_from_tokens_cannot_grow_the_kept_selections() -> None:
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINTS[0], KEYS[0])
    for index in range(1000):
        selection = registry.select(f"kid-{index}", None)
        assert selection.keys == registry.keys(FINGERPRINTS[0])
        assert not selection.by_kid
    assert len(registry._selections) <= 64


def test_a_key_added_after_a_selection_is_selected() -> None:
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINTS[0], KEYS[0])
    assert registry.select("key-2", FINGERPRINTS[0]).by_kid is False
    added = registry.add(FINGERPRINTS[0], KEYS[1], key_id="key-2")
    selection = registry.select("key-2", FINGERPRINTS[0])
    assert selection.by_kid is True
    assert selection.keys == tuple(added)
    registry.remove(FINGERPRINTS[0], added[0].thumbprint)
    assert registry.select("key-2", FINGERPRINTS[0]).keys == registry.keys(FINGERPRINTS[0])
