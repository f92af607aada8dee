"""Response framing and mid-response faults through a scripted raw-socket server, sync and async.

Each hostile response is sent verbatim on the first connection; later connections answer ``200 ok``. After
every fault the test checks that the client closed the bad connection (the server sees it go), that no pool
slot is held, and that the next request succeeds on a new connection.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import brisk
from brisk._transport.asyncio import h1 as async_h1
from brisk._transport.sync import h1 as sync_h1
from brisk.exceptions import (
    ChunkedEncodingError,
    IncompleteBody,
    RemoteProtocolError,
    ResponseHeadersTooLarge,
)
from brisk.exceptions import ConnectionError as BriskConnectionError
from servers.clients import AsyncClient, SyncClient
from servers.raw import NETWORK_ERRORS, RawConnection, RawServer, RawServerFactory, http_response, respond_ok
from servers.tls import CertBundle, TLSServerFactory

Client = SyncClient | AsyncClient
Handler = Callable[[RawConnection], object]


# -- helpers -------------------------------------------------------------------------------------------------


class Scripted:
    """A raw server whose first connection runs ``first``; ``closed`` is set when the client closes it."""

    def __init__(
        self, raw_server: RawServerFactory, first: Callable[[RawConnection, threading.Event], object]
    ):
        self.closed = threading.Event()

        def handler(conn: RawConnection) -> None:
            if conn.index == 0:
                first(conn, self.closed)
            else:
                respond_ok(conn)

        self.server: RawServer = raw_server(handler)

    @property
    def url(self) -> str:
        return self.server.url + "/"


def send_then_wait(
    *parts: bytes, pause: float = 0.0, then: str = "wait"
) -> Callable[[RawConnection, Any], None]:
    """Read a request, send ``parts`` (``pause`` seconds apart), then wait for the client to close (or close,
    or reset)."""

    def first(conn: RawConnection, closed: threading.Event) -> None:
        conn.recv_request()
        for index, part in enumerate(parts):
            if index and pause:
                conn.sleep(pause)
            conn.send(part)
        if then == "close":
            conn.close()
        elif then == "reset":
            conn.sleep(0.1)
            conn.reset()
        else:
            with contextlib.suppress(TimeoutError):
                conn.wait_closed(timeout=8)
                closed.set()

    return first


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


def assert_recovers(
    client: Client, scripted: Scripted, *, closed_by_client: bool = True, pooled_before: int | None = 0
) -> None:
    """No slot is held and the bad connection is not pooled (``pooled_before`` idle connections, when
    known); the next request works on a new connection; the client closed the bad one."""
    assert_pool_settled(client, total=pooled_before)
    response = client.get(scripted.url)
    assert response.status_code == 200
    assert response.content == b"ok"
    assert scripted.server.connection_count == 2
    if closed_by_client:
        assert scripted.closed.wait(5), "the client did not close the bad connection"
    assert_pool_settled(client, total=1)


# -- status line and head ------------------------------------------------------------------------------------

TLS_SERVER_HELLO = (
    b"\x16\x03\x03\x00\x31\x02\x00\x00\x2d\x03\x03"
    + bytes(range(32))
    + b"\x00\xc0\x2f\x00\x00\x05\xff\x01\x00\x01\x00"
)

BAD_HEADS = {
    "bad_status_line": b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n",
    "garbage_status_line": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
    "not_http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "status_099": b"HTTP/1.1 099 Too Low\r\nContent-Length: 0\r\n\r\n",
    "status_1000": b"HTTP/1.1 1000 Too High\r\nContent-Length: 0\r\n\r\n",
    "status_000": b"HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
    "conflicting_content_lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "content_length_list": b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!",
    "negative_content_length": b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
    "plus_content_length": b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    "hex_content_length": b"HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello",
    "content_length_and_chunked": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    ),
    "chunked_and_content_length": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    ),
    "unknown_transfer_encoding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
    "unknown_then_chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    ),
    "chunked_twice": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "nul_in_header_value": b"HTTP/1.1 200 OK\r\nX-Bad: a\x00b\r\nContent-Length: 2\r\n\r\nok",
    "control_char_in_header_value": b"HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 2\r\n\r\nok",
    "space_before_colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    "cr_in_header_value": b"HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\nContent-Length: 2\r\n\r\nok",
    # A bare LF ends a line for lenient parsers, which would read a header line "b" (or, below, a header the
    # server never sent): brisk finds the head's end at CRLFCRLF and llhttp wants CR before every LF.
    "lf_in_header_value": b"HTTP/1.1 200 OK\r\nX-Bad: a\nb\r\nContent-Length: 2\r\n\r\nok",
    "lf_smuggles_a_header": (
        b"HTTP/1.1 200 OK\r\nX-Bad: a\nSet-Cookie: smuggled=1\r\nContent-Length: 2\r\n\r\nok"
    ),
    "switching_protocols_unasked": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    # Only SP and HTAB surround a token: NBSP (0xA0) or NEL (0x85) next to "chunked" make it another coding,
    # which llhttp would not frame as chunked (the tornado and aiohttp smuggling class).
    "nbsp_after_chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\xa0\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "nbsp_before_chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \xa0chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",  # noqa: E501
    "nel_after_chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\x85\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("payload", list(BAD_HEADS.values()), ids=list(BAD_HEADS))
def test_bad_response_head_is_a_protocol_error(
    client: Client, raw_server: RawServerFactory, payload: bytes
) -> None:
    scripted = Scripted(raw_server, send_then_wait(payload))
    with pytest.raises(RemoteProtocolError) as caught:
        client.get(scripted.url)
    assert isinstance(caught.value, BriskConnectionError)
    assert scripted.server.url in str(caught.value)
    assert len(client.session.cookies) == 0
    assert_recovers(client, scripted)


def test_tls_server_hello_on_plain_http_port(client: Client, raw_server: RawServerFactory) -> None:
    scripted = Scripted(raw_server, send_then_wait(TLS_SERVER_HELLO))
    with pytest.raises(RemoteProtocolError) as caught:
        client.get(scripted.url)
    message = str(caught.value)
    assert "TLS" in message
    assert "https://" in message
    assert_recovers(client, scripted)


def test_server_closes_without_response(client: Client, raw_server: RawServerFactory) -> None:
    scripted = Scripted(raw_server, send_then_wait(then="close"))
    with pytest.raises(RemoteProtocolError):
        client.get(scripted.url)
    assert_recovers(client, scripted, closed_by_client=False)


def test_server_closes_mid_head(client: Client, raw_server: RawServerFactory) -> None:
    scripted = Scripted(raw_server, send_then_wait(b"HTTP/1.1 200 OK\r\nContent-Le", then="close"))
    with pytest.raises(RemoteProtocolError) as caught:
        client.get(scripted.url)
    assert "head" in str(caught.value)
    assert_recovers(client, scripted, closed_by_client=False)


def test_endless_empty_lines_before_the_status_line_hit_the_head_limit(
    client: Client, raw_server: RawServerFactory
) -> None:
    """RFC 9112 section 2.2 lets empty lines precede a response; a server sending them forever fails on the
    head limit instead of being read until the read timeout, which a steady trickle never reaches."""

    def first(conn: RawConnection, closed: threading.Event) -> None:
        conn.recv_request()
        with contextlib.suppress(*NETWORK_ERRORS):
            while True:  # until the client gives up and closes
                conn.send(b"\r\n" * 512)
        closed.set()

    scripted = Scripted(raw_server, first)
    with pytest.raises(ResponseHeadersTooLarge) as caught:
        client.get(scripted.url, timeout=brisk.Timeout(5, read=5))
    assert "empty lines" in str(caught.value)
    assert_recovers(client, scripted)


def test_a_few_empty_lines_before_the_status_line_are_tolerated(
    client: Client, raw_server: RawServerFactory
) -> None:
    scripted = Scripted(
        raw_server, send_then_wait(b"\r\n" * 100 + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
    )
    assert client.get(scripted.url).content == b"hi"


def test_http10_response_with_transfer_encoding_is_not_reused(
    client: Client, raw_server: RawServerFactory
) -> None:
    """RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing; the client closes
    the connection after it, even when the server asked to keep it alive."""
    chunked_10 = (
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"
    )
    scripted = Scripted(raw_server, send_then_wait(chunked_10))
    assert client.get(scripted.url).content == b"hello"
    assert_recovers(client, scripted)


# -- header limits -------------------------------------------------------------------------------------------

SMALL_LIMITS = brisk.Limits(max_header_line=1024, max_header_count=10, max_head_size=4096)

OVER_SMALL_LIMITS = {
    "header_line_too_long": http_response(200, b"ok", [("X-Long", "v" * 2000)]),
    "status_line_too_long": b"HTTP/1.1 200 " + b"O" * 2000 + b"\r\nContent-Length: 2\r\n\r\nok",
    "too_many_headers": http_response(200, b"ok", [(f"X-H{i}", "v") for i in range(11)]),
    "head_too_large": http_response(200, b"ok", [(f"X-H{i}", "v" * 900) for i in range(5)]),
}


@pytest.mark.parametrize("payload", list(OVER_SMALL_LIMITS.values()), ids=list(OVER_SMALL_LIMITS))
def test_header_limits_are_configurable(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, payload: bytes
) -> None:
    # Within the default limits the response is fine ...
    relaxed = Scripted(raw_server, send_then_wait(payload))
    assert client_factory().get(relaxed.url).content == b"ok"
    # ... and over the configured ones it is refused.
    client = client_factory(limits=SMALL_LIMITS)
    scripted = Scripted(raw_server, send_then_wait(payload))
    with pytest.raises(ResponseHeadersTooLarge) as caught:
        client.get(scripted.url)
    assert "Limits." in str(caught.value)
    assert_recovers(client, scripted)


def test_endless_header_block_hits_the_limit_without_waiting(
    client: Client, raw_server: RawServerFactory
) -> None:
    """A head that never ends: the default 64 KiB limit stops it, long before the read timeout."""
    endless = b"HTTP/1.1 200 OK\r\n" + b"".join(
        b"X-Filler-%06d: %s\r\n" % (i, b"v" * 80) for i in range(2000)
    )
    scripted = Scripted(raw_server, send_then_wait(endless))
    with pytest.raises(ResponseHeadersTooLarge):
        client.get(scripted.url, timeout=brisk.Timeout(5, read=5))
    assert_recovers(client, scripted)


# -- chunked bodies ------------------------------------------------------------------------------------------

CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

BAD_CHUNKED = {
    "bad_chunk_size": b"zz\r\nhello\r\n0\r\n\r\n",
    "overlong_chunk_size": b"1" + b"0" * 20 + b"\r\nhello\r\n0\r\n\r\n",
    "negative_chunk_size": b"-5\r\nhello\r\n0\r\n\r\n",
    "missing_crlf_after_chunk": b"5\r\nhelloXX0\r\n\r\n",
    "lf_in_chunk_extension": b'5;ext="a\nb"\r\nhello\r\n0\r\n\r\n',
    "bare_lf_after_chunk_size": b"5\nhello\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("body", list(BAD_CHUNKED.values()), ids=list(BAD_CHUNKED))
def test_bad_chunked_body(client: Client, raw_server: RawServerFactory, body: bytes) -> None:
    scripted = Scripted(raw_server, send_then_wait(CHUNKED_HEAD + body))
    with pytest.raises(ChunkedEncodingError):
        client.get(scripted.url, timeout=brisk.Timeout(5, read=5))
    assert_recovers(client, scripted)


def test_huge_trailer_section(client: Client, raw_server: RawServerFactory) -> None:
    trailers = b"".join(b"X-Trailer-%06d: %s\r\n" % (i, b"t" * 60) for i in range(3000))
    scripted = Scripted(
        raw_server, send_then_wait(CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n" + trailers + b"\r\n")
    )
    with pytest.raises((ChunkedEncodingError, RemoteProtocolError)):
        client.get(scripted.url, timeout=brisk.Timeout(5, read=5))
    assert_recovers(client, scripted)


def test_endless_trailer_line_does_not_wait_for_the_read_timeout(
    client: Client, raw_server: RawServerFactory
) -> None:
    """One trailer line that never ends (a megabyte and counting) must hit a limit, not buffer until the
    read timeout."""
    endless = CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nX-Trailer: " + b"t" * (1024 * 1024)
    scripted = Scripted(raw_server, send_then_wait(endless))
    with pytest.raises((ChunkedEncodingError, RemoteProtocolError)):
        client.get(scripted.url, timeout=brisk.Timeout(5, read=5))
    assert_recovers(client, scripted)


def test_endless_chunk_extension_does_not_wait_for_the_read_timeout(
    client: Client, raw_server: RawServerFactory
) -> None:
    endless = CHUNKED_HEAD + b"5;ext=" + b"e" * (1024 * 1024)
    scripted = Scripted(raw_server, send_then_wait(endless))
    with pytest.raises(ChunkedEncodingError):
        client.get(scripted.url, timeout=brisk.Timeout(5, read=5))
    assert_recovers(client, scripted)


def test_valid_chunked_body_with_trailer(client: Client, raw_server: RawServerFactory) -> None:
    """Control for the chunked cases: a valid body (extensions, a trailer) is read, the connection kept."""
    body = CHUNKED_HEAD + b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n"

    def first(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(body)
        respond_ok(conn)

    server = raw_server(first)
    assert client.get(server.url + "/").content == b"hello world"
    assert client.get(server.url + "/").content == b"ok"
    assert server.connection_count == 1


# -- bodies that end early -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["read-whole", "streamed"])
def test_fewer_bytes_than_content_length(client: Client, raw_server: RawServerFactory, stream: bool) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    scripted = Scripted(raw_server, send_then_wait(head, b"only 13 bytes", pause=0.05, then="close"))
    got: list[bytes] = []
    with pytest.raises(IncompleteBody) as caught:
        body_of(client, scripted.url, stream=stream, into=got)
    assert isinstance(caught.value, ChunkedEncodingError)  # requests' name for a broken-off body
    assert "Content-Length" in str(caught.value)
    assert scripted.server.url in str(caught.value)
    assert len(b"".join(got)) <= 13
    assert_recovers(client, scripted, closed_by_client=False)


@pytest.mark.parametrize("stream", [False, True], ids=["read-whole", "streamed"])
def test_chunked_body_cut_off(client: Client, raw_server: RawServerFactory, stream: bool) -> None:
    scripted = Scripted(raw_server, send_then_wait(CHUNKED_HEAD, b"5\r\nhello\r\n", pause=0.05, then="close"))
    with pytest.raises(IncompleteBody):
        body_of(client, scripted.url, stream=stream)
    assert_recovers(client, scripted, closed_by_client=False)


@pytest.mark.parametrize("stream", [False, True], ids=["read-whole", "streamed"])
def test_reset_mid_body(client: Client, raw_server: RawServerFactory, stream: bool) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    scripted = Scripted(raw_server, send_then_wait(head, b"x" * 10, pause=0.05, then="reset"))
    with pytest.raises(ChunkedEncodingError) as caught:
        body_of(client, scripted.url, stream=stream)
    assert scripted.server.url in str(caught.value)
    assert_recovers(client, scripted, closed_by_client=False)


def test_close_delimited_body_is_complete_and_not_reused(
    client: Client, raw_server: RawServerFactory
) -> None:
    scripted = Scripted(
        raw_server, send_then_wait(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", pause=0.05, then="close")
    )
    assert client.get(scripted.url).content == b"until the end"
    assert_recovers(client, scripted, closed_by_client=False)


# -- bodies that are not there -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
def test_head_response_has_no_body_and_keeps_the_connection(
    client: Client, raw_server: RawServerFactory, head: bytes
) -> None:
    def handler(conn: RawConnection) -> None:
        request = conn.recv_request()
        assert request is not None
        assert request.method == "HEAD"
        conn.send(head)
        respond_ok(conn)

    server = raw_server(handler)
    response = client.head(server.url + "/")
    assert response.status_code == 200
    assert response.content == b""
    assert client.get(server.url + "/").content == b"ok"
    assert server.connection_count == 1  # the HEAD response left the connection clean
    assert_pool_settled(client, total=1)


SMUGGLED = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!"


@pytest.mark.parametrize("status", [204, 304])
@pytest.mark.parametrize("timing", ["same-packet", "later"])
def test_no_body_status_with_body_bytes(
    client: Client, raw_server: RawServerFactory, status: int, timing: str
) -> None:
    """Bytes after a 204/304 head (here: a whole fake response) must never become the next response."""
    head = http_response(status, content_length=False)

    def first(conn: RawConnection, closed: threading.Event) -> None:
        conn.recv_request()
        if timing == "same-packet":
            conn.send(head + SMUGGLED)
        else:
            conn.send(head)
            conn.sleep(0.15)
            conn.send(SMUGGLED)
        with contextlib.suppress(ConnectionResetError):  # closing with the poison unread resets
            while conn.recv_request() is not None:  # should the client come back, it gets more poison
                conn.send(SMUGGLED)
        closed.set()

    scripted = Scripted(raw_server, first)
    response = client.get(scripted.url)
    assert response.status_code == status
    assert response.content == b""
    time.sleep(0.3)
    assert client.pool().total <= 1
    assert_recovers(client, scripted, pooled_before=None)
    assert len(scripted.server.requests) == 2


def test_bytes_after_complete_response_close_the_connection(
    client: Client, raw_server: RawServerFactory
) -> None:
    def first(conn: RawConnection, closed: threading.Event) -> None:
        conn.recv_request()
        conn.send(http_response(200, b"ok") + b"EXTRA BYTES")
        with contextlib.suppress(ConnectionResetError):  # closing with the extra bytes unread resets
            while conn.recv_request() is not None:
                conn.send(http_response(200, b"reused!"))
        closed.set()

    scripted = Scripted(raw_server, first)
    assert client.get(scripted.url).content == b"ok"
    assert_recovers(client, scripted)
    assert len(scripted.server.requests) == 2


# -- 1xx and Expect: 100-continue ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "interim",
    [
        [b"HTTP/1.1 100 Continue\r\n\r\n"],
        [
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 102 Processing\r\n\r\n",
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
        ],
    ],
    ids=["100", "100-102-103"],
)
@pytest.mark.parametrize("split", [False, True], ids=["one-packet", "split"])
def test_informational_responses_are_skipped(
    client: Client, raw_server: RawServerFactory, interim: list[bytes], split: bool
) -> None:
    final = http_response(200, b"final", [("X-Final", "yes")])

    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        if split:
            for part in interim:
                conn.send(part)
                conn.sleep(0.05)
            conn.send(final)
        else:
            conn.send(b"".join(interim) + final)
        respond_ok(conn)

    server = raw_server(handler)
    response = client.get(server.url + "/")
    assert response.status_code == 200
    assert response.content == b"final"
    assert response.headers["X-Final"] == "yes"
    assert "link" not in response.headers
    assert client.get(server.url + "/").content == b"ok"
    assert server.connection_count == 1


def recv_head(conn: RawConnection) -> dict[str, str]:
    head = conn.recv_until(b"\r\n\r\n").decode("latin-1")
    lines = head.split("\r\n")[1:]
    return {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if line)
    }


UPLOAD = b"u" * 200_000


@pytest.mark.timeout(20)
def test_expect_100_continue_then_200(
    client: Client, raw_server: RawServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body goes out on the 100: with the client's own wait for it made a minute long, a client that
    ignored the 100 would only send the body after the test's timeout."""
    for module in (sync_h1, async_h1):
        monkeypatch.setattr(module, "_CONTINUE_WAIT", 60.0)
    received: list[int] = []

    def handler(conn: RawConnection) -> None:
        headers = recv_head(conn)
        assert headers.get("expect", "").lower() == "100-continue"
        conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = conn.recv_exactly(int(headers["content-length"]))
        received.append(len(body))
        conn.send(http_response(200, b"stored"))
        conn.wait_closed()

    server = raw_server(handler)
    response = client.post(
        server.url + "/upload",
        data=UPLOAD,
        headers={"Expect": "100-continue"},
        timeout=brisk.Timeout(60),
    )
    assert response.status_code == 200
    assert response.content == b"stored"
    assert received == [len(UPLOAD)]


def test_expect_100_continue_early_final_response(client: Client, raw_server: RawServerFactory) -> None:
    """The server refuses the upload from its head: the client reports the 413, never sends the body, and
    does not reuse the connection (the server cannot know where the next request would start)."""
    leftovers: list[bytes] = []

    def first(conn: RawConnection, closed: threading.Event) -> None:
        recv_head(conn)
        conn.send(http_response(413, b"too big"))
        leftovers.append(conn.wait_closed(timeout=5))
        closed.set()

    scripted = Scripted(raw_server, first)
    response = client.post(scripted.url, data=UPLOAD, headers={"Expect": "100-continue"})
    assert response.status_code == 413
    assert response.content == b"too big"
    assert_recovers(client, scripted)
    assert leftovers == [b""], f"{len(leftovers[0])} body bytes were sent after the final response"


def test_early_413_during_large_upload(client: Client, raw_server: RawServerFactory) -> None:
    """The server answers 413 after the head and closes while the client is still sending 32 MB: the client
    reports the 413 response, not a broken pipe."""

    def first(conn: RawConnection, closed: threading.Event) -> None:
        recv_head(conn)
        conn.send(http_response(413, b"too big", [("Connection", "close")]))
        conn.sleep(0.2)
        conn.close()  # unread upload bytes are pending: the kernel answers with a reset
        closed.set()

    scripted = Scripted(raw_server, first)
    response = client.post(scripted.url, data=b"u" * (32 * 1024 * 1024))
    assert response.status_code == 413
    assert response.content == b"too big"
    assert_recovers(client, scripted)


# -- large Content-Length bodies (the sync transport reads them past its parser, capped at their length) ----

LARGE = bytes(range(256)) * 5859 + b"tail"  # 1,499,908 bytes: past the whole-body direct read's 1 MiB
LARGE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(LARGE)
PIECE = 65536  # iter_content(65536): the sync transport cuts such pieces from reads of up to 1 MiB


def large_body(client: Client, url: str, how: str, **kwargs: Any) -> bytes:
    if how == "whole":
        return client.get(url, **kwargs).content  # type: ignore[no-any-return]
    pieces = client.chunks(client.get(url, stream=True, **kwargs), PIECE)
    assert [len(p) for p in pieces] == [PIECE] * (len(LARGE) // PIECE) + [len(LARGE) % PIECE]
    return b"".join(pieces)


@pytest.mark.parametrize("how", ["whole", "pieces"])
def test_a_large_body_in_odd_packets_comes_out_whole_and_the_connection_is_reused(
    client: Client, raw_server: RawServerFactory, how: str
) -> None:
    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(LARGE_HEAD + LARGE[:1000])
        conn.sleep(0.02)
        conn.send(LARGE[1000:700_001])
        conn.sleep(0.02)
        conn.send(LARGE[700_001:])
        respond_ok(conn)

    server = raw_server(handler)
    assert large_body(client, server.url + "/", how) == LARGE
    assert client.get(server.url + "/").content == b"ok"
    assert server.connection_count == 1
    assert_pool_settled(client, total=1)


@pytest.mark.parametrize("how", ["whole", "pieces"])
def test_bytes_after_a_large_body_are_not_body_and_close_the_connection(
    client: Client, raw_server: RawServerFactory, how: str
) -> None:
    scripted = Scripted(raw_server, send_then_wait(LARGE_HEAD + LARGE[:5000], LARGE[5000:] + b"EXTRA"))
    assert large_body(client, scripted.url, how) == LARGE
    assert_recovers(client, scripted)


@pytest.mark.parametrize("how", ["whole", "pieces"])
def test_a_large_body_cut_short_is_an_incomplete_body(
    client: Client, raw_server: RawServerFactory, how: str
) -> None:
    scripted = Scripted(raw_server, send_then_wait(LARGE_HEAD + LARGE[:800_000], then="close"))
    with pytest.raises(IncompleteBody) as caught:
        large_body(client, scripted.url, how)
    assert scripted.server.url in str(caught.value)
    assert_recovers(client, scripted, closed_by_client=False)


def test_a_large_body_left_half_read_closes_its_connection(raw_server: RawServerFactory) -> None:
    """Sync only: the asyncio transport receives as the data comes, so it may hold the whole body already
    and rightly keep the connection."""

    def first(conn: RawConnection, closed: threading.Event) -> None:
        conn.recv_request()
        with contextlib.suppress(*NETWORK_ERRORS):  # the send fails if the client closes before it ends
            conn.send(LARGE_HEAD + LARGE)
            conn.wait_closed(timeout=8)
        closed.set()

    scripted = Scripted(raw_server, first)
    client = SyncClient()
    try:
        response = client.get(scripted.url, stream=True)
        pieces = response.iter_content(PIECE)
        assert next(pieces) == LARGE[:PIECE]
        assert next(pieces) == LARGE[PIECE : 2 * PIECE]
        response.close()
        assert_recovers(client, scripted)
    finally:
        client.close()


def test_a_chunk_size_far_larger_than_the_body_reads_it_in_one_piece(
    client: Client, raw_server: RawServerFactory
) -> None:
    scripted = Scripted(raw_server, send_then_wait(LARGE_HEAD + LARGE[:1000], LARGE[1000:], pause=0.02))
    assert client.chunks(client.get(scripted.url, stream=True), 1 << 40) == [LARGE]  # no 1 TiB buffer


def test_a_large_body_read_to_its_last_piece_frees_its_connection_at_once(
    raw_server: RawServerFactory,
) -> None:
    """The caller may stop after the last piece without asking for more: the connection is pooled anyway.
    (A body of whole pieces: a shorter last piece only comes out once the body has ended.)"""
    body = LARGE[: 20 * PIECE]

    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(200, body))

    server = raw_server(handler)
    client = SyncClient()
    try:
        for _ in range(3):
            response = client.get(server.url + "/", stream=True)
            pieces = response.iter_content(PIECE)
            got = [next(pieces) for _ in range(20)]
            assert b"".join(got) == body
            response.close()
        assert server.connection_count == 1
        assert_pool_settled(client, total=1)
    finally:
        client.close()


@pytest.mark.parametrize("how", ["whole", "pieces"])
def test_bytes_after_a_large_body_over_tls_close_the_connection(
    client: Client, tls_raw_server: TLSServerFactory, good_cert: CertBundle, how: str
) -> None:
    """Over TLS the extra bytes arrive in the same record as the body's last ones: after decryption they wait
    in the TLS buffer, where poll() cannot see them."""

    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        if conn.index == 0:
            conn.send(LARGE_HEAD + LARGE + b"EXTRA")
            with contextlib.suppress(*NETWORK_ERRORS):
                while conn.recv_request() is not None:
                    conn.send(http_response(200, b"reused!"))
        else:
            conn.send(http_response(200, b"ok"))
            respond_ok(conn)

    server = tls_raw_server(good_cert, handler)
    client.session.verify = str(good_cert.ca_bundle)
    assert large_body(client, server.url + "/", how) == LARGE
    assert client.get(server.url + "/").content == b"ok"
    assert server.connection_count == 2


@pytest.mark.parametrize("how", ["whole", "pieces"])
def test_a_large_body_that_stalls_is_a_read_timeout_naming_the_url(
    client: Client, raw_server: RawServerFactory, how: str
) -> None:
    """The reads past the parser (whole past 1 MiB, or in 64 KiB pieces) keep the read timeout."""
    scripted = Scripted(raw_server, send_then_wait(LARGE_HEAD + LARGE[:700_000]))
    timeout = brisk.Timeout(5, read=0.3)
    with pytest.raises(brisk.ReadTimeout) as caught:
        large_body(client, scripted.url, how, timeout=timeout)
    assert "reading the response" in str(caught.value)
    assert scripted.server.url in str(caught.value)
    assert_recovers(client, scripted)


def test_async_connections_sharing_the_read_buffer_keep_their_own_bytes(raw_server: RawServerFactory) -> None:
    """The asyncio connections of a thread receive into one buffer and copy out what arrived: 20 responses
    in flight at once, each body unique to its connection and sent in pieces that interleave with the
    others', arrive whole and unmixed (over plain TCP, where every read goes through that buffer)."""
    import asyncio

    def handler(conn: RawConnection) -> None:
        request = conn.recv_request()
        assert request is not None
        tag = request.target.encode()
        body = tag * (300_000 // len(tag))  # larger than the buffer: several reads per response
        conn.send(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        for start in range(0, len(body), 70_001):
            conn.send(body[start : start + 70_001])
            time.sleep(0.001)
        respond_ok(conn)

    server = raw_server(handler)

    async def fetch_all() -> list[tuple[str, bytes]]:
        limits = brisk.Limits(max_connections=20, max_connections_per_host=20)
        async with brisk.AsyncSession(limits=limits) as session:
            paths = [f"/conn-{i:02d}/" for i in range(20)]
            responses = await asyncio.gather(*(session.get(server.url + path) for path in paths))
            return [(path, r.content) for path, r in zip(paths, responses, strict=True)]

    for path, content in asyncio.run(fetch_all()):
        tag = path.encode()
        assert content == tag * (300_000 // len(tag))
    assert server.connection_count == 20


def test_a_chunked_response_read_inside_an_except_block(client: Client, raw_server: RawServerFactory) -> None:
    """Found by the framing fuzz target: called from an application's except block, brisk mistook the
    exception being handled for its own signal and failed a complete chunked response followed by stray
    bytes. It must read the response and drop the connection, as anywhere else."""
    chunked_then_stray = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nX"
    scripted = Scripted(raw_server, send_then_wait(chunked_then_stray))
    try:
        raise KeyError("the application's own error")
    except KeyError:
        body = client.get(scripted.url).content
    assert body == b"hello"
    assert_recovers(client, scripted)
