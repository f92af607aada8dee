"""Keep-alive pings of an open WebSocket, shared by the sync and asyncio drivers: no sockets here."""

from __future__ import annotations

import os

from brisk.exceptions import WebSocketClosed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._websocket.core import Core

__all__ = ["KeepAlive"]


class KeepAlive:
    """Keep-alive pings: one every ``interval`` seconds; the connection fails (1011) when the pong to the
    last one has not come ``timeout`` seconds after it. The drivers call ``step`` when it says to."""

    def __init__(self, interval: float, timeout: float | None, now: float) -> None:
        self.interval = interval
        self.timeout = timeout
        self.next_ping = now + interval
        self.pong_due: float | None = None
        self.pongs_at_ping = 0

    def step(self, core: Core, now: float) -> float | None:
        """Ping if due, or fail ``core`` if a pong is late (then None). Returns when to call again."""
        if self.pong_due is not None:
            if core.pongs_seen > self.pongs_at_ping:
                self.pong_due = None
            elif now >= self.pong_due:
                reason = "keepalive ping timeout"
                core.p.fail(1011, reason)
                core.error = WebSocketClosed(
                    f"the server did not answer a keep-alive ping within {self.timeout} s; the connection "
                    "was closed (1011)",
                    code=1011,
                    reason=reason,
                )
                return None
            else:
                return self.pong_due  # no new ping while one is unanswered
        if now >= self.next_ping:
            if core.closing:
                return None
            core.ping(os.urandom(4))
            self.pongs_at_ping = core.pongs_seen
            self.next_ping = now + self.interval
            if self.timeout is not None:
                self.pong_due = now + self.timeout
        return self.next_ping if self.pong_due is None else min(self.next_ping, self.pong_due)
