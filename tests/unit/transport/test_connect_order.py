"""Opening a TCP connection end to end through the blocking driver (``sync.connect.connect_tcp``) and the
plan it follows (``brisk._transport.connect.AddressLoop``): which addresses are tried, in which order and
when, which one wins, within what time, and what a failure raises.

No socket is opened: ``socket.socket``, ``socket.getaddrinfo`` and the driver's selector are fakes, and so
is the clock. A fake socket knows, per address, after how many seconds its connect completes and how
(accepted, or an errno); a non-blocking ``connect_ex`` answers EINPROGRESS and the fake selector moves the
clock on to the next completion (or to the end of the wait). One address is connected by a blocking
``connect()`` with a timeout, several are raced. The plan's own decisions (the stagger, the shares with
Happy Eyeballs off, the settings) are tested on their own in ``test_connect_plan.py``."""

from __future__ import annotations

import errno
import math
import os
import selectors
import socket
from types import SimpleNamespace
from typing import Any

import pytest

from brisk import Timeout
from brisk._transport import connect as connect_module
from brisk._transport import deadline as deadline_module
from brisk._transport.base import ConnectionConfig, NetworkOptions, SendOptions, Timings
from brisk._transport.connect import AddressLoop, literal_address
from brisk._transport.sync import connect as sync_connect_module
from brisk._transport.sync.connect import connect_tcp
from brisk.exceptions import (
    ConnectionError,
    ConnectionRefused,
    ConnectTimeout,
    NameResolutionError,
    RequestException,
)

V4_A = (socket.AF_INET, ("192.0.2.1", 443))
V4_B = (socket.AF_INET, ("192.0.2.2", 443))
V6 = (socket.AF_INET6, ("2001:db8::1", 443, 0, 0))
V6_B = (socket.AF_INET6, ("2001:db8::2", 443, 0, 0))
START = 500.0
NEVER = math.inf


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


class FakeNetwork:
    """What the fake sockets meet: per address, after how many seconds a connect completes and with which
    errno (0: accepted); an address not listed never answers. ``at_once``: what a non-blocking
    ``connect_ex`` returns straight away instead of EINPROGRESS. ``raises``: what a blocking ``connect()``
    raises instead of connecting. ``interrupt``: what the selector raises while waiting."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.answers: dict[Any, tuple[float, int]] = {}
        self.at_once: dict[Any, int] = {}
        self.raises: dict[Any, BaseException] = {}
        self.interrupt: BaseException | None = None
        self.resolve_cost = 0.0
        self.answer: list[tuple[Any, ...]] = []
        self.resolved: list[tuple[str, int]] = []
        self.sockets: list[FakeSocket] = []
        self.selectors: list[FakeSelector] = []

    def accepts(self, address: Any, after: float = 0.05) -> None:
        self.answers[address] = (after, 0)

    def fails(self, address: Any, code: int, after: float = 0.05) -> None:
        self.answers[address] = (after, code)

    def getaddrinfo(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.resolved.append((host, port))
        self.clock.now += self.resolve_cost
        return self.answer

    @property
    def attempts(self) -> list[Any]:
        """The addresses connected to, in the order the attempts started."""
        return [sock.address for sock in self.sockets if sock.address is not None]

    @property
    def started(self) -> list[float]:
        """When each attempt started, in seconds after the test's start."""
        return [sock.started - START for sock in self.sockets if sock.started is not None]


class FakeSocket:
    network: FakeNetwork

    def __init__(self, family: int, kind: int, proto: int) -> None:
        self.family = family
        self.kind = kind
        self.proto = proto
        self.address: Any = None
        self.started: float | None = None
        self.blocking = True
        self.timeout: float | str | None = "unset"
        self.closed = False
        self.options: dict[tuple[int, int], int] = {}
        self.network.sockets.append(self)

    def _start(self, address: Any) -> tuple[float, int]:
        assert not self.closed
        assert self.address is None, "one connect per socket"
        self.address = address
        self.started = self.network.clock.now
        return self.network.answers.get(address, (NEVER, 0))

    def setblocking(self, flag: bool) -> None:
        self.blocking = flag

    def settimeout(self, timeout: float | None) -> None:
        self.timeout = timeout

    def connect(self, address: Any) -> None:
        assert self.blocking, "a blocking connect on a non-blocking socket"
        after, code = self._start(address)
        if address in self.network.raises:
            raise self.network.raises[address]
        assert isinstance(self.timeout, float), "a blocking connect without a timeout"
        if after > self.timeout:
            self.network.clock.now += self.timeout
            raise TimeoutError("timed out")
        self.network.clock.now += after
        if code:
            raise OSError(code, os.strerror(code))

    def connect_ex(self, address: Any) -> int:
        assert not self.blocking, "connect_ex on a blocking socket would block"
        self._start(address)
        return self.network.at_once.get(address, errno.EINPROGRESS)

    @property
    def done_at(self) -> float:
        assert self.started is not None
        return self.started + self.network.answers.get(self.address, (NEVER, 0))[0]

    def getsockopt(self, level: int, option: int) -> int:
        assert (level, option) == (socket.SOL_SOCKET, socket.SO_ERROR)
        assert self.network.clock.now >= self.done_at, "SO_ERROR read before the connect completed"
        return self.network.answers[self.address][1]

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.options[level, option] = value

    def close(self) -> None:
        self.closed = True


class FakeSelector:
    """A selector on the fake clock: ``select`` moves the clock to the first completion among the
    registered sockets, or by the timeout if none completes sooner."""

    network: FakeNetwork

    def __init__(self) -> None:
        self.keys: dict[FakeSocket, selectors.SelectorKey] = {}
        self.waits: list[float | None] = []
        self.closed = False
        self.network.selectors.append(self)

    def __enter__(self) -> FakeSelector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.closed = True

    def register(self, sock: FakeSocket, events: int) -> None:
        assert sock not in self.keys
        assert not sock.closed
        assert events == selectors.EVENT_WRITE, "a connect completes when the socket turns writable"
        self.keys[sock] = selectors.SelectorKey(sock, 0, events, None)

    def unregister(self, sock: FakeSocket) -> None:
        del self.keys[sock]  # KeyError for a socket not registered, as a real selector

    def select(self, timeout: float | None) -> list[tuple[selectors.SelectorKey, int]]:
        assert len(self.waits) < 1000, "the driver keeps waiting"
        self.waits.append(timeout)
        if self.network.interrupt is not None:
            raise self.network.interrupt
        clock = self.network.clock
        first = min((sock.done_at for sock in self.keys), default=NEVER)
        if timeout is None:
            assert first < NEVER, "the driver waits forever"
        elif first > clock.now + timeout:
            clock.now += timeout
            return []
        clock.now = max(clock.now, first)
        return [(key, selectors.EVENT_WRITE) for sock, key in self.keys.items() if sock.done_at <= clock.now]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(connect_module, "time", fake)
    monkeypatch.setattr(deadline_module, "time", fake)
    monkeypatch.setattr(sync_connect_module, "time", fake)  # the wait for the lookup's thread
    return fake


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> FakeNetwork:
    net = FakeNetwork(clock)
    FakeSocket.network = net
    FakeSelector.network = net
    monkeypatch.setattr(socket, "socket", FakeSocket)
    monkeypatch.setattr(socket, "getaddrinfo", net.getaddrinfo)
    fake_selectors = SimpleNamespace(DefaultSelector=FakeSelector, EVENT_WRITE=selectors.EVENT_WRITE)
    monkeypatch.setattr(sync_connect_module, "selectors", fake_selectors)
    return net


def answer(*entries: tuple[int, Any]) -> list[tuple[Any, ...]]:
    """A getaddrinfo answer, in the given order."""
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address) for family, address in entries]


def options(
    connect: float | None = 10.0,
    deadline: float | None = None,
    total: float | None = None,
    **network: Any,
) -> SendOptions:
    config = ConnectionConfig(network=NetworkOptions(**network)) if network else ConnectionConfig()
    return SendOptions(Timeout(connect=connect, total=total), config=config, deadline=deadline)


def shown(address: Any) -> str:
    return f"[{address[0]}]:{address[1]}" if ":" in address[0] else f"{address[0]}:{address[1]}"


# literal_address


def test_an_ipv4_literal_is_answered_as_getaddrinfo_would() -> None:
    assert literal_address("127.0.0.1", 8080) == [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 8080))
    ]


@pytest.mark.parametrize("host", ["::1", "2001:db8::5", "::ffff:192.0.2.1"])
def test_an_ipv6_literal_gets_an_ipv6_address(host: str) -> None:
    assert literal_address(host, 443) == [
        (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, 443, 0, 0))
    ]


def test_an_ipv6_zone_is_kept_for_connect() -> None:
    [(family, _, _, _, address)] = literal_address("fe80::1%eth0", 80) or [()]
    assert family == socket.AF_INET6
    assert address == ("fe80::1%eth0", 80, 0, 0)


@pytest.mark.parametrize("host", ["example.com", "localhost", "1.2.3", "192.0.2.1.example", "[::1]", ""])
def test_anything_but_an_ip_literal_is_left_to_the_resolver(host: str) -> None:
    assert literal_address(host, 80) is None


# the order addresses are tried in, and which one wins


def test_an_ip_literal_is_connected_to_without_resolving(network: FakeNetwork) -> None:
    network.accepts(("192.0.2.7", 8080))
    sock = connect_tcp("192.0.2.7", 8080, options(), Timings(0.0))
    assert network.resolved == []
    assert network.attempts == [("192.0.2.7", 8080)]
    assert sock is network.sockets[0]
    assert sock.family == socket.AF_INET
    assert sock.timeout == pytest.approx(10.0), "one address: a blocking connect within the connect timeout"
    assert network.selectors == []


def test_addresses_are_tried_in_the_resolvers_order_until_one_accepts(network: FakeNetwork) -> None:
    network.answer = answer(V4_B, V6, V4_A)  # the resolver's preference (interleaved: V4_B, V6, V4_A)
    network.fails(V4_B[1], errno.ECONNREFUSED, after=0.1)
    network.accepts(V6[1], after=0.05)
    sock = connect_tcp("example.com", 443, options(), Timings(0.0))
    assert network.resolved == [("example.com", 443)]
    assert network.attempts == [V4_B[1], V6[1]], "the third address is never tried"
    assert network.started == pytest.approx([0.0, 0.1]), "the refusal starts the next at once"
    assert len(network.sockets) == 2, "no socket made for an address not tried"
    first, second = network.sockets
    assert sock is second
    assert (first.family, second.family) == (socket.AF_INET, socket.AF_INET6)
    assert first.closed, "the failed attempt's socket is closed"
    assert not second.closed
    assert second.blocking, "the winner is handed back in blocking mode"
    assert second.options[socket.IPPROTO_TCP, socket.TCP_NODELAY] == 1
    assert first.options == {}
    assert network.selectors[0].keys == {}, "every socket waited on was unregistered"


def test_families_are_interleaved_starting_with_the_resolvers_first_choice(network: FakeNetwork) -> None:
    network.answer = answer(V6, V6_B, V4_A, V4_B)
    for _, address in (V6, V6_B, V4_A, V4_B):
        network.fails(address, errno.ECONNREFUSED, after=0.01)
    with pytest.raises(ConnectionRefused) as caught:
        connect_tcp("example.com", 443, options(), Timings(0.0))
    assert network.attempts == [V6[1], V4_A[1], V6_B[1], V4_B[1]]
    assert str(caught.value) == (
        "connection refused by example.com:443 (nothing listens there; tried "
        "[2001:db8::1]:443, 192.0.2.1:443, [2001:db8::2]:443, 192.0.2.2:443)"
    )
    assert all(sock.closed for sock in network.sockets)


def test_the_first_address_that_accepts_before_the_delay_is_the_only_one_tried(network: FakeNetwork) -> None:
    network.answer = answer(V6, V4_A)
    network.accepts(V6[1], after=0.2)  # within happy_eyeballs_delay (0.25 s)
    network.accepts(V4_A[1], after=0.0)
    sock = connect_tcp("example.com", 443, options(), Timings(0.0))
    assert network.attempts == [V6[1]]
    assert sock is network.sockets[0]


def test_the_first_to_accept_wins_and_the_slower_attempt_is_closed(
    network: FakeNetwork, clock: Clock
) -> None:
    network.answer = answer(V6, V4_A)
    network.accepts(V6[1], after=1.0)  # slow: it would accept at 1.0 s
    network.accepts(V4_A[1], after=0.1)  # started at 0.25 s, accepts at 0.35 s
    sock = connect_tcp("example.com", 443, options(), Timings(0.0))
    slow, fast = network.sockets
    assert network.started == pytest.approx([0.0, 0.25])
    assert sock is fast
    assert fast.blocking
    assert not fast.closed
    assert slow.closed, "the attempt still in flight is closed"
    assert clock.now - START == pytest.approx(0.35), "no waiting for the slower one"


def test_an_address_that_fails_at_once_does_not_hold_up_the_next(network: FakeNetwork) -> None:
    network.answer = answer(V6, V4_A)
    network.at_once[V6[1]] = errno.ENETUNREACH  # no IPv6 route: connect_ex says so straight away
    network.accepts(V4_A[1])
    sock = connect_tcp("example.com", 443, options(), Timings(0.0))
    assert sock is network.sockets[1]
    assert network.started == [0.0, 0.0], "no waiting out the delay after a failure"
    assert network.sockets[0].closed
    assert network.selectors[0].keys == {}


def test_a_connect_that_completes_at_once_wins_without_waiting(network: FakeNetwork) -> None:
    network.answer = answer(V4_A, V4_B)
    network.at_once[V4_A[1]] = 0  # loopback can accept a non-blocking connect straight away
    sock = connect_tcp("example.com", 443, options(), Timings(0.0))
    assert sock is network.sockets[0]
    assert sock.blocking
    assert network.attempts == [V4_A[1]]
    assert network.selectors[0].waits == []


# every address failing


def test_when_every_address_fails_the_error_names_the_origin_and_what_failed(network: FakeNetwork) -> None:
    network.answer = answer(V4_A, V4_B)
    network.fails(V4_A[1], errno.EHOSTUNREACH, after=0.1)
    network.fails(V4_B[1], errno.ECONNREFUSED, after=0.1)
    with pytest.raises(ConnectionError) as caught:
        connect_tcp("example.com", 443, options(), Timings(0.0))
    assert type(caught.value) is ConnectionError, "not every address refused"
    assert str(caught.value) == (
        f"could not connect to example.com:443: tried 192.0.2.1:443 ({os.strerror(errno.EHOSTUNREACH)}); "
        f"192.0.2.2:443 ({os.strerror(errno.ECONNREFUSED)})"
    )
    cause = caught.value.__cause__
    assert isinstance(cause, ConnectionRefusedError), "the cause is the last failure"
    assert cause.errno == errno.ECONNREFUSED
    assert network.attempts == [V4_A[1], V4_B[1]]
    assert all(sock.closed for sock in network.sockets)


def test_an_ip_literal_that_refuses_is_connection_refused_without_a_list(network: FakeNetwork) -> None:
    network.fails(("192.0.2.7", 8443), errno.ECONNREFUSED)
    with pytest.raises(ConnectionRefused) as caught:
        connect_tcp("192.0.2.7", 8443, options(), Timings(0.0))
    assert str(caught.value) == "connection refused by 192.0.2.7:8443 (nothing listens there)"
    assert network.sockets[0].closed


def test_a_name_that_does_not_resolve_raises_name_resolution_error(
    network: FakeNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_such_name(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with pytest.raises(NameResolutionError) as caught:
        connect_tcp("nowhere.invalid", 80, options(), Timings(0.0))
    assert str(caught.value) == "could not resolve host 'nowhere.invalid': Name or service not known"
    assert network.sockets == []


# timeouts and the deadline


def test_one_address_that_does_not_answer_is_a_connect_timeout(network: FakeNetwork, clock: Clock) -> None:
    network.answer = answer(V4_A)
    with pytest.raises(ConnectTimeout) as caught:
        connect_tcp("example.com", 443, options(connect=5.0), Timings(0.0))
    assert (
        str(caught.value)
        == "connecting to example.com:443 timed out after 5.0s (tried 192.0.2.1:443 (timed out))"
    )
    assert caught.value.__cause__ is None
    assert network.sockets[0].timeout == pytest.approx(5.0)
    assert network.sockets[0].closed
    assert clock.now - START == pytest.approx(5.0)


def test_attempts_in_flight_share_one_connect_timeout(network: FakeNetwork, clock: Clock) -> None:
    network.answer = answer(V4_A, V4_B, V6)  # none answers
    with pytest.raises(ConnectTimeout) as caught:
        connect_tcp("example.com", 443, options(connect=10.0), Timings(0.0))
    assert network.started == pytest.approx([0.0, 0.25, 0.5]), "staggered by happy_eyeballs_delay"
    assert network.attempts == [V4_A[1], V6[1], V4_B[1]], "interleaved by family"
    assert clock.now - START == pytest.approx(10.0), "all of them end with the one connect timeout"
    assert str(caught.value) == (
        "connecting to example.com:443 timed out after 10.0s (tried 192.0.2.1:443 (timed out); "
        "[2001:db8::1]:443 (timed out); 192.0.2.2:443 (timed out))"
    )
    assert caught.value.__cause__ is None
    assert all(sock.closed for sock in network.sockets)
    assert network.selectors[0].keys == {}, "the expired attempts were unregistered"


def test_one_at_a_time_a_quick_failure_leaves_its_time_to_the_others(
    network: FakeNetwork, clock: Clock
) -> None:
    network.answer = answer(V4_A, V4_B, V6)
    network.fails(V4_A[1], errno.ENETUNREACH, after=1.0)  # the others never answer
    with pytest.raises(ConnectTimeout):
        connect_tcp("example.com", 443, options(connect=10.0, happy_eyeballs_delay=None), Timings(0.0))
    # V4_A fails after 1 s; V4_B gets half the 9 s left, V6 the rest
    assert network.started == pytest.approx([0.0, 1.0, 5.5])
    assert clock.now - START == pytest.approx(10.0)
    assert all(sock.closed for sock in network.sockets)


def test_resolving_counts_against_the_connect_timeout(network: FakeNetwork) -> None:
    network.answer = answer(V4_A)
    network.accepts(V4_A[1])
    network.resolve_cost = 3.0
    connect_tcp("example.com", 443, options(connect=10.0), Timings(0.0))
    assert network.sockets[0].timeout == pytest.approx(7.0)


def test_no_address_is_tried_once_the_connect_timeout_is_used_up(network: FakeNetwork, clock: Clock) -> None:
    hosts = [f"192.0.2.{n}" for n in range(1, 7)]
    network.answer = answer(*((socket.AF_INET, (host, 443)) for host in hosts))  # none answers
    with pytest.raises(ConnectTimeout) as caught:
        connect_tcp("example.com", 443, options(connect=10.0, happy_eyeballs_delay=None), Timings(0.0))
    # a sixth of 10 s is under the 2 s an attempt gets at least: five are tried, the sixth is not reached
    assert network.started == pytest.approx([0.0, 2.0, 4.0, 6.0, 8.0])
    assert len(network.sockets) == 5, "no socket made for the address not reached"
    assert all(sock.closed for sock in network.sockets)
    tried = "; ".join(f"{host}:443 (timed out)" for host in hosts[:5])
    assert str(caught.value) == (
        f"connecting to example.com:443 timed out after 10.0s (tried {tried}; "
        "not reached in time: 192.0.2.6:443)"
    )


def test_a_connect_timeout_used_up_between_addresses_is_not_blamed_on_the_total(network: FakeNetwork) -> None:
    """Fixed by the rewrite: the final error says which timeout ran out (``timeout_message``), where the old
    loop's ``time_left`` blamed any passed deadline on ``Timeout.total``."""
    network.answer = answer(V4_A, V4_B)
    network.fails(V4_A[1], errno.ENETUNREACH, after=10.0)  # fails just as the connect timeout ends
    sent = options(connect=10.0, happy_eyeballs_delay=30.0)  # the next would start after 30 s
    with pytest.raises(ConnectTimeout) as caught:
        connect_tcp("example.com", 443, sent, Timings(0.0))
    assert "Timeout.total" not in str(caught.value), "no total deadline was set"
    assert str(caught.value) == (
        f"connecting to example.com:443 timed out after 10.0s (tried 192.0.2.1:443 "
        f"({os.strerror(errno.ENETUNREACH)}); not reached in time: 192.0.2.2:443)"
    )
    assert network.attempts == [V4_A[1]]


def test_the_total_deadline_cuts_the_connect_timeout_short(network: FakeNetwork, clock: Clock) -> None:
    network.answer = answer(V4_A, V4_B, V6)  # none answers
    sent = options(connect=10.0, total=2.0, deadline=clock.now + 2.0)
    with pytest.raises(ConnectTimeout) as caught:
        connect_tcp("example.com", 443, sent, Timings(0.0))
    assert clock.now - START == pytest.approx(2.0), "2 s of the total left, not the 10 s"
    assert str(caught.value) == (
        "the total deadline of 2.0s passed while connecting to example.com:443 (Timeout.total) "
        "(tried 192.0.2.1:443 (timed out); [2001:db8::1]:443 (timed out); 192.0.2.2:443 (timed out))"
    )
    assert all(sock.closed for sock in network.sockets)


def test_one_address_cut_short_by_the_total_names_the_total(network: FakeNetwork, clock: Clock) -> None:
    network.answer = answer(V4_A)  # it never answers
    sent = options(connect=10.0, total=2.0, deadline=clock.now + 2.0)
    with pytest.raises(ConnectTimeout) as caught:
        connect_tcp("example.com", 443, sent, Timings(0.0))
    assert network.sockets[0].timeout == pytest.approx(2.0)
    assert str(caught.value) == (
        "the total deadline of 2.0s passed while connecting to example.com:443 (Timeout.total) "
        "(tried 192.0.2.1:443 (timed out))"
    )


@pytest.mark.parametrize(
    ("connect", "total", "expected"),
    [
        (10.0, None, 10.0),
        (10.0, 4.0, 4.0),  # the total ends first
        (3.0, 4.0, 3.0),  # the connect timeout ends first
        (None, 4.0, 4.0),
        (None, None, None),
    ],
)
def test_the_loop_deadline_is_the_earlier_of_connect_timeout_and_total(
    clock: Clock, connect: float | None, total: float | None, expected: float | None
) -> None:
    sent = options(connect=connect, deadline=None if total is None else clock.now + total)
    loop = AddressLoop("example.com", 443, sent, Timings(0.0))
    if expected is None:
        assert loop.deadline is None
        assert loop.time_left() is None
    else:
        assert loop.deadline == pytest.approx(clock.now + expected)
        assert loop.time_left() == pytest.approx(expected)


def test_resolving_timed_out_names_the_host_and_the_connect_timeout(clock: Clock) -> None:
    loop = AddressLoop("example.com", 443, options(connect=5.0), Timings(0.0))
    exc = loop.resolving_timed_out()
    assert type(exc) is ConnectTimeout
    assert str(exc) == "resolving example.com timed out after 5.0s"


# what is not one address's failure


@pytest.mark.parametrize(
    "exc",
    [
        ConnectTimeout("the total deadline passed while connecting (Timeout.total)"),
        RequestException("brisk's own"),
        KeyboardInterrupt(),
        ValueError("not an OS error"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_brisk_errors_and_non_os_errors_end_the_connect_as_they_are(
    network: FakeNetwork, exc: BaseException
) -> None:
    """brisk's exceptions are OSErrors too: they must not be taken for one address's failure."""
    network.raises[("192.0.2.7", 443)] = exc
    with pytest.raises(type(exc)) as caught:
        connect_tcp("192.0.2.7", 443, options(), Timings(0.0))
    assert caught.value is exc
    assert network.sockets[0].closed


def test_an_interrupt_while_racing_closes_every_socket(network: FakeNetwork) -> None:
    network.answer = answer(V4_A, V4_B)
    network.at_once[V4_A[1]] = errno.ENETUNREACH  # so that the second is in flight too
    network.interrupt = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt) as caught:
        connect_tcp("example.com", 443, options(), Timings(0.0))
    assert caught.value is network.interrupt
    assert len(network.sockets) == 2
    assert all(sock.closed for sock in network.sockets)


def test_timings_split_resolving_from_connecting(network: FakeNetwork) -> None:
    network.answer = answer(V4_A, V4_B)
    network.resolve_cost = 0.25
    network.accepts(V4_B[1], after=0.5)  # V4_A never answers; V4_B starts 0.25 s after it
    timings = Timings(0.0)
    sock = connect_tcp("example.com", 443, options(), timings)
    assert sock is network.sockets[1]
    assert timings.dns == pytest.approx(0.25)
    assert timings.connect == pytest.approx(0.75), "connecting counts from the answer, not the winner's start"
