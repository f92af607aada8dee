"""HTTP/2 for a client, sans-IO: the connection state machine (RFC 9113) and its flow control.

Its parts: frame layout, types and error codes in ``http2_frames.py``; a stream's state and the checks on
the header fields it carries in ``http2_stream.py``; HPACK in ``hpack.py``.

``H2Connection`` keeps the state of one connection: requests become streams, bytes in become per-stream
state (head, body pieces, end, error), and ``data_to_send()`` says what to write. The transports do the
I/O and the waiting. brisk implements the client side itself rather than through ``h2``: a client needs a
small part of the protocol (no server push, no priorities, never a peer-initiated stream), and the general
state machine cost about three quarters of the time of a small request (README, "Design").

Rules:
- Flow control follows the reader: received DATA is acknowledged (opening the window again) only when the
  application takes it, so a slow reader holds at most one stream window (``STREAM_WINDOW``) in memory.
  Window updates are sent once half a window is used, and never for a stream the server has finished.
- GOAWAY: streams above the server's last processed id never reached the application there, so they fail
  with ``unprocessed`` set and the request flow may send them again on a new connection; streams at or
  below it finish normally; no new stream starts on the connection.
- RST_STREAM fails its own stream only (``StreamReset``); with REFUSED_STREAM before any response the server
  did not process the request (RFC 9113 section 8.7), so it is ``unprocessed`` as above.
- Connection errors (bad frames, HPACK failure, a header list over ``Limits.max_head_size`` —
  ``ResponseHeadersTooLarge`` —, more than ``MAX_CONTINUATIONS`` CONTINUATION frames) send GOAWAY, fail every
  open stream and end the connection. A malformed response (bad pseudo-headers, a field with a zero-length
  or upper-case name, CR/LF/NUL in a value, a Content-Length that the DATA does not match), a head with more
  fields than ``Limits.max_header_count`` or a field longer than ``Limits.max_header_line`` fail their
  stream only (RST_STREAM), as over HTTP/1.1.
- Requests carry the same validation as HTTP/1.1 (no CR/LF/NUL anywhere); connection-specific headers
  (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, Host) are not sent: Host becomes
  ``:authority``.
"""

from __future__ import annotations

from collections.abc import Set

from brisk._protocol.hpack import Decoder, Encoder, HeaderListTooLarge, HPACKError
from brisk._protocol.http2_frames import (
    ACK,
    CANCEL,
    COMPRESSION_ERROR,
    CONNECTION_WINDOW,
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    ENHANCE_YOUR_CALM,
    FLOW_CONTROL_ERROR,
    FRAME_SIZE_ERROR,
    GOAWAY,
    HEADERS,
    MAX_CONTINUATIONS,
    MAX_FRAME_SIZE,
    MAX_WINDOW,
    NO_ERROR,
    PADDED,
    PING,
    PRIORITY,
    PRIORITY_FLAG,
    PROTOCOL_ERROR,
    PUSH_PROMISE,
    REFUSED_STREAM,
    RST_STREAM,
    SETTINGS,
    STREAM_WINDOW,
    WINDOW_UPDATE,
    ConnectionFailure,
    client_preface,
    error_name,
    frame,
    protocol_error,
)
from brisk._protocol.http2_stream import (
    REQUEST_FIELDS,
    UNCACHED,
    H2Stream,
    StreamReset,
    bad_status,
    check_fields,
    request_field,
    response_headers,
    status_of,
)
from brisk._protocol.http11 import check_method, check_target, header_text
from brisk.exceptions import RemoteProtocolError, ResponseHeadersTooLarge

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

    from brisk._core.config import Limits

__all__ = ["H2Connection", "H2Stream", "StreamReset"]

_EVERY_STREAM: Final = frozenset((0,))  # what receive() returns when any stream may have changed


class H2Connection:
    """Client state of one HTTP/2 connection."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._decoder = Decoder(limits.max_head_size)
        self._encoder = Encoder()
        self.streams: dict[int, H2Stream] = {}
        self.goaway = False
        self.error: Exception | None = None  # the connection is dead: why
        # The server's first frame must be SETTINGS (RFC 9113 section 3.4). Until it arrives we do not know
        # how many streams it allows, so the transports share a new connection only after it.
        self.settings_received = False
        self._next_id = 1
        self._max_streams = MAX_WINDOW  # unlimited until the server's SETTINGS says otherwise
        self._initial_window = 65535  # the server's SETTINGS_INITIAL_WINDOW_SIZE: our send window per stream
        self._max_send_frame = 16384  # the server's SETTINGS_MAX_FRAME_SIZE
        self._send_window = 65535  # connection-level window for what we send
        self._recv_window = CONNECTION_WINDOW  # what the server may still send on the connection
        self._conn_unacked = 0  # taken by readers, not yet given back with a WINDOW_UPDATE
        self._buffer = b""  # an incomplete frame
        self._frames_seen = 0
        self._block_stream = 0  # a header block awaits CONTINUATION frames on this stream
        self._block_flags = 0
        self._block: list[bytes] = []
        self._block_size = 0
        self._continuations = 0
        self._out = bytearray(client_preface(limits.max_head_size))

    # -- sending ----------------------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def can_open_stream(self) -> bool:
        if self.goaway or self.error is not None or self._next_id > MAX_WINDOW:
            return False
        return len(self.streams) < self._max_streams

    @property
    def open_streams(self) -> int:
        return len(self.streams)

    def send_request(
        self,
        method: str,
        scheme: str,
        authority: str,
        target: str,
        headers: list[tuple[str, str]],
        end_stream: bool,
    ) -> H2Stream:
        """Start a stream for a request (validated like HTTP/1.1) and return it."""
        check_method(method)
        check_target(target)
        fields = [
            (b":method", method.encode()),
            (b":scheme", scheme.encode()),
            (b":authority", authority.encode("latin-1")),
            (b":path", target.encode("latin-1")),
        ]
        known = REQUEST_FIELDS
        for header in headers:
            try:
                field = known.get(header)
            except TypeError:  # an unhashable value (a list, ...): refused by header_text()
                field = None
            if field is None:
                text = header_text(header)
                field = request_field(*text)
                if not field or field[0] not in UNCACHED:
                    if len(known) >= 1024:
                        known.clear()
                    known[text] = field
            if field:
                fields.append(field)
        block = self._encoder.encode(fields)
        stream_id = self._next_id
        self._next_id += 2
        flags = END_STREAM if end_stream else 0
        size = self._max_send_frame
        if len(block) <= size:
            self._out += frame(HEADERS, flags | END_HEADERS, stream_id, block)
        else:
            pieces = [block[start : start + size] for start in range(0, len(block), size)]
            self._out += frame(HEADERS, flags, stream_id, pieces[0])
            for index, piece in enumerate(pieces[1:], 2):
                self._out += frame(CONTINUATION, END_HEADERS if index == len(pieces) else 0, stream_id, piece)
        stream = self.streams[stream_id] = H2Stream(stream_id, self._initial_window, method == "HEAD")
        stream.sent_end = end_stream
        return stream

    def send_window(self, stream: H2Stream) -> int:
        """How many body bytes may be sent on ``stream`` now (0: wait for a WINDOW_UPDATE)."""
        if stream.sent_end or stream.error is not None or self.error is not None:
            return 0
        return max(0, min(stream.send_window, self._send_window, self._max_send_frame))

    def send_data(self, stream: H2Stream, data: bytes, end_stream: bool = False) -> None:
        """Queue ``data`` (no longer than ``send_window``) on ``stream``."""
        size = len(data)
        stream.send_window -= size
        self._send_window -= size
        stream.sent_end = end_stream
        self._out += frame(DATA, END_STREAM if end_stream else 0, stream.id, data)

    def end_stream(self, stream: H2Stream) -> None:
        if not stream.sent_end:
            stream.sent_end = True
            self._out += frame(DATA, END_STREAM, stream.id)

    # -- receiving --------------------------------------------------------------------------------------

    def receive(self, data: bytes) -> Set[int]:
        """Feed bytes from the socket; stream states change; ``data_to_send()`` may have new bytes.

        Returns the ids of the streams whose state may have changed; 0 among them means any stream may
        have (a connection-level frame, a window opening, an error), so every waiter should look."""
        if self.error is not None:
            return _EVERY_STREAM
        touched: set[int] = set()
        buffer = self._buffer + data if self._buffer else data
        size = len(buffer)
        i = 0
        try:
            while size - i >= 9:
                length = int.from_bytes(buffer[i : i + 3], "big")
                kind = buffer[i + 3]
                if self._frames_seen == 0 and (kind != SETTINGS or buffer[i + 4] & ACK or length % 6):
                    # Also the first check against a server that does not speak HTTP/2 at all.
                    start = buffer[i : i + 9]
                    raise protocol_error(
                        f"no SETTINGS frame first, starting {start!r} (is it really speaking HTTP/2?)"
                    )
                if length > MAX_FRAME_SIZE:
                    start = buffer[i : i + 9]
                    raise protocol_error(
                        f"a {length}-byte frame (limit {MAX_FRAME_SIZE}), starting {start!r} "
                        "(is it really speaking HTTP/2?)",
                        FRAME_SIZE_ERROR,
                    )
                end = i + 9 + length
                if end > size:
                    break
                self._frames_seen += 1
                flags = buffer[i + 4]
                stream_id = int.from_bytes(buffer[i + 5 : i + 9], "big") & 0x7FFFFFFF
                payload = buffer[i + 9 : end]
                i = end
                touched.add(0 if kind == WINDOW_UPDATE else stream_id)
                if self._block_stream and (kind != CONTINUATION or stream_id != self._block_stream):
                    raise protocol_error("a header block was interrupted (CONTINUATION expected)")
                if kind == DATA:
                    self._on_data(flags, stream_id, payload)
                elif kind == HEADERS:
                    self._on_headers(flags, stream_id, payload)
                elif kind == CONTINUATION:
                    self._on_continuation(flags, stream_id, payload)
                elif kind == SETTINGS:
                    self._on_settings(flags, stream_id, payload)
                elif kind == WINDOW_UPDATE:
                    self._on_window_update(stream_id, payload)
                elif kind == RST_STREAM:
                    self._on_rst_stream(stream_id, payload)
                elif kind == PING:
                    if len(payload) != 8 or stream_id:
                        raise protocol_error("malformed PING frame", FRAME_SIZE_ERROR)
                    if not flags & ACK:
                        self._out += frame(PING, ACK, 0, payload)
                elif kind == GOAWAY:
                    if len(payload) < 8 or stream_id:
                        raise protocol_error("malformed GOAWAY frame", FRAME_SIZE_ERROR)
                    last = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
                    self._goaway(last, int.from_bytes(payload[4:8], "big"))
                elif kind == PUSH_PROMISE:
                    raise protocol_error("PUSH_PROMISE although push is disabled")
                elif kind == PRIORITY and (len(payload) != 5 or not stream_id):
                    raise protocol_error("malformed PRIORITY frame", FRAME_SIZE_ERROR)
                # Other frame types are extensions: ignored (RFC 9113 section 4.1).
        except ConnectionFailure as exc:
            self._out += frame(GOAWAY, 0, 0, b"\0\0\0\0" + exc.code.to_bytes(4, "big"))
            self.fail(exc.error)
            self._buffer = b""
            return _EVERY_STREAM
        self._buffer = buffer[i:] if i < size else b""
        return touched

    def _stream(self, stream_id: int, what: str) -> H2Stream | None:
        """Our stream ``stream_id``, or None for one we released; a stream we never opened is an error."""
        stream = self.streams.get(stream_id)
        if stream is None and (not stream_id or stream_id >= self._next_id or not stream_id & 1):
            raise protocol_error(f"{what} on stream {stream_id}, which the client never opened")
        return stream

    @staticmethod
    def _unpad(flags: int, payload: bytes) -> bytes:
        if not flags & PADDED:
            return payload
        if not payload or payload[0] >= len(payload):
            raise protocol_error("padding longer than the frame")
        return payload[1 : len(payload) - payload[0]]

    def _on_data(self, flags: int, stream_id: int, payload: bytes) -> None:
        size = len(payload)
        self._recv_window -= size
        if self._recv_window < 0:
            raise protocol_error("DATA beyond the connection's flow-control window", FLOW_CONTROL_ERROR)
        stream = self._stream(stream_id, "DATA")
        data = self._unpad(flags, payload)
        if stream is None or stream.error is not None or stream.complete:
            self._acknowledge(size, None)  # nobody reads it: give the window back now
            return
        stream.recv_window -= size
        if stream.status is None or stream.recv_window < 0:
            self._acknowledge(size, None)
            why = "before the response head" if stream.status is None else "beyond the stream's window"
            self._reject(stream, RemoteProtocolError(f"HTTP/2 protocol error from the server: DATA {why}"))
            return
        stream.unacked += size
        if data and not stream.no_body:
            stream.body.append(data)
            stream.received += len(data)
        if stream.content_length is not None and (
            stream.received > stream.content_length
            or (flags & END_STREAM and stream.received != stream.content_length)
        ):
            self._reject(
                stream,
                RemoteProtocolError(
                    f"invalid HTTP/2 response: {stream.received} bytes of body for a Content-Length of "
                    f"{stream.content_length}"
                ),
            )
            return
        if flags & END_STREAM:
            stream.complete = True

    def _on_headers(self, flags: int, stream_id: int, payload: bytes) -> None:
        if not stream_id:
            raise protocol_error("HEADERS on stream 0")
        block = self._unpad(flags, payload)
        if flags & PRIORITY_FLAG:
            if len(block) < 5:
                raise protocol_error("HEADERS too short for its priority fields", FRAME_SIZE_ERROR)
            block = block[5:]
        if flags & END_HEADERS:
            self._on_block(flags, stream_id, block)
            return
        self._block_stream, self._block_flags = stream_id, flags
        self._block, self._block_size, self._continuations = [block], len(block), 0

    def _on_continuation(self, flags: int, stream_id: int, payload: bytes) -> None:
        if not self._block_stream:
            raise protocol_error("CONTINUATION without a HEADERS frame before it")
        self._continuations += 1
        self._block.append(payload)
        self._block_size += len(payload)
        if self._block_size > 2 * self._limits.max_head_size:
            raise ConnectionFailure(
                COMPRESSION_ERROR,
                ResponseHeadersTooLarge(
                    f"the response's header block is larger than twice {self._limits.max_head_size} bytes "
                    "(Limits.max_head_size)"
                ),
            )
        if flags & END_HEADERS:
            block = b"".join(self._block)
            self._block_stream, self._block = 0, []
            self._on_block(self._block_flags, stream_id, block)
        elif self._continuations >= MAX_CONTINUATIONS:
            raise protocol_error(
                f"more than {MAX_CONTINUATIONS} CONTINUATION frames in one header block "
                "(a CONTINUATION flood)",
                ENHANCE_YOUR_CALM,
            )

    def _on_block(self, flags: int, stream_id: int, block: bytes) -> None:
        # Decode even for a stream we no longer want: the decoder's table must follow the server's.
        try:
            fields = self._decoder.decode(block)
        except HeaderListTooLarge as exc:
            raise ConnectionFailure(
                COMPRESSION_ERROR,
                ResponseHeadersTooLarge(
                    f"the response's header list is larger than {self._limits.max_head_size} bytes "
                    f"(Limits.max_head_size): {exc}"
                ),
            ) from None
        except HPACKError as exc:
            raise protocol_error(f"header block could not be decoded ({exc})", COMPRESSION_ERROR) from None
        if any(not name for name, _ in fields):  # HPACK allows it, no HTTP does: a hostile peer
            raise protocol_error("a header field with a zero length name")
        stream = self._stream(stream_id, "HEADERS")
        if stream is None or stream.error is not None:
            return
        if stream.complete:
            self._malformed(stream, "HEADERS after the end of the stream")
            return
        if stream.status is not None:  # trailers: checked (as a head is), then kept on the stream
            problem = check_fields(fields, trailers=True) or (
                None if flags & END_STREAM else "trailers without END_STREAM"
            )
            if problem:
                self._malformed(stream, problem)
                return
            try:
                stream.trailers = response_headers(fields, self._limits)[0]
            except ResponseHeadersTooLarge as exc:
                self._reject(stream, exc)
                return
            self._end(stream)
            return
        problem = check_fields(fields, trailers=False)
        if problem:
            self._malformed(stream, problem)
            return
        status = status_of(fields)
        if status is None or status < 100:
            self._reject(stream, RemoteProtocolError(bad_status(fields)))
        elif status < 200:
            if status == 101:  # RFC 9113 section 8.6: HTTP/2 has no 101 (Switching Protocols)
                self._malformed(stream, "status 101")
            elif flags & END_STREAM:
                self._malformed(stream, "an interim head ends the stream")
            else:
                stream.informational.append(status)
        elif self._set_head(stream, status, fields) and flags & END_STREAM:
            self._end(stream)

    def _end(self, stream: H2Stream) -> None:
        if stream.content_length is not None and stream.received != stream.content_length:
            self._reject(
                stream,
                RemoteProtocolError(
                    f"invalid HTTP/2 response: {stream.received} bytes of body for a Content-Length of "
                    f"{stream.content_length}"
                ),
            )
        else:
            stream.complete = True

    def _set_head(self, stream: H2Stream, status: int, fields: list[tuple[bytes, bytes]]) -> bool:
        try:
            headers, lengths = response_headers(fields, self._limits)
        except ResponseHeadersTooLarge as exc:
            self._reject(stream, exc)
            return False
        if lengths and not (stream.no_body or status in (204, 304)):
            length = lengths.pop()
            if lengths or not length.isdigit():
                self._malformed(stream, "bad Content-Length")
                return False
            stream.content_length = int(length)
        elif status in (204, 304):
            stream.no_body = True
        stream.status = status
        stream.headers = headers
        return True

    def _on_settings(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id:
            raise protocol_error("SETTINGS on a stream")
        if flags & ACK:
            if payload:
                raise protocol_error("SETTINGS acknowledgement with a payload", FRAME_SIZE_ERROR)
            return
        if len(payload) % 6:
            raise protocol_error("SETTINGS of a size that is not a multiple of 6", FRAME_SIZE_ERROR)
        for start in range(0, len(payload), 6):
            code = int.from_bytes(payload[start : start + 2], "big")
            value = int.from_bytes(payload[start + 2 : start + 6], "big")
            if code == 0x2 and value > 1:
                raise protocol_error(f"SETTINGS_ENABLE_PUSH {value}")
            if code == 0x3:
                self._max_streams = value
            elif code == 0x4:
                if value > MAX_WINDOW:
                    raise protocol_error(f"SETTINGS_INITIAL_WINDOW_SIZE {value}", FLOW_CONTROL_ERROR)
                delta = value - self._initial_window
                self._initial_window = value
                for stream in self.streams.values():  # RFC 9113 section 6.9.2: applies to open streams
                    stream.send_window += delta
                    if stream.send_window > MAX_WINDOW:
                        raise protocol_error("a stream's window grew too large", FLOW_CONTROL_ERROR)
            elif code == 0x5:
                if not 16384 <= value <= 16777215:
                    raise protocol_error(f"SETTINGS_MAX_FRAME_SIZE {value}")
                self._max_send_frame = value
        self._out += frame(SETTINGS, ACK, 0)
        self.settings_received = True

    def _on_window_update(self, stream_id: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise protocol_error("malformed WINDOW_UPDATE frame", FRAME_SIZE_ERROR)
        increment = int.from_bytes(payload, "big") & 0x7FFFFFFF
        if not stream_id:
            if not increment:
                raise protocol_error("WINDOW_UPDATE of 0 for the connection")
            self._send_window += increment
            if self._send_window > MAX_WINDOW:
                raise protocol_error("the connection's window grew too large", FLOW_CONTROL_ERROR)
            return
        stream = self._stream(stream_id, "WINDOW_UPDATE")
        if stream is None or stream.error is not None:
            return
        stream.send_window += increment
        if not increment or stream.send_window > MAX_WINDOW:
            self._malformed(stream, "bad WINDOW_UPDATE for the stream")

    def _on_rst_stream(self, stream_id: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise protocol_error("malformed RST_STREAM frame", FRAME_SIZE_ERROR)
        stream = self._stream(stream_id, "RST_STREAM")
        if stream is None:
            return
        stream.sent_end = True  # nothing more may be sent on it
        if not stream.complete and stream.error is None:
            code = int.from_bytes(payload, "big")
            stream.unprocessed = code == REFUSED_STREAM and stream.status is None
            stream.error = StreamReset(f"the server reset the HTTP/2 stream (error code {error_name(code)})")

    def _reject(self, stream: H2Stream, error: Exception) -> None:
        """The response on ``stream`` is unacceptable: fail it and reset it (the connection stays usable)."""
        stream.error = error
        if not stream.complete or not stream.sent_end:
            self._out += frame(RST_STREAM, 0, stream.id, PROTOCOL_ERROR.to_bytes(4, "big"))
        stream.sent_end = True
        stream.body.clear()
        self._acknowledge(stream.unacked, None)
        stream.unacked = 0

    def _malformed(self, stream: H2Stream, what: str) -> None:
        self._reject(stream, RemoteProtocolError(f"invalid HTTP/2 response: {what}"))

    def _goaway(self, last_stream_id: int, error_code: int) -> None:
        self.goaway = True
        for stream in self.streams.values():
            if stream.id > last_stream_id and not stream.complete and stream.error is None:
                stream.unprocessed = True
                stream.error = RemoteProtocolError(
                    f"the server closed the HTTP/2 connection (GOAWAY, {error_name(error_code)}) before "
                    "processing this request"
                )

    def fail(self, error: Exception) -> None:
        """The connection is broken: every open stream fails with ``error``."""
        if self.error is None:
            self.error = error
        for stream in self.streams.values():
            if not stream.complete and stream.error is None:
                stream.error = error

    def connection_lost(self) -> None:
        self.fail(RemoteProtocolError("the server closed the HTTP/2 connection"))

    # -- the reader's side ------------------------------------------------------------------------------

    def _acknowledge(self, size: int, stream: H2Stream | None) -> None:
        """``size`` received bytes are consumed: open the windows again, in batches of half a window."""
        if not size or self.error is not None:
            return
        self._conn_unacked += size
        if self._conn_unacked >= CONNECTION_WINDOW // 2:
            self._out += frame(WINDOW_UPDATE, 0, 0, self._conn_unacked.to_bytes(4, "big"))
            self._recv_window += self._conn_unacked
            self._conn_unacked = 0
        if stream is not None and not stream.complete:
            stream.consumed += size
            if stream.consumed >= STREAM_WINDOW // 2:
                self._out += frame(WINDOW_UPDATE, 0, stream.id, stream.consumed.to_bytes(4, "big"))
                stream.recv_window += stream.consumed
                stream.consumed = 0

    def take_body(self, stream: H2Stream) -> bytes:
        """Body bytes received on ``stream`` and not yet taken; opens the flow-control windows for them."""
        body = stream.body
        if not body:
            return b""
        data = body[0] if len(body) == 1 else b"".join(body)
        body.clear()
        if stream.unacked:
            unacked, stream.unacked = stream.unacked, 0
            self._acknowledge(unacked, stream)
        return data

    def release(self, stream: H2Stream) -> None:
        """The application is done with ``stream``: reset it if it is still open, forget it."""
        self.streams.pop(stream.id, None)
        if self.error is not None:
            return
        if not stream.complete and stream.error is None:
            self._out += frame(RST_STREAM, 0, stream.id, CANCEL.to_bytes(4, "big"))
            stream.sent_end = True
        if stream.unacked:
            unacked, stream.unacked = stream.unacked, 0
            self._acknowledge(unacked, None)

    def close(self) -> bytes:
        """A GOAWAY to send before closing the socket."""
        if self.error is None:
            self._out += frame(GOAWAY, 0, 0, b"\0\0\0\0" + NO_ERROR.to_bytes(4, "big"))
        return self.data_to_send()
