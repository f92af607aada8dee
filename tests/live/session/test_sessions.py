"""Sessions: settings kept across requests, hooks, prepared requests, adapters, URL errors, closing, and the
precedence of every setting (argument > session > environment).

Every behaviour test takes ``client`` (or ``client_factory``), so it runs through ``brisk.Session`` and
``brisk.AsyncSession`` alike.
"""

from __future__ import annotations

import base64
import pickle
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

import brisk
from brisk.adapters import BaseAdapter, HTTPAdapter
from brisk.exceptions import (
    InvalidSchema,
    InvalidURL,
    MissingSchema,
    ProxyError,
    RetryError,
    SSLError,
    TooManyRedirects,
)
from brisk.testing.mock import MockTransport
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, LoopThread, SyncClient
from servers.raw import RawConnection, RawServer, http_response

Client = SyncClient | AsyncClient
Factory = Callable[..., Client]


def echo(response: brisk.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ------------------------------------------------------------------------------ settings kept across requests


def test_default_headers(client: Client) -> None:
    headers = client.session.headers
    assert headers["User-Agent"].startswith("brisk/")
    assert headers["Accept"] == "*/*"
    assert "gzip" in headers["Accept-Encoding"]
    assert isinstance(headers, brisk.structures.CaseInsensitiveDict)


def test_session_keeps_headers_params_and_auth(client: Client, app_server: ServerThread) -> None:
    session = client.session
    session.headers.update({"X-Token": "t-1"})
    session.params = {"api": "1"}
    session.auth = ("user", "secret")
    for _ in range(2):
        body = echo(client.get(app_server.url + "/anything"))
        assert body["headers"]["X-Token"] == "t-1"
        assert body["args"] == {"api": "1"}
        assert body["headers"]["Authorization"] == basic("user", "secret")
    # per-request values merge with the session's; None removes a session value for this request only
    body = echo(client.get(app_server.url + "/anything", params={"page": "2"}, headers={"X-Extra": "e"}))
    assert body["args"] == {"api": "1", "page": "2"}
    assert body["headers"]["X-Token"] == "t-1"
    assert body["headers"]["X-Extra"] == "e"
    body = echo(client.get(app_server.url + "/anything", params={"api": None}, headers={"X-Token": None}))
    assert body["args"] == {}
    assert "X-Token" not in body["headers"]
    # per-request auth wins over the session's
    assert client.get(app_server.url + "/basic-auth/user/secret").status_code == 200
    assert client.get(app_server.url + "/basic-auth/user/secret", auth=("user", "wrong")).status_code == 401
    assert echo(client.get(app_server.url + "/anything"))["args"] == {"api": "1"}


def test_session_header_set_to_none_is_left_out(client: Client, app_server: ServerThread) -> None:
    """requests' idiom for "send no User-Agent": a session header whose value is None is not sent, is not
    in the prepared request's headers, and a per-request value still wins."""
    session = client.session
    session.headers["User-Agent"] = None
    session.headers.update({"X-Off": None, "X-On": "on"})
    response = client.get(app_server.url + "/anything")
    sent = echo(response)["headers"]
    assert "User-Agent" not in sent
    assert "X-Off" not in sent
    assert sent["X-On"] == "on"
    assert "user-agent" not in response.request.headers
    assert "x-off" not in response.request.headers
    assert session.headers["X-Off"] is None  # the session keeps the setting itself, as requests does
    sent = echo(client.get(app_server.url + "/anything", headers={"X-Off": "given"}))["headers"]
    assert sent["X-Off"] == "given"
    session.headers = {"Accept": None, "X-Plain": "dict"}  # a plain dict assigned by the user
    sent = echo(client.get(app_server.url + "/anything"))["headers"]
    assert "Accept" not in sent
    assert sent["X-Plain"] == "dict"


def test_session_cookies_across_requests(client: Client, app_server: ServerThread) -> None:
    client.session.cookies.set("preset", "p")
    response = client.get(app_server.url + "/cookies/set", params={"flavour": "oat"})
    assert [r.status_code for r in response.history] == [302]
    assert response.json() == {"cookies": {"preset": "p", "flavour": "oat"}}
    assert client.session.cookies["flavour"] == "oat"
    # kept for later requests
    assert client.get(app_server.url + "/cookies").json() == {"cookies": {"preset": "p", "flavour": "oat"}}
    # and removed when the server expires them
    client.get(app_server.url + "/cookies/delete", params={"flavour": ""})
    assert "flavour" not in client.session.cookies
    assert client.get(app_server.url + "/cookies").json() == {"cookies": {"preset": "p"}}


def test_per_request_cookies_are_not_stored(client: Client, app_server: ServerThread) -> None:
    client.session.cookies.set("shared", "session")
    response = client.get(app_server.url + "/cookies", cookies={"once": "1", "shared": "request"})
    assert response.json() == {"cookies": {"once": "1", "shared": "request"}}  # the request's value wins
    assert "once" not in client.session.cookies
    assert client.session.cookies["shared"] == "session"
    assert client.get(app_server.url + "/cookies").json() == {"cookies": {"shared": "session"}}


def test_session_cookies_from_a_dict(client_factory: Factory, app_server: ServerThread) -> None:
    client = client_factory(cookies={"a": "1"}, headers={"X-Init": "yes"}, params={"p": "q"})
    body = echo(client.get(app_server.url + "/anything"))
    assert body["headers"]["Cookie"] == "a=1"
    assert body["headers"]["X-Init"] == "yes"
    assert body["args"] == {"p": "q"}


def test_max_redirects(client_factory: Factory, app_server: ServerThread) -> None:
    client = client_factory(max_redirects=2)
    assert client.get(app_server.url + "/redirect/2").status_code == 200
    with pytest.raises(TooManyRedirects, match="Exceeded 2 redirects"):
        client.get(app_server.url + "/redirect/3")
    client.session.max_redirects = 3
    assert client.get(app_server.url + "/redirect/3").status_code == 200


# ---------------------------------------------------------------------------------------------------- hooks


def test_response_hook_replaces_the_response(client: Client, app_server: ServerThread) -> None:
    def replace(response: brisk.Response, *args: Any, **kwargs: Any) -> brisk.Response:
        return brisk.Response(299, content=b"replaced", url=response.url, request=response.request)

    response = client.get(app_server.url + "/get", hooks={"response": replace})
    assert response.status_code == 299
    assert response.content == b"replaced"
    assert response.url == app_server.url + "/get"


def test_replaced_response_releases_its_connection(client: Client, raw_server: Any) -> None:
    def replace(response: brisk.Response, *args: Any, **kwargs: Any) -> brisk.Response:
        return brisk.Response(299, content=b"replaced", request=response.request)

    # a small unread body is drained: the connection goes back to the pool and is reused
    small: RawServer = raw_server()
    assert client.get(small.url + "/a", hooks={"response": replace}).status_code == 299
    assert client.get(small.url + "/b").content == b"ok"
    assert small.connection_count == 1
    assert len(small.requests) == 2

    # a large unread body is not worth draining: the connection is closed, not leaked
    closed = threading.Event()

    def large(conn: RawConnection) -> None:
        conn.recv_request()
        try:
            conn.send(http_response(200, b"x" * 2_000_000))
            conn.wait_closed(5)
        except OSError:
            pass  # the client closed (or reset) while we were still sending: that is closing too
        closed.set()

    big: RawServer = raw_server(large)
    assert client.get(big.url + "/big", hooks={"response": replace}).content == b"replaced"
    assert closed.wait(5), "the replaced response's connection was neither reused nor closed"


def test_response_hook_sees_every_hop_with_requests_kwargs(client: Client, app_server: ServerThread) -> None:
    seen: list[tuple[int, dict[str, Any]]] = []

    def record(r: brisk.Response, *args: Any, **kwargs: Any) -> None:
        seen.append((r.status_code, kwargs))

    response = client.get(app_server.url + "/redirect/2", hooks={"response": record}, timeout=7)
    assert response.status_code == 200
    assert [status for status, _ in seen] == [302, 302, 200]
    kwargs = seen[-1][1]
    assert {"timeout", "verify", "proxies", "stream", "cert"} <= set(kwargs)
    assert kwargs["timeout"].read == 7


def test_request_hook_modifies_the_outgoing_request(client: Client, app_server: ServerThread) -> None:
    def sign(request: brisk.PreparedRequest, *args: Any, **kwargs: Any) -> None:
        request.headers["X-Signature"] = f"signed:{request.method}:{request.path_url}"

    body = echo(client.get(app_server.url + "/anything/x?y=1", hooks={"request": sign}))
    assert body["headers"]["X-Signature"] == "signed:GET:/anything/x?y=1"


def test_session_and_request_hooks_both_run(client: Client, app_server: ServerThread) -> None:
    calls: list[str] = []

    def on_session(r: brisk.Response, *args: Any, **kwargs: Any) -> None:
        calls.append("session")

    def on_request(r: brisk.Response, *args: Any, **kwargs: Any) -> None:
        calls.append("request")

    def on_request_out(request: brisk.PreparedRequest, *args: Any, **kwargs: Any) -> None:
        calls.append("outgoing")

    client.session.hooks["response"].append(on_session)
    client.get(app_server.url + "/get", hooks={"response": [on_request], "request": on_request_out})
    assert sorted(calls) == ["outgoing", "request", "session"]
    assert calls[0] == "outgoing"
    calls.clear()
    client.get(app_server.url + "/get")  # per-request hooks do not stick to the session
    assert calls == ["session"]


def test_session_hooks_given_to_the_constructor(client_factory: Factory, app_server: ServerThread) -> None:
    statuses: list[int] = []
    client = client_factory(hooks={"response": lambda r, *a, **k: statuses.append(r.status_code)})
    client.get(app_server.url + "/status/418")
    client.get(app_server.url + "/get")
    assert statuses == [418, 200]


def test_async_def_hooks(loop_thread: LoopThread, app_server: ServerThread) -> None:
    client = AsyncClient(loop_thread)
    seen: list[str] = []

    async def outgoing(request: brisk.PreparedRequest) -> None:
        request.headers["X-Async-Hook"] = "1"

    async def incoming(response: brisk.Response, **kwargs: Any) -> brisk.Response:
        seen.append(response.url)
        return brisk.Response(203, json={"from": "hook"}, request=response.request)

    try:
        response = client.get(app_server.url + "/anything", hooks={"request": outgoing, "response": incoming})
        assert response.status_code == 203
        assert response.json() == {"from": "hook"}
        assert seen == [app_server.url + "/anything"]
        body = echo(client.get(app_server.url + "/anything", hooks={"request": outgoing}))
        assert body["headers"]["X-Async-Hook"] == "1"
    finally:
        client.close()


# ---------------------------------------------------------------------------------- prepared requests


def test_prepare_request_merges_the_session_then_send(client: Client, app_server: ServerThread) -> None:
    session = client.session
    session.headers["X-Session"] = "s"
    session.params = {"sp": "1"}
    session.cookies.set("sc", "1")
    request = brisk.Request(
        "post",
        app_server.url + "/anything",
        params={"rp": "2"},
        data={"field": "v"},
        headers={"X-Request": "r"},
        cookies={"rc": "2"},
        auth=("u", "p"),
    )
    prepared = client.prepare_request(request)
    assert isinstance(prepared, brisk.PreparedRequest)
    assert prepared.method == "POST"
    assert prepared.url == app_server.url + "/anything?sp=1&rp=2"  # session params first, as requests
    assert prepared.headers["X-Session"] == "s"
    assert prepared.headers["X-Request"] == "r"
    assert prepared.headers["Authorization"] == basic("u", "p")
    assert prepared.body == "field=v"  # text, as requests prepares a form
    cookie = prepared.headers["Cookie"]
    assert sorted(cookie.split("; ")) == ["rc=2", "sc=1"]
    prepared.headers["X-Edited"] = "after prepare"
    body = echo(client.send(prepared))
    assert body["method"] == "POST"
    assert body["args"] == {"rp": "2", "sp": "1"}
    assert body["form"] == {"field": "v"}
    assert body["headers"]["X-Edited"] == "after prepare"
    assert body["headers"]["X-Session"] == "s"


def test_request_prepare_without_a_session(client: Client, raw_server: Any) -> None:
    server: RawServer = raw_server()
    client.session.headers["X-Session-Only"] = "no"
    prepared = brisk.Request(
        "PUT", server.url + "/p", params={"a": "b"}, json={"k": [1]}, headers={"X-Mine": "1"}
    ).prepare()
    assert prepared.url == server.url + "/p?a=b"
    assert prepared.headers["Content-Type"] == "application/json"
    assert "X-Session-Only" not in prepared.headers
    response = client.send(prepared)
    assert response.content == b"ok"
    sent = server.requests[0]
    assert (sent.method, sent.target) == ("PUT", "/p?a=b")
    assert sent.header("X-Mine") == "1"
    assert sent.header("X-Session-Only") is None  # send() sends the prepared request as it is
    assert sent.body == b'{"k": [1]}'


def test_send_needs_a_prepared_request(client: Client, app_server: ServerThread) -> None:
    with pytest.raises(ValueError, match="PreparedRequest"):
        client.send(brisk.Request("GET", app_server.url + "/get"))


def test_send_follows_redirects_and_stream(client: Client, app_server: ServerThread) -> None:
    prepared = brisk.Request("GET", app_server.url + "/redirect/1").prepare()
    assert client.send(prepared).url == app_server.url + "/get"
    kept = client.send(prepared, allow_redirects=False)
    assert kept.status_code == 302
    streamed = client.send(brisk.Request("GET", app_server.url + "/bytes/10").prepare(), stream=True)
    assert streamed._content is None
    assert len(client.read(streamed)) == 10


# ------------------------------------------------------------------------------------------------ adapters


def _status_then_ok(statuses: list[int]) -> Callable[[RawConnection], None]:
    """A handler answering the server's n-th request with statuses[n], then 200 once they run out."""
    counter = iter(range(1_000_000))
    lock = threading.Lock()

    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            with lock:
                index = next(counter)
            status = statuses[index] if index < len(statuses) else 200
            conn.send(http_response(status, f"answer {index}".encode()))

    return handler


def test_mounted_http_adapter_retry_is_used(client_factory: Factory, raw_server: Any) -> None:
    server: RawServer = raw_server(_status_then_ok([503, 503]))
    plain = client_factory()
    first = plain.get(server.url + "/x")
    assert first.status_code == 503  # no status retries unless asked for
    assert len(server.requests) == 1

    server = raw_server(_status_then_ok([503, 503]))
    client = client_factory()
    adapter = HTTPAdapter(max_retries=brisk.Retry(total=3, status_forcelist=[503], backoff_factor=0))
    client.session.mount(server.url + "/", adapter)
    assert client.session.get_adapter(server.url + "/x") is adapter
    assert isinstance(client.session.get_adapter("http://elsewhere.example/"), HTTPAdapter)
    assert client.session.get_adapter("http://elsewhere.example/") is not adapter
    response = client.get(server.url + "/x")
    assert response.status_code == 200
    assert response.content == b"answer 2"
    assert len(server.requests) == 3


def test_mounted_retry_exhausted_raises_retry_error(client_factory: Factory, raw_server: Any) -> None:
    server: RawServer = raw_server(_status_then_ok([503] * 10))
    client = client_factory()
    client.session.mount("http://", HTTPAdapter(max_retries=brisk.Retry(total=2, status_forcelist=[503])))
    with pytest.raises(RetryError) as caught:
        client.get(server.url + "/always-busy")
    assert isinstance(caught.value, brisk.RequestException)
    assert "503" in str(caught.value)
    assert len(server.requests) == 3


class MockAdapter(BaseAdapter):
    """A requests-style adapter serving ``mock://`` URLs itself."""

    def __init__(self) -> None:
        self.sent: list[tuple[brisk.PreparedRequest, dict[str, Any]]] = []
        self.closed = False

    def send(self, request: brisk.PreparedRequest, **kwargs: Any) -> brisk.Response:  # type: ignore[override]
        self.sent.append((request, kwargs))
        response = brisk.Response(
            200,
            json={
                "method": request.method,
                "url": request.url,
                "body": request.body,  # a form is text, as in requests
            },
            request=request,
        )
        response.url = request.url or ""
        return response

    def close(self) -> None:
        self.closed = True


def test_custom_adapter_for_a_custom_scheme(client: Client) -> None:
    adapter = MockAdapter()
    client.session.mount("mock://", adapter)
    seen: list[int] = []
    response = client.post(
        "mock://service/items",
        params={"q": "1"},
        data="payload",
        hooks={"response": lambda r, **k: seen.append(1)},
    )
    assert response.json() == {"method": "POST", "url": "mock://service/items?q=1", "body": "payload"}
    assert response.url == "mock://service/items?q=1"
    assert seen == [1]
    request, kwargs = adapter.sent[0]
    assert request.headers["User-Agent"].startswith("brisk/")
    assert {"stream", "timeout", "verify", "cert", "proxies"} <= set(kwargs)
    client.close()
    assert adapter.closed, "closing the session closes its mounted adapters (as requests does)"


def test_longest_mount_prefix_wins(client: Client) -> None:
    general, specific = MockAdapter(), MockAdapter()
    client.session.mount("mock://", general)
    client.session.mount("mock://special/", specific)
    client.get("mock://special/a")
    client.get("mock://other/b")
    assert [r.url for r, _ in specific.sent] == ["mock://special/a"]
    assert [r.url for r, _ in general.sent] == ["mock://other/b"]


# -------------------------------------------------------------------------------------------- URL errors


def test_unsupported_scheme_raises_invalid_schema(client: Client) -> None:
    with pytest.raises(InvalidSchema) as caught:
        client.get("ftp://example.com/file.txt")
    assert str(caught.value) == "No connection adapters were found for 'ftp://example.com/file.txt'"
    assert isinstance(caught.value, ValueError)
    with pytest.raises(InvalidSchema, match="No connection adapters were found for"):
        client.session.get_adapter("gopher://example.com/")


def test_missing_schema_message(client: Client) -> None:
    with pytest.raises(MissingSchema) as caught:
        client.get("example.com/path")
    assert (
        str(caught.value)
        == "Invalid URL 'example.com/path': No scheme supplied. Perhaps you meant https://example.com/path?"
    )
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://", "Invalid URL 'http://': No host supplied"),
        ("http://exa mple.com/", "Invalid URL 'http://exa mple.com/'"),
        ("http://example.com:99999/", "Invalid URL 'http://example.com:99999/'"),
    ],
)
def test_invalid_url_messages(client: Client, url: str, message: str) -> None:
    with pytest.raises(InvalidURL) as caught:
        client.get(url)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)


# -------------------------------------------------------------------------------------------------- closing


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_with_session_closes_its_connections(mode: str, raw_server: Any, loop_thread: LoopThread) -> None:
    closed = threading.Event()

    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(200, b"ok"))
        closed.set()  # the client closed the kept-alive connection

    server: RawServer = raw_server(handler)
    if mode == "sync":
        with brisk.Session() as session:
            assert session.get(server.url + "/").content == b"ok"
            assert not closed.wait(0.2), "the connection stays open while the session is in use"
    else:

        async def run() -> None:
            async with brisk.AsyncSession() as session:
                assert (await session.get(server.url + "/")).content == b"ok"
                assert not closed.is_set()

        loop_thread.run(run())
    assert closed.wait(5), "leaving `with` closes the pooled connection"
    assert server.connection_count == 1


def test_close_then_use_again(client: Client, app_server: ServerThread) -> None:
    assert client.get(app_server.url + "/get").ok
    client.close()
    assert client.get(app_server.url + "/get").ok  # requests allows this: new connections are made


# ------------------------------------------------------------------------------------------------- pickling


def test_a_pickled_session_keeps_its_settings_with_a_fresh_pool(
    client: Client, app_server: ServerThread
) -> None:
    # requests pickles a Session's settings (multiprocessing, caches of configured clients); the copy opens
    # its own connections: the pool, its locks and the session's caches do not travel
    session = client.session
    session.headers["X-Kept"] = "yes"
    session.auth = ("user", "pass")
    session.retries = brisk.Retry(3, status_forcelist=[503])
    session.rate_limit = brisk.RateLimit(1000, burst=50)
    session.mount("http://", HTTPAdapter(pool_maxsize=20))
    assert client.get(app_server.url + "/cookies/set", params={"flavour": "oat"}).ok  # a cookie, a pool
    assert session._transport is not None
    session.params = {"p": "q"}

    copied = pickle.loads(pickle.dumps(session))
    assert type(copied) is type(session)
    assert copied._transport is None
    assert copied.retries == session.retries
    assert copied.rate_limit is not None
    assert copied.rate_limit.burst == 50
    assert copied.limits == session.limits
    assert copied.adapters["http://"].pool_maxsize == 20  # type: ignore[attr-defined]

    client.close()
    client.session = copied  # the client now sends through the copy
    body = echo(client.get(app_server.url + "/anything"))
    assert body["headers"]["X-Kept"] == "yes"
    assert body["headers"]["Authorization"] == basic("user", "pass")
    assert body["headers"]["Cookie"] == "flavour=oat"
    assert body["args"] == {"p": "q"}
    assert copied._transport is not None
    assert copied._transport is not session._transport


def _answer_teapot(request: brisk.PreparedRequest) -> brisk.Response:
    return brisk.Response(418, text="from the mock")


def test_a_pickled_session_keeps_the_transport_it_was_given() -> None:
    # a transport passed in is the caller's: the copy must not send to the network instead of a mock
    copied = pickle.loads(pickle.dumps(brisk.Session(transport=MockTransport(_answer_teapot))))
    response = copied.get("http://example.invalid/")
    assert response.status_code == 418
    assert response.text == "from the mock"


# ---------------------------------------------------------------------------------- settings precedence

_PROXY_VARIABLES = (
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No proxy, CA-bundle or netrc settings from the machine running the tests."""
    for name in (*_PROXY_VARIABLES, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-such-netrc"))
    return monkeypatch


@pytest.fixture
def other_ca_bundle(tmp_path: Path) -> str:
    """A CA that did not issue the test servers' certificates."""
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def test_verify_from_environment(
    client_factory: Factory, clean_env: pytest.MonkeyPatch, tls_app_server: ServerThread, ca_bundle: str
) -> None:
    url = tls_app_server.url + "/get"
    clean_env.setenv("REQUESTS_CA_BUNDLE", ca_bundle)
    assert client_factory().get(url).status_code == 200
    clean_env.delenv("REQUESTS_CA_BUNDLE")
    clean_env.setenv("CURL_CA_BUNDLE", ca_bundle)
    assert client_factory().get(url).status_code == 200
    clean_env.delenv("CURL_CA_BUNDLE")
    with pytest.raises(SSLError):  # the test CA is in no default trust store
        client_factory().get(url)


def test_verify_precedence(
    client_factory: Factory,
    clean_env: pytest.MonkeyPatch,
    tls_app_server: ServerThread,
    ca_bundle: str,
    other_ca_bundle: str,
) -> None:
    url = tls_app_server.url + "/get"
    clean_env.setenv("REQUESTS_CA_BUNDLE", other_ca_bundle)
    with pytest.raises(SSLError):
        client_factory().get(url)  # the environment's (wrong) bundle is used
    # the session setting beats the environment
    assert client_factory(verify=ca_bundle).get(url).status_code == 200
    # the argument beats the session
    wrong_session = client_factory(verify=other_ca_bundle)
    assert wrong_session.get(url, verify=ca_bundle).status_code == 200
    with pytest.raises(SSLError):
        wrong_session.get(url)
    assert client_factory().get(url, verify=False).status_code == 200
    # and an argument that is stricter than the session is honoured on a pooled session too:
    # the verified connection of the first request is not reused for a request verifying another CA
    clean_env.setenv("REQUESTS_CA_BUNDLE", ca_bundle)
    shared = client_factory()
    assert shared.get(url).status_code == 200
    with pytest.raises(SSLError):
        shared.get(url, verify=other_ca_bundle)
    # verify=False on a session never serves a verifying request from its unverified connections
    lax = client_factory(verify=False)
    assert lax.get(url).status_code == 200
    with pytest.raises(SSLError):
        lax.get(url, verify=other_ca_bundle)


def test_proxy_from_environment_and_precedence(
    client_factory: Factory, clean_env: pytest.MonkeyPatch, app_server: ServerThread, unused_port: int
) -> None:
    dead_proxy = f"http://127.0.0.1:{unused_port}"
    url = app_server.url + "/get"
    clean_env.setenv("HTTP_PROXY", dead_proxy)
    with pytest.raises(ProxyError) as caught:
        client_factory().get(url)  # the environment's proxy is used (and nothing listens there)
    assert str(unused_port) in str(caught.value)
    # an explicit "no proxy for http" wins over the environment
    assert client_factory().get(url, proxies={"http": None}).status_code == 200
    assert client_factory().get(url, proxies={"all": None}).status_code == 200
    # so does the session's setting ...
    session_direct = client_factory(proxies={"http": None})
    assert session_direct.get(url).status_code == 200
    # ... and the argument wins over the session
    with pytest.raises(ProxyError):
        session_direct.get(url, proxies={"http": dead_proxy})
    # requests' rule: an empty proxies={} names no proxy, so the environment still applies
    with pytest.raises(ProxyError):
        client_factory().get(url, proxies={})
    # trust_env=False ignores the environment
    assert client_factory(trust_env=False).get(url).status_code == 200


@pytest.mark.parametrize("name", ["NO_PROXY", "no_proxy"])
@pytest.mark.parametrize(
    ("value", "bypassed"),
    [
        ("127.0.0.1", True),
        ("localhost,127.0.0.1", True),
        ("127.0.0.0/8", True),
        ("*", True),
        ("example.com", False),
    ],
)
def test_no_proxy_exempts_hosts(
    client_factory: Factory,
    clean_env: pytest.MonkeyPatch,
    app_server: ServerThread,
    unused_port: int,
    name: str,
    value: str,
    bypassed: bool,
) -> None:
    clean_env.setenv("http_proxy", f"http://127.0.0.1:{unused_port}")
    clean_env.setenv(name, value)
    client = client_factory()
    if bypassed:
        assert client.get(app_server.url + "/get").status_code == 200
    else:
        with pytest.raises(ProxyError):
            client.get(app_server.url + "/get")


def test_merge_environment_settings(
    clean_env: pytest.MonkeyPatch, ca_bundle: str, unused_port: int, client: Client
) -> None:
    clean_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_port}")
    clean_env.setenv("REQUESTS_CA_BUNDLE", ca_bundle)
    settings = client.session.merge_environment_settings("http://example.org/", {}, None, None, None)
    assert settings["proxies"] == {"http": f"http://127.0.0.1:{unused_port}"}
    assert settings["verify"] == ca_bundle
    assert settings["stream"] is False
    explicit = client.session.merge_environment_settings(
        "http://example.org/", {"http": None}, True, False, None
    )
    assert explicit["proxies"] == {}
    assert explicit["verify"] is False
    assert explicit["stream"] is True


def _write_netrc(path: Path, host: str, login: str, password: str) -> str:
    path.write_text(f"machine {host}\n  login {login}\n  password {password}\n")
    path.chmod(0o600)
    return str(path)


def test_netrc_precedence(
    client_factory: Factory, clean_env: pytest.MonkeyPatch, app_server: ServerThread, tmp_path: Path
) -> None:
    clean_env.setenv("NETRC", _write_netrc(tmp_path / "netrc", "127.0.0.1", "nuser", "npass"))
    client = client_factory()
    # used when no auth is given
    assert client.get(app_server.url + "/basic-auth/nuser/npass").status_code == 200
    assert echo(client.get(app_server.url + "/anything"))["headers"]["Authorization"] == basic(
        "nuser", "npass"
    )
    # an explicit Authorization header wins
    body = echo(client.get(app_server.url + "/anything", headers={"Authorization": "Bearer tok"}))
    assert body["headers"]["Authorization"] == "Bearer tok"
    # so does auth= and the session's auth
    body = echo(client.get(app_server.url + "/anything", auth=("arg", "pw")))
    assert body["headers"]["Authorization"] == basic("arg", "pw")
    with_session_auth = client_factory(auth=("sess", "pw"))
    body = echo(with_session_auth.get(app_server.url + "/anything"))
    assert body["headers"]["Authorization"] == basic("sess", "pw")
    # and credentials in the URL
    userinfo = app_server.url.replace("http://", "http://urluser:urlpw@")
    body = echo(client.get(userinfo + "/anything"))
    assert body["headers"]["Authorization"] == basic("urluser", "urlpw")
    # trust_env=False: no netrc
    assert client_factory(trust_env=False).get(app_server.url + "/basic-auth/nuser/npass").status_code == 401


def test_netrc_for_another_host_is_not_used(
    client: Client, clean_env: pytest.MonkeyPatch, app_server: ServerThread, tmp_path: Path
) -> None:
    clean_env.setenv("NETRC", _write_netrc(tmp_path / "netrc", "example.com", "nuser", "npass"))
    assert client.get(app_server.url + "/basic-auth/nuser/npass").status_code == 401
    assert "Authorization" not in echo(client.get(app_server.url + "/anything"))["headers"]


def test_trust_env_false_disables_all_three(
    client_factory: Factory,
    clean_env: pytest.MonkeyPatch,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    unused_port: int,
    tmp_path: Path,
) -> None:
    clean_env.setenv("REQUESTS_CA_BUNDLE", ca_bundle)
    clean_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_port}")
    clean_env.setenv("NETRC", _write_netrc(tmp_path / "netrc", "127.0.0.1", "nuser", "npass"))
    trusting = client_factory()
    assert trusting.get(tls_app_server.url + "/get").status_code == 200  # CA bundle from the environment
    with pytest.raises(ProxyError):
        trusting.get(app_server.url + "/get")  # proxy from the environment
    client = client_factory(trust_env=False)
    assert client.session.trust_env is False
    with pytest.raises(SSLError):
        client.get(tls_app_server.url + "/get")  # REQUESTS_CA_BUNDLE ignored
    assert client.get(app_server.url + "/get").status_code == 200  # HTTP_PROXY ignored
    assert client.get(app_server.url + "/basic-auth/nuser/npass").status_code == 401  # netrc ignored
    # the attribute can be flipped on an existing session, as in requests
    trusting.session.trust_env = False
    assert trusting.get(app_server.url + "/get").status_code == 200
