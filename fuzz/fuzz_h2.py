"""Fuzz target: what an HTTP/2 server sends to ``brisk._protocol.http2.H2Connection.receive``.

Input layout: byte 0 holds the settings (bit 0: framed or raw payload; bits 1-2: 1-3 requests opened; bit 3:
leave out the server's SETTINGS, so the payload is the server's very first bytes; bit 4: the requests have a
body still to come; bit 5: release a stream between reads), byte 1 chooses the cuts, the rest is the payload.

Before the payload a client connection is set up as the transports do it: the preface, one to three
requests, and (unless bit 3) the server's SETTINGS. A framed payload is a list of records
``type, flags, stream selector, length (2 bytes), payload`` turned into frames with a correct length field,
so mutations explore frame contents rather than breaking the framing; a raw payload goes in as it is.

The payload is fed in pieces; after each one the target does what a transport does next (``data_to_send``,
``take_body``, ``send_window``, ``can_open_stream``, sometimes ``release``) and checks that: nothing raised;
a connection error is a brisk exception and every unfinished stream carries one; a stream's status is an int
in 100-999 with str headers; interim statuses are 1xx. At the end the connection is lost and closed.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["brisk"]):
    from brisk._core.config import DEFAULT_LIMITS, Limits
    from brisk._protocol.http2 import H2Connection, H2Stream
    from brisk.exceptions import RequestException

from _fuzzutil import cut, fuzz

SERVER_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"
# Stream ids a record may name: the connection, our streams, ids we never opened, the largest id.
STREAM_IDS = (0, 1, 3, 5, 7, 2, 9, 0x7FFFFFFF)
SMALL = Limits(max_header_line=120, max_header_count=12, max_head_size=600)


def frames(payload: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i + 5 <= len(payload):
        kind, flags, selector = payload[i], payload[i + 1], payload[i + 2]
        length = int.from_bytes(payload[i + 3 : i + 5], "big")
        body = payload[i + 5 : i + 5 + length]
        i += 5 + length
        stream_id = STREAM_IDS[selector % len(STREAM_IDS)] | (0x80000000 if selector >= 0xF8 else 0)
        out += len(body).to_bytes(3, "big") + bytes((kind, flags)) + stream_id.to_bytes(4, "big") + body
    return bytes(out)


def check_state(conn: H2Connection, streams: list[H2Stream]) -> None:
    if conn.error is not None:
        assert isinstance(conn.error, RequestException), repr(conn.error)
    for stream in streams:
        if stream.error is not None:
            assert isinstance(stream.error, RequestException), repr(stream.error)
        elif conn.error is not None:
            assert stream.complete, "the connection failed but an unfinished stream has no error"
        if stream.status is not None:
            assert isinstance(stream.status, int), stream.status
            assert 100 <= stream.status <= 999, stream.status
            assert all(isinstance(n, str) and isinstance(v, str) for n, v in stream.headers), stream.headers
        assert all(100 <= code <= 199 for code in stream.informational), stream.informational


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    control, seed, payload = data[0], data[1], data[2:]
    conn = H2Connection(SMALL if control & 0x40 else DEFAULT_LIMITS)
    streams = [
        conn.send_request("GET", "https", "example.com", f"/{n}", [("accept", "*/*")], not control & 0x10)
        for n in range((control >> 1) % 4 or 1)
    ]
    conn.data_to_send()
    wire = payload if not control & 1 else frames(payload)
    if not control & 8:
        wire = SERVER_SETTINGS + SETTINGS_ACK + wire
    released: set[int] = set()
    for number, piece in enumerate(cut(wire, seed)):
        conn.receive(piece)
        conn.data_to_send()
        check_state(conn, [s for s in streams if s.id not in released])
        conn.can_open_stream()
        for stream in streams:
            if stream.id in released:
                continue
            conn.take_body(stream)
            conn.send_window(stream)
            if control & 0x20 and stream.id == number % 8:
                conn.release(stream)
                released.add(stream.id)
        conn.data_to_send()
    conn.connection_lost()
    kept = [s for s in streams if s.id not in released]
    check_state(conn, kept)
    for stream in kept:
        assert stream.complete or stream.error is not None, "a stream neither finished nor failed"
        conn.release(stream)
    conn.close()


if __name__ == "__main__":
    fuzz(test_one_input)
