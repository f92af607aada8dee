"""Proxies end to end: HTTP forwarding, CONNECT tunnels, TLS to the proxy, SOCKS, failures, the environment,
and pools keyed by proxy (issue 5; the proxy lines of SECURITY-CASES.md).

Real proxies started by the fixtures of ``servers.proxies``: pproxy (HTTP, HTTPS, SOCKS4, SOCKS5, with and
without credentials) and tinyproxy (HTTP/CONNECT, a second implementation). Where a test must see exactly
what a proxy received, a relay of our own records it (``relay_proxy``, ``socks_relay``); hostile proxies are
scripted raw servers. Every behaviour test takes the ``client`` fixture, so it runs with ``brisk.Session``
and with ``brisk.AsyncSession``.

Credential isolation is proven where it matters: the origin's ``/echo-raw-headers`` (reached through the
tunnel) shows every header that went inside the tunnel, and the recording relay shows what the proxy got.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import brisk
from brisk._core.url import URL
from brisk._flows.proxies import environment_proxies, proxy_for, should_bypass
from brisk._session.environment import Environment
from brisk.exceptions import InvalidProxyURL, MissingDependencyError, ProxyError, ProxySSLError, SSLError
from brisk.testing.server import ServerThread
from servers.clients import Client
from servers.proxies import (
    CREDENTIALS,
    PproxyServer,
    RelayProxy,
    SocksRelay,
    TinyProxy,
    basic,
    close_after_request,
    close_at_once,
    endless_header_line,
    endless_header_lines,
    refuse_connect,
)
from servers.raw import RawConnection, RawServer, RawServerFactory, http_response
from servers.tls import CertBundle

ClientFactory = Callable[..., Client]
RelayFactory = Callable[..., RelayProxy]
SocksFactory = Callable[..., SocksRelay]

PROXY_AUTH = basic(*CREDENTIALS)
PROXY_VARIABLES = (
    "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
    "ws_proxy", "WS_PROXY", "wss_proxy", "WSS_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD",
)  # fmt: skip


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy settings from the machine running the tests; tests set their own (before the first
    request, which is when a session reads its environment)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# -- helpers -------------------------------------------------------------------------------------------------


def echoed(response: brisk.Response) -> dict[str, str]:
    """The request headers the app's /echo-raw-headers received, names lower-cased."""
    return {name.lower(): value for name, value in response.json()}


def tls_url(server: ServerThread, path: str, host: str = "localhost") -> str:
    return f"https://{host}:{server.port}{path}"


def named(raw_server: RawServerFactory, name: str) -> RawServer:
    """A raw server answering every request with its own name as the body (a "proxy" that never relays)."""

    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(200, name.encode(), [("Content-Type", "text/plain")]))

    return raw_server(handler)


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    """Poll ``condition`` (a proxy's log catching up) for up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _credential_kwargs(how: str, proxy: RelayProxy | RealProxy) -> tuple[str, dict[str, Any]]:
    """The proxy URL and request arguments giving an authenticating proxy its credentials one way or another:
    in the proxy URL, with HTTPProxyAuth, or as a Proxy-Authorization header (in three letter cases)."""
    if isinstance(proxy, RelayProxy):
        with_credentials, anonymous = proxy.url(), f"http://127.0.0.1:{proxy.port}"
    else:
        with_credentials, anonymous = proxy.auth_url, proxy.anonymous_auth_url
    if how == "proxy_url":
        return with_credentials, {}
    if how == "proxy_auth":
        return anonymous, {"auth": brisk.HTTPProxyAuth(*CREDENTIALS)}
    name = {"header": "Proxy-Authorization", "header_lower": "proxy-authorization"}.get(
        how, "PROXY-AUTHORIZATION"
    )
    return anonymous, {"headers": {name: PROXY_AUTH}}


CREDENTIAL_SOURCES = ["proxy_url", "proxy_auth", "header", "header_lower", "header_upper"]


@dataclass
class RealProxy:
    """One of the real HTTP proxy programs, seen the same way by the tests."""

    name: str
    url: str  # no credentials needed
    auth_url: str  # this proxy requires credentials; the URL carries them
    anonymous_auth_url: str  # the same proxy without the credentials
    #: how many requests/connections the proxy has handled for a loopback port so far (from its log)
    handled: Callable[[int], int]


def _tinyproxy_handled(*proxies: TinyProxy) -> Callable[[int], int]:
    def handled(port: int) -> int:
        return sum(
            line.endswith(" HTTP/1.1")
            and ("Request (" in line)
            and (f":{port}/" in line or f":{port} " in line)
            for proxy in proxies
            for line in proxy.log.splitlines()
        )

    return handled


@pytest.fixture(params=["pproxy", pytest.param("tinyproxy", marks=pytest.mark.network_tools)])
def real_proxy(request: pytest.FixtureRequest) -> RealProxy:
    """pproxy, then tinyproxy (skipped, with the install command, when tinyproxy is missing)."""
    if request.param == "pproxy":
        pproxy: PproxyServer = request.getfixturevalue("pproxy")
        return RealProxy(
            "pproxy",
            pproxy.url("http"),
            pproxy.url("http_auth"),
            f"http://127.0.0.1:{pproxy.ports['http_auth']}",
            pproxy.connections_to,
        )
    tiny: TinyProxy = request.getfixturevalue("tinyproxy")
    tiny_auth: TinyProxy = request.getfixturevalue("tinyproxy_auth")
    return RealProxy(
        "tinyproxy",
        tiny.url(),
        tiny_auth.url(),
        f"http://127.0.0.1:{tiny_auth.port}",
        _tinyproxy_handled(tiny, tiny_auth),
    )


# == selection rules (units) =================================================================================


@pytest.mark.parametrize(
    ("url", "no_proxy", "bypass"),
    [
        ("http://example.com/", "example.com", True),
        ("http://www.example.com/", "example.com", True),  # a name covers its subdomains
        ("http://www.example.com/", ".example.com", True),  # a leading dot changes nothing
        ("http://example.com/", ".example.com", True),
        ("http://notexample.com/", "example.com", False),  # a suffix match is on a label boundary
        ("http://example.com.evil.test/", "example.com", False),
        ("http://EXAMPLE.com./", "example.COM", True),  # case and the trailing dot are ignored
        ("http://example.com/", "other.test, example.com", True),  # comma list with spaces
        ("http://example.com/", ",, ,", False),
        ("http://example.com/", "", False),
        ("http://anything.test/", "*", True),
        ("http://10.1.2.3/", "10.0.0.0/8", True),  # CIDR ranges
        ("http://11.1.2.3/", "10.0.0.0/8", False),
        ("http://127.0.0.1:8080/", "127.0.0.0/8", True),
        ("http://192.168.1.7/", "192.168.1.0/24", True),
        ("http://192.168.2.7/", "192.168.1.0/24", False),
        ("http://[::1]:8080/", "::1/128", True),
        ("http://[2001:db8::5]/", "2001:db8::/32", True),
        ("http://example.com/", "10.0.0.0/8", False),  # a name is never resolved to match a range
        ("http://localhost/", "127.0.0.1", False),  # nor to match an address
        ("http://127.0.0.1/", "127.0.0.1", True),
        ("http://example.com:8080/", "example.com:8080", True),  # host:port entries
        ("http://example.com:8081/", "example.com:8080", False),
        ("http://example.com/", "example.com:80", True),  # the scheme's default port counts
        ("https://example.com/", "example.com:443", True),
        ("https://example.com/", "example.com:80", False),
        ("http://10.0.0.5:8080/", "10.0.0.0/8:8080", True),  # a range with a port
        ("http://10.0.0.5:8081/", "10.0.0.0/8:8080", False),
        ("http://[::1]:8080/", "[::1]:8080", True),
        ("http://[::1]:8081/", "[::1]:8080", False),
    ],
)
def test_no_proxy_matching_rules(url: str, no_proxy: str, bypass: bool) -> None:
    assert should_bypass(URL.parse(url), no_proxy) is bypass


def _env(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Environment:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Environment()


def test_proxy_for_key_precedence() -> None:
    url = URL.parse("http://example.com/x")
    assert proxy_for(url, {"http://example.com": "host", "http": "scheme"}, None, None) == "host"
    assert proxy_for(url, {"all://example.com": "all-host", "http": "scheme"}, None, None) == "scheme"
    assert proxy_for(url, {"all://example.com": "all-host", "all": "all"}, None, None) == "all-host"
    assert proxy_for(url, {"all": "all"}, None, None) == "all"
    assert proxy_for(url, {"https": "tls-only"}, None, None) is None
    assert proxy_for(url, {"http://other.test": "other"}, None, None) is None
    # None and "" mean "no proxy" and stop the search
    assert proxy_for(url, {"http": None, "all": "all"}, None, None) is None
    assert proxy_for(url, {"http": "", "all": "all"}, None, None) is None


def test_proxy_precedence_explicit_then_session_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    url = URL.parse("http://example.com/")
    env = _env(monkeypatch, HTTP_PROXY="http://env:1")
    assert proxy_for(url, {"http": "http://arg:1"}, {"http": "http://session:1"}, env) == "http://arg:1"
    assert proxy_for(url, None, {"http": "http://session:1"}, env) == "http://session:1"
    assert proxy_for(url, {}, {}, env) == "http://env:1"
    assert proxy_for(url, None, None, None) is None  # trust_env off: the environment is not consulted
    # an explicit "no proxy" at either level beats the environment, and the argument beats the session
    assert proxy_for(url, {"http": None}, {"http": "http://session:1"}, env) is None
    assert proxy_for(url, None, {"all": None}, env) is None
    assert proxy_for(url, {"http": "http://arg:1"}, {"http": None}, env) == "http://arg:1"
    # a key that does not apply falls through to the next level
    assert proxy_for(url, {"https": "http://arg:1"}, None, env) == "http://env:1"


def test_no_proxy_applies_to_environment_proxies_only(monkeypatch: pytest.MonkeyPatch) -> None:
    url = URL.parse("http://example.com/")
    env = _env(monkeypatch, HTTP_PROXY="http://env:1", NO_PROXY="example.com")
    assert proxy_for(url, None, None, env) is None
    assert proxy_for(URL.parse("http://other.test/"), None, None, env) == "http://env:1"
    # proxies named explicitly are used as given (as in requests)
    assert proxy_for(url, {"http": "http://arg:1"}, None, env) == "http://arg:1"
    # requests' "no_proxy" key of a proxies dict overrides the environment's list
    env = _env(monkeypatch, NO_PROXY="")
    assert proxy_for(url, {"no_proxy": "example.com"}, None, env) is None
    assert proxy_for(url, None, {"no_proxy": "example.com"}, env) is None
    assert proxy_for(url, {"no_proxy": "other.test"}, None, env) == "http://env:1"


def test_environment_lower_case_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(
        monkeypatch,
        http_proxy="http://lower:1",
        HTTP_PROXY="http://upper:1",
        HTTPS_PROXY="http://upper-tls:1",
        all_proxy="socks5://lower-all:1",
        ALL_PROXY="socks5://upper-all:1",
        no_proxy="lower.test",
        NO_PROXY="upper.test",
    )
    assert env.proxies == {
        "http": "http://lower:1",
        "https": "http://upper-tls:1",
        "all": "socks5://lower-all:1",
    }
    assert env.no_proxy == "lower.test"
    assert proxy_for(URL.parse("http://lower.test/"), None, None, env) is None
    assert proxy_for(URL.parse("http://upper.test/"), None, None, env) == "http://lower:1"
    assert proxy_for(URL.parse("https://x.test/"), None, None, env) == "http://upper-tls:1"


def test_environment_all_proxy_covers_every_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(monkeypatch, ALL_PROXY="socks5h://all:1080", HTTPS_PROXY="http://tls:1")
    assert proxy_for(URL.parse("http://a.test/"), None, None, env) == "socks5h://all:1080"
    assert proxy_for(URL.parse("https://a.test/"), None, None, env) == "http://tls:1"


def test_environment_http_proxy_ignored_in_cgi_httpoxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a CGI program any client sets HTTP_PROXY with a ``Proxy:`` header; only the lower-case form,
    which a request cannot set, is honoured there."""
    monkeypatch.setenv("REQUEST_METHOD", "GET")
    monkeypatch.setenv("HTTP_PROXY", "http://attacker.test:8080")
    monkeypatch.setenv("HTTPS_PROXY", "http://tls:1")
    assert environment_proxies() == {"https": "http://tls:1"}
    monkeypatch.setenv("http_proxy", "http://admin-set:1")
    assert environment_proxies()["http"] == "http://admin-set:1"
    monkeypatch.delenv("REQUEST_METHOD")
    monkeypatch.delenv("http_proxy")
    assert environment_proxies()["http"] == "http://attacker.test:8080"  # outside CGI it is honoured


@pytest.mark.parametrize(
    "proxy",
    [
        "ftp://proxy.test:21",
        "socks6://proxy.test:1",
        "http://proxy.test:99999",
        "http://[::1/",
        "http:/proxy.test:3128",
    ],
)
def test_invalid_proxy_url_rejected(client: Client, proxy: str) -> None:
    with pytest.raises(InvalidProxyURL):
        client.get("http://127.0.0.1:9/", proxies={"http": proxy})


def test_invalid_proxy_url_message_hides_credentials(client: Client) -> None:
    with pytest.raises(InvalidProxyURL) as caught:
        client.get("http://127.0.0.1:9/", proxies={"http": "gopher://alice:s3cret@proxy.test:70"})
    assert "s3cret" not in str(caught.value)


# == HTTP forward proxy (plain http URLs) ====================================================================


def test_forward_proxy_carries_http_request(
    client: Client, real_proxy: RealProxy, app_server: ServerThread
) -> None:
    before = real_proxy.handled(app_server.port)
    response = client.get(f"{app_server.url}/anything/forwarded?x=1", proxies={"http": real_proxy.url})
    assert response.status_code == 200
    body = response.json()
    assert body["url"].endswith("/anything/forwarded?x=1")
    assert body["headers"]["Host"] == f"127.0.0.1:{app_server.port}"
    assert wait_for(lambda: real_proxy.handled(app_server.port) > before), f"{real_proxy.name} saw nothing"


def test_forward_proxy_with_credentials(
    client: Client, real_proxy: RealProxy, app_server: ServerThread
) -> None:
    url = f"{app_server.url}/headers"
    response = client.get(url, proxies={"http": real_proxy.auth_url})
    assert response.status_code == 200  # the proxy accepted the credentials (and consumed them)
    assert "Proxy-Authorization" not in response.json()["headers"]
    # a forwarded request is answered by the proxy itself: its 407 is the response (as with requests)
    refused = client.get(url, proxies={"http": real_proxy.anonymous_auth_url})
    assert refused.status_code == 407
    assert "Proxy-Authenticate" in refused.headers


@pytest.mark.parametrize(
    ("proxy_userinfo", "expected"),
    [("alice:s3cret", "alice:s3cret"), ("al%40ice:p%3Ass%20w", "al@ice:p:ss w"), ("alice", "alice:")],
)
def test_forward_proxy_request_is_absolute_form_with_credentials(
    client: Client, raw_server: RawServerFactory, proxy_userinfo: str, expected: str
) -> None:
    """The proxy gets the absolute URL (no userinfo, no fragment) and its own credentials; the origin's
    credentials travel as Authorization, for the origin."""
    recorder = raw_server()
    proxy = f"http://{proxy_userinfo}@127.0.0.1:{recorder.port}"
    response = client.get("http://user:pw@origin.test:8080/path/x?q=1#fragment", proxies={"http": proxy})
    assert client.read(response) == b"ok"
    (request,) = recorder.requests
    assert request.target == "http://origin.test:8080/path/x?q=1"
    assert request.header("host") == "origin.test:8080"
    assert request.header_values("proxy-authorization") == [basic(*expected.split(":", 1))]
    assert request.header("authorization") == basic("user", "pw")


@pytest.mark.parametrize("how", ["proxy_auth", "header"])
def test_forward_proxy_user_supplied_proxy_authorization(
    client: Client, raw_server: RawServerFactory, how: str
) -> None:
    """HTTPProxyAuth or a Proxy-Authorization header: sent once, to the proxy, instead of URL credentials."""
    recorder = raw_server()
    kwargs: dict[str, Any] = (
        {"auth": brisk.HTTPProxyAuth("bob", "pw")}
        if how == "proxy_auth"
        else {"headers": {"proxy-authorization": basic("bob", "pw")}}
    )
    proxy = f"http://alice:s3cret@127.0.0.1:{recorder.port}"
    client.get("http://origin.test/", proxies={"http": proxy}, **kwargs)
    (request,) = recorder.requests
    assert request.header_values("proxy-authorization") == [basic("bob", "pw")]


@pytest.mark.parametrize("how", CREDENTIAL_SOURCES)
def test_forward_proxy_credentials_not_sent_to_direct_host_after_redirect(
    client: Client, relay_proxy: RelayFactory, raw_server: RawServerFactory, how: str
) -> None:
    """A proxied hop redirected to a host reached directly: the proxy's credentials stay with the proxy,
    wherever they came from."""
    direct = raw_server()
    relay = relay_proxy(credentials=CREDENTIALS)
    start = raw_server(lambda conn: _redirect_once(conn, f"http://localhost:{direct.port}/landed"))
    proxy, kwargs = _credential_kwargs(how, relay)
    proxies = {"http://127.0.0.1": proxy, "http": None}
    response = client.get(f"http://127.0.0.1:{start.port}/start", proxies=proxies, **kwargs)
    assert client.read(response) == b"ok"
    assert [r.header_values("proxy-authorization") for r in relay.requests] == [[PROXY_AUTH]]
    (landed,) = direct.requests
    assert landed.target == "/landed"
    assert landed.header("proxy-authorization") is None


@pytest.mark.parametrize("how", CREDENTIAL_SOURCES)
def test_forward_proxy_credentials_kept_for_the_proxy_across_redirects(
    client: Client, relay_proxy: RelayFactory, app_server: ServerThread, how: str
) -> None:
    """Every forwarded hop through the same authenticating proxy carries the proxy's credentials (to the
    proxy), also after a redirect to another host, however they were given."""
    relay = relay_proxy(credentials=CREDENTIALS)
    proxy, kwargs = _credential_kwargs(how, relay)
    target = f"http://localhost:{app_server.port}/get"
    response = client.get(
        f"{app_server.url}/redirect-to?url={target}&status_code=302", proxies={"http": proxy}, **kwargs
    )
    assert response.status_code == 200
    assert [r.target.split("?")[0] for r in relay.requests] == [f"{app_server.url}/redirect-to", target]
    assert [r.header_values("proxy-authorization") for r in relay.requests] == [[PROXY_AUTH]] * 2


def _redirect_once(conn: RawConnection, location: str) -> None:
    while conn.recv_request() is not None:
        conn.send(http_response(302, b"", [("Location", location)]))


@pytest.mark.parametrize(
    ("proxies", "host", "expected"),
    [
        ({"http": "A"}, "127.0.0.1", "A"),
        ({"http://127.0.0.1": "B", "http": "A"}, "127.0.0.1", "B"),
        ({"http://127.0.0.1": "B", "http": "A"}, "localhost", "A"),
        ({"all": "C"}, "localhost", "C"),
        ({"all://localhost": "B", "all": "C"}, "localhost", "B"),
        ({"all://localhost": "B", "all": "C"}, "127.0.0.1", "C"),
        ({"https": "A"}, "127.0.0.1", "origin"),
        ({"http": None, "all": "C"}, "127.0.0.1", "origin"),
        ({"http://localhost": None, "all": "C"}, "localhost", "origin"),
    ],
)
def test_proxies_dict_scheme_and_host_keys(
    client_factory: ClientFactory,
    raw_server: RawServerFactory,
    proxies: dict[str, str | None],
    host: str,
    expected: str,
) -> None:
    """requests' proxies keys, live, at request level and at session level."""
    servers = {name: named(raw_server, name) for name in ("A", "B", "C", "origin")}
    resolved = {key: None if value is None else servers[value].url for key, value in proxies.items()}
    url = f"http://{host}:{servers['origin'].port}/"
    client = client_factory()
    assert client.read(client.get(url, proxies=resolved)) == expected.encode()
    session_level = client_factory(proxies=resolved)
    assert session_level.read(session_level.get(url)) == expected.encode()


# == HTTPS through CONNECT ===================================================================================


@pytest.mark.parametrize("http2", [True, False], ids=["h2-inside", "http1-inside"])
def test_connect_tunnel_to_https_origin(
    client_factory: ClientFactory,
    real_proxy: RealProxy,
    tls_app_server: ServerThread,
    ca_bundle: str,
    http2: bool,
) -> None:
    client = client_factory(verify=ca_bundle, http2=http2)
    before = real_proxy.handled(tls_app_server.port)
    response = client.get(tls_url(tls_app_server, "/get?tunnel=1"), proxies={"https": real_proxy.url})
    assert response.status_code == 200
    assert response.json()["args"] == {"tunnel": "1"}
    assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
    assert wait_for(lambda: real_proxy.handled(tls_app_server.port) > before), (
        f"{real_proxy.name} saw nothing"
    )
    again = client.get(tls_url(tls_app_server, "/get"), proxies={"https": real_proxy.url})
    assert again.status_code == 200
    assert client.pool().total == 1  # the tunnel is reused


def test_connect_tunnel_with_credentials_real_proxy(
    client_factory: ClientFactory, real_proxy: RealProxy, tls_app_server: ServerThread, ca_bundle: str
) -> None:
    client = client_factory(verify=ca_bundle, http2=False)
    response = client.get(
        tls_url(tls_app_server, "/echo-raw-headers"), proxies={"https": real_proxy.auth_url}
    )
    assert response.status_code == 200
    assert "proxy-authorization" not in echoed(response)
    with pytest.raises(ProxyError, match="407") as caught:
        client.get(tls_url(tls_app_server, "/get"), proxies={"https": real_proxy.anonymous_auth_url})
    assert "s3cret" not in str(caught.value)
    wrong = real_proxy.auth_url.replace("s3cret", "wrong")
    # wrong credentials: pproxy answers 407 again; tinyproxy 1.11.1 (Debian 12's) 401, 1.11.3 (Debian
    # unstable's, in the Python 3.14 chroot of .ci/run) 407. The message names what the proxy said
    with pytest.raises(ProxyError, match="407" if real_proxy.name == "pproxy" else "401|407") as caught:
        client.get(tls_url(tls_app_server, "/get"), proxies={"https": wrong})
    assert "wrong" not in str(caught.value)
    assert client.pool().total == 1  # the good tunnel only


@pytest.mark.parametrize("http2", [True, False], ids=["h2-inside", "http1-inside"])
@pytest.mark.parametrize("how", CREDENTIAL_SOURCES)
def test_proxy_authorization_only_in_connect_never_inside_tunnel(
    client_factory: ClientFactory,
    relay_proxy: RelayFactory,
    tls_app_server: ServerThread,
    ca_bundle: str,
    how: str,
    http2: bool,
) -> None:
    """requests CVE-2023-32681: the CONNECT request carries Proxy-Authorization, the request inside the
    tunnel (seen by the origin) never does, wherever the credentials came from."""
    relay = relay_proxy(credentials=CREDENTIALS)
    proxy, kwargs = _credential_kwargs(how, relay)
    client = client_factory(verify=ca_bundle, http2=http2)
    response = client.get(tls_url(tls_app_server, "/echo-raw-headers"), proxies={"https": proxy}, **kwargs)
    assert response.status_code == 200
    assert "proxy-authorization" not in echoed(response)
    (connect,) = relay.requests
    assert connect.method == "CONNECT"
    assert connect.target == f"localhost:{tls_app_server.port}"
    assert connect.header("host") == connect.target
    assert connect.header_values("proxy-authorization") == [PROXY_AUTH]


@pytest.mark.parametrize("http2", [True, False], ids=["h2-inside", "http1-inside"])
@pytest.mark.parametrize("how", CREDENTIAL_SOURCES)
@pytest.mark.parametrize("hop", ["same_origin", "cross_host"])
def test_proxy_credentials_never_inside_tunnel_after_redirect(
    client_factory: ClientFactory,
    relay_proxy: RelayFactory,
    tls_app_server: ServerThread,
    ca_bundle: str,
    how: str,
    hop: str,
    http2: bool,
) -> None:
    """requests CVE-2023-32681 (Proxy-Authorization re-added inside the tunnel on a redirect): after a
    redirect, to the same origin or to another host through the same proxy, the final request's headers at
    the origin have no Proxy-Authorization; each CONNECT through the authenticating proxy has it."""
    relay = relay_proxy(credentials=CREDENTIALS)
    proxy, kwargs = _credential_kwargs(how, relay)
    if hop == "same_origin":
        target = "/echo-raw-headers"
        expected_tunnels = [f"localhost:{tls_app_server.port}"]
    else:
        target = tls_url(tls_app_server, "/echo-raw-headers", host="127.0.0.1")
        expected_tunnels = [f"localhost:{tls_app_server.port}", f"127.0.0.1:{tls_app_server.port}"]
    client = client_factory(verify=ca_bundle, http2=http2)
    start = tls_url(tls_app_server, f"/redirect-to?url={target}&status_code=302")
    response = client.get(start, proxies={"https": proxy}, **kwargs)
    assert response.status_code == 200, client.read(response)
    assert len(response.history) == 1
    assert "proxy-authorization" not in echoed(response)
    assert [r.target for r in relay.requests] == expected_tunnels
    assert [r.header_values("proxy-authorization") for r in relay.requests] == [[PROXY_AUTH]] * len(
        expected_tunnels
    )


@pytest.mark.parametrize("how", ["proxy_url", "proxy_auth", "header"])
def test_proxy_credentials_never_inside_tunnel_after_redirect_real_proxy(
    client_factory: ClientFactory,
    real_proxy: RealProxy,
    tls_app_server: ServerThread,
    ca_bundle: str,
    how: str,
) -> None:
    """CVE-2023-32681 through pproxy and tinyproxy (both require credentials here): the redirected request
    opens a second, authenticated tunnel, and the origin never sees Proxy-Authorization."""
    proxy, kwargs = _credential_kwargs(how, real_proxy)
    client = client_factory(verify=ca_bundle)
    target = tls_url(tls_app_server, "/echo-raw-headers", host="127.0.0.1")
    start = tls_url(tls_app_server, f"/redirect-to?url={target}&status_code=307")
    response = client.get(start, proxies={"https": proxy}, **kwargs)
    assert response.status_code == 200
    assert response.url == target
    assert "proxy-authorization" not in echoed(response)
    assert client.pool().total == 2


def test_proxy_headers_differing_credentials_never_share_a_tunnel(
    client: Client, relay_proxy: RelayFactory, tls_app_server: ServerThread, ca_bundle: str
) -> None:
    """A tunnel opened with one user's proxy credentials is never reused for another user's request."""
    relay = relay_proxy()
    url = tls_url(tls_app_server, "/get")
    anonymous = f"http://127.0.0.1:{relay.port}"
    calls: list[tuple[str, dict[str, Any]]] = [
        (f"http://u1:p@127.0.0.1:{relay.port}", {}),
        (f"http://u2:p@127.0.0.1:{relay.port}", {}),
        (anonymous, {"auth": brisk.HTTPProxyAuth("u3", "p")}),
        (anonymous, {"auth": brisk.HTTPProxyAuth("u4", "p")}),
        (anonymous, {}),
    ]
    for _ in range(2):
        for proxy, kwargs in calls:
            assert client.get(url, proxies={"https": proxy}, verify=ca_bundle, **kwargs).status_code == 200
    assert relay.connection_count == len(calls)
    assert [r.header("proxy-authorization") for r in relay.requests] == [
        basic("u1", "p"),
        basic("u2", "p"),
        basic("u3", "p"),
        basic("u4", "p"),
        None,
    ]


# == HTTPS proxy (TLS to the proxy itself) ===================================================================


@pytest.fixture(params=["pproxy", "relay"])
def https_proxy(request: pytest.FixtureRequest, relay_proxy: RelayFactory, good_cert: CertBundle) -> str:
    """An ``https://`` proxy URL: pproxy's TLS listener, or our relay behind TLS."""
    if request.param == "pproxy":
        pproxy: PproxyServer = request.getfixturevalue("pproxy")
        return pproxy.url("https")
    return relay_proxy(tls=good_cert).url()


def test_https_proxy_for_http_url(
    client_factory: ClientFactory, https_proxy: str, app_server: ServerThread, ca_bundle: str
) -> None:
    client = client_factory(verify=ca_bundle)
    response = client.get(f"{app_server.url}/get?via=tls-proxy", proxies={"http": https_proxy})
    assert response.status_code == 200
    assert response.json()["args"] == {"via": "tls-proxy"}


@pytest.mark.parametrize("http2", [True, False], ids=["h2-inside", "http1-inside"])
def test_https_proxy_tls_in_tls_for_https_url(
    client_factory: ClientFactory, https_proxy: str, tls_app_server: ServerThread, ca_bundle: str, http2: bool
) -> None:
    """TLS to the origin inside TLS to the proxy (the sync client runs the inner session on memory BIOs).

    Quick, and on one connection: inner records already received but not yet decrypted must count as
    readable (once, the sync HTTP/2 reader waited for the socket instead, until the server's idle timeout
    closed the connection, ~5 s later, and the connection was lost)."""
    client = client_factory(verify=ca_bundle, http2=http2)
    started = time.monotonic()
    for _ in range(2):
        response = client.get(tls_url(tls_app_server, "/get?inner=1"), proxies={"https": https_proxy})
        assert response.status_code == 200
        assert response.json()["args"] == {"inner": "1"}
        assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
    big = client.get(tls_url(tls_app_server, "/bytes/300000?seed=7"), proxies={"https": https_proxy})
    assert len(client.read(big)) == 300_000
    # Bodies the sync client reads straight into their final bytes (recv_into through the tunnel):
    # whole past 1 MiB, and in pieces of 64 KiB.
    large = client.get(tls_url(tls_app_server, "/bytes/1500000?seed=7"), proxies={"https": https_proxy})
    assert client.read(large)[:300_000] == big.content
    streamed = client.get(
        tls_url(tls_app_server, "/bytes/300000?seed=7"), proxies={"https": https_proxy}, stream=True
    )
    pieces = client.chunks(streamed, 65536)
    assert [len(p) for p in pieces] == [65536] * 4 + [37856]
    assert b"".join(pieces) == big.content
    assert time.monotonic() - started < 4
    assert client.pool().total == 1


def test_https_proxy_credentials_over_tls(
    client: Client,
    relay_proxy: RelayFactory,
    good_cert: CertBundle,
    tls_app_server: ServerThread,
    ca_bundle: str,
) -> None:
    relay = relay_proxy(tls=good_cert, credentials=CREDENTIALS)
    response = client.get(
        tls_url(tls_app_server, "/echo-raw-headers"), proxies={"https": relay.url()}, verify=ca_bundle
    )
    assert "proxy-authorization" not in echoed(response)
    assert [r.header("proxy-authorization") for r in relay.requests] == [PROXY_AUTH]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_https_proxy_wrong_host_certificate_rejected(
    client: Client,
    relay_proxy: RelayFactory,
    wrong_host_cert: CertBundle,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    scheme: str,
) -> None:
    """An https proxy presenting a certificate for another host is refused before any request reaches it."""
    relay = relay_proxy(tls=wrong_host_cert, credentials=CREDENTIALS)
    url = f"{app_server.url}/get" if scheme == "http" else tls_url(tls_app_server, "/get")
    with pytest.raises(SSLError, match="mismatch") as caught:
        client.get(url, proxies={scheme: relay.url()}, verify=ca_bundle)
    assert isinstance(caught.value, ProxyError)  # what requests raises: both catch it (ProxySSLError)
    assert "s3cret" not in str(caught.value)
    assert relay.requests == []
    assert client.pool().total == 0
    assert client.get(url, verify=ca_bundle).status_code == 200  # direct still fine


def test_https_proxy_untrusted_without_ca_bundle(
    client: Client, relay_proxy: RelayFactory, good_cert: CertBundle, app_server: ServerThread
) -> None:
    """The proxy's certificate is verified like any server's: the system store does not know the test CA."""
    relay = relay_proxy(tls=good_cert)
    with pytest.raises(ProxySSLError, match="local issuer"):
        client.get(f"{app_server.url}/get", proxies={"http": relay.url()})
    assert relay.requests == []
    assert client.pool().total == 0


# == SOCKS ===================================================================================================


@pytest.mark.parametrize(
    ("kind", "scheme"),
    [("socks4", "socks4"), ("socks5", "socks5"), ("socks5", "socks5h"), ("socks5_auth", "socks5")],
)
@pytest.mark.parametrize("target", ["http", "https"])
def test_socks_proxy_pproxy(
    client_factory: ClientFactory,
    pproxy: PproxyServer,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    kind: str,
    scheme: str,
    target: str,
) -> None:
    server = app_server if target == "http" else tls_app_server
    url = f"{target}://localhost:{server.port}/echo-raw-headers"
    client = client_factory(verify=ca_bundle)
    before = pproxy.connections_to(server.port)
    proxy = pproxy.url(kind, scheme=scheme)
    for _ in range(2):
        response = client.get(url, proxies={target: proxy})
        assert response.status_code == 200
        headers = echoed(response)
        assert headers["host"] == f"localhost:{server.port}"
        assert "proxy-authorization" not in headers
        assert response.http_version == ("HTTP/2" if target == "https" else "HTTP/1.1")  # ALPN in the tunnel
    assert client.pool().total == 1
    assert wait_for(lambda: pproxy.connections_to(server.port) == before + 1)


@pytest.mark.parametrize("target", ["http", "https"])
def test_socks_tunnel_never_carries_proxy_authorization(
    client_factory: ClientFactory,
    pproxy: PproxyServer,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    target: str,
) -> None:
    """A SOCKS proxy has no use for Proxy-Authorization: the origin never sees it (HTTP/1.1 or HTTP/2)."""
    server = app_server if target == "http" else tls_app_server
    client = client_factory(verify=ca_bundle)
    url = f"{target}://localhost:{server.port}/echo-raw-headers"
    proxies = {target: pproxy.url("socks5_auth")}
    for kwargs in ({"auth": brisk.HTTPProxyAuth("bob", "pw")}, {"headers": {"Proxy-Authorization": "x"}}):
        assert "proxy-authorization" not in echoed(client.get(url, proxies=proxies, **kwargs))


def test_socks5_credentials_refused(client: Client, pproxy: PproxyServer, app_server: ServerThread) -> None:
    url = f"{app_server.url}/get"
    wrong = pproxy.url("socks5_auth", credentials=("alice", "wrong"))
    anonymous = f"socks5://127.0.0.1:{pproxy.ports['socks5_auth']}"
    for proxy in (wrong, anonymous):
        with pytest.raises(ProxyError) as caught:
            client.get(url, proxies={"http": proxy})
        assert "wrong" not in str(caught.value)
        assert client.pool().total == 0
    assert client.get(url, proxies={"http": pproxy.url("socks5_auth")}).status_code == 200


@pytest.mark.parametrize(
    ("scheme", "version", "address_type", "host"),
    [
        ("socks4", 4, "ipv4", "127.0.0.1"),
        ("socks4a", 4, "domain", "localhost"),
        ("socks5", 5, "ipv4", "127.0.0.1"),
        ("socks5h", 5, "domain", "localhost"),
    ],
)
@pytest.mark.parametrize("target", ["http", "https"])
def test_socks_address_sent_to_proxy(
    client_factory: ClientFactory,
    socks_relay: SocksFactory,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    scheme: str,
    version: int,
    address_type: str,
    host: str,
    target: str,
) -> None:
    """socks4/socks5 resolve the name locally and send an address; socks4a/socks5h send the name."""
    relay = socks_relay()
    server = app_server if target == "http" else tls_app_server
    client = client_factory(verify=ca_bundle)
    response = client.get(f"{target}://localhost:{server.port}/get", proxies={target: relay.url(scheme)})
    assert response.status_code == 200
    assert [(r.version, r.address_type, r.host, r.port) for r in relay.requests] == [
        (version, address_type, host, server.port)
    ]


@pytest.mark.parametrize("scheme", ["socks4a", "socks5h"])
def test_socks_remote_resolution_of_name_only_proxy_knows(
    client: Client, socks_relay: SocksFactory, app_server: ServerThread, scheme: str
) -> None:
    """A name this machine cannot resolve (``.invalid`` never resolves) but the proxy can: the request
    succeeds only because the proxy resolved it."""
    relay = socks_relay(resolve={"backend.proxy-only.invalid": "127.0.0.1"})
    url = f"http://backend.proxy-only.invalid:{app_server.port}/headers"
    response = client.get(url, proxies={"http": relay.url(scheme)})
    assert response.status_code == 200
    assert response.json()["headers"]["Host"] == f"backend.proxy-only.invalid:{app_server.port}"
    assert relay.requests[0].host == "backend.proxy-only.invalid"


@pytest.mark.parametrize("scheme", ["socks4", "socks5"])
def test_socks_credentials_reach_the_proxy(
    client: Client, socks_relay: SocksFactory, app_server: ServerThread, scheme: str
) -> None:
    """SOCKS5 user/password authentication; SOCKS4 sends the user name as its user id."""
    relay = socks_relay(credentials=CREDENTIALS)
    response = client.get(
        f"{app_server.url}/headers", proxies={"http": relay.url(scheme, credentials=CREDENTIALS)}
    )
    assert response.status_code == 200
    assert "Proxy-Authorization" not in response.json()["headers"]
    assert relay.requests[0].username == CREDENTIALS[0]


def test_socks_missing_python_socks_is_a_clear_error(
    client: Client, monkeypatch: pytest.MonkeyPatch, app_server: ServerThread
) -> None:
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "python_socks", None)  # as if it were not installed
        for scheme in ("socks4", "socks5h"):
            with pytest.raises(MissingDependencyError) as caught:
                client.get(f"{app_server.url}/get", proxies={"http": f"{scheme}://127.0.0.1:1080"})
            assert "python-socks" in str(caught.value)
            assert "brisk[socks]" in str(caught.value)
        assert client.pool().total == 0
    assert client.get(f"{app_server.url}/get").status_code == 200


# == proxy failures ==========================================================================================


#: hostile proxy -> what the ProxyError's message must say (a regular expression)
HOSTILE_PROXIES: dict[str, tuple[Callable[[RawConnection], object], str]] = {
    "connect_403": (refuse_connect(403, body=b"go away"), r"\b403 Forbidden\b"),
    "connect_407": (
        refuse_connect(407, (("Proxy-Authenticate", 'Basic realm="corp"'),)),
        r"\b407 Proxy Authentication Required\b",
    ),
    "connect_501": (refuse_connect(501), r"\b501 Not Implemented\b"),
    "closes_after_connect": (close_after_request, r"clos|reset|EOF"),
    "closes_at_once": (close_at_once, r"clos|reset|EOF"),
    "endless_header_line": (endless_header_line, r"Limits\.max_head"),
    "endless_header_lines": (endless_header_lines, r"Limits\.max_head"),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", list(HOSTILE_PROXIES))
def test_proxy_failure_is_proxy_error_nothing_pooled(
    client: Client,
    raw_server: RawServerFactory,
    relay_proxy: RelayFactory,
    tls_app_server: ServerThread,
    ca_bundle: str,
    case: str,
) -> None:
    """SECURITY-CASES: the proxy answers CONNECT with 403/407/501, closes early, or sends an endless header
    → ProxyError naming the status, nothing pooled, and the next request (direct or through a good proxy)
    works."""
    handler, expected = HOSTILE_PROXIES[case]
    hostile = raw_server(handler)
    url = tls_url(tls_app_server, "/get")
    started = time.monotonic()
    with pytest.raises(ProxyError) as caught:
        client.get(url, proxies={"https": f"http://alice:s3cret@127.0.0.1:{hostile.port}"}, verify=ca_bundle)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert re.search(expected, message, re.IGNORECASE), message
    assert f"127.0.0.1:{hostile.port}" in message
    assert "s3cret" not in message
    assert client.pool().total == 0
    assert client.get(url, verify=ca_bundle).status_code == 200
    good = relay_proxy()
    assert client.get(url, proxies={"https": good.url()}, verify=ca_bundle).status_code == 200


def test_proxy_failure_endless_header_bounded_by_limits(
    client_factory: ClientFactory, raw_server: RawServerFactory, tls_app_server: ServerThread
) -> None:
    """The CONNECT answer is read under the session's Limits (a small max_head_size stops it early)."""
    hostile = raw_server(endless_header_lines)
    client = client_factory(limits=brisk.Limits(max_head_size=4096))
    with pytest.raises(ProxyError, match="4096 bytes"):
        client.get(tls_url(tls_app_server, "/get"), proxies={"https": f"http://127.0.0.1:{hostile.port}"})
    assert client.pool().total == 0


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_proxy_refusing_tcp_connection(
    client: Client,
    unused_port: int,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    scheme: str,
) -> None:
    url = f"{app_server.url}/get" if scheme == "http" else tls_url(tls_app_server, "/get")
    for proxy in (
        f"http://alice:s3cret@127.0.0.1:{unused_port}",
        f"socks5://alice:s3cret@127.0.0.1:{unused_port}",
    ):
        with pytest.raises(ProxyError) as caught:
            client.get(url, proxies={scheme: proxy}, verify=ca_bundle)
        assert str(unused_port) in str(caught.value)
        assert "s3cret" not in str(caught.value)
        assert client.pool().total == 0
    assert client.get(url, verify=ca_bundle).status_code == 200


@pytest.mark.network_tools
def test_tinyproxy_refuses_connect_to_port_not_allowed(
    client: Client,
    tinyproxy: TinyProxy,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
) -> None:
    """A real proxy's 403 (tinyproxy allows CONNECT to the TLS app's port only)."""
    with pytest.raises(ProxyError, match="403"):
        client.get(
            f"https://localhost:{app_server.port}/get", proxies={"https": tinyproxy.url()}, verify=ca_bundle
        )
    assert client.pool().total == 0
    ok = client.get(tls_url(tls_app_server, "/get"), proxies={"https": tinyproxy.url()}, verify=ca_bundle)
    assert ok.status_code == 200


def test_proxy_closing_forwarded_request_is_an_error(client: Client, raw_server: RawServerFactory) -> None:
    """A forwarding proxy that closes without answering: a ConnectionError (as with requests), never a
    silent empty response, and the connection is not kept."""
    hostile = raw_server(close_after_request)
    with pytest.raises(brisk.exceptions.ConnectionError) as caught:
        client.get("http://origin.test/", proxies={"http": f"http://127.0.0.1:{hostile.port}"})
    assert "closed" in str(caught.value)
    assert client.pool().total == 0


# == environment (trust_env) =================================================================================


def test_environment_http_proxy_used(
    client_factory: ClientFactory, no_proxy_environment: pytest.MonkeyPatch, raw_server: RawServerFactory
) -> None:
    proxy = named(raw_server, "env-proxy")
    no_proxy_environment.setenv("HTTP_PROXY", proxy.url)
    client = client_factory()
    assert client.read(client.get("http://origin.test/")) == b"env-proxy"
    assert proxy.requests[0].target == "http://origin.test/"


def test_environment_https_proxy_used_for_tunnels(
    client_factory: ClientFactory,
    no_proxy_environment: pytest.MonkeyPatch,
    relay_proxy: RelayFactory,
    tls_app_server: ServerThread,
    ca_bundle: str,
) -> None:
    relay = relay_proxy(credentials=CREDENTIALS)
    no_proxy_environment.setenv("HTTPS_PROXY", relay.url())
    client = client_factory(verify=ca_bundle)
    response = client.get(tls_url(tls_app_server, "/echo-raw-headers"))
    assert "proxy-authorization" not in echoed(response)
    assert [(r.method, r.header("proxy-authorization")) for r in relay.requests] == [("CONNECT", PROXY_AUTH)]


def test_environment_all_proxy_socks(
    client_factory: ClientFactory,
    no_proxy_environment: pytest.MonkeyPatch,
    socks_relay: SocksFactory,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
) -> None:
    relay = socks_relay()
    no_proxy_environment.setenv("ALL_PROXY", relay.url("socks5h"))
    client = client_factory(verify=ca_bundle)
    assert client.get(f"http://localhost:{app_server.port}/get").status_code == 200
    assert client.get(tls_url(tls_app_server, "/get")).status_code == 200
    assert [(r.host, r.port) for r in relay.requests] == [
        ("localhost", app_server.port),
        ("localhost", tls_app_server.port),
    ]


def test_environment_lower_case_wins_live(
    client_factory: ClientFactory, no_proxy_environment: pytest.MonkeyPatch, raw_server: RawServerFactory
) -> None:
    lower, upper = named(raw_server, "lower"), named(raw_server, "upper")
    no_proxy_environment.setenv("http_proxy", lower.url)
    no_proxy_environment.setenv("HTTP_PROXY", upper.url)
    client = client_factory()
    assert client.read(client.get("http://origin.test/")) == b"lower"
    assert upper.requests == []


def test_environment_http_proxy_ignored_in_cgi_live(
    client_factory: ClientFactory,
    no_proxy_environment: pytest.MonkeyPatch,
    raw_server: RawServerFactory,
    app_server: ServerThread,
) -> None:
    """httpoxy: inside a CGI program (REQUEST_METHOD set) HTTP_PROXY may come from a request header."""
    attacker = named(raw_server, "attacker")
    no_proxy_environment.setenv("REQUEST_METHOD", "POST")
    no_proxy_environment.setenv("HTTP_PROXY", attacker.url)
    client = client_factory()
    assert client.get(f"{app_server.url}/get").status_code == 200
    assert attacker.connection_count == 0


@pytest.mark.parametrize(
    ("no_proxy", "host", "bypassed"),
    [
        ("localhost", "localhost", True),
        ("127.0.0.0/8", "127.0.0.1", True),
        ("*", "127.0.0.1", True),
        ("127.0.0.1:{port}", "127.0.0.1", True),
        ("127.0.0.1:1", "127.0.0.1", False),
        ("other.test,.localhost", "localhost", True),
        ("10.0.0.0/8", "127.0.0.1", False),
    ],
)
def test_environment_no_proxy_live(
    client_factory: ClientFactory,
    no_proxy_environment: pytest.MonkeyPatch,
    raw_server: RawServerFactory,
    app_server: ServerThread,
    no_proxy: str,
    host: str,
    bypassed: bool,
) -> None:
    proxy = named(raw_server, "proxied")
    no_proxy_environment.setenv("HTTP_PROXY", proxy.url)
    no_proxy_environment.setenv("NO_PROXY", no_proxy.format(port=app_server.port))
    client = client_factory()
    body = client.read(client.get(f"http://{host}:{app_server.port}/get"))
    assert (body != b"proxied") is bypassed


def test_environment_read_once_per_session(
    client_factory: ClientFactory,
    no_proxy_environment: pytest.MonkeyPatch,
    raw_server: RawServerFactory,
    app_server: ServerThread,
) -> None:
    proxy = named(raw_server, "proxied")
    client = client_factory()
    assert client.get(f"{app_server.url}/get").status_code == 200  # reads the (empty) environment
    no_proxy_environment.setenv("HTTP_PROXY", proxy.url)
    assert client.get(f"{app_server.url}/get").status_code == 200  # still direct
    assert proxy.connection_count == 0
    fresh = client_factory()
    assert fresh.read(fresh.get(f"{app_server.url}/get")) == b"proxied"


def test_environment_ignored_without_trust_env(
    client_factory: ClientFactory,
    no_proxy_environment: pytest.MonkeyPatch,
    raw_server: RawServerFactory,
    app_server: ServerThread,
) -> None:
    proxy = named(raw_server, "proxied")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        no_proxy_environment.setenv(name, proxy.url)
    client = client_factory(trust_env=False)
    assert client.get(f"{app_server.url}/get").status_code == 200
    assert proxy.connection_count == 0
    # explicit settings still work without trust_env
    assert client.read(client.get(f"{app_server.url}/get", proxies={"http": proxy.url})) == b"proxied"


def test_proxy_precedence_live(
    client_factory: ClientFactory,
    no_proxy_environment: pytest.MonkeyPatch,
    raw_server: RawServerFactory,
    app_server: ServerThread,
) -> None:
    """explicit argument > session setting > environment (and NO_PROXY only exempts the environment's)."""
    env, session, argument = (named(raw_server, name) for name in ("env", "session", "argument"))
    no_proxy_environment.setenv("HTTP_PROXY", env.url)
    url = f"{app_server.url}/get"
    plain = client_factory()
    assert plain.read(plain.get(url)) == b"env"
    configured = client_factory(proxies={"http": session.url})
    assert configured.read(configured.get(url)) == b"session"
    assert configured.read(configured.get(url, proxies={"http": argument.url})) == b"argument"
    assert configured.get(url, proxies={"http": None}).status_code == 200  # direct
    assert configured.read(configured.get(url)) == b"session"
    configured.proxies["http"] = None  # a session-level "no proxy" beats the environment
    assert configured.get(url).json()["url"].endswith("/get")
    no_proxy_environment.setenv("NO_PROXY", "127.0.0.1")
    exempt = client_factory(proxies={"https": session.url})
    assert exempt.get(url).json()["url"].endswith("/get")  # environment proxy exempted
    assert exempt.read(exempt.get(url, proxies={"http": argument.url})) == b"argument"


# == pools keyed by proxy ====================================================================================


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_pool_keyed_by_proxy(
    client: Client,
    relay_proxy: RelayFactory,
    raw_server: RawServerFactory,
    tls_raw_server: Callable[..., RawServer],
    good_cert: CertBundle,
    scheme: str,
) -> None:
    """One origin, direct and through two proxies: three connections, each reused only for its own route."""
    origin = raw_server() if scheme == "http" else tls_raw_server(good_cert)
    first, second = relay_proxy(), relay_proxy()
    url = f"{scheme}://localhost:{origin.port}/"
    routes: list[dict[str, str | None]] = [{scheme: None}, {scheme: first.url()}, {scheme: second.url()}]
    for _ in range(3):
        for proxies in routes:
            assert client.read(client.get(url, proxies=proxies, verify=str(good_cert.ca_bundle))) == b"ok"
    assert origin.connection_count == 3
    assert (first.connection_count, second.connection_count) == (1, 1)
    assert client.pool().total == 3
    assert len(origin.requests) == 9


def test_pool_keyed_by_proxy_real(client: Client, pproxy: PproxyServer, raw_server: RawServerFactory) -> None:
    """The same with pproxy's HTTP and SOCKS5 listeners: the origin counts the connections."""
    origin = raw_server()
    url = f"http://127.0.0.1:{origin.port}/"
    routes: list[dict[str, str | None]] = [
        {"http": None},
        {"http": pproxy.url("http")},
        {"http": pproxy.url("socks5")},
        {"http": pproxy.url("socks5", scheme="socks5h")},
    ]
    for _ in range(2):
        for proxies in routes:
            assert client.read(client.get(url, proxies=proxies)) == b"ok"
    assert origin.connection_count == 4
    assert client.pool().total == 4


def test_http2_prior_knowledge_through_proxies(
    client_factory: ClientFactory, pproxy: PproxyServer, app_server: ServerThread
) -> None:
    # A SOCKS tunnel is a plain TCP stream to the origin: h2c goes through it. A forwarding HTTP proxy takes
    # absolute-form HTTP/1.1 requests, so through one the request stays HTTP/1.1.
    url = f"http://localhost:{app_server.port}/get"
    client = client_factory(http2="prior-knowledge")
    through_socks = client.get(url, proxies={"http": pproxy.url("socks5")})
    assert (through_socks.status_code, through_socks.http_version) == (200, "HTTP/2")
    forwarded = client.get(url, proxies={"http": pproxy.url("http")})
    assert (forwarded.status_code, forwarded.http_version) == (200, "HTTP/1.1")
    assert forwarded.json()["url"] == url


# == Proxy-Authorization and redirects that leave the proxy (issue 18) =======================================


class WireRecorder(brisk.testing.MockTransport):
    """A MockTransport that also records, per hop, the proxy the hop goes through and the headers the real
    transports would put on the wire for it (``request_line_and_headers``, the function they call)."""

    def __init__(self, handler: Callable[[brisk.PreparedRequest], brisk.Response]) -> None:
        super().__init__(handler)
        self.wire: list[tuple[str | None, dict[str, str]]] = []

    def _record(self, request: brisk.PreparedRequest, options: Any) -> None:
        from brisk._transport.wire import request_line_and_headers

        assert request._url is not None
        _, pairs = request_line_and_headers(request, request._url, options)
        self.wire.append((options.config.proxy, {name.lower(): value for name, value in pairs}))

    def handle_request(self, request: brisk.PreparedRequest, options: Any) -> brisk.Response:
        self._record(request, options)
        return super().handle_request(request, options)

    async def handle_async_request(self, request: brisk.PreparedRequest, options: Any) -> brisk.Response:
        self._record(request, options)
        return await super().handle_async_request(request, options)


def _upgrade_to_https(request: brisk.PreparedRequest) -> brisk.Response:
    if request.url == "http://api.test/start":
        return brisk.Response(302, headers={"Location": "https://api.test/landed"})
    return brisk.Response(200, text="landed")


@pytest.mark.parametrize("how", ["header", "proxy_auth"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_proxy_authorization_never_reaches_the_origin_after_an_upgrade_that_leaves_the_proxy(
    how: str, kind: str
) -> None:
    """requests CVE-2023-32681 / urllib3 CVE-2024-37891: http://host/ through an http proxy redirects to
    https://host/ (credentials may follow: same host, default ports), and https goes direct. The first hop
    gives the proxy its credentials; the second, to the origin itself, carries no Proxy-Authorization, neither
    a header the request set nor one HTTPProxyAuth would put back."""
    kwargs: dict[str, Any] = (
        {"headers": {"Proxy-Authorization": PROXY_AUTH}}
        if how == "header"
        else {"auth": brisk.HTTPProxyAuth(*CREDENTIALS)}
    )
    transport = WireRecorder(_upgrade_to_https)
    proxies = {"http": "http://proxy.test:3128"}
    if kind == "sync":
        with brisk.Session(transport=transport) as session:
            response = session.get("http://api.test/start", proxies=proxies, **kwargs)
    else:
        import asyncio

        async def run() -> brisk.Response:
            async with brisk.AsyncSession(transport=transport) as session:
                return await session.get("http://api.test/start", proxies=proxies, **kwargs)

        response = asyncio.run(run())
    assert response.text == "landed"
    (first_proxy, first), (second_proxy, second) = transport.wire
    assert first_proxy == "http://proxy.test:3128"
    assert first["proxy-authorization"] == PROXY_AUTH
    assert second_proxy is None
    assert "proxy-authorization" not in second


def test_proxy_authorization_stays_behind_when_a_redirect_leaves_the_proxy(
    client: Client, relay_proxy: RelayFactory, raw_server: RawServerFactory
) -> None:
    """Over real sockets: the first hop is forwarded by the proxy (which gets the credentials), the redirect
    leads to a host the proxy is not used for (proxies are chosen by scheme and host), and that host never
    sees Proxy-Authorization."""
    relay = relay_proxy()
    target = raw_server()
    location = f"http://localhost:{target.port}/landed"
    origin = raw_server(lambda conn: _redirect_once(conn, location))
    proxies = {"http://127.0.0.1": relay.url()}
    response = client.get(origin.url + "/start", proxies=proxies, headers={"Proxy-Authorization": PROXY_AUTH})
    assert response.status_code == 200
    assert [r.header("proxy-authorization") for r in relay.requests] == [PROXY_AUTH]
    (landed,) = target.requests
    assert landed.header("proxy-authorization") is None


def _redirect_once(conn: RawConnection, location: str) -> None:
    if conn.recv_request() is not None:
        conn.send(http_response(302, headers=[("Location", location)]))


def test_proxy_authorization_without_a_proxy_goes_to_the_origin_but_not_past_a_redirect(
    client: Client, raw_server: RawServerFactory
) -> None:
    """With no proxy at all the header is the caller's message to the origin (some gateways read it), sent
    as requests sends it; like requests, no redirect hop carries it on."""
    target = raw_server()
    origin = raw_server(lambda conn: _redirect_once(conn, target.url + "/landed"))
    response = client.get(origin.url, headers={"Proxy-Authorization": "Bearer gateway-token"})
    assert response.status_code == 200
    assert origin.requests[0].header("proxy-authorization") == "Bearer gateway-token"
    assert target.requests[0].header("proxy-authorization") is None
