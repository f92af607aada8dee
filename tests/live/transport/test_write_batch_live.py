"""Async HTTP/1.1 requests written together (``brisk._transport.asyncio.writes``), through ``AsyncSession``
against a raw-socket server: heads deferred while other requests are in flight still go out, the count of
exchanges in flight returns to zero whatever ends them, and a head written late (the loop blocked or
stopped in between) gets its whole read timeout from the moment it leaves."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import brisk
from brisk._transport.asyncio.writes import WriteBatch
from brisk.exceptions import ReadTimeout
from servers.raw import RawConnection, RawServerFactory

SLOW = 1.5  # seconds /slow waits before it answers


def answer(conn: RawConnection) -> None:
    while (request := conn.recv_request()) is not None:
        if request.target == "/slow":
            time.sleep(SLOW)
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def batch_of(session: brisk.AsyncSession) -> WriteBatch:
    writes: WriteBatch = session._transport.writes
    return writes


@pytest.fixture
def url(raw_server: RawServerFactory) -> str:
    return raw_server(answer).url


def test_requests_in_flight_together_are_written_in_batches_and_all_answered(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes = []
    flush = WriteBatch._flush

    def counted(self: WriteBatch) -> None:
        flushes.append(len(self._writes))
        flush(self)

    monkeypatch.setattr(WriteBatch, "_flush", counted)

    async def main() -> None:
        async with brisk.AsyncSession() as session:
            for _ in range(3):  # the later rounds reuse the pooled connections
                responses = await asyncio.gather(*[session.get(url + f"/{n}") for n in range(20)])
                assert [r.text for r in responses] == ["ok"] * 20
            assert batch_of(session).in_flight == 0

    asyncio.run(main())
    assert max(flushes, default=0) > 1, flushes  # heads went out together, not one by one


def test_the_count_in_flight_returns_to_zero_after_timeouts_and_cancellation(url: str) -> None:
    async def main() -> None:
        async with brisk.AsyncSession() as session:
            outcomes = await asyncio.gather(
                *[session.get(url + "/slow", timeout=(5, 0.2)) for _ in range(5)], return_exceptions=True
            )
            assert all(isinstance(outcome, ReadTimeout) for outcome in outcomes), outcomes
            assert batch_of(session).in_flight == 0
            tasks = [asyncio.ensure_future(session.get(url + "/slow")) for _ in range(5)]
            while batch_of(session).in_flight < 5:  # every request written or waiting to be
                await asyncio.sleep(0.01)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            assert batch_of(session).in_flight == 0
            assert (await session.get(url + "/after")).text == "ok"

    asyncio.run(main())


def test_a_head_written_after_the_loop_was_blocked_gets_its_whole_read_timeout(url: str) -> None:
    async def main() -> None:
        async with brisk.AsyncSession() as session:
            await session.get(url + "/warm")
            slow = asyncio.ensure_future(session.get(url + "/slow"))  # in flight: later heads are deferred
            while batch_of(session).in_flight < 1:
                await asyncio.sleep(0.01)
            fast = asyncio.ensure_future(session.get(url + "/fast", timeout=(5, 0.5)))
            while not batch_of(session)._writes:  # /fast's head waits for the next turn...
                await asyncio.sleep(0)
            time.sleep(1.0)  # ...which a blocking call holds back past /fast's read timeout
            assert (await fast).text == "ok"  # the timeout counts from the write, not from the wait
            assert (await slow).text == "ok"

    asyncio.run(main())


def test_a_head_deferred_when_the_loop_stopped_goes_out_when_it_runs_again(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as a sync bulk run's loop stops between batches, right after a turn in which requests were started
    loop = asyncio.new_event_loop()
    session = brisk.AsyncSession()
    write = WriteBatch.write

    def stop_after_deferring(self: WriteBatch, conn: Any, data: bytes) -> None:
        write(self, conn, data)
        if self._writes:
            loop.stop()  # the loop ends this turn; the flush waits for the next

    try:

        async def warm() -> None:  # three pooled connections: the requests below start in one turn
            await asyncio.gather(*[session.get(url + "/warm") for _ in range(3)])

        loop.run_until_complete(warm())
        monkeypatch.setattr(WriteBatch, "write", stop_after_deferring)
        tasks = [loop.create_task(session.get(url + f"/{n}", timeout=(5, 0.3))) for n in range(3)]
        loop.run_forever()
        assert len(batch_of(session)._writes) == 2  # the first went at once, two wait for the loop
        time.sleep(0.6)  # longer than the read timeout
        responses = loop.run_until_complete(asyncio.gather(*tasks))
        assert [r.text for r in responses] == ["ok"] * 3
    finally:
        loop.run_until_complete(session.close())
        loop.close()
