"""The file writers and readers: explicit modes (no umask games), modes kept on rewrite,
stale temporaries of killed writers removed, lock files that follow no symlink, and
FIFOs or devices refused where a regular file is expected, without blocking."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import tokenverify as tv
from tokenverify._files import (
    NotRegularFile,
    exclusive_lock,
    read_regular_file,
    write_atomically,
)

T0 = 1_768_478_400.0
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes, FIFOs and signals")


@pytest.fixture
def umask_022() -> object:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- modes ----------------------------------------------------------------------------


@posix_only
def test_new_files_get_0644_minus_the_umask(tmp_path: Path, umask_022: object) -> None:
    write_atomically(tmp_path / "public.json", b"{}\n")
    assert mode_of(tmp_path / "public.json") == 0o644
    os.umask(0o077)
    write_atomically(tmp_path / "private.json", b"{}\n")
    assert mode_of(tmp_path / "private.json") == 0o600
    assert (tmp_path / "private.json").read_bytes() == b"{}\n"


@posix_only
@pytest.mark.parametrize("kept", [0o600, 0o640, 0o444])
def test_a_rewrite_keeps_the_existing_mode(tmp_path: Path, umask_022: object, kept: int) -> None:
    target = tmp_path / "keys.json"
    target.write_bytes(b"old")
    os.chmod(target, kept)
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert mode_of(target) == kept


@posix_only
def test_keys_file_and_clock_state_keep_0600_through_their_own_writers(
    tmp_path: Path, umask_022: object, eddsa_issuer: tv.testing.TestIssuer
) -> None:
    keys = tmp_path / "keys.json"
    registry = eddsa_issuer.registry()
    registry.save(keys)
    assert mode_of(keys) == 0o644
    os.chmod(keys, 0o600)
    registry.save(keys)
    assert mode_of(keys) == 0o600
    guard = tv.ClockGuard(tmp_path / "clock.json")
    guard.observe(T0, T0, 60)
    os.chmod(tmp_path / "clock.json", 0o600)
    guard.observe(T0 + 1, T0, 60)
    assert mode_of(tmp_path / "clock.json") == 0o600
    assert guard.high_water_mark() == T0 + 1


def test_writing_never_touches_the_process_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The umask is process-wide: changing it for an instant changes other threads' files."""
    calls: list[int] = []
    real_umask = os.umask

    def spy(mask: int) -> int:
        calls.append(mask)
        return real_umask(mask)

    monkeypatch.setattr(os, "umask", spy)
    write_atomically(tmp_path / "a.json", b"1")
    write_atomically(tmp_path / "a.json", b"2")
    tv.ClockGuard(tmp_path / "clock.json").observe(T0, T0, 60)
    assert calls == []


@posix_only
def test_threads_creating_files_during_clock_updates_get_the_umask_mode(
    tmp_path: Path, umask_022: object
) -> None:
    """The finding: 6 of 44,948 files created beside ClockGuard.observe came out 0666."""
    guard = tv.ClockGuard(tmp_path / "state" / "clock.json")
    created = tmp_path / "created"
    created.mkdir()
    stop = threading.Event()
    wrong: list[tuple[str, int]] = []

    def create_files(worker: int) -> None:
        count = 0
        while not stop.is_set():
            path = created / f"{worker}-{count}"
            with open(path, "w") as handle:
                handle.write("x")
            mode = mode_of(path)
            if mode != 0o644:
                wrong.append((path.name, mode))
            path.unlink()
            count += 1

    workers = [threading.Thread(target=create_files, args=(n,)) for n in range(2)]
    for worker in workers:
        worker.start()
    try:
        for step in range(300):
            guard.observe(T0 + step, T0, 60)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert wrong == []
    assert guard.high_water_mark() == T0 + 299


# --- errors name the target, temporaries are removed ------------------------------------


def test_a_full_disk_names_the_target_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "checkout.json"
    target.write_bytes(b"old")

    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left") as caught:
        write_atomically(target, b"new")
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["checkout.json"]


def test_a_missing_folder_names_the_target(tmp_path: Path) -> None:
    target = tmp_path / "gone" / "keys.json"
    with pytest.raises(FileNotFoundError) as caught:
        write_atomically(target, b"{}")
    assert caught.value.filename == str(target)


@posix_only
def test_a_special_file_at_the_target_is_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile, match="FIFO"):
        write_atomically(fifo, b"{}")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# --- stale temporaries of killed writers -------------------------------------------------

_KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from tokenverify import _files

    # Die with the temporary file written and synced, before the rename: SIGKILL, so no
    # clean-up runs, as a power cut or an OOM kill would leave it.
    _files.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
    _files.write_atomically(Path(sys.argv[1]), b"half-done")
    """
)


@posix_only
def test_a_killed_writers_temporary_is_recognisable_and_removed_by_the_next_write(
    tmp_path: Path,
) -> None:
    target = tmp_path / "keys.json"
    target.write_bytes(b"old")
    for _ in range(3):
        died = subprocess.run(
            [sys.executable, "-c", _KILLED_WRITER, str(target)], capture_output=True, check=False
        )
        assert died.returncode == -signal.SIGKILL, died.stderr.decode()
    # Each writer removed the one its killed predecessor left: one temporary, not three.
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "keys.json")
    assert len(left) == 1
    assert left[0].startswith(".keys.json.tokenverify-tmp-")
    assert (tmp_path / left[0]).read_bytes() == b"half-done"
    # A temporary whose writer still runs (this process) is not touched; one of another
    # target is not either.
    alive = tmp_path / f".keys.json.tokenverify-tmp-{os.getpid()}-inflight"
    alive.write_bytes(b"mine")
    other = tmp_path / f".other.json.tokenverify-tmp-{left[0].split('-')[2]}-x"
    other.write_bytes(b"other")
    assert target.read_bytes() == b"old"
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["keys.json", alive.name, other.name]
    )


# --- lock files ------------------------------------------------------------------------


@posix_only
def test_a_lock_file_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    lock = tmp_path / "keys.json.lock"
    lock.symlink_to(victim)
    with pytest.raises(NotRegularFile, match="symbolic link") as caught, exclusive_lock(lock):
        pass
    assert caught.value.filename == str(lock)
    assert not victim.exists()


@posix_only
def test_a_lock_file_is_created_locked_and_reused(tmp_path: Path) -> None:
    import fcntl

    lock = tmp_path / "x.lock"
    with exclusive_lock(lock), open(lock, "a+b") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    with exclusive_lock(lock):
        pass
    assert lock.is_file()


# --- reading regular files only ----------------------------------------------------------

_READ_SPECIAL = textwrap.dedent(
    """
    import sys
    from tokenverify._files import NotRegularFile, read_regular_file
    try:
        read_regular_file(sys.argv[1], 100)
    except NotRegularFile as exc:
        print("refused:", exc.strerror)
    """
)


@posix_only
def test_fifos_devices_and_folders_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    device_link = tmp_path / "device"
    device_link.symlink_to("/dev/zero")
    cases = {fifo: "FIFO", device_link: "device", tmp_path: "folder"}
    for path, kind in cases.items():
        # In a subprocess with a timeout: a reader that blocked would hang here for ever.
        done = subprocess.run(
            [sys.executable, "-c", _READ_SPECIAL, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert done.stdout.startswith("refused: is a"), done
        assert kind in done.stdout


def test_regular_files_are_read_up_to_one_byte_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"x" * 5000)
    assert read_regular_file(path, 10_000) == b"x" * 5000
    assert read_regular_file(path, 100) == b"x" * 101
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "absent", 10)
