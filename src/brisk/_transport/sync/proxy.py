"""Opening a connection through a proxy with blocking sockets (HTTP CONNECT, forwarding, SOCKS)."""

from __future__ import annotations

import socket
import ssl

from brisk._protocol.http11 import ResponseParser
from brisk._transport.proxy import ProxyInfo, parse_proxy
from brisk._transport.sync.connect import connect_tcp, wrap_tls
from brisk._transport.tls import describe_ssl_error, ssl_context
from brisk.exceptions import ConnectTimeout, RequestException, SSLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, cast

    from brisk._core.url import URL
    from brisk._transport.base import SendOptions, Timings
else:
    from brisk._core.typing_lite import cast

__all__ = ["TunnelTLS", "open_through_proxy"]


def open_through_proxy(url: URL, options: SendOptions, timings: Timings) -> socket.socket:
    """A socket to ``url``'s origin through the configured proxy (TLS-wrapped for https; an https URL through
    an https proxy gets a ``TunnelTLS``, which has the socket methods the transport uses)."""
    config = options.config
    assert config.proxy is not None
    info = parse_proxy(config.proxy)
    target = f"{url.host}:{url.effective_port}"
    if info.is_socks:
        sock: Any = _socks_connect(info, url, options)
    else:
        try:
            sock = connect_tcp(info.host, info.port, options, timings)
            if info.scheme == "https":
                sock = wrap_tls(sock, info.host, config, options, timings, alpn=("http/1.1",))
        except ConnectTimeout:
            raise
        except RequestException as exc:
            raise info.failure(exc, target) from None
        if url.scheme == "http":
            return cast(socket.socket, sock)  # requests are forwarded in absolute form on this connection
        try:
            _tunnel(sock, info, url, options)
        except BaseException:
            sock.close()
            raise
    if url.scheme in ("https", "wss"):
        if isinstance(sock, ssl.SSLSocket):
            return cast(socket.socket, TunnelTLS.wrap(sock, url.host, options, timings))
        sock = wrap_tls(sock, url.host, config, options, timings)
    return cast(socket.socket, sock)


def _tunnel(sock: socket.socket, info: ProxyInfo, url: URL, options: SendOptions) -> None:
    target = f"{url.host}:{url.effective_port}"
    parser = ResponseParser("CONNECT", options.limits)
    phase = info.opening_tunnel()
    try:
        sock.settimeout(phase.budget(options))
        sock.sendall(info.tunnel_request(url.host, url.effective_port, options.config))
        while parser.head is None:
            data = sock.recv(65536)
            if not data:
                parser.feed_eof()
            parser.feed(data)
    except TimeoutError:
        raise phase.timed_out(options) from None
    except ConnectTimeout:
        raise
    except (RequestException, OSError) as exc:
        raise info.failure(exc, target) from None
    info.check_tunnel_answer(parser, target)


def _socks_connect(info: ProxyInfo, url: URL, options: SendOptions) -> socket.socket:
    proxy: Any = info.socks_connector(asynchronous=False)
    timeout = info.socks_budget(options)
    try:
        sock: socket.socket = proxy.connect(url.host, url.effective_port, timeout=timeout)
    except Exception as exc:
        raise info.socks_failure(exc, url, options) from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class TunnelTLS:
    """TLS inside a TLS connection (an https URL through an https proxy), with the socket methods the sync
    transport uses. Python's ssl cannot wrap an SSLSocket again, so the inner session runs on memory BIOs."""

    def __init__(
        self, outer: ssl.SSLSocket, inner: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO
    ) -> None:
        self._outer = outer
        self._inner = inner
        self._incoming = incoming
        self._outgoing = outgoing

    @classmethod
    def wrap(cls, outer: ssl.SSLSocket, host: str, options: SendOptions, timings: Timings) -> TunnelTLS:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        inner = ssl_context(options.config).wrap_bio(incoming, outgoing, server_hostname=host)
        tunnel = cls(outer, inner, incoming, outgoing)
        try:
            tunnel._run(inner.do_handshake)
        except ssl.SSLError as exc:
            outer.close()
            raise SSLError(describe_ssl_error(exc, host)) from exc
        except BaseException:
            outer.close()
            raise
        return tunnel

    def _run(self, operation: Any, *args: Any) -> Any:
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                self._flush()
                data = self._outer.recv(65536)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            self._flush()
            return result

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self._outer.sendall(data)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            sent = self._run(self._inner.write, view)
            view = view[sent:]

    def recv(self, size: int) -> bytes:
        try:
            data: bytes = self._run(self._inner.read, size)
        except ssl.SSLZeroReturnError:
            return b""
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        """Decrypt straight into ``buffer`` (the direct reads of large bodies use this)."""
        try:
            got: int = self._run(self._inner.read, nbytes or len(buffer), buffer)
        except ssl.SSLZeroReturnError:
            return 0
        return got

    def settimeout(self, timeout: float | None) -> None:
        self._outer.settimeout(timeout)

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The origin's certificate (the ``pin`` setting checks its public key)."""
        return self._inner.getpeercert(binary_form)

    def fileno(self) -> int:
        return self._outer.fileno()

    def pending(self) -> int:
        """Bytes readable without waiting on the socket: decrypted ones, and received ones not yet decrypted
        (the outer connection may have delivered several inner records at once)."""
        return self._inner.pending() + self._incoming.pending + self._outer.pending()

    def selected_alpn_protocol(self) -> str | None:
        return self._inner.selected_alpn_protocol()

    # The connection's facts (brisk._transport.facts): the addresses are the proxy's, the TLS the origin's.

    def getpeername(self) -> Any:
        return self._outer.getpeername()

    def getsockname(self) -> Any:
        return self._outer.getsockname()

    def version(self) -> str | None:
        return self._inner.version()

    def cipher(self) -> tuple[str, str, int] | None:
        return self._inner.cipher()

    def close(self) -> None:
        self._outer.close()
