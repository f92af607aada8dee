"""A call with nothing around its send skips the flow's generators (``brisk._flows.request.send_sync`` and
``send_async``), and hands the flow whatever needs a decision: an exception, a redirect, a status to retry.

Whatever the server does, a caller must see the same thing as when the whole flow runs: each scenario runs
its calls twice on scripted servers, in a fresh session of each kind (Session and AsyncSession), once as
brisk runs them and once with the direct path turned off, and compares responses, histories, retries,
exceptions, the cookies sent and kept, and the connections opened.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk._flows import request as request_module
from servers.clients import Client
from servers.raw import RawConnection, http_response

Handler = Callable[[RawConnection], None]
Call = tuple[str, str, dict[str, Any]]

OK = http_response(200, b"ok")


def answer_each(*responses: bytes) -> Handler:
    def handler(conn: RawConnection) -> None:
        for response in responses:
            if conn.recv_request() is None:
                return
            conn.send(response)

    return handler


def close_after_first(conn: RawConnection) -> None:
    """Closes a kept-alive connection when the second request arrives, without answering it."""
    if conn.index == 0:
        if conn.recv_request() is not None:
            conn.send(OK)
        conn.recv_request()
        return
    while conn.recv_request() is not None:
        conn.send(http_response(200, b"fresh"))


def refuse(conn: RawConnection) -> None:
    conn.recv_request()
    conn.reset()


def reset_first_then(*responses: bytes) -> Handler:
    """Resets the first connection at its first request; answers each request of the others in turn."""

    def handler(conn: RawConnection) -> None:
        if conn.index == 0:
            conn.recv_request()
            conn.reset()
            return
        answer_each(*responses)(conn)

    return handler


GET: Call = ("GET", "/", {})
RETRY_503 = {"retries": brisk.Retry(total=2, status_forcelist=[503], backoff_factor=0)}

# name: (the server, the session's settings, the calls, whether every call takes the direct path)
SCENARIOS: dict[str, tuple[Handler, dict[str, Any], list[Call], bool]] = {
    "plain": (answer_each(OK, OK), {}, [GET, GET], True),
    "a cookie set, then sent": (
        answer_each(http_response(200, b"set", [("Set-Cookie", "a=1; Path=/")]), OK, OK),
        {},
        [GET, GET, ("GET", "/", {"cookies": {"b": "2"}})],
        True,
    ),
    "a small POST": (answer_each(OK), {}, [("POST", "/", {"data": b"x" * 100})], True),
    "a redirect followed": (
        answer_each(http_response(302, b"", [("Location", "/next"), ("Set-Cookie", "r=1")]), OK),
        {},
        [GET],
        False,
    ),
    "a redirect not followed": (
        answer_each(http_response(301, b"", [("Location", "/next")]), OK),
        {},
        [("GET", "/", {"allow_redirects": False}), GET],
        False,
    ),
    "a 3xx without Location": (answer_each(http_response(302, b"no location")), {}, [GET], True),
    "a status retried": (
        answer_each(http_response(503, b""), http_response(503, b""), OK),
        RETRY_503,
        [GET],
        False,
    ),
    "a status retried until the budget is spent": (
        answer_each(*[http_response(503, b"")] * 3),
        RETRY_503,
        [GET],
        False,
    ),
    "a status the policy does not retry": (answer_each(http_response(500, b"")), RETRY_503, [GET], True),
    "Retry-After": (
        answer_each(http_response(429, b"", [("Retry-After", "0")]), OK),
        {"retries": brisk.Retry(total=1, backoff_factor=0)},
        [GET],
        False,
    ),
    "a dead kept-alive connection": (close_after_first, {}, [GET, GET], False),
    "a reset": (refuse, {"retries": brisk.Retry(total=1, backoff_factor=0)}, [GET], False),
    # exceptions raised after an earlier one was retried: chained the same way (not to the first one)
    "a reset, then a status retried until the budget is spent": (
        reset_first_then(*[http_response(503, b"")] * 3),
        {"retries": brisk.Retry(total=2, status_forcelist=[503], backoff_factor=0)},
        [GET],
        False,
    ),
    "a reset, then too many redirects": (
        reset_first_then(*[http_response(302, b"", [("Location", "/")])] * 5),
        {"retries": brisk.Retry(total=1, backoff_factor=0), "max_redirects": 2},
        [GET],
        False,
    ),
    "a truncated body": (answer_each(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), {}, [GET], True),
    "streamed": (answer_each(OK, OK), {}, [("GET", "/", {"stream": True}), GET], True),
}


def outcome(client: Client, url: str, calls: list[Call]) -> list[Any]:
    seen: list[Any] = []
    for method, path, options in calls:
        try:
            r = client.request(method, url + path.lstrip("/"), timeout=5, **options)
        except brisk.RequestException as exc:
            context, cause = exc.__context__, exc.__cause__
            seen.append(
                (
                    type(exc).__name__,
                    str(exc).replace(url.rstrip("/"), "URL"),
                    None if context is None else type(context).__name__,
                    None if cause is None else type(cause).__name__,
                    exc.__suppress_context__,
                )
            )
            continue
        retries = r.retries
        seen.append(
            (
                r.status_code,
                r.url.replace(url, "/"),
                [(h.status_code, h.url.replace(url, "/")) for h in r.history],
                None if r.next is None else r.next.url.replace(url, "/"),
                client.read(r),
                None if retries is None else (retries.total, len(retries.history)),
            )
        )
    seen.append(sorted(client.session.cookies.get_dict().items()))
    return seen


_settings_init = request_module.FlowSettings.__init__


def never_plain(self: request_module.FlowSettings, *args: Any, **kwargs: Any) -> None:
    """FlowSettings whose calls always run the whole flow."""
    _settings_init(self, *args, **kwargs)
    self.plain = False


@pytest.mark.parametrize("client_factory", ["sync", "async"], indirect=True)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_same_with_and_without_the_direct_path(
    name: str, client_factory: Callable[..., Client], raw_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, settings, calls, all_direct = SCENARIOS[name]
    flows: list[object] = []
    real_flow = request_module.request_flow

    def counting(*args: Any) -> Any:
        flows.append(args[0])
        return real_flow(*args)

    monkeypatch.setattr(request_module, "request_flow", counting)
    results = []
    flows_run = []
    for direct in (True, False):
        if not direct:
            monkeypatch.setattr(request_module.FlowSettings, "__init__", never_plain)
        server = raw_server(handler)
        flows.clear()
        client = client_factory(**settings)
        seen = outcome(client, server.url, calls)
        sent = [request.header_values("cookie") for request in server.requests]
        results.append((seen, sent, server.connection_count))
        flows_run.append(len(flows))
    assert results[0] == results[1]
    assert flows_run[1] == len(calls), "without the direct path, every call runs the flow"
    if all_direct:
        assert flows_run[0] == 0, "a call with nothing to decide ran the flow"
    else:
        assert 0 < flows_run[0] <= len(calls), "the flow was not handed what it had to decide"


@pytest.mark.parametrize("client_factory", ["sync", "async"], indirect=True)
def test_anything_around_the_send_runs_the_whole_flow(
    client_factory: Callable[..., Client], raw_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Auth, hooks, a rate limit or a cache: each is the flow's to run from the start."""
    flows: list[object] = []
    real_flow = request_module.request_flow
    monkeypatch.setattr(request_module, "request_flow", lambda *args: flows.append(1) or real_flow(*args))
    server = raw_server(answer_each(*[OK] * 5))
    seen: list[str] = []
    client = client_factory()
    client.request("GET", server.url, auth=("user", "pass"))
    client.request("GET", server.url, hooks={"response": lambda r, **kw: seen.append("response")})
    client.session.hooks["request"] = [lambda p, **kw: seen.append("request")]
    client.request("GET", server.url)
    client.session.hooks["request"] = []
    limited = client_factory(rate_limit=1000)
    limited.request("GET", server.url)
    cached = client_factory(cache=True)
    cached.request("GET", server.url)
    assert len(flows) == 5
    assert seen == ["response", "request"]
    assert server.requests[0].header("authorization") is not None


@pytest.mark.parametrize("client_factory", ["sync", "async"], indirect=True)
def test_headers_changed_before_the_body_is_read_still_count(
    client_factory: Callable[..., Client], raw_server: Any
) -> None:
    """The transport tells a response which headers its head lacked (Content-Encoding, Set-Cookie), so
    they are not looked for; code that changes ``headers`` first is still heard."""
    zipped = gzip.compress(b"unzipped")
    server = raw_server(answer_each(http_response(200, zipped), http_response(200, zipped)))
    client = client_factory()
    plain = client.get(server.url, stream=True)
    assert client.read(plain) == zipped
    relabelled = client.get(server.url, stream=True)
    relabelled.headers["Content-Encoding"] = "gzip"
    assert client.read(relabelled) == b"unzipped"


# -- the cache's common hit (``_cache_hit``): answered without the flow ------------------------------------

FRESH = [("Cache-Control", "max-age=600")]
CACHED = http_response(200, b"stored", FRESH)

BOMB = gzip.compress(b"\0" * 100_000)
SMALL_RATIO = {"limits": brisk.Limits(max_decompression_ratio=10, decompression_floor=1000)}

# name: (the server, the session's settings, the calls (the first is a miss), how many of them run the flow
# when the direct hit is on)
HITS: dict[str, tuple[Handler, dict[str, Any], list[Call], int]] = {
    "a fresh hit": (answer_each(CACHED, OK), {}, [GET, GET, GET], 1),
    "a hit of a response that set a cookie (Set-Cookie is never stored)": (
        answer_each(http_response(200, b"c", [*FRESH, ("Set-Cookie", "a=1; Path=/")]), OK),
        {},
        [GET, GET],
        1,
    ),
    "a hit after another response changed that cookie": (
        answer_each(
            http_response(200, b"c", [*FRESH, ("Set-Cookie", "a=1; Path=/")]),
            http_response(200, b"", [("Cache-Control", "no-store"), ("Set-Cookie", "a=2; Path=/")]),
        ),
        {},
        [GET, ("GET", "/other", {}), GET],
        2,
    ),
    "a hit that varies on the cookie the jar sends": (
        answer_each(
            http_response(200, b"v1", [*FRESH, ("Vary", "Cookie"), ("Set-Cookie", "a=1; Path=/")]),
            http_response(200, b"v2", [*FRESH, ("Vary", "Cookie")]),
            OK,
        ),
        {},
        [GET, GET, GET],
        2,  # the second call sends a=1, which the stored response (fetched without it) does not match
    ),
    "a hit whose body is gzipped": (
        answer_each(http_response(200, gzip.compress(b"unzipped"), [*FRESH, ("Content-Encoding", "gzip")])),
        {},
        [GET, GET],
        1,
    ),
    "a HEAD after a GET": (answer_each(CACHED), {}, [GET, ("HEAD", "/", {})], 1),
    "a streamed hit": (answer_each(CACHED), {}, [GET, ("GET", "/", {"stream": True})], 1),
    "a hit whose body decodes past the session's limits": (
        answer_each(http_response(200, BOMB, [*FRESH, ("Content-Encoding", "gzip")])),
        SMALL_RATIO,
        [("GET", "/", {"stream": True}), GET],
        1,
    ),
    "a cached redirect": (
        answer_each(http_response(301, b"", [*FRESH, ("Location", "/next")]), CACHED, OK),
        {},
        [GET, GET],
        2,  # a redirect is the flow's to follow
    ),
    "a cached redirect not followed": (
        answer_each(http_response(301, b"", [*FRESH, ("Location", "/next")]), OK),
        {},
        [("GET", "/", {"allow_redirects": False}), ("GET", "/", {"allow_redirects": False})],
        2,
    ),
    "a cached status the Retry policy names (a cached answer is not retried)": (
        answer_each(http_response(503, b"busy", FRESH), OK),
        RETRY_503,
        [GET, GET],
        1,
    ),
    "a URL with a fragment": (answer_each(CACHED), {}, [("GET", "/#top", {}), ("GET", "/#end", {})], 1),
    "a POST between hits": (
        answer_each(CACHED, http_response(200, b"posted", [("Set-Cookie", "p=1; Path=/")]), OK, OK),
        {},
        [GET, GET, ("POST", "/", {"data": b"x"}), GET],
        3,  # the POST's answer invalidates the stored response
    ),
    "the request's own Cache-Control": (
        answer_each(CACHED, OK),
        {},
        [GET, ("GET", "/", {"headers": {"Cache-Control": "no-cache"}})],
        2,
    ),
    "a conditional request of the caller's": (
        answer_each(CACHED, http_response(304, b"")),
        {},
        [GET, ("GET", "/", {"headers": {"If-None-Match": '"x"'}})],
        2,
    ),
    "a stale response": (
        answer_each(http_response(200, b"old", [("Cache-Control", "max-age=0")]), OK),
        {},
        [GET, GET],
        2,
    ),
}


def never_cache_plain(self: request_module.FlowSettings, *args: Any, **kwargs: Any) -> None:
    """FlowSettings whose cached calls always run the whole flow."""
    _settings_init(self, *args, **kwargs)
    self.cache_plain = False


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@pytest.mark.parametrize("client_factory", ["sync", "async"], indirect=True)
@pytest.mark.parametrize("name", list(HITS))
def test_a_hit_is_the_same_with_and_without_the_flow(
    name: str,
    client_factory: Callable[..., Client],
    raw_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    store: str,
    tmp_path: Path,
) -> None:
    """Responses (with their cache status and headers but Age), histories, cookies sent and kept, and what
    reached the server: the same whether the cache's hit runs the flow or not."""
    handler, settings, calls, flows_with_direct_hits = HITS[name]
    flows: list[object] = []
    real_flow = request_module.request_flow
    monkeypatch.setattr(request_module, "request_flow", lambda *args: flows.append(1) or real_flow(*args))
    results: list[Any] = []
    flows_run: list[int] = []
    for direct in (True, False):
        if not direct:
            monkeypatch.setattr(request_module.FlowSettings, "__init__", never_cache_plain)
        server = raw_server(handler)
        flows.clear()
        # (a hit never waits for the rate limit)
        cache = True if store == "memory" else tmp_path / f"{direct}.sqlite"
        client = client_factory(cache=cache, rate_limit=1000, **settings)
        seen = hit_outcome(client, server.url.rstrip("/") + "/", calls)
        sent = [(request.method, request.header_values("cookie")) for request in server.requests]
        results.append((seen, sent))
        flows_run.append(len(flows))
    assert results[0] == results[1]
    assert flows_run == [flows_with_direct_hits, len(calls)], "the calls that ran the flow"


def hit_outcome(client: Client, base: str, calls: list[Call]) -> list[Any]:
    seen: list[Any] = []
    for method, path, options in calls:
        try:
            r = client.request(method, base + path.lstrip("/"), timeout=5, **options)
            body = client.raw_chunks(r) if options.get("stream") else client.read(r)
        except brisk.RequestException as exc:
            seen.append((type(exc).__name__, str(exc).replace(base, "/")))
            continue
        headers = sorted((k.lower(), v) for k, v in r.headers.items() if k.lower() != "age")
        retries = None if r.retries is None else (r.retries.total, len(r.retries.history))
        history = [(h.status_code, h.url.replace(base, "/")) for h in r.history]
        seen.append((r.status_code, r.url.replace(base, "/"), history, body, headers, retries))
        seen.append((r.cache_status, r.from_cache, r.timings is not None))
    seen.append(sorted(client.session.cookies.get_dict().items()))
    return seen
