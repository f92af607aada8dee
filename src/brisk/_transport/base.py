"""What a transport is, what it is told, and the body streams it hands back.

A transport turns one prepared request into one response whose head has been read; the body stays on the
connection until the response reads it. Transports do I/O only: redirects, retries, auth and cookies are
policy, written once in ``brisk._flows`` and run over either transport.

``BaseTransport.handle_request`` (sync) and ``AsyncBaseTransport.handle_async_request`` (async) are the
whole contract; ``brisk.testing.MockTransport`` implements both with a plain function.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk.exceptions import DEFAULT_TIMEOUT, Timeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl
    from typing import NamedTuple, Protocol, TypeAlias

    from brisk.models import PreparedRequest, Response
else:
    from brisk._core.typing_lite import NamedTuple, Protocol

__all__ = [
    "PRIOR_KNOWLEDGE",
    "AsyncBaseTransport",
    "AsyncByteStream",
    "BaseTransport",
    "ConnectionConfig",
    "NetworkOptions",
    "SendOptions",
    "StaleConnection",
    "SyncByteStream",
    "TLSOptions",
    "Timings",
]


#: The TLS settings besides ``verify`` and ``cert``, as ``brisk._transport.tls.tls_options`` checked them:
#: ``min_version``/``max_version`` an ``ssl.TLSVersion`` member's name (``"TLSv1_2"``) or None, ``ciphers``
#: an OpenSSL cipher string or None, ``pins`` the accepted SPKI SHA-256 digests (base64, sorted).
TLSOptions = NamedTuple(
    "TLSOptions",
    [
        ("min_version", str | None),
        ("max_version", str | None),
        ("ciphers", str | None),
        ("pins", tuple[str, ...]),
    ],
)

if TYPE_CHECKING:
    #: ``verify``: see ConnectionConfig. (At run time a plain ``object``: naming ssl.SSLContext would import
    #: ssl.)
    VerifyValue: TypeAlias = bool | str | bytes | ssl.SSLContext
    #: a client certificate: a path or PEM bytes (with the key in it), (cert, key), or (cert, key, password)
    CertValue: TypeAlias = (
        str | bytes | tuple[str | bytes, str | bytes] | tuple[str | bytes, str | bytes, str | bytes | None]
    )
else:
    VerifyValue = CertValue = object

_NetworkFields = NamedTuple(
    "_NetworkFields",
    [
        ("resolve", tuple[tuple[str, tuple[str, ...]], ...]),
        ("resolver", Callable[[str, int], list[str]] | None),
        ("family", str | None),
        ("local_address", str | None),
        ("happy_eyeballs_delay", float | None),
        ("tcp_keepalive", float | None),
    ],
)


class NetworkOptions(_NetworkFields):
    """How a connection reaches its peer: the session's ``resolve``, ``resolver``, ``family``,
    ``local_address``, ``happy_eyeballs_delay`` and ``tcp_keepalive``, checked and made hashable by
    ``brisk._transport.connect.network_options``. ``ConnectionConfig.network`` is None when all are at
    their defaults (``DEFAULT_NETWORK``), which keeps the pool key of a plain session as cheap to hash as
    before.

    ``resolve``: ("host" or "host:port", addresses) pairs, keys in lower case.
    """

    __slots__ = ()

    def __new__(
        cls,
        resolve: tuple[tuple[str, tuple[str, ...]], ...] = (),
        resolver: Callable[[str, int], list[str]] | None = None,
        family: str | None = None,
        local_address: str | None = None,
        happy_eyeballs_delay: float | None = 0.25,
        tcp_keepalive: float | None = 60.0,
    ) -> NetworkOptions:
        return super().__new__(
            cls, resolve, resolver, family, local_address, happy_eyeballs_delay, tcp_keepalive
        )


DEFAULT_NETWORK = NetworkOptions()


# The functional form, as for TLSOptions: brisk._core.typing_lite stands in for it at run time.
_ConfigFields = NamedTuple(
    "_ConfigFields",
    [
        ("verify", VerifyValue),
        ("cert", CertValue | None),
        ("proxy", str | None),
        ("http2", bool | str),
        ("proxy_headers", tuple[tuple[str, str], ...]),
        ("uds", str | None),
        ("tls", TLSOptions | None),
        ("network", NetworkOptions | None),
        ("http3", bool | str),
    ],
)


class ConnectionConfig(_ConfigFields):
    """Every setting that changes what a connection is. Part of the pool key, so a connection made with
    ``verify=False`` can never serve a request that asked for verification (requests CVE-2024-35195).

    ``verify``: False, True (the system store), a CA bundle or directory path, CA certificates as PEM
    bytes, or an ``ssl.SSLContext`` used as given. ``cert``: the client certificate (and key, and an
    encrypted key's password), as paths or PEM bytes. ``proxy``: the proxy URL, credentials included
    (they open the tunnel).
    ``http2``: offer h2 in ALPN over TLS; PRIOR_KNOWLEDGE also speaks it over plain http.
    ``proxy_headers``: headers for the proxy alone (HTTPProxyAuth's Proxy-Authorization).
    ``uds``: the path of the Unix socket every connection goes to (``Session(uds=...)``), or None.
    ``tls``: TLS versions, ciphers and certificate pins (``TLSOptions``); None for brisk's defaults.
    ``network``: resolution, address family, Happy Eyeballs, local address, keep-alive (None: defaults).
    ``http3``: False; True to use HTTP/3 where an origin's Alt-Svc offers it; PRIOR_KNOWLEDGE for HTTP/3
    on every https request (``brisk._transport.h3``).
    """

    __slots__ = ()

    def __new__(
        cls,
        verify: VerifyValue = True,
        cert: CertValue | None = None,
        proxy: str | None = None,
        http2: bool | str = True,
        proxy_headers: tuple[tuple[str, str], ...] = (),
        uds: str | None = None,
        tls: TLSOptions | None = None,
        network: NetworkOptions | None = None,
        http3: bool | str = False,
    ) -> ConnectionConfig:
        return super().__new__(cls, verify, cert, proxy, http2, proxy_headers, uds, tls, network, http3)


DEFAULT_CONFIG = ConnectionConfig()

#: ``Session(http2=PRIOR_KNOWLEDGE)``: plain-http connections speak HTTP/2 from their first byte (RFC 9113
#: section 3.3), with no upgrade dance; https still negotiates by ALPN.
PRIOR_KNOWLEDGE = "prior-knowledge"


class SendOptions:
    """Per-request settings a transport needs besides the request itself."""

    __slots__ = ("config", "deadline", "limits", "timeout")

    def __init__(
        self,
        timeout: Timeout = DEFAULT_TIMEOUT,
        config: ConnectionConfig = DEFAULT_CONFIG,
        deadline: float | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.timeout = timeout
        self.config = config
        self.deadline = deadline  # time.monotonic() value after which everything times out, or None
        self.limits = limits


class Timings:
    """Where the time of one request went, in seconds (like curl's ``-w`` variables).

    ``dns``, ``connect`` and ``tls`` are 0.0 on a reused connection (``reused`` is True).
    ``request_sent``, ``first_byte`` and ``total`` are measured from the start of this attempt.
    """

    __slots__ = ("connect", "dns", "first_byte", "request_sent", "reused", "start", "tls", "total")

    def __init__(self, start: float) -> None:
        self.start = start
        self.dns = 0.0
        self.connect = 0.0
        self.tls = 0.0
        self.request_sent = 0.0
        self.first_byte = 0.0
        self.total = 0.0
        self.reused = False

    def as_dict(self) -> dict[str, float | bool]:
        return {
            name: getattr(self, name)
            for name in ("dns", "connect", "tls", "request_sent", "first_byte", "total", "reused")
        }

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}" for k, v in self.as_dict().items()
        )
        return f"Timings({parts})"


class StaleConnection(Exception):
    """Raised by a transport when a *reused* connection failed before any byte of the response arrived.

    The server most likely closed the idle connection as the request went out. The request flow retries
    once on a new connection when that is safe (idempotent method, replayable body) and otherwise raises
    ``error``. Never reaches users.
    """

    def __init__(self, error: BaseException, unprocessed: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        # The server said it never processed the request (HTTP/2 GOAWAY): safe to resend for any method.
        self.unprocessed = unprocessed


class SyncByteStream(Protocol):
    """A response body as raw bytes (transfer framing removed, content coding still applied)."""

    def __iter__(self) -> Iterator[bytes]: ...
    def read_all(self) -> bytes: ...
    def close(self) -> None: ...


class AsyncByteStream(Protocol):
    def __aiter__(self) -> AsyncIterator[bytes]: ...
    async def aread_all(self) -> bytes: ...
    async def aclose(self) -> None: ...


class BaseTransport(Protocol):
    """What a ``Session`` sends through: a request in, its response out with the head read and the body
    still streaming. Implemented by ``brisk._transport.sync.transport.SyncTransport``, the adapter bridges
    (``brisk._transport.adapter``) and ``brisk.testing.MockTransport``."""

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response: ...
    def close(self) -> None: ...


class AsyncBaseTransport(Protocol):
    """What an ``AsyncSession`` sends through (``brisk._transport.asyncio.transport.AsyncTransport``, ...)."""

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response: ...
    async def aclose(self) -> None: ...
