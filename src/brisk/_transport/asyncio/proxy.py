"""Opening a connection through a proxy on asyncio (HTTP CONNECT, forwarding, SOCKS)."""

from __future__ import annotations

import asyncio
import socket

from brisk._protocol.http11 import ResponseParser
from brisk._transport.asyncio.connect import connect_tcp, start_connection, upgrade_if_h2
from brisk._transport.asyncio.waiting import TimedOut
from brisk._transport.deadline import connecting
from brisk._transport.errors import handshake_failed
from brisk._transport.facts import of_transport
from brisk._transport.proxy import ProxyInfo, parse_proxy
from brisk._transport.tls import ssl_context
from brisk._transport.wire import cleartext_h2
from brisk.exceptions import ConnectTimeout, RequestException

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._core.url import URL
    from brisk._transport.asyncio.h1 import AsyncH1Connection
    from brisk._transport.asyncio.h2 import AsyncH2Connection
    from brisk._transport.base import SendOptions, Timings

__all__ = ["open_through_proxy"]


async def open_through_proxy(
    url: URL, options: SendOptions, timings: Timings, loop: asyncio.AbstractEventLoop
) -> AsyncH1Connection | AsyncH2Connection:
    config = options.config
    assert config.proxy is not None
    info = parse_proxy(config.proxy)
    target = f"{url.host}:{url.effective_port}"
    secure = url.scheme in ("https", "wss")
    if info.is_socks:
        sock = await _socks_connect(info, url, options)
        tunnelled = await start_connection(
            sock, ssl_context(config) if secure else None, url.host, options, timings, loop
        )
        return upgrade_if_h2(tunnelled, options, loop, cleartext_h2(config, url))
    try:
        sock = await connect_tcp(info.host, info.port, options, timings, loop)
        proxy_tls = ssl_context(config, alpn=("http/1.1",)) if info.scheme == "https" else None
        conn = await start_connection(sock, proxy_tls, info.host, options, timings, loop)
    except ConnectTimeout:
        raise
    except RequestException as exc:
        raise info.failure(exc, target) from None
    if url.scheme == "http":
        return conn
    try:
        await _tunnel(conn, info, url, options)
        if secure:
            await _start_tls(conn, url.host, options, loop)
    except BaseException:
        conn.close()
        raise
    return upgrade_if_h2(conn, options, loop) if secure else conn


async def _tunnel(conn: AsyncH1Connection, info: ProxyInfo, url: URL, options: SendOptions) -> None:
    target = f"{url.host}:{url.effective_port}"
    parser = conn.parser = ResponseParser("CONNECT", options.limits)
    phase = info.opening_tunnel()
    assert conn.transport is not None
    conn.transport.write(info.tunnel_request(url.host, url.effective_port, options.config))
    try:
        while parser.head is None:
            if conn.error is not None:
                raise conn.error
            if conn.eof:
                parser.feed_eof()
            await conn.wait(phase.budget(options))
    except TimedOut:
        raise phase.timed_out(options) from None
    except ConnectTimeout:
        raise
    except RequestException as exc:
        raise info.failure(exc, target) from None
    finally:
        conn.parser = None
    info.check_tunnel_answer(parser, target)


async def _start_tls(
    conn: AsyncH1Connection, host: str, options: SendOptions, loop: asyncio.AbstractEventLoop
) -> None:
    """The TLS handshake with the origin, inside the tunnel the connection has become."""
    assert conn.transport is not None
    phase = connecting(f"the TLS handshake with {host}")
    timeout = phase.budget(options)
    try:
        transport = await loop.start_tls(
            conn.transport,
            conn,
            ssl_context(options.config),
            server_hostname=host,
            ssl_handshake_timeout=timeout,
        )
    except TimeoutError:
        raise phase.timed_out(options) from None
    except OSError as exc:
        raise handshake_failed(exc, host) from exc
    conn.transport = transport
    conn.info = of_transport(transport)  # the TLS facts are the origin's now (the addresses the proxy's)


async def _socks_connect(info: ProxyInfo, url: URL, options: SendOptions) -> socket.socket:
    proxy: Any = info.socks_connector(asynchronous=True)
    timeout = info.socks_budget(options)
    try:
        sock: socket.socket = await proxy.connect(url.host, url.effective_port, timeout=timeout)
    except Exception as exc:
        raise info.socks_failure(exc, url, options) from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
