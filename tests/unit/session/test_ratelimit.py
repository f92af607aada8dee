"""``RateLimit``, the per-origin token bucket, on a clock the test controls (``reserve(origin, now)``)."""

from __future__ import annotations

import threading
import time

import pytest

from brisk._session.ratelimit import RateLimit

ORIGIN = ("https", "a.example", 443)


def test_first_request_is_free_then_spaced_by_the_rate() -> None:
    limit = RateLimit(4)  # one every 0.25 s
    assert limit.reserve(ORIGIN, now=100.0) == 0.0
    assert limit.reserve(ORIGIN, now=100.0) == pytest.approx(0.25)
    assert limit.reserve(ORIGIN, now=100.0) == pytest.approx(0.5), "each waiter is queued behind the last"


def test_waits_shrink_as_time_passes() -> None:
    limit = RateLimit(2)  # one every 0.5 s
    limit.reserve(ORIGIN, now=0.0)
    assert limit.reserve(ORIGIN, now=0.2) == pytest.approx(0.3)
    assert limit.reserve(ORIGIN, now=5.0) == 0.0, "the bucket refilled meanwhile"


def test_burst_lets_that_many_through_at_once() -> None:
    limit = RateLimit(10, burst=3)
    waits = [limit.reserve(ORIGIN, now=0.0) for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.1)
    assert waits[4] == pytest.approx(0.2)


def test_burst_refills_at_the_rate_not_at_once() -> None:
    limit = RateLimit(10, burst=3)
    for _ in range(3):
        limit.reserve(ORIGIN, now=0.0)
    assert limit.reserve(ORIGIN, now=0.1) == pytest.approx(0.0, abs=1e-9), "one token back after 0.1 s"
    assert limit.reserve(ORIGIN, now=0.1) == pytest.approx(0.1), "only one"


def test_an_idle_origin_does_not_bank_more_than_the_burst() -> None:
    limit = RateLimit(10, burst=2)
    limit.reserve(ORIGIN, now=0.0)
    waits = [limit.reserve(ORIGIN, now=1000.0) for _ in range(3)]
    assert waits[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(0.1)


def test_origins_have_separate_buckets() -> None:
    limit = RateLimit(1)
    assert limit.reserve(ORIGIN, now=0.0) == 0.0
    assert limit.reserve(("https", "b.example", 443), now=0.0) == 0.0
    assert limit.reserve(("http", "a.example", 80), now=0.0) == 0.0
    assert limit.reserve(ORIGIN, now=0.0) == pytest.approx(1.0)


def test_default_clock_is_monotonic(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [50.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    limit = RateLimit(2)
    assert limit.reserve(ORIGIN) == 0.0
    assert limit.reserve(ORIGIN) == pytest.approx(0.5)
    clock[0] += 10
    assert limit.reserve(ORIGIN) == 0.0


def test_threads_each_get_their_own_slot() -> None:
    limit = RateLimit(100)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        wait = limit.reserve(ORIGIN, now=0.0)
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([i * 0.01 for i in range(20)]), "no slot handed out twice"


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_invalid_settings(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimit(rate, burst=burst)


def test_repr() -> None:
    assert repr(RateLimit(2.5, burst=4)) == "RateLimit(2.5/s, burst=4)"
