"""requests' semi-public machinery that code built on it drives by hand (issue 19): the session's
``resolve_redirects`` and ``rebuild_proxies``, ``utils.rewind_body`` with ``PreparedRequest._body_position``,
``Response._content_consumed``, and urllib3's ``Timeout`` as ``timeout=``. Over real sockets where a request
is sent."""

from __future__ import annotations

import io
from typing import Any

import pytest

import brisk
from brisk.exceptions import UnrewindableBodyError
from brisk.testing.server import ServerThread
from servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)


def test_resolve_redirects_follows_one_hop_at_a_time(app_server: ServerThread) -> None:
    with brisk.Session() as session:
        first = session.get(app_server.url + "/redirect/2", allow_redirects=False)
        assert first.is_redirect
        hops = list(session.resolve_redirects(first, first.request))
    assert [r.status_code for r in hops] == [302, 200]
    assert hops[-1].url == app_server.url + "/get"
    assert [r.url for r in hops[-1].history] == [first.url, hops[0].url]


def test_resolve_redirects_drops_the_body_and_its_headers_after_a_302(app_server: ServerThread) -> None:
    with brisk.Session() as session:
        prepared = session.prepare_request(brisk.Request("POST", app_server.url + "/post", data={"a": "1"}))
        response = session.send(prepared)
        response.status_code = 302  # as requests' own test does: make the answer a redirect
        response.headers["location"] = "get"
        following = next(session.resolve_redirects(response, prepared))
    assert following.request.method == "GET"
    assert following.request.body is None
    assert "Content-Length" not in following.request.headers
    assert "Content-Type" not in following.request.headers


class RecordingSession(brisk.Session):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []

    def send(self, request: brisk.PreparedRequest, **kwargs: Any) -> brisk.Response:  # type: ignore[override]
        self.calls.append(kwargs)
        return super().send(request, **kwargs)


def test_resolve_redirects_sends_through_send_with_requests_arguments(app_server: ServerThread) -> None:
    with RecordingSession() as session:
        first = session.get(app_server.url + "/redirect/1", allow_redirects=False)
        next(session.resolve_redirects(first, first.request))
    kwargs = session.calls[-1]
    assert kwargs["allow_redirects"] is False
    assert kwargs["timeout"] == session.timeout  # brisk's finite default, not "no timeout"
    assert {"stream", "verify", "cert", "proxies"} <= set(kwargs)


@pytest.mark.parametrize(("url", "expected"), [("http://x.test/", True), ("https://x.test/", False)])
def test_rebuild_proxies_sets_proxy_authorization_for_plain_http_only(url: str, expected: bool) -> None:
    proxies = {"http": "http://u:p@127.0.0.1:3128", "https": "http://u:p@127.0.0.1:3129"}
    prepared = brisk.Request("GET", url, headers={"Proxy-Authorization": "stale"}).prepare()
    chosen = brisk.Session().rebuild_proxies(prepared, proxies)
    assert chosen["http"] == proxies["http"]
    assert ("Proxy-Authorization" in prepared.headers) is expected
    if expected:
        assert prepared.headers["Proxy-Authorization"] != "stale"


def test_rebuild_proxies_reads_the_environment_now(monkeypatch: pytest.MonkeyPatch) -> None:
    prepared = brisk.Request("GET", "https://x.test/").prepare()
    session = brisk.Session()
    monkeypatch.setenv("https_proxy", "socks5://127.0.0.1:9876")
    assert session.rebuild_proxies(prepared, {})["https"] == "socks5://127.0.0.1:9876"
    monkeypatch.setenv("no_proxy", "x.test")
    assert "https" not in session.rebuild_proxies(prepared, {})


def test_rewind_body_seeks_a_file_body_back_to_where_it_started() -> None:
    data = io.BytesIO(b"the data")
    data.read(4)
    prepared = brisk.Request("POST", "http://x.test/", data=data).prepare()
    assert prepared._body_position == 4
    assert prepared.body.read() == b"data"
    brisk.utils.rewind_body(prepared)
    assert prepared.body.read() == b"data"


def test_rewind_body_refuses_what_cannot_seek() -> None:
    class NoSeek:
        def tell(self) -> int:
            return 0

        def __iter__(self) -> Any:
            return iter([b"x"])

    prepared = brisk.Request("POST", "http://x.test/", data=NoSeek()).prepare()
    assert prepared._body_position == 0
    with pytest.raises(UnrewindableBodyError, match="Unable to rewind"):
        brisk.utils.rewind_body(prepared)


def test_content_consumed_follows_the_body(raw_server: RawServerFactory) -> None:
    server = raw_server()
    with brisk.Session() as session:
        response = session.get(server.url, stream=True)
        assert response._content_consumed is False
        response.content  # noqa: B018
        assert response._content_consumed is True


class Urllib3LikeTimeout:
    """The two attributes of urllib3's ``Timeout`` that say its phases."""

    def __init__(self, connect: float | None, read: float | None) -> None:
        self.connect_timeout = connect
        self.read_timeout = read


def test_a_urllib3_timeout_is_accepted(raw_server: RawServerFactory) -> None:
    setting = brisk.Timeout.coerce(Urllib3LikeTimeout(0.5, 2.0))
    assert (setting.connect, setting.read) == (0.5, 2.0)
    server = raw_server()
    with brisk.Session() as session:
        assert session.get(server.url, timeout=Urllib3LikeTimeout(5, None)).status_code == 200


def test_prepare_request_merges_hooks_as_requests_does() -> None:
    def hook(r: brisk.Response, **kwargs: Any) -> None:
        return None

    def own(r: brisk.Response, **kwargs: Any) -> None:
        return None

    session = brisk.Session()
    session.hooks["response"].append(hook)
    prepared = session.prepare_request(brisk.Request("GET", "http://x.test/", hooks={"response": own}))
    assert prepared.hooks["response"] == [own]  # the request's replace the session's, as in requests
    assert session.prepare_request(brisk.Request("GET", "http://x.test/")).hooks["response"] == [hook]


def test_resolve_redirects_after_a_partial_read(app_server: ServerThread) -> None:
    """requests' recipe: read a little of a streamed redirect, then follow it by hand."""
    with brisk.Session() as session:
        first = session.get(app_server.url + "/redirect/2", allow_redirects=False, stream=True)
        hops = session.resolve_redirects(first, first.request, stream=True)
        next(first.iter_content(8), None)
        second = next(hops)
        assert second.is_redirect
        list(second.iter_content(4))
        third = next(hops)
        assert third.status_code == 200
        assert third.json()["url"].endswith("/get")


class RequestsStyleDigest(brisk.HTTPDigestAuth):
    """A subclass written against requests' HTTPDigestAuth, as requests-toolbelt's proxy Digest auth is: it
    answers from a response hook with ``build_digest_header`` and the per-thread ``chal``, and resends
    through ``r.connection``. brisk's own challenge flow is turned off to show these pieces alone work."""

    auth_flow = brisk.auth.AuthBase.auth_flow

    def __call__(self, r: brisk.PreparedRequest) -> brisk.PreparedRequest:
        self.init_per_thread_state()
        r.register_hook("response", self.handle_401)
        return r

    def handle_401(self, r: brisk.Response, **kwargs: Any) -> brisk.Response:
        if r.status_code != 401:
            return r
        challenge = r.headers["www-authenticate"]
        self._thread_local.chal = brisk.utils.parse_dict_header(challenge.split(" ", 1)[1])
        prep = r.request.copy()
        prep.headers["Authorization"] = self.build_digest_header(prep.method or "GET", prep.url or "")
        again: brisk.Response = r.connection.send(prep, **kwargs)
        again.history.append(r)
        return again


def test_a_digest_subclass_written_for_requests_authenticates(app_server: ServerThread) -> None:
    auth = RequestsStyleDigest("user", "pass")
    with brisk.Session() as session:
        r = session.get(app_server.url + "/digest-auth/auth/user/pass", auth=auth)
        assert r.status_code == 200, r.text
        assert r.history[0].status_code == 401
        assert auth._thread_local.nonce_count == 1
        assert auth._thread_local.last_nonce == auth._thread_local.chal["nonce"]
        assert "nc=00000002" in (auth.build_digest_header("GET", app_server.url + "/x") or "")


def test_the_raw_is_closed_with_its_response(raw_server: RawServerFactory) -> None:
    server = raw_server()
    with brisk.Session() as session:
        with session.get(server.url, stream=True) as response:
            pass
        assert response.raw.closed  # asked for only after the response was closed
        other = session.get(server.url, stream=True)
        raw = other.raw
        assert not raw.closed
        other.close()
        assert raw.closed


def test_a_patched_sessions_get_netrc_auth_is_asked(
    app_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests' own tests, and code that supplies credentials from elsewhere, replace
    ``requests.sessions.get_netrc_auth``: brisk asks the replacement when no other credentials are given."""
    asked: list[str] = []

    def lookup(url: str) -> tuple[str, str]:
        asked.append(url)
        return ("user", "pass")

    monkeypatch.setattr(brisk.sessions, "get_netrc_auth", lookup, raising=False)
    url = app_server.url + "/basic-auth/user/pass"
    assert brisk.get(url).status_code == 200
    assert brisk.get(url, auth=("user", "wrong")).status_code == 401  # given credentials win
    assert asked == [url]


def test_resolve_redirects_carries_a_standard_library_jar_and_the_sessions_cookies(
    app_server: ServerThread,
) -> None:
    import http.cookiejar

    own = brisk.cookies.cookiejar_from_dict({"foo": "bar"}, http.cookiejar.CookieJar())
    with brisk.Session() as session:
        session.cookies = brisk.cookies.cookiejar_from_dict({"cookie": "tasty"})
        prepared = brisk.Request("GET", app_server.url + "/headers", cookies=own).prepare()
        response = session.send(prepared)
        response.status_code = 302
        response.headers["location"] = app_server.url + "/get"
        following = next(session.resolve_redirects(response, prepared))
    jar = following.request._cookies
    assert isinstance(jar, http.cookiejar.CookieJar)
    assert not isinstance(jar, brisk.cookies.RequestsCookieJar)
    assert {c.name: c.value for c in jar} == {"foo": "bar", "cookie": "tasty"}
    assert prepared._cookies is own  # the first request's jar is left as it was
    assert {c.name for c in own} == {"foo"}
    sent = following.json()["headers"]["Cookie"]
    assert sorted(sent.split("; ")) == ["cookie=tasty", "foo=bar"]


class MultiDict:
    """A multi-valued mapping of another library (httpie assigns one to ``PreparedRequest.headers``)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self._pairs = pairs

    def items(self) -> list[tuple[str, Any]]:
        return list(self._pairs)


def test_any_mapping_assigned_to_prepared_headers_is_sent(raw_server: RawServerFactory) -> None:
    server = raw_server()
    with brisk.Session() as session:
        prepared = session.prepare_request(brisk.Request("GET", server.url))
        mine = MultiDict([("X-Twice", "1"), ("X-Twice", "2"), ("X-Bytes", b"b"), ("X-None", None)])
        prepared.headers = mine  # type: ignore[assignment]
        response = session.send(prepared)
        assert response.status_code == 200
        assert prepared.headers is mine  # the caller's object is left as it is
    sent = server.requests[0]
    assert sent.header_values("x-twice") == ["1", "2"]
    assert sent.header("x-bytes") == "b"
    assert sent.header("x-none") is None
