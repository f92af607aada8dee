"""Closing an AsyncSession (or a sync session's bulk loop) closes its sockets before the event loop ends.

asyncio closes a TLS transport gracefully: ``transport.close()`` sends close_notify and closes the socket
once the server's answer arrives. A loop closed in between (``asyncio.run`` ends right after ``async with``;
``Session.close`` closes its bulk loop a few turns after closing the pool) left the socket open, to be found
by the garbage collector later, in unrelated code, as "unclosed transport" ResourceWarnings. The server here
answers one request and then reads nothing, so its close_notify never comes: before the fix the warnings
came every time; with nginx they came when nginx was slower than those last turns of the loop.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Callable

import brisk
from servers.h2peer import H2PeerFactory, PeerConnection
from servers.h2peer import h2peer as h2peer  # the fixture  # noqa: PLC0414
from servers.tls import CertBundle


def answer_then_go_quiet(count: int) -> Callable[[PeerConnection], None]:
    """A script answering ``count`` requests, then reading nothing more until the test ends."""

    def script(conn: PeerConnection) -> None:
        for _ in range(count):
            conn.respond(conn.next_request().stream_id, 200, [], b"ok")
        conn.peer.stopping.wait(conn.peer.timeout)

    return script


def resource_warnings(run: Callable[[], object]) -> list[str]:
    """The ResourceWarnings raised while ``run()`` runs and when its garbage is collected after."""
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_async_session_closes_its_http2_connection_before_the_loop_ends(
    h2peer: H2PeerFactory, good_cert: CertBundle
) -> None:
    peer = h2peer(answer_then_go_quiet(1))

    async def scenario() -> None:
        async with brisk.AsyncSession(verify=str(good_cert.ca_bundle), trust_env=False) as session:
            response = await session.get(peer.url + "/")
            assert (response.http_version, response.content) == ("HTTP/2", b"ok")

    assert resource_warnings(lambda: asyncio.run(scenario())) == []
    assert peer.connection_count == 1


def test_sync_bulk_run_closes_its_http2_connection_with_the_session(
    h2peer: H2PeerFactory, good_cert: CertBundle
) -> None:
    peer = h2peer(answer_then_go_quiet(5))

    def scenario() -> None:
        with brisk.Session(verify=str(good_cert.ca_bundle), trust_env=False) as session:
            results = list(session.imap([f"{peer.url}/{i}" for i in range(5)], concurrency=5))
            assert sorted(r.response.content for r in results if r.response is not None) == [b"ok"] * 5
            assert {r.response.http_version for r in results if r.response is not None} == {"HTTP/2"}

    assert resource_warnings(scenario) == []
    assert peer.connection_count == 1
