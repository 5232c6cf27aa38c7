"""What a customer was granted: ``--grant`` values and saved ``get-license`` documents.

The usage analysis compares the concurrent consumption of each license and entitlement
with its grant. A grant comes from the command line, ``LICENSE_ARN:NAME=QUANTITY[ UNIT]``
(``arn:aws:license-manager::123456789012:license:l-0123:Users=10``, ``...:Storage=2
Terabytes``), or from the JSON that ``aws license-manager get-license`` prints: its
``License.Entitlements[]`` carry ``Name``, ``Unit`` (required by the service model),
``MaxCount`` (the most that may be in use at once), ``Overage`` (whether exceeding it is
allowed, and billed) and ``AllowCheckIn``. An entitlement without ``MaxCount`` has no
limit to check.

Every mistake is a :class:`GrantError` naming the value or file and what to fix; the
command line turns it into a one-line error and exit 2 before any token is read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from .._units import UNITS, parse_quantity

__all__ = [
    "GRANT_SYNTAX",
    "Grant",
    "GrantError",
    "check_grants",
    "grants_from",
    "load_license",
    "parse_grant",
]

GRANT_SYNTAX = (
    "LICENSE_ARN:NAME=QUANTITY[ UNIT], e.g. arn:aws:license-manager::123:license:l-1:Users=10"
)
_MAX_LICENSE_FILE = 4 << 20


class GrantError(ValueError):
    """A grant value or license file cannot be used."""


class Grant(NamedTuple):
    """The most of one entitlement of one license that may be in use at once.

    ``unit`` is None for a ``--grant`` written without one: it then counts in the unit
    the checkouts carry. ``origin`` says where the grant was read (``--grant`` or a file).
    """

    license_arn: str
    entitlement: str
    max_count: Decimal
    unit: str | None
    overage: bool
    allow_check_in: bool | None
    origin: str


def parse_grant(text: str) -> Grant:
    """One ``--grant`` value: ``LICENSE_ARN:NAME=QUANTITY[ UNIT]``."""
    license_arn, colon, rest = text.rpartition(":")
    name, equals, amount = rest.partition("=")
    if not colon or not equals or not license_arn.startswith("arn:"):
        raise GrantError(f"--grant {text[:80]!r} is not {GRANT_SYNTAX}")
    name = name.strip()
    if not name:
        raise GrantError(f"--grant {text[:80]!r} names no entitlement (NAME=QUANTITY)")
    quantity_text, _, unit_text = amount.strip().partition(" ")
    unit = unit_text.strip() or None
    if unit is None:
        # "2Terabytes" as well as "2 Terabytes".
        digits = quantity_text.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/")
        if digits != quantity_text:
            quantity_text, unit = digits, quantity_text[len(digits) :]
    try:
        quantity = parse_quantity(quantity_text)
    except ValueError:
        raise GrantError(
            f"--grant {text[:80]!r}: {quantity_text[:40]!r} is not a quantity (digits, "
            "e.g. Users=10)"
        ) from None
    if unit is not None and unit not in UNITS:
        raise GrantError(f"--grant {text[:80]!r}: {_unknown_unit(unit)}")
    return Grant(license_arn, name, quantity, unit, False, None, "--grant")


def load_license(path: str | os.PathLike[str]) -> list[Grant]:
    """The grants of a saved ``aws license-manager get-license`` response (its
    ``License``; a bare License object is accepted too). Entitlements without
    ``MaxCount`` set no limit and give no grant."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read(_MAX_LICENSE_FILE + 1)
    except OSError as exc:
        raise GrantError(f"--license {name!r}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > _MAX_LICENSE_FILE:
        raise GrantError(f"--license {name!r}: larger than 4 MB, not a get-license document")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise GrantError(
            f"--license {name!r} is not JSON; save it with 'aws license-manager get-license "
            "--license-arn ARN --output json'"
        ) from None
    license_ = document.get("License", document) if isinstance(document, dict) else None
    if not isinstance(license_, dict) or not isinstance(license_.get("LicenseArn"), str):
        raise GrantError(
            f"--license {name!r} is not a get-license document (no License.LicenseArn)"
        )
    entitlements = license_.get("Entitlements")
    if not isinstance(entitlements, list):
        raise GrantError(f"--license {name!r}: License.Entitlements is not a list")
    arn = license_["LicenseArn"]
    return [
        grant
        for index, entry in enumerate(entitlements)
        if (grant := _license_entitlement(name, arn, index, entry)) is not None
    ]


def _license_entitlement(path: str, arn: str, index: int, entry: Any) -> Grant | None:
    where = f"--license {path!r}: Entitlements[{index}]"
    if not isinstance(entry, dict):
        raise GrantError(f"{where} is not an object")
    name, unit = entry.get("Name"), entry.get("Unit")
    if not isinstance(name, str) or not name:
        raise GrantError(f"{where} has no Name")
    if not isinstance(unit, str):
        raise GrantError(f"{where} ({name!r}) has no Unit")
    if unit not in UNITS:
        raise GrantError(f"{where} ({name!r}): {_unknown_unit(unit)}")
    max_count = entry.get("MaxCount")
    if max_count is None:
        return None
    if isinstance(max_count, bool) or not isinstance(max_count, int) or max_count < 0:
        raise GrantError(f"{where} ({name!r}): MaxCount {max_count!r} is not a whole number")
    overage, check_in = entry.get("Overage", False), entry.get("AllowCheckIn")
    if not isinstance(overage, bool) or not isinstance(check_in, bool | None):
        raise GrantError(f"{where} ({name!r}): Overage and AllowCheckIn are true or false")
    return Grant(arn, name, Decimal(max_count), unit, overage, check_in, path)


def check_grants(grants: Iterable[Grant]) -> list[Grant]:
    """``grants`` with none given twice for one license and entitlement."""
    seen: dict[tuple[str, str], Grant] = {}
    for grant in grants:
        key = (grant.license_arn, grant.entitlement)
        earlier = seen.get(key)
        if earlier is not None:
            raise GrantError(
                f"two grants for {grant.entitlement!r} of {grant.license_arn}: "
                f"{_spelled(earlier)} ({earlier.origin}) and {_spelled(grant)} "
                f"({grant.origin}); give each once"
            )
        seen[key] = grant
    return list(seen.values())


def grants_from(grant_texts: Sequence[str], license_files: Sequence[str]) -> list[Grant]:
    """Everything ``--grant`` and ``--license`` say, checked."""
    grants = [parse_grant(text) for text in grant_texts]
    for path in license_files:
        grants.extend(load_license(path))
    return check_grants(grants)


def _spelled(grant: Grant) -> str:
    return f"{grant.max_count}{' ' + grant.unit if grant.unit else ''}"


def _unknown_unit(unit: str) -> str:
    return (
        f"unknown unit {unit[:40]!r}; AWS units are Count, None, Percent, Bytes, Kilobytes, "
        "... Terabits/Second, Microseconds, Milliseconds, Seconds"
    )
