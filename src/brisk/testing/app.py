"""An httpbin-compatible ASGI 3 application for testing HTTP clients, written without a framework.

The JSON shapes follow httpbin (``args``, ``headers``, ``data``, ``files``, ``form``, ``json``, ``origin``,
``url``, ``method``), so tests written against httpbin.org work against it. Serve it with
:class:`brisk.testing.server.ServerThread`, or with any ASGI server::

    hypercorn brisk.testing.app:app

Endpoints (``{x}`` is a path segment; GET endpoints also answer HEAD; others refuse with 405):

- ``/get`` ``/post`` ``/put`` ``/patch`` ``/delete``: echo the request; the method must match.
- ``/anything``, ``/anything/{path}``: echo any method, with ``method``.
- ``/headers`` ``/user-agent`` ``/ip`` ``/uuid``: parts of the request; a random UUID.
- ``/echo-raw-headers``: the request headers as ``[[name, value], ...]`` in the order received.
- ``/status/{codes}``: that status; ``200,404`` picks one, ``200:0.9,500:0.1`` picks by weight.
- ``/delay/{seconds}``: echo after a pause (at most 10 s).
- ``/redirect/{n}``, ``/relative-redirect/{n}``, ``/absolute-redirect/{n}``: n redirects ending at ``/get``.
- ``/redirect-to?url=&status_code=``: one redirect to ``url``, for any method.
- ``/cookies``, ``/cookies/set?k=v``, ``/cookies/set/{name}/{value}``, ``/cookies/delete?k``: read, set
  and delete cookies (setting and deleting redirect to ``/cookies``).
- ``/set-cookie-raw?h=...``: each ``h`` value as a verbatim Set-Cookie header.
- ``/basic-auth/{user}/{passwd}`` (401), ``/hidden-basic-auth/{user}/{passwd}`` (404), ``/bearer``.
- ``/digest-auth/{qop}/{user}/{passwd}[/{algorithm}[/{stale_after}]]``: Digest authentication, see
  :mod:`brisk.testing._digest`.
- ``/gzip`` ``/deflate`` ``/brotli`` ``/zstd``: JSON in that content coding.
- ``/bytes/{n}?seed=``, ``/stream-bytes/{n}?chunk_size=&seed=``: n random bytes (a seed makes them
  reproducible), with a Content-Length or chunked.
- ``/stream/{n}``: n JSON lines (at most 100), chunked.
- ``/drip?duration=&numbytes=&code=&delay=``: bytes spread over a duration.
- ``/range/{n}``: ``a``-``z`` repeated, honouring Range (206, 416) and If-Range, with ETag and Last-Modified.
- ``/sse?count=&delay=&retry=``: a ``text/event-stream``.
- ``/upload``: reads any body as a stream and answers its size and SHA-256.
- ``/html`` ``/json`` ``/xml`` ``/robots.txt`` ``/encoding/utf8``: fixed documents.
- ``/response-headers?k=v``: those response headers, for any method.
- ``/etag/{etag}``: If-None-Match (304) and If-Match (412); ``/cache`` (304 on any conditional request),
  ``/cache/{n}`` (Cache-Control max-age).
- ``/base64/{value}``: the decoded URL-safe base64 value.

Errors of the client's making answer 4xx with ``{"error": "..."}``. Buffered request bodies are capped at
32 MiB (413 beyond); ``/upload`` has no cap since it never holds the body.
"""

from __future__ import annotations

import logging

from brisk.testing._app_routes import Route, build_routes
from brisk.testing._digest import DigestAuthority
from brisk.testing._http import (
    ClientDisconnected,
    HTTPError,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    json_response,
)

__all__ = ["App", "app", "create_app"]

logger = logging.getLogger("brisk.testing.app")


class App:
    """The httpbin-compatible ASGI 3 application.

    Each instance has its own Digest nonce table, so two servers never share authentication state.

    >>> from brisk.testing.server import ServerThread
    >>> with ServerThread(App()) as server:  # doctest: +SKIP
    ...     server.url
    'http://127.0.0.1:54321'
    """

    def __init__(self, *, realm: str = "brisk-test@example.org") -> None:
        self.digest = DigestAuthority(realm)
        self.routes: list[Route] = build_routes(self.digest)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "websocket":
            from brisk.testing._app_ws import websocket  # the echo endpoints (see that module)

            await websocket(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def resolve(self, method: str, path: str) -> tuple[Route | None, dict[str, str], set[str]]:
        """The route for *method* and *path* with its path parameters, and the methods the path allows."""
        allowed: set[str] = set()
        for candidate in self.routes:
            params = candidate.match(path)
            if params is None:
                continue
            if candidate.methods is None or method in candidate.methods:
                return candidate, params, allowed
            allowed |= candidate.methods
        return None, {}, allowed

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        found, params, allowed = self.resolve(scope["method"], scope["path"])
        request = Request(scope, receive, params)
        try:
            if found is not None:
                response = await found.handler(request)
            elif allowed:
                allow = ", ".join(sorted(allowed))
                response = json_response({"error": "method not allowed"}, 405, [("Allow", allow)])
            else:
                response = json_response({"error": f"no endpoint at {scope['path']}"}, 404)
        except ClientDisconnected:
            return
        except HTTPError as exc:
            response = json_response({"error": exc.message}, exc.status, exc.headers)
        except Exception:
            logger.exception("handler for %s %s failed", scope["method"], scope["path"])
            response = json_response({"error": "internal error in the test application"}, 500)
        await self._respond(request, response, send)

    async def _respond(self, request: Request, response: Response, send: Send) -> None:
        headers = [(name.lower().encode("ascii"), value.encode("utf-8")) for name, value in response.headers]
        body = response.body
        if isinstance(body, bytes):
            if not response.has_header("content-length") and response.status not in (204, 304):
                headers.append((b"content-length", str(len(body)).encode("ascii")))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        iterator = aiter(body)
        try:
            if request.method != "HEAD":
                async for chunk in iterator:
                    if chunk:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except ClientDisconnected:
            return
        except Exception:
            # The status line is gone already: end the stream early so the client sees a truncated body.
            logger.exception("streaming %s %s failed", request.method, request.path)
            return
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        await send({"type": "http.response.body", "body": b""})


def create_app(*, realm: str = "brisk-test@example.org") -> App:
    """A new :class:`App`; *realm* names the Digest realm of the ``/digest-auth`` endpoints."""
    return App(realm=realm)


#: A ready instance, for ``hypercorn brisk.testing.app:app`` and the like.
app = App()
