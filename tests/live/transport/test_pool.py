"""The connection pool against real sockets, in both worlds (``client`` runs each test sync and async).

Keep-alive reuse, per-host and total limits with the pool-wait timeout, idle expiry, dead idle connections,
the one silent retry of a reused connection that dies before the response, thread safety, and pools keyed
by every TLS setting (requests CVE-2024-35195). After every fault the pool is checked: the bad connection is
closed, its slot is back, and the next request succeeds on a new connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

import brisk
from brisk.exceptions import ConnectionError as BriskConnectionError
from brisk.exceptions import PoolTimeout, SSLError
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, SyncClient
from servers.h2peer import H2Peer
from servers.raw import RawConnection, RawServerFactory, http_response, respond_ok
from servers.tls import CertBundle, TLSServerFactory

Client = SyncClient | AsyncClient
Handler = Callable[[RawConnection], object]


# -- helpers -------------------------------------------------------------------------------------------------


def per_connection(*handlers: Handler, default: Handler = respond_ok) -> Handler:
    """A handler running ``handlers[i]`` on the i-th accepted connection, ``default`` on later ones."""

    def handler(conn: RawConnection) -> None:
        (handlers[conn.index] if conn.index < len(handlers) else default)(conn)

    return handler


def hold_half_body(closed: threading.Event) -> Handler:
    """Answer with a head and half of a 10-byte body, then wait until the client closes."""

    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf!")
        conn.wait_closed()
        closed.set()

    return handler


def assert_pool_settled(client: Client, *, total: int | None = None) -> None:
    """No slot is held: every counted connection is idle in the pool (and, if given, there are ``total``)."""
    state = client.pool()
    assert state is not None
    assert state.total == state.idle_count(), f"slots held: total={state.total}, idle={state.idle_count()}"
    if total is not None:
        assert state.total == total


def served_ok(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == b"ok"


# -- keep-alive ----------------------------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(client: Client, raw_server: RawServerFactory) -> None:
    server = raw_server()
    for _ in range(5):
        served_ok(client, server.url + "/")
    assert server.connection_count == 1
    assert len(server.requests) == 5
    assert_pool_settled(client, total=1)


# -- limits --------------------------------------------------------------------------------------------------


def test_per_host_limit_pool_timeout(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    closed = threading.Event()
    server = raw_server(per_connection(hold_half_body(closed)))
    client = client_factory(
        limits=brisk.Limits(max_connections_per_host=1), timeout=brisk.Timeout(5, pool=0.3)
    )
    held = client.get(server.url + "/held", stream=True)
    started = time.monotonic()
    with pytest.raises(PoolTimeout) as caught:
        client.get(server.url + "/waits")
    elapsed = time.monotonic() - started
    assert isinstance(caught.value, brisk.Timeout)
    # Timeout.pool bounds the wait: the default retry policy must not wait again (and again).
    assert 0.25 <= elapsed < 1.0
    assert "pool" in str(caught.value)
    assert server.connection_count == 1  # the waiting request never opened a second connection
    client.close_response(held)  # half-read: the connection is closed, its slot given back
    assert closed.wait(5), "the half-read connection was not closed"
    assert_pool_settled(client, total=0)
    served_ok(client, server.url + "/after")
    assert server.connection_count == 2
    assert_pool_settled(client, total=1)


def test_total_limit_pool_timeout(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    closed = threading.Event()
    first = raw_server(per_connection(hold_half_body(closed)))
    second = raw_server()
    client = client_factory(limits=brisk.Limits(max_connections=1), timeout=brisk.Timeout(5, pool=0.3))
    held = client.get(first.url + "/held", stream=True)
    with pytest.raises(PoolTimeout):
        client.get(second.url + "/other-host")
    assert second.connection_count == 0
    client.close_response(held)
    assert closed.wait(5)
    served_ok(client, second.url + "/other-host")
    assert_pool_settled(client, total=1)


def test_pool_waiter_gets_the_freed_slot(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    closed = threading.Event()
    server = raw_server(per_connection(hold_half_body(closed)))
    client = client_factory(limits=brisk.Limits(max_connections_per_host=1), timeout=brisk.Timeout(5, pool=5))
    held = client.get(server.url + "/held", stream=True)
    releaser = threading.Timer(0.3, client.close_response, [held])
    releaser.start()
    try:
        started = time.monotonic()
        served_ok(client, server.url + "/waits")  # waits for the slot, does not time out
        assert 0.2 <= time.monotonic() - started < 4
    finally:
        releaser.join(5)
    assert_pool_settled(client, total=1)


def test_total_limit_evicts_idle_connection_of_other_host(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    closed = threading.Event()

    def first_handler(conn: RawConnection) -> None:
        respond_ok(conn)  # returns when the client closes
        closed.set()

    first = raw_server(first_handler)
    second = raw_server()
    client = client_factory(limits=brisk.Limits(max_connections=1), timeout=brisk.Timeout(5, pool=0.5))
    served_ok(client, first.url + "/")
    served_ok(client, second.url + "/")  # the idle connection to `first` makes room
    assert closed.wait(5), "the evicted idle connection was not closed"
    assert_pool_settled(client, total=1)


def test_idle_expiry(client_factory: Callable[..., Client], raw_server: RawServerFactory) -> None:
    closed = threading.Event()

    def first_handler(conn: RawConnection) -> None:
        respond_ok(conn)
        closed.set()

    server = raw_server(per_connection(first_handler))
    client = client_factory(limits=brisk.Limits(idle_timeout=0.2))
    served_ok(client, server.url + "/")
    served_ok(client, server.url + "/")  # fresh: reused
    assert server.connection_count == 1
    time.sleep(0.4)
    served_ok(client, server.url + "/")  # expired: a new connection
    assert server.connection_count == 2
    assert closed.wait(5), "the expired connection was not closed"
    assert_pool_settled(client, total=1)


# -- dead connections ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_idle_connection_closed_by_server_is_detected_before_reuse(
    client: Client,
    raw_server: RawServerFactory,
    tls_raw_server: TLSServerFactory,
    good_cert: CertBundle,
    tls: bool,
) -> None:
    """A POST is never retried silently, so it only succeeds if the dead connection is noticed before the
    request is written to it. Over TLS the close arrives as a close_notify alert and a FIN, which look
    different from a bare FIN to the liveness check."""
    closed = threading.Event()

    def close_after_one(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(http_response(200, b"ok"))
        conn.close()
        closed.set()

    if tls:
        server = tls_raw_server(good_cert, per_connection(close_after_one))
        client.session.verify = str(good_cert.ca_bundle)
    else:
        server = raw_server(per_connection(close_after_one))
    served_ok(client, server.url + "/one")
    assert closed.wait(5)
    time.sleep(0.1)  # let the FIN arrive
    response = client.post(server.url + "/two", data=b"payload")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert server.connection_count == 2
    assert [r.target for r in server.requests] == ["/one", "/two"]
    assert server.requests[1].body == b"payload"
    assert_pool_settled(client, total=1)


def reset_after_request(count: int) -> Handler:
    """Answer ``count - 1`` requests, then read one more and reset the connection without answering."""

    def handler(conn: RawConnection) -> None:
        for _ in range(count - 1):
            if conn.recv_request() is None:
                return
            conn.send(http_response(200, b"ok"))
        conn.recv_request()
        conn.reset()

    return handler


def test_reset_after_send_on_reused_connection_get_retried_once(
    client: Client, raw_server: RawServerFactory
) -> None:
    server = raw_server(per_connection(reset_after_request(2)))
    served_ok(client, server.url + "/one")
    served_ok(client, server.url + "/two")  # reset on the reused connection, silently sent again
    assert server.connection_count == 2
    assert [r.target for r in server.requests] == ["/one", "/two", "/two"]
    assert_pool_settled(client, total=1)


def test_reset_after_send_retried_only_once(client: Client, raw_server: RawServerFactory) -> None:
    """The silent retry goes to a new connection; when that one fails too, the error is raised."""
    server = raw_server(per_connection(reset_after_request(2), default=reset_after_request(1)))
    served_ok(client, server.url + "/one")
    with pytest.raises(BriskConnectionError) as caught:
        client.get(server.url + "/two")
    assert server.url.split("//")[1] in str(caught.value)
    assert server.connection_count == 2
    assert [r.target for r in server.requests] == ["/one", "/two", "/two"]
    assert_pool_settled(client, total=0)


def test_reset_after_send_on_reused_connection_post_not_retried(
    client: Client, raw_server: RawServerFactory
) -> None:
    server = raw_server(per_connection(reset_after_request(2)))
    served_ok(client, server.url + "/one")
    with pytest.raises(BriskConnectionError):
        client.post(server.url + "/two", data=b"once only")
    assert [r.method for r in server.requests] == ["GET", "POST"]
    assert server.connection_count == 1
    assert_pool_settled(client, total=0)
    served_ok(client, server.url + "/three")  # the pool recovers on a new connection
    assert server.connection_count == 2


@pytest.mark.parametrize("body_kind", ["bytes", "file"])
def test_reset_after_send_on_reused_connection_put_resent_with_the_same_body(
    client: Client, raw_server: RawServerFactory, tmp_path: Path, body_kind: str
) -> None:
    """PUT is idempotent and bytes or a file can be sent again: the silent retry replays the whole body."""
    payload = b"replayable payload " * 1000
    server = raw_server(per_connection(reset_after_request(2)))
    served_ok(client, server.url + "/one")
    if body_kind == "file":
        path = tmp_path / "upload.bin"
        path.write_bytes(payload)
        with path.open("rb") as file:
            response = client.put(server.url + "/two", data=file)
    else:
        response = client.put(server.url + "/two", data=payload)
    assert response.status_code == 200
    puts = [r for r in server.requests if r.method == "PUT"]
    assert [r.body for r in puts] == [payload, payload]
    assert server.connection_count == 2
    assert_pool_settled(client, total=1)


def test_reset_after_send_post_retried_when_the_caller_allows_it(
    client: Client, raw_server: RawServerFactory
) -> None:
    """Listing POST in ``allowed_methods`` with a read budget opts it into the retry, body and all."""
    server = raw_server(per_connection(reset_after_request(2)))
    served_ok(client, server.url + "/one")
    retry = brisk.Retry(read=1, allowed_methods=["GET", "POST"])
    response = client.post(server.url + "/two", data=b"twice is fine", retries=retry)
    assert response.status_code == 200
    posts = [r for r in server.requests if r.method == "POST"]
    assert [r.body for r in posts] == [b"twice is fine", b"twice is fine"]
    assert_pool_settled(client, total=1)


@pytest.mark.parametrize("reused", [True, False], ids=["reused-connection", "new-connection"])
def test_non_replayable_body_never_retried(
    client: Client, raw_server: RawServerFactory, reused: bool
) -> None:
    """A generator body cannot be sent twice: no retry, even for PUT with a generous read-retry budget."""
    server = raw_server(per_connection(reset_after_request(2 if reused else 1)))
    if reused:
        served_ok(client, server.url + "/warm-up")

    def body() -> Iterator[bytes]:
        yield b"part one, "
        yield b"part two"

    with pytest.raises(BriskConnectionError):
        client.put(server.url + "/upload", data=body(), retries=brisk.Retry(total=3, read=3))
    puts = [r for r in server.requests if r.method == "PUT"]
    assert len(puts) == 1
    assert puts[0].body == b"part one, part two"
    assert server.connection_count == 1
    assert_pool_settled(client, total=0)


# -- threads -------------------------------------------------------------------------------------------------


def test_thread_safety_20_threads_50_requests(
    client_factory: Callable[..., Client], app_server: ServerThread
) -> None:
    """One session, 20 threads, 50 requests each, 5 connections: all succeed and no slot is lost."""
    limits = brisk.Limits(max_connections=5, max_connections_per_host=5)
    client = client_factory(limits=limits, timeout=brisk.Timeout(10, pool=30))
    errors: list[BaseException] = []
    done = [0] * 20
    start = threading.Barrier(20)

    def worker(index: int) -> None:
        start.wait(10)
        try:
            for n in range(50):
                response = client.get(app_server.url + "/get", params={"t": index, "n": n})
                assert response.status_code == 200
                assert response.json()["args"] == {"t": str(index), "n": str(n)}
                done[index] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(50)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors[:3]
    assert sum(done) == 1000
    state = client.pool()
    assert 1 <= state.total <= 5
    assert_pool_settled(client)


# -- pools keyed by TLS settings (requests CVE-2024-35195) ---------------------------------------------------


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_ca_env")
@pytest.mark.parametrize("level", ["request", "session"])
def test_pool_keyed_by_verify_false_then_default(
    client: Client, tls_raw_server: TLSServerFactory, good_cert: CertBundle, level: str
) -> None:
    """The connection made with verify=False must not serve a later request that verifies: the trustme CA
    is not in the system store, so the second request has to fail verification."""
    server = tls_raw_server(good_cert)
    url = server.url + "/"
    if level == "request":
        assert client.get(url, verify=False).content == b"ok"
    else:
        client.session.verify = False
        assert client.get(url).content == b"ok"
        client.session.verify = True
    with pytest.raises(SSLError):
        client.get(url)
    assert server.connection_count == 2
    assert len(server.requests) == 1
    # The unverified connection is still pooled for unverified requests.
    assert client.get(url, verify=False).content == b"ok"
    assert server.connection_count == 2
    assert_pool_settled(client, total=1)


def test_pool_keyed_by_ca_bundle(
    client: Client, tls_raw_server: TLSServerFactory, good_cert: CertBundle, tmp_path: Path
) -> None:
    server = tls_raw_server(good_cert)
    url = server.url + "/"
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    assert client.get(url, verify=str(good_cert.ca_bundle)).content == b"ok"
    with pytest.raises(SSLError):
        client.get(url, verify=str(other_ca))  # a bundle that does not trust the server
    assert server.connection_count == 2
    assert client.get(url, verify=str(good_cert.ca_bundle)).content == b"ok"
    assert server.connection_count == 2
    assert_pool_settled(client, total=1)


def client_cert_server(raw_server: RawServerFactory, bundle: CertBundle, seen: list[Any]) -> Any:
    """A TLS server that requires a client certificate from the session CA; records each peer's subject."""
    import ssl

    context = bundle.server_context(alpn=("http/1.1",))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(bundle.ca_bundle))

    def handler(conn: RawConnection) -> None:
        peer = conn.sock.getpeercert()  # type: ignore[attr-defined]
        seen.append(dict(item[0] for item in peer["subject"]).get("commonName") if peer else None)
        respond_ok(conn)

    return raw_server(handler, tls=context)


@pytest.fixture(scope="module")
def client_cert_files(tmp_path_factory: pytest.TempPathFactory, ca: trustme.CA) -> tuple[str, str]:
    leaf = ca.issue_cert("client.example", common_name="client.example")
    directory = tmp_path_factory.mktemp("client-cert")
    cert_file, key_file = directory / "client.pem", directory / "client.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert_file))
    leaf.private_key_pem.write_to_path(str(key_file))
    return str(cert_file), str(key_file)


def test_pool_keyed_by_client_cert(
    client: Client, raw_server: RawServerFactory, good_cert: CertBundle, client_cert_files: tuple[str, str]
) -> None:
    seen: list[Any] = []
    server = client_cert_server(raw_server, good_cert, seen)
    url = server.url + "/"
    verify = str(good_cert.ca_bundle)
    assert client.get(url, verify=verify, cert=client_cert_files).content == b"ok"
    assert seen == ["client.example"]
    # Without the certificate the pooled, authenticated connection must not be used: a new handshake is
    # made, and the server refuses it.
    with pytest.raises(BriskConnectionError):
        client.get(url, verify=verify)
    assert server.connection_count == 2
    assert len(server.requests) == 1
    assert client.get(url, verify=verify, cert=client_cert_files).content == b"ok"
    assert server.connection_count == 2
    assert_pool_settled(client, total=1)


def test_pool_keyed_by_client_cert_over_http2(
    client: Client, good_cert: CertBundle, client_cert_files: tuple[str, str]
) -> None:
    """The same over HTTP/2, where one connection carries many requests: an authenticated h2 connection
    is never shared with a request that has no client certificate."""
    import ssl

    peer = H2Peer(good_cert)
    peer.context.verify_mode = ssl.CERT_REQUIRED
    peer.context.load_verify_locations(cafile=str(good_cert.ca_bundle))
    with peer:
        url = peer.url + "/"
        verify = str(good_cert.ca_bundle)
        first = client.get(url, verify=verify, cert=client_cert_files)
        assert first.status_code == 200
        assert first.http_version == "HTTP/2"
        with pytest.raises(BriskConnectionError):
            client.get(url, verify=verify)
        assert peer.connection_count == 2
        assert len(peer.requests) == 1
        assert client.get(url, verify=verify, cert=client_cert_files).http_version == "HTTP/2"
        assert peer.connection_count == 2
        assert len(peer.requests) == 2
        state = client.pool()
        assert state.total == 1  # the refused handshake left nothing behind
        (shared,) = [conn for conns in state._shared.values() for conn in conns]
        assert shared.h2.open_streams == 0
        client.close()
