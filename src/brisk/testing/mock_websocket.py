"""A scripted WebSocket peer for ``MockTransport(websocket=...)``: test code that uses ``session.websocket``
without a server.

::

    def peer(request: brisk.PreparedRequest, ws: MockWebSocketPeer) -> None:
        assert request.headers["Authorization"] == "Bearer t"
        ws.send("welcome")
        for message in ws:                 # what the client sends, until it closes
            ws.send(message.upper())

    mock = MockTransport(websocket=peer)
    with brisk.Session(transport=mock) as s, s.websocket("wss://api.example/feed") as ws:
        assert ws.receive() == "welcome"

The peer runs in a thread of its own at the far end of a socket pair: brisk's real WebSocket client (the
handshake through the session's flow, cookies and hooks, framing, closing) talks to it. The peer answers the
handshake with a 101 (choosing the first subprotocol offered, unless ``subprotocol=`` says otherwise); to
refuse it, call ``ws.refuse(status, body)`` before anything else. An exception in the peer is re-raised by
``MockTransport.check_websockets()`` (and recorded in ``mock.websocket_errors``). Needs the ``websocket``
extra, as ``session.websocket`` does.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

from brisk._websocket.core import accept_for, load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.models import PreparedRequest

__all__ = ["MockWebSocketPeer", "open_peer"]

PeerFunction = Callable[["PreparedRequest", "MockWebSocketPeer"], object]


class MockWebSocketPeer:
    """The server side of one mocked WebSocket connection, as the peer function sees it."""

    def __init__(self, sock: socket.socket, request: PreparedRequest) -> None:
        protocol, _, _ = load()
        self._sock = sock
        self._protocol_module = protocol
        self.request = request
        self._accepted = False
        self._p = protocol.Protocol(protocol.Side.SERVER, state=protocol.State.OPEN, max_size=None)
        self._pending: list[Any] = []
        #: The close code the client sent, once it closed.
        self.close_code: int | None = None
        self.subprotocol: str | None = None

    # -- handshake -------------------------------------------------------------------------------------

    def _accept(self) -> None:
        if self._accepted:
            return
        self._accepted = True
        offered = [p.strip() for p in self.request.headers.get("sec-websocket-protocol", "").split(",") if p]
        if self.subprotocol is None and offered:
            self.subprotocol = offered[0]
        head = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_for(self.request.headers['sec-websocket-key'])}\r\n"
        )
        if self.subprotocol:
            head += f"Sec-WebSocket-Protocol: {self.subprotocol}\r\n"
        self._sock.sendall(head.encode("latin-1") + b"\r\n")

    def refuse(self, status: int = 403, body: bytes = b"") -> None:
        """Answer the handshake with ``status`` instead of 101 (``WebSocketHandshakeError`` in the client)."""
        if self._accepted:
            raise RuntimeError("refuse() comes before anything else: the handshake was already accepted")
        self._accepted = True
        self._sock.sendall(
            f"HTTP/1.1 {status} Refused\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )

    # -- messages --------------------------------------------------------------------------------------

    def send(self, message: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message to the client."""
        self._accept()
        if isinstance(message, str):
            self._p.send_text(message.encode("utf-8"))
        else:
            self._p.send_binary(message)
        self._flush()

    def receive(self) -> str | bytes | None:
        """The client's next message; None once it closed (``close_code`` says how)."""
        self._accept()
        opcodes = load()[1].Opcode
        parts: list[bytes] = []
        text = False
        while True:
            while not self._pending:
                data = self._sock.recv(65536)
                if data:
                    self._p.receive_data(data)
                else:
                    self._p.receive_eof()
                self._flush()
                self._pending.extend(self._p.events_received())
                if not data and not self._pending:
                    return None
            frame = self._pending.pop(0)
            if frame.opcode is opcodes.CLOSE:
                rcvd = self._p.close_rcvd
                self.close_code = int(rcvd.code) if rcvd is not None else 1005
                return None
            if frame.opcode in (opcodes.TEXT, opcodes.BINARY, opcodes.CONT):
                if frame.opcode is not opcodes.CONT:
                    text = frame.opcode is opcodes.TEXT
                parts.append(frame.data)
                if frame.fin:
                    data = b"".join(parts)
                    return data.decode("utf-8") if text else data

    def __iter__(self) -> Iterator[str | bytes]:
        while (message := self.receive()) is not None:
            yield message

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection from the server's side with ``code`` and ``reason``."""
        self._accept()
        if self._p.state is self._protocol_module.State.OPEN:
            self._p.send_close(code, reason)
            self._flush()

    def _flush(self) -> None:
        for data in self._p.data_to_send():
            if data:
                self._sock.sendall(data)
            else:
                self._sock.shutdown(socket.SHUT_WR)


def open_peer(
    peer: PeerFunction, request: PreparedRequest, errors: list[BaseException], threads: list[threading.Thread]
) -> socket.socket:
    """A socket for the client's end of a pair whose other end ``peer`` serves in a thread."""
    client, server = socket.socketpair()

    def run() -> None:
        try:
            with server:
                head = b""
                while b"\r\n\r\n" not in head:  # the handshake request, which ``request`` already describes
                    data = server.recv(65536)
                    if not data:
                        return
                    head += data
                ws = MockWebSocketPeer(server, request)
                peer(request, ws)
                ws.close()
                while ws.receive() is not None:  # until the client answers the close
                    pass
        except OSError:
            pass  # the client went away
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="brisk-mock-websocket", daemon=True)
    thread.start()
    threads.append(thread)
    return client
