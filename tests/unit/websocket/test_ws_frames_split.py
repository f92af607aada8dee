"""Core's own reading of whole data frames (``Core.receive_data``): whatever the reads' sizes, the messages,
their order and the library's part (control frames, fragments, errors) are what the library alone gives."""

from __future__ import annotations

import pytest

pytest.importorskip("websockets", reason="the WebSocket core needs the websockets package")

from websockets.frames import Frame, Opcode

from brisk._websocket.core import Core


def server_frame(opcode: Opcode, data: bytes, fin: bool = True) -> bytes:
    return Frame(opcode, data, fin).serialize(mask=False)


def client_frames(data: bytes) -> list[Frame]:
    from websockets.protocol import OPEN, Protocol, Side

    server = Protocol(Side.SERVER, state=OPEN, max_size=None)
    server.receive_data(data)
    return server.events_received()


BIG = bytes(range(256)) * 300  # 76,800 bytes: a 64-bit length
MEDIUM = b"m" * 300  # a 16-bit length
STREAM = (
    server_frame(Opcode.TEXT, "héllo".encode())
    + server_frame(Opcode.BINARY, BIG)
    + server_frame(Opcode.PING, b"p1")
    + server_frame(Opcode.TEXT, b"frag", fin=False)
    + server_frame(Opcode.PING, b"p2")
    + server_frame(Opcode.CONT, b"ment")
    + server_frame(Opcode.BINARY, MEDIUM)
    + server_frame(Opcode.TEXT, b"")
    + server_frame(Opcode.BINARY, b"\x00")
)
EXPECTED = ["héllo", BIG, "fragment", MEDIUM, "", b"\x00"]


def feed(core: Core, data: bytes, size: int) -> None:
    for at in range(0, len(data), size):
        core.receive_data(memoryview(data)[at : at + size])  # as the sync driver hands them over


def messages(core: Core) -> list[str | bytes]:
    out = []
    while (message := core.next_message()) is not None:
        out.append(message)
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 7, 10, 13, 126, 1000, 65536, len(STREAM)])
def test_messages_and_pongs_whatever_the_read_sizes(size):
    core = Core([], None)
    feed(core, STREAM, size)
    got = messages(core)
    assert got == EXPECTED
    assert [type(m) for m in got] == [type(m) for m in EXPECTED]
    assert core.queued == 0
    assert core.error is None
    writes, _ = core.take_writes()
    assert [(f.opcode, f.data) for f in client_frames(writes)] == [(Opcode.PONG, b"p1"), (Opcode.PONG, b"p2")]


def test_a_large_frame_is_read_into_its_own_buffer():
    core = Core([], None)
    frame = server_frame(Opcode.BINARY, BIG)
    core.receive_data(frame[:100])
    target = core.big_target()
    assert target is not None
    assert len(target) == len(BIG) - (100 - 10)  # the payload after the 10-byte header's first 90 bytes
    rest = frame[100:]
    target[: len(rest)] = rest  # what a socket's recv_into(target) does
    core.big_received(len(rest))
    assert core.big_target() is None
    assert messages(core) == [BIG]


def test_a_text_frame_after_an_unfinished_fragment_is_the_librarys_error():
    core = Core([], None)
    core.receive_data(server_frame(Opcode.TEXT, b"a", fin=False) + server_frame(Opcode.TEXT, b"b"))
    assert messages(core) == []
    assert core.error is not None
    assert core.error.code == 1002
    assert "continuation" in str(core.error)


@pytest.mark.parametrize("size", [1, 5, 1000])
def test_invalid_utf8_in_a_whole_frame_fails_with_1007_and_nothing_after_it_is_delivered(size):
    core = Core([], None)
    feed(core, server_frame(Opcode.TEXT, b"ok") + server_frame(Opcode.TEXT, b"\xc3(") + STREAM, size)
    assert messages(core) == ["ok"]
    assert core.error is not None
    assert core.error.code == 1007
    writes, _ = core.take_writes()
    assert [f.opcode for f in client_frames(writes)] == [Opcode.CLOSE]  # no pong for the pings after it


def test_a_frame_over_max_size_is_refused_from_its_header():
    core = Core([], 1000)
    frame = server_frame(Opcode.BINARY, b"y" * 5000)
    core.receive_data(frame[:4])  # the header announces 5000 bytes; none of them came
    assert core.error is not None
    assert core.error.code == 1009


def test_masked_and_rsv_frames_go_to_the_library_and_are_refused():
    masked = Frame(Opcode.TEXT, b"hi").serialize(mask=True)
    core = Core([], None)
    core.receive_data(masked)
    assert core.error is not None
    assert core.error.code == 1002
    rsv = bytearray(server_frame(Opcode.BINARY, b"z"))
    rsv[0] |= 0x40  # RSV1 without an extension that uses it
    core = Core([], None)
    core.receive_data(bytes(rsv))
    assert core.error is not None
    assert core.error.code == 1002


def test_a_close_ends_the_reading_and_later_frames_are_not_delivered():
    core = Core([], None)
    close = server_frame(Opcode.CLOSE, b"\x03\xe8bye")
    feed(core, server_frame(Opcode.TEXT, b"before") + close + server_frame(Opcode.TEXT, b"after"), 3)
    assert messages(core) == ["before"]
    assert core.error is not None
    assert core.close_code == 1000
    assert core.close_reason == "bye"


def test_eof_inside_a_large_frame_is_an_abnormal_close():
    core = Core([], None)
    core.receive_data(server_frame(Opcode.BINARY, BIG)[:5000])
    core.receive_eof()
    assert messages(core) == []
    assert core.error is not None
    assert core.error.code == 1006


def _outcome(core: Core) -> tuple:
    writes, eof = core.take_writes()
    error = core.error
    return (
        messages(core),
        [(f.opcode, f.data) for f in client_frames(writes)] if writes else [],
        eof,
        None if error is None else (error.code, error.reason),
        core.close_code,
    )


@pytest.mark.parametrize("seed", range(200))
def test_same_outcome_as_the_library_alone_for_random_streams_and_reads(seed):
    """Random frame streams (good and bad frames mixed) split at random points: Core's own reading of
    data frames ends exactly where the library alone ends (messages, answers, error, close)."""
    import random

    rng = random.Random(seed)
    pieces = []
    for _ in range(rng.randint(1, 12)):
        kind = rng.random()
        size = rng.choice([0, 1, 5, 125, 126, 127, 300, 65535, 65536, 70000])
        if kind < 0.5:
            pieces.append(server_frame(rng.choice([Opcode.TEXT, Opcode.BINARY]), b"a" * size))
        elif kind < 0.6:
            pieces.append(server_frame(Opcode.PING, b"p" * min(size, 125)))
        elif kind < 0.7:
            pieces.append(server_frame(Opcode.TEXT, b"fr", fin=False) + server_frame(Opcode.CONT, b"ag"))
        elif kind < 0.75:
            pieces.append(server_frame(Opcode.TEXT, b"\xff" * max(size, 1)))  # invalid UTF-8
        elif kind < 0.8:
            pieces.append(server_frame(Opcode.CONT, b"stray"))
        elif kind < 0.85:
            pieces.append(Frame(Opcode.BINARY, b"m" * size).serialize(mask=True))
        elif kind < 0.9:
            pieces.append(server_frame(Opcode.CLOSE, b"\x03\xe8"))
        else:
            pieces.append(server_frame(Opcode.TEXT, "é".encode() * (size // 2)))
    stream = b"".join(pieces)
    max_size = rng.choice([None, 1000, 70000])
    fast, reference = Core([], max_size), Core([], max_size)
    reference._fast = False  # the library reads every frame
    at = 0
    while at < len(stream):
        step = rng.choice([1, 2, 3, 9, 100, 4096, 65536, len(stream)])
        fast.receive_data(memoryview(stream)[at : at + step])
        reference.receive_data(stream[at : at + step])
        at += step
    if rng.random() < 0.5:
        fast.receive_eof()
        reference.receive_eof()
    got, want = _outcome(fast), _outcome(reference)
    if want[3] is not None and want[3][0] == 1007:
        # After invalid UTF-8 the library alone has already parsed (and answered pings in) the rest of
        # the read it came in, which depends on where reads end; Core's own reading stops at the bad
        # frame. The messages before it and the error are the same.
        assert (got[0], got[3]) == (want[0], want[3])
        assert got[1][-1][0] == Opcode.CLOSE
    else:
        assert got == want
