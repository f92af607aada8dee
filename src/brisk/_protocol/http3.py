"""HTTP/3 over QUIC, sans-IO: datagrams in, stream states out, datagrams to send.

The QUIC and QPACK machinery is aioquic's (``QuicConnection``, ``H3Connection``), itself sans-IO; this
module is brisk's layer over it, shaped like ``http2.H2Connection``: requests start streams
(``H3Stream``), received datagrams fill them (head, body, trailers, an error), and the caller learns which
streams changed so it wakes only their waiters. The drivers (``brisk._transport.asyncio.h3``,
``brisk._transport.sync.h3``) move datagrams and run the QUIC timer.

Response heads are checked with HTTP/2's rules (RFC 9114 section 4.3 keeps them), and limited by
``Limits`` as the other protocols are. A malformed head fails its stream only; a connection error (the
peer's CONNECTION_CLOSE, an HTTP/3 or QPACK error, the idle timeout) fails every stream. A GOAWAY stops new
streams, and the streams it did not take are marked unprocessed (safe to send again elsewhere).

Imported only when HTTP/3 is used: aioquic is the optional ``brisk[http3]`` extra.
"""

from __future__ import annotations

from aioquic.buffer import Buffer, BufferReadError  # type: ignore[attr-defined]
from aioquic.h3.connection import FrameType, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.connection import MAX_STREAM_DATA_FRAME_CAPACITY, QuicConnection, QuicConnectionState
from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted, StreamDataReceived, StreamReset
from aioquic.quic.packet import QuicFrameType

from brisk._protocol.http2_stream import bad_status, check_fields, request_field, response_headers, status_of
from brisk._protocol.http11 import check_method, check_target, header_text
from brisk.exceptions import ConnectionError, RemoteProtocolError, ResponseHeadersTooLarge, SSLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from aioquic.quic.configuration import QuicConfiguration

    from brisk._core.config import Limits

__all__ = ["ALL", "CONNECTION_WINDOW", "SEND_BACKLOG", "STREAM_WINDOW", "H3State", "H3Stream"]

H3_NO_ERROR = 0x100
H3_REQUEST_CANCELLED = 0x10C
H3_REQUEST_REJECTED = 0x10B
H3_MESSAGE_ERROR = 0x10E
ALL = 0  # "every stream changed" in the set ``receive`` returns
#: Bytes of a request body QUIC may hold unacknowledged before the upload waits (``send_backlog``).
SEND_BACKLOG = 1024 * 1024


class H3Stream:
    """One request's stream: what has arrived so far."""

    __slots__ = (
        "body",
        "complete",
        "content_length",
        "error",
        "headers",
        "id",
        "no_body",
        "received",
        "status",
        "taken",
        "trailers",
        "unprocessed",
    )

    def __init__(self, stream_id: int, no_body: bool) -> None:
        self.id = stream_id
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.trailers: list[tuple[str, str]] | None = None
        self.complete = False
        self.error: Exception | None = None
        self.unprocessed = False  # beyond a GOAWAY, or refused: never seen by the application
        self.no_body = no_body  # a HEAD request (or 204/304): no body whatever Content-Length says
        self.content_length: int | None = None
        self.received = 0  # body bytes received
        self.taken = 0  # body bytes the reader took (take_body)


class _H3(H3Connection):
    """aioquic's HTTP/3 connection, without its Content-Length check: it does not know a HEAD request's or a
    204/304 response's Content-Length describes no body, and failed the whole connection on them. brisk
    checks the length per stream itself (``H3State._end``), as over HTTP/2.

    Server push is not allowed (no MAX_PUSH_ID is sent; aioquic offered 8 pushes): brisk has no use for
    pushed responses, whose streams would only cost the connection's window and memory."""

    def _init_connection(self) -> None:  # called by __init__ before it sends the control stream
        self._max_push_id = None
        super()._init_connection()

    def _check_content_length(self, stream: Any) -> None:
        return None


class _ControlReader:
    """Reads the server's control stream alongside aioquic, which skips a GOAWAY: its last stream id is
    kept here (RFC 9114 section 5.2)."""

    __slots__ = ("_streams", "goaway_id")

    def __init__(self) -> None:
        self._streams: dict[int, bytearray | None] = {}  # uni stream id -> unread bytes; None: not control
        self.goaway_id: int | None = None

    def feed(self, stream_id: int, data: bytes) -> None:
        if stream_id % 4 != 3:  # only server-initiated unidirectional streams
            return
        pending = self._streams.setdefault(stream_id, bytearray())
        if pending is None:
            return
        pending += data
        if len(self._streams) > 16:  # a server opens a few; never keep bytes of many
            self._streams[stream_id] = None
            return
        buf = Buffer(data=bytes(pending))
        try:
            kind = buf.pull_uint_var()
            if kind != 0x00:  # not the control stream
                self._streams[stream_id] = None
                return
            while True:
                start = buf.tell()
                try:
                    frame_type = buf.pull_uint_var()
                    length = buf.pull_uint_var()
                    payload = buf.pull_bytes(length)
                except BufferReadError:
                    buf.seek(start)
                    break
                if frame_type == FrameType.GOAWAY:
                    try:
                        self.goaway_id = Buffer(data=payload).pull_uint_var()
                    except BufferReadError:
                        self.goaway_id = 0
            # keep the stream type and what is not yet a whole frame
            rest = bytes(pending[buf.tell() :])
            self._streams[stream_id] = bytearray(b"\x00" + rest)
        except BufferReadError:
            return
        if len(self._streams[stream_id] or b"") > 65536:
            self._streams[stream_id] = None  # a frame this large on a control stream: not ours to hold


#: Bytes of a response body the server may send beyond what the reader took: what a slow reader (or a
#: streamed response left unread) holds in memory at most, per stream, as HTTP/2's window.
STREAM_WINDOW = 16 * 1024 * 1024
#: Bytes the server may send on the whole connection beyond what brisk consumed (the readers took, or
#: nobody keeps): what a connection holds in memory at most, however many streams, as HTTP/2's window.
CONNECTION_WINDOW = 64 * 1024 * 1024


class _PacedQuic(QuicConnection):
    """aioquic's QUIC connection whose receive windows follow the reader, as brisk's HTTP/2 does.

    aioquic doubles a stream's window whenever half of it has arrived, and the connection's (MAX_DATA)
    whenever half of it has been used, whether or not the application read anything: a streamed response
    left unread (or read slowly) was held whole in memory, without bound for an endless one or for many
    streams. Here a window is what was *consumed* plus a constant: a request stream's MAX_STREAM_DATA is
    its consumed bytes plus ``STREAM_WINDOW``, the connection's MAX_DATA all streams' consumed bytes plus
    ``CONNECTION_WINDOW``. Consumed: delivered in order to the HTTP/3 layer, not held there as part of a
    frame, and not waiting for the reader in a response body (also once aioquic has discarded the QUIC
    stream of a response that arrived whole). Bytes after a gap (sent out of order, the gap never filled)
    are not consumed, so they count against both windows too. Other streams (the
    server's control and QPACK streams) keep aioquic's rule for their own window, within the connection's.
    """

    def __init__(self, configuration: QuicConfiguration, streams: dict[int, H3Stream]) -> None:
        configuration.max_stream_data = STREAM_WINDOW  # the first window: no update for a small response
        configuration.max_data = CONNECTION_WINDOW
        super().__init__(configuration=configuration)
        self._paced = streams
        self.h3_streams: dict[int, Any] = {}  # the HTTP/3 layer's streams (their partial frames)

    def _consumed(self, stream: Any) -> int:
        """Bytes of QUIC ``stream`` brisk is done with (see the class's docstring)."""
        stream_id = stream.stream_id
        consumed: int = stream.receiver._buffer_start
        h3_stream = self.h3_streams.get(stream_id)
        if h3_stream is not None:
            consumed -= len(h3_stream.buffer)
        mine = self._paced.get(stream_id)
        if mine is not None and not mine.no_body:  # a HEAD's stray body is not kept
            consumed -= mine.received - mine.taken
        return consumed

    def _write_connection_limits(self, builder: Any, space: Any) -> None:
        max_data = self._local_max_data
        window = CONNECTION_WINDOW
        if max_data.used + window >= max_data.value + window // 4:  # else no raise can be due: skip the sum
            held = 0
            streams = self._streams
            for stream in streams.values():
                held += stream.receiver.highest_offset - self._consumed(stream)
            # aioquic forgets a stream once both its directions are finished: a response that arrived
            # whole but waits for its reader is held by brisk alone, and counts still.
            for stream_id, mine in self._paced.items():
                if stream_id not in streams and not mine.no_body:
                    held += mine.received - mine.taken
            target = max_data.used - held + window
            if target >= max_data.value + window // 4:  # not a frame per packet
                max_data.value = target
        # aioquic's method sends the raised MAX_DATA (and MAX_STREAMS); with ``used`` hidden from it, it does
        # not double MAX_DATA itself.
        used, max_data.used = max_data.used, 0
        try:
            super()._write_connection_limits(builder, space)
        finally:
            max_data.used = used

    def _write_stream_limits(self, builder: Any, space: Any, stream: Any) -> None:
        if stream.stream_id not in self._paced or not stream.max_stream_data_local:
            super()._write_stream_limits(builder, space, stream)
            return
        window = STREAM_WINDOW
        # consumed <= highest_offset: most packets (a small response's) can skip the count
        if stream.receiver.highest_offset + window >= stream.max_stream_data_local + window // 4:
            target = self._consumed(stream) + window
            if target >= stream.max_stream_data_local + window // 4:  # not a frame per packet
                stream.max_stream_data_local = target
        if stream.max_stream_data_local_sent != stream.max_stream_data_local:
            buf = builder.start_frame(
                QuicFrameType.MAX_STREAM_DATA,
                capacity=MAX_STREAM_DATA_FRAME_CAPACITY,
                handler=self._on_max_stream_data_delivery,
                handler_args=(stream,),
            )
            buf.push_uint_var(stream.stream_id)
            buf.push_uint_var(stream.max_stream_data_local)
            stream.max_stream_data_local_sent = stream.max_stream_data_local


class H3State:
    """The client side of one HTTP/3 connection."""

    def __init__(self, configuration: QuicConfiguration, limits: Limits) -> None:
        self.streams: dict[int, H3Stream] = {}
        self.quic = _PacedQuic(configuration, self.streams)
        self.h3 = _H3(self.quic)
        self.quic.h3_streams = self.h3._stream
        self.control = _ControlReader()
        self.limits = limits
        self.error: Exception | None = None
        self.handshake_done = False
        self.alpn: str | None = None

    # -- state --------------------------------------------------------------------------------------------

    @property
    def goaway(self) -> bool:
        return self.control.goaway_id is not None

    @property
    def open_streams(self) -> int:
        return len(self.streams)

    def can_open_stream(self) -> bool:
        """Room for another request: no error, no GOAWAY, and a stream the server's MAX_STREAMS allows now
        (aioquic would queue one beyond it; the pool opens another connection instead)."""
        if self.error is not None or self.goaway:
            return False
        quic = self.quic
        allowed: int = getattr(quic, "_remote_max_streams_bidi", 0)
        opened: int = getattr(quic, "_local_next_stream_id_bidi", 0) // 4
        return not self.handshake_done or opened < allowed

    def peer_certificate(self) -> Any:
        """The server's certificate (a ``cryptography`` x509 object), once the handshake is done."""
        tls = getattr(self.quic, "tls", None)
        return getattr(tls, "_peer_certificate", None)

    def cipher_suite(self) -> str | None:
        tls = getattr(self.quic, "tls", None)
        schedule = getattr(tls, "key_schedule", None)
        suite = getattr(schedule, "cipher_suite", None)
        return None if suite is None else f"TLS_{suite.name}"

    # -- I/O seams ----------------------------------------------------------------------------------------

    def connect(self, address: Any, now: float) -> None:
        self.quic.connect(address, now)

    def receive(self, data: bytes, address: Any, now: float) -> set[int]:
        """A datagram from the peer: the ids of the streams it changed (``ALL`` for every stream)."""
        self.quic.receive_datagram(data, address, now)
        return self._events()

    def on_timer(self, now: float) -> set[int]:
        self.quic.handle_timer(now)
        return self._events()

    def timer(self) -> float | None:
        """When ``on_timer`` must run next (a ``time.monotonic()`` value), or None."""
        return self.quic.get_timer()

    def datagrams(self, now: float) -> list[tuple[bytes, Any]]:
        return self.quic.datagrams_to_send(now)

    def connection_lost(self, why: str) -> None:
        """The socket failed or closed: every stream fails."""
        if self.error is None:
            self._fail(ConnectionError(why))

    # -- requests -----------------------------------------------------------------------------------------

    def send_request(
        self,
        method: str,
        scheme: str,
        authority: str,
        target: str,
        headers: list[tuple[str, str]],
        end_stream: bool,
    ) -> H3Stream:
        """Start a stream for a request (validated as HTTP/1.1 and HTTP/2 requests are) and return it."""
        check_method(method)
        check_target(target)
        fields: list[tuple[bytes, bytes]] = [
            (b":method", method.encode()),
            (b":scheme", scheme.encode()),
            (b":authority", authority.encode("latin-1")),
            (b":path", target.encode("latin-1")),
        ]
        for header in headers:
            field = request_field(*header_text(header))
            if field:
                fields.append(field)
        if self.error is not None:
            raise self.error
        stream_id = self.quic.get_next_available_stream_id()
        self.h3.send_headers(stream_id, fields, end_stream=end_stream)
        stream = self.streams[stream_id] = H3Stream(stream_id, method == "HEAD")
        return stream

    def send_data(self, stream: H3Stream, data: bytes, end_stream: bool) -> None:
        if stream.error is None and self.error is None:
            self.h3.send_data(stream.id, data, end_stream)

    def send_backlog(self, stream: H3Stream) -> int:
        """Bytes of ``stream``'s request body handed to QUIC and not yet acknowledged by the server: an
        upload waits while this is large, so a slow server holds the sender back (flow control)."""
        quic_stream = self.quic._streams.get(stream.id)
        if quic_stream is None or stream.error is not None or self.error is not None:
            return 0
        return len(quic_stream.sender._buffer)

    def take_body(self, stream: H3Stream) -> bytes:
        body = stream.body
        if not body:
            return b""
        data = body[0] if len(body) == 1 else b"".join(body)
        body.clear()
        stream.taken += len(data)
        return data

    def release(self, stream: H3Stream) -> None:
        """The application is done with ``stream``: cancel it if it is still open, forget it."""
        self.streams.pop(stream.id, None)
        if self.error is None and not stream.complete and stream.error is None:
            stream.error = ConnectionError("the stream was cancelled")
            try:
                self.quic.reset_stream(stream.id, H3_REQUEST_CANCELLED)
            except Exception:
                pass
            try:
                self.quic.stop_stream(stream.id, H3_REQUEST_CANCELLED)
            except Exception:
                pass

    def close(self) -> None:
        """Start closing the connection (a CONNECTION_CLOSE goes out with the next datagrams)."""
        if self.error is None:
            self._fail(ConnectionError("the HTTP/3 connection was closed"))
        self.quic.close(error_code=H3_NO_ERROR)

    @property
    def terminated(self) -> bool:
        return self.quic._state in (
            QuicConnectionState.CLOSING,
            QuicConnectionState.DRAINING,
            QuicConnectionState.TERMINATED,
        )

    # -- events -------------------------------------------------------------------------------------------

    def _events(self) -> set[int]:
        touched: set[int] = set()
        goaway_before = self.control.goaway_id
        while (event := self.quic.next_event()) is not None:
            if isinstance(event, HandshakeCompleted):
                self.handshake_done = True
                self.alpn = event.alpn_protocol
                touched.add(ALL)
            elif isinstance(event, ConnectionTerminated):
                self._terminated(event)
                touched.add(ALL)
            elif isinstance(event, StreamDataReceived):
                self.control.feed(event.stream_id, event.data)
            elif isinstance(event, StreamReset):
                self._reset(event.stream_id, event.error_code)
                touched.add(event.stream_id)
            for h3_event in self.h3.handle_event(event):
                if isinstance(h3_event, HeadersReceived):
                    self._on_headers(h3_event.stream_id, h3_event.headers, h3_event.stream_ended)
                    touched.add(h3_event.stream_id)
                elif isinstance(h3_event, DataReceived):
                    self._on_data(h3_event.stream_id, h3_event.data, h3_event.stream_ended)
                    touched.add(h3_event.stream_id)
        if self.error is None and self.terminated:  # an HTTP/3 or QPACK error made aioquic close
            close = self.quic._close_event
            why = close.reason_phrase if close is not None else "closed"
            self._fail(RemoteProtocolError(f"invalid HTTP/3 from the server: {why}"))
            touched.add(ALL)
        if self.control.goaway_id != goaway_before:
            self._on_goaway(self.control.goaway_id or 0)
            touched.add(ALL)
        return touched

    def _terminated(self, event: ConnectionTerminated) -> None:
        if self.error is not None:
            return
        reason = f": {event.reason_phrase}" if event.reason_phrase else ""
        if event.error_code in (0, H3_NO_ERROR) and not self.handshake_done:
            self._fail(ConnectionError(f"the QUIC connection closed during the handshake{reason}"))
        elif event.error_code in (0, H3_NO_ERROR):
            self._fail(ConnectionError(f"the server closed the HTTP/3 connection{reason}"))
        elif 0x100 <= event.error_code <= 0x1FF and not self.handshake_done:
            # QUIC's CRYPTO_ERROR range: a TLS alert (RFC 9001 section 4.8), ours (the certificate failed
            # verification, its name did not match) or the server's
            alert = event.error_code - 0x100
            self._fail(SSLError(f"the TLS handshake failed (HTTP/3, TLS alert {alert}){reason}"))
        else:
            self._fail(
                RemoteProtocolError(f"the HTTP/3 connection failed (error 0x{event.error_code:x}){reason}")
            )

    def _fail(self, error: Exception) -> None:
        self.error = error
        for stream in self.streams.values():
            if stream.error is None and not stream.complete:
                stream.error = error

    def _reset(self, stream_id: int, code: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.complete or stream.error is not None:
            return
        stream.unprocessed = code == H3_REQUEST_REJECTED and stream.status is None
        stream.error = RemoteProtocolError(f"the server reset the HTTP/3 stream (error 0x{code:x})")

    def _on_goaway(self, last_id: int) -> None:
        for stream in self.streams.values():
            if stream.id >= last_id and stream.status is None and stream.error is None:
                stream.unprocessed = True
                stream.error = ConnectionError("the server sent GOAWAY before processing the request")

    def _reject(self, stream: H3Stream, error: Exception) -> None:
        stream.error = error
        try:
            self.quic.stop_stream(stream.id, H3_MESSAGE_ERROR)
        except Exception:
            pass

    def _on_headers(self, stream_id: int, fields: list[tuple[bytes, bytes]], ended: bool) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.error is not None:
            return
        size = sum(len(name) + len(value) + 32 for name, value in fields)
        if size > self.limits.max_head_size:
            self._reject(
                stream,
                ResponseHeadersTooLarge(
                    f"the response's header list is larger than {self.limits.max_head_size} bytes "
                    "(Limits.max_head_size)"
                ),
            )
            return
        if any(not name for name, _ in fields):
            self._reject(stream, RemoteProtocolError("invalid HTTP/3 response: a header with an empty name"))
            return
        try:
            if stream.status is not None:  # trailers
                problem = check_fields(fields, trailers=True) or (
                    None if ended else "trailers before the end"
                )
                if problem:
                    raise RemoteProtocolError(f"invalid HTTP/3 response: {problem}")
                stream.trailers = response_headers(fields, self.limits)[0]
                self._end(stream)
                return
            problem = check_fields(fields, trailers=False)
            if problem:
                raise RemoteProtocolError(f"invalid HTTP/3 response: {problem}")
            status = status_of(fields)
            if status is None or status < 100:
                raise RemoteProtocolError(bad_status(fields).replace("HTTP/2", "HTTP/3"))
            if status < 200:
                if status == 101 or ended:
                    raise RemoteProtocolError(f"invalid HTTP/3 response: interim status {status}")
                return  # an informational head: the real one follows
            headers, lengths = response_headers(fields, self.limits)
        except (RemoteProtocolError, ResponseHeadersTooLarge) as exc:
            self._reject(stream, exc)
            return
        if lengths and not (stream.no_body or status in (204, 304)):
            length = lengths.pop()
            if lengths or not length.isdigit():
                self._reject(stream, RemoteProtocolError("invalid HTTP/3 response: bad Content-Length"))
                return
            stream.content_length = int(length)
        elif status in (204, 304):
            stream.no_body = True
        stream.status = status
        stream.headers = headers
        if ended:
            self._end(stream)

    def _on_data(self, stream_id: int, data: bytes, ended: bool) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.error is not None:
            return
        if data:
            if stream.status is None:
                self._reject(stream, RemoteProtocolError("invalid HTTP/3 response: DATA before the head"))
                return
            stream.received += len(data)
            if not stream.no_body:
                stream.body.append(data)
        if ended:
            self._end(stream)

    def _end(self, stream: H3Stream) -> None:
        if stream.status is None:
            self._reject(
                stream, RemoteProtocolError("invalid HTTP/3 response: the stream ended without a head")
            )
        elif (
            stream.content_length is not None
            and not stream.no_body
            and stream.received != stream.content_length
        ):
            self._reject(
                stream,
                RemoteProtocolError(
                    f"invalid HTTP/3 response: {stream.received} bytes of body for a Content-Length of "
                    f"{stream.content_length}"
                ),
            )
        else:
            stream.complete = True
