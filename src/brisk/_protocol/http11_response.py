"""Parsing an HTTP/1.1 response, sans-IO: bytes in, the head and body pieces out. No sockets here.

``ResponseParser`` reads exactly one response (after skipping any 1xx interim responses).
The split of work with llhttp (through ``httptools``) is deliberate:

* We find the end of the head ourselves (the first CRLFCRLF). llhttp is strict about CRLF line endings,
  so this is the same boundary llhttp would find, and it lets us enforce size limits before parsing and
  know exactly where the body starts.
* llhttp parses and validates the head (status line, header syntax, NUL/CTL in values, duplicate or
  malformed Content-Length, Content-Length together with Transfer-Encoding).
* The body is framed by us for Content-Length and close-delimited responses (a slice per read, no parser
  in the hot path of large downloads) and by llhttp for chunked bodies (chunk sizes, extensions, CRLFs
  and trailers are where lenient parsers get smuggled through: h11 GHSA-vqfr, aiohttp CVE-2024-52304).

Framing rules (RFC 9112 section 6.3), in order: a response to HEAD, any 1xx, 204, 304 and a 2xx answer
to CONNECT have no body;
a Transfer-Encoding other than exactly ``chunked`` (SP and HTAB the only whitespace around it) is refused;
chunked (never reused after an HTTP/1.0 response: RFC 9112 section 6.1); Content-Length; otherwise the body
runs until the server closes the connection (and the connection is not reused). Empty lines before a status
line count against ``Limits.max_head_size``.

A connection is reusable after a response only if the response was complete, both sides agreed to keep
it alive, and the server sent nothing beyond the end of the response: stray bytes after a response
(for example a body on a 204) are never taken as the start of the next response. Empty lines (CR, LF) are
the one exception: RFC 9112 section 2.2 lets them precede a message, and llhttp swallows them when they
arrive in the same read as a chunked end, so tolerating them everywhere gives one outcome whatever the
segmentation (h11's invariant, checked by the fuzz tests).

A chunked body's framing (sizes, extensions, trailers) between two pieces of body data is bounded, so an
endless extension or trailer line fails early instead of growing memory.
"""

from __future__ import annotations

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk._protocol.accelerator import speedups
from brisk.exceptions import (
    ChunkedEncodingError,
    IncompleteBody,
    RemoteProtocolError,
    ResponseHeadersTooLarge,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from types import ModuleType
    from typing import Final

    import httptools
else:
    httptools = None  # llhttp's binding, imported by the first head or body that needs it (_load_llhttp)

__all__ = ["ResponseHead", "ResponseParser"]

_BAD_REASON_BYTES = bytes([*range(0x09), *range(0x0A, 0x20), 0x7F])  # control characters but HTAB
_MAX_INTERIM = 32  # 1xx responses accepted before the final one
# A field that frames the body: the name and the value after leading whitespace, in a lower-cased header
# block where every line has a CRLF before it. llhttp has already refused CR, LF and NUL inside values.
_FRAMING_FIELDS: Final = rb"\r\n(content-length|transfer-encoding|connection):[ \t]*([^\r]*)"
_framing_fields: list[re.Pattern[bytes]] = []  # compiled by the first head that llhttp parses
_CR_LF = (13, 10)
# The start of a status line that llhttp accepted, to the version it names (anything else asks llhttp).
_VERSIONS = {b"HTTP/1.1 ": "HTTP/1.1", b"HTTP/1.0 ": "HTTP/1.0"}

# The C reader of the common head (see accelerator.py), or None.
_fast_head = None if speedups is None else speedups.parse_head


class ResponseHead:
    """The status line and headers of the final response.

    ``headers`` (name, value pairs in wire order, values without surrounding whitespace) is built from the
    raw header block the first time it is read; ``values(name)`` finds one header without building it.
    """

    __slots__ = (
        "_block", "_lower", "_pairs", "http_version", "keep_alive", "missing", "reason", "status_code"
    )  # fmt: skip

    def __init__(
        self,
        status_code: int,
        reason: str,
        http_version: str,
        block: bytes,
        keep_alive: bool,
        missing: frozenset[str] = frozenset(),
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.http_version = http_version
        self.keep_alive = keep_alive
        self._block = block  # b"\r\nName: value\r\n...\r\n": every line has a CRLF before and after it
        #: names (lower case) known to be absent: values() need not search for them, nor a Response (see
        #: ``Response._from_transport``)
        self.missing = missing
        self._lower: bytes | None = None
        self._pairs: list[tuple[str, str]] | None = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        pairs = self._pairs
        if pairs is None:
            pairs = self._pairs = [
                (name.decode("latin-1"), value.strip(b" \t").decode("latin-1"))
                for name, _, value in (line.partition(b":") for line in self._block.split(b"\r\n") if line)
            ]
        return pairs

    def values(self, lower_name: str) -> list[str]:
        """Every value of the header ``lower_name`` (lower case), in order."""
        if lower_name in self.missing:
            return []
        lower = self._lower
        if lower is None:
            lower = self._lower = self._block.lower()
        key = b"\r\n" + lower_name.encode("latin-1") + b":"
        # Most lookups (Set-Cookie, Content-Encoding) find nothing. find(), not "in": bytes' "in" tries the
        # key as an int first and swallows the TypeError, which costs twice as much.
        if lower.find(key) < 0:
            return []
        return [v.strip(b" \t").decode("latin-1") for v in self._raw_values(key)]

    def _lower_block(self) -> bytes:
        lower = self._lower
        if lower is None:
            lower = self._lower = self._block.lower()
        return lower

    def _raw_values(self, key: bytes) -> list[bytes]:
        """Raw values of the field ``key`` (``b"\\r\\nname:"``, lower case)."""
        lower = self._lower_block()
        found = []
        start = lower.find(key)
        while start >= 0:
            value_start = start + len(key)
            end = lower.find(b"\r\n", value_start)
            found.append(self._block[value_start:end])
            start = lower.find(key, end)
        return found

    def __repr__(self) -> str:
        return f"<ResponseHead {self.http_version} {self.status_code} {self.reason!r}>"


# Body framing of the current response.
_NONE: Final = 0  # no body (HEAD, 1xx, 204, 304)
_LENGTH: Final = 1  # Content-Length
_CHUNKED: Final = 2  # Transfer-Encoding: chunked, parsed by llhttp
_CLOSE: Final = 3  # until the server closes the connection


class _NoCallbacks:
    """llhttp calls back only for the methods an object has: this one has none."""


_NO_CALLBACKS = _NoCallbacks()


def _load_llhttp() -> ModuleType:
    """httptools, imported on first use. A response that the C accelerator reads whole in one piece needs
    no parser, and httptools imports typing: a short program (the command line) that gets such a response
    never pays for either."""
    global httptools
    import httptools as module

    httptools = module
    return module


_CHUNKED_PRIMER = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


class _Stop(Exception):
    """Raised inside an llhttp callback to stop parsing; never leaves this module."""


class ResponseParser:
    """Reads one HTTP/1.1 response from bytes fed by the caller.

    Use: ``feed(data)`` whatever arrives; once ``head`` is set, take body bytes with ``take_body()``
    until ``complete``; call ``feed_eof()`` when the server closes the connection. ``reusable`` tells
    whether the connection may carry another request afterwards. Errors are RemoteProtocolError
    (ResponseHeadersTooLarge for limits) while reading the head, ChunkedEncodingError/IncompleteBody
    while reading the body.
    """

    __slots__ = (
        "_blank",
        "_body",
        "_buffer",
        "_connect",
        "_failure",
        "_framing",
        "_framing_run",
        "_limits",
        "_llhttp",
        "_no_body",
        "_remaining",
        "_scan_from",
        "_trailer_bytes",
        "_trailer_count",
        "_trailer_fields",
        "_trailers_too_large",
        "complete",
        "head",
        "informational",
        "leftover",
        "trailers",
    )

    def __init__(self, method: str = "GET", limits: Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._no_body = method == "HEAD"
        self._connect = method == "CONNECT"  # a 2xx answer opens a tunnel: no body follows
        self._buffer = b""  # bytes of the head not yet parsed
        self._blank = 0  # bytes of empty lines skipped before status lines, bounded by max_head_size
        self._scan_from = 0  # where the CRLFCRLF search resumes
        self._body: list[bytes] = []  # body bytes parsed, not yet taken
        self._framing = _NONE
        self._remaining = 0  # bytes left of a Content-Length body
        self.head: ResponseHead | None = None
        self.informational: tuple[ResponseHead, ...] = ()
        self.complete = False
        self.leftover = False  # the server sent bytes beyond the end of this response
        self.trailers: list[tuple[str, str]] | None = None  # a chunked body's trailer fields, at its end
        # Set when a chunked body starts: _llhttp, _framing_run, _trailer_bytes, _trailer_count,
        # _trailer_fields, _trailers_too_large.

    # -- public API ------------------------------------------------------------------------------------

    @property
    def reusable(self) -> bool:
        """True when the connection can carry the next request."""
        return self.complete and not self.leftover and self.head is not None and self.head.keep_alive

    @property
    def received_any(self) -> bool:
        """Has any byte of a response arrived? (A reused connection that dies before this is stale.)"""
        return self.head is not None or bool(self.informational) or bool(self._buffer)

    @property
    def body_remaining(self) -> int | None:
        """Bytes still expected of a Content-Length body (None for other framings)."""
        return self._remaining if self._framing == _LENGTH else None

    def feed(self, data: bytes) -> None:
        """Parse ``data``. After this, check ``head``, ``take_body()`` and ``complete``."""
        if not data:
            return
        if self.head is None:
            if not self._buffer and _fast_head is not None:
                lim = self._limits
                found = _fast_head(data, lim.max_head_size, lim.max_header_line, lim.max_header_count)
                if found is not None:
                    self._start_read(data, *found)
                    return
            self._buffer += data
            self._parse_heads()
            return
        self._feed_body(data)

    def take_body(self) -> bytes:
        """Body bytes parsed so far and not yet taken (b"" if none)."""
        body = self._body
        if not body:
            return b""
        data = body[0] if len(body) == 1 else b"".join(body)
        body.clear()
        return data

    def has_body_data(self) -> bool:
        return bool(self._body)

    def consume_length(self, size: int) -> None:
        """The caller read ``size`` bytes of a Content-Length body itself (straight into its own buffer);
        account for them. Only after ``take_body()`` emptied what was parsed, and never beyond the length."""
        if self._framing != _LENGTH or self._body or not 0 <= size <= self._remaining:
            raise ValueError("consume_length only applies to the rest of a Content-Length body")
        self._remaining -= size
        if not self._remaining:
            self.complete = True

    def feed_eof(self) -> None:
        """The server closed the connection (or half-closed its side)."""
        if self.complete:
            return
        if self.head is None:
            if self._buffer.strip(b"\r\n"):
                raise RemoteProtocolError(
                    "the server closed the connection in the middle of the response head"
                )
            raise RemoteProtocolError("the server closed the connection without sending a response")
        if self._framing == _CLOSE:
            self.complete = True
            self.head.keep_alive = False
        elif self._framing == _LENGTH:
            raise IncompleteBody(
                f"the server closed the connection with {self._remaining} bytes of the "
                "body still to come (fewer bytes than its Content-Length)"
            )
        else:
            raise IncompleteBody("the server closed the connection before the end of the chunked body")

    # -- head ------------------------------------------------------------------------------------------

    def _parse_heads(self) -> None:
        limits = self._limits
        while self.head is None:
            buffer = self._buffer
            if buffer and buffer[0] in _CR_LF:
                # Empty lines before a status line are tolerated (RFC 9112 section 2.2), but they count
                # against the head limit: a server sending CRLF forever must fail, not be read forever.
                stripped = buffer.lstrip(b"\r\n")
                self._blank += len(buffer) - len(stripped)
                if self._blank > limits.max_head_size:
                    raise ResponseHeadersTooLarge(
                        f"the server sent more than {limits.max_head_size} bytes of empty lines before "
                        "the status line (Limits.max_head_size)"
                    )
                buffer = self._buffer = stripped
                self._scan_from = 0
            if not (buffer.startswith(b"HTTP/") if len(buffer) >= 5 else b"HTTP/".startswith(buffer)):
                # Not an HTTP response at all (a TLS record, an HTML page, ...): fail now rather than
                # wait for a CRLFCRLF that may never come. Quote up to the first wrong byte, so the message
                # is the same however the bytes were split.
                wrong = next(i for i, byte in enumerate(buffer[:5]) if byte != b"HTTP/"[i])
                got = _describe_start(buffer[: wrong + 1])
                raise RemoteProtocolError(f"invalid response from the server: expected 'HTTP/', got {got}")
            end = buffer.find(b"\r\n\r\n", self._scan_from)
            if end < 0 or end + 4 > limits.max_head_size:
                self._check_head_limits(buffer)  # raises if the head ends past max_head_size
                self._scan_from = max(0, len(buffer) - 3)
                return
            end += 4
            head_bytes, rest = buffer[:end], buffer[end:]
            self._buffer = b""
            self._scan_from = 0
            self._parse_one_head(head_bytes)
            if self.head is None:  # it was a 1xx interim response: parse what follows it
                self._buffer = rest
                if not rest:
                    return
                continue
            if rest:
                self._feed_body(rest)

    def _check_head_limits(self, buffer: bytes) -> None:
        """Limits of a head whose end has not arrived: the status line, as far as it lies within the first
        ``max_head_size`` bytes, then the head size. That is the order in which a reader fed byte by byte
        meets them, so the error does not depend on how the bytes were split."""
        limits = self._limits
        size = min(len(buffer), limits.max_head_size)
        line_end = buffer.find(b"\r\n", 0, size)
        pending = size - (buffer[size - 1 : size] == b"\r")  # a CR may be the start of the line end
        if (line_end < 0 and pending > limits.max_header_line) or line_end > limits.max_header_line:
            raise ResponseHeadersTooLarge(
                f"the status line is longer than {limits.max_header_line} bytes (Limits.max_header_line)"
            )
        if len(buffer) > limits.max_head_size:
            raise ResponseHeadersTooLarge(
                f"the response head is larger than {limits.max_head_size} bytes (Limits.max_head_size)"
            )

    def _parse_one_head(self, head_bytes: bytes) -> None:
        limits = self._limits
        line_end = head_bytes.find(b"\r\n")
        if line_end > limits.max_header_line:
            raise ResponseHeadersTooLarge(
                f"the status line is longer than {limits.max_header_line} bytes (Limits.max_header_line)"
            )
        block = head_bytes[line_end:-2]  # the header lines, each between CRLFs
        if block.count(b"\r\n") - 1 > limits.max_header_count:
            raise ResponseHeadersTooLarge(
                f"the response has more than {limits.max_header_count} header fields "
                "(Limits.max_header_count)"
            )
        if (
            len(block) > limits.max_header_line
            and max(map(len, block.split(b"\r\n"))) + 2 > limits.max_header_line
        ):
            raise ResponseHeadersTooLarge(
                f"a response header line is longer than {limits.max_header_line} bytes "
                "(Limits.max_header_line)"
            )
        # llhttp validates the whole head in C with no callbacks into Python (the header list is built
        # only if someone reads it).
        parser = (httptools or _load_llhttp()).HttpResponseParser(_NO_CALLBACKS)
        try:
            parser.feed_data(head_bytes)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, RemoteProtocolError):
                raise exc.__context__ from None
            raise RemoteProtocolError(f"invalid response from the server: {exc}") from exc
        except httptools.HttpParserUpgrade:
            raise RemoteProtocolError(
                "the server switched protocols (101) although no upgrade was requested"
            ) from None
        except httptools.HttpParserError as exc:
            if parser.get_status_code() == 101:
                raise RemoteProtocolError(
                    "the server switched protocols (101) although no upgrade was requested"
                ) from None
            raise RemoteProtocolError(
                f"invalid response from the server: {_describe(exc, head_bytes)}"
            ) from None
        status = parser.get_status_code()
        if status < 100:
            raise RemoteProtocolError(f"invalid status code {status} in the response (must be 100-999)")
        if status == 101:
            raise RemoteProtocolError("the server switched protocols (101) although no upgrade was requested")
        parts = head_bytes[:line_end].split(b" ", 2)
        reason = parts[2].strip() if len(parts) == 3 else b""  # as http.client (requests) reads it
        if reason and reason != b"OK" and len(reason.translate(None, _BAD_REASON_BYTES)) != len(reason):
            raise RemoteProtocolError(
                "invalid response from the server: control characters in the reason phrase"
            )
        version = _VERSIONS.get(head_bytes[:9]) or "HTTP/" + parser.get_http_version()
        head = ResponseHead(
            status, "OK" if reason == b"OK" else reason.decode("latin-1"), version, block, False
        )
        if status < 200:
            if len(self.informational) >= _MAX_INTERIM:
                raise RemoteProtocolError(f"the server sent more than {_MAX_INTERIM} interim (1xx) responses")
            self.informational = (*self.informational, head)
            return
        self._start_body(head, parser)

    def _start_read(
        self,
        data: bytes,
        end: int,
        status: int,
        reason: str,
        block: bytes,
        length: int,
        close: bool,
        missing: frozenset[str] = frozenset(),
    ) -> None:
        """A head the C accelerator read from ``data``: HTTP/1.1, a final status, no Transfer-Encoding,
        ``length`` the Content-Length or -1, ``close`` a Connection: close, ``missing`` fields known absent.
        The rest of ``data`` is body."""
        head = ResponseHead(status, reason, "HTTP/1.1", block, not close, missing)
        if not self._bodiless(status):
            self._frame_plain(head, None if length < 0 else length)
        self._started(head)
        if len(data) > end:
            self._feed_body(data[end:])

    def _bodiless(self, status: int) -> bool:
        return self._no_body or status in (204, 304) or (self._connect and status < 300)

    def _frame_plain(self, head: ResponseHead, length: int | None) -> None:
        """Framing without Transfer-Encoding: the Content-Length, else until the server closes."""
        if length is not None:
            self._framing = _LENGTH
            self._remaining = length
        else:
            self._framing = _CLOSE
            head.keep_alive = False

    def _started(self, head: ResponseHead) -> None:
        self.head = head
        if self._framing == _NONE or (self._framing == _LENGTH and self._remaining == 0):
            self.complete = True

    def _start_body(self, head: ResponseHead, parser: httptools.HttpResponseParser) -> None:
        # The three fields that frame the body, found in one pass over the lower-cased header block.
        length: bytes | None = None
        codings: list[bytes] = []
        tokens: list[bytes] = []
        if not _framing_fields:
            import re

            _framing_fields.append(re.compile(_FRAMING_FIELDS))
        for name, value in _framing_fields[0].findall(head._lower_block()):
            if name == b"content-length":
                length = value  # the only one: llhttp refuses a second Content-Length field
            elif name == b"connection":
                tokens += value.replace(b" ", b"").replace(b"\t", b"").split(b",")
            else:
                # Only SP is taken off the end: llhttp keeps a trailing HTAB in the coding (nodejs/llhttp#876)
                # and would not read "chunked<HTAB>" as chunked, so brisk refuses it rather than frame the
                # body differently from a proxy built on llhttp.
                codings.append(value.rstrip(b" "))
        if head.http_version == "HTTP/1.1":
            head.keep_alive = b"close" not in tokens
        else:
            # An HTTP/1.0 message with Transfer-Encoding has faulty framing: it is read as chunked, but the
            # connection is closed afterwards whatever Connection says (RFC 9112 section 6.1).
            head.keep_alive = not codings and b"keep-alive" in tokens and b"close" not in tokens
        if self._bodiless(head.status_code):
            self._framing = _NONE
        elif codings:
            # Only SP and HTAB are whitespace around a token (RFC 9110 section 5.6.1): str.strip() would
            # also take NBSP or NEL away and read "chunked\xa0" as chunked, which llhttp does not.
            transfer_encoding = b",".join(codings)
            if [c.lstrip(b" \t").rstrip(b" ").lower() for c in transfer_encoding.split(b",")] != [b"chunked"]:
                raise RemoteProtocolError(
                    f"unsupported Transfer-Encoding {transfer_encoding.decode('latin-1')!r} in the "
                    "response (only 'chunked' is accepted)"
                )
            self._framing = _CHUNKED
            # A second llhttp, with callbacks, reads the body: primed with a fixed chunked head it is at
            # the start of the chunked body, and its trailers come back through on_header.
            self._llhttp = (httptools or _load_llhttp()).HttpResponseParser(self)
            self._framing_run = 0  # bytes of framing (sizes, extensions, trailers) since body data
            self._trailer_count = 0
            self._trailer_bytes = -1  # on_header of the priming head is not a trailer
            self._trailer_fields: list[tuple[str, str]] = []
            self._trailers_too_large = False
            self._failure: RemoteProtocolError | None = None  # raised by a callback, to raise again
            self._llhttp.feed_data(_CHUNKED_PRIMER)
        else:
            # llhttp already refused non-digits, duplicates, and Content-Length together with chunked;
            # int() ignores the trailing whitespace the pattern keeps.
            self._frame_plain(head, None if length is None else int(length))
        self._started(head)

    # -- body ------------------------------------------------------------------------------------------

    def _feed_body(self, data: bytes) -> None:
        framing = self._framing
        if self.complete:
            # Empty lines between responses are tolerated (RFC 9112 section 2.2), as llhttp does when they
            # arrive in the same piece; anything else after the end of the response is a leftover.
            if data.strip(b"\r\n"):
                self.leftover = True
        elif framing == _LENGTH:
            remaining = self._remaining
            size = len(data)
            if size < remaining:
                self._remaining = remaining - size
                self._body.append(data)
                return
            if size > remaining:
                if data[remaining:].strip(b"\r\n"):  # empty lines after a response are tolerated
                    self.leftover = True
                data = data[:remaining]
            self._remaining = 0
            if data:
                self._body.append(data)
            self.complete = True
        elif framing == _CHUNKED:
            assert self._llhttp is not None
            pieces = len(self._body)
            try:
                self._llhttp.feed_data(data)
            except httptools.HttpParserCallbackError as exc:
                # What a callback raised is told by the parser's own state, not by exc.__context__: Python
                # replaces that with the exception being handled when brisk is called in an except block.
                if self._failure is not None:
                    raise self._failure from None
                if self.leftover:
                    return  # a second message began after the end of this one (on_message_begin)
                raise ChunkedEncodingError(f"invalid chunked body from the server: {exc}") from exc
            except httptools.HttpParserError as exc:
                if self.complete:  # llhttp refuses bytes after a closing response: they are a leftover
                    self.leftover = True
                    return
                raise ChunkedEncodingError(f"invalid chunked body from the server: {exc}") from None
            # llhttp buffers nothing of a chunk extension and httptools buffers a whole trailer line: bound
            # the framing between two pieces of body data, so an endless extension or trailer line is an
            # error now rather than memory spent until the read timeout.
            if len(self._body) > pieces:
                self._framing_run = 0
            elif not self.complete:
                self._framing_run += len(data)
                if self._framing_run > 2 * self._limits.max_head_size:
                    raise ChunkedEncodingError(
                        f"more than {2 * self._limits.max_head_size} bytes of chunk sizes, extensions or "
                        "trailers without body data (2 x Limits.max_head_size)"
                    )
        else:  # _CLOSE
            self._body.append(data)

    # -- llhttp callbacks (method names are httptools' protocol) -----------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:
            self.leftover = True
            raise _Stop

    def on_header(self, name: bytes, value: bytes) -> None:
        """Trailers of a chunked body: measured against the header limits, kept within them (``trailers``
        once the body is complete).

        The verdict waits for the end of the trailer section (``on_message_complete``): httptools reports a
        field only once the next one starts, which for a malformed next line depends on how the bytes were
        split, so raising here would make the error depend on the segmentation. Memory stays bounded
        meanwhile by the framing limit in ``_feed_body``.
        """
        if self._trailer_bytes < 0:  # the priming head's own header
            self._trailer_bytes = 0
            self._trailer_count = 0
            return
        limits = self._limits
        size = len(name) + len(value) + 4
        self._trailer_bytes += size
        self._trailer_count += 1
        if (
            size > limits.max_header_line
            or self._trailer_bytes > limits.max_head_size
            or self._trailer_count > limits.max_header_count
        ):
            self._trailers_too_large = True
        else:
            self._trailer_fields.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))

    def on_body(self, data: bytes) -> None:
        self._body.append(data)

    def on_message_complete(self) -> None:
        if self.head is not None and self._framing == _CHUNKED:
            if self._trailers_too_large:
                self._failure = ResponseHeadersTooLarge(
                    "the chunked body's trailer section exceeds the header limits (Limits)"
                )
                raise self._failure
            self.trailers = self._trailer_fields
            self.complete = True


def _describe_start(data: bytes) -> str:
    if data[:1] in (b"\x15", b"\x16"):  # a TLS handshake or alert record
        return "TLS bytes (the server speaks HTTPS on this port: use an https:// URL)"
    return repr(data[:16])


def _describe(exc: Exception, head_bytes: bytes) -> str:
    """llhttp's reason, plus a hint when a TLS server answered a plain-HTTP request."""
    if head_bytes[:1] == b"\x16" or head_bytes[:2] == b"\x15\x03":
        return f"{exc} (the server answered with TLS bytes: is this an https:// URL?)"
    return str(exc)
