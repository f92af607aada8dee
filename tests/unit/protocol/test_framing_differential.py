"""brisk's HTTP/1.1 response framing against llhttp's, in ``make test``.

The comparison of the ``framing`` fuzz target (``fuzz/_framing_oracle.py``, which documents how each side is
read and which differences are allowed) on inputs hypothesis generates with a fixed seed, on the
disagreements found so far, and on the allowed differences, so that a change to
``_protocol/http11_response.py`` that frames a body differently from llhttp fails here before ``make fuzz``
runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.append(str(Path(__file__).resolve().parents[3] / "fuzz"))
from _framing_oracle import (
    Framed,
    FramingDisagreement,
    Refused,
    brisk_framing,
    check,
    compare,
    llhttp_framing,
)
from _fuzzutil import cut

ONE_READ = 2  # a cut seed that leaves the stream whole (no cut points)
DIFFERENTIAL = settings(
    max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# ---------------------------------------------------------------------------------------------------------
# Generated inputs


# The fuzz target's own layout (fuzz/_framing_oracle.build) from random bytes: byte 0 with bit 1 (raw) and
# bit 4 (inside an except block, an open finding below) clear. Most of these are refused by both readers.
@DIFFERENTIAL
@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=300))
def test_built_streams_frame_alike(control: int, seed: int, fields: bytes) -> None:
    check(bytes((control & ~0x02, seed)) + fields)


# Responses drawn field by field: mostly well formed, with the variations framing depends on (codings,
# whitespace around them, lengths off by one, interim responses, what follows the response). Two open
# findings below are left out until fixed: an HTAB after a coding, and brisk fed inside an except block.
LEADING_OWS = st.sampled_from([b"", b"", b" ", b"  ", b"\t", b" \t"])
TRAILING_OWS = st.sampled_from([b"", b"", b" ", b"  ", b"\t"])
CODINGS = st.sampled_from(
    [
        b"chunked",
        b"chunked",
        b"Chunked",
        b"CHUNKED",
        b"gzip, chunked",
        b"chunked, chunked",
        b"identity",
        b"gzip",
        b"chunked,",
        b",chunked",
        b"chunked;q=1",
        b"chunked\xa0",
        b"\x85chunked",
    ]
)
AFTER = st.sampled_from(
    [
        b"",
        b"\r\n",
        b"X",
        b"0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
        b"\r\n\r\nHTTP/1.1 204 N\r\n\r\n",
    ]
)


def field_line(name: bytes, value: bytes, leading: bytes, trailing: bytes) -> bytes:
    return name + b":" + leading + value + trailing + b"\r\n"


@st.composite
def chunked_body(draw: st.DrawFn, body: bytes) -> bytes:
    out = b""
    rest = body
    while rest:
        size = draw(st.integers(1, len(rest)))
        chunk, rest = rest[:size], rest[size:]
        digits = draw(st.sampled_from([b"%x", b"%X", b"00%x"])) % len(chunk)
        extension = draw(st.sampled_from([b"", b"", b";a", b";a=b", b';q="x;y"']))
        out += digits + extension + b"\r\n" + chunk + draw(st.sampled_from([b"\r\n"] * 6 + [b"", b"\n"]))
    out += b"0" + draw(st.sampled_from([b"", b";end"])) + b"\r\n"
    for name in draw(st.lists(st.sampled_from([b"T", b"X-Checksum", b"Content-Length"]), max_size=2)):
        out += field_line(name, b"v", b" ", b"")
    return out + draw(st.sampled_from([b"\r\n"] * 6 + [b"", b"\n"]))


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, str, int]:
    stream = b""
    for code in draw(st.lists(st.sampled_from([b"100", b"102", b"103", b"150", b"199"]), max_size=2)):
        stream += draw(st.sampled_from([b"", b"", b"\r\n"])) + b"HTTP/1.1 " + code + b" Interim\r\n"
        if draw(st.booleans()):
            stream += b"Content-Length: 3\r\n"  # no body all the same: a 1xx ends with its head
        stream += b"\r\n"
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"]))
    status = draw(st.sampled_from([b"200", b"200", b"204", b"304", b"206", b"404", b"999"]))
    body = draw(st.binary(max_size=40))
    framing = draw(st.sampled_from(["length", "chunked", "chunked", "close", "both"]))
    fields = [b"Server: x\r\n"] if draw(st.booleans()) else []
    if framing in ("length", "both"):
        length = max(0, len(body) + draw(st.sampled_from([0, 0, 0, 0, -1, 1])))
        value = draw(st.sampled_from([b"%d", b"0%d"])) % length
        name = draw(st.sampled_from([b"Content-Length", b"content-length"]))
        fields.append(field_line(name, value, draw(LEADING_OWS), draw(TRAILING_OWS)))
    if framing in ("chunked", "both"):
        name = draw(st.sampled_from([b"Transfer-Encoding", b"transfer-encoding"]))
        fields.append(field_line(name, draw(CODINGS), draw(LEADING_OWS), draw(TRAILING_OWS)))
        if draw(st.integers(0, 5)) == 0:  # a second Transfer-Encoding field
            fields.append(field_line(name, draw(CODINGS), b" ", b""))
    if draw(st.booleans()):
        fields.append(field_line(b"Connection", draw(st.sampled_from([b"close", b"keep-alive"])), b" ", b""))
    fields = draw(st.permutations(fields))
    stream += version + b" " + status + b" Final\r\n" + b"".join(fields) + b"\r\n"
    stream += draw(chunked_body(body)) if framing == "chunked" else body
    stream += draw(AFTER)
    return stream, draw(st.sampled_from(["GET", "GET", "HEAD"])), draw(st.integers(0, 255))


@DIFFERENTIAL
@given(responses())
def test_drawn_responses_frame_alike(case: tuple[bytes, str, int]) -> None:
    compare(*case)


# ---------------------------------------------------------------------------------------------------------
# Disagreements found by the fuzz target


def agree(stream: bytes, method: str = "GET") -> None:
    for seed in range(8):
        compare(stream, method, seed)


# Issue #18 item 3, found by the framing target against brisk before 7f0269d (in 21 s): a Transfer-Encoding
# of "chunked" next to NBSP or NEL was read as chunked (str.strip() took them away); llhttp, which does not
# take them for whitespace, reads the body until the close. Fixed: brisk refuses such a coding.
@pytest.mark.parametrize(
    "coding", [b"chunked\xa0", b"chunked\x85", b"\xa0chunked", b"\x85chunked", b"chunked\xa0\xa0"]
)
def test_unicode_whitespace_around_chunked(coding: bytes) -> None:
    stream = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + b"\r\n\r\n5\r\nhello\r\n0\r\n\r\nXY"
    agree(stream)
    agree(stream[: stream.index(b"\r\n\r\n") + 4])
    assert isinstance(brisk_framing(stream, "GET", 0), Refused)


# Found by the framing target against 7f0269d, in 19 s: a trailing HTAB after "chunked". brisk strips SP and
# HTAB (RFC 9110 section 5.5: the field value excludes them) and reads a chunked body; llhttp strips only SP
# after "chunked" (nodejs/llhttp#876) and reads the body until the close, so a proxy built on llhttp and brisk
# would split the stream into different responses. Fixed: brisk refuses the coding, as it refuses any
# Transfer-Encoding it does not read the way llhttp does.
@pytest.mark.parametrize("coding", [b"chunked\t", b"chunked \t", b"chunked\t "])
def test_trailing_tab_after_chunked(coding: bytes) -> None:
    agree(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + b"\r\n\r\n5\r\nhello\r\n0\r\n\r\nXY")


# Found by the framing target (bit 4: brisk fed inside an except block) against 7f0269d, in seconds. brisk's
# chunked path tells its own exceptions raised in llhttp callbacks (_Stop when a second message begins after
# the end, ResponseHeadersTooLarge for trailers) by the HttpParserCallbackError's __context__. httptools sets
# that before raising, but Python replaces it with the exception being handled, if any: a request made in an
# application's except block gets ChunkedEncodingError ("`on_message_begin` callback error") for a complete
# chunked response followed by other bytes in the same read, where llhttp (and brisk elsewhere) reads the
# response. brisk.get() showed it over a socket. Fixed: the parser notes what its callbacks raised.
@pytest.mark.parametrize("after", [b"X", b"HTTP/1.1 200 OK\r\n\r\n"])
def test_chunked_response_read_inside_an_except_block(after: bytes) -> None:
    stream = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + after
    assert cut(stream, ONE_READ) == [stream]
    compare(stream, "GET", ONE_READ)
    compare(stream, "GET", ONE_READ, in_handler=True)


# ---------------------------------------------------------------------------------------------------------
# The comparison itself: what each side reports, and the allowed differences


def test_both_sides_report_the_end_of_the_final_response() -> None:
    stream = (
        b"\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\nHTTP/1.1 200 OK\r\n"
    )
    expected = Framed(200, len(stream) - len(b"HTTP/1.1 200 OK\r\n"), b"hello")
    assert llhttp_framing(stream, "GET") == expected
    for seed in range(8):
        assert brisk_framing(stream, "GET", seed) == expected


def test_head_and_interim_responses_end_with_their_heads() -> None:
    # llhttp left to itself reads a body after a 150 with Content-Length, and after any HEAD response.
    stream = b"HTTP/1.1 150 Odd\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    assert llhttp_framing(stream, "GET") == Framed(200, len(stream), b"hi")
    assert llhttp_framing(stream, "HEAD") == Framed(200, len(stream) - 2, b"")
    agree(stream)
    agree(stream, "HEAD")


def test_a_body_until_the_close_ends_at_the_end_of_the_stream() -> None:
    stream = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, identity\r\nX: y\r\n\r\n"
    assert llhttp_framing(stream + b"data", "GET") == Framed(200, len(stream) + 4, b"data")
    agree(b"HTTP/1.0 200 OK\r\n\r\nuntil close\r\n\r\nHTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize(
    "stream",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
    ],
)
def test_cut_short_or_malformed_is_refused_by_both(stream: bytes) -> None:
    assert isinstance(llhttp_framing(stream, "GET"), Refused)
    assert isinstance(brisk_framing(stream, "GET", 3), Refused)
    agree(stream)


@pytest.mark.parametrize(
    "stream",
    [
        b"RTSP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",  # llhttp reads RTSP/ and ICE/ status lines
        b"HTTP/1.1 099 Low\r\nContent-Length: 1\r\n\r\nx",  # llhttp: statuses from 000
        b"HTTP/1.1 200 \x01\r\nContent-Length: 1\r\n\r\nx",  # control character in the reason
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",  # llhttp: until the close
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",  # llhttp: chunked
        b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"Content-Length: 0\r\n\r\n",  # max_header_count
        b"\r\n" * 40000 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",  # empty lines count
        b"HTTP/1.1 100 Continue\r\n\r\n" * 33 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ],
)
def test_brisk_may_refuse_by_its_documented_rules(stream: bytes) -> None:
    assert isinstance(llhttp_framing(stream, "GET"), Framed)
    assert isinstance(brisk_framing(stream, "GET", 0), Refused)
    agree(stream)


def test_other_differences_are_disagreements(monkeypatch: pytest.MonkeyPatch) -> None:
    import _framing_oracle

    stream = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    monkeypatch.setattr(_framing_oracle, "llhttp_framing", lambda s, m: Framed(200, len(s), b"hj"))
    with pytest.raises(FramingDisagreement, match="framed differently"):
        compare(stream, "GET", 0)
    monkeypatch.setattr(_framing_oracle, "llhttp_framing", lambda s, m: Framed(200, len(s) - 1, b"hi"))
    with pytest.raises(FramingDisagreement, match="framed differently"):
        compare(stream, "GET", 0)
    monkeypatch.setattr(_framing_oracle, "llhttp_framing", lambda s, m: Refused("no"))
    with pytest.raises(FramingDisagreement, match="brisk accepts what llhttp refuses"):
        compare(stream, "GET", 0)
    cut_short = stream[:-1]
    monkeypatch.setattr(_framing_oracle, "llhttp_framing", lambda s, m: Framed(200, len(s), b"h"))
    with pytest.raises(FramingDisagreement, match="brisk refuses what llhttp accepts"):
        compare(cut_short, "GET", 0)
