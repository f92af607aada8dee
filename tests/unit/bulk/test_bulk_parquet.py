"""Parquet output (the ``parquet`` extra): a directory of part files, resumable, written on the way out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk.testing.mock import MockTransport

pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is the 'parquet' extra")


def session(fail: frozenset[str] = frozenset()) -> brisk.Session:
    def handler(request: brisk.PreparedRequest) -> Any:
        if request.url in fail:
            raise brisk.ConnectionError(f"refused {request.url}")
        return brisk.Response(200, content=b"hello", headers={"X-One": "1"})

    return brisk.Session(transport=MockTransport(handler))


def test_parts_of_ten_thousand_rows_and_a_rerun_fetches_only_the_failed(tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    items = [f"http://a.test/{i}" for i in range(25_000)]
    with session(fail=frozenset({"http://a.test/3"})) as s:
        first = brisk.bulk(items, out, session=s, concurrency=50, retries=0)
    assert (first.done, first.errors) == (25_000, 1)
    assert sorted(p.name for p in out.iterdir()) == [f"part-00000{i}.parquet" for i in range(3)]
    table = pq.read_table(out).to_pylist()
    assert sorted(row["index"] for row in table) == list(range(25_000))
    row = next(row for row in table if row["index"] == 0)
    assert (row["status"], row["size"], json.loads(row["headers"])["x-one"], row["error_type"]) == (
        200,
        5,
        "1",
        None,
    )
    assert next(row for row in table if row["index"] == 3)["error_type"] == "ConnectionError"
    with session() as s:
        second = brisk.bulk(items, out, session=s, concurrency=50)
    assert (second.done, second.skipped) == (1, 24_999)
    assert len(list(out.iterdir())) == 4


def test_a_run_that_fails_midway_writes_what_it_holds(tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"

    def items() -> Iterator[str]:
        yield from (f"http://a.test/{i}" for i in range(50))
        raise OSError("the input went away")

    with session() as s, pytest.raises(OSError, match="went away"):
        brisk.bulk(items(), out, session=s, concurrency=5)
    written = {row["index"] for row in pq.read_table(out).to_pylist()}
    assert written == set(range(50))
    assert not list(out.glob("*.part"))
