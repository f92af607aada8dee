"""Opening a connection with blocking sockets: DNS, TCP, TLS (proxies come through here too)."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from brisk._transport._common import budget, literal_address, timeout_message
from brisk.exceptions import ConnectionError, ConnectionRefused, ConnectTimeout, NameResolutionError, SSLError

if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._transport.base import ConnectionConfig, SendOptions, Timings

__all__ = ["connect_tcp", "open_socket", "wrap_tls"]


def open_socket(url: URL, options: SendOptions, timings: Timings) -> socket.socket:
    """A connected socket to ``url``'s origin, TLS-wrapped for https."""
    config = options.config
    if config.proxy is not None:
        from brisk._transport._proxy_sync import open_through_proxy

        return open_through_proxy(url, options, timings)
    sock = connect_tcp(url.host, url.effective_port, options, timings)
    if url.scheme in ("https", "wss"):
        sock = wrap_tls(sock, url.host, config, options, timings)
    return sock


def connect_tcp(host: str, port: int, options: SendOptions, timings: Timings) -> socket.socket:
    """Resolve ``host`` and connect to the first address that accepts, within the connect timeout."""
    start = time.monotonic()
    phase = options.timeout.connect
    connect_deadline = None if phase is None else start + phase
    deadline = options.deadline
    if connect_deadline is not None and (deadline is None or connect_deadline < deadline):
        deadline = connect_deadline
    infos = literal_address(host, port)
    if infos is None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(f"could not resolve host {host!r}: {exc.strerror}") from None
    resolved = time.monotonic()
    timings.dns = resolved - start
    last_error: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(budget(None, deadline, ConnectTimeout, f"connecting to {host}:{port}"))
            sock.connect(address)
        except TimeoutError:
            sock.close()
            raise ConnectTimeout(timeout_message(f"connecting to {host}:{port}", phase, options)) from None
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        timings.connect = time.monotonic() - resolved
        return sock
    if isinstance(last_error, ConnectionRefusedError):
        raise ConnectionRefused(f"connection refused by {host}:{port} (nothing listens there)") from None
    raise ConnectionError(f"could not connect to {host}:{port}: {last_error}") from last_error


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
    import ssl

    from brisk._transport.tls import describe_ssl_error, ssl_context

    start = time.monotonic()
    try:
        ctx = ssl_context(config, alpn=alpn)
        sock.settimeout(
            budget(
                options.timeout.connect, options.deadline, ConnectTimeout, f"the TLS handshake with {host}"
            )
        )
        tls = ctx.wrap_socket(sock, server_hostname=host)
    except TimeoutError:
        sock.close()
        raise ConnectTimeout(
            timeout_message(f"the TLS handshake with {host}", options.timeout.connect, options)
        ) from None
    except ssl.SSLError as exc:
        sock.close()
        raise SSLError(describe_ssl_error(exc, host)) from exc
    except OSError as exc:
        sock.close()
        if isinstance(exc, ConnectTimeout | SSLError):
            raise
        raise SSLError(f"the connection broke during the TLS handshake with {host!r}: {exc}") from exc
    except BaseException:
        sock.close()
        raise
    timings.tls = time.monotonic() - start
    return tls
