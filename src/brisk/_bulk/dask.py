"""``brisk.bulk_on_dask``: a bulk job sharded over a Dask cluster (``pip install brisk[dask]``).

The input is cut into shards of ``shard_size`` items as it is read. Each shard is one Dask task,
``fetch_shard(session, items, path, offset, options)``: a pure function of the session's settings (a
``Session`` pickles its settings, never its connections) and its items, which runs ``brisk.bulk`` on the
worker and writes the shard's JSON lines to ``<output_dir>/shard-<n>.jsonl``. Re-running the same job
resumes each shard where it stopped (records carry the item's index in the whole input). At most
``max_pending`` shards are submitted at once, so the driver's memory stays bounded too.

Dask does the distribution (scheduling, retries of lost workers, the dashboard); brisk adds nothing of
its own beyond cutting the input and naming the shard files.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable

from brisk._bulk.job import BulkSummary

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Unpack

    from brisk._session.types import RequestOptions
    from brisk.sessions import Session

__all__ = ["bulk_on_dask", "fetch_shard", "shard_path"]


def shard_path(output_dir: str, shard: int) -> str:
    return os.path.join(output_dir, f"shard-{shard:06d}.jsonl")


def fetch_shard(
    session: Session | None, items: list[Any], path: str, offset: int, options: dict[str, Any]
) -> BulkSummary:
    """One Dask task: ``brisk.bulk`` over ``items`` (the input's items from ``offset`` on) into ``path``."""
    from brisk._bulk.api import bulk
    from brisk.sessions import Session

    own = session if session is not None else Session()
    try:
        return bulk(items, path, session=own, offset=offset, **options)
    finally:
        own.close()


def bulk_on_dask(
    items: Iterable[Any],
    output_dir: str | os.PathLike[str],
    *,
    client: Any = None,
    session: Session | None = None,
    shard_size: int = 10_000,
    max_pending: int | None = None,
    resume: bool = True,
    concurrency: int = 100,
    per_host: int | None = None,
    save_to: str | os.PathLike[str] | None = None,
    **common: Unpack[RequestOptions],
) -> list[BulkSummary]:
    """Run a bulk job on a Dask cluster: one task per ``shard_size`` items, each writing
    ``output_dir/shard-<n>.jsonl``; returns each shard's ``BulkSummary`` in shard order.

    ``client``: a ``distributed.Client`` (by default the current one, ``distributed.get_client()``).
    ``session``: a ``brisk.Session`` whose settings every worker uses (it is pickled: headers, auth,
    retries, timeouts, rate limit; a rate limit then applies per worker). ``concurrency`` and ``per_host``
    apply per task. ``save_to``: a directory every worker can write to, for the bodies (``<index>.body``).
    Items must pickle (URLs, tuples and dicts do).

    >>> from distributed import Client
    >>> summaries = brisk.bulk_on_dask(urls, "out/", client=Client("tcp://scheduler:8786"), per_host=4)
    """
    from distributed import as_completed, get_client

    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    client = client if client is not None else get_client()
    directory = os.fspath(output_dir)
    os.makedirs(directory, exist_ok=True)
    options = {"resume": resume, "concurrency": concurrency, "per_host": per_host, **common}
    if save_to is not None:
        options["save_to"] = os.fspath(save_to)
    limit = max_pending or 2 * max(1, sum(client.nthreads().values()))
    source = iter(items)
    summaries: dict[int, BulkSummary] = {}
    pending: Any = as_completed()  # type: ignore[no-untyped-call]
    futures: dict[Any, int] = {}
    for shard in itertools.count():
        batch = list(itertools.islice(source, shard_size))
        if not batch:
            break
        future = client.submit(
            fetch_shard, session, batch, shard_path(directory, shard), shard * shard_size, options, pure=False
        )
        futures[future] = shard
        pending.add(future)
        while pending.count() >= limit:
            _collect(next(pending), futures, summaries)
    for future in pending:
        _collect(future, futures, summaries)
    return [summaries[shard] for shard in sorted(summaries)]


def _collect(future: Any, futures: dict[Any, int], summaries: dict[int, BulkSummary]) -> None:
    summaries[futures.pop(future)] = future.result()  # a shard's failure (not an item's) is raised here
