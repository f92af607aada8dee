"""``brisk._transport.asyncio.writes``: while other exchanges of the pool are in flight, request heads are
written together at the start of the loop's next turn; alone, at once. Real sockets: each connection is an
``AsyncH1Connection`` on one end of a socket pair, and the test reads what reached the other end. The
exchanges through it are tested live (``tests/live/transport/test_write_batch_live.py``)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from brisk._transport.asyncio.h1 import AsyncH1Connection
from brisk._transport.asyncio.writes import WriteBatch
from brisk.exceptions import ConnectionError


def arrived(peer: socket.socket) -> bytes:
    try:
        return peer.recv(65536)
    except BlockingIOError:
        return b""


@asynccontextmanager
async def connections(count: int) -> AsyncIterator[list[tuple[AsyncH1Connection, socket.socket]]]:
    loop = asyncio.get_running_loop()
    made = []
    for _ in range(count):
        ours, peer = socket.socketpair()
        peer.setblocking(False)
        conn = AsyncH1Connection(loop)
        await loop.create_connection(lambda conn=conn: conn, sock=ours)  # type: ignore[misc]
        made.append((conn, peer))
    try:
        yield made
    finally:
        for conn, peer in made:
            conn.close()
            peer.close()
        await asyncio.sleep(0)  # let the aborted transports close their sockets


def run(test: Callable[[], object]) -> None:
    asyncio.run(test())  # type: ignore[arg-type]


def test_a_request_alone_on_the_loop_is_written_at_once() -> None:
    async def main() -> None:
        async with connections(1) as [(conn, peer)]:
            batch = WriteBatch()
            batch.in_flight += 1
            batch.write(conn, b"GET /a HTTP/1.1\r\n\r\n")
            assert arrived(peer) == b"GET /a HTTP/1.1\r\n\r\n"  # before the loop had a turn
            assert conn.head_sent_at == 0.0  # written at once: its read timeout needs no correction

    run(main)


def test_requests_in_flight_together_leave_together_at_the_next_turn() -> None:
    async def main() -> None:
        async with connections(3) as made:
            batch = WriteBatch()
            batch.in_flight += 3
            for number, (conn, _) in enumerate(made):
                batch.write(conn, b"GET /%d HTTP/1.1\r\n\r\n" % number)
            assert [arrived(peer) for _, peer in made] == [b"", b"", b""]
            assert [conn.head_sent_at for conn, _ in made] == [None, None, None]
            before = time.monotonic()
            await asyncio.sleep(0)
            assert [arrived(peer) for _, peer in made] == [b"GET /%d HTTP/1.1\r\n\r\n" % n for n in range(3)]
            assert all(before <= (conn.head_sent_at or 0) <= time.monotonic() for conn, _ in made)

    run(main)


def test_a_connection_closed_before_the_turn_sends_nothing_and_the_others_still_go() -> None:
    async def main() -> None:
        async with connections(2) as [(gone, gone_peer), (kept, kept_peer)]:
            batch = WriteBatch()
            batch.in_flight += 2
            batch.write(gone, b"GET /gone HTTP/1.1\r\n\r\n")
            batch.write(kept, b"GET /kept HTTP/1.1\r\n\r\n")
            gone.close()  # the exchange was cancelled meanwhile
            await asyncio.sleep(0)
            assert arrived(kept_peer) == b"GET /kept HTTP/1.1\r\n\r\n"
            await asyncio.sleep(0)
            assert gone_peer.recv(100) == b""  # closed, and the request never went out

    run(main)


def test_a_write_that_fails_at_the_turn_fails_its_own_exchange_only() -> None:
    async def main() -> None:
        async with connections(2) as [(failing, _), (kept, kept_peer)]:
            batch = WriteBatch()
            batch.in_flight += 2
            batch.write(failing, b"GET /a HTTP/1.1\r\n\r\n")
            batch.write(kept, b"GET /b HTTP/1.1\r\n\r\n")
            assert failing.transport is not None
            failing.transport.write_eof()  # a later write() raises RuntimeError
            await asyncio.sleep(0)
            assert isinstance(failing.error, ConnectionError)
            assert "while sending the request" in str(failing.error)
            assert isinstance(failing.error.__cause__, RuntimeError)
            assert failing.closed
            assert arrived(kept_peer) == b"GET /b HTTP/1.1\r\n\r\n"

    run(main)


def test_the_batch_keeps_nothing_once_flushed() -> None:
    async def main() -> None:
        async with connections(2) as made:
            batch = WriteBatch()
            batch.in_flight += 2
            for conn, _ in made:
                batch.write(conn, b"GET / HTTP/1.1\r\n\r\n")
            await asyncio.sleep(0)
            assert batch._writes == []  # no connection held
            assert batch._flush_on is None  # no loop held

    run(main)
