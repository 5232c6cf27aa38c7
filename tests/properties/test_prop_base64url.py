"""Properties of strict base64url: one spelling per byte string, plus its canonical padding.

``tokenverify._base64url.decode`` must invert ``encode``, accept the canonical ``=``
padding, and refuse every other string with ``ValueError``. The stdlib's
``base64.urlsafe_b64decode`` accepts many more spellings of the same bytes (junk
characters, '+' and '/', non-zero unused bits, extra padding); every string it reads
that we refuse must be one of those non-canonical spellings.
"""

from __future__ import annotations

import base64
import binascii
import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tokenverify import _base64url

URL_ALPHABET = string.ascii_letters + string.digits + "-_"


def spellings(data: bytes) -> set[bytes]:
    """The strings that may decode to ``data``: unpadded, and with canonical padding."""
    bare = _base64url.encode(data).encode("ascii")
    return {bare, bare + b"=" * (-len(bare) % 4)}


def lenient(segment: bytes) -> bytes | None:
    """What ``base64.urlsafe_b64decode`` reads from ``segment``, padded as it needs, if anything."""
    for attempt in (segment, segment + b"=" * (-len(segment) % 4)):
        try:
            return base64.urlsafe_b64decode(attempt)
        except (binascii.Error, ValueError):
            continue
    return None


def mutate(encoded: bytes, how: str, position: int, junk: bytes) -> bytes:
    """A near miss of a canonical encoding (which may happen to be canonical again)."""
    index = position % (len(encoded) + 1)
    if how == "insert":
        return encoded[:index] + junk + encoded[index:]
    if how == "replace" and encoded:
        index = min(index, len(encoded) - 1)
        return encoded[:index] + junk + encoded[index + 1 :]
    if how == "delete" and encoded:
        index = min(index, len(encoded) - 1)
        return encoded[:index] + encoded[index + 1 :]
    if how == "last_bits" and encoded:
        # Same 6-bit value except in the low bits: non-zero unused bits when padding applies.
        last = URL_ALPHABET.index(chr(encoded[-1]))
        twin = URL_ALPHABET[last ^ (position % 15 + 1)]
        return encoded[:-1] + twin.encode("ascii")
    if how == "standard_alphabet":
        return encoded.replace(b"-", b"+").replace(b"_", b"/")
    return encoded + junk  # "append": padding, whitespace or anything


junk_bytes = st.sampled_from(
    (b"=", b"==", b"===", b" ", b"\n", b"\r\n", b"+", b"/", b"!", b".", b"\x00", b"\xff")
)
junk_bytes |= st.text(URL_ALPHABET + "=", min_size=1, max_size=3).map(
    lambda text: text.encode("ascii")
)
near_misses = st.builds(
    mutate,
    st.binary(max_size=40).map(lambda data: _base64url.encode(data).encode("ascii")),
    st.sampled_from(("insert", "replace", "delete", "last_bits", "standard_alphabet", "append")),
    st.integers(0, 100),
    junk_bytes,
)
candidates = st.one_of(
    near_misses,
    st.text(URL_ALPHABET + "=+/ \n!", max_size=30).map(lambda text: text.encode("ascii")),
    st.binary(max_size=30),
)


@given(st.binary(max_size=600))
def test_decode_inverts_encode(data: bytes) -> None:
    encoded = _base64url.encode(data)
    assert set(encoded) <= set(URL_ALPHABET)
    assert len(encoded) == (len(data) * 4 + 2) // 3
    assert _base64url.decode(encoded.encode("ascii")) == data
    assert encoded == base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@given(st.binary(max_size=600))
def test_canonical_padding_is_accepted(data: bytes) -> None:
    for spelling in spellings(data):
        assert _base64url.decode(spelling) == data


@given(candidates)
@example(b"Zg")  # "f"
@example(b"Zh")  # "f" with a non-zero unused bit
@example(b"Zg=")  # short padding
@example(b"Zg===")  # excess padding
@example(b"Z===")
@example(b"Zm9v\n")
@example(b"+/+/")
@example(b"A")
@example(b"")
def test_only_canonical_spellings_decode(segment: bytes) -> None:
    try:
        decoded = _base64url.decode(segment)
    except ValueError:
        # Refused (and only with ValueError): if the stdlib reads bytes from it, it is not
        # a canonical spelling of those bytes.
        read = lenient(segment)
        if read is not None:
            assert segment not in spellings(read)
        return
    assert segment in spellings(decoded)
    assert lenient(segment) == decoded


@pytest.mark.parametrize(
    ("segment", "canonical"),
    [
        (b"Zh", b"Zg"),  # unused bits set
        (b"Zm9=", b"Zm8"),  # unused bits set, padded
        (b"Zm9v\nYmFy", b"Zm9vYmFy"),  # whitespace inside
        (b"Zm9v!YmFy", b"Zm9vYmFy"),  # junk inside
        (b"Pz8_", b"Pz8_"),  # control: canonical, both accept
        (b"Pz8/", b"Pz8_"),  # standard alphabet
        (b"Zg===", b"Zg"),  # excess padding
    ],
)
def test_differential_with_the_stdlib(segment: bytes, canonical: bytes) -> None:
    """Spellings the stdlib reads as the canonical string's bytes; only that one is ours."""
    assert lenient(segment) == lenient(canonical)
    assert _base64url.decode(canonical) == lenient(canonical)
    if segment != canonical:
        with pytest.raises(ValueError, match=r"alphabet|padding|canonical|length"):
            _base64url.decode(segment)
