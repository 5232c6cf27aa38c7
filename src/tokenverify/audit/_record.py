"""One audited token as a plain, picklable record: the unit every output format holds.

Worker processes turn each verification into an :class:`AuditRecord` before it leaves
them: a :class:`~tokenverify.VerifiedCheckout` holds key objects and cannot cross a
process boundary, and a report needs only a few signed fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from .._errors import Reason, TokenRejected
from .._result import VerifiedCheckout, entitlement_triples
from .._verifier import Instant, Verifier

__all__ = [
    "CONTRACT_FIELDS",
    "AuditRecord",
    "check_many",
    "check_one",
    "entitlement_triples",
    "inconsistency",
    "iso_utc",
    "jsonl_line",
    "record_of",
]

#: The fields every ``--format jsonl`` line carries, in this order (the output contract).
CONTRACT_FIELDS = (
    "source",
    "ok",
    "reason",
    "license_arn",
    "node_id",
    "key_fingerprint",
    "expiration",
)


class AuditRecord(msgspec.Struct, frozen=True):
    """The verdict on one stored token, with the signed fields reports need.

    ``source`` is the token's stable id: ``path`` for a file holding one checkout,
    ``path:line`` for JSON Lines, ``table:rowid`` for SQLite, ``stdin:line`` for stdin.
    ``license_arn``, ``node_id``, ``key_fingerprint``, ``issued_at``, ``expiration``,
    ``license_consumption_token`` and ``entitlements`` are signed values: set for valid
    tokens and for genuine tokens rejected after their signature verified (expired,
    wrong node, edited envelope...); None when the signature was never verified
    (malformed, forged, unknown key). Times are ISO 8601 UTC (``2026-01-01T01:00:00Z``).
    """

    source: str
    ok: bool
    reason: Reason | None
    license_arn: str | None
    node_id: str | None
    key_fingerprint: str | None
    expiration: str | None
    issued_at: str | None = None
    license_consumption_token: str | None = None
    message: str = ""
    #: Signed ``entitlementsAllowed`` as ``(name, value, unit)``, for the usage analysis.
    entitlements: tuple[tuple[str, str | None, str], ...] | None = None

    @property
    def genuine(self) -> bool:
        """True when the signature verified (valid, or rejected only for what it says)."""
        return self.key_fingerprint is not None


_ENCODE = msgspec.json.Encoder().encode
# The last record encoded and its line: audit.run writes a record's jsonl line and then
# hashes the same line into the summary's results digest, and encoding a 45-entitlement
# record is ~5 µs. One (record, line) pair, replaced whole (a thread never sees half).
_last_line: tuple[AuditRecord | None, bytes] = (None, b"")


def jsonl_line(record: AuditRecord) -> bytes:
    """``record`` as its ``--format jsonl`` line, newline included.

    Encoded once for the writer and the summary's digest alike: a record is immutable,
    and the one remembered is held here, so its id cannot be reused by another.
    """
    global _last_line  # noqa: PLW0603
    last = _last_line
    if last[0] is record:
        return last[1]
    line = _ENCODE(record) + b"\n"
    _last_line = (record, line)
    return line


def inconsistency(record: AuditRecord) -> str | None:
    """What makes ``record`` one no audit writes (None when it is consistent): ``ok``
    exactly when there is no reason, and a valid result carries its signed fields."""
    if record.ok and record.reason is not None:
        return f"ok is true with the reason {record.reason.value!r}"
    if not record.ok and record.reason is None:
        return "ok is false with no reason"
    if record.ok and (record.key_fingerprint is None or record.expiration is None):
        return "ok is true without the signed key fingerprint and expiration"
    if not record.source:
        return "it has no source id"
    return None


_TWO_DIGITS = tuple(f"{number:02d}" for number in range(100))
# "YYYY-MM-DDT" by proleptic ordinal: a store's instants fall on a few days, and spelling
# the date is half the cost. Bounded: emptied when full (a store of every day there is).
_DAY_PREFIXES: dict[int, str] = {}
_DAY_PREFIXES_KEPT = 4096


def iso_utc(moment: datetime) -> str:
    """``2026-01-01T01:00:00Z`` (with microseconds when there are any).

    Spelled field by field, exactly as ``isoformat()`` spells a UTC instant (less its
    ``+00:00``): isoformat formats through sprintf, ~11,000 instructions against
    ~4,000, twice per record. ``tests/audit/test_fast_paths.py`` holds the two equal.
    """
    if type(moment) is not datetime or moment.tzinfo is not UTC:
        return _isoformat_utc(moment)
    prefix = _DAY_PREFIXES.get(moment.toordinal())
    if prefix is None:
        prefix = _day_prefix(moment)
    two = _TWO_DIGITS
    micro = moment.microsecond
    if micro:
        return f"{prefix}{two[moment.hour]}:{two[moment.minute]}:{two[moment.second]}.{micro:06d}Z"
    return f"{prefix}{two[moment.hour]}:{two[moment.minute]}:{two[moment.second]}Z"


def _day_prefix(moment: datetime) -> str:
    if len(_DAY_PREFIXES) >= _DAY_PREFIXES_KEPT:
        _DAY_PREFIXES.clear()
    two = _TWO_DIGITS
    prefix = _DAY_PREFIXES[moment.toordinal()] = (
        f"{moment.year:04d}-{two[moment.month]}-{two[moment.day]}T"
    )
    return prefix


def _isoformat_utc(moment: datetime) -> str:
    if moment.tzinfo is not UTC:  # the verifier's instants are UTC already
        moment = moment.astimezone(UTC)
    return moment.isoformat()[:-6] + "Z"


def _signed_record(
    source: str, checkout: VerifiedCheckout, reason: Reason | None, message: str
) -> AuditRecord:
    return AuditRecord(
        source,
        reason is None,
        reason,
        checkout.license_arn,
        checkout.node_id,
        checkout.key_fingerprint,
        iso_utc(checkout.expiration),
        iso_utc(checkout.issued_at),
        checkout.license_consumption_token,
        message,
        entitlement_triples(checkout),
    )


def check_one(verifier: Verifier, source: str, payload: object, now: Instant) -> AuditRecord:
    """Verify one stored token and describe the outcome as an :class:`AuditRecord`.

    Only :class:`TokenRejected` is a verdict; any other exception is a bug in the
    verifier and propagates, naming the source so it can be reproduced.
    """
    try:
        outcome: VerifiedCheckout | TokenRejected = verifier.verify(payload, now)
    except TokenRejected as rejection:
        outcome = rejection
    except Exception as exc:
        raise _bug(source, exc) from exc
    return record_of(source, outcome)


def check_many(
    verifier: Verifier, items: Sequence[tuple[str, object]], now: Instant
) -> list[AuditRecord]:
    """:func:`check_one` on each ``(source, payload)``, verified together by
    ``Verifier.verify_each`` (the same outcomes, each stage warm)."""
    try:
        outcomes = verifier.verify_each([payload for _, payload in items], now)
    except Exception:
        # A bug in the verifier: find the token that shows it, and name its source.
        for source, payload in items:
            check_one(verifier, source, payload, now)
        raise
    return [
        record_of(source, outcome) for (source, _), outcome in zip(items, outcomes, strict=True)
    ]


def record_of(source: str, outcome: VerifiedCheckout | TokenRejected) -> AuditRecord:
    """The record of one verification's outcome."""
    if not isinstance(outcome, TokenRejected):
        return _signed_record(source, outcome, None, "valid")
    signed = outcome.signed_checkout
    if signed is None:
        return AuditRecord(
            source, False, outcome.reason, None, None, None, None, None, None,
            outcome.description,
        )  # fmt: skip
    return _signed_record(source, signed, outcome.reason, outcome.description)


def _bug(source: str, exc: Exception) -> RuntimeError:
    return RuntimeError(
        f"verifying {source}: {type(exc).__name__}: {exc} (a tokenverify bug: please "
        "report it with this token)"
    )
