"""``MockTransport``: answer brisk's requests with a function or a table, without a network.

::

    def handler(request: brisk.PreparedRequest) -> brisk.Response:
        return brisk.Response(200, json={"path": request.path_url})

    with brisk.Session(transport=MockTransport(handler)) as s:
        assert s.get("https://api.example/items").json() == {"path": "/items"}

    mock = MockTransport(routes={
        "/login": brisk.Response(302, headers={"Location": "/home", "Set-Cookie": "sid=1; Path=/"}),
        ("GET", "/home"): {"ok": True},                       # a dict or list answers JSON
        ("DELETE", "https://api.example/items/1"): 204,       # an int answers an empty body
    })

The responses go through the session's normal flows: redirects are followed, cookies stored, hooks run and
``raise_for_status`` works. ``mock.requests`` lists every request received, redirect hops included.
An ``async def`` handler serves ``AsyncSession``; a plain one serves both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from brisk.models import Response

if TYPE_CHECKING:
    from brisk._transport.base import SendOptions
    from brisk.models import PreparedRequest

__all__ = ["MockTransport"]

Handler = Callable[["PreparedRequest"], Any]


class MockTransport:
    """A transport for ``Session(transport=...)`` and ``AsyncSession(transport=...)`` that calls ``handler``
    (a function from ``PreparedRequest`` to ``Response``, possibly ``async``) or looks the request up in
    ``routes``; unmatched requests get ``handler``'s answer, or a 404 naming the request.

    Route keys are a path (``"/items"``), a full URL, or ``(method, path-or-URL)``; a key with a query
    must match the query too. Values are a ``Response`` (copied for each request), an ``int`` status, a
    ``dict``/``list`` (JSON), ``str``/``bytes`` (a body) or a handler.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        routes: Mapping[Any, Any] | None = None,
        websocket: Callable[..., object] | None = None,
    ) -> None:
        self.handler = handler
        #: ``peer(request, ws)`` serves ``session.websocket(...)``: see ``brisk.testing.mock_websocket``.
        self.websocket = websocket
        self.websocket_errors: list[BaseException] = []
        self._websocket_threads: list[Any] = []
        self.routes: dict[tuple[str | None, str], Any] = {}
        for key, value in (routes or {}).items():
            method, target = key if isinstance(key, tuple) else (None, key)
            self.routes[(method.upper() if method else None, target)] = value
        #: Every request received, in order (redirect hops and retries included).
        self.requests: list[PreparedRequest] = []

    def _answer(self, request: PreparedRequest) -> Any:
        self.requests.append(request)
        found = self._route(request)
        if isinstance(found, Response):
            return _copy(found)  # the table's response is a template: each request gets its own
        if found is not None:
            return found(request) if callable(found) else found
        if self.handler is not None:
            return self.handler(request)
        return Response(404, text=f"MockTransport: no route for {request.method} {request.url}")

    def _route(self, request: PreparedRequest) -> Any:
        if not self.routes:
            return None
        url = request.url or ""
        target = request.path_url
        candidates = (url, url.split("?", 1)[0], target, target.split("?", 1)[0])
        for method in (request.method, None):
            for candidate in candidates:
                found = self.routes.get((method, candidate))
                if found is not None:
                    return found
        return None

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        """The sync transport method: call the handler and return its response."""
        answer = self._answer(request)
        if inspect.isawaitable(answer):
            close = getattr(answer, "close", None)
            if close is not None:
                close()  # never awaited: close the coroutine so Python does not warn about it
            raise TypeError("this MockTransport's handler is async: use it with brisk.AsyncSession")
        return _response(answer, request)

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        """The async transport method: call (and await) the handler and return its response."""
        answer = self._answer(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return _response(answer, request)

    def open_websocket(self, request: PreparedRequest) -> Any:
        """The client's socket for a ``session.websocket`` handshake, served by the ``websocket`` peer."""
        self.requests.append(request)
        if self.websocket is None:
            raise TypeError("this MockTransport has no websocket peer: MockTransport(websocket=peer)")
        from brisk.testing.mock_websocket import open_peer

        return open_peer(self.websocket, request, self.websocket_errors, self._websocket_threads)

    def check_websockets(self, timeout: float = 10.0) -> None:
        """Wait for the WebSocket peers to finish and re-raise the first exception one raised."""
        for thread in self._websocket_threads:
            thread.join(timeout)
        if self.websocket_errors:
            raise self.websocket_errors[0]

    def close(self) -> None:
        """Nothing to release; present for the transport protocol."""

    async def aclose(self) -> None:
        """Nothing to release; present for the transport protocol."""


def _response(answer: Any, request: PreparedRequest) -> Response:
    """The handler's answer as a Response tied to ``request``."""
    response: Response
    if isinstance(answer, Response):
        response = answer
    elif isinstance(answer, bool) or answer is None:
        raise TypeError(f"a MockTransport handler must return a Response, not {answer!r}")
    elif isinstance(answer, int):
        response = Response(answer)
    elif isinstance(answer, dict | list):
        response = Response(200, json=answer)
    elif isinstance(answer, str):
        response = Response(200, text=answer)
    elif isinstance(answer, bytes):
        response = Response(200, content=answer)
    else:
        raise TypeError(f"a MockTransport handler must return a Response, not {answer!r}")
    response.request = request
    response.url = request.url or ""
    return response


def _copy(template: Response) -> Response:
    copy = Response(template.status_code, content=template.content, headers=template.headers.copy())
    copy.reason = template.reason
    copy.http_version = template.http_version
    copy.encoding = template.encoding
    copy.connection_info = template.connection_info
    if template._trailers is not None:
        copy.trailers = template._trailers.copy()
    return copy
