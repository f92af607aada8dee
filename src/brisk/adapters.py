"""requests' adapters: ``session.mount(prefix, adapter)`` and the last link of requests' sending chain.

requests sends every request through ``Session.send`` → ``session.get_adapter(url).send(...)`` →
``HTTPAdapter.build_response``; libraries hook in at each link (a ``send`` or ``build_response`` override, an
``init_poolmanager`` that passes an ``ssl_context``, ``mock.patch`` of ``HTTPAdapter.send``). brisk keeps that
chain for such code and a shorter one for everyone else:

- A session whose adapters are plain ``HTTPAdapter``s (``HTTPAdapter(max_retries=...)`` included) sends
  through its own pool directly; the adapter only carries settings (``max_retries``, ``pool_maxsize``).
- As soon as an adapter's class overrides a link of the chain, or ``HTTPAdapter``'s own methods are patched,
  or the session's ``get_adapter`` is, every request to that adapter's URLs goes through ``adapter.send`` with
  requests' arguments, and ``HTTPAdapter.send`` calls the links in requests' order:
  ``get_connection_with_tls_context`` → ``cert_verify`` → ``request_url`` → ``add_headers`` → (brisk's pool
  sends) → ``build_response``. Redirects, cookies, auth and hooks stay in the session, as in requests.

``HTTPAdapter.send(timeout=None)`` means brisk's default timeouts, not none at all: the session passes None
when the caller gave no timeout, so a ``send`` override that fills in its own default (the "timeout adapter"
recipe) is honoured, and brisk's finite default applies otherwise. A caller who wants no timeout says so to
the session (``timeout=None``); the adapter then receives ``brisk.Timeout(None)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from brisk._auth.basic import basic_auth_str
from brisk._flows.proxies import proxy_for
from brisk._flows.retry import Retry
from brisk.exceptions import InvalidURL, Timeout
from brisk.models import PreparedRequest, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._transport.base import SendOptions
    from brisk._transport.sync.transport import SyncTransport
    from brisk.models import PreparedRequest, Response

__all__ = [
    "DEFAULT_POOLBLOCK",
    "DEFAULT_POOLSIZE",
    "DEFAULT_POOL_TIMEOUT",
    "DEFAULT_RETRIES",
    "BaseAdapter",
    "HTTPAdapter",
]

DEFAULT_POOLBLOCK = False
DEFAULT_POOLSIZE = 10
DEFAULT_RETRIES = 0
DEFAULT_POOL_TIMEOUT = None
_KEEP: Any = object()

# The links of requests' chain a subclass (or a patch) can change; an adapter whose class changes none of
# them lets the session send through its own pool.
CHAIN = (
    "send", "build_response", "init_poolmanager", "proxy_manager_for", "cert_verify", "add_headers",
    "request_url", "get_connection", "get_connection_with_tls_context", "proxy_headers",
)  # fmt: skip


class BaseAdapter:
    """An adapter that sends requests itself: subclass and implement ``send`` and ``close``."""

    def __init__(self) -> None:
        super().__init__()

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        raise NotImplementedError

    def close(self) -> None:
        pass


class ConnectionPool:
    """What ``get_connection_with_tls_context`` hands out: the origin (and proxy) a request goes to, and the
    TLS settings ``cert_verify`` writes on it with urllib3's attribute names. brisk's pool reads them back
    when it sends, so a ``cert_verify`` override that changes them is honoured."""

    def __init__(self, scheme: str, host: str, port: int | None, proxy: str | None = None) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.proxy = proxy
        self.cert_reqs = "CERT_REQUIRED"
        self.ca_certs: str | None = None
        self.ca_cert_dir: str | None = None
        self.cert_file: str | None = None
        self.key_file: str | None = None
        # an encrypted key's password (httpie's cert_verify sets it; so does cert=(cert, key, password))
        self.key_password: str | bytes | None = None
        # brisk's: CA certificates as PEM bytes (verify=b"..."), and a caller's ssl.SSLContext (verify=ctx)
        self.ca_cert_data: bytes | None = None
        self.ssl_context: Any = None

    def __repr__(self) -> str:
        return f"<ConnectionPool {self.scheme}://{self.host}:{self.port}>"


class PoolManager:
    """The pool behind an adapter (urllib3's name and arguments; ``connection_pool_kw`` keeps ``maxsize``,
    ``block`` and the keyword arguments an ``init_poolmanager`` override passes, as urllib3's does). Its
    connections live in a brisk pool, made on the first request and closed by ``clear()``."""

    def __init__(
        self,
        num_pools: int = DEFAULT_POOLSIZE,
        maxsize: int = DEFAULT_POOLSIZE,
        block: bool = False,
        **kw: Any,
    ) -> None:
        self.num_pools = num_pools
        self.maxsize = maxsize
        self.block = block
        self.connection_pool_kw = {"maxsize": maxsize, "block": block, **kw}  # as urllib3 keeps them
        self._transport: SyncTransport | None = None

    def transport(self) -> SyncTransport:
        if self._transport is None:
            from brisk._core.config import DEFAULT_LIMITS
            from brisk._transport.sync.transport import SyncTransport

            limits = DEFAULT_LIMITS
            if self.maxsize > limits.max_connections_per_host:
                limits = limits.replace(
                    max_connections_per_host=self.maxsize,
                    max_connections=max(limits.max_connections, self.maxsize),
                )
            self._transport = SyncTransport(limits)
        return self._transport

    def clear(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class HTTPAdapter(BaseAdapter):
    """The adapter for http(s) URLs: retry policy, pool size, and requests' sending methods to override.

    >>> session.mount("https://api.example.com/", HTTPAdapter(max_retries=Retry(5, status_forcelist=[503])))
    """

    __attrs__ = ["max_retries", "config", "_pool_connections", "_pool_maxsize", "_pool_block"]

    def __init__(
        self,
        pool_connections: int = DEFAULT_POOLSIZE,
        pool_maxsize: int = DEFAULT_POOLSIZE,
        max_retries: Any = _KEEP,
        pool_block: bool = DEFAULT_POOLBLOCK,
    ) -> None:
        # Only a max_retries given explicitly overrides the session's policy (connect retries on by default).
        self._retry: Retry | None = None
        self._given_retry: Any = None
        if max_retries is not _KEEP:
            self.max_retries = max_retries
        self.config: dict[str, Any] = {}
        self.proxy_manager: dict[str, Any] = {}
        super().__init__()
        self._pool_connections = pool_connections
        self._pool_maxsize = pool_maxsize
        self._pool_block = pool_block
        self.init_poolmanager(pool_connections, pool_maxsize, block=pool_block)

    # -- settings ---------------------------------------------------------------------------------------

    @property
    def max_retries(self) -> Any:
        """The retry policy as given: urllib3's ``Retry`` stays urllib3's (code written for requests calls its
        ``increment``, which raises urllib3's ``MaxRetryError``); an int or None becomes brisk's ``Retry``."""
        if self._given_retry is not None:
            return self._given_retry
        return self._retry if self._retry is not None else Retry.from_int(DEFAULT_RETRIES)

    @max_retries.setter
    def max_retries(self, value: Any) -> None:
        self._retry = Retry.from_int(value)
        self._given_retry = (
            value if value is not None and self._retry is not value and _is_retry_object(value) else None
        )

    @property
    def pool_maxsize(self) -> int:
        return self._pool_maxsize

    @property
    def pool_connections(self) -> int:
        return self._pool_connections

    @property
    def pool_block(self) -> bool:
        return self._pool_block

    def retry_policy(self) -> Retry | None:
        """The retry policy this adapter sets, or None to keep the session's."""
        return self._retry

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name, None) for name in self.__attrs__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.proxy_manager = {}
        self.config = {}
        self._retry = None
        self._given_retry = None
        for name, value in state.items():
            setattr(self, name, value)
        self.init_poolmanager(self._pool_connections, self._pool_maxsize, block=self._pool_block)

    # -- requests' chain --------------------------------------------------------------------------------

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK, **pool_kwargs: Any
    ) -> None:
        """Make the pool (``self.poolmanager``); overrides pass extra keyword arguments through here."""
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager: Any = PoolManager(
            num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs
        )

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """The pool for requests through ``proxy`` (one per proxy URL)."""
        manager = self.proxy_manager.get(proxy)
        if manager is None:
            manager = self.proxy_manager[proxy] = PoolManager(
                num_pools=self._pool_connections,
                maxsize=self._pool_maxsize,
                block=self._pool_block,
                proxy=proxy,
                proxy_headers=self.proxy_headers(proxy),
                **proxy_kwargs,
            )
        return manager

    def proxy_headers(self, proxy: str) -> dict[str, str]:
        """Headers for the proxy itself: Proxy-Authorization from credentials in its URL."""
        from brisk.utils import get_auth_from_url

        username, password = get_auth_from_url(proxy)
        if not username:
            return {}

        return {"Proxy-Authorization": basic_auth_str(username, password)}

    def get_connection_with_tls_context(
        self, request: PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> ConnectionPool:
        """The pool ``request`` goes to; raises InvalidURL for a URL without a host."""
        url = request._url
        if url is None or not url.host:
            raise InvalidURL(f"invalid URL {request.url!r}: no host", request=request)
        proxy = proxy_for(url, proxies, None, None) if proxies else None
        if proxy:
            self.proxy_manager_for(proxy)
        return ConnectionPool(url.scheme, url.host, url.effective_port, proxy)

    def get_connection(self, url: str, proxies: Any = None) -> ConnectionPool:
        """requests' older form of ``get_connection_with_tls_context`` (by URL)."""
        request = PreparedRequest()
        request.url = url
        return self.get_connection_with_tls_context(request, True, proxies)

    def cert_verify(self, conn: ConnectionPool, url: str, verify: Any, cert: Any) -> None:
        """Write the TLS settings on ``conn``; a CA bundle, certificate or key path that does not exist is an
        OSError here, before anything is sent (requests' messages)."""
        if url.lower().startswith("https") and verify:
            conn.cert_reqs = "CERT_REQUIRED"
            if isinstance(verify, bytes):
                conn.ca_cert_data = verify
            elif verify is not True and not isinstance(verify, str):
                conn.ssl_context = verify  # an ssl.SSLContext, used as given
            elif verify is not True:
                if not os.path.exists(verify):
                    raise OSError(
                        f"Could not find a suitable TLS CA certificate bundle, invalid path: {verify}"
                    )
                if os.path.isdir(verify):
                    conn.ca_cert_dir = verify
                else:
                    conn.ca_certs = verify
        else:
            conn.cert_reqs = "CERT_NONE"
            conn.ca_certs = conn.ca_cert_dir = None
        if cert:
            if isinstance(cert, str | bytes):
                conn.cert_file, conn.key_file = cert, None  # type: ignore[assignment]
            else:
                conn.cert_file, conn.key_file = cert[0], cert[1]
                if len(cert) > 2 and cert[2] is not None:
                    conn.key_password = cert[2]  # (cert, key, password): the key is encrypted
            for what, path in (("certificate", conn.cert_file), ("key", conn.key_file)):
                if isinstance(path, str) and path and not os.path.exists(path):  # PEM bytes are not paths
                    raise OSError(f"Could not find the TLS {what} file, invalid path: {path}")

    def request_url(self, request: PreparedRequest, proxies: Any) -> str:
        """The request-target: the path, or the whole URL (without credentials) when a plain-http request goes
        to an http proxy."""
        url = request._url
        assert url is not None
        target = url.target
        if target.startswith("//"):
            target = "/" + target.lstrip("/")
        proxy = proxy_for(url, proxies, None, None) if proxies else None
        if proxy and url.scheme != "https" and not proxy.lower().startswith("socks"):
            return str(url.without_auth().without_fragment())
        return target

    def add_headers(self, request: PreparedRequest, **kwargs: Any) -> None:
        """Called before each request is sent; overrides add headers to ``request.headers``."""

    def build_response(self, req: PreparedRequest, resp: Any) -> Response:
        """The Response for ``req`` from ``resp``: brisk's own raw, or any object shaped like urllib3's
        response (``status``, ``headers``, ``reason``, ``read``), as test doubles and caches hand in."""
        from brisk._response.raw import RawResponse, headers_from

        response = resp._claim() if isinstance(resp, RawResponse) else None
        if response is not None:
            # The Response the transport made with this raw, reading its body through it. What an override
            # changed on the raw before calling here (CacheControl's heuristics edit its headers) holds.
            response.status_code = resp.status
            response.reason = resp.reason
            if getattr(resp.headers, "_store", None) is not response.headers._store:  # raw.headers replaced
                response.headers = headers_from(resp.headers)
        else:
            # urllib3's HTTPResponse (a cache's, a test double's), or a brisk raw handed in again: a new
            # Response reading it. Repeated headers stay apart, so each Set-Cookie is a cookie.
            response = Response()
            response.status_code = getattr(resp, "status", None)  # type: ignore[assignment]
            response.headers = headers_from(getattr(resp, "headers", None))
            response.reason = getattr(resp, "reason", None)  # type: ignore[assignment]  # None as requests
            response.raw = resp
        response.url = req.url.decode("utf-8") if isinstance(req.url, bytes) else (req.url or "")
        response.request = req
        response.connection = self
        return response

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        """Send one request (no redirects: the session follows them) and return its Response."""
        conn = self.get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
        self.cert_verify(conn, request.url or "", verify, cert)
        target = self.request_url(request, proxies)
        self.add_headers(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        if not isinstance(conn, ConnectionPool):  # an override's own (urllib3) pool sends, as in requests
            from brisk._transport.urllib3_send import urlopen

            return _respond(self, request, urlopen(self, conn, request, target, timeout), stream)
        options = _options(request, conn, timeout)
        manager = self.poolmanager if conn.proxy is None else self.proxy_manager_for(conn.proxy)
        transport = manager.transport() if isinstance(manager, PoolManager) else _fallback(self)
        sent = transport.handle_request(request, options)
        return _respond(self, request, sent.raw, stream)

    def close(self) -> None:
        """Close the pooled connections (of the proxies' pools too)."""
        manager = getattr(self, "poolmanager", None)
        if manager is not None and hasattr(manager, "clear"):
            manager.clear()
        for proxy_manager in self.proxy_manager.values():
            proxy_manager.clear()

    def __repr__(self) -> str:
        return f"<HTTPAdapter max_retries={self.max_retries!r} pool_maxsize={self._pool_maxsize}>"


def _respond(adapter: HTTPAdapter, request: PreparedRequest, raw: Any, stream: bool) -> Response:
    response = adapter.build_response(request, raw)
    if not stream:
        response.content  # noqa: B018 - read the body now, as requests does
    return response


def _is_retry_object(value: Any) -> bool:
    """A retry policy object of another library (urllib3's ``Retry``), not an int or brisk's own."""
    return not isinstance(value, Retry | int | bool) and hasattr(value, "increment")


_ORIGINAL = {name: getattr(HTTPAdapter, name) for name in CHAIN}
_ORIGINAL_SEND = HTTPAdapter.send
_ORIGINAL_BUILD = HTTPAdapter.build_response
_overriding_types: dict[type, bool] = {HTTPAdapter: False}


def sends_itself(adapter: BaseAdapter) -> bool:
    """Must requests to ``adapter`` go through ``adapter.send``? Yes for any adapter but an ``HTTPAdapter``
    whose class, instance and ``HTTPAdapter`` itself leave every link of the chain as brisk wrote it."""
    return any_sends_itself((adapter,))


def any_sends_itself(adapters: Iterable[BaseAdapter]) -> bool:
    """``sends_itself`` for any of ``adapters``. This runs on every request of a session, so it is cheap:
    whether a subclass overrides a link is worked out once per class; patches, of ``HTTPAdapter`` itself or
    of one adapter, are looked for on ``send`` and ``build_response``, where test doubles and caches hook
    in (a patch of another link on a plain adapter is not seen)."""
    if HTTPAdapter.send is not _ORIGINAL_SEND or HTTPAdapter.build_response is not _ORIGINAL_BUILD:
        return True
    for adapter in adapters:
        cls = type(adapter)
        overrides = _overriding_types.get(cls)
        if overrides is None:
            overrides = not isinstance(adapter, HTTPAdapter) or any(
                getattr(cls, name) is not _ORIGINAL[name] for name in CHAIN
            )
            _overriding_types[cls] = overrides
        if overrides:
            return True
        own = adapter.__dict__  # a patch on the instance (mock.patch.object(adapter, "send"))
        if "send" in own or "build_response" in own:
            return True
    return False


def _options(request: PreparedRequest, conn: ConnectionPool, timeout: Any) -> SendOptions:
    """The send options for one adapter call: the timeout as given (None: brisk's defaults), the TLS settings
    ``cert_verify`` left on ``conn``, the proxy; and, when the session called, its HTTP/2 setting, deadline,
    limits and proxy credentials."""
    from brisk._transport.base import ConnectionConfig, SendOptions

    given: SendOptions | None = getattr(request, "_send_options", None)
    verify: Any = False
    if conn.cert_reqs != "CERT_NONE":
        verify = conn.ssl_context or conn.ca_certs or conn.ca_cert_dir or conn.ca_cert_data or True
    cert: Any = conn.cert_file
    if conn.cert_file and conn.key_file:
        cert = (conn.cert_file, conn.key_file)
    if conn.cert_file and conn.key_password:
        cert = (conn.cert_file, conn.key_file or conn.cert_file, conn.key_password)
    base = given.config if given is not None else None
    proxy_headers: tuple[tuple[str, str], ...] = ()
    if base is not None and base.proxy == conn.proxy:
        proxy_headers = base.proxy_headers
    config = ConnectionConfig(
        verify,
        cert,
        conn.proxy,
        base.http2 if base is not None else True,
        proxy_headers,
        uds=base.uds if base is not None else None,
        tls=base.tls if base is not None else None,  # the session's TLS versions, ciphers and pins
    )
    coerced = Timeout.coerce(timeout) if timeout is not None else None
    if given is not None:
        return SendOptions(coerced or given.timeout, config, given.deadline, given.limits)
    return SendOptions(coerced, config) if coerced is not None else SendOptions(config=config)


def _fallback(adapter: HTTPAdapter) -> SyncTransport:
    """A pool for an adapter whose ``poolmanager`` is not brisk's (an override that made urllib3's)."""
    own: PoolManager | None = adapter.__dict__.get("_brisk_pool")
    if own is None:
        own = adapter.__dict__["_brisk_pool"] = PoolManager(maxsize=adapter._pool_maxsize)
    return own.transport()


def __getattr__(name: str) -> object:
    """requests.adapters's other names, loaded when first read (see brisk._core.requests_names)."""
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._core.requests_names import requests_name

    return requests_name(__name__, name)
