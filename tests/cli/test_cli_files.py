"""The command line at the edge of the file system and the process: concurrent writers,
full and read-only disks, special files as inputs, and Ctrl-C at any moment."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import tokenverify as tv
from tokenverify.testing import TestIssuer

from .support import FINGERPRINT, SCRIPT, Result, RunCli, assert_one_line_error

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, FIFOs, mounts")

# --- two 'keys add' at once -------------------------------------------------------------

_ADDER = textwrap.dedent(
    """
    import os, sys, time
    from tokenverify.cli import main

    go, keys, fingerprint, *pems = sys.argv[1:]
    while not os.path.exists(go):  # both processes start their loops together
        time.sleep(0.001)
    for pem in pems:
        code = main(["keys", "add", pem, "--keys", keys, "--fingerprint", fingerprint,
                     "--algorithms", "ES256"])
        if code != 0:
            sys.exit(code)
    """
)


def _ec_pems(folder: Path, prefix: str, count: int) -> list[str]:
    paths = []
    for index in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        path = folder / f"{prefix}-{index}.pem"
        path.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        paths.append(str(path))
    return paths


@posix_only
def test_two_processes_adding_keys_at_once_lose_none(tmp_path: Path) -> None:
    """Without the lock, each read-modify-write could drop the other's key."""
    keys = tmp_path / "keys.json"
    go = tmp_path / "go"
    rounds = 25
    batches = [_ec_pems(tmp_path, name, rounds) for name in ("a", "b")]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _ADDER, str(go), str(keys), FINGERPRINT, *batch],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for batch in batches
    ]
    go.touch()
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
    assert len(tv.KeyRegistry.load(keys)) == 2 * rounds
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@posix_only
def test_a_symlink_planted_at_the_keys_lock_is_refused(
    call_cli: RunCli, cli_files: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    victim = tmp_path / "victim"
    (tmp_path / "keys.json.lock").symlink_to(victim)
    result = call_cli(
        "keys",
        "add",
        cli_files / "issuer.pub.pem",
        "--keys",
        keys,
        "--fingerprint",
        FINGERPRINT,
        "--algorithms",
        "PS384",
    )
    assert_one_line_error(result)
    assert "cannot lock keys file" in result.err
    assert "symbolic link" in result.err
    assert not victim.exists()
    assert not keys.exists()


# --- OSErrors at the edge: one line naming the file and what to do ------------------------


def test_a_full_disk_while_saving_keys_is_one_line_and_keeps_the_file(
    call_cli: RunCli,
    cli_files: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stranger: TestIssuer,
) -> None:
    keys = tmp_path / "keys.json"
    first = ["--keys", keys, "--fingerprint", FINGERPRINT, "--algorithms", "PS384"]
    assert call_cli("keys", "add", cli_files / "issuer.pub.pem", *first).code == 0
    before = keys.read_bytes()
    other = tmp_path / "other.pem"
    other.write_text(stranger.public_pem())

    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    result = call_cli("keys", "add", other, *first)
    assert_one_line_error(result)
    assert f"cannot write keys file {str(keys)!r} (left as it was)" in result.err
    assert "No space left on device; free some space" in result.err
    assert keys.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_oserror_anywhere_is_one_line_naming_the_file(
    call_cli: RunCli, keys_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not 'internal error: OSError: [Errno 30]': the file, the error and what to do."""
    from tokenverify.cli import _verify as _cli_verify

    def read_only(*args: object) -> int:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), "/mnt/ro/out.json")

    monkeypatch.setattr(_cli_verify, "verify", read_only)
    result = call_cli("verify", "x.json", "--keys", keys_file)
    assert_one_line_error(result)
    assert result.err == (
        "tokenverify: error: '/mnt/ro/out.json': Read-only file system; use a writable folder\n"
    )


@posix_only
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_standard_output_on_a_full_disk_is_one_line(keys_file: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [str(SCRIPT), "keys", "list", "--keys", str(keys_file)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr == (
        "tokenverify: error: cannot write to standard output: No space left on device; "
        "free some space (or use another folder), then run again\n"
    )


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0, reason="sysfs as root"
)
def test_permission_denied_names_the_keys_file(call_cli: RunCli, cli_files: Path) -> None:
    # Even root may not create files in sysfs: a real EACCES without chmod tricks.
    keys = Path("/sys/tokenverify-test-keys.json")
    result = call_cli(
        "keys",
        "add",
        cli_files / "issuer.pub.pem",
        "--keys",
        keys,
        "--fingerprint",
        FINGERPRINT,
        "--algorithms",
        "PS384",
    )
    assert_one_line_error(result)
    assert str(keys) in result.err
    assert "Permission denied" in result.err
    assert "check the permissions" in result.err


@pytest.fixture
def read_only_folder(tmp_path: Path, keys_file: Path) -> Iterator[Path]:
    """A folder holding a keys file, bind-mounted read-only onto itself (needs mount rights)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "keys.json").write_bytes(keys_file.read_bytes())
    mounted = subprocess.run(
        ["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip("cannot bind-mount a folder read-only here")
    try:
        subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True, check=False
        )
        if os.access(folder, os.W_OK) and not _really_read_only(folder):
            pytest.skip("the bind mount did not become read-only")
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True, check=False)


def _really_read_only(folder: Path) -> bool:
    try:
        (folder / "probe").touch()
    except OSError as exc:
        return exc.errno == errno.EROFS
    (folder / "probe").unlink()
    return False


@posix_only
def test_a_read_only_folder_is_one_line_and_the_keys_file_kept(
    run_cli: RunCli, read_only_folder: Path, stranger: TestIssuer, tmp_path: Path
) -> None:
    keys = read_only_folder / "keys.json"
    before = keys.read_bytes()
    other = tmp_path / "other.pem"
    other.write_text(stranger.public_pem())
    result = run_cli(
        "keys", "add", other, "--keys", keys, "--fingerprint", FINGERPRINT, "--algorithms", "PS384"
    )
    assert_one_line_error(result)
    assert str(keys) in result.err
    assert "Read-only file system; use a writable folder" in (result.err)
    assert keys.read_bytes() == before


# --- special files as inputs -------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("command", ["verify", "inspect", "keys add", "keys list", "--keys"])
def test_a_fifo_is_refused_where_a_file_is_expected(
    run_cli: RunCli, cli_files: Path, keys_file: Path, tmp_path: Path, command: str
) -> None:
    fifo = tmp_path / "input.json"
    os.mkfifo(fifo)  # nobody ever writes it: opening it to read would block for ever
    args: dict[str, list[str | Path]] = {
        "verify": ["verify", fifo, "--keys", keys_file],
        "inspect": ["inspect", fifo, "--unverified"],
        "keys add": ["keys", "add", fifo, "--keys", tmp_path / "k.json", "--fingerprint", "F"],
        "keys list": ["keys", "list", "--keys", fifo],
        "--keys": ["verify", cli_files / "keys.json", "--keys", fifo],
    }
    result = run_cli(*args[command])
    assert_one_line_error(result)
    assert "is a FIFO (named pipe), not a regular file" in result.err
    assert str(fifo) in result.err


@posix_only
def test_a_device_is_refused_where_a_file_is_expected(run_cli: RunCli, keys_file: Path) -> None:
    result = run_cli("verify", "/dev/zero", "--keys", keys_file)
    assert_one_line_error(result)
    assert "'/dev/zero': is a device, not a regular file" in result.err


# --- Ctrl-C at any moment -------------------------------------------------------------

# Runs main() and sends itself a real SIGINT at a chosen point: when a module is first
# imported (the parser's lazy imports, the command's module, pydantic for --json), or
# while blocked reading stdin.
_INTERRUPTED = textwrap.dedent(
    """
    import os, signal, sys

    point, argv = sys.argv[1], sys.argv[2:]

    class InterruptOnImport:
        def find_spec(self, name, path=None, target=None):
            if name == point:
                os.kill(os.getpid(), signal.SIGINT)
            return None

    sys.meta_path.insert(0, InterruptOnImport())
    if point == "stdin":
        reader, writer = os.pipe()  # never written: the read blocks until the signal

        class Blocking:
            def read(self, size=-1):
                sys.stderr.write("reading\\n")
                sys.stderr.flush()
                return os.read(reader, 1)

        class Stdin:
            buffer = Blocking()
            def isatty(self):
                return False

        sys.stdin = Stdin()
    from tokenverify.cli import main
    sys.exit(main(argv))
    """
)


def _interrupt_at(point: str, *argv: str | Path) -> Result:
    process = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED, point, *map(str, argv)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    if point == "stdin":
        assert process.stderr.readline() == b"reading\n"
        time.sleep(0.2)  # into the read (a signal just before it must give the same)
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return Result(process.returncode, out.decode(), err.decode())


@posix_only
@pytest.mark.parametrize(
    ("point", "command"),
    [
        ("tokenverify.cli._audit", "verify"),  # building the parser
        ("tokenverify.cli._verify", "verify"),  # the command's lazy import
        ("tokenverify.cli._keys", "keys list"),
        ("pydantic", "inspect --json"),
        ("stdin", "verify"),  # blocked reading a checkout from stdin
    ],
)
def test_ctrl_c_at_any_point_is_exit_130_on_one_line(
    issuer: TestIssuer, keys_file: Path, tmp_path: Path, point: str, command: str
) -> None:
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout()))
    source = "-" if point == "stdin" else str(checkout)
    commands: dict[str, list[str | Path]] = {
        "verify": ["verify", source, "--keys", keys_file],
        "keys list": ["keys", "list", "--keys", keys_file],
        "inspect --json": ["inspect", source, "--unverified", "--json"],
    }
    argv = commands[command]
    result = _interrupt_at(point, *argv)
    assert result.code == 130, result
    assert result.out == ""
    lines = [line for line in result.err.splitlines() if line != "reading"]
    assert lines == ["tokenverify: interrupted"], result.err


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux /proc/locks")
def test_ctrl_c_while_waiting_for_the_keys_lock_is_exit_130_on_one_line(
    cli_files: Path, tmp_path: Path
) -> None:
    """The real console script, blocked on a lock another process holds."""
    import fcntl

    keys = tmp_path / "keys.json"
    with open(tmp_path / "keys.json.lock", "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        process = subprocess.Popen(
            [
                str(SCRIPT),
                "keys",
                "add",
                str(cli_files / "issuer.pub.pem"),
                "--keys",
                str(keys),
                "--fingerprint",
                FINGERPRINT,
                "--algorithms",
                "PS384",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # A blocked flock() shows in /proc/locks as a waiter ("->") with its PID.
        deadline = time.monotonic() + 120
        while f" {process.pid} " not in _lock_waiters():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the command never waited for the lock"
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert out == b""
    assert err == b"tokenverify: interrupted\n"
    assert not keys.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json.lock"]


def _lock_waiters() -> str:
    lines = Path("/proc/locks").read_text().splitlines()
    return "\n".join(f"{line} " for line in lines if "->" in line)


def test_a_folder_that_vanishes_mid_command_is_one_line_naming_the_file(
    call_cli: RunCli, cli_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from tokenverify.cli import _keys as _cli_keys

    folder = tmp_path / "keys"
    folder.mkdir()
    keys = folder / "keys.json"
    real_load = _cli_keys._load_or_create

    def load_then_vanish(path: Path) -> tv.KeyRegistry:
        registry = real_load(path)
        shutil.rmtree(folder)  # someone removes the folder while we work
        return registry

    monkeypatch.setattr(_cli_keys, "_load_or_create", load_then_vanish)
    result = call_cli(
        "keys",
        "add",
        cli_files / "issuer.pub.pem",
        "--keys",
        keys,
        "--fingerprint",
        FINGERPRINT,
        "--algorithms",
        "PS384",
    )
    assert_one_line_error(result)
    assert f"cannot write keys file {str(keys)!r} (left as it was): No such file" in result.err
    assert "check the path (was it moved or deleted?)" in result.err
