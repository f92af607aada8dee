"""``map`` and ``imap`` of ``AsyncSession`` on the bulk engine (``Session``'s run the same coroutines on
its loop thread: ``brisk._bulk.sync``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from brisk._bulk.engine import BulkRun
from brisk._bulk.items import BulkOptions, BulkResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.sessions import AsyncSession

__all__ = ["aimap", "amap"]


async def aimap(
    session: AsyncSession, items: Iterable[Any], options: BulkOptions
) -> AsyncIterator[BulkResult]:
    """``AsyncSession.imap``: results one by one, as the engine hands them out."""
    batches = BulkRun(session, items, options).batches()
    try:
        async for batch in batches:
            for result in batch:
                yield result
    finally:
        await batches.aclose()


async def amap(
    session: AsyncSession, calls: list[dict[str, Any]], concurrency: int, return_exceptions: bool
) -> list[Any]:
    """``map``: every response in input order. Without ``return_exceptions`` the first failure stops the
    run (no new request starts), and is raised once the requests under way have finished."""
    responses: list[Any] = [None] * len(calls)
    run = BulkRun(session, calls, BulkOptions(concurrency=concurrency))
    failure: BaseException | None = None
    async for batch in run.batches():
        for result in batch:
            if result.error is None:
                responses[result.index] = result.response
            elif return_exceptions:
                responses[result.index] = result.error
            elif failure is None:
                failure = result.error
                run.stop()
    if failure is not None:
        raise failure
    return responses
