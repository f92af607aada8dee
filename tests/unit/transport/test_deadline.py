"""``brisk._transport.deadline``: how long each wait may take (its phase's timeout, cut short by the total
deadline) and what is raised when it ran out. The clock is a fake (the module's ``time``), never slept on."""

from __future__ import annotations

import pytest

from brisk import Timeout
from brisk._transport import deadline as deadline_module
from brisk._transport.base import SendOptions
from brisk._transport.deadline import (
    H2_FLOW_CONTROL,
    H2_SETTINGS,
    H2_STREAM,
    POOL,
    READING_BODY,
    SENDING,
    WAITING_FOR_RESPONSE,
    Phase,
    WaitLimit,
    budget,
    connecting,
    timeout_message,
)
from brisk.exceptions import ConnectTimeout, PoolTimeout, ReadTimeout, RequestException, WriteTimeout


class Clock:
    """A stand-in for the ``time`` module: ``monotonic()`` returns ``now``, moved by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(deadline_module, "time", fake)
    return fake


# Every phase a different number of seconds, so that the value returned names the phase that applied.
# (Timeout keeps its values as floats: the messages say "2.0s".)
PHASES = Timeout(connect=1.0, read=2.0, write=3.0, pool=4.0, total=20.0)


def options_with_total(clock: Clock, timeout: Timeout = PHASES) -> SendOptions:
    """SendOptions as a session builds them: the deadline is ``now + Timeout.total``."""
    assert timeout.total is not None
    return SendOptions(timeout, deadline=clock.now + timeout.total)


# budget()


def test_budget_without_a_deadline_is_the_phase_timeout_unchanged(clock: Clock) -> None:
    assert budget(7.5, None, ReadTimeout, "reading") == 7.5
    assert budget(None, None, ReadTimeout, "reading") is None, "no phase timeout and no deadline: no limit"


def test_budget_is_the_time_left_when_the_deadline_comes_first(clock: Clock) -> None:
    assert budget(10.0, clock.now + 3.0, ReadTimeout, "reading") == pytest.approx(3.0)


def test_budget_is_the_phase_timeout_when_it_ends_before_the_deadline(clock: Clock) -> None:
    assert budget(2.0, clock.now + 30.0, ReadTimeout, "reading") == 2.0


def test_budget_without_a_phase_timeout_is_the_time_left(clock: Clock) -> None:
    assert budget(None, clock.now + 4.0, ReadTimeout, "reading") == pytest.approx(4.0)


def test_budget_follows_the_clock(clock: Clock) -> None:
    deadline = clock.now + 10.0
    assert budget(None, deadline, ReadTimeout, "reading") == pytest.approx(10.0)
    clock.now += 6.0
    assert budget(None, deadline, ReadTimeout, "reading") == pytest.approx(4.0)


@pytest.mark.parametrize("past", [0.0, 0.5], ids=["exactly-at", "after"])
def test_budget_raises_the_given_error_once_the_deadline_is_reached(clock: Clock, past: float) -> None:
    deadline = clock.now - past
    with pytest.raises(WriteTimeout) as caught:
        budget(5.0, deadline, WriteTimeout, "sending the request")
    assert str(caught.value) == "the total deadline passed while sending the request (Timeout.total)"


# timeout_message()


def test_the_message_names_the_phase_timeout_while_the_deadline_is_ahead(clock: Clock) -> None:
    options = options_with_total(clock)
    clock.now += 2.0  # 18 s of the total left
    assert timeout_message("reading the response body", 2.0, options) == (
        "reading the response body timed out after 2.0s"
    )


def test_the_message_names_the_phase_timeout_without_a_total(clock: Clock) -> None:
    options = SendOptions(Timeout(read=2))
    clock.now += 10_000.0
    assert timeout_message("reading", 2, options) == "reading timed out after 2s"


def test_the_message_names_the_total_once_the_deadline_has_passed(clock: Clock) -> None:
    options = options_with_total(clock)
    clock.now += 20.0
    message = timeout_message("reading the response body", 2.0, options)
    # the total ran out, not the 2 s read timeout
    assert message == "the total deadline of 20.0s passed while reading the response body (Timeout.total)"


def test_the_message_blames_the_total_a_millisecond_early_not_earlier(clock: Clock) -> None:
    """A wait bounded by the deadline wakes up at about the deadline, maybe a hair before it: within 1 ms of
    the deadline the total is what ran out."""
    options = options_with_total(clock)
    clock.now += 20.0 - 0.0005
    assert "Timeout.total" in timeout_message("reading", 2.0, options)
    clock.now = options.deadline - 0.01  # type: ignore[operator]
    assert timeout_message("reading", 2.0, options) == "reading timed out after 2.0s"


# Phase and the phases the transports use


@pytest.mark.parametrize(
    ("phase", "seconds", "error"),
    [
        (WAITING_FOR_RESPONSE, 2.0, ReadTimeout),
        (READING_BODY, 2.0, ReadTimeout),
        (SENDING, 3.0, WriteTimeout),
        (H2_FLOW_CONTROL, 3.0, WriteTimeout),
        (H2_SETTINGS, 1.0, ConnectTimeout),
        (POOL, 4.0, PoolTimeout),
        (H2_STREAM, 4.0, PoolTimeout),
    ],
    ids=lambda value: value.doing if isinstance(value, Phase) else None,
)
def test_each_wait_is_bounded_by_its_own_timeout_and_raises_its_own_error(
    clock: Clock, phase: Phase, seconds: float, error: type[RequestException]
) -> None:
    options = SendOptions(PHASES)  # no total: the phase's own value, as it is
    assert phase.seconds(options) == seconds
    assert phase.budget(options) == seconds
    exc = phase.timed_out(options)
    assert type(exc) is error
    assert str(exc) == f"{phase.doing} timed out after {seconds}s"


def test_connecting_is_bounded_by_the_connect_timeout(clock: Clock) -> None:
    phase = connecting("the TLS handshake with example.com")
    options = SendOptions(PHASES)
    assert phase.budget(options) == 1
    exc = phase.timed_out(options)
    assert type(exc) is ConnectTimeout
    assert str(exc) == "the TLS handshake with example.com timed out after 1.0s"


def test_a_phase_without_a_timeout_has_no_limit(clock: Clock) -> None:
    options = SendOptions(Timeout(connect=1, read=None))
    assert READING_BODY.budget(options) is None
    assert SENDING.budget(options) == Timeout().write, "the other phases keep their defaults"


def test_a_phase_budget_is_cut_short_by_the_total_deadline(clock: Clock) -> None:
    options = options_with_total(clock)
    assert POOL.budget(options) == 4, "20 s of the total left: the 4 s pool timeout applies"
    clock.now += 18.5
    assert POOL.budget(options) == pytest.approx(1.5), "1.5 s of the total left: less than the pool's 4 s"


def test_a_phase_budget_raises_the_phase_error_once_the_total_has_passed(clock: Clock) -> None:
    options = options_with_total(clock)
    clock.now += 20.0
    with pytest.raises(WriteTimeout, match=r"^the total deadline passed while sending the request"):
        SENDING.budget(options)
    with pytest.raises(PoolTimeout, match="waiting for a free connection in the pool"):
        POOL.budget(options)


def test_a_timed_out_phase_blames_the_total_when_the_total_ran_out(clock: Clock) -> None:
    options = options_with_total(clock)
    clock.now += 25.0
    exc = WAITING_FOR_RESPONSE.timed_out(options)
    assert type(exc) is ReadTimeout
    assert str(exc) == (
        "the total deadline of 20.0s passed while waiting for the server's response (Timeout.total)"
    )


# WaitLimit


def test_a_wait_limit_gives_up_its_phase_timeout_after_it_started(clock: Clock) -> None:
    limit = WaitLimit(POOL, SendOptions(PHASES))
    clock.now += 1.0
    assert limit.left() == pytest.approx(3.0), "the time to give up was fixed when the wait started"
    clock.now += 2.5
    assert limit.left() == pytest.approx(0.5)
    clock.now += 0.5
    with pytest.raises(PoolTimeout) as caught:
        limit.left()
    assert str(caught.value) == "waiting for a free connection in the pool timed out after 4.0s"


def test_a_wait_limit_raises_its_own_message_when_given_one(clock: Clock) -> None:
    limit = WaitLimit(H2_STREAM, SendOptions(PHASES), expired="no HTTP/2 stream came free in time")
    clock.now += 4.0
    with pytest.raises(PoolTimeout) as caught:
        limit.left()
    assert str(caught.value) == "no HTTP/2 stream came free in time"


def test_a_wait_limit_without_a_timeout_never_runs_out(clock: Clock) -> None:
    limit = WaitLimit(POOL, SendOptions(Timeout(pool=None)))
    clock.now += 1e9
    assert limit.left() is None


def test_a_wait_limit_ends_at_the_total_deadline_when_that_comes_first(clock: Clock) -> None:
    options = options_with_total(clock)
    clock.now += 18.0  # 2 s of the total left, the pool timeout is 4 s
    limit = WaitLimit(POOL, options)
    clock.now += 1.0
    assert limit.left() == pytest.approx(1.0)
    clock.now += 1.0
    with pytest.raises(PoolTimeout) as caught:
        limit.left()
    assert str(caught.value) == (
        "the total deadline of 20.0s passed while waiting for a free connection in the pool (Timeout.total)"
    )


def test_a_wait_limit_with_its_own_message_blames_the_total_when_the_total_ran_out(clock: Clock) -> None:
    """Its own message says why the phase's timeout ran out ("pool exhausted"); when the total deadline
    ended the wait first, the error says that instead."""
    options = options_with_total(clock)
    clock.now += 18.0
    limit = WaitLimit(POOL, options, expired="the pool for a.example is exhausted")
    clock.now += 2.0
    with pytest.raises(PoolTimeout) as caught:
        limit.left()
    assert str(caught.value) == (
        "the total deadline of 20.0s passed while waiting for a free connection in the pool (Timeout.total)"
    )


def test_a_wait_limit_cannot_start_after_the_total_deadline(clock: Clock) -> None:
    options = options_with_total(clock)
    clock.now += 21.0
    with pytest.raises(PoolTimeout, match=r"Timeout\.total"):
        WaitLimit(POOL, options)
