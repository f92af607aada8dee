"""A real WebSocket server for these tests: the ``websockets`` library's (threaded) server on loopback.

Paths: ``/echo`` echoes every message; ``/headers`` sends the handshake's request headers as JSON, then
echoes; ``/close`` closes at once with 4000 "bye"; ``/subprotocol`` sends the chosen subprotocol;
``/refuse`` answers 403; ``/redirect`` answers 302 to /echo; ``/cookie`` sets a cookie in the 101.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import pytest

websockets = pytest.importorskip("websockets", reason="the websocket tests need the websockets package")
from websockets.datastructures import Headers  # noqa: E402
from websockets.http11 import Response  # noqa: E402
from websockets.sync.server import ServerConnection, serve  # noqa: E402


@dataclass
class WSServer:
    url: str
    handshakes: list[dict[str, str]] = field(default_factory=list)


def _process_request(server: WSServer) -> Any:
    def process(connection: ServerConnection, request: Any) -> Response | None:
        server.handshakes.append({k.lower(): v for k, v in request.headers.raw_items()})
        if request.path == "/refuse":
            return connection.respond(HTTPStatus.FORBIDDEN, "go away\n")
        if request.path == "/redirect":
            response = connection.respond(HTTPStatus.FOUND, "")
            response.headers["Location"] = "/echo"
            return response
        return None

    return process


def _process_response(connection: ServerConnection, request: Any, response: Response) -> None:
    if request.path == "/cookie" and response.status_code == 101:
        response.headers["Set-Cookie"] = "flavour=oat; Path=/"


def _handler(connection: ServerConnection) -> None:
    path = connection.request.path.split("?")[0] if connection.request is not None else "/"
    if path == "/close":
        connection.close(4000, "bye")
        return
    if path == "/headers":
        connection.send(json.dumps({k.lower(): v for k, v in connection.request.headers.raw_items()}))
    if path == "/subprotocol":
        connection.send(str(connection.subprotocol))
    for message in connection:
        connection.send(message)


def _serve(ssl_context: ssl.SSLContext | None, **kwargs: Any) -> Iterator[WSServer]:
    info = WSServer("")
    server = serve(
        _handler,
        "127.0.0.1",
        0,
        ssl=ssl_context,
        process_request=_process_request(info),
        process_response=_process_response,
        select_subprotocol=lambda _conn, offered: next((p for p in offered if "chat" in p), None),
        max_size=None,
        **kwargs,
    )
    port = server.socket.getsockname()[1]
    info.url = f"{'wss' if ssl_context else 'ws'}://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield info
    finally:
        server.shutdown()
        thread.join(10)
        server.socket.close()


@pytest.fixture
def ws_server() -> Iterator[WSServer]:
    yield from _serve(None)


@pytest.fixture
def wss_server(cert_bundles: Any) -> Iterator[WSServer]:
    bundle = cert_bundles["good"]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(bundle.cert_file, bundle.key_file)
    server_iter = _serve(context)
    info = next(server_iter)
    info.url = info.url.replace("127.0.0.1", bundle.hostname)
    info.ca = str(bundle.ca_bundle)  # type: ignore[attr-defined]
    yield info
    next(server_iter, None)


_ = Headers
