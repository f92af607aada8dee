"""The cookie jar as code built on requests uses it: an ``http.cookiejar.CookieJar`` on brisk's engine.

requests' ``RequestsCookieJar`` is an ``http.cookiejar.CookieJar``; requests-mock fills every mocked
response's jar with ``extract_cookies(MockResponse(headers), MockRequest(request))``, betamax and
requests-toolbelt call ``extract_cookies_to_jar(jar, request, response.raw)``. brisk's jar answers that
API while every cookie, whichever door it comes through, lands in brisk's store and obeys its RFC 6265 rules
(public suffixes and foreign domains refused, host-only cookies, Secure only from and to https, the caps).
The first half tests the API without a network; the second against raw servers, sync and async.
"""

from __future__ import annotations

import email.message
import http.client
import http.cookiejar
import io
import pickle
import subprocess
import sys
import urllib.request
from collections.abc import MutableMapping
from typing import Any

import pytest

import brisk
from brisk.cookies import (
    MAX_COOKIE_BYTES,
    MAX_COOKIES_PER_DOMAIN,
    BriskCookiePolicy,
    Cookie,
    MockRequest,
    MockResponse,
    RequestsCookieJar,
    _copy_cookie_jar,
    create_cookie,
    extract_cookies_to_jar,
    get_cookie_header,
    merge_cookies,
    remove_cookie_by_name,
)
from brisk.models import PreparedRequest, Request
from servers.clients import Client
from servers.raw import RawConnection, RawRequest, RawServer, RawServerFactory, http_response


def prepared(url: str, headers: dict[str, str] | None = None) -> PreparedRequest:
    return Request("GET", url, headers=headers).prepare()


def message(*set_cookie: str, name: str = "Set-Cookie") -> http.client.HTTPMessage:
    """Response headers as http.client parses them (an email.message.Message)."""
    msg = http.client.HTTPMessage()
    for value in set_cookie:
        msg[name] = value
    return msg


def fill(jar: http.cookiejar.CookieJar, url: str, *set_cookie: str) -> None:
    """requests-mock's way: ``extract_cookies(MockResponse(headers), MockRequest(request))``."""
    jar.extract_cookies(MockResponse(message(*set_cookie)), MockRequest(prepared(url)))  # type: ignore[arg-type]


def header(jar: http.cookiejar.CookieJar, url: str, headers: dict[str, str] | None = None) -> str | None:
    return get_cookie_header(jar, prepared(url, headers))


STD_COMMON: dict[str, Any] = {
    "version": 0,
    "port": None,
    "port_specified": False,
    "path": "/",
    "path_specified": True,
    "secure": False,
    "expires": None,
    "discard": True,
    "comment": None,
    "comment_url": None,
    "rest": {},
    "rfc2109": False,
}


def std_cookie(name: str, value: str, domain: str, **overrides: Any) -> http.cookiejar.Cookie:
    """An http.cookiejar Cookie as the standard library makes one: a leading dot when it reaches
    subdomains."""
    wide = domain.startswith(".")
    fields = {**STD_COMMON, "domain_specified": wide, "domain_initial_dot": wide, **overrides}
    return http.cookiejar.Cookie(name=name, value=value, domain=domain, **fields)


# -- it is an http.cookiejar.CookieJar -----------------------------------------------------------------------


def test_jar_is_a_stdlib_cookiejar_and_a_mapping() -> None:
    jar = RequestsCookieJar()
    assert isinstance(jar, http.cookiejar.CookieJar)
    assert isinstance(jar, MutableMapping)
    assert isinstance(brisk.Session().cookies, http.cookiejar.CookieJar)
    assert isinstance(brisk.AsyncSession().cookies, http.cookiejar.CookieJar)
    assert isinstance(brisk.Response().cookies, http.cookiejar.CookieJar)
    assert isinstance(brisk.cookies.cookiejar_from_dict({"a": "1"}), http.cookiejar.CookieJar)
    # requests.cookies' names, as requests 2.32 has them
    for name in (
        "MockRequest", "MockResponse", "extract_cookies_to_jar", "get_cookie_header", "remove_cookie_by_name",
        "CookieConflictError", "RequestsCookieJar", "_copy_cookie_jar", "create_cookie", "morsel_to_cookie",
        "cookiejar_from_dict", "merge_cookies", "Morsel", "MutableMapping", "to_native_string", "urlparse",
        "urlunparse",
    ):  # fmt: skip
        assert hasattr(brisk.cookies, name), name


def test_extract_cookies_with_mock_request_and_response_obeys_the_rules() -> None:
    jar = RequestsCookieJar()
    fill(
        jar,
        "http://www.example.com/shop/cart",
        "host=1",
        "wide=2; Domain=.example.com; Path=/",
        "public=3; Domain=com",  # a public suffix
        "foreign=4; Domain=other.org",  # another domain
        "sneaky=5; Secure",  # Secure from http
        "__Host-x=6; Path=/",  # a prefix without Secure
    )
    assert sorted(jar.keys()) == ["host", "wide"]
    host = next(c for c in jar if c.name == "host")
    assert (host.domain, host.host_only, host.path) == ("www.example.com", True, "/shop")
    assert jar.list_domains() == ["www.example.com", ".example.com"]  # requests' spelling
    assert header(jar, "http://www.example.com/shop/cart/add") == "host=1; wide=2"
    assert header(jar, "http://api.www.example.com/shop/") == "wide=2"  # host-only stays on its host
    assert header(jar, "http://example.com/") == "wide=2"
    assert header(jar, "http://example.org/") is None


def test_extract_cookies_reads_every_kind_of_headers() -> None:
    from urllib3 import HTTPHeaderDict

    url = "https://www.example.com/"
    urllib3_headers = HTTPHeaderDict()
    urllib3_headers.add("Set-Cookie", "a=1")
    urllib3_headers.add("Set-Cookie", "b=2")
    brisk_headers = brisk.structures.CaseInsensitiveDict({"Set-Cookie": "a=1"})
    email_headers = email.message.Message()
    email_headers["Set-Cookie"] = "a=1"
    email_headers["Set-Cookie"] = "b=2"
    for headers, names in (
        (urllib3_headers, ["a", "b"]),  # requests-mock's raw.headers
        (email_headers, ["a", "b"]),  # betamax's MockHTTPResponse.msg
        (brisk_headers, ["a"]),
        ({"Set-Cookie": "a=1"}, ["a"]),
        (brisk.Response().headers, []),
    ):
        jar = RequestsCookieJar()
        jar.extract_cookies(MockResponse(headers), MockRequest(prepared(url)))
        assert sorted(jar.keys()) == names, headers


def test_extract_cookies_from_urllib_objects() -> None:
    """The standard library's own request and response types, as urllib's HTTPCookieProcessor passes them."""
    jar = RequestsCookieJar()
    # closed: Python 3.14 warns (ResourceWarning) about an addinfourl left open
    headers = message("u=1; Path=/", "d=2; Domain=co.uk")
    with urllib.response.addinfourl(io.BytesIO(b""), headers, "x") as response:
        jar.extract_cookies(response, urllib.request.Request("https://shop.example.co.uk/basket"))
    assert jar.get_dict() == {"u": "1"}
    request = urllib.request.Request("https://shop.example.co.uk/")
    jar.add_cookie_header(request)
    assert request.get_header("Cookie") == "u=1"
    assert request.unredirected_hdrs == {"Cookie": "u=1"}
    # a Cookie header already there is left alone, as http.cookiejar does
    request = urllib.request.Request("https://shop.example.co.uk/", headers={"Cookie": "mine=1"})
    jar.add_cookie_header(request)
    assert request.get_header("Cookie") == "mine=1"
    # Secure cookies only go over https
    fill(jar, "https://shop.example.co.uk/", "s=3; Secure; Path=/")
    plain = urllib.request.Request("http://shop.example.co.uk/")
    jar.add_cookie_header(plain)
    assert plain.get_header("Cookie") == "u=1"


def test_extract_cookies_applies_the_caps() -> None:
    jar = RequestsCookieJar()
    fill(jar, "https://example.com/", *(f"c{i:02}={i}; Path=/" for i in range(60)))
    assert len(jar) == MAX_COOKIES_PER_DOMAIN
    assert "c00" not in jar
    assert "c59" in jar
    too_big = "big=" + "v" * (MAX_COOKIE_BYTES - 2)
    fill(jar, "https://example.com/", too_big)
    assert "big" not in jar


def test_mock_request_uses_the_host_header() -> None:
    jar = RequestsCookieJar()
    fill(jar, "http://real.example.com/", "r=1")
    mock = MockRequest(prepared("http://127.0.0.1:8080/x", {"Host": "real.example.com"}))
    assert mock.get_full_url() == "http://real.example.com/x"
    assert (mock.get_type(), mock.get_host(), mock.host, mock.origin_req_host) == (
        "http",
        "127.0.0.1:8080",
        "127.0.0.1:8080",
        "127.0.0.1:8080",
    )
    assert mock.unverifiable
    assert mock.is_unverifiable()
    jar.add_cookie_header(mock)
    assert mock.get_new_headers() == {"Cookie": "r=1"}
    assert mock.has_header("Cookie")
    assert mock.get_header("Cookie") == "r=1"
    with pytest.raises(NotImplementedError):
        mock.add_header("Cookie", "x")
    assert header(jar, "http://127.0.0.1/x", {"Host": "real.example.com"}) == "r=1"
    assert header(jar, "http://127.0.0.1/x") is None


def test_set_cookie_with_stdlib_cookies_lands_in_brisk_store() -> None:
    jar = RequestsCookieJar()
    jar.set_cookie(std_cookie("wide", "1", ".example.com"))
    jar.set_cookie(std_cookie("host", "2", "www.example.com"))
    jar.set_cookie(std_cookie("sec", "3", ".example.com", secure=True))
    assert all(isinstance(c, Cookie) for c in jar)
    assert jar.list_domains() == [".example.com", "www.example.com"]
    assert header(jar, "http://www.example.com/") == "wide=1; host=2"
    assert header(jar, "http://a.www.example.com/") == "wide=1"  # host-only: not below its host
    assert header(jar, "https://example.com/") == "wide=1; sec=3"
    with pytest.raises(ValueError, match="invalid cookie"):
        jar.set_cookie(std_cookie("bad", "1\r\nX-Injected: 1", ".example.com"))


def test_make_cookies_and_set_cookie_if_ok_judge_like_a_response() -> None:
    jar = RequestsCookieJar()
    response = MockResponse(message("a=1; Path=/", "b=2; Domain=com", "c=3; Secure"))
    request = MockRequest(prepared("http://www.example.com/"))
    made = jar.make_cookies(response, request)
    assert [c.name for c in made] == ["a"]
    assert len(jar) == 0  # made, not stored
    for cookie in made:
        jar.set_cookie_if_ok(cookie, request)
    assert jar.get_dict() == {"a": "1"}
    # cookies made elsewhere are judged against the request too
    jar.set_cookie_if_ok(std_cookie("psl", "1", ".co.uk"), MockRequest(prepared("http://shop.co.uk/")))
    jar.set_cookie_if_ok(std_cookie("other", "1", "other.example.com"), request)  # another host's host-only
    jar.set_cookie_if_ok(std_cookie("sec", "1", ".example.com", secure=True), request)  # Secure from http
    jar.set_cookie_if_ok(std_cookie("ok", "1", ".example.com"), request)
    jar.set_cookie_if_ok(std_cookie("mine", "1", "www.example.com"), request)
    assert sorted(jar.keys()) == ["a", "mine", "ok"]
    assert next(c for c in jar if c.name == "mine").host_only


def test_clear_and_session_cookies_through_the_cookiejar_api() -> None:
    jar = RequestsCookieJar()
    fill(jar, "https://example.com/", "s=1", "p=2; Max-Age=3600", "q=3; Domain=example.com; Max-Age=60")
    jar.clear_session_cookies()
    assert sorted(jar.keys()) == ["p", "q"]
    jar.clear(".example.com", "/", "q")  # requests' spelling, as remove_cookie_by_name passes it
    assert jar.keys() == ["p"]
    jar.clear_expired_cookies()
    assert len(jar) == 1
    jar.clear()
    assert len(jar) == 0
    assert list(jar) == []


def test_policy_default_and_given() -> None:
    jar = RequestsCookieJar()
    policy = jar.get_policy()
    assert isinstance(policy, BriskCookiePolicy)
    assert isinstance(policy, http.cookiejar.CookiePolicy)
    assert jar._policy is policy
    request = MockRequest(prepared("http://www.example.com/"))
    assert policy.set_ok(std_cookie("a", "1", ".example.com"), request)
    assert not policy.set_ok(std_cookie("a", "1", ".com"), request)
    assert policy.return_ok(std_cookie("a", "1", ".example.com"), request)
    assert not policy.return_ok(std_cookie("a", "1", ".example.com", secure=True), request)
    jar.set_policy(policy)  # requests' copy() hands the policy back
    assert jar.get_policy() is policy

    blocked = http.cookiejar.DefaultCookiePolicy(blocked_domains=["evil.example"])
    jar.set_policy(blocked)
    fill(jar, "http://www.evil.example/", "a=1; Domain=evil.example")
    fill(jar, "http://good.example/", "b=2")
    assert jar.keys() == ["b"]
    assert jar.copy().get_policy() is blocked
    assert RequestsCookieJar(blocked).get_policy() is blocked


def test_stdlib_attributes_pickling_and_copies() -> None:
    jar = RequestsCookieJar()
    fill(jar, "https://www.example.com/a/b", "x=1", "y=2; Domain=example.com; Path=/")
    assert jar._cookies == {
        "www.example.com": {"/a": {"x": next(c for c in jar if c.name == "x")}},
        ".example.com": {"/": {"y": next(c for c in jar if c.name == "y")}},
    }
    with jar._cookies_lock:  # re-entrant, as http.cookiejar's
        jar.set("z", "3")
    restored = pickle.loads(pickle.dumps(jar))
    assert sorted(restored.items()) == [("x", "1"), ("y", "2"), ("z", "3")]
    fill(restored, "https://www.example.com/", "w=4")  # a working lock again
    assert "w" in restored
    assert "w" not in jar
    copied = _copy_cookie_jar(jar)
    assert isinstance(copied, RequestsCookieJar)
    assert copied is not jar
    assert copied.items() == jar.items()
    assert _copy_cookie_jar(None) is None
    std = http.cookiejar.CookieJar()
    std.set_cookie(std_cookie("s", "1", ".example.com"))
    std_copy = _copy_cookie_jar(std)
    assert [c.name for c in std_copy] == ["s"]
    assert next(iter(std_copy)) is not next(iter(std))
    assert list(jar.iterkeys()) == jar.keys()
    assert list(jar.itervalues()) == jar.values()
    assert list(jar.iteritems()) == jar.items()


def test_functions_on_a_stdlib_jar() -> None:
    std = http.cookiejar.CookieJar()
    merge_cookies(std, {"a": "1"})
    merge_cookies(std, [create_cookie("b", "2", domain="example.com", path="/p")])
    assert sorted(c.name for c in std) == ["a", "b"]
    assert header(std, "http://example.com/p/") == "b=2; a=1"
    remove_cookie_by_name(std, "b")  # http.cookiejar's clear() wants domain and path with a name
    assert [c.name for c in std] == ["a"]
    jar = RequestsCookieJar()
    jar.update(std)
    assert jar.get_dict() == {"a": "1"}
    assert merge_cookies(jar, std) is jar


class Forgetful(RequestsCookieJar):
    """requests-toolbelt's ForgetfulCookieJar: a set_cookie that stores nothing."""

    def set_cookie(self, *args: Any, **kwargs: Any) -> None:
        return


class Logging(RequestsCookieJar):
    """A subclass overriding http.cookiejar's two entry points, calling the jar's own."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def extract_cookies(self, response: Any, request: Any) -> None:
        self.calls.append("extract " + request.get_full_url())
        super().extract_cookies(response, request)

    def add_cookie_header(self, request: Any) -> None:
        self.calls.append("add " + request.get_full_url())
        super().add_cookie_header(request)


def test_subclass_hooks_are_honoured() -> None:
    forgetful = Forgetful()
    fill(forgetful, "http://example.com/", "a=1")
    assert forgetful.extract(["b=2"], "http", "example.com", "/") == []
    assert len(forgetful) == 0
    logging = Logging()
    logging.extract(["a=1"], "http", "example.com", "/x")
    assert logging.header_for("http", "example.com", "/") == "a=1"
    assert logging.calls == ["extract http://example.com/x", "add http://example.com/"]


def test_extract_cookies_to_jar_with_urllib3_shaped_raw() -> None:
    """betamax's replayed responses: urllib3's HTTPResponse whose _original_response.msg has the headers."""
    from urllib3 import HTTPResponse

    class Original:
        msg = message("replayed=1; Path=/")

    raw = HTTPResponse(io.BytesIO(b""), headers={}, original_response=Original(), preload_content=False)  # type: ignore[arg-type]
    jar = RequestsCookieJar()
    extract_cookies_to_jar(jar, prepared("http://example.com/"), raw)
    assert jar.get_dict() == {"replayed": "1"}
    extract_cookies_to_jar(jar, prepared("http://example.com/"), io.BytesIO(b"body set by hand"))
    assert len(jar) == 1
    std = http.cookiejar.CookieJar()
    extract_cookies_to_jar(std, prepared("http://example.com/"), raw)
    assert [c.name for c in std] == ["replayed"]


# -- live: a session against raw servers ---------------------------------------------------------------------


def set_cookie_server(raw_server: RawServerFactory, lines_by_target: dict[str, list[str]]) -> RawServer:
    """Answers ``200 ok`` with the Set-Cookie lines listed for the request's target."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            lines = lines_by_target.get(request.target, [])
            conn.send(http_response(200, b"ok", [("Set-Cookie", line) for line in lines]))

    return raw_server(handler)


def cookie_headers(server: RawServer) -> dict[str, str | None]:
    requests: list[RawRequest] = server.requests
    return {request.target: request.header("cookie") for request in requests}


def test_live_session_jar_is_a_cookiejar_on_brisk_rules(client: Client, raw_server: RawServerFactory) -> None:
    server = set_cookie_server(
        raw_server,
        {
            "/login": ["sid=1; Path=/", "pub=1; Domain=com", "sec=1; Secure", "ip=1; Domain=0.0.1"],
            "/logout": ["sid=; Max-Age=0; Path=/"],
        },
    )
    client.get(server.url + "/login")
    jar = client.session.cookies
    assert isinstance(jar, http.cookiejar.CookieJar)
    assert jar.get_dict() == {"sid": "1"}
    # the http.cookiejar API and the session see one store
    jar.set_cookie(std_cookie("added", "2", "127.0.0.1"))
    client.get(server.url + "/page")
    client.get(server.url + "/logout")
    client.get(server.url + "/after")
    assert cookie_headers(server) == {
        "/login": None,
        "/page": "sid=1; added=2",
        "/logout": "sid=1; added=2",
        "/after": "added=2",
    }
    assert get_cookie_header(jar, prepared(server.url + "/x")) == "added=2"


def test_live_jar_filled_through_extract_cookies(client: Client, raw_server: RawServerFactory) -> None:
    """A jar filled the way requests-mock fills one, then sent by the session: brisk's rules decide."""
    server = set_cookie_server(raw_server, {})
    jar = RequestsCookieJar()
    origin = server.url  # http://127.0.0.1:<port>
    fill(jar, origin + "/app/login", "dir=1", "root=2; Path=/", "sec=3; Secure; Path=/")
    fill(jar, "http://other.example/", "elsewhere=4; Path=/")
    fill(jar, origin + "/", "wide=5; Domain=0.0.1")  # part of an IP is no domain
    assert sorted(jar.keys()) == ["dir", "elsewhere", "root"]
    client.session.cookies = jar
    client.get(server.url + "/app/page")
    client.get(server.url + "/other")
    assert cookie_headers(server) == {"/app/page": "dir=1; root=2", "/other": "root=2"}


def test_live_subclass_set_cookie_sees_every_cookie(client: Client, raw_server: RawServerFactory) -> None:
    """requests-toolbelt's ForgetfulCookieJar as session.cookies: nothing is kept, nothing sent."""
    server = set_cookie_server(raw_server, {"/set": ["a=1; Path=/"]})
    client.session.cookies = Forgetful()
    client.get(server.url + "/set")
    client.get(server.url + "/check")
    assert len(client.session.cookies) == 0
    assert cookie_headers(server) == {"/set": None, "/check": None}


def test_live_subclass_entry_points_are_called(client: Client, raw_server: RawServerFactory) -> None:
    server = set_cookie_server(raw_server, {"/set": ["a=1; Path=/"]})
    jar = Logging()
    client.session.cookies = jar
    client.get(server.url + "/set")
    client.get(server.url + "/check")
    assert cookie_headers(server) == {"/set": None, "/check": "a=1"}
    host = server.url.split("//")[1].split(":")[0]
    # (the session asks a jar for a header once it holds cookies)
    assert [call.split(" ")[0] for call in jar.calls] == ["extract", "add"]
    assert all(host in call for call in jar.calls)


def test_live_extract_cookies_to_jar_from_brisk_raw(raw_server: RawServerFactory) -> None:
    """requests-toolbelt's GuessAuth copies a 401's cookies: extract_cookies_to_jar(jar, r.request, r.raw)."""
    server = set_cookie_server(raw_server, {"/challenge": ["auth=1; Path=/", "bad=1; Domain=example.com"]})
    with brisk.Session() as session:
        r = session.get(server.url + "/challenge")
        jar = RequestsCookieJar()
        extract_cookies_to_jar(jar, r.request, r.raw)
        assert jar.get_dict() == {"auth": "1"}
        std = http.cookiejar.CookieJar()
        extract_cookies_to_jar(std, r.request, r.raw)
        assert [c.name for c in std] == ["auth"]


def test_live_cookies_do_not_import_http_cookiejar_until_asked(raw_server: RawServerFactory) -> None:
    """A session storing and sending cookies stays on brisk's engine: http.cookiejar (with urllib.request,
    about 25 ms) is imported when code asks for the jar, which then shows the same cookies."""
    server = set_cookie_server(raw_server, {"/set": ["a=1; Path=/"]})
    code = (
        "import sys, brisk\n"
        "s = brisk.Session()\n"
        f"s.get({server.url + '/set'!r}); s.get({server.url + '/send'!r}, cookies={{'b': '2'}})\n"
        "assert 'http.cookiejar' not in sys.modules and 'brisk.cookies' not in sys.modules\n"
        "jar = s.cookies\n"
        "assert 'http.cookiejar' in sys.modules\n"
        "assert jar is s.cookies and jar.get_dict() == {'a': '1'}\n"
        "jar.set('c', '3', domain='127.0.0.1')\n"
        f"s.get({server.url + '/again'!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert cookie_headers(server) == {"/set": None, "/send": "b=2; a=1", "/again": "a=1; c=3"}


def test_adapter_response_cookies_come_from_its_urllib3_raw() -> None:
    """betamax replays a cassette as a Response whose headers are a dict (repeated Set-Cookie joined with
    commas) and whose raw is urllib3's HTTPResponse with the lines apart in ``_original_response.msg``: the
    session and ``response.cookies`` read the lines there, as requests does."""
    from urllib3 import HTTPResponse

    lines = ["a=1; Path=/", "b=2; Path=/", "c=3; Domain=com"]

    class Original:  # betamax's MockHTTPResponse
        msg = message(*lines)

        def isclosed(self) -> bool:
            return True

        def close(self) -> None:
            pass

    class Replaying(brisk.adapters.BaseAdapter):
        def send(self, request: PreparedRequest, **kwargs: Any) -> brisk.Response:
            response = brisk.Response()
            response.status_code = 200
            response.headers = {"Set-Cookie": ", ".join(lines)}  # what a dict keeps
            response.raw = HTTPResponse(
                io.BytesIO(b"ok"),
                headers={},
                original_response=Original(),  # type: ignore[arg-type]
                preload_content=False,
            )
            response.request = request
            response.url = request.url or ""
            return response

        def close(self) -> None:
            pass

    with brisk.Session() as session:
        session.mount("https://", Replaying())
        r = session.get("https://cassette.example/set")
        assert session.cookies.get_dict() == {"a": "1", "b": "2"}
        assert r.cookies.get_dict() == {"a": "1", "b": "2"}


def test_prepared_request_cookies_is_a_jar() -> None:
    """requests' PreparedRequest._cookies is always a jar (auth handlers extract a 401's cookies into it)."""
    p = PreparedRequest()
    assert isinstance(p._cookies, RequestsCookieJar)
    assert p._cookies is p._cookies
    given = RequestsCookieJar()
    p._cookies = given
    assert p._cookies is given
    p._cookies = None
    assert isinstance(p._cookies, RequestsCookieJar)
    assert isinstance(
        brisk.Session().prepare_request(Request("GET", "http://h.example/"))._cookies, RequestsCookieJar
    )


def test_live_auth_handler_resends_with_the_401s_cookies(raw_server: RawServerFactory) -> None:
    """requests-toolbelt's GuessAuth (and requests' Digest handler) answer a 401 the same way: copy the
    request, extract_cookies_to_jar(prep._cookies, r.request, r.raw), prep.prepare_cookies(prep._cookies),
    resend."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            if request.header("authorization") is None:
                conn.send(http_response(401, b"", [("Set-Cookie", "challenge=1; Path=/")]))
            else:
                conn.send(http_response(200, b"ok"))

    server = raw_server(handler)

    def answer_401(r: brisk.Response, **kwargs: Any) -> brisk.Response:
        if r.status_code != 401:
            return r
        prep = r.request.copy()
        extract_cookies_to_jar(prep._cookies, r.request, r.raw)
        prep.prepare_cookies(prep._cookies)
        prep.headers["Authorization"] = "Basic dTpw"
        retried: brisk.Response = r.connection.send(prep, **kwargs)
        return retried

    with brisk.Session() as session:
        r = session.get(server.url + "/private", hooks={"response": answer_401})
    assert r.status_code == 200
    assert [request.header("cookie") for request in server.requests] == [None, "challenge=1"]


def test_cookie_nonstandard_attributes_as_http_cookiejar_has_them() -> None:
    jar = RequestsCookieJar()
    cookie = jar.set("k", "v", domain="test.com", secure=True, rest={"HttpOnly": True})
    assert cookie is not None
    assert cookie._rest["HttpOnly"] is True
    assert cookie.has_nonstandard_attr("HttpOnly")
    cookie.set_nonstandard_attr("SameSite", "strict")
    assert cookie.same_site == "Strict"
    assert cookie._rest == {"HttpOnly": True, "SameSite": "Strict"}
    plain = create_cookie("p", "1")
    plain.set_nonstandard_attr("HttpOnly", None)
    assert plain.http_only


def test_morsel_to_cookie_errors_as_requests() -> None:
    from http.cookies import Morsel

    from brisk.cookies import morsel_to_cookie

    morsel: Morsel[str] = Morsel()
    morsel["expires"] = "Thu, 01-Jan-1970 00:00:01 GMT"
    assert morsel_to_cookie(morsel).expires == 1
    for value, error in ((100, TypeError), ("woops", ValueError)):
        morsel["expires"] = value
        with pytest.raises(error):
            morsel_to_cookie(morsel)
    morsel = Morsel()
    morsel["max-age"] = "woops"
    with pytest.raises(TypeError):
        morsel_to_cookie(morsel)


def test_prepare_cookies_keeps_a_stdlib_jar_and_asks_it() -> None:
    std = http.cookiejar.CookieJar()
    merge_cookies(std, {"a": "1"})
    std.set_cookie(std_cookie("dot", "2", ".example.com"))
    std.set_cookie(std_cookie("other", "3", ".other.org"))
    p = Request("GET", "http://www.example.com/", cookies=std).prepare()
    assert p._cookies is std
    assert p.headers["Cookie"] == "a=1; dot=2"  # the standard library's order


def test_live_prepared_requests_keep_their_cookies(client: Client, raw_server: RawServerFactory) -> None:
    """requests' prepared-request recipe, ``s.send(s.prepare_request(Request(..., cookies=...)))`` or
    ``s.send(Request(..., cookies=...).prepare())``: the request's cookies are sent, with the session's,
    on every hop to their host; a Cookie header set by hand on a request prepared without the session is
    sent as it is."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            if request.target.startswith("/start"):
                conn.send(http_response(302, b"", [("Location", "/end" + request.target[6:])]))
            else:
                conn.send(http_response(200, b"ok"))

    server = raw_server(handler)
    client.session.cookies.set("session", "1")
    url = server.url + "/start"
    client.send(client.session.prepare_request(Request("GET", url + "?a", cookies={"mine": "2"})))
    client.send(Request("GET", url + "?b", cookies={"mine": "3"}).prepare())
    client.send(Request("GET", url + "?c", headers={"Cookie": "by=hand"}).prepare())
    sent = [(request.target, request.header("cookie")) for request in server.requests]
    assert sent == [
        ("/start?a", "mine=2; session=1"),
        ("/end?a", "mine=2; session=1"),
        ("/start?b", "mine=3; session=1"),
        ("/end?b", "mine=3; session=1"),
        ("/start?c", "by=hand"),
        ("/end?c", "session=1"),
    ]


def test_live_no_cookie_no_engine(raw_server: RawServerFactory) -> None:
    """A GET that meets no cookie imports neither the cookie engine nor http.cookiejar."""
    server = set_cookie_server(raw_server, {})
    code = (
        "import sys, brisk\n"
        f"brisk.get({server.url + '/plain'!r}); brisk.Session().get({server.url + '/plain'!r})\n"
        "loaded = {'brisk._cookies.engine', 'brisk._cookies.model', 'brisk.cookies', 'http.cookiejar'}\n"
        "assert not loaded & set(sys.modules), loaded & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
