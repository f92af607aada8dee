"""The exception tree: requests' names and multiple inheritance, with finer classes below it.

Code written for requests keeps catching what it caught before::

    RequestException (OSError)
    ├── HTTPError                      raise_for_status() on 4xx/5xx
    ├── ConnectionError
    │   ├── ProxyError
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
    └── UnrewindableBodyError

Every message names what went wrong and, where there is one, the URL.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import PreparedRequest, Response

__all__ = [
    "ChunkedEncodingError",
    "ConnectTimeout",
    "ConnectionError",
    "ConnectionRefused",
    "ContentDecodingError",
    "DecompressionBombError",
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
    "ReadTimeout",
    "RemoteProtocolError",
    "RequestException",
    "RequestsWarning",
    "ResponseHeadersTooLarge",
    "RetryError",
    "SSLError",
    "StreamConsumedError",
    "Timeout",
    "TooManyContentEncodings",
    "TooManyRedirects",
    "URLRequired",
    "UnrewindableBodyError",
    "WriteTimeout",
]


class RequestException(OSError):
    """Base of every error brisk raises while handling a request.

    ``request`` and ``response`` are attached when known, as in requests.
    """

    def __init__(self, *args: Any, request: PreparedRequest | None = None,
                 response: Response | None = None) -> None:
        super().__init__(*args)
        self.response = response
        self.request = request
        if request is None and response is not None:
            self.request = getattr(response, "request", None)


class HTTPError(RequestException):
    """The server answered with a 4xx or 5xx status (raised by ``raise_for_status()``)."""


class ConnectionError(RequestException):  # noqa: A001 - requests' name, deliberately shadowing the builtin
    """The connection could not be made, or broke before a response arrived."""


class ProxyError(ConnectionError):
    """The proxy refused the request or could not be reached."""


class SSLError(ConnectionError):
    """TLS failed: certificate not trusted, expired, for another host, or a handshake error."""


class NameResolutionError(ConnectionError):
    """The host name could not be resolved to an address."""


class ConnectionRefused(ConnectionError):
    """The host answered, but nothing accepts connections on that port."""


class RemoteProtocolError(ConnectionError):
    """The server sent something that is not valid HTTP, or closed the connection unexpectedly."""


class ResponseHeadersTooLarge(RemoteProtocolError):
    """The response's header block exceeded a configured limit (size of a line, of the block, or count)."""


class Timeout(RequestException):
    """The request timed out. Catching this catches every timeout below."""


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


class JSONDecodeError(InvalidJSONError, json.JSONDecodeError):
    """The response body is not valid JSON. Also a ``json.JSONDecodeError`` and so a ``ValueError``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        json.JSONDecodeError.__init__(self, *args)
        InvalidJSONError.__init__(self, *self.args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return json.JSONDecodeError.__reduce__(self)


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


class MissingDependencyError(RequestException):
    """An optional extra is needed for this feature (the message says which to install)."""


class RequestsWarning(Warning):
    """Base warning for brisk."""


class FileModeWarning(RequestsWarning, DeprecationWarning):
    """A file was opened in text mode; brisk sends bytes."""
