"""How connections reach their peers, over real loopback sockets, sync and async (the ``client`` fixture):
Happy Eyeballs racing a dead address against a live one, DNS bounded by the connect timeout, ``resolve=``
(plain and TLS), ``resolver=``, ``family=``, ``local_address=`` and TCP keep-alive.

A dead address is a listener on 127.0.0.2 whose backlog-0 accept queue is kept full (Linux then drops
further SYNs, so a connect hangs); the live server listens on 127.0.0.1 at the same port number, so one
name resolved to both addresses reaches either, depending on which is tried.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

import brisk
from brisk._transport.asyncio.connect import connect_tcp as async_connect_tcp
from brisk._transport.base import ConnectionConfig, NetworkOptions, SendOptions, Timings
from brisk._transport.sync.connect import connect_tcp
from brisk.exceptions import ConnectionRefused, ConnectTimeout, NameResolutionError
from servers.clients import AsyncClient, LoopThread, SyncClient
from servers.raw import RawConnection, RawServer, RawServerFactory, respond_ok

Client = SyncClient | AsyncClient


def blackhole_at(host: str, port: int) -> tuple[socket.socket, list[socket.socket]]:
    """A listener on ``host:port`` where connecting hangs (its accept queue is full), and the fillers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    listener.bind((host, port))
    listener.listen(0)
    for _ in range(8):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        fillers.append(filler)
        filler.setblocking(False)
        filler.connect_ex((host, port))
        _, writable, _ = select.select([], [filler], [], 0.3)
        if not writable:
            return listener, fillers  # this SYN was dropped: the queue is full
    listener.close()
    for filler in fillers:
        filler.close()
    pytest.skip("could not fill the accept queue of a backlog-0 listener on this system")


@pytest.fixture
def live_and_dead(raw_server: RawServerFactory) -> Iterator[tuple[RawServer, int]]:
    """A live server on 127.0.0.1:P and a dead listener on 127.0.0.2:P; yields (server, P)."""
    server = raw_server(respond_ok)
    try:
        listener, fillers = blackhole_at("127.0.0.2", server.port)
    except OSError as exc:
        pytest.skip(f"cannot listen on 127.0.0.2:{server.port}: {exc}")
    try:
        yield server, server.port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


# -- Happy Eyeballs ------------------------------------------------------------------------------------------


def test_a_dead_first_address_loses_the_race_to_a_live_second(
    client_factory: Callable[..., Client], live_and_dead: tuple[RawServer, int]
) -> None:
    server, port = live_and_dead
    client = client_factory(
        resolve={"he.test": ["127.0.0.2", "127.0.0.1"]}, timeout=brisk.Timeout(10, connect=3)
    )
    started = time.monotonic()
    response = client.get(f"http://he.test:{port}/", retries=0)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert client.read(response) == b"ok"
    # The dead address was tried first: the live one started only after the 250 ms stagger...
    assert elapsed >= 0.2
    # ... and won long before the connect timeout (3 s) would have ended the first attempt.
    assert elapsed < 1.5
    assert server.connection_count == 1


def test_the_stagger_is_a_setting(
    client_factory: Callable[..., Client], live_and_dead: tuple[RawServer, int]
) -> None:
    _, port = live_and_dead
    client = client_factory(resolve={"he.test": ["127.0.0.2", "127.0.0.1"]}, happy_eyeballs_delay=0.8)
    started = time.monotonic()
    assert client.get(f"http://he.test:{port}/", retries=0).status_code == 200
    assert 0.7 <= time.monotonic() - started < 2.5


def test_one_at_a_time_still_reaches_the_second_address(
    client_factory: Callable[..., Client], live_and_dead: tuple[RawServer, int]
) -> None:
    """Happy Eyeballs off: the dead first address gets its share of the connect timeout (at least 2 s of
    the 4), then the second is tried within the same timeout."""
    _, port = live_and_dead
    client = client_factory(
        resolve={"he.test": ["127.0.0.2", "127.0.0.1"]},
        happy_eyeballs_delay=None,
        timeout=brisk.Timeout(10, connect=4),
    )
    started = time.monotonic()
    assert client.get(f"http://he.test:{port}/", retries=0).status_code == 200
    assert 1.8 <= time.monotonic() - started < 3.5


def test_every_address_is_named_when_none_answers(
    client_factory: Callable[..., Client], live_and_dead: tuple[RawServer, int]
) -> None:
    _, port = live_and_dead
    second, fillers = blackhole_at("127.0.0.3", port)
    try:
        client = client_factory(
            resolve={"dead.test": ["127.0.0.2", "127.0.0.3"]}, timeout=brisk.Timeout(10, connect=0.8)
        )
        started = time.monotonic()
        with pytest.raises(ConnectTimeout) as caught:
            client.get(f"http://dead.test:{port}/", retries=0)
        assert time.monotonic() - started < 2
    finally:
        second.close()
        for filler in fillers:
            filler.close()
    message = str(caught.value)
    assert f"tried 127.0.0.2:{port} (timed out)" in message
    assert f"127.0.0.3:{port} (timed out)" in message
    assert "0.8" in message


def test_refused_everywhere_names_every_address(
    client_factory: Callable[..., Client], unused_port: int
) -> None:
    client = client_factory(resolve={"closed.test": ["127.0.0.2", "127.0.0.3"]})
    with pytest.raises(ConnectionRefused) as caught:
        client.get(f"http://closed.test:{unused_port}/", retries=0)
    assert f"tried 127.0.0.2:{unused_port}, 127.0.0.3:{unused_port}" in str(caught.value)


# -- DNS within the connect timeout --------------------------------------------------------------------------


def test_a_hanging_lookup_ends_with_the_connect_timeout(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    calls: list[str] = []

    def hanging_getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(host)
        release.wait(10)
        raise socket.gaierror(socket.EAI_NONAME, "released")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    started = time.monotonic()
    try:
        with pytest.raises(ConnectTimeout, match=r"resolving slow\.test timed out after 0\.5s"):
            client.get("http://slow.test:1/", timeout=brisk.Timeout(10, connect=0.5), retries=0)
        assert time.monotonic() - started < 1.5
        assert calls == ["slow.test"]
    finally:
        release.set()


def test_a_hanging_lookup_ends_with_the_total_deadline(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: release.wait(10))
    started = time.monotonic()
    try:
        with pytest.raises(ConnectTimeout, match=r"Timeout\.total"):
            client.get("http://slow.test:1/", timeout=brisk.Timeout(connect=None, total=0.5), retries=0)
        assert time.monotonic() - started < 1.5
    finally:
        release.set()


# -- resolve=, resolver=, family= ----------------------------------------------------------------------------


def test_resolve_sends_a_name_to_a_chosen_address(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    server = raw_server(respond_ok)
    client = client_factory(resolve={"api.example.test": "127.0.0.1"})
    response = client.get(f"http://api.example.test:{server.port}/path")
    assert response.status_code == 200
    assert server.requests[0].header("host") == f"api.example.test:{server.port}"


def test_resolve_by_host_and_port_wins_over_host(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, unused_port: int
) -> None:
    server = raw_server(respond_ok)
    client = client_factory(
        resolve={"api.example.test": "127.0.0.9", f"api.example.test:{server.port}": ["127.0.0.1"]}
    )
    assert client.get(f"http://API.example.test:{server.port}/").status_code == 200
    with pytest.raises(ConnectionRefused, match=r"127\.0\.0\.9"):  # another port: the host-only entry
        client.get(f"http://api.example.test:{unused_port}/", retries=0)


def test_resolve_over_tls_verifies_the_original_name(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, ca: trustme.CA, ca_bundle: str
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("api.example.test").configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment, func-returns-value]
    server = raw_server(respond_ok, tls=context)
    client = client_factory(resolve={"api.example.test": "127.0.0.1"}, verify=ca_bundle)
    response = client.get(f"https://api.example.test:{server.port}/")
    assert response.status_code == 200
    assert names == ["api.example.test"]
    assert server.requests[0].header("host") == f"api.example.test:{server.port}"
    # Another name on the same address does not pass verification: the certificate is checked.
    other = client_factory(resolve={"other.example.test": "127.0.0.1"}, verify=ca_bundle)
    with pytest.raises(brisk.exceptions.SSLError):
        other.get(f"https://other.example.test:{server.port}/", retries=0)


def test_a_resolver_answers_for_names(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    server = raw_server(respond_ok)
    asked: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["127.0.0.1"]

    client = client_factory(resolver=resolver)
    assert client.get(f"http://service.internal.test:{server.port}/").status_code == 200
    assert asked == [("service.internal.test", server.port)]


def test_a_resolver_that_fails_is_a_name_resolution_error(client: Client) -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise OSError("no such service")

    client.session.resolver = resolver
    with pytest.raises(NameResolutionError, match="no such service"):
        client.get("http://service.internal.test:1/", retries=0)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")
def test_family_filters_the_addresses(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    server = raw_server(respond_ok)  # on 127.0.0.1 only
    both = {"dual.test": ["::1", "127.0.0.1"]}
    v4 = client_factory(resolve=both, family="ipv4")
    assert v4.get(f"http://dual.test:{server.port}/").status_code == 200
    v6 = client_factory(resolve=both, family="ipv6")
    with pytest.raises(ConnectionRefused) as caught:
        v6.get(f"http://dual.test:{server.port}/", retries=0)
    assert "::1" in str(caught.value)
    assert "127.0.0.1" not in str(caught.value)
    only_v4 = client_factory(resolve={"v4.test": "127.0.0.1"}, family="ipv6")
    with pytest.raises(NameResolutionError, match=r"no IPv6 address \(family='ipv6'\)"):
        only_v4.get(f"http://v4.test:{server.port}/", retries=0)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")
def test_both_families_interleaved_reach_an_ipv4_only_server(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    server = raw_server(respond_ok)
    # A 5 s stagger: waiting it out would show; a refusal at once starts the next attempt without it.
    client = client_factory(resolve={"dual.test": ["::1", "127.0.0.1"]}, happy_eyeballs_delay=5.0)
    started = time.monotonic()
    assert client.get(f"http://dual.test:{server.port}/").status_code == 200
    assert time.monotonic() - started < 2.5


# -- local_address, keep-alive -------------------------------------------------------------------------------


def test_local_address_is_the_peer_the_server_sees(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    peers: list[str] = []

    def handler(conn: RawConnection) -> None:
        peers.append(conn.sock.getpeername()[0])
        respond_ok(conn)

    server = raw_server(handler)
    client = client_factory(local_address="127.0.0.2")
    assert client.get(f"http://127.0.0.1:{server.port}/").status_code == 200
    plain = client_factory()
    assert plain.get(f"http://127.0.0.1:{server.port}/").status_code == 200
    assert peers == ["127.0.0.2", "127.0.0.1"]


def _open(mode: str, loop_thread: LoopThread, network: NetworkOptions | None, port: int) -> socket.socket:
    options = SendOptions(config=ConnectionConfig(network=network))
    timings = Timings(time.monotonic())
    if mode == "sync":
        return connect_tcp("127.0.0.1", port, options, timings)

    async def opened() -> socket.socket:
        return await async_connect_tcp("127.0.0.1", port, options, timings, asyncio.get_running_loop())

    sock: socket.socket = loop_thread.run(opened())
    return sock


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_tcp_keepalive_is_on_by_default(
    mode: str, loop_thread: LoopThread, raw_server: RawServerFactory
) -> None:
    server = raw_server(respond_ok)
    with _open(mode, loop_thread, None, server.port) as sock:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        if hasattr(socket, "TCP_KEEPIDLE"):
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 60
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 60
    with _open(mode, loop_thread, NetworkOptions(tcp_keepalive=15), server.port) as sock:
        if hasattr(socket, "TCP_KEEPIDLE"):
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 15
    with _open(mode, loop_thread, NetworkOptions(tcp_keepalive=None), server.port) as sock:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0


def test_network_settings_are_part_of_the_pool_key(client: Client, raw_server: RawServerFactory) -> None:
    peers: list[str] = []

    def handler(conn: RawConnection) -> None:
        peers.append(conn.sock.getpeername()[0])
        respond_ok(conn)
        conn.wait_closed()

    server = raw_server(handler)
    url = f"http://127.0.0.1:{server.port}/"
    assert client.get(url).status_code == 200
    client.session.local_address = "127.0.0.2"  # must not reuse the pooled connection from 127.0.0.1
    assert client.get(url).status_code == 200
    assert peers == ["127.0.0.1", "127.0.0.2"]
