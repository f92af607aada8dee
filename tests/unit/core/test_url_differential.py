"""The URL code checks ordinary text with string methods and set lookups, not regular expressions (so that a
plain request never loads ``re``). Each check is compared here with the regular expression it replaced, which
states the rule as RFC 3986 writes it: on the same inputs, the two must agree."""

from __future__ import annotations

import enum
import re
import urllib.parse

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from brisk._core import host as host_module
from brisk._core.form import encode_form, quote_plus
from brisk._core.percent import (
    FRAGMENT_SAFE,
    PASSWORD_SAFE,
    PATH_SAFE,
    QUERY_SAFE,
    USER_SAFE,
    encode_utf8,
    requote_with,
)
from brisk._core.url import _split, scheme_end
from brisk.exceptions import InvalidURL

MANY = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# RFC 3986 appendix B, with the scheme syntax of section 3.1: what _split replaced.
SPLIT = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.S)
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
BAD_HOST = re.compile(r'[\x00-\x20\x7f"#%/:<>?@\[\\\]^`{|}]')
UNRESERVED_ESCAPE = re.compile(r"%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[Dd]|5[Ff]|7[Ee])")

# The characters that decide a split or a quoting, and some that never should.
PIECES = [
    *":/?#[]@%.-+_~!$&'()*,;= \t\r\n\x00\x7f\"<>\\^`{|}",
    "a",
    "Z",
    "0",
    "é",
    "日",
    "\ud800",
    "%2F",
    "%41",
]
text = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)
url_text = st.tuples(st.sampled_from(["http", "H+t.-1", "1x", "", "é", "a b"]), text).map(":".join) | text


def requote_by_regex(value: str, safe: str) -> str:
    """requote_with as it was written with regular expressions alone."""
    chars = "".join("\\" + c if c in "\\]^-[" else c for c in sorted(set(safe) - {"%"}))
    pattern = re.compile(rf"(?:[^A-Za-z0-9\-._~%{chars}]|%(?![0-9A-Fa-f]{{2}}))+")
    if "%" in value:
        value = UNRESERVED_ESCAPE.sub(lambda m: chr(int(m[0][1:], 16)), value)
    return pattern.sub(encode_utf8, value)


@MANY
@given(url_text)
def test_split_agrees_with_the_rfc_3986_pattern(value: str) -> None:
    match = SPLIT.fullmatch(value)
    assert _split(value) == (None if match is None else match.groups())


@MANY
@given(url_text)
def test_scheme_end_agrees_with_the_scheme_pattern(value: str) -> None:
    match = SCHEME.match(value)
    assert scheme_end(value) == (-1 if match is None else match.end() - 1)


@MANY
@given(text, st.sampled_from([USER_SAFE, PASSWORD_SAFE, PATH_SAFE, QUERY_SAFE, FRAGMENT_SAFE]))
def test_requote_agrees_with_the_pattern_it_replaced(value: str, safe: str) -> None:
    try:
        expected: str | type[Exception] = requote_by_regex(value, safe)
    except UnicodeEncodeError:
        expected = UnicodeEncodeError
    try:
        got: str | type[Exception] = requote_with(value, safe)
    except InvalidURL:  # for the lone surrogate
        got = UnicodeEncodeError
    assert got == expected


def test_the_characters_a_host_refuses_are_those_of_the_pattern() -> None:
    assert {chr(i) for i in range(0x110000) if BAD_HOST.match(chr(i))} == host_module._BAD_HOST_CHARS


@MANY
@given(st.text(st.characters(max_codepoint=0x7F), max_size=12))
def test_a_host_is_refused_for_the_character_the_pattern_finds(value: str) -> None:
    name = "a" + value.replace(".", "")  # no empty label, which is refused for another reason
    assume("xn--" not in name.lower())  # nor an A-label, checked by IDNA
    bad = BAD_HOST.search(name)
    if bad is None:
        assert host_module._check_ascii_host(name, "http://" + name) == name.lower()
    else:
        with pytest.raises(ValueError, match=f"invalid character {re.escape(repr(bad[0]))} in host"):
            host_module._check_ascii_host(name, "http://" + name)


class Colour(str, enum.Enum):  # noqa: UP042  (str() of this mix-in is "Colour.RED", not the value)
    RED = "red"
    DARK_BLUE = "dark blue"


def test_a_str_enum_in_a_form_is_encoded_by_its_value() -> None:
    assert encode_form({Colour.RED: [Colour.RED, Colour.DARK_BLUE]}) == "red=red&red=dark+blue"


def test_requote_refuses_what_is_not_text() -> None:
    with pytest.raises(TypeError):
        requote_with(["a", "b"], QUERY_SAFE)  # type: ignore[arg-type]


@MANY
@given(st.text(max_size=12) | text | st.binary(max_size=12) | st.sampled_from([Colour.RED, Colour.DARK_BLUE]))
def test_quote_plus_agrees_with_urllib(value: str | bytes) -> None:
    """On text (lone surrogates included), bytes and str subclasses such as a str Enum, which urllib
    encodes by its characters, not by its ``__str__`` or ``__format__``."""
    try:
        expected = urllib.parse.quote_plus(value)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            quote_plus(value)
        return
    assert quote_plus(value) == expected
