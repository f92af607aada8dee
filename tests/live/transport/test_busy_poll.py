"""Busy polling before a sync read (``Limits.busy_poll``): when it polls, when it backs off, when it never
does.

The policy is checked on a real socket pair. A single-threaded process is what turns polling on, and the
test process has server threads, so those tests pretend to be single-threaded (``threading.active_count``);
the end-to-end tests run the client in a child process of its own, against real servers.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest

import brisk
from brisk._transport.sync import busypoll
from brisk._transport.sync.h1 import SyncH1Connection
from servers.raw import RawConnection, http_response


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


@pytest.fixture
def single_threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as a single-threaded one on a machine with more than one CPU."""
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(busypoll, "MANY_CPUS", True)


def backoff(conn: SyncH1Connection) -> tuple[int, int]:
    """(reads left to skip, current backoff)."""
    return conn._busy.skip, conn._busy.backoff


@pytest.mark.usefixtures("single_threaded")
def test_a_server_slower_than_the_budget_makes_the_connection_skip_1_2_4_reads(pair: tuple) -> None:
    conn = SyncH1Connection(pair[0])
    conn.busy_poll(0.001)  # nothing comes: polled for the whole budget, then gave up
    assert backoff(conn) == (1, 1)
    conn.busy_poll(0.001)  # skipped
    assert backoff(conn) == (0, 1)
    conn.busy_poll(0.001)  # polled and gave up again: skips twice as many
    assert backoff(conn) == (2, 2)
    conn.busy_poll(0.001)
    conn.busy_poll(0.001)
    conn.busy_poll(0.001)
    assert backoff(conn) == (4, 4)
    for _ in range(4 + 8 + 16 + 32 + 64 + 64 + 4):  # the backoff doubles up to 64 reads, no further
        conn.busy_poll(0.0001)
    assert conn._busy.backoff == 64


@pytest.mark.usefixtures("single_threaded")
def test_a_reply_during_polling_ends_it_at_once_and_clears_the_backoff(pair: tuple) -> None:
    ours, theirs = pair
    conn = SyncH1Connection(ours)
    conn.busy_poll(0.001)
    conn.busy_poll(0.001)  # the skipped one
    assert backoff(conn) == (0, 1)
    timer = threading.Timer(0.02, theirs.sendall, (b"reply",))
    timer.start()
    started = time.monotonic()
    conn.busy_poll(30.0)  # would poll for 30 s if it missed the reply
    waited = time.monotonic() - started
    timer.join()
    assert waited < 15.0
    assert backoff(conn) == (0, 0)
    assert ours.recv(100) == b"reply"


@pytest.mark.usefixtures("single_threaded")
def test_bytes_already_there_need_no_polling(pair: tuple) -> None:
    ours, theirs = pair
    conn = SyncH1Connection(ours)
    theirs.sendall(b"x")
    conn.busy_poll(30.0)  # returns at once: the read will not sleep
    assert backoff(conn) == (0, 0)


class BufferedSocket(socket.socket):
    """A socket type with its own buffer, as a TLS socket has: ``pending`` bytes are readable at once."""

    buffered = 0

    def pending(self) -> int:
        return self.buffered


@pytest.mark.usefixtures("single_threaded")
def test_bytes_buffered_above_the_socket_need_no_polling() -> None:
    ours, theirs = socket.socketpair()
    wrapped = BufferedSocket(ours.family, ours.type, fileno=ours.detach())
    try:
        conn = SyncH1Connection(wrapped)
        wrapped.buffered = 5
        conn.busy_poll(30.0)  # nothing on the socket, yet a read would not sleep
        assert backoff(conn) == (0, 0)
        wrapped.buffered = 0
        conn.busy_poll(0.001)
        assert backoff(conn) == (1, 1)
    finally:
        wrapped.close()
        theirs.close()


@pytest.mark.usefixtures("single_threaded")
def test_zero_turns_busy_polling_off(pair: tuple) -> None:
    conn = SyncH1Connection(pair[0])
    started = time.monotonic()
    conn.busy_poll(0)
    assert backoff(conn) == (0, 0)
    assert time.monotonic() - started < 15.0


@pytest.mark.usefixtures("single_threaded")
def test_a_socket_type_that_cannot_tell_about_buffered_bytes_is_never_polled(pair: tuple) -> None:
    class Opaque(socket.socket):
        """A socket subclass with no ``pending``: a read may be served from a buffer poll() cannot see."""

    ours = pair[0]
    opaque = Opaque(ours.family, ours.type, fileno=ours.detach())
    try:
        conn = SyncH1Connection(opaque)
        conn.busy_poll(0.001)
        assert backoff(conn) == (-1, 0)
    finally:
        opaque.close()


@pytest.mark.usefixtures("single_threaded")
def test_a_server_further_away_than_the_budget_is_never_polled(pair: tuple) -> None:
    """The TCP handshake took one round trip (and some work of this process, hence ten budgets): a server
    that far cannot answer within the polling."""
    conn = SyncH1Connection(pair[0], connect_time=0.0011, busy_poll=0.0001)
    conn.busy_poll(0.0001)
    assert backoff(conn) == (-1, 0)
    near = SyncH1Connection(pair[1], connect_time=0.0009, busy_poll=0.0001)  # the handshake has overhead
    near.busy_poll(0.0001)
    assert backoff(near) == (1, 1)


@pytest.mark.usefixtures("single_threaded")
def test_no_polling_with_a_single_cpu(pair: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    """On one CPU a local server could not run while this process polls."""
    monkeypatch.setattr(busypoll, "MANY_CPUS", False)
    conn = SyncH1Connection(pair[0])
    conn.busy_poll(0.001)
    assert backoff(conn) == (-1, 0)


def test_no_polling_while_other_threads_run(pair: tuple) -> None:
    """A polling thread would keep the GIL from the others: with a second thread alive, reads just sleep."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert threading.active_count() > 1
        conn = SyncH1Connection(pair[0])
        conn.busy_poll(0.001)  # nothing to read: polling would have given up and backed off
        assert backoff(conn) == (0, 0)
    finally:
        stop.set()
        other.join()


def test_limits_validate_busy_poll() -> None:
    assert brisk.Limits().busy_poll == 0.0001
    assert brisk.Limits(busy_poll=0).busy_poll == 0
    assert brisk.Limits(busy_poll=0.01).busy_poll == 0.01
    for wrong in (-1, float("nan"), float("inf"), 0.02, "0.001", True):
        with pytest.raises(ValueError, match="busy_poll"):
            brisk.Limits(busy_poll=wrong)  # type: ignore[arg-type]


# -- end to end: a single-threaded client process, real servers ---------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, sys, brisk
    from brisk._transport.sync.busypoll import BusyPoll

    url, budget, count, read_timeout = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    session = brisk.Session(limits=brisk.Limits(busy_poll=budget))
    out = {"bodies": [], "states": [], "polls": 0, "spun": 0, "checks": 0}

    class Counting:  # counts the pool's checks before reuse (looks_alive): one poll() each
        def __init__(self, real):
            self.real = real

        def poll(self, timeout=None):
            if sys._getframe(1).f_code.co_name == "looks_alive":
                out["checks"] += 1
            return self.real.poll(timeout)

    # Counts the reads the policy lets poll, whether Python polls (BusyPoll.before_read) or the C
    # accelerator does (brisk._transport.sync.h1._exchange_in_c).
    allowed = BusyPoll.allowed

    def counted(self, seconds):
        granted = allowed(self, seconds)
        out["polls"] += granted > 0
        return granted

    polled = BusyPoll.polled

    def reported(self, in_vain):  # a poll that found the socket empty at first and so really spun
        out["spun"] += 1
        return polled(self, in_vain)

    BusyPoll.allowed = counted
    BusyPoll.polled = reported
    try:
        for _ in range(count):
            out["bodies"].append(session.get(url, timeout=(5, read_timeout)).text)
            (conn,) = [c for conns in session._transport._state._idle.values() for c in conns]
            out["states"].append([conn._busy.skip, conn._busy.backoff])
            if not isinstance(conn._poll, Counting):
                conn._poll = conn._busy.poll = Counting(conn._poll)
    except brisk.RequestException as exc:
        out["error"] = [type(exc).__name__, str(exc)]
    print(json.dumps(out))
    """
)


# The child process polls only where it may run on two CPUs (the machines this project targets have two).
NEEDS_TWO_CPUS = pytest.mark.skipif(not busypoll.MANY_CPUS, reason="busy polling needs a second CPU")


def run_child(url: str, budget: float, count: int, read_timeout: float = 10.0) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(budget), str(count), str(read_timeout)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    return result


def slow_server(delay: float):  # type: ignore[no-untyped-def]
    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.sleep(delay)
            conn.send(http_response(200, b"late but whole"))

    return handler


@NEEDS_TWO_CPUS
def test_a_slow_server_is_read_whole_and_the_connection_backs_off(raw_server) -> None:  # type: ignore[no-untyped-def]
    server = raw_server(slow_server(0.05))
    result = run_child(server.url, 0.001, 4)
    assert result["bodies"] == ["late but whole"] * 4
    # request 1 polled in vain (skip its next read), 2 skipped, 3 polled in vain again (skip 2), 4 skipped
    assert result["states"] == [[1, 1], [0, 1], [2, 2], [1, 2]]
    assert server.connection_count == 1


def test_without_busy_polling_nothing_changes(raw_server) -> None:  # type: ignore[no-untyped-def]
    server = raw_server(slow_server(0.05))
    result = run_child(server.url, 0, 2)
    assert result["bodies"] == ["late but whole"] * 2
    assert result["states"] == [[-1, 0], [-1, 0]]  # never polled
    assert result["polls"] == 0
    assert result["checks"] == 1  # the pool's check before the connection was reused


def test_a_read_timeout_still_fires_after_polling(raw_server) -> None:  # type: ignore[no-untyped-def]
    server = raw_server(slow_server(3.0))
    result = run_child(server.url, 0.001, 1, read_timeout=0.2)
    assert result["error"][0] == "ReadTimeout"
    assert server.url.rstrip("/") in result["error"][1]


@NEEDS_TWO_CPUS
def test_a_fast_server_is_read_with_busy_polling(nginx) -> None:  # type: ignore[no-untyped-def]
    url = nginx.http_url + "/data.json"
    expected = brisk.get(url).text
    # A 10 ms budget (the most Limits allows): a poll that outlasts it makes the connection skip polling on
    # its next read, and on a loaded machine nginx has taken more than 2 ms to answer once in 200 requests;
    # a connection is also polled only when its TCP handshake took at most ten budgets.
    polling = run_child(url, 0.01, 201)
    assert polling["bodies"] == [expected] * 201
    # every response after the first was waited for by polling (where nginx runs on the client's CPU, its
    # answer can be there before the first poll: whether polling spun is checked below, on a slower server)
    assert polling["polls"] >= 200, polling["states"][:3]
    sleeping = run_child(url, 0, 201)
    assert sleeping["bodies"] == [expected] * 201
    assert sleeping["polls"] == sleeping["spun"] == 0
    # Either way the pool checks the connection before each reuse, however soon after the last response.
    assert polling["checks"] == sleeping["checks"] == 200


@NEEDS_TWO_CPUS
def test_polling_spins_until_the_answer_comes(raw_server) -> None:  # type: ignore[no-untyped-def]
    """A server that answers 0.5 ms after each request, well within the 10 ms budget (the most Limits
    allows): the socket is empty when polling starts, and polling (in C or in Python) spins until the answer
    is there. (With 5 ms, a loaded CI machine once woke the server's thread late for a few answers: each
    poll that ran out made the connection skip polling on its next reads, and 92 of 100 reads were polled.)"""
    server = raw_server(slow_server(0.0005))
    result = run_child(server.url, 0.01, 101)
    assert result["bodies"] == ["late but whole"] * 101
    assert result["polls"] >= 100
    assert result["spun"] >= 90, result["spun"]  # a few reads may find the answer there (a slow child)
    assert server.connection_count == 1


@NEEDS_TWO_CPUS
def test_a_body_that_comes_late_is_waited_for_without_polling(raw_server) -> None:  # type: ignore[no-untyped-def]
    """Only the head is busy-polled: a body that comes 0.2 s after its head is read by sleeping."""

    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
            conn.sleep(0.2)
            conn.send(b"body")

    server = raw_server(handler)
    result = run_child(server.url, 0.01, 2)
    assert result["bodies"] == ["body", "body"]
    assert result["states"] == [[0, 0], [0, 0]]  # no polling gave up (polling for the body would have)


def test_a_server_further_than_the_budget_is_never_polled(nginx) -> None:  # type: ignore[no-untyped-def]
    """A 1 microsecond budget: the TCP handshake, even on loopback, takes longer than ten of them."""
    result = run_child(nginx.http_url + "/data.json", 0.000001, 3)
    assert result["states"] == [[-1, 0]] * 3
    assert result["polls"] == 0
