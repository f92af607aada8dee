"""The sans-IO WebSocket policy (brisk._websocket.core), driven with scripted bytes: no sockets."""

from __future__ import annotations

import pytest

pytest.importorskip("websockets", reason="the WebSocket core needs the websockets package")

from websockets.frames import Frame, Opcode

import brisk
from brisk._core.config import DEFAULT_LIMITS
from brisk._websocket.core import Core, Handshake, HeadReader, KeepAlive, accept_for
from brisk.models import Response


def server_frame(opcode: Opcode, data: bytes, fin: bool = True) -> bytes:
    return Frame(opcode, data, fin).serialize(mask=False)


def client_frames(data: bytes) -> list[Frame]:
    from websockets.protocol import OPEN, Protocol, Side

    server = Protocol(Side.SERVER, state=OPEN, max_size=None)
    server.receive_data(data)
    return server.events_received()


def response(status: int, headers: dict[str, str]) -> Response:
    r = Response()
    r.status_code = status
    r.headers.update(headers)
    return r


def test_accept_value_from_rfc_6455_example():
    assert accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_handshake_headers_and_check():
    hs = Handshake(["chat"], "deflate", 1000)
    headers = hs.headers()
    assert headers["Upgrade"] == "websocket"
    assert headers["Sec-WebSocket-Protocol"] == "chat"
    assert headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
    ok = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": accept_for(hs.key)}
    assert hs.check(response(101, {**ok, "Sec-WebSocket-Protocol": "chat"}), "ws://h/") == ("chat", [])
    deflate = hs.check(response(101, {**ok, "Sec-WebSocket-Extensions": "permessage-deflate"}), "ws://h/")[1]
    assert len(deflate) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Sec-WebSocket-Accept": "wrong"}, "Sec-WebSocket-Accept"),
        ({"Upgrade": "h2c"}, "Upgrade"),
        ({"Connection": "keep-alive"}, "Connection"),
        ({"Sec-WebSocket-Protocol": "other"}, "not offered"),
        ({"Sec-WebSocket-Extensions": "x-zip"}, "not offered"),
    ],
)
def test_handshake_check_refuses(change, message):
    hs = Handshake(None, None, None)
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": accept_for(hs.key)}
    with pytest.raises(brisk.WebSocketHandshakeError, match=message):
        hs.check(response(101, {**headers, **change}), "ws://h/")


def test_refusal_and_redirect_messages():
    hs = Handshake(None, None, None)
    with pytest.raises(brisk.WebSocketHandshakeError, match="redirects are not followed"):
        hs.check(response(301, {"Location": "/elsewhere"}), "ws://h/")
    with pytest.raises(brisk.WebSocketHandshakeError, match="401"):
        hs.check(response(401, {}), "ws://h/")


def test_bad_compression_and_subprotocol_names():
    with pytest.raises(ValueError, match="compression"):
        Handshake(None, "gzip", None)
    with pytest.raises(ValueError, match="subprotocol"):
        Handshake(["a b"], None, None)


def test_head_reader_101_split_anywhere_keeps_the_first_frames():
    wire = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n" + server_frame(
        Opcode.TEXT, b"hi"
    )
    for cut in range(1, len(wire)):
        reader = HeadReader(DEFAULT_LIMITS)
        reader.feed(wire[:cut])
        assert reader.feed(wire[cut:])
        assert reader.head is not None
        assert reader.head.status_code == 101
        assert reader.rest == server_frame(Opcode.TEXT, b"hi")


def test_head_reader_other_status_reads_the_body():
    reader = HeadReader(DEFAULT_LIMITS)
    assert not reader.feed(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nno")
    assert reader.feed(b"pe")
    assert reader.parser is not None
    assert reader.parser.take_body() == b"nope"


def test_head_reader_eof_before_answer():
    reader = HeadReader(DEFAULT_LIMITS)
    reader.feed(b"HTTP/1.1 1")
    with pytest.raises(brisk.exceptions.RemoteProtocolError, match="before answering"):
        reader.feed_eof()


def test_fragments_joined_and_ping_answered():
    core = Core([], None)
    core.receive_data(
        server_frame(Opcode.TEXT, b"ab", fin=False)
        + server_frame(Opcode.PING, b"p")
        + server_frame(Opcode.CONT, b"cd")
        + server_frame(Opcode.BINARY, b"\x00")
    )
    assert core.next_message() == "abcd"
    assert core.next_message() == b"\x00"
    assert core.next_message() is None
    writes, eof = core.take_writes()
    assert not eof
    assert [(f.opcode, f.data) for f in client_frames(writes)] == [(Opcode.PONG, b"p")]


def test_invalid_utf8_fails_with_1007_and_drops_later_frames():
    core = Core([], None)
    core.receive_data(server_frame(Opcode.TEXT, b"\xc3") + server_frame(Opcode.TEXT, b"later"))
    assert core.next_message() is None
    assert core.error is not None
    assert core.error.code == 1007
    writes, _ = core.take_writes()
    assert client_frames(writes)[0].opcode == Opcode.CLOSE


def test_oversize_message_fails_with_1009():
    core = Core([], 10)
    core.receive_data(server_frame(Opcode.BINARY, b"x" * 11))
    assert core.error is not None
    assert core.error.code == 1009


def test_peer_close_is_echoed_and_reported():
    core = Core([], None)
    core.receive_data(server_frame(Opcode.CLOSE, b"\x0f\xa0bye"))
    assert core.error is not None
    assert (core.error.code, core.error.reason) == (4000, "bye")
    assert (core.close_code, core.close_reason) == (4000, "bye")
    writes, _ = core.take_writes()
    assert client_frames(writes)[0].opcode == Opcode.CLOSE
    with pytest.raises(brisk.WebSocketClosed):
        core.check_open()


@pytest.mark.parametrize("message", ["héllo", b"\x01" * 70000, b"x" * 200])
def test_encode_fast_path_is_a_valid_masked_frame(message):
    core = Core([], None)
    frames = client_frames(b"".join(core.encode(message)))
    assert len(frames) == 1
    want = message.encode() if isinstance(message, str) else message
    assert frames[0].data == want
    assert frames[0].opcode == (Opcode.TEXT if isinstance(message, str) else Opcode.BINARY)


def test_encode_refuses_other_types():
    with pytest.raises(TypeError, match="str or bytes"):
        Core([], None).encode(42)  # type: ignore[arg-type]


def test_keepalive_pings_then_fails_on_a_late_pong():
    core = Core([], None)
    keepalive = KeepAlive(10.0, 5.0, now=0.0)
    assert keepalive.step(core, 1.0) == 10.0  # nothing due yet
    assert keepalive.step(core, 10.0) == 15.0  # pinged; the pong is due at 15
    writes, _ = core.take_writes()
    ping = client_frames(writes)[0]
    assert ping.opcode == Opcode.PING
    core.receive_data(server_frame(Opcode.PONG, ping.data))
    assert keepalive.step(core, 16.0) == 20.0  # answered in time: the next ping at 20
    keepalive.step(core, 20.0)
    assert keepalive.step(core, 25.0) is None  # no pong this time
    assert core.error is not None
    assert core.error.code == 1011
