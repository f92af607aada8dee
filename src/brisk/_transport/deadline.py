"""Time budgets, shared by both transports: how long the next blocking step may take, and what to raise when
it ran out.

A request has a timeout per phase (``Timeout.connect``, ``read``, ``write``, ``pool``) and may have a total
deadline (``Timeout.total``, a ``time.monotonic()`` value in ``SendOptions.deadline``). Every wait takes the
phase's timeout cut short by the deadline. A ``Phase`` names one kind of wait: which timeout applies, which
exception says it ran out, and what the client was doing (for the message).
"""

from __future__ import annotations

import time

from brisk.exceptions import ConnectTimeout, PoolTimeout, ReadTimeout, WriteTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._transport.base import SendOptions
    from brisk.exceptions import RequestException

__all__ = [
    "H2_FLOW_CONTROL",
    "H2_SETTINGS",
    "H2_STREAM",
    "POOL",
    "READING_BODY",
    "SENDING",
    "WAITING_FOR_RESPONSE",
    "Phase",
    "WaitLimit",
    "budget",
    "connecting",
    "timeout_message",
]


def budget(
    phase: float | None, deadline: float | None, error: type[RequestException], doing: str
) -> float | None:
    """Seconds the next blocking step may take: the phase timeout, cut short by the total deadline.

    Raises ``error`` when the deadline has already passed.
    """
    if deadline is None:
        return phase
    left = deadline - time.monotonic()
    if left <= 0:
        raise error(f"the total deadline passed while {doing} (Timeout.total)")
    return left if phase is None or left < phase else phase


def timeout_message(doing: str, phase: float | None, options: SendOptions) -> str:
    """Why a timed-out step timed out: its own timeout, or the total deadline."""
    deadline = options.deadline
    if deadline is not None and time.monotonic() >= deadline - 0.001:
        return f"the total deadline of {options.timeout.total}s passed while {doing} (Timeout.total)"
    return f"{doing} timed out after {phase}s"


class Phase:
    """One kind of wait: the ``Timeout`` field that bounds it, the exception for running out, and what the
    client was doing meanwhile."""

    __slots__ = ("doing", "error", "field")

    def __init__(self, field: str, error: type[RequestException], doing: str) -> None:
        self.field = field  # "connect", "read", "write" or "pool"
        self.error = error
        self.doing = doing

    def seconds(self, options: SendOptions) -> float | None:
        """The phase's own timeout."""
        seconds: float | None = getattr(options.timeout, self.field)
        return seconds

    def budget(self, options: SendOptions) -> float | None:
        """Seconds the next wait may take (None: no limit); raises when the total deadline has passed."""
        seconds: float | None = getattr(options.timeout, self.field)
        if options.deadline is None:  # the common case, on every request's path: no further call
            return seconds
        return budget(seconds, options.deadline, self.error, self.doing)

    def timed_out(self, options: SendOptions) -> RequestException:
        """The exception for a wait that ran out."""
        return self.error(timeout_message(self.doing, self.seconds(options), options))


WAITING_FOR_RESPONSE = Phase("read", ReadTimeout, "waiting for the server's response")
READING_BODY = Phase("read", ReadTimeout, "reading the response body")
SENDING = Phase("write", WriteTimeout, "sending the request")
H2_FLOW_CONTROL = Phase("write", WriteTimeout, "sending the request (HTTP/2 flow control)")
H2_SETTINGS = Phase("connect", ConnectTimeout, "waiting for the server's HTTP/2 settings")
POOL = Phase("pool", PoolTimeout, "waiting for a free connection in the pool")
H2_STREAM = Phase("pool", PoolTimeout, "waiting for a free HTTP/2 stream")


def connecting(doing: str) -> Phase:
    """A step of opening a connection (DNS, TCP, TLS, a proxy's tunnel), bounded by ``Timeout.connect``."""
    return Phase("connect", ConnectTimeout, doing)


class WaitLimit:
    """A wait that may take several turns (woken, but another took the slot): the point in time to give up
    at, fixed when the wait starts."""

    __slots__ = ("_by_deadline", "_expired", "_give_up", "_options", "_phase")

    def __init__(self, phase: Phase, options: SendOptions, expired: str | None = None) -> None:
        self._phase = phase
        self._options = options
        self._expired = expired  # the message when the time is up (default: the phase's)
        wait = phase.budget(options)
        self._give_up = None if wait is None else time.monotonic() + wait
        seconds = phase.seconds(options)
        # Cut short by the total deadline: running out is then the deadline's doing, whatever ``expired``
        # says.
        self._by_deadline = (
            wait is not None and options.deadline is not None and (seconds is None or wait < seconds)
        )

    def left(self) -> float | None:
        """Seconds left to wait (None: no limit); raises the phase's error once none are."""
        if self._give_up is None:
            return None
        left = self._give_up - time.monotonic()
        if left <= 0:
            if self._expired is None or self._by_deadline:
                raise self._phase.timed_out(self._options)  # the phase's timeout, or the total deadline
            raise self._phase.error(self._expired)
        return left
