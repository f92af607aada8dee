"""Opening a connection on asyncio: DNS, TCP, TLS, and the switch to HTTP/2 when the server chose it
(proxies come through here too)."""

from __future__ import annotations

import asyncio
import errno
import socket
import time

from brisk._core.url import UNIX_SCHEME
from brisk._transport.asyncio.h1 import AsyncH1Connection
from brisk._transport.asyncio.waiting import TimedOut, bounded
from brisk._transport.connect import AddressLoop
from brisk._transport.deadline import connecting
from brisk._transport.errors import handshake_failed
from brisk._transport.tls import check_pins, ssl_context
from brisk._transport.wire import cleartext_h2

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._core.url import URL
    from brisk._transport.asyncio.h2 import AsyncH2Connection
    from brisk._transport.base import SendOptions, Timings

__all__ = ["connect_tcp", "connect_unix", "open_connection", "start_connection", "upgrade_if_h2"]


async def open_connection(
    url: URL, options: SendOptions, timings: Timings, loop: asyncio.AbstractEventLoop
) -> AsyncH1Connection | AsyncH2Connection:
    """A connection to ``url``'s origin, TLS for https, speaking what the server chose."""
    config = options.config
    if config.uds is not None or url.scheme == UNIX_SCHEME:  # a Unix socket: no DNS, TCP or proxy
        tls = ssl_context(config) if url.scheme in ("https", "wss") else None
        sock = await connect_unix(url, options, timings, loop)
        conn = await start_connection(sock, tls, url.host, options, timings, loop)
        opened = upgrade_if_h2(conn, options, loop, cleartext_h2(config, url))
    elif config.proxy is not None:
        from brisk._transport.asyncio.proxy import open_through_proxy  # proxies are rare: loaded when used

        opened = await open_through_proxy(url, options, timings, loop)
    else:
        # The TLS context before connecting: a bad CA path must not leave a socket open.
        tls = ssl_context(config) if url.scheme in ("https", "wss") else None
        sock = await connect_tcp(url.host, url.effective_port, options, timings, loop)
        conn = await start_connection(sock, tls, url.host, options, timings, loop)
        opened = upgrade_if_h2(conn, options, loop, cleartext_h2(config, url))
    check_pins(opened.transport, url, config)
    if not isinstance(opened, AsyncH1Connection):
        await opened.ready(options)
    return opened


async def connect_tcp(
    host: str, port: int, options: SendOptions, timings: Timings, loop: asyncio.AbstractEventLoop
) -> socket.socket:
    """Resolve ``host`` (within the connect timeout) and connect non-blocking sockets to its addresses,
    racing them as Happy Eyeballs does (see ``brisk._transport.connect``); the first to accept wins."""
    attempts = AddressLoop(host, port, options, timings)
    infos = attempts.addresses
    if infos is None:
        # The lookup (getaddrinfo, or the session's resolver, which is a plain function) runs in the
        # loop's default executor, as loop.getaddrinfo does.
        try:
            infos = await bounded(loop.run_in_executor(None, attempts.lookup), attempts.deadline)
        except TimedOut:
            raise attempts.resolving_timed_out() from None
    try:
        if attempts.resolved(infos) == 1:
            return await _connect_one(attempts, loop)
        return await _race(attempts, loop)
    finally:
        attempts.close()


async def _connect_one(attempts: AddressLoop, loop: asyncio.AbstractEventLoop) -> socket.socket:
    started = attempts.start_next()
    if started is not None:
        sock, address = started
        sock.setblocking(False)
        try:
            await bounded(loop.sock_connect(sock, address), attempts.deadline)
        except BaseException as exc:
            attempts.failed(sock, TimeoutError() if isinstance(exc, TimedOut) else exc)
        else:
            won = attempts.connected(sock)
            if won is not None:
                return won
    attempts.wait_time()  # raises the final error
    raise AssertionError("unreachable")


async def _race(attempts: AddressLoop, loop: asyncio.AbstractEventLoop) -> socket.socket:
    """Several addresses: one task per attempt, staggered, waited for together."""
    running: dict[asyncio.Future[None], socket.socket] = {}
    won: socket.socket | None = None
    try:
        while True:
            while (started := attempts.start_next()) is not None:
                sock, address = started
                sock.setblocking(False)
                running[asyncio.ensure_future(loop.sock_connect(sock, address))] = sock
            wait = attempts.wait_time()
            done, _ = await asyncio.wait(running, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                sock = running.pop(task)
                error = task.exception()
                if error is None:
                    won = attempts.connected(sock)
                    if won is not None:
                        return won
                else:
                    attempts.failed(sock, error)
            expired = attempts.expired()
            if expired:
                await _stop([task for task, sock in running.items() if sock in expired])
                for task in [task for task, sock in running.items() if sock in expired]:
                    attempts.failed(running.pop(task), TimeoutError())
    finally:
        # The others stop before their sockets are closed: each unregisters itself from the loop.
        try:
            await _stop(list(running))
        except BaseException:
            # Cancelled meanwhile (a timeout around the request): the error replaces the return value, and
            # the winner, no longer among the attempts that ``close`` closes, would be nobody's.
            if won is not None:
                won.close()
            raise


async def _stop(tasks: list[asyncio.Future[None]]) -> None:
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
        for task in tasks:  # an attempt that failed meanwhile: its error is not news any more
            if not task.cancelled():
                task.exception()


async def connect_unix(
    url: URL, options: SendOptions, timings: Timings, loop: asyncio.AbstractEventLoop
) -> socket.socket:
    """Connect a non-blocking socket to the Unix socket that ``url`` or the session names, within the
    connect timeout."""
    from brisk._transport.unix import UnixConnect, unix_socket_path  # loaded when a Unix socket is used

    path = unix_socket_path(url, options.config)
    assert path is not None
    start = time.monotonic()
    attempt = UnixConnect(path, options, start)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        try:  # a local connect completes or fails at once (Linux: EAGAIN when the listen backlog is full)
            sock.connect(path)
        except BlockingIOError as exc:
            if exc.errno != errno.EINPROGRESS:
                raise
            await bounded(loop.sock_connect(sock, path), attempt.deadline)
    except BaseException as exc:
        sock.close()
        raise attempt.failed(exc, timed_out=isinstance(exc, TimedOut))  # noqa: B904 (the cause is set)
    timings.connect = time.monotonic() - start
    return sock


async def start_connection(
    sock: socket.socket,
    ssl_context: Any,
    host: str,
    options: SendOptions,
    timings: Timings,
    loop: asyncio.AbstractEventLoop,
) -> AsyncH1Connection:
    """Wrap a connected socket in an AsyncH1Connection protocol, running the TLS handshake when asked (see
    ``upgrade_if_h2`` for what follows when the server chose HTTP/2)."""
    start = time.monotonic()
    try:
        if ssl_context is None:
            _, conn = await loop.create_connection(lambda: AsyncH1Connection(loop), sock=sock)
        else:
            phase = connecting(f"the TLS handshake with {host}")
            timeout = phase.budget(options)
            try:
                _, conn = await loop.create_connection(
                    lambda: AsyncH1Connection(loop),
                    sock=sock,
                    ssl=ssl_context,
                    server_hostname=host,
                    ssl_handshake_timeout=timeout,
                )
            except (TimeoutError, ConnectionAbortedError):  # asyncio aborts a handshake that takes too long
                raise phase.timed_out(options) from None
            except OSError as exc:  # the certificate, the protocol, a reset: as the sync transport says
                raise handshake_failed(exc, host) from exc
            timings.tls = time.monotonic() - start
    except BaseException:
        sock.close()
        raise
    return conn


def upgrade_if_h2(
    conn: AsyncH1Connection, options: SendOptions, loop: asyncio.AbstractEventLoop, cleartext: bool = False
) -> AsyncH1Connection | AsyncH2Connection:
    """Swap the protocol of a fresh connection for HTTP/2: over TLS when ALPN chose h2, over plain TCP when
    ``cleartext`` (HTTP/2 by prior knowledge)."""
    transport = conn.transport
    assert transport is not None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is not None:
        if ssl_object.selected_alpn_protocol() != "h2":
            return conn
    elif not cleartext:
        return conn
    from brisk._transport.asyncio.h2 import AsyncH2Connection  # loaded once a server speaks HTTP/2

    h2conn = AsyncH2Connection(loop, transport, options.limits)
    transport.set_protocol(h2conn)
    for data in conn.early:  # what the server sent before the swap (its SETTINGS, usually)
        h2conn.data_received(data)
    return h2conn
