"""Configuration: the timeout values behind ``brisk.Timeout`` and ``Limits`` (pool and protocol limits).

Both are immutable; build a new one to change a value.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DEFAULT_LIMITS", "Limits", "TimeoutValues", "is_timeout_value"]

_UNSET: Any = object()

#: Default phase timeouts in seconds. Finite so that a silent server never hangs a program.
DEFAULT_CONNECT = 10.0
DEFAULT_READ = 30.0
DEFAULT_WRITE = 30.0
DEFAULT_POOL = 30.0


class TimeoutValues:
    """The setting half of ``brisk.Timeout`` (the class itself lives in ``brisk.exceptions``).

    ``brisk.Timeout`` is both requests' exception (the base of ConnectTimeout, ReadTimeout, ...) and the
    timeout setting: built with numbers or phase keywords it carries these values; built with a message it
    is an ordinary exception. Phases:

    - ``connect``: DNS + TCP connect + TLS handshake (+ proxy tunnel).
    - ``read``: the longest wait for any single piece of the response.
    - ``write``: the longest wait while sending any single piece of the request.
    - ``pool``: the longest wait for a free connection in the pool.
    - ``total``: a deadline for everything — redirects, retries, backoff sleeps and reading the body.
      Off by default, because it would cut long downloads; set it when you need a hard bound.

    ``None`` for a phase means "wait forever" for that phase.
    """

    _phases: tuple[float | None, float | None, float | None, float | None, float | None] = (
        DEFAULT_CONNECT,
        DEFAULT_READ,
        DEFAULT_WRITE,
        DEFAULT_POOL,
        None,
    )

    @property
    def connect(self) -> float | None:
        return self._phases[0]

    @property
    def read(self) -> float | None:
        return self._phases[1]

    @property
    def write(self) -> float | None:
        return self._phases[2]

    @property
    def pool(self) -> float | None:
        return self._phases[3]

    @property
    def total(self) -> float | None:
        return self._phases[4]

    def _set_phases(self, timeout: Any, connect: Any, read: Any, write: Any, pool: Any, total: Any) -> None:
        if isinstance(timeout, TimeoutValues):
            base = timeout._phases
            connect, read, write, pool = (
                base[i] if value is _UNSET else value for i, value in enumerate((connect, read, write, pool))
            )
            total = base[4] if total is _UNSET else total
            timeout = _UNSET

        def pick(value: Any, default: float) -> float | None:
            if value is _UNSET:
                value = default if timeout is _UNSET else timeout
            return _check(value)

        self._phases = (
            pick(connect, DEFAULT_CONNECT),
            pick(read, DEFAULT_READ),
            pick(write, DEFAULT_WRITE),
            pick(pool, DEFAULT_POOL),
            _check(None if total is _UNSET else total),
        )

    def _describe_phases(self) -> str:
        return (
            f"connect={self.connect}, read={self.read}, write={self.write}, pool={self.pool}, "
            f"total={self.total}"
        )


def _check(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        # ValueError, as requests and urllib3 raise for a timeout of the wrong type
        raise ValueError(f"timeout values must be an int, float or None, not {value!r}")
    if value < 0:
        raise ValueError(f"timeout values must be >= 0, got {value}")
    return float(value)


def is_timeout_value(value: Any) -> bool:
    """True for what ``timeout=`` accepts as a plain value (a number or None)."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


MAX_BUSY_POLL = 0.01  # seconds: Limits.busy_poll is a latency trick, not a way of waiting


class Limits:
    """Limits of the connection pool and of what brisk accepts from a server.

    Pool:
      - ``max_connections``: open connections across all hosts (requests waits for one to free up).
      - ``max_connections_per_host``: open connections to one origin (scheme, host, port, settings).
      - ``idle_timeout``: an idle kept-alive connection older than this is closed, not reused.
      - ``busy_poll``: seconds (at most 0.01) the sync transport polls the socket for an HTTP/1.1
        response head before it sleeps in the kernel; 0 turns this off. On a virtual machine a sleeping
        core takes tens of microseconds to wake, often longer than a server on loopback or in the same
        rack takes to answer; polling keeps the core awake for such a reply. It happens only when the
        process has one thread (``threading.active_count() == 1``) and may run on more than one CPU;
        never on a connection whose TCP handshake took more than ten times ``busy_poll`` (the server is
        too far away to answer in time); and a connection whose server answered later than ``busy_poll``
        skips it for its next 1, 2, 4 ... 64 responses. Body reads and HTTP/2 never poll. A WebSocket
        (sync and async) polls the same way before it waits for the next message.

    Protocol (a server exceeding one gets a clear exception, never unbounded memory use):
      - ``max_header_line``: bytes in the status line or in one header line.
      - ``max_header_count``: number of header fields in a response.
      - ``max_head_size``: bytes in the whole status line + header block.
      - ``max_decompression_ratio``: decoded bytes per received byte once the decoded size is past
        ``decompression_floor`` bytes (small bodies are never refused).
      - ``max_content_encodings``: chained Content-Encoding codings accepted (``gzip, br`` is 2).
    """

    __slots__ = (
        "busy_poll",
        "decompression_floor",
        "idle_timeout",
        "max_connections",
        "max_connections_per_host",
        "max_content_encodings",
        "max_decompression_ratio",
        "max_head_size",
        "max_header_count",
        "max_header_line",
    )

    max_connections: int
    max_connections_per_host: int
    idle_timeout: float
    busy_poll: float
    max_header_line: int
    max_header_count: int
    max_head_size: int
    max_decompression_ratio: int
    decompression_floor: int
    max_content_encodings: int

    def __init__(
        self,
        max_connections: int = 100,
        max_connections_per_host: int = 100,
        idle_timeout: float = 60.0,
        max_header_line: int = 16 * 1024,
        max_header_count: int = 100,
        max_head_size: int = 64 * 1024,
        max_decompression_ratio: int = 200,
        decompression_floor: int = 8 * 1024 * 1024,
        max_content_encodings: int = 5,
        busy_poll: float = 0.0001,
    ) -> None:
        values = locals()
        for name in self.__slots__:
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:  # NaN too
                raise ValueError(f"Limits.{name} must be a non-negative number, got {value!r}")
            object.__setattr__(self, name, value)
        if busy_poll > MAX_BUSY_POLL:
            raise ValueError(
                f"Limits.busy_poll is at most {MAX_BUSY_POLL} s (it keeps a core busy while it lasts), "
                f"got {busy_poll!r}"
            )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Limits is immutable: use limits.replace(...) to change a value")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (and copied) as its constructor arguments, past the immutability guard."""
        return (_limits_from, ({name: getattr(self, name) for name in self.__slots__},))

    def replace(self, **changes: float) -> Limits:
        """A copy with some limits changed: ``limits.replace(max_connections=20)``."""
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return Limits(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Limits):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self) -> str:
        return "Limits(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"


def _limits_from(values: dict[str, Any]) -> Limits:
    return Limits(**values)


DEFAULT_LIMITS = Limits()
