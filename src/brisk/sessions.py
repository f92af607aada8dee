"""``Session`` and ``AsyncSession``: settings, connection pooling and cookies across requests.

Both are thin. What they share lives in ``brisk._session``: the settings, declared once in a table
(``settings``), the state and the flow settings of a call (``base``), the verb methods and request
preparation (``calls``), and the options of a request (``options``). Here each session only runs its
request's flow (``brisk._flows``, shared) on its transport (one per world).

Precedence of every setting: the argument of the call > the session's attribute > the environment
(``trust_env``: proxies, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, netrc), which a session reads once,
at its first request.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Coroutine, Iterable

from brisk._flows import run_async, run_sync
from brisk._flows.request import send_async, send_sync
from brisk._request.defaults import default_headers
from brisk._session.base import SessionBase
from brisk._session.calls import SessionCalls
from brisk._session.options import BODY_OPTIONS as _BODY_OPTIONS
from brisk._session.redirect_mixin import SessionRedirectMixin
from brisk._session.settings import NOT_PICKLED as _NOT_PICKLED
from brisk._session.settings import PICKLED as _PICKLED
from brisk.models import PreparedRequest, Request, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Unpack

    from brisk._bulk.items import BulkResult, SaveTo
    from brisk._bulk.sync import BulkResults
    from brisk._session.download import DownloadResult
    from brisk._session.types import DownloadOptions, RequestOptions, SendKeywords
    from brisk._transport.base import AsyncBaseTransport, BaseTransport
    from brisk._websocket.aio import AsyncWebSocketConnect
    from brisk._websocket.sync import WebSocket
    from brisk._websocket.types import WebSocketOptions

__all__ = ["AsyncSession", "Session", "SessionRedirectMixin", "default_headers", "session"]
# _PICKLED and _NOT_PICKLED: what a session pickles and leaves behind (tests check a session against them)
_ = (_NOT_PICKLED, _PICKLED)


def __getattr__(name: str) -> object:
    """requests.sessions's other names, loaded when first read (see brisk._core.requests_names)."""
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._core.requests_names import requests_name

    return requests_name(__name__, name)


class Session(SessionCalls[Response]):
    """A requests-compatible session: pooled keep-alive connections, cookies and settings shared by its
    requests, safe for use from several threads.

    >>> with brisk.Session() as s:
    ...     s.headers["Authorization"] = "Bearer <token>"
    ...     r = s.get("https://api.example.com/items", params={"page": 2}, timeout=10)
    ...     r.raise_for_status()
    """

    _transport: BaseTransport | None
    _seams = globals()  # see SessionCalls._seams

    def request(self, method: str, url: str | bytes, **options: Unpack[RequestOptions]) -> Response:
        """Send a request and return its Response (body read unless ``stream=True``).

        ``progress(done, total)`` is called as the request body goes out (``total`` None when unknown).
        """
        if not options:
            return self._request_plain(method, url)
        if options.get("progress") is None and self._follows_requests_chain():
            return self._request_via_send(method, url, options)
        if options.keys() <= _BODY_OPTIONS:  # s.post(url, json=doc)
            p, settings = self._prepare_plain(method, url, options)
        else:
            p = self._prepare_options(method, url, options)
            settings = self._settings(p, options)
        return send_sync(p, settings, self._transport_for())

    def _request_plain(self, method: str, url: str | bytes) -> Response:
        if self._follows_requests_chain():
            return self._request_via_send(method, url, {})
        p, settings = self._prepare_plain(method, url)
        return send_sync(p, settings, self._transport_for())

    def send(self, request: PreparedRequest, **options: Unpack[SendKeywords]) -> Response:
        """Send a ``PreparedRequest`` (from ``Request(...).prepare()`` or ``prepare_request``).

        Takes requests' ``stream``, ``timeout``, ``verify``, ``cert``, ``proxies`` and ``allow_redirects``,
        and ``retries``; any other keyword is a TypeError (it would have no effect)."""
        request, settings = self._send_settings(request, options)
        return send_sync(request, settings, self._transport_for())

    def download(
        self, url: str, path: str | os.PathLike[str], **options: Unpack[DownloadOptions]
    ) -> DownloadResult:
        """Download ``url`` to the file ``path`` (or into the directory ``path``), resuming where an earlier
        attempt stopped; see ``brisk.download``.

        >>> result = session.download(url, "big.iso", checksum="sha256:9f86d0...", progress=ProgressBar())
        """
        from brisk._session.download import download_flow, plan_download

        plan, request_options = plan_download(url, path, options)
        return run_sync(download_flow(plan, self, request_options))

    def websocket(self, url: str, **options: Unpack[WebSocketOptions]) -> WebSocket:
        """Open a WebSocket connection to ``url`` (ws:// or wss://); the handshake is a request of this
        session (cookies, auth, headers, proxies, TLS settings, timeouts, hooks). See the README.

        >>> with session.websocket("wss://example.com/feed", subprotocols=["v1"]) as ws:
        ...     ws.send("hello")
        ...     reply = ws.receive()
        """
        from brisk._websocket.sync import open_websocket  # loaded when first used

        return open_websocket(self, url, dict(options))

    def _run_map(self, calls: list[dict[str, Any]], concurrency: int, return_exceptions: bool) -> list[Any]:
        from brisk._bulk.sync import map_sync  # the bulk engine, on an event loop the session keeps

        return map_sync(self, calls, concurrency, return_exceptions)

    def imap(
        self,
        items: Iterable[Any],
        *,
        concurrency: int = 100,
        per_host: int | None = None,
        ordered: bool = False,
        window: int | None = None,
        save_to: SaveTo | None = None,
        on_progress: Any = None,
        **common: Unpack[RequestOptions],
    ) -> BulkResults:
        """Send a request per item, ``concurrency`` at a time, and yield a ``BulkResult`` per item as each
        completes (``ordered=True``: in input order, holding at most ``window`` items).

        Items are taken lazily from any iterable: URLs, ``(method, url)`` pairs, or dicts of ``request()``
        arguments (a ``path`` key saves that item's body to a file). Memory stays flat however many items
        there are. ``per_host`` caps the requests running at once per scheme://host:port; ``save_to`` (a
        directory, or ``f(index, call) -> path``) writes bodies to files; ``on_progress`` is a callable taking
        a ``BulkProgress``, or True for a bar on standard error. Use it in a ``with`` block (or call
        ``close()``) to stop a run left early at once. See the README's bulk section.

        >>> for r in session.imap(urls, concurrency=200, per_host=8, timeout=10):
        ...     print(r.index, r.status, r.error)
        """
        from brisk._bulk.items import BulkOptions
        from brisk._bulk.sync import imap_sync

        options = BulkOptions(
            concurrency=concurrency, per_host=per_host, ordered=ordered, window=window, save_to=save_to,
            progress=on_progress, common=common,
        )  # fmt: skip
        return imap_sync(self, items, options)

    def _new_transport(self) -> BaseTransport:
        from brisk._transport.sync.transport import SyncTransport  # loaded by the first request

        return SyncTransport(self.limits)

    def close(self) -> None:
        """Close every pooled connection. The session stays usable: later requests open new connections."""
        if "_bulk" in self.__dict__:  # the event loops of imap/map and their connections
            from brisk._bulk.sync import close_bulk

            close_bulk(self)
        if self._transport is not None:
            self._transport.close()
            if self._transport is not self._given_transport:
                self._transport = None
        for adapter in self.adapters.values():
            adapter.close()
        if self.cache is not None and self.cache._session_made:
            self.cache.close()  # a file it opened (it opens again if the session is used again)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def _follows_requests_chain(self) -> bool:
        """Is ``send``, ``prepare_request`` or ``merge_environment_settings`` overridden or patched? Then
        ``request()`` goes the way requests' does, through them."""
        cls = type(self)
        own = self.__dict__
        return (
            cls.send is not _SESSION_SEND
            or cls.prepare_request is not _PREPARE_REQUEST
            or cls.merge_environment_settings is not _MERGE_ENVIRONMENT
            or "send" in own
            or "prepare_request" in own
            or "merge_environment_settings" in own
        )

    def _request_via_send(self, method: str, url: Any, options: RequestOptions) -> Response:
        """requests' ``Session.request``: prepare_request, merge_environment_settings, then ``self.send``."""
        get: Any = options.get
        request = Request(
            method=method.upper(), url=url, params=get("params") or {}, data=get("data") or {},
            headers=get("headers"), cookies=get("cookies"), files=get("files"), auth=get("auth"),
            hooks=get("hooks"), json=get("json"),
        )  # fmt: skip
        prepared = self.prepare_request(request)
        merged = self.merge_environment_settings(
            prepared.url or "", get("proxies") or {}, get("stream"), get("verify"), get("cert")
        )
        send_options: dict[str, Any] = {
            "timeout": options.get("timeout", self.timeout),
            "allow_redirects": options.get("allow_redirects", True),
            **merged,
        }
        if options.get("retries") is not None:
            send_options["retries"] = options["retries"]
        return self.send(prepared, **send_options)


class AsyncSession(SessionCalls[Coroutine["Any", "Any", Response]]):
    """The same API as ``Session``, awaitable: ``r = await s.get(url)``.

    A non-streamed response is fully read when ``await`` returns, so ``r.json()`` works as in sync code.

    >>> async with brisk.AsyncSession() as s:
    ...     r = await s.get("https://api.example.com/items", timeout=10)
    """

    _transport: AsyncBaseTransport | None
    _seams = globals()  # see SessionCalls._seams

    async def request(self, method: str, url: str | bytes, **options: Unpack[RequestOptions]) -> Response:
        if not options:
            return await self._request_plain(method, url)
        if options.keys() <= _BODY_OPTIONS:
            p, settings = self._prepare_plain(method, url, options)
        else:
            p = self._prepare_options(method, url, options)
            settings = self._settings(p, options)
        return await send_async(p, settings, self._transport_for())

    async def _request_plain(self, method: str, url: str | bytes) -> Response:
        p, settings = self._prepare_plain(method, url)
        return await send_async(p, settings, self._transport_for())

    async def send(self, request: PreparedRequest, **options: Unpack[SendKeywords]) -> Response:
        request, settings = self._send_settings(request, options)
        return await send_async(request, settings, self._transport_for())

    async def download(
        self, url: str, path: str | os.PathLike[str], **options: Unpack[DownloadOptions]
    ) -> DownloadResult:
        """``Session.download`` for asyncio: ``result = await session.download(url, path)``."""
        from brisk._session.download import download_flow, plan_download

        plan, request_options = plan_download(url, path, options)
        return await run_async(download_flow(plan, self, request_options))

    def websocket(self, url: str, **options: Unpack[WebSocketOptions]) -> AsyncWebSocketConnect:
        """``Session.websocket`` for asyncio: ``async with session.websocket(url) as ws`` (or
        ``ws = await session.websocket(url)``, then ``await ws.close()``)."""
        from brisk._websocket.aio import AsyncWebSocketConnect  # loaded when first used

        return AsyncWebSocketConnect(self, url, dict(options))

    async def _run_map(
        self, calls: list[dict[str, Any]], concurrency: int, return_exceptions: bool
    ) -> list[Any]:
        from brisk._bulk.maps import amap

        return await amap(self, calls, concurrency, return_exceptions)

    def imap(
        self,
        items: Iterable[Any],
        *,
        concurrency: int = 100,
        per_host: int | None = None,
        ordered: bool = False,
        window: int | None = None,
        save_to: SaveTo | None = None,
        on_progress: Any = None,
        **common: Unpack[RequestOptions],
    ) -> AsyncIterator[BulkResult]:
        """``Session.imap`` for asyncio, on the running loop: ``async for r in session.imap(urls): ...``.
        The session's own pool serves it: give it ``limits=brisk.Limits(max_connections=...)`` at least
        ``concurrency`` when that is above 100."""
        from brisk._bulk.items import BulkOptions
        from brisk._bulk.maps import aimap

        options = BulkOptions(
            concurrency=concurrency, per_host=per_host, ordered=ordered, window=window, save_to=save_to,
            progress=on_progress, common=common,
        )  # fmt: skip
        return aimap(self, items, options)

    def _new_transport(self) -> AsyncBaseTransport:
        from brisk._transport.asyncio.transport import AsyncTransport  # loaded by the first request

        return AsyncTransport(self.limits)

    async def close(self) -> None:
        """Close every pooled connection. The session stays usable: later requests open new connections."""
        if self._transport is not None:
            await self._transport.aclose()
            if self._transport is not self._given_transport:
                self._transport = None
        for adapter in self.adapters.values():
            adapter.close()
        if self.cache is not None and self.cache._session_made:
            self.cache.close()

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


Session._own_request = staticmethod(Session.request)
AsyncSession._own_request = staticmethod(AsyncSession.request)
_SESSION_SEND = Session.send
_PREPARE_REQUEST = SessionCalls.prepare_request
_MERGE_ENVIRONMENT = SessionBase.merge_environment_settings


def session() -> Session:
    """requests' old spelling of ``Session()``."""
    return Session()
