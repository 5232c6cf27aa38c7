"""tokenverify.node: a stable, namespaced machine id, and explicit errors when there is none.

The Linux sources are exercised for real (this machine's own files, and files written to
a temporary folder); the macOS and Windows sources through the runner and registry query
they take as arguments. Expected ids are computed with the standard library's ``hmac``,
an implementation independent of the module's.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

import tokenverify as tv
from tokenverify import node
from tokenverify.node import (
    DmiProductUuid,
    IOPlatformUuid,
    MachineId,
    MachineIdError,
    MachineIdFile,
    WindowsMachineGuid,
)
from tokenverify.testing import TestIssuer

RAW = "3d1219c7c4c5404aaa1f6d2a48adfda4"
UUID = "4C4C4544-0035-3910-8052-B4C04F564433"
IOREG_OUTPUT = f"""\
+-o J293AP  <class IOPlatformExpertDevice, id 0x100000232, registered, matched, active>
  {{
    "IOPlatformSystemSleepPolicy" = <534c505402000a00>
    "IOPlatformSerialNumber" = "C02DK0ABCDEF"
    "manufacturer" = <"Apple Inc.">
    "IOPlatformUUID" = "{UUID}"
    "IOPolledInterface" = "AppleARMWatchdogTimerHibernateHandler is not serializable"
  }}
"""


def expected_id(namespace: str, raw: str) -> str:
    """The documented formula, computed with the standard library."""
    return hmac.new(namespace.encode("utf-8"), raw.encode("utf-8"), hashlib.sha256).hexdigest()


def id_file(tmp_path: Path, content: bytes, name: str = "machine-id") -> MachineIdFile:
    path = tmp_path / name
    path.write_bytes(content)
    return MachineIdFile(str(path))


def dmi_file(tmp_path: Path, content: bytes) -> DmiProductUuid:
    path = tmp_path / "product_uuid"
    path.write_bytes(content)
    return DmiProductUuid(str(path))


def refusal(namespace: str = "my-product", **kwargs: object) -> MachineIdError:
    with pytest.raises(MachineIdError) as caught:
        node.machine_identity(namespace, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- this machine, for real -----------------------------------------------------------------


def first_present_linux_source() -> tuple[str, str] | None:
    """(path, raw identity) of the first default Linux source present; "" if unreadable."""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id", "/sys/class/dmi/id/product_uuid"):
        try:
            return path, Path(path).read_text(errors="replace").strip()
        except FileNotFoundError:
            continue
        except OSError:  # DMI is root-only on most systems
            return path, ""
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads this Linux machine")
def test_this_machine_has_a_stable_namespaced_id_that_hides_the_raw_one() -> None:
    present = first_present_linux_source()
    if present is None:
        error = refusal()
        assert [name for name, _ in error.attempts] == [
            "/etc/machine-id",
            "/var/lib/dbus/machine-id",
            "/sys/class/dmi/id/product_uuid",
        ]
        return
    source, raw = present
    if not re.fullmatch(r"[0-9a-f]{32}|[0-9a-fA-F-]{36}", raw) or not raw.strip("0-"):
        # An image that left its machine id empty or zero: an error naming it, no fallback.
        assert refusal().attempts[-1][0] == source
        return
    identity = node.machine_identity("my-product")
    assert identity.source == source
    assert identity.namespace == "my-product"
    assert identity.id == expected_id("my-product", raw)
    assert len(identity.id) == 64
    assert set(identity.id) <= set("0123456789abcdef")
    assert raw not in identity.id
    assert raw not in repr(identity)
    assert raw not in str(identity)
    assert str(identity) == identity.id == node.machine_id("my-product")
    assert node.machine_id("my-product") == node.machine_id("my-product")
    assert node.machine_id("other-product") != identity.id


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads this Linux machine")
def test_this_machine_gives_the_same_id_in_another_process() -> None:
    try:
        node.machine_identity("my-product")
    except MachineIdError as exc:
        pytest.skip(f"this machine has no usable machine identity: {exc}")
    code = "import tokenverify as tv; print(tv.node.machine_id('my-product'))"
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert other.stdout.strip() == node.machine_id("my-product")


def test_node_is_imported_only_when_used() -> None:
    code = (
        "import sys, tokenverify as tv; print('tokenverify.node' in sys.modules); "
        "tv.node; print('tokenverify.node' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["False", "True"]


def test_policy_binds_a_checkout_to_this_machine_under_its_namespace(tmp_path: Path) -> None:
    source = id_file(tmp_path, f"{RAW}\n".encode())
    mine = node.machine_id("my-product", sources=[source])
    issuer = TestIssuer.generate("ES256", fingerprint="aws:111122223333:Node Test:issuer-fp")
    response = issuer.checkout(node_id=mine, entitlements=[("Users", "1", "Count")], ttl=3600)
    checkout = tv.Verifier(issuer.registry(), tv.Policy(node_id=mine)).verify(response)
    assert checkout.node_id == mine
    elsewhere = node.machine_id("another-product", sources=[source])
    verdict = tv.Verifier(issuer.registry(), tv.Policy(node_id=elsewhere)).check(response)
    assert verdict.reason is tv.Reason.node_mismatch


# --- the id ---------------------------------------------------------------------------------


def test_the_id_is_the_documented_hmac(tmp_path: Path) -> None:
    source = id_file(tmp_path, f"{RAW}\n".encode())
    assert node.machine_id("my-product", sources=[source]) == expected_id("my-product", RAW)
    # A namespace is UTF-8, whatever it holds.
    assert node.machine_id("produit-é", sources=[source]) == expected_id("produit-é", RAW)
    # The trailing newline is not part of the identity: written without it, same id.
    bare = id_file(tmp_path, RAW.encode(), name="bare")
    assert node.machine_id("my-product", sources=[bare]) == expected_id("my-product", RAW)


def test_two_products_on_one_machine_get_unrelated_ids(tmp_path: Path) -> None:
    source = id_file(tmp_path, f"{RAW}\n".encode())
    names = ("a", "b", "A", "my-product", "my-product-2")
    ids = {node.machine_id(name, sources=[source]) for name in names}
    assert len(ids) == len(names)


@pytest.mark.parametrize(
    ("namespace", "error"),
    [
        ("", ValueError),
        (" my-product", ValueError),
        ("my-product ", ValueError),
        ("my\nproduct", ValueError),
        ("my\u202eproduct", ValueError),
        ("x" * 257, ValueError),
        (b"my-product", TypeError),
        (None, TypeError),
    ],
)
def test_a_namespace_must_be_a_printable_name(
    namespace: object, error: type[Exception], tmp_path: Path
) -> None:
    source = id_file(tmp_path, f"{RAW}\n".encode())
    with pytest.raises(error, match="namespace"):
        node.machine_id(namespace, sources=[source])  # type: ignore[arg-type]


def test_a_long_namespace_is_fine(tmp_path: Path) -> None:
    source = id_file(tmp_path, f"{RAW}\n".encode())
    assert node.machine_id("x" * 256, sources=[source]) == expected_id("x" * 256, RAW)


def test_the_result_is_immutable(tmp_path: Path) -> None:
    identity = node.machine_identity("p", sources=[id_file(tmp_path, RAW.encode())])
    assert identity == MachineId(id=expected_id("p", RAW), source=identity.source, namespace="p")
    with pytest.raises(AttributeError):
        identity.id = "0" * 64  # type: ignore[misc]


# --- order: absent passes on, broken stops ---------------------------------------------------


def test_an_absent_source_passes_to_the_next(tmp_path: Path) -> None:
    second = id_file(tmp_path, f"{RAW}\n".encode(), name="dbus-machine-id")
    identity = node.machine_identity(
        "p",
        sources=[
            MachineIdFile(str(tmp_path / "missing")),
            MachineIdFile(str(tmp_path / "no-folder" / "machine-id")),
            second,
        ],
    )
    assert identity.source == second.path
    assert identity.id == expected_id("p", RAW)


def test_the_first_present_source_decides(tmp_path: Path) -> None:
    first = id_file(tmp_path, f"{RAW}\n".encode(), name="etc")
    other = "0123456789abcdef0123456789abcdef"
    second = id_file(tmp_path, f"{other}\n".encode(), name="dbus")
    identity = node.machine_identity("p", sources=[first, second])
    assert (identity.source, identity.id) == (first.path, expected_id("p", RAW))


def test_a_broken_source_stops_the_search_and_names_what_was_tried(tmp_path: Path) -> None:
    missing = MachineIdFile(str(tmp_path / "missing"))
    broken = id_file(tmp_path, b"0" * 32 + b"\n", name="zeros")
    good = id_file(tmp_path, f"{RAW}\n".encode(), name="good")
    error = refusal(sources=[missing, broken, good])
    assert error.attempts == ((missing.path, "absent"), (broken.path, error.attempts[1][1]))
    assert "all zeros" in error.attempts[1][1]
    message = str(error)
    assert missing.path in message
    assert broken.path in message
    assert f"not trying {good.path}" in message
    assert isinstance(error, OSError)


def test_no_source_at_all_is_an_error_naming_each(tmp_path: Path) -> None:
    sources: list[node.Source] = [
        MachineIdFile(str(tmp_path / "a")),
        MachineIdFile(str(tmp_path / "b")),
        DmiProductUuid(str(tmp_path / "c")),
    ]
    error = refusal(sources=sources)
    assert error.attempts == tuple((source.name, "absent") for source in sources)
    for source in sources:
        assert source.name in str(error)
    assert "systemd-machine-id-setup" in str(error)


def test_an_empty_list_of_sources_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="sources"):
        node.machine_identity("p", sources=[])


def test_the_error_pickles_with_its_attempts() -> None:
    error = MachineIdError("cannot identify this machine", [("x", "absent")])
    again = pickle.loads(pickle.dumps(error))  # noqa: S301  (our own bytes)
    assert str(again) == "cannot identify this machine"
    assert isinstance(again, MachineIdError)
    assert again.attempts == (("x", "absent"),)


# --- /etc/machine-id and /var/lib/dbus/machine-id --------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n", "empty"),
        (b"uninitialized\n", "uninitialized"),
        (b"0" * 32 + b"\n", "all zeros"),
        (RAW.upper().encode() + b"\n", "32 lowercase hex"),
        (RAW[:-1].encode() + b"\n", "32 lowercase hex"),
        (RAW.encode() + b"0\n", "32 lowercase hex"),
        (RAW.encode() + b"\r\n", "32 lowercase hex"),
        (RAW.encode() + b"\n\n", "32 lowercase hex"),
        (b" " + RAW.encode() + b"\n", "32 lowercase hex"),
        (b"3d1219c7-c4c5-404a-aa1f-6d2a48adfda4\n", "32 lowercase hex"),
        (RAW.encode() + b"\n" + RAW.encode() + b"\n", "32 lowercase hex"),
        (RAW[:-1].encode() + b"\xff\n", "32 lowercase hex"),
        (b"a" * 5000, "over 4096 bytes"),
    ],
)
def test_a_malformed_machine_id_file_is_refused(
    content: bytes, message: str, tmp_path: Path
) -> None:
    error = refusal(sources=[id_file(tmp_path, content)])
    assert message in str(error)
    # An error never repeats what the file holds (a near-valid id is almost the real one).
    assert RAW not in str(error)
    assert RAW.upper() not in str(error)


def test_an_unreadable_machine_id_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "machine-id"
    folder.mkdir()  # reading a folder fails as an unreadable file does
    error = refusal(sources=[MachineIdFile(str(folder))])
    assert error.attempts[0][0] == str(folder)
    assert error.attempts[0][1].startswith("unreadable: ")


# --- DMI product_uuid ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [UUID, UUID.lower()])
def test_a_dmi_uuid_is_used_as_the_firmware_reports_it(value: str, tmp_path: Path) -> None:
    identity = node.machine_identity("p", sources=[dmi_file(tmp_path, f"{value}\n".encode())])
    assert identity.id == expected_id("p", value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Not Settable\n", "'Not Settable', a placeholder"),
        (b"To Be Filled By O.E.M.\n", "a placeholder"),
        (b"Default string\n", "a placeholder"),
        (b"\n", "a placeholder"),
        (b"00000000-0000-0000-0000-000000000000\n", "placeholder UUID"),
        (b"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF\n", "placeholder UUID"),
        (b"ffffffff-ffff-ffff-ffff-ffffffffffff\n", "placeholder UUID"),
        (b"03000200-0400-0500-0006-000700080009\n", "placeholder UUID"),
        (b"4C4C4544003539108052B4C04F564433\n", "not a UUID"),
        (b"{4C4C4544-0035-3910-8052-B4C04F564433}\n", "not a UUID"),
    ],
)
def test_a_dmi_placeholder_is_refused(content: bytes, message: str, tmp_path: Path) -> None:
    error = refusal(sources=[dmi_file(tmp_path, content)])
    assert message in str(error)


# --- macOS: ioreg ---------------------------------------------------------------------------


class FakeIoreg:
    """Stands in for running ioreg: records the command, answers with ``output``."""

    def __init__(self, output: str | None = None, error: OSError | None = None) -> None:
        self.output = output
        self.error = error
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> str:
        self.commands.append(list(command))
        if self.error is not None:
            raise self.error
        assert self.output is not None
        return self.output


def test_macos_reads_the_platform_uuid_from_ioreg_without_a_shell() -> None:
    run = FakeIoreg(IOREG_OUTPUT)
    identity = node.machine_identity("p", sources=[IOPlatformUuid(run)])
    assert identity.id == expected_id("p", UUID)
    assert identity.source == "IOPlatformUUID"
    # The program by absolute path (no PATH lookup), its arguments one by one (no shell).
    assert run.commands == [["/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice"]]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "not in ioreg's output"),
        (IOREG_OUTPUT.replace('"IOPlatformUUID"', '"IOPlatformUUIDs"'), "not in ioreg"),
        (IOREG_OUTPUT.replace(f'"{UUID}"', f'"{UUID}" trailing'), "not in ioreg"),
        (IOREG_OUTPUT + f'    "IOPlatformUUID" = "{UUID}"\n', "2 lines"),
        (IOREG_OUTPUT.replace(UUID, "00000000-0000-0000-0000-000000000000"), "placeholder"),
        (IOREG_OUTPUT.replace(UUID, UUID[:-1]), "not a UUID"),
        (IOREG_OUTPUT.replace(UUID, ""), "placeholder"),
    ],
)
def test_macos_ioreg_output_is_parsed_strictly(output: str, message: str) -> None:
    error = refusal(sources=[IOPlatformUuid(FakeIoreg(output))])
    assert message in str(error)
    assert error.attempts[0][0] == "IOPlatformUUID"


def test_macos_without_ioreg_is_absent_and_a_failing_ioreg_is_an_error() -> None:
    absent = refusal(sources=[IOPlatformUuid(FakeIoreg(error=FileNotFoundError(2, "gone")))])
    assert absent.attempts == (("IOPlatformUUID", "absent"),)
    failing = refusal(sources=[IOPlatformUuid(FakeIoreg(error=OSError("ioreg exited with 1")))])
    assert failing.attempts == (("IOPlatformUUID", "unreadable: ioreg exited with 1"),)


@pytest.mark.skipif(sys.platform == "darwin", reason="checks the absence of ioreg")
def test_the_real_ioreg_runner_reports_a_missing_program_as_absent() -> None:
    assert refusal(sources=[IOPlatformUuid()]).attempts == (("IOPlatformUUID", "absent"),)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX commands")
def test_the_command_runner_returns_output_and_reports_failure() -> None:
    from tokenverify.node import _run_command

    assert _run_command([sys.executable, "-c", "print('out')"]) == "out\n"
    with pytest.raises(OSError, match="exited with status 3: bad thing"):
        _run_command([sys.executable, "-c", "import sys; sys.stderr.write('bad thing'); exit(3)"])
    with pytest.raises(FileNotFoundError):
        _run_command(["/nonexistent/ioreg"])


# --- Windows: MachineGuid ---------------------------------------------------------------------


def test_windows_reads_machine_guid_as_stored() -> None:
    guid = "8f4e5a9c-2b1d-4c3e-9f8a-7b6c5d4e3f2a"
    identity = node.machine_identity("p", sources=[WindowsMachineGuid(lambda: (guid, 1))])
    assert identity.id == expected_id("p", guid)
    assert identity.source == "HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (("8f4e5a9c-2b1d-4c3e-9f8a-7b6c5d4e3f2a", 2), "registry type 2"),  # REG_EXPAND_SZ
        ((b"8f4e5a9c-2b1d-4c3e-9f8a-7b6c5d4e3f2a", 3), "registry type 3"),  # REG_BINARY
        ((7, 4), "registry type 4"),  # REG_DWORD
        (("not-a-guid", 1), "not a UUID"),
        (("00000000-0000-0000-0000-000000000000", 1), "placeholder"),
    ],
)
def test_windows_machine_guid_is_checked(answer: tuple[object, int], message: str) -> None:
    error = refusal(sources=[WindowsMachineGuid(lambda: answer)])
    assert message in str(error)


def test_windows_missing_or_denied_registry_value() -> None:
    def missing() -> tuple[object, int]:
        raise FileNotFoundError(2, "The system cannot find the file specified")

    def denied() -> tuple[object, int]:
        raise PermissionError(13, "Access is denied")

    assert refusal(sources=[WindowsMachineGuid(missing)]).attempts[0][1] == "absent"
    assert refusal(sources=[WindowsMachineGuid(denied)]).attempts[0][1] == (
        "unreadable: Access is denied"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="checks the absence of the registry")
def test_the_real_registry_query_is_absent_off_windows() -> None:
    assert refusal(sources=[WindowsMachineGuid()]).attempts[0][1] == "absent"


# --- platforms and custom sources ------------------------------------------------------------


def test_default_sources_per_platform() -> None:
    assert [s.name for s in node.default_sources("linux")] == [
        "/etc/machine-id",
        "/var/lib/dbus/machine-id",
        "/sys/class/dmi/id/product_uuid",
    ]
    assert [s.name for s in node.default_sources("freebsd14")] == [
        s.name for s in node.default_sources("linux")
    ]
    assert [s.name for s in node.default_sources("darwin")] == ["IOPlatformUUID"]
    assert [type(s) for s in node.default_sources("win32")] == [WindowsMachineGuid]


class Custom:
    """A product's own source (an HSM serial, a licence dongle...)."""

    def __init__(self, value: object) -> None:
        self.value = value

    @property
    def name(self) -> str:
        return "dongle"

    def read(self) -> str | None:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value  # type: ignore[return-value]


def test_a_custom_source_plugs_in() -> None:
    assert node.machine_id("p", sources=[Custom("SN-123")]) == expected_id("p", "SN-123")
    assert node.machine_identity("p", sources=[Custom(None), Custom("x")]).source == "dongle"


@pytest.mark.parametrize("value", ["", "x\ny", "x" * 257, 5, b"SN-123"])
def test_a_custom_source_must_give_a_printable_identity(value: object) -> None:
    error = refusal(sources=[Custom(value)])
    assert error.attempts == (("dongle", "no usable identity (1 to 256 printable characters)"),)


def test_a_custom_source_error_is_reported_and_anything_else_propagates() -> None:
    assert refusal(sources=[Custom(ValueError("unplugged"))]).attempts == (("dongle", "unplugged"),)
    with pytest.raises(RuntimeError, match="a bug"):
        node.machine_identity("p", sources=[Custom(RuntimeError("a bug"))])


def test_the_module_documents_its_formula() -> None:
    # The docstring tells other languages how to compute the id; keep it true.
    assert node.__doc__ is not None
    assert 'hmac.new(namespace.encode(), raw.encode(), "sha256").hexdigest()' in node.__doc__
    namespace, raw = "my-product", RAW
    local = hmac.new(namespace.encode(), raw.encode(), "sha256").hexdigest()
    assert local == expected_id(namespace, raw) == node.machine_id(namespace, sources=[Custom(raw)])


def test_the_public_modules_import_neither_the_cli_nor_pydantic() -> None:
    code = (
        "import sys, tokenverify.node, tokenverify.trust\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('argparse', 'pydantic')"
        " or m.startswith('tokenverify.cli') or m == 'subprocess'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
