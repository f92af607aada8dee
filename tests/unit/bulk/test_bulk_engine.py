"""The bulk engine without sockets: a stub session or brisk's MockTransport answers.

What each test pins: results for every item with its index, input order within the window, lazy reading
of the input (never more than the bound ahead of the consumer), the per-host gate, a failing input, bad
items, stop(), map's meaning, and flat memory over a million items.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

import brisk
from brisk._bulk.engine import BulkRun
from brisk._bulk.items import BulkOptions, BulkResult, HostGate, host_of
from brisk.testing.mock import MockTransport


class Answer:
    status_code = 200

    def __init__(self, url: str) -> None:
        self.url = url


class Stub:
    """A session whose requests take a little event-loop time and record what ran at once."""

    def __init__(self, delay: float = 0.0, fail: set[str] | None = None) -> None:
        self.delay = delay
        self.fail = fail or set()
        self.running: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.total = 0
        self.most_total = 0
        self.calls: list[dict[str, Any]] = []

    async def request(self, method: str, url: str, **options: Any) -> Any:
        host = host_of(url)
        self.calls.append({"method": method, "url": url, **options})
        self.running[host] = self.running.get(host, 0) + 1
        self.total += 1
        self.most[host] = max(self.most.get(host, 0), self.running[host])
        self.most_total = max(self.most_total, self.total)
        try:
            await asyncio.sleep(self.delay)
            if url in self.fail:
                raise brisk.ConnectionError(f"refused: {url}")
            return Answer(url)
        finally:
            self.running[host] -= 1
            self.total -= 1


async def collect(run: BulkRun) -> list[BulkResult]:
    out: list[BulkResult] = []
    async for batch in run.batches():
        out.extend(batch)
    return out


def urls(n: int, hosts: int = 1) -> list[str]:
    return [f"http://h{i % hosts}.test/{i}" for i in range(n)]


def test_every_item_gets_one_result_with_its_index() -> None:
    stub = Stub()
    results = asyncio.run(collect(BulkRun(stub, urls(500), BulkOptions(concurrency=17))))  # type: ignore[arg-type]
    assert sorted(r.index for r in results) == list(range(500))
    assert all(r.response.url == r.url == f"http://h0.test/{r.index}" for r in results)  # type: ignore[union-attr]


def test_concurrency_and_per_host_limits_hold() -> None:
    stub = Stub(delay=0.001)
    options = BulkOptions(concurrency=20, per_host=3)
    asyncio.run(collect(BulkRun(stub, urls(300, hosts=4), options)))  # type: ignore[arg-type]
    assert stub.most_total <= 20
    assert set(stub.most) == {f"http://h{i}.test" for i in range(4)}
    assert max(stub.most.values()) == 3  # reached, never passed


def test_ordered_results_come_in_input_order() -> None:
    stub = Stub()

    async def varied(method: str, url: str, **options: Any) -> Any:
        await asyncio.sleep(0.002 if url.endswith(("0", "5")) else 0)  # some finish late
        return Answer(url)

    stub.request = varied  # type: ignore[method-assign]
    results = asyncio.run(
        collect(BulkRun(stub, urls(200), BulkOptions(concurrency=10, ordered=True, window=20)))
    )  # type: ignore[arg-type]
    assert [r.index for r in results] == list(range(200))


@pytest.mark.parametrize(("ordered", "bound"), [(False, 2 * 8), (True, 30)])
def test_input_is_read_lazily_within_the_bound(ordered: bool, bound: int) -> None:
    """However slow the consumer, the input is never read more than the bound ahead of what it took."""
    pulled = 0

    def source() -> Iterator[str]:
        nonlocal pulled
        for i in itertools.count():
            pulled += 1
            yield f"http://h.test/{i}"

    async def consume() -> int:
        taken = 0
        ahead = 0
        run = BulkRun(
            Stub(), itertools.islice(source(), 400), BulkOptions(concurrency=8, ordered=ordered, window=30)
        )  # type: ignore[arg-type]
        async for batch in run.batches():
            taken += len(batch)
            ahead = max(ahead, pulled - taken)
            await asyncio.sleep(0)  # a consumer doing some work
        assert taken == 400
        return ahead

    assert asyncio.run(consume()) <= bound


def test_a_failing_input_ends_the_run_with_its_exception() -> None:
    def source() -> Iterator[str]:
        yield "http://h.test/1"
        raise OSError("the URL file went away")

    with pytest.raises(OSError, match="went away"):
        asyncio.run(collect(BulkRun(Stub(), source(), BulkOptions(concurrency=4))))  # type: ignore[arg-type]


class Interrupted(BaseException):
    """Not an Exception: what a signal handler (a test timeout, ``SystemExit``) raises inside a request."""


@pytest.mark.parametrize("raised", [Interrupted, asyncio.CancelledError])
def test_a_request_ending_in_a_base_exception_ends_the_run_not_silently_its_item(
    raised: type[BaseException],
) -> None:
    # A worker that died of it used to take its item with it: the run went on and yielded n - 1 results.
    class Breaking(Stub):
        async def request(self, method: str, url: str, **options: Any) -> Any:
            if url.endswith("/3"):
                raise raised("inside the request")
            return await super().request(method, url, **options)

    async def run() -> list[BulkResult]:
        return await collect(BulkRun(Breaking(), urls(20), BulkOptions(concurrency=4)))  # type: ignore[arg-type]

    with pytest.raises(raised, match="inside the request"):
        asyncio.run(run())


def test_failures_and_bad_items_are_results_not_exceptions() -> None:
    stub = Stub(fail={"http://h.test/bad"})
    items: list[Any] = [
        "http://h.test/ok",
        "http://h.test/bad",
        42,
        ("POST", "http://h.test/p"),
        {"url": "http://h.test/d", "method": "PUT", "timeout": 3},
    ]
    results = sorted(
        asyncio.run(collect(BulkRun(stub, items, BulkOptions(concurrency=2)))), key=lambda r: r.index
    )  # type: ignore[arg-type]
    assert [r.error is None for r in results] == [True, False, False, True, True]
    assert isinstance(results[1].error, brisk.ConnectionError)
    assert isinstance(results[2].error, TypeError)
    assert "42" in str(results[2].error)
    assert (results[3].method, results[4].method) == ("POST", "PUT")
    assert {"method": "PUT", "url": "http://h.test/d", "timeout": 3} in stub.calls


def test_common_options_reach_every_request_and_items_override_them() -> None:
    stub = Stub()
    items = ["http://h.test/a", {"url": "http://h.test/b", "timeout": 1}]
    asyncio.run(collect(BulkRun(stub, items, BulkOptions(concurrency=1, common={"timeout": 9}))))  # type: ignore[arg-type]
    assert [call["timeout"] for call in stub.calls] == [9, 1]


def test_stop_takes_no_new_item_and_finishes_those_under_way() -> None:
    async def run_and_stop() -> tuple[int, int]:
        stub = Stub(delay=0.001)
        run = BulkRun(stub, urls(10_000), BulkOptions(concurrency=5))  # type: ignore[arg-type]
        got = 0
        async for batch in run.batches():
            got += len(batch)
            if got >= 20:
                run.stop()
        return got, run.stats.done

    got, done = asyncio.run(run_and_stop())
    assert 20 <= got < 40
    assert got == done  # every request started was finished and handed out


def test_host_gate_hands_slots_over_and_forgets_idle_hosts() -> None:
    async def scenario() -> None:
        gate = HostGate(1)
        await gate.acquire("a")
        waiter = asyncio.ensure_future(gate.acquire("a"))
        cancelled = asyncio.ensure_future(gate.acquire("a"))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.sleep(0)
        gate.release("a")
        await waiter  # got the slot
        gate.release("a")
        assert len(gate) == 0

    asyncio.run(scenario())


def test_host_of_keeps_scheme_host_and_port_only() -> None:
    assert host_of("HTTPS://User:pw@Example.COM:8443/a/b?q#f") == "https://example.com:8443"
    assert host_of(b"http://a.test?x=1") == "http://a.test"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"per_host": 0}, "per_host"),
        ({"window": 0}, "window"),
        ({"progress": 3}, "progress"),
        ({"save_to": 3}, "save_to"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        BulkOptions(**options)


def test_session_map_keeps_its_meaning_on_the_engine() -> None:
    routes = {"/ok": 200, "/missing": 404}
    with brisk.Session(transport=MockTransport(routes=routes)) as session:
        responses = session.map(["http://a.test/ok", ("GET", "http://a.test/missing")] * 30, concurrency=7)
        assert [r.status_code for r in responses] == [200, 404] * 30
        assert "_bulk" in session.__dict__  # ran on the session's loop thread
        with pytest.raises(TypeError, match="map\\(\\) items"):
            session.map([object()])
    assert "_bulk" not in session.__dict__  # close() stopped it


def test_async_map_raises_the_first_failure_and_returns_exceptions_when_asked() -> None:
    def handler(request: brisk.PreparedRequest) -> Any:
        if request.url.endswith("/boom"):
            raise brisk.ConnectionError("boom")
        return 200

    async def scenario() -> None:
        async with brisk.AsyncSession(transport=MockTransport(handler)) as session:
            items = ["http://a.test/1", "http://a.test/boom", "http://a.test/3"]
            got = await session.map(items, return_exceptions=True)
            assert [type(x).__name__ for x in got] == ["Response", "ConnectionError", "Response"]
            with pytest.raises(brisk.ConnectionError, match="boom"):
                await session.map(items)

    asyncio.run(scenario())


def test_progress_callback_sees_the_counts_and_the_end() -> None:
    seen: list[tuple[int, int, bool]] = []
    stub = Stub(fail={"http://h0.test/3"})
    options = BulkOptions(
        concurrency=4, progress=lambda p: seen.append((p.done, p.errors, p.finished)), interval=0
    )
    asyncio.run(collect(BulkRun(stub, urls(10), options)))  # type: ignore[arg-type]
    assert seen[-1] == (10, 1, True)
    assert all(not finished for *_, finished in seen[:-1])


def test_the_plain_bar_writes_counts_rate_and_the_end() -> None:
    import io

    from brisk._bulk.items import BulkProgress
    from brisk._bulk.meter import BulkBar, describe

    progress = BulkProgress(total=10)
    progress.done, progress.errors, progress.failed_status, progress.elapsed = 4, 1, 2, 2.0
    assert describe(progress) == "4/10 done, 1 errors, 2 status >= 400, 2/s, 0:03 left"
    out = io.StringIO()
    bar = BulkBar("crawl", file=out, use_rich=False)
    bar(progress)  # not a terminal: a line at most every 5 s, and always the last one
    progress.done, progress.finished = 10, True
    bar(progress)
    assert out.getvalue().splitlines() == ["crawl: 10/10 done, 1 errors, 2 status >= 400, 5/s, in 0:02"]


def test_a_session_dropped_without_close_lets_its_loop_go() -> None:
    """The loop is held by the session only (never made the thread's current loop), so a session dropped
    without close() does not keep a loop and its connections open for the life of the process."""
    import gc
    import warnings
    import weakref

    session = brisk.Session(transport=MockTransport(routes={"/": 200}))
    assert [r.status_code for r in session.map(["http://a.test/"] * 3)] == [200] * 3
    (bulk,) = session.__dict__["_bulk"].values()
    loop = weakref.ref(bulk.runner.loop)
    del bulk
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the unclosed loop says so as it goes
        del session
        gc.collect()
    assert loop() is None


def test_inside_a_running_loop_the_run_goes_to_a_thread_that_ends_with_the_session() -> None:
    import gc
    import threading
    import warnings

    async def inside() -> None:
        session = brisk.Session(transport=MockTransport(routes={"/": 200}))
        assert [r.status for r in session.imap(["http://a.test/"] * 3)] == [200] * 3
        (bulk,) = session.__dict__["_bulk"].values()
        thread = bulk.runner._thread
        assert thread.is_alive()
        del bulk
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            del session
            gc.collect()
        thread.join(10)
        assert not thread.is_alive()
        assert threading.current_thread() is threading.main_thread()

    asyncio.run(inside())
