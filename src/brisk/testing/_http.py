"""Request and response primitives of the test application: plain ASGI 3, no framework.

A handler receives a :class:`Request` and returns a :class:`Response`; the application in
:mod:`brisk.testing.app` turns the response into ASGI messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from urllib.parse import parse_qsl

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]

#: Largest request body the application reads into memory (``/upload`` streams and has no limit).
MAX_BUFFERED_BODY = 32 * 1024 * 1024


class ClientDisconnected(Exception):
    """The client went away before the application finished; the response is abandoned."""


class HTTPError(Exception):
    """Raised by a handler to answer with an error status and a short JSON message."""

    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


class Request:
    """One HTTP request as the handlers see it.

    Header names keep the case the server passed on (hypercorn lower-cases them unless told otherwise);
    lookups through :meth:`header` ignore case.
    """

    def __init__(self, scope: Scope, receive: Receive, params: dict[str, str]) -> None:
        self.scope = scope
        self._receive = receive
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.params = params
        self.headers: list[tuple[str, str]] = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope.get("headers", [])
        ]
        query_string: bytes = scope.get("query_string", b"")
        self.query: list[tuple[str, str]] = parse_qsl(
            query_string.decode("utf-8", "replace"), keep_blank_values=True
        )
        self._body: bytes | None = None
        self._body_done = False
        self._disconnected = False

    # -- headers, URL, client --------------------------------------------------------------------------

    def header(self, name: str) -> str | None:
        """The first value of header *name* (any case), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        """Every value of header *name* (any case), in the order received."""
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter *name*."""
        for key, value in self.query:
            if key == name:
                return value
        return default

    @property
    def scheme(self) -> str:
        return str(self.scope.get("scheme", "http"))

    @property
    def host(self) -> str:
        """The Host header (HTTP/2's :authority arrives as Host too), else the server's address."""
        host = self.header("host")
        if host:
            return host
        server = self.scope.get("server")
        if server:
            address, port = server[0], server[1]
            address = f"[{address}]" if ":" in address else address
            return f"{address}:{port}" if port is not None else str(address)
        return "localhost"

    @property
    def base_url(self) -> str:
        """``scheme://host`` of this request, without a path."""
        return f"{self.scheme}://{self.host}"

    @property
    def target(self) -> str:
        """The request target (path and query) exactly as the client sent it."""
        raw_path: bytes | None = self.scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else self.path
        query: bytes = self.scope.get("query_string", b"")
        return f"{path}?{query.decode('latin-1')}" if query else path

    @property
    def url(self) -> str:
        """The full URL requested."""
        return f"{self.base_url}{self.target}"

    @property
    def origin(self) -> str:
        """The client's address; an ``X-Forwarded-For`` header wins, as in httpbin."""
        forwarded = self.header("x-forwarded-for")
        if forwarded:
            return forwarded
        client = self.scope.get("client")
        return str(client[0]) if client else ""

    def cookies(self) -> dict[str, str]:
        """The cookies of every Cookie header, later duplicates winning."""
        jar: dict[str, str] = {}
        for header in self.header_values("cookie"):
            for pair in header.split(";"):
                name, sep, value = pair.strip().partition("=")
                if name and sep:
                    jar[name] = value
        return jar

    # -- body ------------------------------------------------------------------------------------------

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the request body as it arrives, never holding more than one piece."""
        if self._body is not None:
            if self._body:
                yield self._body
            return
        if self._body_done:
            raise RuntimeError("the request body was already consumed")
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._disconnected = True
                self._body_done = True
                raise ClientDisconnected
            chunk: bytes = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self._body_done = True
                return

    async def body(self, limit: int = MAX_BUFFERED_BODY) -> bytes:
        """The whole request body; over *limit* bytes answers 413."""
        if self._body is None:
            parts = bytearray()
            async for chunk in self.stream():
                parts += chunk
                if len(parts) > limit:
                    raise HTTPError(413, f"request body larger than {limit} bytes")
            self._body = bytes(parts)
        return self._body

    async def sleep(self, seconds: float) -> None:
        """Wait *seconds*, raising :class:`ClientDisconnected` at once if the client goes away meanwhile.

        Any unread request body is discarded first, since the disconnect notice queues behind it.
        """
        if self._disconnected:
            raise ClientDisconnected
        if not self._body_done:
            async for _ in self.stream():
                pass
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(self._receive(), timeout=remaining)
            except TimeoutError:
                return
            if message["type"] == "http.disconnect":
                self._disconnected = True
                raise ClientDisconnected


@dataclass
class Response:
    """What a handler returns: a status, headers (names in any case) and a body.

    A ``bytes`` body gets a Content-Length unless the headers carry one; an async iterable body is streamed
    (chunked on HTTP/1.1 unless the handler set Content-Length).
    """

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterable[bytes] = b""

    def has_header(self, name: str) -> bool:
        lowered = name.lower()
        return any(key.lower() == lowered for key, _ in self.headers)


def json_bytes(data: object) -> bytes:
    """Pretty JSON with a trailing newline, as httpbin writes it."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def json_response(data: object, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    """A JSON response (``application/json``)."""
    return Response(status, [("Content-Type", "application/json"), *(headers or [])], json_bytes(data))


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
    """A text response encoded as UTF-8."""
    return Response(status, [("Content-Type", content_type)], text.encode("utf-8"))


def redirect(location: str, status: int = 302, headers: list[tuple[str, str]] | None = None) -> Response:
    """A redirect with an empty HTML body, as httpbin sends it."""
    return Response(
        status,
        [("Location", location), ("Content-Type", "text/html; charset=utf-8"), *(headers or [])],
    )


def multi_dict(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """httpbin's shape for repeated keys: one value stays a string, several become a list."""
    result: dict[str, str | list[str]] = {}
    for key, value in pairs:
        existing = result.get(key)
        if existing is None:
            result[key] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            result[key] = [existing, value]
    return result


def title_case(name: str) -> str:
    """``x-request-id`` -> ``X-Request-Id``: how httpbin (through WSGI) names headers."""
    return "-".join(part.capitalize() for part in name.split("-"))


def is_token(value: str) -> bool:
    """True when *value* is a non-empty RFC 9110 token (a valid header name)."""
    return bool(value) and all(char in _TOKEN_CHARS for char in value)


def is_field_value(value: str) -> bool:
    """True when *value* may go on a header line: no CR, LF, NUL or other control characters but tab."""
    return all(char == "\t" or (char >= " " and char != "\x7f") for char in value)


_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
