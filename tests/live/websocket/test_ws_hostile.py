"""Hostile WebSocket servers (tests/servers/raw.py scripts the bytes): each misdeed is a clear error, the
connection is closed by the client, and nothing waits beyond its timeout. Every case runs sync and async."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
import time

import pytest

import brisk
from brisk._websocket.core import GUID


def frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask: bytes | None = None, length: int | None = None
):
    """One server frame; ``length`` lies about the payload length when given."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def client_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The (opcode, payload) of the client's frames (masked, as a client must send them)."""
    frames = []
    while len(data) >= 2:
        opcode, n = data[0] & 0x0F, data[1] & 0x7F
        assert data[1] & 0x80, "a client frame must be masked"
        at = 2
        if n == 126:
            (n,), at = struct.unpack("!H", data[2:4]), 4
        elif n == 127:
            (n,), at = struct.unpack("!Q", data[2:10]), 10
        key, at = data[at : at + 4], at + 4
        frames.append((opcode, unmask(data[at : at + n], key)))
        data = data[at + n :]
    return frames


def unmask(payload: bytes, key: bytes) -> bytes:
    """``payload`` XOR the repeated 4-byte ``key``, as one big-integer XOR: a loop over the bytes of a
    32 MB message takes seconds, long enough on a loaded machine to outlast a server's stop()."""
    mask = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(len(payload), "big")


def close_code(frames: list[tuple[int, bytes]]) -> int | None:
    return next((struct.unpack("!H", p[:2])[0] for op, p in frames if op == 8 and len(p) >= 2), None)


def accept(conn, *, accept_value: str | None = None, then: bytes = b"") -> None:
    request = conn.recv_request()
    key = request.header("sec-websocket-key")
    value = accept_value or base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    conn.send(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + value.encode() + b"\r\n\r\n" + then
    )


class Driver:
    """Open, receive and close the same way in both worlds."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def receive_error(self, url: str, **options) -> BaseException:
        """Open ``url``; the error of the first receive()."""
        if self.mode == "sync":
            with brisk.Session() as s, s.websocket(url, **options) as ws:
                with pytest.raises(brisk.RequestException) as info:
                    ws.receive()
                assert ws.closed
                return info.value

        async def main():
            async with brisk.AsyncSession() as s, s.websocket(url, **options) as ws:
                with pytest.raises(brisk.RequestException) as info:
                    await ws.receive()
                assert ws.closed
                return info.value

        return asyncio.run(main())

    def open_error(self, url: str, **options) -> BaseException:
        if self.mode == "sync":
            with brisk.Session() as s, pytest.raises(brisk.RequestException) as info:
                s.websocket(url, **options)
            return info.value

        async def main():
            async with brisk.AsyncSession() as s:
                with pytest.raises(brisk.RequestException) as info:
                    await s.websocket(url, **options)
                return info.value

        return asyncio.run(main())

    def receive_then_close(self, url: str, **options) -> list[str | bytes]:
        if self.mode == "sync":
            with brisk.Session() as s, s.websocket(url, **options) as ws:
                got = [ws.receive()]
            assert ws.closed
            return got

        async def main():
            async with brisk.AsyncSession() as s, s.websocket(url, **options) as ws:
                got = [await ws.receive()]
            assert ws.closed
            return got

        return asyncio.run(main())


@pytest.fixture(params=["sync", "async"])
def driver(request) -> Driver:
    return Driver(request.param)


def _ws(server) -> str:
    return server.url.replace("http://", "ws://")


def test_oversize_frame_refused_before_its_payload(raw_server, driver):
    seen = {}

    def handler(conn):
        accept(conn, then=frame(2, b"", length=10 * 1024 * 1024))  # announces 10 MiB, sends none of it
        seen["frames"] = client_frames(conn.wait_closed())

    server = raw_server(handler)
    error = driver.receive_error(_ws(server), max_message_size=1000, compression=None)
    server.stop()
    assert isinstance(error, brisk.WebSocketClosed)
    assert error.code == 1009
    assert "max_message_size" in str(error)
    assert close_code(seen["frames"]) == 1009


def test_invalid_utf8_text(raw_server, driver):
    seen = {}

    def handler(conn):
        accept(conn, then=frame(1, b"ok \xff\xfe"))
        seen["frames"] = client_frames(conn.wait_closed())

    server = raw_server(handler)
    error = driver.receive_error(_ws(server))
    server.stop()
    assert isinstance(error, brisk.WebSocketClosed)
    assert error.code == 1007
    assert "invalid UTF-8" in str(error)
    assert close_code(seen["frames"]) == 1007


def test_masked_server_frame(raw_server, driver):
    seen = {}

    def handler(conn):
        accept(conn, then=frame(1, b"hidden", mask=b"abcd"))
        seen["frames"] = client_frames(conn.wait_closed())

    server = raw_server(handler)
    error = driver.receive_error(_ws(server))
    server.stop()
    assert isinstance(error, brisk.WebSocketClosed)
    assert error.code == 1002
    assert "mask" in str(error)
    assert close_code(seen["frames"]) == 1002


def test_unexpected_continuation_frame(raw_server, driver):
    def handler(conn):
        accept(conn, then=frame(0, b"orphan"))
        conn.wait_closed()

    server = raw_server(handler)
    error = driver.receive_error(_ws(server))
    server.stop()
    assert isinstance(error, brisk.WebSocketClosed)
    assert error.code == 1002


def test_connection_dropped_without_close_frame(raw_server, driver):
    def handler(conn):
        accept(conn)
        conn.close()

    server = raw_server(handler)
    error = driver.receive_error(_ws(server))
    server.stop()
    assert isinstance(error, brisk.WebSocketClosed)
    assert error.code == 1006


def test_wrong_accept_header(raw_server, driver):
    closed = {}

    def handler(conn):
        accept(conn, accept_value="d3Jvbmc=")
        closed["rest"] = conn.wait_closed()

    server = raw_server(handler)
    error = driver.open_error(_ws(server))
    server.stop()
    assert isinstance(error, brisk.WebSocketHandshakeError)
    assert "Sec-WebSocket-Accept" in str(error)
    assert error.response.status_code == 101
    assert closed["rest"] == b""  # the client closed the connection, sending nothing more


def test_handshake_answer_never_comes(raw_server, driver):
    def handler(conn):
        conn.recv_request()
        conn.wait_closed()

    server = raw_server(handler)
    error = driver.open_error(_ws(server), timeout=0.3, retries=0)
    server.stop()
    assert isinstance(error, brisk.ReadTimeout)


def test_server_never_answers_the_close(raw_server, driver):
    seen = {}

    def handler(conn):
        accept(conn, then=frame(1, b"one"))
        seen["frames"] = client_frames(conn.wait_closed(timeout=30))  # reads the close, never answers it

    server = raw_server(handler, timeout=30)
    start = time.monotonic()
    got = driver.receive_then_close(_ws(server), close_timeout=0.3)
    elapsed = time.monotonic() - start
    server.stop()
    assert got == ["one"]
    assert close_code(seen["frames"]) == 1000
    assert elapsed < 10  # bounded by close_timeout (0.3 s), with a wide margin for a loaded machine


def test_fragments_with_a_ping_between_them(raw_server, driver):
    seen = {}

    def handler(conn):
        accept(
            conn,
            then=frame(1, b"frag", fin=False)
            + frame(9, b"are you there")
            + frame(0, "mént".encode()[:3], fin=False)
            + frame(0, "mént".encode()[3:]),
        )
        seen["frames"] = client_frames(conn.wait_closed())

    server = raw_server(handler)
    got = driver.receive_then_close(_ws(server), close_timeout=0.3)
    server.stop()
    assert got == ["fragmént"]  # UTF-8 split across fragments is joined before it is checked
    assert (10, b"are you there") in seen["frames"]  # the ping was answered with its payload


def test_unanswered_keepalive_ping_fails_with_1011(raw_server, driver):
    seen = {}

    def handler(conn):
        accept(conn)
        seen["frames"] = client_frames(conn.wait_closed(timeout=30))  # reads pings, never answers

    server = raw_server(handler, timeout=30)
    error = driver.receive_error(_ws(server), ping_interval=0.05, ping_timeout=0.2)
    server.stop()
    assert isinstance(error, brisk.WebSocketClosed)
    assert error.code == 1011
    assert "keep-alive ping" in str(error)
    assert seen["frames"][0][0] == 9  # a ping went out first
    assert close_code(seen["frames"]) == 1011


def test_sync_a_send_is_not_bound_by_the_timeout_of_an_earlier_receive(raw_server):
    # receive(timeout=...) sets the socket's timeout; a large send after it, to a peer that reads
    # slowly, must wait for the peer as long as it takes, not fail after that receive's timeout
    seen = {}
    message = b"m" * (32 * 1024 * 1024)  # more than loopback's socket buffers hold

    def handler(conn):
        accept(conn)
        conn.sleep(1.0)  # reads nothing for a while (the client's send waits meanwhile)
        seen["frames"] = client_frames(conn.wait_closed(timeout=60))

    server = raw_server(handler, timeout=60)
    with brisk.Session() as s, s.websocket(_ws(server), compression=None, close_timeout=0.3) as ws:
        with pytest.raises(brisk.ReadTimeout):
            ws.receive(timeout=0.01)
        ws.send(message)
    server.stop()
    assert seen["frames"][0] == (2, message)


def test_an_endless_refusal_body_is_read_only_up_to_its_limit(raw_server, driver):
    # a refused handshake's body is kept for the error's response, up to 1 MiB: a chunked body (no length
    # announced) that never ends must not be read, and held, for as long as the server sends it
    sent = {"bytes": 0}

    def handler(conn):
        conn.recv_request()
        conn.send(b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"10000\r\n" + b"n" * 0x10000 + b"\r\n"
        try:
            while sent["bytes"] < 64 * 1024 * 1024:
                conn.send(piece)
                sent["bytes"] += 0x10000
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass  # the client stopped reading and closed the connection

    server = raw_server(handler, timeout=60)
    error = driver.open_error(_ws(server))
    server.stop()
    assert isinstance(error, brisk.WebSocketHandshakeError)
    assert error.response.status_code == 403
    assert 0 < len(error.response.content) <= 2 * 1024 * 1024
    assert sent["bytes"] < 64 * 1024 * 1024  # the client closed the connection long before the end
