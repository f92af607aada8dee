"""Opening a TCP connection, the part both transports share: where the addresses come from, in which order
they are tried, when the next attempt starts, and what the end of it all means. No I/O happens here; the
drivers (``sync.connect``, ``asyncio.connect``) run the lookup and wait on the sockets.

Addresses come from the session's ``resolve`` table (like curl's ``--resolve``), else its ``resolver``,
else ``getaddrinfo``; an IP literal is not resolved at all. They are filtered by ``family`` (and by the
family of ``local_address``), then interleaved by family as RFC 8305 section 4 asks: the resolver's first
choice (IPv6 on a usual dual-stack host, as ``getaddrinfo`` sorts by RFC 6724), then the other family,
alternating.

Happy Eyeballs v2 (RFC 8305 section 5): the attempts are staggered. The next one starts when the one
started last has failed, or ``happy_eyeballs_delay`` seconds after it started, whichever comes first;
earlier attempts stay in the race. The first connection to complete wins and the others are closed. All of
it happens within the one connect timeout (and the total deadline), DNS included.

With the delay off (None or 0) the addresses are tried one at a time. Each then gets a share of the time
left (what remains divided by the addresses still to try, but at least 2 s when that much remains), so a
first address that never answers cannot use up the whole connect timeout.
"""

from __future__ import annotations

import socket
import time

from brisk._transport.base import DEFAULT_NETWORK, NetworkOptions
from brisk._transport.deadline import budget, connecting, timeout_message
from brisk._transport.errors import not_resolved
from brisk.exceptions import ConnectionError, ConnectionRefused, NameResolutionError, RequestException

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._transport.base import SendOptions, Timings

    Info = tuple[Any, ...]  # one entry of getaddrinfo's answer: (family, type, proto, canonname, address)

__all__ = ["AddressLoop", "check_setting", "interleave", "literal_address", "network_options"]

_FAMILIES = {None: socket.AF_UNSPEC, "ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}
_MIN_SHARE = 2.0  # with Happy Eyeballs off: the least time an attempt gets, when that much is left


def literal_address(host: str, port: int) -> list[Info] | None:
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


# -- the settings -------------------------------------------------------------------------------------------


def _ip(value: Any, setting: str) -> str:
    if not isinstance(value, str) or literal_address(value.strip("[]"), 0) is None:
        raise ValueError(f"{setting}: {value!r} is not an IP address")
    return value.strip("[]")


def check_setting(name: str, value: Any) -> Any:
    """``value`` of the connection setting ``name``, checked (a clear error naming the setting) and in the
    form the session keeps (``resolve``: a dict of lower-case keys to tuples of addresses)."""
    if name == "resolve":
        if value is None:
            return {}
        if not hasattr(value, "items"):
            raise TypeError(f"resolve must be a dict of host (or host:port) to addresses, not {value!r}")
        table: dict[str, tuple[str, ...]] = {}
        for key, addresses in value.items():
            host, colon, port = str(key).rpartition(":")
            if not colon or "]" in port or not host or (":" in host and not host.startswith("[")):
                host, port = str(key), ""
            elif not port.isdigit():
                raise ValueError(f"resolve: the port of {key!r} is not a number")
            listed = [addresses] if isinstance(addresses, str) else list(addresses)
            if not listed:
                raise ValueError(f"resolve: no address given for {key!r}")
            table[f"{host.lower()}:{port}" if port else host.lower()] = tuple(
                _ip(a, f"resolve[{key!r}]") for a in listed
            )
        return table
    if name == "resolver":
        if value is not None and not callable(value):
            raise TypeError(
                f"resolver must be a callable (host, port) -> list of IP addresses, not {value!r}"
            )
        return value
    if name == "family":
        if value not in _FAMILIES:
            raise ValueError(f"family must be 'ipv4', 'ipv6' or None (both), not {value!r}")
        return value
    if name == "local_address":
        return None if value is None else _ip(value, "local_address")
    if name in ("happy_eyeballs_delay", "tcp_keepalive"):
        if value is None or value is False:
            return None
        if value is True and name == "tcp_keepalive":
            return DEFAULT_NETWORK.tcp_keepalive
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{name} must be a number of seconds >= 0 or None (off), not {value!r}")
        return float(value) or None
    raise KeyError(name)


def network_options(
    resolve: Any, resolver: Any, family: Any, local_address: Any, delay: Any, keepalive: Any
) -> NetworkOptions | None:
    """The ``NetworkOptions`` of a connection, from the session's settings (checked again: they may have
    been assigned after the constructor); None when all are at their defaults."""
    table = check_setting("resolve", resolve)
    options = NetworkOptions(
        tuple(sorted(table.items())),
        check_setting("resolver", resolver),
        check_setting("family", family),
        check_setting("local_address", local_address),
        check_setting("happy_eyeballs_delay", delay),
        check_setting("tcp_keepalive", keepalive),
    )
    return None if options == DEFAULT_NETWORK else options


def interleave(infos: list[Info]) -> list[Info]:
    """``infos`` alternating by address family, starting with the family of the first (RFC 8305 section 4,
    with a "First Address Family Count" of 1); the order within each family is kept."""
    if not infos:
        return infos
    first = infos[0][0]
    preferred = [info for info in infos if info[0] == first]
    others = [info for info in infos if info[0] != first]
    merged: list[Info] = []
    for index in range(max(len(preferred), len(others))):
        merged.extend(group[index] for group in (preferred, others) if index < len(group))
    return merged


def _shown(address: tuple[Any, ...]) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


# -- the race ---------------------------------------------------------------------------------------------


class AddressLoop:
    """The connect of one connection to ``host:port``, without the I/O.

    A driver runs ``lookup`` (in a worker thread: it blocks) unless ``addresses`` already holds the answer,
    and hands the answer to ``resolved``. Then it loops: it starts each socket ``start_next`` hands out
    (``connect_ex`` or ``sock_connect``), waits for any of them for at most ``wait_time()`` seconds, and
    reports each outcome to ``connected`` (which returns the winner, or None when it turned out dead) or
    ``failed``; attempts whose time is up come from ``expired``. ``wait_time`` raises the final error once
    nothing is left to wait for.
    ``close`` (always, at the end) closes every socket that did not win.
    """

    __slots__ = (
        "_delay", "_failures", "_last", "_last_start", "_net", "_options", "_pending", "_queue", "_resolved",
        "_start", "_timed_out", "_timings", "addresses", "deadline", "host", "port",
    )  # fmt: skip

    def __init__(self, host: str, port: int, options: SendOptions, timings: Timings) -> None:
        self.host = host
        self.port = port
        self._options = options
        self._timings = timings
        self._net = net = options.config.network or DEFAULT_NETWORK
        self._delay = net.happy_eyeballs_delay
        self._start = self._resolved = time.monotonic()
        phase = options.timeout.connect
        deadline = options.deadline
        if phase is not None and (deadline is None or self._start + phase < deadline):
            deadline = self._start + phase
        self.deadline = deadline  # resolving and connecting, all addresses together, end by then
        self._queue: list[Info] = []
        self._pending: dict[socket.socket, tuple[tuple[Any, ...], float | None]] = {}
        self._failures: list[tuple[tuple[Any, ...], BaseException]] = []
        self._last: socket.socket | None = None
        self._last_start = 0.0
        self._timed_out = False
        # None: the name must be looked up
        self.addresses = self._from_table() if net.resolve else None
        if self.addresses is None:
            self.addresses = literal_address(host, port)

    def _from_table(self) -> list[Info] | None:
        table = dict(self._net.resolve)
        host = self.host.lower()
        addresses = table.get(f"{host}:{self.port}") or table.get(host)
        return None if addresses is None else self._infos(addresses, "resolve")

    def _infos(self, addresses: Any, source: str) -> list[Info]:
        infos: list[Info] = []
        for address in addresses:
            found = isinstance(address, str) and literal_address(address.strip("[]"), self.port)
            if not found:
                raise NameResolutionError(f"{source} gave {address!r} for {self.host!r}: not an IP address")
            infos.extend(found)
        return infos

    # -- resolving

    def lookup(self) -> list[Info]:
        """Ask the session's ``resolver``, else ``getaddrinfo`` (blocking: drivers run this in a thread)."""
        resolver = self._net.resolver
        if resolver is not None:
            try:
                addresses = resolver(self.host, self.port)
            except OSError as exc:
                raise NameResolutionError(f"could not resolve host {self.host!r}: resolver: {exc}") from exc
            return self._infos(addresses, "resolver")
        try:
            return socket.getaddrinfo(self.host, self.port, _FAMILIES[self._net.family], socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise not_resolved(self.host, exc) from None

    def resolving_timed_out(self) -> RequestException:
        return connecting(f"resolving {self.host}").timed_out(self._options)

    def resolved(self, infos: list[Info]) -> int:
        """The answer of the lookup (or ``addresses``): filtered by family, put in the order to try.
        Returns how many addresses there are to try."""
        self._resolved = time.monotonic()
        self._timings.dns = self._resolved - self._start
        net = self._net
        wanted = _FAMILIES[net.family]
        if net.local_address is not None:
            local = literal_address(net.local_address, 0)
            assert local is not None
            if wanted not in (socket.AF_UNSPEC, local[0][0]):
                raise NameResolutionError(
                    f"local_address={net.local_address!r} contradicts family={net.family!r}"
                )
            wanted = local[0][0]
        kept = [info for info in infos if wanted in (socket.AF_UNSPEC, info[0])]
        if not kept:
            why = (
                f"family={net.family!r}"
                if net.local_address is None
                else f"local_address={net.local_address!r}"
            )
            name = "IPv4" if wanted == socket.AF_INET else "IPv6"
            raise NameResolutionError(f"{self.host!r} has no {name} address ({why})")
        self._queue = interleave(kept)
        self._queue.reverse()  # popped from the end
        return len(kept)

    # -- connecting

    def start_next(self) -> tuple[socket.socket, tuple[Any, ...]] | None:
        """A new socket and the address to connect it to, when it is time for the next attempt; else None.
        The socket is blocking (bound to ``local_address`` if set): the driver sets the mode it needs."""
        while self._queue:
            now = time.monotonic()
            if self.deadline is not None and now >= self.deadline:
                return None
            delay = self._delay
            if self._last in self._pending and not (delay and now >= self._last_start + delay):
                return None
            family, kind, proto, _, address = self._queue.pop()
            sock = None
            try:
                sock = socket.socket(family, kind, proto)
                if self._net.local_address is not None:
                    sock.bind((self._net.local_address, 0))
            except OSError as exc:  # no IPv6 on this host, a local address it does not have, ...
                if sock is not None:
                    sock.close()
                self._failures.append((address, exc))
                continue
            limit = self.deadline
            if not delay and limit is not None:  # one at a time: this one's share of the time left
                share = (limit - now) / (len(self._queue) + 1)
                limit = now + (share if share >= _MIN_SHARE else min(_MIN_SHARE, limit - now))
            self._pending[sock] = (address, limit)
            self._last, self._last_start = sock, now
            return sock, address
        return None

    def time_left(self) -> float | None:
        """Seconds the one attempt in flight may take (raises ConnectTimeout once the time is up)."""
        limit = self._pending[self._last][1] if self._last in self._pending else self.deadline
        return budget(None, limit, connecting("").error, f"connecting to {self.host}:{self.port}")

    def wait_time(self) -> float | None:
        """Seconds the driver may wait for news of the attempts in flight before asking again (None: no
        limit). Raises the final error when no attempt is in flight and none can start."""
        if not self._pending:
            raise self._final_error()
        now = time.monotonic()
        limits = [limit for _, limit in self._pending.values() if limit is not None]
        if self._queue and self._delay:
            limits.append(self._last_start + self._delay)
        return max(0.0, min(limits) - now) if limits else None

    def expired(self) -> list[socket.socket]:
        """The attempts in flight whose time is up: the driver stops waiting on each, then reports it to
        ``failed`` with a TimeoutError."""
        now = time.monotonic()
        return [sock for sock, (_, limit) in self._pending.items() if limit is not None and now >= limit]

    def failed(self, sock: socket.socket, exc: BaseException) -> None:
        """Connecting ``sock`` failed with ``exc``: close it and note why (an OS error or a timeout; anything
        else, such as a cancellation or brisk's own error, is raised again)."""
        address = self._pending.pop(sock, ((None, None), None))[0]
        sock.close()
        if isinstance(exc, RequestException) or not isinstance(exc, OSError):
            raise exc
        self._timed_out = self._timed_out or isinstance(exc, TimeoutError)
        self._failures.append((address, exc))

    def connected(self, sock: socket.socket) -> socket.socket | None:
        """``sock`` won: set its options (no Nagle, TCP keep-alive) and return it. The others are closed by
        ``close``, once the driver stopped waiting on them.

        None when setting an option fails (EINVAL once the peer has reset the connection, on some
        platforms): the socket is closed and counted as a failed attempt, as if its connect had failed, and
        the driver goes on waiting for the others (``wait_time`` raises the final error if none is left)."""
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            self.failed(sock, exc)
            return None
        del self._pending[sock]
        keepalive = self._net.tcp_keepalive
        if keepalive:
            _keep_alive(sock, keepalive)  # its errors are ignored: keep-alive is only a nicety
        self._timings.connect = time.monotonic() - self._resolved
        return sock

    def first(self) -> Info:
        """The address to try first, once ``resolved``: for a protocol that does not race (QUIC)."""
        return self._queue[-1]

    def close(self) -> None:
        for sock in self._pending:
            sock.close()
        self._pending.clear()

    def _final_error(self) -> RequestException:
        """The error once no address is left: a timeout if any attempt ran out of time, else why each
        failed (ConnectionRefused when every address refused)."""
        untried = [info[4] for info in reversed(self._queue)]
        parts = [f"{_shown(address)} ({_why(exc)})" for address, exc in self._failures if address[0]]
        tried = "tried " + "; ".join(parts) if parts else ""
        if untried:
            tried += ("; " if tried else "") + "not reached in time: " + ", ".join(map(_shown, untried))
        doing = f"connecting to {self.host}:{self.port}"
        # name the addresses unless the one tried is the host itself (an IP literal)
        several = len(self._failures) + len(untried) > 1 or any(a[0] != self.host for a, _ in self._failures)
        if self._timed_out or untried:
            phase = connecting(doing)
            message = timeout_message(doing, phase.seconds(self._options), self._options)
            return phase.error(f"{message} ({tried})" if several else message)
        last = self._failures[-1][1] if self._failures else None
        if self._failures and all(isinstance(exc, ConnectionRefusedError) for _, exc in self._failures):
            addresses = ", ".join(_shown(address) for address, _ in self._failures)
            suffix = f"; tried {addresses}" if several else ""
            return ConnectionRefused(
                f"connection refused by {self.host}:{self.port} (nothing listens there{suffix})"
            )
        error = ConnectionError(f"could not connect to {self.host}:{self.port}: {tried if several else last}")
        error.__cause__ = last
        return error


def _keep_alive(sock: socket.socket, seconds: float) -> None:
    """TCP keep-alive probes after ``seconds`` idle, then every ``seconds`` (where the platform says)."""
    whole = max(1, int(seconds))
    try:  # (not contextlib.suppress: a plain request loads no contextlib)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        idle = getattr(socket, "TCP_KEEPIDLE", None) or getattr(socket, "TCP_KEEPALIVE", None)  # macOS
        if idle is not None:
            sock.setsockopt(socket.IPPROTO_TCP, idle, whole)
        interval = getattr(socket, "TCP_KEEPINTVL", None)
        if interval is not None:
            sock.setsockopt(socket.IPPROTO_TCP, interval, whole)
    except OSError:
        pass
