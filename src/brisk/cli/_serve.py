"""``brisk serve``: brisk's httpbin-compatible test app (:mod:`brisk.testing.app`) on a local port.

Plain HTTP/1.1 by default (HTTP/2 with prior knowledge works too); ``--tls`` serves HTTPS with a
certificate from a throwaway certificate authority whose PEM file is printed, ``--http2`` offers h2 over
TLS (ALPN) and implies ``--tls``. Runs until Ctrl-C or SIGTERM. Needs the ``server`` extra (hypercorn,
trustme).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["serve_command"]

DESCRIPTION = """\
Serve brisk's httpbin-compatible test application on this machine, until Ctrl-C.

endpoints (httpbin's): /get /post /put /patch /delete /anything  /status/{codes}  /delay/{s}
  /redirect/{n}  /cookies  /cookies/set?k=v  /basic-auth/{user}/{pass}  /digest-auth/auth/{user}/{pass}
  /bearer  /gzip /deflate /brotli /zstd  /bytes/{n}  /stream/{n}  /drip  /range/{n}  /sse  /upload ...
  WebSocket: /ws/echo (echoes every message)  /ws/close/{code}
  (GET / lists them all)"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        from brisk.cli._args import UsageError

        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="brisk serve",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (8000)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a certificate from a local CA")
    p.add_argument("--http2", action="store_true", help="offer HTTP/2 over TLS (implies --tls)")
    p.add_argument(
        "--http3",
        action="store_true",
        help="serve HTTP/3 over QUIC too, on the same port over UDP (implies --tls)",
    )
    return p


def _server_class() -> Any:
    """ServerThread, able to listen on a chosen port (ServerThread itself always binds port 0)."""
    import socket

    from brisk.testing.server import ServerThread

    class FixedPortServer(ServerThread):
        def __init__(self, *args: Any, port: int, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.wanted_port = port
            self._fixed: socket.socket | None = None

        def _config(self, sock: socket.socket) -> Any:
            if self.wanted_port:
                family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
                fixed = socket.socket(family, socket.SOCK_STREAM)
                try:
                    fixed.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    fixed.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    fixed.bind((self.host, self.wanted_port))
                except OSError:
                    fixed.close()
                    raise
                self._fixed, self.port, sock = fixed, self.wanted_port, fixed
                if self._udp is not None:  # HTTP/3 on the same port number, when UDP has it free
                    udp = socket.socket(family, socket.SOCK_DGRAM)
                    try:
                        udp.bind((self.host, self.wanted_port))
                    except OSError:
                        udp.close()
                    else:
                        self._udp.close()
                        self._udp, self.quic_port = udp, self.wanted_port
            return super()._config(sock)

        def stop(self, timeout: float = 10.0) -> None:
            super().stop(timeout)
            if self._fixed is not None:
                self._fixed.close()
                self._fixed = None

    return FixedPortServer


def serve_command(argv: list[str]) -> int:
    """Run ``brisk serve`` with ``argv``; return the exit status."""
    from brisk.cli._args import EXIT_CODES, UsageError
    from brisk.cli._command import error_line

    try:
        args = _parser().parse_args(argv)
        if not 0 <= args.port <= 65535:
            raise UsageError("--port must be between 0 and 65535")
    except UsageError as exc:
        error_line(f"{exc} (see 'brisk serve --help')")
        return EXIT_CODES["usage"]
    tls = args.tls or args.http2 or args.http3
    try:
        from brisk.testing.app import App

        server = _server_class()(
            App(), tls=tls, http2=args.http2, http3=args.http3, host=args.host, port=args.port
        )
        server.start()  # hypercorn and trustme are imported here
    except ImportError as exc:
        error_line(f"brisk serve needs the 'server' extra (pip install 'brisk[server]'): {exc}")
        return EXIT_CODES["error"]
    except (OSError, RuntimeError) as exc:
        cause = exc.__cause__ or exc
        error_line(f"cannot serve on {args.host}:{args.port}: {getattr(cause, 'strerror', None) or cause}")
        return EXIT_CODES["error"]
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _announce(server, tls, args.http2, args.http3)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
    sys.stdout.write("stopped\n")
    sys.stdout.flush()
    return 0


def _announce(server: Any, tls: bool, http2: bool, http3: bool = False) -> None:
    protocols = "HTTP/2 (ALPN) and HTTP/1.1" if http2 else "HTTP/1.1"
    if http3:
        protocols += f"; HTTP/3 on UDP port {server.quic_port} (Alt-Svc)"
    if not tls:
        protocols += "; HTTP/2 with prior knowledge"
    lines = [f"brisk test server on {server.url}  ({protocols})"]
    if server.host == "127.0.0.1":
        lines.append(f"  also {server.url.replace('127.0.0.1', 'localhost')}")
    if tls:
        lines.append(f"  CA bundle: {server.ca_bundle}")
        lines.append(f"  try: brisk --verify {server.ca_bundle} {server.url}/get")
        lines.append(f"       curl --cacert {server.ca_bundle} {server.url}/get")
        if http3:
            h3_url = server.url.rsplit(":", 1)[0] + f":{server.quic_port}"
            lines.append(f"       brisk --http3 --verify {server.ca_bundle} {h3_url}/get")
    else:
        lines.append(f"  try: brisk {server.url}/get")
    lines.append("Ctrl-C stops it.")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
