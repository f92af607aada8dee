"""A scripted HTTP/3 server on aioquic, for what a well-behaved server never does: each request's path names
a behaviour (see ``H3PeerProtocol._answer``). Runs on its own event loop thread; a context manager.

- ``/ok``: 200 and a small body.
- ``/big-header``: a response head of 96 KB (brisk's default limit is 64 KB).
- ``/short-body``: ``Content-Length: 10`` and 4 bytes.
- ``/bad-status``: ``:status`` ``abc``.
- ``/never-ends``: a head and some body, then nothing.
- ``/reset``: a head and some body, then RESET_STREAM.
- ``/data-first``: a DATA frame before any HEADERS (a connection error in HTTP/3).
- ``/goaway``: the first time, a GOAWAY that leaves this stream unprocessed; then 200.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.buffer import encode_uint_var
from aioquic.h3.connection import H3_ALPN, FrameType, H3Connection, encode_frame
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import QuicEvent

__all__ = ["H3Peer", "h3peer"]


class H3PeerProtocol(QuicConnectionProtocol):
    went_away = False  # /goaway sends GOAWAY once; the request sent again is answered
    connections = 0
    max_streams: int | None = None  # MAX_STREAMS (bidi) of new connections; None: aioquic's 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.requests = 0
        if H3PeerProtocol.max_streams is not None:  # before the handshake sends the transport parameters
            limit = self._quic._local_max_streams_bidi
            limit.value = limit.sent = H3PeerProtocol.max_streams
        H3PeerProtocol.connections += 1

    def quic_event_received(self, event: QuicEvent) -> None:
        for h3_event in self.h3.handle_event(event):
            if isinstance(h3_event, HeadersReceived):
                path = dict(h3_event.headers).get(b":path", b"/").decode()
                self.requests += 1
                self._answer(h3_event.stream_id, path)
        self.transmit()

    def _head(
        self, stream_id: int, status: bytes = b"200", extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self.h3.send_headers(
            stream_id, [(b":status", status), (b"content-type", b"text/plain"), *(extra or [])]
        )

    def _answer(self, stream_id: int, path: str) -> None:
        quic = self._quic
        if path == "/ok":
            self._head(stream_id)
            self.h3.send_data(stream_id, b"fine", end_stream=True)
        elif path == "/short-body":
            self._head(stream_id, extra=[(b"content-length", b"10")])
            self.h3.send_data(stream_id, b"four", end_stream=True)
        elif path == "/big-header":
            self._head(stream_id, extra=[(b"x-big-%d" % i, b"a" * 8000) for i in range(12)])
            self.h3.send_data(stream_id, b"", end_stream=True)
        elif path == "/bad-status":
            self._head(stream_id, status=b"abc")
            self.h3.send_data(stream_id, b"", end_stream=True)
        elif path == "/never-ends":
            self._head(stream_id)
            self.h3.send_data(stream_id, b"partial", end_stream=False)
        elif path == "/reset":
            self._head(stream_id)
            self.h3.send_data(stream_id, b"partial", end_stream=False)
            self.transmit()
            asyncio.get_running_loop().call_later(0.05, self._reset, stream_id)
        elif path == "/data-first":
            quic.send_stream_data(stream_id, encode_frame(FrameType.DATA, b"oops"), end_stream=False)
        elif path == "/goaway" and not H3PeerProtocol.went_away:
            H3PeerProtocol.went_away = True
            control = self.h3._local_control_stream_id
            assert control is not None
            quic.send_stream_data(control, encode_frame(FrameType.GOAWAY, encode_uint_var(stream_id)))
        elif path == "/goaway":
            self._head(stream_id)
            self.h3.send_data(stream_id, b"after goaway", end_stream=True)
        else:
            self._head(stream_id, status=b"404")
            self.h3.send_data(stream_id, b"", end_stream=True)

    def _reset(self, stream_id: int) -> None:
        self._quic.reset_stream(stream_id, 0x102)  # H3_INTERNAL_ERROR
        self.transmit()


class H3Peer:
    """The scripted server on 127.0.0.1:``port`` (UDP), with a certificate from ``ca``."""

    def __init__(self, ca: trustme.CA) -> None:
        self.configuration = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        with leaf.cert_chain_pems[0].tempfile() as cert, leaf.private_key_pem.tempfile() as key:
            self.configuration.load_cert_chain(cert, key)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            serve("127.0.0.1", 0, configuration=self.configuration, create_protocol=H3PeerProtocol), self.loop
        ).result(10)
        self.port = self.server._transport.get_extra_info("sockname")[1]
        self.url = f"https://127.0.0.1:{self.port}"

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await asyncio.sleep(0.05)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def h3peer(ca: trustme.CA) -> Iterator[H3Peer]:
    peer = H3Peer(ca)
    yield peer
    peer.close()
