"""Bulk runs against real servers on loopback: several ports standing for several hosts (``hosts``, see
conftest.py), nginx over HTTP/1.1 and HTTP/2, the CLI interrupted with SIGINT and resumed, and Dask."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk.exceptions import Timeout
from servers.hosts import HostsServer


def test_sync_imap_over_several_hosts_keeps_the_total_and_per_host_limits(hosts: HostsServer) -> None:
    items = [f"{hosts.url(i % 3)}/slow/5/{i}" for i in range(240)]
    with brisk.Session() as session:
        results = list(session.imap(iter(items), concurrency=12, per_host=3))
    assert sorted(r.index for r in results) == list(range(240))
    assert all(r.ok and r.response.text == f"/slow/5/{r.index}" for r in results)  # type: ignore[union-attr]
    assert max(hosts.most.values()) == 3  # reached on some host, passed on none
    assert sum(hosts.most.values()) <= 12


def test_failing_and_stalling_items_are_errors_and_the_rest_finish(hosts: HostsServer) -> None:
    items: list[Any] = [f"{hosts.url(0)}/ok/{i}" for i in range(30)]
    items[5] = f"{hosts.url(1)}/stall/x"
    items[9] = f"{hosts.url(1)}/reset/x"
    items[12] = f"{hosts.url(2)}/fail/x"
    items[20] = "http://127.0.0.1:1/nothing-listens"
    with brisk.Session() as session:
        results = {
            r.index: r for r in session.imap(items, concurrency=8, timeout=Timeout(2, read=0.5), retries=0)
        }
    assert isinstance(results[5].error, brisk.ReadTimeout)
    assert isinstance(results[9].error, brisk.ConnectionError)
    assert results[12].status == 503
    assert results[12].error is None
    assert isinstance(results[20].error, brisk.ConnectionError)
    assert all(results[i].ok for i in set(range(30)) - {5, 9, 12, 20})


def test_the_sessions_rate_limit_paces_a_run(hosts: HostsServer) -> None:
    """11 requests to one origin at 20 per second (burst 1) cannot all start within 0.5 s."""
    items = [f"{hosts.url(0)}/ok/{i}" for i in range(11)]
    with brisk.Session(rate_limit=brisk.RateLimit(20)) as session:
        started = time.monotonic()
        assert all(r.ok for r in session.imap(items, concurrency=11))
        assert time.monotonic() - started >= 0.45


def test_ordered_results_follow_the_input(hosts: HostsServer) -> None:
    items = [f"{hosts.url(0)}/slow/{(i * 7) % 20}/{i}" for i in range(60)]
    with brisk.Session() as session:
        indices = [r.index for r in session.imap(items, concurrency=10, ordered=True, window=15)]
    assert indices == list(range(60))


def test_map_reuses_the_sessions_connections_across_calls(hosts: HostsServer) -> None:
    urls = [f"{hosts.url(0)}/ok/{i}" for i in range(20)]
    with brisk.Session() as session:
        first = session.map(urls, concurrency=4)
        opened = hosts.connections[hosts.ports[0]]
        second = session.map(urls, concurrency=4)
        assert hosts.connections[hosts.ports[0]] == opened  # warm connections, same loop thread
    assert [r.text for r in first] == [r.text for r in second] == [f"/ok/{i}" for i in range(20)]


def test_a_sync_caller_inside_a_running_event_loop(hosts: HostsServer) -> None:
    async def handler() -> list[int]:
        with brisk.Session() as session:  # sync code called from a coroutine (a notebook, a web handler)
            return sorted(r.status for r in session.imap([f"{hosts.url(0)}/ok/{i}" for i in range(10)]))  # type: ignore[misc]

    assert asyncio.run(handler()) == [200] * 10


def test_async_imap_with_per_host_limit(hosts: HostsServer) -> None:
    async def run() -> list[int]:
        async with brisk.AsyncSession() as session:
            items = (f"{hosts.url(i % 2)}/slow/5/{i}" for i in range(80))
            return [r.index async for r in session.imap(items, concurrency=10, per_host=2)]

    assert sorted(asyncio.run(run())) == list(range(80))
    assert max(hosts.most.values()) == 2


def test_nginx_over_http1_and_http2(nginx: Any) -> None:
    body = nginx.files["/data.json"]
    items = [f"{nginx.http_url}/data.json?{i}" for i in range(300)]
    items += [f"{nginx.https_url}/data.json?{i}" for i in range(300)]
    with brisk.Session(verify=nginx.ca_bundle) as session:
        results = list(session.imap(items, concurrency=50, per_host=20))
    assert len(results) == 600
    assert all(r.ok and r.response.content == body for r in results)  # type: ignore[union-attr]
    versions = {r.url.split(":")[0]: r.response.http_version for r in results}  # type: ignore[union-attr]
    assert versions == {"http": "HTTP/1.1", "https": "HTTP/2"}


def test_a_real_socket_run_keeps_memory_flat(nginx: Any) -> None:
    def rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    with brisk.Session() as session:

        def run(n: int) -> int:
            items = (f"{nginx.http_url}/data.json?{i}" for i in range(n))
            return sum(r.ok for r in session.imap(items, concurrency=64))

        assert run(5_000) == 5_000  # warm-up
        before = rss()
        assert run(20_000) == 20_000
    assert rss() - before < 16 * 1024 * 1024  # all 20,000 responses kept would be about 50 MB


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-m", "brisk.cli", "bulk", *args], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip


def test_cli_interrupted_with_sigint_leaves_whole_files_and_resumes(
    hosts: HostsServer, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    lines = [
        f"{hosts.url(i % 3)}/drip/{i}" if i % 10 == 0 else f"{hosts.url(i % 3)}/slow/30/{i}"
        for i in range(400)
    ]
    urls.write_text("# a comment\n" + "\n".join(lines) + "\n")
    out, bodies = tmp_path / "results.jsonl", tmp_path / "bodies"
    args = (str(urls), "-o", str(out), "--concurrency", "6", "--save-to", str(bodies), "--progress", "none")
    process = _cli(*args)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 30):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    first = [json.loads(line) for line in out.read_text().splitlines()]
    assert f"interrupted: {len(first)} fetched (0 failed) before the interruption" in err
    assert 30 <= len(first) < 400
    assert not list(bodies.glob("*.part"))  # the bodies under way were removed, not left half-written
    for entry in first:
        assert Path(entry["path"]).stat().st_size == (
            4000 if entry["index"] % 10 == 0 else len(f"/slow/30/{entry['index']}")
        )
    process = _cli(*args)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert f"{len(first)} done before" in err
    everything = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(entry["index"] for entry in everything) == list(range(400))


def test_cli_usage_errors(tmp_path: Path) -> None:
    process = _cli(str(tmp_path / "urls.txt"), "-o", str(tmp_path / "o.jsonl"), "--concurrency", "0")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "--concurrency" in err


@pytest.mark.timeout(180)
def test_dask_local_cluster_with_two_worker_processes(hosts: HostsServer, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is the 'dask' extra")
    items = [f"{hosts.url(i % 3)}/ok/{i}" for i in range(250)]
    items[17] = f"{hosts.url(0)}/fail/17"
    settings = brisk.Session(headers={"X-Job": "dask"}, retries=0)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        summaries = brisk.bulk_on_dask(
            items, tmp_path / "out", client=client, session=settings, shard_size=60
        )
        workers = {info["id"] for info in client.scheduler_info()["workers"].values()}
        again = brisk.bulk_on_dask(items, tmp_path / "out", client=client, session=settings, shard_size=60)
    settings.close()
    assert len(workers) == 2
    assert [s.done for s in summaries] == [60, 60, 60, 60, 10]
    assert sum(s.failed_status for s in summaries) == 1
    assert sum(s.skipped for s in again) == 250
    shards = sorted((tmp_path / "out").glob("shard-*.jsonl"))
    assert len(shards) == 5
    indices = [json.loads(line)["index"] for shard in shards for line in shard.read_text().splitlines()]
    assert sorted(indices) == list(range(250))


def test_leaving_an_imap_early_cancels_and_leaves_no_part_file(hosts: HostsServer, tmp_path: Path) -> None:
    """Five items send half their body and then nothing; the sixth is answered after a second, while the
    loop (it runs only inside ``next()``) has opened the five part files. Leaving the with block then
    cancels the five, removes their .part files, and ends the run."""
    items = [f"{hosts.url(i % 3)}/hold/{i}" for i in range(5)] + [f"{hosts.url(2)}/slow/1000/5"]
    items += [f"{hosts.url(i % 3)}/ok/{i}" for i in range(6, 40)]
    with brisk.Session() as session:
        with session.imap(items, concurrency=6, save_to=tmp_path) as results:
            first = next(results)
            assert first.index == 5
            assert first.error is None
            assert len(list(tmp_path.glob("*.part"))) == 5  # the five held ones, half-written
        assert not list(tmp_path.glob("*.part"))
        assert [p.name for p in tmp_path.iterdir()] == ["5.body"]
        assert (tmp_path / "5.body").read_bytes() == b"/slow/1000/5"
        with pytest.raises(StopIteration):
            next(results)


def test_map_and_imap_share_the_sessions_settings_and_cookie_jar(app_server: Any) -> None:
    """The loop's AsyncSession takes the session's settings at each call and shares its jar: a cookie set
    during a run is in session.cookies, and is sent by the next plain request."""
    with brisk.Session(headers={"X-Team": "bulk"}, auth=("ada", "pw")) as session:
        first = session.map([f"{app_server.url}/cookies/set?k=v", f"{app_server.url}/headers"])
        assert session.cookies.get("k") == "v"
        assert first[1].json()["headers"]["X-Team"] == "bulk"
        assert first[1].json()["headers"]["Authorization"].startswith("Basic ")
        session.headers["X-Team"] = "changed"  # taken at the next call
        (result,) = list(session.imap([f"{app_server.url}/headers"]))
        assert result.response.json()["headers"]["X-Team"] == "changed"  # type: ignore[union-attr]
        assert "k=v" in result.response.json()["headers"]["Cookie"]  # type: ignore[union-attr]
        assert session.get(f"{app_server.url}/cookies").json() == {"cookies": {"k": "v"}}


def test_two_items_saved_to_one_path_do_not_share_a_part_file(hosts: HostsServer, tmp_path: Path) -> None:
    """Duplicate items (a crawl list names a URL twice, save_to names files by URL) are written at once:
    each writes a part file of its own, so neither unlinks nor renames the other's half-written body."""
    target = str(tmp_path / "page.body")
    items = [{"url": f"{hosts.url(i)}/drip/{i}", "path": target} for i in range(2)]
    with brisk.Session() as session:
        results = list(session.imap(items, concurrency=2))
    assert [r.error for r in results] == [None, None]
    assert os.path.getsize(target) == 4000
    assert os.listdir(tmp_path) == ["page.body"]  # no part file left
