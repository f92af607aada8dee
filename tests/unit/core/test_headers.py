"""``brisk._core.headers.Headers``: case-insensitive, multi-valued, order-keeping (as implemented)."""

from __future__ import annotations

import pytest

from brisk._core.headers import Headers
from brisk.structures import CaseInsensitiveDict


def test_lookup_ignores_case_and_keeps_the_name_as_set() -> None:
    headers = Headers({"Content-Type": "text/plain"})
    assert headers["content-type"] == headers["CONTENT-TYPE"] == "text/plain"
    assert "content-TYPE" in headers
    assert list(headers) == ["Content-Type"]
    headers["content-type"] = "application/json"  # replaces, under the name last used
    assert list(headers) == ["content-type"]
    assert len(headers) == 1


def test_non_str_keys_are_never_found() -> None:
    headers = Headers({"1": "one"})
    assert 1 not in headers
    assert None not in headers


def test_is_a_case_insensitive_dict_for_code_that_checks() -> None:
    assert isinstance(Headers(), CaseInsensitiveDict)


def test_repeated_names_from_the_wire_are_kept_apart() -> None:
    headers = Headers.from_raw([("Set-Cookie", "a=1"), ("X-One", "1"), ("set-cookie", "b=2")])
    assert headers["set-cookie"] == "a=1, b=2", "reading joins the values, as requests does"
    assert headers.get_list("SET-COOKIE") == ["a=1", "b=2"]
    assert headers.getlist("set-cookie") == ["a=1", "b=2"]  # urllib3's spelling
    assert headers.get_list("missing") == []
    assert list(headers) == ["Set-Cookie", "X-One"], "names in the order they first appeared"


def test_multi_items_and_pairs_keep_every_value_in_order() -> None:
    headers = Headers.from_raw([("A", "1"), ("B", "2"), ("a", "3")])
    expected = [("A", "1"), ("A", "3"), ("B", "2")]  # each name's values together, in received order
    assert list(headers.multi_items()) == expected
    assert headers.pairs() == expected
    plain = Headers({"A": "1", "B": "2"})
    assert plain.pairs() == [("A", "1"), ("B", "2")]


def test_constructor_and_update_replace_like_a_dict() -> None:
    headers = Headers([("X", "1"), ("x", "2")])
    assert headers.get_list("X") == ["2"], "a mapping-style constructor keeps the last value"
    headers.update({"X": "3", "Y": "4"})
    assert dict(headers.lower_items()) == {"x": "3", "y": "4"}
    assert Headers(Accept="*/*")["accept"] == "*/*"


def test_add_keeps_existing_values() -> None:
    headers = Headers({"Accept": "text/html"})
    headers.add("accept", "application/json")
    headers.add("New", "1")
    assert headers.get_list("Accept") == ["text/html", "application/json"]
    assert headers["accept"] == "text/html, application/json"
    assert list(headers) == ["Accept", "New"], "the first name's spelling stays"
    assert headers.get_list("new") == ["1"]


def test_setting_a_value_replaces_all_values() -> None:
    headers = Headers.from_raw([("X", "1"), ("X", "2")])
    headers["x"] = "3"
    assert headers.get_list("X") == ["3"]
    assert list(headers.multi_items()) == [("x", "3")]


def test_deleting_removes_all_values() -> None:
    headers = Headers.from_raw([("X", "1"), ("X", "2"), ("Y", "3")])
    del headers["x"]
    assert "X" not in headers
    assert headers.get_list("x") == []
    assert list(headers.multi_items()) == [("Y", "3")]
    with pytest.raises(KeyError):
        del headers["x"]
    assert headers.pop("y") == "3"
    assert headers.pop("y", None) is None


def test_copy_is_independent() -> None:
    original = Headers.from_raw([("X", "1"), ("X", "2")])
    original["Y"] = "y"
    copy = original.copy()
    assert type(copy) is Headers
    copy.add("X", "3")
    copy["Y"] = "changed"
    copy["Z"] = "new"
    assert original.get_list("X") == ["1", "2"], "the multi-value lists are copied too"
    assert original["Y"] == "y"
    assert "Z" not in original
    assert copy.get_list("X") == ["1", "2", "3"]


def test_equality_ignores_case_and_compares_joined_values() -> None:
    headers = Headers.from_raw([("Content-Type", "a"), ("X", "1"), ("X", "2")])
    assert headers == {"content-type": "a", "x": "1, 2"}
    assert headers == Headers({"CONTENT-TYPE": "a", "X": "1, 2"})
    assert headers != {"content-type": "a"}
    assert headers != "content-type: a"
    with pytest.raises(TypeError):
        hash(headers)


def test_none_marks_a_header_to_leave_out() -> None:
    headers = Headers({"User-Agent": "brisk", "Accept": "*/*"})
    headers["User-Agent"] = None  # type: ignore[assignment]  # requests' way to say "send none"
    headers.without_unset()
    assert dict(headers) == {"Accept": "*/*"}
    assert "user-agent" not in headers


def test_values_are_kept_as_given() -> None:
    headers = Headers({"X-Bytes": b"raw", "X-Text": "text"})  # type: ignore[dict-item]
    assert headers["x-bytes"] == b"raw", "bytes stay bytes: the serialiser validates and sends them"
    assert headers["x-text"] == "text"


def test_repr_is_a_dict() -> None:
    assert repr(Headers({"A": "1"})) == "{'A': '1'}"
