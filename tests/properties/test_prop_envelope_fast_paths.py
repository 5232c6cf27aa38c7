"""Properties: the envelope check's shortcuts decide exactly as the full comparison.

``check_envelope`` skips building entitlement sets when the plaintext list repeats the
signed one entry by entry, and skips parsing a plaintext time that is the signed text
itself. Each shortcut may only ever say "equal" where the full path says so; these run
both on the same inputs, hostile ones included (reordered, missing and extra members,
non-dict items, non-string values, str subclasses, explicit nulls).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tokenverify import _envelope
from tokenverify._claims import SignedEntitlement
from tokenverify._times import parse_iso8601

UNITS = ("Count", "None", "Gigabytes", "Seconds")
names = st.sampled_from(["Users", "Storage", "Feature.A", "users", ""])
values = st.one_of(st.none(), st.sampled_from(["1", "250", "0", " 1"]))
signed_entitlement = st.builds(
    SignedEntitlement, name=names, unit=st.sampled_from(UNITS), value=values
)


class _Str(str):
    """A str subclass a caller's dict might hold: it must never take the shortcut."""

    __hash__ = str.__hash__

    def __eq__(self, other: object) -> bool:
        return str.__eq__(self, other)


def _plain(entitlement: SignedEntitlement) -> dict[str, Any]:
    item: dict[str, Any] = {"Name": entitlement.name, "Unit": entitlement.unit}
    if entitlement.value is not None:
        item["Value"] = entitlement.value
    return item


@st.composite
def plain_lists(draw: st.DrawFn, signed: tuple[SignedEntitlement, ...]) -> object:
    items: list[Any] = [_plain(e) for e in signed]
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(st.sampled_from(["drop", "swap", "extra", "null", "int", "sub", "junk", "dup"]))
        if not items and edit != "junk":
            continue
        index = draw(st.integers(0, max(0, len(items) - 1)))
        item = items[index] if items else None
        if edit == "drop":
            items.pop(index)
        elif edit == "swap" and len(items) > 1:
            items[0], items[-1] = items[-1], items[0]
        elif edit == "extra" and isinstance(item, dict):
            item["Extra"] = "x"
        elif edit == "null" and isinstance(item, dict):
            item["Value"] = None
        elif edit == "int" and isinstance(item, dict):
            item[draw(st.sampled_from(["Name", "Value", "Unit"]))] = 1
        elif edit == "sub" and isinstance(item, dict):
            item["Name"] = _Str(item["Name"])
        elif edit == "junk":
            items.append(draw(st.sampled_from([None, "Users", ["Users"], {"Name": ["x"]}])))
        elif edit == "dup":
            items.append(dict(item) if isinstance(item, dict) else item)
    return items if draw(st.booleans()) else tuple(items)


@given(st.data(), st.lists(signed_entitlement, max_size=6).map(tuple))
def test_entitlements_in_order_only_when_the_sets_agree(
    data: st.DataObject, signed: tuple[SignedEntitlement, ...]
) -> None:
    plain = data.draw(plain_lists(signed))
    full = _envelope._entitlement_set(plain) == set(map(_envelope._SIGNED_TRIPLE, signed))
    if _envelope._equal_in_order(plain, signed):
        assert full
    # The shortcut is taken for the unedited list AWS writes: it earns its place.
    exact = [_plain(e) for e in signed]
    assert _envelope._equal_in_order(exact, signed)


@given(
    st.datetimes(timezones=st.none()).map(lambda moment: moment.isoformat(timespec="seconds")),
    st.sampled_from(["", "Z", "+00:00", ".5", ".123456789Z", "+01:30"]),
)
def test_a_time_spelled_as_signed_is_the_signed_instant(base: str, suffix: str) -> None:
    text = base + suffix
    try:
        parse_iso8601(text)
    except ValueError:
        return  # an unreadable spelling is never a signed one: claims refuse it first
    # The shortcut compares texts; the full path compares the parsed instants.
    assert _envelope._instant("IssuedAt", text) == parse_iso8601(text).timestamp()
