"""Cookies against real servers: Set-Cookie stored and sent back, path, Secure, Domain and host-only rules,
refusal of public suffixes, foreign domains and IPs, deletion, the size and count caps as the server sees
them, ``response.cookies``, the dict-like ``session.cookies`` API, saving and loading a session's
cookies (cookies.txt and JSON), and an http.cookiejar jar (``MozillaCookieJar``) as ``session.cookies``.

Host names: 127.0.0.1 and localhost are two hosts to the cookie rules. Domain cookies need names with a
shared parent, so ``named_hosts`` makes names under ``brisk.test`` and ``shop.co.uk`` resolve to 127.0.0.1
for the test's duration (every connection still goes to 127.0.0.1).

Every behaviour test takes the ``client`` fixture and so runs with ``brisk.Session`` and
``brisk.AsyncSession``.
"""

from __future__ import annotations

import http.cookiejar
import json
import shutil
import socket
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk.cookies import MAX_COOKIE_BYTES, MAX_COOKIE_HEADER_BYTES, MAX_COOKIES_PER_DOMAIN
from brisk.testing.server import ServerThread
from servers.clients import Client
from servers.raw import RawConnection, RawRequest, RawServer, RawServerFactory, http_response

ClientFactory = Callable[..., Client]

#: Names the ``named_hosts`` fixture resolves to 127.0.0.1.
FAKE_ZONES = ("brisk.test", "other.test", "shop.co.uk")


@pytest.fixture
def named_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve ``*.brisk.test``, ``*.other.test`` and ``*.shop.co.uk`` to 127.0.0.1 (sync and async clients
    both resolve through ``socket.getaddrinfo``)."""
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode("ascii")
        if isinstance(host, str) and any(host == zone or host.endswith("." + zone) for zone in FAKE_ZONES):
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def at(server: ServerThread, host: str) -> str:
    """The server's base URL with another host name."""
    return f"{server.scheme}://{host}:{server.port}"


def set_raw(client: Client, base: str, *set_cookie: str) -> brisk.Response:
    """Make the app answer with these verbatim Set-Cookie headers."""
    return client.get(base + "/set-cookie-raw", params=[("h", value) for value in set_cookie])


def cookies_seen(client: Client, base: str) -> dict[str, str]:
    """The cookies the app receives on a request to ``base``."""
    return client.get(base + "/cookies").json()["cookies"]  # type: ignore[no-any-return]


def cookie_header_at(client: Client, url: str) -> str | None:
    """The Cookie header the app's /anything echo received for ``url``."""
    return client.get(url).json()["headers"].get("Cookie")  # type: ignore[no-any-return]


# -- stored and sent back ------------------------------------------------------------------------------------


def test_cookies_set_cookie_stored_and_sent_back(client: Client, app_server: ServerThread) -> None:
    r = client.get(app_server.url + "/cookies/set", params={"flavour": "oat", "count": "3"})
    assert r.json() == {"cookies": {"flavour": "oat", "count": "3"}}  # sent on the redirect to /cookies
    assert cookies_seen(client, app_server.url) == {"flavour": "oat", "count": "3"}
    assert client.session.cookies.get_dict() == {"flavour": "oat", "count": "3"}
    cookie = next(iter(client.session.cookies))
    assert (cookie.domain, cookie.path, cookie.secure) == ("127.0.0.1", "/", False)


def test_cookies_replaced_by_later_set_cookie(client: Client, app_server: ServerThread) -> None:
    set_raw(client, app_server.url, "v=1; Path=/")
    set_raw(client, app_server.url, "v=2; Path=/")
    assert cookies_seen(client, app_server.url) == {"v": "2"}
    assert len(client.session.cookies) == 1


def test_cookies_host_only_not_sent_to_other_host(client: Client, app_server: ServerThread) -> None:
    set_raw(client, app_server.url, "ip_only=1; Path=/")
    assert cookies_seen(client, at(app_server, "localhost")) == {}
    assert cookies_seen(client, app_server.url) == {"ip_only": "1"}


def test_cookies_per_request_cookies_sent_not_stored(client: Client, app_server: ServerThread) -> None:
    r = client.get(app_server.url + "/cookies", cookies={"once": "yes"})
    assert r.json() == {"cookies": {"once": "yes"}}
    assert "once" not in client.session.cookies
    assert cookies_seen(client, app_server.url) == {}


def test_cookies_per_request_jar_keeps_each_cookie_domain(client: Client, app_server: ServerThread) -> None:
    """``cookies=<jar>`` per request: a cookie with a domain goes only where its domain (and path) match, as
    in requests; one for another site is never sent to this host. A cookie without a domain is this
    request's host's."""
    jar = brisk.cookies.RequestsCookieJar()
    jar.set("elsewhere", "secret", domain="other.example", path="/")
    jar.set("here", "1", domain="127.0.0.1", path="/")
    jar.set("deep", "1", domain="127.0.0.1", path="/somewhere-else")
    jar.set("anyhost", "1")  # no domain
    r = client.get(app_server.url + "/cookies", cookies=jar)
    assert r.json() == {"cookies": {"here": "1", "anyhost": "1"}}
    stdlib_jar = http.cookiejar.CookieJar()
    stdlib_jar.set_cookie(brisk.cookies.create_cookie("elsewhere", "secret", domain="other.example"))
    r = client.get(app_server.url + "/cookies", cookies=stdlib_jar)
    assert r.json() == {"cookies": {}}


# -- path ----------------------------------------------------------------------------------------------------


def test_cookies_path_matching(client: Client, app_server: ServerThread) -> None:
    set_raw(client, app_server.url, "scoped=1; Path=/anything/sub")
    base = app_server.url + "/anything"
    assert cookie_header_at(client, base + "/sub") == "scoped=1"
    assert cookie_header_at(client, base + "/sub/") == "scoped=1"
    assert cookie_header_at(client, base + "/sub/deeper/still") == "scoped=1"
    assert cookie_header_at(client, base + "/subway") is None  # a prefix, but not a path boundary
    assert cookie_header_at(client, base) is None
    assert cookie_header_at(client, base + "/other/sub") is None


def test_cookies_longer_path_sent_first(client: Client, app_server: ServerThread) -> None:
    set_raw(client, app_server.url, "k=root; Path=/", "k=deep; Path=/anything/a")
    assert cookie_header_at(client, app_server.url + "/anything/a/b") == "k=deep; k=root"


def test_cookies_default_path_is_request_directory(client: Client, raw_server: RawServerFactory) -> None:
    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            extra = [("Set-Cookie", "dir=1")] if request.target == "/shop/cart/add" else []
            conn.send(http_response(200, b"ok", extra))

    server = raw_server(handler)
    for path in ("/shop/cart/add", "/shop/cart/view", "/shop/cart", "/shop/other", "/"):
        client.get(server.url + path)
    sent = {request.target: request.header("cookie") for request in server.requests}
    assert sent == {
        "/shop/cart/add": None,
        "/shop/cart/view": "dir=1",
        "/shop/cart": "dir=1",
        "/shop/other": None,
        "/": None,
    }


# -- Secure --------------------------------------------------------------------------------------------------


def test_cookies_secure_not_sent_over_http(
    client_factory: ClientFactory, app_server: ServerThread, tls_app_server: ServerThread, ca_bundle: str
) -> None:
    client = client_factory(verify=ca_bundle)
    set_raw(client, tls_app_server.url, "tls_only=1; Secure; Path=/", "everywhere=1; Path=/")
    assert cookies_seen(client, tls_app_server.url) == {"tls_only": "1", "everywhere": "1"}
    # the same host name over plain http (another port: cookies ignore ports)
    assert cookies_seen(client, app_server.url) == {"everywhere": "1"}


def test_cookies_secure_from_http_refused(client: Client, app_server: ServerThread) -> None:
    r = set_raw(client, app_server.url, "sneaky=1; Secure; Path=/", "__Secure-x=1; Path=/")
    assert r.status_code == 200
    assert len(client.session.cookies) == 0


def test_cookies_http_cannot_overwrite_secure_cookie(
    client_factory: ClientFactory, app_server: ServerThread, tls_app_server: ServerThread, ca_bundle: str
) -> None:
    client = client_factory(verify=ca_bundle)
    set_raw(client, tls_app_server.url, "sid=good; Secure; Path=/")
    set_raw(client, app_server.url, "sid=evil; Path=/")  # rfc6265bis: leave secure cookies alone
    assert cookies_seen(client, tls_app_server.url) == {"sid": "good"}


# -- Domain and host-only ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("named_hosts")
def test_cookies_domain_cookie_vs_host_only(client: Client, app_server: ServerThread) -> None:
    set_raw(client, at(app_server, "www.brisk.test"), "wide=1; Domain=brisk.test; Path=/", "narrow=1; Path=/")
    assert cookies_seen(client, at(app_server, "www.brisk.test")) == {"wide": "1", "narrow": "1"}
    assert cookies_seen(client, at(app_server, "api.brisk.test")) == {"wide": "1"}
    assert cookies_seen(client, at(app_server, "brisk.test")) == {"wide": "1"}
    assert cookies_seen(client, at(app_server, "deep.www.brisk.test")) == {
        "wide": "1"
    }  # host-only: not subdomains
    assert cookies_seen(client, at(app_server, "other.test")) == {}
    assert cookies_seen(client, app_server.url) == {}
    kinds = {c.name: c.host_only for c in client.session.cookies}
    assert kinds == {"wide": False, "narrow": True}


@pytest.mark.usefixtures("named_hosts")
def test_cookies_domain_with_leading_dot_and_case(client: Client, app_server: ServerThread) -> None:
    set_raw(client, at(app_server, "www.brisk.test"), "dotted=1; Domain=.BRISK.test; Path=/")
    assert cookies_seen(client, at(app_server, "api.brisk.test")) == {"dotted": "1"}


@pytest.mark.usefixtures("named_hosts")
@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.shop.co.uk", "co.uk"),  # a public suffix
        ("www.shop.co.uk", "uk"),
        ("www.brisk.test", "test"),  # an unlisted top-level label counts as public
        ("www.brisk.test", "other.test"),  # another domain
        ("www.brisk.test", "api.brisk.test"),  # a sibling
        ("www.brisk.test", "rbrisk.test"),  # a string suffix, not a domain suffix
        ("www.brisk.test", "sub.www.brisk.test"),  # a subdomain of the host
        ("www.brisk.test", "127.0.0.1"),  # an IP for a named host
        ("localhost", "127.0.0.1"),
        ("127.0.0.1", "0.0.1"),  # part of an IP is no domain
        ("127.0.0.1", "localhost"),
    ],
)
def test_cookies_foreign_or_public_domain_not_stored(
    client: Client, app_server: ServerThread, host: str, domain: str
) -> None:
    r = set_raw(client, at(app_server, host), f"bad=1; Domain={domain}; Path=/")
    assert r.json() == {"set-cookie": [f"bad=1; Domain={domain}; Path=/"]}  # it did arrive
    assert len(client.session.cookies) == 0
    assert len(r.cookies) == 0
    assert cookies_seen(client, at(app_server, host)) == {}


@pytest.mark.usefixtures("named_hosts")
def test_cookies_domain_equal_to_public_suffix_host_is_host_only(
    client: Client, app_server: ServerThread
) -> None:
    # Domain=<the host itself> is accepted, but when the host is a public suffix it stays host-only.
    set_raw(client, at(app_server, "localhost"), "self=1; Domain=localhost; Path=/")
    (cookie,) = client.session.cookies
    assert cookie.host_only
    assert cookies_seen(client, at(app_server, "localhost")) == {"self": "1"}


def test_cookies_ip_host_own_address_as_domain(client: Client, app_server: ServerThread) -> None:
    set_raw(client, app_server.url, "ip=1; Domain=127.0.0.1; Path=/")
    (cookie,) = client.session.cookies
    assert (cookie.domain, cookie.host_only) == ("127.0.0.1", True)
    assert cookies_seen(client, app_server.url) == {"ip": "1"}


# -- expiry and deletion -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "deletion",
    [
        "gone=; Max-Age=0; Path=/",
        "gone=x; Max-Age=-1; Path=/",
        "gone=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
    ],
)
def test_cookies_max_age_zero_deletes(client: Client, app_server: ServerThread, deletion: str) -> None:
    set_raw(client, app_server.url, "gone=1; Path=/", "stays=1; Path=/")
    assert cookies_seen(client, app_server.url) == {"gone": "1", "stays": "1"}
    set_raw(client, app_server.url, deletion)
    assert cookies_seen(client, app_server.url) == {"stays": "1"}
    assert "gone" not in client.session.cookies


def test_cookies_delete_endpoint(client: Client, app_server: ServerThread) -> None:
    client.get(app_server.url + "/cookies/set", params={"a": "1", "b": "2"})
    r = client.get(app_server.url + "/cookies/delete", params={"a": ""})
    assert r.json() == {"cookies": {"b": "2"}}


def test_cookies_max_age_wins_over_expires(client: Client, app_server: ServerThread) -> None:
    set_raw(client, app_server.url, "both=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=3600; Path=/")
    (cookie,) = client.session.cookies
    assert cookie.expires is not None
    assert cookies_seen(client, app_server.url) == {"both": "1"}


# -- caps: what the server receives -------------------------------------------------------------------------


def set_cookie_server(raw_server: RawServerFactory, lines_by_target: dict[str, list[str]]) -> RawServer:
    """A raw server answering ``200 ok`` with the Set-Cookie lines listed for the request's target."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            lines = lines_by_target.get(request.target, [])
            conn.send(http_response(200, b"ok", [("Set-Cookie", line) for line in lines]))

    return raw_server(handler)


def sent_pairs(request: RawRequest) -> list[str]:
    """The name=value pairs of the Cookie header the server received, in order."""
    value = request.header("cookie")
    return value.split("; ") if value else []


def sized_pair(name: str, size: int, fill: str = "v") -> str:
    """``name=value`` with ``len(name) + len(value) == size`` (the quantity MAX_COOKIE_BYTES caps)."""
    return f"{name}={fill * (size - len(name))}"


def test_cookies_cap_per_domain_keeps_the_latest(client: Client, raw_server: RawServerFactory) -> None:
    """60 cookies in one response: 50 are kept (all equally recently used, so the first set go first)."""
    assert MAX_COOKIES_PER_DOMAIN == 50
    pairs = [f"c{i:02}={i}" for i in range(60)]
    server = set_cookie_server(raw_server, {"/set": [pair + "; Path=/" for pair in pairs]})
    client.get(server.url + "/set")
    client.get(server.url + "/check")
    set_request, check = server.requests
    assert sent_pairs(set_request) == []
    assert sent_pairs(check) == pairs[10:]
    assert len(client.session.cookies) == 50


def test_cookies_cap_per_domain_evicts_least_recently_used(
    client: Client, raw_server: RawServerFactory
) -> None:
    """Over the cap, the cookies not sent for the longest time go: not simply the oldest ones."""
    a_pairs = [f"a{i:02}={i}" for i in range(25)]
    b_pairs = [f"b{i:02}={i}" for i in range(25)]
    n_pairs = [f"n{i}={i}" for i in range(10)]
    server = set_cookie_server(
        raw_server,
        {
            "/set-a": [pair + "; Path=/a" for pair in a_pairs],  # created first
            "/set-b": [pair + "; Path=/b" for pair in b_pairs],
            "/set-n": [pair + "; Path=/" for pair in n_pairs],
        },
    )
    client.get(server.url + "/set-a")
    client.get(server.url + "/set-b")
    client.get(server.url + "/a/use")  # sends (and so uses) every a cookie, none of the b ones
    client.get(server.url + "/set-n")  # 60 cookies for 127.0.0.1: the 10 least recently used go
    client.get(server.url + "/a/check")
    client.get(server.url + "/b/check")
    sent = {request.target: sent_pairs(request) for request in server.requests}
    assert sent["/a/use"] == a_pairs
    assert sent["/set-n"] == []
    assert sent["/a/check"] == a_pairs + n_pairs  # longer path first
    assert sent["/b/check"] == b_pairs[10:] + n_pairs
    assert len(client.session.cookies) == 50


def test_cookies_cap_on_one_cookie_size(client: Client, raw_server: RawServerFactory) -> None:
    """Name and value of 4096 bytes are stored and sent; 4097 are neither."""
    largest = sized_pair("largest", MAX_COOKIE_BYTES)
    too_big = sized_pair("too_big", MAX_COOKIE_BYTES + 1)
    server = set_cookie_server(raw_server, {"/set": [largest + "; Path=/", too_big + "; Path=/"]})
    r = client.get(server.url + "/set")
    assert r.cookies.keys() == ["largest"]
    client.get(server.url + "/check")
    assert sent_pairs(server.requests[1]) == [largest]
    assert client.session.cookies.keys() == ["largest"]


def test_cookies_cap_on_cookie_header_size(client: Client, raw_server: RawServerFactory) -> None:
    """Cookies that would push the Cookie header past 8190 bytes are left out (and kept in the jar); a later
    cookie that still fits is sent: the header can end exactly at the cap."""
    assert MAX_COOKIE_HEADER_BYTES == 8190
    fits = [sized_pair(f"b{i}", 2045) for i in range(3)]  # 3 x 2046 bytes and 2 "; " = 6142
    overflows = sized_pair("over", 2100, "o")
    last = sized_pair("last", MAX_COOKIE_HEADER_BYTES - 6142 - 2 - 1, "l")  # ends the header at 8190
    stored = [*fits, overflows, last]
    server = set_cookie_server(raw_server, {"/set": [pair + "; Path=/" for pair in stored]})
    client.get(server.url + "/set")
    client.get(server.url + "/check")
    check = server.requests[1]
    header = check.header("cookie")
    assert header is not None
    assert len(header) == MAX_COOKIE_HEADER_BYTES
    assert sent_pairs(check) == [*fits, last]
    assert len(client.session.cookies) == len(stored)
    # With room again the cookie left out is sent, and now "last" no longer fits.
    client.session.cookies.set("b0", None)
    client.get(server.url + "/again")
    assert sent_pairs(server.requests[2]) == [fits[1], fits[2], overflows]


# -- response.cookies ----------------------------------------------------------------------------------------


def test_cookies_response_cookies(client: Client, app_server: ServerThread) -> None:
    r = set_raw(
        client,
        app_server.url,
        "a=1",
        "b=2; Path=/somewhere; HttpOnly; SameSite=Lax",
        "bad=1; Domain=example.org",
    )
    jar = r.cookies
    assert isinstance(jar, brisk.cookies.RequestsCookieJar)
    assert jar.get_dict() == {"a": "1", "b": "2"}
    assert jar.get("b", path="/somewhere") == "2"
    b = next(c for c in jar if c.name == "b")
    assert b.http_only
    assert b.same_site == "Lax"


def test_cookies_response_cookies_on_redirect_history(client: Client, app_server: ServerThread) -> None:
    r = client.get(app_server.url + "/cookies/set/name/value")
    assert r.history[0].cookies.get_dict() == {"name": "value"}
    assert r.cookies.get_dict() == {}  # the final response set none
    assert r.json() == {"cookies": {"name": "value"}}


# -- session.cookies API -------------------------------------------------------------------------------------


def test_cookies_session_jar_dict_api_round_trip(client: Client, app_server: ServerThread) -> None:
    jar = client.session.cookies
    jar["plain"] = "1"  # requests-style: no domain, any host the user asks for
    jar.set("scoped", "2", domain="127.0.0.1", path="/")
    jar.update({"bulk": "3"})
    assert cookies_seen(client, app_server.url) == {"plain": "1", "scoped": "2", "bulk": "3"}
    set_raw(client, app_server.url, "server=4; Path=/")
    assert jar["server"] == "4"
    assert "server" in jar
    assert sorted(jar.keys()) == ["bulk", "plain", "scoped", "server"]
    assert dict(jar.items()) == {"plain": "1", "scoped": "2", "bulk": "3", "server": "4"}
    assert len(jar) == 4
    del jar["plain"]
    jar.set("scoped", "changed", domain="127.0.0.1", path="/")
    jar.set("bulk", None)  # requests: None removes
    assert cookies_seen(client, app_server.url) == {"scoped": "changed", "server": "4"}
    assert jar.get("missing", "default") == "default"
    with pytest.raises(KeyError):
        jar["missing"]
    jar.clear()
    assert cookies_seen(client, app_server.url) == {}


def test_cookies_session_jar_replaced_by_dict(
    client_factory: ClientFactory, app_server: ServerThread
) -> None:
    client = client_factory(cookies={"given": "at-start"})
    assert cookies_seen(client, app_server.url) == {"given": "at-start"}


def test_cookies_session_jar_conflict(client: Client, app_server: ServerThread) -> None:
    set_raw(client, app_server.url, "dup=root; Path=/", "dup=deep; Path=/anything")
    with pytest.raises(brisk.cookies.CookieConflictError):
        client.session.cookies["dup"]
    assert client.session.cookies.get("dup", path="/anything") == "deep"


# -- save and load -------------------------------------------------------------------------------------------


def _fill(client: Client, app_server: ServerThread, tls_app_server: ServerThread) -> None:
    set_raw(
        client,
        app_server.url,
        "session_cookie=s1; Path=/",
        "persistent=p1; Max-Age=3600; Path=/",
        "scoped=x; Path=/anything/in",
        "flags=f; HttpOnly; SameSite=Strict; Path=/",
    )
    set_raw(client, tls_app_server.url, "secure=s; Secure; Path=/")


@pytest.mark.parametrize("file_format", ["netscape", "json"])
def test_cookies_save_and_load_through_session(
    client_factory: ClientFactory,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    tmp_path: Path,
    *,
    file_format: str,
) -> None:
    first = client_factory(verify=ca_bundle)
    _fill(first, app_server, tls_app_server)
    path = tmp_path / f"cookies.{file_format}"
    first.session.cookies.save(path, format=file_format)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    if file_format == "json":
        json.loads(path.read_text())
    else:
        assert path.read_text().startswith("# Netscape HTTP Cookie File")

    second = client_factory(verify=ca_bundle)
    second.session.cookies.load(path)  # format detected
    assert cookies_seen(second, app_server.url) == {"session_cookie": "s1", "persistent": "p1", "flags": "f"}
    assert cookies_seen(second, tls_app_server.url) == {
        "session_cookie": "s1",
        "persistent": "p1",
        "flags": "f",
        "secure": "s",
    }
    assert cookie_header_at(second, app_server.url + "/anything/in") is not None
    assert "scoped=x" in (cookie_header_at(second, app_server.url + "/anything/in") or "")
    assert cookies_seen(second, at(app_server, "localhost")) == {}  # still host-only
    loaded = {c.name: c for c in second.session.cookies}
    original = {c.name: c for c in first.session.cookies}
    assert loaded.keys() == original.keys()
    for name, cookie in original.items():
        got = loaded[name]
        assert (got.value, got.domain, got.path, got.secure, got.http_only, got.host_only, got.expires) == (
            cookie.value,
            cookie.domain,
            cookie.path,
            cookie.secure,
            cookie.http_only,
            cookie.host_only,
            cookie.expires,
        )
    if file_format == "json":
        assert loaded["flags"].same_site == "Strict"


@pytest.mark.network_tools
def test_cookies_txt_read_by_curl(client: Client, app_server: ServerThread, tmp_path: Path) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl not installed: apt-get install curl (the CI script .ci/run installs it)")
    set_raw(client, app_server.url, "for_curl=yes; Path=/", "later=1; Max-Age=3600; Path=/")
    path = tmp_path / "cookies.txt"
    client.session.cookies.save(path)
    done = subprocess.run(
        [curl, "-s", "--max-time", "10", "-b", str(path), app_server.url + "/cookies"],
        capture_output=True,
        timeout=20,
        check=True,
    )
    assert json.loads(done.stdout) == {"cookies": {"for_curl": "yes", "later": "1"}}


def test_cookies_raw_set_cookie_lines_kept_separate(client: Client, raw_server: RawServerFactory) -> None:
    """Several Set-Cookie headers, one with a comma in its Expires date, are not merged or split wrongly."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            headers = (
                []
                if request.target == "/check"
                else [
                    ("Set-Cookie", "a=1; Expires=Wed, 09 Jun 2100 10:18:14 GMT; Path=/"),
                    ("Set-Cookie", "b=2; Path=/"),
                ]
            )
            conn.send(http_response(200, b"ok", headers))

    server = raw_server(handler)
    client.get(server.url + "/set")
    client.get(server.url + "/check")
    assert server.requests[1].header("cookie") == "a=1; b=2"


# -- an http.cookiejar jar as session.cookies ----------------------------------------------------------------

#: Far in the future (2100), for cookies.txt lines.
FAR = 4102444800


def mozilla_jar(path: Path, *lines: str) -> http.cookiejar.MozillaCookieJar:
    """A MozillaCookieJar loaded from a cookies.txt holding ``lines`` (tab-separated records)."""
    path.write_text("# Netscape HTTP Cookie File\n" + "".join(line + "\n" for line in lines))
    jar = http.cookiejar.MozillaCookieJar(str(path))
    jar.load()
    return jar


def test_cookies_stdlib_jar_loaded_from_file_is_sent(
    client: Client, app_server: ServerThread, tmp_path: Path
) -> None:
    jar = mozilla_jar(tmp_path / "cookies.txt", f"127.0.0.1\tFALSE\t/\tFALSE\t{FAR}\tsid\tabc")
    client.session.cookies = jar
    assert client.session.cookies is jar  # kept as it is, so jar.save() sees what the session stores
    assert cookies_seen(client, app_server.url) == {"sid": "abc"}
    prepared = client.session.prepare_request(brisk.Request("GET", app_server.url + "/cookies"))
    assert prepared.headers["Cookie"] == "sid=abc"
    # A Cookie header the caller sets is sent as set, as with brisk's jar
    r = client.get(app_server.url + "/cookies", headers={"Cookie": "mine=1"})
    assert r.json() == {"cookies": {"mine": "1"}}


def test_cookies_stdlib_jar_stores_set_cookie_and_saves(
    client: Client, app_server: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "cookies.txt"
    jar = http.cookiejar.MozillaCookieJar(str(path))
    client.session.cookies = jar
    r = client.get(app_server.url + "/cookies/set", params={"flavour": "oat"})
    assert r.json() == {"cookies": {"flavour": "oat"}}  # stored by the jar, sent on the redirect hop
    set_raw(client, app_server.url, "persistent=p1; Max-Age=3600; Path=/", "scoped=s; Path=/anything/in")
    stored = {c.name: c for c in jar}
    assert {name: c.value for name, c in stored.items()} == {
        "flavour": "oat",
        "persistent": "p1",
        "scoped": "s",
    }
    assert all(isinstance(c, http.cookiejar.Cookie) for c in stored.values())
    assert (stored["persistent"].domain, stored["scoped"].path) == ("127.0.0.1", "/anything/in")
    assert cookies_seen(client, app_server.url) == {"flavour": "oat", "persistent": "p1"}
    assert "scoped=s" in (cookie_header_at(client, app_server.url + "/anything/in") or "")
    assert cookies_seen(client, at(app_server, "localhost")) == {}
    jar.save()  # session cookies stay out of the file, as MozillaCookieJar does
    again = http.cookiejar.MozillaCookieJar(str(path))
    again.load()
    assert {(c.name, c.value, c.domain) for c in again} == {("persistent", "p1", "127.0.0.1")}


@pytest.mark.usefixtures("named_hosts")
def test_cookies_stdlib_jar_rules_for_other_domains_and_secure(
    client_factory: ClientFactory,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    tmp_path: Path,
) -> None:
    client = client_factory(verify=ca_bundle)
    client.session.cookies = mozilla_jar(
        tmp_path / "cookies.txt",
        f"127.0.0.1\tFALSE\t/\tFALSE\t{FAR}\there\t1",
        f"127.0.0.1\tFALSE\t/\tTRUE\t{FAR}\tsecure\t1",
        f".other.test\tTRUE\t/\tFALSE\t{FAR}\telsewhere\t1",
        f".brisk.test\tTRUE\t/\tFALSE\t{FAR}\tzone\t1",
        f"brisk.test\tFALSE\t/\tFALSE\t{FAR}\thost_only\t1",  # set without Domain: this host alone
    )
    assert cookies_seen(client, app_server.url) == {"here": "1"}
    assert cookies_seen(client, tls_app_server.url) == {"here": "1", "secure": "1"}
    assert cookies_seen(client, at(app_server, "brisk.test")) == {"zone": "1", "host_only": "1"}
    # DefaultCookiePolicy would send host_only to subdomains too; brisk keeps it on its host
    assert cookies_seen(client, at(app_server, "www.brisk.test")) == {"zone": "1"}
    assert cookies_seen(client, at(app_server, "a.other.test")) == {"elsewhere": "1"}


def test_cookies_stdlib_jar_not_sent_across_origin_redirect(
    client: Client, app_server: ServerThread, tmp_path: Path
) -> None:
    jar = mozilla_jar(tmp_path / "cookies.txt", f"127.0.0.1\tFALSE\t/\tFALSE\t{FAR}\there\t1")
    brisk.cookies.cookiejar_from_dict({"anyhost": "1"}, jar)  # no domain: requests sends it everywhere
    client.session.cookies = jar
    away = at(app_server, "localhost") + "/cookies"
    r = client.get(app_server.url + "/redirect-to", params={"url": away})
    assert r.json() == {"cookies": {}}
    assert r.history[0].request.headers["Cookie"] == "here=1; anyhost=1"
    assert "cookie" not in r.request.headers
    # Back on the first origin, its cookies are sent again: each hop is judged by its own URL
    back = at(app_server, "localhost") + "/redirect-to?url=" + app_server.url + "/cookies"
    r = client.get(app_server.url + "/redirect-to", params={"url": back})
    assert r.json() == {"cookies": {"here": "1", "anyhost": "1"}}
    assert "cookie" not in r.history[1].request.headers


def test_cookies_stdlib_jar_from_dict_and_merge(client: Client, app_server: ServerThread) -> None:
    jar = brisk.cookies.cookiejar_from_dict({"k": "v"}, http.cookiejar.CookieJar())
    assert brisk.cookies.merge_cookies(jar, {"m": "1", "k": "kept"}) is jar
    own = brisk.cookies.RequestsCookieJar()
    own.set("wide", "w", domain="127.0.0.1", path="/")
    brisk.cookies.merge_cookies(jar, own)
    assert all(isinstance(c, http.cookiejar.Cookie) for c in jar)
    assert {c.name: c.value for c in jar} == {"k": "v", "m": "1", "wide": "w"}
    client.session.cookies = jar
    assert cookies_seen(client, app_server.url) == {"k": "v", "m": "1", "wide": "w"}
    set_raw(client, app_server.url, "server=s; Path=/")
    assert {c.name for c in jar} == {"k", "m", "wide", "server"}
    # requests' Request(cookies=<a jar>) takes an http.cookiejar jar too
    prepared = brisk.Request("GET", app_server.url + "/cookies", cookies=jar).prepare()
    assert sorted(prepared.headers["Cookie"].split("; ")) == ["k=v", "m=1", "server=s", "wide=w"]


def test_cookies_session_jar_assigned_a_dict(client: Client, app_server: ServerThread) -> None:
    client.session.cookies = {"given": "later"}
    assert isinstance(client.session.cookies, brisk.cookies.RequestsCookieJar)
    assert cookies_seen(client, app_server.url) == {"given": "later"}
    set_raw(client, app_server.url, "server=s; Path=/")  # requests fails here: a dict cannot store it
    assert client.session.cookies.get_dict() == {"given": "later", "server": "s"}
    with pytest.raises(TypeError, match=r"Session\.cookies"):
        client.session.cookies = 42
