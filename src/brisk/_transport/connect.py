"""Opening a TCP connection, the part both transports share: which addresses to try and in which order,
within what time, and what each failure means. The drivers (``sync.connect``, ``asyncio.connect``) resolve
the name and connect the sockets, blocking or on the event loop.

Addresses are tried in the resolver's order (which already prefers what the system is configured to
prefer), one after the other, all within the one connect timeout; the first that accepts wins. An IP
literal is not resolved at all.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from brisk._transport.deadline import budget, connecting
from brisk._transport.errors import not_connected
from brisk.exceptions import RequestException

if TYPE_CHECKING:
    from brisk._transport.base import SendOptions, Timings
    from brisk.exceptions import ConnectionError

__all__ = ["AddressLoop", "literal_address"]


def literal_address(host: str, port: int) -> list[tuple[Any, ...]] | None:
    """What ``getaddrinfo`` would answer for an IP literal, without asking it: no resolver to wait for (an
    executor round trip in asyncio), and on Python 3.11 no IDNA codec to import for a str host (~1 ms of a
    command-line GET). None for a host name, which is resolved as usual. An IPv6 zone (``fe80::1%eth0``)
    is kept for ``connect()``, which understands it."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host.partition("%")[0])
        except OSError:
            continue
        address: tuple[Any, ...] = (host, port) if family == socket.AF_INET else (host, port, 0, 0)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)]
    return None


class AddressLoop:
    """The connect of one connection to ``host:port``, without the I/O.

    A driver resolves the name unless ``addresses`` already holds the answer, then connects each socket that
    ``sockets`` hands out, reporting a failure to ``failed`` (which closes the socket and either moves on or
    raises) and success to ``connected``; when no address is left it raises ``exhausted()``.
    """

    __slots__ = (
        "_last_error", "_options", "_resolved", "_start", "_timings", "addresses", "deadline", "host", "port",
    )  # fmt: skip

    def __init__(self, host: str, port: int, options: SendOptions, timings: Timings) -> None:
        self.host = host
        self.port = port
        self._options = options
        self._timings = timings
        self._start = self._resolved = time.monotonic()
        self._last_error: OSError | None = None
        phase = options.timeout.connect
        deadline = options.deadline
        if phase is not None and (deadline is None or self._start + phase < deadline):
            deadline = self._start + phase
        self.deadline = deadline  # resolving and connecting, all addresses together, end by then
        self.addresses = literal_address(host, port)  # None: the name must be resolved

    def resolving_timed_out(self) -> RequestException:
        return connecting(f"resolving {self.host}").timed_out(self._options)

    def sockets(self, infos: list[tuple[Any, ...]]) -> Iterator[tuple[socket.socket, Any]]:
        """A new socket for each address of ``infos`` (``getaddrinfo``'s answer), with the address."""
        self._resolved = time.monotonic()
        self._timings.dns = self._resolved - self._start
        for family, kind, proto, _, address in infos:
            yield socket.socket(family, kind, proto), address

    def time_left(self) -> float | None:
        """Seconds the next connect may take (raises ConnectTimeout once the time is up)."""
        return budget(None, self.deadline, connecting("").error, f"connecting to {self.host}:{self.port}")

    def failed(self, sock: socket.socket, exc: BaseException, timed_out: bool) -> None:
        """Connecting ``sock`` failed with ``exc``: close it. An OS error moves on to the next address; a
        timeout (``timed_out``) ends the loop with ConnectTimeout, anything else is raised again."""
        sock.close()
        if timed_out:
            raise connecting(f"connecting to {self.host}:{self.port}").timed_out(self._options) from None
        if isinstance(exc, RequestException) or not isinstance(exc, OSError):
            raise exc  # brisk's own (the deadline passed), a cancellation, ...
        self._last_error = exc

    def connected(self, sock: socket.socket) -> socket.socket:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._timings.connect = time.monotonic() - self._resolved
        return sock

    def exhausted(self) -> ConnectionError:
        """The error once every address failed."""
        return not_connected(self.host, self.port, self._last_error)
