"""Property tests for the HTTP/1.1 codec (h11's invariant and round trips).

Response side: for any input, feeding it whole, byte by byte, or cut at arbitrary points gives one outcome:
the same documented exception (type and message) at the same phase, or the same status, headers, body and
connection state. Any other exception is a failure. Valid generated responses parse to exactly what was
generated. Request side: whatever the method, target and headers, ``encode_request_head`` raises a
documented exception or returns bytes in which CR and LF only end lines and NUL never appears.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk._protocol.http11 import ResponseParser, encode_request_head
from brisk.exceptions import (
    ChunkedEncodingError,
    InvalidHeader,
    InvalidMethod,
    InvalidURL,
    RemoteProtocolError,
)

FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What the parser may raise: RemoteProtocolError (and ResponseHeadersTooLarge), ChunkedEncodingError (and
# IncompleteBody). Anything else escapes the try blocks below and fails the test.
DOCUMENTED = (RemoteProtocolError, ChunkedEncodingError)

# Small enough for mutated inputs to cross them now and then.
SMALL = Limits(max_header_line=120, max_header_count=12, max_head_size=600)

TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
FRAMING_NAMES = {"content-length", "transfer-encoding", "connection", "upgrade"}


# ---------------------------------------------------------------------------------------------------------
# Observing the parser


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = [0, *sorted(set(points)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def observe(pieces: list[bytes], method: str, limits: Limits) -> tuple[object, ...]:
    """Everything a caller can see after feeding ``pieces`` and then the end of the stream."""
    parser = ResponseParser(method, limits)
    body = bytearray()
    phase = "feed"
    try:
        for piece in pieces:
            parser.feed(piece)
            body += parser.take_body()
        before_eof = (parser.complete, parser.reusable, parser.leftover)
        phase = "eof"
        parser.feed_eof()
        body += parser.take_body()
    except DOCUMENTED as exc:
        return ("error", phase, type(exc).__name__, str(exc))
    head = parser.head
    assert head is not None
    assert parser.complete
    informational = [(h.status_code, h.reason, h.http_version, h.headers) for h in parser.informational]
    return (
        "response",
        (head.status_code, head.reason, head.http_version, head.headers),
        informational,
        bytes(body),
        before_eof,
        (parser.reusable, parser.leftover),
    )


def check_invariant(data: bytes, points: list[int], method: str, limits: Limits) -> None:
    whole = observe([data], method, limits)
    for pieces in (bytewise(data), cut(data, points)):
        split = observe(pieces, method, limits)
        if split != whole:
            raise AssertionError(f"{data!r} cut as {pieces!r}:\n whole: {whole!r}\n split: {split!r}")


# ---------------------------------------------------------------------------------------------------------
# Generating valid responses


@dataclass
class Generated:
    data: bytes
    method: str
    status: int
    reason: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    encoded: bytes  # the body as framed on the wire
    informational: list[tuple[int, list[tuple[str, str]]]] = field(default_factory=list)
    complete_before_eof: bool = True
    reusable: bool = True


names = st.one_of(
    st.sampled_from(["Set-Cookie", "set-cookie", "Vary", "X-A", "Link", "Content-Type", "Location"]),
    st.text(TOKEN_CHARS, min_size=1, max_size=12),
).filter(lambda name: name.lower() not in FRAMING_NAMES)
# Visible ASCII, obs-text, inner spaces and tabs; no whitespace at the ends (see the xfail test on that).
value_chars = st.characters(codec="latin-1", exclude_categories=["Cc"]) | st.sampled_from(" \t")
values = st.text(value_chars, max_size=30).map(lambda v: v.strip(" \t"))
field_lists = st.lists(st.tuples(names, values), max_size=8)
reasons = st.text(st.sampled_from(TOKEN_CHARS + " "), max_size=20).map(str.strip)


def render_head(start: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [start, *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@st.composite
def chunked_encoding(draw: st.DrawFn, body: bytes) -> bytes:
    points = draw(st.lists(st.integers(1, max(1, len(body) - 1)), max_size=6)) if len(body) > 1 else []
    out = bytearray()
    for chunk in cut(body, points):
        if not chunk:
            continue
        size = f"{len(chunk):x}"
        if draw(st.booleans()):
            size = size.upper()
        extension = draw(st.sampled_from(["", ";a", ";a=b", ';q="x y;z"', ";a=1;b=2"]))
        out += f"{size}{extension}\r\n".encode() + chunk + b"\r\n"
    out += b"0" + draw(st.sampled_from([b"", b";end"])) + b"\r\n"
    for name, value in draw(st.lists(st.tuples(names, values), max_size=3)):
        out += f"{name}: {value}\r\n".encode("latin-1")
    return bytes(out + b"\r\n")


@st.composite
def valid_responses(draw: st.DrawFn) -> Generated:
    method = draw(st.sampled_from(["GET", "GET", "POST", "HEAD", "CONNECT"]))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0"]))
    status = draw(st.sampled_from([200, 200, 201, 206, 301, 404, 500, 599, 999, 204, 304]))
    reason = draw(reasons)
    headers = draw(field_lists)
    body = draw(st.binary(max_size=300))
    no_body = method == "HEAD" or status in (204, 304) or (method == "CONNECT" and status < 300)
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    connection = draw(st.sampled_from([None, "close", "keep-alive", "Keep-Alive"]))

    encoded = b""
    framing_header: tuple[str, str] | None = None
    if framing == "length":
        framing_header = ("Content-Length", str(len(body)))
        encoded = body
    elif framing == "chunked":
        framing_header = ("Transfer-Encoding", draw(st.sampled_from(["chunked", "Chunked"])))
        encoded = draw(chunked_encoding(body))
    else:
        encoded = body
    for extra in (framing_header, None if connection is None else ("Connection", connection)):
        if extra is not None:
            headers.insert(draw(st.integers(0, len(headers))), extra)

    interim = []
    data = b""
    for code in draw(st.lists(st.sampled_from([100, 102, 103]), max_size=2)):
        fields = draw(st.lists(st.tuples(names, values), max_size=2))
        interim.append((code, fields))
        data += render_head(f"HTTP/1.1 {code} Interim", fields)
    data += render_head(f"{version} {status} {reason}".rstrip(), headers)

    if version == "HTTP/1.1":
        keep_alive = connection != "close"
    else:
        # An HTTP/1.0 response with Transfer-Encoding is never reused, whatever Connection says (RFC 9112
        # section 6.1), with or without a body.
        keep_alive = connection is not None and connection.lower() == "keep-alive" and framing != "chunked"
    if no_body:
        body = encoded = b""
        close_delimited = False
    else:
        data += encoded
        close_delimited = framing == "close"
    return Generated(
        data=data,
        method=method,
        status=status,
        reason=reason,
        version=version,
        headers=headers,
        body=body,
        encoded=encoded,
        informational=interim,
        complete_before_eof=not close_delimited,
        reusable=keep_alive and not close_delimited,
    )


# ---------------------------------------------------------------------------------------------------------
# Inputs for the invariant

FRAGMENTS = [
    b"HTTP/1.1 ",
    b"HTTP/1.0 ",
    b"HTTP/1.1 200 OK",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 101 Switching\r\n",
    b"200",
    b"204 ",
    b"304 ",
    b"099 ",
    b"OK",
    b"\r\n",
    b"\r\n\r\n",
    b"\r",
    b"\n",
    b"Content-Length: ",
    b"Content-Length: 5\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b"Connection: close\r\n",
    b"Connection: keep-alive\r\n",
    b"Upgrade: websocket\r\nConnection: upgrade\r\n",
    b"X: y\r\n",
    b"0",
    b"3",
    b"5",
    b"a",
    b"f" * 17,
    b";ext=1",
    b"abc",
    b"hello",
    b":",
    b" ",
    b"\t",
    b"\x00",
    b"\x7f",
    b"\xff",
    b"\x16\x03\x01",
]
# What a server may send after the end of a response: line ends, a next response, junk.
TRAILING = [
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\n\r\n",
    b"X",
    b"0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
]
STARTS = [b"", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.0 200 OK\r\n", b"HTTP/1.1 100 Continue\r\n\r\n", b"\r\n"]
soup = st.builds(
    bytes.__add__, st.sampled_from(STARTS), st.lists(st.sampled_from(FRAGMENTS), max_size=25).map(b"".join)
)
arbitrary = st.one_of(st.binary(max_size=200), st.binary(max_size=200).map(lambda b: b"HTTP/1.1 " + b), soup)


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    """A valid response with a few bytes inserted, deleted or replaced, cut short, or followed by more."""
    generated = draw(valid_responses())
    data = bytearray(generated.data)
    body_start = len(data) - len(generated.encoded)
    for _ in range(draw(st.integers(1, 3))):
        # Half the edits in the head, half in the body; never at offset 0, which only tests "not HTTP".
        if draw(st.booleans()):
            position = draw(st.integers(min(1, len(data)), max(1, body_start)))
        else:
            position = draw(st.integers(min(body_start, len(data)), len(data)))
        operation = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "append", "append"]))
        if operation == "insert":
            data[position:position] = draw(st.sampled_from(FRAGMENTS) | st.binary(min_size=1, max_size=3))
        elif operation == "delete":
            del data[position : position + draw(st.integers(1, 6))]
        elif operation == "replace":
            data[position : position + 1] = draw(st.binary(min_size=1, max_size=1))
        elif operation == "truncate":
            del data[position:]
        else:
            data += draw(st.sampled_from(TRAILING) | st.binary(min_size=1, max_size=3))
    return bytes(data)


response_methods = st.sampled_from(["GET", "HEAD", "CONNECT"])


def split_points(data: bytes) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, len(data)), max_size=10)


# ---------------------------------------------------------------------------------------------------------
# Response side


@FUZZ
@given(st.data(), arbitrary, response_methods)
def test_arbitrary_bytes_one_outcome_however_split(data: st.DataObject, raw: bytes, method: str) -> None:
    check_invariant(raw, data.draw(split_points(raw)), method, DEFAULT_LIMITS)


@FUZZ
@given(st.data(), mutations(), response_methods, st.sampled_from([DEFAULT_LIMITS, SMALL]))
def test_mutated_responses_one_outcome_however_split(
    data: st.DataObject, raw: bytes, method: str, limits: Limits
) -> None:
    check_invariant(raw, data.draw(split_points(raw)), method, limits)


@ROUND_TRIP
@given(st.data(), valid_responses())
def test_valid_responses_parse_to_what_was_sent(data: st.DataObject, generated: Generated) -> None:
    raw = generated.data
    pieces = bytewise(raw) if data.draw(st.booleans()) else cut(raw, data.draw(split_points(raw)))
    parser = ResponseParser(generated.method)
    body = bytearray()
    for piece in pieces:
        parser.feed(piece)
        body += parser.take_body()
    head = parser.head
    assert head is not None
    assert (head.status_code, head.reason, head.http_version) == (
        generated.status,
        generated.reason,
        generated.version,
    )
    assert head.headers == generated.headers
    assert [(h.status_code, h.headers) for h in parser.informational] == generated.informational
    assert parser.complete is generated.complete_before_eof
    assert not parser.leftover
    parser.feed_eof()
    body += parser.take_body()
    assert bytes(body) == generated.body
    assert parser.complete
    assert parser.reusable is generated.reusable


# ---------------------------------------------------------------------------------------------------------
# Request side

TRICKY = [
    *"\r\n\x00\t \x0b\x0c\x1b\x7f:;/?#@%\"'()<>,=\\\x80\xe9\xff",
    "\r\n",
    "\u0130",
    "\u2028",
    "\u65e5",
    "GET",
]
tricky_text = st.lists(st.sampled_from(TRICKY) | st.sampled_from(list(TOKEN_CHARS)), max_size=12).map("".join)
methods = st.one_of(st.sampled_from(["GET", "POST", "HEAD"]), tricky_text, st.text(max_size=10))
targets = st.one_of(st.just("/"), tricky_text, st.text(value_chars, max_size=20), st.text(max_size=20))
header_values: st.SearchStrategy[str | bytes] = st.one_of(
    tricky_text, st.text(max_size=20), st.binary(max_size=20)
)
request_headers = st.lists(st.tuples(st.one_of(names, tricky_text), header_values), max_size=6)
CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


@FUZZ
@given(methods, targets, request_headers)
def test_request_head_is_safe_or_refused(
    method: str, target: str, headers: list[tuple[str, str | bytes]]
) -> None:
    try:
        head = encode_request_head(method, target, headers)
    except (InvalidMethod, InvalidURL, InvalidHeader):
        return
    lines = head.split(b"\r\n")
    assert head.endswith(b"\r\n\r\n")
    assert len(lines) == len(headers) + 3  # request line, one line per header, the empty line and ""
    assert head.count(b"\r") == head.count(b"\n") == head.count(b"\r\n") == len(headers) + 2
    assert b"\x00" not in head
    assert lines[0] == f"{method} {target} HTTP/1.1".encode("latin-1")
    for line, (name, _) in zip(lines[1:], headers, strict=False):
        assert line.startswith(name.encode("ascii") + b": ")
        assert not CONTROL.search(line)
        value = line[len(name) + 2 :]
        assert value == value.strip(b" \t")
