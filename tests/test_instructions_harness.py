"""benchmarks/instructions.py runs what callgrind would count, without callgrind.

The counts need valgrind (not on every machine, and minutes under it), so this runs the
two inner modes directly on scenario B: every path is verified and checked for the right
answer, and every stage of ``--stages`` still finds the private function it names.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "instructions.py"


def _inner(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--store", str(tmp_path), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_each_path_and_each_stage_runs_and_verifies(tmp_path: Path) -> None:
    for path in ("bare", "token", "dict", "json"):
        done = _inner(tmp_path, "--inside", "B", path, "2")
        assert done.returncode == 0, done.stderr
    # The scenario is stored once and reused: the same bytes before and after a change.
    stored = (tmp_path / "B.json").read_bytes()
    done = _inner(tmp_path, "--inside-stages", "B", "2")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "B.json").read_bytes() == stored
