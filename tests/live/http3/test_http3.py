"""HTTP/3 over QUIC, sync and async, against hypercorn serving HTTP/3 (aioquic) next to its TLS port.

``http3="prior-knowledge"`` goes to the QUIC port directly; ``http3=True`` learns it from the ``Alt-Svc``
header the TCP responses carry. A UDP socket that reads and drops everything stands for a network that
blocks QUIC; a UDP port nobody listens on answers with ICMP port unreachable.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import trustme

import brisk
from brisk.exceptions import ConnectionError as BriskConnectionError
from brisk.exceptions import ConnectTimeout, ReadTimeout, SSLError, Timeout
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, SyncClient
from servers.proxies import PproxyServer

pytest.importorskip("aioquic", reason="HTTP/3 needs the brisk[http3] extra (aioquic)")

Client = SyncClient | AsyncClient
Factory = Callable[..., Client]

pytestmark = pytest.mark.timeout(60)

PRIOR = "prior-knowledge"


@pytest.fixture(scope="module")
def h3_server(ca: trustme.CA) -> Iterator[ServerThread]:
    """The test app over TLS (h2, http/1.1) and over HTTP/3 on ``quic_port``."""
    with ServerThread(tls=True, http3=True, ca=ca) as server:
        yield server


@pytest.fixture(scope="module")
def h3_url(h3_server: ServerThread) -> str:
    return f"https://127.0.0.1:{h3_server.quic_port}"


class BlackHole:
    """A UDP port that reads every datagram and answers none (a network that drops QUIC)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.recv(65536)
                self.received += 1
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


def _h3_client(client_factory: Factory, server: ServerThread, **settings: Any) -> Client:
    return client_factory(http3=settings.pop("http3", PRIOR), verify=server.ca_bundle, **settings)


# -- the basics ---------------------------------------------------------------------------------------------


def test_get_over_http3(client_factory: Factory, h3_server: ServerThread, h3_url: str) -> None:
    client = _h3_client(client_factory, h3_server)
    response = client.get(h3_url + "/get", params={"q": "1"})
    assert response.status_code == 200
    assert response.http_version == "HTTP/3"
    assert response.headers["server"] == "hypercorn-h3"
    assert json.loads(client.read(response))["args"] == {"q": "1"}
    info = response.connection_info
    assert info.alpn_protocol == "h3"
    assert info.tls_version == "TLSv1.3"
    assert info.peer_address == ("127.0.0.1", h3_server.quic_port)
    assert info.peer_certificate_der  # the server's certificate, DER
    assert response.elapsed.total_seconds() > 0


def test_post_bytes_and_streamed_body(client_factory: Factory, h3_server: ServerThread, h3_url: str) -> None:
    client = _h3_client(client_factory, h3_server)
    payload = bytes(range(256)) * 400  # larger than a datagram and than QUIC's initial windows
    response = client.post(
        h3_url + "/post", data=payload, headers={"content-type": "application/octet-stream"}
    )
    echoed = json.loads(client.read(response))
    assert response.http_version == "HTTP/3"
    assert len(echoed["data"]) > 0

    def pieces() -> Iterator[bytes]:
        yield b"first-"
        yield b"second"

    if client.mode == "async":

        async def apieces() -> Any:
            for piece in pieces():
                yield piece

        body: Any = apieces()
    else:
        body = pieces()
    response = client.post(h3_url + "/post", data=body)
    assert json.loads(client.read(response))["data"] == "first-second"


def test_large_streamed_upload(client_factory: Factory, h3_server: ServerThread, h3_url: str) -> None:
    """A generator body much larger than what QUIC may hold unacknowledged (1 MB): sent under flow
    control, every byte arrives."""
    import hashlib

    chunk = bytes(range(256)) * 256  # 64 KiB
    count = 48  # 3 MiB
    client = _h3_client(client_factory, h3_server)
    if client.mode == "async":

        async def abody() -> Any:
            for _ in range(count):
                yield chunk

        body: Any = abody()
    else:
        body = (chunk for _ in range(count))
    response = client.post(h3_url + "/upload", data=body, timeout=(10, 30))
    assert json.loads(client.read(response)) == {
        "bytes": len(chunk) * count,
        "sha256": hashlib.sha256(chunk * count).hexdigest(),
        "method": "POST",
    }


def test_decoding_and_streamed_response(
    client_factory: Factory, h3_server: ServerThread, h3_url: str
) -> None:
    client = _h3_client(client_factory, h3_server)
    response = client.get(h3_url + "/gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert json.loads(client.read(response))["gzipped"] is True
    response = client.get(h3_url + "/stream-bytes/300000", params={"seed": "1"}, stream=True)
    assert response.http_version == "HTTP/3"
    chunks = client.chunks(response, 65536)
    assert sum(map(len, chunks)) == 300000
    assert len(chunks) > 1


def test_unread_streamed_body_is_held_to_the_stream_window(
    client_factory: Factory, h3_server: ServerThread, h3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A streamed response left unread holds at most its stream window in memory (as over HTTP/2), while
    another stream of the connection is read; read later, it comes whole."""
    from brisk._protocol import http3

    window = 1 << 20
    monkeypatch.setattr(http3, "STREAM_WINDOW", window, raising=False)
    client = _h3_client(client_factory, h3_server)
    held = client.get(h3_url + "/stream-bytes/16777216?chunk_size=65536", stream=True)
    other = client.get(h3_url + "/bytes/8388608")  # reading it takes the held stream's datagrams in too
    assert len(client.read(other)) == 8388608
    (conn,) = [c for conns in client.pool()._shared.values() for c in conns]
    (stream,) = conn.state.streams.values()
    assert sum(len(chunk) for chunk in stream.body) <= window + 65536  # received, not yet read
    assert sum(len(chunk) for chunk in client.chunks(held, 65536)) == 16777216
    client.close()


def test_unread_streams_are_held_to_the_connection_window(
    client_factory: Factory, h3_server: ServerThread, h3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streamed responses left unread hold at most the connection's window in memory all together (as over
    HTTP/2), not a stream window each: two 8 MiB bodies with 1 MiB stream windows and a 1.5 MiB connection
    window (aioquic doubled MAX_DATA whenever half was used, read or not). Read later, both come whole."""

    size = 8 << 20
    client, conn, held = _two_unread(client_factory, h3_server, h3_url, monkeypatch, 1 << 20, 3 << 19, size)

    seen, max_data = _settled_buffering(client, conn)
    assert seen > 1 << 20  # more than one stream window arrived: the server sent on both streams
    assert seen <= 3 << 19  # but no more than the connection's window
    assert max_data <= 3 << 19  # nothing read: the window was not raised
    assert [sum(len(chunk) for chunk in client.chunks(response, 65536)) for response in held] == [size] * 2
    client.close()


def test_finished_unread_streams_still_count_against_the_connection_window(
    client_factory: Factory, h3_server: ServerThread, h3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A response that arrived whole but is not read yet is still held in memory after QUIC forgot its
    stream (aioquic discards a stream once both directions are finished): its bytes keep counting against
    the connection's window. Two 1 MiB bodies left unread, then a third request: the connection's window
    (2.5 MiB) is not raised, and the third body gets what is left of it, not its whole stream window."""

    size = 1 << 20
    client, conn, held = _two_unread(client_factory, h3_server, h3_url, monkeypatch, 2 << 20, 5 << 19, size)

    body, _ = _settled_buffering(client, conn)
    assert body == 2 * size  # both arrived whole
    third = client.get(h3_url + f"/stream-bytes/{4 * size}?chunk_size=65536", stream=True)
    body, max_data = _settled_buffering(client, conn)
    assert max_data <= 5 << 19  # nothing read: the window was not raised
    assert body <= 5 << 19  # held in memory: no more than the connection's window
    for response, length in zip([*held, third], [size, size, 4 * size], strict=True):
        assert sum(len(chunk) for chunk in client.chunks(response, 65536)) == length
    client.close()


def test_response_collected_while_its_connection_is_busy_still_frees_its_stream(
    h3_server: ServerThread, h3_url: str
) -> None:
    """A streamed response garbage-collected unread while another thread holds its connection's lock (the
    collector may run anywhere) has its stream cancelled by the connection's next user, not kept for ever."""
    import gc

    with brisk.Session(http3=PRIOR, verify=h3_server.ca_bundle) as session:
        held = session.get(h3_url + "/stream-bytes/1000000?chunk_size=65536", stream=True)
        pool = session._transport._state  # type: ignore[union-attr]
        (conn,) = [c for conns in pool._shared.values() for c in conns]
        assert len(conn.state.streams) == 1
        with conn._lock:  # another thread is using the connection
            del held
            gc.collect()
        assert session.get(h3_url + "/get").status_code == 200  # the connection's next user
        assert conn.state.streams == {}


def test_head_has_no_body(client_factory: Factory, h3_server: ServerThread, h3_url: str) -> None:
    client = _h3_client(client_factory, h3_server)
    response = client.head(h3_url + "/bytes/1000")
    assert response.status_code == 200
    assert response.http_version == "HTTP/3"
    assert client.read(response) == b""
    assert client.read(client.get(h3_url + "/bytes/10")) != b""  # the connection serves on


def test_policy_runs_unchanged(client_factory: Factory, h3_server: ServerThread, h3_url: str) -> None:
    """Redirects, cookies and auth are policy (brisk._flows): they work over HTTP/3 as they are."""
    client = _h3_client(client_factory, h3_server)
    response = client.get(h3_url + "/redirect/2")
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [302, 302]
    assert all(r.http_version == "HTTP/3" for r in [*response.history, response])
    client.get(h3_url + "/cookies/set", params={"flavour": "oat"})
    assert json.loads(client.read(client.get(h3_url + "/cookies")))["cookies"] == {"flavour": "oat"}
    assert client.get(h3_url + "/basic-auth/u/p", auth=("u", "p")).status_code == 200
    assert client.get(h3_url + "/basic-auth/u/p", auth=("u", "wrong")).status_code == 401


def test_retries_hooks_and_timings(client_factory: Factory, h3_server: ServerThread, h3_url: str) -> None:
    seen: list[str] = []
    client = _h3_client(
        client_factory,
        h3_server,
        retries=brisk.Retry(2, status_forcelist=[503], backoff_factor=0),
        hooks={"response": [lambda r, **_: seen.append(r.http_version)]},
    )
    first = client.get(h3_url + "/get")
    assert not first.timings.reused
    assert first.timings.connect > 0  # the QUIC handshake
    assert first.timings.total >= first.timings.first_byte > 0
    second = client.get(h3_url + "/get")
    assert second.timings.reused
    assert second.timings.connect == 0
    with pytest.raises(brisk.exceptions.RetryError):
        client.get(h3_url + "/status/503")
    assert seen == ["HTTP/3"] * 2  # the hooks ran on both answered requests; the retried one raised


def test_many_streams_share_one_connection(
    client_factory: Factory, h3_server: ServerThread, h3_url: str
) -> None:
    client = _h3_client(client_factory, h3_server)
    count = 40
    if client.mode == "async":

        async def burst() -> list[brisk.Response]:
            return await asyncio.gather(*(client.session.get(h3_url + f"/get?i={i}") for i in range(count)))

        responses = client.run(burst())
    else:
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda i: client.get(h3_url + f"/get?i={i}"), range(count)))
    assert [r.status_code for r in responses] == [200] * count
    assert [json.loads(r.content)["args"]["i"] for r in responses] == [str(i) for i in range(count)]
    assert {r.connection_info.local_address for r in responses} == {
        responses[0].connection_info.local_address
    }
    assert client.pool().total == 1


def test_resolve_setting_picks_the_address(client_factory: Factory, h3_server: ServerThread) -> None:
    client = client_factory(http3=PRIOR, verify=False, resolve={"brisk-h3.invalid": ["127.0.0.1"]})
    response = client.get(f"https://brisk-h3.invalid:{h3_server.quic_port}/get")
    assert response.http_version == "HTTP/3"
    assert response.connection_info.peer_address == ("127.0.0.1", h3_server.quic_port)
    assert json.loads(client.read(response))["headers"]["Host"] == f"brisk-h3.invalid:{h3_server.quic_port}"


# -- timeouts and TLS -------------------------------------------------------------------------------------


def test_read_timeout_and_total_deadline(
    client_factory: Factory, h3_server: ServerThread, h3_url: str
) -> None:
    client = _h3_client(client_factory, h3_server)
    with pytest.raises(ReadTimeout, match=r"timed out after 0\.3s"):
        client.get(h3_url + "/delay/5", timeout=(10, 0.3))
    with pytest.raises(Timeout, match=r"Timeout\.total"):
        client.get(h3_url + "/delay/5", timeout=brisk.Timeout(10, total=0.5))
    assert client.get(h3_url + "/get").status_code == 200  # the connection serves on


def test_handshake_to_a_black_hole_is_a_connect_timeout(
    client_factory: Factory, black_hole: BlackHole
) -> None:
    client = client_factory(http3=PRIOR, verify=False)
    with pytest.raises(ConnectTimeout, match="QUIC handshake"):
        client.get(f"https://127.0.0.1:{black_hole.port}/", timeout=(0.5, 5))
    assert black_hole.received >= 1
    assert client.pool().total == 0


def test_nothing_listening_fails_fast(client_factory: Factory, black_hole: BlackHole) -> None:
    black_hole.close()  # the port is free again: ICMP port unreachable answers
    client = client_factory(http3=PRIOR, verify=False)
    with pytest.raises(BriskConnectionError, match=r"cannot be reached over UDP"):
        client.get(f"https://127.0.0.1:{black_hole.port}/", timeout=(30, 5))


def test_certificate_is_verified(client_factory: Factory, h3_server: ServerThread, h3_url: str) -> None:
    client = client_factory(http3=PRIOR)  # the system store does not know the test CA
    with pytest.raises(SSLError, match="verification failed"):
        client.get(h3_url + "/get", timeout=(10, 10))
    client = client_factory(http3=PRIOR, verify=False)
    assert client.get(h3_url + "/get").http_version == "HTTP/3"


def test_address_host_is_checked_against_the_certificate(client_factory: Factory, ca: trustme.CA) -> None:
    """A URL naming an IP address is checked against the certificate's IP SANs, as over TCP: a certificate
    for another name, from a trusted CA, is refused (SNI is left out for addresses, the check is not)."""
    with ServerThread(tls=True, http3=True, ca=ca, identities=("other.example",)) as server:
        url = f"https://127.0.0.1:{server.quic_port}/get"
        client = client_factory(http3=PRIOR, verify=server.ca_bundle)
        with pytest.raises(SSLError, match=r"127\.0\.0\.1"):
            client.get(url, timeout=(10, 10))
        client.close()
        client = client_factory(
            http3=PRIOR, verify=server.ca_bundle, resolve={"wrong.example": ["127.0.0.1"]}
        )
        with pytest.raises(SSLError, match=r"wrong\.example"):  # a name is checked too, as an SSLError
            client.get(f"https://wrong.example:{server.quic_port}/get", timeout=(10, 10))
        client.close()
        client = client_factory(http3=PRIOR, verify=False)
        assert client.get(url).http_version == "HTTP/3"  # verify=False still skips every check
        client.close()


def test_pin_mismatch_is_refused(client_factory: Factory, h3_server: ServerThread, h3_url: str) -> None:
    client = _h3_client(client_factory, h3_server, pin="sha256//" + "A" * 43 + "=")
    with pytest.raises(SSLError, match="pin mismatch"):
        client.get(h3_url + "/get")


# -- Alt-Svc discovery and fallback ------------------------------------------------------------------------


def test_alt_svc_discovery(
    client_factory: Factory, h3_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the QUIC handshake may take its time on a loaded machine: this test is about discovery, not the race
    from brisk._transport import altsvc

    monkeypatch.setattr(altsvc, "ATTEMPT_LIMIT", 30.0)
    monkeypatch.setattr(altsvc, "RACE_DELAY", 30.0)
    client = _h3_client(client_factory, h3_server, http3=True)
    first = client.get(h3_server.url + "/get")
    assert first.http_version == "HTTP/2"
    assert first.headers["alt-svc"] == f'h3=":{h3_server.quic_port}"; ma=3600'
    second = client.get(h3_server.url + "/get")
    assert second.http_version == "HTTP/3"
    assert second.connection_info.peer_address == ("127.0.0.1", h3_server.quic_port)
    assert second.url == h3_server.url + "/get"  # the origin stays the same; only the route changed


@pytest.mark.parametrize("http3", [True, PRIOR])
def test_a_proxy_keeps_https_requests_on_tcp(
    client_factory: Factory, h3_server: ServerThread, pproxy: PproxyServer, http3: bool | str
) -> None:
    # brisk does not tunnel QUIC (CONNECT-UDP): through a proxy, even an origin known to speak HTTP/3 and
    # one whose answer offered it are reached over TCP, through the proxy
    proxy = pproxy.url("http")
    client = _h3_client(client_factory, h3_server, http3=http3, proxies={"https": proxy})
    for _ in range(2):
        response = client.get(h3_server.url + "/get")
        assert response.status_code == 200
        assert response.headers["alt-svc"] == f'h3=":{h3_server.quic_port}"; ma=3600'
        assert response.http_version in ("HTTP/1.1", "HTTP/2")
        assert response.connection_info.peer_address == ("127.0.0.1", pproxy.ports["http"])


def test_http3_off_ignores_alt_svc(client_factory: Factory, h3_server: ServerThread) -> None:
    client = client_factory(verify=h3_server.ca_bundle)
    client.get(h3_server.url + "/get")
    assert client.get(h3_server.url + "/get").http_version == "HTTP/2"


def test_blocked_udp_falls_back_to_tcp_and_is_remembered(
    client_factory: Factory, ca: trustme.CA, black_hole: BlackHole
) -> None:
    alt_svc = [f'h3=":{black_hole.port}"; ma=600']
    with ServerThread(tls=True, ca=ca, config={"alt_svc_headers": alt_svc}) as server:
        client = _h3_client(client_factory, server, http3=True)
        assert client.get(server.url + "/get").http_version == "HTTP/2"  # learns the (dead) alternative
        fallback = client.get(server.url + "/get")  # tries QUIC, gives up, goes over TCP
        assert fallback.status_code == 200
        assert fallback.http_version == "HTTP/2"
        tried = black_hole.received
        assert tried >= 1
        assert client.get(server.url + "/get").http_version == "HTTP/2"
        assert black_hole.received == tried  # the failure is remembered: no new QUIC attempt
        client.close()


def _routes(client: Client) -> Any:
    session = client.session
    return session._transport._h3_routes


def _on_client_side(client: Client, action: Callable[[], Any]) -> Any:
    """Run ``action`` where the client's connections live (the async client's event loop)."""
    if isinstance(client, AsyncClient):

        async def run() -> Any:
            return action()

        return client.run(run())
    return action()


def _two_unread(
    client_factory: Factory,
    h3_server: ServerThread,
    h3_url: str,
    monkeypatch: pytest.MonkeyPatch,
    stream_window: int,
    connection_window: int,
    size: int,
) -> tuple[Client, Any, list[Any]]:
    """A client with these receive windows, two streamed ``size``-byte responses it has not read, and the
    one QUIC connection they came on."""
    from brisk._protocol import http3

    monkeypatch.setattr(http3, "STREAM_WINDOW", stream_window)
    monkeypatch.setattr(http3, "CONNECTION_WINDOW", connection_window)
    client = _h3_client(client_factory, h3_server)
    held = [client.get(h3_url + f"/stream-bytes/{size}?chunk_size=65536", stream=True) for _ in range(2)]
    (conn,) = [c for conns in client.pool()._shared.values() for c in conns]
    return client, conn, held


def _settled_buffering(client: Client, conn: Any) -> tuple[int, int]:
    """(body bytes the connection holds for its streams, its connection window MAX_DATA) once neither has
    changed for a second (at most 10 s): what the server could send has arrived."""
    import time

    def buffered() -> tuple[int, int]:
        conn.looks_alive()  # the sync connection takes in what arrived (the async one reads by itself)
        body = sum(len(chunk) for stream in conn.state.streams.values() for chunk in stream.body)
        return body, conn.state.quic._local_max_data.value

    seen, last_change, give_up = (-1, -1), time.monotonic(), time.monotonic() + 10
    while time.monotonic() < give_up and time.monotonic() - last_change < 1.0:
        now = _on_client_side(client, buffered)
        if now != seen:
            seen, last_change = now, time.monotonic()
        time.sleep(0.05)
    return seen


def _routes_ready(client: Client) -> None:
    """Make the session's transport (and its HTTP/3 routes) exist without sending a request."""
    from brisk._transport.altsvc import routes_of

    session = client.session
    if session._transport is None:
        session._transport = session._new_transport()
    routes_of(session._transport)


def _race_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "brisk-h3-tcp-race"]


@pytest.mark.parametrize("pooled_tcp", [True, False], ids=["tcp-pooled", "tcp-new"])
def test_blocked_udp_races_tcp_instead_of_waiting(
    client_factory: Factory,
    ca: trustme.CA,
    black_hole: BlackHole,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    pooled_tcp: bool,
) -> None:
    """A QUIC attempt that a network drops does not hold the request until the attempt's limit: TCP is
    opened next to it after ``RACE_DELAY`` and answers. With the attempt's limit raised to 30 s, only the
    race can answer within the test's bound (the old fallback waited the limit out); the QUIC attempt that
    lost is closed and remembered, the TCP connection that won serves the request and stays pooled."""
    import logging
    import time

    from brisk._transport import altsvc

    monkeypatch.setattr(altsvc, "ATTEMPT_LIMIT", 30.0)
    alt_svc = [f'h3=":{black_hole.port}"; ma=600']
    with ServerThread(tls=True, ca=ca, config={"alt_svc_headers": alt_svc}) as server:
        client = _h3_client(client_factory, server, http3=True)
        assert client.get(server.url + "/get").http_version == "HTTP/2"  # learns the (dead) alternative
        pool = client.pool()
        if not pooled_tcp:  # no TCP connection to take from the pool: the race opens one
            _on_client_side(client, lambda: [conn.close() for conn in pool.drain()])
        assert pool.total == 0 or pooled_tcp
        origin = ("127.0.0.1", server.port)
        start = time.monotonic()
        with caplog.at_level(logging.DEBUG, logger="brisk"):
            raced = client.get(server.url + "/get", timeout=(60, 30))
        elapsed = time.monotonic() - start
        assert raced.status_code == 200
        assert raced.http_version == "HTTP/2"
        assert elapsed < 15, elapsed  # the QUIC attempt alone would have taken 30 s
        assert black_hole.received >= 1  # QUIC was tried first
        assert "lost the race to TCP" in caplog.text
        assert _routes(client).alt_svc.is_broken(origin, time.monotonic())
        for thread in _race_threads():
            thread.join(10)
        assert not _race_threads()  # the sync race's TCP thread is over
        assert (
            _on_client_side(client, lambda: len(asyncio.all_tasks()) - 1 if client.mode == "async" else 0)
            == 0
        )
        assert pool.total == 1  # the QUIC attempt left nothing in the pool; the TCP connection serves
        tried = black_hole.received
        assert client.get(server.url + "/get").http_version == "HTTP/2"
        assert black_hole.received == tried  # remembered: no new QUIC attempt
        client.close()


def test_quic_winning_the_race_closes_the_tcp_attempt(
    client_factory: Factory, h3_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TCP started at once (``RACE_DELAY`` 0) to an origin whose TLS never answers (a listening socket
    nobody accepts on): QUIC wins, the request goes over HTTP/3, the TCP attempt is called off (async) or
    ends with its connect timeout (sync), leaving nothing in the pool, no thread, no task, no socket."""
    import time

    from brisk._transport import altsvc

    monkeypatch.setattr(altsvc, "RACE_DELAY", 0.0)
    monkeypatch.setattr(altsvc, "ATTEMPT_LIMIT", 30.0)
    stall = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stall.bind(("127.0.0.1", 0))
    stall.listen(8)
    try:
        port = stall.getsockname()[1]
        client = _h3_client(client_factory, h3_server, http3=True)
        _routes_ready(client)
        origin = ("127.0.0.1", port)
        _routes(client).alt_svc.remember(origin, f'h3=":{h3_server.quic_port}"', time.monotonic())
        response = client.get(f"https://127.0.0.1:{port}/get", timeout=(2, 10))
        assert response.http_version == "HTTP/3"
        assert not _routes(client).alt_svc.is_broken(origin, time.monotonic())
        for thread in _race_threads():
            thread.join(10)
        assert not _race_threads()
        assert (
            _on_client_side(client, lambda: len(asyncio.all_tasks()) - 1 if client.mode == "async" else 0)
            == 0
        )
        assert client.pool().total == 1  # the QUIC connection only
        client.close()
    finally:
        stall.close()


def test_cancelled_during_the_race_leaves_nothing(
    black_hole: BlackHole, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An async request cancelled while QUIC (to a UDP port that drops everything) and TCP (to a port whose
    TLS never answers) both still try: both attempts are called off, their sockets closed (a ResourceWarning
    would fail the test), no task left, the pool's slots given back."""
    import time

    from brisk._transport import altsvc

    monkeypatch.setattr(altsvc, "RACE_DELAY", 0.0)
    monkeypatch.setattr(altsvc, "ATTEMPT_LIMIT", 30.0)
    stall = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stall.bind(("127.0.0.1", 0))
    stall.listen(8)
    port = stall.getsockname()[1]

    async def scenario() -> tuple[int, int]:
        async with brisk.AsyncSession(http3=True, verify=False) as session:
            transport = session._transport = session._new_transport()
            routes = altsvc.routes_of(transport)
            routes.alt_svc.remember(("127.0.0.1", port), f'h3=":{black_hole.port}"', time.monotonic())
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(session.get(f"https://127.0.0.1:{port}/", timeout=(20, 20)), 0.5)
            await asyncio.sleep(0)
            return len(asyncio.all_tasks()) - 1, transport._state.total

    try:
        assert asyncio.run(scenario()) == (0, 0)
        assert black_hole.received >= 1  # QUIC was under way
    finally:
        stall.close()


@pytest.mark.parametrize("hops", range(1, 7))
def test_cancelled_while_the_race_settles_keeps_the_tcp_connection_accounted(
    ca: trustme.CA, black_hole: BlackHole, monkeypatch: pytest.MonkeyPatch, hops: int
) -> None:
    """TCP wins the race (QUIC goes to a UDP port that drops everything) and the request is cancelled while
    the race is being settled (the QUIC attempt being called off): the TCP connection the race took from
    the pool is still given back, not left counted as in use for ever (the pool would fill up with such
    ghosts). The cancellation lands ``hops`` turns of the event loop after TCP connected, to hit the
    settling whatever the number of turns calling QUIC off takes."""
    import time

    from brisk._transport import altsvc
    from brisk._transport.asyncio import h3pool

    monkeypatch.setattr(altsvc, "RACE_DELAY", 0.0)
    monkeypatch.setattr(altsvc, "ATTEMPT_LIMIT", 30.0)
    connect = h3pool._tcp_connection
    request: asyncio.Task[Any] | None = None

    async def tcp_connection_then_cancel(*args: Any) -> Any:
        opened = await connect(*args)
        _cancel_after(hops, request)
        return opened

    monkeypatch.setattr(h3pool, "_tcp_connection", tcp_connection_then_cancel)

    async def scenario(url: str, port: int) -> tuple[int, int]:
        nonlocal request
        async with brisk.AsyncSession(http3=True, verify=False) as session:
            transport = session._transport = session._new_transport()
            routes = altsvc.routes_of(transport)
            routes.alt_svc.remember(("127.0.0.1", port), f'h3=":{black_hole.port}"', time.monotonic())
            request = asyncio.ensure_future(session.get(url + "/get", timeout=(20, 20)))
            try:
                await request
            except asyncio.CancelledError:
                pass
            for _ in range(20):
                await asyncio.sleep(0)
            state = transport._state
            return state.total, state.idle_count()

    with ServerThread(tls=True, http2=False, ca=ca) as server:
        total, idle = asyncio.run(scenario(server.url, server.port))
        assert total == idle  # every connection the race touched is back in the pool, none held


def _cancel_after(hops: int, task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` ``hops`` turns of the running event loop from now."""
    loop = asyncio.get_running_loop()

    def later(turns: int) -> None:
        if turns:
            loop.call_soon(later, turns - 1)
        elif task is not None:
            task.cancel()

    later(hops)


@pytest.mark.parametrize("hops", range(1, 7))
def test_cancelled_while_the_race_settles_closes_the_quic_connection_that_won(
    h3_server: ServerThread, monkeypatch: pytest.MonkeyPatch, hops: int
) -> None:
    """QUIC wins the race (TCP goes to a port whose TLS never answers) and the request is cancelled while
    the TCP attempt is being called off: the QUIC connection nobody will use is closed, not left open."""
    import time

    from brisk._transport import altsvc
    from brisk._transport.asyncio import h3

    monkeypatch.setattr(altsvc, "RACE_DELAY", 0.0)
    monkeypatch.setattr(altsvc, "ATTEMPT_LIMIT", 30.0)
    open_h3 = h3.open_h3
    opened: list[Any] = []
    request: asyncio.Task[Any] | None = None

    async def open_h3_then_cancel(*args: Any) -> Any:
        conn = await open_h3(*args)
        opened.append(conn)
        _cancel_after(hops, request)
        return conn

    monkeypatch.setattr(h3, "open_h3", open_h3_then_cancel)
    stall = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stall.bind(("127.0.0.1", 0))
    stall.listen(8)
    port = stall.getsockname()[1]

    async def scenario() -> int:
        nonlocal request
        async with brisk.AsyncSession(http3=True, verify=h3_server.ca_bundle) as session:
            transport = session._transport = session._new_transport()
            routes = altsvc.routes_of(transport)
            routes.alt_svc.remember(("127.0.0.1", port), f'h3=":{h3_server.quic_port}"', time.monotonic())
            request = asyncio.ensure_future(session.get(f"https://127.0.0.1:{port}/get", timeout=(20, 20)))
            try:
                await request
            except asyncio.CancelledError:
                pass
            return transport._state.total

    try:
        pooled = asyncio.run(scenario())
    finally:
        stall.close()
    assert len(opened) == 1
    assert opened[0].closed or pooled == 1  # closed, or kept in the pool (and closed with the session)


class _CountingHole(BlackHole):
    """A black hole that also tells how many QUIC attempts came: each uses a UDP socket (port) of its own."""

    def __init__(self) -> None:
        self.peers: set[Any] = set()
        super().__init__()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                _, peer = self.sock.recvfrom(65536)
            except (TimeoutError, OSError):
                continue
            self.received += 1
            self.peers.add(peer)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_requests_waiting_for_a_quic_attempt_that_fails_go_over_tcp(ca: trustme.CA, mode: str) -> None:
    """Requests sent together to an origin whose UDP is blocked wait for the one QUIC attempt under way
    (it may be shared); once it failed they go over TCP, as requests sent after it do, instead of each
    making its own attempt in turn (six requests made six attempts, one after the other, the last waiting
    six race delays)."""
    hole = _CountingHole()
    try:
        alt_svc = [f'h3=":{hole.port}"; ma=600']
        with ServerThread(tls=True, ca=ca, config={"alt_svc_headers": alt_svc}) as server:
            url = server.url + "/get"
            if mode == "sync":
                with brisk.Session(http3=True, verify=server.ca_bundle) as session:
                    session.get(url)  # learns the (dead) alternative
                    with ThreadPoolExecutor(6) as pool:
                        versions = list(pool.map(lambda _: session.get(url).http_version, range(6)))
            else:

                async def together() -> list[str]:
                    async with brisk.AsyncSession(http3=True, verify=server.ca_bundle) as session:
                        await session.get(url)
                        responses = await asyncio.gather(*(session.get(url) for _ in range(6)))
                        return [response.http_version for response in responses]

                versions = asyncio.run(together())
        assert versions == ["HTTP/2"] * 6
        assert len(hole.peers) == 1  # one QUIC attempt
    finally:
        hole.close()


def test_quic_failing_fast_falls_back_without_racing(
    client_factory: Factory, ca: trustme.CA, caplog: pytest.LogCaptureFixture
) -> None:
    """A QUIC attempt that fails at once (nothing listens on the UDP port: ICMP port unreachable) sends the
    request over TCP without waiting for the race's delay, and is remembered as failed."""
    import logging
    import time

    hole = BlackHole()
    hole.close()  # the port is free again: ICMP port unreachable answers
    alt_svc = [f'h3=":{hole.port}"; ma=600']
    with ServerThread(tls=True, ca=ca, config={"alt_svc_headers": alt_svc}) as server:
        client = _h3_client(client_factory, server, http3=True)
        client.get(server.url + "/get")
        with caplog.at_level(logging.DEBUG, logger="brisk"):
            assert client.get(server.url + "/get").http_version == "HTTP/2"
        assert "cannot be reached over UDP" in caplog.text
        assert "lost the race" not in caplog.text
        assert _routes(client).alt_svc.is_broken(("127.0.0.1", server.port), time.monotonic())
        client.close()


def test_async_session_closed_after_its_loop(h3_server: ServerThread, h3_url: str) -> None:
    """Closing the session once its event loop has ended still closes the QUIC socket, quietly."""
    session = brisk.AsyncSession(http3=PRIOR, verify=h3_server.ca_bundle)

    async def get() -> str:
        return (await session.get(h3_url + "/get")).http_version

    assert asyncio.run(get()) == "HTTP/3"
    pool = session._transport._state
    (conn,) = [c for conns in pool._shared.values() for c in conns]
    asyncio.run(session.close())  # a new loop; the connection's own loop is closed
    assert pool.total == 0
    assert conn.closed
    assert conn.sock.fileno() == -1  # the socket is closed
