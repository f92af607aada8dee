"""Unit tests for the sans-IO HTTP/1.1 layer: request serialisation and response framing, bytes in and out.

No sockets: every response is a byte string fed to ``ResponseParser``, whole, split at every position, or
byte by byte. Each test names what a broken parser would get wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk._protocol.http11 import (
    LAST_CHUNK,
    ResponseParser,
    check_header,
    check_method,
    check_target,
    chunk_header,
    encode_request_head,
)
from brisk.exceptions import (
    ChunkedEncodingError,
    IncompleteBody,
    InvalidHeader,
    InvalidMethod,
    InvalidURL,
    RemoteProtocolError,
    ResponseHeadersTooLarge,
)

# Small limits, so that every limit can be crossed with a few hundred bytes.
SMALL = Limits(max_header_line=100, max_header_count=8, max_head_size=400)


def feed(
    pieces: Iterable[bytes], *, method: str = "GET", limits: Limits = DEFAULT_LIMITS, eof: bool = False
) -> tuple[ResponseParser, bytes]:
    """Feed ``pieces`` one after the other, collecting the body; then the end of the stream if ``eof``."""
    parser = ResponseParser(method, limits)
    body = []
    for piece in pieces:
        parser.feed(piece)
        body.append(parser.take_body())
    if eof:
        parser.feed_eof()
        body.append(parser.take_body())
    return parser, b"".join(body)


def parse(
    data: bytes, *, method: str = "GET", limits: Limits = DEFAULT_LIMITS, eof: bool = False
) -> tuple[ResponseParser, bytes]:
    return feed([data], method=method, limits=limits, eof=eof)


def segmentations(data: bytes) -> Iterator[list[bytes]]:
    """The whole input, every split into two pieces, and byte by byte."""
    yield [data]
    for i in range(len(data) + 1):
        yield [data[:i], data[i:]]
    yield [data[i : i + 1] for i in range(len(data))]


def feed_each(parser: ResponseParser, pieces: Iterable[bytes]) -> None:
    for piece in pieces:
        parser.feed(piece)


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def outcome(pieces: Iterable[bytes], limits: Limits = DEFAULT_LIMITS) -> object:
    """What a caller can observe: the exception, or the response and connection state."""
    try:
        parser, body = feed(pieces, limits=limits)
    except (RemoteProtocolError, ChunkedEncodingError) as exc:
        return type(exc), str(exc)
    head = parser.head
    assert head is not None
    return head.status_code, head.headers, body, parser.complete, parser.reusable, parser.leftover


def response(head: str, body: bytes = b"") -> bytes:
    """A response from a head written with "\\n" line ends (converted to CRLF) and a body."""
    return head.replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body


# ---------------------------------------------------------------------------------------------------------
# Request side: serialisation


def test_request_head_is_serialised_exactly_in_order() -> None:
    head = encode_request_head(
        "POST",
        "/upload?x=1&y=%20",
        [("Host", "example.org"), ("X-B", "2"), ("x-a", "1"), ("X-B", "3"), ("Content-Length", "5")],
    )
    assert head == (
        b"POST /upload?x=1&y=%20 HTTP/1.1\r\n"
        b"Host: example.org\r\n"
        b"X-B: 2\r\n"
        b"x-a: 1\r\n"
        b"X-B: 3\r\n"
        b"Content-Length: 5\r\n"
        b"\r\n"
    )


def test_request_head_invents_no_headers() -> None:
    # Host (and everything else) is the caller's business: this layer adds nothing.
    assert encode_request_head("GET", "/", []) == b"GET / HTTP/1.1\r\n\r\n"
    assert (
        encode_request_head("GET", "/", iter([("Accept", "*/*")])) == b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("method", "target"),
    [("CONNECT", "example.org:443"), ("GET", "http://example.org/a?b#"), ("OPTIONS", "*"), ("PURGE", "/")],
)
def test_request_line_forms(method: str, target: str) -> None:
    assert encode_request_head(method, target, []) == f"{method} {target} HTTP/1.1\r\n\r\n".encode()


def test_methods_are_case_sensitive_tokens() -> None:
    assert encode_request_head("get", "/", []).startswith(b"get / ")
    assert encode_request_head("M-SEARCH", "*", []).startswith(b"M-SEARCH * ")


def test_shared_validators_agree_with_the_serialiser() -> None:
    # check_* are the same rules, exported for HTTP/2: same verdicts, same stripped value.
    check_method("PATCH")
    check_target("/a?b=c")
    assert check_header("X-Value", " \tv w\t ") == "v w"
    assert check_header("X-Value", "") == ""
    with pytest.raises(InvalidMethod):
        check_method("GET ")
    with pytest.raises(InvalidURL):
        check_target("/a\r\nb")
    for name, value in [("X-Value", "v\r\nX-Injected: 1"), ("X Value", "v"), ("", "v"), ("X", "\u65e5")]:
        with pytest.raises(InvalidHeader):
            check_header(name, value)
        with pytest.raises(InvalidHeader):  # and the serialiser still refuses it afterwards
            encode_request_head("GET", "/", [(name, value)])


def test_chunk_framing_helpers() -> None:
    assert chunk_header(0) == b"0\r\n"
    assert chunk_header(10) == b"a\r\n"
    assert chunk_header(0x1234ABCD) == b"1234abcd\r\n"
    assert LAST_CHUNK == b"0\r\n\r\n"


# Request side: injection


BAD_METHODS = [
    "",
    "GET ",
    " GET",
    "G ET",
    "GET\t",
    "G\tET",
    "GET\r\n",
    "GET\r",
    "GET\n",
    "GET\x00",
    "\x00",
    "GET\x7f",
    "GET\x01",
    "GET\x1b",
    "GET / HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET",
    "G:ET",
    "GET/",
    "GÉT",
    "G\u0130T",
]


@pytest.mark.parametrize("method", BAD_METHODS)
def test_bad_method_is_rejected(method: str) -> None:
    with pytest.raises(InvalidMethod):
        encode_request_head(method, "/", [("Host", "a")])


BAD_TARGETS = [
    "/a\r\nX-Injected: 1",
    "/a\r",
    "/a\n",
    "/a\x00",
    "/a b",
    "/a\tb",
    "/a\x7f",
    "/a\x01",
    "/a\x1b",
    "/a\x0b",
    " /a",
    "/a HTTP/1.1\r\nHost: evil\r\n\r\nGET /",
]


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_bad_target_is_rejected(target: str) -> None:
    with pytest.raises(InvalidURL):
        encode_request_head("GET", target, [("Host", "a")])


def test_non_latin1_target_is_rejected_with_invalid_url() -> None:
    with pytest.raises(InvalidURL):
        encode_request_head("GET", "/\u65e5\u672c", [])


def test_empty_target_is_rejected() -> None:
    with pytest.raises(InvalidURL):
        encode_request_head("GET", "", [])


BAD_NAMES = [
    "",
    " ",
    "X Y",
    "X ",
    " X",
    "X\t",
    "X:",
    "X:Y",
    ":authority",
    "X\r\nY",
    "X\r",
    "X\n",
    "X\x00",
    "X\x7f",
    "X\x01",
    "Xé",
    "X\u65e5",
    "(X)",
    "X/Y",
    "X;",
    'X"',
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_header_name_is_rejected(name: str) -> None:
    with pytest.raises(InvalidHeader):
        encode_request_head("GET", "/", [("Host", "a"), (name, "v")])


BAD_VALUES = [
    "a\r\nX-Injected: 1",
    "a\r\n",
    "\r\n",
    "a\r",
    "a\n",
    "\na",
    "a\nb",
    "a\x00",
    "\x00",
    "a\x00b",
    "a\x01b",
    "a\x08b",
    "a\x0bb",
    "a\x0cb",
    "a\x1bb",
    "a\x1fb",
    "a\x7fb",
    " \x0b ",
    "a\r\n\r\nGET /smuggled HTTP/1.1",
]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_bad_header_value_is_rejected_as_str_and_as_bytes(value: str) -> None:
    with pytest.raises(InvalidHeader):
        encode_request_head("GET", "/", [("X", value)])
    with pytest.raises(InvalidHeader):
        encode_request_head("GET", "/", [("X", value.encode("latin-1"))])


def test_crlf_at_the_end_of_a_value_is_rejected_not_stripped() -> None:
    # A parser that strip()s whitespace before validating would quietly accept "v\r\n".
    for value in ("v\r\n", "v\n", "\r\nv", " v \r\n "):
        with pytest.raises(InvalidHeader):
            encode_request_head("GET", "/", [("X", value)])


def test_an_invalid_header_after_valid_ones_fails_the_whole_call() -> None:
    def headers() -> Iterator[tuple[str, str]]:
        yield "Host", "a"
        yield "X-Good", "1"
        yield "X-Bad", "1\r\nX-Injected: 1"

    with pytest.raises(InvalidHeader):
        encode_request_head("GET", "/", headers())


def test_latin1_values_are_encoded_and_others_refused() -> None:
    assert encode_request_head("GET", "/", [("X", "café ÿ")]) == b"GET / HTTP/1.1\r\nX: caf\xe9 \xff\r\n\r\n"
    for value in ("\u65e5\u672c", "caf\u00e9\u2028", "\u20ac", "\U0001f600"):
        with pytest.raises(InvalidHeader, match="latin-1"):
            encode_request_head("GET", "/", [("X", value)])


def test_bytes_values_pass_through_unchanged() -> None:
    utf8 = "\u65e5\u672c \u20ac".encode()
    head = encode_request_head("GET", "/", [("X", utf8), ("Y", b"\x80\xff"), ("Z", b"plain")])
    assert head == b"GET / HTTP/1.1\r\nX: " + utf8 + b"\r\nY: \x80\xff\r\nZ: plain\r\n\r\n"


def test_str_and_bytes_values_give_the_same_line() -> None:
    assert encode_request_head("GET", "/", [("X", "\xe9")]) == encode_request_head(
        "GET", "/", [("X", b"\xe9")]
    )


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (" v", "v"),
        ("v ", "v"),
        ("\tv\t", "v"),
        (" \t a b \t ", "a b"),
        ("a\tb", "a\tb"),
        ("a  b", "a  b"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_value_whitespace_is_stripped_at_the_ends_only(value: str, sent: str) -> None:
    expected = b"GET / HTTP/1.1\r\nX: " + sent.encode() + b"\r\n\r\n"
    assert encode_request_head("GET", "/", [("X", value)]) == expected
    assert encode_request_head("GET", "/", [("X", value.encode())]) == expected


# Request side: the validation cache


def test_a_rejected_pair_is_rejected_every_time() -> None:
    for _ in range(3):
        with pytest.raises(InvalidHeader):
            encode_request_head("GET", "/", [("X-Repeat", "a\r\nb")])
        with pytest.raises(InvalidHeader):
            encode_request_head("GET", "/", [("X Repeat", "a")])
        with pytest.raises(InvalidMethod):
            encode_request_head("BAD METHOD", "/", [])


def test_a_cached_valid_pair_does_not_let_a_similar_invalid_one_pass() -> None:
    good = [("X-Cached", "value")]
    assert encode_request_head("GET", "/", good) == b"GET / HTTP/1.1\r\nX-Cached: value\r\n\r\n"
    for name, value in [
        ("X-Cached", "value\r\nX-Injected: 1"),
        ("X-Cached", "value\x00"),
        ("X-Cached ", "value"),
        ("X-Cached\r\n", "value"),
        ("X-Cached:", "value"),
    ]:
        with pytest.raises(InvalidHeader):
            encode_request_head("GET", "/", [(name, value)])
    # and the valid pair still gives the same line
    assert encode_request_head("GET", "/", good) == b"GET / HTTP/1.1\r\nX-Cached: value\r\n\r\n"


def test_cached_lines_survive_cache_turnover_unchanged() -> None:
    # Push well past the cache capacity so it is cleared at least once, with interleaved bad pairs.
    for i in range(3000):
        line = encode_request_head("GET", "/", [("X-Many", f" v{i} ")])
        assert line == f"GET / HTTP/1.1\r\nX-Many: v{i}\r\n\r\n".encode()
        if i % 97 == 0:
            with pytest.raises(InvalidHeader):
                encode_request_head("GET", "/", [("X-Many", f"v{i}\n")])


def test_method_cache_cannot_be_poisoned() -> None:
    for i in range(200):  # far more custom methods than the method cache holds
        assert encode_request_head(f"CUSTOM{i}", "/", []).startswith(f"CUSTOM{i} /".encode())
        with pytest.raises(InvalidMethod):
            encode_request_head(f"CUSTOM{i} ", "/", [])
        with pytest.raises(InvalidMethod):
            encode_request_head(f"CUSTOM{i}\r\n", "/", [])


# ---------------------------------------------------------------------------------------------------------
# Response side: Content-Length

CL_RESPONSE = response("HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 11", b"hello world")


def test_content_length_body_whole() -> None:
    parser, body = parse(CL_RESPONSE)
    assert parser.head is not None
    assert (parser.head.status_code, parser.head.reason, parser.head.http_version) == (200, "OK", "HTTP/1.1")
    assert parser.head.headers == [("Content-Type", "text/plain"), ("Content-Length", "11")]
    assert body == b"hello world"
    assert parser.complete
    assert parser.reusable
    assert not parser.leftover
    assert parser.body_remaining == 0


def test_content_length_body_split_everywhere() -> None:
    for pieces in segmentations(CL_RESPONSE):
        parser, body = feed(pieces)
        assert body == b"hello world", pieces
        assert parser.complete
        assert parser.reusable
        assert not parser.leftover


def test_content_length_body_arrives_incrementally() -> None:
    parser = ResponseParser()
    parser.feed(CL_RESPONSE[:-11])
    assert parser.head is not None
    assert not parser.complete
    assert parser.body_remaining == 11
    assert not parser.has_body_data()
    assert parser.take_body() == b""
    parser.feed(b"hello")
    assert parser.has_body_data()
    assert parser.body_remaining == 6
    assert parser.take_body() == b"hello"
    assert parser.take_body() == b""
    assert not parser.complete
    parser.feed(b" wor")
    parser.feed(b"ld")
    assert parser.take_body() == b" world"
    assert parser.complete
    assert parser.body_remaining == 0
    assert parser.reusable


def test_content_length_zero_completes_at_the_head() -> None:
    parser, body = parse(response("HTTP/1.1 200 OK\nContent-Length: 0"))
    assert parser.complete
    assert body == b""
    assert parser.reusable


def test_content_length_with_leading_zeros() -> None:
    parser, body = parse(response("HTTP/1.1 200 OK\nContent-Length: 003", b"abc"))
    assert body == b"abc"
    assert parser.complete


def test_bytes_beyond_content_length_are_leftover_and_not_body() -> None:
    data = CL_RESPONSE + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    for pieces in segmentations(data):
        parser, body = feed(pieces)
        assert body == b"hello world"
        assert parser.complete
        assert parser.leftover
        assert not parser.reusable


def test_a_single_stray_byte_after_the_response_prevents_reuse() -> None:
    parser, _ = feed([CL_RESPONSE, b"X"])
    assert parser.leftover
    assert not parser.reusable


@pytest.mark.parametrize("stray", [b"\n", b"\r\n", b"\r\n\r\n"])
def test_empty_lines_after_the_response_are_tolerated(stray: bytes) -> None:
    # RFC 9112 section 2.2: empty lines before a message are ignored; llhttp swallows them when they arrive
    # together with a chunked end, so tolerating them everywhere keeps one outcome for any segmentation.
    parser, _ = feed([CL_RESPONSE, stray])
    assert not parser.leftover
    assert parser.reusable


def test_extra_bytes_after_a_complete_response_do_not_reset_it() -> None:
    parser, body = feed([CL_RESPONSE, b"HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nbad"])
    assert parser.head is not None
    assert parser.head.status_code == 200
    assert body == b"hello world"
    assert parser.take_body() == b""


# Response side: chunked

CHUNKED_RESPONSE = response(
    "HTTP/1.1 200 OK\nTransfer-Encoding: chunked",
    b'5;name=value;quoted="a b; c"\r\nhello\r\n'
    b"1\r\n \r\n"
    b"A;last\r\n0123456789\r\n"
    b"0;end=1\r\nExpires: never\r\nX-Trailer: t\r\n\r\n",
)


def test_chunked_body_with_extensions_and_trailers() -> None:
    parser, body = parse(CHUNKED_RESPONSE)
    assert body == b"hello 0123456789"
    assert parser.complete
    assert parser.reusable
    assert not parser.leftover
    assert parser.body_remaining is None
    assert parser.head is not None
    assert parser.head.headers == [("Transfer-Encoding", "chunked")]  # trailers are not headers
    assert parser.trailers == [("Expires", "never"), ("X-Trailer", "t")]


def test_chunked_body_split_everywhere() -> None:
    for pieces in segmentations(CHUNKED_RESPONSE):
        parser, body = feed(pieces)
        assert body == b"hello 0123456789", pieces
        assert parser.complete
        assert parser.reusable
        assert not parser.leftover
        assert parser.trailers == [("Expires", "never"), ("X-Trailer", "t")], pieces


def test_trailers_are_known_only_at_the_end_and_only_for_chunked_bodies() -> None:
    end = CHUNKED_RESPONSE.index(b"\r\n\r\n", CHUNKED_RESPONSE.index(b"0;end=1"))
    parser, _ = feed([CHUNKED_RESPONSE[:end]])
    assert parser.trailers is None  # the trailer section has not ended
    parser.feed(CHUNKED_RESPONSE[end:])
    assert parser.trailers == [("Expires", "never"), ("X-Trailer", "t")]
    # values lose the whitespace around them; a name may repeat
    parser, _ = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA:  x y \r\nA: z\r\n\r\n")
    assert parser.trailers == [("A", "x y"), ("A", "z")]
    parser, _ = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert parser.trailers == []
    parser, _ = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert parser.complete
    assert parser.trailers is None


def test_chunked_body_is_not_complete_before_the_last_chunk() -> None:
    end = CHUNKED_RESPONSE.index(b"0;end=1")
    parser, body = feed([CHUNKED_RESPONSE[:end]])
    assert body == b"hello 0123456789"
    assert not parser.complete
    parser.feed(CHUNKED_RESPONSE[end:-1])
    assert not parser.complete  # the last CRLF of the trailer section is missing
    parser.feed(CHUNKED_RESPONSE[-1:])
    assert parser.complete


def test_chunked_with_uppercase_coding_name_and_large_chunk() -> None:
    payload = bytes(range(256)) * 40
    data = response("HTTP/1.1 200 OK\nTransfer-Encoding: Chunked", chunk_header(len(payload)) + payload)
    data += b"\r\n" + LAST_CHUNK
    parser, body = parse(data)
    assert body == payload
    assert parser.complete


def test_bytes_after_the_last_chunk_are_leftover() -> None:
    data = CHUNKED_RESPONSE + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    for pieces in segmentations(data):
        parser, body = feed(pieces)
        assert body == b"hello 0123456789"
        assert parser.complete
        assert parser.leftover
        assert not parser.reusable


def test_crlf_after_the_last_chunk_gives_one_outcome() -> None:
    data = response("HTTP/1.1 200 OK\nTransfer-Encoding: chunked", b"0\r\n\r\n\r\n")
    outcomes = {repr(outcome(pieces)) for pieces in segmentations(data)}
    assert len(outcomes) == 1, outcomes


@pytest.mark.parametrize(
    "head",
    [
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nConnection: close",
        "HTTP/1.0 200 OK\nTransfer-Encoding: chunked",
    ],
)
def test_bytes_after_a_chunked_body_on_a_closing_connection(head: str) -> None:
    data = response(head, b"1\r\na\r\n0\r\n\r\nX")
    parser, body = parse(data)  # the response itself is complete and valid
    assert body == b"a"
    assert parser.complete
    assert parser.leftover
    assert not parser.reusable


# Response side: close-delimited, keep-alive


def test_close_delimited_body_completes_at_eof_and_is_never_reusable() -> None:
    data = response("HTTP/1.1 200 OK\nConnection: keep-alive", b"all of this")
    for pieces in segmentations(data):
        parser, body = feed(pieces)
        assert not parser.complete  # no framing: the body may go on
        assert body == b"all of this"
        parser.feed_eof()
        assert parser.complete
        assert not parser.reusable
        assert parser.body_remaining is None


def test_close_delimited_empty_body() -> None:
    parser, body = feed([response("HTTP/1.1 200 OK")], eof=True)
    assert body == b""
    assert parser.complete
    assert not parser.reusable


def test_feed_eof_after_completion_changes_nothing() -> None:
    parser, _ = parse(CL_RESPONSE)
    parser.feed_eof()
    assert parser.complete
    assert parser.reusable  # the close came after a complete response; the pool decides what to do next


@pytest.mark.parametrize(
    ("head", "reusable"),
    [
        ("HTTP/1.1 200 OK\nContent-Length: 1", True),
        ("HTTP/1.1 200 OK\nConnection: keep-alive\nContent-Length: 1", True),
        ("HTTP/1.1 200 OK\nConnection: close\nContent-Length: 1", False),
        ("HTTP/1.1 200 OK\nConnection: Close\nContent-Length: 1", False),
        ("HTTP/1.1 200 OK\nConnection: keep-alive, close\nContent-Length: 1", False),
        ("HTTP/1.1 200 OK\nConnection: upgrade\nConnection: close\nContent-Length: 1", False),
        ("HTTP/1.0 200 OK\nContent-Length: 1", False),
        ("HTTP/1.0 200 OK\nConnection: keep-alive\nContent-Length: 1", True),
        ("HTTP/1.0 200 OK\nConnection: Keep-Alive\nContent-Length: 1", True),
        ("HTTP/1.0 200 OK\nConnection: keep-alive\nConnection: close\nContent-Length: 1", False),
        ("HTTP/1.0 200 OK\nConnection: keep-alive", False),  # close-delimited wins
        ("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nConnection: close", False),
    ],
)
def test_keep_alive_rules(head: str, reusable: bool) -> None:
    body = b"1\r\nx\r\n0\r\n\r\n" if "chunked" in head else b"x"
    parser, received = feed([response(head, body)], eof="Length" not in head and "chunked" not in head)
    assert received == b"x"
    assert parser.complete
    assert parser.reusable is reusable


# Response side: responses without a body


@pytest.mark.parametrize(
    "head",
    [
        "HTTP/1.1 200 OK\nContent-Length: 1000",
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked",
        "HTTP/1.1 200 OK",
        "HTTP/1.1 404 Not Found\nContent-Length: 50",
    ],
)
def test_head_response_has_no_body_and_is_reusable(head: str) -> None:
    data = response(head)
    for pieces in segmentations(data):
        parser, body = feed(pieces, method="HEAD")
        assert parser.complete
        assert body == b""
        assert parser.reusable
        assert not parser.leftover


def test_bytes_after_a_head_response_are_leftover() -> None:
    parser, body = feed([response("HTTP/1.1 200 OK\nContent-Length: 5", b"hello")], method="HEAD")
    assert body == b""
    assert parser.complete
    assert parser.leftover
    assert not parser.reusable


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_have_no_body_despite_content_length(status: int) -> None:
    data = response(f"HTTP/1.1 {status} X\nContent-Length: 5")
    for pieces in segmentations(data):
        parser, body = feed(pieces)
        assert parser.complete  # not waiting for 5 bytes that will never come
        assert body == b""
        assert parser.reusable


@pytest.mark.parametrize("status", [204, 304])
def test_body_bytes_after_204_and_304_are_leftover_never_the_next_response(status: int) -> None:
    smuggled = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!"
    data = response(f"HTTP/1.1 {status} X\nContent-Length: {len(smuggled)}", smuggled)
    for pieces in segmentations(data):
        parser, body = feed(pieces)
        assert parser.head is not None
        assert parser.head.status_code == status
        assert body == b""
        assert parser.complete
        assert parser.leftover
        assert not parser.reusable


@pytest.mark.parametrize("status", [200, 201, 299])
@pytest.mark.parametrize("framing", ["", "\nContent-Length: 5", "\nTransfer-Encoding: chunked"])
def test_2xx_answer_to_connect_has_no_body(status: int, framing: str) -> None:
    # The tunnel starts right after the head: framing headers are ignored, tunnel bytes never read as body.
    data = response(f"HTTP/1.1 {status} Connection established{framing}")
    for pieces in segmentations(data):
        parser, body = feed(pieces, method="CONNECT")
        assert parser.complete
        assert body == b""
        assert not parser.leftover
    parser, body = feed([data, b"\x16\x03\x03tunnel bytes"], method="CONNECT")
    assert body == b""
    assert parser.leftover


def test_refusal_of_connect_has_a_body() -> None:
    data = response("HTTP/1.1 407 Proxy Authentication Required\nContent-Length: 6", b"denied")
    parser, body = feed([data], method="CONNECT")
    assert parser.complete
    assert body == b"denied"


def test_received_any() -> None:
    parser = ResponseParser()
    assert not parser.received_any
    parser.feed(b"\r\n")  # tolerated empty lines are not a response yet
    assert not parser.received_any
    parser.feed(b"HTTP/1.1 1")
    assert parser.received_any
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert parser.received_any


# Response side: interim responses


def test_100_continue_then_final_response() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\n" + CL_RESPONSE
    for pieces in segmentations(data):
        parser, body = feed(pieces)
        assert parser.head is not None
        assert parser.head.status_code == 200
        assert body == b"hello world"
        assert [h.status_code for h in parser.informational] == [100]
        assert parser.reusable


def test_several_103_early_hints_are_recorded() -> None:
    data = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n"
        b"HTTP/1.1 102 Processing\r\n\r\n" + CL_RESPONSE
    )
    for pieces in [[data], bytewise(data)]:
        parser, body = feed(pieces)
        assert [(h.status_code, h.reason, h.headers) for h in parser.informational] == [
            (103, "Early Hints", [("Link", "</a.css>; rel=preload")]),
            (103, "Early Hints", [("Link", "</b.js>; rel=preload")]),
            (102, "Processing", []),
        ]
        assert parser.head is not None
        assert parser.head.status_code == 200
        assert parser.head.headers == [("Content-Type", "text/plain"), ("Content-Length", "11")]
        assert body == b"hello world"


def test_interim_response_alone_is_not_a_response() -> None:
    parser, _ = parse(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert parser.head is None
    assert not parser.complete
    with pytest.raises(RemoteProtocolError, match="without sending a response"):
        parser.feed_eof()


def test_101_without_an_upgrade_request_is_rejected() -> None:
    with pytest.raises(RemoteProtocolError):
        parse(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")


def test_101_with_upgrade_headers_is_rejected() -> None:
    with pytest.raises(RemoteProtocolError):
        parse(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")


# Response side: framing errors


@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: 3\nContent-Length: 4",
        "Content-Length: 3\nContent-Length: 3",
        "Content-Length: 3\ncontent-length: 3",
        "Content-Length: 3\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\nContent-Length: 3",
        "Transfer-Encoding: gzip",
        "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: chunked, gzip",
        "Transfer-Encoding: chunked, chunked",
        "Transfer-Encoding: chunked\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked,",
        "Transfer-Encoding: identity",
        "Transfer-Encoding: chunked;q=1",
        "Transfer-Encoding: ",
        "Content-Length: +3",
        "Content-Length: -1",
        "Content-Length: 0x10",
        "Content-Length: 3, 3",
        "Content-Length: 3 3",
        "Content-Length: 3.0",
        "Content-Length: 1e3",
        "Content-Length: abc",
        "Content-Length: ",
        "Content-Length: 99999999999999999999999",
    ],
)
def test_bad_framing_headers_are_rejected(framing: str) -> None:
    data = response(f"HTTP/1.1 200 OK\n{framing}", b"3\r\nabc\r\n0\r\n\r\n")
    for pieces in ([data], bytewise(data)):
        with pytest.raises(RemoteProtocolError):
            feed(pieces, eof=True)


@pytest.mark.parametrize(
    "status_line",
    [
        b"HTTP/1.1 2000 OK",
        b"HTTP/1.1 20 OK",
        b"HTTP/1.1 099 Too Low",
        b"HTTP/1.1 000 Zero",
        b"HTTP/1.1 abc OK",
        b"HTTP/1.1 -20 OK",
        b"HTTP/1.1 2\x0000 OK",
        b"HTTP/1.1200 OK",
        b"HTTP/1.1  200 OK",
        b"HTTP/1.1\t200 OK",
        b"HTTP/1.1 200OK",
        b"HTTP/1.1",
        b"HTTP/1.1 ",
        b"HTTP/x.y 200 OK",
        b"HTTP/ 200 OK",
        b"HTTP/11 200 OK",
        b"HTTP/1.12 200 OK",
        b"HTTP/1.2 200 OK",
        b"HTTP/3.0 200 OK",
        b"HTTPS/1.1 200 OK",
        b"http/1.1 200 OK",
        b"ICY 200 OK",
        b"HTTP/1.1 200 OK\n",
        b"HTTP/1.1 200 OK\r",
    ],
)
def test_bad_status_line_is_rejected(status_line: bytes) -> None:
    data = status_line + b"\r\nContent-Length: 0\r\n\r\n"
    for pieces in ([data], bytewise(data)):
        with pytest.raises(RemoteProtocolError):
            feed(pieces)


def test_status_code_bounds() -> None:
    parser, _ = parse(response("HTTP/1.1 999 Max\nContent-Length: 0"))
    assert parser.head is not None
    assert parser.head.status_code == 999
    with pytest.raises(RemoteProtocolError, match="status code"):
        parse(response("HTTP/1.1 099 Min\nContent-Length: 0"))


def test_status_line_without_reason() -> None:
    for line in ("HTTP/1.1 200", "HTTP/1.1 200 "):
        parser, _ = parse(response(f"{line}\nContent-Length: 0"))
        assert parser.head is not None
        assert (parser.head.status_code, parser.head.reason) == (200, "")


@pytest.mark.parametrize("line", ["HTTP/1.0 200  OK", "HTTP/1.0 200 OK ", "HTTP/1.0 200  CUSTOM \t"])
def test_the_reason_phrase_is_read_without_surrounding_whitespace(line: str) -> None:
    """As http.client reads it, so as requests' ``Response.reason`` is (httpie prints the status line)."""
    parser, _ = parse(response(f"{line}\nContent-Length: 0"))
    assert parser.head is not None
    assert parser.head.reason == line.split(None, 2)[2].strip()


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f"])
def test_control_characters_in_the_reason_phrase_are_rejected(char: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse(response(f"HTTP/1.1 200 O{char}K\nContent-Length: 0"))


TLS_SERVER_HELLO = bytes.fromhex("160303005a020000560303") + bytes(range(32)) + b"\x00\x13\x01\x00"
TLS_ALERT = bytes.fromhex("15030100020246")


@pytest.mark.parametrize("record", [TLS_SERVER_HELLO, TLS_ALERT])
def test_tls_bytes_on_a_plain_connection_get_a_clear_error(record: bytes) -> None:
    for first in (record, record[:1], record[:5]):
        parser = ResponseParser()
        with pytest.raises(RemoteProtocolError, match="TLS") as info:
            parser.feed(first)  # fails on the first bytes: no waiting for a CRLFCRLF that never comes
        assert "https" in str(info.value)


@pytest.mark.parametrize(
    "garbage",
    [
        b"<html><body>Hello</body></html>",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"\x00" * 16,
        b" HTTP/1.1 200 OK",
        b"\xff",
    ],
)
def test_garbage_is_rejected_at_once(garbage: bytes) -> None:
    parser = ResponseParser()
    with pytest.raises(RemoteProtocolError, match="HTTP/"):
        parser.feed(garbage)


def test_leading_empty_lines_before_the_status_line_are_tolerated() -> None:
    data = b"\r\n\n\r\n" + CL_RESPONSE
    for pieces in segmentations(data):
        parser, body = feed(pieces)
        assert parser.head is not None
        assert parser.head.status_code == 200
        assert body == b"hello world"
        assert parser.reusable


def test_only_empty_lines_then_close_is_no_response() -> None:
    parser, _ = parse(b"\r\n\r\n\n")
    with pytest.raises(RemoteProtocolError, match="without sending a response"):
        parser.feed_eof()


# Response side: chunked errors


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",
        b"-3\r\nabc\r\n0\r\n\r\n",
        b"+3\r\nabc\r\n0\r\n\r\n",
        b"0x3\r\nabc\r\n0\r\n\r\n",
        b"3 \r\nabc\r\n0\r\n\r\n",
        b" 3\r\nabc\r\n0\r\n\r\n",
        b"\r\nabc\r\n0\r\n\r\n",
        b"11111111111111111111\r\nabc",  # 20 hex digits: more than 64 bits
        b"3\r\nabcX\r\n0\r\n\r\n",  # missing CRLF after the chunk data
        b"3\r\nabcd\r\n0\r\n\r\n",
        b"3\r\nabc\n0\r\n\r\n",  # bare LF after the chunk data
        b"3\r\nabc\r0\r\n\r\n",
        b"3\nabc\r\n0\r\n\r\n",  # bare LF after the size
        b"3;a=\nb\r\nabc\r\n0\r\n\r\n",  # LF inside the extensions
        b"3;a\nb=c\r\nabc\r\n0\r\n\r\n",
        b"3;a=b c\r\nabc\r\n0\r\n\r\n",
        b'3;a="b\rc"\r\nabc\r\n0\r\n\r\n',
        b"3;a\x00\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabc\r\n0\r\nT\x00: v\r\n\r\n",
        b"3\r\nabc\r\n0\r\nT: v\x01\r\n\r\n",
        b"3\r\nabc\r\n0\r\nT: v\n\r\n",
        b"3\r\nabc\r\n0\r\n\n",
        b"3\r\nabc\r\n0\r\n\r\r",
    ],
)
def test_bad_chunked_body_is_rejected(chunks: bytes) -> None:
    data = response("HTTP/1.1 200 OK\nTransfer-Encoding: chunked", chunks)
    for pieces in ([data], bytewise(data)):
        with pytest.raises(ChunkedEncodingError) as info:
            feed(pieces)  # while feeding: not at EOF, not a hang
        assert not isinstance(info.value, IncompleteBody)


def test_overlong_chunk_size_fails_before_its_line_ends() -> None:
    parser = ResponseParser()
    parser.feed(response("HTTP/1.1 200 OK\nTransfer-Encoding: chunked"))
    with pytest.raises(ChunkedEncodingError):
        feed_each(parser, [b"f"] * 20)


def test_chunk_size_with_many_leading_zeros_is_fine() -> None:
    data = response("HTTP/1.1 200 OK\nTransfer-Encoding: chunked", b"0" * 40 + b"3\r\nabc\r\n0\r\n\r\n")
    _, body = parse(data)
    assert body == b"abc"


# Response side: truncation


@pytest.mark.parametrize("cut", [1, 5, 10, 11])
def test_eof_inside_a_content_length_body(cut: int) -> None:
    parser, body = parse(CL_RESPONSE[:-cut])
    assert body == b"hello world"[:-cut]
    with pytest.raises(IncompleteBody, match=f"with {cut} bytes"):
        parser.feed_eof()


@pytest.mark.parametrize(
    "end",
    [
        b"",
        b"5",
        b"5;x=1\r\n",
        b"5\r\nhel",
        b"5\r\nhello",
        b"5\r\nhello\r",
        b"5\r\nhello\r\n0\r\n",
        b"0\r\nT: v\r\n",
    ],
)
def test_eof_inside_a_chunked_body(end: bytes) -> None:
    parser, _ = parse(response("HTTP/1.1 200 OK\nTransfer-Encoding: chunked", end))
    assert not parser.complete
    with pytest.raises(IncompleteBody):
        parser.feed_eof()


def test_eof_before_any_byte() -> None:
    parser = ResponseParser()
    with pytest.raises(RemoteProtocolError, match="without sending a response") as info:
        parser.feed_eof()
    assert not isinstance(info.value, ResponseHeadersTooLarge)


@pytest.mark.parametrize("cut", [1, 5, 20, len(CL_RESPONSE) - 11 - 1])
def test_eof_inside_the_head(cut: int) -> None:
    parser, _ = parse(CL_RESPONSE[:cut])
    with pytest.raises(RemoteProtocolError, match="middle of the response head"):
        parser.feed_eof()


# Response side: header syntax


@pytest.mark.parametrize(
    "char", [b"\x00", b"\x01", b"\x07", b"\x08", b"\x0b", b"\x0c", b"\x1b", b"\x1f", b"\x7f", b"\r"]
)
def test_control_bytes_in_header_values_and_names_are_rejected(char: bytes) -> None:
    for line in (b"X-Test: a" + char + b"b", b"X-Test: " + char, b"X" + char + b"Y: v"):
        with pytest.raises(RemoteProtocolError):
            parse(b"HTTP/1.1 200 OK\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    "lines",
    [
        b"X: a\r\n b",  # obs-fold
        b"X: a\r\n\tb",
        b" X: a",  # first header line starts with a space
        b"\tX: a",
        b"X : a",  # space before the colon
        b": a",  # empty name
        b"X-No-Colon",
        b"X: a\nY: b",  # bare LF between header lines
        b"X\x80: a",
    ],
)
def test_malformed_header_lines_are_rejected(lines: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse(b"HTTP/1.1 200 OK\r\n" + lines + b"\r\nContent-Length: 0\r\n\r\n")


def test_tab_and_obs_text_are_allowed_in_values() -> None:
    parser, _ = parse(b"HTTP/1.1 200 OK\r\nX: a\tb\r\nY: caf\xe9 \x85\r\nContent-Length: 0\r\n\r\n")
    assert parser.head is not None
    assert parser.head.headers[:2] == [("X", "a\tb"), ("Y", "caf\xe9 \x85")]


def test_empty_header_value() -> None:
    parser, _ = parse(b"HTTP/1.1 200 OK\r\nX-Empty:\r\nY:   \r\nContent-Length: 0\r\n\r\n")
    assert parser.head is not None
    assert parser.head.headers[0] == ("X-Empty", "")


def test_leading_whitespace_is_not_part_of_the_value() -> None:
    parser, _ = parse(b"HTTP/1.1 200 OK\r\nX:  \t a b\r\nContent-Length: 0\r\n\r\n")
    assert parser.head is not None
    assert parser.head.headers[0] == ("X", "a b")


def test_trailing_whitespace_is_not_part_of_the_value() -> None:
    parser, _ = parse(b"HTTP/1.1 200 OK\r\nX: a b \t \r\nContent-Length: 3 \r\n\r\nabc")
    assert parser.head is not None
    assert parser.head.headers == [("X", "a b"), ("Content-Length", "3")]


def test_header_order_case_and_duplicates_are_kept() -> None:
    data = response(
        "HTTP/1.1 200 OK\nSet-Cookie: a=1; Path=/\nVary: Accept\nset-cookie: b=2\nSet-Cookie: a=3\n"
        "Vary: Origin\nContent-Length: 0"
    )
    for pieces in segmentations(data):
        parser, _ = feed(pieces)
        assert parser.head is not None
        assert parser.head.headers == [
            ("Set-Cookie", "a=1; Path=/"),
            ("Vary", "Accept"),
            ("set-cookie", "b=2"),
            ("Set-Cookie", "a=3"),
            ("Vary", "Origin"),
            ("Content-Length", "0"),
        ]


# Response side: limits (each with non-default values, to show they are configurable)


def test_header_line_limit() -> None:
    ok = b"X: " + b"v" * 80
    parser, _ = parse(b"HTTP/1.1 200 OK\r\n" + ok + b"\r\nContent-Length: 0\r\n\r\n", limits=SMALL)
    assert parser.complete
    long = b"X: " + b"v" * 120
    data = b"HTTP/1.1 200 OK\r\n" + long + b"\r\nContent-Length: 0\r\n\r\n"
    with pytest.raises(ResponseHeadersTooLarge, match="max_header_line"):
        parse(data, limits=SMALL)
    parser, _ = parse(data)  # well within the default limit
    assert parser.complete


def test_status_line_limit_whole_and_before_its_end() -> None:
    line = b"HTTP/1.1 200 " + b"R" * 120
    with pytest.raises(ResponseHeadersTooLarge, match="max_header_line"):
        parse(line + b"\r\nContent-Length: 0\r\n\r\n", limits=SMALL)
    parser = ResponseParser(limits=SMALL)
    with pytest.raises(ResponseHeadersTooLarge):
        feed_each(parser, bytewise(line))  # the line never ends: must fail once it passes the limit


def test_status_line_at_the_limit_gives_one_outcome() -> None:
    line = b"HTTP/1.1 200 " + b"R" * (SMALL.max_header_line - 13)
    data = line + b"\r\nContent-Length: 0\r\n\r\n"
    outcomes = {repr(outcome(pieces, limits=SMALL)) for pieces in segmentations(data)}
    assert len(outcomes) == 1, outcomes


def test_header_count_limit() -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 7 + b"Content-Length: 0\r\n\r\n"
    parser, _ = parse(head, limits=SMALL)  # exactly max_header_count fields
    assert parser.complete
    with pytest.raises(ResponseHeadersTooLarge, match="max_header_count"):
        parse(b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" + head[17:], limits=SMALL)
    parser, _ = parse(b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 90 + b"Content-Length: 0\r\n\r\n")
    assert parser.complete  # within the default


def test_head_size_limit() -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"X: " + b"v" * 90 + b"\r\n"
    with pytest.raises(ResponseHeadersTooLarge, match="max_head_size"):
        parse(head * 1 + (b"Y: " + b"v" * 90 + b"\r\n") * 4 + b"\r\n", limits=SMALL)


def test_head_that_never_ends_fails_once_past_the_limit() -> None:
    parser = ResponseParser(limits=SMALL)
    parser.feed(b"HTTP/1.1 200 OK\r\n")
    fed = 0

    def endless() -> Iterator[bytes]:
        nonlocal fed
        for _ in range(20_000):
            fed += 6
            yield b"X: y\r\n"

    with pytest.raises(ResponseHeadersTooLarge, match="max_head_size"):
        feed_each(parser, endless())
    assert fed <= SMALL.max_head_size + 6  # failed as soon as the limit was passed, not at the end


def test_head_without_any_line_end_fails_once_past_the_limit() -> None:
    limits = Limits(max_header_line=10_000, max_head_size=300)
    parser = ResponseParser(limits=limits)
    with pytest.raises(ResponseHeadersTooLarge):
        feed_each(parser, [b"HTTP/1.1 2", b"00 OKOKOKOKOK"] * 1000)


def test_trailer_limits() -> None:
    start = response("HTTP/1.1 200 OK\nTransfer-Encoding: chunked", b"3\r\nabc\r\n0\r\n")
    with pytest.raises(ResponseHeadersTooLarge):
        parse(start + b"T: " + b"v" * 200 + b"\r\n\r\n", limits=SMALL)  # one long line
    with pytest.raises(ResponseHeadersTooLarge):
        parse(start + b"T: v\r\n" * 20 + b"\r\n", limits=SMALL)  # too many
    with pytest.raises(ResponseHeadersTooLarge):
        parse(start + (b"T: " + b"v" * 80 + b"\r\n") * 6 + b"\r\n", limits=SMALL)  # too large in total
    parser, body = parse(start + b"T: v\r\n" * 3 + b"\r\n", limits=SMALL)
    assert body == b"abc"
    assert parser.complete


def test_trailer_line_that_never_ends_fails_once_past_the_limit() -> None:
    # Bounded as framing without body data (2 x max_head_size), the same rule that stops endless chunk
    # extensions, so httptools never buffers more than that.
    parser = ResponseParser(limits=SMALL)
    parser.feed(response("HTTP/1.1 200 OK\nTransfer-Encoding: chunked", b"0\r\nX-Trailer: "))
    with pytest.raises(ChunkedEncodingError, match="without body data"):
        feed_each(parser, [b"v" * 1000] * 200)  # 200 kB, 500 times max_head_size


# ---------------------------------------------------------------------------------------------------------
# Consistency of error reports


def test_garbage_message_does_not_depend_on_segmentation() -> None:
    data = b"<html><body>Hello</body></html>"
    assert outcome([data]) == outcome(bytewise(data))


# -- round 2 of the hostile catalogue (issue 18) -------------------------------------------------------------


def test_empty_lines_before_the_status_line_count_against_the_head_limit() -> None:
    blank = b"\r\n" * (SMALL.max_head_size // 2) + b"\n"  # one byte over the limit
    for pieces in segmentations(blank + CL_RESPONSE):
        with pytest.raises(ResponseHeadersTooLarge, match="empty lines"):
            feed(pieces, limits=SMALL)
    parser, body = parse(b"\r\n" * (SMALL.max_head_size // 2) + CL_RESPONSE, limits=SMALL)
    assert body == b"hello world"
    assert parser.reusable


def test_empty_lines_count_across_interim_responses() -> None:
    """The budget is for the whole response: empty lines before each 1xx head add up."""
    interim = b"\r\n" * 50 + b"HTTP/1.1 100 Continue\r\n\r\n"
    with pytest.raises(ResponseHeadersTooLarge, match="empty lines"):
        parse(interim * 5 + CL_RESPONSE, limits=SMALL)
    parser, _ = parse(interim * 3 + CL_RESPONSE, limits=SMALL)
    assert parser.complete


@pytest.mark.parametrize("keep_alive", [b"", b"Connection: keep-alive\r\n"])
def test_http10_with_transfer_encoding_closes_the_connection(keep_alive: bytes) -> None:
    data = b"HTTP/1.0 200 OK\r\n" + keep_alive + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    parser, body = parse(data)
    assert body == b"hello"
    assert parser.complete
    assert not parser.reusable
    parser, _ = parse(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")
    assert parser.reusable  # Content-Length framing keeps an HTTP/1.0 keep-alive connection


@pytest.mark.parametrize(
    "coding",
    [
        b"chunked\xa0",
        b"\xa0chunked",
        b"chunked\x85",
        b"\x85chunked",
        b"chunked\x0b",
        b"chunked\x0c",
        b"chunked\t",
        b"chunked \t",
    ],
    ids=[
        "nbsp-after",
        "nbsp-before",
        "nel-after",
        "nel-before",
        "vt-after",
        "ff-after",
        "tab-after",
        "sp-tab-after",
    ],
)
def test_transfer_encoding_only_sp_and_htab_are_whitespace(coding: bytes) -> None:
    """Only SP and HTAB surround a token; and a trailing HTAB is refused too, because llhttp does not take
    "chunked<HTAB>" as chunked (nodejs/llhttp#876): a proxy built on it would frame the body otherwise."""
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    with pytest.raises(RemoteProtocolError):
        parse(data)
    _, body = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \t chunked  \r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert body == b"hello"
