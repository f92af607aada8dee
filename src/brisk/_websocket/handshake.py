"""The opening handshake as a request of the session, shared by both drivers.

The handshake is a GET through the session's own request flow (``brisk._flows.request``): its headers,
cookies (sent, and stored from the 101), auth (Digest challenges answered), hooks, retries, timeouts and the
proxy choice apply as to any request. Only the last link differs: an *upgrade transport* (``sync.py``,
``aio.py``) opens a connection of its own for each attempt instead of taking one from the pool (a
connection that switches protocols never returns to a pool), with ALPN limited to http/1.1, through the
same connect, TLS and proxy code (CONNECT or SOCKS: a ws:// URL is tunnelled, never forwarded). Redirects
are not followed: a 3xx is a ``WebSocketHandshakeError``. Nor is the session's cache asked: a handshake
always reaches the server.
"""

from __future__ import annotations

import copy
import time

from brisk._core.url import URL
from brisk._transport.base import SendOptions
from brisk._websocket.core import Handshake, HeadReader, load
from brisk.exceptions import InvalidSchema
from brisk.structures import CaseInsensitiveDict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._flows.request import FlowSettings
    from brisk._transport.base import Timings
    from brisk.models import PreparedRequest, Response

__all__ = [
    "HTTP_SCHEME",
    "WS_SCHEME",
    "Plan",
    "handshake_response",
    "plan",
    "split_options",
    "upgrade_options",
]

HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
WS_SCHEME = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
#: Request options that make no sense for a handshake (it has no body, and its answer is not a page).
_REFUSED = frozenset({"data", "json", "files", "stream", "allow_redirects", "progress"})


class Plan:
    """What a driver needs to run one handshake."""

    __slots__ = ("handshake", "opener", "request", "settings", "url")

    def __init__(self, request: PreparedRequest, settings: FlowSettings, handshake: Handshake, url: str):
        self.request = request
        self.settings = settings
        self.handshake = handshake
        self.url = url
        #: ``opener(request) -> socket`` instead of connecting (``MockTransport(websocket=...)``), or None.
        self.opener: Any = None


def plan(
    session: Any,
    url: str | URL,
    subprotocols: list[str] | None,
    headers: Any,
    compression: str | None,
    max_size: int | None,
    options: dict[str, Any],
) -> Plan:
    """The handshake request of ``session`` for ``url`` (ws:// or wss://) and its flow settings."""
    refused = _REFUSED & options.keys()
    if refused:
        raise TypeError(f"websocket() does not take {', '.join(sorted(refused))}")
    parsed = url if isinstance(url, URL) else URL.parse(url)
    if parsed.scheme not in HTTP_SCHEME:
        raise InvalidSchema(f"a WebSocket URL is ws:// or wss://, not {parsed.scheme}:// ({url})")
    load()  # a missing websockets package fails here, before any connection is made
    handshake = Handshake(subprotocols, compression, max_size)
    merged: CaseInsensitiveDict[Any] = CaseInsensitiveDict(headers or {})
    merged.update(handshake.headers())
    call = dict(options, headers=merged, allow_redirects=False)
    http_url = str(parsed.copy_with(scheme=HTTP_SCHEME[parsed.scheme]))
    request = session._prepare_options("GET", http_url, call)
    settings = session._settings(request, call)
    if settings.cache is not None:
        # A handshake is never the cache's to answer: a page stored for the same URL is no 101, and a
        # 101 is never stored. (A copy: the session may keep these settings for its plain calls.)
        settings = copy.copy(settings)
        settings.cache = None
    ws_url = str(parsed.copy_with(scheme=WS_SCHEME[parsed.scheme]))
    result = Plan(request, settings, handshake, ws_url)
    result.opener = getattr(getattr(session, "_given_transport", None), "open_websocket", None)
    return result


def upgrade_options(request: PreparedRequest, options: SendOptions) -> tuple[URL, SendOptions]:
    """The ws:// or wss:// URL an attempt connects to, and its options with ALPN offering http/1.1 alone
    (a WebSocket over HTTP/2 needs extended CONNECT, RFC 8441, which brisk does not speak)."""
    url = request._url
    assert url is not None
    ws_url = url.copy_with(scheme=WS_SCHEME[url.scheme])
    config = options.config
    if config.http2:
        config = config._replace(http2=False)
        options = SendOptions(options.timeout, config, options.deadline, options.limits)
    return ws_url, options


#: websocket()'s own keywords and their defaults: the rest are request options.
WEBSOCKET_DEFAULTS: dict[str, Any] = {
    "subprotocols": None,
    "compression": "deflate",
    "max_message_size": 1024 * 1024,
    "close_timeout": 10.0,
    "ping_interval": None,
    "ping_timeout": 20.0,
}


def split_options(session: Any, url: str | URL, options: dict[str, Any]) -> tuple[Plan, dict[str, Any]]:
    """The handshake's plan, and the connection's own settings (close and keep-alive timing)."""
    own = {name: options.pop(name, default) for name, default in WEBSOCKET_DEFAULTS.items()}
    headers = options.pop("headers", None)
    max_size = own["max_message_size"]
    handshake_plan = plan(session, url, own["subprotocols"], headers, own["compression"], max_size, options)
    settings = {name: own[name] for name in ("close_timeout", "ping_interval", "ping_timeout")}
    return handshake_plan, settings


def handshake_response(reader: HeadReader, request: PreparedRequest, timings: Timings, info: Any) -> Response:
    """The Response of a handshake attempt once ``reader`` is done: the 101 (no body), or the refusal with
    its body."""
    from brisk._core.streams import ByteStream
    from brisk.models import Response

    timings.total = time.monotonic() - timings.start
    head = reader.head
    body = b""
    if head is None:
        parser = reader.parser
        assert parser is not None
        assert parser.head is not None
        head, body = parser.head, parser.take_body()
    return Response._from_transport(
        head.status_code, head.reason, head.http_version, head, ByteStream(body), request, timings, info
    )
