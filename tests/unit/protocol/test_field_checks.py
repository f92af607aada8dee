"""The HTTP/1.1 field checks use set lookups and ``str.isprintable``, not regular expressions (so that a plain
request never loads ``re``). Each is compared here with the pattern that states the rule (RFC 9110 sections
5.5 and 5.6.2): on any character, and on any text, the two must agree."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brisk._protocol import http11
from brisk.exceptions import InvalidHeader, InvalidMethod, InvalidURL

MANY = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
EVERY_CHARACTER = [chr(i) for i in range(0x110000)]

# Tokens, separators, controls, latin-1 (NBSP, soft hyphen: unprintable to Python, valid in a value) and more.
PIECES = [*"aZ09-_.~!#$%&'*+^`|: \t\r\n\x00\x01\x08\x0b\x1f\x7f\x80\x9f\xa0\xad\xff", "é", "€", "\u2028"]
text = st.lists(st.sampled_from(PIECES), max_size=16).map("".join)


def test_the_sets_hold_the_characters_of_the_patterns() -> None:
    assert {c for c in EVERY_CHARACTER if TOKEN.fullmatch(c)} == http11._TCHAR
    assert {c for c in EVERY_CHARACTER if BAD_VALUE.match(c)} == set(map(chr, http11._BAD_VALUE_BYTES))
    assert {c for c in EVERY_CHARACTER if BAD_TARGET.match(c)} == set(map(chr, http11._BAD_TARGET_BYTES))


@MANY
@given(text)
def test_a_method_is_refused_exactly_when_it_is_no_token(value: str) -> None:
    if TOKEN.fullmatch(value):
        http11.check_method(value)
    else:
        with pytest.raises(InvalidMethod):
            http11.check_method(value)


@MANY
@given(text, text)
def test_a_header_is_refused_for_the_character_the_patterns_find(name: str, value: str) -> None:
    stripped = value.strip(" \t")
    bad = BAD_VALUE.search(stripped)
    if not TOKEN.fullmatch(name):
        with pytest.raises(InvalidHeader, match="invalid header name"):
            http11.check_header(name, value)
    elif bad is not None:
        with pytest.raises(InvalidHeader, match=f"invalid character {re.escape(repr(bad[0]))} in the value"):
            http11.check_header(name, value)
    elif not all(c <= "\xff" for c in stripped):
        with pytest.raises(InvalidHeader, match="outside latin-1"):
            http11.check_header(name, value)
    else:
        assert http11.check_header(name, value) == stripped


@MANY
@given(text)
def test_a_target_is_refused_for_the_character_the_pattern_finds(value: str) -> None:
    bad = BAD_TARGET.search(value)
    if not value or not value.isascii():
        with pytest.raises(InvalidURL):
            http11.check_target(value)
    elif bad is not None:
        with pytest.raises(
            InvalidURL, match=f"invalid character {re.escape(repr(bad[0]))} in request target"
        ):
            http11.check_target(value)
    else:
        http11.check_target(value)
