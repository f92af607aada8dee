"""Differential framing check: brisk's ``ResponseParser`` against llhttp on the same bytes.

Shared by the ``framing`` fuzz target (``fuzz/fuzz_framing.py``) and its deterministic twin in the test
suite (``tests/unit/protocol/test_framing_differential.py``). ``check(data)``
builds a byte stream from ``data``
(``build``), reads it with brisk and with llhttp, and raises ``FramingDisagreement`` when they frame the
final response differently.

The two readers
---------------

* brisk: the sans-IO ``ResponseParser`` the transports use (default ``Limits``), fed the stream cut into
  pieces (``_fuzzutil.cut``, empty pieces included), then ``feed_eof()``; for some inputs from inside an
  ``except`` block, as when an application makes a request while handling an exception (the sync
  transport feeds the parser on the caller's stack). The end of the response is the smallest prefix of
  the stream, cut at the same points, after which ``complete`` is true (found by bisection over fresh
  parsers); a response that ``feed_eof()`` completes (a body delimited by the close) ends at the end of
  the stream.
* llhttp: a plain ``httptools.HttpResponseParser`` in its default, strict mode, fed the stream in one piece,
  with no brisk code involved. Its end is the smallest prefix after which ``on_message_complete`` has run
  (found the same way). httptools has no ``llhttp_finish()``, so at the end of the stream a message llhttp
  has not completed is accepted only when llhttp reads its body until the close: not chunked (a probe
  parser fed the head and ``0\\r\\n\\r\\n`` reports no chunk) and no Content-Length field (a field name
  llhttp reported); the body is then everything after the head.

Both give the final status, the end offset of the final response in the stream and its body bytes, or a
refusal. Interim (1xx) responses are skipped by both.

What llhttp cannot be told, applied as llhttp itself would apply it
-------------------------------------------------------------------

* A response to HEAD, and any 1xx, ends with its head (RFC 9112 section 6.3). llhttp learns this from
  ``on_headers_complete`` returning 1 (``F_SKIPBODY``, what Node's client returns for HEAD and for 1xx),
  which httptools does not pass through. The oracle stops llhttp at the end of such a head and, after a
  1xx, starts a fresh llhttp on the bytes that follow. Unpatched, llhttp reads a Content-Length or chunked
  body after a 1xx other than 100, 102 and 103, and after any response to HEAD.
* 101 Switching Protocols: llhttp stops there (the rest is another protocol). Counted as a refusal: brisk
  never asks for an upgrade and refuses a 101.

Allowed differences (everything else is a ``FramingDisagreement``)
------------------------------------------------------------------

brisk may refuse what llhttp accepts, for the deliberate rules of ``brisk/_protocol/http11_response.py``
only (``STRICTER`` below, matched by exception class and message):

* ``ResponseHeadersTooLarge``: the ``Limits`` on the status line, header lines, header count, head size,
  empty lines before a status line, and a chunked body's trailers. llhttp has no such limits.
* ``ChunkedEncodingError`` "... without body data": the bound on chunk sizes, extensions and trailers
  between two pieces of body data (2 x ``max_head_size``); llhttp reads any amount of them.
* more than 32 interim (1xx) responses; llhttp reads any number.
* 101 without an upgrade requested (llhttp also stops: a refusal on both sides).
* ``unsupported Transfer-Encoding``: brisk accepts exactly ``chunked`` (SP and HTAB around it, any case)
  and refuses the rest, where llhttp reads a body with a final coding other than chunked until the close
  (RFC 9112 section 6.3, rule 4) and takes ``gzip, chunked``, ``chunked, chunked`` or ``,chunked`` as
  chunked. Refusing is what RFC 9112 section 6.1 lets a client do with a coding it does not know, and
  never frames a body differently.
* a status below 100: llhttp accepts three digits from ``000``; RFC 9110 section 15 has 100-599
  (brisk: 100-999).
* control characters in the reason phrase (RFC 9112 section 4 allows HTAB, SP, VCHAR, obs-text only);
  llhttp accepts them.
* a status line starting ``RTSP/`` or ``ICE/``, which llhttp's response parser also accepts: brisk fails
  at once on anything but ``HTTP/``.

llhttp may refuse what brisk accepts: never. brisk hands every head to llhttp for validation and llhttp
parses brisk's chunked bodies, so llhttp refusing a response brisk delivers means brisk skipped a check.
Both accepting with a different status, end or body is never allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import httptools
from _fuzzutil import Reader, cut

from brisk._core.config import DEFAULT_LIMITS
from brisk._protocol.http11 import ResponseParser
from brisk.exceptions import ChunkedEncodingError, RemoteProtocolError, ResponseHeadersTooLarge

DOCUMENTED = (RemoteProtocolError, ChunkedEncodingError)
T = TypeVar("T")


class FramingDisagreement(AssertionError):
    """brisk and llhttp read one stream differently, outside the allowed differences."""


@dataclass(frozen=True)
class Framed:
    """The final response was read: its status, the offset just past its last byte, its body."""

    status: int
    end: int
    body: bytes


@dataclass(frozen=True)
class Refused:
    """The stream was refused (or ended too early); ``kind`` is brisk's exception class (None for llhttp)."""

    reason: str
    kind: type[Exception] | None = None


Outcome = Framed | Refused


def _first(predicate: Callable[[int], bool], low: int, high: int) -> int:
    """The smallest k in [low, high] with ``predicate(k)``, given ``predicate(high)`` and monotony."""
    while low < high:
        middle = (low + high) // 2
        if predicate(middle):
            high = middle
        else:
            low = middle + 1
    return low


# ---------------------------------------------------------------------------------------------------------
# brisk


def _brisk_complete(pieces: list[bytes], method: str) -> bool:
    parser = ResponseParser(method, DEFAULT_LIMITS)
    for piece in pieces:
        parser.feed(piece)
        parser.take_body()
    return parser.complete


class _Handled(Exception):
    """The exception being handled while brisk is fed from inside an ``except`` block."""


def _in_handler(function: Callable[[], T]) -> T:
    """``function()`` called with an exception being handled, as when an application makes a request in
    an ``except`` block: an exception raised in there gets that one as its ``__context__``."""
    try:
        raise _Handled
    except _Handled:
        return function()


def brisk_framing(stream: bytes, method: str, seed: int, in_handler: bool = False) -> Outcome:
    """brisk's reading of ``stream`` cut at the points ``seed`` chooses (inside an ``except`` block if
    ``in_handler``)."""
    if in_handler:
        return _in_handler(lambda: brisk_framing(stream, method, seed))
    pieces = cut(stream, seed)
    parser = ResponseParser(method, DEFAULT_LIMITS)
    body = bytearray()
    done_in: int | None = None  # the piece after which the response was complete
    try:
        for index, piece in enumerate(pieces):
            parser.feed(piece)
            body += parser.take_body()
            if done_in is None and parser.complete:
                done_in = index
        parser.feed_eof()
        body += parser.take_body()
    except DOCUMENTED as exc:
        return Refused(f"{type(exc).__name__}: {exc}", type(exc))
    assert parser.head is not None, "feed_eof() returned without a head"
    assert parser.complete, "feed_eof() returned on an unfinished response"
    if done_in is None:
        end = len(stream)
    else:
        before = pieces[:done_in]
        start = sum(map(len, before))
        end = _first(
            lambda k: _brisk_complete([*before, stream[start:k]], method),
            start + 1,
            start + len(pieces[done_in]),
        )
    return Framed(parser.head.status_code, end, bytes(body))


# ---------------------------------------------------------------------------------------------------------
# llhttp


class _Stop(Exception):
    """Raised in an llhttp callback to stop it there."""


class _Llhttp:
    """One run of llhttp over some bytes, and what it reported (httptools' callback protocol)."""

    def __init__(self, head_only: bool) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._head_only = head_only
        self.status = 0
        self.head_done = False
        self.done = False
        self.chunked = False
        self.content_length = False
        self.body: list[bytes] = []
        self.error = ""
        self._stopped = False  # not exc.__context__: an exception being handled around us would replace it

    def run(self, data: bytes) -> _Llhttp:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # not reached: a 101 stops in on_headers_complete
            self.error = "upgrade"
        except httptools.HttpParserError as exc:
            if not self._stopped:
                self.error = f"llhttp: {exc}"
        return self

    def _stop(self) -> None:
        self._stopped = True
        raise _Stop

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head_done and name.lower() == b"content-length":
            self.content_length = True

    def on_headers_complete(self) -> None:
        self.head_done = True
        self.status = self._parser.get_status_code()
        if self._head_only or 100 <= self.status < 200:  # F_SKIPBODY, or a 101 hands the connection over
            self._stop()

    def on_chunk_header(self) -> None:
        self.chunked = True

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_message_complete(self) -> None:
        self.done = True
        self._stop()


def _llhttp_until(data: bytes, head_only: bool, event: str, low: int) -> int:
    """The length of the shortest prefix of ``data`` after which llhttp has reported ``event``
    (``head_done`` or ``done``), given that ``data`` as a whole gets there."""
    return _first(lambda k: getattr(_Llhttp(head_only).run(data[:k]), event), low, len(data))


def llhttp_framing(stream: bytes, method: str) -> Outcome:
    """llhttp's reading of ``stream`` (in one piece), with HEAD and 1xx ending at their heads."""
    head_only = method == "HEAD"
    start = 0
    while True:
        rest = stream[start:]
        run = _Llhttp(head_only).run(rest)
        if not run.head_done:
            return Refused(run.error or "the stream ends inside a head")
        if run.status == 101:
            return Refused("101 Switching Protocols: what follows is another protocol")
        head_end = start + _llhttp_until(rest, head_only, "head_done", 1)
        if 100 <= run.status < 200:  # interim: the next message starts after its head
            start = head_end
            continue
        if head_only:
            return Framed(run.status, head_end, b"")
        body = b"".join(run.body)
        if run.done:
            end = start + _llhttp_until(rest, head_only, "done", head_end - start)
            return Framed(run.status, end, body)
        if run.error:
            return Refused(run.error)
        # The stream ended before llhttp's end of the message: only a body read until the close ends here.
        if _Llhttp(head_only).run(stream[start:head_end] + b"0\r\n\r\n").chunked:
            return Refused("the stream ends inside a chunked body")
        if run.content_length:
            return Refused("the stream ends inside a Content-Length body")
        if body != stream[head_end:]:
            raise AssertionError(f"oracle: llhttp read {body!r} of a body until the close {stream!r}")
        return Framed(run.status, len(stream), body)


# ---------------------------------------------------------------------------------------------------------
# Comparing


@dataclass(frozen=True)
class Rule:
    """A refusal of brisk's that llhttp does not share, by design (see the module docstring)."""

    kind: type[Exception]
    fragment: str  # in the message
    applies: Callable[[bytes, Framed], bool] = lambda stream, theirs: True


def _rtsp_or_ice(stream: bytes, theirs: Framed) -> bool:
    return b"RTSP/" in stream or b"ICE/" in stream  # llhttp reads no other protocol name


STRICTER = (
    Rule(ResponseHeadersTooLarge, ""),
    Rule(ChunkedEncodingError, "without body data (2 x Limits.max_head_size)"),
    Rule(RemoteProtocolError, "interim (1xx) responses"),
    Rule(RemoteProtocolError, "switched protocols (101)"),
    Rule(RemoteProtocolError, "unsupported Transfer-Encoding"),
    Rule(RemoteProtocolError, "invalid status code", lambda stream, theirs: theirs.status < 100),
    Rule(RemoteProtocolError, "control characters in the reason phrase"),
    Rule(RemoteProtocolError, "expected 'HTTP/'", _rtsp_or_ice),
)


def allowed(stream: bytes, ours: Refused, theirs: Framed) -> bool:
    """Is brisk's refusal of a stream llhttp accepts one of its deliberate, documented rules?"""
    return any(
        ours.kind is rule.kind and rule.fragment in ours.reason and rule.applies(stream, theirs)
        for rule in STRICTER
    )


def compare(stream: bytes, method: str, seed: int, in_handler: bool = False) -> tuple[Outcome, Outcome]:
    """Read ``stream`` with both; raise FramingDisagreement unless they agree (or differ as allowed)."""
    ours = brisk_framing(stream, method, seed, in_handler)
    theirs = llhttp_framing(stream, method)
    if isinstance(ours, Framed):
        if ours == theirs:
            return ours, theirs
        problem = "framed differently" if isinstance(theirs, Framed) else "brisk accepts what llhttp refuses"
    elif isinstance(theirs, Refused) or allowed(stream, ours, theirs):
        return ours, theirs
    else:
        problem = "brisk refuses what llhttp accepts"
    raise FramingDisagreement(
        f"{problem}\n stream: {stream!r}\n method: {method}, cut: {cut(stream, seed)!r}"
        f"{', inside an except block' if in_handler else ''}\n"
        f" brisk:  {ours!r}\n llhttp: {theirs!r}"
    )


# ---------------------------------------------------------------------------------------------------------
# Building a stream from fuzzer bytes
#
# Byte 0: bit 0 HEAD (else GET), bit 1 raw (the rest of the input after byte 1 is the stream as is), bits 2-3
# the number of interim responses, bit 4 brisk fed inside an ``except`` block. Byte 1: the cut seed. Then
# ``Reader`` fields: per response a status line and header fields, then a body (raw bytes or a chunked
# encoding built field by field) and what follows it.
# Index 0 of every choice is the ordinary case, so short or zeroed inputs give plain responses.

VERSIONS = (
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"HTTP/1.1",
    b"HTTP/0.9",
    b"HTTP/2.0",
    b"HTTP/1.2",
    b"RTSP/1.0",
    b"ICE/1.0",
)
FINAL = (b"200", b"204", b"304", b"404", b"206", b"999", b"101", b"099", b"100", b"103", b"150")
INTERIM = (b"100", b"103", b"102", b"150", b"199", b"101")
NAMES = (
    b"Content-Length",
    b"Transfer-Encoding",
    b"Connection",
    b"X-Pad",
    b"content-length",
    b"TRANSFER-ENCODING",
    b"Transfer-Encoding ",
    b"Trailer",
    b"Upgrade",
    b"Content-Type",
)
SEPARATORS = (b": ", b":", b":\t", b":  ", b" : ")
VALUES = (
    b"chunked",
    b"5",
    b"close",
    b"0",
    b"keep-alive",
    b"gzip, chunked",
    b"chunked, gzip",
    b"identity",
    b"Chunked",
    b"12",
    b"",
    b"upgrade",
    b"chunked, chunked",
    b"100000",
)
LINE_ENDS = (b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\n", b" \r\n", b"\r\n ", b"\r")
AFTER = (
    b"",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    b"\r\n",
    b"0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\n\r\n",
)


def _status_line(reader: Reader, codes: tuple[bytes, ...]) -> bytes:
    version = reader.pick(VERSIONS)
    choice = reader.byte()
    code = codes[choice % len(codes)] if choice < 0xF0 else reader.raw(4)
    reason = reader.byte()
    text = b" OK" if reason & 1 == 0 else b" " + reader.raw(12) if reason & 2 else b""
    blank = b"\r\n" * (reason >> 6)  # empty lines before the status line
    return blank + version + b" " + code + text + b"\r\n"


def _field(reader: Reader) -> bytes:
    choice = reader.byte()
    name = NAMES[choice % len(NAMES)] if choice < 0xF0 else reader.raw(12)
    separator = reader.pick(SEPARATORS)
    value = reader.pick(VALUES)
    shape = reader.byte()
    if shape & 1:
        value = reader.raw(3) + value
    if shape & 2:
        value += reader.raw(3)
    if shape & 4:
        value = reader.raw(24)
    return name + separator + value + LINE_ENDS[shape >> 3 & 7]


def _head(reader: Reader, codes: tuple[bytes, ...]) -> bytes:
    head = _status_line(reader, codes)
    for _ in range(reader.number(0, 6)):
        head += _field(reader)
    return head + b"\r\n"


def _chunked(reader: Reader) -> bytes:
    out = b""
    for _ in range(reader.number(0, 3)):
        data = reader.raw(40)
        shape = reader.byte()
        size = b"%x" % len(data)
        if shape & 3 == 1:
            size = size.upper()
        elif shape & 3 == 2:
            size = b"00" + size
        elif shape & 3 == 3:
            size = reader.raw(6)
        extension = b";" + reader.raw(10) if shape & 4 else b""
        ending = b"\r\n" if shape & 0x18 != 0x18 else reader.raw(2)
        out += size + extension + b"\r\n" + data + ending
    last = reader.byte()
    out += b"0" + (b";" + reader.raw(10) if last & 1 else b"") + b"\r\n"
    for _ in range(last >> 1 & 3):
        out += _field(reader)
    return out + (b"\r\n" if last & 8 == 0 else reader.raw(2))


class Case(NamedTuple):
    stream: bytes
    method: str
    seed: int
    in_handler: bool


def build(data: bytes) -> Case:
    """The stream, the request method, the cut seed and the calling context that ``data`` describes."""
    control = data[0] if data else 0
    seed = data[1] if len(data) > 1 else 0
    method = "HEAD" if control & 1 else "GET"
    in_handler = bool(control & 0x10)
    if control & 2:
        return Case(data[2:], method, seed, in_handler)
    reader = Reader(data[2:])
    stream = b"".join(_head(reader, INTERIM) for _ in range(control >> 2 & 3))
    stream += _head(reader, FINAL)
    body = reader.byte()
    if body % 3 == 1:
        stream += _chunked(reader)
    elif body % 3 == 2:
        stream += reader.raw(255)
    tail = reader.byte()
    stream += AFTER[tail % len(AFTER)] if tail < 0xF0 else reader.raw(40)
    return Case(stream, method, seed, in_handler)


def check(data: bytes) -> tuple[Outcome, Outcome]:
    """Build a stream from ``data`` and compare brisk's reading with llhttp's."""
    return compare(*build(data))
