"""A scripted ASGI app for cache tests: each path answers the responses a test queued for it, in order
(the last one repeats), and records the requests it received (method and headers) so a test can count
them and read their validators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from brisk.testing.server import ServerThread

__all__ = ["Scripted", "ScriptedApp", "scripted_server"]

#: (status, headers, body), or a function of the request (method, headers) returning one.
Scripted = tuple[int, list[tuple[str, str]], bytes] | Callable[[str, dict[str, str]], Any]


class ScriptedApp:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Scripted]] = {}
        self.seen: dict[str, list[tuple[str, dict[str, str]]]] = {}

    def script(self, path: str, *responses: Scripted) -> None:
        self.scripts[path] = list(responses)
        self.seen[path] = []

    def count(self, path: str) -> int:
        return len(self.seen.get(path, []))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        while (await receive()).get("more_body"):
            pass
        path = scope["path"]
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        self.seen.setdefault(path, []).append((scope["method"], headers))
        queue = self.scripts.get(path)
        if not queue:
            answer: Any = (404, [("Cache-Control", "no-store")], b"not scripted")
        else:
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer):
            answer = answer(scope["method"], headers)
        status, response_headers, body = answer
        if status == 304 or scope["method"] == "HEAD":
            body = b""
        pairs = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response_headers
        ]
        if status != 304 and not any(name == b"content-length" for name, _ in pairs):
            pairs.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": pairs})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def scripted_server() -> Iterator[ServerThread]:
    """A new ``ScriptedApp`` (``scripted_server.app``) served over HTTP/1.1 on loopback."""
    with ServerThread(ScriptedApp()) as server:
        yield server
