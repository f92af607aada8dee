"""Proxies for the proxy tests: two real proxy programs, two small relays of our own, hostile scripts.

- :class:`PproxyServer` (fixture ``pproxy``): one pproxy process with several listeners: HTTP with and without
  credentials, SOCKS4, SOCKS5 with and without credentials, and HTTP over TLS (an ``https://`` proxy whose
  certificate comes from the session CA). pproxy re-checks credentials on every connection (``--auth 0``).
- :class:`TinyProxy` (fixtures ``tinyproxy`` and ``tinyproxy_auth``): tinyproxy, a second, independent
  HTTP/CONNECT proxy, allowed to CONNECT to the TLS test app's port only (others get its own 403). Tests that
  need it skip with the install command when the binary is missing.
- :class:`RelayProxy` (fixture ``relay_proxy``): an HTTP proxy on a ``RawServer``, optionally over TLS and
  with credentials, that relays CONNECT tunnels and forwards absolute-form requests, and records
  every request it received (``requests``) and every connection (``connection_count``).
- :class:`SocksRelay` (fixture ``socks_relay``): a SOCKS4/4a/5 server of our own that records the address
  each client asked for (an IP, or a host name for the remote-resolving forms) and can resolve names nobody
  else can (``resolve={"name": "127.0.0.1"}``), which proves where a name was resolved.
- Hostile handlers for ``raw_server``: :func:`refuse_connect` (403/407/501...), :func:`close_after_request`,
  :func:`close_at_once`, :func:`endless_header_line`, :func:`endless_header_lines`.

Everything listens on 127.0.0.1 and stops at the end of its fixture.
"""

from __future__ import annotations

import base64
import os
import selectors
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import quote, urlsplit

import pytest

from brisk.testing.server import ServerThread
from servers.raw import Handler, RawConnection, RawRequest, RawServer, RawServerFactory, http_response
from servers.tls import CertBundle

__all__ = [
    "CREDENTIALS",
    "TINYPROXY_HINT",
    "PproxyServer",
    "RelayProxy",
    "SocksRelay",
    "SocksRequest",
    "TinyProxy",
    "basic",
    "close_after_request",
    "close_at_once",
    "endless_header_line",
    "endless_header_lines",
    "pproxy",
    "refuse_connect",
    "relay_proxy",
    "socks_relay",
    "tinyproxy",
    "tinyproxy_auth",
]

#: The user and password every authenticating test proxy accepts.
CREDENTIALS = ("alice", "s3cret")

TINYPROXY_HINT = "tinyproxy not installed: apt-get install tinyproxy (the CI script .ci/run installs it)"

# pproxy imports uvloop when it can, and crashes at start with the uvloop installed here: hide it. Its main()
# calls asyncio.get_event_loop() with no loop set, which Python 3.14 refuses (RuntimeError): set one first.
_PPROXY_MAIN = (
    "import asyncio, sys; sys.modules['uvloop'] = None; from pproxy.server import main; "
    "asyncio.set_event_loop(asyncio.new_event_loop()); sys.argv = ['pproxy'] + sys.argv[1:]; main()"
)


def basic(user: str, password: str) -> str:
    """The ``Proxy-Authorization`` / ``Authorization`` value for Basic credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _url(scheme: str, port: int, credentials: tuple[str, str] | None, host: str = "127.0.0.1") -> str:
    auth = f"{quote(credentials[0], safe='')}:{quote(credentials[1], safe='')}@" if credentials else ""
    return f"{scheme}://{auth}{host}:{port}"


class _Process:
    """A proxy program on free loopback ports, started (with retries on port clashes) and stopped."""

    name = "proxy"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    @property
    def output(self) -> str:
        path = self.directory / "output.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _pick_ports(self) -> list[int]:
        raise NotImplementedError

    def start(self, attempts: int = 3, timeout: float = 15.0) -> None:
        for _ in range(attempts):
            ports = self._pick_ports()
            command = self._command()
            self._output = open(self.directory / "output.log", "wb")  # noqa: SIM115 -- closed in stop()
            self.process = subprocess.Popen(
                command, stdout=self._output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            if self._wait_ready(ports, timeout):
                return
            self.stop()
        raise RuntimeError(f"{self.name} did not start:\n{self.output}")

    def _wait_ready(self, ports: list[int], timeout: float) -> bool:
        """Every port accepts connections, and is this process's own listener: a port picked free can be
        taken by another server before the program binds it (the program may then go on without that
        listener, and its clients would reach the other server)."""
        deadline = time.monotonic() + timeout
        pending = list(ports)
        while pending and time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", pending[0]), timeout=1.0):
                    pending.pop(0)
            except OSError:
                time.sleep(0.02)
        return not pending and self._owns(ports)

    def _owns(self, ports: list[int]) -> bool:
        """Does this process hold the listening socket of each of ``ports``? (Linux: /proc; elsewhere
        assumed.)"""
        assert self.process is not None
        fds = Path(f"/proc/{self.process.pid}/fd")
        tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
        if not fds.is_dir() or not tables[0].exists():
            return True
        mine = set()
        for fd in fds.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                mine.add(target[8:-1])
        listeners: dict[int, set[str]] = {}
        for table in tables:
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # LISTEN
                    port = int(fields[1].rsplit(":", 1)[1], 16)
                    listeners.setdefault(port, set()).add(fields[9])
        return all(listeners.get(port, set()) & mine for port in ports)

    def stop(self, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if self._output is not None:
            self._output.close()
            self._output = None


class PproxyServer(_Process):
    """One pproxy process listening on a port per kind of proxy.

    ``url(kind)`` gives the proxy URL for a kind (credentials included for the ``*_auth`` kinds); ``scheme=``
    changes the scheme the client uses (``socks5h`` on the ``socks5`` listener, for example).
    """

    name = "pproxy"
    #: kind -> (pproxy's scheme, credentials required)
    KINDS: dict[str, tuple[str, bool]] = {
        "http": ("http", False),
        "http_auth": ("http", True),
        "socks4": ("socks4", False),
        "socks5": ("socks5", False),
        "socks5_auth": ("socks5", True),
        "https": ("http+ssl", False),
    }

    def __init__(self, directory: Path, cert: CertBundle) -> None:
        super().__init__(directory)
        self.cert = cert
        self.ports: dict[str, int] = {}

    def _pick_ports(self) -> list[int]:
        self.ports = {kind: _free_port() for kind in self.KINDS}
        return list(self.ports.values())

    def _command(self) -> list[str]:
        command = [sys.executable, "-W", "ignore", "-c", _PPROXY_MAIN]
        for kind, (scheme, auth) in self.KINDS.items():
            # pproxy takes accepted credentials after '#' in a listener's URI
            suffix = "#" + ":".join(CREDENTIALS) if auth else ""
            command += ["-l", f"{scheme}://127.0.0.1:{self.ports[kind]}{suffix}"]
        # -v: one line per proxied connection ("http 127.0.0.1:50000 -> 127.0.0.1:8443"), flushed at once
        command += ["--ssl", f"{self.cert.cert_file},{self.cert.key_file}", "--auth", "0", "-v"]
        return command

    def connections_to(self, port: int) -> int:
        """How many connections pproxy has opened (or tried to) to 127.0.0.1/localhost ``port`` so far."""
        return sum(
            line.endswith((f" -> 127.0.0.1:{port}", f" -> localhost:{port}"))
            for line in self.output.splitlines()
        )

    def url(self, kind: str, *, scheme: str | None = None, credentials: tuple[str, str] | None = None) -> str:
        """The proxy URL of a listener; ``credentials`` defaults to :data:`CREDENTIALS` for ``*_auth``."""
        default_scheme, auth = self.KINDS[kind]
        if scheme is None:
            scheme = "https" if default_scheme == "http+ssl" else default_scheme
        if credentials is None and auth:
            credentials = CREDENTIALS
        return _url(scheme, self.ports[kind], credentials)


_TINYPROXY_CONFIG = """\
Port {port}
Listen 127.0.0.1
Timeout 30
MaxClients 64
LogLevel Connect
LogFile "{log}"
Allow 127.0.0.1
DisableViaHeader Yes
"""


class TinyProxy(_Process):
    """tinyproxy on a free port, CONNECT allowed to ``connect_ports`` only, optionally with credentials."""

    name = "tinyproxy"

    def __init__(
        self,
        binary: str,
        directory: Path,
        connect_ports: tuple[int, ...],
        credentials: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(directory)
        self.binary = binary
        self.connect_ports = connect_ports
        self.credentials = credentials
        self.port = 0

    def _pick_ports(self) -> list[int]:
        self.port = _free_port()
        return [self.port]

    def _command(self) -> list[str]:
        config = _TINYPROXY_CONFIG.format(port=self.port, log=self.directory / "tinyproxy.log")
        config += "".join(f"ConnectPort {port}\n" for port in self.connect_ports)
        if self.credentials is not None:
            config += f"BasicAuth {self.credentials[0]} {self.credentials[1]}\n"
        path = self.directory / "tinyproxy.conf"
        path.write_text(config)
        return [self.binary, "-d", "-c", str(path)]

    @property
    def log(self) -> str:
        path = self.directory / "tinyproxy.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def url(self, *, credentials: tuple[str, str] | None = None) -> str:
        """The proxy URL, with this proxy's credentials unless others are given."""
        return _url("http", self.port, credentials or self.credentials)


# -- relays of our own ---------------------------------------------------------------------------------------


def _split_authority(authority: str) -> tuple[str, int]:
    host, _, port = authority.rpartition(":")
    return host.strip("[]"), int(port)


def _pump(conn: RawConnection, upstream: socket.socket) -> None:
    """Relay bytes both ways between the client and ``upstream`` until either side closes."""
    client = conn.sock
    # bytes the client sent after its request head (none in practice: clients wait for the 200)
    early, conn._buffer = conn._buffer, b""
    if early:
        upstream.sendall(early)
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        while True:
            if isinstance(client, ssl.SSLSocket) and client.pending():
                ready: list[tuple[socket.socket, socket.socket]] = [(client, upstream)]
            else:
                ready = [(key.fileobj, key.data) for key, _ in selector.select(timeout=1.0)]  # type: ignore[misc]
            for source, target in ready:
                try:
                    data = source.recv(65536)
                except ssl.SSLWantReadError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                try:
                    target.sendall(data)
                except OSError:
                    return


class _Upstream:
    """A connection from a relay to an origin, reading responses with just enough HTTP/1.1 framing."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self._buffer += data
        return bool(data)

    def _until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            if not self._fill():
                raise EOFError("the origin closed the connection")
        end += len(marker)
        data, self._buffer = self._buffer[:end], self._buffer[end:]
        return data

    def _exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not self._fill():
                raise EOFError("the origin closed the connection")
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def response(self, method: str) -> tuple[bytes, bool]:
        """One whole response as bytes, and whether the connection stays usable."""
        head = self._until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for text in lines[1:]:
            name, _, value = text.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep = "close" not in headers.get("connection", "").lower()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return head, keep
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                line = self._until(b"\r\n")
                body += line
                size = int(line.split(b";", 1)[0], 16)
                if size == 0:
                    while (trailer := self._until(b"\r\n")) != b"\r\n":
                        body += trailer
                    return head + body + b"\r\n", keep
                body += self._exactly(size + 2)
        if "content-length" in headers:
            return head + self._exactly(int(headers["content-length"])), keep
        while self._fill():
            pass
        body, self._buffer = self._buffer, b""
        return head + body, False

    def close(self) -> None:
        self.sock.close()


class RelayProxy:
    """A small HTTP proxy: CONNECT tunnels (relayed byte for byte) and absolute-form forwarding.

    ``credentials`` makes it answer 407 (with Proxy-Authenticate) to requests without them; ``tls`` makes it
    an ``https://`` proxy presenting that certificate; ``resolve`` maps host names to addresses for the
    connections it makes. ``requests`` are the requests it received, as it received them (CONNECT and
    forwarded requests alike); forwarded requests lose Proxy-Authorization and Proxy-Connection on the way.
    """

    def __init__(
        self,
        raw: RawServerFactory,
        *,
        credentials: tuple[str, str] | None = None,
        tls: CertBundle | None = None,
        resolve: Mapping[str, str] | None = None,
    ) -> None:
        self.credentials = credentials
        self.resolve = dict(resolve or {})
        self.server: RawServer = raw(self._handle, tls=tls.server_context() if tls is not None else None)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def requests(self) -> list[RawRequest]:
        return self.server.requests

    @property
    def connection_count(self) -> int:
        return self.server.connection_count

    def url(self, *, credentials: tuple[str, str] | None = None, host: str = "127.0.0.1") -> str:
        """The proxy URL, carrying this proxy's credentials unless others are given."""
        return _url(self.server.scheme, self.port, credentials or self.credentials, host)

    def _connect(self, host: str, port: int) -> socket.socket:
        return socket.create_connection((self.resolve.get(host, host), port), timeout=self.server.timeout)

    def _handle(self, conn: RawConnection) -> None:
        upstreams: dict[tuple[str, int], _Upstream] = {}
        try:
            while (request := conn.recv_request()) is not None:
                if self.credentials is not None and request.header("proxy-authorization") != basic(
                    *self.credentials
                ):
                    conn.send(
                        http_response(
                            407,
                            b"credentials, please",
                            [("Proxy-Authenticate", 'Basic realm="relay"'), ("Connection", "close")],
                        )
                    )
                    return
                if request.method == "CONNECT":
                    self._tunnel(conn, request)
                    return
                if not self._forward(conn, request, upstreams):
                    return
        finally:
            for upstream in upstreams.values():
                upstream.close()

    def _tunnel(self, conn: RawConnection, request: RawRequest) -> None:
        try:
            upstream = self._connect(*_split_authority(request.target))
        except OSError:
            conn.send(http_response(502, b"", [("Connection", "close")]))
            return
        with upstream:
            conn.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pump(conn, upstream)

    def _forward(
        self, conn: RawConnection, request: RawRequest, upstreams: dict[tuple[str, int], _Upstream]
    ) -> bool:
        parts = urlsplit(request.target)
        if parts.scheme != "http" or not parts.hostname:
            conn.send(http_response(400, b"absolute-form http URLs only", [("Connection", "close")]))
            return False
        key = (parts.hostname, parts.port or 80)
        upstream = upstreams.get(key)
        if upstream is None:
            try:
                upstream = upstreams[key] = _Upstream(self._connect(*key))
            except OSError:
                conn.send(http_response(502, b"", [("Connection", "close")]))
                return False
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kept = [
            f"{name}: {value}\r\n"
            for name, value in request.headers
            if name.lower() not in ("proxy-authorization", "proxy-connection")
        ]
        body = request.raw[request.raw.index(b"\r\n\r\n") + 4 :]
        head = f"{request.method} {path} {request.version}\r\n{''.join(kept)}\r\n"
        upstream.sock.sendall(head.encode("latin-1") + body)
        response, keep = upstream.response(request.method)
        conn.send(response)
        if not keep:
            upstreams.pop(key).close()
        return keep


@dataclass(frozen=True)
class SocksRequest:
    """What one SOCKS client asked for."""

    version: int  # 4 or 5
    address_type: str  # "ipv4", "ipv6" or "domain" (SOCKS4a and SOCKS5 host names)
    host: str
    port: int
    username: str | None


@dataclass
class SocksRelay:
    """A SOCKS4/4a/5 server that records each request, then connects and relays.

    With ``credentials``, SOCKS5 clients must use user/password authentication and SOCKS4 clients must send
    the user name as their user id. ``resolve`` maps host names to addresses (used for domain requests).
    """

    raw: RawServerFactory
    credentials: tuple[str, str] | None = None
    resolve: dict[str, str] = field(default_factory=dict)
    requests: list[SocksRequest] = field(default_factory=list)
    server: RawServer = field(init=False)

    def __post_init__(self) -> None:
        self.server = self.raw(self._handle)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def connection_count(self) -> int:
        return self.server.connection_count

    def url(self, scheme: str, *, credentials: tuple[str, str] | None = None) -> str:
        return _url(scheme, self.port, credentials)

    def _open(self, host: str, port: int) -> socket.socket | None:
        try:
            return socket.create_connection((self.resolve.get(host, host), port), timeout=self.server.timeout)
        except OSError:
            return None

    def _handle(self, conn: RawConnection) -> None:
        version = conn.recv_exactly(1)
        if version == b"\x04":
            self._socks4(conn)
        elif version == b"\x05":
            self._socks5(conn)

    def _socks4(self, conn: RawConnection) -> None:
        command = conn.recv_exactly(1)
        port = int.from_bytes(conn.recv_exactly(2), "big")
        address = conn.recv_exactly(4)
        user = conn.recv_until(b"\x00")[:-1].decode()
        if address[:3] == b"\x00\x00\x00" and address[3]:  # SOCKS4a: the name follows the user id
            host, kind = conn.recv_until(b"\x00")[:-1].decode(), "domain"
        else:
            host, kind = socket.inet_ntoa(address), "ipv4"
        self.requests.append(SocksRequest(4, kind, host, port, user or None))
        refused = b"\x00\x5b" + bytes(6)
        if command != b"\x01" or (self.credentials is not None and user != self.credentials[0]):
            conn.send(refused)
            return
        upstream = self._open(host, port)
        if upstream is None:
            conn.send(refused)
            return
        with upstream:
            conn.send(b"\x00\x5a" + port.to_bytes(2, "big") + bytes(4))
            _pump(conn, upstream)

    def _socks5(self, conn: RawConnection) -> None:
        methods = conn.recv_exactly(conn.recv_exactly(1)[0])
        username = None
        if self.credentials is not None:
            if b"\x02" not in methods:
                conn.send(b"\x05\xff")
                return
            conn.send(b"\x05\x02")
            conn.recv_exactly(1)  # sub-negotiation version
            username = conn.recv_exactly(conn.recv_exactly(1)[0]).decode()
            password = conn.recv_exactly(conn.recv_exactly(1)[0]).decode()
            if (username, password) != self.credentials:
                conn.send(b"\x01\x01")
                return
            conn.send(b"\x01\x00")
        elif b"\x00" in methods:
            conn.send(b"\x05\x00")
        else:
            conn.send(b"\x05\xff")
            return
        _, command, _, address_type = conn.recv_exactly(4)
        if address_type == 1:
            host, kind = socket.inet_ntoa(conn.recv_exactly(4)), "ipv4"
        elif address_type == 3:
            host, kind = conn.recv_exactly(conn.recv_exactly(1)[0]).decode(), "domain"
        else:
            host, kind = socket.inet_ntop(socket.AF_INET6, conn.recv_exactly(16)), "ipv6"
        port = int.from_bytes(conn.recv_exactly(2), "big")
        self.requests.append(SocksRequest(5, kind, host, port, username))
        upstream = self._open(host, port) if command == 1 else None
        if upstream is None:
            conn.send(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
            return
        with upstream:
            conn.send(b"\x05\x00\x00\x01" + bytes(6))
            _pump(conn, upstream)


# -- hostile proxies (handlers for raw_server) ---------------------------------------------------------------


def refuse_connect(status: int, headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> Handler:
    """Answer the first request (a CONNECT, usually) with ``status``, then wait for the client to close."""

    def handler(conn: RawConnection) -> None:
        if conn.recv_request() is None:
            return
        conn.send(http_response(status, body, headers))
        conn.wait_closed()

    return handler


def close_after_request(conn: RawConnection) -> None:
    """Read the request, then close without answering."""
    conn.recv_request()
    conn.close()


def close_at_once(conn: RawConnection) -> None:
    """Close the connection as soon as it is accepted, before reading anything."""
    conn.close()


_ENDLESS_CAP = 32 * 1024 * 1024


def endless_header_line(conn: RawConnection) -> None:
    """Accept the tunnel, then send one header line that never ends (until the client gives up)."""
    if conn.recv_request() is None:
        return
    conn.send(b"HTTP/1.1 200 Connection established\r\nX-Endless: ")
    sent = 0
    while sent < _ENDLESS_CAP:
        conn.send(b"a" * 16384)
        sent += 16384


def endless_header_lines(conn: RawConnection) -> None:
    """Accept the tunnel, then send short header lines forever (until the client gives up)."""
    if conn.recv_request() is None:
        return
    conn.send(b"HTTP/1.1 200 Connection established\r\n")
    line = b"X-More: header\r\n" * 1024
    sent = 0
    while sent < _ENDLESS_CAP:
        conn.send(line)
        sent += len(line)


# -- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pproxy(
    cert_bundles: dict[str, CertBundle], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PproxyServer]:
    """pproxy with HTTP, HTTP+credentials, SOCKS4, SOCKS5, SOCKS5+credentials and HTTPS (TLS) listeners."""
    server = PproxyServer(tmp_path_factory.mktemp("pproxy"), cert_bundles["good"])
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _tinyproxy(
    tmp_path_factory: pytest.TempPathFactory, port: int, credentials: tuple[str, str] | None
) -> Iterator[TinyProxy]:
    binary = shutil.which("tinyproxy")
    if binary is None:
        print(TINYPROXY_HINT)
        pytest.skip(TINYPROXY_HINT)
    server = TinyProxy(binary, tmp_path_factory.mktemp("tinyproxy"), (port,), credentials)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tinyproxy(tls_app_server: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyProxy]:
    """tinyproxy without credentials; CONNECT only to the TLS test app's port."""
    yield from _tinyproxy(tmp_path_factory, tls_app_server.port, None)


@pytest.fixture(scope="session")
def tinyproxy_auth(
    tls_app_server: ServerThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TinyProxy]:
    """tinyproxy requiring :data:`CREDENTIALS` (Basic); CONNECT only to the TLS test app's port."""
    yield from _tinyproxy(tmp_path_factory, tls_app_server.port, CREDENTIALS)


@pytest.fixture
def relay_proxy(raw_server: RawServerFactory) -> Callable[..., RelayProxy]:
    """``relay_proxy(credentials=None, tls=None, resolve=None)`` starts a :class:`RelayProxy`."""

    def make(**kwargs: object) -> RelayProxy:
        return RelayProxy(raw_server, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def socks_relay(raw_server: RawServerFactory) -> Callable[..., SocksRelay]:
    """``socks_relay(credentials=None, resolve={})`` starts a :class:`SocksRelay`."""

    def make(**kwargs: object) -> SocksRelay:
        return SocksRelay(raw_server, **kwargs)  # type: ignore[arg-type]

    return make
