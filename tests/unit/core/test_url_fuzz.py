"""Property tests for the URL parser: any input parses or raises a documented error; output is stable."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brisk._core.url import URL
from brisk.exceptions import InvalidSchema, InvalidURL, MissingSchema

DOCUMENTED = (InvalidURL, MissingSchema, InvalidSchema)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that matter to URL parsing, plus look-alikes, controls and non-ASCII.
TRICKY = [
    *":/?#[]@%\\.-_~!$&'()*+,;= \t\r\n\x00\x7f\"<>^`{|}",
    "a",
    "Z",
    "0",
    "9",
    "ü",
    "ß",
    "日",
    "\u3002",
    "\uff0f",
    "\uff1f",
    "\uff20",
    "\u200b",
    "\ud800",
    "%25",
    "%2e",
    "%C3%BC",
    "xn--",
    "..",
    "::",
    "[::1]",
    "%zz",
]
tricky_text = st.lists(st.sampled_from(TRICKY), max_size=30).map("".join)
prefix = st.sampled_from(
    ["http://", "https://", "HTTP://", "socks5h://", "file://", "http:", "", "ws://", "//"]
)
url_like = st.builds(lambda p, a, b: p + a + b, prefix, tricky_text, st.text(max_size=20))
any_input = st.one_of(st.text(max_size=60), url_like)

UNSAFE = {chr(c) for c in range(0x21)} | {"\x7f"}


def _clean(text: str) -> bool:
    return text.isascii() and not (set(text) & UNSAFE)


def _check(url: URL) -> None:
    """The invariants every parsed URL keeps."""
    text = str(url)
    again = URL.parse(text)
    assert again == url
    assert str(again) == text
    assert hash(again) == hash(url)
    for value in (text, url.target, url.host_header):
        assert _clean(value), value
    if not url.host and not text.startswith(url.scheme + "://"):  # an opaque URL (mailto:, data:)
        assert url.target == text[len(url.scheme) + 1 :]
        return
    assert "#" not in url.target
    assert url.target.startswith("/")
    if url.port is not None:
        assert 0 < url.port <= 65535


@FUZZ
@given(any_input)
def test_parse_returns_url_or_documented_error(text: str) -> None:
    try:
        url = URL.parse(text)
    except DOCUMENTED:  # all three are ValueError subclasses
        return
    _check(url)


@FUZZ
@given(any_input, st.one_of(tricky_text, st.text(max_size=30)))
def test_join_returns_url_or_documented_error(reference_prefix: str, reference: str) -> None:
    base = URL.parse("http://user:pw@a.example:8080/b/c/d;p?q#f")
    for ref in (reference, reference_prefix):
        try:
            url = base.join(ref)
        except DOCUMENTED:
            continue
        _check(url)


@FUZZ
@given(
    st.one_of(
        st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.text(max_size=8), st.integers())),
        st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=4),
        st.binary(max_size=20),
        tricky_text.filter(lambda s: "\ud800" not in s),
    )
)
def test_with_params_keeps_target_clean(params: object) -> None:
    url = URL.parse("http://h/p?a=1#frag").with_params(params)  # type: ignore[arg-type]
    _check(url)
    assert url.target.startswith("/p?a=1")
    assert url.fragment == "frag"


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "username": tricky_text,
            "password": st.one_of(st.none(), tricky_text),
            "path": tricky_text,
            "query": st.one_of(st.none(), tricky_text),
            "fragment": st.one_of(st.none(), tricky_text),
            "host": tricky_text,
            "port": st.one_of(st.none(), st.integers(min_value=-5, max_value=70000)),
        },
    )
)
def test_copy_with_returns_url_or_documented_error(changes: dict[str, object]) -> None:
    try:
        url = URL.parse("https://u:p@h.example:8443/x?y#z").copy_with(**changes)  # type: ignore[arg-type]
    except DOCUMENTED:
        return
    _check(url)
