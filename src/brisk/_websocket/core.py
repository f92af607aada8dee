"""The WebSocket policy, written once and shared by the sync and asyncio drivers: no sockets here.

- ``Handshake``: the upgrade request's headers (key, version, subprotocols, permessage-deflate offer) and the
  check of the server's 101 (``Sec-WebSocket-Accept``, ``Upgrade``, ``Connection``, the subprotocol and
  extensions it chose). The request itself goes through the session's flow like any other request.
- ``HeadReader``: reads the handshake's answer off the connection. A 101 head is parsed here (brisk's
  HTTP/1.1 response parser refuses a switch of protocols, rightly, for every other request); any other answer
  goes to that parser, body and all, so ``WebSocketHandshakeError.response`` is a complete response.
- ``Core``: the connection once open. Frames are parsed and built by the sans-IO protocol of the
  ``websockets`` library (masking in C, size limits applied before and after inflating); this class turns
  its frames into messages (fragments joined, text checked as UTF-8), answers pings (the library does),
  tracks keep-alive pings and the close handshake, and says what to write and when the socket may close.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections import deque

from brisk._protocol.http11 import ResponseParser
from brisk._protocol.http11_response import ResponseHead
from brisk._websocket.keepalive import KeepAlive
from brisk.exceptions import (
    MissingDependencyError,
    RemoteProtocolError,
    ResponseHeadersTooLarge,
    WebSocketClosed,
    WebSocketHandshakeError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._core.config import Limits
    from brisk.models import Response

__all__ = ["GUID", "Core", "Handshake", "HeadReader", "KeepAlive", "accept_for", "load"]

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
_MAX_ERROR_BODY = 1024 * 1024  # body bytes of a refused handshake kept for the error's response
_KEEP_BUFFER = 4 * 1024 * 1024  # the largest receive buffer a connection keeps between messages
_NORMAL = (1000, 1001)  # closes that end iteration quietly (1005: a close frame without a code, too)


def load() -> Any:
    """The ``websockets`` modules used here, or MissingDependencyError naming the extra."""
    try:
        from websockets import frames, protocol
        from websockets.extensions import permessage_deflate
    except ImportError:
        raise MissingDependencyError(
            "WebSocket support needs the 'websockets' package: pip install 'brisk[websocket]'"
        ) from None
    return protocol, frames, permessage_deflate


_pack_short = struct.Struct("!BB").pack
_pack_medium = struct.Struct("!BBH").pack
_pack_long = struct.Struct("!BBQ").pack


def _mask_function() -> Any:
    try:
        from websockets.speedups import apply_mask
    except ImportError:  # a build without its C helper
        from websockets.utils import apply_mask
    return apply_mask


def accept_for(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value that answers ``key``."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def _tokens(value: str | None) -> list[str]:
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


class Handshake:
    """One opening handshake: what the request carries and how the 101 is checked."""

    def __init__(self, subprotocols: list[str] | None, compression: str | None, max_size: int | None) -> None:
        if compression not in (None, "deflate"):
            raise ValueError(f"compression must be 'deflate' or None, not {compression!r}")
        self.key = base64.b64encode(os.urandom(16)).decode("ascii")
        self.subprotocols = list(subprotocols or ())
        for name in self.subprotocols:
            if not name or any(c in name for c in ", \t\r\n"):
                raise ValueError(f"invalid WebSocket subprotocol name {name!r}")
        self.max_size = max_size
        self._deflate: Any = None
        if compression == "deflate":
            _, _, pmd = load()
            self._deflate = pmd.ClientPerMessageDeflateFactory(client_max_window_bits=True)

    def headers(self) -> dict[str, str]:
        """The headers that make a GET an opening handshake (RFC 6455 section 4.1)."""
        headers = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Key": self.key,
            "Sec-WebSocket-Version": "13",
        }
        if self.subprotocols:
            headers["Sec-WebSocket-Protocol"] = ", ".join(self.subprotocols)
        if self._deflate is not None:
            from websockets.headers import build_extension

            headers["Sec-WebSocket-Extensions"] = build_extension(
                [(self._deflate.name, self._deflate.get_request_params())]
            )
        return headers

    def check(self, response: Response, url: str) -> tuple[str | None, list[Any]]:
        """The subprotocol and extensions of an accepted handshake; WebSocketHandshakeError otherwise."""
        status = response.status_code
        if status != 101:
            if 300 <= status < 400 and "location" in response.headers:
                raise WebSocketHandshakeError(
                    f"the server redirected the WebSocket handshake for {url} with {status} to "
                    f"{response.headers['location']!r}: redirects are not followed (connect to that URL "
                    "if it is trusted)",
                    response=response,
                )
            raise WebSocketHandshakeError(
                f"the server refused the WebSocket handshake for {url}: {status} {response.reason}".rstrip(),
                response=response,
            )
        headers = response.headers

        def fail(what: str) -> WebSocketHandshakeError:
            message = f"invalid WebSocket handshake from {url}: {what}"
            return WebSocketHandshakeError(message, response=response)

        if "websocket" not in _tokens(headers.get("upgrade")):
            raise fail(f"Upgrade is {headers.get('upgrade')!r}, not 'websocket'")
        if "upgrade" not in _tokens(headers.get("connection")):
            raise fail(f"Connection is {headers.get('connection')!r}, without 'upgrade'")
        accept = headers.get("sec-websocket-accept")
        if accept != accept_for(self.key):
            raise fail(f"Sec-WebSocket-Accept is {accept!r}, expected {accept_for(self.key)!r}")
        subprotocol = headers.get("sec-websocket-protocol")
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise fail(f"the server chose the subprotocol {subprotocol!r}, which was not offered")
        return subprotocol, self._extensions(headers.get("sec-websocket-extensions"), fail)

    def _extensions(self, value: str | None, fail: Any) -> list[Any]:
        if not value:
            return []
        from websockets.exceptions import InvalidHandshake, InvalidHeader, NegotiationError
        from websockets.headers import parse_extension

        try:
            chosen = parse_extension(value)
        except InvalidHeader as exc:
            raise fail(f"unreadable Sec-WebSocket-Extensions {value!r}: {exc}") from None
        accepted: list[Any] = []
        for name, params in chosen:
            if self._deflate is None or name != self._deflate.name:
                raise fail(f"the server chose the extension {name!r}, which was not offered")
            try:
                accepted.append(self._deflate.process_response_params(params, accepted))
            except (NegotiationError, InvalidHandshake) as exc:
                raise fail(f"bad {name} parameters {value!r}: {exc}") from None
        return accepted


class HeadReader:
    """The answer to the handshake, fed as it arrives. After ``feed`` returns True: ``head`` is a 101's head
    and ``rest`` the bytes after it (the first frames), or ``parser`` holds any other response."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._buffer = b""
        self.head: ResponseHead | None = None
        self.rest = b""
        self.parser: ResponseParser | None = None
        self._fed = 0  # bytes given to ``parser``: a refusal is read up to _MAX_ERROR_BODY, framed or not

    def feed(self, data: bytes) -> bool:
        if self.head is not None:  # frames that came after the 101
            self.rest += data
            return True
        if self.parser is not None:
            self.parser.feed(data)
            self._fed += len(data)
            return self._parser_done()
        self._buffer += data
        buffer = self._buffer
        if len(buffer) >= 12 and not buffer.startswith((b"HTTP/1.1 101", b"HTTP/1.0 101")):
            self.parser = ResponseParser("GET", self._limits)  # not a switch: an ordinary response
            self.parser.feed(buffer)
            self._fed = len(buffer)
            return self._parser_done()
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > self._limits.max_head_size:
                raise ResponseHeadersTooLarge(
                    f"the handshake response head is larger than {self._limits.max_head_size} bytes"
                )
            return False
        self.head, self.rest = self._parse_101(buffer[: end + 4]), buffer[end + 4 :]
        return True

    def feed_eof(self) -> None:
        if self.parser is None:
            raise RemoteProtocolError(
                "the server closed the connection before answering the WebSocket handshake"
            )
        self.parser.feed_eof()

    def _parser_done(self) -> bool:
        parser = self.parser
        assert parser is not None
        if parser.head is None:
            return False
        # Complete, or as much as is kept: a longer body (announced, or chunked and still coming) is cut
        return bool(
            parser.complete or (parser.body_remaining or 0) > _MAX_ERROR_BODY or self._fed > _MAX_ERROR_BODY
        )

    @staticmethod
    def _parse_101(head: bytes) -> ResponseHead:
        import httptools

        line_end = head.find(b"\r\n")
        parser = httptools.HttpResponseParser(None)
        try:
            parser.feed_data(head)
        except httptools.HttpParserUpgrade:
            pass  # llhttp read the whole head and stops at the switch: what a 101 with Upgrade does
        except httptools.HttpParserError as exc:
            if not str(exc).startswith("Pause on CONNECT/Upgrade"):  # (a 101 without Connection: upgrade)
                raise RemoteProtocolError(f"invalid WebSocket handshake response head: {exc}") from None
        parts = head[:line_end].split(b" ", 2)
        reason = parts[2].strip().decode("latin-1") if len(parts) == 3 else ""
        return ResponseHead(101, reason, head[:8].decode("latin-1"), head[line_end:-2], False)


class Core:
    """An open connection's state: bytes in (``receive_data``), messages out (``next_message``), and
    ``take_writes()`` for what must go to the peer (pongs, close frames, messages)."""

    def __init__(self, extensions: list[Any], max_size: int | None) -> None:
        protocol, frames, _ = load()
        self._protocol_module = protocol
        self._opcodes = frames.Opcode
        self.p = protocol.Protocol(protocol.Side.CLIENT, state=protocol.State.OPEN, max_size=max_size)
        self.p.extensions = extensions
        self._apply_mask = _mask_function()
        self.messages: deque[str | bytes] = deque()
        self.queued = 0  # bytes of messages not yet taken
        self._fragments: list[bytes] = []
        self._fragment_text = False
        self.pongs_seen = 0  # pongs received: keep-alive compares this with the count at its ping
        self.error: WebSocketClosed | None = None  # why the connection is closed, once it is
        # Complete data frames are read here (see ``receive_data``); the rest goes to the library.
        self._fast = not extensions
        self._max_size = max_size
        self._head = b""  # the start of a frame header that a read cut short
        self._lib_left = 0  # bytes of the library's current frame still to pass on to it
        # The payload of a data frame still arriving, in a buffer reused from one message to the next (a
        # fresh 1 MiB buffer per message costs more in page faults than copying into it)
        self._big_view: memoryview | None = None
        self._big_store = bytearray()
        self._big_at = 0
        self._big_text = False

    # -- bytes in ----------------------------------------------------------------------------------------

    def receive_data(self, data: bytes | memoryview) -> None:
        """Bytes from the peer. Unfragmented text and binary frames (unmasked, no RSV bits, within
        ``max_size``; no extensions on the connection) are cut out here, their payload copied once into
        the message (a large one straight into its own buffer, which ``big_target`` offers the socket to
        read into); every other frame goes to the library whole, header and payload, so it always starts
        at a frame boundary and its checks and state (control frames, fragments, limits, the close) stay
        its own. Once the library has closed or failed the connection it gets everything."""
        if not self._fast:
            self.p.receive_data(data)
            self._events()
            return
        if self._head:
            data = self._head + bytes(data)
            self._head = b""
        end = len(data)
        pos = 0
        lib_from = -1  # where the bytes for the library start, if any are pending
        while pos < end:
            if not self._fast:  # a message just failed the connection: the library discards the rest
                self.p.receive_data(data[pos:])
                return
            big = self._big_view
            if big is not None:
                take = min(len(big) - self._big_at, end - pos)
                big[self._big_at : self._big_at + take] = data[pos : pos + take]
                pos += take
                self.big_received(take)
                continue
            if self._lib_left:
                take = min(self._lib_left, end - pos)
                if lib_from < 0:
                    lib_from = pos
                self._lib_left -= take
                pos += take
                continue
            # a frame starts at ``pos``
            if end - pos < 2:
                self._head = bytes(data[pos:])
                break
            b0, b1 = data[pos], data[pos + 1]
            length = b1 & 0x7F
            at = pos + 2
            if length == 126:
                at += 2
                if end < at:
                    self._head = bytes(data[pos:])
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
            elif length == 127:
                at += 8
                if end < at:
                    self._head = bytes(data[pos:])
                    break
                length = int.from_bytes(data[pos + 2 : at], "big")
            opcode = b0 & 0x0F
            ours = (
                (b0 & 0xF0) == 0x80  # FIN alone: not a fragment, no RSV bits
                and opcode in (1, 2)
                and not b1 & 0x80  # unmasked (the library refuses a masked one)
                and (self._max_size is None or length <= self._max_size)
                and length < 1 << 63
            )
            if ours and lib_from >= 0:  # the library's frames came first: their messages (and state) too
                self._to_library(data[lib_from:pos])
                lib_from = -1
                if not self._fast:
                    self.p.receive_data(data[pos:])
                    return
            if not ours or self._fragments:  # (inside a fragmented message: the library's error)
                if lib_from < 0:
                    lib_from = pos
                self._lib_left = at - pos + (4 if b1 & 0x80 else 0) + length
                continue
            if end - at >= length:
                self._message(data[at : at + length], opcode == 1)
                pos = at + length
                continue
            store = self._big_store
            if len(store) < length:  # kept for the next large message, up to _KEEP_BUFFER bytes
                store = bytearray(length)
                if length <= _KEEP_BUFFER:
                    self._big_store = store
            self._big_view = memoryview(store)[:length]
            self._big_at = 0
            self._big_text = opcode == 1
            pos = at
        if lib_from >= 0:
            self._to_library(data[lib_from:pos])

    def _to_library(self, data: bytes | memoryview) -> None:
        self.p.receive_data(data)
        self._events()
        if self.p.state is not self._protocol_module.State.OPEN or self.error is not None:
            self._fast = False  # closing or failed: the library reads (and discards) the rest
            self._lib_left = 0

    def big_target(self) -> memoryview | None:
        """Where the next bytes go when a large data frame is arriving: its buffer's unfilled part."""
        big = self._big_view
        return None if big is None else big[self._big_at :]

    def big_received(self, count: int) -> None:
        """``count`` more bytes of the arriving data frame are in its buffer (``big_target``)."""
        self._big_at += count
        big = self._big_view
        if big is not None and self._big_at == len(big):
            self._big_view = None
            self._message(big, self._big_text)

    def receive_eof(self) -> None:
        if not self.eof_seen:
            self.p.receive_eof()
            self._events()
        if self.error is None:
            self._closed_by_peer()

    @property
    def eof_seen(self) -> bool:
        return bool(self.p.reader.eof)

    def _events(self) -> None:
        op = self._opcodes
        for frame in self.p.events_received():
            opcode = frame.opcode
            if opcode is op.TEXT or opcode is op.BINARY:
                if frame.fin:
                    self._message(frame.data, opcode is op.TEXT)
                else:
                    self._fragments = [frame.data]
                    self._fragment_text = opcode is op.TEXT
            elif opcode is op.CONT:
                self._fragments.append(frame.data)
                if frame.fin:
                    data = b"".join(self._fragments)
                    self._fragments = []
                    self._message(data, self._fragment_text)
            elif opcode is op.PONG:
                self.pongs_seen += 1
            elif opcode is op.CLOSE:
                self._closed_by_peer()
            if self.error is not None and self.p.parser_exc is None and opcode is not op.CLOSE:
                return  # failed on invalid UTF-8: the frames after it are not delivered
        if self.p.parser_exc is not None and self.error is None:
            self._failed(self.p.parser_exc)

    def _message(self, data: bytes | bytearray | memoryview, text: bool) -> None:
        if self.error is not None:
            return
        if text:
            try:
                message: str | bytes = str(data, "utf-8")
            except UnicodeDecodeError as exc:
                reason = f"invalid UTF-8 in a text message at byte {exc.start}"
                self.p.fail(1007, reason)
                self.error = WebSocketClosed(
                    f"the server sent {reason}; the connection was closed (1007)", code=1007, reason=reason
                )
                self._fast = False  # the library discards what follows
                return
        else:
            message = bytes(data) if type(data) is not bytes else data
        self.messages.append(message)
        self.queued += len(message)  # as next_message takes it off (characters for text)

    def _closed_by_peer(self) -> None:
        rcvd = self.p.close_rcvd
        if rcvd is None:
            code, reason = 1006, ""
            text = "the server closed the connection without a close frame (1006)"
        else:
            code, reason = int(rcvd.code), rcvd.reason
            text = f"the server closed the WebSocket connection: {code}" + (f" {reason}" if reason else "")
        self.error = WebSocketClosed(text, code=code, reason=reason)

    def _failed(self, exc: BaseException) -> None:
        sent = self.p.close_sent
        code = int(sent.code) if sent is not None else 1006
        reason = sent.reason if sent is not None else ""
        what = str(exc) or type(exc).__name__
        if type(exc).__name__ == "PayloadTooBig":
            what = f"a message larger than max_message_size ({what})"
        self.error = WebSocketClosed(
            f"the server broke the WebSocket protocol: {what}; the connection was closed ({code})",
            code=code,
            reason=reason,
        )

    # -- messages out --------------------------------------------------------------------------------------

    def next_message(self) -> str | bytes | None:
        if self.messages:
            message = self.messages.popleft()
            self.queued -= len(message)
            return message
        return None

    def check_open(self) -> None:
        """Raise the close as WebSocketClosed when nothing more can be sent or received."""
        if self.error is not None:
            raise self.error
        if self.p.state is not self._protocol_module.State.OPEN:
            raise WebSocketClosed("the WebSocket connection is closed", code=self.close_code or 1006)

    def send(self, message: str | bytes) -> None:
        """Queue ``message`` as one frame, built by the library (``take_writes`` returns it)."""
        if isinstance(message, str):
            self.p.send_text(message.encode("utf-8"))
        elif isinstance(message, bytes | bytearray | memoryview):
            self.p.send_binary(message)
        else:
            raise TypeError(f"a WebSocket message is str or bytes, not {type(message).__name__}")

    def encode(self, message: str | bytes) -> list[bytes]:
        """What to write to send ``message``: anything queued before it, then its frame, whole.

        Without extensions a data frame is built here: a header, a fresh mask, and the payload masked by
        the library's C helper, handed to the socket as separate pieces. The library's own ``serialize``
        copies a payload twice more through a BytesIO (half the client's CPU for a 1 MiB message). With
        permessage-deflate the library builds the frame.
        """
        p = self.p
        if p.extensions or p.state is not self._protocol_module.State.OPEN:
            self.send(message)
            queued: list[bytes] = p.data_to_send()
            return queued
        if isinstance(message, str):
            data: Any = message.encode("utf-8")
            head1 = 0x81
        elif isinstance(message, bytes | bytearray | memoryview):
            data, head1 = message, 0x82
        else:
            raise TypeError(f"a WebSocket message is str or bytes, not {type(message).__name__}")
        length = len(data)
        if length < 126:
            header = _pack_short(head1, 0x80 | length)
        elif length < 65536:
            header = _pack_medium(head1, 0xFE, length)
        else:
            header = _pack_long(head1, 0xFF, length)
        mask = os.urandom(4)
        pieces: list[bytes] = p.data_to_send() if p.writes else []
        if length < 4096:
            pieces.append(header + mask + self._apply_mask(data, mask))
        else:
            pieces.append(header + mask)
            pieces.append(self._apply_mask(data, mask))
        return pieces

    def ping(self, data: bytes) -> None:
        self.p.send_ping(data)

    def close(self, code: int, reason: str) -> None:
        if self.p.state is self._protocol_module.State.OPEN:
            self.p.send_close(code, reason)

    def take_writes(self) -> tuple[bytes, bool]:
        """What to write now, and whether to half-close the connection after it."""
        if not self.p.writes:  # (the usual case after a data frame: nothing to answer)
            return b"", False
        writes = self.p.data_to_send()
        if not writes:
            return b"", False
        eof = writes[-1] == b""
        if eof:
            writes.pop()
        return (writes[0] if len(writes) == 1 else b"".join(writes)), eof

    @property
    def closing(self) -> bool:
        """Has a close frame gone out or come in (so the socket may close once the peer's arrives)?"""
        return self.p.state is not self._protocol_module.State.OPEN

    @property
    def close_received(self) -> bool:
        return self.p.close_rcvd is not None or self.eof_seen or self.p.parser_exc is not None

    @property
    def close_code(self) -> int | None:
        rcvd = self.p.close_rcvd
        if rcvd is not None:
            return int(rcvd.code)
        if self.error is not None or self.closing:
            return self.error.code if self.error is not None else 1006
        return None

    @property
    def close_reason(self) -> str | None:
        rcvd = self.p.close_rcvd
        if rcvd is not None:
            return str(rcvd.reason)
        return self.error.reason if self.error is not None else None

    def iteration_ends(self) -> bool:
        """Does the current close end ``for message in ws`` quietly (a normal close by the peer)?"""
        return self.error is not None and self.error.code in (*_NORMAL, 1005)
