"""The Dask path on a LocalCluster gives exactly the records and summary of the local path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from tokenverify import audit
from tokenverify.audit import Auditor, AuditRecord

from .conftest import BigStore
from .support import NODE, Store

pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")

pytestmark = [
    # distributed's shutdown can leave a socket or a warning about a closing worker;
    # neither says anything about the audit.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two single-threaded worker processes: keys are parsed in each, once."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def _auditor(store: Store) -> Auditor:
    return Auditor(store.keys, tv.Policy(node_id=NODE), at=store.at)


def _local(store: Store, sources: list[str]) -> list[AuditRecord]:
    return list(_auditor(store).run(sources, workers=1))


def test_jsonl_partitions_give_the_local_records(
    client: Any, store: Store, big_store: BigStore, in_store_parent: Path
) -> None:
    source = str(big_store.path.relative_to(in_store_parent))
    # Small blocks: most partitions start in the middle of a line.
    bag = audit.jsonl_bag([source, "store/archive.jsonl"], blocksize=50_000)
    assert bag.npartitions > 20
    records = list(audit.iter_records(audit.audit_bag(_auditor(store), bag)))
    local = _local(store, [source, "store/archive.jsonl"])
    assert records == local
    assert len(records) == len(big_store.expected) + 8
    assert audit.summarize(records, store.at).report() == audit.summarize(local, store.at).report()


def test_a_bag_of_items_from_any_store(client: Any, store: Store, in_store_parent: Path) -> None:
    import dask.bag

    items = list(audit.iter_items(audit.parse_sources(["store"])))
    bag = dask.bag.from_sequence(items, npartitions=4)  # type: ignore[no-untyped-call]
    records = audit.audit_bag(_auditor(store), bag).compute()
    assert records == _local(store, ["store"])


def test_parquet_row_groups_give_the_local_records(
    client: Any, store: Store, tmp_path: Path
) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    lines = (store.root / "archive.jsonl").read_text().splitlines()
    path = tmp_path / "store.parquet"
    parquet.write_table(pyarrow.table({"response": lines * 5}), path, row_group_size=7)
    bag = audit.parquet_bag(path, "response")
    assert bag.npartitions == 7  # 45 rows in groups of 7
    records = list(audit.iter_records(audit.audit_bag(_auditor(store), bag)))
    assert records == _local(store, [f"parquet:///{path}?column=response"])
    assert [r.source for r in records[:2]] == [f"{path}:1", f"{path}:2"]
