"""An audit verifies a few tokens together (``Verifier.verify_each``): nothing else changes.

The records of a chunked run are those of auditing each token alone, in source order,
with unreadable sources in their places; a bug in the verifier still names the token's
source, wherever the token sits in its chunk.
"""

from __future__ import annotations

from typing import Any

import pytest

import tokenverify as tv
from tokenverify import _verifier
from tokenverify.audit import Auditor
from tokenverify.audit._engine import _LOCAL_CHUNK
from tokenverify.audit._sources import SourceProblem

from .conftest import BigStore
from .support import Store

POLICY = tv.Policy(node_id="node-7")


def _items(big_store: BigStore, count: int) -> list[tuple[str, Any]]:
    lines = big_store.path.read_bytes().splitlines()[:count]
    items: list[tuple[str, Any]] = [(f"line{index}", line) for index, line in enumerate(lines)]
    # Unreadable sources in the midst of tokens, one at a chunk's edge.
    problem = SourceProblem(tv.Reason.malformed, "cannot be read")
    items[5:5] = [("problem-a", problem)]
    items[_LOCAL_CHUNK:_LOCAL_CHUNK] = [("problem-b", problem), ("problem-c", problem)]
    return items


def test_a_chunked_audit_records_what_each_token_alone_gives(
    store: Store, big_store: BigStore
) -> None:
    auditor = Auditor(store.keys, POLICY, at=store.at)
    items = _items(big_store, 3 * _LOCAL_CHUNK + 7)
    chunked = list(auditor.run_items(items, workers=1))
    alone = [auditor.check(source, payload) for source, payload in items]
    assert chunked == alone
    assert [record.source for record in chunked] == [source for source, _ in items]
    # Not a mix of one kind: valid and refused tokens and unreadable sources alike.
    reasons = {record.reason for record in chunked}
    assert None in reasons
    assert len(reasons) >= 4


def test_a_verifier_bug_names_the_source_of_its_token(
    store: Store, big_store: BigStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _items(big_store, 2 * _LOCAL_CHUNK)
    culprit_source, culprit = next(
        (source, payload)
        for source, payload in items[_LOCAL_CHUNK + 3 :]
        if b"SignedToken" in payload
    )
    real = _verifier.read_input  # type: ignore[attr-defined]

    def read_input(source: object, max_size: int) -> Any:
        if source is culprit:  # this item alone: other lines may hold the same bytes
            raise ZeroDivisionError("a bug")
        return real(source, max_size)

    monkeypatch.setattr(_verifier, "read_input", read_input)
    auditor = Auditor(store.keys, POLICY, at=store.at)
    with pytest.raises(RuntimeError, match=f"verifying {culprit_source}: ZeroDivisionError"):
        list(auditor.run_items(items, workers=1))
