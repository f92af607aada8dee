"""The cache step of the request flow, driven by hand (no socket): the test answers each ``Send`` and
checks what the flow asks for next, and what it serves from the store. The same for both stores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk._flows import Drain, Effect, Flow, ReadBody, Send, Sleep
from brisk._flows.request import FlowSettings, request_flow
from brisk._flows.retry import Retry
from brisk._transport.base import SendOptions
from brisk.models import Response

URL = "http://a.test/thing"


@pytest.fixture(params=["memory", "sqlite"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[brisk.Cache]:
    made = brisk.Cache() if request.param == "memory" else brisk.Cache(tmp_path / "cache.sqlite")
    yield made
    made.close()


def run(cache: brisk.Cache, answers: list[Any], method: str = "GET", url: str = URL, stream: bool = False,
        options: SendOptions | None = None, **kwargs: Any) -> tuple[Response, list[Send]]:  # fmt: skip
    """Run one request's flow; each Send is answered by the next of ``answers`` (status, headers, body)."""
    settings = FlowSettings(
        options or SendOptions(), retry=Retry(0, read=False, redirect=None), cache=cache, stream=stream
    )
    flow: Flow = request_flow(brisk.Request(method, url, **kwargs).prepare(), settings)
    sent: list[Send] = []
    try:
        effect: Effect = next(flow)  # (a hit of a streamed request returns at once)
        while True:
            if isinstance(effect, Send):
                sent.append(effect)
                status, headers, body = answers.pop(0)
                response = Response(status, content=body, headers=headers)
                response.request = effect.request
                response.url = effect.request.url or ""
                effect = flow.send(response)
            elif isinstance(effect, ReadBody):
                effect = flow.send(effect.response.content)
            elif isinstance(effect, Drain):
                effect.response._drain(65536)
                effect = flow.send(None)
            else:
                raise AssertionError(f"unexpected effect {effect!r}")
    except StopIteration as stop:
        result: Response = stop.value
        return result, sent


def now(offset: float = 0) -> str:
    return formatdate(time.time() + offset, usegmt=True)


def test_a_fresh_response_is_served_without_sending(cache: brisk.Cache) -> None:
    first, sent = run(cache, [(200, {"Cache-Control": "max-age=60", "Date": now()}, b"one")])
    assert (first.cache_status, first.from_cache, len(sent)) == ("miss", False, 1)
    second, sent = run(cache, [])
    assert (second.cache_status, second.from_cache, second.content, sent) == ("hit", True, b"one", [])
    assert second.headers["Age"] == "0"
    assert second.request.url == URL


def test_an_uncached_session_reports_nothing() -> None:
    response = Response(200, content=b"")
    assert (response.from_cache, response.cache_status) == (False, None)


def test_a_stale_response_is_validated_and_a_304_serves_the_stored_body(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=0", "ETag": '"v1"', "X-Old": "1"}, b"stored")])
    response, sent = run(cache, [(304, {"ETag": '"v1"', "Cache-Control": "max-age=60", "X-New": "2"}, b"")])
    assert sent[0].request.headers["If-None-Match"] == '"v1"'
    assert (response.status_code, response.content, response.cache_status) == (200, b"stored", "revalidated")
    assert response.headers["X-New"] == "2"
    assert response.headers["X-Old"] == "1"
    # the 304's max-age now applies to the stored response
    again, sent = run(cache, [])
    assert (again.cache_status, sent) == ("hit", [])


def test_a_200_to_a_validation_replaces_the_entry(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=0", "ETag": '"v1"'}, b"old")])
    response, _ = run(cache, [(200, {"Cache-Control": "max-age=60", "ETag": '"v2"'}, b"new")])
    assert (response.content, response.cache_status) == (b"new", "miss")
    assert run(cache, [])[0].content == b"new"


def test_no_store_is_not_stored(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "no-store, max-age=60"}, b"x")])
    assert len(cache) == 0


def test_request_no_cache_validates_a_fresh_response(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=60", "ETag": '"e"'}, b"x")])
    response, sent = run(cache, [(304, {"ETag": '"e"'}, b"")], headers={"Cache-Control": "no-cache"})
    assert len(sent) == 1
    assert response.cache_status == "revalidated"


def test_max_stale_serves_a_stale_response(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=0"}, b"x")])
    response, sent = run(cache, [], headers={"Cache-Control": "max-stale"})
    assert (response.cache_status, response.content, sent) == ("stale", b"x", [])


def test_only_if_cached_without_an_entry_is_a_504_without_sending(cache: brisk.Cache) -> None:
    response, sent = run(cache, [], headers={"Cache-Control": "only-if-cached"})
    assert (response.status_code, sent, response.from_cache) == (504, [], False)


def test_vary_keeps_variants_apart(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=60", "Vary": "Accept-Language"}, b"en")],
        headers={"Accept-Language": "en"})  # fmt: skip
    response, sent = run(cache, [(200, {"Cache-Control": "max-age=60", "Vary": "Accept-Language"}, b"fr")],
                         headers={"Accept-Language": "fr"})  # fmt: skip
    assert (response.content, len(sent)) == (b"fr", 1)
    assert run(cache, [], headers={"Accept-Language": "en"})[0].content == b"en"
    assert run(cache, [], headers={"Accept-Language": "fr"})[0].content == b"fr"


def test_head_is_answered_from_a_stored_get(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"body")])
    response, sent = run(cache, [], method="HEAD")
    assert (response.cache_status, response.content, sent) == ("hit", b"", [])
    assert response.headers["Content-Length"] == "4"


def test_an_unsafe_method_invalidates_the_url_and_its_location(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"list")])
    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"item")], url=URL + "/7")
    response, _ = run(cache, [(201, {"Location": "/thing/7"}, b"")], method="POST", data=b"new")
    assert response.cache_status == "bypass"
    assert len(cache) == 0


def test_a_failed_unsafe_method_invalidates_nothing(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"list")])
    run(cache, [(500, {}, b"")], method="DELETE")
    assert len(cache) == 1


def test_authorization_is_stored_only_when_the_response_may_be_shared(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"mine")], auth=("user", "pass"))
    assert len(cache) == 0
    run(cache, [(200, {"Cache-Control": "max-age=60, public"}, b"everyone's")], auth=("user", "pass"))
    assert len(cache) == 1


def test_set_cookie_is_never_served_from_the_cache(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=60", "Set-Cookie": "session=secret"}, b"x")])
    response, _ = run(cache, [])
    assert response.from_cache
    assert "set-cookie" not in response.headers


def test_a_streamed_body_is_stored_only_once_read_to_the_end(cache: brisk.Cache) -> None:
    response, _ = run(cache, [(200, {"Cache-Control": "max-age=60"}, b"abcdef")], stream=True)
    response.close()  # abandoned: nothing stored
    assert len(cache) == 0
    response, _ = run(cache, [(200, {"Cache-Control": "max-age=60"}, b"abcdef")], stream=True)
    assert b"".join(response.iter_content(2)) == b"abcdef"
    assert len(cache) == 1
    assert run(cache, [])[0].content == b"abcdef"


def test_the_size_limit_evicts_the_oldest(cache: brisk.Cache) -> None:
    small = brisk.Cache(cache.path, max_size=10)
    try:
        run(small, [(200, {"Cache-Control": "max-age=60"}, b"123456")], url=URL + "/a")
        run(small, [(200, {"Cache-Control": "max-age=60"}, b"123456")], url=URL + "/b")
        assert len(small) == 1
        assert run(small, [], url=URL + "/b")[0].from_cache
        run(small, [(200, {"Cache-Control": "max-age=60"}, b"x" * 11)], url=URL + "/big")  # larger than all
        assert len(small) == 1
        assert run(small, [], url=URL + "/b")[0].from_cache
    finally:
        small.close()


def test_the_memory_store_evicts_the_least_recently_used() -> None:
    cache = brisk.Cache(max_size=10)
    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"1234")], url=URL + "/a")
    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"1234")], url=URL + "/b")
    assert run(cache, [], url=URL + "/a")[0].from_cache  # /a used last: /b goes first
    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"1234")], url=URL + "/c")
    assert run(cache, [], url=URL + "/a")[0].from_cache
    assert (
        run(cache, [(200, {"Cache-Control": "max-age=60"}, b"1234")], url=URL + "/b")[0].cache_status
        == "miss"
    )


def test_a_cache_setting_is_checked() -> None:
    with pytest.raises(TypeError, match=r"cache must be True, a path or a brisk\.Cache"):
        brisk.Session(cache=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_size"):
        brisk.Cache(max_size=0)


def test_session_cache_true_makes_one_cache_per_session() -> None:
    with brisk.Session(cache=True) as one, brisk.Session(cache=True) as two:
        assert isinstance(one.cache, brisk.Cache)
        assert one.cache is not two.cache
    with brisk.Session() as plain:
        assert plain.cache is None
        plain.cache = True
        assert isinstance(plain.cache, brisk.Cache)


def test_a_session_with_a_file_cache_pickles_with_its_path(tmp_path: Path) -> None:
    import pickle

    with brisk.Session(cache=tmp_path / "c.sqlite") as session:
        copy = pickle.loads(pickle.dumps(session))
        assert copy.cache.path == session.cache.path
        copy.cache.close()
        session.cache.close()
        copy.close()


def test_a_session_closes_the_file_cache_it_made_and_can_use_it_again(tmp_path: Path) -> None:
    session = brisk.Session(cache=tmp_path / "made.sqlite")
    given = brisk.Cache(tmp_path / "given.sqlite")
    other = brisk.Session(cache=given)
    run(session.cache, [(200, {"Cache-Control": "max-age=60"}, b"kept")])
    session.close()
    assert session.cache._backend._connection is None  # closed with the session
    assert run(session.cache, [])[0].content == b"kept"  # and opened again when used
    other.close()
    assert given._backend._connection is not None  # the user's cache is the user's to close
    for cache in (session.cache, given):
        cache.close()


def test_a_cached_error_status_is_not_retried(cache: brisk.Cache) -> None:
    run(cache, [(503, {"Cache-Control": "max-age=60"}, b"down")])
    retry = Retry(3, status_forcelist=[503], backoff_factor=1)
    settings = FlowSettings(SendOptions(), retry=retry, cache=cache)
    flow: Flow = request_flow(brisk.Request("GET", URL).prepare(), settings)
    effect = next(flow)  # no Send and no Sleep: the body of the cached 503 is read, and that is all
    assert isinstance(effect, ReadBody)
    assert effect.response.from_cache


def test_a_200_to_head_freshens_the_stored_get(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=0", "X-A": "1", "ETag": '"e"'}, b"body")])
    answer = {
        "Cache-Control": "max-age=600",
        "X-A": "2",
        "ETag": '"e"',
        "Content-Length": "4",
    }  # HEAD's length
    head, sent = run(cache, [(200, answer, b"")], method="HEAD")
    assert sent[0].request.method == "HEAD"
    assert (head.cache_status, head.headers["X-A"]) == ("revalidated", "2")
    again, sent = run(cache, [])
    assert (again.cache_status, again.content, again.headers["X-A"], sent) == ("hit", b"body", "2", [])


def test_a_200_to_head_about_another_representation_changes_nothing(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=0", "ETag": '"e"'}, b"body")])
    head, _ = run(cache, [(200, {"Cache-Control": "max-age=600", "ETag": '"other"'}, b"")], method="HEAD")
    assert head.cache_status == "miss"
    assert len(run(cache, [(200, {"ETag": '"e"'}, b"body")])[1]) == 1  # still stale: sent


def test_a_hit_spends_no_rate_limit_token(cache: brisk.Cache) -> None:
    limiter = brisk.RateLimit(0.001)  # one request, then a very long wait
    no_retry = Retry(0, read=False, redirect=None)
    settings = FlowSettings(SendOptions(), retry=no_retry, cache=cache, rate_limit=limiter)
    flow: Flow = request_flow(brisk.Request("GET", URL).prepare(), settings)
    send = next(flow)
    assert isinstance(send, Send)  # the first request: a token, no wait
    stored = Response(200, content=b"x", headers={"Cache-Control": "max-age=60"})
    stored.request = send.request
    read = flow.send(stored)
    assert isinstance(read, ReadBody)
    with pytest.raises(StopIteration):
        flow.send(read.response.content)
    flow = request_flow(brisk.Request("GET", URL).prepare(), settings)
    effect = next(flow)
    assert isinstance(effect, ReadBody)  # a hit: no Sleep for the limiter
    assert effect.response.from_cache
    flow = request_flow(brisk.Request("POST", URL).prepare(), settings)
    assert isinstance(next(flow), Sleep)  # what goes to the network still waits its turn


def test_a_streamed_body_is_kept_in_its_chunks_not_joined_into_a_copy() -> None:
    from brisk._cache.tee import ChunksStream

    cache = brisk.Cache()
    settings = FlowSettings(
        SendOptions(), retry=Retry(0, read=False, redirect=None), cache=cache, stream=True
    )
    flow: Flow = request_flow(brisk.Request("GET", URL).prepare(), settings)
    send = next(flow)
    assert isinstance(send, Send)
    head = [("Cache-Control", "max-age=60"), ("Content-Length", "6")]
    arriving = Response._from_transport(
        200, "OK", "HTTP/1.1", head, ChunksStream((b"ab", b"cd", b"ef")), send.request, None
    )
    with pytest.raises(StopIteration) as stop:
        flow.send(arriving)
    response: Response = stop.value.value
    assert list(response.iter_content(None)) == [b"ab", b"cd", b"ef"]
    (stored,) = cache._backend._entries.values()  # type: ignore[attr-defined]
    assert stored[1] == (b"ab", b"cd", b"ef")  # the chunks themselves: no joined second copy
    hit, sent = run(cache, [], stream=True)
    assert (list(hit.iter_content(None)), sent) == ([b"ab", b"cd", b"ef"], [])
    assert run(cache, [])[0].content == b"abcdef"


def test_stale_if_error_serves_the_stored_response_on_a_5xx_or_a_failure(cache: brisk.Cache) -> None:
    from brisk.exceptions import ConnectionError as BriskConnectionError

    run(cache, [(200, {"Cache-Control": "max-age=0, stale-if-error=600"}, b"stored")])
    response, sent = run(cache, [(503, {}, b"down")])
    assert (len(sent), response.status_code, response.cache_status, response.content) == (
        1,
        200,
        "stale",
        b"stored",
    )
    no_retry = Retry(0, read=False, redirect=None)
    flow: Flow = request_flow(
        brisk.Request("GET", URL).prepare(), FlowSettings(SendOptions(), retry=no_retry, cache=cache)
    )
    assert isinstance(next(flow), Send)
    read = flow.throw(BriskConnectionError("refused"))
    assert isinstance(read, ReadBody)
    assert (read.response.cache_status, read.response.content) == ("stale", b"stored")


def test_without_stale_if_error_a_5xx_is_returned(cache: brisk.Cache) -> None:
    run(cache, [(200, {"Cache-Control": "max-age=0"}, b"stored")])
    response, _ = run(cache, [(503, {}, b"down")])
    assert (response.status_code, response.cache_status) == (503, "miss")


def test_an_entry_replaced_meanwhile_never_lends_its_successor_its_body(cache: brisk.Cache) -> None:
    # Another thread (or process) stores a new response for the URL between a lookup and the body read:
    # the entry looked up has no body any more; the new one's would not match its head (length, ETag).
    run(cache, [(200, {"Cache-Control": "max-age=60", "ETag": '"v1"'}, b"one")])
    looked_up = cache.lookup(URL, {})
    assert looked_up is not None
    newer = (200, {"Cache-Control": "max-age=60", "ETag": '"v2"'}, b"two, longer")
    run(cache, [newer], headers={"Cache-Control": "no-cache"})
    assert cache.body(looked_up) is None
    current = cache.lookup(URL, {})
    assert current is not None
    assert cache.body(current) == b"two, longer"


def test_a_hit_whose_entry_is_replaced_before_its_body_is_read_serves_the_newer_one(
    cache: brisk.Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Threads sharing a cache: between this request's lookup and its body read, another one stores a
    # newer response. The newer one is fresh too: it is served, and nothing goes to the network.
    run(cache, [(200, {"Cache-Control": "max-age=60", "ETag": '"v1"'}, b"one")])
    read_body = cache.body
    replaced = []

    def body_after_a_replacement(entry: Any) -> Any:
        if not replaced:
            replaced.append(True)
            run(cache, [(200, {"Cache-Control": "max-age=60", "ETag": '"v2"'}, b"two")],
                headers={"Cache-Control": "no-cache"})  # fmt: skip
        return read_body(entry)

    monkeypatch.setattr(cache, "body", body_after_a_replacement)
    response, sent = run(cache, [])
    assert (sent, response.cache_status, response.content) == ([], "hit", b"two")
    assert response.headers["ETag"] == '"v2"'


def test_a_304_for_an_entry_replaced_during_its_validation_does_not_relabel_the_new_one(
    cache: brisk.Cache,
) -> None:
    run(cache, [(200, {"Cache-Control": "no-cache", "ETag": '"v1"'}, b"one")])
    settings = FlowSettings(SendOptions(), retry=Retry(0, read=False, redirect=None), cache=cache)
    flow: Flow = request_flow(brisk.Request("GET", URL).prepare(), settings)
    validation = next(flow)
    assert isinstance(validation, Send)
    assert validation.request.headers["If-None-Match"] == '"v1"'
    # meanwhile, another request stores a new response for the URL
    run(cache, [(200, {"Cache-Control": "no-cache", "ETag": '"v2"'}, b"two, longer")])
    # the 304 is about v1, which is gone: it must not be applied to v2 (v1's head over v2's body)
    not_modified = Response(304, content=b"", headers={"ETag": '"v1"'})
    not_modified.request = validation.request
    effect = flow.send(not_modified)
    assert isinstance(effect, Drain)
    effect.response._drain(65536)
    again = flow.send(None)
    assert isinstance(again, Send)
    assert "If-None-Match" not in again.request.headers
    fresh = Response(200, content=b"three", headers={"Cache-Control": "no-cache", "ETag": '"v3"'})
    fresh.request = again.request
    effect = flow.send(fresh)
    assert isinstance(effect, ReadBody)
    assert effect.response.content == b"three"
    with pytest.raises(StopIteration) as stop:
        flow.send(None)
    assert (stop.value.value.content, stop.value.value.headers["ETag"]) == (b"three", '"v3"')
    stored = cache.lookup(URL, {})
    assert stored is not None
    assert (stored.first("etag"), cache.body(stored)) == ('"v3"', b"three")


def test_a_pickled_response_keeps_what_the_cache_did(cache: brisk.Cache) -> None:
    import pickle

    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"one")])
    hit, _ = run(cache, [])
    copy = pickle.loads(pickle.dumps(hit))
    assert (copy.from_cache, copy.cache_status, copy.content) == (True, "hit", b"one")
    plain = pickle.loads(pickle.dumps(Response(200, content=b"x")))
    assert (plain.from_cache, plain.cache_status) == (False, None)
    assert "cache_status" not in Response(200, content=b"x").__getstate__()  # unchanged without a cache


def test_a_get_with_a_body_is_neither_answered_nor_stored(cache: brisk.Cache) -> None:
    # GET with a body (Elasticsearch's searches, some RPC APIs): the key is method and URL, so a stored
    # answer to one query would answer every other query to that URL
    fresh = {"Cache-Control": "max-age=60"}
    first, _ = run(cache, [(200, fresh, b"hits for a")], json={"query": "a"})
    second, sent = run(cache, [(200, fresh, b"hits for b")], json={"query": "b"})
    assert (second.content, len(sent), second.cache_status) == (b"hits for b", 1, "bypass")
    assert (first.cache_status, len(cache)) == ("bypass", 0)


def test_an_unpickled_file_cache_with_its_own_size_opens_its_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle
    import sqlite3

    cache = brisk.Cache(tmp_path / "c.sqlite", max_size=4096)
    data = pickle.dumps(cache)
    cache.close()
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def counting(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(sqlite3, "connect", counting)
    copy = pickle.loads(data)
    assert copy.max_size == 4096
    assert len(opened) == 1  # (a second connection was opened and dropped unclosed)
    copy.close()
    for connection in opened:
        connection.close()


def test_what_a_client_certificate_fetched_is_stored_only_where_it_may_be_shared(cache: brisk.Cache) -> None:
    # a client certificate is a credential, as Authorization is (RFC 9111 section 3.5): its answer must not
    # answer a request made without it unless the server said it may be shared
    from brisk._transport.base import ConnectionConfig

    with_cert = SendOptions(config=ConnectionConfig(cert=("client.pem", "client.key")))

    run(cache, [(200, {"Cache-Control": "max-age=60"}, b"the holder's")], url=URL + "/p", options=with_cert)
    again, sent = run(cache, [(200, {"Cache-Control": "max-age=60"}, b"fresh")], url=URL + "/p")
    assert (again.content, again.cache_status, len(sent)) == (b"fresh", "miss", 1)

    run(
        cache,
        [(200, {"Cache-Control": "public, max-age=60"}, b"for anyone")],
        url=URL + "/s",
        options=with_cert,
    )
    shared, sent = run(cache, [], url=URL + "/s")
    assert (shared.content, shared.cache_status, sent) == (b"for anyone", "hit", [])
