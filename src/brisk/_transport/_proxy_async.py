"""Opening a connection through a proxy on asyncio (HTTP CONNECT, forwarding, SOCKS)."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Any

from brisk._protocol.http11 import ResponseParser
from brisk._transport._common import budget, timeout_message
from brisk._transport._proxy import (
    ProxyInfo,
    connect_request,
    parse_proxy,
    proxy_failure,
    read_connect_response,
    socks_proxy,
)
from brisk.exceptions import ConnectTimeout, ProxyError, RequestException

if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._transport.aio import Connection
    from brisk._transport.aio_h2 import H2Conn
    from brisk._transport.base import SendOptions, Timings

__all__ = ["open_through_proxy"]


async def open_through_proxy(
    url: URL, options: SendOptions, timings: Timings, loop: asyncio.AbstractEventLoop
) -> Connection | H2Conn:
    from brisk._transport._common import cleartext_h2
    from brisk._transport.aio import connect_tcp, start_connection, upgrade_if_h2
    from brisk._transport.tls import ssl_context

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
        raise proxy_failure(exc, info, target) from None
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


async def _tunnel(conn: Connection, info: ProxyInfo, url: URL, options: SendOptions) -> None:
    from brisk._transport.aio import _TimedOut

    target = f"{url.host}:{url.effective_port}"
    parser = conn.parser = ResponseParser("CONNECT", options.limits)
    assert conn.transport is not None
    conn.transport.write(connect_request(info, url.host, url.effective_port, options.config))
    try:
        while parser.head is None:
            if conn.error is not None:
                raise conn.error
            if conn.eof:
                parser.feed_eof()
            await conn.wait(
                budget(
                    options.timeout.connect,
                    options.deadline,
                    ConnectTimeout,
                    f"opening a tunnel through {info.describe()}",
                )
            )
    except _TimedOut:
        raise ConnectTimeout(
            timeout_message(f"opening a tunnel through {info.describe()}", options.timeout.connect, options)
        ) from None
    except ConnectTimeout:
        raise
    except RequestException as exc:
        raise proxy_failure(exc, info, target) from None
    finally:
        conn.parser = None
    read_connect_response(parser, info, target)


async def _start_tls(
    conn: Connection, host: str, options: SendOptions, loop: asyncio.AbstractEventLoop
) -> None:
    import ssl

    from brisk._transport.tls import describe_ssl_error, ssl_context
    from brisk.exceptions import SSLError

    assert conn.transport is not None
    timeout = budget(
        options.timeout.connect, options.deadline, ConnectTimeout, f"the TLS handshake with {host}"
    )
    try:
        transport = await loop.start_tls(
            conn.transport,
            conn,
            ssl_context(options.config),
            server_hostname=host,
            ssl_handshake_timeout=timeout,
        )
    except ssl.SSLError as exc:
        raise SSLError(describe_ssl_error(exc, host)) from exc
    except TimeoutError:
        raise ConnectTimeout(
            timeout_message(f"the TLS handshake with {host}", options.timeout.connect, options)
        ) from None
    conn.transport = transport


async def _socks_connect(info: ProxyInfo, url: URL, options: SendOptions) -> socket.socket:
    proxy: Any = socks_proxy(info, asynchronous=True)
    from python_socks import ProxyError as SocksError
    from python_socks import ProxyTimeoutError

    target = f"{url.host}:{url.effective_port}"
    timeout = budget(
        options.timeout.connect, options.deadline, ConnectTimeout, f"connecting through {info.describe()}"
    )
    try:
        sock: socket.socket = await proxy.connect(url.host, url.effective_port, timeout=timeout)
    except ProxyTimeoutError:
        raise ConnectTimeout(
            timeout_message(f"connecting through {info.describe()}", options.timeout.connect, options)
        ) from None
    except (SocksError, OSError) as exc:
        raise ProxyError(f"the proxy {info.describe()} could not connect to {target}: {exc}") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
