"""Redirects: method and body rules, history, limits, refused targets, connection release, and the
credentials and cookies a hop to another origin must leave behind (SECURITY-CASES.md, "Credentials and
redirects").

Every behaviour test takes the ``client`` fixture, so it runs once with ``brisk.Session`` and once with
``brisk.AsyncSession``. "Nothing was sent" is proven with raw servers, which record every connection and
every request they receive.
"""

from __future__ import annotations

import functools
import os
import socket
import ssl
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

import brisk
from brisk._core.url import URL
from brisk._flows.redirects import same_origin_for_credentials
from brisk.adapters import BaseAdapter
from brisk.exceptions import (
    InvalidRedirect,
    InvalidURL,
    RequestException,
    TooManyRedirects,
    UnrewindableBodyError,
)
from brisk.testing.server import ServerThread
from servers.clients import Client
from servers.proxies import RelayProxy
from servers.raw import RawConnection, RawRequest, RawServer, RawServerFactory, http_response

ClientFactory = Callable[..., Client]
Respond = Callable[[RawRequest], bytes]

CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
#: Credential headers in unusual letter cases: a case-sensitive strip would miss them.
ODD_CASE_CREDENTIALS = {
    "aUtHoRiZaTiOn": "Bearer secret-token",
    "PROXY-AUTHORIZATION": "Basic cHJveHk6c2VjcmV0",
    "cOOKIE": "session=secret-cookie",
}
ALL_REDIRECTS = (301, 302, 303, 307, 308)
PROXY_CREDENTIALS = ODD_CASE_CREDENTIALS["PROXY-AUTHORIZATION"]  # "proxy:secret"


# -- raw-server helpers --------------------------------------------------------------------------------------


def scripted(respond: Respond) -> Callable[[RawConnection], None]:
    """A keep-alive handler answering every request with ``respond(request)``."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            conn.send(respond(request))

    return handler


def redirect_to(
    location: str, status: int = 302, headers: tuple[tuple[str, str], ...] = (), body: bytes = b""
) -> Respond:
    return lambda request: http_response(status, body, [("Location", location), *headers])


def redirector(raw_server: RawServerFactory, location: str, status: int = 302, **kwargs: Any) -> RawServer:
    """A raw server answering every request with a redirect to ``location``."""
    return raw_server(scripted(redirect_to(location, status, **kwargs)))


def header_names(request: RawRequest) -> set[str]:
    return {name.lower() for name, _ in request.headers}


def echoed_headers(response: brisk.Response) -> dict[str, str]:
    """The request headers the app's /echo-raw-headers received, names lower-cased."""
    return {name.lower(): value for name, value in response.json()}


# -- method and body rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "method", "expected_method", "body_kept"),
    [
        (301, "POST", "GET", False),
        (302, "POST", "GET", False),
        (303, "POST", "GET", False),
        (303, "PUT", "GET", False),
        (303, "DELETE", "GET", False),
        (302, "PATCH", "GET", False),
        (301, "PUT", "PUT", False),
        (307, "POST", "POST", True),
        (307, "PUT", "PUT", True),
        (308, "POST", "POST", True),
        (308, "PATCH", "PATCH", True),
    ],
)
def test_redirect_method_and_body_rules(
    client: Client,
    raw_server: RawServerFactory,
    *,
    status: int,
    method: str,
    expected_method: str,
    body_kept: bool,
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed", status)
    payload = b'{"secret": "form data"}'
    r = client.request(
        method, origin.url + "/start", data=payload, headers={"Content-Type": "application/x-custom"}
    )
    assert r.status_code == 200
    assert [h.status_code for h in r.history] == [status]
    (first,) = origin.requests
    assert (first.method, first.body) == (method, payload)
    (landed,) = target.requests
    assert landed.method == expected_method
    assert landed.target == "/landed"
    if body_kept:
        assert landed.body == payload
        assert landed.header("content-type") == "application/x-custom"
        assert landed.header("content-length") == str(len(payload))
    else:
        assert landed.body == b""
        assert "content-type" not in header_names(landed)
        assert "transfer-encoding" not in header_names(landed)
        assert landed.header("content-length") in (None, "0")
        assert r.request.body is None


@pytest.mark.parametrize("status", [301, 302, 303])
def test_redirect_converted_to_get_drops_chunked_body_and_transfer_encoding(
    client: Client, raw_server: RawServerFactory, status: int
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed", status)
    chunks = (piece for piece in (b"one ", b"two ", b"three"))  # sent chunked, cannot be replayed
    r = client.post(origin.url, data=chunks)
    assert r.status_code == 200
    assert origin.requests[0].header("transfer-encoding") == "chunked"
    assert origin.requests[0].body == b"one two three"
    (landed,) = target.requests
    assert landed.method == "GET"
    assert landed.body == b""
    assert not header_names(landed) & {"transfer-encoding", "content-type", "content-length"}


def test_redirect_head_stays_head(client: Client, raw_server: RawServerFactory) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed", 303)
    r = client.head(origin.url, allow_redirects=True)
    assert r.status_code == 200
    assert target.requests[0].method == "HEAD"


# -- history, url, limits ------------------------------------------------------------------------------------


def test_redirect_history_and_url(client: Client, app_server: ServerThread) -> None:
    r = client.get(app_server.url + "/redirect/3")
    assert r.status_code == 200
    assert r.url == app_server.url + "/get"
    assert r.json()["url"] == app_server.url + "/get"
    assert [h.status_code for h in r.history] == [302, 302, 302]
    assert [h.url for h in r.history] == [
        app_server.url + "/redirect/3",
        app_server.url + "/relative-redirect/2",
        app_server.url + "/relative-redirect/1",
    ]
    assert all(h.is_redirect for h in r.history)
    assert r.history[-1].headers["location"] == "/get"


def test_redirect_max_redirects_allows_exactly_the_limit(
    client_factory: ClientFactory, app_server: ServerThread
) -> None:
    client = client_factory(max_redirects=3)
    r = client.get(app_server.url + "/redirect/3")
    assert r.status_code == 200
    assert len(r.history) == 3


def test_redirect_too_many_redirects_says_how_many(
    client_factory: ClientFactory, app_server: ServerThread
) -> None:
    client = client_factory(max_redirects=3)
    with pytest.raises(TooManyRedirects) as caught:
        client.get(app_server.url + "/redirect/4")
    assert "3 redirects" in str(caught.value)
    assert isinstance(caught.value, RequestException)
    assert caught.value.response is not None
    assert caught.value.response.status_code == 302
    assert [h.status_code for h in caught.value.response.history] == [302, 302, 302]  # as in requests


def test_redirect_loop_raises_too_many_redirects(
    client_factory: ClientFactory, raw_server: RawServerFactory
) -> None:
    loop = raw_server(scripted(redirect_to("/loop")))
    client = client_factory(max_redirects=5)
    with pytest.raises(TooManyRedirects, match="5 redirects"):
        client.get(loop.url + "/loop")
    assert len(loop.requests) == 6  # the first request and five redirects, not one more


def test_redirect_loop_default_limit_is_30(client: Client, raw_server: RawServerFactory) -> None:
    loop = raw_server(scripted(redirect_to("/loop", 301)))
    with pytest.raises(TooManyRedirects, match="30 redirects"):
        client.get(loop.url + "/loop")
    assert len(loop.requests) == 31


# -- redirects disabled --------------------------------------------------------------------------------------


def test_redirect_disabled_per_request_allow_redirects_false(
    client: Client, raw_server: RawServerFactory
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed?q=1", 307)
    r = client.post(origin.url + "/start", data=b"body", allow_redirects=False)
    assert r.status_code == 307
    assert r.is_redirect
    assert r.history == []
    assert r.url == origin.url + "/start"
    assert r.next is not None
    assert r.next.url == target.url + "/landed?q=1"
    assert r.next.method == "POST"
    assert target.connection_count == 0


def test_redirect_disabled_head_does_not_follow_by_default(
    client: Client, raw_server: RawServerFactory
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed")
    r = client.head(origin.url)
    assert r.status_code == 302
    assert r.next is not None
    assert target.connection_count == 0


def test_redirect_disabled_per_session_max_redirects_zero(
    client_factory: ClientFactory, raw_server: RawServerFactory
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed")
    client = client_factory(max_redirects=0)
    with pytest.raises(TooManyRedirects, match="0 redirects"):
        client.get(origin.url)
    assert target.connection_count == 0
    client.session.max_redirects = 0  # also when changed on an existing session (requests' spelling)
    with pytest.raises(TooManyRedirects):
        client.get(origin.url)
    assert target.connection_count == 0


@pytest.mark.parametrize("where", ["session", "adapter", "request"])
@pytest.mark.parametrize("redirect", [0, False])
def test_redirect_disabled_by_retry_redirect_budget(
    client_factory: ClientFactory, raw_server: RawServerFactory, redirect: int | bool, where: str
) -> None:
    """urllib3 CVE-2025-50181: redirects disabled through the retry policy are honoured wherever it is set."""
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed")
    policy = brisk.Retry(redirect=redirect)
    client = client_factory(retries=policy) if where == "session" else client_factory()
    if where == "adapter":
        client.session.mount("http://", brisk.adapters.HTTPAdapter(max_retries=policy))
    with pytest.raises(TooManyRedirects):
        client.get(origin.url, retries=policy if where == "request" else None)
    assert target.connection_count == 0


def test_redirect_disabled_by_retry_without_raising(
    client_factory: ClientFactory, raw_server: RawServerFactory
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed")
    client = client_factory(retries=brisk.Retry(redirect=0, raise_on_redirect=False))
    r = client.get(origin.url)
    assert r.status_code == 302
    assert r.next is not None
    assert r.next.url == target.url + "/landed"
    assert target.connection_count == 0


def test_redirect_retry_redirect_budget_limits_hops(
    client_factory: ClientFactory, app_server: ServerThread
) -> None:
    client = client_factory(retries=brisk.Retry(redirect=2))
    assert len(client.get(app_server.url + "/redirect/2").history) == 2
    with pytest.raises(TooManyRedirects, match="2 redirects"):
        client.get(app_server.url + "/redirect/3")


def test_redirect_disabled_on_send(client: Client, raw_server: RawServerFactory) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed")
    prepared = client.session.prepare_request(brisk.Request("GET", origin.url))
    r = client.send(prepared, allow_redirects=False)
    assert r.status_code == 302
    assert r.next is not None
    assert target.connection_count == 0
    followed = client.send(client.session.prepare_request(brisk.Request("GET", origin.url)))
    assert followed.status_code == 200


# -- Location forms ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "expected_target"),
    [
        ("/abs/path?x=1", "/abs/path?x=1"),
        ("sibling?y=2", "/dir/sibling?y=2"),
        ("../up", "/up"),
        ("?only=query", "/dir/page?only=query"),
    ],
)
def test_redirect_relative_location(
    client: Client, raw_server: RawServerFactory, location: str, expected_target: str
) -> None:
    def respond(request: RawRequest) -> bytes:
        if request.target == "/dir/page":
            return http_response(302, headers=[("Location", location)])
        return http_response(200, b"landed")

    server = raw_server(scripted(respond))
    r = client.get(server.url + "/dir/page")
    assert client.read(r) == b"landed"
    assert [req.target for req in server.requests] == ["/dir/page", expected_target]
    assert r.url == server.url + expected_target


def test_redirect_scheme_relative_location(client: Client, raw_server: RawServerFactory) -> None:
    target = raw_server()
    origin = redirector(raw_server, f"//127.0.0.1:{target.port}/other?z=3")
    r = client.get(origin.url)
    assert r.url == f"http://127.0.0.1:{target.port}/other?z=3"
    assert target.requests[0].target == "/other?z=3"


def test_redirect_absolute_location(client: Client, raw_server: RawServerFactory) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/absolute")
    r = client.get(origin.url)
    assert r.url == target.url + "/absolute"
    assert target.requests[0].target == "/absolute"


def test_redirect_location_with_utf8_bytes(client: Client, raw_server: RawServerFactory) -> None:
    # The server sends the UTF-8 bytes of "/café/ü?q=ß" raw; they arrive as latin-1 text.
    raw_location = "/café/ü?q=ß".encode().decode("latin-1")

    def respond(request: RawRequest) -> bytes:
        if request.target == "/start":
            return http_response(302, headers=[("Location", raw_location)])
        return http_response(200, b"ok")

    server = raw_server(scripted(respond))
    r = client.get(server.url + "/start")
    assert r.status_code == 200
    assert server.requests[1].target == "/caf%C3%A9/%C3%BC?q=%C3%9F"


def test_redirect_fragment_kept(client: Client, raw_server: RawServerFactory) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed")
    r = client.get(origin.url + "/start#section-2")
    assert r.url == target.url + "/landed#section-2"
    assert origin.requests[0].target == "/start"  # a fragment never goes on the wire
    assert target.requests[0].target == "/landed"


def test_redirect_fragment_of_location_wins(client: Client, raw_server: RawServerFactory) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed#from-server")
    r = client.get(origin.url + "/start#from-user")
    assert r.url == target.url + "/landed#from-server"
    assert target.requests[0].target == "/landed"


# -- refused targets -----------------------------------------------------------------------------------------


class RecordingAdapter(BaseAdapter):
    """A mounted adapter that records what it was asked to send (it must be asked nothing)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, request: brisk.PreparedRequest, *args: Any, **kwargs: Any) -> brisk.Response:
        self.sent.append(str(request.url))
        raise AssertionError(f"a redirect reached a mounted adapter: {request.url}")

    def close(self) -> None:
        pass


REFUSED_LOCATIONS = {
    "file": "file:///etc/passwd",
    "file-with-host": "file://127.0.0.1:{port}/etc/passwd",
    "data": "data:text/plain;base64,aGVsbG8=",
    "ftp": "ftp://127.0.0.1:{port}/pub",
    "javascript": "javascript:alert(document.cookie)",
    "mailto": "mailto:someone@example.org",
    "custom-scheme": "brisk-custom://127.0.0.1:{port}/x",
    "gopher": "gopher://127.0.0.1:{port}/_GET%20/",
    "ws": "ws://127.0.0.1:{port}/socket",
    "invalid-ipv6": "http://[::1",
    "invalid-space-in-host": "http://exa mple.org/",
    "invalid-port": "http://127.0.0.1:99999/",
    "invalid-backslash": "http://127.0.0.1:{port}\\@example.org/",
    "invalid-no-host": "http:///path-only",
}


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("kind", list(REFUSED_LOCATIONS))
def test_redirect_to_refused_location_raises_invalid_redirect(
    client: Client, raw_server: RawServerFactory, kind: str, status: int
) -> None:
    bystander = raw_server()  # every refused URL that names a port names this one: it must see nothing
    adapter = RecordingAdapter()
    for prefix in ("file://", "ftp://", "brisk-custom://", "gopher://", "ws://", "data:", "javascript:"):
        client.session.mount(prefix, adapter)
    location = REFUSED_LOCATIONS[kind].format(port=bystander.port)
    origin = redirector(raw_server, location, status)
    with pytest.raises(InvalidRedirect) as caught:
        client.post(origin.url, data=b"payload")
    error = caught.value
    assert isinstance(error, InvalidURL)
    assert isinstance(error, ValueError)
    assert isinstance(error, RequestException)
    assert error.response is not None
    assert error.response.status_code == status
    assert len(origin.requests) == 1
    assert origin.connection_count == 1
    assert bystander.connection_count == 0
    assert adapter.sent == []


@pytest.mark.parametrize("kind", ["file", "javascript", "data", "custom-scheme", "invalid-ipv6"])
def test_redirect_to_refused_location_without_following_returns_response(
    client: Client, raw_server: RawServerFactory, kind: str
) -> None:
    origin = redirector(raw_server, REFUSED_LOCATIONS[kind].format(port=1))
    r = client.get(origin.url, allow_redirects=False)
    assert r.status_code == 302
    assert r.next is None


class AnsweringAdapter(BaseAdapter):
    """A mounted adapter that answers every request itself."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, request: brisk.PreparedRequest, *args: Any, **kwargs: Any) -> brisk.Response:
        self.sent.append(str(request.url))
        response = brisk.Response(200, content=b"from the adapter", request=request)
        response.url = str(request.url)
        return response

    def close(self) -> None:
        pass


def test_redirect_mounted_adapter_serves_its_prefix_directly(
    client: Client, raw_server: RawServerFactory
) -> None:
    target = raw_server()
    adapter = AnsweringAdapter()
    client.session.mount(target.url + "/", adapter)
    assert client.read(client.get(target.url + "/direct")) == b"from the adapter"
    assert target.connection_count == 0


def test_redirect_to_mounted_adapter_prefix_uses_adapter(
    client: Client, raw_server: RawServerFactory
) -> None:
    target = raw_server()
    adapter = AnsweringAdapter()
    client.session.mount(target.url + "/", adapter)
    origin = redirector(raw_server, target.url + "/landed")
    r = client.get(origin.url)
    assert target.connection_count == 0
    assert adapter.sent == [target.url + "/landed"]
    assert client.read(r) == b"from the adapter"


# -- bodies that cannot be replayed --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [307, 308])
def test_redirect_307_generator_body_raises_unrewindable(
    client: Client, raw_server: RawServerFactory, status: int
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed", status)

    def produce() -> Iterator[bytes]:
        yield b"first part, "
        yield b"second part"

    with pytest.raises(UnrewindableBodyError) as caught:
        client.post(origin.url, data=produce())
    assert isinstance(caught.value, RequestException)
    assert origin.requests[0].body == b"first part, second part"
    assert target.connection_count == 0  # never an empty body sent in its place


@pytest.mark.parametrize("status", [307, 308])
def test_redirect_307_file_body_replays_same_bytes(
    client: Client, raw_server: RawServerFactory, tmp_path: Path, status: int
) -> None:
    payload = os.urandom(300 * 1024)  # several read chunks
    path = tmp_path / "upload.bin"
    path.write_bytes(payload)
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed", status)
    with path.open("rb") as f:
        r = client.put(origin.url, data=f)
    assert r.status_code == 200
    assert origin.requests[0].body == payload
    (landed,) = target.requests
    assert landed.method == "PUT"
    assert landed.body == payload
    assert landed.header("content-length") == str(len(payload))


def test_redirect_307_list_body_replays_same_bytes(client: Client, raw_server: RawServerFactory) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed", 307)
    r = client.post(origin.url, data=[b"a", b"b", b"c"])
    assert r.status_code == 200
    assert target.requests[0].body == b"abc"


# -- connections released ------------------------------------------------------------------------------------

SMALL_POOL = brisk.Limits(max_connections=2, max_connections_per_host=1)


def small_pool_client(client_factory: ClientFactory) -> Client:
    """A client whose pool has one slot per origin and waits at most 2 s for it: a leaked slot shows up as
    a PoolTimeout on the next request."""
    return client_factory(limits=SMALL_POOL, timeout=brisk.Timeout(10, pool=2))


def assert_pool_idle(client: Client) -> None:
    state = client.pool()
    assert state is not None
    assert state.total <= SMALL_POOL.max_connections
    assert state.total == state.idle_count()  # every open connection is back in the pool


def test_redirect_chain_releases_every_connection(
    client_factory: ClientFactory, app_server: ServerThread
) -> None:
    client = small_pool_client(client_factory)
    kept = []  # responses (and their history) stay referenced: garbage collection cannot free a slot
    for _ in range(50):
        r = client.get(app_server.url + "/redirect/3")
        assert r.status_code == 200
        assert len(r.history) == 3
        kept.append(r)
    assert_pool_idle(client)
    assert client.pool().total == 1  # one connection served all 200 exchanges


@pytest.mark.parametrize("body_size", [0, 256 * 1024], ids=["empty-body", "large-body"])
def test_redirect_too_many_releases_every_connection(
    client_factory: ClientFactory, raw_server: RawServerFactory, body_size: int
) -> None:
    body = b"r" * body_size  # a large body is still arriving when the limit is hit

    def respond(request: RawRequest) -> bytes:
        if request.target == "/ok":
            return http_response(200, b"ok")
        return http_response(302, body, [("Location", "/loop")])

    server = raw_server(scripted(respond))
    client = small_pool_client(client_factory)
    client.session.max_redirects = 2
    kept = []  # the exceptions hold the last redirect response: it must not hold its connection
    for _ in range(10):
        with pytest.raises(TooManyRedirects) as caught:
            client.get(server.url + "/loop")
        kept.append(caught.value)
    assert client.read(client.get(server.url + "/ok")) == b"ok"
    assert_pool_idle(client)


@pytest.mark.parametrize("body_size", [0, 256 * 1024], ids=["empty-body", "large-body"])
def test_redirect_refused_releases_every_connection(
    client_factory: ClientFactory, raw_server: RawServerFactory, body_size: int
) -> None:
    body = b"x" * body_size

    def respond(request: RawRequest) -> bytes:
        if request.target == "/ok":
            return http_response(200, b"ok")
        return http_response(302, body, [("Location", "file:///etc/passwd")])

    server = raw_server(scripted(respond))
    client = small_pool_client(client_factory)
    kept = []  # the exceptions hold the redirect response: it must not hold its connection
    for _ in range(10):
        with pytest.raises(InvalidRedirect) as caught:
            client.get(server.url + "/bad")
        kept.append(caught.value)
    assert client.read(client.get(server.url + "/ok")) == b"ok"
    assert_pool_idle(client)


def test_redirect_with_large_body_releases_connection(
    client_factory: ClientFactory, raw_server: RawServerFactory
) -> None:
    big = b"z" * (512 * 1024)  # beyond what a drain reads: the connection is closed, its slot freed

    def respond(request: RawRequest) -> bytes:
        if request.target == "/final":
            return http_response(200, b"done")
        return http_response(302, big, [("Location", "/final")])

    server = raw_server(scripted(respond))
    client = small_pool_client(client_factory)
    kept = []
    for _ in range(5):
        r = client.get(server.url + "/start")
        assert client.read(r) == b"done"
        kept.append(r)
    assert_pool_idle(client)
    assert server.connection_count >= 5  # the redirect connections were closed, not reused mid-body


# -- redirect bodies are drained raw -------------------------------------------------------------------------


@functools.cache
def gzip_bomb(size: int = 256 * 1024 * 1024) -> bytes:
    """gzip of ``size`` zero bytes (about 1/1000 of it), built without holding the zeros in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(size // len(zeros))]
    parts.append(compressor.flush())
    return b"".join(parts)


def test_redirect_body_gzip_bomb_not_decompressed(client: Client, raw_server: RawServerFactory) -> None:
    bomb = gzip_bomb()

    def respond(request: RawRequest) -> bytes:
        if request.target == "/final":
            return http_response(200, b"done")
        return http_response(302, bomb, [("Location", "/final"), ("Content-Encoding", "gzip")])

    server = raw_server(scripted(respond))
    tracemalloc.start()
    try:
        r = client.get(server.url + "/bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert client.read(r) == b"done"
    assert r.history[0].status_code == 302
    assert peak < 32 * 1024 * 1024, f"following the redirect used {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_redirect_body_corrupt_encoding_not_decoded(
    client: Client, raw_server: RawServerFactory, coding: str
) -> None:
    garbage = b"\x1f\x8b\x08\x00" + b"definitely not compressed data " * 20

    def respond(request: RawRequest) -> bytes:
        if request.target == "/final":
            return http_response(200, b"done")
        return http_response(301, garbage, [("Location", "/final"), ("Content-Encoding", coding)])

    server = raw_server(scripted(respond))
    r = client.get(server.url + "/corrupt")
    assert client.read(r) == b"done"
    assert [h.status_code for h in r.history] == [301]
    assert server.connection_count == 1  # the small body was drained and the connection reused


# -- credentials on cross-origin hops ------------------------------------------------------------------------


def assert_no_credentials(request: RawRequest) -> None:
    leaked = header_names(request) & set(CREDENTIAL_HEADERS)
    assert not leaked, f"{sorted(leaked)} reached {request.target}: {request.headers}"


def assert_had_credentials(request: RawRequest) -> None:
    assert set(CREDENTIAL_HEADERS) <= header_names(request)


@pytest.mark.parametrize("where", ["request", "session"])
@pytest.mark.parametrize("status", ALL_REDIRECTS)
def test_redirect_cross_origin_other_port_strips_credentials(
    client: Client, raw_server: RawServerFactory, status: int, where: str
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed", status)
    if where == "session":
        client.session.headers.update(ODD_CASE_CREDENTIALS)
        r = client.post(origin.url, data=b"x")
    else:
        r = client.post(origin.url, data=b"x", headers=ODD_CASE_CREDENTIALS)
    assert r.status_code == 200
    assert_had_credentials(origin.requests[0])
    assert_no_credentials(target.requests[0])
    assert not set(CREDENTIAL_HEADERS) & {name.lower() for name in r.request.headers}


@pytest.mark.parametrize("status", ALL_REDIRECTS)
def test_redirect_cross_origin_other_host_same_port_strips_credentials(
    client: Client, raw_server: RawServerFactory, status: int
) -> None:
    """127.0.0.1 and localhost are different hosts to the credential rules, even on one server and port."""

    def respond(request: RawRequest) -> bytes:
        if request.target == "/start":
            return http_response(status, headers=[("Location", f"http://localhost:{server.port}/landed")])
        return http_response(200, b"ok")

    server = raw_server(scripted(respond))
    r = client.post(server.url + "/start", data=b"x", headers=ODD_CASE_CREDENTIALS)
    assert r.status_code == 200
    first, landed = server.requests
    assert_had_credentials(first)
    assert landed.header("host") == f"localhost:{server.port}"
    assert_no_credentials(landed)


def test_redirect_cross_origin_chain_never_regains_credentials(
    client: Client, raw_server: RawServerFactory
) -> None:
    """A -> B -> C: once a hop left the origin, no later hop gets the credentials back (B may be an open
    redirect that forwards to an attacker's C)."""
    third = raw_server()
    second = redirector(raw_server, third.url + "/c", 307)
    first = redirector(raw_server, second.url + "/b", 308)
    r = client.post(first.url + "/a", data=b"x", headers=ODD_CASE_CREDENTIALS, auth=("user", "pa55"))
    assert r.status_code == 200
    assert [h.status_code for h in r.history] == [308, 307]
    assert first.requests[0].header_values("authorization") == ["Basic dXNlcjpwYTU1"]  # auth= wins
    assert_no_credentials(second.requests[0])
    assert_no_credentials(third.requests[0])


def test_redirect_same_origin_keeps_authorization(client: Client, raw_server: RawServerFactory) -> None:
    def respond(request: RawRequest) -> bytes:
        if request.target == "/start":
            return http_response(302, headers=[("Location", "/landed")])
        return http_response(200, b"ok")

    server = raw_server(scripted(respond))
    client.get(server.url + "/start", headers={"Authorization": "Bearer kept"})
    assert server.requests[1].header("authorization") == "Bearer kept"


@pytest.mark.parametrize("status", ALL_REDIRECTS)
def test_redirect_https_to_http_downgrade_strips_credentials(
    client_factory: ClientFactory,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    status: int,
) -> None:
    client = client_factory(verify=ca_bundle)
    r = client.post(
        tls_app_server.url + "/redirect-to",
        params={"url": app_server.url + "/echo-raw-headers", "status_code": status},
        data=b"x",
        headers=ODD_CASE_CREDENTIALS,
    )
    assert r.status_code == 200
    assert r.url.startswith("http://")
    assert not set(CREDENTIAL_HEADERS) & set(echoed_headers(r))
    sent_first = {name.lower() for name in r.history[0].request.headers}
    assert set(CREDENTIAL_HEADERS) <= sent_first


@pytest.mark.parametrize("status", ALL_REDIRECTS)
def test_redirect_http_to_https_non_default_ports_strips_credentials(
    client_factory: ClientFactory,
    app_server: ServerThread,
    tls_app_server: ServerThread,
    ca_bundle: str,
    status: int,
) -> None:
    client = client_factory(verify=ca_bundle)
    r = client.post(
        app_server.url + "/redirect-to",
        params={"url": tls_app_server.url + "/echo-raw-headers", "status_code": status},
        data=b"x",
        headers=ODD_CASE_CREDENTIALS,
    )
    assert r.status_code == 200
    assert r.url.startswith("https://")
    assert not set(CREDENTIAL_HEADERS) & set(echoed_headers(r))


# -- the same host on default ports: brisk.test:80 and brisk.test:443 ---------------------------------------

NAMED_HOST = "brisk.test"
CREDENTIAL_WAYS = ["headers", "auth"]


@pytest.fixture(scope="module")
def named_host_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert(NAMED_HOST)


def named_host_tls(leaf: trustme.LeafCert) -> ssl.SSLContext:
    """A server context presenting a certificate for brisk.test (HTTP/1.1 only: raw servers script it)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])
    return context


def route_default_ports(
    monkeypatch: pytest.MonkeyPatch, plain: RawServer, tls: RawServer
) -> list[tuple[str, int]]:
    """Make brisk.test port 80 reach ``plain`` and port 443 reach ``tls`` (both on 127.0.0.1); other ports of
    brisk.test are 127.0.0.1's. Both clients resolve through ``socket.getaddrinfo`` (the async one in the
    loop's executor). Returns the (host, port) lookups of brisk.test, in order."""
    real = socket.getaddrinfo
    ports = {80: plain.port, 443: tls.port}
    lookups: list[tuple[str, int]] = []

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == NAMED_HOST:
            lookups.append((host, int(port)))
            return real("127.0.0.1", ports.get(int(port), port), *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return lookups


def post_with_credentials(client: Client, url: str, how: str) -> brisk.Response:
    if how == "auth":
        return client.post(url, data=b"x", auth=("user", "pa55"))
    return client.post(url, data=b"x", headers=ODD_CASE_CREDENTIALS)


@pytest.mark.parametrize("how", CREDENTIAL_WAYS)
@pytest.mark.parametrize("status", ALL_REDIRECTS)
def test_redirect_https_to_http_same_host_default_ports_strips_credentials(
    client_factory: ClientFactory,
    raw_server: RawServerFactory,
    named_host_cert: trustme.LeafCert,
    ca_bundle: str,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    how: str,
) -> None:
    """requests CVE-2018-18074: https://brisk.test/ -> http://brisk.test/ keeps the host but not the
    origin, so nothing secret crosses to plain text (nor a Secure cookie the https origin just set)."""
    plain = raw_server()
    secure = raw_server(
        scripted(
            redirect_to(
                f"http://{NAMED_HOST}/landed",
                status,
                headers=(("Set-Cookie", "sid=secret-cookie; Secure; Path=/"),),
            )
        ),
        tls=named_host_tls(named_host_cert),
    )
    lookups = route_default_ports(monkeypatch, plain, secure)
    client = client_factory(verify=ca_bundle)
    r = post_with_credentials(client, f"https://{NAMED_HOST}/start", how)
    assert r.status_code == 200
    assert r.url == f"http://{NAMED_HOST}/landed"
    assert lookups == [(NAMED_HOST, 443), (NAMED_HOST, 80)]
    (first,) = secure.requests
    assert first.header("authorization") is not None
    assert client.session.cookies.get("sid", domain=NAMED_HOST) == "secret-cookie"
    (landed,) = plain.requests
    assert landed.header("host") == NAMED_HOST
    assert_no_credentials(landed)


@pytest.mark.parametrize("how", CREDENTIAL_WAYS)
@pytest.mark.parametrize("status", ALL_REDIRECTS)
def test_redirect_http_to_https_same_host_default_ports_keeps_authorization(
    client_factory: ClientFactory,
    raw_server: RawServerFactory,
    named_host_cert: trustme.LeafCert,
    ca_bundle: str,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    how: str,
) -> None:
    """http://brisk.test/ -> https://brisk.test/ is the one change of origin credentials survive."""
    secure = raw_server(tls=named_host_tls(named_host_cert))
    plain = redirector(raw_server, f"https://{NAMED_HOST}/landed", status)
    lookups = route_default_ports(monkeypatch, plain, secure)
    client = client_factory(verify=ca_bundle)
    r = post_with_credentials(client, f"http://{NAMED_HOST}/start", how)
    assert r.status_code == 200
    assert r.url == f"https://{NAMED_HOST}/landed"
    assert lookups == [(NAMED_HOST, 80), (NAMED_HOST, 443)]
    (first,) = plain.requests
    (landed,) = secure.requests
    assert landed.header("host") == NAMED_HOST
    if how == "auth":
        assert landed.header_values("authorization") == ["Basic dXNlcjpwYTU1"]
    else:
        assert landed.header_values("authorization") == [ODD_CASE_CREDENTIALS["aUtHoRiZaTiOn"]]
        # Proxy-Authorization belongs to the route, not the origin: no redirect carries it (as in requests).
        assert first.header("proxy-authorization") == ODD_CASE_CREDENTIALS["PROXY-AUTHORIZATION"]
        assert landed.header_values("proxy-authorization") == []
    assert landed.header("authorization") == first.header("authorization")


@pytest.mark.parametrize("how", ["header", "proxy_auth"])
def test_redirect_http_to_https_leaving_the_proxy_never_gives_the_origin_proxy_credentials(
    client_factory: ClientFactory,
    raw_server: RawServerFactory,
    relay_proxy: Callable[..., RelayProxy],
    named_host_cert: trustme.LeafCert,
    ca_bundle: str,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """requests CVE-2023-32681 / urllib3 CVE-2024-37891, the issue's case over real sockets: http://brisk.test/
    goes through an http proxy, which gets the credentials; its redirect to https://brisk.test/ (same host,
    default ports: Authorization may follow) goes direct, because only http is proxied. The origin must not
    get Proxy-Authorization, neither the header nor one HTTPProxyAuth would add again."""
    secure = raw_server(tls=named_host_tls(named_host_cert))
    plain = redirector(raw_server, f"https://{NAMED_HOST}/landed", 302)
    route_default_ports(monkeypatch, plain, secure)  # the relay resolves through the same patched lookup
    relay = relay_proxy()
    client = client_factory(verify=ca_bundle)
    kwargs: dict[str, Any] = (
        {"headers": {"Proxy-Authorization": PROXY_CREDENTIALS}}
        if how == "header"
        else {"auth": brisk.HTTPProxyAuth("proxy", "secret")}
    )
    r = client.get(f"http://{NAMED_HOST}/start", proxies={"http": relay.url()}, **kwargs)
    assert r.status_code == 200
    assert r.url == f"https://{NAMED_HOST}/landed"
    assert [request.header("proxy-authorization") for request in relay.requests] == [PROXY_CREDENTIALS]
    assert len(plain.requests) == 1  # the first hop reached the origin through the proxy
    (landed,) = secure.requests
    assert landed.header_values("proxy-authorization") == []
    assert b"cHJveHk6c2VjcmV0" not in landed.raw


@pytest.mark.parametrize("how", CREDENTIAL_WAYS)
@pytest.mark.parametrize("status", ALL_REDIRECTS)
def test_redirect_http_to_https_same_host_other_port_strips_credentials(
    client_factory: ClientFactory,
    raw_server: RawServerFactory,
    named_host_cert: trustme.LeafCert,
    ca_bundle: str,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    how: str,
) -> None:
    """http://brisk.test/ -> https://brisk.test:<port>/: an upgrade, but not to the default port."""
    secure = raw_server(tls=named_host_tls(named_host_cert))
    plain = redirector(raw_server, f"https://{NAMED_HOST}:{secure.port}/landed", status)
    lookups = route_default_ports(monkeypatch, plain, secure)
    client = client_factory(verify=ca_bundle)
    r = post_with_credentials(client, f"http://{NAMED_HOST}/start", how)
    assert r.status_code == 200
    assert lookups == [(NAMED_HOST, 80), (NAMED_HOST, secure.port)]
    (first,) = plain.requests
    assert first.header("authorization") is not None
    (landed,) = secure.requests
    assert landed.header("host") == f"{NAMED_HOST}:{secure.port}"
    assert_no_credentials(landed)


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        ("http://example.org/a", "http://example.org/b", True),
        ("https://example.org/a", "https://example.org:443/b", True),
        ("http://example.org/a", "https://example.org/b", True),  # the only upgrade allowed
        ("http://example.org:80/a", "https://example.org:443/b", True),
        ("http://example.org:8080/a", "https://example.org:8443/b", False),
        ("http://example.org/a", "https://example.org:8443/b", False),
        ("http://example.org:8080/a", "https://example.org/b", False),
        ("https://example.org/a", "http://example.org/b", False),  # downgrade
        ("https://example.org:8443/a", "http://example.org:8443/b", False),
        ("http://example.org/a", "http://example.org:8080/b", False),
        ("http://example.org/a", "http://www.example.org/b", False),
        ("http://www.example.org/a", "http://example.org/b", False),
        ("http://example.org/a", "http://example.org.evil.test/b", False),
        ("http://127.0.0.1/a", "http://localhost/b", False),
        ("http://user:pw@example.org/a", "http://example.org/b", True),
    ],
)
def test_redirect_same_origin_for_credentials_rules(old: str, new: str, allowed: bool) -> None:
    assert same_origin_for_credentials(URL.parse(old), URL.parse(new)) is allowed


@pytest.mark.parametrize("auth_kind", ["tuple", "basic", "bearer-string", "session-auth", "url-userinfo"])
def test_redirect_cross_origin_auth_not_sent(
    client: Client, raw_server: RawServerFactory, auth_kind: str
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed", 307)
    url = origin.url + "/start"
    auth: Any = {
        "tuple": ("user", "pa55"),
        "basic": brisk.HTTPBasicAuth("user", "pa55"),
        "bearer-string": "pa55-token",
    }.get(auth_kind)
    if auth_kind == "session-auth":
        client.session.auth = ("user", "pa55")
    elif auth_kind == "url-userinfo":
        url = url.replace("http://", "http://user:pa55@")
    r = client.post(url, data=b"x", auth=auth)
    assert r.status_code == 200
    assert origin.requests[0].header("authorization") is not None
    assert_no_credentials(target.requests[0])


def test_redirect_cross_origin_digest_challenge_not_answered(
    client: Client, raw_server: RawServerFactory
) -> None:
    challenge = 'Digest realm="other", qop="auth", nonce="0123456789abcdef", algorithm=MD5'
    target = raw_server(
        scripted(lambda request: http_response(401, b"who?", [("WWW-Authenticate", challenge)]))
    )
    origin = redirector(raw_server, target.url + "/landed")
    r = client.get(origin.url, auth=brisk.HTTPDigestAuth("user", "pa55"))
    assert r.status_code == 401
    assert len(target.requests) == 1  # the challenge was not answered
    assert_no_credentials(target.requests[0])


def test_redirect_cross_origin_auth_flow_not_run(client: Client, raw_server: RawServerFactory) -> None:
    class AlwaysRetry(brisk.AuthBase):
        calls = 0

        def auth_flow(self, request: brisk.PreparedRequest) -> Iterator[brisk.PreparedRequest]:
            AlwaysRetry.calls += 1
            request.headers["Authorization"] = "Custom secret"
            response = yield request
            if response.status_code == 401:
                yield request

    target = raw_server(scripted(lambda request: http_response(401, b"no")))
    origin = redirector(raw_server, target.url + "/landed")
    r = client.get(origin.url, auth=AlwaysRetry())
    assert r.status_code == 401
    assert AlwaysRetry.calls == 1  # only for the origin it was given for
    assert origin.requests[0].header("authorization") == "Custom secret"
    assert len(target.requests) == 1
    assert_no_credentials(target.requests[0])


def test_redirect_same_origin_auth_reapplied(client: Client, app_server: ServerThread) -> None:
    r = client.get(
        app_server.url + "/redirect-to", params={"url": "/basic-auth/user/pa55"}, auth=("user", "pa55")
    )
    assert r.status_code == 200
    assert r.json() == {"authenticated": True, "user": "user"}


# -- cookies on cross-origin hops ----------------------------------------------------------------------------


def cookie_pairs(request: RawRequest) -> set[str]:
    value = request.header("cookie")
    return set(value.split("; ")) if value else set()


@pytest.mark.parametrize("status", [302, 307])
def test_redirect_cross_origin_cookies_only_for_new_host(
    client: Client, raw_server: RawServerFactory, status: int
) -> None:
    target = raw_server()  # reached as "localhost": another host than 127.0.0.1 for cookies
    origin = redirector(
        raw_server,
        f"http://localhost:{target.port}/landed",
        status,
        headers=(("Set-Cookie", "from_origin=1; Path=/"),),
    )
    jar = client.session.cookies
    jar.set("for_ip", "1", domain="127.0.0.1", path="/")
    jar.set("for_localhost", "1", domain="localhost", path="/")
    jar.set("any_host", "1")  # requests-style cookie without a domain
    r = client.post(origin.url + "/start", data=b"x", cookies={"per_request": "1"})
    assert r.status_code == 200
    assert cookie_pairs(origin.requests[0]) == {"for_ip=1", "any_host=1", "per_request=1"}
    assert cookie_pairs(target.requests[0]) == {"for_localhost=1"}
    assert jar.get("from_origin", domain="127.0.0.1") == "1"  # stored for its own host only


def test_redirect_cross_origin_explicit_cookie_header_not_forwarded(
    client: Client, raw_server: RawServerFactory
) -> None:
    target = raw_server()
    origin = redirector(raw_server, target.url + "/landed")
    client.get(origin.url, headers={"Cookie": "explicit=secret"})
    assert origin.requests[0].header("cookie") == "explicit=secret"
    assert target.requests[0].header("cookie") is None


def test_redirect_same_host_gets_cookie_set_on_redirect(client: Client, app_server: ServerThread) -> None:
    r = client.get(app_server.url + "/cookies/set", params={"flavour": "oat"})
    assert r.json() == {"cookies": {"flavour": "oat"}}
    assert [h.status_code for h in r.history] == [302]


# -- credentials never in exception messages -----------------------------------------------------------------


def test_redirect_error_messages_hide_url_password(
    client_factory: ClientFactory, app_server: ServerThread
) -> None:
    client = client_factory(max_redirects=1)
    base = app_server.url.replace("http://", "http://user:hunter2@")
    with pytest.raises(TooManyRedirects) as caught:
        client.get(base + "/redirect/3")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(InvalidRedirect) as refused:
        client.get(base + "/redirect-to", params={"url": "file:///etc/passwd"})
    assert "hunter2" not in str(refused.value)


# -- requests' SessionRedirectMixin: a Session subclass that overrides the redirect hooks --------------------


class _KeepAuthorization:
    """The recipe from requests' users: keep Authorization on every redirect."""

    def rebuild_auth(self, prepared_request: brisk.PreparedRequest, response: brisk.Response) -> None:
        pass


class _NeverStrip:
    def should_strip_auth(self, old_url: str, new_url: str) -> bool:
        return False


class _FollowAnyLocation:
    """Follows a Location on any status (requests' own test of the hook), but never to /stop."""

    def get_redirect_target(self, resp: brisk.Response) -> str | None:
        location = resp.headers.get("location")
        return None if location is None or location.endswith("/stop") else location


def _session_of(client: Client, mixin: type) -> None:
    """Give ``client`` a session of its own kind (sync or async) with ``mixin``'s override."""
    base: type = brisk.Session
    if client.mode == "sync":
        client.session.close()
    else:
        base = brisk.AsyncSession
        client.run(client.session.aclose())
    client.session = type(mixin.__name__ + base.__name__, (mixin, base), {})()


@pytest.mark.parametrize("mixin", [_KeepAuthorization, _NeverStrip])
def test_session_subclass_overriding_rebuild_auth_or_should_strip_auth_keeps_authorization(
    client: Client, app_server: ServerThread, mixin: type
) -> None:
    other_origin = f"http://localhost:{app_server.port}/echo-raw-headers"
    start = app_server.url + "/redirect-to"
    headers = {"Authorization": "Bearer kept", "Cookie": "c=stays-behind"}
    plain = client.get(start, params={"url": other_origin}, headers=headers)
    assert "authorization" not in echoed_headers(plain)  # brisk's rule without the override
    _session_of(client, mixin)
    r = client.get(start, params={"url": other_origin}, headers=headers)
    sent = echoed_headers(r)
    assert sent["authorization"] == "Bearer kept"  # the subclass chose to keep it, as in requests
    assert "cookie" not in sent  # Cookie and Proxy-Authorization stay under brisk's rules


def test_session_subclass_overriding_get_redirect_target(
    client: Client, raw_server: RawServerFactory
) -> None:
    def respond(request: RawRequest) -> bytes:
        if request.target == "/start":  # a 200 with a Location: only the override follows it
            return http_response(200, b"start", headers=[("Location", "/next")])
        if request.target == "/next":
            return http_response(302, b"next", headers=[("Location", "/stop")])
        return http_response(200, b"landed")

    server = raw_server(scripted(respond))
    assert client.get(server.url + "/start").content == b"start"
    _session_of(client, _FollowAnyLocation)
    r = client.get(server.url + "/start")
    assert (r.status_code, r.url) == (302, server.url + "/next")  # the override declined /stop
    assert [h.status_code for h in r.history] == [200]
    assert [req.target for req in server.requests] == ["/start", "/start", "/next"]


def test_redirect_mixin_methods_answer_with_brisks_rules(app_server: ServerThread) -> None:
    session = brisk.Session()
    assert isinstance(session, brisk.sessions.SessionRedirectMixin)
    assert not session.should_strip_auth("http://h/a", "http://h/b")
    assert not session.should_strip_auth("http://h/a", "https://h/b")  # the upgrade on default ports
    assert not session.should_strip_auth("https://h:443/a", "https://h/b")
    assert session.should_strip_auth("https://h/a", "http://h/b")
    assert session.should_strip_auth("http://h/a", "http://h:8080/b")
    assert session.should_strip_auth("http://h/a", "http://other/b")
    redirect = session.get(app_server.url + "/redirect-to", params={"url": "/get"}, allow_redirects=False)
    assert session.get_redirect_target(redirect) == "/get"
    assert session.get_redirect_target(session.get(app_server.url + "/get")) is None
    follow = redirect.next
    assert follow is not None
    follow.method = "POST"
    session.rebuild_method(follow, redirect)  # a 302 turns POST into GET
    assert follow.method == "GET"
    session.close()


class _TargetOnly:
    def get_redirect_target(self, resp: brisk.Response) -> str | None:
        return brisk.Session.get_redirect_target(self, resp)  # type: ignore[arg-type]


class _AsyncRebuildAuth:
    async def rebuild_auth(self, prepared_request: brisk.PreparedRequest, response: brisk.Response) -> None:
        pass


def test_session_subclass_overriding_only_get_redirect_target_never_relaxes_authorization(
    client: Client, app_server: ServerThread
) -> None:
    """Only an override of rebuild_auth or should_strip_auth may keep Authorization on another origin; a
    redirect built by a response hook (no request attached) is judged like any other."""
    other_origin = f"http://localhost:{app_server.port}/echo-raw-headers"

    def redirect_elsewhere(response: brisk.Response, **kwargs: Any) -> brisk.Response | None:
        if response.url.endswith("/start"):
            return brisk.Response(302, headers={"Location": other_origin})
        return None

    _session_of(client, _TargetOnly)
    client.session.headers["Authorization"] = "Bearer stays-home"
    r = client.get(app_server.url + "/anything/start", hooks={"response": redirect_elsewhere})
    assert r.url == other_origin
    assert "authorization" not in echoed_headers(r)


def test_session_subclass_with_an_async_rebuild_auth_is_refused(
    client: Client, app_server: ServerThread
) -> None:
    _session_of(client, _AsyncRebuildAuth)
    with pytest.raises(TypeError, match="rebuild_auth must be a plain method"):
        client.get(
            app_server.url + "/redirect-to",
            params={"url": f"http://localhost:{app_server.port}/get"},
            headers={"Authorization": "Bearer t"},
        )


@pytest.mark.parametrize("space", ["\u00a0", "\u0085", "\u3000"], ids=["nbsp", "nel", "ideographic"])
def test_location_is_trimmed_of_c0_and_space_only(
    client: Client, raw_server: RawServerFactory, space: str
) -> None:
    """A URL parser trims C0 controls and spaces from a Location, nothing else (WHATWG URL). Trimming Unicode
    whitespace too would make "<NBSP>//other.host/" (a path on this host) a redirect to another host."""
    other = raw_server()

    def respond(request: RawRequest) -> bytes:
        if request.target == "/start":
            location = f"{space}//localhost:{other.port}/landed".encode()  # UTF-8, as servers send it
            return b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n"
        return http_response(200, b"same host")

    origin = raw_server(scripted(respond))
    r = client.get(origin.url + "/start")
    assert r.content == b"same host"
    assert other.requests == []
    assert origin.requests[1].target.startswith("/%")  # the space, percent-encoded, starts a relative path
