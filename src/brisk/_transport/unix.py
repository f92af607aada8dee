"""Connections over a Unix domain socket, the part both transports share: which socket a request goes to,
and what a failure to connect means. The drivers (``sync.connect``, ``asyncio.connect``) open the socket.

A request goes over a Unix socket when the session names one (``Session(uds=PATH)``: every request, its URL
still giving the Host header, the path, and for https the name TLS verifies) or when its URL is
``http+unix://`` (requests-unixsocket's form: the host is the percent-encoded socket path). No DNS, no
proxy, no Happy Eyeballs: one ``connect()`` within the connect timeout.
"""

from __future__ import annotations

from brisk._transport.deadline import budget, connecting
from brisk.exceptions import ConnectionError, ConnectionRefused, RequestException

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._transport.base import ConnectionConfig, SendOptions

__all__ = ["UnixConnect", "unix_socket_path"]


def unix_socket_path(url: URL, config: ConnectionConfig) -> str | None:
    """The Unix socket a connection for ``url`` goes to, or None for TCP. Read when a connection is opened,
    never per request."""
    if config.uds is not None:
        return config.uds
    return url.unix_socket


class UnixConnect:
    """The connect of one connection to the Unix socket at ``path``, without the I/O: the time it may take
    and the errors it ends with."""

    __slots__ = ("_options", "deadline", "path")

    def __init__(self, path: str, options: SendOptions, start: float) -> None:
        self.path = path
        self._options = options
        phase = options.timeout.connect
        deadline = options.deadline
        if phase is not None and (deadline is None or start + phase < deadline):
            deadline = start + phase
        self.deadline = deadline

    def time_left(self) -> float | None:
        """Seconds the connect may take (raises ConnectTimeout once the total deadline has passed)."""
        return budget(
            None, self.deadline, connecting("").error, f"connecting to the Unix socket {self.path!r}"
        )

    def failed(self, exc: BaseException, timed_out: bool) -> BaseException:
        """What to raise for ``exc``: ConnectTimeout, a ConnectionError naming the path, or ``exc`` itself
        (brisk's own errors, a cancellation)."""
        path = self.path
        if timed_out:
            return connecting(f"connecting to the Unix socket {path!r}").timed_out(self._options)
        if isinstance(exc, RequestException) or not isinstance(exc, OSError):
            return exc
        error: ConnectionError
        if isinstance(exc, FileNotFoundError):
            error = ConnectionError(f"no Unix socket at {path!r} (the file does not exist)")
        elif isinstance(exc, BlockingIOError):  # Linux, when the server's listen backlog is full
            error = ConnectionError(
                f"the Unix socket {path!r} accepts no more connections (its backlog is full)"
            )
        elif isinstance(exc, ConnectionRefusedError):
            error = ConnectionRefused(
                f"connection refused by the Unix socket {path!r} (nothing listens there)"
            )
        else:
            error = ConnectionError(f"could not connect to the Unix socket {path!r}: {exc}")
        error.__cause__ = exc
        return error
