"""``response.connection_info`` and ``response.trailers``, sync and async, over real sockets on loopback.

Connection facts: HTTP/1.1 plain and over TLS, HTTP/2 over TLS (ALPN) and by prior knowledge, IPv6, an https
origin through a CONNECT tunnel (an http and an https proxy), Unix sockets; one object per connection, shared
by the responses a pooled connection carries. Trailers: HTTP/1.1 chunked trailers from a scripted server,
HTTP/2 trailing HEADERS from hypercorn, read whole and streamed.
"""

from __future__ import annotations

import asyncio
import pickle
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

import brisk
from brisk._transport.facts import of_socket, of_transport
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, SyncClient
from servers.proxies import RelayProxy
from servers.raw import RawConnection, RawServerFactory, canned, http_response
from servers.tls import CertBundle

Client = SyncClient | AsyncClient
Factory = Callable[..., Client]

pytestmark = pytest.mark.timeout(30)


def first_cert_der(pem_file: str | Path) -> bytes:
    """The DER bytes of the first certificate in a PEM file (the leaf of a chain)."""
    pem = Path(pem_file).read_text()
    end = "-----END CERTIFICATE-----"
    return ssl.PEM_cert_to_DER_cert(pem[: pem.index(end) + len(end)])


def assert_tls_facts(info: brisk.ConnectionInfo, alpn: str, server_cert: str | Path) -> None:
    assert info.tls
    assert info.tls_version in ("TLSv1.2", "TLSv1.3")
    assert isinstance(info.cipher, str)
    assert info.cipher
    assert info.alpn_protocol == alpn
    assert info.peer_certificate is not None
    assert ("IP Address", "127.0.0.1") in info.peer_certificate["subjectAltName"]
    assert info.peer_certificate_der == first_cert_der(server_cert)


# -- connection facts ------------------------------------------------------------------------------------


def test_plain_http11_facts(client: Client, raw_server: RawServerFactory) -> None:
    seen: list[Any] = []

    def handler(conn: RawConnection) -> None:
        seen.append(conn.sock.getpeername())
        while conn.recv_request() is not None:
            conn.send(http_response(200, b"ok"))

    server = raw_server(handler)
    response = client.get(server.url)
    info = response.connection_info
    assert isinstance(info, brisk.ConnectionInfo)
    assert info.peer_address == ("127.0.0.1", server.port)
    assert info.local_address == seen[0]  # the client's end, as the server saw it
    assert not info.tls
    assert (info.tls_version, info.cipher, info.alpn_protocol) == (None, None, None)
    assert (info.peer_certificate, info.peer_certificate_der) == (None, None)


def test_http11_over_tls_facts(client_factory: Factory, tls_app_server: ServerThread) -> None:
    client = client_factory(http2=False, verify=tls_app_server.ca_bundle)
    response = client.get(tls_app_server.url + "/get")
    assert response.http_version == "HTTP/1.1"
    assert response.connection_info.peer_address == ("127.0.0.1", tls_app_server.port)
    assert tls_app_server.cert_file is not None
    assert_tls_facts(response.connection_info, "http/1.1", tls_app_server.cert_file)


def test_http2_over_tls_facts(client_factory: Factory, tls_app_server: ServerThread) -> None:
    client = client_factory(http2=True, verify=tls_app_server.ca_bundle)
    response = client.get(tls_app_server.url + "/get")
    assert response.http_version == "HTTP/2"
    info = response.connection_info
    assert info.peer_address == ("127.0.0.1", tls_app_server.port)
    assert info.local_address[0] == "127.0.0.1"
    assert tls_app_server.cert_file is not None
    assert_tls_facts(info, "h2", tls_app_server.cert_file)


def test_h2c_prior_knowledge_facts(client_factory: Factory, app_server: ServerThread) -> None:
    client = client_factory(http2="prior-knowledge")
    response = client.get(app_server.url + "/get")
    assert response.http_version == "HTTP/2"
    info = response.connection_info
    assert info.peer_address == ("127.0.0.1", app_server.port)
    assert (info.tls, info.alpn_protocol, info.peer_certificate_der) == (False, None, None)


def test_an_unverified_certificate_is_there_as_der_only(
    client_factory: Factory, tls_app_server: ServerThread
) -> None:
    client = client_factory(http2=True, verify=False)
    info = client.get(tls_app_server.url + "/get").connection_info
    assert (info.tls, info.alpn_protocol) == (True, "h2")
    assert info.peer_certificate is None  # nothing was verified: ssl gives no parsed certificate
    assert tls_app_server.cert_file is not None
    assert info.peer_certificate_der == first_cert_der(tls_app_server.cert_file)


@pytest.mark.parametrize("http2", [False, True])
def test_a_pooled_connection_shares_one_facts_object(
    client_factory: Factory, tls_app_server: ServerThread, http2: bool
) -> None:
    client = client_factory(http2=http2, verify=tls_app_server.ca_bundle)
    first = client.get(tls_app_server.url + "/get")
    second = client.get(tls_app_server.url + "/get")
    assert second.timings.reused
    assert second.connection_info is first.connection_info
    other = client_factory(http2=http2, verify=tls_app_server.ca_bundle).get(tls_app_server.url + "/get")
    assert other.connection_info is not first.connection_info  # another connection: its own facts
    assert other.connection_info.local_address != first.connection_info.local_address


def test_ipv6_addresses_are_address_and_port(client: Client, raw_server: RawServerFactory) -> None:
    try:
        socket.socket(socket.AF_INET6).close()
        server = raw_server(canned(http_response(200, b"ok")), host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    info = client.get(server.url).connection_info
    assert info.peer_address == ("::1", server.port)  # flow info and scope id left out
    assert isinstance(info.local_address, tuple)
    assert (len(info.local_address), info.local_address[0]) == (2, "::1")


@pytest.mark.parametrize("proxy_tls", [False, True], ids=["http-proxy", "https-proxy"])
def test_through_a_tunnel_the_addresses_are_the_proxys_and_the_tls_the_origins(
    client_factory: Factory,
    relay_proxy: Callable[..., RelayProxy],
    tls_app_server: ServerThread,
    good_cert: CertBundle,
    ca_bundle: str,
    proxy_tls: bool,
) -> None:
    proxy = relay_proxy(tls=good_cert if proxy_tls else None)
    client = client_factory(proxies={"https": proxy.url()}, verify=ca_bundle, http2=False)
    info = client.get(tls_app_server.url + "/get").connection_info
    assert info.peer_address == ("127.0.0.1", proxy.port)
    assert tls_app_server.cert_file is not None
    assert_tls_facts(info, "http/1.1", tls_app_server.cert_file)  # the origin's certificate, not the proxy's


def test_unix_socket_addresses_are_paths(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(path)
            info = of_socket(sock)
            assert (info.peer_address, info.local_address, info.tls) == (path, "", False)

        async def over_asyncio() -> brisk.ConnectionInfo:
            _, writer = await asyncio.open_unix_connection(path)
            try:
                return of_transport(writer.transport)
            finally:
                writer.close()

        info = asyncio.run(over_asyncio())
        assert (info.peer_address, info.local_address, info.tls) == (path, "", False)
    finally:
        listener.close()


def test_connection_info_is_immutable_and_pickles(
    client_factory: Factory, tls_app_server: ServerThread
) -> None:
    client = client_factory(http2=True, verify=tls_app_server.ca_bundle)
    response = client.get(tls_app_server.url + "/get")
    info = response.connection_info
    with pytest.raises(AttributeError, match="immutable"):
        info.cipher = "none"  # type: ignore[misc]
    assert "tls_version=" in repr(info)
    assert "alpn_protocol='h2'" in repr(info)
    copy = pickle.loads(pickle.dumps(response)).connection_info
    assert type(copy) is brisk.ConnectionInfo
    for name in brisk.ConnectionInfo.__slots__:
        assert getattr(copy, name) == getattr(info, name), name


# -- trailers: HTTP/1.1 ------------------------------------------------------------------------------------

CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
TRAILER_SECTION = b"0\r\nX-Checksum: abc123\r\nX-Note:  two words \r\nX-Note: again\r\n\r\n"


def test_http11_trailers_of_a_body_read_whole(client: Client, raw_server: RawServerFactory) -> None:
    server = raw_server(
        canned(
            CHUNKED_HEAD + b"5\r\nhello\r\n" + TRAILER_SECTION,
            http_response(200, b"plain"),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            then="wait",
        )
    )
    response = client.get(server.url)
    assert response.content == b"hello"
    assert response.trailers["x-checksum"] == "abc123"
    assert response.trailers.get_list("X-Note") == ["two words", "again"]
    assert "Trailer" in response.headers
    assert "X-Checksum" not in response.headers  # trailers are not headers
    kept = pickle.loads(pickle.dumps(response))
    assert kept.trailers.get_list("x-note") == ["two words", "again"]
    plain = client.get(server.url)
    assert plain.content == b"plain"
    assert len(plain.trailers) == 0
    none = client.get(server.url)
    assert none.content == b"ok"
    assert len(none.trailers) == 0
    assert server.connection_count == 1  # the connection carried all three
    assert none.connection_info is response.connection_info


def test_http11_trailers_of_a_streamed_body_come_at_its_end(
    client: Client, raw_server: RawServerFactory
) -> None:
    go_on = threading.Event()

    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(CHUNKED_HEAD + b"5\r\nhello\r\n")
        go_on.wait(10)
        conn.send(b"6\r\n world\r\n" + TRAILER_SECTION)
        conn.wait_closed()

    server = raw_server(handler)
    response = client.get(server.url, stream=True)
    assert len(response.trailers) == 0  # the trailer section has not arrived
    go_on.set()
    assert b"".join(client.chunks(response, 3)) == b"hello world"
    assert response.trailers["X-Checksum"] == "abc123"
    assert response.trailers is response.trailers  # built once


def test_http11_trailers_read_through_raw(raw_server: RawServerFactory) -> None:
    server = raw_server(canned(CHUNKED_HEAD + b"5\r\nhello\r\n" + TRAILER_SECTION))
    with brisk.Session() as session:
        response = session.get(server.url, stream=True)
        assert response.raw.read() == b"hello"
        assert response.trailers["x-checksum"] == "abc123"


# -- trailers: HTTP/2 --------------------------------------------------------------------------------------

BIG = 300_000  # more than one read and more than the initial flow-control window


async def trailers_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers every request with a body of ``?size`` bytes and two trailer fields (HTTP/2 only)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    size = int(scope["query_string"] or b"5")
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"trailer", b"x-checksum")],
            "trailers": True,
        }
    )
    await send({"type": "http.response.body", "body": b"x" * size})
    await send(
        {"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc123"), (b"grpc-status", b"0")]}
    )


@pytest.fixture(scope="module")
def trailers_server() -> Iterator[ServerThread]:
    with ServerThread(trailers_app, tls=True, http2=True, ca=trustme.CA()) as server:
        yield server


@pytest.fixture(scope="module")
def h2c_trailers_server() -> Iterator[ServerThread]:
    with ServerThread(trailers_app) as server:
        yield server


@pytest.mark.parametrize("tls", [True, False], ids=["h2", "h2c"])
@pytest.mark.parametrize("size", [5, BIG])
def test_http2_trailers(
    client_factory: Factory,
    trailers_server: ServerThread,
    h2c_trailers_server: ServerThread,
    tls: bool,
    size: int,
) -> None:
    server = trailers_server if tls else h2c_trailers_server
    client = client_factory(
        http2=True if tls else "prior-knowledge", verify=server.ca_bundle if tls else True
    )
    headers = {"TE": "trailers"}  # hypercorn sends trailers only to a client that says it takes them
    whole = client.get(f"{server.url}/?{size}", headers=headers)
    assert whole.http_version == "HTTP/2"
    assert len(whole.content) == size
    assert dict(whole.trailers) == {"x-checksum": "abc123", "grpc-status": "0"}
    streamed = client.get(f"{server.url}/?{size}", headers=headers, stream=True)
    assert sum(len(piece) for piece in client.chunks(streamed, 65536)) == size
    assert streamed.trailers["X-Checksum"] == "abc123"
    assert streamed.connection_info is whole.connection_info
    no_trailers = client.get(server.url if tls else f"{server.url}/?1")  # no TE: trailers
    assert no_trailers.status_code == 200
    assert len(no_trailers.trailers) == 0
