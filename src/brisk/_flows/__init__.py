"""Policy written once: flows are generators that yield effects; a sync and an async driver run them.

A flow decides (follow this redirect, retry after 2 s, answer this Digest challenge, store these cookies)
and never does I/O itself. It yields an *effect* — send this request, sleep this long, drain this response,
call this hook — and the driver performs it and sends the result back in (or throws the exception in).
``run_sync`` and ``run_async`` below are the only places where the two worlds differ; everything in
``brisk._flows`` is shared. This is httpx's ``auth_flow`` idea applied to all policy.

A flow outside a request's (a download: ``brisk._session.download``) runs on the same two drivers: its
effects are ``Perform`` subclasses, which carry what they need and do their work themselves, once with
blocking I/O (``run``) and once on the event loop (``arun``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar, overload

    from brisk._transport.base import AsyncBaseTransport, BaseTransport, SendOptions
    from brisk.models import PreparedRequest, Response

    T = TypeVar("T")

__all__ = [
    "CallHook",
    "Drain",
    "Effect",
    "Flow",
    "Outcome",
    "Perform",
    "ReadBody",
    "Send",
    "Sleep",
    "run_async",
    "run_sync",
]


class Send:
    """Send ``request``; the result is the Response (head read, body not yet)."""

    __slots__ = ("options", "request")

    def __init__(self, request: PreparedRequest, options: SendOptions) -> None:
        self.request = request
        self.options = options


class Sleep:
    """Pause for ``seconds`` (backoff, Retry-After, rate limiting)."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class _OnResponse:
    __slots__ = ("response",)

    def __init__(self, response: Response) -> None:
        self.response = response


class Drain(_OnResponse):
    """Read and discard what is left of a response we will not return (raw, never decompressed), up to a
    limit, so its connection can be reused; beyond the limit the connection is closed instead."""

    __slots__ = ()


class ReadBody(_OnResponse):
    """Read the whole body of ``response`` (a non-streamed request returns with its body read)."""

    __slots__ = ()


class CallHook:
    """Call a user hook; in the async driver an awaitable result is awaited."""

    __slots__ = ("argument", "function", "kwargs")

    def __init__(self, function: Callable[..., Any], argument: Any, kwargs: dict[str, Any]) -> None:
        self.function = function
        self.argument = argument
        self.kwargs = kwargs


class Perform:
    """An effect that does its own work: ``run()`` with blocking I/O, ``await arun()`` on the event loop;
    the result is what it returns. Subclasses carry what they need (a download's: the session, the request
    options, the response to stream)."""

    __slots__ = ()

    def run(self) -> Any:
        raise NotImplementedError

    async def arun(self) -> Any:
        raise NotImplementedError


Effect = Send | Sleep | Drain | ReadBody | CallHook | Perform
#: The effects of a flow that never sends (it needs no transport).
NoSendEffect = Sleep | Drain | ReadBody | CallHook | Perform
Flow = Generator[Effect, "Any", "Response"]
#: What performing an effect came to: (its result, None), or (None, the exception it raised).
Outcome = tuple["Any", BaseException | None]

DRAIN_LIMIT = 64 * 1024


if TYPE_CHECKING:  # a flow that sends needs a transport

    @overload
    def run_sync(
        flow: Generator[Effect, Any, T], transport: BaseTransport, done: Outcome | None = None
    ) -> T: ...
    @overload
    def run_sync(flow: Generator[NoSendEffect, Any, T], transport: None = None) -> T: ...


def run_sync(
    flow: Generator[Effect, Any, T], transport: BaseTransport | None = None, done: Outcome | None = None
) -> T:
    """Run ``flow`` to completion with blocking I/O; ``transport`` sends its requests (a flow that never
    sends needs none). ``done``: the flow's first effect was performed already (see ``send_sync`` in
    ``brisk._flows.request``), with this outcome; the flow goes on from there."""
    try:
        effect = next(flow)
        if done is not None:
            effect = flow.send(done[0]) if done[1] is None else flow.throw(done[1])
        while True:
            result: Any = None
            try:
                if isinstance(effect, Send):
                    result = transport.handle_request(effect.request, effect.options)  # type: ignore[union-attr]
                elif isinstance(effect, ReadBody):
                    result = effect.response.content
                elif isinstance(effect, CallHook):
                    result = effect.function(effect.argument, **effect.kwargs)
                elif isinstance(effect, Drain):
                    effect.response._drain(DRAIN_LIMIT)
                elif isinstance(effect, Perform):  # after the request's effects: a request pays nothing
                    result = effect.run()
                else:
                    time.sleep(effect.seconds)
            except BaseException as exc:  # hand every failure to the flow, which cleans up and decides
                effect = flow.throw(exc)
            else:
                effect = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value


if TYPE_CHECKING:

    @overload
    async def run_async(
        flow: Generator[Effect, Any, T], transport: AsyncBaseTransport, done: Outcome | None = None
    ) -> T: ...
    @overload
    async def run_async(flow: Generator[NoSendEffect, Any, T], transport: None = None) -> T: ...


async def run_async(
    flow: Generator[Effect, Any, T], transport: AsyncBaseTransport | None = None, done: Outcome | None = None
) -> T:
    """Run ``flow`` to completion on the running event loop; ``transport`` sends its requests (a flow
    that never sends needs none). ``done``: as in ``run_sync``."""
    import asyncio  # here, not at the top: `import brisk` does not load asyncio (a sync program never does)

    try:
        effect = next(flow)
        if done is not None:
            effect = flow.send(done[0]) if done[1] is None else flow.throw(done[1])
        while True:
            result: Any = None
            try:
                if isinstance(effect, Send):
                    result = await transport.handle_async_request(effect.request, effect.options)  # type: ignore[union-attr]
                elif isinstance(effect, ReadBody):
                    result = await effect.response.aread()
                elif isinstance(effect, CallHook):
                    result = effect.function(effect.argument, **effect.kwargs)
                    if hasattr(result, "__await__"):  # an async def hook
                        result = await result
                elif isinstance(effect, Drain):
                    await effect.response._adrain(DRAIN_LIMIT)
                elif isinstance(effect, Perform):  # after the request's effects: a request pays nothing
                    result = await effect.arun()
                else:
                    await asyncio.sleep(effect.seconds)
            except BaseException as exc:
                effect = flow.throw(exc)
            else:
                effect = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value
