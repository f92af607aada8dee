"""The C accelerator's ``exchange``: a request head sent and the first read of its answer, on a real socket.

Each outcome the Python caller (``brisk._transport.sync.h1._exchange_in_c``) handles is produced here on a
socket pair: data, EOF, a failed send, a read timeout by the kernel, busy polling that succeeds or gives up,
a signal handler's exception, and the refusal of limits C does not take. The exchanges of whole sessions on
both paths are the live suites' (CI runs them with the accelerator and, on 3.13, without it).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

REQUIRED = os.environ.get("BRISK_ACCELERATOR_REQUIRED", "") not in ("", "0")  # set by .ci/run
try:
    from brisk._protocol._speedups import exchange
except ImportError:  # a build without a compiler, or a platform without exchange()
    if REQUIRED:
        raise
    pytest.skip("the C accelerator's exchange() is not built here", allow_module_level=True)

HEAD = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\n\r\nhello"
LIMITS = (65536, 8190, 100)
GOT_DATA, GOT_EOF, SEND_FAILED, RECV_FAILED = 0, 1, 2, 3
NOT_POLLED, POLLED, POLLED_IN_VAIN = 0, 1, 2


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def read_timeout(sock: socket.socket, seconds: float) -> None:
    whole = int(seconds)
    sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", whole, int((seconds - whole) * 1e6))
    )


def test_the_head_is_sent_and_the_answer_read_and_parsed(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    theirs.sendall(ANSWER)  # already there: the read does not wait
    before = time.monotonic()
    outcome, error, sent_at, polled, data, found = exchange(ours.fileno(), HEAD, 65536, 0.0, *LIMITS)
    assert (outcome, error, polled, data) == (GOT_DATA, 0, NOT_POLLED, ANSWER)
    assert before <= sent_at <= time.monotonic()  # the clock of time.monotonic()
    assert theirs.recv(1000) == HEAD
    assert found == (len(ANSWER) - 5, 200, "OK", b"\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\n", 5, False,
                     frozenset({"content-encoding"}))  # fmt: skip


def test_one_read_of_at_most_recv_size_bytes(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    theirs.sendall(ANSWER)
    outcome, _, _, _, data, found = exchange(ours.fileno(), HEAD, 10, 0.0, *LIMITS)
    assert (outcome, data, found) == (GOT_DATA, ANSWER[:10], None)  # the Python reader goes on from here
    assert ours.recv(1000) == ANSWER[10:]


def test_an_unusual_head_is_read_but_left_to_the_python_parser(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, theirs = pair
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    theirs.sendall(chunked)
    outcome, _, _, _, data, found = exchange(ours.fileno(), HEAD, 65536, 0.0, *LIMITS)
    assert (outcome, data, found) == (GOT_DATA, chunked, None)


def test_eof_is_reported(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    theirs.shutdown(socket.SHUT_WR)
    outcome, error, _, _, data, found = exchange(ours.fileno(), HEAD, 65536, 0.0, *LIMITS)
    assert (outcome, error, data, found) == (GOT_EOF, 0, b"", None)
    assert theirs.recv(1000) == HEAD  # the head went out before the read met EOF


def test_a_failed_send_is_reported_without_reading(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    theirs.close()
    outcome, error, _, polled, data, found = exchange(ours.fileno(), HEAD, 65536, 0.01, *LIMITS)
    assert (outcome, polled, data, found) == (SEND_FAILED, NOT_POLLED, b"", None)
    assert error in (errno.EPIPE, errno.ECONNRESET)


def test_the_kernels_read_timeout_is_reported_as_eagain(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, _ = pair
    read_timeout(ours, 0.05)
    started = time.monotonic()
    outcome, error, _, _, data, _ = exchange(ours.fileno(), HEAD, 65536, 0.0, *LIMITS)
    assert (outcome, data) == (RECV_FAILED, b"")
    assert error in (errno.EAGAIN, errno.EWOULDBLOCK)
    assert time.monotonic() - started >= 0.04


def test_busy_polling_ends_when_the_answer_comes(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    timer = threading.Timer(0.05, theirs.sendall, (ANSWER,))
    timer.start()
    started = time.monotonic()
    outcome, _, _, polled, data, _ = exchange(ours.fileno(), HEAD, 65536, 30.0, *LIMITS)
    waited = time.monotonic() - started
    timer.join()
    assert (outcome, polled, data) == (GOT_DATA, POLLED, ANSWER)
    assert waited < 15.0  # not the whole 30 s budget


def test_busy_polling_in_vain_then_the_read_waits(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    timer = threading.Timer(0.1, theirs.sendall, (ANSWER,))
    timer.start()
    outcome, _, _, polled, data, _ = exchange(ours.fileno(), HEAD, 65536, 0.001, *LIMITS)
    timer.join()
    assert (outcome, polled, data) == (GOT_DATA, POLLED_IN_VAIN, ANSWER)


def test_an_answer_already_there_is_not_polled_for(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    theirs.sendall(ANSWER)
    assert exchange(ours.fileno(), HEAD, 65536, 30.0, *LIMITS)[3] == NOT_POLLED


@pytest.mark.parametrize("limits", [(65536.0, 8190, 100), (65536, 8190, 2**80), (65536, True, 100)])
def test_limits_that_are_not_plain_ints_are_declined_before_sending(
    pair: tuple[socket.socket, socket.socket], limits: tuple[object, ...]
) -> None:
    ours, theirs = pair
    assert exchange(ours.fileno(), HEAD, 65536, 0.0, *limits) is None
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(1000)  # nothing was sent


@pytest.mark.parametrize(
    ("fd", "head", "size"), [(-1, HEAD, 10), (0, "text", 10), (0, HEAD, 0), (2**40, HEAD, 10)]
)
def test_wrong_arguments_are_refused(fd: int, head: object, size: int) -> None:
    with pytest.raises((ValueError, OverflowError)):
        exchange(fd, head, size, 0.0, *LIMITS)


class Interrupted(Exception):
    pass


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals: main thread")
def test_a_signal_handlers_exception_ends_a_waiting_read(pair: tuple[socket.socket, socket.socket]) -> None:
    """A blocked recv() returns EINTR for the signal; its handler runs and what it raises propagates, as
    from Python's own socket calls (Ctrl-C stops a waiting request)."""
    ours, _ = pair

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(Interrupted):
            exchange(ours.fileno(), HEAD, 65536, 0.0, *LIMITS)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals: main thread")
def test_a_signal_whose_handler_returns_lets_the_read_go_on(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, theirs = pair
    calls = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: calls.append(signum))
    timer = threading.Timer(0.15, theirs.sendall, (ANSWER,))
    try:
        timer.start()
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        outcome, _, _, _, data, _ = exchange(ours.fileno(), HEAD, 65536, 0.0, *LIMITS)
    finally:
        timer.join()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert calls == [signal.SIGALRM]
    assert (outcome, data) == (GOT_DATA, ANSWER)


def test_other_threads_run_while_it_waits(pair: tuple[socket.socket, socket.socket]) -> None:
    """The GIL is released around each system call: a thread answers while exchange() waits."""
    ours, theirs = pair
    answered = threading.Thread(target=lambda: (theirs.recv(1000), theirs.sendall(ANSWER)))
    answered.start()
    outcome, _, _, _, data, _ = exchange(ours.fileno(), HEAD, 65536, 0.0, *LIMITS)
    answered.join()
    assert (outcome, data) == (GOT_DATA, ANSWER)


def test_a_reset_is_reported_with_its_errno() -> None:
    """A TCP RST (SO_LINGER 0) makes the read fail with ECONNRESET: RECV_FAILED, for Python to judge."""
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        ours = socket.create_connection(listener.getsockname())
        theirs, _ = listener.accept()
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        timer = threading.Timer(0.05, theirs.close)
        timer.start()
        outcome, error, _, _, data, found = exchange(ours.fileno(), HEAD, 65536, 0.0, *LIMITS)
        timer.join()
        ours.close()
    finally:
        listener.close()
    assert (outcome, error, data, found) == (RECV_FAILED, errno.ECONNRESET, b"", None)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals: main thread")
def test_a_signal_during_busy_polling_is_handled_before_the_read_waits(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """The handler runs once polling ends, not after a read that could wait for ever (no read timeout)."""
    ours, _ = pair

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, handler)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        with pytest.raises(Interrupted):
            exchange(ours.fileno(), HEAD, 65536, 0.1, *LIMITS)  # polls for 0.1 s, then would wait for ever
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 5.0
