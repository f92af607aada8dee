"""requests' sending chain on brisk (issue 19): ``Session.request`` → ``send`` → ``get_adapter(url).send`` →
``build_response``, and the overrides and patches code written for requests hooks into it.

Every test sends over a real socket (the test app, or a scripted raw server) unless the point is that a
patched link answers instead of the network; then the server proves it received nothing.
"""

from __future__ import annotations

import asyncio
import pickle
from typing import Any
from unittest import mock

import pytest

import brisk
from brisk.adapters import BaseAdapter, HTTPAdapter, sends_itself
from brisk.exceptions import ReadTimeout
from brisk.testing.server import ServerThread
from servers.raw import RawConnection, RawServerFactory

pytestmark = pytest.mark.timeout(30)


class Recorder(HTTPAdapter):
    """Overrides every link of the chain and records the calls, then does what requests' adapter does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.calls: list[str] = []
        self.pool_kwargs: dict[str, Any] = {}
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("init_poolmanager")
        kwargs["socket_options"] = [("marker", 1)]
        super().init_poolmanager(*args, **kwargs)

    def send(self, request: brisk.PreparedRequest, **kwargs: Any) -> brisk.Response:
        self.calls.append(f"send {request.url}")
        return super().send(request, **kwargs)

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("get_connection_with_tls_context")
        return super().get_connection_with_tls_context(*args, **kwargs)

    def cert_verify(self, *args: Any) -> None:
        self.calls.append("cert_verify")
        super().cert_verify(*args)

    def request_url(self, *args: Any) -> str:
        self.calls.append("request_url")
        return super().request_url(*args)

    def add_headers(self, request: brisk.PreparedRequest, **kwargs: Any) -> None:
        self.calls.append("add_headers")
        request.headers["X-Added-By-Adapter"] = "yes"

    def build_response(self, req: brisk.PreparedRequest, resp: Any) -> brisk.Response:
        self.calls.append("build_response")
        response = super().build_response(req, resp)
        response.built_by = self  # type: ignore[attr-defined]
        return response


def test_every_link_of_an_overriding_adapter_is_called_in_requests_order(app_server: ServerThread) -> None:
    adapter = Recorder()
    with brisk.Session() as session:
        session.mount("http://", adapter)
        r = session.get(app_server.url + "/redirect/1")
    assert r.status_code == 200
    assert r.json()["headers"]["X-Added-By-Adapter"] == "yes"
    assert r.built_by is adapter  # type: ignore[attr-defined]
    assert r.connection is adapter
    assert adapter.poolmanager.connection_pool_kw == {  # as urllib3's PoolManager keeps them
        "maxsize": 10, "block": False, "socket_options": [("marker", 1)],
    }  # fmt: skip
    hop = [
        "get_connection_with_tls_context", "cert_verify", "request_url", "add_headers", "build_response",
    ]  # fmt: skip
    assert adapter.calls == [
        "init_poolmanager",
        f"send {app_server.url}/redirect/1", *hop,
        f"send {app_server.url}/get", *hop,
    ]  # fmt: skip
    assert len(r.history) == 1  # the session followed the redirect, as requests' does


def test_a_plain_http_adapter_keeps_the_direct_path() -> None:
    session = brisk.Session()
    session.mount("https://", HTTPAdapter(max_retries=3, pool_maxsize=20))
    assert not session._routes_through_adapters()
    assert not sends_itself(HTTPAdapter())
    assert sends_itself(Recorder())
    session.mount("https://api.test/", Recorder())
    assert session._routes_through_adapters()


class TimeoutHTTPAdapter(HTTPAdapter):
    """The tutorials' recipe: a default timeout for every request that names none."""

    def __init__(self, *args: Any, timeout: float, **kwargs: Any) -> None:
        self.timeout = timeout
        self.seen: list[Any] = []
        super().__init__(*args, **kwargs)

    def send(self, request: brisk.PreparedRequest, **kwargs: Any) -> brisk.Response:
        self.seen.append(kwargs.get("timeout"))
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def _silent(conn: RawConnection) -> None:
    conn.recv_request()
    conn.sleep(10)


def test_the_timeout_adapter_recipe_is_honoured(raw_server: RawServerFactory) -> None:
    server = raw_server(_silent)
    adapter = TimeoutHTTPAdapter(timeout=0.3)
    with brisk.Session() as session:
        session.mount("http://", adapter)
        with pytest.raises(ReadTimeout):
            session.get(server.url)
        assert adapter.seen == [None]  # no timeout given: the adapter's default applies
        with pytest.raises(ReadTimeout):
            session.get(server.url, timeout=0.2)
        assert adapter.seen[1].read == 0.2  # an explicit one reaches the adapter


def test_patching_http_adapter_send_answers_without_the_network(raw_server: RawServerFactory) -> None:
    """What ``responses`` does: ``mock.patch("requests.adapters.HTTPAdapter.send", autospec=True)``."""
    server = raw_server()
    calls: list[tuple[Any, ...]] = []

    def fake_send(adapter: HTTPAdapter, request: brisk.PreparedRequest, **kwargs: Any) -> brisk.Response:
        calls.append((adapter, request.url, kwargs["stream"]))
        response = brisk.Response(200, content=b"mocked")
        return adapter.build_response(request, response.raw)

    with brisk.Session() as session:
        session.get(server.url)  # a first request on the direct path, before the patch
        with mock.patch("brisk.adapters.HTTPAdapter.send", side_effect=fake_send, autospec=True):
            r = session.get(server.url + "/patched")
        after = session.get(server.url + "/after")
    assert r.content == b"mocked"
    assert r.connection is session.get_adapter(server.url)
    assert [url for _, url, _ in calls] == [server.url + "/patched"]
    assert [request.target for request in server.requests] == ["/", "/after"]
    assert after.status_code == 200


class Canned(BaseAdapter):
    """A user adapter that answers everything itself, counting calls."""

    def __init__(self, status: int = 200, error: Exception | None = None) -> None:
        super().__init__()
        self.status = status
        self.error = error
        self.sent: list[str] = []

    def send(self, request: brisk.PreparedRequest, **kwargs: Any) -> brisk.Response:
        self.sent.append(request.url or "")
        if self.error is not None:
            raise self.error
        response = brisk.Response(self.status, content=b"canned")
        response.request = request
        response.url = request.url or ""
        return response


def test_a_patched_get_adapter_routes_every_request(raw_server: RawServerFactory) -> None:
    """What requests-mock does: ``session.get_adapter`` replaced on the instance (or the class)."""
    server = raw_server()
    canned = Canned()
    with brisk.Session() as session:
        with mock.patch.object(session, "get_adapter", return_value=canned):
            r = session.get(server.url + "/x")
        assert r.content == b"canned"
        with mock.patch.object(brisk.Session, "get_adapter", return_value=canned):
            assert session.get(server.url + "/y").content == b"canned"
        assert session.get(server.url + "/z").status_code == 200
    assert canned.sent == [server.url + "/x", server.url + "/y"]
    assert [request.target for request in server.requests] == ["/z"]


def test_a_user_adapter_failing_is_not_retried_by_the_session(raw_server: RawServerFactory) -> None:
    """requests retries inside its adapter (``max_retries``, none by default), never around it: a test double
    that raises ConnectionError is called once."""
    canned = Canned(error=brisk.exceptions.ConnectionError("refused by the test double"))
    with brisk.Session() as session:
        session.mount("http://", canned)
        with pytest.raises(brisk.exceptions.ConnectionError, match="test double"):
            session.get("http://127.0.0.1:9/")
    assert canned.sent == ["http://127.0.0.1:9/"]


class CountingSession(brisk.Session):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, request: brisk.PreparedRequest, **kwargs: Any) -> brisk.Response:  # type: ignore[override]
        self.sent.append((request.url or "", kwargs))
        return super().send(request, **kwargs)


def test_a_session_send_override_is_called_by_every_verb(app_server: ServerThread) -> None:
    with CountingSession() as session:
        r = session.post(app_server.url + "/post", json={"a": 1}, cookies={"c": "1"})
        assert session.get(app_server.url + "/get", params={"q": "v"}).json()["args"] == {"q": "v"}
    assert r.json()["json"] == {"a": 1}
    assert r.json()["headers"]["Cookie"] == "c=1"
    assert [url for url, _ in session.sent] == [app_server.url + "/post", app_server.url + "/get?q=v"]
    kwargs = session.sent[0][1]
    assert set(kwargs) >= {"timeout", "allow_redirects", "proxies", "stream", "verify", "cert"}
    expected = session.merge_environment_settings(app_server.url, {}, None, None, None)
    assert (kwargs["verify"], kwargs["stream"]) == (expected["verify"], False)


def test_patching_session_send_intercepts_requests(raw_server: RawServerFactory) -> None:
    server = raw_server()
    with brisk.Session() as session, mock.patch.object(brisk.Session, "send") as send:
        send.return_value = brisk.Response(204)
        assert session.get(server.url).status_code == 204
    assert send.call_count == 1
    assert server.requests == []


class DefaultTimeoutSession(brisk.Session):
    """The wrapper many projects write: a default timeout added in ``request``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: Any, **kwargs: Any) -> brisk.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", 7)
        self.calls.append((method, url, dict(kwargs)))
        return super().request(method, url, **kwargs)


def test_a_bare_get_goes_through_a_request_that_code_replaced(raw_server: RawServerFactory) -> None:
    """``get(url)`` alone skips ``request`` only where nobody replaced it: a subclass's ``request``, a patch
    of the class's and one of the instance's all see the call."""
    server = raw_server()
    with DefaultTimeoutSession() as session:
        assert session.get(server.url).status_code == 200
    assert session.calls == [("GET", server.url, {"timeout": 7})]
    with brisk.Session() as session, mock.patch.object(brisk.Session, "request") as request:
        request.return_value = brisk.Response(204)
        assert session.get(server.url).status_code == 204
    request.assert_called_once_with("GET", server.url)
    with brisk.Session() as session, mock.patch.object(session, "request") as request:
        request.return_value = brisk.Response(205)
        assert session.get(server.url).status_code == 205
    request.assert_called_once_with("GET", server.url)
    assert len(server.requests) == 1  # only the subclass's call reached the server


def test_an_async_bare_get_goes_through_a_request_that_code_replaced(raw_server: RawServerFactory) -> None:
    """The same for ``AsyncSession``, whose ``get(url)`` returns the awaitable of ``request``'s."""
    server = raw_server()

    async def main() -> list[int]:
        statuses = []
        async with brisk.AsyncSession() as session:
            with mock.patch.object(brisk.AsyncSession, "request", new_callable=mock.AsyncMock) as request:
                request.return_value = brisk.Response(204)
                statuses.append((await session.get(server.url)).status_code)
            request.assert_awaited_once_with("GET", server.url)
            with mock.patch.object(session, "request", new_callable=mock.AsyncMock) as request:
                request.return_value = brisk.Response(205)
                statuses.append((await session.get(server.url)).status_code)
            request.assert_awaited_once_with("GET", server.url)
            statuses.append((await session.get(server.url)).status_code)  # the patches gone: the server
        return statuses

    assert asyncio.run(main()) == [204, 205, 200]
    assert len(server.requests) == 1


def test_cert_verify_refuses_a_missing_ca_bundle_before_sending(raw_server: RawServerFactory) -> None:
    server = raw_server()
    with brisk.Session() as session:
        session.mount("http://", Recorder())
        with pytest.raises(OSError, match=r"invalid path: /nonexistent/ca\.pem"):
            HTTPAdapter().cert_verify(mock.Mock(), "https://x.test/", "/nonexistent/ca.pem", None)
        with pytest.raises(OSError, match="TLS certificate file, invalid path"):
            session.get(server.url, cert="/nonexistent/client.pem")
    assert server.requests == []


def test_the_adapter_pickles_by_its_attrs() -> None:
    adapter = HTTPAdapter(pool_connections=3, pool_maxsize=7, max_retries=2)
    copy = pickle.loads(pickle.dumps(adapter))
    assert (copy.pool_connections, copy.pool_maxsize, copy.max_retries.total) == (3, 7, 2)
    assert copy.poolmanager.maxsize == 7
    assert set(adapter.__getstate__()) == set(HTTPAdapter.__attrs__)


def test_adapter_send_on_its_own(app_server: ServerThread) -> None:
    """``HTTPAdapter().send(prepared)`` works without a session (the body read unless ``stream``)."""
    adapter = HTTPAdapter()
    prepared = brisk.Request("GET", app_server.url + "/get", params={"k": "v"}).prepare()
    r = adapter.send(prepared, timeout=5)
    assert r.json()["args"] == {"k": "v"}
    assert r.connection is adapter
    adapter.close()


@pytest.mark.parametrize("method", ["OPTIONS", "DELETE", "POST", "GET", "HEAD"])
def test_one_content_length_rule_for_session_and_prepare(raw_server: RawServerFactory, method: str) -> None:
    """requests sends ``Content-Length: 0`` for a bodiless request of any method but GET and HEAD, whether
    prepared by ``Request.prepare()`` or by the session (brisk's session once left it off OPTIONS)."""
    server = raw_server()
    with brisk.Session() as session:
        session.request(method, server.url)
        session.send(brisk.Request(method, server.url).prepare())
    expected = None if method in ("GET", "HEAD") else "0"
    assert [r.header("content-length") for r in server.requests] == [expected, expected]


def test_urllib3_retry_on_an_adapter_stays_urllib3s() -> None:
    """Code written for requests calls ``adapter.max_retries.increment(...)`` and catches urllib3's
    MaxRetryError (responses does): the object given must come back, while brisk sends with its own copy."""
    urllib3_retry = pytest.importorskip("urllib3.util.retry", reason="urllib3 is not installed")
    given = urllib3_retry.Retry(total=2, status_forcelist=[500], backoff_factor=0)
    adapter = HTTPAdapter(max_retries=given)
    assert adapter.max_retries is given
    policy = adapter.retry_policy()
    assert isinstance(policy, brisk.Retry)
    assert (policy.total, policy.status_forcelist) == (2, frozenset({500}))
    assert isinstance(HTTPAdapter(max_retries=3).max_retries, brisk.Retry)


def test_brisk_retry_increments_on_a_urllib3_shaped_response() -> None:
    raw = mock.Mock(spec=["status", "headers"], status=503, headers={"location": None})
    spent = brisk.Retry(total=2, status_forcelist=[503]).increment("GET", "http://x.test/", response=raw)
    assert spent.total == 1
    assert spent.history[-1].status == 503


def test_build_response_from_a_urllib3_shaped_raw_keeps_requests_values() -> None:
    raw = mock.Mock(
        spec=["status", "headers", "reason", "read"], status=419, headers={"X-A": "1"}, reason=None
    )
    request = brisk.Request("GET", "http://x.test/").prepare()
    response = HTTPAdapter().build_response(request, raw)
    assert (response.status_code, response.reason, response.headers["x-a"]) == (419, None, "1")
    with pytest.raises(brisk.exceptions.HTTPError, match="419 Client Error"):
        response.raise_for_status()


def test_prepared_request_url_accepts_bytes_and_headers_print_as_a_dict() -> None:
    prepared = brisk.Request("GET", "http://x.test/", headers={"Accept": "text/plain"}).prepare()
    prepared.url = b"http://x.test/signed?oauth=1"  # requests-oauthlib's OAuth1 sets bytes
    assert prepared.url == "http://x.test/signed?oauth=1"
    assert repr(prepared.headers) == "{'Accept': 'text/plain'}"  # as requests' CaseInsensitiveDict prints


def test_a_file_body_reads_like_the_file(tmp_path: Any) -> None:
    """requests keeps the file object in ``PreparedRequest.body``; test doubles (responses) ``read()`` it
    to record what the request carried. brisk's streamed body reads through to the file."""
    path = tmp_path / "upload.bin"
    path.write_bytes(b"test")
    with path.open("rb") as f:
        prepared = brisk.Request("POST", "http://x.test/", data=f).prepare()
        assert prepared.headers["Content-Length"] == "4"
        assert prepared.body.read() == b"test"


def test_a_response_hook_sends_again_through_response_connection(app_server: ServerThread) -> None:
    """NTLM and proxy-Digest auth (requests-toolbelt) answer a challenge from a response hook with
    ``r.connection.send(prepared, **kwargs)``: the connection is the adapter, also on brisk's direct path."""
    seen: list[Any] = []

    def resend_once(r: brisk.Response, **kwargs: Any) -> brisk.Response:
        seen.append(r.connection)
        if r.request.headers.get("X-Second") is not None:
            return r
        again = r.request.copy()
        again.headers["X-Second"] = "yes"
        return r.connection.send(again, **kwargs)  # type: ignore[no-any-return]

    with brisk.Session() as session:
        r = session.get(app_server.url + "/get", hooks={"response": resend_once})
    assert seen[0] is session.get_adapter(app_server.url)
    assert r.json()["headers"]["X-Second"] == "yes"
