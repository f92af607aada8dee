"""A send to a peer that stops reading ends in WriteTimeout (the handshake's ``timeout.write``), sync and
async, against a real loopback peer whose socket buffers a large message fills; a peer that keeps reading,
however slowly, is waited for."""

from __future__ import annotations

import asyncio
import time

import pytest
from test_ws_hostile import _ws, accept, client_frames, frame

import brisk

BIG = b"m" * (32 * 1024 * 1024)  # more than loopback's socket buffers hold, both ends together


def _send_error(
    url: str, mode: str, timeout: brisk.Timeout, verify: str | bool = True
) -> tuple[BaseException, BaseException, bool]:
    """Open ``url``, send BIG: (the send's error, the error of a send after it, ws.closed)."""
    options = {"compression": None, "timeout": timeout, "close_timeout": 0.3, "verify": verify}
    if mode == "sync":
        with brisk.Session() as s, s.websocket(url, **options) as ws:
            with pytest.raises(brisk.RequestException) as first:
                ws.send(BIG)
            with pytest.raises(brisk.RequestException) as then:
                ws.send("after")
            return first.value, then.value, ws.closed

    async def main() -> tuple[BaseException, BaseException, bool]:
        async with brisk.AsyncSession() as s, s.websocket(url, **options) as ws:
            with pytest.raises(brisk.RequestException) as first:
                await ws.send(BIG)
            with pytest.raises(brisk.RequestException) as then:
                await ws.send("after")
            return first.value, then.value, ws.closed

    return asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_peer_that_stops_reading_makes_send_a_write_timeout(raw_server, mode):
    def handler(conn):
        accept(conn)
        conn.sleep(60)  # reads nothing more; the test stops the server once the client gave up

    server = raw_server(handler, timeout=60)
    started = time.monotonic()
    error, after, closed = _send_error(_ws(server), mode, brisk.Timeout(10, write=0.3))
    elapsed = time.monotonic() - started
    server.stop()
    assert isinstance(error, brisk.WriteTimeout)
    assert "0.3 s" in str(error)
    assert _ws(server).rstrip("/") in str(error)
    assert closed  # half a frame may have gone out: the connection cannot carry another message
    assert isinstance(after, brisk.WebSocketClosed)
    assert elapsed < 30  # the peer would have held the send for 60 s (a wide margin for a loaded machine)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_slow_but_steady_reader_is_not_a_write_timeout(raw_server, mode):
    # The peer takes 64 KiB every 20 ms: the 8 MiB message needs seconds, far longer than the write
    # timeout, yet the peer never stops taking bytes for anything near it: the timeout is for a stall.
    message = b"s" * (8 * 1024 * 1024)
    seen = {}

    def handler(conn):
        accept(conn)
        data = bytearray()
        while len(data) < len(message) + 14:
            piece = conn.recv(65536)
            if not piece:
                break
            data += piece
            conn.sleep(0.02)
        conn.send(frame(1, b"all read"))
        seen["frames"] = client_frames(bytes(data) + conn.wait_closed(timeout=30))

    server = raw_server(handler, timeout=60)
    options = {"compression": None, "timeout": brisk.Timeout(10, write=1.0), "close_timeout": 0.3}
    if mode == "sync":
        with brisk.Session() as s, s.websocket(_ws(server), **options) as ws:
            ws.send(message)
            assert ws.receive() == "all read"
    else:

        async def main() -> None:
            async with brisk.AsyncSession() as s, s.websocket(_ws(server), **options) as ws:
                await ws.send(message)
                assert await ws.receive() == "all read"

        asyncio.run(main())
    server.stop()
    assert seen["frames"][0] == (2, message)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_over_tls_a_peer_that_stops_reading_makes_a_send_a_write_timeout(tls_raw_server, good_cert, mode):
    # The kernel cannot time a TLS socket's writes: the sync client keeps a timeout on the socket instead.
    # asyncio's TLS layer takes a first message whole into its transport's buffer (the send returns), so
    # there the write timeout ends the next send.
    def handler(conn):
        accept(conn)
        conn.sleep(60)

    server = tls_raw_server(good_cert, handler)
    url = server.url.replace("https://", "wss://")
    options = {
        "compression": None,
        "timeout": brisk.Timeout(10, write=0.3),
        "close_timeout": 0.3,
        "verify": str(good_cert.ca_bundle),
    }
    if mode == "sync":
        with brisk.Session() as s, s.websocket(url, **options) as ws:
            with pytest.raises(brisk.WriteTimeout):
                ws.send(BIG)
            with pytest.raises(brisk.WebSocketClosed):
                ws.send("after")
    else:

        async def main() -> int:
            async with brisk.AsyncSession() as s, s.websocket(url, **options) as ws:
                sent = 0
                error: BaseException | None = None
                while error is None and sent < 3:
                    try:
                        await ws.send(BIG)
                        sent += 1
                    except brisk.RequestException as exc:
                        error = exc
                assert isinstance(error, brisk.WriteTimeout)
                with pytest.raises(brisk.WebSocketClosed):
                    await ws.send("after")
                return sent

        assert asyncio.run(main()) <= 1
    server.stop()


def test_sync_a_send_times_out_while_another_thread_waits_in_receive(raw_server):
    # The receiving thread holds the socket in a read without a timeout; the sending thread's write timeout
    # is the kernel's (SO_SNDTIMEO), apart from it. The timeout closes the connection, which ends the read.
    import threading

    def handler(conn):
        accept(conn)
        conn.sleep(60)

    server = raw_server(handler, timeout=60)
    got: dict[str, BaseException] = {}
    options = {"compression": None, "timeout": brisk.Timeout(10, write=0.3), "close_timeout": 0.3}
    with brisk.Session() as s, s.websocket(_ws(server), **options) as ws:

        def receive() -> None:
            try:
                ws.receive()
            except brisk.RequestException as exc:
                got["receive"] = exc

        reader = threading.Thread(target=receive)
        reader.start()
        try:
            with pytest.raises(brisk.WriteTimeout):
                ws.send(BIG)
        finally:
            reader.join(30)
    server.stop()
    assert not reader.is_alive()
    assert isinstance(got["receive"], brisk.WebSocketClosed)
