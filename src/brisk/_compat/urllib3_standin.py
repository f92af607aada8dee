"""What ``brisk.packages.urllib3`` offers when urllib3 is not installed (see ``brisk.packages``).

requests re-exports urllib3's names from its own modules (``requests.adapters.MaxRetryError``,
``requests.models.DecodeError``, ``requests.utils.parse_url``, ...), and code written for requests imports
them from there or catches them. brisk does not use urllib3; without it installed, those names are these:

- urllib3's exception and warning classes that requests' modules name, with urllib3's hierarchy and
  constructor arguments (``MaxRetryError(pool, url, reason)``), so that ``except`` clauses and test doubles
  that raise them work; brisk itself never raises them;
- small working equivalents: ``disable_warnings()`` (there is nothing to silence), ``Retry`` (brisk's own,
  which takes urllib3's arguments), ``Timeout``, ``parse_url`` (with its ``Url``), ``make_headers`` and
  ``create_urllib3_context``;
- urllib3's connection machinery (``PoolManager``, ``proxy_from_url``, ``HTTPResponse``, ``RequestField``,
  ``encode_multipart_formdata``): names that raise ``MissingDependencyError`` when used, saying to install
  urllib3.

This module is imported only when urllib3 is missing and something asks for one of these names.
"""

from __future__ import annotations

import ssl
from typing import Any, NamedTuple, NoReturn

from brisk.exceptions import MissingDependencyError

# -- warnings -------------------------------------------------------------------------------------------


class HTTPWarning(Warning):
    """The stand-in's base warning class (urllib3's name)."""


class SecurityWarning(HTTPWarning):
    """Warned about a security-relevant setting (urllib3's name)."""


class InsecureRequestWarning(SecurityWarning):
    """An unverified HTTPS request (urllib3's name). brisk does not emit it."""


class DependencyWarning(HTTPWarning):
    """An optional dependency is missing (urllib3's name)."""


def disable_warnings(category: type[Warning] = HTTPWarning) -> None:
    """Accepted for compatibility: brisk never emits urllib3's warnings, so there is nothing to silence."""


# -- exceptions, in urllib3's hierarchy ----------------------------------------------------------------


class HTTPError(Exception):
    """Base of urllib3's exceptions."""


class PoolError(HTTPError):
    """An error in a connection pool: ``PoolError(pool, message)``."""

    def __init__(self, pool: Any, message: str) -> None:
        self.pool = pool
        self._message = message
        super().__init__(f"{pool}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (None, self._message)


class RequestError(PoolError):
    """A pool error about one URL: ``RequestError(pool, url, message)``."""

    def __init__(self, pool: Any, url: str | None, message: str) -> None:
        self.url = url
        super().__init__(pool, message)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (None, self.url, self._message)


class SSLError(HTTPError):
    """TLS failed (urllib3's name)."""


class ProxyError(HTTPError):
    """Connecting to a proxy failed: ``ProxyError(message, error)``."""

    def __init__(self, message: str, error: Exception) -> None:
        super().__init__(message, error)
        self.original_error = error


class DecodeError(HTTPError):
    """A body could not be decoded with its Content-Encoding (urllib3's name)."""


class ProtocolError(HTTPError):
    """The connection broke in the middle of a request or response (urllib3's name)."""


class MaxRetryError(RequestError):
    """The retries ran out: ``MaxRetryError(pool, url, reason=None)``; ``reason`` is the last error."""

    def __init__(self, pool: Any, url: str | None, reason: Exception | None = None) -> None:
        self.reason = reason
        super().__init__(pool, url, f"Max retries exceeded with url: {url} (Caused by {reason!r})")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (None, self.url, self.reason)


class ClosedPoolError(PoolError):
    """A request was made through a closed pool (urllib3's name)."""


class TimeoutError(HTTPError):
    """Base of urllib3's timeouts."""


class ReadTimeoutError(TimeoutError, RequestError):
    """No data arrived within the read timeout (urllib3's name)."""


class ConnectTimeoutError(TimeoutError):
    """Connecting took longer than the connect timeout (urllib3's name)."""


class NewConnectionError(ConnectTimeoutError, HTTPError):
    """A new connection could not be made: ``NewConnectionError(conn, message)``."""

    def __init__(self, conn: Any, message: str) -> None:
        self.conn = conn
        self._message = message
        super().__init__(f"{conn}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (None, self._message)


class LocationValueError(ValueError, HTTPError):
    """A URL or host is not valid (urllib3's name)."""


class LocationParseError(LocationValueError):
    """A URL could not be parsed: ``LocationParseError(location)``."""

    def __init__(self, location: str) -> None:
        super().__init__(f"Failed to parse: {location}")
        self.location = location


class ResponseError(HTTPError):
    """Too many error responses (urllib3's name)."""

    GENERIC_ERROR = "too many error responses"
    SPECIFIC_ERROR = "too many {status_code} error responses"


class InvalidHeader(HTTPError):
    """A header is not valid (urllib3's name)."""


# -- Timeout ----------------------------------------------------------------------------------------------


class _Default:
    def __repr__(self) -> str:
        return "<default>"


_DEFAULT: Any = _Default()


class Timeout:
    """urllib3's timeout setting (requests' ``TimeoutSauce``): ``Timeout(total=None, connect=..., read=...)``.

    ``connect_timeout`` and ``read_timeout`` give the phase timeouts, bounded by ``total``; a phase left out
    is the default (``DEFAULT_TIMEOUT``, which is None: no timeout).
    """

    DEFAULT_TIMEOUT: float | None = None

    def __init__(self, total: float | None = None, connect: Any = _DEFAULT, read: Any = _DEFAULT) -> None:
        self._connect = self._checked(connect, "connect")
        self._read = self._checked(read, "read")
        self.total = self._checked(total, "total")

    @staticmethod
    def _checked(value: Any, name: str) -> Any:
        if value is _DEFAULT or value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"Timeout value {name} was {value!r}, but it must be an int, float or None.")
        if value <= 0:
            raise ValueError(f"Attempted to set {name} timeout to {value}, but it must be greater than 0.")
        return value

    def _phase(self, value: Any) -> float | None:
        resolved: float | None = self.DEFAULT_TIMEOUT if value is _DEFAULT else value
        total: float | None = self.total
        if total is None:
            return resolved
        return total if resolved is None else min(resolved, total)

    @property
    def connect_timeout(self) -> float | None:
        return self._phase(self._connect)

    @property
    def read_timeout(self) -> float | None:
        return self._phase(self._read)

    @classmethod
    def from_float(cls, timeout: float | None) -> Timeout:
        """One timeout for both connect and read."""
        return cls(read=timeout, connect=timeout)

    def clone(self) -> Timeout:
        return type(self)(connect=self._connect, read=self._read, total=self.total)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(connect={self._connect!r}, read={self._read!r}, total={self.total!r})"


# -- parse_url ------------------------------------------------------------------------------------------


class Url(NamedTuple):
    """A URL's parts as ``parse_url`` splits them (None for a part that is absent)."""

    scheme: str | None = None
    auth: str | None = None
    host: str | None = None
    port: int | None = None
    path: str | None = None
    query: str | None = None
    fragment: str | None = None

    @property
    def hostname(self) -> str | None:
        return self.host

    @property
    def netloc(self) -> str | None:
        if self.host is None:
            return None
        return f"{self.host}:{self.port}" if self.port is not None else self.host

    @property
    def request_uri(self) -> str:
        uri = self.path or "/"
        return f"{uri}?{self.query}" if self.query is not None else uri

    @property
    def url(self) -> str:
        text = f"{self.scheme}://" if self.scheme is not None else ""
        if self.auth is not None:
            text += self.auth + "@"
        text += self.netloc or ""
        text += self.path or ""
        if self.query is not None:
            text += "?" + self.query
        if self.fragment is not None:
            text += "#" + self.fragment
        return text

    def __str__(self) -> str:
        return self.url


def parse_url(url: str) -> Url:
    """Split ``url`` into a ``Url``, leniently: ``example.com/path`` has no scheme and host ``example.com``.
    The scheme and host are lower-cased; an invalid port raises ``LocationParseError``."""
    if not url:
        return Url()
    from urllib.parse import urlsplit

    text = url if "://" in url or url.startswith("/") else "//" + url
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise LocationParseError(url) from None
    netloc = parts.netloc
    auth = netloc.rpartition("@")[0] if "@" in netloc else None
    host = parts.hostname
    if host is not None and ":" in host:
        host = f"[{host}]"
    return Url(
        scheme=parts.scheme.lower() or None,
        auth=auth,
        host=host or None,
        port=port,
        path=parts.path or None,
        query=parts.query if "?" in text else None,
        fragment=parts.fragment if "#" in text else None,
    )


# -- make_headers, create_urllib3_context -----------------------------------------------------------------


def make_headers(
    keep_alive: bool | None = None,
    accept_encoding: bool | list[str] | str | None = None,
    user_agent: str | None = None,
    basic_auth: str | None = None,
    proxy_basic_auth: str | None = None,
    disable_cache: bool | None = None,
    *,
    basic_auth_encoding: str = "latin-1",
    proxy_basic_auth_encoding: str = "latin-1",
) -> dict[str, str]:
    """Common request headers from a few switches, in urllib3's lower-case names. ``accept_encoding=True``
    names the content codings brisk decodes."""
    from base64 import b64encode

    headers: dict[str, str] = {}
    if accept_encoding:
        if isinstance(accept_encoding, str):
            pass
        elif isinstance(accept_encoding, list):
            accept_encoding = ",".join(accept_encoding)
        else:
            from brisk._response.decoders import SUPPORTED_ENCODINGS

            accept_encoding = SUPPORTED_ENCODINGS.replace(" ", "")
        headers["accept-encoding"] = accept_encoding
    if user_agent:
        headers["user-agent"] = user_agent
    if keep_alive:
        headers["connection"] = "keep-alive"
    if basic_auth:
        headers["authorization"] = "Basic " + b64encode(basic_auth.encode(basic_auth_encoding)).decode()
    if proxy_basic_auth:
        encoded = b64encode(proxy_basic_auth.encode(proxy_basic_auth_encoding)).decode()
        headers["proxy-authorization"] = "Basic " + encoded
    if disable_cache:
        headers["cache-control"] = "no-cache"
    return headers


def create_urllib3_context(
    ssl_version: int | None = None,
    cert_reqs: int | None = None,
    options: int | None = None,
    ciphers: str | None = None,
    ssl_minimum_version: int | None = None,
    ssl_maximum_version: int | None = None,
    verify_flags: int | None = None,
) -> ssl.SSLContext:
    """A client ``SSLContext`` set up as urllib3 sets one up: TLS 1.2 at least unless told otherwise,
    certificates required (``cert_reqs``), no compression, no session tickets; no CA certificates loaded."""
    if ssl_version not in (None, ssl.PROTOCOL_TLS, ssl.PROTOCOL_TLS_CLIENT):
        raise ValueError("ssl_version is not supported here: use ssl_minimum_version")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion(ssl_minimum_version or ssl.TLSVersion.TLSv1_2)
    if ssl_maximum_version is not None:
        context.maximum_version = ssl.TLSVersion(ssl_maximum_version)
    if ciphers:
        context.set_ciphers(ciphers)
    if options is None:
        options = ssl.OP_NO_SSLv2 | ssl.OP_NO_SSLv3 | ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET
    context.options |= options
    if verify_flags is not None:
        context.verify_flags |= verify_flags
    context.post_handshake_auth = True
    if cert_reqs is None or cert_reqs == ssl.CERT_REQUIRED:
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = True
    else:
        context.check_hostname = False
        context.verify_mode = ssl.VerifyMode(cert_reqs)
    return context


# -- urllib3's connection machinery: only with urllib3 --------------------------------------------------


def _needs_urllib3(path: str) -> NoReturn:
    raise MissingDependencyError(
        f"urllib3.{path} needs urllib3, which is not installed (brisk sends without it): pip install urllib3"
    )


class _NeedsUrllib3:
    _path = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _needs_urllib3(self._path)


class PoolManager(_NeedsUrllib3):
    """urllib3's pool manager: needs urllib3."""

    _path = "poolmanager.PoolManager"


class ProxyManager(PoolManager):
    """urllib3's proxy manager: needs urllib3."""

    _path = "poolmanager.ProxyManager"


class HTTPResponse(_NeedsUrllib3):
    """urllib3's response: needs urllib3 (brisk's ``response.raw`` offers its reading methods)."""

    _path = "response.HTTPResponse"


class RequestField(_NeedsUrllib3):
    """urllib3's multipart field: needs urllib3."""

    _path = "fields.RequestField"


def proxy_from_url(url: str, **kw: Any) -> ProxyManager:
    """urllib3's ``ProxyManager`` for a proxy URL: needs urllib3."""
    _needs_urllib3("poolmanager.proxy_from_url")


def encode_multipart_formdata(fields: Any, boundary: str | None = None) -> tuple[bytes, str]:
    """urllib3's multipart encoder: needs urllib3."""
    _needs_urllib3("filepost.encode_multipart_formdata")


#: The stand-in's modules: name (below urllib3) -> the names it holds.
MODULES: dict[str, tuple[str, ...]] = {
    "exceptions": (
        "HTTPWarning", "SecurityWarning", "InsecureRequestWarning", "DependencyWarning", "HTTPError",
        "PoolError", "RequestError", "SSLError", "ProxyError", "DecodeError", "ProtocolError",
        "MaxRetryError", "ClosedPoolError", "TimeoutError", "ReadTimeoutError", "ConnectTimeoutError",
        "NewConnectionError", "LocationValueError", "LocationParseError", "ResponseError", "InvalidHeader",
    ),
    "util.retry": ("Retry",),
    "util.timeout": ("Timeout",),
    "util.url": ("Url", "parse_url"),
    "util.request": ("make_headers",),
    "util.ssl_": ("create_urllib3_context",),
    "util": ("Retry", "Timeout", "Url", "parse_url", "make_headers", "create_urllib3_context"),
    "poolmanager": ("PoolManager", "ProxyManager", "proxy_from_url"),
    "response": ("HTTPResponse",),
    "fields": ("RequestField",),
    "filepost": ("encode_multipart_formdata",),
    "": (
        "disable_warnings", "Retry", "Timeout", "PoolManager", "ProxyManager", "proxy_from_url",
        "HTTPResponse", "make_headers",
    ),
}  # fmt: skip
