"""``brisk.bulk`` and ``brisk.abulk``: resumable bulk jobs writing JSON lines (``brisk._bulk.job``)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from brisk._bulk.items import BulkOptions, SaveTo
from brisk._bulk.job import BulkSummary, run_job

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Unpack

    from brisk._session.types import RequestOptions
    from brisk.sessions import AsyncSession, Session

__all__ = ["abulk", "bulk"]


def bulk(
    items: Iterable[Any],
    output: str | os.PathLike[str],
    *,
    session: Session | None = None,
    resume: bool = True,
    concurrency: int = 100,
    per_host: int | None = None,
    save_to: SaveTo | None = None,
    on_progress: Any = None,
    offset: int = 0,
    **common: Unpack[RequestOptions],
) -> BulkSummary:
    """Fetch every item and append a JSON line per result to ``output``; run again to finish what is left.

    Items are as for ``Session.imap`` (URLs, ``(method, url)``, dicts of request arguments, read lazily).
    With ``resume`` (the default) the items ``output`` already records as answered are skipped; failed
    ones are tried again. ``session`` supplies the settings (headers, auth, retries, rate limit...); by
    default a new ``Session``. ``on_progress``: True for a bar on standard error, or a callable taking a
    ``BulkProgress``. ``offset``: the index of the first item (for a shard of a larger input). Ctrl-C
    stops the run: what finished is in ``output``, no half-written body file is
    left, and ``KeyboardInterrupt`` goes on.

    >>> summary = brisk.bulk(open("urls.txt").read().split(), "results.jsonl", concurrency=200, per_host=8)
    """
    from brisk._bulk.sync import bulk_for
    from brisk.sessions import Session

    options = BulkOptions(
        concurrency=concurrency, per_host=per_host, save_to=save_to, progress=on_progress, common=common,
        offset=offset,
    )  # fmt: skip
    own = session is None
    active = Session() if session is None else session
    try:
        engine = bulk_for(active, concurrency, per_host)
        return engine.runner.run(run_job(engine.session, items, os.fspath(output), options, resume))
    finally:
        if own:
            active.close()


async def abulk(
    items: Iterable[Any],
    output: str | os.PathLike[str],
    *,
    session: AsyncSession | None = None,
    resume: bool = True,
    concurrency: int = 100,
    per_host: int | None = None,
    save_to: SaveTo | None = None,
    on_progress: Any = None,
    **common: Unpack[RequestOptions],
) -> BulkSummary:
    """``brisk.bulk`` for asyncio, on the running loop: ``summary = await brisk.abulk(urls, "out.jsonl")``."""
    from brisk._core.config import Limits
    from brisk.sessions import AsyncSession

    options = BulkOptions(
        concurrency=concurrency, per_host=per_host, save_to=save_to, progress=on_progress, common=common
    )
    own = session is None
    active = (
        AsyncSession(
            limits=Limits(
                max_connections=max(100, concurrency), max_connections_per_host=max(100, concurrency)
            )
        )
        if session is None
        else session
    )
    try:
        return await run_job(active, items, os.fspath(output), options, resume)
    finally:
        if own:
            await active.close()
