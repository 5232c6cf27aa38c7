"""Where a report comes from: version, instant, policy, keys, revocations, sources, and a
digest of the results, so that a report can be cited and re-checked.

``results_sha256`` is the SHA-256 of the results in output order, each encoded exactly
as its ``--format jsonl`` line (compact JSON, fields in contract order) followed by
``\\n``. For a jsonl output it is simply ``sha256sum audit.jsonl``; for any other format,
rerun the audit with ``--format jsonl`` (same sources, keys, policy and ``--at TIME``)
and compare. :func:`results_sha256` recomputes it from a jsonl or json report.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from .. import __version__
from .._times import from_epoch

if TYPE_CHECKING:
    from ..formats._audit_report import Provenance
    from ._engine import Auditor
    from ._inventory import Inventory

__all__ = ["ProvenanceSource", "results_sha256"]


def results_sha256(path: str | os.PathLike[str]) -> str:
    """``results_sha256`` recomputed from a ``--format jsonl`` or ``json`` report."""
    from ._record import AuditRecord

    encode = msgspec.json.Encoder().encode
    with open(path, "rb") as handle:
        data = handle.read()
    if data.startswith(b'{"summary"'):
        records = msgspec.json.decode(data, type=dict[str, Any])["results"]
        digest = hashlib.sha256()
        for result in records:
            digest.update(encode(msgspec.convert(result, AuditRecord)) + b"\n")
        return digest.hexdigest()
    return hashlib.sha256(data).hexdigest()


@dataclass
class ProvenanceSource:
    """What :func:`tokenverify.audit.run` knows of an audit before it starts."""

    auditor: Auditor
    sources: Sequence[str]
    inventory: Inventory
    revocations_path: str | None = None
    revocations_sha256: str | None = None
    created_at: float = field(default_factory=time.time)

    def build(self, results: int, results_sha256: str) -> Provenance:
        """The provenance of the report, once ``results`` results digest to ``results_sha256``."""
        from ..formats._audit_report import (
            KeyProvenance,
            Provenance,
            RevocationProvenance,
            SkippedItem,
            SourceProvenance,
        )

        auditor, inventory = self.auditor, self.inventory
        policy = auditor.policy
        at = auditor.at
        counts = inventory.counts
        revocations = None
        if self.revocations_path is not None and self.revocations_sha256 is not None:
            revocations = RevocationProvenance(
                path=self.revocations_path,
                sha256=self.revocations_sha256,
                entries=len(auditor.revocations),
            )
        return Provenance(
            tokenverify=__version__,
            created_at=from_epoch(self.created_at),
            at="issued" if at == "issued" else from_epoch(at),
            policy=_policy(policy),
            keys=[
                KeyProvenance(
                    fingerprint=key.fingerprint,
                    thumbprint=key.thumbprint,
                    algorithms=sorted(key.algorithms),
                    not_before=key.not_before,
                    not_after=key.not_after,
                    label=key.label,
                    key_id=key.key_id,
                )
                for key in auditor.registry
            ],
            revocations=revocations,
            sources=[
                SourceProvenance(source=source, items=counts[i] if i < len(counts) else 0)
                for i, source in enumerate(self.sources)
            ],
            strict_sources=inventory.strict,
            skipped=[SkippedItem(source=name, what=what) for name, what in inventory.skipped],
            skipped_total=inventory.skipped_total,
            results=results,
            results_sha256=results_sha256,
        )


def _policy(policy: Any) -> dict[str, Any]:
    # Every field the policy has (whatever this version adds), as plain JSON values.
    return {name: _plain(getattr(policy, name)) for name in sorted(type(policy).__slots__)}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple | list | frozenset | set):
        items = [_plain(item) for item in value]
        return items if isinstance(value, tuple | list) else sorted(items, key=str)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    slots = getattr(type(value), "__slots__", None)
    if slots:
        return {name: _plain(getattr(value, name)) for name in slots if not name.startswith("_")}
    return str(value)  # Decimal and the like: exact as text
