"""Closing an AsyncSession closes its sockets before the event loop ends."""

from __future__ import annotations

import asyncio
import gc
import warnings

import brisk
from servers.h2peer import H2PeerFactory, PeerConnection
from servers.h2peer import h2peer as h2peer  # the fixture  # noqa: PLC0414
from servers.tls import CertBundle


def answer_then_go_quiet(conn: PeerConnection) -> None:
    """Answer one request, then read nothing more (the client's TLS close_notify is never answered)."""
    conn.respond(conn.next_request().stream_id, 200, [], b"ok")
    conn.peer.stopping.wait(conn.peer.timeout)


def test_closed_http2_connection_is_not_left_to_the_garbage_collector(
    h2peer: H2PeerFactory, good_cert: CertBundle
) -> None:
    peer = h2peer(answer_then_go_quiet)

    async def scenario() -> None:
        async with brisk.AsyncSession(verify=str(good_cert.ca_bundle), trust_env=False) as session:
            response = await session.get(peer.url + "/")
            assert response.http_version == "HTTP/2"
            assert response.content == b"ok"

    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(scenario())  # closes its loop right after the session's aclose()
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
