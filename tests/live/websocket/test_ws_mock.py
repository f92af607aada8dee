"""MockTransport(websocket=peer): a scripted peer for code under test, spoken to by the real client."""

from __future__ import annotations

import asyncio

import pytest

import brisk
from brisk.testing import MockTransport


def upper_peer(request, ws):
    ws.send("welcome " + request.headers.get("x-user", "?"))
    for message in ws:
        ws.send(message.upper() if isinstance(message, str) else message[::-1])


def test_sync_session_talks_to_the_peer():
    mock = MockTransport(websocket=upper_peer)
    with brisk.Session(transport=mock, headers={"X-User": "ann"}) as s:
        with s.websocket("wss://api.example/feed", subprotocols=["v1"]) as ws:
            assert ws.subprotocol == "v1"
            assert ws.receive() == "welcome ann"
            ws.send("hi")
            assert ws.receive() == "HI"
            ws.send(b"ab")
            assert ws.receive() == b"ba"
    mock.check_websockets()
    assert mock.requests[0].headers["upgrade"] == "websocket"


def test_async_session_and_peer_close():
    def peer(request, ws):
        ws.send("bye soon")
        ws.close(4002, "done")

    async def main():
        mock = MockTransport(websocket=peer)
        async with brisk.AsyncSession(transport=mock) as s, s.websocket("ws://api.example/x") as ws:
            assert await ws.receive() == "bye soon"
            with pytest.raises(brisk.WebSocketClosed) as info:
                await ws.receive()
            assert (info.value.code, info.value.reason) == (4002, "done")
        mock.check_websockets()

    asyncio.run(main())


def test_peer_refuses_and_peer_errors_surface():
    def refusing(request, ws):
        ws.refuse(401, b"who are you")

    def broken(request, ws):
        raise AssertionError("the peer's own check failed")

    with brisk.Session(transport=MockTransport(websocket=refusing)) as s:
        with pytest.raises(brisk.WebSocketHandshakeError) as info:
            s.websocket("ws://api.example/x")
        assert info.value.response.status_code == 401
        assert info.value.response.text == "who are you"
    mock = MockTransport(websocket=broken)
    with brisk.Session(transport=mock) as s:
        with pytest.raises(brisk.RequestException):
            s.websocket("ws://api.example/x", timeout=5)
    with pytest.raises(AssertionError, match="own check"):
        mock.check_websockets()
