"""Serve an ASGI application with hypercorn on a loopback port, in a background thread.

::

    from brisk.testing.server import ServerThread

    with ServerThread() as server:                       # brisk.testing.app over plain HTTP/1.1
        urllib.request.urlopen(server.url + "/get")

    with ServerThread(tls=True) as server:               # HTTPS; ALPN offers h2 and http/1.1
        context = ssl.create_default_context(cafile=server.ca_bundle)

The listening socket is bound by this module to port 0 of the loopback address, so the operating system
picks a free port and there is no window in which another process could take it. :meth:`ServerThread.start`
returns once hypercorn is accepting on it; :meth:`ServerThread.stop` closes idle connections at once, gives
requests in flight ``graceful_timeout`` seconds, then cancels them and joins the thread.

WSGI applications are served too (``interface="wsgi"``), through hypercorn's WSGI support; each is wrapped
so that an empty response iterable (a 204, a 304, any HEAD answer) still starts a response, which
hypercorn (0.17, 0.18) otherwise turns into a 500.

With ``uds=PATH`` the server listens on a Unix socket at that path instead (hypercorn's ``--bind
unix:PATH``); :attr:`ServerThread.url` is then the ``http+unix://`` URL of the socket (over TLS, ``https://``
and the certificate's first name, for ``Session(uds=PATH)``).

For TLS a throwaway trustme certificate authority (or the one passed in) issues a certificate for
``localhost``, ``127.0.0.1`` and ``::1``; :attr:`ServerThread.ca_bundle` is the path of the CA's PEM file.
Plain HTTP also accepts HTTP/2 with prior knowledge (hypercorn's h2c support); ``http2`` only decides
what ALPN offers over TLS.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeAlias

if TYPE_CHECKING:
    import trustme

    from brisk.testing._http import Receive, Scope, Send

ASGIApp: TypeAlias = "Callable[[Scope, Receive, Send], Awaitable[None]]"
WSGIApp: TypeAlias = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

__all__ = ["DEFAULT_IDENTITIES", "ServerThread"]

#: The names a TLS server's certificate covers unless told otherwise.
DEFAULT_IDENTITIES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")

logger = logging.getLogger("brisk.testing.server")


class ServerThread:
    """An ASGI app served by hypercorn on ``host``:(free port) in a daemon thread; a context manager.

    :param app: the ASGI 3 application (by default a new :class:`brisk.testing.app.App`), or a WSGI one.
    :param interface: ``"asgi"`` or ``"wsgi"``: how to call *app*.
    :param tls: serve HTTPS with a certificate from ``ca`` (a new trustme CA when None).
    :param http2: offer ``h2`` through ALPN (TLS only); with False only ``http/1.1`` is offered.
    :param http3: also serve HTTP/3 over QUIC (TLS only; needs aioquic) on a UDP port of the same host,
        ``quic_port`` (the TCP port's number when that is free); TCP responses carry ``Alt-Svc: h3=...``.
    :param host: the loopback address to bind, ``127.0.0.1`` or ``::1``.
    :param uds: the path of a Unix socket to listen on instead of a TCP port (removed on :meth:`stop`).
    :param identities: the host names and addresses the TLS certificate covers.
    :param raw_headers: pass HTTP/1.1 header names to the app in the case the client sent them. The ASGI
        spec asks for lower case, which most frameworks rely on; None means "on for brisk's own App only".
    :param keep_alive_timeout: seconds an idle keep-alive connection stays open.
    :param graceful_timeout: seconds :meth:`stop` lets requests in flight finish before cancelling them.
    :param startup_timeout: seconds :meth:`start` waits for the server to accept connections.
    :param config: further ``hypercorn.config.Config`` attributes to set, by name.

    >>> with ServerThread(tls=True) as server:  # doctest: +SKIP
    ...     server.url, server.ca_bundle
    ('https://127.0.0.1:50123', '/tmp/brisk-server-x1y2/ca.pem')
    """

    def __init__(
        self,
        app: ASGIApp | WSGIApp | None = None,
        *,
        interface: Literal["asgi", "wsgi"] = "asgi",
        tls: bool = False,
        http2: bool = True,
        http3: bool = False,
        host: str = "127.0.0.1",
        uds: str | None = None,
        ca: trustme.CA | None = None,
        identities: Sequence[str] = DEFAULT_IDENTITIES,
        raw_headers: bool | None = None,
        keep_alive_timeout: float = 5.0,
        graceful_timeout: float = 1.0,
        startup_timeout: float = 10.0,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        if app is None:
            from brisk.testing.app import App

            app = App()
        if raw_headers is None:
            from brisk.testing.app import App

            raw_headers = isinstance(app, App)
        if interface == "wsgi":
            app = _start_empty_responses(app)  # type: ignore[arg-type]
        elif interface != "asgi":
            raise ValueError(f"interface must be 'asgi' or 'wsgi', not {interface!r}")
        self.app = app
        self.interface = interface
        self.tls = tls
        self.http2 = http2
        self.http3 = http3
        if http3 and not tls:
            raise ValueError("http3=True needs tls=True (HTTP/3 is always encrypted)")
        #: The UDP port HTTP/3 is served on (http3=True), else 0.
        self.quic_port = 0
        self._udp: socket.socket | None = None
        self.host = host
        self.uds = uds
        self.ca = ca
        self.identities = tuple(identities)
        self.raw_headers = raw_headers
        self.keep_alive_timeout = keep_alive_timeout
        self.graceful_timeout = graceful_timeout
        self.startup_timeout = startup_timeout
        self.config_overrides = dict(config or {})
        self.port = 0
        #: Path of the PEM file of the CA that issued the server's certificate (TLS only).
        self.ca_bundle: str | None = None
        #: Paths of the server's certificate chain and private key (TLS only).
        self.cert_file: str | None = None
        self.key_file: str | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._serving = threading.Event()
        self._error: BaseException | None = None

    # -- addresses -----------------------------------------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        """``scheme://host:port`` without a trailing slash, e.g. ``http://127.0.0.1:54321``; on a Unix socket
        ``http+unix://`` and the percent-encoded path (over TLS ``https://`` and the certificate's name)."""
        if self.uds is not None:
            if self.tls:
                return f"https://{self.identities[0]}"
            from urllib.parse import quote

            return f"http+unix://{quote(self.uds, safe='')}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    # -- life cycle ---------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind, start hypercorn in a daemon thread and return once it accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the server was started already")
        self._serving.clear()
        self._error = None
        if self.uds is not None:
            family = socket.AF_UNIX
        else:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if self.uds is not None:
                sock.bind(self.uds)
            else:
                # As hypercorn does for the sockets it binds itself (accepted sockets inherit it): without
                # it, Nagle's algorithm and delayed ACKs add 40 ms to every response written in two parts.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.bind((self.host, 0))
                self.port = sock.getsockname()[1]
                if self.http3:
                    self._udp = socket.socket(family, socket.SOCK_DGRAM)
                    try:  # the TCP port's number, so one URL serves both, when it is free over UDP
                        self._udp.bind((self.host, self.port))
                    except OSError:
                        self._udp.bind((self.host, 0))
                    self.quic_port = self._udp.getsockname()[1]
            config = self._config(sock)
        except BaseException:
            sock.close()
            if self._udp is not None:
                self._udp.close()
                self._udp = None
            self._cleanup_files()
            raise
        self._sock = sock
        self._thread = threading.Thread(
            target=self._run, args=(config,), name=f"brisk-server-{self.port}", daemon=True
        )
        self._thread.start()
        if not self._serving.wait(self.startup_timeout):
            self.stop()
            raise RuntimeError(f"the server on {self.url} did not start within {self.startup_timeout} s")
        if self._error is not None:
            error = self._error
            self.stop()
            raise RuntimeError(f"the server on {self.url} failed to start") from error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, join the thread (waiting at most *timeout* seconds) and delete the TLS files."""
        thread, loop, event = self._thread, self._loop, self._stop_event
        if thread is not None:
            if loop is not None and event is not None:
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # the loop has closed already: the thread is finishing by itself
                    pass
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError(f"the server thread on {self.url} did not stop within {timeout} s")
            self._thread = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            if self.uds is not None:
                Path(self.uds).unlink(missing_ok=True)
        self._cleanup_files()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "stopped"
        return f"<ServerThread {self.url} {state}>"

    # -- internals ----------------------------------------------------------------------------------------

    def _config(self, sock: socket.socket) -> Any:
        from hypercorn.config import Config, Sockets

        udp = self._udp
        if udp is not None:
            _h3_streams_survive_resets()

        class BoundConfig(Config):
            """Serves on the socket bound above instead of binding its own."""

            def create_sockets(self) -> Sockets:
                if self.ssl_enabled:
                    quic = [udp] if udp is not None else []
                    self._set_quic_addresses(quic)
                    return Sockets([sock], [], quic)
                return Sockets([], [sock], [])

        config = BoundConfig()
        config.accesslog = None
        config.errorlog = logger
        config.keep_alive_timeout = self.keep_alive_timeout
        config.graceful_timeout = self.graceful_timeout
        config.h11_pass_raw_headers = self.raw_headers
        config.alpn_protocols = ["h2", "http/1.1"] if self.http2 else ["http/1.1"]
        if self.tls:
            config.certfile, config.keyfile = self._write_tls_files()
        for name, value in self.config_overrides.items():
            if not hasattr(config, name):
                raise TypeError(f"hypercorn's Config has no setting {name!r}")
            setattr(config, name, value)
        return config

    def _write_tls_files(self) -> tuple[str, str]:
        import trustme

        if self.ca is None:
            self.ca = trustme.CA()
        leaf = self.ca.issue_cert(*self.identities)
        self._tempdir = tempfile.TemporaryDirectory(prefix="brisk-server-")
        directory = Path(self._tempdir.name)
        self.ca_bundle = str(directory / "ca.pem")
        self.cert_file = str(directory / "server.pem")
        self.key_file = str(directory / "server.key")
        self.ca.cert_pem.write_to_path(self.ca_bundle)
        Path(self.cert_file).write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(self.key_file)
        return self.cert_file, self.key_file

    def _cleanup_files(self) -> None:
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def _run(self, config: Any) -> None:
        try:
            asyncio.run(self._serve(config))
        except BaseException as exc:  # reported by start(); a thread must not die with a traceback
            self._error = exc
            logger.exception("server on %s failed", self.url)
        finally:
            self._serving.set()

    async def _serve(self, config: Any) -> None:
        from hypercorn.asyncio import serve

        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(self._loop_exception)
        _listeners_close_without_waiting(self._loop)
        self._stop_event = asyncio.Event()
        datagram_transports = _datagram_transports_recorded(self._loop) if self._udp is not None else []
        try:
            await serve(self.app, config, shutdown_trigger=self._until_stopped, mode=self.interface)  # type: ignore[arg-type]
        finally:
            for transport in datagram_transports:  # hypercorn (0.18) leaves its QUIC transport open
                transport.close()

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        stopping = self._stop_event is not None and self._stop_event.is_set()
        if stopping and isinstance(context.get("exception"), asyncio.CancelledError):
            # Python 3.11's asyncio.start_server calls task.exception() on a connection task that hypercorn
            # cancelled when the graceful period ran out (3.12 checks task.cancelled() first): harmless.
            return
        loop.default_exception_handler(context)

    async def _until_stopped(self) -> None:
        # hypercorn calls the shutdown trigger once its listening sockets accept connections.
        self._serving.set()
        assert self._stop_event is not None
        await self._stop_event.wait()


def _datagram_transports_recorded(loop: asyncio.AbstractEventLoop) -> list[asyncio.BaseTransport]:
    """The datagram transports *loop* creates from now on (this thread's loop only), to close at the end."""
    made: list[asyncio.BaseTransport] = []
    create = loop.create_datagram_endpoint

    async def create_and_record(*args: Any, **kwargs: Any) -> Any:
        transport, protocol = await create(*args, **kwargs)
        made.append(transport)
        return transport, protocol

    loop.create_datagram_endpoint = create_and_record  # type: ignore[method-assign]
    return made


def _h3_streams_survive_resets() -> None:
    """Make hypercorn's HTTP/3 server drop what an app writes to a stream the client cancelled.

    hypercorn (0.17, 0.18) ignores a client's RESET_STREAM/STOP_SENDING over HTTP/3: the app goes on
    writing, aioquic refuses ("Cannot send data after the stream was reset"), and the error ends the whole
    QUIC server task, so one cancelled request (a client's read timeout) took the server down. Patched
    once per process, for servers that serve HTTP/3.
    """
    from hypercorn.protocol.h3 import H3Protocol

    if getattr(H3Protocol, "_brisk_survives_resets", False):
        return
    original = H3Protocol.stream_send

    async def stream_send(self: Any, event: Any) -> None:
        try:
            await original(self, event)
        except (ValueError, RuntimeError) as exc:
            if "stream" not in str(exc):
                raise

    H3Protocol.stream_send = stream_send  # type: ignore[method-assign]
    H3Protocol._brisk_survives_resets = True  # type: ignore[attr-defined]


def _listeners_close_without_waiting(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``wait_closed()`` of the servers *loop* creates return once they stop listening, as on 3.11.

    On stop, hypercorn (0.17, 0.18) closes its listening servers and awaits ``Server.wait_closed()``, and
    only then gives requests in flight ``graceful_timeout`` seconds before cancelling them. From Python
    3.12.1 on, ``wait_closed()`` also waits for every accepted connection to close (CPython gh-79033), so a
    response still streaming kept :meth:`ServerThread.stop` waiting until it ended (hypercorn issue 308).
    With this, the graceful period holds on every Python. Only this thread's own loop is changed.
    """
    create_server = loop.create_server

    async def listen_closed() -> None:
        return None

    async def create_server_closing_without_waiting(*args: Any, **kwargs: Any) -> asyncio.Server:
        server = await create_server(*args, **kwargs)
        server.wait_closed = listen_closed  # type: ignore[method-assign]
        return server

    loop.create_server = create_server_closing_without_waiting  # type: ignore[method-assign]


def _start_empty_responses(app: WSGIApp) -> WSGIApp:
    """Wrap a WSGI app so that a response with an empty body iterable still yields one (empty) chunk."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        result = app(environ, start_response)
        try:
            empty = True
            for chunk in result:
                empty = False
                yield chunk
            if empty:
                yield b""
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    return wrapped
