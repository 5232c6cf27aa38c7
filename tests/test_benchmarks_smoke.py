"""The benchmarks run end to end and print what the README quotes.

Smoke tests only: both scripts run once each with ``--quick --json``, in parallel
subprocesses, and the tests check the shape of what they print. Timings on a
shared CI machine mean nothing, so no number is compared with a target here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
# With --json each script prints JSON on stdout and its markdown tables on stderr, so one
# run checks both.
RUNS = {
    "verify_cost": ("verify_cost.py", "--quick", "--json"),
    "launch": ("launch.py", "--quick", "--json"),
}
HAVE_JOSERFC = importlib.util.find_spec("joserfc") is not None
# | label | 12.3 | 14.5 | 1.00x | 1.02x |
NUMERIC_ROW = r"\| {label} \| [0-9.]+ \| [0-9.]+ \| ([0-9.]+)x \| ([0-9.]+)x \|"
# launch.py adds the ratio taken round by round: | label | 12.3 | 14.5 | 1.00x | 1.02x | 1.01x |
LAUNCH_ROW = r"\| {label} \| [0-9.]+ \| [0-9.]+ \| ([0-9.]+)x \| ([0-9.]+)x \| ([0-9.]+)x \|"
TRUST_MODULE = "tokenverify, keys from the exported trust module"
KEYS_FILE = "tokenverify, keys from a keys file (KeyRegistry.load)"
LAUNCH_LABELS = [
    "python -c pass (floor)",
    "bare cryptography + json",
    TRUST_MODULE,
    KEYS_FILE,
    "tokenverify, PEM in the script",
    "PyJWT",
    "import tokenverify (nothing else)",
]


@pytest.fixture(scope="module")
def outputs() -> dict[str, subprocess.CompletedProcess[str]]:
    """Every benchmark run at once (they are independent), each checked for exit 0."""
    started = {
        name: subprocess.Popen(
            [sys.executable, str(BENCHMARKS / script), *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (script, *args) in RUNS.items()
    }
    finished = {}
    try:
        for name, process in started.items():
            stdout, stderr = process.communicate(timeout=120)
            finished[name] = subprocess.CompletedProcess(
                process.args, process.returncode, stdout, stderr
            )
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return finished


def _tables(outputs: dict[str, subprocess.CompletedProcess[str]], name: str) -> str:
    done = outputs[name]
    assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stderr


def _report(outputs: dict[str, subprocess.CompletedProcess[str]], name: str) -> dict[str, Any]:
    done = outputs[name]
    assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_verify_cost_prints_both_scenario_tables(
    outputs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    text = _tables(outputs, "verify_cost")
    assert "### A: ~4 KB AWS-shaped borrow token, PS384, RSA-4096" in text
    assert "### B: ~1 KB checkout token, PS256, RSA-2048" in text
    assert "Method: " in text
    labels = [
        "bare `cryptography` verify \\(baseline\\)",
        "tokenverify `Verifier.verify\\(token\\)`, full policy",
        "tokenverify `Verifier.verify\\(response dict\\)` \\(\\+ envelope cross-check\\)",
        "tokenverify `Verifier.verify\\(response JSON bytes\\)` \\(AWS CLI, indent 4\\)",
        "tokenverify `Verifier.verify\\(token\\)` \\+ read every field",
        "tokenverify `verify_compact` \\(signature only\\)",
        "PyJWT `jwt.decode` \\(signature only, preloaded key\\)",
    ]
    if HAVE_JOSERFC:
        labels.append("joserfc `jwt.decode` \\(signature only, preloaded key\\)")
    for label in labels:
        rows = re.findall(NUMERIC_ROW.format(label=label), text)
        assert len(rows) == 2, f"expected one row per scenario for {label!r}:\n{text}"
    baseline_rows = re.findall(NUMERIC_ROW.format(label=labels[0]), text)
    assert baseline_rows == [("1.00", "1.00"), ("1.00", "1.00")]
    assert re.search(r"Headline \(A\): .* \(target ≤ 1\.30x\): \*\*(PASS|MISS)\*\*", text)
    assert re.search(r"Headline \(B\): .* \(target ≤ 1\.50x\): \*\*(PASS|MISS)\*\*", text)
    assert "### Where the time goes: scenario A" in text
    assert "### Where the time goes: scenario B" in text
    # The stage breakdown leans on private modules; if they move it must say so, not crash.
    breakdowns = text.count("| whole `Verifier.verify(token)` |")
    assert breakdowns + text.count("Stage breakdown unavailable") == 2
    # The cProfile split needs no internals: it always has rows.
    assert re.search(r"^\| `[^`]+` \| [0-9.]+% \|$", text, re.MULTILINE)


def test_verify_cost_json_describes_the_scenarios_the_issue_asks_for(
    outputs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    report = _report(outputs, "verify_cost")
    scenarios = {scenario["key"]: scenario for scenario in report["scenarios"]}
    assert set(scenarios) == {"A", "B"}
    a, b = scenarios["A"], scenarios["B"]
    assert (a["algorithm"], a["key_bits"], a["target"]) == ("PS384", 4096, 1.3)
    assert 4000 <= a["token_length"] <= 4300
    assert 40 <= a["entitlements"] <= 50
    assert (b["algorithm"], b["key_bits"], b["target"]) == ("PS256", 2048, 1.5)
    assert 900 <= b["token_length"] <= 1200
    for scenario in (a, b):
        assert scenario["verdict"] in ("PASS", "MISS")
        assert scenario["verdict"] == (
            "PASS" if scenario["headline_ratio"] <= scenario["target"] else "MISS"
        )
        rows = scenario["rows"]
        assert len(rows) == (10 if HAVE_JOSERFC else 9)
        assert any("response JSON bytes" in row["label"] for row in rows)
        assert any("verify_each(64 tokens)`, per token" in row["label"] for row in rows)
        assert all(row["us_min"] > 0 and row["us_median"] >= row["us_min"] for row in rows)
        assert rows[0]["ratio_min"] == 1.0
    assert report["method"]
    assert report["machine"]["cryptography"]
    for key in ("A", "B"):
        assert report["verify_callees"][key]["callees"], "cProfile saw no callee of verify"


def test_launch_prints_wall_times_and_import_profile(
    outputs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    text = _tables(outputs, "launch")
    for label in LAUNCH_LABELS:
        assert re.search(LAUNCH_ROW.format(label=re.escape(label)), text), (
            f"no row for {label!r}:\n{text}"
        )
    baseline = re.search(LAUNCH_ROW.format(label="bare cryptography \\+ json"), text)
    assert baseline is not None
    assert baseline.groups() == ("1.00", "1.00", "1.00")
    # Both ways a product keeps its keys have a headline against the target.
    for label in (TRUST_MODULE, KEYS_FILE):
        assert re.search(
            rf"Headline: {re.escape(label)} = .* \(target ≤ 1\.20x\): \*\*(PASS|MISS)\*\*", text
        ), text
    assert '`python -X importtime -c "import tokenverify"`: top 10 by cumulative time' in text
    assert re.search(r"^\| tokenverify \| 0 \| [0-9.]+ \| [0-9.]+ \|$", text, re.MULTILINE)
    assert "The keys file script imports" in text


def test_launch_json_keeps_heavy_modules_off_the_launch_path(
    outputs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    report = _report(outputs, "launch")
    labels = [row["label"] for row in report["rows"]]
    assert labels == LAUNCH_LABELS
    headlines = {headline["label"]: headline for headline in report["headlines"]}
    assert set(headlines) == {TRUST_MODULE, KEYS_FILE}
    for headline in headlines.values():
        assert headline["verdict"] == ("PASS" if headline["ratio"] <= report["target"] else "MISS")
    assert report["target"] == 1.2
    assert report["headline_ratio"] == max(h["ratio"] for h in headlines.values())
    assert report["verdict"] == ("PASS" if report["headline_ratio"] <= report["target"] else "MISS")
    for row in report["rows"]:
        assert row["ms_min"] > 0
        assert row["ratio_paired"] > 0
    top = report["import_top10"]
    assert len(top) == 10
    assert top[0]["module"] == "tokenverify"  # the root of its own import tree
    assert 4000 <= report["token_length"] <= 4300
    # Not a timing: a fact about what the launch scripts import (pydantic alone is ~110 ms,
    # msgspec ~11 ms): none of the watch list, in any of them.
    assert report["heavy_modules_in_launch"] == []
    assert set(report["launch_module_count"]) == {TRUST_MODULE, KEYS_FILE, LAUNCH_LABELS[4]}
