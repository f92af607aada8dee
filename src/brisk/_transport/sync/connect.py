"""Opening a connection with blocking sockets: DNS, TCP, TLS (proxies come through here too)."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from brisk._core.url import UNIX_SCHEME
from brisk._transport.connect import AddressLoop
from brisk._transport.deadline import connecting
from brisk._transport.errors import handshake_failed, not_resolved
from brisk._transport.tls import check_pins, ssl_context
from brisk.exceptions import ConnectTimeout

if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._transport.base import ConnectionConfig, SendOptions, Timings

__all__ = ["connect_tcp", "connect_unix", "open_socket", "wrap_tls"]


def open_socket(url: URL, options: SendOptions, timings: Timings) -> socket.socket:
    """A connected socket to ``url``'s origin, TLS-wrapped for https."""
    config = options.config
    if config.uds is not None or url.scheme == UNIX_SCHEME:  # a Unix socket: no DNS, TCP or proxy
        sock = connect_unix(url, options, timings)
        return wrap_tls(sock, url.host, config, options, timings) if url.scheme in ("https", "wss") else sock
    if config.proxy is not None:
        from brisk._transport.sync.proxy import open_through_proxy  # proxies are rare: loaded when used

        return check_pins(open_through_proxy(url, options, timings), url, config)
    sock = connect_tcp(url.host, url.effective_port, options, timings)
    if url.scheme in ("https", "wss"):
        sock = check_pins(wrap_tls(sock, url.host, config, options, timings), url, config)
    return sock


def connect_tcp(host: str, port: int, options: SendOptions, timings: Timings) -> socket.socket:
    """Resolve ``host`` and connect to the first address that accepts, within the connect timeout."""
    loop = AddressLoop(host, port, options, timings)
    infos = loop.addresses
    if infos is None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise not_resolved(host, exc) from None
    for sock, address in loop.sockets(infos):
        try:
            sock.settimeout(loop.time_left())
            sock.connect(address)
        except BaseException as exc:
            loop.failed(sock, exc, timed_out=isinstance(exc, TimeoutError))
            continue
        return loop.connected(sock)
    raise loop.exhausted()


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
