"""HTTP/3 against a scripted hostile server (``servers/h3peer.py``), sync and async: every fault ends in a
clear exception, and the session's next request still works."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("aioquic", reason="HTTP/3 needs the brisk[http3] extra (aioquic)")

import brisk
from brisk.exceptions import ReadTimeout, RemoteProtocolError, ResponseHeadersTooLarge
from servers.clients import AsyncClient, SyncClient
from servers.h3peer import H3Peer, H3PeerProtocol
from servers.h3peer import h3peer as h3peer  # the fixture  # noqa: PLC0414

Client = SyncClient | AsyncClient
Factory = Callable[..., Client]

pytestmark = pytest.mark.timeout(60)


def _client(client_factory: Factory, peer: H3Peer) -> Client:
    return client_factory(http3="prior-knowledge", verify=False)


def test_oversize_header_is_refused(client_factory: Factory, h3peer: H3Peer) -> None:
    client = _client(client_factory, h3peer)
    with pytest.raises(ResponseHeadersTooLarge, match=r"Limits\.max_head_size"):
        client.get(h3peer.url + "/big-header")
    assert client.read(client.get(h3peer.url + "/ok")) == b"fine"  # one stream failed, not the connection


def test_malformed_status_is_refused(client_factory: Factory, h3peer: H3Peer) -> None:
    # aioquic's HTTP/3 layer checks the pseudo-headers itself, and makes a bad one a connection error
    client = _client(client_factory, h3peer)
    with pytest.raises(RemoteProtocolError, match=r":status' has invalid value b'abc'"):
        client.get(h3peer.url + "/bad-status")
    assert client.read(client.get(h3peer.url + "/ok")) == b"fine"


def test_body_shorter_than_its_content_length(client_factory: Factory, h3peer: H3Peer) -> None:
    client = _client(client_factory, h3peer)
    with pytest.raises(RemoteProtocolError, match="4 bytes of body for a Content-Length of 10"):
        client.read(client.get(h3peer.url + "/short-body", stream=True))
    assert client.read(client.get(h3peer.url + "/ok")) == b"fine"


def test_data_before_headers_fails_the_connection(client_factory: Factory, h3peer: H3Peer) -> None:
    client = _client(client_factory, h3peer)
    with pytest.raises(RemoteProtocolError, match="HTTP/3"):
        client.get(h3peer.url + "/data-first", timeout=(10, 10))
    assert client.pool().total == 0  # the broken connection left the pool
    assert client.read(client.get(h3peer.url + "/ok")) == b"fine"  # on a new connection


def test_a_stream_that_never_ends_times_out(client_factory: Factory, h3peer: H3Peer) -> None:
    client = _client(client_factory, h3peer)
    response = client.get(h3peer.url + "/never-ends", stream=True, timeout=(10, 0.5))
    assert response.status_code == 200
    with pytest.raises(ReadTimeout, match="reading the response body"):
        client.read(response)
    assert client.read(client.get(h3peer.url + "/ok")) == b"fine"
    assert client.pool().total == 1  # the connection outlived the cancelled stream


def test_stream_reset_mid_body(client_factory: Factory, h3peer: H3Peer) -> None:
    client = _client(client_factory, h3peer)
    response = client.get(h3peer.url + "/reset", stream=True, timeout=(10, 10))
    with pytest.raises(RemoteProtocolError, match=r"reset the HTTP/3 stream \(error 0x102\)"):
        client.read(response)
    assert client.read(client.get(h3peer.url + "/ok")) == b"fine"


def test_goaway_sends_the_unprocessed_request_again(client_factory: Factory, h3peer: H3Peer) -> None:
    client = _client(client_factory, h3peer)
    H3PeerProtocol.went_away = False
    before = H3PeerProtocol.connections
    response = client.get(h3peer.url + "/goaway", timeout=(10, 10))
    assert client.read(response) == b"after goaway"
    assert H3PeerProtocol.connections == before + 2  # the GOAWAY'd connection, then a new one
    assert client.pool().total == 1


def test_a_low_stream_limit_opens_more_connections(loop_thread: Any, h3peer: H3Peer) -> None:
    """A server that allows 4 streams: 20 concurrent requests all succeed, the pool opening more connections
    rather than queueing streams the server has not allowed."""

    async def scenario() -> tuple[list[bytes], int]:
        async with brisk.AsyncSession(http3="prior-knowledge", verify=False) as session:
            responses = await asyncio.gather(*(session.get(h3peer.url + "/ok") for _ in range(20)))
            bodies = [await r.aread() for r in responses]
            return bodies, len({r.connection_info.local_address for r in responses})

    H3PeerProtocol.max_streams = 4
    try:
        bodies, connections = loop_thread.run(scenario())
    finally:
        H3PeerProtocol.max_streams = None
    assert bodies == [b"fine"] * 20
    assert connections > 1


def test_cancelling_a_request_keeps_the_connection(loop_thread: Any, h3peer: H3Peer) -> None:
    async def scenario() -> tuple[int, bytes]:
        async with brisk.AsyncSession(http3="prior-knowledge", verify=False) as session:
            await session.get(h3peer.url + "/ok")
            task = asyncio.ensure_future(session.get(h3peer.url + "/never-ends", stream=False))
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            response = await session.get(h3peer.url + "/ok")
            return session._transport._state.total, await response.aread()

    total, body = loop_thread.run(scenario())
    assert body == b"fine"
    assert total == 1


def test_threads_share_a_connection_while_one_waits(h3peer: H3Peer) -> None:
    """A sync request blocked on a silent stream does not hold up the other threads' requests."""
    with brisk.Session(http3="prior-knowledge", verify=False) as session:
        session.get(h3peer.url + "/ok")
        errors: list[BaseException] = []

        def slow() -> None:
            try:
                session.get(h3peer.url + "/never-ends", timeout=(10, 3))
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=slow)
        thread.start()
        bodies = [session.get(h3peer.url + "/ok").content for _ in range(5)]
        thread.join(30)
        assert bodies == [b"fine"] * 5
        assert len(errors) == 1
        assert isinstance(errors[0], ReadTimeout)
