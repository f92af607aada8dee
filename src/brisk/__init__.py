"""brisk: a fast, safe-by-default HTTP client with the requests API, in sync and async.

>>> import brisk
>>> r = brisk.get("https://api.example.com/items", params={"page": 2}, timeout=10)
>>> r.raise_for_status()
>>> r.json()

Code written for requests runs unchanged after ``import brisk as requests``; for libraries that import
requests themselves, ``brisk.install_as_requests()`` makes the whole process's ``requests`` brisk.
"""

from brisk import exceptions
from brisk.__version__ import __version__
from brisk._core.config import Limits
from brisk._flows.retry import Retry
from brisk.api import delete, download, get, head, options, patch, post, put, request
from brisk.auth import AuthBase, HTTPBasicAuth, HTTPBearerAuth, HTTPProxyAuth
from brisk.exceptions import (
    ConnectionError,
    ConnectTimeout,
    DownloadError,
    FileModeWarning,
    HTTPError,
    PoolTimeout,
    ReadTimeout,
    RequestException,
    Timeout,
    TooManyRedirects,
    URLRequired,
    WebSocketClosed,
    WebSocketError,
    WebSocketHandshakeError,
    WriteTimeout,
)
from brisk.models import PreparedRequest, Request, Response
from brisk.sessions import AsyncSession, Session, session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk import status_codes
    from brisk._auth.digest import HTTPDigestAuth
    from brisk._bulk.api import abulk, bulk
    from brisk._bulk.dask import bulk_on_dask
    from brisk._bulk.items import BulkProgress, BulkResult
    from brisk._bulk.job import BulkSummary
    from brisk._bulk.meter import BulkBar
    from brisk._cache.store import Cache
    from brisk._compat.shim import install_as_requests, uninstall_as_requests
    from brisk._core.json_error import JSONDecodeError
    from brisk._response.connection_info import ConnectionInfo
    from brisk._response.sse import ServerSentEvent
    from brisk._session.doh import DoHResolver
    from brisk._session.download import DownloadResult
    from brisk._session.ratelimit import RateLimit
    from brisk._websocket.aio import AsyncWebSocket
    from brisk._websocket.sync import WebSocket
    from brisk.status_codes import codes

#: Public names defined in modules loaded on first use (``import brisk`` stays fast).
_LAZY = {
    "AsyncWebSocket": "_websocket.aio",
    "BulkBar": "_bulk.meter",
    "BulkProgress": "_bulk.items",
    "BulkResult": "_bulk.items",
    "BulkSummary": "_bulk.job",
    "abulk": "_bulk.api",
    "bulk": "_bulk.api",
    "bulk_on_dask": "_bulk.dask",
    "Cache": "_cache.store",
    "ConnectionInfo": "_response.connection_info",
    "DoHResolver": "_session.doh",
    "DownloadResult": "_session.download",
    "HTTPDigestAuth": "_auth.digest",
    "JSONDecodeError": "_core.json_error",
    "RateLimit": "_session.ratelimit",
    "ServerSentEvent": "_response.sse",
    "WebSocket": "_websocket.sync",
    "codes": "status_codes",
    "install_as_requests": "_compat.shim",
    "uninstall_as_requests": "_compat.shim",
}

__all__ = [
    "AsyncSession",
    "AsyncWebSocket",
    "AuthBase",
    "BulkBar",
    "BulkProgress",
    "BulkResult",
    "BulkSummary",
    "Cache",
    "ConnectTimeout",
    "ConnectionError",
    "ConnectionInfo",
    "DoHResolver",
    "DownloadError",
    "DownloadResult",
    "FileModeWarning",
    "HTTPBasicAuth",
    "HTTPBearerAuth",
    "HTTPDigestAuth",
    "HTTPError",
    "HTTPProxyAuth",
    "JSONDecodeError",
    "Limits",
    "PoolTimeout",
    "PreparedRequest",
    "RateLimit",
    "ReadTimeout",
    "Request",
    "RequestException",
    "Response",
    "Retry",
    "ServerSentEvent",
    "Session",
    "Timeout",
    "TooManyRedirects",
    "URLRequired",
    "WebSocket",
    "WebSocketClosed",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WriteTimeout",
    "__version__",
    "abulk",
    "bulk",
    "bulk_on_dask",
    "codes",
    "delete",
    "download",
    "exceptions",
    "get",
    "head",
    "install_as_requests",
    "options",
    "patch",
    "post",
    "put",
    "request",
    "session",
    "status_codes",
    "uninstall_as_requests",
]


#: requests' submodules that ``import brisk`` does not load (the others are imported above).
_SUBMODULES = frozenset(
    ("cookies", "certs", "utils", "compat", "packages", "status_codes", "_internal_utils")
)


def __dir__() -> list[str]:
    """The module's names, the lazy ones among them before they are loaded (completion, ``dir(brisk)``)."""
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str) -> object:
    """requests' submodules that brisk imports lazily (``requests.cookies.RequestsCookieJar`` after a plain
    ``import requests``) load on first attribute access, keeping ``import brisk`` fast."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY:
        import importlib

        value = globals()[name] = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        return value
    # the rest of requests' top-level names (urllib3, check_compatibility, ...): brisk._core.requests_names
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._core.requests_names import requests_name

    return requests_name(__name__, name)
