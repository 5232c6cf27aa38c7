"""``benchmarks/audit_bench.py --quick`` runs end to end and prints what the README quotes.

A smoke test: timings on a shared machine mean nothing, so no number is compared with a
target here; the verdicts must only agree with the numbers printed beside them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run() -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "audit_bench.py"), "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report, done.stderr


def test_scaling_compares_two_workers_with_one(run: tuple[dict[str, Any], str]) -> None:
    report, tables = run
    scaling = report["scaling"]
    assert [(row["store"], row["workers"]) for row in scaling["rows"]] == [
        ("mixed", 1),
        ("mixed", 2),
        ("B only", 1),
        ("B only", 2),
    ]
    assert all(row["seconds_best"] > 0 and row["tokens_per_second"] > 0 for row in scaling["rows"])
    assert scaling["rows"][0]["speedup"] == 1.0
    # Issue 11's targets: 2 workers at least 1.9x one; one worker's cost per token at most
    # 1.35x (A, 4 KB) and 1.7x (B, 1 KB) the bare verify.
    assert scaling["target"] == 1.9
    assert scaling["verdict"] == ("PASS" if scaling["headline_speedup"] >= 1.9 else "MISS")
    assert re.search(
        r"Headline: 2 workers = [0-9.]+x one worker on the mixed store \(target ≥ 1\.9x\): "
        r"\*\*(PASS|MISS)\*\*",
        tables,
    )
    assert "| store | workers | best s | median s | tokens/s | x one worker |" in tables


def test_cost_compares_the_pipeline_with_bare_verify(run: tuple[dict[str, Any], str]) -> None:
    report, tables = run
    scenarios = report["cost"]["scenarios"]
    assert [s["key"] for s in scenarios] == ["A", "B"]
    for scenario in scenarios:
        rows = scenario["rows"]
        assert rows[0]["label"] == "bare `cryptography` verify (baseline)"
        assert rows[0]["ratio"] == 1.0
        assert len(rows) == 5
        assert all(row["us_best"] > 0 for row in rows)
        target = {"A": 1.35, "B": 1.7}[scenario["key"]]
        assert scenario["target"] == target
        assert scenario["verdict"] == ("PASS" if scenario["headline_ratio"] <= target else "MISS")
    assert tables.count("the audit pipeline = ") == 2


def test_memory_reports_every_process_peak(run: tuple[dict[str, Any], str]) -> None:
    report, tables = run
    memory = report["memory"]
    assert memory["lines"] == 5000
    assert memory["parent_peak_mb"] > 10
    assert len(memory["worker_peaks_mb"]) == 2
    assert min(memory["worker_peaks_mb"]) > 10
    largest = max([memory["parent_peak_mb"], *memory["worker_peaks_mb"]])
    assert memory["verdict"] == ("PASS" if largest <= 250 else "MISS")
    assert memory["summary_of_distinct"]["records"] == 20000
    assert "Repetition hides one cost" in tables
