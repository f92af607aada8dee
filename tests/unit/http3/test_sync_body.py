"""The sync HTTP/3 body's reading loop, against a stream whose end arrives at an awkward moment (another
thread's pump receives it between the reader's two looks), without sockets."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("aioquic", reason="HTTP/3 needs the brisk[http3] extra (aioquic)")

from brisk._protocol.http3 import H3State, H3Stream
from brisk._transport.base import Timings
from brisk._transport.sync.h3 import _SyncH3Body


class EndArrivesLate(H3Stream):
    """The first time the reader finds no data waiting, the last data and the end arrive right after."""

    __slots__ = ("_arrived", "_chunks")

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._arrived = False
        super().__init__(0, False)

    @property  # type: ignore[override]
    def body(self) -> list[bytes]:
        if not self._chunks and not self._arrived:
            self._arrived = True
            self._chunks.append(b"last")  # another thread's pump, between this look and the next
            self.complete = True
            return []
        return self._chunks

    @body.setter
    def body(self, value: list[bytes]) -> None:
        self._chunks = value


class Conn:
    closed = False
    served = 0
    state = SimpleNamespace(take_body=lambda stream: H3State.take_body(None, stream))  # type: ignore[arg-type]

    def call(self, action: Any) -> Any:
        return action(self.state)

    def wait(self, *args: Any) -> None:
        raise AssertionError("nothing to wait for: the data is there")

    def release(self, stream: H3Stream) -> None:
        pass

    def looks_alive(self) -> bool:
        return True


class Pool:
    def _finish(self, key: object, conn: object, reusable: bool) -> None:
        pass


def test_data_that_arrives_with_the_end_between_two_looks_is_read() -> None:
    stream = EndArrivesLate()
    stream.body = [b"first"]
    body = _SyncH3Body(Pool(), "key", Conn(), stream, None, Timings(time.monotonic()))  # type: ignore[arg-type]
    assert b"".join(body) == b"firstlast"
