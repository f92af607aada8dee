"""``PoolState``, the pool's bookkeeping, with fake connections: no socket, no lock, no clock (times are
passed in). The sync and the async pools both follow these decisions."""

from __future__ import annotations

from brisk._core.config import Limits
from brisk._transport.pool import PoolState

A, B, C = ("https", "a.example", 443), ("https", "b.example", 443), ("https", "c.example", 443)


class FakeConnection:
    """What PoolState asks of a connection; HTTP/2 ones count their streams."""

    def __init__(self, name: str, multiplexed: bool = False, max_streams: int = 1) -> None:
        self.name = name
        self.idle_since = 0.0
        self.multiplexed = multiplexed
        self.max_streams = max_streams
        self.open_streams = 0
        self.alive = True

    def has_capacity(self) -> bool:
        return self.alive and self.open_streams < self.max_streams

    def looks_alive(self) -> bool:
        return self.alive

    def __repr__(self) -> str:
        return f"<{self.name}>"


def pool(**limits: float) -> PoolState[FakeConnection]:
    return PoolState(Limits(**limits))  # type: ignore[arg-type]


def open_new(state: PoolState[FakeConnection], key: object, conn: FakeConnection, now: float = 0.0) -> None:
    """Acquire a slot for a new connection and open ``conn`` in it."""
    found, may_open, to_close = state.acquire(key, now)
    assert (found, may_open, to_close) == (None, True, [])
    state.opened(key, conn)


def test_a_released_connection_is_reused() -> None:
    state = pool()
    conn = FakeConnection("one")
    open_new(state, A, conn)
    assert state.release(A, conn, reusable=True, now=5.0) is False
    assert conn.idle_since == 5.0
    assert state.idle_count(A) == 1
    assert state.acquire(A, now=6.0) == (conn, False, [])
    assert state.idle_count(A) == 0
    assert state.count(A) == 1, "one connection, in use again"


def test_an_unreusable_connection_is_closed_and_its_slot_freed() -> None:
    state = pool()
    conn = FakeConnection("one")
    open_new(state, A, conn)
    assert state.release(A, conn, reusable=False, now=1.0) is True
    assert (state.count(A), state.total, state.idle_count()) == (0, 0, 0)


def test_most_recently_used_first() -> None:
    state = pool()
    old, new = FakeConnection("old"), FakeConnection("new")
    open_new(state, A, old)
    open_new(state, A, new)
    state.release(A, old, reusable=True, now=1.0)
    state.release(A, new, reusable=True, now=2.0)
    found, _, _ = state.acquire(A, now=3.0)
    assert found is new


def test_idle_connections_expire() -> None:
    state = pool(idle_timeout=10)
    old, fresh = FakeConnection("old"), FakeConnection("fresh")
    open_new(state, A, old)
    open_new(state, A, fresh)
    state.release(A, old, reusable=True, now=0.0)
    state.release(A, fresh, reusable=True, now=20.0)
    assert state.acquire(A, now=25.0) == (fresh, False, []), "the warmest first"
    found, may_open, to_close = state.acquire(A, now=26.0)
    assert (found, may_open, to_close) == (None, True, [old]), "too old: closed, and a new one may open"
    assert state.count(A) == 2, "fresh in use, and the slot reserved for the new one"


def test_expired_only_connections_make_way_for_a_new_one() -> None:
    state = pool(idle_timeout=10)
    conn = FakeConnection("one")
    open_new(state, A, conn)
    state.release(A, conn, reusable=True, now=0.0)
    assert state.acquire(A, now=10.0) == (conn, False, []), "exactly idle_timeout old: still reused"
    state.release(A, conn, reusable=True, now=0.0)
    assert state.acquire(A, now=10.5) == (None, True, [conn])


def test_per_host_cap_makes_requests_wait() -> None:
    state = pool(max_connections_per_host=2)
    first, second = FakeConnection("1"), FakeConnection("2")
    open_new(state, A, first)
    open_new(state, A, second)
    assert state.acquire(A, now=0.0) == (None, False, []), "at the cap: wait"
    open_new(state, B, FakeConnection("b"))  # another host has its own cap
    state.release(A, first, reusable=True, now=1.0)
    assert state.acquire(A, now=1.0) == (first, False, []), "the waiter gets the released connection"


def test_a_slot_is_reserved_while_a_connection_is_opening() -> None:
    state = pool(max_connections_per_host=1)
    assert state.acquire(A, now=0.0) == (None, True, [])
    assert state.acquire(A, now=0.0) == (None, False, []), "the opening connection counts"
    state.discard(A)  # it failed to open
    assert state.acquire(A, now=0.0) == (None, True, [])


def test_total_cap_evicts_the_oldest_idle_connection_of_another_host() -> None:
    state = pool(max_connections=2)
    a, b = FakeConnection("a"), FakeConnection("b")
    open_new(state, A, a)
    open_new(state, B, b)
    state.release(B, b, reusable=True, now=1.0)
    state.release(A, a, reusable=True, now=2.0)
    assert state.acquire(C, now=3.0) == (None, True, [b])
    assert (state.count(B), state.count(C), state.total) == (0, 1, 2)


def test_total_cap_waits_when_nothing_is_idle_elsewhere() -> None:
    state = pool(max_connections=2)
    open_new(state, A, FakeConnection("a1"))
    mine = FakeConnection("b")
    open_new(state, B, mine)
    state.release(B, mine, reusable=True, now=0.0)
    assert state.acquire(C, now=0.0) == (None, True, [mine])
    assert state.acquire(C, now=0.0) == (None, False, []), "everything busy: wait"


def test_multiplexed_connection_is_shared_while_it_has_streams() -> None:
    state = pool()
    h2 = FakeConnection("h2", multiplexed=True, max_streams=2)
    open_new(state, A, h2)
    h2.open_streams = 1
    assert state.acquire(A, now=0.0) == (h2, False, []), "a free stream: shared"
    h2.open_streams = 2
    assert state.acquire(A, now=0.0) == (None, True, []), "full: a second connection may open"
    assert state.speaks_multiplexed(A)


def test_multiplexed_connection_slot_is_given_back_once() -> None:
    state = pool()
    h2 = FakeConnection("h2", multiplexed=True, max_streams=5)
    open_new(state, A, h2)
    h2.open_streams = 2
    assert state.release(A, h2, reusable=True, now=0.0) is False
    assert state.count(A) == 1
    # The connection breaks: the first stream to see it gives the slot back, the last one closes it.
    assert state.release(A, h2, reusable=False, now=0.0) is False, "another stream is still open"
    assert (state.count(A), state.total) == (0, 0)
    h2.open_streams = 0
    assert state.release(A, h2, reusable=False, now=0.0) is True
    assert (state.count(A), state.total) == (0, 0), "not given back twice"
    state.discard(A, h2)
    assert state.total == 0


def test_a_multiplexed_connection_given_up_closes_with_its_last_stream_even_a_reusable_one() -> None:
    """One stream gives the connection up (it lost a QUIC race, or broke) while another still uses it:
    the pool forgets it at once, and when the other stream ends, fine as it is, the connection is
    closed, since nothing holds it any more."""
    state = pool()
    h2 = FakeConnection("h2", multiplexed=True, max_streams=5)
    open_new(state, A, h2)
    h2.open_streams = 1
    assert state.release(A, h2, reusable=False, now=0.0) is False, "the other stream is still open"
    assert (state.count(A), state.total) == (0, 0)
    h2.open_streams = 0
    assert state.release(A, h2, reusable=True, now=0.0) is True, "out of the pool: the last stream closes it"
    assert state.total == 0


def test_dead_multiplexed_connection_is_dropped_on_acquire() -> None:
    state = pool()
    h2 = FakeConnection("h2", multiplexed=True)
    open_new(state, A, h2)
    h2.alive = False
    assert state.acquire(A, now=0.0) == (None, True, [h2])
    assert not state.speaks_multiplexed(A)


def test_requests_wait_for_a_first_connection_that_may_speak_http2() -> None:
    state = pool()
    assert state.acquire(A, now=0.0, may_multiplex=True) == (None, True, [])
    assert state.acquire(A, now=0.0, may_multiplex=True) == (None, False, []), "wait for it"
    state.opened(A, FakeConnection("h1"))  # ALPN chose HTTP/1.1
    second = state.acquire(A, now=0.0, may_multiplex=True)
    assert second == (None, True, []), "an HTTP/1.1 origin: connections open in parallel"
    assert state.acquire(A, now=0.0, may_multiplex=True) == (None, True, []), "remembered while opening"


def test_drain_forgets_everything() -> None:
    state = pool()
    idle, h2 = FakeConnection("idle"), FakeConnection("h2", multiplexed=True)
    open_new(state, A, idle)
    open_new(state, B, h2)
    state.release(A, idle, reusable=True, now=0.0)
    assert sorted(state.drain(), key=repr) == [h2, idle]
    assert (state.total, state.count(A), state.idle_count()) == (0, 0, 0)
    assert state.acquire(A, now=0.0) == (None, True, [])
