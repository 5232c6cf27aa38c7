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
    "Finding",
    "KindSummary",
    "LifecycleGroup",
    "OverGrant",
    "Provenance",
    "TimelineRow",
    "UsageReport",
    "UsageSeries",
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
    entitlements: list[tuple[str, str | None, str]] | None = Field(
        None, description="Signed entitlementsAllowed as [name, value, unit]."
    )


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


class Finding(_Model):
    """One integrity or policy finding (one token)."""

    source: str
    reason: str
    message: str
    license_arn: str | None = Field(description="Signed; null when the signature never verified.")
    node_id: str | None


class LifecycleGroup(_Model):
    """Tokens of one license with one lifecycle reason, together."""

    reason: str = Field(description="expired, not_yet_valid or in_grace.")
    license_arn: str
    tokens: int
    nodes: list[str] = Field(description="The first nodes (at most 20); '' for none.")
    nodes_count: int
    nearest_seconds: float = Field(description="Closest to the audit instant (seconds).")
    farthest_seconds: float
    description: str = Field(description="For people: 'expired 2 h to 6 d 22 h before the audit'.")


class KindSummary(_Model):
    """One kind of finding: integrity, policy or lifecycle (always in that order)."""

    kind: Literal["integrity", "policy", "lifecycle"]
    tokens: int
    by_reason: dict[str, int]
    licenses: list[str] = Field(description="Affected signed licenses (at most 50).")
    licenses_count: int
    nodes: list[str] = Field(description="Affected signed nodes (at most 50).")
    nodes_count: int
    findings: list[Finding] = Field(description="Integrity and policy: the first 1000 tokens.")
    groups: list[LifecycleGroup] = Field(description="Lifecycle: grouped by reason and license.")


class GrantInfo(_Model):
    """What was granted for one entitlement of one license."""

    max_count: float
    unit: str
    overage: bool = Field(description="Overage allowed (and billed) beyond max_count.")
    allow_check_in: bool | None
    origin: str = Field(description="'--grant' or the get-license file it came from.")


class OverGrant(_Model):
    """A period during which more was held than granted."""

    license_arn: str
    entitlement: str
    unit: str
    start: AwareDatetime
    end: AwareDatetime
    duration_seconds: float
    duration: str
    peak: float
    peak_at: AwareDatetime
    granted: float
    overage_allowed: bool
    nodes_at_peak: list[str] = Field(description="At most 20.")


class NodeOverlap(_Model):
    """A node holding two or more checkouts of one license at once."""

    license_arn: str
    node_id: str | None
    overlapping: int = Field(description="Checkouts issued while another was still held.")
    most_at_once: int
    first_at: AwareDatetime
    examples: list[tuple[str, str]] = Field(description="(held, issued beside it) ids.")


class UsageSeries(_Model):
    """Concurrent consumption of one entitlement of one license over time."""

    license_arn: str
    entitlement: str
    unit: str
    checkouts: int = Field(description="Genuine checkouts carrying the entitlement.")
    peak: float
    peak_at: AwareDatetime | None
    nodes_at_peak: list[str] = Field(description="At most 20.")
    nodes_at_peak_count: int
    grant: GrantInfo | None
    note: str = ""
    exact: bool = Field(description="False: each point is the maximum over bucket_seconds.")
    bucket_seconds: float
    points: list[tuple[AwareDatetime, float]] = Field(
        description="[time, level] steps; the level holds until the next point."
    )
    over_grant_periods: int
    over_grant_seconds: float


class UsageReport(_Model):
    """Usage against the grant, from genuine checkouts (whatever their verdict)."""

    checkouts: int = Field(description="Distinct genuine checkouts counted.")
    series: list[UsageSeries] = Field(
        description="Those with a grant first, then the most checked out (at most 200)."
    )
    series_total: int = Field(0, description="License/entitlement series in all.")
    over_grant: list[OverGrant] = Field(description="Periods above a grant (first 100 each).")
    node_overlaps: list[NodeOverlap]
    duplicate_consumption_tokens: int = Field(
        description="Consumption tokens stored more than once (each counted once above)."
    )


class KeyProvenance(_Model):
    """One trusted key."""

    fingerprint: str
    thumbprint: str = Field(description="RFC 7638 JWK thumbprint (SHA-256, base64url).")
    algorithms: list[str] = Field(description="The algorithms it is pinned to.")
    not_before: AwareDatetime | None
    not_after: AwareDatetime | None
    label: str | None
    key_id: str | None


class SourceProvenance(_Model):
    """One source as given, and how many items it held."""

    source: str
    items: int = Field(description="Items read, skipped files included.")


class SkippedItem(_Model):
    """A file skipped as plainly not a checkout."""

    source: str
    what: str


class RevocationProvenance(_Model):
    """The revocation list applied."""

    path: str
    sha256: str = Field(description="SHA-256 of the file's bytes, hex.")
    entries: int


class Provenance(_Model):
    """What this report was made from, so that it can be cited and re-checked."""

    tokenverify: str
    created_at: AwareDatetime
    at: AwareDatetime | Literal["issued"]
    policy: dict[str, Any]
    keys: list[KeyProvenance]
    revocations: RevocationProvenance | None
    sources: list[SourceProvenance]
    strict_sources: bool
    skipped: list[SkippedItem] = Field(description="The first 1000.")
    skipped_total: int
    results: int
    results_sha256: str = Field(
        description=(
            "SHA-256 (hex) of the results in order, each as its --format jsonl line "
            "(compact JSON) with its newline: sha256sum of the jsonl output."
        )
    )


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
    findings: list[KindSummary] = Field(
        default_factory=list, description="Integrity, policy, lifecycle: in this order."
    )
    usage: UsageReport | None = None
    provenance: Provenance | None = None


class AuditReport(_Model):
    """``tokenverify audit --format json``."""

    summary: AuditSummary
    results: list[AuditResult]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``tokenverify audit --format json`` (its results are the
    ``--format jsonl`` lines)."""
    return AuditReport.model_json_schema()
