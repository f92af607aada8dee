"""Server-sent events: the sans-IO parser against the WHATWG rules, then real streams in both clients."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

import brisk
from brisk._response.sse import ServerSentEvent, SSEDecoder
from servers.clients import Client
from servers.raw import NETWORK_ERRORS, RawConnection, http_response

pytestmark = pytest.mark.timeout(30)


def parse(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def parse_bytewise(data: bytes) -> list[ServerSentEvent]:
    return parse(*(data[i : i + 1] for i in range(len(data))))


# -- the parser ------------------------------------------------------------------------------------------


def test_multi_line_data_is_joined_with_lf() -> None:
    assert parse(b"data: first\ndata: second\ndata:third\n\n") == [
        ServerSentEvent("message", "first\nsecond\nthird", "", None)
    ]


def test_event_name_id_and_retry() -> None:
    (event,) = parse(b'event: update\nid: 42\nretry: 1500\ndata: {"a": 1}\n\n')
    assert event == ServerSentEvent("update", '{"a": 1}', "42", 1500)
    assert event.json() == {"a": 1}


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending(ending: bytes) -> None:
    stream = ending.join([b"event: e", b"data: one", b"data: two", b"", b"data: three", b"", b""])
    expected = [ServerSentEvent("e", "one\ntwo"), ServerSentEvent("message", "three")]
    assert parse(stream) == expected
    assert parse_bytewise(stream) == expected  # a CRLF cut in two is still one line end


def test_mixed_line_endings() -> None:
    assert parse(b"data: a\r\ndata: b\rdata: c\n\r\n") == [ServerSentEvent("message", "a\nb\nc")]


def test_comments_are_ignored() -> None:
    assert parse(b": keep-alive\n\n:another\ndata: x\n: inside\n\n") == [ServerSentEvent("message", "x")]


def test_field_parsing() -> None:
    events = parse(
        b"data\n"  # no colon: the whole line is the field name, the value is empty
        b"data:\n"
        b"data:  two spaces\n"  # only one leading space is removed
        b"data: a: b\n"  # a colon in the value stays
        b"unknown: ignored\n"
        b"data : space before the colon makes another field name\n"
        b"\n"
    )
    assert events == [ServerSentEvent("message", "\n\n two spaces\na: b")]


def test_no_data_no_event_and_the_name_is_forgotten() -> None:
    events = parse(b"event: lonely\n\ndata: after\n\n")
    assert events == [ServerSentEvent("message", "after")]


def test_empty_data_line_dispatches_an_empty_event() -> None:
    assert parse(b"data\n\n") == [ServerSentEvent("message", "")]
    assert parse(b"event:\ndata: x\n\n") == [ServerSentEvent("message", "x")]


def test_id_persists_until_changed_and_rejects_nul() -> None:
    events = parse(
        b"id: 1\ndata: a\n\n"
        b"data: b\n\n"  # still 1
        b"id: 2\0x\ndata: c\n\n"  # NUL: ignored, still 1
        b"id\ndata: d\n\n"  # empty id: cleared
    )
    assert [(e.data, e.id) for e in events] == [("a", "1"), ("b", "1"), ("c", "1"), ("d", "")]


def test_id_alone_is_remembered_for_reconnection() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 7\n\n") == []
    assert decoder.last_event_id == "7"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(b"3000", 3000), (b"0", 0), (b"", None), (b"1.5", None), (b"-1", None), (b"  10", None), (b"1e3", None),
     ("\u0661\u0662".encode(), None)],  # Arabic-Indic digits are digits, but not ASCII digits
)  # fmt: skip
def test_retry_only_ascii_digits(value: bytes, expected: int | None) -> None:
    # The value follows "retry:" directly; of "  10" one space is removed, leaving " 10": not digits.
    (event,) = parse(b"retry:" + value + b"\ndata: x\n\n")
    assert event.retry == expected


def test_retry_is_stream_state() -> None:
    events = parse(b"retry: 100\n\ndata: a\n\nretry: bad\ndata: b\n\nretry: 200\ndata: c\n\n")
    assert [e.retry for e in events] == [100, 100, 200]


def test_byte_order_mark_only_at_the_start() -> None:
    bom = b"\xef\xbb\xbf"
    assert parse(bom + b"data: x\n\n") == [ServerSentEvent("message", "x")]
    assert parse_bytewise(bom + b"data: x\n\n") == [ServerSentEvent("message", "x")]
    # A second BOM is part of the line: "\ufeffdata" is not the field "data".
    assert parse(bom + bom + b"data: x\n\n") == []
    assert parse(b"data: \xef\xbb\xbfx\n\n") == [ServerSentEvent("message", "\ufeffx")]


def test_invalid_utf8_is_replaced() -> None:
    assert parse(b"data: caf\xe9\n\n") == [ServerSentEvent("message", "caf\ufffd")]
    assert parse_bytewise("data: café ☕\n\n".encode()) == [ServerSentEvent("message", "café ☕")]


def test_unfinished_event_is_discarded_at_the_end() -> None:
    assert parse(b"data: complete\n\ndata: cut off\n") == [ServerSentEvent("message", "complete")]
    assert parse(b"data: cut off") == []


def test_chunk_boundaries_do_not_matter() -> None:
    stream = (
        b"\xef\xbb\xbf: hello\r\nevent: a\r\nid: 1\r\ndata: x\r\ndata: y\r\n\r\n"
        b"retry: 5\rdata: z\r\rdata: w\n\n"
    )
    whole = parse(stream)
    assert len(whole) == 3
    for size in (1, 2, 3, 5, 7):
        assert parse(*(stream[i : i + size] for i in range(0, len(stream), size))) == whole


# -- real streams, sync and async ---------------------------------------------------------------------------


async def _collect(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


def events_of(client: Client, response: brisk.Response) -> list[ServerSentEvent]:
    if client.mode == "sync":
        return list(response.iter_events())
    return client.run(_collect(response.aiter_events()))  # type: ignore[union-attr,no-any-return]


def test_app_event_stream(client: Client, app_server: Any) -> None:
    response = client.get(app_server.url + "/sse?count=4&retry=2500", stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = events_of(client, response)
    assert [e.event for e in events] == ["tick"] * 4
    assert [e.id for e in events] == ["1", "2", "3", "4"]
    assert all(e.retry == 2500 for e in events)
    assert events[2].data.splitlines()[0] == "event 3"
    assert json.loads(events[2].data.splitlines()[1]) == {"n": 3, "of": 4}


def test_app_event_stream_arrives_as_it_is_sent(client: Client, app_server: Any) -> None:
    response = client.get(app_server.url + "/sse?count=3&delay=0.05", stream=True)
    assert [e.id for e in events_of(client, response)] == ["1", "2", "3"]


RAW_STREAM = (
    b"\xef\xbb\xbf: a comment, then CRLF line ends\r\n"
    b"retry: 3000\r\n"
    b"\r\n"
    b"event: greeting\r\n"
    b"id: a1\r\n"
    b"data: hello\r\n"
    b"data:  world\r\n"
    b"\r\n"
    b"data: CR only\r"
    b"retry: x\r"
    b"\r"
    b"id\n"
    b'data: {"k": [1, 2]}\n'
    b"\n"
    b"data: never finished\n"
)


def _sse_handler(conn: RawConnection) -> None:
    """The stream in small, odd pieces over chunked encoding, then the connection closes."""
    conn.recv_request()
    conn.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
        b"Cache-Control: no-cache\r\n\r\n"
    )
    for start in range(0, len(RAW_STREAM), 7):
        piece = RAW_STREAM[start : start + 7]
        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    conn.send(b"0\r\n\r\n")


def test_raw_server_event_stream(client: Client, raw_server: Any) -> None:
    server = raw_server(_sse_handler)
    response = client.get(server.url + "/events", stream=True)
    assert events_of(client, response) == [
        ServerSentEvent("greeting", "hello\n world", "a1", 3000),
        ServerSentEvent("message", "CR only", "a1", 3000),
        ServerSentEvent("message", '{"k": [1, 2]}', "", 3000),
    ]


def test_events_from_a_body_already_read(client: Client, raw_server: Any) -> None:
    body = b"data: one\n\ndata: two\n\n"
    server = raw_server(
        lambda conn: (
            conn.recv_request(),
            conn.send(http_response(200, body, [("Content-Type", "text/event-stream")])),
        )
    )
    response = client.get(server.url)
    assert [e.data for e in events_of(client, response)] == ["one", "two"]


def test_gzipped_event_stream_is_decoded(client: Client, raw_server: Any) -> None:
    import gzip

    body = gzip.compress(b"event: z\ndata: compressed\n\n")
    headers = [("Content-Type", "text/event-stream"), ("Content-Encoding", "gzip")]
    server = raw_server(lambda conn: (conn.recv_request(), conn.send(http_response(200, body, headers))))
    response = client.get(server.url, stream=True)
    assert events_of(client, response) == [ServerSentEvent("z", "compressed")]


# -- bounded memory (issue 18: every place that buffers bytes from the network) ------------------------------


def test_an_endless_line_is_refused_past_the_limit() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    assert decoder.feed(b"data: " + b"x" * 894) == []
    assert decoder.feed(b"x" * 100) == []  # 1000 bytes: at the limit
    with pytest.raises(brisk.exceptions.ContentDecodingError, match="larger than 1000 bytes"):
        decoder.feed(b"x")


def test_an_endless_event_is_refused_past_the_limit() -> None:
    """Many short data lines and never a blank line: the event being built is what grows."""
    decoder = SSEDecoder(max_event_size=1000)
    line = b"data: 0123456789\n"
    assert decoder.feed(line * (1000 // len(line))) == []
    with pytest.raises(brisk.exceptions.ContentDecodingError, match="server-sent event"):
        decoder.feed(line)


def test_the_limit_is_per_event_not_per_stream_or_per_chunk() -> None:
    """Events that each fit pass however many there are, also when one chunk holds many of them."""
    event = b"data: " + b"y" * 500 + b"\n\n"
    decoder = SSEDecoder(max_event_size=1000)
    assert len(decoder.feed(event * 100)) == 100
    assert len([e for _ in range(100) for e in decoder.feed(event)]) == 100


def _endless_event(conn: RawConnection) -> None:
    conn.recv_request()
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"data: " + b"z" * 4000 + b"\n"
    with contextlib.suppress(*NETWORK_ERRORS):
        for _ in range(10_000):  # 40 MB at most; the client gives up long before
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))


def test_a_server_that_never_ends_an_event_gets_a_clear_error(client: Client, raw_server: Any) -> None:
    server = raw_server(_endless_event)
    response = client.get(server.url, stream=True)
    read_all = (
        (lambda: list(response.iter_events(max_event_size=100_000)))
        if client.mode == "sync"
        else (lambda: client.run(_collect(response.aiter_events(max_event_size=100_000))))
    )
    with pytest.raises(brisk.exceptions.ContentDecodingError, match="max_event_size"):
        read_all()
    client.close_response(response)
