"""Timeouts and connection-phase faults against real sockets, sync and async (the ``client`` fixture).

Connect, read and write timeouts, the total deadline (which a server dripping bytes just under the read
timeout cannot dodge, and which covers retries and backoff), the accepted ``timeout=`` forms and the finite
defaults; then the connection faults: a name that does not resolve, a refused port, and a port that starts
listening while retries are still going.

The connect timeout needs a connect that hangs on loopback. A listening socket with backlog 0 accepts one
connection into its queue; while that one is never accepted, Linux drops further SYNs (the accept queue is
full), so the next connect waits for SYN retransmits and times out. The fixture checks the trick works
before using it and skips otherwise.
"""

from __future__ import annotations

import collections
import contextlib
import math
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

import brisk
from brisk.exceptions import (
    ConnectionError as BriskConnectionError,
)
from brisk.exceptions import (
    ConnectionRefused,
    ConnectTimeout,
    NameResolutionError,
    ReadTimeout,
    WriteTimeout,
)
from servers.clients import AsyncClient, SyncClient
from servers.raw import RawConnection, RawServerFactory, http_response, respond_ok

Client = SyncClient | AsyncClient
Handler = Callable[[RawConnection], object]


# -- helpers -------------------------------------------------------------------------------------------------


def per_connection(*handlers: Handler, default: Handler = respond_ok) -> Handler:
    def handler(conn: RawConnection) -> None:
        (handlers[conn.index] if conn.index < len(handlers) else default)(conn)

    return handler


def silent(closed: threading.Event | None = None) -> Handler:
    """Read the request, never answer; note when the client gives up and closes."""

    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        with contextlib.suppress(TimeoutError):
            conn.wait_closed(timeout=8)
            if closed is not None:
                closed.set()

    return handler


def drip(length: int, interval: float) -> Handler:
    """Announce ``length`` body bytes and send them one at a time, ``interval`` seconds apart."""

    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode())
        for _ in range(length):
            conn.sleep(interval)
            conn.send(b"*")
        conn.wait_closed()

    return handler


def body_of(
    client: Client,
    url: str,
    *,
    stream: bool,
    chunk_size: int = 4,
    into: list[bytes] | None = None,
    **kwargs: Any,
) -> bytes:
    """GET ``url`` and return its body, read whole or (``stream``) pulled in ``chunk_size`` pieces, each also
    appended to ``into`` as it arrives."""
    if not stream:
        return client.get(url, **kwargs).content  # type: ignore[no-any-return]
    got = [] if into is None else into
    for chunk in client.iterate(client.get(url, stream=True, **kwargs), chunk_size):
        got.append(chunk)
    return b"".join(got)


def assert_pool_settled(client: Client, *, total: int | None = None) -> None:
    state = client.pool()
    assert state is not None
    assert state.total == state.idle_count(), f"slots held: total={state.total}, idle={state.idle_count()}"
    if total is not None:
        assert state.total == total


def served_ok(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A loopback port where connecting hangs: a backlog-0 listener whose accept queue is full."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            fillers.append(filler)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            _, writable, _ = select.select([], [filler], [], 0.3)
            if not writable:
                break  # this SYN was dropped: the queue is full
        else:
            pytest.skip("could not fill the accept queue of a backlog-0 listener on this system")
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


# -- connect -------------------------------------------------------------------------------------------------


def test_connect_timeout(client: Client, blackhole: int) -> None:
    started = time.monotonic()
    with pytest.raises(ConnectTimeout) as caught:
        client.get(f"http://127.0.0.1:{blackhole}/", timeout=brisk.Timeout(5, connect=0.4), retries=0)
    elapsed = time.monotonic() - started
    assert isinstance(caught.value, BriskConnectionError)
    assert isinstance(caught.value, brisk.Timeout)
    assert 0.35 <= elapsed < 2
    message = str(caught.value)
    assert f"127.0.0.1:{blackhole}" in message
    assert "0.4" in message
    assert_pool_settled(client, total=0)


def test_connect_timeout_tuple_form(client: Client, blackhole: int) -> None:
    started = time.monotonic()
    with pytest.raises(ConnectTimeout):
        client.get(f"http://127.0.0.1:{blackhole}/", timeout=(0.3, 10), retries=0)
    assert time.monotonic() - started < 2
    assert_pool_settled(client, total=0)


# -- read ----------------------------------------------------------------------------------------------------


def test_read_timeout_silent_server(client: Client, raw_server: RawServerFactory) -> None:
    closed = threading.Event()
    server = raw_server(per_connection(silent(closed)))
    started = time.monotonic()
    with pytest.raises(ReadTimeout) as caught:
        client.get(server.url + "/", timeout=brisk.Timeout(5, read=0.3))
    elapsed = time.monotonic() - started
    assert not isinstance(caught.value, BriskConnectionError)  # requests' hierarchy: ReadTimeout is not one
    assert 0.25 <= elapsed < 1.5  # the default retry policy does not retry a read timeout
    assert "0.3" in str(caught.value)
    assert closed.wait(5), "the timed-out connection was not closed"
    assert_pool_settled(client, total=0)
    served_ok(client, server.url + "/")
    assert server.connection_count == 2


def test_read_timeout_tuple_form(client: Client, raw_server: RawServerFactory) -> None:
    server = raw_server(per_connection(silent()))
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        client.get(server.url + "/", timeout=(5, 0.3))
    assert time.monotonic() - started < 1.5
    assert_pool_settled(client, total=0)


@pytest.mark.parametrize("stream", [False, True], ids=["read-whole", "streamed"])
def test_read_timeout_mid_body(client: Client, raw_server: RawServerFactory, stream: bool) -> None:
    closed = threading.Event()

    def half_then_silence(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        conn.wait_closed(timeout=8)
        closed.set()

    server = raw_server(per_connection(half_then_silence))
    timeout = brisk.Timeout(5, read=0.3)
    with pytest.raises(ReadTimeout):
        body_of(client, server.url + "/", stream=stream, timeout=timeout)
    assert closed.wait(5)
    assert_pool_settled(client, total=0)
    served_ok(client, server.url + "/")


# -- write ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bytes", "generator", "file"])
def test_write_timeout_server_never_reads(
    client: Client, raw_server: RawServerFactory, kind: str, tmp_path: Path
) -> None:
    def never_reads(conn: RawConnection) -> None:
        conn.sleep(10)  # returns early when the server stops

    server = raw_server(per_connection(never_reads))
    size = 48 * 1024 * 1024  # far beyond what the loopback socket buffers can absorb
    files = contextlib.ExitStack()
    data: bytes | Iterator[bytes] | BinaryIO
    if kind == "bytes":
        data = b"u" * size
    elif kind == "generator":
        data = (b"u" * (1024 * 1024) for _ in range(size // (1024 * 1024)))
    else:  # sent by os.sendfile in the sync client
        (tmp_path / "big.bin").write_bytes(b"u" * size)
        data = files.enter_context((tmp_path / "big.bin").open("rb"))
    started = time.monotonic()
    with files, pytest.raises(WriteTimeout) as caught:
        client.post(server.url + "/upload", data=data, timeout=brisk.Timeout(5, write=0.5))
    assert isinstance(caught.value, brisk.Timeout)
    assert 0.4 <= time.monotonic() - started < 3
    assert_pool_settled(client, total=0)


def test_write_timeout_over_tls_after_a_read_on_the_same_connection(
    tls_raw_server: Any, good_cert: Any
) -> None:
    """A TLS socket has one timeout for both directions: after the first response was read under the read
    timeout, the next request's send must run under the write timeout again, not the read timeout."""

    def answers_once_then_never_reads(conn: RawConnection) -> None:
        if conn.recv_request() is not None:
            conn.send(http_response(200, b"ok"))
        conn.sleep(10)  # returns early when the server stops

    server = tls_raw_server(good_cert, answers_once_then_never_reads)
    url = f"https://localhost:{server.port}/"
    timeout = brisk.Timeout(5, read=10, write=0.5)
    with brisk.Session() as session:
        session.verify = str(good_cert.ca_bundle)
        assert session.get(url, timeout=timeout).content == b"ok"
        started = time.monotonic()
        with pytest.raises(WriteTimeout):
            session.post(url, data=b"u" * (48 * 1024 * 1024), timeout=timeout)
        assert time.monotonic() - started < 5  # the read timeout (10 s) would have let it block longer
    assert server.connection_count == 1  # the same connection: sent on after a read


# -- total deadline ------------------------------------------------------------------------------------------


def test_drip_under_read_timeout_is_not_a_read_timeout(client: Client, raw_server: RawServerFactory) -> None:
    """Control for the next test: each byte comes well within the read timeout, so without a total deadline
    the slow body is read completely, although it takes longer than the read timeout."""
    server = raw_server(drip(8, 0.12))
    started = time.monotonic()
    response = client.get(server.url + "/", timeout=brisk.Timeout(5, read=0.5))
    assert response.content == b"*" * 8
    assert time.monotonic() - started > 0.5


@pytest.mark.parametrize("stream", [False, True], ids=["read-whole", "streamed"])
def test_total_deadline_fires_on_drip_under_read_timeout(
    client: Client, raw_server: RawServerFactory, stream: bool
) -> None:
    server = raw_server(per_connection(drip(100, 0.1)))
    started = time.monotonic()
    with pytest.raises(brisk.Timeout) as caught:
        body_of(
            client,
            server.url + "/",
            stream=stream,
            chunk_size=1,
            timeout=brisk.Timeout(5, read=0.5, total=1.0),
        )
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 2.0
    message = str(caught.value)
    assert "total" in message
    assert "deadline" in message
    assert_pool_settled(client, total=0)


def test_total_deadline_fires_on_drip_of_the_response_head(
    client: Client, raw_server: RawServerFactory
) -> None:
    """Slowloris before the body: the head arrives one byte per 0.1 s, always under the read timeout."""

    def drip_head(conn: RawConnection) -> None:
        conn.recv_request()
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 200:
            conn.send(bytes([byte]))
            conn.sleep(0.1)
        conn.wait_closed()

    server = raw_server(per_connection(drip_head))
    with pytest.raises(brisk.Timeout) as caught:
        client.get(server.url + "/", timeout=brisk.Timeout(5, read=0.5, total=1.0))
    assert isinstance(caught.value, brisk.exceptions.ReadTimeout)
    assert "deadline" in str(caught.value)
    assert server.connection_count == 1  # a read timeout is not retried by default
    assert_pool_settled(client, total=0)


def test_total_deadline_spans_retries(client: Client, raw_server: RawServerFactory) -> None:
    """Every attempt times out after 0.4 s and the policy would retry ten times: the 1 s deadline ends it."""
    server = raw_server(silent())
    started = time.monotonic()
    with pytest.raises(brisk.Timeout) as caught:
        client.get(
            server.url + "/",
            timeout=brisk.Timeout(5, read=0.4, total=1.0),
            retries=brisk.Retry(total=10, read=10, backoff_factor=0.05),
        )
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 1.6
    assert server.connection_count >= 2, "the request was not retried at all"
    assert "total" in str(caught.value)
    assert_pool_settled(client, total=0)


def test_total_deadline_spans_backoff(client: Client, raw_server: RawServerFactory) -> None:
    """A 503 retried with growing backoff (0, 0.6, 1.2, 2.4 s, ...): no sleep may run past the deadline."""

    def always_503(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(503, b"busy"))

    server = raw_server(always_503)
    started = time.monotonic()
    response = client.get(
        server.url + "/",
        timeout=brisk.Timeout(5, total=1.0),
        retries=brisk.Retry(total=10, status_forcelist=[503], backoff_factor=0.3),
    )
    elapsed = time.monotonic() - started
    assert elapsed < 1.1
    assert response.status_code == 503
    assert len(server.requests) >= 2
    assert_pool_settled(client)


# -- accepted forms and defaults -----------------------------------------------------------------------------


def test_timeout_none_is_allowed(client_factory: Callable[..., Client], raw_server: RawServerFactory) -> None:
    server = raw_server()
    assert client_factory().get(server.url + "/", timeout=None).content == b"ok"
    assert client_factory(timeout=None).get(server.url + "/").content == b"ok"
    setting = brisk.Timeout.coerce(None)
    assert (setting.connect, setting.read, setting.write, setting.pool, setting.total) == (None,) * 5


def test_timeout_forms() -> None:
    pair = brisk.Timeout.coerce((3, 7))
    assert (pair.connect, pair.read) == (3.0, 7.0)
    number = brisk.Timeout.coerce(2)
    assert (number.connect, number.read, number.write, number.pool, number.total) == (
        2.0,
        2.0,
        2.0,
        2.0,
        None,
    )
    with pytest.raises(ValueError):
        brisk.Timeout.coerce((1, 2, 3))
    with pytest.raises(ValueError):
        brisk.Timeout(-1)


@pytest.mark.parametrize("value", ["foo", (1, "x"), [1, 2], {"connect": 1}, True])
def test_a_timeout_of_the_wrong_type_is_a_value_error(value: object) -> None:
    """requests (and urllib3) raise ValueError for ``timeout="foo"``; code catching it keeps working. The
    message names the value, also for unhashable ones (a list, a dict), and nothing is sent."""
    with pytest.raises(ValueError, match="timeout") as caught:
        brisk.get("http://127.0.0.1:9/", timeout=value)
    assert repr(value if not isinstance(value, tuple) else value[1]) in str(caught.value)


def test_true_is_refused_after_1_was_accepted() -> None:
    # True == 1 (and hashes alike): the coerced values' cache must not answer True with the Timeout of 1.
    assert brisk.Timeout.coerce(1) == brisk.Timeout(1)
    assert brisk.Timeout.coerce((1, 2)) == brisk.Timeout(connect=1, read=2, write=2, pool=1)
    for value in (True, (1, True)):
        with pytest.raises(ValueError, match="timeout"):
            brisk.Timeout.coerce(value)
    pair = collections.namedtuple("pair", "connect read")  # a tuple subclass: its items are the key too
    assert brisk.Timeout.coerce(pair(1, 1)) == brisk.Timeout(1)
    with pytest.raises(ValueError, match="timeout"):
        brisk.Timeout.coerce(pair(1, True))


def test_default_timeouts_are_finite() -> None:
    for setting in (brisk.Timeout(), brisk.Timeout.coerce(brisk.Session().timeout)):
        assert (setting.connect, setting.read, setting.write, setting.pool) == (10.0, 30.0, 30.0, 30.0)
        assert setting.total is None  # documented: a total deadline would cut long downloads
        for value in (setting.connect, setting.read, setting.write, setting.pool):
            assert value is not None
            assert math.isfinite(value)
            assert value > 0


# -- connection faults ---------------------------------------------------------------------------------------


def test_unresolvable_name_raises_name_resolution_error(client: Client) -> None:
    started = time.monotonic()
    with pytest.raises(NameResolutionError) as caught:
        client.get("http://nonexistent.invalid/path")
    assert time.monotonic() - started < 10
    assert isinstance(caught.value, BriskConnectionError)
    assert not isinstance(caught.value, ConnectionRefused)
    message = str(caught.value)
    assert "nonexistent.invalid" in message
    assert "http://nonexistent.invalid/path" in message
    assert_pool_settled(client, total=0)


def test_refused_port_raises_connection_refused(client: Client, unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}/refused"
    started = time.monotonic()
    with pytest.raises(ConnectionRefused) as caught:
        client.get(url)
    assert time.monotonic() - started < 5
    assert isinstance(caught.value, BriskConnectionError)
    assert not isinstance(caught.value, NameResolutionError | brisk.Timeout)
    message = str(caught.value)
    assert f"127.0.0.1:{unused_port}" in message
    assert url in message
    assert_pool_settled(client, total=0)


def test_refused_then_listening_with_retries_succeeds(client: Client) -> None:
    """The port refuses for 0.3 s, then listens: connect retries with backoff get through."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    accepted: list[bytes] = []

    def serve_later() -> None:
        time.sleep(0.3)
        sock.listen(8)
        sock.settimeout(10)
        conn, _ = sock.accept()
        with conn:
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(65536)
                if not data:
                    return
                head += data
            accepted.append(head)
            conn.sendall(http_response(200, b"ok", [("Connection", "close")]))

    thread = threading.Thread(target=serve_later, daemon=True)
    thread.start()
    try:
        response = client.get(
            f"http://127.0.0.1:{port}/", retries=brisk.Retry(total=10, connect=6, backoff_factor=0.1)
        )
        assert response.content == b"ok"
    finally:
        thread.join(10)
        sock.close()
    assert len(accepted) == 1
    assert_pool_settled(client, total=0)
