"""The two drivers of a download (see ``brisk._session.download``): they perform the effects the download's
flow asks for, with blocking I/O or on the event loop. The only code of a download that exists twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from brisk._session.download import (
    Close,
    DownloadPlan,
    DownloadResult,
    Fetch,
    Stream,
    download_flow,
)

if TYPE_CHECKING:
    from brisk.sessions import AsyncSession, Session

__all__ = ["run_download_async", "run_download_sync"]


def _request_options(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's ``request()`` arguments, minus those the download decides itself."""
    return {name: value for name, value in kwargs.items() if name not in ("stream", "method", "url")}


def run_download_sync(plan: DownloadPlan, session: Session, kwargs: Mapping[str, Any]) -> DownloadResult:
    """Run a download with blocking I/O."""
    kwargs = _request_options(kwargs)
    flow = download_flow(plan)
    try:
        effect = next(flow)
        while True:
            result: Any = None
            try:
                if isinstance(effect, Fetch):
                    result = session.request("GET", effect.url, headers=effect.headers, stream=True, **kwargs)
                elif isinstance(effect, Stream):
                    try:
                        for chunk in effect.response.iter_raw(effect.chunk_size):
                            effect.write(chunk)
                    finally:
                        effect.response.close()
                elif isinstance(effect, Close):
                    effect.response.close()
                else:
                    result = effect.function()
            except BaseException as exc:
                effect = flow.throw(exc)
            else:
                effect = flow.send(result)
    except StopIteration as stop:
        done: DownloadResult = stop.value
        return done


async def run_download_async(
    plan: DownloadPlan, session: AsyncSession, kwargs: Mapping[str, Any]
) -> DownloadResult:
    """Run a download on the running event loop (blocking file work in a thread)."""
    import asyncio

    kwargs = _request_options(kwargs)
    flow = download_flow(plan)
    try:
        effect = next(flow)
        while True:
            result: Any = None
            try:
                if isinstance(effect, Fetch):
                    result = await session.request(
                        "GET", effect.url, headers=effect.headers, stream=True, **kwargs
                    )
                elif isinstance(effect, Stream):
                    try:
                        async for chunk in effect.response.aiter_raw(effect.chunk_size):
                            effect.write(chunk)
                    finally:
                        await effect.response.aclose()
                elif isinstance(effect, Close):
                    await effect.response.aclose()
                else:
                    result = await asyncio.to_thread(effect.function)
            except BaseException as exc:
                effect = flow.throw(exc)
            else:
                effect = flow.send(result)
    except StopIteration as stop:
        done: DownloadResult = stop.value
        return done
