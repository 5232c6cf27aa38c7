"""The files tokenverify writes (keys files, checkouts, clock state) and the ones it reads.

Writes replace a file whole (:func:`write_atomically`): a reader sees the old file or the
new one, never half. The temporary file is created with an explicit mode, never by
changing the process umask (which is process-wide: other threads of a host application
would create files with the wrong mode in that instant). A new file gets ``0o644``
(minus the umask): keys files, checkouts and clock state hold nothing secret and are read
by services running as other users; a file being rewritten keeps its own mode, so a
``0600`` keys file stays ``0600``.

Temporary files are named ``.NAME.tokenverify-tmp-PID-RANDOM``: one a killed writer left
behind is recognisable, and the next write to the same file removes it once its PID is
gone.

:func:`exclusive_lock` locks a file beside the one it guards without following a
symlink planted there; :func:`read_regular_file` refuses FIFOs, devices and folders
where a regular file is expected, so reading never blocks for ever.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "NEW_FILE_MODE",
    "NotRegularFile",
    "exclusive_lock",
    "file_sha256",
    "read_regular_file",
    "write_atomically",
]

#: The mode of a file tokenverify creates (before the umask): public, not secret.
NEW_FILE_MODE = 0o644
_TEMPORARY_MARK = ".tokenverify-tmp-"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class NotRegularFile(OSError):
    """A path that names a FIFO, device, socket or folder where a file is expected."""


def write_atomically(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data``: a reader sees the old file or the new, never half.

    The data goes to a temporary file in the same folder, created with ``mode`` (default:
    the existing file's mode, or ``NEW_FILE_MODE`` minus the umask for a new file), is
    synced, then renamed over ``path``; the folder is synced too, so the rename survives a
    crash. An ``OSError`` names ``path`` (not the temporary file).
    """
    # Only writers need pathlib; reading a keys file at launch must not pay for it (4 ms).
    from pathlib import Path

    path = Path(path)
    try:
        _write(path, data, mode)
    except OSError as exc:
        if isinstance(exc, NotRegularFile) or exc.filename == os.fspath(path):
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(path)) from exc


def _write(path: Path, data: bytes, mode: int | None) -> None:
    folder = path.parent
    _remove_stale_temporaries(path)
    keep = _existing_mode(path)
    temporary = folder / f".{path.name}{_TEMPORARY_MARK}{os.getpid()}-{os.urandom(6).hex()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
    # os.open applies the umask to NEW_FILE_MODE as any program's open() would; the
    # umask itself is never touched.
    descriptor = os.open(temporary, flags, NEW_FILE_MODE if mode is None else mode)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            wanted = mode if mode is not None else keep
            if wanted is not None and hasattr(os, "fchmod"):
                # fchmod is not masked: an existing 0600 stays 0600, 0640 stays 0640.
                os.fchmod(descriptor, wanted)
            stream.write(data)
            stream.flush()
            os.fsync(descriptor)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(folder)


def _existing_mode(path: Path) -> int | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise NotRegularFile(0, f"is {_kind(status.st_mode)}, not a regular file", os.fspath(path))
    return stat.S_IMODE(status.st_mode)


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files of writers to ``path`` that died before renaming."""
    prefix = f".{path.name}{_TEMPORARY_MARK}"
    try:
        entries = [entry.name for entry in os.scandir(path.parent) if entry.name.startswith(prefix)]
    except OSError:
        return  # the write itself will report a folder it cannot use
    for name in entries:
        pid_text = name[len(prefix) :].partition("-")[0]
        if not pid_text.isdigit() or _process_exists(int(pid_text)):
            continue  # not ours, or its writer may still rename it
        with contextlib.suppress(OSError):  # removed by another writer first
            os.unlink(path.parent / name)


def _process_exists(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":
        return True  # on Windows os.kill(pid, 0) would terminate the process: never ask
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # alive under another user, or not a PID we can judge: keep it
    return True


def _sync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) everywhere.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if absent) across processes.

    The lock file is opened without following symlinks (a link planted there is refused
    with ``OSError(ELOOP)`` naming it) and must be a regular file.
    """
    flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _NONBLOCK | _BINARY
    try:
        descriptor = os.open(path, flags, NEW_FILE_MODE)
    except OSError as exc:
        if _NOFOLLOW and os.path.islink(path):
            raise NotRegularFile(
                exc.errno, "is a symbolic link; a lock file must be a regular file", str(path)
            ) from None
        raise
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(0, f"is {_kind(mode)}, not a regular lock file", str(path))
        _lock(descriptor)
        try:
            yield
        finally:
            _unlock(descriptor)
    finally:
        os.close(descriptor)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file's bytes."""
    import hashlib  # for the audit's provenance only: keys-file reads on a launch skip it

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of the regular file ``path``.

    ``NotRegularFile`` (an ``OSError``) for a FIFO, device, socket or folder, checked
    before opening (opening some devices has effects) and again on the open file (the
    path may change in between); the open never blocks on a FIFO.
    """
    try:
        status = os.stat(path)
    except OSError:
        status = None  # let open() report it, with its own errno
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise NotRegularFile(0, f"is {_kind(status.st_mode)}, not a regular file", os.fspath(path))
    descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(0, f"is {_kind(mode)}, not a regular file", os.fspath(path))
        chunks: list[bytes] = []
        wanted = limit + 1
        while wanted > 0:
            chunk = os.read(descriptor, min(wanted, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


try:
    import fcntl

    def _lock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)

    def _unlock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _lock(descriptor: int) -> None:
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]

    def _unlock(descriptor: int) -> None:
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
