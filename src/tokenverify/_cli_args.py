"""Parsers for the values people type on the command line.

Each raises ``argparse.ArgumentTypeError`` with a message that says what was expected,
so argparse reports ``argument --at: ...`` on one line and exits 2.
"""

from __future__ import annotations

import argparse
import re

from ._policy import Requirement
from ._times import MAX_EPOCH, parse_iso8601
from ._units import UNITS

__all__ = [
    "EntitlementArg",
    "parse_algorithms",
    "parse_duration",
    "parse_entitlement",
    "parse_leeway",
    "parse_metadata",
    "parse_requirement",
    "parse_time",
]

EntitlementArg = tuple[str, str | None, str]

_EPOCH = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?", re.ASCII)
_DURATION = re.compile(r"([0-9]{1,9}(?:\.[0-9]{1,9})?)([smhd]?)", re.ASCII)
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DECIMAL = re.compile(r"[0-9]{1,40}(?:\.[0-9]{1,40})?", re.ASCII)
_MAX_LEEWAY = 86400
REQUIRE_SYNTAX = "NAME[>=MIN][ UNIT], e.g. 'Users>=5 Count', 'Storage>=1.5 Gigabytes', 'Pro'"


def parse_time(text: str) -> float:
    """``--at``: ISO 8601 as AWS spells it (zone-less = UTC) or epoch seconds."""
    if _EPOCH.fullmatch(text):
        seconds = float(text)
        if seconds >= MAX_EPOCH:
            raise argparse.ArgumentTypeError(f"{text!r} is after the year 9999")
        return seconds
    try:
        return parse_iso8601(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is neither YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm] nor epoch seconds"
        ) from None


def parse_duration(text: str) -> float:
    """``--ttl``: ``90``, ``90s``, ``30m``, ``1h``, ``2d`` (more than zero seconds)."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a duration such as 90s, 30m, 1h or 2d"
        )
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if not 0 < seconds <= 3650 * 86400:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 s and at most 3650 d")
    return seconds


def parse_leeway(text: str) -> float:
    """``--leeway``: seconds of clock skew tolerated, 0 to 86400."""
    if _DECIMAL.fullmatch(text) is None or float(text) > _MAX_LEEWAY:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a number of seconds from 0 to 86400"
        )
    return float(text)


def parse_requirement(text: str) -> Requirement:
    """``--require``: ``NAME[>=MIN][ UNIT]``.

    Without ``>=``, a last word that is an AWS unit is the unit (``'Pro None'``); otherwise
    the whole text is the name, so names with spaces work (``'Premium Support'``).
    """
    name, has_minimum, rest = text.partition(">=")
    name = name.strip()
    minimum: str | None = None
    unit: str | None = None
    if has_minimum:
        words = rest.split()
        if not words or len(words) > 2:
            raise argparse.ArgumentTypeError(f"{text[:60]!r} is not {REQUIRE_SYNTAX}")
        minimum = words[0]
        unit = words[1] if len(words) == 2 else None
        if _DECIMAL.fullmatch(minimum) is None:
            raise argparse.ArgumentTypeError(
                f"minimum {minimum[:40]!r} in {text[:60]!r} is not a decimal such as 5 or 1.5"
            )
    else:
        head, _, last = name.rpartition(" ")
        if head and last in UNITS:
            name, unit = head.strip(), last
    if not name:
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} names no entitlement; use {REQUIRE_SYNTAX}"
        )
    if unit is not None and unit not in UNITS:
        raise argparse.ArgumentTypeError(_unknown_unit(unit))
    return Requirement(name, unit=unit, minimum=minimum)


def parse_entitlement(text: str) -> EntitlementArg:
    """``--entitlement``: AWS CLI shorthand ``Name=Users,Unit=Count[,Value=10]``."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, equals, value = part.partition("=")
        key = key.strip()
        if not equals or key not in ("Name", "Unit", "Value") or key in fields:
            raise argparse.ArgumentTypeError(
                f"{text[:60]!r} is not Name=NAME,Unit=UNIT[,Value=VALUE] (e.g. "
                "Name=Users,Unit=Count,Value=10)"
            )
        fields[key] = value.strip()
    if not fields.get("Name") or "Unit" not in fields:
        raise argparse.ArgumentTypeError(f"{text[:60]!r} needs both Name= and Unit=")
    if fields["Unit"] not in UNITS:
        raise argparse.ArgumentTypeError(_unknown_unit(fields["Unit"]))
    return fields["Name"], fields.get("Value"), fields["Unit"]


def parse_metadata(text: str) -> tuple[str, str]:
    """``--metadata``: ``NAME=VALUE`` (the value may itself hold ``=`` or ``:``)."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} is not NAME=VALUE (e.g. Mac=02:42:ac:11:00:02)"
        )
    return name.strip(), value


def parse_algorithms(text: str) -> list[str]:
    """``--algorithms``: ``PS384`` or ``PS384,PS256``; checked when the key is registered."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} is not a comma-separated list such as PS384,PS256"
        )
    return names


def _unknown_unit(unit: str) -> str:
    return f"unknown unit {unit[:40]!r}; AWS units are {', '.join(sorted(UNITS))}"
