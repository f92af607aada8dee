"""Session.websocket against the websockets library's server: messages, handshake through the session."""

from __future__ import annotations

import json

import pytest

import brisk


def test_echo_text_and_binary(ws_server):
    with brisk.Session() as s, s.websocket(ws_server.url + "/echo") as ws:
        ws.send("héllo")
        assert ws.receive() == "héllo"
        ws.send(b"\x00\xffbin")
        assert ws.receive() == b"\x00\xffbin"
        assert ws.response.status_code == 101
    assert ws.close_code == 1000
    assert ws.closed


def test_large_message_round_trip(ws_server):
    payload = bytes(range(256)) * 4096  # 1 MiB
    with brisk.Session() as s, s.websocket(ws_server.url + "/echo", max_message_size=2 << 20) as ws:
        ws.send(payload)
        assert ws.receive() == payload


def test_message_over_max_size_closes_with_1009(ws_server):
    with brisk.Session() as s, s.websocket(ws_server.url + "/echo", max_message_size=1000) as ws:
        ws.send(b"x" * 2000)
        with pytest.raises(brisk.WebSocketClosed) as info:
            ws.receive()
    assert info.value.code == 1009
    assert "max_message_size" in str(info.value)


@pytest.mark.parametrize("compression", ["deflate", None])
def test_compression_negotiated_or_not(ws_server, compression):
    text = "abc" * 10000
    with brisk.Session() as s, s.websocket(ws_server.url + "/echo", compression=compression) as ws:
        ws.send(text)
        assert ws.receive() == text
        offered = "permessage-deflate" in ws.response.headers.get("sec-websocket-extensions", "")
        assert offered == (compression == "deflate")


def test_deflate_bomb_refused_after_inflating(ws_server):
    # 1 MB of zeros compresses to about 1 KB: the limit applies to the inflated size
    with brisk.Session() as s, s.websocket(ws_server.url + "/echo", max_message_size=100_000) as ws:
        assert "permessage-deflate" in ws.response.headers["sec-websocket-extensions"]
        ws.send(b"\0" * 1_000_000)
        with pytest.raises(brisk.WebSocketClosed) as info:
            ws.receive()
    assert info.value.code == 1009


def test_session_headers_cookies_auth_reach_the_handshake(ws_server):
    with brisk.Session(headers={"X-Team": "blue"}, auth=("ann", "pw")) as s:
        s.cookies.set("sid", "42", domain="127.0.0.1")
        with s.websocket(ws_server.url + "/headers", headers={"X-Call": "1"}, params={"q": "1"}) as ws:
            seen = json.loads(ws.receive())
    assert seen["x-team"] == "blue"
    assert seen["x-call"] == "1"
    assert seen["cookie"] == "sid=42"
    assert seen["authorization"].startswith("Basic ")
    assert seen["upgrade"] == "websocket"
    assert seen["sec-websocket-version"] == "13"


def test_cookie_set_by_the_101_is_stored(ws_server):
    with brisk.Session() as s:
        with s.websocket(ws_server.url + "/cookie") as ws:
            ws.send("x")
            ws.receive()
        assert s.cookies.get("flavour") == "oat"


def test_subprotocol_chosen(ws_server):
    with brisk.Session() as s, s.websocket(ws_server.url + "/subprotocol", subprotocols=["superchat"]) as ws:
        assert ws.subprotocol == "superchat"
        assert ws.receive() == "superchat"


def test_server_close_surfaces_code_and_reason(ws_server):
    with brisk.Session() as s, s.websocket(ws_server.url + "/close") as ws:
        with pytest.raises(brisk.WebSocketClosed) as info:
            ws.receive()
        assert (info.value.code, info.value.reason) == (4000, "bye")
        assert (ws.close_code, ws.close_reason) == (4000, "bye")
        with pytest.raises(brisk.WebSocketClosed):
            ws.send("too late")


def test_iteration_ends_on_normal_close(ws_server):
    with brisk.Session() as s, s.websocket(ws_server.url + "/echo") as ws:
        for i in range(3):
            ws.send(str(i))
        got = []
        for message in ws:
            got.append(message)
            if len(got) == 3:
                ws.close()
                break
    assert got == ["0", "1", "2"]


def test_refused_handshake_carries_the_response(ws_server):
    with brisk.Session() as s, pytest.raises(brisk.WebSocketHandshakeError) as info:
        s.websocket(ws_server.url + "/refuse")
    assert info.value.response.status_code == 403
    assert info.value.response.text == "go away\n"
    assert isinstance(info.value, brisk.RequestException)


def test_redirect_refused_with_clear_error(ws_server):
    refused = pytest.raises(brisk.WebSocketHandshakeError, match="redirects are not followed")
    with brisk.Session() as s, refused:
        s.websocket(ws_server.url + "/redirect")


def test_ping_answered(ws_server):
    with brisk.Session() as s, s.websocket(ws_server.url + "/echo", ping_interval=0.05) as ws:
        ws.ping(b"abc")
        ws.send("after ping")
        assert ws.receive() == "after ping"


def test_wss_with_session_ca(wss_server):
    with brisk.Session(verify=wss_server.ca) as s, s.websocket(wss_server.url + "/echo") as ws:
        ws.send("secure")
        assert ws.receive() == "secure"
        assert ws.response.connection_info.tls_version in ("TLSv1.2", "TLSv1.3")


def test_wss_unknown_ca_refused(wss_server):
    with brisk.Session() as s, pytest.raises(brisk.exceptions.SSLError):
        s.websocket(wss_server.url + "/echo")


def test_not_a_websocket_url():
    with brisk.Session() as s, pytest.raises(brisk.exceptions.InvalidSchema, match="ws:// or wss://"):
        s.websocket("ftp://127.0.0.1/x")


def test_response_hook_sees_the_101(ws_server):
    seen = []
    with brisk.Session() as s:
        with s.websocket(
            ws_server.url + "/echo", hooks={"response": lambda r, **kw: seen.append(r.status_code)}
        ):
            pass
    assert seen == [101]


def test_close_from_another_thread_wakes_the_receiver(ws_server):
    import threading

    with brisk.Session() as s, s.websocket(ws_server.url + "/echo") as ws:
        outcome = []

        def reader():
            try:
                ws.receive()
            except brisk.WebSocketClosed as exc:
                outcome.append(exc.code)

        thread = threading.Thread(target=reader)
        thread.start()
        ws.close(1000, "done")
        thread.join(30)
        assert not thread.is_alive()
    assert outcome == [1000]
