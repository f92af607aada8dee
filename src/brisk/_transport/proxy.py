"""Proxies, the parts shared by both transports: parsing proxy URLs, the CONNECT exchange, SOCKS settings.

Kinds: ``http://`` and ``https://`` proxies (TLS to the proxy itself, verified like any server) forward
plain-http requests in absolute form and tunnel https requests with CONNECT; ``socks4://``, ``socks4a://``,
``socks5://`` and ``socks5h://`` (through the optional ``python-socks``; the ``a``/``h`` forms let the proxy
resolve the host name) carry every request inside a tunnel.

Proxy credentials come from the proxy URL (or ``HTTPProxyAuth``). They are sent to the proxy only: in the
CONNECT request for tunnels, never inside the tunnel (requests CVE-2023-32681).
"""

from __future__ import annotations

from functools import lru_cache

from brisk._protocol.http11 import ResponseParser, encode_request_head
from brisk._transport.deadline import Phase, connecting
from brisk.exceptions import (
    InvalidProxyURL,
    MissingDependencyError,
    ProxyError,
    ProxySSLError,
    RequestException,
    SSLError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._transport.base import ConnectionConfig, SendOptions

__all__ = ["ProxyInfo", "forward_headers", "is_forwarding", "parse_proxy"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "socks4": 1080, "socks4a": 1080, "socks5": 1080, "socks5h": 1080}


class ProxyInfo:
    """A proxy URL, parsed; and what talking to that proxy involves, the same for both transports: the
    CONNECT request and the check of its answer, the SOCKS connector, and the errors to raise.

    A plain class: this module is loaded by every request (``forward_headers``), and a class-syntax
    NamedTuple compiles its string annotations at import (tests/live/tools/test_cli.py checks)."""

    __slots__ = ("host", "password", "port", "scheme", "url", "username")

    def __init__(
        self, scheme: str, host: str, port: int, username: str | None, password: str | None, url: URL
    ) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.url = url

    @property
    def is_socks(self) -> bool:
        return self.scheme.startswith("socks")

    @property
    def authorization(self) -> str | None:
        """``Basic ...`` for the proxy's credentials, if the URL has any."""
        if self.username is None:
            return None
        raw = f"{self.username}:{self.password or ''}".encode()
        from binascii import b2a_base64  # base64.b64encode's encoder, without the base64 module (and re)

        return "Basic " + b2a_base64(raw, newline=False).decode("ascii")

    def describe(self) -> str:
        return f"{self.scheme}://{self.url.host_header}"

    def socks_budget(self, options: SendOptions) -> float | None:
        """Seconds the SOCKS handshake (connect, greeting, the proxy's own connect) may take."""
        return connecting(f"connecting through {self.describe()}").budget(options)

    def tunnel_request(self, host: str, port: int, config: ConnectionConfig) -> bytes:
        """The CONNECT request for a tunnel to ``host:port``, with the proxy's headers and credentials."""
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        headers = [("Host", authority)]
        headers.extend(config.proxy_headers)
        authorization = self.authorization
        if authorization is not None and not any(n.lower() == "proxy-authorization" for n, _ in headers):
            headers.append(("Proxy-Authorization", authorization))
        return encode_request_head("CONNECT", authority, headers)

    def check_tunnel_answer(self, parser: ResponseParser, target: str) -> None:
        """Check the proxy's answer to CONNECT (the head is complete); raise ProxyError unless it is 2xx."""
        head = parser.head
        assert head is not None
        if not 200 <= head.status_code < 300:
            raise ProxyError(
                f"the proxy {self.describe()} refused to open a tunnel to {target}: "
                f"{head.status_code} {head.reason}".rstrip()
            )
        if parser.has_body_data() or parser.leftover:
            raise ProxyError(f"the proxy {self.describe()} sent unexpected bytes after accepting the tunnel")

    def opening_tunnel(self) -> Phase:
        """Opening a CONNECT tunnel, bounded by the connect timeout."""
        return connecting(f"opening a tunnel through {self.describe()}")

    def failure(self, exc: BaseException, target: str) -> ProxyError:
        """Wrap a failure talking to the proxy (refused, closed, garbage, endless headers) as ProxyError."""
        reason = str(exc) if isinstance(exc, RequestException) else f"{type(exc).__name__}: {exc}"
        kind = ProxySSLError if isinstance(exc, SSLError) else ProxyError  # TLS to an https:// proxy
        error = kind(f"could not reach {target} through the proxy {self.describe()}: {reason}")
        error.__cause__ = exc
        return error

    def socks_connector(self, asynchronous: bool) -> object:
        """A python-socks proxy object for this proxy (sync or asyncio flavour)."""
        try:
            from python_socks import ProxyType

            if asynchronous:
                from python_socks.async_.asyncio import Proxy
            else:
                from python_socks.sync import Proxy  # type: ignore[assignment]
        except ImportError:
            raise MissingDependencyError(
                f"{self.scheme}:// proxies need the optional python-socks package: pip install 'brisk[socks]'"
            ) from None
        kind = ProxyType.SOCKS5 if self.scheme.startswith("socks5") else ProxyType.SOCKS4
        remote_dns = self.scheme in ("socks4a", "socks5h")
        return Proxy(
            kind, self.host, self.port, username=self.username, password=self.password, rdns=remote_dns
        )

    def socks_failure(self, exc: Exception, url: URL, options: SendOptions) -> Exception:
        """What a failed SOCKS connect raises: a ConnectTimeout when the handshake ran out of time, a
        ProxyError when the proxy or the connection failed, anything else as it is."""
        from python_socks import ProxyError as SocksError  # present: socks_connector made the proxy object
        from python_socks import ProxyTimeoutError

        if isinstance(exc, ProxyTimeoutError):
            return connecting(f"connecting through {self.describe()}").timed_out(options)
        if isinstance(exc, SocksError | OSError) and not isinstance(exc, RequestException):
            return ProxyError(
                f"the proxy {self.describe()} could not connect to {url.host}:{url.effective_port}: {exc}"
            )
        return exc


@lru_cache(maxsize=64)
def parse_proxy(proxy: str) -> ProxyInfo:
    from brisk._core.url import URL, scheme_end

    # "http:/proxy:3128": a scheme, then one slash. Without the check it would read as the host "http".
    if "://" not in proxy and (colon := scheme_end(proxy)) >= 0 and proxy[colon + 1 : colon + 2] == "/":
        raise InvalidProxyURL(f"invalid proxy URL {_redact(proxy)!r}: the scheme must be followed by '//'")
    text = proxy if "://" in proxy else "http://" + proxy  # requests accepts "host:port"
    try:
        url = URL.parse(text)
    except ValueError as exc:
        raise InvalidProxyURL(f"invalid proxy URL {_redact(proxy)!r}: {exc}") from None
    if url.scheme not in _DEFAULT_PORTS:
        raise InvalidProxyURL(
            f"unsupported proxy scheme {url.scheme!r} in {_redact(proxy)!r} "
            f"(use http, https, socks4, socks4a, socks5 or socks5h)"
        )
    from urllib.parse import unquote  # loaded when a proxy is used (every request loads this module)

    username = unquote(url.username) if url.username else None
    password = unquote(url.password) if url.password is not None else None
    port = url.port or _DEFAULT_PORTS[url.scheme]
    return ProxyInfo(url.scheme, url.host, port, username, password, url)


def _redact(proxy: str) -> str:
    scheme, sep, rest = proxy.rpartition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def is_forwarding(config: ConnectionConfig, url: URL) -> bool:
    """Does this request go to an http(s) proxy in absolute form (plain http through an http proxy)?"""
    return config.proxy is not None and url.scheme == "http" and not parse_proxy(config.proxy).is_socks


def forward_headers(config: ConnectionConfig) -> list[tuple[str, str]]:
    """Headers a forwarded (absolute-form) request carries for the proxy."""
    assert config.proxy is not None
    authorization = parse_proxy(config.proxy).authorization
    headers = [(name, value) for name, value in config.proxy_headers]
    if authorization is not None and not any(n.lower() == "proxy-authorization" for n, _ in headers):
        headers.append(("Proxy-Authorization", authorization))
    return headers
