"""Loading a keys file without pydantic, and proof that it decides as the pydantic model does.

``KeyRegistry.load`` checks the file by hand (tokenverify._keyfile); saving and the JSON
Schema use the pydantic model (tokenverify.formats._keys_file). Both must accept and refuse
the same files and read the same values from them: a corpus of hand-picked and generated
documents goes to both. The rest pins what loading adds: strict JSON (duplicate names),
byte order marks, messages naming the entry and field, and no pydantic import.
"""

from __future__ import annotations

import base64
import codecs
import copy
import json
import subprocess
import sys
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import tokenverify as tv
from tokenverify._json import loads_object
from tokenverify._keyfile import ALGORITHMS, Entry, validate_document
from tokenverify.formats._keys_file import Algorithm, KeyFile
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Keyfile Test:issuer-fingerprint"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A saved keys file with every field used: RSA with a window, EC with a label and kid."""
    rsa = TestIssuer.generate("PS384", fingerprint=FINGERPRINT, key_size=2048)
    ec = TestIssuer.generate("ES256", fingerprint=FINGERPRINT)
    registry = tv.KeyRegistry()
    registry.add(
        FINGERPRINT,
        rsa.public_pem(),
        algorithms=["PS384", "PS256"],
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
        not_after=datetime(2027, 6, 30, 12, 30, 15, 250000, tzinfo=UTC),
    )
    registry.add(FINGERPRINT, ec.public_pem(), label="EC key", key_id="kid-1")
    path = tmp_path_factory.mktemp("keyfile") / "keys.json"
    registry.save(path)
    document: dict[str, Any] = json.loads(path.read_text())
    return document


# --- both validators, one decision -----------------------------------------------------------


def pydantic_decision(text: str) -> list[Entry] | None:
    """What the model makes of a file: its entries, or None if it refuses it."""
    try:
        model = KeyFile.model_validate_json(text)
    except ValidationError:
        return None
    return [
        Entry(
            fingerprint=key.fingerprint,
            public_key=key.public_key,
            algorithms=tuple(key.algorithms),
            not_before=key.not_before,
            not_after=key.not_after,
            label=key.label,
            key_id=key.key_id,
            thumbprint=key.thumbprint,
        )
        for key in model.keys
    ]


def hand_decision(text: str) -> list[Entry] | None:
    """What the launch-path loader makes of the same file."""
    try:
        return validate_document(loads_object(text.encode("utf-8")))
    except ValueError:
        return None


def assert_agree(document: object) -> list[Entry] | None:
    text = json.dumps(document)
    by_model, by_hand = pydantic_decision(text), hand_decision(text)
    assert (by_model is None) == (by_hand is None), (text[:300], by_model, by_hand)
    if by_model is not None and by_hand is not None:
        assert by_model == by_hand
        for model_entry, hand_entry in zip(by_model, by_hand, strict=True):
            for name in ("not_before", "not_after"):
                # Equal datetimes may still differ in offset; the round trip keeps it.
                model_time, hand_time = getattr(model_entry, name), getattr(hand_entry, name)
                assert (model_time is None) == (hand_time is None)
                if model_time is not None:
                    assert model_time.utcoffset() == hand_time.utcoffset()
    return by_hand


TIMES_ACCEPTED = [
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.5Z",
    "2026-01-01T00:00:00.123456+05:30",
    "2026-01-01T00:00:00-08:00",
    "9999-12-31T23:59:59Z",
]
TIMES_REFUSED = [
    "2026-01-01T00:00:00",  # no zone: refused, a keys file names its zone
    "2026-01-01",
    "2026-01-01 00:00:00Z",
    "2026-01-01t00:00:00z",
    "2026-01-01T00:00Z",
    "2026-01-01T00:00:00+0100",
    "2026-01-01T00:00:00.1234567Z",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:59:60Z",
    "2026-01-01T00:00:00+24:00",
    "1700000000",
    "",
    " 2026-01-01T00:00:00Z",
    "\uff12\uff10\uff12\uff16-01-01T00:00:00Z",  # fullwidth digits
]
VALUES = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    -1,
    2,
    1e300,
    "",
    "x",
    "x" * 256,
    "x" * 257,
    "é\u202e\U0001f600",
    "tokenverify-keys",
    "PS384",
    "HS256",
    "none",
    "ps384",
    [],
    ["PS384"],
    ["PS384", "PS384"],
    ["PS384", "HS256"],
    [None],
    [1],
    {},
    {"a": 1},
    1700000000,
    *TIMES_ACCEPTED,
    *TIMES_REFUSED,
]
TOP_FIELDS = ["format", "version", "keys", "extra"]
ENTRY_FIELDS = [
    "fingerprint",
    "public_key",
    "algorithms",
    "not_before",
    "not_after",
    "label",
    "key_id",
    "thumbprint",
    "colour",
]


def test_the_saved_file_is_accepted_by_both(saved: dict[str, Any]) -> None:
    entries = assert_agree(saved)
    assert entries is not None
    assert len(entries) == 2
    assert entries[0].not_after == datetime(2027, 6, 30, 12, 30, 15, 250000, tzinfo=UTC)
    assert entries[0].algorithms == ("PS256", "PS384")
    assert (entries[1].label, entries[1].key_id) == ("EC key", "kid-1")


@pytest.mark.parametrize("field", TOP_FIELDS)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_value_in_every_top_level_field_is_decided_alike(
    field: str, value: object, saved: dict[str, Any]
) -> None:
    document = copy.deepcopy(saved)
    document[field] = value
    assert_agree(document)


@pytest.mark.parametrize("field", ENTRY_FIELDS)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_value_in_every_entry_field_is_decided_alike(
    field: str, value: object, saved: dict[str, Any]
) -> None:
    document = copy.deepcopy(saved)
    document["keys"][1][field] = value
    assert_agree(document)


@pytest.mark.parametrize("field", [*TOP_FIELDS[:3], *ENTRY_FIELDS[:-1]])
def test_every_field_left_out_is_decided_alike(field: str, saved: dict[str, Any]) -> None:
    document = copy.deepcopy(saved)
    if field in TOP_FIELDS:
        del document[field]
    else:
        del document["keys"][0][field]
    decided = assert_agree(document)
    required = field in ("fingerprint", "public_key", "algorithms")
    assert (decided is None) == required


@pytest.mark.parametrize("time", TIMES_ACCEPTED)
def test_times_with_a_zone_are_read_exactly(time: str, saved: dict[str, Any]) -> None:
    document = copy.deepcopy(saved)
    document["keys"][1]["not_before"] = time
    entries = assert_agree(document)
    assert entries is not None
    assert entries[1].not_before == datetime.fromisoformat(time)


@pytest.mark.parametrize("time", TIMES_REFUSED)
def test_times_without_a_zone_or_in_other_spellings_are_refused(
    time: str, saved: dict[str, Any]
) -> None:
    document = copy.deepcopy(saved)
    document["keys"][1]["not_after"] = time
    assert assert_agree(document) is None


def test_non_objects_are_decided_alike() -> None:
    documents: list[object] = [[], "keys", 1, None, {"keys": [1]}, {"keys": [[]]}, {"keys": {}}]
    for document in documents:
        assert assert_agree(document) is None
    assert assert_agree({}) == []
    assert assert_agree({"format": "tokenverify-keys"}) == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=8,
)
field_values = st.sampled_from(VALUES) | json_values


@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from([None, 0, 1]),  # None: the document itself, else that entry
            st.sampled_from([*TOP_FIELDS, *ENTRY_FIELDS]),
            st.none() | field_values,  # None here: delete the field
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_edits_are_decided_alike(
    edits: list[tuple[int | None, str, object, bool]], saved: dict[str, Any]
) -> None:
    document = copy.deepcopy(saved)
    for target, field, value, delete in edits:
        where = document if target is None else document["keys"][target]
        if not isinstance(where, dict):
            continue
        if delete:
            where.pop(field, None)
        else:
            where[field] = value
        if target is None and not isinstance(document.get("keys"), list):
            break  # the entries are gone: later edits have nothing to edit
        if target is None and len(document["keys"]) < 2:
            break
    assert_agree(document)


def test_the_model_and_the_loader_name_the_same_algorithms() -> None:
    assert typing.get_args(Algorithm) == ALGORITHMS
    assert not {"none", "HS256", "HS384", "HS512"} & set(ALGORITHMS)


# --- what loading adds: strict JSON, BOMs, messages, no pydantic ------------------------------


def test_duplicate_member_names_are_refused(saved: dict[str, Any], tmp_path: Path) -> None:
    text = json.dumps(saved)
    # The second "keys" would win in most parsers; an empty list would then load.
    path = tmp_path / "keys.json"
    path.write_text(text[:-1] + ', "keys": []}')
    with pytest.raises(tv.InvalidKey, match="duplicate member name 'keys'") as caught:
        tv.KeyRegistry.load(path)
    assert str(path) in str(caught.value)
    entry = json.dumps(saved["keys"][1])
    doubled = entry[:-1] + ', "algorithms": ["ES256"]}'
    path.write_text(json.dumps({"keys": []})[:-2] + doubled + "]}")
    with pytest.raises(tv.InvalidKey, match="duplicate member name 'algorithms'"):
        tv.KeyRegistry.load(path)


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]
)
def test_a_keys_file_with_a_byte_order_mark_loads(
    encoding: str, saved: dict[str, Any], tmp_path: Path
) -> None:
    boms = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }
    path = tmp_path / "keys.json"
    text = json.dumps(saved, indent=2)
    path.write_bytes(boms.get(encoding, b"") + text.encode(encoding))
    registry = tv.KeyRegistry.load(path)
    assert [key.thumbprint for key in registry] == [e["thumbprint"] for e in saved["keys"]]


def test_a_broken_byte_order_mark_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_bytes(codecs.BOM_UTF16_LE + b"{\x00\x00\xd8")  # a lone surrogate in UTF-16
    with pytest.raises(tv.InvalidKey, match="UTF-16-LE"):
        tv.KeyRegistry.load(path)


def set_entry(index: int, name: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["keys"][index][name] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (set_entry(1, "colour", "blue"), r"key 1: unknown field 'colour' \(allowed: fingerprint,"),
        (set_entry(1, "algorithms", ["ES256", "HS256"]), r"key 1: algorithms\[1\]: 'HS256' is not"),
        (set_entry(0, "algorithms", "PS384"), r"key 0: algorithms: must be a non-empty list"),
        (set_entry(1, "label", 5), r"key 1: label: must be a string or null, found the number 5"),
        (set_entry(0, "fingerprint", None), r"key 0: fingerprint: must be a string, found null"),
        (set_entry(0, "fingerprint", "x" * 257), r"key 0: fingerprint: must be 1 to 256"),
        (set_entry(0, "not_before", "2026-01-01"), r"key 0: not_before: '2026-01-01' is not a"),
        (set_entry(0, "not_after", 1700000000), r"key 0: not_after: must be a date-time string"),
        (lambda d: d["keys"][1].pop("public_key"), r"key 1: public_key: required"),
        (lambda d: d["keys"].append("key"), r"key 2: must be an object, found 'key'"),
        (lambda d: d.update(version=True), r"version: must be 1, found true"),
        (lambda d: d.update(version=1.0), r"version: must be 1, found the number 1.0"),
        (lambda d: d.update(format="jwks"), r"format: must be 'tokenverify-keys', found 'jwks'"),
        (lambda d: d.update(keys={}), r"keys: must be a list of keys, found an object"),
        (lambda d: d.update(extra=1), r"unknown field 'extra' \(allowed: format, version, keys\)"),
    ],
)
def test_refusals_name_the_entry_and_the_field(
    change: Callable[[dict[str, Any]], None],
    message: str,
    saved: dict[str, Any],
    tmp_path: Path,
) -> None:
    document = copy.deepcopy(saved)
    change(document)
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(document))
    with pytest.raises(tv.InvalidKey, match=message) as caught:
        tv.KeyRegistry.load(path)
    assert str(caught.value).startswith(f"keys file {str(path)!r}: ")


def b64(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).decode().rstrip("=")


def test_a_jwks_in_public_key_is_refused(saved: dict[str, Any], tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    def jwk() -> dict[str, str]:
        numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64(numbers.x), "y": b64(numbers.y)}

    jwks = {"keys": [jwk(), jwk()]}
    document = {"keys": [{"fingerprint": FINGERPRINT, "public_key": json.dumps(jwks),
                          "algorithms": ["ES256"]}]}  # fmt: skip
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(document))
    with pytest.raises(tv.InvalidKey, match="key 0: public_key holds several keys"):
        tv.KeyRegistry.load(path)


def test_times_keep_their_offset_across_load_and_save(
    saved: dict[str, Any], tmp_path: Path
) -> None:
    document = copy.deepcopy(saved)
    document["keys"][0]["not_before"] = "2026-01-01T09:00:00+09:00"
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(document))
    key = tv.KeyRegistry.load(path).keys()[0]
    assert key.not_before == datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))
    assert key.not_before == datetime(2026, 1, 1, tzinfo=UTC)
    again = tmp_path / "again.json"
    tv.KeyRegistry.load(path).save(again)
    assert json.loads(again.read_text())["keys"][0]["not_before"] == "2026-01-01T09:00:00+09:00"


def test_loading_a_keys_file_does_not_import_pydantic(
    saved: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(saved))
    code = (
        "import sys, tokenverify\n"
        f"registry = tokenverify.KeyRegistry.load({str(path)!r})\n"
        "print(len(registry), sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'"
        " or m == 'tokenverify.formats._keys_file'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.split(None, 1) == ["2", "[]\n"]
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()}
    assert "tokenverify._keyfile" in imported
    assert not {"pydantic", "pydantic_core", "tokenverify.formats._keys_file"} & imported


def test_the_cli_verifies_with_a_keys_file_without_pydantic(tmp_path: Path) -> None:
    issuer = TestIssuer.generate("ES256", fingerprint=FINGERPRINT)
    issuer.registry().save(tmp_path / "keys.json")
    (tmp_path / "checkout.json").write_text(json.dumps(issuer.checkout(node_id="n")))
    code = (
        "import sys\n"
        "from tokenverify.cli import main\n"
        f"status = main(['verify', {str(tmp_path / 'checkout.json')!r}, "
        f"'--keys', {str(tmp_path / 'keys.json')!r}, '--node-id', 'n'])\n"
        "print(status, sorted(m for m in sys.modules if m.startswith('pydantic')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "0 []"


def test_a_keys_file_over_16_mib_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_bytes(b"{" + b" " * (16 << 20) + b"}")
    with pytest.raises(tv.InvalidKey, match="is over 16 MiB"):
        tv.KeyRegistry.load(path)
    # UTF-16 under the limit on disk but over it as UTF-8 (CJK: 2 bytes become 3).
    label = "\u4e00" * (6 << 20)
    path.write_bytes(
        codecs.BOM_UTF16_LE + json.dumps({"x": label}, ensure_ascii=False).encode("utf-16-le")
    )
    assert path.stat().st_size <= 16 << 20
    with pytest.raises(tv.InvalidKey, match="is over 16 MiB"):
        tv.KeyRegistry.load(path)
