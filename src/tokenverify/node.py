"""Machine identity for node-locked checkouts: one stable id per machine and product.

A product passes the same ``NodeId`` to ``CheckoutLicense`` (online, once) and to its
launch check (offline, at every start, for years)::

    import tokenverify as tv

    node_id = tv.node.machine_id("my-product")          # 64 lowercase hex digits
    policy = tv.Policy(key_fingerprint=ISSUER, node_id=node_id)

**The id** is ``HMAC-SHA-256(key=namespace, message=machine identity)`` in lowercase hex,
both UTF-8: ``hmac.new(namespace.encode(), raw.encode(), "sha256").hexdigest()`` in any
language gives the same value (it is also py-machineid's ``hashed_id`` formula). The
namespace is the vendor's product name, so two products on one machine get unrelated ids
and neither learns the machine's own identifier, which the result never holds.

**Sources**, tried in order; the first one present decides:

- Linux (and other Unix): ``/etc/machine-id``, then ``/var/lib/dbus/machine-id`` (32
  lowercase hex digits, as systemd and D-Bus write them), then the firmware's
  ``/sys/class/dmi/id/product_uuid`` (a UUID; readable by root only on most systems);
- macOS: ``IOPlatformUUID``, from ``/usr/sbin/ioreg -rd1 -c IOPlatformExpertDevice`` run
  without a shell (the only subprocess tokenverify starts, and only here);
- Windows: ``MachineGuid`` under ``HKLM\\SOFTWARE\\Microsoft\\Cryptography`` (64-bit view).

A source that is absent passes to the next. A source that is present but unreadable or
malformed (empty, all zeros, systemd's ``uninitialized``, a firmware placeholder such as
``Not Settable`` or an all-F UUID) stops the search with :class:`MachineIdError`: taking
the next source instead would give the machine a different id once the broken one is
repaired. There is never a fallback to a constant, a hostname, a MAC address or a random
id. :class:`MachineIdError` names every source tried and what was wrong with each.

**Clones share an identity.** A VM cloned from an image, or every container started from
one image, carries the image's ``/etc/machine-id`` (on Windows, its ``MachineGuid``), so
they all compute the same node id, and a checkout bound to it verifies on each of them.
Detect it: ``systemd-detect-virt`` says whether this is a VM or a container; two clones
whose ids agree but whose DMI ``product_uuid`` differ were cloned without resetting the
machine id. Fix it in the image: empty ``/etc/machine-id`` (``truncate -s 0``) and remove
``/var/lib/dbus/machine-id`` before sealing a template (``virt-sysprep`` does both), so
that systemd writes a new one at each clone's first boot; on a clone already running,
``rm /etc/machine-id && systemd-machine-id-setup`` (then check out again: the id changed).
A container should get the host's file (``-v /etc/machine-id:/etc/machine-id:ro``) or one
generated at its first start and kept in a volume.

**It is an identity, not a secret.** Anyone on the machine can read its machine id and
compute the node id, and whoever can write ``/etc/machine-id`` (root) on another machine
can give it the same id. Node binding stops a checkout file being copied to another
machine as is; it does not stop the owner of both machines.

Sources can be given explicitly (``sources=``), which is how the macOS and Windows paths
are tested on Linux: :class:`IOPlatformUuid` takes the command runner and
:class:`WindowsMachineGuid` the registry query as arguments.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "DmiProductUuid",
    "IOPlatformUuid",
    "MachineId",
    "MachineIdError",
    "MachineIdFile",
    "Source",
    "WindowsMachineGuid",
    "default_sources",
    "machine_id",
    "machine_identity",
]

_MAX_NAMESPACE = 256
_MAX_IDENTITY = 256  # what any source may return; the built-in ones are 32 or 36 characters
_MAX_FILE = 4096
# Patterns as strings: re compiles (and caches) only the one this platform's source uses.
_MACHINE_ID = r"[0-9a-f]{32}\n?"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# UUIDs that firmware vendors ship on every board (all zeros, all F, and the
# "03000200-0400-0500-0006-000700080009" of many AMI BIOSes): they identify no machine.
_PLACEHOLDER_UUIDS = frozenset(
    {
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "03000200-0400-0500-0006-000700080009",
    }
)
# Text DMI tables hold where the vendor filled nothing in; named in errors as they are.
_PLACEHOLDER_TEXT = frozenset(
    {
        "",
        "default string",
        "none",
        "not applicable",
        "not available",
        "not present",
        "not settable",
        "not specified",
        "system uuid",
        "to be filled by o.e.m.",
        "unknown",
    }
)
_IOREG = ("/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice")
_IOREG_UUID_LINE = r'^\s*"IOPlatformUUID" = "([^"\n]*)"\s*$'
_IOREG_TIMEOUT = 10.0
_CRYPTOGRAPHY_KEY = r"SOFTWARE\Microsoft\Cryptography"
_REG_SZ = 1  # winreg.REG_SZ, spelled out: winreg exists only on Windows


class MachineIdError(OSError):
    """This machine's identity cannot be read; ``attempts`` says what each source gave.

    An ``OSError``: like a missing file, it is a fact about the machine, not about the
    caller's arguments. ``attempts`` is a tuple of ``(source name, what happened)``.
    """

    def __init__(self, message: str, attempts: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.attempts = tuple(attempts)


@dataclass(frozen=True, slots=True)
class MachineId:
    """A machine's id under one namespace, and the source it was derived from.

    ``str(machine_id)`` is ``id``. ``source`` names where the identity came from
    (``/etc/machine-id``, ``IOPlatformUUID``, ...), for logs and support requests.
    """

    id: str
    source: str
    namespace: str

    def __str__(self) -> str:
        return self.id


class Source(Protocol):
    """Where a machine identity comes from.

    ``read()`` returns the identity exactly as the system stores it (validated, without
    a trailing newline), or ``None`` when this machine has no such source; it raises
    ``OSError`` when the source exists but cannot be read and ``ValueError`` when what it
    holds is not a usable identity. Messages must not quote the identity itself.
    """

    @property
    def name(self) -> str:
        """How the source is named in results and errors."""
        ...

    def read(self) -> str | None:
        """The raw identity, or None if absent; see the class docstring."""
        ...


class MachineIdFile:
    """A systemd or D-Bus machine-id file: 32 lowercase hex digits and a newline."""

    def __init__(self, path: str) -> None:
        self.path = path

    @property
    def name(self) -> str:
        """The file's path."""
        return self.path

    def read(self) -> str | None:
        """The machine id, or None if the file does not exist."""
        data = _read_file(self.path)
        if data is None:
            return None
        if data.strip() == b"uninitialized":
            raise ValueError(
                "'uninitialized': systemd has not finished first boot (run "
                "'systemd-machine-id-setup' as root)"
            )
        text = data.decode("ascii", errors="replace")
        if not text.strip():
            raise ValueError(
                "empty: the image leaves it to be generated at first boot (run "
                "'systemd-machine-id-setup' or 'dbus-uuidgen --ensure' as root)"
            )
        if not re.fullmatch(_MACHINE_ID, text):
            raise ValueError(
                f"not 32 lowercase hex digits and a newline ({len(data)} bytes); "
                "regenerate it with 'systemd-machine-id-setup'"
            )
        identity = text.rstrip("\n")
        if identity == "0" * 32:
            raise ValueError("all zeros; regenerate it with 'systemd-machine-id-setup'")
        return identity

    def __repr__(self) -> str:
        return f"MachineIdFile({self.path!r})"


class DmiProductUuid:
    """The firmware's system UUID, as Linux exposes it in sysfs (SMBIOS type 1)."""

    def __init__(self, path: str = "/sys/class/dmi/id/product_uuid") -> None:
        self.path = path

    @property
    def name(self) -> str:
        """The file's path."""
        return self.path

    def read(self) -> str | None:
        """The UUID, or None if the firmware or kernel exposes none."""
        data = _read_file(self.path)
        if data is None:
            return None
        return _check_uuid(data.decode("ascii", errors="replace").strip())

    def __repr__(self) -> str:
        return f"DmiProductUuid({self.path!r})"


class IOPlatformUuid:
    """macOS's hardware UUID, read from ``ioreg -rd1 -c IOPlatformExpertDevice``.

    ``run`` takes the command (a sequence of arguments) and returns its standard output;
    it raises ``FileNotFoundError`` if there is no such program and ``OSError`` if it
    fails. The default runs ``/usr/sbin/ioreg`` by absolute path, without a shell, with a
    timeout of 10 seconds.
    """

    name = "IOPlatformUUID"

    def __init__(self, run: Callable[[Sequence[str]], str] | None = None) -> None:
        self._run = run if run is not None else _run_command

    def read(self) -> str | None:
        """The UUID, or None if ``ioreg`` is not there (not macOS)."""
        try:
            output = self._run(_IOREG)
        except FileNotFoundError:
            return None
        values = re.findall(_IOREG_UUID_LINE, output, re.MULTILINE)
        if not values:
            raise ValueError("not in ioreg's output")
        if len(values) > 1:
            raise ValueError(f"{len(values)} lines of it in ioreg's output, expected one")
        return _check_uuid(values[0])

    def __repr__(self) -> str:
        return "IOPlatformUuid()"


class WindowsMachineGuid:
    """Windows' ``MachineGuid``, set at installation, from the 64-bit registry view.

    ``query`` returns ``(value, registry type)`` as ``winreg.QueryValueEx`` does and raises
    ``FileNotFoundError`` if the key or value does not exist. The default opens the key
    with ``KEY_WOW64_64KEY``, so a 32-bit Python on 64-bit Windows reads the same value.
    """

    name = "HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid"

    def __init__(self, query: Callable[[], tuple[object, int]] | None = None) -> None:
        self._query = query if query is not None else _query_machine_guid

    def read(self) -> str | None:
        """The GUID, or None if the registry has none (not Windows)."""
        try:
            value, kind = self._query()
        except FileNotFoundError:
            return None
        if kind != _REG_SZ or not isinstance(value, str):
            raise ValueError(f"not a string value (registry type {kind}, expected REG_SZ)")
        return _check_uuid(value)

    def __repr__(self) -> str:
        return "WindowsMachineGuid()"


def default_sources(platform: str | None = None) -> tuple[Source, ...]:
    """The sources :func:`machine_identity` reads on ``platform`` (default: this one)."""
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return (IOPlatformUuid(),)
    if platform == "win32":
        return (WindowsMachineGuid(),)
    return (
        MachineIdFile("/etc/machine-id"),
        MachineIdFile("/var/lib/dbus/machine-id"),
        DmiProductUuid(),
    )


def machine_identity(namespace: str, *, sources: Iterable[Source] | None = None) -> MachineId:
    """This machine's id under ``namespace``, with the source it came from.

    ``namespace`` is the product's own name, 1 to 256 printable characters without
    surrounding spaces; keep it fixed for the product's lifetime. ``sources`` replaces
    :func:`default_sources`. Raises :class:`MachineIdError` naming every source tried
    when none gives a usable identity, ``TypeError``/``ValueError`` for a bad namespace.
    """
    key = _namespace_key(namespace)
    attempts: list[tuple[str, str]] = []
    chosen = tuple(default_sources() if sources is None else sources)
    if not chosen:
        raise ValueError("sources is empty: give at least one source of machine identity")
    for index, source in enumerate(chosen):
        name = source.name
        try:
            identity = source.read()
        except (OSError, ValueError) as exc:
            attempts.append((name, _describe(exc)))
            later = ", ".join(other.name for other in chosen[index + 1 :])
            not_tried = (
                f" (not trying {later}: the id would change once {name} is repaired)"
                if later
                else ""
            )
            raise MachineIdError(
                f"cannot identify this machine: {_list(attempts)}{not_tried}", attempts
            ) from None
        if identity is None:
            attempts.append((name, "absent"))
            continue
        if (
            not isinstance(identity, str)
            or not 0 < len(identity) <= _MAX_IDENTITY
            or not identity.isprintable()
        ):
            attempts.append((name, "no usable identity (1 to 256 printable characters)"))
            raise MachineIdError(f"cannot identify this machine: {_list(attempts)}", attempts)
        return MachineId(id=_hmac_hex(key, identity), source=name, namespace=namespace)
    raise MachineIdError(
        f"cannot identify this machine: no source of machine identity: {_list(attempts)}"
        f"{_setup_hint()}",
        attempts,
    )


def machine_id(namespace: str, *, sources: Iterable[Source] | None = None) -> str:
    """This machine's id under ``namespace``: 64 lowercase hex digits.

    The value to pass as ``NodeId`` to ``CheckoutLicense`` and as ``Policy(node_id=...)``;
    see :func:`machine_identity` for the arguments and errors.
    """
    return machine_identity(namespace, sources=sources).id


def _namespace_key(namespace: object) -> bytes:
    if not isinstance(namespace, str):
        raise TypeError(f"namespace must be a str (the product's name), not {type(namespace)}")
    if (
        not 0 < len(namespace) <= _MAX_NAMESPACE
        or not namespace.isprintable()
        or namespace != namespace.strip()
    ):
        raise ValueError(
            "namespace must be 1 to 256 printable characters without surrounding spaces, "
            "such as 'my-product'"
        )
    return namespace.encode("utf-8")


def _hmac_hex(key: bytes, identity: str) -> str:
    # cryptography's HMAC, not the hmac module: hashlib loads a second libcrypto (3 ms).
    from cryptography.hazmat.primitives import hashes, hmac

    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(identity.encode("utf-8"))
    return mac.finalize().hex()


def _read_file(path: str) -> bytes | None:
    """The file's bytes, None if it does not exist; OSError if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_FILE + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if len(data) > _MAX_FILE:
        raise ValueError(f"over {_MAX_FILE} bytes, not a machine identity")
    return data


def _check_uuid(value: str) -> str:
    # Only known placeholders are quoted: an error never shows a machine's real identity.
    if value.strip().lower() in _PLACEHOLDER_TEXT:
        raise ValueError(f"{value.strip()!r}, a placeholder, not a UUID")
    if not re.fullmatch(_UUID, value):
        raise ValueError(f"not a UUID ({len(value)} characters)")
    if value.lower() in _PLACEHOLDER_UUIDS:
        raise ValueError(f"{value}, a placeholder UUID that many machines share")
    return value


def _run_command(command: Sequence[str]) -> str:
    import subprocess

    try:
        completed = subprocess.run(
            list(command),
            capture_output=True,
            timeout=_IOREG_TIMEOUT,
            check=False,
            shell=False,
        )
    except subprocess.TimeoutExpired:
        raise OSError(f"{command[0]} did not answer within {_IOREG_TIMEOUT:g} s") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise OSError(
            f"{command[0]} exited with status {completed.returncode}"
            + (f": {detail[0][:120]}" if detail else "")
        )
    return completed.stdout.decode("utf-8", errors="replace")


def _query_machine_guid() -> tuple[object, int]:
    if sys.platform != "win32":
        raise FileNotFoundError("the Windows registry exists only on Windows")
    import winreg

    access = winreg.KEY_READ | winreg.KEY_WOW64_64KEY
    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, _CRYPTOGRAPHY_KEY, 0, access) as key:
        value, kind = winreg.QueryValueEx(key, "MachineGuid")
    return value, kind


def _describe(exc: OSError | ValueError) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"unreadable: {exc.strerror}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"unreadable: {text}" if isinstance(exc, OSError) else text


def _list(attempts: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{name}: {what}" for name, what in attempts)


def _setup_hint() -> str:
    if sys.platform in ("darwin", "win32"):
        return ""
    return " (create one as root: 'systemd-machine-id-setup' or 'dbus-uuidgen --ensure')"
