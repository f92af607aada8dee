"""A session makes its transport (its connection pool) once, however many threads send its first requests."""

from __future__ import annotations

import threading
import time

import brisk
from brisk.testing.mock import MockTransport


class SlowToStart(brisk.Session):
    """Making the transport takes a while, as opening a pool may: the window threads could meet in."""

    made: list[MockTransport]

    def _new_transport(self) -> MockTransport:  # type: ignore[override]
        time.sleep(0.05)
        transport = MockTransport(routes={"/": 200})
        self.made.append(transport)
        return transport


def test_threads_sending_a_new_sessions_first_requests_share_one_transport() -> None:
    session = SlowToStart()
    session.made = []
    start = threading.Barrier(4)
    statuses: list[int] = []

    def first_request() -> None:
        start.wait()
        statuses.append(session.get("http://api.example.test/").status_code)

    threads = [threading.Thread(target=first_request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert len(session.made) == 1
    assert session._transport is session.made[0]


def test_map_on_a_new_session_makes_one_transport() -> None:
    session = SlowToStart()
    session.made = []
    responses = session.map(["http://api.example.test/"] * 8, concurrency=8)
    assert [r.status_code for r in responses] == [200] * 8
    assert len(session.made) == 1
