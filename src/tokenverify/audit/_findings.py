"""Three kinds of finding, always in this order: integrity, policy, lifecycle.

- **integrity**: the token is not what the vendor signed, or should not be trusted
  (malformed, forged, unknown or out-of-window key, edited envelope, revoked): a security
  event;
- **policy**: a genuine checkout used where it does not belong (node, license, product,
  entitlement, metadata);
- **lifecycle**: a genuine checkout outside its time (expired, not yet valid), or valid
  only thanks to the leeway ("in grace"): a license doing its job.

A reason this version does not know is an integrity finding: unknown is not harmless.
"""

from __future__ import annotations

from typing import Literal

from .._errors import Reason

__all__ = ["KINDS", "Kind", "format_window", "human_duration", "kind_of"]

Kind = Literal["integrity", "policy", "lifecycle"]
#: The order every view lists them in.
KINDS: tuple[Kind, ...] = ("integrity", "policy", "lifecycle")
#: The lifecycle group of a valid token accepted only within the leeway or the grace.
IN_GRACE = "in_grace"

_POLICY = frozenset(
    {
        "node_mismatch",
        "license_mismatch",
        "product_mismatch",
        "entitlement_missing",
        "entitlement_insufficient",
        "metadata_mismatch",
    }
)
_LIFECYCLE = frozenset({Reason.expired.value, Reason.not_yet_valid.value, IN_GRACE})


def kind_of(reason: str) -> Kind:
    """The kind of a :class:`~tokenverify.Reason` value (or ``in_grace``)."""
    if reason in _LIFECYCLE:
        return "lifecycle"
    if reason in _POLICY:
        return "policy"
    return "integrity"


def human_duration(seconds: float) -> str:
    """``6 d 22 h``, ``3 h 5 min``, ``18 h``, ``42 s``: the largest unit and the next."""
    whole = int(abs(seconds))
    units = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    for index, (unit, size) in enumerate(units):
        if whole >= size or unit == "s":
            text = f"{whole // size} {unit}"
            if index + 1 < len(units):
                next_unit, next_size = units[index + 1]
                rest = (whole % size) // next_size
                if rest:
                    text += f" {rest} {next_unit}"
            return text
    raise AssertionError("unreachable")


def format_window(seconds: float) -> str:
    """``7 d``, ``36 h``, ``90 min``, ``45 s``: a window as people set it."""
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if whole >= size and whole % size == 0:
            return f"{whole // size} {unit}"
    return f"{whole} s"
