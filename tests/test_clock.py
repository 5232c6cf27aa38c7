"""ClockGuard: the persisted high-water mark of trusted time, alone and in a Verifier.

Rollback beyond the policy's leeway is ``clock_rollback``, within it is fine; signed
``issuedAt`` values raise the mark; a missing state is a new mark or a refusal
(``require_state``); a corrupt, unlockable or unwritable state is refused. Updates are
atomic and crash-safe (writer processes are killed at every step of a write) and real
processes sharing one state file never lose an update.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from tokenverify.testing import TestIssuer

T0 = 1_768_478_400.0  # 2026-01-15T12:00:00Z
LEEWAY = 60.0
WORKERS = 4
ROUNDS = 60
posix_only = pytest.mark.skipif(
    sys.platform == "win32", reason="kills writers with SIGKILL and checks flock (POSIX)"
)


def state(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_bytes())
    return document


def rollback(action: Any) -> tv.TokenRejected:
    with pytest.raises(tv.TokenRejected) as caught:
        action()
    assert caught.value.reason is tv.Reason.clock_rollback, caught.value.description
    return caught.value


@pytest.fixture
def guard_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "clock.json"


@pytest.fixture
def verifier_with_guard(eddsa_issuer: TestIssuer, guard_path: Path) -> tv.Verifier:
    return tv.Verifier(
        eddsa_issuer.registry(), tv.Policy(leeway=LEEWAY), clock_guard=tv.ClockGuard(guard_path)
    )


# --- rollback and leeway ---------------------------------------------------------------


def test_clock_turned_back_beyond_the_leeway_is_refused(
    eddsa_issuer: TestIssuer, verifier_with_guard: tv.Verifier, guard_path: Path
) -> None:
    checkout = eddsa_issuer.checkout(issued_at=T0, ttl=86_400)
    verifier_with_guard.verify(checkout, now=T0 + 3600)
    assert tv.ClockGuard(guard_path).high_water_mark() == T0 + 3600
    # The checkout itself is still inside its window at T0 + 100: only the guard refuses.
    rejection = rollback(lambda: verifier_with_guard.verify(checkout, now=T0 + 100))
    assert "before the latest time already seen" in rejection.description
    assert rejection.signed_checkout is not None  # refused after the signature was checked
    verdict = verifier_with_guard.check(checkout, now=T0 + 3600 - LEEWAY - 1)
    assert verdict.reason is tv.Reason.clock_rollback
    # A refusal leaves the mark where it was.
    assert tv.ClockGuard(guard_path).high_water_mark() == T0 + 3600


def test_clock_behind_the_mark_within_the_leeway_is_accepted(
    eddsa_issuer: TestIssuer, verifier_with_guard: tv.Verifier, guard_path: Path
) -> None:
    checkout = eddsa_issuer.checkout(issued_at=T0)
    verifier_with_guard.verify(checkout, now=T0 + 600)
    verifier_with_guard.verify(checkout, now=T0 + 600 - LEEWAY)  # exactly the leeway
    verifier_with_guard.verify(checkout, now=T0 + 599)
    # Being behind never lowers the mark.
    assert tv.ClockGuard(guard_path).high_water_mark() == T0 + 600


def test_leeway_zero_refuses_any_step_back(eddsa_issuer: TestIssuer, guard_path: Path) -> None:
    verifier = tv.Verifier(
        eddsa_issuer.registry(), tv.Policy(leeway=0), clock_guard=tv.ClockGuard(guard_path)
    )
    checkout = eddsa_issuer.checkout(issued_at=T0)
    verifier.verify(checkout, now=T0 + 10)
    verifier.verify(checkout, now=T0 + 10)  # the same instant again is not a rollback
    rollback(lambda: verifier.verify(checkout, now=T0 + 9.5))


def test_signed_issued_at_raises_the_mark_beyond_the_wall_clock(
    eddsa_issuer: TestIssuer, guard_path: Path
) -> None:
    """The issuer's clock is evidence too: a checkout issued at T proves it is past T."""
    verifier = tv.Verifier(
        eddsa_issuer.registry(), tv.Policy(leeway=300), clock_guard=tv.ClockGuard(guard_path)
    )
    early = eddsa_issuer.checkout(issued_at=T0 + 200)
    verifier.verify(early, now=T0)  # issued 200 s "in the future", within the leeway
    assert tv.ClockGuard(guard_path).high_water_mark() == T0 + 200
    other = eddsa_issuer.checkout(issued_at=T0 - 3600)
    # T0 - 101 is only 101 s behind the wall clock seen, but 301 s behind the signed time.
    rollback(lambda: verifier.verify(other, now=T0 - 101))
    verifier.verify(other, now=T0 - 100)


def test_auditing_at_issue_time_does_not_consult_or_move_the_guard(
    eddsa_issuer: TestIssuer, verifier_with_guard: tv.Verifier, guard_path: Path
) -> None:
    guard_path.parent.mkdir()
    guard_path.write_text("corrupt")
    old = eddsa_issuer.checkout(issued_at=T0 - 86_400 * 30)
    assert verifier_with_guard.verify(old, now="issued").issued_at.timestamp() == T0 - 86_400 * 30
    assert guard_path.read_text() == "corrupt"


def test_observe_directly_checks_then_raises_the_mark(guard_path: Path) -> None:
    guard = tv.ClockGuard(guard_path)
    assert guard.high_water_mark() is None
    guard.observe(T0, T0 - 50, LEEWAY)
    assert guard.high_water_mark() == T0
    guard.observe(T0 - 10, T0 + 500, LEEWAY)  # behind within leeway; signed time ahead
    assert guard.high_water_mark() == T0 + 500
    rollback(lambda: guard.observe(T0, T0, LEEWAY))  # 500 s behind
    assert guard.high_water_mark() == T0 + 500
    assert repr(guard) == f"<ClockGuard {str(guard_path)!r}>"


@pytest.mark.parametrize(
    ("now", "signed"),
    [
        (float("inf"), T0),
        (float("nan"), T0),
        (-1.0, T0),
        (253402300800.0, T0),  # year 10000
        (T0, float("inf")),
        (True, T0),
    ],
    ids=["now-inf", "now-nan", "now-negative", "now-year-10000", "signed-inf", "now-bool"],
)
def test_an_instant_that_could_not_be_stored_is_refused_before_the_state_changes(
    guard_path: Path, now: float, signed: float
) -> None:
    guard = tv.ClockGuard(guard_path)
    guard.observe(T0, T0, LEEWAY)
    before = guard_path.read_bytes()
    with pytest.raises(ValueError, match="epoch seconds"):
        guard.observe(now, signed, LEEWAY)
    assert guard_path.read_bytes() == before
    assert guard.high_water_mark() == T0


def test_verifier_with_an_infinite_now_does_not_brick_the_state(
    eddsa_issuer: TestIssuer, verifier_with_guard: tv.Verifier, guard_path: Path
) -> None:
    checkout = eddsa_issuer.checkout(issued_at=T0)
    verifier_with_guard.verify(checkout, now=T0 + 1)
    with pytest.raises(ValueError, match="epoch seconds"):
        verifier_with_guard.verify(checkout, now=float("inf"))
    verifier_with_guard.verify(checkout, now=T0 + 2)
    assert tv.ClockGuard(guard_path).high_water_mark() == T0 + 2


# --- missing state ---------------------------------------------------------------------


def test_missing_state_starts_a_new_mark_by_default(
    eddsa_issuer: TestIssuer, verifier_with_guard: tv.Verifier, guard_path: Path
) -> None:
    assert not guard_path.exists()
    verifier_with_guard.verify(eddsa_issuer.checkout(issued_at=T0), now=T0 + 5)
    assert state(guard_path) == {
        "format": "tokenverify-clock",
        "version": 1,
        "high_water_mark": T0 + 5,
    }


def test_missing_state_is_refused_when_required(eddsa_issuer: TestIssuer, guard_path: Path) -> None:
    guard = tv.ClockGuard(guard_path, require_state=True)
    verifier = tv.Verifier(eddsa_issuer.registry(), clock_guard=guard)
    rejection = rollback(lambda: verifier.verify(eddsa_issuer.checkout(issued_at=T0), now=T0))
    assert "is missing" in rejection.description
    assert not guard_path.exists()  # refusing never creates it
    rollback(guard.high_water_mark)


def test_initialize_creates_the_state_once(eddsa_issuer: TestIssuer, guard_path: Path) -> None:
    guard = tv.ClockGuard(guard_path, require_state=True)
    guard.initialize(now=T0)
    assert guard.high_water_mark() == T0
    guard.initialize(now=T0 + 1000)  # an existing state is never reset
    assert guard.high_water_mark() == T0
    verifier = tv.Verifier(eddsa_issuer.registry(), clock_guard=guard)
    verifier.verify(eddsa_issuer.checkout(issued_at=T0), now=T0 + 30)
    assert guard.high_water_mark() == T0 + 30
    with pytest.raises(ValueError, match="epoch seconds"):
        tv.ClockGuard(guard_path.with_name("other.json")).initialize(now=float("nan"))
    assert not guard_path.with_name("other.json").exists()


def test_initialize_defaults_to_the_system_clock(guard_path: Path) -> None:
    import time

    before = time.time()
    tv.ClockGuard(guard_path).initialize()
    mark = tv.ClockGuard(guard_path).high_water_mark()
    assert mark is not None
    assert before <= mark <= time.time()


# --- corrupt state ---------------------------------------------------------------------

VALID = b'{"format": "tokenverify-clock", "version": 1, "high_water_mark": 1768478400.0}'
CORRUPT_STATES: dict[str, bytes] = {
    "empty": b"",
    "truncated": VALID[: len(VALID) // 2],
    "not-json": b"high_water_mark=1768478400",
    "json-array": b"[1768478400]",
    "json-number": b"1768478400",
    "missing-mark": b'{"format": "tokenverify-clock", "version": 1}',
    "missing-format": b'{"version": 1, "high_water_mark": 1768478400}',
    "missing-version": b'{"format": "tokenverify-clock", "high_water_mark": 1768478400}',
    "unknown-member": VALID[:-1] + b', "reset": true}',
    "other-format": VALID.replace(b"tokenverify-clock", b"tokenverify-keys"),
    "version-2": VALID.replace(b'"version": 1', b'"version": 2'),
    "version-true": VALID.replace(b'"version": 1', b'"version": true'),
    "version-float": VALID.replace(b'"version": 1', b'"version": 1.0'),
    "version-string": VALID.replace(b'"version": 1', b'"version": "1"'),
    "mark-string": VALID.replace(b"1768478400.0", b'"1768478400"'),
    "mark-null": VALID.replace(b"1768478400.0", b"null"),
    "mark-bool": VALID.replace(b"1768478400.0", b"true"),
    "mark-negative": VALID.replace(b"1768478400.0", b"-1"),
    "mark-nan": VALID.replace(b"1768478400.0", b"NaN"),
    "mark-infinity": VALID.replace(b"1768478400.0", b"Infinity"),
    "mark-1e400": VALID.replace(b"1768478400.0", b"1e400"),
    "mark-year-10000": VALID.replace(b"1768478400.0", b"253402300800"),
    "mark-list": VALID.replace(b"1768478400.0", b"[1768478400]"),
    # Parsers disagree on which duplicate wins: one could read 0, another the true mark.
    "duplicate-mark": VALID[:-1] + b', "high_water_mark": 0}',
    "utf8-bom": b"\xef\xbb\xbf" + VALID,
    "utf16": VALID.decode().encode("utf-16"),
    "invalid-utf8": VALID[:-1] + b', "x": "\xff"}',
    "over-4096-bytes": VALID[:-1] + b', "pad": "' + b"x" * 4100 + b'"}',
    "nested-4000-deep": b"[" * 4000 + b"]" * 4000,
    "nested-100000-deep": b"[" * 100_000,
}


@pytest.mark.parametrize("content", CORRUPT_STATES.values(), ids=CORRUPT_STATES.keys())
def test_corrupt_state_is_refused_and_left_alone(
    content: bytes, eddsa_issuer: TestIssuer, verifier_with_guard: tv.Verifier, guard_path: Path
) -> None:
    guard_path.parent.mkdir()
    guard_path.write_bytes(content)
    checkout = eddsa_issuer.checkout(issued_at=T0)
    rejection = rollback(lambda: verifier_with_guard.verify(checkout, now=T0 + 5))
    assert "not a valid clock state" in rejection.description
    assert rejection.description.isprintable()
    assert verifier_with_guard.check(checkout, now=T0 + 5).reason is tv.Reason.clock_rollback
    rollback(tv.ClockGuard(guard_path).high_water_mark)
    assert guard_path.read_bytes() == content  # evidence is kept, never "repaired"


def test_the_valid_state_of_the_corrupt_cases_is_itself_accepted(guard_path: Path) -> None:
    guard_path.parent.mkdir()
    guard_path.write_bytes(VALID)
    assert tv.ClockGuard(guard_path).high_water_mark() == 1768478400.0


def test_state_that_is_a_folder_is_refused(guard_path: Path) -> None:
    guard_path.mkdir(parents=True)
    rejection = rollback(lambda: tv.ClockGuard(guard_path).observe(T0, T0, LEEWAY))
    assert "cannot be read" in rejection.description


_OBSERVE = textwrap.dedent(
    """
    import sys
    import tokenverify as tv
    try:
        tv.ClockGuard(sys.argv[1]).observe(1768478400.0, 1768478400.0, 60.0)
    except tv.TokenRejected as rejection:
        print(rejection.reason.value, rejection.description)
    """
)


@posix_only
@pytest.mark.parametrize("special", ["fifo", "device"])
def test_state_that_is_a_fifo_or_device_is_refused_without_blocking(
    guard_path: Path, special: str
) -> None:
    """A FIFO at the state path once blocked verification for ever."""
    guard_path.parent.mkdir(parents=True)
    if special == "fifo":
        os.mkfifo(guard_path)
    else:
        guard_path.symlink_to("/dev/zero")
    # A subprocess with a timeout: a guard that blocked would hang the test run.
    done = subprocess.run(
        [sys.executable, "-c", _OBSERVE, str(guard_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done
    assert lines[0].startswith("clock_rollback the clock state")
    assert "cannot be read (is a FIFO" in lines[0] or "cannot be read (is a device" in lines[0]
    assert str(guard_path) in lines[0]
    # Left as it was: never replaced by a fresh mark.
    assert not guard_path.is_file()


@posix_only
def test_a_symlink_planted_at_the_lock_file_is_refused_not_followed(guard_path: Path) -> None:
    guard_path.parent.mkdir(parents=True)
    victim = guard_path.parent / "victim"
    lock = guard_path.with_name("clock.json.lock")
    lock.symlink_to(victim)
    rejection = rollback(lambda: tv.ClockGuard(guard_path).observe(T0, T0, LEEWAY))
    assert f"{lock} is a symbolic link" in rejection.description
    assert not victim.exists()
    assert not guard_path.exists()


def test_unwritable_state_fails_closed(
    guard_path: Path, monkeypatch: pytest.MonkeyPatch, eddsa_issuer: TestIssuer
) -> None:
    """A disk that cannot take the new mark would freeze it: refuse rather than go on."""
    from tokenverify import _clock

    guard = tv.ClockGuard(guard_path)
    guard.observe(T0, T0, LEEWAY)

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_clock, "write_atomically", disk_full)
    verifier = tv.Verifier(eddsa_issuer.registry(), clock_guard=guard)
    rejection = rollback(lambda: verifier.verify(eddsa_issuer.checkout(issued_at=T0), now=T0 + 9))
    assert "cannot be locked or updated" in rejection.description
    assert guard.high_water_mark() == T0


def test_unlockable_state_fails_closed(guard_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tokenverify import _files

    def no_lock(descriptor: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(_files, "_lock", no_lock)
    rejection = rollback(lambda: tv.ClockGuard(guard_path).observe(T0, T0, LEEWAY))
    assert "cannot be locked or updated" in rejection.description


# --- atomic, crash-safe updates --------------------------------------------------------


@posix_only
def test_updates_replace_the_file_whole_under_the_lock(
    guard_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the new state is written, no other process can take the lock."""
    import fcntl

    from tokenverify import _clock, _files

    held_during_write: list[bool] = []

    def write_checking_the_lock(path: Path, data: bytes) -> None:
        with open(f"{guard_path}.lock", "a+b") as other:
            try:
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held_during_write.append(True)
            else:
                fcntl.flock(other.fileno(), fcntl.LOCK_UN)
                held_during_write.append(False)
        _files.write_atomically(path, data)

    monkeypatch.setattr(_clock, "write_atomically", write_checking_the_lock)
    guard = tv.ClockGuard(guard_path)
    guard.observe(T0, T0, LEEWAY)
    guard.observe(T0 + 1, T0, LEEWAY)
    assert held_during_write == [True, True]
    # Whole documents only, and no temporary files left beside them.
    assert state(guard_path)["high_water_mark"] == T0 + 1
    assert sorted(p.name for p in guard_path.parent.iterdir()) == ["clock.json", "clock.json.lock"]


# A writer that dies at a chosen step of ClockGuard's write: SIGKILL, so nothing is
# cleaned up, exactly as a power cut or an OOM kill would leave things.
_CRASHING_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    import tokenverify as tv
    from tokenverify import _files

    path, step, new_mark = sys.argv[1], sys.argv[2], float(sys.argv[3])

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    real_fdopen, real_replace, real_fsync = os.fdopen, os.replace, os.fsync

    class HalfWriter:
        def __init__(self, stream):
            self.stream = stream
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return False
        def write(self, data):
            self.stream.write(data[: len(data) // 2])
            self.stream.flush()
            die()

    if step == "mid-write":
        _files.os.fdopen = lambda fd, mode: HalfWriter(real_fdopen(fd, mode))
    elif step == "before-rename":
        _files.os.fsync = lambda fd: (real_fsync(fd), die())
    elif step == "after-rename":
        _files.os.replace = lambda a, b: (real_replace(a, b), die())
    tv.ClockGuard(path).observe(new_mark, 0.0, 60.0)
    """
)


@posix_only
@pytest.mark.parametrize(
    ("step", "survives"),
    [("mid-write", "old"), ("before-rename", "old"), ("after-rename", "new")],
)
def test_writer_killed_during_an_update_leaves_the_old_or_the_new_state(
    guard_path: Path, step: str, survives: str
) -> None:
    guard = tv.ClockGuard(guard_path)
    guard.observe(T0, T0, LEEWAY)
    died = subprocess.run(
        [sys.executable, "-c", _CRASHING_WRITER, str(guard_path), step, str(T0 + 777)],
        capture_output=True,
        check=False,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr.decode()
    assert guard.high_water_mark() == (T0 if survives == "old" else T0 + 777)
    # The next update works, whatever temporary file the dead writer left behind.
    guard.observe(T0 + 1000, T0, LEEWAY)
    assert guard.high_water_mark() == T0 + 1000


_BUSY_WRITER = textwrap.dedent(
    """
    import sys
    import tokenverify as tv
    guard = tv.ClockGuard(sys.argv[1])
    start = float(sys.argv[2])
    for step in range(1_000_000):
        guard.observe(start + step, 0.0, 60.0)
        print(step, flush=True)
    """
)


@posix_only
def test_writer_killed_at_arbitrary_moments_never_leaves_a_broken_state(guard_path: Path) -> None:
    guard = tv.ClockGuard(guard_path)
    guard.observe(T0, T0, LEEWAY)
    last = T0
    for round_number in range(6):
        with subprocess.Popen(
            [sys.executable, "-c", _BUSY_WRITER, str(guard_path), str(last + 1)],
            stdout=subprocess.PIPE,
        ) as writer:
            assert writer.stdout is not None
            # Let it complete a varying number of updates, then kill it mid-stream.
            for _ in range(3 + 7 * round_number):
                writer.stdout.readline()
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        mark = guard.high_water_mark()  # raises if the state were broken
        assert mark is not None
        assert mark >= last + 3 + 7 * round_number  # at least the updates it reported
        assert mark == int(mark)  # one of the values it wrote, never a blend
        last = mark


# --- concurrent processes --------------------------------------------------------------


def observe_many(path: str, worker: int) -> list[tuple[float, float]]:
    """One process's share: interleaved instants, each checked against the mark after."""
    guard = tv.ClockGuard(path)
    seen = []
    for step in range(ROUNDS):
        now = T0 + step * WORKERS + worker
        # Other processes run up to WORKERS seconds ahead: a large leeway keeps this about
        # lost updates, not about rollback.
        guard.observe(now, 0.0, 1e6)
        mark = guard.high_water_mark()
        assert mark is not None
        seen.append((now, mark))
    return seen


def test_concurrent_processes_sharing_one_state_never_lose_an_update(guard_path: Path) -> None:
    """Without the lock, a process writing an older mark over a newer one loses time."""
    guard_path.parent.mkdir()
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        results = pool.starmap(observe_many, [(str(guard_path), w) for w in range(WORKERS)])
    for seen in results:
        marks = [mark for _, mark in seen]
        assert all(mark >= now for now, mark in seen)
        assert marks == sorted(marks)  # the mark never goes back
    assert tv.ClockGuard(guard_path).high_water_mark() == T0 + (ROUNDS - 1) * WORKERS + (
        WORKERS - 1
    )
    assert state(guard_path)["format"] == "tokenverify-clock"
