"""The C accelerator (``_protocol/_speedups.c``) against the pure-Python parser it stands in for.

The accelerator reads the common response head or declines (None), and the Python parser then reads the same
bytes. So the one property that matters: for any bytes, ``ResponseParser`` gives the same head, framing,
body, reuse verdict and error with the accelerator as without it. Hypothesis draws heads near every edge the
C code decides on (versions, statuses, reason bytes, names, values, framing fields, line ends, limits).

The whole suite also runs with ``BRISK_NO_EXTENSIONS=1`` in CI (.ci/run), so both paths pass every test.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brisk import Limits
from brisk._protocol import accelerator, http11, http11_response
from brisk._protocol.http11_response import ResponseParser
from brisk.exceptions import RequestException

REQUIRED = os.environ.get("BRISK_ACCELERATOR_REQUIRED", "") not in ("", "0")  # set by .ci/run
SWITCHED_OFF = os.environ.get("BRISK_NO_EXTENSIONS", "") not in ("", "0")
try:
    from brisk._protocol._speedups import encode_head, parse_head
except ImportError:  # a build without a compiler
    if REQUIRED:
        raise
    pytest.skip("the C accelerator is not built here (no compiler at install time)", allow_module_level=True)


def test_the_accelerator_is_in_use_unless_switched_off() -> None:
    assert accelerator.ACCELERATED is not SWITCHED_OFF


NGINX = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 17:00:00 GMT\r\n"
    b"Content-Type: application/json\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello"
)
LIMITS = (65536, 8190, 100)
DEFAULTS = Limits()


def outcome(data: bytes | list[bytes], limits: Limits, method: str) -> tuple[Any, ...]:
    """Everything a caller of ResponseParser can see after feeding ``data`` (one read, or several)."""
    parser = ResponseParser(method, limits)
    try:
        for piece in [data] if isinstance(data, bytes) else data:
            parser.feed(piece)
    except RequestException as exc:
        return ("refused", type(exc).__name__, str(exc))
    head = parser.head
    if head is None:
        return ("waiting", [h.status_code for h in parser.informational], parser.received_any)
    return (
        head.status_code, head.reason, head.http_version, head.headers, head.keep_alive, head.values("x-a"),
        head.values("set-cookie"), head.values("content-encoding"),
        parser.body_remaining, parser.complete, parser.leftover, parser.reusable, parser.take_body(),
        [h.status_code for h in parser.informational],
    )  # fmt: skip


class Both:
    """``both(data, limits, method)``: the outcome with the accelerator, checked equal to the one without;
    ``taken`` counts the heads the accelerator itself read."""

    def __init__(self) -> None:
        self.taken = 0

    def _counting(self, *args: Any) -> Any:
        found = parse_head(*args)
        self.taken += found is not None
        return found

    def __call__(self, data: bytes | list[bytes], limits: Limits = DEFAULTS, method: str = "GET") -> Any:
        saved = http11_response._fast_head
        try:
            http11_response._fast_head = self._counting
            fast = outcome(data, limits, method)
            http11_response._fast_head = None
            slow = outcome(data, limits, method)
        finally:
            http11_response._fast_head = saved
        assert fast == slow, data
        return fast


@pytest.fixture
def both() -> Both:
    return Both()


def test_the_accelerator_reads_a_common_head() -> None:
    found = parse_head(NGINX, *LIMITS)
    assert found == (
        len(NGINX) - 5, 200, "OK",
        b"\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 17:00:00 GMT\r\nContent-Type: application/json"
        b"\r\nContent-Length: 5\r\nConnection: keep-alive\r\n",
        5, False, frozenset({"set-cookie", "content-encoding"}),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        (b"", {"set-cookie", "content-encoding"}),
        (b"Set-Cookie: a=1\r\n", {"content-encoding"}),
        (b"content-encoding: gzip\r\n", {"set-cookie"}),
        (b"SET-COOKIE: a=1\r\nContent-Encoding: br\r\n", set()),
        (b"Set-Cookie2: a=1\r\nX-Content-Encoding: br\r\n", {"set-cookie", "content-encoding"}),
    ],
)
def test_the_accelerator_says_which_asked_for_fields_are_missing(fields: bytes, missing: set[str]) -> None:
    found = parse_head(b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 0\r\n\r\n", *LIMITS)
    assert found is not None
    assert found[6] == missing


def test_the_parser_takes_the_accelerators_reading(both: Any) -> None:
    assert both(NGINX)[:5] == (200, "OK", "HTTP/1.1", both(NGINX)[3], True)
    assert both(NGINX)[12] == b"hello"
    assert both.taken >= 1


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",  # not complete yet
        b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200\tOK\r\nA: b\r\n\r\n",
        b"HTTP/1.1 200 \xe9t\xe9\r\nA: b\r\n\r\n",
        b"HTTP/1.1 200 O\x7fK\r\nA: b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: caf\xe9\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: a\x00b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5 \r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456\r\n\r\n",
        b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ],
)
def test_the_accelerator_leaves_the_rest_to_the_python_parser(head: bytes, both: Any) -> None:
    assert parse_head(head, *LIMITS) is None
    both(head)


@pytest.mark.parametrize(
    ("limits", "head"),
    [
        (Limits(max_header_count=1), b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n"),
        (Limits(max_header_line=12), b"HTTP/1.1 200 OK\r\nLong: 123456\r\n\r\n"),
        (Limits(max_header_line=12), b"HTTP/1.1 200 Very Long Reason\r\nA: 1\r\n\r\n"),
        (Limits(max_head_size=30), b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n"),
    ],
)
def test_limits_are_left_to_the_python_parser_which_names_them(
    limits: Limits, head: bytes, both: Any
) -> None:
    assert parse_head(head, limits.max_head_size, limits.max_header_line, limits.max_header_count) is None
    assert both(head, limits)[0] == "refused"


@pytest.mark.parametrize(
    "limits",
    [
        Limits(max_head_size=65536.0),  # type: ignore[arg-type]
        Limits(max_header_line=float("inf")),  # type: ignore[arg-type]
        Limits(max_header_count=2**70),
    ],
)
def test_limits_that_are_not_small_ints_go_to_the_python_parser(limits: Limits, both: Any) -> None:
    assert parse_head(NGINX, limits.max_head_size, limits.max_header_line, limits.max_header_count) is None
    assert both(NGINX, limits)[:2] == (200, "OK")


@pytest.mark.parametrize("buffer", [bytearray(NGINX), memoryview(NGINX), type("B", (bytes,), {})(NGINX)])
def test_a_buffer_that_is_not_bytes_goes_to_the_python_parser(buffer: Any) -> None:
    assert parse_head(buffer, *LIMITS) is None


def test_limits_met_exactly_are_read(both: Any) -> None:
    head = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n"
    assert both(head, Limits(max_header_count=2, max_head_size=len(head)))[0] == 200
    assert both.taken == 1


def test_connection_close_is_read_as_the_python_parser_reads_it(both: Any) -> None:
    for value, alive in [(b"close", False), (b"Keep-Alive, CLOSE", False), (b"cl ose", False),
                         (b"closed", True), (b"x,close ,y", False), (b"enclose", True)]:  # fmt: skip
        head = b"HTTP/1.1 200 OK\r\nConnection: " + value + b"\r\nContent-Length: 0\r\n\r\n"
        assert both(head)[4] is alive, value


STATUS = st.sampled_from(
    [b"200", b"204", b"304", b"404", b"999", b"100", b"101", b"099", b"20", b"2000", b"2x0"]
)
TEXT = st.binary(max_size=6).map(lambda b: bytes(c % 0x60 + 0x20 for c in b))  # mostly printable
ODD = st.sampled_from([b"", b" ", b"\t", b"\x7f", b"\x80", b"\xff", b"\x00", b"\r", b"\n", b":", b",", b"OK"])
PIECE = st.lists(st.one_of(TEXT, ODD), max_size=3).map(b"".join)
NAME = st.one_of(
    st.sampled_from(
        [
            b"Content-Length",
            b"content-length",
            b"Transfer-Encoding",
            b"Connection",
            b"X-A",
            b"Set-Cookie",
            b"set-cookie",
            b"Set-Cookie2",
            b"Content-Encoding",
            b"content-encodings",
            b"CONNECTION",
            b"Content-Length ",
            b"",
        ]
    ),
    PIECE,
)
VALUE = st.one_of(
    st.sampled_from(
        [
            b"5",
            b" 5",
            b"5 ",
            b"0",
            b"05",
            b"-1",
            b"1e3",
            b"99999999999999999999",
            b"close",
            b"Keep-Alive, close",
            b" cl ose",
            b"chunked",
            b"a\tb",
            b"",
        ]
    ),
    PIECE,
)
EOL = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r", b"\r\n "])
FIELD = st.tuples(NAME, st.sampled_from([b": ", b":", b":\t", b" : "]), VALUE, EOL).map(b"".join)
HEAD = st.tuples(
    st.sampled_from([b"HTTP/1.1 ", b"HTTP/1.1 ", b"HTTP/1.0 ", b"HTTP/1.2 ", b"http/1.1 ", b"\r\nHTTP/1.1 "]),
    STATUS,
    st.sampled_from([b" ", b" ", b"", b"\t", b"  "]),
    PIECE,
    EOL,
    st.lists(FIELD, max_size=5).map(b"".join),
    st.sampled_from([b"\r\n", b"\r\n", b"\n", b""]),
    st.sampled_from([b"", b"hello", b"hello world, and more", b"\r\n", b"HTTP/1.1 200 OK\r\n\r\n"]),
).map(b"".join)
# Heads the accelerator should mostly read itself: well formed, with one odd byte here and there.
VISIBLE = st.binary(max_size=12).map(lambda b: bytes(c % 0x62 + 0x1F for c in b))  # 0x1F-0x80
TOKEN = st.text("!#$%&'*+-.^_`|~09azAZ", min_size=1, max_size=8).map(str.encode)
WELL_FORMED = st.tuples(
    st.just(b"HTTP/1.1 "),
    st.sampled_from([b"200", b"204", b"301", b"304", b"404", b"500", b"999"]),
    st.sampled_from([b" OK", b" Not Found", b"", b" ", b"  OK \t"])
    | VISIBLE.map(lambda reason: b" " + reason),
    st.just(b"\r\n"),
    st.lists(
        st.tuples(
            NAME | TOKEN, st.sampled_from([b":", b": ", b":\t"]), VALUE | VISIBLE, st.just(b"\r\n")
        ).map(b"".join),
        max_size=6,
    ).map(b"".join),
    st.just(b"\r\n"),
    st.sampled_from([b"", b"hello", b"hello world, and more", b"\r\n"]),
).map(b"".join)
LIMIT_SETS = st.sampled_from(
    [Limits(), Limits(max_header_count=2), Limits(max_header_line=20), Limits(max_head_size=40)]
)


@settings(max_examples=2000, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    head=WELL_FORMED | WELL_FORMED | HEAD,
    limits=LIMIT_SETS,
    method=st.sampled_from(["GET", "GET", "HEAD", "CONNECT"]),
    cut=st.integers(0, 60),
)
def test_any_head_reads_the_same_with_and_without_the_accelerator(
    head: bytes, limits: Limits, method: str, cut: int
) -> None:
    both = Both()
    both(head, limits, method)
    if 0 < cut < len(head):  # the head in two reads: the accelerator sees only the first, or the whole
        both([head[:cut], head[cut:]], limits, method)


# -- the request head ----------------------------------------------------------------------------------------


def python_head(method: str, target: str, headers: Any) -> bytes | tuple[str, str]:
    """encode_request_head in pure Python: the head, or the error it raises."""
    saved = http11._fast_encode
    http11._fast_encode = None
    try:
        return http11.encode_request_head(method, target, headers)
    except RequestException as exc:
        return (type(exc).__name__, str(exc))
    finally:
        http11._fast_encode = saved


def test_the_accelerator_writes_a_common_head() -> None:
    headers = [
        ("Host", "example.com:8080"),
        ("User-Agent", "brisk/0.1"),
        ("Accept", "*/*"),
        ("X-Tab", "\ta b\t "),
    ]
    head = encode_head("GET", "/items?page=2", headers)
    assert head == python_head("GET", "/items?page=2", headers)
    assert head == (
        b"GET /items?page=2 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: brisk/0.1\r\nAccept: */*\r\n"
        b"X-Tab: a b\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        ("G T", "/", []),
        ("GET", "", []),
        ("GET", "/a b", []),
        ("GET", "/caf\xe9", []),
        ("GET", "/", [("Bad Name", "x")]),
        ("GET", "/", [("X", "a\r\nInjected: 1")]),
        ("GET", "/", [("X", "a\x00")]),
        ("GET", "/", [("X", "\u20ac")]),
        ("GET", "/", [("X", b"bytes")]),
        ("GET", "/", [("X", 1)]),
        ("GET", "/", (("X", "a"),)),
        ("GET", "/", [["X", "a"]]),
    ],
)
def test_the_accelerator_leaves_other_heads_to_python(method: str, target: str, headers: Any) -> None:
    assert encode_head(method, target, headers) is None
    with_accelerator: Any
    try:
        with_accelerator = http11.encode_request_head(method, target, headers)
    except RequestException as exc:
        with_accelerator = (type(exc).__name__, str(exc))
    assert with_accelerator == python_head(method, target, headers)


CHARS = "aZ09-_ :/?=\t\r\n\x00\x7f\x80\xe9\u20ac"
FIELD_NAME = st.sampled_from(["Host", "X-A", "user-agent", "", "Bad Name", "X:Y", "\xe9"]) | st.text(
    CHARS, max_size=5
)
FIELD_VALUE = st.text(CHARS, max_size=8) | st.binary(max_size=4)
PAIRS = st.lists(st.tuples(FIELD_NAME, FIELD_VALUE), max_size=5)


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "M-SEARCH", "G T", "", "G\xc9T"]) | st.text(CHARS, max_size=4),
    target=st.sampled_from(["/", "/a?b=c", "*", "http://h/x", "", "/a b"]) | st.text(CHARS, max_size=8),
    headers=PAIRS,
)
def test_any_request_head_is_written_the_same_with_and_without_the_accelerator(
    method: str, target: str, headers: list[tuple[str, Any]]
) -> None:
    slow = python_head(method, target, headers)
    fast = encode_head(method, target, headers)
    if fast is not None:
        assert fast == slow
    try:
        via_accelerator: Any = http11.encode_request_head(method, target, headers)
    except RequestException as exc:
        via_accelerator = (type(exc).__name__, str(exc))
    assert via_accelerator == slow
