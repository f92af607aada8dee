"""``brisk._flows.retry.Retry`` on its own: budgets, backoff, Retry-After, allow-lists, urllib3's names."""

from __future__ import annotations

import inspect
import pickle
import random
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from brisk._flows.retry import DEFAULT_RETRY, NO_RETRY, RequestHistory, Retry
from brisk.exceptions import (
    ConnectionError as BriskConnectionError,
)
from brisk.exceptions import (
    ConnectionRefused,
    ConnectTimeout,
    InvalidURL,
    NameResolutionError,
    PoolTimeout,
    ProxyError,
    ReadTimeout,
    RemoteProtocolError,
    SSLError,
    WriteTimeout,
)
from brisk.models import Response


def failed(retry: Retry, times: int, error: BaseException | None = None) -> Retry:
    for _ in range(times):
        retry = retry.increment("GET", "https://a.example/", error=error or ConnectionRefused("no"))
    return retry


def with_retry_after(value: str, status: int = 503) -> Response:
    return Response(status, content=b"", headers={"Retry-After": value})


# --- budgets ------------------------------------------------------------------------------------------


def test_total_budget_counts_every_failure() -> None:
    retry = Retry(total=2)
    assert not failed(retry, 2).is_exhausted()
    assert failed(retry, 3).is_exhausted()
    assert failed(retry, 1).total == 1
    assert retry.total == 2, "increment returns a new Retry; the old one is unchanged"


@pytest.mark.parametrize(
    ("kind", "error"),
    [("connect", ConnectTimeout("t")), ("read", ReadTimeout("t"))],
)
def test_each_kind_has_its_own_budget(kind: str, error: BaseException) -> None:
    retry = Retry(total=None, **{kind: 1})
    once = failed(retry, 1, error)
    assert getattr(once, kind) == 0
    assert not once.is_exhausted()
    assert failed(retry, 2, error).is_exhausted()
    other = "read" if kind == "connect" else "connect"
    assert getattr(once, other) is None, "the other budget is not spent"


def test_status_budget_is_spent_by_responses() -> None:
    retry = Retry(total=None, status=1, status_forcelist=[500])
    spent = retry.increment("GET", "/", response=Response(500, content=b""))
    assert spent.status == 0
    assert spent.history[-1].status == 500
    assert spent.increment("GET", "/", response=Response(500, content=b"")).is_exhausted()


def test_unclassified_errors_spend_the_other_budget() -> None:
    retry = Retry(total=None, other=0)
    assert retry.increment(error=ValueError("odd")).is_exhausted()


def test_false_means_never_and_none_unlimited() -> None:
    retry = Retry(total=None, connect=False, read=None)
    assert retry.connect == 0
    assert failed(retry, 1, ConnectTimeout("t")).is_exhausted()
    assert not failed(retry, 50, ReadTimeout("t")).is_exhausted()
    assert Retry(total=False).total == 0


def test_history_records_each_attempt() -> None:
    error = ReadTimeout("slow")
    redirect = Response(302, content=b"", headers={"Location": "/next"})
    retry = Retry(total=5).increment("GET", "https://a.example/x", error=error)
    retry = retry.increment("POST", "https://a.example/y", response=redirect)
    assert retry.history == (
        RequestHistory("GET", "https://a.example/x", error, None, None),
        RequestHistory("POST", "https://a.example/y", None, 302, "/next"),
    )
    assert retry.history[0].describe() == "ReadTimeout: slow"
    assert retry.history[1].describe() == "status 302"


def test_describe_attempts() -> None:
    same = failed(Retry(total=5), 3, ConnectionRefused("refused"))
    assert same.describe_attempts() == "3 attempts, all failing this way"
    mixed = failed(same, 1, ReadTimeout("slow"))
    text = mixed.describe_attempts()
    assert text.startswith("4 attempts: 1) ConnectionRefused: refused;")
    assert text.endswith("4) ReadTimeout: slow")


# --- classification and allow-lists -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ConnectTimeout("t"), "connect"),
        (ConnectionRefused("r"), "connect"),
        (NameResolutionError("n"), "connect"),
        (ReadTimeout("t"), "read"),
        (WriteTimeout("t"), "read"),
        (RemoteProtocolError("p"), "read"),
        (BriskConnectionError("c"), "read"),
        (SSLError("s"), None),  # a certificate does not fix itself
        (ProxyError("p"), None),
        (PoolTimeout("p"), None),  # already waited the whole pool timeout
        (InvalidURL("u"), None),
        (ValueError("v"), None),
    ],
)
def test_classify(error: BaseException, kind: str | None) -> None:
    assert Retry.classify(error) == kind


def test_allowed_methods() -> None:
    retry = Retry()
    for method in ("GET", "get", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", None):
        assert retry.method_allowed(method), method
    for method in ("POST", "PATCH", "CONNECT"):
        assert not retry.method_allowed(method), method
    assert Retry(allowed_methods=["post"]).method_allowed("POST")
    assert not Retry(allowed_methods=["post"]).method_allowed("GET")
    assert Retry(allowed_methods=None).method_allowed("POST"), "None allows every method"


def test_is_retry_by_status_forcelist() -> None:
    retry = Retry(total=3, status_forcelist=[500, 502])
    assert retry.is_retry("GET", 500)
    assert retry.is_retry("GET", 502)
    assert not retry.is_retry("GET", 503)
    assert not retry.is_retry("POST", 500), "POST is not an allowed method"
    assert not retry.is_retry("GET", 200)


@pytest.mark.parametrize("status", sorted(Retry.RETRY_AFTER_STATUS_CODES))
def test_is_retry_by_retry_after(status: int) -> None:
    retry = Retry(total=3)
    assert retry.is_retry("GET", status, has_retry_after=True)
    assert not retry.is_retry("GET", status, has_retry_after=False)
    assert not Retry(total=3, respect_retry_after_header=False).is_retry("GET", status, True)
    assert not Retry(total=0).is_retry("GET", status, True), "no budget: not retried"


def test_retry_after_does_not_make_other_statuses_retried() -> None:
    assert not Retry(total=3).is_retry("GET", 500, has_retry_after=True)


# --- timing -------------------------------------------------------------------------------------------


def test_backoff_sequence() -> None:
    retry = Retry(total=10, backoff_factor=0.5)
    assert retry.get_backoff_time() == 0.0
    sleeps = [failed(retry, n).get_backoff_time() for n in range(1, 6)]
    assert sleeps == [0.0, 1.0, 2.0, 4.0, 8.0]  # none before the first retry, then factor * 2 ** (n - 1)


def test_backoff_is_capped() -> None:
    retry = Retry(total=20, backoff_factor=1, backoff_max=5)
    assert failed(retry, 10).get_backoff_time() == 5.0


def test_backoff_restarts_after_a_redirect() -> None:
    retry = failed(Retry(total=10, backoff_factor=1), 3)
    assert retry.get_backoff_time() == 4.0
    redirected = retry.increment(response=Response(302, content=b"", headers={"Location": "/x"}))
    assert redirected.get_backoff_time() == 0.0
    assert failed(redirected, 2).get_backoff_time() == 2.0


def test_jitter_stays_within_its_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    retry = failed(Retry(total=10, backoff_factor=1, backoff_jitter=0.5), 3)  # 4 s before jitter
    monkeypatch.setattr(random, "random", lambda: 0.0)
    assert retry.get_backoff_time() == 4.0
    monkeypatch.setattr(random, "random", lambda: 0.999999)
    assert retry.get_backoff_time() == pytest.approx(4.5, abs=1e-5)
    monkeypatch.undo()
    for _ in range(200):
        assert 4.0 <= retry.get_backoff_time() <= 4.5


def test_jitter_does_not_pass_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "random", lambda: 0.99)
    retry = failed(Retry(total=10, backoff_factor=1, backoff_max=3, backoff_jitter=10), 5)
    assert retry.get_backoff_time() == 3.0


def test_retry_after_in_seconds() -> None:
    retry = Retry(total=3)
    assert retry.get_retry_after(with_retry_after("7")) == 7.0
    assert retry.get_retry_after(with_retry_after(" 12 ")) == 12.0
    assert retry.get_retry_after(Response(503, content=b"")) is None


def test_retry_after_capped_at_backoff_max() -> None:
    assert Retry(total=3, backoff_max=30).get_retry_after(with_retry_after("3600")) == 30.0


def test_retry_after_as_an_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    now = 1_700_000_000.0
    monkeypatch.setattr(time, "time", lambda: now)
    later = format_datetime(datetime.fromtimestamp(now + 90, tz=UTC), usegmt=True)
    assert Retry(total=3).get_retry_after(with_retry_after(later)) == pytest.approx(90.0)
    earlier = format_datetime(datetime.fromtimestamp(now - 90, tz=UTC), usegmt=True)
    assert Retry(total=3).get_retry_after(with_retry_after(earlier)) == 0.0, "a past date: no wait"


@pytest.mark.parametrize("value", ["soon", "-5", "1.5e3", "Mon, 99 Foo 2024 99:99:99 GMT"])
def test_unreadable_retry_after_is_ignored(value: str) -> None:
    assert Retry(total=3).get_retry_after(with_retry_after(value)) is None


def test_sleep_time_prefers_retry_after_unless_told_not_to() -> None:
    retry = failed(Retry(total=10, backoff_factor=1), 3)  # 4 s of backoff
    response = with_retry_after("9")
    assert retry.sleep_time(response) == 9.0
    assert retry.sleep_time(Response(503, content=b"")) == 4.0
    assert retry.sleep_time() == 4.0
    ignoring = failed(Retry(total=10, backoff_factor=1, respect_retry_after_header=False), 3)
    assert ignoring.sleep_time(response) == 4.0


# --- the object ---------------------------------------------------------------------------------------


def test_immutable_with_new_for_changes() -> None:
    retry = Retry(total=3, backoff_factor=1)
    with pytest.raises(AttributeError, match="immutable"):
        retry.total = 5  # type: ignore[misc]
    changed = retry.new(total=5)
    assert (changed.total, changed.backoff_factor, retry.total) == (5, 1.0, 3)


def test_equality_hash_and_pickle() -> None:
    retry = failed(Retry(total=3, status_forcelist=[503], allowed_methods=["GET"]), 1, ReadTimeout("x"))
    assert retry == retry.new()
    assert hash(retry) == hash(retry.new())
    assert retry != retry.new(total=9)
    copy = pickle.loads(pickle.dumps(Retry(total=3, status_forcelist=[503])))
    assert copy == Retry(total=3, status_forcelist=[503])


def test_from_int() -> None:
    retry = Retry(total=4)
    assert Retry.from_int(retry) is retry
    assert Retry.from_int(3).total == 3
    assert Retry.from_int(False) is NO_RETRY
    assert Retry.from_int(0) is NO_RETRY
    assert Retry.from_int(None) is DEFAULT_RETRY
    assert Retry.from_int(None, default=retry) is retry


def test_defaults_retry_connect_failures_only() -> None:
    assert not failed(DEFAULT_RETRY, 2, ConnectionRefused("r")).is_exhausted()
    assert failed(DEFAULT_RETRY, 3, ConnectionRefused("r")).is_exhausted()
    assert failed(DEFAULT_RETRY, 1, ReadTimeout("r")).is_exhausted()
    assert failed(NO_RETRY, 1).is_exhausted()


def test_urllib3_retry_is_converted() -> None:
    urllib3_retry = pytest.importorskip("urllib3.util.retry")
    theirs = urllib3_retry.Retry(
        total=7, connect=2, read=3, status=4, status_forcelist=[502], backoff_factor=0.3,
        allowed_methods=["GET", "POST"], raise_on_status=False, backoff_jitter=0.1,
    )  # fmt: skip
    ours = Retry.from_int(theirs)
    assert isinstance(ours, Retry)
    assert (ours.total, ours.connect, ours.read, ours.status) == (7, 2, 3, 4)
    assert ours.status_forcelist == frozenset({502})
    assert ours.allowed_methods == frozenset({"GET", "POST"})
    assert (ours.backoff_factor, ours.backoff_jitter, ours.raise_on_status) == (0.3, 0.1, False)


def test_names_match_urllib3() -> None:
    """Code written for urllib3's Retry (keyword arguments, class constants, methods, the history's
    fields) runs against brisk's."""
    urllib3_retry = pytest.importorskip("urllib3.util.retry")
    theirs = urllib3_retry.Retry
    ours = set(inspect.signature(Retry.__init__).parameters)
    assert ours <= set(inspect.signature(theirs.__init__).parameters)
    for name in (
        "DEFAULT_ALLOWED_METHODS", "RETRY_AFTER_STATUS_CODES", "DEFAULT_BACKOFF_MAX", "from_int", "new",
        "increment", "is_exhausted", "is_retry", "get_backoff_time", "get_retry_after",
    ):  # fmt: skip
        assert hasattr(theirs, name), name
        assert hasattr(Retry, name), name
    assert Retry.DEFAULT_ALLOWED_METHODS == theirs.DEFAULT_ALLOWED_METHODS
    assert Retry.RETRY_AFTER_STATUS_CODES == theirs.RETRY_AFTER_STATUS_CODES
    assert RequestHistory._fields == urllib3_retry.RequestHistory._fields
