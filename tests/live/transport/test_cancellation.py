"""Cancellation safety: a cancelled or interrupted request closes or cleanly returns its connection.

Async: 1 000 in-flight requests cancelled at random points (waiting for the pool, connecting, in the TLS
handshake, sending, waiting for the head, in the middle of the body), then every pool slot must be usable
again and no socket may be left open; plus one deterministic test per point. Sync: a KeyboardInterrupt
raised by a hook or by a signal handler while blocked on the network leaves the pool consistent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import h2.errors
import pytest

import brisk
from brisk.testing.server import ServerThread
from servers.h2peer import H2PeerFactory, PeerConnection, echo
from servers.h2peer import h2peer as h2peer  # the fixture  # noqa: PLC0414
from servers.raw import RawConnection, RawServer, RawServerFactory, http_response, respond_ok
from servers.tls import CertBundle

# -- helpers -------------------------------------------------------------------------------------------------


def client_sockets_to(port: int) -> int:
    """How many of this process's file descriptors are TCP sockets connected to ``port`` (client side)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:[") and target[8:-1] in inodes:
                count += 1
    return count


async def settle_sockets(port: int, expected: int, timeout: float = 3.0) -> int:
    """Wait (the loop closes aborted transports' sockets a little later) until ``expected`` sockets remain."""
    deadline = time.monotonic() + timeout
    while (count := client_sockets_to(port)) != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return count


def pool_of(session: brisk.Session | brisk.AsyncSession) -> Any:
    return session._transport._state  # type: ignore[union-attr]


def open_idle(session: brisk.Session | brisk.AsyncSession) -> int:
    """Idle pooled connections whose socket is still open."""
    return sum(not conn.closed for conns in pool_of(session)._idle.values() for conn in conns)


def assert_no_slot_held(session: brisk.Session | brisk.AsyncSession) -> None:
    state = pool_of(session)
    assert state.total == state.idle_count(), f"slots held: total={state.total}, idle={state.idle_count()}"


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A loopback port where connecting hangs (a backlog-0 listener whose accept queue is full)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            fillers.append(filler)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            _, writable, _ = select.select([], [filler], [], 0.3)
            if not writable:
                break
        else:
            pytest.skip("could not fill the accept queue of a backlog-0 listener on this system")
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def mute(conn: RawConnection) -> None:
    """Accept and never answer (a TLS client waits for its ServerHello forever)."""
    conn.sleep(15)


def expected_bytes(seed: int, size: int) -> bytes:
    """What the app's ``/bytes/{size}?seed={seed}`` serves (sizes up to one 64 KiB block)."""
    return random.Random(seed).randbytes(size)


# -- async: the storm ----------------------------------------------------------------------------------------

MAX_CONNECTIONS = 16


def test_cancel_1000_in_flight_requests_at_random_points(
    app_server: ServerThread, raw_server: RawServerFactory, blackhole: int
) -> None:
    tls_mute = raw_server(mute)
    base = app_server.url
    rng = random.Random(20240611)
    upload = b"u" * (4 * 1024 * 1024)

    async def headers(session: brisk.AsyncSession) -> None:
        await session.get(base + "/delay/0.3")

    async def body(session: brisk.AsyncSession) -> None:
        await session.get(base + "/drip", params={"duration": "0.4", "numbytes": "40"})

    async def streamed(session: brisk.AsyncSession) -> None:
        response = await session.get(
            base + "/stream-bytes/300000", params={"chunk_size": "4096"}, stream=True
        )
        async with response:
            async for _ in response.aiter_content(8192):
                await asyncio.sleep(0.005)

    async def sending(session: brisk.AsyncSession) -> None:
        await session.post(base + "/upload", data=upload)

    async def connecting(session: brisk.AsyncSession) -> None:
        await session.get(f"http://127.0.0.1:{blackhole}/", retries=0)

    async def handshaking(session: brisk.AsyncSession) -> None:
        await session.get(f"https://127.0.0.1:{tls_mute.port}/", retries=0)

    async def quick(session: brisk.AsyncSession) -> None:
        await session.get(base + "/get")

    kinds: dict[str, Callable[[brisk.AsyncSession], Coroutine[Any, Any, None]]] = {
        "headers": headers,
        "body": body,
        "streamed": streamed,
        "sending": sending,
        "connecting": connecting,
        "handshaking": handshaking,
        "quick": quick,
    }
    outcomes: dict[str, dict[str, int]] = {kind: {"cancelled": 0, "done": 0} for kind in kinds}
    failures: list[BaseException] = []
    blackhole_sockets = client_sockets_to(blackhole)  # the fixture's own filler connections

    async def storm() -> None:
        limits = brisk.Limits(max_connections=MAX_CONNECTIONS, max_connections_per_host=MAX_CONNECTIONS)
        session = brisk.AsyncSession(limits=limits, timeout=brisk.Timeout(10, pool=10), trust_env=False)
        try:
            for _ in range(5):  # 5 batches of 200 concurrent requests
                tasks: list[tuple[str, asyncio.Task[None]]] = []
                for _ in range(200):
                    kind = rng.choice(list(kinds))
                    task = asyncio.create_task(kinds[kind](session))
                    asyncio.get_running_loop().call_later(rng.uniform(0.0, 0.35), task.cancel)
                    tasks.append((kind, task))
                # Every request is cancelled within 0.35 s; none may run on (a lost cancellation would).
                await asyncio.wait([task for _, task in tasks], timeout=3)
                for kind, task in tasks:
                    assert task.done(), f"a {kind} request outlived its cancellation"
                    if task.cancelled():
                        outcomes[kind]["cancelled"] += 1
                    elif task.exception() is not None:
                        failures.append(task.exception())  # type: ignore[arg-type]
                    else:
                        outcomes[kind]["done"] += 1
            await asyncio.sleep(0)

            # Every slot is back: nothing is counted but idle connections.
            assert_no_slot_held(session)
            assert pool_of(session).total <= MAX_CONNECTIONS
            # No socket leaked: the open client sockets are exactly the pooled idle connections (minus any the
            # server has closed meanwhile; those are found out and dropped when next taken).
            alive = open_idle(session)
            assert await settle_sockets(base_port, alive) == alive
            assert await settle_sockets(tls_mute.port, 0) == 0
            assert await settle_sockets(blackhole, blackhole_sockets) == blackhole_sockets

            # Every slot is usable: MAX_CONNECTIONS requests that each hold a connection for 0.5 s all run at
            # once; a pool wait of 0.1 s fails any request that would have to wait for a lost slot.
            burst = await asyncio.gather(
                *(
                    session.get(base + "/delay/0.5", timeout=brisk.Timeout(10, pool=0.1))
                    for _ in range(MAX_CONNECTIONS)
                )
            )
            assert all(r.status_code == 200 for r in burst)
            assert pool_of(session).total == MAX_CONNECTIONS

            # No half-read connection is ever handed out: every pooled connection serves exact bodies.
            for round_ in range(3):
                seeds = range(round_ * 100, round_ * 100 + 2 * MAX_CONNECTIONS)
                replies = await asyncio.gather(
                    *(session.get(base + "/bytes/3000", params={"seed": str(seed)}) for seed in seeds)
                )
                for seed, reply in zip(seeds, replies, strict=True):
                    assert reply.content == expected_bytes(seed, 3000)
            assert_no_slot_held(session)
        finally:
            await session.close()
        assert await settle_sockets(base_port, 0) == 0, "sockets left open after the session closed"

    base_port = app_server.port
    asyncio.run(storm())
    assert not failures, failures[:5]
    assert sum(o["cancelled"] for o in outcomes.values()) >= 500, outcomes
    assert outcomes["connecting"]["done"] == outcomes["handshaking"]["done"] == 0, outcomes
    for kind in ("connecting", "handshaking", "headers", "body", "streamed", "sending"):
        assert outcomes[kind]["cancelled"] > 0, outcomes


# -- async: one deterministic cancellation per point ---------------------------------------------------------


def hold_body(conn: RawConnection) -> None:
    conn.recv_request()
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"b" * 100)
    conn.wait_closed(timeout=10)


def silent(conn: RawConnection) -> None:
    conn.recv_request()
    conn.wait_closed(timeout=10)


def never_reads(conn: RawConnection) -> None:
    conn.sleep(10)


@pytest.mark.parametrize("point", ["pool-wait", "connect", "tls-handshake", "sending", "head", "mid-body"])
def test_cancelled_request_gives_its_slot_back(
    raw_server: RawServerFactory, blackhole: int, point: str
) -> None:
    servers: dict[str, RawServer] = {
        "tls-handshake": raw_server(mute),
        "sending": raw_server(lambda conn: never_reads(conn) if conn.index == 0 else respond_ok(conn)),
        "head": raw_server(lambda conn: silent(conn) if conn.index == 0 else respond_ok(conn)),
        "mid-body": raw_server(lambda conn: hold_body(conn) if conn.index == 0 else respond_ok(conn)),
        "pool-wait": raw_server(lambda conn: hold_body(conn) if conn.index == 0 else respond_ok(conn)),
    }
    ok_server = raw_server()
    fillers = client_sockets_to(blackhole)

    async def scenario() -> None:
        limits = brisk.Limits(max_connections=2, max_connections_per_host=1)
        session = brisk.AsyncSession(limits=limits, trust_env=False, retries=0)
        try:
            held = None
            if point == "pool-wait":
                held = await session.get(servers[point].url + "/", stream=True)
                target = servers[point].url + "/"
            elif point == "connect":
                target = f"http://127.0.0.1:{blackhole}/"
            elif point == "tls-handshake":
                target = f"https://127.0.0.1:{servers[point].port}/"
            else:
                target = servers[point].url + "/"
            if point == "sending":
                request = session.post(target, data=b"s" * (32 * 1024 * 1024))
            else:
                request = session.get(target)
            task = asyncio.create_task(request)
            await asyncio.sleep(0.3)
            assert not task.done(), "the request should still be in progress"
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            if held is not None:
                await held.aclose()
            assert_no_slot_held(session)
            assert pool_of(session).total == 0
            port = blackhole if point == "connect" else servers[point].port
            expected = fillers if point == "connect" else 0
            assert await settle_sockets(port, expected) == expected, (
                "the cancelled request left a socket open"
            )
            # Both slots are usable: two requests to two hosts at the same time.
            replies = await asyncio.gather(
                session.get(ok_server.url + "/"),
                session.get(servers["mid-body"].url + "/")
                if point == "mid-body"
                else session.get(raw_server().url + "/"),
            )
            assert [r.content for r in replies] == [b"ok", b"ok"]
        finally:
            await session.close()

    asyncio.run(scenario())


# -- sync: KeyboardInterrupt ---------------------------------------------------------------------------------


@contextlib.contextmanager
def interrupt_after(seconds: float) -> Iterator[None]:
    """Raise KeyboardInterrupt in the main thread after ``seconds``, from a signal handler (SIGUSR1, so
    pytest-timeout's SIGALRM is left alone)."""
    assert threading.current_thread() is threading.main_thread()

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGUSR1))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGUSR1, previous)


def drip_body(conn: RawConnection) -> None:
    conn.recv_request()
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(100):
        conn.send(b"d")
        conn.sleep(0.05)


def closed_flag(
    handler: Callable[[RawConnection], None], closed: threading.Event
) -> Callable[[RawConnection], None]:
    def wrapped(conn: RawConnection) -> None:
        if conn.index:
            respond_ok(conn)
            return
        with contextlib.suppress(OSError):
            handler(conn)
            conn.wait_closed(timeout=5)
        closed.set()

    return wrapped


@pytest.mark.parametrize("where", ["head", "body", "streamed-body"])
def test_keyboard_interrupt_from_signal_while_reading(raw_server: RawServerFactory, where: str) -> None:
    closed = threading.Event()
    server = raw_server(closed_flag(silent if where == "head" else drip_body, closed))

    def read(session: brisk.Session) -> None:
        if where == "streamed-body":
            with session.get(server.url + "/", stream=True) as response:
                for _ in response.iter_content(1):
                    pass
        else:
            session.get(server.url + "/")

    with brisk.Session() as session:
        with interrupt_after(0.3), pytest.raises(KeyboardInterrupt):
            read(session)
        assert closed.wait(5), "the interrupted connection was not closed"
        assert_no_slot_held(session)
        assert pool_of(session).total == 0
        assert session.get(server.url + "/").content == b"ok"
        assert server.connection_count == 2


def test_keyboard_interrupt_from_signal_while_connecting(
    blackhole: int, raw_server: RawServerFactory
) -> None:
    server = raw_server()
    limits = brisk.Limits(max_connections=1)
    with brisk.Session(limits=limits, timeout=brisk.Timeout(5, pool=0.5)) as session:
        with interrupt_after(0.3), pytest.raises(KeyboardInterrupt):
            session.get(f"http://127.0.0.1:{blackhole}/", retries=0)
        assert pool_of(session).total == 0
        assert session.get(server.url + "/").content == b"ok"  # the only slot is free


def test_keyboard_interrupt_from_signal_while_waiting_for_the_pool(raw_server: RawServerFactory) -> None:
    closed = threading.Event()
    server = raw_server(closed_flag(drip_body, closed))
    limits = brisk.Limits(max_connections_per_host=1)
    with brisk.Session(limits=limits, timeout=brisk.Timeout(5, pool=5)) as session:
        held = session.get(server.url + "/", stream=True)
        with interrupt_after(0.3), pytest.raises(KeyboardInterrupt):
            session.get(server.url + "/")
        assert pool_of(session).total == 1  # only the held connection
        held.close()
        assert closed.wait(5)
        assert_no_slot_held(session)
        assert session.get(server.url + "/").content == b"ok"


def test_keyboard_interrupt_from_response_hook(raw_server: RawServerFactory) -> None:
    """The hook runs before the body is read: the unread connection must be closed, not pooled."""
    closed = threading.Event()
    server = raw_server(closed_flag(drip_body, closed))

    def hook(response: brisk.Response, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    with brisk.Session() as session:
        with pytest.raises(KeyboardInterrupt):
            session.get(server.url + "/", hooks={"response": hook})
        assert closed.wait(5)
        assert_no_slot_held(session)
        assert pool_of(session).total == 0
        assert session.get(server.url + "/").content == b"ok"


def test_keyboard_interrupt_in_hook_after_complete_body_keeps_connection(
    raw_server: RawServerFactory,
) -> None:
    """A complete response interrupted in a hook: nothing is half-read, the connection may stay pooled."""

    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(200, b"ok"))

    server = raw_server(handler)
    interrupted = [False]

    def hook(response: brisk.Response, **kwargs: Any) -> None:
        if not interrupted[0]:
            interrupted[0] = True
            raise KeyboardInterrupt

    with brisk.Session() as session:
        with pytest.raises(KeyboardInterrupt):
            session.get(server.url + "/", hooks={"response": hook})
        assert_no_slot_held(session)
        assert session.get(server.url + "/").content == b"ok"
        assert server.connection_count <= 2


# -- HTTP/2: one stream cancelled, the connection shared by others ------------------------------------------


def answer_all_but_hold(conn: PeerConnection) -> None:
    """Answer every request at once except ``/hold``, which never gets a response."""
    while not conn.peer.stopping.is_set() and not conn.eof:
        while conn.pending:
            request = conn.pending.popleft()
            if request.path != "/hold":
                conn.respond(request.stream_id, *echo(request))
        conn.pump(0.05)


def wait_for_reset(conn: PeerConnection, path: str, timeout: float = 3.0) -> int | None:
    """The error code of the client's RST_STREAM for the stream that asked for ``path`` (None if none)."""
    (stream_id,) = [r.stream_id for r in conn.peer.requests if r.path == path]
    deadline = time.monotonic() + timeout
    while stream_id not in conn.resets_received and time.monotonic() < deadline:
        time.sleep(0.02)
    return conn.resets_received.get(stream_id)


def test_cancelled_http2_stream_is_reset_and_the_connection_keeps_serving(
    h2peer: H2PeerFactory, good_cert: CertBundle
) -> None:
    peer = h2peer(then=answer_all_but_hold)

    async def scenario() -> None:
        session = brisk.AsyncSession(verify=str(good_cert.ca_bundle), trust_env=False, retries=0)
        try:
            assert (await session.get(peer.url + "/warm")).http_version == "HTTP/2"
            held = asyncio.create_task(session.get(peer.url + "/hold"))
            await asyncio.sleep(0.3)
            assert not held.done(), "the request should still be waiting for its response"
            assert (await session.get(peer.url + "/beside")).status_code == 200  # shares the connection
            held.cancel()
            with pytest.raises(asyncio.CancelledError):
                await held
            code = await asyncio.to_thread(wait_for_reset, peer.connections[0], "/hold")
            assert code == h2.errors.ErrorCodes.CANCEL, "the cancelled stream was not reset"
            assert (await session.get(peer.url + "/after")).status_code == 200
            assert peer.connection_count == 1  # one connection served all four
            state = pool_of(session)
            assert state.total == 1
            (shared,) = [conn for conns in state._shared.values() for conn in conns]
            assert shared.h2.open_streams == 0
        finally:
            await session.close()

    asyncio.run(scenario())


def test_keyboard_interrupt_on_http2_stream_leaves_the_pool_consistent(
    h2peer: H2PeerFactory, good_cert: CertBundle
) -> None:
    peer = h2peer(then=answer_all_but_hold)
    with brisk.Session(verify=str(good_cert.ca_bundle), trust_env=False, retries=0) as session:
        assert session.get(peer.url + "/warm").http_version == "HTTP/2"
        with interrupt_after(0.3), pytest.raises(KeyboardInterrupt):
            session.get(peer.url + "/hold")
        # The interrupted stream must not stay open on a pooled connection: either it was reset and the
        # connection kept, or the connection was closed.
        state = pool_of(session)
        shared = [conn for conns in state._shared.values() for conn in conns]
        assert all(conn.h2.open_streams == 0 for conn in shared)
        assert state.total == len(shared) + state.idle_count()
        response = session.get(peer.url + "/after")
        assert response.status_code == 200
        assert response.http_version == "HTTP/2"
        if peer.connection_count == 1:
            assert wait_for_reset(peer.connections[0], "/hold") == h2.errors.ErrorCodes.CANCEL
        else:
            assert peer.connections[0].closed_by_client.wait(3)
