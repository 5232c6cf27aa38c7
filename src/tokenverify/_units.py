"""AWS License Manager entitlement units and exact conversions between them.

Conversions stay inside one family (bytes, bits, bytes/second, bits/second, time);
everything else (Count, None, Percent, Count/Second) compares only with itself. Prefixes
are decimal SI (kilo = 1000): AWS names the units without defining them, "Kilobytes" in
SI means 1000 bytes (1024 would be "Kibibytes"), and powers of ten keep every conversion
exact in ``Decimal``. A vendor that means 1024 should state requirements in the unit it
issues, and then no conversion happens at all.
"""

from __future__ import annotations

import re
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Context, Decimal

__all__ = ["UNITS", "compatible", "convert", "parse_quantity"]

_PREFIXES = (("", 0), ("Kilo", 3), ("Mega", 6), ("Giga", 9), ("Tera", 12))


def _family(base: str, family: str) -> dict[str, tuple[str, int]]:
    """``Bytes, Kilobytes, ...`` (or ``.../Second``) with their powers of ten."""
    return {
        f"{prefix}{base.lower()}" if prefix else base: (family, exponent)
        for prefix, exponent in _PREFIXES
    }


# unit -> (family, power of ten relative to the family's smallest unit)
_SCALE: MappingProxyType[str, tuple[str, int]] = MappingProxyType(
    {
        **_family("Bytes", "bytes"),
        **_family("Bits", "bits"),
        **{f"{unit}/Second": ("bytes/s", e) for unit, (_, e) in _family("Bytes", "").items()},
        **{f"{unit}/Second": ("bits/s", e) for unit, (_, e) in _family("Bits", "").items()},
        "Microseconds": ("time", 0),
        "Milliseconds": ("time", 3),
        "Seconds": ("time", 6),
        "Count": ("Count", 0),
        "None": ("None", 0),
        "Percent": ("Percent", 0),
        "Count/Second": ("Count/Second", 0),
    }
)
#: The 27 values of the service model's EntitlementDataUnit.
UNITS = frozenset(_SCALE)
_QUANTITY = re.compile(r"[0-9]{1,40}(?:\.[0-9]{1,40})?", re.ASCII)
# scaleb rounds to the context's precision (28 digits by default); a quantity has at most
# 80 digits, so this precision (prec=100) keeps every conversion exact.
_EXACT_PRECISION = 100


def compatible(unit: str, other: str) -> bool:
    """Whether quantities in ``unit`` and ``other`` can be compared."""
    return _SCALE[unit][0] == _SCALE[other][0]


def convert(quantity: Decimal, unit: str, to_unit: str) -> Decimal:
    """Express ``quantity`` of ``unit`` in ``to_unit`` exactly; ``ValueError`` across families."""
    family, exponent = _SCALE[unit]
    to_family, to_exponent = _SCALE[to_unit]
    if family != to_family:
        raise ValueError(f"{unit} cannot be converted to {to_unit}")
    return quantity.scaleb(exponent - to_exponent, context=_exact())


def parse_quantity(text: str) -> Decimal:
    """A non-negative decimal written with ASCII digits (``int("١٢٣")`` would accept more)."""
    if _QUANTITY.fullmatch(text) is None:
        raise ValueError(f"{text[:40]!r} is not a decimal quantity")
    from decimal import Decimal  # on first use: a launch check rarely needs it (~2 ms)

    return Decimal(text)


@cache
def _exact() -> Context:
    from decimal import Context

    return Context(prec=_EXACT_PRECISION)
