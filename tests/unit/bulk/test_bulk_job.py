"""Resumable jobs without sockets (MockTransport), and flat memory over a million items.

The million-item test drives the engine and the sync driver (the loop thread, batches handed between
threads) with a stub session whose requests cost nothing, so it measures what the bulk code keeps per item,
in a few seconds: the same run through a real socket costs about 50 us per item (nginx on loopback), too
long for every CI run; tests/live/bulk runs real sockets with smaller counts.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk._bulk.engine import BulkRun
from brisk._bulk.items import BulkOptions
from brisk._bulk.job import DoneItems, record
from brisk._bulk.sync import LoopThread, _results
from brisk.testing.mock import MockTransport


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Answer:
    status_code = 200


ANSWER = Answer()


class Free:
    """A session whose requests take no time and no memory."""

    async def request(self, method: str, url: str, **options: Any) -> Any:
        return ANSWER


def test_a_million_items_from_a_generator_in_flat_memory() -> None:
    runner = LoopThread()
    try:

        def run(n: int) -> int:
            items = (f"http://host{i % 1000}.test/page/{i}" for i in range(n))
            options = BulkOptions(concurrency=100, per_host=8)
            return sum(1 for _ in _results(runner, BulkRun(Free(), items, options)))  # type: ignore[arg-type]

        assert run(50_000) == 50_000  # warm-up: the allocator's pools, the loop's buffers
        before = rss_bytes()
        assert run(1_000_000) == 1_000_000
        growth = rss_bytes() - before
    finally:
        runner.close()
    # Keeping anything per item (a result, a URL, a future) would take 100+ MB here.
    assert growth < 16 * 1024 * 1024, f"RSS grew {growth / 1e6:.1f} MB over a million items"


def mock_session(fail: set[str] = frozenset()) -> brisk.Session:  # type: ignore[assignment]
    def handler(request: brisk.PreparedRequest) -> Any:
        if request.url in fail:
            raise brisk.ConnectionError(f"refused {request.url}")
        return brisk.Response(200, content=b"hello", headers={"X-One": "1"})

    return brisk.Session(transport=MockTransport(handler))


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_job_records_every_item_and_a_rerun_fetches_only_the_failed(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    items = [f"http://a.test/{i}" for i in range(20)]
    with mock_session(fail={"http://a.test/3", "http://a.test/7"}) as session:
        first = brisk.bulk(items, out, session=session, concurrency=4, retries=0)
    assert (first.done, first.errors, first.skipped) == (20, 2, 0)
    records = lines(out)
    assert sorted(r["index"] for r in records) == list(range(20))
    ok = next(r for r in records if r["index"] == 0)
    assert (ok["status"], ok["size"], ok["headers"]["x-one"], ok["error"]) == (200, 5, "1", None)
    bad = next(r for r in records if r["index"] == 3)
    assert bad["error"]["type"] == "ConnectionError"
    assert bad["status"] is None
    with mock_session() as session:
        second = brisk.bulk(items, out, session=session, concurrency=4)
    assert (second.done, second.errors, second.skipped) == (2, 0, 18)
    assert {r["index"] for r in lines(out)[-2:]} == {3, 7}


def test_a_changed_input_is_fetched_again_not_skipped(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    with mock_session() as session:
        brisk.bulk(["http://a.test/0", "http://a.test/1"], out, session=session)
        again = brisk.bulk(["http://a.test/0", "http://a.test/CHANGED"], out, session=session)
    assert (again.done, again.skipped) == (1, 1)


def test_a_line_cut_by_a_killed_run_is_ignored_and_not_glued_to(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    out.write_text(
        '{"index": 0, "method": "GET", "url": "http://a.test/0", "status": 200, "error": null}\n'
        '{"index": 1, "meth'
    )
    with mock_session() as session:
        summary = brisk.bulk(["http://a.test/0", "http://a.test/1"], out, session=session)
    assert (summary.done, summary.skipped) == (1, 1)
    text = out.read_text().splitlines()
    assert text[1] == '{"index": 1, "meth'
    assert json.loads(text[2])["index"] == 1


def test_no_resume_starts_over(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    with mock_session() as session:
        brisk.bulk(["http://a.test/0"], out, session=session)
        summary = brisk.bulk(["http://a.test/0"], out, session=session, resume=False)
    assert summary.done == 1
    assert len(lines(out)) == 1


def test_done_items_keeps_four_bytes_per_position() -> None:
    done = DoneItems()
    done.add(5, "http://a.test/5")
    assert done(5, "http://a.test/5")
    assert done(5, ("GET", "http://a.test/5"))
    assert not done(5, "http://a.test/other")
    assert not done(4, "http://a.test/4")
    assert not done(99, "x")
    assert done.count == 1


def test_a_shard_far_into_the_input_resumes_in_memory_of_its_own_size(tmp_path: Path) -> None:
    """A shard's records carry indexes from its offset (bulk_on_dask's shard 5,000 starts at 50,000,000):
    resuming it keeps 4 bytes per item of the shard, not per position from the start of the whole input."""
    import tracemalloc

    offset = 50_000_000
    out = tmp_path / "shard.jsonl"
    urls = [f"http://a.test/{i}" for i in range(3)]
    with mock_session() as session:
        first = brisk.bulk(urls, out, session=session, offset=offset)
        assert first.done == 3
        assert [entry["index"] for entry in lines(out)] == [offset, offset + 1, offset + 2]
        tracemalloc.start()
        try:
            again = brisk.bulk([*urls, "http://a.test/3"], out, session=session, offset=offset)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert (again.skipped, again.done) == (3, 1)
    assert peak < 20_000_000  # 200 MB before: 4 bytes for each of the 50 million positions before the shard


def test_bodies_saved_to_files_and_recorded_with_their_path(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    with mock_session() as session:
        items: list[Any] = [
            "http://a.test/0",
            {"url": "http://a.test/1", "path": str(tmp_path / "one.html"), "key": "k1"},
        ]
        brisk.bulk(items, out, session=session, save_to=tmp_path / "bodies")
    by_index = {r["index"]: r for r in lines(out)}
    assert Path(by_index[0]["path"]).read_bytes() == b"hello"
    assert by_index[1]["path"] == str(tmp_path / "one.html")
    assert by_index[1]["key"] == "k1"
    assert (tmp_path / "one.html").read_bytes() == b"hello"
    assert not list(tmp_path.rglob("*.part"))


def test_async_job(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"

    async def scenario() -> Any:
        async with brisk.AsyncSession(transport=MockTransport(routes={"/": 200})) as session:
            return await brisk.abulk((f"http://a.test/?{i}" for i in range(30)), out, session=session)

    summary = asyncio.run(scenario())
    assert summary.done == 30
    assert len(lines(out)) == 30


def test_record_of_a_result_is_json(tmp_path: Path) -> None:
    with mock_session() as session:
        result = next(session.imap(["http://a.test/x"]))
    entry = record(result)
    assert json.loads(json.dumps(entry))["url"] == "http://a.test/x"


def test_imap_of_a_session_that_cannot_be_cloned_says_why() -> None:
    class Custom(brisk.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            return super().request(*args, **kwargs)

    with Custom() as session, pytest.raises(TypeError, match=r"request\(\) is overridden"):
        session.imap(["http://a.test/"])


def test_a_job_whose_input_fails_records_what_finished(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"

    def items() -> Iterator[str]:
        yield from (f"http://a.test/{i}" for i in range(50))
        raise OSError("the input went away")

    with mock_session() as session, pytest.raises(OSError, match="went away"):
        brisk.bulk(items(), out, session=session, concurrency=5)
    assert sorted(entry["index"] for entry in lines(out)) == list(range(50))
