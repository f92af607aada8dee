"""Busy polling before a blocking read (``Limits.busy_poll``), shared by HTTP/1.1 and the WebSocket client.

A core that sleeps in the kernel takes tens of microseconds to wake on a virtual machine, longer than a
server on loopback takes to answer; polling keeps the core awake and the reply is read at once. It is done
only where it pays: a socket that can say whether a read would sleep, a near server, a second CPU, a
single-threaded process, and a connection whose peer answers within the budget (one that does not makes
it skip polling for its next 1, 2, 4 ... 64 reads).
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MANY_CPUS", "NEAR_ROUND_TRIPS", "BusyPoll"]

NEAR_ROUND_TRIPS = 10  # busy polling is for servers whose TCP handshake took at most this many budgets
# Busy polling needs a second CPU: on one, the server (if local) could not run while this process polls.
MANY_CPUS = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) > 1
_MAX_BACKOFF = 64


class BusyPoll:
    """The busy-polling policy of one connection: ``before_read(seconds)`` before a read that may sleep.

    ``poll`` is a ``select.poll`` with the socket registered for POLLIN (the connection may share it for
    its own checks). Whether a read would sleep is known on a plain socket (poll() tells) and on a socket
    with ``pending`` (TLS: bytes it already took from the kernel count too); any other socket type is
    never polled, nor is a server whose TCP handshake took more than ten budgets (its answers take at
    least that round trip; ten, because the handshake as measured holds this process's own work too).
    """

    __slots__ = ("backoff", "pending", "poll", "skip")

    def __init__(
        self, sock: Any, poll: Any, connect_time: float, budget: float, pollable: bool | None = None
    ) -> None:
        """``pollable``: whether poll() tells if a read would sleep; None: judged from the socket's type
        (an asyncio transport's socket is: the loop reads nothing from it until it runs again)."""
        self.poll = poll
        self.pending = getattr(sock, "pending", None)
        if pollable is None:
            pollable = type(sock) is socket.socket or self.pending is not None
        near = connect_time <= NEAR_ROUND_TRIPS * budget
        #: reads left to skip after polling in vain (-1: never poll on this connection)
        self.skip = 0 if pollable and near and MANY_CPUS else -1
        #: the current backoff: reads skipped after the next poll in vain (doubled each time, up to 64)
        self.backoff = 0

    @staticmethod
    def poll_for(sock: Any) -> Any:
        """A ``select.poll`` watching ``sock`` for reading."""
        poll = select.poll()
        poll.register(sock.fileno(), select.POLLIN)
        return poll

    def before_read(self, seconds: float) -> None:
        """Poll the socket for up to ``seconds``, unless the policy says not to (see the class)."""
        seconds = self.allowed(seconds)
        if not seconds:
            return
        poll = self.poll.poll
        if poll(0) or (self.pending is not None and self.pending()):
            return
        give_up = time.monotonic() + seconds
        while not poll(0):
            if time.monotonic() >= give_up:
                self.polled(in_vain=True)
                return
        self.polled(in_vain=False)

    def allowed(self, seconds: float) -> float:
        """How long to poll before the next read: ``seconds``, or 0.0 where the policy says not to poll
        (it counts this read against a backoff). The caller polls, then reports with ``polled``."""
        skip = self.skip
        if skip:  # waiting out a backoff, or -1: never
            if skip > 0:
                self.skip = skip - 1
            return 0.0
        if not seconds or threading.active_count() > 1:
            return 0.0
        return seconds

    def polled(self, in_vain: bool) -> None:
        """The caller polled (the socket had nothing to read at first); ``in_vain``: nothing came in time,
        so the next 1, 2, 4 ... 64 reads are not polled."""
        if in_vain:
            self.backoff = backoff = min(2 * self.backoff or 1, _MAX_BACKOFF)
            self.skip = backoff
        else:
            self.backoff = 0
