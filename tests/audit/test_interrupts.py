"""Stopping an audit: a killed worker, Ctrl-C, a killed audit. Each leaves a valid prefix
of complete lines in source order, and ``--resume`` finishes with no id lost or repeated."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from .conftest import SCRIPT, BigStore, run_tokenverify
from .support import Store


def _start(
    store: Store, huge: BigStore, output: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(SCRIPT), "audit", f"{huge.path.parent.name}/{huge.path.name}",
            "--keys", str(store.keys), "--format", "jsonl", "--output", str(output),
            "--workers", "2", "--at", str(store.at), "--quiet",
        ],
        cwd=huge.path.parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell job would be
        env=None if env is None else {**os.environ, **env},
    )  # fmt: skip


def _wait_until_written(process: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if output.exists() and output.stat().st_size > 0:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)
    pytest.fail("the audit wrote nothing within 60 s")


def _workers(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The pool's worker processes: children of the forkserver the audit started."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for child in psutil.Process(process.pid).children():
            if "forkserver" in " ".join(child.cmdline()) and (workers := child.children()):
                return workers
        time.sleep(0.01)
    pytest.fail("no worker process found")


def _written_ids(output: Path, huge: BigStore, *, torn_tail_allowed: bool) -> list[str]:
    """The ids of the complete lines written, checked to be a prefix in source order."""
    data = output.read_bytes()
    *complete, tail = data.split(b"\n")
    assert tail == b"" or torn_tail_allowed, tail[:80]
    ids = [json.loads(line)["source"] for line in complete]
    assert ids == [e.source for e in huge.expected[: len(ids)]]
    return ids


def _resume_and_check(store: Store, huge: BigStore, output: Path) -> None:
    resumed = run_tokenverify(
        "audit", f"{huge.path.parent.name}/{huge.path.name}", "--keys", store.keys,
        "--format", "jsonl", "--output", output, "--workers", "2", "--at", str(store.at),
        "--resume",
        cwd=huge.path.parent.parent,
    )  # fmt: skip
    assert resumed.code == 1, resumed  # the mix has rejections
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["source"] for r in records] == [e.source for e in huge.expected]  # none lost or twice
    assert [r["reason"] or "ok" for r in records] == [e.now for e in huge.expected]
    assert f"audited {len(huge.expected):,} tokens" in resumed.err


def _assert_all_gone(processes: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(processes, timeout=15)
    for process in alive:
        process.kill()
    assert alive == [], "processes left behind"


def test_killed_worker_stops_cleanly_and_resume_completes(
    store: Store, huge_store: BigStore, tmp_path: Path
) -> None:
    output = tmp_path / "audit.jsonl"
    process = _start(store, huge_store, output)
    _wait_until_written(process, output)
    workers = _workers(process)
    tree = psutil.Process(process.pid).children(recursive=True)
    workers[0].send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    message = err.decode()
    assert process.returncode == 2, message
    assert len(message.splitlines()) == 1, message
    assert "Traceback" not in message
    assert "a worker process died" in message
    ids = _written_ids(output, huge_store, torn_tail_allowed=False)
    assert 0 < len(ids) < len(huge_store.expected)
    assert (
        f"; {len(ids):,} results in {output} are kept; finish with: tokenverify audit " in message
    )
    assert message.rstrip("\n").endswith(" --resume"), message
    _assert_all_gone(tree)
    _resume_and_check(store, huge_store, output)


def test_ctrl_c_stops_cleanly_and_resume_completes(
    store: Store, huge_store: BigStore, tmp_path: Path
) -> None:
    output = tmp_path / "audit.jsonl"
    process = _start(store, huge_store, output)
    _wait_until_written(process, output)
    _workers(process)
    tree = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGINT)  # what a terminal sends the foreground job
    for child in tree:
        child.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    message = err.decode()
    assert process.returncode == 130, message
    assert message.startswith("tokenverify: interrupted; ")
    assert "Traceback" not in message
    assert len(message.splitlines()) == 1, message
    ids = _written_ids(output, huge_store, torn_tail_allowed=False)
    assert (
        f"; {len(ids):,} results in {output} are kept; finish with: tokenverify audit " in message
    )
    assert message.rstrip("\n").endswith(" --resume"), message
    _assert_all_gone(tree)
    _resume_and_check(store, huge_store, output)


def test_killed_audit_leaves_complete_lines_and_resume_repairs(
    store: Store, huge_store: BigStore, tmp_path: Path
) -> None:
    output = tmp_path / "audit.jsonl"
    process = _start(store, huge_store, output)
    _wait_until_written(process, output)
    _workers(process)
    tree = psutil.Process(process.pid).children(recursive=True)
    time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    # Only a kill inside the kernel's write could tear the last line; resume cuts it.
    _written_ids(output, huge_store, torn_tail_allowed=True)
    _assert_all_gone(tree)  # workers and the forkserver notice and leave
    _resume_and_check(store, huge_store, output)


def _forkserver(process: subprocess.Popen[bytes]) -> None:
    """Wait until the audit starts its pool: the forkserver is its first child."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for child in psutil.Process(process.pid).children():
            with contextlib.suppress(psutil.Error):
                if "forkserver" in " ".join(child.cmdline()):
                    return
        assert process.poll() is None, process.communicate()
        time.sleep(0.002)
    pytest.fail("no forkserver within 60 s")


@pytest.mark.parametrize("delay", [0.0, 0.03, 0.1, 0.25])
def test_ctrl_c_while_the_pool_starts_is_one_line_and_130(
    store: Store, huge_store: BigStore, tmp_path: Path, delay: float
) -> None:
    output = tmp_path / "audit.jsonl"
    process = _start(store, huge_store, output)
    _forkserver(process)
    time.sleep(delay)
    tree = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    _, err = process.communicate(timeout=60)
    message = err.decode()
    assert process.returncode == 130, message
    assert "Traceback" not in message
    assert len(message.splitlines()) == 1, message
    assert message.startswith("tokenverify: interrupted; ")
    _assert_all_gone(tree)


def _pool_folders(root: Path) -> set[Path]:
    return set(root.glob("tokenverify-pool-*"))


def test_the_pool_folder_of_a_killed_audit_is_removed_by_the_next(
    store: Store, huge_store: BigStore, big_store: BigStore, tmp_path: Path
) -> None:
    # A temporary folder of its own: another audit on this machine (a second test run)
    # would rightly remove the stale folder this test looks for. Short, for the
    # forkserver's AF_UNIX socket path.
    private = Path(tempfile.mkdtemp(prefix="tv-"))
    env = {"TMPDIR": str(private)}
    try:
        _killed_audit_then_the_next(store, huge_store, big_store, tmp_path, private, env)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _killed_audit_then_the_next(
    store: Store,
    huge_store: BigStore,
    big_store: BigStore,
    tmp_path: Path,
    private: Path,
    env: dict[str, str],
) -> None:
    before = _pool_folders(private)
    process = _start(store, huge_store, tmp_path / "audit.jsonl", env)
    _wait_until_written(process, tmp_path / "audit.jsonl")
    tree = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    _assert_all_gone(tree)
    left = _pool_folders(private) - before
    assert len(left) == 1, left  # multiprocessing's own pymp-* folder was never removed
    result = run_tokenverify(
        "audit", big_store.path, "--keys", store.keys, "--workers", "2", "--format", "jsonl",
        "--quiet", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.code == 1, result
    assert not (left & _pool_folders(private)), "the stale pool folder is still there"
