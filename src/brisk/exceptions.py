"""The exception tree: requests' names and multiple inheritance, with finer classes below it.

Code written for requests keeps catching what it caught before::

    RequestException (OSError)
    ├── HTTPError                      raise_for_status() on 4xx/5xx
    ├── ConnectionError
    │   ├── ProxyError
    │   │   └── ProxySSLError (also SSLError)  brisk: TLS to an https:// proxy failed
    │   ├── SSLError
    │   ├── ConnectTimeout (also Timeout)
    │   ├── NameResolutionError        brisk: the host name did not resolve
    │   ├── ConnectionRefused          brisk: nothing listens on that port
    │   └── RemoteProtocolError        brisk: the server broke HTTP (bad status line, framing, ...)
    │       └── ResponseHeadersTooLarge
    ├── Timeout
    │   ├── ConnectTimeout
    │   ├── ReadTimeout
    │   ├── WriteTimeout               brisk
    │   └── PoolTimeout                brisk: no connection became free in time
    ├── TooManyRedirects
    ├── MissingSchema, InvalidSchema, InvalidURL, InvalidHeader (all also ValueError)
    │   InvalidURL ── InvalidProxyURL, InvalidRedirect (brisk)
    ├── InvalidJSONError ── JSONDecodeError (also json.JSONDecodeError)
    ├── ChunkedEncodingError ── IncompleteBody (brisk: fewer bytes than announced)
    ├── ContentDecodingError ── DecompressionBombError, TooManyContentEncodings (brisk)
    ├── StreamConsumedError (also TypeError)
    ├── RetryError
    ├── UnrewindableBodyError
    └── DownloadError                  brisk: download() could not complete or verify the file
        ├── SizeMismatch               the file's size is not the size the server announced
        └── ChecksumMismatch           the file's digest is not the expected checksum

Every message names what went wrong and, where there is one, the URL.
"""

from __future__ import annotations

from functools import lru_cache

from brisk._core.config import _UNSET, TimeoutValues, is_timeout_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._core.json_error import JSONDecodeError
    from brisk.models import PreparedRequest, Response

__all__ = [
    "ChecksumMismatch",
    "ChunkedEncodingError",
    "ConnectTimeout",
    "ConnectionError",
    "ConnectionRefused",
    "ContentDecodingError",
    "DecompressionBombError",
    "DownloadError",
    "FileModeWarning",
    "HTTPError",
    "IncompleteBody",
    "InvalidHeader",
    "InvalidJSONError",
    "InvalidMethod",
    "InvalidProxyURL",
    "InvalidRedirect",
    "InvalidSchema",
    "InvalidURL",
    "JSONDecodeError",
    "MissingDependencyError",
    "MissingSchema",
    "NameResolutionError",
    "PoolTimeout",
    "ProxyError",
    "ProxySSLError",
    "ReadTimeout",
    "RemoteProtocolError",
    "RequestException",
    "RequestsDependencyWarning",
    "RequestsWarning",
    "ResponseHeadersTooLarge",
    "RetryError",
    "SSLError",
    "SizeMismatch",
    "StreamConsumedError",
    "Timeout",
    "TooManyContentEncodings",
    "TooManyRedirects",
    "URLRequired",
    "UnrewindableBodyError",
    "WebSocketClosed",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WriteTimeout",
]


class RequestException(OSError):
    """Base of every error brisk raises while handling a request.

    ``request`` and ``response`` are attached when known, as in requests.
    """

    def __init__(
        self, *args: Any, request: PreparedRequest | None = None, response: Response | None = None
    ) -> None:
        super().__init__(*args)
        self.response = response
        self.request = request
        if request is None and response is not None:
            self.request = getattr(response, "request", None)


class HTTPError(RequestException):
    """The server answered with a 4xx or 5xx status (raised by ``raise_for_status()``)."""


class ConnectionError(RequestException):
    """The connection could not be made, or broke before a response arrived."""


class ProxyError(ConnectionError):
    """The proxy refused the request or could not be reached."""


class SSLError(ConnectionError):
    """TLS failed: certificate not trusted, expired, for another host, or a handshake error."""


class ProxySSLError(ProxyError, SSLError):
    """TLS to an ``https://`` proxy failed (its certificate is not trusted, expired, for another host...):
    a ProxyError, as requests raises, and an SSLError, since that is what failed."""


class NameResolutionError(ConnectionError):
    """The host name could not be resolved to an address."""


class ConnectionRefused(ConnectionError):
    """The host answered, but nothing accepts connections on that port."""


class RemoteProtocolError(ConnectionError):
    """The server sent something that is not valid HTTP, or closed the connection unexpectedly."""


class ResponseHeadersTooLarge(RemoteProtocolError):
    """The response's header block exceeded a configured limit (size of a line, of the block, or count)."""


class Timeout(RequestException, TimeoutValues):
    """Timeouts, in both of requests' and brisk's senses.

    As an exception: the request timed out; catching ``Timeout`` catches ConnectTimeout, ReadTimeout,
    WriteTimeout and PoolTimeout.

    As a setting (built with numbers or phase keywords), the ``timeout=`` of a request or session::

        Timeout(5)                      # every phase 5 s
        Timeout(5, read=60)             # connect/write/pool 5 s, read 60 s
        Timeout(connect=3, total=20)    # other phases at their defaults; 20 s for everything

    Phases: connect (10 s by default), read (30 s), write (30 s), pool (30 s), and total (off): a deadline
    covering redirects, retries, backoff and reading the body. ``None`` disables a phase.
    """

    def __init__(
        self,
        *args: Any,
        connect: float | None = _UNSET,
        read: float | None = _UNSET,
        write: float | None = _UNSET,
        pool: float | None = _UNSET,
        total: float | None = _UNSET,
        request: PreparedRequest | None = None,
        response: Response | None = None,
    ) -> None:
        setting = len(args) == 1 and (is_timeout_value(args[0]) or isinstance(args[0], TimeoutValues))
        if setting or any(v is not _UNSET for v in (connect, read, write, pool, total)):
            if len(args) > 1:
                raise TypeError(
                    "Timeout takes one default value plus keyword phases, e.g. Timeout(5, read=30)"
                )
            self._set_phases(args[0] if args else _UNSET, connect, read, write, pool, total)
            args = ()
        super().__init__(*args, request=request, response=response)

    @staticmethod
    def coerce(value: Any) -> Timeout:
        """Turn any accepted ``timeout=`` argument into a Timeout setting.

        A number sets every phase; requests' ``(connect, read)`` tuple sets connect (and pool wait) and read
        (and write); ``None`` disables every phase timeout.
        """
        if isinstance(value, Timeout):
            return value
        if hasattr(value, "connect_timeout") and hasattr(value, "read_timeout"):
            # urllib3's Timeout (requests' tests and older code pass one): its connect and read phases
            read = value.read_timeout
            return Timeout(connect=value.connect_timeout, read=read, write=read, pool=value.connect_timeout)
        # The cache key holds the types too: True == 1 and Decimal(1) == 1 as keys, yet True is refused.
        kinds: Any = tuple(map(type, value)) if isinstance(value, tuple) else type(value)
        try:
            return _coerce_timeout(value, kinds)
        except TypeError:  # unhashable (a list, a dict): not a timeout value either
            raise ValueError(_TIMEOUT_TYPES + f", not {value!r}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeout):
            return NotImplemented
        return type(self) is type(other) and self.args == other.args and self._phases == other._phases

    def __hash__(self) -> int:
        return hash((type(self), self.args, self._phases))

    def __repr__(self) -> str:
        if self.args:
            return super().__repr__()
        return f"{type(self).__name__}({self._describe_phases()})"


_TIMEOUT_TYPES = "timeout must be an int, float or None, a (connect, read) tuple or a Timeout"


@lru_cache(maxsize=64)
def _coerce_timeout(value: Any, kinds: object) -> Timeout:
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"a timeout tuple must be (connect, read), got {value!r}")
        connect, read = value
        return Timeout(connect=connect, read=read, write=read, pool=connect)
    if not is_timeout_value(value):
        raise ValueError(_TIMEOUT_TYPES + f", not {value!r}")  # ValueError, as in requests
    return Timeout(value)


DEFAULT_TIMEOUT = Timeout()


class ConnectTimeout(ConnectionError, Timeout):
    """Connecting (TCP, TLS handshake or proxy tunnel) took longer than the connect timeout."""


class ReadTimeout(Timeout):
    """The server sent no data for longer than the read timeout, or the total deadline passed."""


class WriteTimeout(Timeout):
    """Sending the request took longer than the write timeout."""


class PoolTimeout(Timeout):
    """No connection became free in the pool within the pool timeout."""


class URLRequired(RequestException):
    """A valid URL is required to make a request."""


class TooManyRedirects(RequestException):
    """More redirects than ``max_redirects`` were followed."""


class MissingSchema(RequestException, ValueError):
    """The URL has no scheme (``http://`` or ``https://``)."""


class InvalidSchema(RequestException, ValueError):
    """The URL's scheme is not one brisk can speak (only http and https)."""


class InvalidURL(RequestException, ValueError):
    """The URL is not valid: bad host, port or characters."""


class InvalidProxyURL(InvalidURL):
    """The proxy URL is not valid."""


class InvalidRedirect(InvalidURL):
    """A redirect pointed to an invalid URL or to a scheme other than http/https; nothing was sent there."""


class InvalidHeader(RequestException, ValueError):
    """A header name or value is not valid (for example it contains CR, LF or NUL)."""


class InvalidMethod(RequestException, ValueError):
    """The HTTP method is not a valid token (for example it contains a space or a control character)."""


class InvalidJSONError(RequestException):
    """The ``json=`` body could not be serialised."""


class ChunkedEncodingError(RequestException):
    """The response body was broken off or badly framed (requests' name for this family)."""


class IncompleteBody(ChunkedEncodingError):
    """The connection closed before the whole body arrived (fewer bytes than announced)."""


class ContentDecodingError(RequestException):
    """The body could not be decoded with its Content-Encoding."""


class DecompressionBombError(ContentDecodingError):
    """Decoding the body would expand it beyond the configured ratio; decoding stopped."""


class TooManyContentEncodings(ContentDecodingError):
    """The response declared more chained content codings than allowed."""


class StreamConsumedError(RequestException, TypeError):
    """The content of this response was already consumed."""


class RetryError(RequestException):
    """Retries were exhausted on a retryable status and ``raise_on_status`` is set."""


class UnrewindableBodyError(RequestException):
    """The request body cannot be sent again (for a retry, redirect or auth challenge)."""


class DownloadError(RequestException):
    """``download()`` could not complete or verify the file; ``path`` is the target it was for."""

    def __init__(self, *args: Any, path: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.path = path


class SizeMismatch(DownloadError):
    """The downloaded file's size differs from what the server announced; the bad file was deleted."""


class ChecksumMismatch(DownloadError):
    """The downloaded file's digest differs from ``checksum=``; the bad file was deleted.

    ``expected`` and ``actual`` are the two hex digests.
    """

    def __init__(self, *args: Any, expected: str = "", actual: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.actual = actual


class MissingDependencyError(RequestException):
    """An optional extra is needed for this feature (the message says which to install)."""


class WebSocketError(RequestException):
    """Base of the errors of a WebSocket connection (``Session.websocket``)."""


class WebSocketHandshakeError(WebSocketError):
    """The server did not accept the WebSocket handshake: a status other than 101 (``response`` holds it,
    body read), a redirect (not followed), or a 101 whose headers are wrong (``Sec-WebSocket-Accept``,
    ``Upgrade``, a subprotocol or extension that was not offered)."""


class WebSocketClosed(WebSocketError):
    """The WebSocket connection is closed: ``code`` and ``reason`` are the peer's close frame's (1006 and
    "" when the connection ended without one). Raised by ``receive()`` and ``send()`` once closed; when
    brisk closed it because the peer broke the protocol (an oversize or invalid frame, invalid UTF-8),
    ``code`` is the one brisk sent (1002, 1007, 1009) and ``reason`` says what was wrong."""

    def __init__(self, *args: Any, code: int = 1006, reason: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.code = code
        self.reason = reason


class RequestsWarning(Warning):
    """Base warning for brisk."""


class FileModeWarning(RequestsWarning, DeprecationWarning):
    """A file was opened in text mode; brisk sends bytes."""


class RequestsDependencyWarning(RequestsWarning):
    """A dependency's version is not one requests supports (``check_compatibility``)."""


def __getattr__(name: str) -> Any:
    # JSONDecodeError subclasses json.JSONDecodeError, and json is imported only when needed (_json_error).
    if name == "JSONDecodeError":
        from brisk._core.json_error import JSONDecodeError

        return JSONDecodeError
    # requests.exceptions' BaseHTTPError (urllib3's HTTPError) and CompatJSONDecodeError (json's)
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._core.requests_names import requests_name

    return requests_name(__name__, name)
