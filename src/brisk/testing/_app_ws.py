"""The test app's WebSocket endpoints (``brisk serve``, ``brisk.testing.App``).

- ``/ws/echo``: accepts (choosing the first subprotocol offered, if any) and sends every message back as it
  came, text as text and bytes as bytes, until the client closes.
- ``/ws/close/{code}``: accepts, then closes at once with that code and the reason "bye".
- Any other path: the handshake is refused (403).
"""

from __future__ import annotations

from collections.abc import MutableMapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["websocket"]


async def websocket(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """Serve one WebSocket connection (an ASGI ``websocket`` scope)."""
    path: str = scope.get("path", "/")
    if (await receive())["type"] != "websocket.connect":
        return
    offered = scope.get("subprotocols") or []
    if path == "/ws/echo":
        await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
    elif path.startswith("/ws/close/") and path[10:].isdigit():
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": int(path[10:]), "reason": "bye"})
    else:
        await send({"type": "websocket.close", "code": 1000})  # before accept: the handshake gets a 403
