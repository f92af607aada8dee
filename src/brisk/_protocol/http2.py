"""HTTP/2 for a client, sans-IO, on ``h2`` (imported only when a server picks h2 in ALPN).

``H2Connection`` keeps the state of one connection: requests become streams, bytes in become per-stream
state (head, body pieces, end, error), and ``data_to_send()`` says what to write. The transports do the
I/O and the waiting.

Rules:
- Flow control follows the reader: received DATA is acknowledged (opening the window again) only when the
  application takes it, so a slow reader holds at most one stream window (``STREAM_WINDOW``) in memory.
- GOAWAY: streams above the server's last processed id never reached the application there, so they fail
  with ``unprocessed`` set and the request flow may send them again on a new connection; streams at or
  below it finish normally; no new stream starts on the connection.
- RST_STREAM fails its own stream only (``StreamReset``); with REFUSED_STREAM before any response the server
  did not process the request (RFC 9113 section 8.7), so it is ``unprocessed`` as above.
- A connection error (bad frames, HPACK failure, a header list over ``Limits.max_head_size`` —
  ``ResponseHeadersTooLarge`` —, a CONTINUATION flood — h2 stops at 64 frames) fails every open stream and
  ends the connection. A head with more fields than ``Limits.max_header_count`` or a field longer than
  ``Limits.max_header_line`` fails its stream only, as over HTTP/1.1.
- Requests carry the same validation as HTTP/1.1 (no CR/LF/NUL anywhere); connection-specific headers
  (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, Host) are not sent: Host becomes
  ``:authority``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import RemoteProtocolError, ResponseHeadersTooLarge
from .http11 import check_header, check_method, check_target

if TYPE_CHECKING:
    import h2.connection

    from .._config import Limits

__all__ = ["H2Connection", "H2Stream", "StreamReset"]

STREAM_WINDOW = 16 * 1024 * 1024  # per-stream receive window we advertise
CONNECTION_WINDOW = 64 * 1024 * 1024  # connection-level receive window
_SKIP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"})


class StreamReset(RemoteProtocolError):
    """The server reset this stream (RST_STREAM); other streams of the connection are unaffected."""


class H2Stream:
    """One request/response exchange on an HTTP/2 connection."""

    __slots__ = (
        "body",
        "complete",
        "error",
        "headers",
        "id",
        "informational",
        "status",
        "unacked",
        "unprocessed",
    )

    def __init__(self, stream_id: int) -> None:
        self.id = stream_id
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.informational: list[int] = []
        self.body: list[bytes] = []
        self.unacked = 0  # flow-controlled bytes received, not yet handed to the reader
        self.complete = False
        self.error: Exception | None = None
        self.unprocessed = False  # GOAWAY said the server never processed this stream

    def has_body_data(self) -> bool:
        return bool(self.body)


class H2Connection:
    """Client state of one HTTP/2 connection."""

    def __init__(self, limits: Limits) -> None:
        import h2.config
        import h2.settings

        config = h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            # Outbound fields are validated by send_request (the HTTP/1.1 rules: no CR/LF/NUL, token names)
            # and sent lower-cased and stripped, so h2's own pass over them would only repeat the work.
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            validate_inbound_headers=True,
            normalize_inbound_headers=True,
        )
        self._h2 = _client_class()(config)
        self._limits = limits
        self._h2.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: limits.max_head_size,
            },
        )
        self._h2.decoder.max_header_list_size = limits.max_head_size
        self._h2.initiate_connection()
        self._h2.increment_flow_control_window(CONNECTION_WINDOW - 65535)
        self.streams: dict[int, H2Stream] = {}
        self.goaway = False
        self.error: Exception | None = None  # the connection is dead: why
        # The server's first frame must be SETTINGS (RFC 9113 section 3.4). Until it arrives we do not know
        # how many streams it allows, so the transports share a new connection only after it.
        self.settings_received = False
        self._frame_header = b""  # a frame header split across reads
        self._frame_skip = 0  # payload bytes of the current frame still to come
        self._frames_seen = 0

    # -- sending ----------------------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        return self._h2.data_to_send()

    def can_open_stream(self) -> bool:
        if self.goaway or self.error is not None:
            return False
        return len(self.streams) < self._h2.remote_settings.max_concurrent_streams

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
        block = [
            (b":method", method.encode()),
            (b":scheme", scheme.encode()),
            (b":authority", authority.encode("latin-1")),
            (b":path", target.encode("latin-1")),
        ]
        for name, value in headers:
            lower = name.lower()
            if lower in _SKIP:
                continue
            if lower == "te" and value.strip().lower() != "trailers":
                continue
            block.append((lower.encode("latin-1"), check_header(name, value).encode("latin-1")))
        stream_id = self._h2.get_next_available_stream_id()
        self._h2.send_headers(stream_id, block, end_stream=end_stream)
        stream = self.streams[stream_id] = H2Stream(stream_id)
        return stream

    def send_window(self, stream: H2Stream) -> int:
        """How many body bytes may be sent on ``stream`` now (0: wait for a WINDOW_UPDATE)."""
        try:
            return min(self._h2.local_flow_control_window(stream.id), self._h2.max_outbound_frame_size)
        except Exception:  # the stream is closed (reset): nothing more may be sent
            return 0

    def send_data(self, stream: H2Stream, data: bytes, end_stream: bool = False) -> None:
        """Queue ``data`` (no longer than ``send_window``) on ``stream``."""
        self._h2.send_data(stream.id, data, end_stream=end_stream)

    def end_stream(self, stream: H2Stream) -> None:
        self._h2.end_stream(stream.id)

    # -- receiving --------------------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Feed bytes from the socket; stream states change; ``data_to_send()`` may have new bytes."""
        import h2.errors
        import h2.events
        import h2.exceptions

        if not self._check_frames(data):
            return
        try:
            events = self._h2.receive_data(data)
        except h2.exceptions.DenialOfServiceError as exc:  # the HPACK decoder's header-list limit
            self.fail(
                ResponseHeadersTooLarge(
                    f"the response's header list is larger than {self._limits.max_head_size} bytes "
                    f"(Limits.max_head_size): {exc}"
                )
            )
            return
        except h2.exceptions.ProtocolError as exc:
            self.fail(RemoteProtocolError(f"HTTP/2 protocol error from the server: {exc}"))
            return
        for event in events:
            stream_id = getattr(event, "stream_id", 0)
            stream = self.streams.get(stream_id) if stream_id else None
            if isinstance(event, h2.events.DataReceived):
                if stream is not None:
                    stream.body.append(event.data)
                    stream.unacked += event.flow_controlled_length
                else:  # data for a stream we gave up on: give the window back at once
                    self._h2.acknowledge_received_data(event.flow_controlled_length, stream_id)
            elif isinstance(event, h2.events.ResponseReceived):
                if stream is not None:
                    self._set_head(stream, event.headers)
            elif isinstance(event, h2.events.InformationalResponseReceived):
                if stream is not None:
                    code = _status(event.headers)
                    if code is None:
                        self._reject(stream, RemoteProtocolError(_bad_status(event.headers)))
                    elif code == 101:  # RFC 9113 section 8.6: HTTP/2 has no 101 (Switching Protocols)
                        self._reject(stream, RemoteProtocolError("invalid HTTP/2 response: status 101"))
                    else:
                        stream.informational.append(code)
            elif isinstance(event, h2.events.StreamEnded):
                if stream is not None:
                    stream.complete = True
            elif isinstance(event, h2.events.StreamReset):
                if stream is not None and not stream.complete:
                    refused = event.error_code == h2.errors.ErrorCodes.REFUSED_STREAM
                    stream.unprocessed = refused and stream.status is None
                    stream.error = StreamReset(
                        f"the server reset the HTTP/2 stream (error code {event.error_code!s})"
                    )
            elif isinstance(event, h2.events.RemoteSettingsChanged):
                self.settings_received = True
            elif isinstance(event, h2.events.ConnectionTerminated):
                self._goaway(event.last_stream_id or 0, event.error_code)

    def _check_frames(self, data: bytes) -> bool:
        """Walk the frame boundaries ahead of h2, which checks a frame's size only after buffering all of it:
        a frame declaring more than our maximum (an HTTP/1.1 answer read as a frame header declares megabytes)
        and a first frame that is not SETTINGS (RFC 9113 section 3.4) end the connection at once."""
        header = self._frame_header
        i = self._frame_skip
        size = len(data)
        limit = self._h2.max_inbound_frame_size
        while i < size:
            take = data[i : i + 9 - len(header)]
            header += take
            i += len(take)
            if len(header) < 9:
                break
            length = int.from_bytes(header[:3], "big")
            first = not self.settings_received and self._frames_seen == 0
            self._frames_seen += 1
            if length > limit or (first and (header[3] != 0x4 or length % 6)):
                what = (
                    f"a {length}-byte frame (limit {limit})" if length > limit else "no SETTINGS frame first"
                )
                self.fail(
                    RemoteProtocolError(
                        f"HTTP/2 protocol error from the server: {what}, starting {header!r} "
                        "(is it really speaking HTTP/2?)"
                    )
                )
                return False
            i += length
            header = b""
        self._frame_header = header
        self._frame_skip = i - size
        return True

    def _set_head(self, stream: H2Stream, raw: Any) -> None:
        headers = []
        limits = self._limits
        for name, value in raw:
            if not name.startswith(b":"):
                if len(name) + len(value) + 4 > limits.max_header_line:
                    self._reject(
                        stream,
                        ResponseHeadersTooLarge(
                            f"a response header ({name[:40]!r}...) is longer than {limits.max_header_line} "
                            "bytes (Limits.max_header_line)"
                        ),
                    )
                    return
                headers.append((name.decode("latin-1"), value.decode("latin-1")))
        if len(headers) > limits.max_header_count:
            self._reject(
                stream,
                ResponseHeadersTooLarge(
                    f"the response has more than {limits.max_header_count} header fields "
                    "(Limits.max_header_count)"
                ),
            )
            return
        status = _status(raw)
        if status is None or status < 100:
            self._reject(stream, RemoteProtocolError(_bad_status(raw)))
            return
        stream.status = status
        stream.headers = headers

    def _reject(self, stream: H2Stream, error: Exception) -> None:
        """The response on ``stream`` is unacceptable: fail it and reset it (the connection stays usable)."""
        import h2.errors

        stream.error = error
        try:
            self._h2.reset_stream(stream.id, h2.errors.ErrorCodes.PROTOCOL_ERROR)
        except Exception:  # already closed on the h2 side
            pass

    def _goaway(self, last_stream_id: int, error_code: object) -> None:
        self.goaway = True
        for stream in self.streams.values():
            if stream.id > last_stream_id and not stream.complete and stream.error is None:
                stream.unprocessed = True
                stream.error = RemoteProtocolError(
                    f"the server closed the HTTP/2 connection (GOAWAY, {error_code!s}) before processing "
                    "this request"
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

    def take_body(self, stream: H2Stream) -> bytes:
        """Body bytes received on ``stream`` and not yet taken; opens the flow-control window for them."""
        body = stream.body
        if not body:
            return b""
        data = body[0] if len(body) == 1 else b"".join(body)
        body.clear()
        if stream.unacked and self.error is None:
            self._h2.acknowledge_received_data(stream.unacked, stream.id)
            stream.unacked = 0
        return data

    def release(self, stream: H2Stream) -> None:
        """The application is done with ``stream``: reset it if it is still open, forget it."""
        self.streams.pop(stream.id, None)
        if not stream.complete and stream.error is None and self.error is None:
            import h2.errors

            try:
                self._h2.reset_stream(stream.id, h2.errors.ErrorCodes.CANCEL)
            except Exception:  # already closed on the h2 side
                pass
        if stream.unacked and self.error is None:
            try:
                self._h2.acknowledge_received_data(stream.unacked, stream.id)
            except Exception:
                pass
            stream.unacked = 0

    def close(self) -> bytes:
        """A GOAWAY to send before closing the socket."""
        if self.error is None:
            try:
                self._h2.close_connection()
            except Exception:
                return b""
        return self._h2.data_to_send()


_CLIENT_CLASS: type[h2.connection.H2Connection] | None = None


def _client_class() -> type[h2.connection.H2Connection]:
    """h2's client connection, except that receiving GOAWAY does not stop the streams the server still
    processes: h2 moves the whole connection to CLOSED on GOAWAY (python-hyper/h2#1181) and then refuses
    their DATA frames and our WINDOW_UPDATEs, while RFC 9113 section 6.8 lets streams up to the last id
    complete. No new stream starts after GOAWAY: ``H2Connection.can_open_stream`` checks ``goaway``."""
    global _CLIENT_CLASS
    if _CLIENT_CLASS is None:
        import h2.connection

        class _Client(h2.connection.H2Connection):
            def _receive_goaway_frame(self, frame: Any) -> Any:
                result = super()._receive_goaway_frame(frame)
                machine = self.state_machine
                if machine.state is h2.connection.ConnectionState.CLOSED:
                    machine.state = h2.connection.ConnectionState.CLIENT_OPEN
                return result

        _CLIENT_CLASS = _Client
    return _CLIENT_CLASS


def _status(headers: Any) -> int | None:
    """The ``:status`` of a response head if it is three ASCII digits (RFC 9113 section 8.3.2), else None.
    (``int()`` alone would take ``+200``, ``2_00`` or `` 200`` and raise ValueError on anything else.)"""
    for name, value in headers:
        if name == b":status":
            return int(value) if len(value) == 3 and value.isdigit() else None
    return None


def _bad_status(headers: Any) -> str:
    value = next((value for name, value in headers if name == b":status"), None)
    shown = "missing" if value is None else repr(value[:20])
    return f"invalid HTTP/2 response: status {shown} (expected three digits, 100-999)"
