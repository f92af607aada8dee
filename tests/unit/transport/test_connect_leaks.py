"""No socket is left open by the end of a connect that goes wrong: a winner whose options cannot be set
(``AddressLoop.connected``), and a winner whose race is cancelled while the losers stop (the asyncio
driver). Sockets and the asyncio driver's ``sock_connect`` are fakes; nothing touches the network."""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import brisk
from brisk._transport.asyncio import connect as async_connect
from brisk._transport.base import ConnectionConfig, NetworkOptions, SendOptions, Timings
from brisk._transport.connect import AddressLoop
from brisk._transport.sync import connect as sync_connect
from brisk.exceptions import ConnectionError

DEAD = "dead"  # connects, then setsockopt fails (EINVAL: the peer reset it already, on some platforms)
OK = "ok"  # connects
SLOW = "slow"  # never connects; once cancelled, takes a while to stop


class FakeSocket:
    made: list[FakeSocket] = []
    kinds: dict[str, str] = {}

    def __init__(self, family: int, kind: int, proto: int) -> None:
        self.closed = False
        self.kind = OK
        FakeSocket.made.append(self)

    def close(self) -> None:
        self.closed = True

    def setblocking(self, flag: bool) -> None:
        pass

    def settimeout(self, value: float | None) -> None:
        pass

    def _connect(self, address: tuple[Any, ...]) -> None:
        self.kind = FakeSocket.kinds[address[0]]

    def connect(self, address: tuple[Any, ...]) -> None:
        self._connect(address)

    def connect_ex(self, address: tuple[Any, ...]) -> int:
        self._connect(address)
        return 0

    def setsockopt(self, level: int, name: int, value: int) -> None:
        if self.kind == DEAD:
            raise OSError(errno.EINVAL, "Invalid argument")


@contextmanager
def fake_sockets(**kinds: str) -> Iterator[None]:
    """``socket.socket`` is FakeSocket; ``kinds``: how each address (127_0_0_2 for 127.0.0.2) behaves."""
    FakeSocket.made = []
    FakeSocket.kinds = {key.replace("_", "."): kind for key, kind in kinds.items()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "socket", FakeSocket)
        yield


def options_for(addresses: list[str], delay: float | None = 0.25) -> SendOptions:
    network = NetworkOptions(resolve=(("h.test", tuple(addresses)),), happy_eyeballs_delay=delay)
    return SendOptions(timeout=brisk.Timeout(30, connect=5.0), config=ConnectionConfig(network=network))


# -- a winner whose options cannot be set --------------------------------------------------------------------


def test_a_dead_winner_is_closed_and_counts_as_a_failed_attempt() -> None:
    with fake_sockets(**{"127_0_0_2": DEAD}):
        attempts = AddressLoop("h.test", 80, options_for(["127.0.0.2"]), Timings(0.0))
        assert attempts.addresses is not None
        attempts.resolved(attempts.addresses)
        started = attempts.start_next()
        assert started is not None
        started[0].connect(started[1])
        assert attempts.connected(started[0]) is None
        assert started[0].closed  # type: ignore[attr-defined]
        with pytest.raises(
            ConnectionError, match=r"could not connect to h\.test:80: .*Invalid argument"
        ) as caught:
            attempts.wait_time()
        assert isinstance(caught.value.__cause__, OSError)
        assert caught.value.__cause__.errno == errno.EINVAL


def test_sync_one_address_a_dead_winner_is_a_connection_error() -> None:
    with fake_sockets(**{"127_0_0_2": DEAD}), pytest.raises(ConnectionError, match="Invalid argument"):
        sync_connect.connect_tcp("h.test", 80, options_for(["127.0.0.2"]), Timings(0.0))
    assert [sock.closed for sock in FakeSocket.made] == [True]


def test_sync_race_a_dead_winner_gives_way_to_the_next_address() -> None:
    with fake_sockets(**{"127_0_0_2": DEAD, "127_0_0_3": OK}):
        sock = sync_connect.connect_tcp("h.test", 80, options_for(["127.0.0.2", "127.0.0.3"]), Timings(0.0))
    first, second = FakeSocket.made
    assert sock is second
    assert first.closed
    assert not second.closed


class FakeLoop:
    """What the asyncio driver asks of its loop: ``sock_connect``, behaving as the address's kind says."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()  # a SLOW attempt was cancelled
        self.release = asyncio.Event()  # ... and may finish stopping

    async def sock_connect(self, sock: FakeSocket, address: tuple[Any, ...]) -> None:
        sock._connect(address)
        if sock.kind != SLOW:
            return
        try:
            await asyncio.Event().wait()  # never connects
        except asyncio.CancelledError:
            self.stopping.set()
            await self.release.wait()
            raise


def test_async_race_a_dead_winner_gives_way_to_the_next_address() -> None:
    async def main() -> None:
        with fake_sockets(**{"127_0_0_2": DEAD, "127_0_0_3": OK}):
            options = options_for(["127.0.0.2", "127.0.0.3"])
            loop: Any = FakeLoop()
            sock = await async_connect.connect_tcp("h.test", 80, options, Timings(0.0), loop)
        first, second = FakeSocket.made
        assert sock is second
        assert first.closed
        assert not second.closed

    asyncio.run(main())


# -- cancelled while the losers stop -------------------------------------------------------------------------


def test_async_race_cancelled_while_the_losers_stop_closes_the_winner() -> None:
    """The winner is out of the attempts ``close`` closes once connected; the race then waits for the
    losers to stop. A cancellation then (asyncio.timeout around the request) replaces the return value:
    the winner must be closed, not dropped."""

    async def main() -> None:
        loop: Any = FakeLoop()
        with fake_sockets(**{"127_0_0_2": SLOW, "127_0_0_3": OK}):
            options = options_for(["127.0.0.2", "127.0.0.3"], delay=0.01)
            connecting = async_connect.connect_tcp("h.test", 80, options, Timings(0.0), loop)
            task = asyncio.ensure_future(connecting)
            await loop.stopping.wait()  # the second address won; the first is being stopped
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        slow, winner = FakeSocket.made
        assert winner.kind == OK
        assert winner.closed
        assert slow.closed
        loop.release.set()  # let the loser's task finish before the loop closes
        await asyncio.sleep(0)

    asyncio.run(main())
