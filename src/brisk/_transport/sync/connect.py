"""Opening a connection with blocking sockets: DNS, TCP, TLS (proxies come through here too)."""

from __future__ import annotations

import errno
import os
import selectors
import socket
import threading
import time

from brisk._core.url import UNIX_SCHEME
from brisk._transport.connect import AddressLoop
from brisk._transport.deadline import connecting
from brisk._transport.errors import handshake_failed
from brisk._transport.tls import check_pins, ssl_context
from brisk.exceptions import ConnectTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._core.url import URL
    from brisk._transport.base import ConnectionConfig, SendOptions, Timings

__all__ = ["bounded_lookup", "connect_tcp", "connect_unix", "open_socket", "wrap_tls"]

_IN_PROGRESS = frozenset({errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, errno.EALREADY})


def open_socket(url: URL, options: SendOptions, timings: Timings) -> socket.socket:
    """A connected socket to ``url``'s origin, TLS-wrapped for https."""
    config = options.config
    if config.uds is not None or url.scheme == UNIX_SCHEME:  # a Unix socket: no DNS, TCP or proxy
        sock = connect_unix(url, options, timings)
    elif config.proxy is not None:
        from brisk._transport.sync.proxy import open_through_proxy  # proxies are rare: loaded when used

        return check_pins(open_through_proxy(url, options, timings), url, config)
    else:
        sock = connect_tcp(url.host, url.effective_port, options, timings)
    if url.scheme in ("https", "wss"):
        sock = check_pins(wrap_tls(sock, url.host, config, options, timings), url, config)
    return sock


def connect_tcp(host: str, port: int, options: SendOptions, timings: Timings) -> socket.socket:
    """Resolve ``host`` (within the connect timeout) and connect to its addresses, racing them as Happy
    Eyeballs does (see ``brisk._transport.connect``); the first to accept wins."""
    attempts = AddressLoop(host, port, options, timings)
    infos = attempts.addresses
    if infos is None:
        infos = bounded_lookup(attempts)
    try:
        if attempts.resolved(infos) == 1:
            return _connect_one(attempts)
        return _race(attempts)
    finally:
        attempts.close()


def bounded_lookup(attempts: AddressLoop) -> list[Any]:
    """``attempts.lookup()`` in a daemon thread, waited for until the connect deadline: ``getaddrinfo``
    itself cannot be given a timeout. A lookup that outlives the wait finishes in the background."""
    deadline = attempts.deadline
    if deadline is None:
        return attempts.lookup()
    outcome: list[Any] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(attempts.lookup())
        except BaseException as exc:  # handed to the waiting thread
            outcome.append(exc)
        done.set()

    threading.Thread(target=run, name=f"brisk-resolve {attempts.host}", daemon=True).start()
    if not done.wait(max(0.0, deadline - time.monotonic())):
        raise attempts.resolving_timed_out()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    answer: list[Any] = outcome[0]
    return answer


def _connect_one(attempts: AddressLoop) -> socket.socket:
    """The one address, connected by a blocking connect with a timeout."""
    started = attempts.start_next()
    if started is not None:
        sock, address = started
        try:
            sock.settimeout(attempts.time_left())
            sock.connect(address)
        except BaseException as exc:
            attempts.failed(sock, exc)
        else:
            won = attempts.connected(sock)
            if won is not None:
                return won
    attempts.wait_time()  # raises the final error
    raise AssertionError("unreachable")


def _race(attempts: AddressLoop) -> socket.socket:
    """Several addresses: non-blocking connects, staggered, waited for together with a selector."""
    with selectors.DefaultSelector() as selector:
        while True:
            while (started := attempts.start_next()) is not None:
                sock, address = started
                sock.setblocking(False)
                code = sock.connect_ex(address)
                if code == 0:
                    sock.setblocking(True)
                    if (won := attempts.connected(sock)) is not None:
                        return won
                elif code in _IN_PROGRESS:
                    selector.register(sock, selectors.EVENT_WRITE)
                else:
                    attempts.failed(sock, OSError(code, os.strerror(code)))
            for key, _ in selector.select(attempts.wait_time()):
                sock = key.fileobj  # type: ignore[assignment]
                selector.unregister(sock)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code == 0:
                    sock.setblocking(True)
                    if (won := attempts.connected(sock)) is not None:
                        return won
                else:
                    attempts.failed(sock, OSError(code, os.strerror(code)))
            for sock in attempts.expired():
                selector.unregister(sock)
                attempts.failed(sock, TimeoutError())


def wrap_tls(
    sock: socket.socket,
    host: str,
    config: ConnectionConfig,
    options: SendOptions,
    timings: Timings,
    *,
    alpn: tuple[str, ...] | None = None,
) -> socket.socket:
    """Run the TLS handshake on ``sock`` (closing it on any failure)."""
    phase = connecting(f"the TLS handshake with {host}")
    start = time.monotonic()
    try:
        ctx = ssl_context(config, alpn=alpn)
        sock.settimeout(phase.budget(options))
        tls = ctx.wrap_socket(sock, server_hostname=host)
    except BaseException as exc:
        sock.close()
        if isinstance(exc, TimeoutError):
            raise phase.timed_out(options) from None
        if isinstance(exc, OSError) and not isinstance(exc, ConnectTimeout):
            raise handshake_failed(exc, host) from exc
        raise
    timings.tls = time.monotonic() - start
    return tls


def connect_unix(url: URL, options: SendOptions, timings: Timings) -> socket.socket:
    """Connect to the Unix socket that ``url`` or the session names, within the connect timeout."""
    from brisk._transport.unix import UnixConnect, unix_socket_path  # loaded when a Unix socket is used

    path = unix_socket_path(url, options.config)
    assert path is not None
    start = time.monotonic()
    attempt = UnixConnect(path, options, start)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(attempt.time_left())
        sock.connect(path)
    except BaseException as exc:
        sock.close()
        raise attempt.failed(exc, timed_out=isinstance(exc, TimeoutError))  # noqa: B904 (the cause is set)
    timings.connect = time.monotonic() - start
    return sock
