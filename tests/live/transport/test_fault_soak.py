"""A soak under injected network faults: no request ever gets another request's response (issue #18, 7).

Sequential requests on one session (sync and asyncio, GET and POST) go to brisk's test app through a
:class:`servers.faults.FaultProxy` that resets, truncates and stalls responses, sends stray bytes with a
response's last byte (a copy of an earlier response, among others), and ends connections right after a
response the way a server's idle timeout does. Each request carries an id (``?id=``; a POST also in its
JSON body) that the app echoes. The soak requires:

- zero mismatches: every response that reaches the caller is the answer to its own request;
- every failure is a brisk exception, on a request whose response the proxy broke (or, after a reset that
  followed a whole response, the next one); stray bytes, stalls and clean closes cost no request;
- no request was sent on a connection the proxy had closed cleanly, and no POST reached the server twice.

The asyncio client sends all its requests from one coroutine, so a response and the next request can fall
in one turn of the event loop. The proxy's random generator is seeded: a run is reproducible.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import brisk
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, SyncClient
from servers.faults import BREAKING, FAULTS, FaultProxy
from servers.raw import RawServerFactory

Client = SyncClient | AsyncClient

REQUESTS = 1000  # per test: 4,000 requests in all
FAULT_RATE = 0.03  # of the responses, each fault in turn
CLOSE_RATE = 0.05
SEED = 20260718


@dataclass
class Outcome:
    request_id: str
    echoed: str | None = None  # the id in the answer, when one came
    error: BaseException | None = None


def check(response: brisk.Response, outcome: Outcome, method: str) -> None:
    """Read the id the answer echoes (an answer that is not the app's JSON echo is a mismatch too)."""
    try:
        data = json.loads(response.content)
        echoed = data["args"]["id"]
        if method == "POST" and data["json"] != {"id": outcome.request_id}:
            echoed = f"body {data['json']!r}"
    except (ValueError, KeyError, TypeError):
        echoed = f"not the app's answer: {response.status_code} {response.content[:80]!r}"
    outcome.echoed = echoed


def soak(client: Client, base: str, method: str, count: int) -> list[Outcome]:
    path = "/get" if method == "GET" else "/post"
    outcomes = [Outcome(str(n)) for n in range(count)]

    def arguments(outcome: Outcome) -> tuple[str, dict[str, Any]]:
        url = f"{base}{path}?id={outcome.request_id}"
        return url, ({"json": {"id": outcome.request_id}} if method == "POST" else {})

    if isinstance(client, SyncClient):
        for outcome in outcomes:
            url, kwargs = arguments(outcome)
            try:
                check(client.request(method, url, **kwargs), outcome, method)
            except brisk.RequestException as exc:
                outcome.error = exc
        return outcomes

    async def run() -> None:
        session = client.session
        for outcome in outcomes:
            url, kwargs = arguments(outcome)
            try:
                check(await session.request(method, url, **kwargs), outcome, method)
            except brisk.RequestException as exc:
                outcome.error = exc

    client.run(run())
    return outcomes


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_no_request_gets_another_requests_response_under_faults(
    client_factory: Callable[..., Client],
    raw_server: RawServerFactory,
    app_server: ServerThread,
    method: str,
) -> None:
    client = client_factory()
    upstream = ("127.0.0.1", int(app_server.url.rsplit(":", 1)[1]))
    proxy = FaultProxy(
        raw_server, upstream, seed=SEED + (method == "POST"), fault_rate=FAULT_RATE, close_rate=CLOSE_RATE
    )
    outcomes = soak(client, proxy.url, method, REQUESTS)
    client.close()
    proxy.server.stop()  # joins the relay's threads: the record of exchanges is complete

    mismatched = [(o.request_id, o.echoed) for o in outcomes if o.error is None and o.echoed != o.request_id]
    assert mismatched == []

    exchanges = proxy.exchanges
    broken: set[str] = set()
    for exchange in exchanges:
        if exchange.fault in BREAKING and exchange.request_id is not None:
            broken.add(exchange.request_id)
            if exchange.fault == "reset_after":
                broken.add(str(int(exchange.request_id) + 1))
    unexplained = [(o.request_id, repr(o.error)) for o in outcomes if o.error is not None]
    unexplained = [(rid, error) for rid, error in unexplained if rid not in broken]
    assert unexplained == []

    assert proxy.sent_after_close == []
    if method == "POST":
        twice = [rid for rid, seen in Counter(e.request_id for e in exchanges).items() if seen > 1]
        assert twice == []

    # The soak is worth something only if it met every fault, and clean closes, several times.
    met = Counter(exchange.fault for exchange in exchanges)
    assert all(met[fault] >= 2 for fault in FAULTS), met
    assert sum(exchange.closed for exchange in exchanges) >= 10
