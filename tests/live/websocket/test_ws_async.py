"""AsyncSession.websocket against the websockets library's server."""

from __future__ import annotations

import asyncio
import json

import pytest

import brisk


def run(coro):
    return asyncio.run(coro)


def test_echo_and_iteration(ws_server):
    async def main():
        async with brisk.AsyncSession() as s, s.websocket(ws_server.url + "/echo") as ws:
            await ws.send("héllo")
            assert await ws.receive() == "héllo"
            await ws.send(b"\x00bin")
            assert await ws.receive() == b"\x00bin"
            for i in range(3):
                await ws.send(str(i))
            got = []
            async for message in ws:
                got.append(message)
                if len(got) == 3:
                    break
            assert got == ["0", "1", "2"]
        assert ws.closed
        assert ws.close_code == 1000

    run(main())


def test_await_form_and_large_binary(ws_server):
    payload = bytes(range(256)) * 4096

    async def main():
        async with brisk.AsyncSession() as s:
            ws = await s.websocket(ws_server.url + "/echo", max_message_size=None, compression=None)
            try:
                await ws.send(payload)
                assert await ws.receive() == payload
            finally:
                await ws.close()

    run(main())


def test_handshake_carries_session_state(ws_server):
    async def main():
        async with brisk.AsyncSession(headers={"X-Team": "red"}) as s:
            s.cookies.set("sid", "7", domain="127.0.0.1")
            async with s.websocket(ws_server.url + "/headers") as ws:
                seen = json.loads(await ws.receive())
            async with s.websocket(ws_server.url + "/cookie") as ws:
                await ws.send("x")
                await ws.receive()
            return seen, s.cookies.get("flavour")

    seen, flavour = run(main())
    assert seen["x-team"] == "red"
    assert seen["cookie"] == "sid=7"
    assert flavour == "oat"


def test_server_close_and_refusal(ws_server):
    async def main():
        async with brisk.AsyncSession() as s:
            async with s.websocket(ws_server.url + "/close") as ws:
                with pytest.raises(brisk.WebSocketClosed) as info:
                    await ws.receive()
                assert (info.value.code, info.value.reason) == (4000, "bye")
            with pytest.raises(brisk.WebSocketHandshakeError) as refused:
                await s.websocket(ws_server.url + "/refuse")
            assert refused.value.response.status_code == 403
            with pytest.raises(brisk.WebSocketHandshakeError, match="redirects are not followed"):
                await s.websocket(ws_server.url + "/redirect")

    run(main())


def test_oversize_and_bomb_refused(ws_server):
    async def main():
        async with brisk.AsyncSession() as s:
            async with s.websocket(ws_server.url + "/echo", max_message_size=100_000) as ws:
                await ws.send(b"\0" * 1_000_000)
                with pytest.raises(brisk.WebSocketClosed) as info:
                    await ws.receive()
                assert info.value.code == 1009

    run(main())


def test_wss_and_keepalive(wss_server):
    async def main():
        async with (
            brisk.AsyncSession(verify=wss_server.ca) as s,
            s.websocket(wss_server.url + "/subprotocol", subprotocols=["chat"], ping_interval=0.02) as ws,
        ):
            assert ws.subprotocol == "chat"
            assert await ws.receive() == "chat"
            await asyncio.sleep(0.1)  # a few keep-alive pings go out and are answered
            await ws.send("still here")
            assert await ws.receive() == "still here"
            assert ws._core.pongs_seen >= 1

    run(main())


def test_receive_timeout_leaves_connection_open(ws_server):
    async def main():
        async with brisk.AsyncSession() as s, s.websocket(ws_server.url + "/echo") as ws:
            with pytest.raises(brisk.ReadTimeout):
                await ws.receive(timeout=0.05)
            await ws.send("ok")
            assert await ws.receive() == "ok"

    run(main())
