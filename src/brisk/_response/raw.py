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

The parts: ``raw._fp`` is :mod:`brisk._response.wire`, ``raw.headers`` :mod:`brisk._response.raw_headers`,
and a raw set by hand is read by :mod:`brisk._response.hand_set`.

The raw holds no reference to its Response (only a weak one), as urllib3's response knows nothing of
requests': a Response dropped unread frees its raw, and its connection, at once.
"""

from __future__ import annotations

import io
from _weakref import ref as weakref_ref  # weakref.ref, without loading the weakref module
from collections.abc import Iterator

from brisk._core.config import DEFAULT_LIMITS
from brisk._core.headers import Headers
from brisk._core.url import redacted
from brisk._response.hand_set import CONTENT_CHUNK_SIZE, HandSetRaw
from brisk._response.raw_headers import RawHeaders, headers_from
from brisk._response.wire import WireBody, is_chunked
from brisk.exceptions import ContentDecodingError, IncompleteBody, RequestException

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._response.decoders import ContentDecoder
    from brisk.models import Response

__all__ = ["HandSetRaw", "RawHeaders", "RawResponse", "ThroughRaw", "WireBody", "headers_from"]

_STREAM_SIZE = 2**16  # urllib3's default for stream()
_VERSIONS = {"HTTP/1.1": 11, "HTTP/2": 20, "HTTP/1.0": 10, "HTTP/0.9": 9}


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
        self._owner = weakref_ref(response)
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
        self.chunked = is_chunked(headers)
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
                from brisk._response.decoders import make_decoder  # loaded by the first encoded body

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
        return type(exc)(f"{exc} ({redacted(url)})" if url else str(exc))

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
        import json  # left out of import brisk (see brisk._core.json_error)

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

    @property
    def trailers(self) -> list[tuple[str, str]] | None:
        """The trailer fields of the transport's stream under the raw (None until it ends)."""
        return getattr(self.raw._wire._stream, "trailers", None)

    async def __aiter__(self) -> Any:
        for piece in self:
            yield piece

    async def aread_all(self) -> bytes:
        return self.read_all()

    async def aclose(self) -> None:
        self.close()


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
