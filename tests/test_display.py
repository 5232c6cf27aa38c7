"""The one escaping rule for human views: only printable characters, losslessly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenverify._display import printable, unescape

HOSTILE = [
    ("node-7\rVALID", "node-7\\rVALID"),
    ("a\nb", "a\\nb"),
    ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),  # OSC 52: write the clipboard
    ("\u202eevil", "\\u202eevil"),  # bidi override
    ("x\u2028y\u2029", "x\\u2028y\\u2029"),
    ("\x7f\x85\x9b", "\\x7f\\x85\\x9b"),  # DEL, NEL, CSI
    ("back\\slash", "back\\\\slash"),
    ("\udcff", "\\udcff"),  # a file-system byte that is not UTF-8
    ("zero\u200dwidth", "zero\\u200dwidth"),
    ("plain text, é and 漢字", "plain text, é and 漢字"),
]


@pytest.mark.parametrize(("raw", "shown"), HOSTILE)
def test_escapes(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert unescape(shown) == raw


@given(st.text())
def test_only_printable_and_lossless(text: str) -> None:
    shown = printable(text)
    assert shown.isprintable()
    assert unescape(shown) == text


def test_non_strings_are_shown_as_str() -> None:
    assert printable(12) == "12"
    assert printable(None) == "None"
