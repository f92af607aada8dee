"""A response is never handed to the wrong request (issue #18, item 7).

An idle keep-alive connection must have nothing to read. Bytes on it (a stray response, garbage) or an EOF
mean the server broke the protocol or closed the connection; if the next request were sent on it, the
stray bytes would be read as that request's answer, or the request would go to a closed connection. So a
pooled HTTP/1.1 connection is checked for unread bytes and EOF before every reuse, sync and async, over
plain TCP and TLS.

Every request carries an id (``?id=...``) that the server echoes in ``X-Echo-Id``; each test asserts that
every request got its own answer. The servers make the bad bytes arrive before the client's check in a way
that does not depend on timing:

- the stray response travels in the same send as the response's last byte (a body larger than the
  client's first read, so the sync client's bounded body reads leave the stray bytes unread);
- the stray response is sent after the client has its response, while the client's thread (and, for the
  asyncio client, its event loop) waits for the server to say it was sent: the asyncio loop gets no turn
  to deliver it before the next request, as when a task sends two requests back to back;
- the server closes right after answering, its FIN in the same TCP segment as the response's last byte
  (TCP_CORK): a POST, never retried silently, must go to a new connection.

A stray response that arrives after the next request was sent cannot be told from that request's answer;
no client can detect that case (see ``servers/faults.py``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import brisk
from brisk._transport.asyncio.h1 import AsyncH1Connection
from brisk._transport.asyncio.transport import AsyncTransport
from servers.clients import AsyncClient, LoopThread, SyncClient
from servers.raw import RawConnection, RawRequest, RawServer, RawServerFactory, http_response
from servers.tls import CertBundle, TLSServerFactory

Client = SyncClient | AsyncClient
Handler = Callable[[RawConnection], object]

STRAY = http_response(200, b"stray", [("X-Echo-Id", "stray")])
BIG_BODY = 200_000  # more than the sync client's first read (64 KiB) and than one TLS record


def echo_id(request: RawRequest) -> str:
    return parse_qs(urlsplit(request.target).query)["id"][0]


def answer(request: RawRequest, size: int = 0) -> bytes:
    """The answer to ``request``: its id in ``X-Echo-Id`` and in the body (padded to ``size`` bytes)."""
    rid = echo_id(request)
    body = f"answer to {rid}".encode().ljust(size, b".")
    return http_response(200, body, [("X-Echo-Id", rid)])


def send_then_fin(conn: RawConnection, data: bytes) -> None:
    """Send ``data`` and close the sending side with the FIN in the same segment as the last data byte:
    corked, the data waits in the send queue and the FIN is tacked onto its last segment."""
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    conn.send(data)
    conn.sock.shutdown(socket.SHUT_WR)


def start(
    client: Client,
    handler: Handler,
    raw_server: RawServerFactory,
    tls_raw_server: TLSServerFactory,
    good_cert: CertBundle,
    tls: bool,
) -> RawServer:
    if tls:
        client.session.verify = str(good_cert.ca_bundle)
        return tls_raw_server(good_cert, handler)
    return raw_server(handler)


def back_to_back(
    client: Client,
    method: str,
    urls: list[str],
    between: Callable[[], object] | None = None,
    **kwargs: Any,
) -> list[brisk.Response]:
    """Send the requests one after another on the client's session, calling ``between`` (blocking) after
    each response. For the asyncio client all of it runs in one coroutine: between a response and the next
    request the event loop gets no turn, so it cannot have delivered anything that arrived meanwhile."""
    if isinstance(client, SyncClient):
        responses = []
        for url in urls:
            responses.append(client.request(method, url, **kwargs))
            if between is not None:
                between()
        return responses

    async def run() -> list[brisk.Response]:
        responses = []
        for url in urls:
            responses.append(await client.session.request(method, url, **kwargs))
            if between is not None:
                between()  # blocks the event loop on purpose
        return responses

    return client.run(run())  # type: ignore[no-any-return]


def assert_own_answers(responses: list[brisk.Response], ids: list[str]) -> None:
    assert [r.headers.get("X-Echo-Id") for r in responses] == ids
    assert [r.content for r in responses] == [f"answer to {rid}".encode() for rid in ids]


TLS = pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])


@TLS
def test_stray_response_with_the_last_byte_is_never_read_as_the_next_answer(
    client: Client,
    raw_server: RawServerFactory,
    tls_raw_server: TLSServerFactory,
    good_cert: CertBundle,
    tls: bool,
) -> None:
    """The stray response follows the end of the body in the same send. The sync client reads a
    Content-Length body no further than its end, so the stray bytes are left in the socket (or, over TLS,
    decrypted in the TLS buffer, as part of the body's last record): only the check before reuse sees them."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            body = f"answer to {echo_id(request)}".encode().ljust(BIG_BODY, b".")
            conn.send(http_response(200, body, [("X-Echo-Id", echo_id(request))]) + STRAY)

    server = start(client, handler, raw_server, tls_raw_server, good_cert, tls)
    ids = ["1", "2", "3"]
    responses = back_to_back(client, "GET", [f"{server.url}/?id={rid}" for rid in ids])
    assert [r.headers.get("X-Echo-Id") for r in responses] == ids
    assert [r.content[: len(b"answer to 1")] for r in responses] == [b"answer to " + i.encode() for i in ids]
    assert all(len(r.content) == BIG_BODY for r in responses)
    assert server.connection_count == 3  # each connection was given up after its stray bytes
    assert [echo_id(r) for r in server.requests] == ids


@TLS
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_stray_response_after_the_answer_is_never_read_as_the_next_answer(
    client: Client,
    raw_server: RawServerFactory,
    tls_raw_server: TLSServerFactory,
    good_cert: CertBundle,
    tls: bool,
    method: str,
) -> None:
    """The stray response arrives after the client has read its response and before it sends the next
    request. The asyncio client has not been given a loop turn to deliver it (a task sending two requests
    in a row): its own bookkeeping knows nothing, only the socket does."""
    answered = threading.Event()
    stray_sent = threading.Event()

    def handler(conn: RawConnection) -> None:
        first = conn.index == 0  # one stray response, after the first answer on the first connection
        while (request := conn.recv_request()) is not None:
            conn.send(answer(request))
            if first:
                first = False
                assert answered.wait(10)
                conn.send(STRAY)
                stray_sent.set()

    def after_response() -> None:
        if not stray_sent.is_set():
            answered.set()
            assert stray_sent.wait(10)

    server = start(client, handler, raw_server, tls_raw_server, good_cert, tls)
    ids = ["1", "2", "3"]
    data = b"payload" if method == "POST" else None
    responses = back_to_back(
        client, method, [f"{server.url}/?id={rid}" for rid in ids], after_response, data=data
    )
    assert_own_answers(responses, ids)
    assert server.connection_count == 2  # the first connection given up, the second kept
    assert [echo_id(r) for r in server.requests] == ids


@TLS
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_server_closing_right_after_its_answer_is_noticed_before_reuse(
    client: Client,
    raw_server: RawServerFactory,
    tls_raw_server: TLSServerFactory,
    good_cert: CertBundle,
    tls: bool,
    method: str,
) -> None:
    """The server closes each connection after one answer, without saying so (no ``Connection: close``),
    its FIN arriving with the answer's last byte. The next request must go to a new connection: a POST is
    not retried after it was written to a closed one, so sending it there fails the request; a GET would
    be retried, but the server (which only shut its sending side) sees what was written to it."""
    written_after_close: list[bytes] = []

    def handler(conn: RawConnection) -> None:
        request = conn.recv_request()
        if request is not None:
            send_then_fin(conn, answer(request))
            written_after_close.append(conn.wait_closed())

    server = start(client, handler, raw_server, tls_raw_server, good_cert, tls)
    ids = ["1", "2", "3", "4"]
    data = b"payload" if method == "POST" else None
    responses = back_to_back(client, method, [f"{server.url}/?id={rid}" for rid in ids], data=data)
    assert_own_answers(responses, ids)
    client.close()
    server.stop()  # joins the handlers
    assert server.connection_count == 4
    assert [echo_id(r) for r in server.requests] == ids
    assert written_after_close == [b""] * 4


def test_bytes_held_in_asyncios_tls_layer_count_as_unread(
    tls_raw_server: TLSServerFactory, good_cert: CertBundle, loop_thread: LoopThread
) -> None:
    """While reading is paused (as at the high-water mark), asyncio's TLS layer keeps reading the socket
    into its memory BIO but delivers nothing: the socket looks empty and no callback reported anything.
    The bytes held there count as unread."""
    stray_now = threading.Event()

    def handler(conn: RawConnection) -> None:
        first = conn.index == 0
        while (request := conn.recv_request()) is not None:
            conn.send(answer(request))
            if first:
                first = False
                assert stray_now.wait(10)
                conn.send(STRAY)

    server = tls_raw_server(good_cert, handler)

    async def run() -> list[brisk.Response]:
        async with brisk.AsyncSession(verify=str(good_cert.ca_bundle)) as session:
            first = await session.get(f"{server.url}/?id=1")
            transport = session._transport
            assert isinstance(transport, AsyncTransport)
            (conn,) = [c for conns in transport._state._idle.values() for c in conns]
            assert isinstance(conn, AsyncH1Connection)
            assert conn.transport is not None
            conn.transport.pause_reading()
            conn._reading_paused = True
            stray_now.set()
            for _ in range(1000):  # until the TLS layer has read the stray response from the socket
                if conn._tls_holds_bytes():
                    break
                await asyncio.sleep(0.005)
            assert conn._tls_holds_bytes()
            assert not conn.dirty  # nothing was delivered
            assert not conn.eof
            return [first, await session.get(f"{server.url}/?id=2")]

    responses = loop_thread.run(run())
    assert_own_answers(responses, ["1", "2"])
    assert server.connection_count == 2
