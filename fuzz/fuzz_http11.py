"""Fuzz target: the HTTP/1.1 codec (``brisk._protocol.http11``).

Input layout: byte 0 chooses the mode and settings, byte 1 the cut points, the rest is the payload.

Response mode (bit 0 of byte 0 clear): the payload is what a server sends. ``ResponseParser`` must give one
outcome however the bytes arrive (h11's invariant): whole, one byte at a time, or cut at arbitrary points
(empty pieces included), the same documented exception (RemoteProtocolError or ChunkedEncodingError, same
class and message, raised in the same phase) or the same status, headers, interim responses, body and
connection state. A parsed head must also be sane: a 2xx-9xx final status, 1xx interim ones (never 101),
token header names, no CR/LF/NUL in the reason or in values, ``values()`` agreeing with ``headers``.

Request mode (bit 0 set): the payload becomes a method, a target and header pairs (str or bytes values),
each field read with ``_fuzzutil.Reader``.
``encode_request_head`` must raise InvalidMethod/InvalidURL/InvalidHeader or return bytes where CR and LF
only appear together as line ends, one per line, NUL and other control characters never appear (except tab
inside a value), and the request line is exactly ``method SP target SP HTTP/1.1``.
"""

from __future__ import annotations

import re

import atheris

with atheris.instrument_imports(include=["brisk"]):
    from brisk._core.config import DEFAULT_LIMITS, Limits
    from brisk._protocol.http11 import ResponseParser, encode_request_head
    from brisk.exceptions import (
        ChunkedEncodingError,
        InvalidHeader,
        InvalidMethod,
        InvalidURL,
        RemoteProtocolError,
    )

from _fuzzutil import Reader, bytewise, cut, fuzz

DOCUMENTED = (RemoteProtocolError, ChunkedEncodingError)
REQUEST_ERRORS = (InvalidMethod, InvalidURL, InvalidHeader)
# Small enough for fuzzed inputs to cross every limit now and then.
SMALL = Limits(max_header_line=120, max_header_count=12, max_head_size=600)
METHODS = ("GET", "HEAD", "CONNECT", "POST")
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
BYTEWISE_MAX = 2048  # feeding longer payloads byte by byte only slows the search down


# ---------------------------------------------------------------------------------------------------------
# Response side


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
    assert head is not None, "feed_eof() returned without a head"
    assert parser.complete, "feed_eof() returned on an incomplete response"
    if parser.reusable:
        assert not parser.leftover
    check_head(head.status_code, head.reason, head.headers, final=True)
    for name, _ in head.headers:
        lower = name.lower()
        assert head.values(lower) == [v for n, v in head.headers if n.lower() == lower], name
    interim = []
    for h in parser.informational:
        check_head(h.status_code, h.reason, h.headers, final=False)
        interim.append((h.status_code, h.reason, h.http_version, h.headers))
    return (
        "response",
        (head.status_code, head.reason, head.http_version, head.headers),
        interim,
        bytes(body),
        before_eof,
        (parser.reusable, parser.leftover),
    )


def check_head(status: int, reason: str, headers: list[tuple[str, str]], final: bool) -> None:
    if final:
        assert 200 <= status <= 999, status
    else:
        assert 100 <= status <= 199, status
        assert status != 101, status
    assert not set(reason) & {"\r", "\n", "\0"}, reason
    for name, value in headers:
        assert TOKEN.fullmatch(name.encode("latin-1")), name
        assert not set(value) & {"\r", "\n", "\0"}, value
        assert value == value.strip(" \t"), value


def check_response(control: int, seed: int, payload: bytes) -> None:
    method = METHODS[(control >> 1) & 3]
    limits = SMALL if control & 8 else DEFAULT_LIMITS
    whole = observe([payload], method, limits)
    splits = [cut(payload, seed)]
    if len(payload) <= BYTEWISE_MAX:
        splits.append(bytewise(payload))
    for pieces in splits:
        split = observe(pieces, method, limits)
        if split != whole and not (framing_limit(whole) or framing_limit(split)):
            raise AssertionError(f"{payload!r} cut as {pieces!r}:\n whole: {whole!r}\n split: {split!r}")


def framing_limit(outcome: tuple[object, ...]) -> bool:
    """The chunk-framing limit (2 x max_head_size of sizes, extensions and trailers between two pieces of
    body data) is checked per read: whether it trips depends on where reads end. A known deviation from the
    invariant, described in fuzz/README.md; outcomes involving it are not compared."""
    return outcome[0] == "error" and "without body data" in str(outcome[3])


# ---------------------------------------------------------------------------------------------------------
# Request side

WORDS = ("GET", "POST", "/", "/a?b=c", "http://h/x", "h:443", "Host", "X-A", "value", " v ", "\r\n", "\t")


def field(reader: Reader) -> str:
    """Fuzzed text (even choice byte) or a plausible word, maybe followed by a few fuzzed characters."""
    choice = reader.byte()
    if not choice & 1:
        return reader.text(40)
    word = WORDS[(choice >> 1) % len(WORDS)]
    return word + reader.text(4) if choice & 0x80 else word


def check_request(payload: bytes) -> None:
    reader = Reader(payload)
    method = field(reader)
    target = field(reader)
    headers: list[tuple[str, str | bytes]] = []
    for _ in range(reader.number(0, 6)):
        name = field(reader)
        value: str | bytes = reader.raw(30) if reader.flag() else field(reader)
        headers.append((name, value))
    try:
        head = encode_request_head(method, target, headers)
    except REQUEST_ERRORS:
        return
    lines = head.split(b"\r\n")
    assert head.endswith(b"\r\n\r\n"), head
    assert head.count(b"\r") == head.count(b"\n") == head.count(b"\r\n") == len(headers) + 2, head
    assert b"\x00" not in head, head
    assert lines[0] == f"{method} {target} HTTP/1.1".encode("latin-1"), head
    assert lines[0].count(b" ") == 2, head
    assert not CONTROL.search(lines[0]), head
    assert b"\t" not in lines[0], head
    for line, (name, _) in zip(lines[1:], headers, strict=False):
        assert line.startswith(name.encode("ascii") + b": "), head
        assert not CONTROL.search(line), head
        value = line[len(name) + 2 :]
        assert value == value.strip(b" \t"), head


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    control, seed, payload = data[0], data[1], data[2:]
    if control & 1:
        check_request(payload)
    else:
        check_response(control, seed, payload)


if __name__ == "__main__":
    fuzz(test_one_input)
