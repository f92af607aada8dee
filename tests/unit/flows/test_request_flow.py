"""The request flow driven by hand, with no socket: the test plays the driver.

``request_flow`` yields effects (``Send``, ``Sleep``, ``Drain``, ``ReadBody``, ``CallHook``); a driver
performs them and sends the result back, or throws the exception in. Here the test is the driver: it answers
each ``Send`` with a ``Response`` it builds, or throws a transport error into the flow, and asserts what the
flow asks for next. That is the point of the sans-IO design: redirect, auth, retry and cookie policy are
checked without a server.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Hashable
from typing import Any

import pytest

import brisk
from brisk._cookies.engine import CookieStore
from brisk._flows import CallHook, Drain, Effect, Flow, ReadBody, Send, Sleep
from brisk._flows.request import FlowSettings, request_flow
from brisk._flows.retry import Retry
from brisk._transport.base import SendOptions, StaleConnection
from brisk.exceptions import (
    ConnectionRefused,
    InvalidRedirect,
    ReadTimeout,
    RetryError,
    TooManyRedirects,
    UnrewindableBodyError,
)
from brisk.models import PreparedRequest, Response

NO_RETRY = Retry(0, read=False, redirect=None)


def prepare(method: str = "GET", url: str = "https://a.example/start", **kwargs: Any) -> PreparedRequest:
    return brisk.Request(method, url, **kwargs).prepare()


def settings(retry: Retry = NO_RETRY, **kwargs: Any) -> FlowSettings:
    return FlowSettings(SendOptions(), retry=retry, **kwargs)


def answer(send: Effect, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The Response a transport would return for ``send`` (head read, tied to its request)."""
    assert isinstance(send, Send), f"the flow asked for {send!r}, not a Send"
    response = Response(status, content=b"body", headers=headers or {})
    response.request = send.request
    response.url = send.request.url or ""
    return response


def finish(flow: Flow, effect: Effect) -> Response:
    """Answer the final ReadBody and return what the flow returns."""
    assert isinstance(effect, ReadBody), f"expected the body to be read, got {effect!r}"
    with pytest.raises(StopIteration) as stop:
        flow.send(effect.response.content)
    result: Response = stop.value.value
    return result


def redirect_to(flow: Flow, send: Effect, status: int, location: str) -> Send:
    """Answer ``send`` with a redirect; the flow drains it, then sends the next hop (returned)."""
    drain = flow.send(answer(send, status, {"Location": location}))
    assert isinstance(drain, Drain), "a followed redirect's response is drained to free its connection"
    assert drain.response.status_code == status
    following = flow.send(None)
    assert isinstance(following, Send)
    return following


# --- redirects ------------------------------------------------------------------------------------------


def test_a_plain_request_is_sent_and_its_body_read() -> None:
    flow = request_flow(prepare(), settings())
    send = next(flow)
    assert isinstance(send, Send)
    assert (send.request.method, send.request.url) == ("GET", "https://a.example/start")
    response = finish(flow, flow.send(answer(send)))
    assert response.status_code == 200
    assert response.history == []


def test_streamed_request_returns_without_reading_the_body() -> None:
    flow = request_flow(prepare(), settings(stream=True))
    sent = answer(next(flow))
    with pytest.raises(StopIteration) as stop:
        flow.send(sent)
    assert stop.value.value is sent


def test_redirect_followed_with_history() -> None:
    flow = request_flow(prepare(url="https://a.example/one"), settings())
    second = redirect_to(flow, next(flow), 302, "/two")
    assert second.request.url == "https://a.example/two"
    third = redirect_to(flow, second, 301, "https://a.example/three")
    response = finish(flow, flow.send(answer(third)))
    assert response.url == "https://a.example/three"
    assert [r.status_code for r in response.history] == [302, 301]


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (303, "POST", "GET"),
        (303, "PUT", "GET"),
        (302, "POST", "GET"),
        (301, "POST", "GET"),
        (301, "PUT", "PUT"),
        (303, "HEAD", "HEAD"),
        (307, "POST", "POST"),
        (308, "PUT", "PUT"),
    ],
)
def test_method_after_a_redirect(status: int, method: str, expected: str) -> None:
    request = prepare(method, data=b"payload", headers={"Content-Type": "text/plain"})
    flow = request_flow(request, settings())
    following = redirect_to(flow, next(flow), status, "/next")
    assert following.request.method == expected
    if status in (307, 308):  # the same request again, body and all
        assert following.request.body == b"payload"
        assert following.request.headers["Content-Type"] == "text/plain"
    else:  # the body and the headers that describe it are dropped
        assert following.request.body is None
        assert "Content-Type" not in following.request.headers
        assert "Content-Length" not in following.request.headers


def test_redirect_not_followed_when_disallowed() -> None:
    flow = request_flow(prepare(), settings(allow_redirects=False))
    send = next(flow)
    redirect = answer(send, 302, {"Location": "/elsewhere"})
    response = finish(flow, flow.send(redirect))
    assert response is redirect, "no second request: the redirect itself is the result"
    assert response.next is not None
    assert response.next.url == "https://a.example/elsewhere"


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://a.example/x", "javascript:alert(1)"])
def test_redirect_to_another_scheme_is_refused(location: str) -> None:
    flow = request_flow(prepare(), settings())
    redirect = answer(next(flow), 302, {"Location": location})
    with pytest.raises(InvalidRedirect) as refused:
        flow.send(redirect)
    assert refused.value.response is redirect


@pytest.mark.parametrize("origin", ["http://a.example/", "https://a.example/"])
def test_redirect_from_the_network_to_a_unix_socket_is_refused(origin: str) -> None:
    """A remote server must not make the client reach its local sockets."""
    flow = request_flow(prepare(url=origin), settings())
    redirect = answer(next(flow), 302, {"Location": "http+unix://%2Fvar%2Frun%2Fdocker.sock/containers/json"})
    with pytest.raises(InvalidRedirect, match=r"a Unix socket is followed only from an http\+unix: URL"):
        flow.send(redirect)


def test_redirect_between_unix_socket_urls_is_followed() -> None:
    flow = request_flow(prepare(url="http+unix://%2Frun%2Fa.sock/start"), settings())
    send = redirect_to(flow, next(flow), 302, "http+unix://%2Frun%2Fb.sock/next")
    assert send.request.url == "http+unix://%2Frun%2Fb.sock/next"
    send = redirect_to(flow, send, 302, "/relative")
    assert send.request.url == "http+unix://%2Frun%2Fb.sock/relative"
    send = redirect_to(flow, send, 302, "https://a.example/out")  # from a local server out: as any redirect
    assert send.request.url == "https://a.example/out"


def test_too_many_redirects() -> None:
    flow = request_flow(prepare(url="https://a.example/0"), settings(max_redirects=2))
    send = next(flow)
    send = redirect_to(flow, send, 302, "/1")
    send = redirect_to(flow, send, 302, "/2")
    with pytest.raises(TooManyRedirects, match="Exceeded 2 redirects"):
        flow.send(answer(send, 302, {"Location": "/3"}))


def test_unreplayable_body_is_not_resent_on_307() -> None:
    body = iter([b"a", b"b"])  # a one-shot iterator: cannot be sent twice
    flow = request_flow(prepare("POST", data=body), settings())
    send = next(flow)
    assert isinstance(send, Send)
    assert b"".join(send.request.body) == b"ab"  # type: ignore[arg-type]  # what the transport does
    with pytest.raises(UnrewindableBodyError):
        flow.send(answer(send, 307, {"Location": "/again"}))


def test_credentials_stay_on_their_origin() -> None:
    headers = {"Authorization": "Bearer secret", "Cookie": "sid=1", "X-Plain": "kept"}
    flow = request_flow(prepare(headers=headers), settings())
    same = redirect_to(flow, next(flow), 302, "/same-origin")
    assert same.request.headers["Authorization"] == "Bearer secret"
    other = redirect_to(flow, same, 302, "https://b.example/")
    assert "Authorization" not in other.request.headers
    assert "Cookie" not in other.request.headers
    assert other.request.headers["X-Plain"] == "kept"
    back = redirect_to(flow, other, 302, "https://a.example/back")
    assert "Authorization" not in back.request.headers, "a header once dropped does not come back"


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("https://a.example/secure", True),  # http -> https on the default ports: the one exception
        ("https://a.example:8443/secure", False),
        ("http://a.example:8080/", False),
        ("http://b.example/", False),
    ],
)
def test_credentials_across_scheme_and_port(target: str, kept: bool) -> None:
    flow = request_flow(prepare(url="http://a.example/", headers={"Authorization": "Basic x"}), settings())
    following = redirect_to(flow, next(flow), 301, target)
    assert ("Authorization" in following.request.headers) is kept


def test_request_auth_reapplied_on_its_origin_only() -> None:
    request = prepare(url="https://a.example/", auth=("user", "pass"))
    flow = request_flow(request, settings())
    first = next(flow)
    assert first.request.headers["Authorization"].startswith("Basic ")
    elsewhere = redirect_to(flow, first, 302, "https://b.example/")
    assert "Authorization" not in elsewhere.request.headers
    home = redirect_to(flow, elsewhere, 302, "https://a.example/home")
    assert home.request.headers["Authorization"] == first.request.headers["Authorization"]


def test_netrc_credentials_for_a_new_host() -> None:
    asked: list[str] = []

    def netrc(host: str) -> tuple[str, str] | None:
        asked.append(host)
        return ("n", "p") if host == "b.example" else None

    flow = request_flow(prepare(), settings(netrc=netrc))
    following = redirect_to(flow, next(flow), 302, "https://b.example/")
    assert asked == ["b.example"]
    assert following.request.headers["Authorization"] == brisk.auth._basic_auth_str("n", "p")


# --- retries ------------------------------------------------------------------------------------------


def test_status_retry_sleeps_what_retry_after_asks() -> None:
    retry = Retry(total=3, status_forcelist=[503], backoff_factor=10)
    flow = request_flow(prepare(), settings(retry))
    send = next(flow)
    drain = flow.send(answer(send, 503, {"Retry-After": "7"}))
    assert isinstance(drain, Drain)
    assert drain.response.status_code == 503
    sleep = flow.send(None)
    assert isinstance(sleep, Sleep)
    assert sleep.seconds == 7.0, "Retry-After wins over the backoff"
    again = flow.send(None)
    assert isinstance(again, Send)
    assert again.request.url == send.request.url
    response = finish(flow, flow.send(answer(again)))
    assert response.status_code == 200
    assert response.retries is not None
    assert len(response.retries.history) == 1


def test_status_retry_gives_up_with_retry_error() -> None:
    retry = Retry(total=1, status_forcelist=[500])
    flow = request_flow(prepare(), settings(retry))
    flow.send(answer(next(flow), 500))  # Drain
    send = flow.send(None)  # no backoff before the first retry: straight to the next Send
    assert isinstance(send, Send)
    with pytest.raises(RetryError, match="kept answering 500"):
        flow.send(answer(send, 500))


def test_status_retry_returns_the_response_without_raise_on_status() -> None:
    retry = Retry(total=0, status_forcelist=[500], raise_on_status=False)
    flow = request_flow(prepare(), settings(retry))
    failed = answer(next(flow), 500)
    response = finish(flow, flow.send(failed))
    assert response is failed


def test_post_is_not_retried_on_status() -> None:
    retry = Retry(total=3, status_forcelist=[503])  # POST is not in the default allowed methods
    flow = request_flow(prepare("POST", data=b"x"), settings(retry))
    failed = answer(next(flow), 503, {"Retry-After": "1"})
    assert finish(flow, flow.send(failed)) is failed


def test_post_is_not_retried_after_a_read_error() -> None:
    retry = Retry(total=3, read=3)
    flow = request_flow(prepare("POST", data=b"x"), settings(retry))
    next(flow)
    with pytest.raises(ReadTimeout) as raised:
        flow.throw(ReadTimeout("slow"))
    assert raised.value.retries is retry  # type: ignore[attr-defined]


def test_connect_errors_are_retried_even_for_post() -> None:
    retry = Retry(total=None, connect=2, backoff_factor=0.5)
    flow = request_flow(prepare("POST", data=b"x"), settings(retry))
    next(flow)
    second = flow.throw(ConnectionRefused("refused"))
    assert isinstance(second, Send), "nothing was sent: the first retry follows at once"
    sleep = flow.throw(ConnectionRefused("refused"))
    assert isinstance(sleep, Sleep)
    assert sleep.seconds == pytest.approx(1.0)  # backoff_factor * 2 ** (n - 1), n = 2 failures
    third = flow.send(None)
    assert isinstance(third, Send)
    with pytest.raises(ConnectionRefused, match="gave up after 3 attempts"):
        flow.throw(ConnectionRefused("refused"))


def test_get_is_retried_after_a_read_error() -> None:
    flow = request_flow(prepare(), settings(Retry(total=None, read=1)))
    next(flow)
    again = flow.throw(ReadTimeout("slow"))
    assert isinstance(again, Send)
    with pytest.raises(ReadTimeout):
        flow.throw(ReadTimeout("slow"))


def test_a_dead_kept_alive_connection_is_retried_once_silently() -> None:
    flow = request_flow(prepare(), settings())
    next(flow)
    again = flow.throw(StaleConnection(ConnectionRefused("reset")))
    assert isinstance(again, Send)
    with pytest.raises(ConnectionRefused, match="reset"):
        flow.throw(StaleConnection(ConnectionRefused("reset")))


def test_a_dead_connection_is_not_retried_for_post_unless_unprocessed() -> None:
    flow = request_flow(prepare("POST", data=b"x"), settings())
    next(flow)
    with pytest.raises(ConnectionRefused):
        flow.throw(StaleConnection(ConnectionRefused("reset")))
    flow = request_flow(prepare("POST", data=b"x"), settings())
    next(flow)
    assert isinstance(flow.throw(StaleConnection(ConnectionRefused("goaway"), unprocessed=True)), Send)


def test_no_retry_past_the_deadline() -> None:
    retry = Retry(total=None, connect=5)
    flow = request_flow(prepare(), FlowSettings(SendOptions(deadline=time.monotonic() + 60), retry=retry))
    next(flow)
    assert isinstance(flow.throw(ConnectionRefused("refused")), Send), "time left: retried"
    flow = request_flow(prepare(), FlowSettings(SendOptions(deadline=time.monotonic() - 1), retry=retry))
    next(flow)
    with pytest.raises(ConnectionRefused, match="deadline"):
        flow.throw(ConnectionRefused("refused"))


def test_rate_limit_sleeps_before_sending() -> None:
    class Bucket:
        def __init__(self) -> None:
            self.origins: list[Hashable] = []

        def reserve(self, origin: Hashable) -> float:
            self.origins.append(origin)
            return 0.25 if len(self.origins) > 1 else 0.0

    bucket = Bucket()
    flow = request_flow(prepare(), settings(rate_limit=bucket))
    first = next(flow)
    assert isinstance(first, Send), "a free token: no sleep"
    sleep = flow.send(answer(first, 302, {"Location": "/next"}))
    assert isinstance(sleep, Drain)
    sleep = flow.send(None)
    assert isinstance(sleep, Sleep)
    assert sleep.seconds == 0.25
    assert isinstance(flow.send(None), Send)
    assert bucket.origins[0] == bucket.origins[1]


# --- hooks --------------------------------------------------------------------------------------------


def test_hooks_are_called_with_the_request_and_each_response() -> None:
    def on_request(request: PreparedRequest) -> None:
        return None

    def on_response(response: Response, **kwargs: Any) -> None:
        return None

    flow = request_flow(
        prepare(),
        settings(request_hooks=[on_request], response_hooks=[on_response], hook_kwargs={"stream": False}),
    )
    call = next(flow)
    assert isinstance(call, CallHook)
    assert call.function is on_request
    send = flow.send(None)
    assert isinstance(send, Send)
    assert send.request is call.argument
    redirect = answer(send, 302, {"Location": "/b"})
    call = flow.send(redirect)
    assert isinstance(call, CallHook)
    assert call.function is on_response
    assert call.argument is redirect
    assert call.kwargs == {"stream": False}
    assert isinstance(flow.send(None), Drain)
    call = flow.send(None)  # the next hop's request hook
    assert isinstance(call, CallHook)
    assert call.function is on_request
    final = answer(flow.send(None))
    call = flow.send(final)
    assert isinstance(call, CallHook)
    assert call.argument is final
    assert finish(flow, flow.send(None)) is final


def test_hook_results_replace_request_and_response() -> None:
    replacement_request = prepare(url="https://a.example/replaced")
    replacement = Response(299, content=b"")

    def hook(value: Any, **kwargs: Any) -> Any:
        raise AssertionError("the driver calls hooks, not the flow")

    flow = request_flow(prepare(), settings(request_hooks=[hook], response_hooks=[hook]))
    next(flow)
    send = flow.send(replacement_request)
    assert isinstance(send, Send)
    assert send.request is replacement_request
    original = answer(send)
    flow.send(original)  # CallHook for the response
    drain = flow.send(replacement)
    assert isinstance(drain, Drain)
    assert drain.response is original, "the replaced response is released"
    assert finish(flow, flow.send(None)) is replacement


# --- cookies ------------------------------------------------------------------------------------------


def test_set_cookie_is_stored_and_sent_on_the_next_hop() -> None:
    jars: list[CookieStore] = []

    def make_jar() -> CookieStore:
        jars.append(CookieStore())
        return jars[-1]

    s = settings(make_jar=make_jar)
    flow = request_flow(prepare(url="https://a.example/login"), s)
    send = next(flow)
    assert "Cookie" not in send.request.headers
    drain = flow.send(answer(send, 302, {"Location": "/home", "Set-Cookie": "sid=42; Path=/"}))
    assert isinstance(drain, Drain)
    assert len(jars) == 1, "the jar is made when the first cookie arrives"
    assert jars[0].header_for("https", "a.example", "/") == "sid=42"
    home = flow.send(None)
    assert isinstance(home, Send)
    assert home.request.headers["Cookie"] == "sid=42"


def test_host_only_cookie_stays_behind_on_another_origin() -> None:
    jar = CookieStore()
    s = settings(jar=jar)
    flow = request_flow(prepare(url="https://a.example/"), s)
    send = next(flow)
    drain = flow.send(answer(send, 302, {"Location": "https://b.example/", "Set-Cookie": "own=1"}))
    assert isinstance(drain, Drain)
    other = flow.send(None)
    assert isinstance(other, Send)
    assert "Cookie" not in other.request.headers
    assert jar.header_for("https", "a.example", "/") == "own=1"


def test_explicit_cookie_header_is_sent_as_set() -> None:
    jar = CookieStore()
    jar.extract(["sid=from-jar"], "https", "a.example", "/")
    request = prepare(headers={"Cookie": "mine=1"})
    request._explicit_cookie = True  # as the session marks a Cookie header the user gave
    flow = request_flow(request, settings(jar=jar))
    send = next(flow)
    assert isinstance(send, Send)
    assert send.request.headers["Cookie"] == "mine=1"


def test_jar_cookies_are_sent() -> None:
    jar = CookieStore()
    jar.extract(["sid=from-jar; Path=/"], "https", "a.example", "/")
    flow = request_flow(prepare(), settings(jar=jar))
    send = next(flow)
    assert isinstance(send, Send)
    assert send.request.headers["Cookie"] == "sid=from-jar"


# --- auth flows ---------------------------------------------------------------------------------------


class TokenOnChallenge(brisk.AuthBase):
    """Sends without credentials; answers a 401 once with a token."""

    def auth_flow(self, request: PreparedRequest) -> Generator[PreparedRequest, Response, None]:
        response = yield request
        if response.status_code == 401:
            retried = request.copy()
            retried.headers["Authorization"] = "Bearer fresh"
            yield retried


def test_auth_flow_answers_a_challenge() -> None:
    flow = request_flow(prepare(auth=TokenOnChallenge()), settings())
    first = next(flow)
    assert isinstance(first, Send)
    assert "Authorization" not in first.request.headers
    challenge = answer(first, 401, {"WWW-Authenticate": "Bearer"})
    drain = flow.send(challenge)
    assert isinstance(drain, Drain)
    assert drain.response is challenge
    second = flow.send(None)
    assert isinstance(second, Send)
    assert second.request.headers["Authorization"] == "Bearer fresh"
    response = finish(flow, flow.send(answer(second)))
    assert response.history == [challenge], "the answered challenge is in the history, as in requests"


def test_auth_flow_does_not_run_on_another_origin() -> None:
    flow = request_flow(prepare(auth=TokenOnChallenge()), settings())
    elsewhere = redirect_to(flow, next(flow), 302, "https://b.example/")
    unauthorised = answer(elsewhere, 401, {"WWW-Authenticate": "Bearer"})
    assert finish(flow, flow.send(unauthorised)) is unauthorised, "no retry with credentials there"


# --- requests' redirect hooks on a Session subclass ---------------------------------------------------


class KeepAuthorization:
    """What the flow sees of a Session subclass that overrides ``rebuild_auth`` to keep the header."""

    def get_redirect_target(self, resp: Response) -> str | None:
        return resp.headers.get("location") if resp.is_redirect else None

    def rebuild_auth(self, prepared_request: PreparedRequest, response: Response) -> None:
        return None


class StripByOrigin(KeepAuthorization):
    """requests' own rebuild_auth: strip on another origin."""

    def rebuild_auth(self, prepared_request: PreparedRequest, response: Response) -> None:
        assert response.request is not None
        if brisk.Session().should_strip_auth(response.request.url or "", prepared_request.url or ""):
            prepared_request.headers.pop("Authorization", None)


class AsyncRebuild(KeepAuthorization):
    async def rebuild_auth(self, prepared_request: PreparedRequest, response: Response) -> None:  # type: ignore[override]
        return None


@pytest.mark.parametrize(("hooks", "kept"), [(KeepAuthorization(), True), (StripByOrigin(), False)])
def test_rebuild_auth_override_decides_authorization(hooks: Any, kept: bool) -> None:
    request = prepare(headers={"Authorization": "Bearer t", "Cookie": "c=1"})
    flow = request_flow(request, settings(redirect_hooks=hooks))
    elsewhere = redirect_to(flow, next(flow), 302, "https://b.example/")
    assert ("Authorization" in elsewhere.request.headers) is kept
    assert "Cookie" not in elsewhere.request.headers, "cookies stay under brisk's rules"


def test_async_rebuild_auth_is_refused() -> None:
    flow = request_flow(
        prepare(headers={"Authorization": "Bearer t"}), settings(redirect_hooks=AsyncRebuild())
    )
    with pytest.raises(TypeError, match="plain method"):
        flow.send(answer(next(flow), 302, {"Location": "https://b.example/"}))
