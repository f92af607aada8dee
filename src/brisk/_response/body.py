"""The body of a ``Response``: reading it in sync and in async code, content decoding, text and JSON.

``brisk.models.Response`` is made of its head (status, headers, cookies...) and of :class:`ResponseBody`,
here. The body comes from a byte stream handed over by the transport (or a raw set by hand); ``content`` and
``iter_content`` read it in sync code, ``aread`` and ``aiter_content`` in async code, and both push the
bytes through the same ``BodyPipeline`` (content decoding, re-chunking, text).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from brisk._core.config import DEFAULT_LIMITS
from brisk._core.error_context import add_url_context
from brisk._core.headers import Headers
from brisk._core.streams import ByteStream
from brisk._core.url import redacted
from brisk._response.content import BodyPipeline, LineSplitter, guess_json_utf
from brisk._response.hand_set import HandSetRaw
from brisk.exceptions import ContentDecodingError, RequestException, StreamConsumedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Self

    from brisk._core.config import Limits
    from brisk._response.decoders import ContentDecoder
    from brisk._response.sse import ServerSentEvent
    from brisk._transport.base import AsyncByteStream, SyncByteStream
    from brisk.models import PreparedRequest, Response

__all__ = ["ITER_CHUNK_SIZE", "ResponseBody"]

ITER_CHUNK_SIZE = 512


class ResponseBody:
    """The body half of ``Response`` (a mixin: the fields are made by ``Response.__init__``)."""

    status_code: int
    url: str
    request: PreparedRequest
    _content: bytes | None
    _consumed: bool
    _stream: SyncByteStream | AsyncByteStream | None
    _chunks: Any  # the one raw iterator shared by iter_content, raw.read, ...
    _raw: Any
    _limits: Limits | None
    _trailers: Headers | None
    _headers: Headers | None
    _closed = False  # set by close(): a class default, so building a response does not pay for it
    #: Header names (lower case) the transport saw were absent from the head: Content-Encoding and Set-Cookie,
    #: asked of every response, are then answered without a call, as long as ``headers`` was not built
    #: (code may change it). Set by Response._from_head.
    _missing: frozenset[str] = frozenset()
    if TYPE_CHECKING:  # the head's, in Response

        @property
        def encoding(self) -> str | None: ...

        def _header_values(self, lower_name: str) -> list[str]: ...

    # -- body: sync ------------------------------------------------------------------------------------

    @property
    def content(self) -> bytes:
        """The whole body, decoded (gzip, br, ...), read on first access.

        None for a response without a body source, as in requests: a bare ``Response()`` with no ``raw``
        (or any response whose status_code is 0).
        """
        content = self._content
        if content is None:
            if self._consumed:
                raise RuntimeError("The content for this response was already consumed")
            stream = self._stream
            if type(stream) is not ByteStream:  # (an in-memory body, the common small answer: no checks)
                stream = self._sync_stream()
            if stream is None or self.status_code == 0:
                return None  # type: ignore[return-value]  # typed bytes for everyone else, as requests' stubs
            try:
                raw = stream.read_all()
            except RequestException as exc:
                self._with_url(exc)
                raise
            self._consumed = True
            if self._headers is None and "content-encoding" in self._missing:  # nothing to decode
                content = self._content = raw
            else:
                content = self._content = self._decode_whole(raw)
        return content

    def iter_content(self, chunk_size: int | None = 1, decode_unicode: bool = False) -> Iterator[Any]:
        """The body in pieces of ``chunk_size`` bytes (decoded), as requests' ``iter_content``."""
        _check_chunk_size(chunk_size)  # at the call, as in requests, not at the first piece
        return self._iter_content(chunk_size, decode_unicode)

    def _iter_content(self, chunk_size: int | None, decode_unicode: bool) -> Iterator[Any]:
        if self._content is not None:  # already in memory, already decoded
            pipeline = self._pipeline(chunk_size, decode_unicode, decode=False)
            yield from pipeline.push(self._content)
            yield from pipeline.finish()
            return
        pipeline = self._pipeline(chunk_size, decode_unicode)
        large = chunk_size is not None and chunk_size >= 16384
        stream: Any = self._stream
        if isinstance(stream, HandSetRaw):
            stream.read_size = chunk_size  # read as requests reads such a raw: raw.read(chunk_size)
        elif large and pipeline._decoder is None and self._chunks is None and hasattr(stream, "read_size"):
            # The transport cuts pieces of the caller's size itself (a Content-Length body, from large
            # reads) or reads that much at a time: pieces come out whole, with no re-slicing here.
            stream.read_size = stream.piece_size = chunk_size
        elif self._raw is not None:  # (the raw's module is loaded: a raw was asked for or set)
            from brisk._response.raw import ThroughRaw

            if isinstance(stream, ThroughRaw):
                stream.read_size = chunk_size  # a file set as raw._fp is read by the caller's chunk size
        try:
            for raw in self._iter_raw_stream():
                yield from pipeline.push(raw)  # a decoder decodes as the pieces are taken
        except ContentDecodingError as exc:
            raise self._decoding_error(exc) from exc
        yield from self._finish(pipeline)

    def iter_lines(
        self,
        chunk_size: int = ITER_CHUNK_SIZE,
        decode_unicode: bool = False,
        delimiter: str | bytes | None = None,
    ) -> Iterator[Any]:
        """The body line by line (line ends removed)."""
        splitter: LineSplitter[Any] = LineSplitter(delimiter)
        for piece in self.iter_content(chunk_size=chunk_size, decode_unicode=decode_unicode):
            yield from splitter.push(piece)
        yield from splitter.finish()

    def iter_events(self, max_event_size: int | None = None) -> Iterator[ServerSentEvent]:
        """The body as server-sent events (``text/event-stream``), each with event, data, id and retry.
        An unfinished line or event over ``max_event_size`` bytes (default 16 MiB) raises
        ContentDecodingError.

        >>> with session.get(url, stream=True) as r:
        ...     for event in r.iter_events():
        ...         print(event.event, event.data)
        """
        from brisk._response.sse import SSEDecoder  # loaded by the first event stream

        decoder = SSEDecoder(max_event_size)
        for chunk in self.iter_content(None):
            yield from decoder.feed(chunk)
        decoder.close()

    def iter_raw(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body as received, without content decoding."""
        pipeline = BodyPipeline(None, chunk_size)
        for raw in self._iter_raw_stream():
            yield from pipeline.push(raw)
        yield from pipeline.finish()

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_content(128)

    @property
    def raw(self) -> Any:
        """A file-like view of the body (requests hands out urllib3's response here)."""
        if self._raw is None:
            from brisk._response.raw import RawResponse  # urllib3's shape: loaded when first asked for

            self._raw = RawResponse(self._as_response())
            if self._closed:  # asked for after close(): closed too, as requests' raw is then
                self._raw.close()
        return self._raw

    @raw.setter
    def raw(self, value: Any) -> None:
        """A raw set by hand (``io.BytesIO`` in a test fake, urllib3's response in a mock) becomes the body's
        source, as in requests. A body already read stays: requests keeps its content too."""
        from brisk._response.raw import RawResponse

        previous, self._raw = self._raw, value
        if self._content is not None or (isinstance(value, RawResponse) and value._owner() is self):
            return
        stream = self._stream
        replaced = None  # the transport's stream, still to be closed with the new raw
        if stream is not None and not isinstance(stream, HandSetRaw):
            if isinstance(previous, RawResponse) and value is not None:
                # The new raw may wrap our own (r.raw = Wrapper(r.raw)), which goes on reading the body on
                # its own: it is closed with the new raw, not now.
                replaced = stream
            elif hasattr(stream, "close"):
                stream.close()
        self._stream = None if value is None else HandSetRaw(value, replaced)
        self._chunks = None
        self._consumed = False

    def close(self) -> None:
        """Release the connection; an unread body closes it instead of returning it to the pool. A raw
        whose body was not read is closed with it, as requests closes it (one read to its end is left as
        it is: a test double may still look at it)."""
        self._closed = True
        stream = self._stream
        if stream is not None and hasattr(stream, "close"):
            stream.close()
        raw = self._raw
        if raw is not None and self._content is None and hasattr(raw, "close"):
            raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def _sync_stream(self) -> SyncByteStream | None:
        stream = self._stream
        if stream is not None and not hasattr(stream, "read_all"):
            raise RuntimeError(
                "this response came from an AsyncSession: read its body with "
                "'await response.aread()' or 'async for chunk in response.aiter_content()'"
            )
        return stream  # type: ignore[return-value]

    def _iter_raw_stream(self) -> Iterator[bytes]:
        if self._chunks is None:
            if self._consumed:
                raise StreamConsumedError("the body of this response was already read")
            stream = self._sync_stream()
            if stream is None:
                return
            self._consumed = True
            self._chunks = iter(stream)
        try:
            yield from self._chunks
        except RequestException as exc:
            self._with_url(exc)
            raise
        self._chunks = None  # fully read: reading again raises StreamConsumedError, as in requests

    def _drain(self, limit: int) -> None:
        """Read what is left of the body (raw, never decompressed) so the connection can be reused; give up
        and close the connection past ``limit`` bytes. A short body stays readable via ``content``."""
        if self._content is not None or self._consumed or self._stream is None:
            self.close()
            return
        chunks: list[bytes] = []
        size = 0
        try:
            for raw in self._iter_raw_stream():
                chunks.append(raw)
                size += len(raw)
                if size > limit:
                    break
            else:
                self._keep_drained(chunks)
        finally:
            self.close()

    def _keep_drained(self, chunks: list[bytes]) -> None:
        pairs = getattr(self._stream, "trailers", None)  # the transport's stream goes: keep its trailers
        if pairs:
            self._trailers = Headers.from_raw(pairs)
        self._stream = ByteStream(b"".join(chunks))
        self._chunks = None
        self._consumed = False

    # -- body: async -----------------------------------------------------------------------------------

    async def _adrain(self, limit: int) -> None:
        if self._content is not None or self._consumed or self._stream is None:
            await self.aclose()
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async for raw in self._aiter_raw_stream():
                chunks.append(raw)
                size += len(raw)
                if size > limit:
                    break
            else:
                self._keep_drained(chunks)
        finally:
            await self.aclose()

    async def aread(self) -> bytes:
        """Read the whole body (async). Afterwards ``content``, ``text`` and ``json()`` work."""
        if self._content is None:
            if self._consumed:
                raise RuntimeError("The content for this response was already consumed")
            stream = self._stream
            if stream is None or not hasattr(stream, "aread_all"):  # none, or a sync one (a raw set by hand)
                return self.content
            try:
                raw = await stream.aread_all()
            except RequestException as exc:
                self._with_url(exc)
                raise
            self._consumed = True
            self._content = self._decode_whole(raw)
        return self._content

    async def aiter_content(
        self, chunk_size: int | None = 1, decode_unicode: bool = False
    ) -> AsyncIterator[Any]:
        _check_chunk_size(chunk_size)
        if self._content is not None:
            for piece in self.iter_content(chunk_size, decode_unicode):
                yield piece
            return
        pipeline = self._pipeline(chunk_size, decode_unicode)
        try:
            async for raw in self._aiter_raw_stream():
                for piece in pipeline.push(raw):  # a decoder decodes as the pieces are taken
                    yield piece
        except ContentDecodingError as exc:
            raise self._decoding_error(exc) from exc
        for piece in self._finish(pipeline):
            yield piece

    async def aiter_lines(
        self,
        chunk_size: int = ITER_CHUNK_SIZE,
        decode_unicode: bool = False,
        delimiter: str | bytes | None = None,
    ) -> AsyncIterator[Any]:
        splitter: LineSplitter[Any] = LineSplitter(delimiter)
        async for piece in self.aiter_content(chunk_size=chunk_size, decode_unicode=decode_unicode):
            for line in splitter.push(piece):
                yield line
        for line in splitter.finish():
            yield line

    async def aiter_events(self, max_event_size: int | None = None) -> AsyncIterator[ServerSentEvent]:
        """``iter_events`` for the async client: ``async for event in r.aiter_events(): ...``"""
        from brisk._response.sse import SSEDecoder  # loaded by the first event stream

        decoder = SSEDecoder(max_event_size)
        async for chunk in self.aiter_content(None):
            for event in decoder.feed(chunk):
                yield event
        decoder.close()

    async def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        pipeline = BodyPipeline(None, chunk_size)
        async for raw in self._aiter_raw_stream():
            for piece in pipeline.push(raw):
                yield piece
        for piece in pipeline.finish():
            yield piece

    async def aclose(self) -> None:
        self._closed = True
        stream = self._stream
        if stream is not None:
            if hasattr(stream, "aclose"):
                await stream.aclose()
            else:
                stream.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.aclose()

    async def _aiter_raw_stream(self) -> AsyncIterator[bytes]:
        if self._chunks is None:
            if self._consumed:
                raise StreamConsumedError("the body of this response was already read")
            stream = self._stream
            if stream is None:
                return
            if not hasattr(stream, "__aiter__"):
                raise RuntimeError("this response came from a sync Session: use iter_content()")
            self._consumed = True
            self._chunks = stream.__aiter__()  # type: ignore[union-attr]
        try:
            async for raw in self._chunks:
                yield raw
        except RequestException as exc:
            self._with_url(exc)
            raise
        self._chunks = None  # fully read: reading again raises StreamConsumedError, as in requests

    def _with_url(self, exc: RequestException) -> RequestException:
        """Name the method and URL in an error met while reading the body, as errors of sending do."""
        request = self.request
        url = request._url if request is not None else None
        if url is not None:
            add_url_context(exc, url, request)
        return exc

    # -- decoding, shared by both worlds ---------------------------------------------------------------

    def _decoder(self) -> ContentDecoder | None:
        values = self._header_values("content-encoding")
        if not values:
            return None
        if isinstance(self._stream, HandSetRaw):  # it decodes itself, or is a plain file: read as is
            return None
        encoding = ", ".join(values)
        from brisk._response.decoders import make_decoder  # loaded by the first encoded body

        return make_decoder(encoding, self._limits or DEFAULT_LIMITS)

    def _pipeline(self, chunk_size: int | None, decode_unicode: bool, decode: bool = True) -> BodyPipeline:
        text_encoding = (self.encoding or "utf-8") if decode_unicode else None
        return BodyPipeline(self._decoder() if decode else None, chunk_size, text_encoding)

    def _decoding_error(self, exc: ContentDecodingError) -> ContentDecodingError:
        """``exc`` naming the URL, for an error met inside the body: its connection is closed, not reused."""
        self.close()
        return self._naming_url(exc)

    def _as_response(self) -> Response:
        """This body's Response (the class is a mixin of Response)."""
        return self  # type: ignore[return-value]

    def _naming_url(self, exc: ContentDecodingError) -> ContentDecodingError:
        return type(exc)(f"{exc} ({redacted(self.url)})", response=self._as_response())

    def _finish(self, pipeline: BodyPipeline) -> list[Any]:
        try:
            return pipeline.finish()
        except ContentDecodingError as exc:
            raise self._naming_url(exc) from exc

    def _decode_whole(self, raw: bytes) -> bytes:
        decoder = self._decoder()
        if decoder is None:
            return raw
        try:
            return decoder.decode(raw) + decoder.flush()
        except ContentDecodingError as exc:
            raise self._naming_url(exc) from exc

    # -- text and JSON ---------------------------------------------------------------------------------

    @property
    def apparent_encoding(self) -> str | None:
        """The encoding guessed from the body by charset detection."""
        from charset_normalizer import detect  # a large package: imported by the first detection

        encoding: str | None = detect(self.content)["encoding"]
        return encoding

    @property
    def text(self) -> str:
        """The body as text: the declared charset, else UTF-8 when it decodes, else detection."""
        content = self.content
        if not content:
            return ""
        encoding = self.encoding
        if encoding is None:
            try:
                return content.decode("utf-8")
            except UnicodeDecodeError:
                encoding = self.apparent_encoding or "utf-8"
        try:
            return content.decode(encoding, errors="replace")
        except LookupError:
            return content.decode("utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """Parse the body as JSON; a bad body raises ``brisk.JSONDecodeError`` (a ValueError)."""
        json = _json or _import_json()
        content = self.content
        if self.encoding is None and content and len(content) > 3:  # content is None for a bare Response()
            encoding = guess_json_utf(content)
            if encoding is not None:
                try:
                    return json.loads(content.decode(encoding), **kwargs)
                except UnicodeDecodeError:
                    pass
                except json.JSONDecodeError as exc:
                    raise _json_decode_error(exc, self) from None
        try:
            return json.loads(self.text, **kwargs)
        except json.JSONDecodeError as exc:
            raise _json_decode_error(exc, self) from None


#: The json module, imported by the first ``json()`` call: it compiles regular expressions, so it is left out
#: of ``import brisk`` (see brisk._core.json_error); an import statement in ``json()`` would cost a lookup
#: through the import system on every call.
_json: Any = None


def _import_json() -> Any:
    global _json
    import json

    _json = json
    return json


def _json_decode_error(exc: Any, response: Any) -> Exception:
    from brisk._core.json_error import JSONDecodeError

    return JSONDecodeError(exc.msg, exc.doc, exc.pos, response=response)


def _check_chunk_size(chunk_size: object) -> None:
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)):
        raise TypeError(f"chunk_size must be an int or None, not {type(chunk_size).__name__}")
