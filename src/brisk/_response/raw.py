"""``response.raw``: the body as urllib3's ``HTTPResponse`` offers it, for code written against requests;
and the other way round, a raw set by hand (``response.raw = io.BytesIO(...)``) read as the body of a
Response.

The layers are urllib3's. ``raw._fp`` is a ``WireBody``: the body as it came off the connection (transfer
framing removed, content coding kept), a file object shaped like the ``http.client`` response urllib3 wraps.
Every read of the body goes through whatever ``raw._fp`` is at the time: ``raw.read`` and ``raw.stream``, and
the Response's own ``content``, ``iter_content``... (the Response reads its raw, as requests' does). So code
that replaces ``raw._fp`` with a wrapper (CacheControl tees the body into its cache that way) sees every byte,
and code that sets ``raw._fp = io.BytesIO(body)`` after reading the body makes it readable again.

While ``raw._fp`` is still brisk's own, the Response takes the body from it piece by piece as the transport
hands them over (no copies, the transport's large-read paths kept). A Response whose raw nobody asked for
has none and reads its transport stream directly.

The raw holds no reference to its Response (only a weak one), as urllib3's response knows nothing of
requests': a Response dropped unread frees its raw, and its connection, at once.
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from brisk._core.headers import Headers
from brisk.exceptions import (
    ChunkedEncodingError,
    ContentDecodingError,
    IncompleteBody,
    RequestException,
    SSLError,
)
from brisk.exceptions import ConnectionError as BriskConnectionError

if TYPE_CHECKING:
    from http.client import HTTPMessage

    from brisk._core.url import URL
    from brisk._response.decoders import ContentDecoder
    from brisk.models import PreparedRequest, Response

__all__ = ["HandSetRaw", "RawHeaders", "RawResponse", "WireBody", "headers_from"]

CONTENT_CHUNK_SIZE = 10 * 1024  # what requests reads a raw by when it reads the whole body
_STREAM_SIZE = 2**16  # urllib3's default for stream()
_VERSIONS = {"HTTP/1.1": 11, "HTTP/2": 20, "HTTP/1.0": 10, "HTTP/0.9": 9}

# The errors of urllib3's ``stream()`` that requests turns into its own, by urllib3's class names (urllib3 is
# no dependency of brisk: a raw of its kind only comes from the caller's code).
_FROM_URLLIB3: dict[str, type[RequestException]] = {
    "ProtocolError": ChunkedEncodingError,
    "DecodeError": ContentDecodingError,
    "ReadTimeoutError": BriskConnectionError,
    "SSLError": SSLError,
}


_MISSING: Any = object()


class RawHeaders(Headers):
    """``raw.headers``: the Response's headers as urllib3's ``HTTPHeaderDict`` shows them, over the same
    store (a change made through either shows in both). A name's values read joined
    (``headers["Set-Cookie"]``) as in requests, but ``items()`` gives repeated names as separate pairs, and
    ``getlist``/``get_all``,
    ``iteritems``, ``itermerged``, ``extend`` and ``add(..., combine=)`` are urllib3's, so that copying them
    into an ``HTTPHeaderDict`` or a cookie jar keeps each Set-Cookie apart."""

    __slots__ = ()

    @classmethod
    def view(cls, headers: Headers) -> RawHeaders:
        self = cls.__new__(cls)
        self._store = headers._store
        self._multi = headers._multi
        self._unset = False
        return self

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self.multi_items())

    def iteritems(self) -> Iterator[tuple[str, str]]:
        return self.multi_items()

    def itermerged(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._store.values()))

    def getlist(self, key: str, default: Any = _MISSING) -> Any:
        values = self.get_list(key)
        if not values and default is not _MISSING:
            return default
        return values

    getheaders = getallmatchingheaders = iget = get_all = getlist

    def add(self, key: str, value: str, *, combine: bool = False) -> None:
        existing = self.get_list(key)
        if combine and existing:
            existing[-1] = f"{existing[-1]}, {value}"
            del self[key]
            for item in existing:
                super().add(key, item)
            return
        super().add(key, value)

    def extend(self, *args: Any, **kwargs: Any) -> None:
        for other in (*args, kwargs):
            if hasattr(other, "keys"):
                pairs: Iterable[tuple[str, str]] = list(headers_from(other).multi_items())
            else:
                pairs = list(other)
            for name, value in pairs:
                super().add(name, value)

    def discard(self, key: str) -> None:
        self.pop(key, None)

    def copy(self) -> RawHeaders:
        new = RawHeaders.__new__(RawHeaders)
        new._store = dict(self._store)
        new._multi = {k: list(v) for k, v in self._multi.items()} if self._multi else {}
        new._unset = False
        return new


class WireBody(io.BufferedIOBase):
    """The body as received, a file: ``read(n)``, ``read1``, ``readinto``, ``peek``, ``close()``; closed once
    read to its end, as ``http.client``'s response is (``raw._fp`` in requests). It also answers what code
    reads from that response: ``status``, ``reason``, ``version``, ``msg``/``headers``, ``getheader``.

    Pieces are taken from the transport as they come; a read of ``n`` bytes slices the piece it is in rather
    than copying what is left of it (reading a large body in small reads stays linear).
    """

    def __init__(
        self,
        stream: Any,
        pieces: Iterator[bytes] | None,
        left: int | None,
        head: tuple[int, str, int, Headers],
        url: URL | None = None,
        request: PreparedRequest | None = None,
    ) -> None:
        super().__init__()
        self._stream = stream  # what close() closes: gives the connection back, or drops it mid-body
        self._pieces = pieces  # None: not started (the whole body may still be read in one call)
        self._buffer = b""
        self._offset = 0
        self._left = left  # bytes still to come when the length is known: the end is seen with the last one
        self._ended = stream is None  # nothing more will come from the stream
        self._shut = False  # close() was called
        self.status, self.reason, self.version, self._headers = head
        self._url = url
        self._request = request
        self._msg: HTTPMessage | None = None
        self.debuglevel = 0

    # -- reading -----------------------------------------------------------------------------------------

    def _next(self) -> bytes | None:
        """The next piece from the transport, or None at the end (which closes this file)."""
        pieces = self._pieces
        if pieces is None:
            if self._ended or self._shut:
                return None
            pieces = self._pieces = iter(self._stream)
        try:
            piece: bytes | None = next(pieces, None)
        except RequestException as exc:
            self._with_url(exc)
            raise
        if piece is None:
            self._end()
            return None
        if self._left is not None:
            self._left -= len(piece)
        return piece

    def _check_end(self) -> None:
        """After a read that emptied the buffer: once the announced length has arrived, let the transport
        finish the body now (it has nothing more to wait for), so that this file is closed with its last
        byte, as ``http.client``'s is, not one read later."""
        left = self._left
        if left is None or left > 0 or self._ended or self._offset < len(self._buffer):
            return
        self._left = None
        while (extra := self._next()) is not None:
            if extra:  # more than announced (a response made by hand): kept for the next read
                self._buffer, self._offset = extra, 0
                return

    def _end(self) -> None:
        self._ended = True
        self._pieces = None

    def _with_url(self, exc: RequestException) -> None:
        if self._url is not None:
            from brisk._core.error_context import add_url_context

            add_url_context(exc, self._url, self._request)

    def read(self, amt: int | None = -1) -> bytes:
        if amt is None or amt < 0:
            return self._read_all()
        buffer, offset = self._buffer, self._offset
        parts = []
        wanted = amt
        while wanted:
            if offset < len(buffer):
                part = buffer[offset : offset + wanted]  # the whole piece itself when it all fits
                parts.append(part)
                offset += len(part)
                wanted -= len(part)
                continue
            piece = self._next()
            if piece is None:
                break
            buffer, offset = piece, 0
        if offset >= len(buffer):
            buffer, offset = b"", 0
        self._buffer, self._offset = buffer, offset
        if not buffer:
            self._check_end()
        if not parts:
            return b""
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _read_all(self) -> bytes:
        rest = self._buffer[self._offset :]
        self._buffer, self._offset = b"", 0
        if self._ended or self._shut:
            return rest
        stream = self._stream
        if self._pieces is None and not rest and hasattr(stream, "read_all"):
            try:  # not started: the transport reads the whole body its fastest way
                data: bytes = stream.read_all()
            except RequestException as exc:
                self._with_url(exc)
                raise
            self._end()
            return data
        parts = [rest] if rest else []
        while (piece := self._next()) is not None:
            parts.append(piece)
        if not parts:
            return b""
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _fill(self) -> bool:
        """Make sure the buffer holds something unless the body is over."""
        if self._offset < len(self._buffer):
            return True
        piece = self._next()
        if piece is None:
            return False
        self._buffer, self._offset = piece, 0
        return True

    def read1(self, amt: int | None = -1) -> bytes:
        """What is at hand, or the next piece when nothing is: at most ``amt`` bytes, one wait at most."""
        if not self._fill():
            return b""
        at_hand = len(self._buffer) - self._offset
        return self.read(at_hand if amt is None or amt < 0 else min(amt, at_hand))

    def peek(self, size: int = 0) -> bytes:
        if not self._fill():
            return b""
        return self._buffer[self._offset :]

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readinto1(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read1(len(view))
        view[: len(data)] = data
        return len(data)

    def pieces(self) -> Iterator[bytes]:
        """The rest of the body as the transport hands it over (no slicing): how the Response reads a raw
        whose ``_fp`` nobody replaced."""
        rest = self._buffer[self._offset :]
        self._buffer, self._offset = b"", 0
        if rest:
            yield rest
        while (piece := self._next()) is not None:
            yield piece

    @property
    def started(self) -> bool:
        return self._pieces is not None or self._ended or bool(self._buffer)

    # -- state -------------------------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        """True once closed, or read to its end (``http.client``'s meaning, which urllib3 relies on)."""
        return self._shut or (self._ended and self._offset >= len(self._buffer))

    def isclosed(self) -> bool:
        return self.closed

    def close(self) -> None:
        """Release the connection: back to the pool when the body was read to its end, else closed."""
        if self._shut:
            return
        self._shut = True
        self._buffer, self._offset = b"", 0
        self._pieces = None
        stream = self._stream
        if stream is not None and hasattr(stream, "close"):
            stream.close()

    def fileno(self) -> int:
        raise io.UnsupportedOperation("brisk reads the body through its transport: it has no file descriptor")

    def __del__(self) -> None:
        """No close() when collected (io's default): the garbage collector may run while this thread holds
        the pool's lock. The transport's stream, collected with this file, gives its connection up itself."""

    # -- the head, as http.client's response has it ------------------------------------------------------

    @property
    def msg(self) -> HTTPMessage:
        if self._msg is None:
            from http.client import HTTPMessage

            message = HTTPMessage()
            for name, value in self._headers.multi_items():
                message[name] = value  # appends: repeated names stay separate (get_all)
            self._msg = message
        return self._msg

    headers = msg

    def getheader(self, name: str, default: Any = None) -> Any:
        values = self._headers.get_list(name)
        return ", ".join(values) if values else default

    def getheaders(self) -> list[tuple[str, str]]:
        return list(self._headers.multi_items())

    def info(self) -> HTTPMessage:
        return self.msg

    def geturl(self) -> str | None:
        return None if self._url is None else str(self._url)

    def getcode(self) -> int:
        return self.status

    @property
    def length(self) -> int | None:
        return self._left

    @property
    def chunked(self) -> bool:
        return _is_chunked(self._headers)


class RawResponse(io.IOBase):
    """``response.raw``: urllib3 2's ``HTTPResponse`` surface over brisk's body.

    ``read(amt, decode_content, cache_content)``, ``read1``, ``readinto``, ``stream``, line iteration,
    ``data``, ``json()``, ``tell()`` (bytes off the wire), ``release_conn``, ``drain_conn``, ``close``,
    ``closed``/``isclosed()``, ``getheader(s)``, ``info``, ``geturl``, ``get_redirect_location``; the
    attributes ``status``, ``reason``, ``version``, ``version_string``, ``headers``, ``msg``,
    ``decode_content`` (False, as requests opens it), ``chunked``, ``length_remaining``, ``retries``, ``url``,
    and the private ones code built on requests reads (``_fp``, ``_fp_bytes_read``, ``_original_response``,
    ``_body``).

    Content decoding (gzip, deflate, br, zstd) is brisk's, with its limits: a read of ``n`` decoded bytes
    holds one bounded decoding step at a time, whatever one network read expands to. Transfer framing is
    removed before the body reaches ``_fp``, so ``chunked`` says what the server sent but
    ``supports_chunked_reads()`` is False and ``chunk_left`` stays None.
    """

    CONTENT_DECODERS = ["gzip", "x-gzip", "deflate", "br", "zstd"]
    REDIRECT_STATUSES = [301, 302, 303, 307, 308]
    DECODER_ERROR_CLASSES: tuple[type[Exception], ...] = (OSError, ContentDecodingError)

    def __init__(self, response: Response) -> None:
        self._owner = weakref.ref(response)
        self._claimed = False  # build_response has handed out the Response this raw came with
        headers = response.headers
        self.headers: Any = RawHeaders.view(headers)
        self.status: int = response.status_code
        self.reason: Any = response.reason
        self.version_string: str = response.http_version
        self.version: int = _VERSIONS.get(response.http_version, 11)
        self.decode_content = False
        self.retries: Any = response.retries
        self.strict = 0
        self.enforce_content_length = True
        self.auto_close = True
        self.chunked = _is_chunked(headers)
        self.chunk_left: int | None = None
        request = response.request
        method = request.method if request is not None else None
        self.length_remaining: int | None = _initial_length(headers, self.chunked, self.status, method)
        self._fp_bytes_read = 0
        self._request_url: str | None = response.url or None
        self._body: bytes | None = None  # urllib3's cache of the whole body (read(cache_content=True))
        self._uncached_read_occurred = False
        self._pool: Any = None
        self._connection: Any = None
        self._sock_shutdown: Any = None
        self._decoder: ContentDecoder | None = None
        self._decoder_made = False
        self._has_decoded_content = False
        self._decoded = b""  # decoded bytes read ahead of the caller, from _decoded_offset on
        self._decoded_offset = 0
        self._decoding: Iterator[bytes] | None = None  # the decoding steps of the last raw piece, lazily
        self._flushed = False

        head = (self.status, self.reason, self.version, headers)
        url = request._url if request is not None else None
        stream = response._stream
        if response._content is not None or (response._consumed and response._chunks is None):
            # Read already (content, iter_content...): at its end and closed, as urllib3's would be.
            wire = WireBody(None, None, None, head, url, request)
            if self.length_remaining is not None:
                self._fp_bytes_read, self.length_remaining = self.length_remaining, 0
        elif not hasattr(stream, "read_all") or isinstance(stream, (HandSetRaw, ThroughRaw)):
            # No body; an async one, which this sync file view cannot read (reads raise, as they did); or a
            # stream that is some raw's already.
            wire = WireBody(stream, None, self.length_remaining, head, url, request)
        else:
            wire = WireBody(stream, response._chunks, self.length_remaining, head, url, request)
            # From now on the Response takes its body through this raw, as requests' does.
            response._stream = ThroughRaw(self)
            response._chunks = None
            response._consumed = False
        self._wire = wire
        self._fp: Any = wire
        self._original_response: Any = wire

    def _claim(self) -> Response | None:
        """The Response this raw came with, the first time ``build_response`` asks (later calls, with a raw
        kept in a cache, get a new Response reading this raw, as in requests)."""
        if self._claimed:
            return None
        self._claimed = True
        return self._owner()

    # -- reading, as urllib3 --------------------------------------------------------------------------

    def _raw_read(self, amt: int | None = None, read1: bool = False) -> bytes:
        """Bytes from ``_fp`` as they are (content coding kept), counted in ``tell()``."""
        fp = self._fp
        if fp is None:
            return b""
        if fp is self._wire:
            data = fp.read1(amt) if read1 else fp.read(amt)
        else:
            if getattr(fp, "closed", False):
                return b""
            # Only read() on a file set by hand: a wrapper's read() is what it tees (read1 would pass it by)
            data = fp.read(amt) if amt is not None else fp.read()
            if amt is not None and amt != 0 and not data:
                fp.close()
                left = self.length_remaining
                if self.enforce_content_length and left is not None and left != 0:
                    raise IncompleteBody(
                        f"IncompleteRead({self._fp_bytes_read} bytes read, {left} more expected)"
                    )
        if data:
            self._fp_bytes_read += len(data)
            if self.length_remaining is not None:
                self.length_remaining -= len(data)
        return data

    def _content_decoder(self) -> ContentDecoder | None:
        if not self._decoder_made:
            self._decoder_made = True
            values = self.headers.get_list("content-encoding") if isinstance(self.headers, Headers) else None
            if values is None:
                value = self.headers.get("content-encoding") if self.headers is not None else None
                values = [value] if value else []
            if values:
                from brisk._core.config import DEFAULT_LIMITS
                from brisk._response.decoders import make_decoder

                owner = self._owner()
                limits = owner._limits if owner is not None and owner._limits is not None else DEFAULT_LIMITS
                self._decoder = make_decoder(", ".join(values), limits)
        return self._decoder

    def read(
        self, amt: int | None = None, decode_content: bool | None = None, cache_content: bool = False
    ) -> bytes:
        """Up to ``amt`` bytes (all when None), content-decoded if ``decode_content`` (default: the
        attribute). Fewer only at the end of the body."""
        decode = self.decode_content if decode_content is None else decode_content
        if amt is not None and amt < 0:
            amt = None
        decoder = self._content_decoder() if decode else None
        if decoder is None:
            data = self._raw_read(amt)
            if (
                self._has_decoded_content
                and not decode
                and (data or self._decoded_offset < len(self._decoded))
            ):
                raise RuntimeError(
                    "Calling read(decode_content=False) is not supported after "
                    "read(decode_content=True) was called."
                )
            if amt is None and cache_content and not self._uncached_read_occurred:
                self._body = data
            elif not cache_content or amt is not None:
                self._uncached_read_occurred = True
            return data
        self._has_decoded_content = True
        if amt is None:
            data = self._decoded_rest(decoder)
            if cache_content and not self._uncached_read_occurred:
                self._body = data
            else:
                self._uncached_read_occurred = True
            return data
        self._uncached_read_occurred = True
        return self._decoded_read(decoder, amt, amt, one_read=False)

    def _decoded_rest(self, decoder: ContentDecoder) -> bytes:
        parts = [self._decoded[self._decoded_offset :]]
        self._decoded, self._decoded_offset = b"", 0
        if self._decoding is not None:
            parts.extend(self._decoding)
            self._decoding = None
        if not self._flushed:
            raw = self._raw_read(None)
            try:
                if raw:
                    parts.extend(decoder.iter_decode(raw))
                parts.append(decoder.flush())
            except ContentDecodingError as exc:
                raise self._decoding_error(exc) from exc
            self._flushed = True
        return b"".join(parts)

    def _decoded_read(self, decoder: ContentDecoder, amt: int, step: int, one_read: bool) -> bytes:
        """``amt`` decoded bytes (fewer at the end; with ``one_read``, what one read of ``_fp`` gives)."""
        buffer, offset = self._decoded, self._decoded_offset
        parts: list[bytes] = []
        wanted = amt
        while True:
            if offset < len(buffer):
                part = buffer[offset : offset + wanted]
                parts.append(part)
                offset += len(part)
                wanted -= len(part)
            if not wanted or (one_read and parts):
                break
            piece = next(self._decoding, None) if self._decoding is not None else None
            if piece is None:
                self._decoding = None
                if self._flushed:
                    break
                raw = self._raw_read(step, read1=one_read)
                try:
                    if raw:
                        self._decoding = decoder.iter_decode(raw)
                        continue
                    piece = decoder.flush()
                except ContentDecodingError as exc:
                    raise self._decoding_error(exc) from exc
                self._flushed = True
            buffer, offset = piece, 0
        if offset >= len(buffer):
            buffer, offset = b"", 0
        self._decoded, self._decoded_offset = buffer, offset
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _decoding_error(self, exc: ContentDecodingError) -> ContentDecodingError:
        self.close()
        url = self._request_url
        return type(exc)(f"{exc} ({_redacted(url)})" if url else str(exc))

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        """At most ``amt`` bytes from what one read of the connection gives (urllib3 2.3's ``read1``)."""
        decode = self.decode_content if decode_content is None else decode_content
        if amt is not None and amt < 0:
            amt = None
        if amt == 0:
            return b""
        decoder = self._content_decoder() if decode else None
        if decoder is None:
            if self._has_decoded_content and not decode:
                raise RuntimeError(
                    "Calling read1(decode_content=False) is not supported after "
                    "read1(decode_content=True) was called."
                )
            self._uncached_read_occurred = True
            return self._raw_read(amt, read1=True)
        self._has_decoded_content = True
        self._uncached_read_occurred = True
        size = amt if amt is not None else 1 << 62
        while True:
            data = self._decoded_read(decoder, size, amt or 8192, one_read=True)
            if data or self._flushed:
                return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def stream(self, amt: int | None = _STREAM_SIZE, decode_content: bool | None = None) -> Iterator[bytes]:
        """The body in pieces of up to ``amt`` bytes until its end (never an empty piece)."""
        if amt == 0:
            return
        while data := self.read(amt, decode_content=decode_content):
            yield data

    def read_chunked(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        """``stream()`` for a chunked response (brisk has removed the framing already)."""
        if not self.chunked:
            raise ValueError("Response is not chunked. Header 'transfer-encoding: chunked' is missing.")
        yield from self.stream(amt, decode_content)

    def __iter__(self) -> Iterator[bytes]:
        """The decoded body line by line, each line with its b"\\n" (urllib3's iteration)."""
        held: list[bytes] = []
        for chunk in self.stream(decode_content=True):
            lines = chunk.split(b"\n")
            if len(lines) == 1:
                held.append(chunk)
                continue
            held.append(lines[0])
            yield b"".join(held) + b"\n"
            for line in lines[1:-1]:
                yield line + b"\n"
            held = [lines[-1]] if lines[-1] else []
        if held:
            yield b"".join(held)

    @property
    def data(self) -> bytes:
        """The whole body (read now if it was not), as ``read(cache_content=True)``; kept for later calls."""
        if self._body:
            return self._body
        if self._fp is not None:
            return self.read(cache_content=True)
        return None  # type: ignore[return-value]  # as urllib3

    def json(self) -> Any:
        import json

        return json.loads(self.data.decode("utf-8"))

    def tell(self) -> int:
        """Bytes taken off the wire so far (before content decoding), as urllib3 counts."""
        return self._fp_bytes_read

    def readable(self) -> bool:
        return True

    # -- the connection --------------------------------------------------------------------------------

    def release_conn(self) -> None:
        """Let the connection go: back to the pool when the body was read to its end, else closed."""
        self._wire.close()

    def drain_conn(self) -> None:
        """Read and drop what is left of the body, so the connection can serve another request."""
        try:
            while self._raw_read(_STREAM_SIZE):
                pass
        except (RequestException, OSError):
            pass
        self._decoded, self._decoded_offset, self._decoding = b"", 0, None

    def shutdown(self) -> None:
        raise ValueError("Cannot shutdown socket as self._sock_shutdown is not set")

    def close(self) -> None:
        fp = self._fp
        if fp is not None and not self.closed:
            fp.close()
        self._wire.close()
        self.__dict__["_closed_by_close"] = True

    @property
    def closed(self) -> bool:
        """True once ``_fp`` is closed or read to its end (urllib3's meaning); with ``auto_close`` False, only
        once ``close()`` was called (what ``io.TextIOWrapper(raw)`` needs to read to the end)."""
        if not self.auto_close:
            return bool(self.__dict__.get("_closed_by_close"))
        fp = self._fp
        if fp is None:
            return True
        if fp is self._wire:
            return fp.closed
        if hasattr(fp, "isclosed"):
            return bool(fp.isclosed())
        if hasattr(fp, "closed"):
            return bool(fp.closed)
        return True

    def isclosed(self) -> bool:
        fp = self._fp
        if fp is None:
            return True
        if hasattr(fp, "isclosed"):
            return bool(fp.isclosed())
        return bool(getattr(fp, "closed", True))

    def fileno(self) -> int:
        fp = self._fp
        if fp is None:
            raise OSError("HTTPResponse has no file to get a fileno from")
        if hasattr(fp, "fileno"):
            return int(fp.fileno())
        raise OSError("The file-like object this HTTPResponse is wrapped around has no file descriptor")

    def flush(self) -> None:
        fp = self._fp
        if fp is not None and hasattr(fp, "flush") and not getattr(fp, "closed", False):
            fp.flush()

    @property
    def connection(self) -> Any:
        return self._connection

    def __del__(self) -> None:
        """No close() when collected (io's default), as for WireBody: the transport's stream, collected with
        this raw, gives its connection up itself, without taking the pool's lock from a finaliser."""

    def supports_chunked_reads(self) -> bool:
        return hasattr(self._fp, "fp")

    def _update_chunk_length(self) -> None:
        """urllib3 reads a chunk-size line here; brisk's transport has removed the framing already."""

    def _init_decoder(self) -> None:
        self._content_decoder()

    # -- the head --------------------------------------------------------------------------------------

    @property
    def msg(self) -> Any:
        """The headers as ``http.client.HTTPMessage`` (``get_all``), what urllib3 keeps from http.client."""
        return self.__dict__.get("_msg") or self._wire.msg

    @msg.setter
    def msg(self, value: Any) -> None:
        self.__dict__["_msg"] = value

    @property
    def url(self) -> str | None:
        return self._request_url

    @url.setter
    def url(self, value: str | None) -> None:
        self._request_url = value

    def geturl(self) -> str | None:
        return self._request_url

    def getheaders(self) -> Any:
        return self.headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        value: str | None = self.headers.get(name, default)
        return value

    def info(self) -> Any:
        return self.headers

    def get_redirect_location(self) -> Any:
        """The Location of a redirect (None if it has none); False for any other status."""
        if self.status in self.REDIRECT_STATUSES:
            return self.headers.get("location")
        return False

    def __repr__(self) -> str:
        return f"<brisk RawResponse [{self.status}]>"


class ThroughRaw:
    """The body stream of a Response that has a raw: every piece comes through ``raw._fp``."""

    __slots__ = ("piece_size", "raw", "read_size")

    def __init__(self, raw: RawResponse) -> None:
        self.raw = raw
        self.read_size: int | None = None  # iter_content's chunk size: how much to ask ``_fp`` for at once
        self.piece_size: int | None = None  # set with read_size when pieces of exactly that size are wanted

    def __iter__(self) -> Iterator[bytes]:
        raw = self.raw
        wire = raw._wire
        if raw._fp is wire:
            # Nobody replaced _fp: the pieces as the transport hands them over, its large reads kept.
            if not wire.started and self.piece_size is not None and hasattr(wire._stream, "piece_size"):
                wire._stream.read_size = wire._stream.piece_size = self.piece_size
            for piece in wire.pieces():
                raw._fp_bytes_read += len(piece)
                if raw.length_remaining is not None:
                    raw.length_remaining -= len(piece)
                yield piece
            return
        size = self.read_size or CONTENT_CHUNK_SIZE
        while data := raw._raw_read(size):
            yield data

    def read_all(self) -> bytes:
        raw = self.raw
        if raw._fp is raw._wire:
            return raw._raw_read(None)
        # A file set by hand: read as requests reads it (raw.stream(10240)), so that one ending before the
        # announced length is an IncompleteRead, as urllib3 finds it.
        parts = []
        while data := raw._raw_read(CONTENT_CHUNK_SIZE):
            parts.append(data)
        return b"".join(parts)

    def close(self) -> None:
        self.raw.close()

    async def __aiter__(self) -> Any:
        for piece in self:
            yield piece

    async def aread_all(self) -> bytes:
        return self.read_all()

    async def aclose(self) -> None:
        self.close()


class HandSetRaw:
    """A raw assigned by hand, as the body stream of its Response (``read_all``, iteration, ``close``).

    Read the way requests reads ``response.raw``: ``raw.stream(n, decode_content=True)`` when it has one
    (urllib3's response, which decodes itself), else ``raw.read(n)`` until it returns nothing. Either way
    the bytes are taken as they come: the Response applies no Content-Encoding of its own to them.
    """

    def __init__(self, raw: Any, replaced: Any = None) -> None:
        self.raw = raw
        self._replaced = replaced  # the stream this raw took the place of: released by close()
        self.read_size: int | None = CONTENT_CHUNK_SIZE  # iter_content sets the caller's chunk size
        self._ended = False

    def __iter__(self) -> Iterator[bytes]:
        raw = self.raw
        if hasattr(raw, "stream"):
            try:
                for chunk in raw.stream(self.read_size, decode_content=True):
                    yield _as_bytes(chunk)
            except Exception as exc:
                translated = _translate(exc)
                if translated is None:
                    raise
                raise translated from exc
        else:
            while chunk := raw.read(self.read_size):
                yield _as_bytes(chunk)
        self._ended = True

    def read_all(self) -> bytes:
        self.read_size = CONTENT_CHUNK_SIZE
        return b"".join(self)

    def close(self) -> None:
        # As requests: close the raw only while its body is unread; let urllib3's give its connection back.
        raw = self.raw
        if not self._ended and hasattr(raw, "close"):
            raw.close()
        release_conn = getattr(raw, "release_conn", None)
        if release_conn is not None:
            release_conn()
        replaced = self._replaced
        if replaced is not None and hasattr(replaced, "close"):
            replaced.close()  # its connection goes back to the pool (or is closed, if unread)


def headers_from(value: Any) -> Headers:
    """Headers from what a urllib3-shaped raw carries, repeated names kept apart (urllib3's
    ``HTTPHeaderDict.getlist``, ``http.client``'s ``get_all``) so that each Set-Cookie stays one cookie."""
    if type(value) is Headers:
        return value
    if isinstance(value, Headers):
        return Headers.from_raw(value.multi_items())
    if value is None:
        return Headers()
    getlist = getattr(value, "getlist", None) or getattr(value, "get_all", None)
    if getlist is not None and hasattr(value, "keys"):
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        for name in list(value.keys()):
            lower = name.lower() if isinstance(name, str) else name
            if lower in seen:
                continue
            seen.add(lower)
            pairs.extend((name, item) for item in getlist(name) or ())
        return Headers.from_raw(pairs)
    if isinstance(value, Mapping):
        return Headers(value)
    return Headers(value if isinstance(value, Iterable) else None)


def _is_chunked(headers: Any) -> bool:
    value = headers.get("transfer-encoding") if headers is not None else None
    return isinstance(value, str) and "chunked" in (item.strip().lower() for item in value.split(","))


def _initial_length(headers: Any, chunked: bool, status: int | None, method: str | None) -> int | None:
    """urllib3's ``length_remaining`` at the start: Content-Length (None when absent, invalid or chunked);
    0 where no body may come (HEAD, 1xx, 204, 304)."""
    length: int | None = None
    value = headers.get("content-length") if headers is not None else None
    if value is not None and not chunked:
        try:
            lengths = {int(item) for item in value.split(",")}
        except ValueError:
            lengths = set()
        if len(lengths) == 1:
            length = lengths.pop()
            if length < 0:
                length = None
    if status in (204, 304) or (status is not None and 100 <= status < 200) or method == "HEAD":
        length = 0
    return length


def _redacted(url: str) -> str:
    """``url`` without credentials: models' helper (imported here, as models imports this module)."""
    from brisk.models import _redacted as redacted

    return redacted(url)


def _as_bytes(chunk: bytes | str) -> bytes:
    """A text raw (``io.StringIO`` in a fake) still gives a body of bytes."""
    return chunk.encode("utf-8") if isinstance(chunk, str) else chunk


def _translate(error: Exception) -> RequestException | None:
    for kind in type(error).__mro__:
        if kind.__module__.startswith("urllib3") and kind.__name__ in _FROM_URLLIB3:
            return _FROM_URLLIB3[kind.__name__](error)
    return None
