"""The audit report as documents people and programs read: pydantic models, JSON Schema.

``tokenverify audit --format json`` writes one :class:`AuditReport`:
``{"summary": AuditSummary, "results": [AuditResult, ...]}``; ``--format jsonl`` writes
one :class:`AuditResult` per line. ``tokenverify schema audit`` prints the schema. Fields
are only ever added, never renamed or retyped, within one ``version``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .._errors import Reason

__all__ = [
    "AuditReport",
    "AuditResult",
    "AuditSummary",
    "Counts",
    "Duplicate",
    "Expiring",
    "ExpiringToken",
    "TimelineRow",
    "json_schema",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditResult(_Model):
    """One audited token (one ``--format jsonl`` line)."""

    source: str = Field(description="Stable id: path, path:line, table:rowid or stdin:line.")
    ok: bool
    reason: Reason | None = Field(description="Why it was rejected; null when valid.")
    license_arn: str | None = Field(description="Signed licenseArn; null if never verified.")
    node_id: str | None = Field(description="Signed nodeId; null if unbound or never verified.")
    key_fingerprint: str | None = Field(
        description="Issuer fingerprint of the key that verified the signature, if one did."
    )
    expiration: AwareDatetime | None = Field(description="Signed expiration, ISO 8601 UTC.")
    issued_at: AwareDatetime | None = Field(None, description="Signed issuedAt, ISO 8601 UTC.")
    license_consumption_token: str | None = Field(
        None, description="Signed licenseConsumptionToken: the checkout's identity."
    )
    message: str = Field("", description="'valid', or what was wrong.")


class Counts(_Model):
    """Tokens valid and rejected."""

    ok: int = 0
    rejected: int = 0


class Duplicate(_Model):
    """One licenseConsumptionToken carried by more than one stored token."""

    license_consumption_token: str
    count: int = Field(description="How many stored tokens carry it.")
    sources: list[str] = Field(description="The first ids that carry it (at most 10).")


class ExpiringToken(_Model):
    """A valid token expiring within the window."""

    source: str
    license_arn: str
    node_id: str | None
    expiration: AwareDatetime


class Expiring(_Model):
    """Valid tokens whose expiration falls within ``window_seconds`` after ``reference``."""

    window_seconds: float
    reference: AwareDatetime = Field(
        description="The instant checked (the wall clock at the start for --at issued)."
    )
    count: int
    soonest: list[ExpiringToken] = Field(description="The first to expire (at most 100).")


class Span(_Model):
    """From issuedAt to expiration (overlapping checkouts merged)."""

    start: AwareDatetime
    end: AwareDatetime


class TimelineRow(_Model):
    """The genuine checkouts of one license on one node."""

    license_arn: str
    node_id: str | None
    ok: int
    rejected: int
    first_issued_at: AwareDatetime
    last_expiration: AwareDatetime
    valid_spans: list[Span] = Field(description="Validity of valid tokens (merged, bounded).")
    rejected_spans: list[Span] = Field(description="Validity of genuine rejected tokens.")


class AuditSummary(_Model):
    """What an audit found, in totals."""

    format: Literal["tokenverify-audit"] = "tokenverify-audit"
    version: Literal[1] = 1
    checked_at: AwareDatetime | Literal["issued"] = Field(
        description="The instant every token was judged at, or 'issued' (each at its issuedAt)."
    )
    total: int
    ok: int
    rejected: int
    by_reason: dict[str, int] = Field(
        description="Tokens per Reason value, and 'ok' for valid ones (always present)."
    )
    by_key_fingerprint: dict[str, Counts] = Field(
        description="Genuine tokens (signature verified) per issuer key fingerprint."
    )
    by_license_arn: dict[str, Counts] = Field(description="Genuine tokens per signed license.")
    by_node_id: dict[str, Counts] = Field(
        description="Genuine tokens per signed nodeId ('' for tokens bound to no node)."
    )
    duplicates: list[Duplicate] = Field(
        description="licenseConsumptionTokens seen more than once, most repeated first (100)."
    )
    duplicate_tokens: int = Field(description="How many licenseConsumptionTokens repeat.")
    expiring: Expiring
    timeline: list[TimelineRow] = Field(
        description="Per license and node, the latest-expiring first (at most 50 rows)."
    )
    timeline_rows: int = Field(description="License/node pairs in all.")


class AuditReport(_Model):
    """``tokenverify audit --format json``."""

    summary: AuditSummary
    results: list[AuditResult]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``tokenverify audit --format json`` (its results are the
    ``--format jsonl`` lines)."""
    return AuditReport.model_json_schema()
