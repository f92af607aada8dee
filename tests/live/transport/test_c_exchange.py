"""The sync HTTP/1.1 exchange with the C accelerator's system calls (``h1._exchange_in_c``), with the same
steps in Python (``h1._exchange_in_python``: over TLS, or where C's exchange is not in use) and with the
Python reader alone, side by side on scripted servers, plain and over TLS.

The first two build a response that came whole in one read themselves and hand everything else (an error,
EOF, a head or body over several reads, an unusual head) to the Python reader. Whatever the server does, a
caller must see the same thing every way: the same responses, the same exceptions with the same messages,
the same stale-connection retries and the same number of connections. Each scenario runs a GET and a
small POST (which goes out with its body in one piece) in a fresh session once each way, each against a
server of its own.
"""

from __future__ import annotations

import errno
import gzip
import os
import socket
import ssl
import struct
from collections.abc import Callable
from typing import Any

import pytest

import brisk
from brisk._transport.base import SendOptions
from brisk._transport.sync import h1
from brisk._transport.sync.h1 import SyncH1Connection
from servers.raw import RawConnection, http_response

if h1._fast_head is None:
    pytest.skip("the C accelerator is not in use here", allow_module_level=True)
# (exchange() in C is built for POSIX systems only; elsewhere plain sockets take the Python way too)
needs_c_exchange = pytest.mark.skipif(
    h1._c_exchange is None, reason="the C accelerator has no exchange() here"
)

Handler = Callable[[RawConnection], None]


def answer_each(*responses: bytes | list[bytes | float]) -> Handler:
    """Answer the requests of a connection in turn; a list is sent in parts, a float in it is a pause."""

    def handler(conn: RawConnection) -> None:
        for response in responses:
            if conn.recv_request() is None:
                return
            for part in response if isinstance(response, list) else [response]:
                if isinstance(part, float):
                    conn.sleep(part)
                else:
                    conn.send(part)

    return handler


OK = http_response(200, b"ok")


def close_after_first(conn: RawConnection) -> None:
    """A server that closes a kept-alive connection when the next request arrives, without answering."""
    if conn.index == 0:
        if conn.recv_request() is not None:
            conn.send(OK)
        conn.recv_request()
        return
    while conn.recv_request() is not None:
        conn.send(http_response(200, b"fresh"))


def reset_after_first(conn: RawConnection) -> None:
    if conn.index == 0:
        if conn.recv_request() is not None:
            conn.send(OK)
        conn.recv_request()
        conn.reset()
        return
    while conn.recv_request() is not None:
        conn.send(http_response(200, b"fresh"))


def reset_at_once(conn: RawConnection) -> None:
    conn.recv_request()
    conn.reset()


def close_at_once(conn: RawConnection) -> None:
    conn.recv_request()


SCENARIOS: dict[str, Handler] = {
    "plain": answer_each(OK, OK),
    "head split over reads": answer_each(
        [b"HTTP/1.1 200 OK\r\nContent-Len", 0.05, b"gth: 2\r\n\r\nok"],
        [b"HTTP/1.1 200 OK\r\n", 0.05, b"\r\n"],
    ),
    "body over several reads": answer_each(
        [b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab", 0.05, b"cdef"], OK
    ),
    "interim then final": answer_each(
        [b"HTTP/1.1 100 Continue\r\n\r\n", 0.05, OK], b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK
    ),
    "empty lines before the status line": answer_each(b"\r\n\r\n" + OK, OK),
    "bytes after the body": answer_each(OK + b"HTTP/1.1 200 OK\r\n", OK),
    "204 and 304 with bytes after them": answer_each(
        b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc", b"HTTP/1.1 304 Not Modified\r\n\r\n"
    ),
    "Connection: close": answer_each(http_response(200, b"bye", [("Connection", "close")]), OK),
    "no Content-Length": answer_each(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end"),
    "chunked": answer_each(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", OK),
    "HTTP/1.0": answer_each(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    "cookies and gzip": answer_each(
        http_response(200, gzip.compress(b"zipped"), [("Set-Cookie", "a=1"), ("Content-Encoding", "gzip")]),
        http_response(200, b"ok", [("Set-Cookie", "b=2; Path=/")]),
    ),
    "Content-Length: 0": answer_each(http_response(200, b""), http_response(404, b"")),
    "a head too large": answer_each(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"),
    "not HTTP": answer_each(b"SSH-2.0-OpenSSH\r\n\r\n"),
    "a control character in a value": answer_each(
        b"HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n"
    ),
    "EOF at once": close_at_once,
    "reset at once": reset_at_once,
    "stale: closed while reused": close_after_first,
    "stale: reset while reused": reset_after_first,
    "a slow answer": answer_each([0.5, OK]),
    "truncated body": answer_each(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
}


def outcome(url: str, session: brisk.Session, read_timeout: float = 5) -> list[Any]:
    """What a caller sees of a GET and a small POST: each response's parts, or its exception's type and
    message."""
    seen: list[Any] = []
    for data in (None, b"x" * 100):
        try:
            r = session.request("GET" if data is None else "POST", url, data=data, timeout=(5, read_timeout))
        except brisk.RequestException as exc:
            seen.append((type(exc).__name__, str(exc).replace(url.rstrip("/"), "URL")))
            continue
        seen.append((r.status_code, r.reason, r.http_version, list(r.headers.items()), r.content))
    seen.append(sorted(session.cookies.get_dict().items()))
    return seen


# The ways an exchange can go: the C accelerator's system calls (plain sockets), the same steps in Python
# (``_exchange_in_python``: TLS, or C's exchange not in use), and the reader alone (no accelerator at all).
IN_C, IN_PYTHON, READER = "in C", "in Python", "the reader alone"
WAYS = {
    "http": (IN_C, IN_PYTHON, READER) if h1._c_exchange else (IN_PYTHON, READER),
    "https": (IN_PYTHON, READER),
}


@pytest.mark.parametrize("scheme", list(WAYS))
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_same_whichever_way_the_exchange_goes(
    name: str,
    scheme: str,
    raw_server: Any,
    tls_raw_server: Any,
    good_cert: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler = SCENARIOS[name]
    results = []
    for way in WAYS[scheme]:
        used: list[str] = []
        for attribute, label in (("_exchange_in_c", IN_C), ("_exchange_in_python", IN_PYTHON)):
            real = getattr(h1, attribute)
            monkeypatch.setattr(h1, attribute, _counting(real, used, label))
        if way != IN_C:  # (connections made without C's exchange never take the C path: _in_c)
            monkeypatch.setattr(h1, "_c_exchange", None)
        if way == READER:
            monkeypatch.setattr(h1, "_fast_head", None)
        if scheme == "http":
            server = raw_server(handler)
            url, verify = server.url, True
        else:
            server = tls_raw_server(good_cert, handler)
            url, verify = f"https://localhost:{server.port}/", str(good_cert.ca_bundle)
        with brisk.Session(limits=brisk.Limits(busy_poll=0)) as session:
            session.verify = verify
            # Only the slow answer is meant to time out: a short read timeout elsewhere would fail on a
            # busy machine (a CI run once waited over 0.2 s for a loopback answer).
            read_timeout = 0.2 if name == "a slow answer" else 5
            results.append((outcome(url, session, read_timeout), server.connection_count))
        monkeypatch.undo()
        assert set(used) == ({way} if way != READER else set()), f"{way}: the exchange went {used}"
    assert all(result == results[0] for result in results[1:]), results


def _counting(real: Callable[..., Any], used: list[str], label: str) -> Callable[..., Any]:
    def counting(*args: Any) -> Any:
        used.append(label)
        return real(*args)

    return counting


class GreenSocket(socket.socket):
    """As gevent's and eventlet's sockets (which monkey-patching makes ``socket.socket``): the descriptor
    stays non-blocking whatever the timeout, and their own loop does the waiting."""

    def settimeout(self, value: float | None) -> None:
        super().settimeout(0.0)


@needs_c_exchange
def test_a_non_blocking_descriptor_is_left_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """C would meet EAGAIN at once there and report a timeout that never happened."""
    ours, theirs = socket.socketpair()
    green = GreenSocket(ours.family, ours.type, fileno=ours.detach())
    try:
        assert SyncH1Connection(theirs)._in_c  # a plain socket
        monkeypatch.setattr(socket, "socket", GreenSocket)  # what gevent.monkey.patch_all() does
        conn = SyncH1Connection(green)
        assert conn._kernel_timeouts  # the same socket class, as far as brisk can tell
        assert not conn._in_c
    finally:
        monkeypatch.undo()
        green.close()
        theirs.close()


def test_only_python_s_tls_socket_is_trusted_to_send_all_in_one_call(
    tls_raw_server: Any, good_cert: Any
) -> None:
    """``_exchange_in_python`` sends with one ``send()`` only where that writes everything (OpenSSL's
    partial writes are off in Python's ssl); any other socket may write less and gets ``sendall``."""
    server = tls_raw_server(good_cert)
    context = ssl.create_default_context(cafile=str(good_cert.ca_bundle))
    with (
        context.wrap_socket(
            socket.create_connection(("127.0.0.1", server.port)), server_hostname="localhost"
        ) as tls,
        socket.create_connection(("127.0.0.1", server.port)) as plain,
    ):
        assert SyncH1Connection(tls)._sends_whole
        assert not SyncH1Connection(plain)._sends_whole
        with GreenSocket(fileno=os.dup(plain.fileno())) as green:
            assert not SyncH1Connection(green)._sends_whole


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errno.EAGAIN, brisk.ReadTimeout),
        (errno.ETIMEDOUT, brisk.ReadTimeout),  # TCP keep-alive gave up: a TimeoutError, as in sock.recv
        (errno.ECONNRESET, brisk.ConnectionError),
    ],
)
def test_an_os_error_of_a_read_in_c_is_what_recv_would_raise(error: int, expected: type) -> None:
    ours, theirs = socket.socketpair()
    try:
        with pytest.raises(expected):
            SyncH1Connection(ours).recv_failed(error, SendOptions())
    finally:
        ours.close()
        theirs.close()


EXCHANGE_LIMITS = (65536, 0.0, 65536, 8192, 100)  # recv_size, busy_poll, max head, line, header count


@needs_c_exchange
def test_the_call_between_runs_after_the_send_and_before_the_read() -> None:
    """``exchange(..., between, *args)``: the call is made once the head is sent and before the answer is
    read, and its result ends the tuple."""
    ours, theirs = socket.socketpair()
    theirs.settimeout(2)  # a call made before the send would find nothing to read
    # and a read made before the call would wait for an answer nobody sends: a kernel timeout ends it
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 2, 0))
    seen: list[bytes] = []

    def between(*args: object) -> tuple[object, ...]:
        seen.append(theirs.recv(100))  # the head is there already
        theirs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")  # and the answer not yet read
        return args

    try:
        assert h1._c_exchange is not None
        done = h1._c_exchange(ours.fileno(), b"GET / HTTP/1.1\r\n\r\n", *EXCHANGE_LIMITS, between, 1, "two")
        outcome, _, _, _, data, found, extra = done
        assert seen == [b"GET / HTTP/1.1\r\n\r\n"]
        assert (outcome, found[1], extra) == (0, 200, (1, "two"))
        assert data == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        # with busy polling, the call comes before the polling too (which would otherwise find the answer)
        polling = (EXCHANGE_LIMITS[0], 0.5, *EXCHANGE_LIMITS[2:])
        done = h1._c_exchange(ours.fileno(), b"GET / HTTP/1.1\r\n\r\n", *polling, between)
        assert (done[3], done[5][1], done[6]) == (0, 200, ())  # polling found the answer there at once
        assert seen[1] == b"GET / HTTP/1.1\r\n\r\n"
        # without a call between, the tuple is as before
        theirs.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        assert len(h1._c_exchange(ours.fileno(), b"GET / HTTP/1.1\r\n\r\n", *EXCHANGE_LIMITS)) == 6
    finally:
        ours.close()
        theirs.close()


@needs_c_exchange
def test_the_call_between_is_not_made_when_the_send_fails() -> None:
    ours, theirs = socket.socketpair()
    theirs.close()
    calls: list[object] = []
    try:
        assert h1._c_exchange is not None
        done = h1._c_exchange(ours.fileno(), b"GET / HTTP/1.1\r\n\r\n", *EXCHANGE_LIMITS, calls.append, 1)
        assert done[0] == h1._SEND_FAILED
        assert done[-1] is None
        assert calls == []
    finally:
        ours.close()


def test_an_error_in_the_call_between_closes_the_connection(
    raw_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request went out and its answer was not read: the connection must not serve another request."""
    server = raw_server(answer_each(OK, OK, OK))
    with brisk.Session() as session:
        assert session.get(server.url).text == "ok"

        def failing(*args: object) -> None:
            raise MemoryError("in the call between")

        monkeypatch.setattr(h1, "_BEGUN", failing)
        with pytest.raises(MemoryError, match="in the call between"):
            session.get(server.url)
        monkeypatch.undo()
        assert session.get(server.url).text == "ok"
    assert server.connection_count == 2  # a new connection after the failed exchange closed the first


def test_an_accelerator_built_from_other_sources_is_left_unused(monkeypatch: pytest.MonkeyPatch) -> None:
    """An editable install whose C module was built before its signatures changed runs in pure Python."""
    from brisk._protocol import _speedups, accelerator

    assert accelerator._load() == (_speedups, None)
    monkeypatch.setattr(_speedups, "API", accelerator._API - 1)
    module, why = accelerator._load()
    assert module is None
    assert why == f"built from other sources (API {accelerator._API - 1}, this code needs 2): reinstall brisk"
    monkeypatch.delattr(_speedups, "API")
    assert accelerator._load()[0] is None
