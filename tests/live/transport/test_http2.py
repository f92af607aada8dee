"""HTTP/2, sync and async: real servers (hypercorn over TLS with ALPN, nginx with http2) and a scripted h2
peer (``servers/h2peer.py``) for the frames a well-behaved server never sends.

Every test passes ``http2=True`` (or False) explicitly, so the file holds whatever the session default is.
After every fault the pool is checked: the bad connection is closed (the peer sees the client go), no
stream or slot is held, and the next request succeeds.

The HTTP/2 cases of ``shared/SECURITY-CASES.md``:

- GOAWAY mid-stream: ``test_goaway_mid_stream_retries_unprocessed_streams``
- RST_STREAM mid-body: ``test_rst_stream_mid_body_fails_only_that_stream``
- CONTINUATION flood: ``test_continuation_flood_closes_the_connection``
- HPACK bomb / oversized header list: ``test_oversized_header_list_is_rejected``
- zero-length header name: ``test_zero_length_header_name_is_rejected``
- server lowers MAX_CONCURRENT_STREAMS: ``test_lowered_max_concurrent_streams_is_respected``
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest
import trustme
from h2.settings import SettingCodes

import brisk
from brisk.exceptions import ConnectionError as BriskConnectionError
from brisk.exceptions import ReadTimeout, RemoteProtocolError, ResponseHeadersTooLarge
from brisk.testing._app_streams import _random_blocks
from brisk.testing.app import App
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, SyncClient
from servers.h2peer import H2Peer, H2PeerFactory, PeerConnection, PeerRequest, echo
from servers.h2peer import h2peer as h2peer  # the fixture  # noqa: PLC0414
from servers.nginx import NginxServer
from servers.tls import CertBundle

Client = SyncClient | AsyncClient
Factory = Callable[..., Client]

pytestmark = pytest.mark.timeout(30)

MAX_STREAMS = SettingCodes.MAX_CONCURRENT_STREAMS


# -- helpers -------------------------------------------------------------------------------------------------


def h2_state(client: Client) -> Any:
    state = client.pool()
    assert state is not None
    return state


def shared_connections(client: Client) -> list[Any]:
    return [conn for conns in h2_state(client)._shared.values() for conn in conns]


def assert_h2_settled(client: Client, *, total: int) -> None:
    """``total`` connections counted; every multiplexed one alive, in the pool, with no stream open."""
    state = h2_state(client)
    assert state.total == total, f"pool counts {state.total} connections, expected {total}"
    assert not state._opening, f"connections still being opened: {state._opening}"
    shared = shared_connections(client)
    assert len(shared) + state.idle_count() == total
    for conn in shared:
        assert conn.looks_alive()
        assert conn.h2.open_streams == 0, f"{conn.h2.open_streams} streams still open"


def concurrently(client: Client, calls: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    """Run the requests at once (asyncio tasks, or one thread each); each result is a Response or the
    exception it raised."""
    if isinstance(client, AsyncClient):
        session = client.session

        async def run() -> list[Any]:
            jobs = (session.request(method, url, **kwargs) for method, url, kwargs in calls)
            return await asyncio.gather(*jobs, return_exceptions=True)

        return client.run(run())  # type: ignore[no-any-return]
    results: list[Any] = []
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [
            pool.submit(client.session.request, method, url, **kwargs) for method, url, kwargs in calls
        ]
        for future in futures:
            error = future.exception(timeout=25)
            results.append(error if error is not None else future.result())
    return results


def expected_bytes(size: int, seed: int) -> bytes:
    """What the test app's ``/bytes/{size}?seed={seed}`` serves."""
    return b"".join(_random_blocks(random.Random(seed), size))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def peer_client(client_factory: Factory, peer: H2Peer, **settings: Any) -> Client:
    settings.setdefault("http2", True)
    return client_factory(verify=str(peer.bundle.ca_bundle), **settings)


def served_ok(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"
    info: dict[str, Any] = response.json()
    return info


def assert_recovers(client: Client, peer: H2Peer, *, server_closed: bool = False) -> None:
    """The bad connection is gone from the pool and (unless the server closed it) closed by the client; the
    next request works on a new connection."""
    if not server_closed:
        assert peer.connections[0].closed_by_client.wait(5), "the client did not close the bad connection"
    assert_h2_settled(client, total=0)
    before = peer.connection_count
    info = served_ok(client, peer.url + "/after")
    assert info["connection"] == before
    assert peer.connection_count == before + 1
    assert_h2_settled(client, total=1)


# -- servers -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wide_server(ca: trustme.CA) -> Iterator[ServerThread]:
    """The test app over TLS (h2 and http/1.1) allowing 256 concurrent streams per connection."""
    with ServerThread(
        App(), tls=True, http2=True, ca=ca, config={"h2_max_concurrent_streams": 256}
    ) as server:
        yield server


# -- ALPN and versions ---------------------------------------------------------------------------------------


def test_hypercorn_version_follows_alpn(client_factory: Factory, tls_app_server: ServerThread) -> None:
    on = client_factory(http2=True, verify=tls_app_server.ca_bundle)
    off = client_factory(http2=False, verify=tls_app_server.ca_bundle)
    response = on.get(tls_app_server.url + "/get")
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"
    assert response.json()["url"].endswith("/get")
    assert off.get(tls_app_server.url + "/get").http_version == "HTTP/1.1"
    assert_h2_settled(on, total=1)


def test_nginx_version_follows_alpn(client_factory: Factory, nginx: NginxServer) -> None:
    on = client_factory(http2=True, verify=nginx.ca_bundle)
    off = client_factory(http2=False, verify=nginx.ca_bundle)
    response = on.get(nginx.https_url + "/index.html")
    assert response.http_version == "HTTP/2"
    assert response.content == nginx.files["/index.html"]
    assert off.get(nginx.https_url + "/index.html").http_version == "HTTP/1.1"
    assert on.get(nginx.http_url + "/index.html").http_version == "HTTP/1.1"  # no h2c without prior knowledge


def test_alpn_offer_follows_the_http2_setting(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    peer = h2peer()
    on = peer_client(client_factory, peer, http2=True)
    assert on.get(peer.url + "/on").http_version == "HTTP/2"
    off = peer_client(client_factory, peer, http2=False)
    response = off.get(peer.url + "/off")
    assert response.http_version == "HTTP/1.1"
    assert response.content == b"ok"
    first, second = peer.connections
    assert first.offered_alpn == ("h2", "http/1.1")
    assert first.selected_alpn == "h2"
    assert second.offered_alpn == ("http/1.1",), "http2=False must not offer h2"
    assert second.selected_alpn == "http/1.1"


def test_http2_false_never_negotiates_h2_even_if_the_server_only_speaks_h2(
    client_factory: Factory, h2peer: H2PeerFactory
) -> None:
    peer = h2peer(alpn=("h2",))
    client = peer_client(client_factory, peer, http2=False)
    response = client.get(peer.url + "/")
    assert response.http_version == "HTTP/1.1"
    assert peer.connections[0].offered_alpn == ("http/1.1",)
    assert peer.connections[0].selected_alpn is None
    assert not peer.requests, "no HTTP/2 stream may be opened"


def test_pool_is_keyed_by_the_http2_setting(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    peer = h2peer()
    client = peer_client(client_factory, peer, http2=True)
    assert client.get(peer.url + "/a").http_version == "HTTP/2"
    client.session.http2 = False
    assert client.get(peer.url + "/b").http_version == "HTTP/1.1"
    client.session.http2 = True
    response = client.get(peer.url + "/c")
    assert response.http_version == "HTTP/2"
    assert response.json()["connection"] == 0, "the h2 connection is reused for http2=True"
    assert peer.connection_count == 2
    assert [conn.offered_alpn for conn in peer.connections] == [("h2", "http/1.1"), ("http/1.1",)]
    state = h2_state(client)
    assert state.total == 2
    assert len(shared_connections(client)) == 1
    assert state.idle_count() == 1


# -- every policy over HTTP/2 (hypercorn) --------------------------------------------------------------------


@pytest.fixture
def h2c(client_factory: Factory, tls_app_server: ServerThread) -> Client:
    """A client with http2=True trusting the TLS app server."""
    return client_factory(http2=True, verify=tls_app_server.ca_bundle)


def test_redirects(h2c: Client, tls_app_server: ServerThread) -> None:
    base = tls_app_server.url
    response = h2c.get(base + "/redirect/3")
    assert response.status_code == 200
    assert response.url == base + "/get"
    assert [r.status_code for r in response.history] == [302, 302, 302]
    assert {r.http_version for r in [*response.history, response]} == {"HTTP/2"}
    assert h2c.get(base + "/relative-redirect/2").url == base + "/get"
    assert_h2_settled(h2c, total=1)


def test_redirects_with_a_body(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    """307 keeps the method and body, 303 turns them into a GET (the peer reads the whole request before it
    answers: hypercorn 0.18 drops the connection when DATA arrives for a stream it has already answered)."""

    def handler(request: PeerRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        if request.path.startswith("/move/"):
            return int(request.path[6:]), [("location", "/landed")], b""
        return echo(request)

    peer = h2peer(then=lambda conn: conn.serve(handler))
    client = peer_client(client_factory, peer)
    kept = client.post(peer.url + "/move/307", json={"k": 1})
    assert kept.history[0].status_code == 307
    assert kept.json()["method"] == "POST"
    assert json.loads(kept.json()["body"]) == {"k": 1}
    turned = client.post(peer.url + "/move/303", data=b"x")
    assert turned.json()["method"] == "GET"
    assert turned.json()["body"] == ""
    assert peer.connection_count == 1
    assert_h2_settled(client, total=1)


def test_status_retry_honours_retry_after(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    answers = iter([(503, [("retry-after", "1")], b"busy"), None])

    def handler(request: PeerRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        answer = next(answers, None)
        return answer if answer is not None else echo(request)  # type: ignore[return-value]

    peer = h2peer(then=lambda conn: conn.serve(handler))
    client = peer_client(client_factory, peer)
    started = time.monotonic()
    response = client.get(peer.url + "/busy", retries=brisk.Retry(total=3, status_forcelist=[503]))
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"
    assert 0.9 <= elapsed < 5, f"Retry-After: 1 not honoured ({elapsed:.2f} s)"
    assert [r.path for r in peer.requests] == ["/busy", "/busy"]
    assert peer.connection_count == 1, "the retry reuses the HTTP/2 connection"
    assert_h2_settled(client, total=1)


def test_basic_and_digest_auth(h2c: Client, tls_app_server: ServerThread) -> None:
    base = tls_app_server.url
    assert h2c.get(base + "/basic-auth/ann/secret", auth=("ann", "secret")).json()["authenticated"] is True
    assert h2c.get(base + "/basic-auth/ann/secret", auth=("ann", "wrong")).status_code == 401
    digest = h2c.get(base + "/digest-auth/auth/bob/pw", auth=brisk.HTTPDigestAuth("bob", "pw"))
    assert digest.status_code == 200
    assert digest.http_version == "HTTP/2"
    assert digest.json()["user"] == "bob"
    assert_h2_settled(h2c, total=1)


def test_cookies(h2c: Client, tls_app_server: ServerThread) -> None:
    base = tls_app_server.url
    response = h2c.get(base + "/cookies/set", params={"flavour": "oat", "size": "2"})
    assert response.json()["cookies"] == {"flavour": "oat", "size": "2"}
    assert h2c.session.cookies.get("flavour") == "oat"
    assert h2c.get(base + "/cookies").json()["cookies"] == {"flavour": "oat", "size": "2"}
    assert h2c.get(base + "/cookies/delete", params={"size": ""}).json()["cookies"] == {"flavour": "oat"}


@pytest.mark.parametrize(
    ("path", "flag"), [("gzip", "gzipped"), ("deflate", "deflated"), ("brotli", "brotli"), ("zstd", "zstd")]
)
def test_content_decoding(h2c: Client, tls_app_server: ServerThread, path: str, flag: str) -> None:
    response = h2c.get(f"{tls_app_server.url}/{path}")
    assert response.http_version == "HTTP/2"
    assert response.json()[flag] is True


def test_read_timeout_fails_only_its_stream(h2c: Client, tls_app_server: ServerThread) -> None:
    base = tls_app_server.url
    assert h2c.get(base + "/get").status_code == 200
    (conn,) = shared_connections(h2c)
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        h2c.get(base + "/delay/5", timeout=(5, 0.4))
    assert time.monotonic() - started < 2
    assert shared_connections(h2c) == [conn], "the connection survives a timed-out stream"
    assert_h2_settled(h2c, total=1)
    assert h2c.get(base + "/get").status_code == 200
    assert shared_connections(h2c) == [conn]


def test_streaming(h2c: Client, tls_app_server: ServerThread) -> None:
    base = tls_app_server.url
    response = h2c.get(base + "/stream-bytes/300000?chunk_size=7000&seed=5", stream=True)
    chunks = h2c.chunks(response, 8192)
    assert b"".join(chunks) == expected_bytes(300000, 5)
    assert all(len(chunk) <= 8192 for chunk in chunks)
    assert len(chunks) >= 300000 // 8192
    lines = h2c.lines(h2c.get(base + "/stream/20", stream=True))
    assert [json.loads(line)["id"] for line in lines] == list(range(20))
    half = h2c.get(base + "/bytes/1000000?seed=1", stream=True)
    first = next(iter(h2c.iterate(half, 1000)))
    assert first == expected_bytes(1000, 1)
    h2c.close_response(half)  # resets the stream; the connection stays
    assert_h2_settled(h2c, total=1)


def test_large_download_and_upload(h2c: Client, tls_app_server: ServerThread) -> None:
    """20 MiB each way: far beyond every initial flow-control window."""
    size = 20 * 1024 * 1024
    base = tls_app_server.url
    download = h2c.get(f"{base}/bytes/{size}?seed=9")
    assert len(download.content) == size
    assert sha(download.content) == sha(expected_bytes(size, 9))
    payload = random.Random(4).randbytes(size)
    upload = h2c.post(base + "/upload", data=payload)
    assert upload.json() == {"bytes": size, "sha256": sha(payload), "method": "POST"}

    def pieces() -> Iterator[bytes]:
        view = memoryview(payload)
        for start in range(0, size, 1_000_000):
            yield bytes(view[start : start + 1_000_000])

    streamed = h2c.put(base + "/upload", data=pieces())
    assert streamed.json() == {"bytes": size, "sha256": sha(payload), "method": "PUT"}
    assert_h2_settled(h2c, total=1)


def test_post_json_form_multipart(h2c: Client, tls_app_server: ServerThread) -> None:
    base = tls_app_server.url
    assert h2c.post(base + "/post", json={"a": [1, 2]}).json()["json"] == {"a": [1, 2]}
    assert h2c.post(base + "/post", data={"f": "v", "g": "ü"}).json()["form"] == {"f": "v", "g": "ü"}
    sent = h2c.post(base + "/post", data={"note": "n"}, files={"doc": ("a.txt", b"file body", "text/plain")})
    assert sent.json()["files"] == {"doc": "file body"}
    assert sent.json()["form"] == {"note": "n"}
    assert sent.http_version == "HTTP/2"


def test_nginx_policies(client_factory: Factory, nginx: NginxServer) -> None:
    client = client_factory(http2=True, verify=nginx.ca_bundle)
    data = client.get(nginx.https_url + "/data.json")
    assert data.http_version == "HTTP/2"
    assert data.headers.get("content-encoding") == "gzip"
    assert data.content == nginx.files["/data.json"]
    large = client.get(nginx.https_url + "/large.bin", stream=True)
    assert sha(b"".join(client.chunks(large, 65536))) == sha(nginx.files["/large.bin"])
    assert client.get(nginx.https_url + "/missing").status_code == 404
    assert_h2_settled(client, total=1)


# -- multiplexing --------------------------------------------------------------------------------------------


def test_async_many_streams_share_one_connection(client_factory: Factory, wide_server: ServerThread) -> None:
    client = client_factory(http2=True, verify=wide_server.ca_bundle)
    if client.mode != "async":
        pytest.skip("asyncio multiplexing (threads: test_threads_share_one_connection)")
    calls = [("GET", f"{wide_server.url}/get?n={n}", {}) for n in range(150)]
    results = concurrently(client, calls)
    assert [r.json()["args"]["n"] for r in results] == [str(n) for n in range(150)]
    assert {r.http_version for r in results} == {"HTTP/2"}
    assert_h2_settled(client, total=1)


def test_async_nginx_100_streams_one_connection(client_factory: Factory, nginx: NginxServer) -> None:
    client = client_factory(http2=True, verify=nginx.ca_bundle)
    if client.mode != "async":
        pytest.skip("asyncio multiplexing")
    results = concurrently(client, [("GET", nginx.https_url + "/data.json", {})] * 100)
    assert all(r.content == nginx.files["/data.json"] for r in results)
    assert_h2_settled(client, total=1)


def test_burst_to_a_new_origin_opens_one_connection(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    peer = h2peer(then=lambda conn: conn.serve(hold=0.2))
    client = peer_client(client_factory, peer)
    count = 50 if client.mode == "async" else 20
    results = concurrently(client, [("GET", f"{peer.url}/{n}", {}) for n in range(count)])
    assert [r.json()["path"] for r in results] == [f"/{n}" for n in range(count)]
    assert peer.connection_count == 1, "one connection for the whole burst, not one per request"
    assert peer.connections[0].max_open >= count // 2, "the requests were not in flight together"
    assert_h2_settled(client, total=1)


def test_threads_share_one_connection(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    peer = h2peer(then=lambda conn: conn.serve(hold=0.3))
    client = peer_client(client_factory, peer)
    if client.mode != "sync":
        pytest.skip("threads sharing a sync Session")
    assert served_ok(client, peer.url + "/warm")["connection"] == 0
    results = concurrently(client, [("GET", f"{peer.url}/{n}", {}) for n in range(20)])
    assert [r.json()["path"] for r in results] == [f"/{n}" for n in range(20)]
    assert peer.connection_count == 1
    assert peer.connections[0].max_open >= 10, "the threads' streams were not in flight together"
    assert_h2_settled(client, total=1)


def test_a_connection_closed_after_it_was_lent_sends_the_request_on_a_new_one(
    client_factory: Factory, h2peer: H2PeerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread is lent the shared connection; before it opens its stream, another closes the connection
    (the last stream of a connection the pool gave up on). The request goes on a new connection, as
    for a GOAWAY, instead of failing on the closed socket."""
    peer = h2peer(then=lambda conn: conn.serve())
    client = peer_client(client_factory, peer)
    if client.mode != "sync":
        pytest.skip("threads sharing a sync Session: asyncio starts the stream in the turn it is lent")
    assert served_ok(client, peer.url + "/warm")["connection"] == 0
    transport = client.session._transport
    acquire = type(transport)._acquire
    closed: list[Any] = []

    def lent_then_closed(self: Any, *args: Any, **kwargs: Any) -> Any:
        conn = acquire(self, *args, **kwargs)
        if not closed:  # the warm connection, once
            closed.append(conn)
            conn.close()
        return conn

    monkeypatch.setattr(type(transport), "_acquire", lent_then_closed)
    assert served_ok(client, peer.url + "/again")["connection"] == 1
    assert closed[0].closed
    assert peer.connection_count == 2


def test_beyond_max_concurrent_streams_opens_more_connections(
    client_factory: Factory, h2peer: H2PeerFactory
) -> None:
    """The pool lends a connection while it has free streams; beyond the server's limit (5) the next request
    opens a second connection (up to Limits.max_connections_per_host) and the others wait for that one.
    With threads, a thread lent the connection just as its streams ran out waits for a free stream on it."""
    peer = h2peer(then=lambda conn: conn.serve(hold=0.3), max_concurrent_streams=5)
    client = peer_client(client_factory, peer)
    served_ok(client, peer.url + "/warm")  # the limit is known before the burst
    results = concurrently(client, [("GET", f"{peer.url}/{n}", {}) for n in range(9)])
    assert [r.json()["path"] for r in results] == [f"/{n}" for n in range(9)]
    if client.mode == "async":
        assert peer.connection_count == 2
    else:
        assert peer.connection_count in (1, 2)
    for conn in peer.connections:
        assert conn.max_open <= 5
        assert conn.refused == []
    assert_h2_settled(client, total=peer.connection_count)


def test_burst_on_a_fresh_connection_before_the_server_settings(
    client_factory: Factory, h2peer: H2PeerFactory
) -> None:
    """A new connection's first requests leave before the server's SETTINGS can arrive (one round trip later;
    simulated by a peer that sends them 0.3 s late). A server then refuses the streams beyond its limit with
    RST_STREAM(REFUSED_STREAM), as nginx does; RFC 9113 section 8.7 says such requests were not processed and
    may be retried. Every request must succeed, and no stream may exceed a limit the client had seen."""
    peer = h2peer(then=lambda conn: conn.serve(hold=0.1), max_concurrent_streams=5, settings_delay=0.3)
    client = peer_client(client_factory, peer)
    if client.mode != "async":
        pytest.skip("threads reach the pool one by one: whether they meet the race depends on scheduling")
    results = concurrently(client, [("GET", f"{peer.url}/{n}", {}) for n in range(20)])
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, f"{len(failures)} of 20 failed: {failures[0]!r}"
    assert all(conn.violations == [] for conn in peer.connections)


def test_lowered_max_concurrent_streams_is_respected(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    def lower_to_two(conn: PeerConnection) -> None:
        first = conn.next_request()
        conn.send_settings({MAX_STREAMS: 2})
        conn.respond(first.stream_id, *echo(first))
        conn.serve(hold=0.15)

    peer = h2peer(lower_to_two, max_concurrent_streams=100)
    client = peer_client(client_factory, peer)
    served_ok(client, peer.url + "/first")
    conn = peer.connections[0]
    results = concurrently(client, [("GET", f"{peer.url}/{n}", {}) for n in range(10)])
    assert [r.json()["path"] for r in results] == [f"/{n}" for n in range(10)]
    assert conn.settings_acks == 2, "the client acknowledged the lowered limit"
    assert conn.violations == [], "streams opened beyond an acknowledged MAX_CONCURRENT_STREAMS"
    assert conn.refused == []
    assert conn.max_open <= 2
    assert sum(1 for r in results if r.json()["connection"] == 0) >= 2, "the lowered connection stays in use"
    assert_h2_settled(client, total=peer.connection_count)


# -- scripted faults -----------------------------------------------------------------------------------------


def test_goaway_mid_stream_retries_unprocessed_streams(
    client_factory: Factory, h2peer: H2PeerFactory
) -> None:
    """Three POSTs on one connection; the server answers the lowest stream half way, sends GOAWAY naming it
    as the last processed, then finishes it. The two above it are sent again on a new connection."""

    def goaway_after_first(conn: PeerConnection) -> None:
        first, *_ = conn.requests(3)
        status, headers, body = echo(first)
        conn.send_head(first.stream_id, status, [*headers, ("content-length", str(len(body)))])
        conn.send_body(first.stream_id, body[:20])
        conn.goaway(first.stream_id)
        conn.wait_for(lambda: False, 0.3)  # the client reads the GOAWAY before the rest of the body
        conn.send_body(first.stream_id, body[20:], end=True)
        conn.wait_closed()

    peer = h2peer(goaway_after_first)
    client = peer_client(client_factory, peer)
    calls = [("POST", f"{peer.url}/{n}", {"json": {"n": n}}) for n in range(3)]
    results = concurrently(client, calls)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    for n, response in enumerate(results):
        assert response.status_code == 200
        assert json.loads(response.json()["body"]) == {"n": n}
    by_connection = sorted(r.json()["connection"] for r in results)
    assert by_connection == [0, 1, 1], "one stream completed before GOAWAY, two retried on a new connection"
    assert peer.connection_count == 2
    assert peer.connections[0].closed_by_client.wait(5), "the client closes the connection that went away"
    assert_h2_settled(client, total=1)
    assert served_ok(client, peer.url + "/next")["connection"] == 1
    assert peer.connection_count == 2


def test_goaway_stream_not_retried_when_body_is_not_replayable(
    client_factory: Factory, h2peer: H2PeerFactory
) -> None:
    def goaway_at_once(conn: PeerConnection) -> None:
        conn.wait_for(lambda: bool(conn.streams), 5)
        conn.goaway(0)
        conn.wait_closed()

    peer = h2peer(goaway_at_once)
    client = peer_client(client_factory, peer)

    def once() -> Iterator[bytes]:
        yield b"only"
        yield b" once"

    with pytest.raises(RemoteProtocolError, match="GOAWAY"):
        client.post(peer.url + "/upload", data=once())
    assert peer.connection_count == 1
    assert_recovers(client, peer)


def test_rst_stream_mid_body_fails_only_that_stream(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    def reset_one(conn: PeerConnection) -> None:
        requests = {request.path: request for request in conn.requests(2)}
        victim, other = requests["/reset"], requests["/ok"]
        conn.send_head(victim.stream_id, 200, [("content-length", "100000")])
        conn.send_body(victim.stream_id, b"x" * 1000)
        conn.wait_for(lambda: False, 0.1)
        conn.reset_stream(victim.stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
        conn.respond(other.stream_id, *echo(other))
        conn.serve()

    peer = h2peer(reset_one)
    client = peer_client(client_factory, peer)
    reset, ok = concurrently(client, [("GET", peer.url + "/reset", {}), ("GET", peer.url + "/ok", {})])
    assert isinstance(reset, RemoteProtocolError), reset
    assert type(reset).__name__ == "StreamReset"
    assert "reset" in str(reset)
    assert ok.status_code == 200
    assert ok.json()["path"] == "/ok"
    assert_h2_settled(client, total=1)
    assert served_ok(client, peer.url + "/again")["connection"] == 0, (
        "the connection outlives one reset stream"
    )
    assert peer.connection_count == 1


def test_refused_stream_is_retried(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    """RST_STREAM(REFUSED_STREAM): the server did not process the request (RFC 9113 section 8.7)."""

    def refuse_first(conn: PeerConnection) -> None:
        first = conn.next_request()
        conn.reset_stream(first.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
        conn.serve()

    peer = h2peer(refuse_first)
    client = peer_client(client_factory, peer)
    response = client.post(peer.url + "/refused", json={"once": True})
    assert response.status_code == 200
    assert json.loads(response.json()["body"]) == {"once": True}
    assert [r.path for r in peer.requests] == ["/refused", "/refused"]
    assert_h2_settled(client, total=1)


def flood_of_continuations(conn: PeerConnection) -> None:
    request = conn.next_request()
    block = conn.encode_headers([(b":status", b"200"), (b"content-type", b"text/plain")])
    frames = [conn.headers_frame(request.stream_id, block, end_headers=False)]
    frames += [conn.continuation_frame(request.stream_id, b"") for _ in range(10_000)]
    try:
        conn.send_frame(*frames)
    except OSError:
        pass  # the client hung up part way: what it should do
    conn.wait_closed()


def test_continuation_flood_closes_the_connection(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    peer = h2peer(flood_of_continuations)
    client = peer_client(client_factory, peer)
    started = time.monotonic()
    with pytest.raises(RemoteProtocolError, match=r"(?i)continuation"):
        client.get(peer.url + "/flood")
    assert time.monotonic() - started < 5
    assert_recovers(client, peer)


def header_block_script(
    headers: list[tuple[bytes, bytes]], serve_after: bool = False, end_stream: bool = True
) -> Callable[[PeerConnection], None]:
    """Answer the first request with ``headers`` (one HEADERS frame, CONTINUATIONs when it is large), then
    wait for the client to close (or, ``serve_after``, answer further requests)."""

    def script(conn: PeerConnection) -> None:
        request = conn.next_request()
        block = conn.encode_headers([(b":status", b"200"), *headers])
        size = conn.h2.max_outbound_frame_size
        pieces = [block[start : start + size] for start in range(0, len(block), size)]
        frames = [
            conn.headers_frame(
                request.stream_id, pieces[0], end_headers=len(pieces) == 1, end_stream=end_stream
            )
        ]
        frames += [
            conn.continuation_frame(request.stream_id, piece, end_headers=index == len(pieces) - 1)
            for index, piece in enumerate(pieces[1:], 1)
        ]
        try:
            conn.send_frame(*frames)
        except OSError:
            pass
        if serve_after:
            conn.serve()
        else:
            conn.wait_closed()

    return script


BOMB_VALUE = b"B" * 4000
HEADER_CASES = {
    # One 4 kB header in the HPACK dynamic table, then 100 one-byte references to it: 400 kB decoded.
    "hpack_bomb": ([(b"x-bomb", BOMB_VALUE)] * 101, None),
    "many_large_headers": ([(f"x-h{n}".encode(), b"v" * 1000) for n in range(100)], None),
    "over_a_small_limit": ([(b"x-big", b"v" * 10_000)], brisk.Limits(max_head_size=8192)),
}


@pytest.mark.parametrize("case", list(HEADER_CASES))
def test_oversized_header_list_is_rejected(client_factory: Factory, h2peer: H2PeerFactory, case: str) -> None:
    headers, limits = HEADER_CASES[case]
    peer = h2peer(header_block_script(headers))
    settings = {"limits": limits} if limits is not None else {}
    client = peer_client(client_factory, peer, **settings)
    with pytest.raises(ResponseHeadersTooLarge, match="max_head_size"):
        client.get(peer.url + "/big")
    assert_recovers(client, peer)


def test_header_count_limit_applies(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    """150 small fields: within max_head_size, beyond Limits.max_header_count (100), as over HTTP/1.1. The
    header block decoded fine, so only the stream fails (it is reset) and the connection carries on."""
    fields = [(f"x-n{n}".encode(), b"1") for n in range(150)]
    peer = h2peer(header_block_script(fields, serve_after=True, end_stream=False))
    client = peer_client(client_factory, peer)
    with pytest.raises(ResponseHeadersTooLarge, match="max_header_count"):
        client.get(peer.url + "/many")
    assert_h2_settled(client, total=1)
    assert served_ok(client, peer.url + "/after")["connection"] == 0
    assert peer.connections[0].resets_received == {1: h2.errors.ErrorCodes.PROTOCOL_ERROR}


def test_zero_length_header_name_is_rejected(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    peer = h2peer(header_block_script([(b"", b"nameless")]))
    client = peer_client(client_factory, peer)
    with pytest.raises(RemoteProtocolError, match="zero length"):
        client.get(peer.url + "/nameless")
    assert_recovers(client, peer)


def test_ping_is_answered(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    acked: list[bool] = []

    def ping_first(conn: PeerConnection) -> None:
        request = conn.next_request()
        acked.append(conn.ping(b"12345678", timeout=5))
        conn.respond(request.stream_id, *echo(request))
        conn.serve()

    peer = h2peer(ping_first)
    client = peer_client(client_factory, peer)
    assert served_ok(client, peer.url + "/ping")["path"] == "/ping"
    assert acked == [True]
    assert_h2_settled(client, total=1)


def test_garbage_fails_every_stream_and_closes(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    """A HEADERS frame whose block is not HPACK: a connection error that fails both streams in flight."""

    def garbage(conn: PeerConnection) -> None:
        first, _ = conn.requests(2)
        conn.send_raw(b"\x00\x00\x04\x01\x05" + first.stream_id.to_bytes(4, "big") + b"\xff\xff\xff\xff")
        conn.wait_closed()

    peer = h2peer(garbage)
    client = peer_client(client_factory, peer)
    results = concurrently(client, [("GET", peer.url + "/one", {}), ("GET", peer.url + "/two", {})])
    for result in results:
        assert isinstance(result, RemoteProtocolError), result
        assert "HTTP/2 protocol error" in str(result)
    assert_recovers(client, peer)


def test_http11_bytes_on_an_h2_connection_fail_at_once(
    client_factory: Factory, h2peer: H2PeerFactory
) -> None:
    def http11_answer(conn: PeerConnection) -> None:
        conn.next_request()
        conn.send_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        conn.wait_closed(5)

    peer = h2peer(http11_answer)
    client = peer_client(client_factory, peer)
    with pytest.raises(RemoteProtocolError, match="HTTP/2 protocol error"):
        client.get(peer.url + "/confused", timeout=(5, 1.5))
    assert_recovers(client, peer)


def test_server_closes_the_connection_mid_stream(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    def half_then_close(conn: PeerConnection) -> None:
        request = conn.next_request()
        conn.send_head(request.stream_id, 200, [("content-length", "1000")])
        conn.send_body(request.stream_id, b"x" * 100)
        conn.close()

    peer = h2peer(half_then_close)
    client = peer_client(client_factory, peer)
    with pytest.raises(RemoteProtocolError, match="closed the HTTP/2 connection"):
        client.get(peer.url + "/cut")
    assert_recovers(client, peer, server_closed=True)


def test_server_closes_the_connection_before_the_response(
    client_factory: Factory, h2peer: H2PeerFactory
) -> None:
    def close_at_once(conn: PeerConnection) -> None:
        conn.next_request()
        conn.close()

    peer = h2peer(close_at_once)
    client = peer_client(client_factory, peer)
    with pytest.raises(BriskConnectionError):
        client.post(peer.url + "/gone", data=b"payload")
    assert_recovers(client, peer, server_closed=True)


def test_idle_connection_closed_by_the_server(client_factory: Factory, h2peer: H2PeerFactory) -> None:
    """The server drops an idle connection without GOAWAY: the next request goes out on a new connection."""

    def one_then_close(conn: PeerConnection) -> None:
        request = conn.next_request()
        conn.respond(request.stream_id, *echo(request))
        conn.wait_for(lambda: False, 0.2)
        conn.close()

    peer = h2peer(one_then_close)
    client = peer_client(client_factory, peer)
    assert served_ok(client, peer.url + "/first")["connection"] == 0
    time.sleep(0.5)
    assert served_ok(client, peer.url + "/second")["connection"] == 1
    assert peer.connection_count == 2
    assert_h2_settled(client, total=1)


def _early_settings_server(
    bundle: CertBundle, stop: threading.Event
) -> tuple[socket.socket, threading.Thread]:
    """A one-request HTTP/2 server whose SETTINGS leave in the same write as its TLS Finished.

    TLS runs on memory BIOs so nothing reaches the socket until the handshake's last flight and the first
    HTTP/2 frames are both ready: the client reads them together, as it does from nginx.
    """
    context = bundle.server_context(("h2",))
    context.maximum_version = ssl.TLSVersion.TLSv1_2  # the server's Finished is the handshake's last flight
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        sock, _ = listener.accept()
        with sock:
            sock.settimeout(5)
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = context.wrap_bio(incoming, outgoing, server_side=True)
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    sock.sendall(outgoing.read())
                    incoming.write(sock.recv(65536))
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
            conn.initiate_connection()
            tls.write(conn.data_to_send())
            sock.sendall(outgoing.read())  # Finished + SETTINGS in one write
            sock.settimeout(0.1)  # from here on, poll so that stop is noticed promptly
            while not stop.is_set():
                try:
                    received = sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not received:
                    return
                incoming.write(received)
                data = b""
                while True:  # every record decrypted so far
                    try:
                        data += tls.read(65536)
                    except ssl.SSLWantReadError:
                        break
                    except ssl.SSLError:
                        return
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        conn.send_headers(event.stream_id, [(":status", "200"), ("content-length", "2")])
                        conn.send_data(event.stream_id, b"ok", end_stream=True)
                tls.write(conn.data_to_send())
                sock.sendall(outgoing.read())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener, thread


def test_settings_arriving_with_the_handshake_are_not_lost(
    client_factory: Factory, good_cert: CertBundle
) -> None:
    # The SETTINGS reach the connection before brisk swaps in its HTTP/2 protocol; they must be handed
    # over, or the new connection waits (until the connect timeout) for SETTINGS that already came.
    stop = threading.Event()
    listener, thread = _early_settings_server(good_cert, stop)
    try:
        client = client_factory(
            verify=str(good_cert.ca_bundle), http2=True, timeout=brisk.Timeout(connect=2, read=5)
        )
        response = client.get(f"https://localhost:{listener.getsockname()[1]}/early")
        assert (response.http_version, response.status_code, client.read(response)) == ("HTTP/2", 200, b"ok")
    finally:
        stop.set()
        listener.close()
        thread.join(5)


# -- malformed heads, and what brisk caches between heads ----------------------------------------------------

STATUS = (b":status", b"200")
REGULAR = (b"x-kind", b"plain")

MALFORMED_HEADS = {
    "upper-case name": [STATUS, (b"X-Kind", b"plain")],
    "space in a name": [STATUS, (b"x kind", b"plain")],
    "Connection": [STATUS, REGULAR, (b"connection", b"keep-alive")],
    "Transfer-Encoding": [STATUS, (b"transfer-encoding", b"chunked")],
    "TE other than trailers": [STATUS, (b"te", b"gzip")],
    "NUL in a value": [STATUS, (b"x-kind", b"pl\0ain")],
    "CR LF in a value": [STATUS, (b"x-kind", b"plain\r\nx-evil: 1")],
    "space before a value": [STATUS, (b"x-kind", b" plain")],
    "status after a regular field": [REGULAR, STATUS],
    "request pseudo-header": [STATUS, (b":path", b"/")],
    "two statuses": [STATUS, (b":status", b"204"), REGULAR],
    # Only SP and HTAB may surround a list element: "0\x0b" is not the number 0 (bytes.strip() took VT off).
    "VT after a Content-Length": [STATUS, (b"content-length", b"0\x0b")],
}


def test_malformed_heads_fail_their_stream_even_after_valid_ones(
    client_factory: Factory, h2peer: H2PeerFactory
) -> None:
    # One connection answers a valid head, then each malformed head in turn, then the valid head again.
    # brisk remembers the fields it has found valid (REGULAR among them): a remembered field must not let
    # the head around it through, and each malformed head fails only its own stream (RFC 9113 8.1.1).
    heads = [[STATUS, REGULAR], *MALFORMED_HEADS.values(), [STATUS, REGULAR]]

    def script(conn: PeerConnection) -> None:
        for head in heads:
            request = conn.next_request()
            block = conn.encode_headers(head)
            conn.send_frame(conn.headers_frame(request.stream_id, block, end_stream=True))
            conn._closed_locally(request.stream_id)
        conn.serve()

    peer = h2peer(script)
    client = peer_client(client_factory, peer)
    assert client.get(peer.url + "/valid").headers["x-kind"] == "plain"
    for case in MALFORMED_HEADS:
        with pytest.raises(RemoteProtocolError, match=r"malformed|not allowed|more than one"):
            client.get(peer.url + "/malformed", headers={"x-case": case})
    again = client.get(peer.url + "/valid")
    assert (again.status_code, again.headers["x-kind"]) == (200, "plain")
    assert peer.connection_count == 1, "a malformed head is a stream error: the connection stays"
    assert_h2_settled(client, total=1)


@pytest.mark.parametrize("http2", [True, False], ids=["HTTP/2", "HTTP/1.1"])
def test_secrets_are_not_remembered_between_requests(
    tls_app_server: ServerThread, http2: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # brisk keeps validated header fields across requests to save work; never credentials or cookies.
    from brisk._protocol import http2_stream as h2_fields
    from brisk._protocol import http11

    # The C accelerator writes HTTP/1.1 heads without that cache: the Python writer is the one checked here.
    monkeypatch.setattr(http11, "_fast_encode", None)

    with brisk.Session(http2=http2, verify=tls_app_server.ca_bundle) as session:
        response = session.get(
            tls_app_server.url + "/cookies/set",
            params={"session": "s3cr3t-cookie"},
            headers={"Authorization": "Bearer s3cr3t-token", "X-Plain": f"kept-{http2}"},
            cookies={"jar": "s3cr3t-jar"},
            allow_redirects=False,
        )
        assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
        assert "s3cr3t-cookie" in response.headers["set-cookie"]
    sent = {value for _, value in h2_fields.REQUEST_FIELDS} | set(http11._line_cache.values())
    received = {value for value, _ in h2_fields.VALID_FIELDS.values()} | {
        value for _, value in h2_fields.VALID_FIELDS.values()
    }
    assert any(f"kept-{http2}" in value for value in sent), "the cache is in use (else this proves nothing)"
    assert not [value for value in sent | received if "s3cr3t" in value]


def test_receive_names_the_streams_it_changed() -> None:
    # The async transport wakes only the requests whose streams changed; 0 means "look, all of you".
    from brisk._core.config import DEFAULT_LIMITS
    from brisk._protocol.http2 import H2Connection

    conn = H2Connection(DEFAULT_LIMITS)
    first = conn.send_request("GET", "https", "example.com", "/", [], True)
    second = conn.send_request("GET", "https", "example.com", "/", [], True)
    settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    assert 0 in conn.receive(settings)
    block = b"\x88"  # :status 200, from the static table
    head = len(block).to_bytes(3, "big") + b"\x01\x05" + second.id.to_bytes(4, "big") + block
    assert set(conn.receive(head)) == {second.id}
    assert (first.status, second.status) == (None, 200)
    window = b"\x00\x00\x04\x08\x00" + first.id.to_bytes(4, "big") + b"\x00\x00\x10\x00"
    assert 0 in conn.receive(window), "a window opening concerns whoever waits to send"
    assert 0 in conn.receive(b"\x00\x00\x01\xff\x00\x00\x00\x00\x01garbage-frames"), "errors concern all"
    assert first.error is not None


@pytest.mark.parametrize(
    ("method", "headers"),
    [("GET", {"X-A": "v\r\nInjected: 1"}), ("GET", {"X-A\r\nInjected": "v"}), ("GE T", {})],
)
def test_injection_refused_on_a_pooled_connection(
    h2c: Client, tls_app_server: ServerThread, method: str, headers: dict[str, str]
) -> None:
    # With an HTTP/2 connection pooled, the request is validated by the stream, not by an HTTP/1.1 head.
    assert h2c.get(tls_app_server.url + "/get").http_version == "HTTP/2"
    (conn,) = shared_connections(h2c)
    with pytest.raises((brisk.exceptions.InvalidHeader, brisk.exceptions.InvalidMethod)):
        h2c.request(method, tls_app_server.url + "/get", headers=headers)
    assert_h2_settled(h2c, total=1)
    assert h2c.get(tls_app_server.url + "/get").status_code == 200
    assert shared_connections(h2c) == [conn]


# -- HTTP/2 over plain http, by prior knowledge -------------------------------------------------------------


def test_prior_knowledge_speaks_h2_over_plain_http(client_factory: Factory, app_server: ServerThread) -> None:
    url = app_server.url
    assert client_factory().get(url + "/get").http_version == "HTTP/1.1", "plain http defaults to HTTP/1.1"
    client = client_factory(http2="prior-knowledge")
    response = client.get(url + "/get", params={"q": "1"})
    assert (response.status_code, response.http_version) == (200, "HTTP/2")
    assert response.json()["args"] == {"q": "1"}
    posted = client.post(url + "/post", json={"a": [1, 2]})
    assert (posted.http_version, posted.json()["json"]) == ("HTTP/2", {"a": [1, 2]})
    results = concurrently(client, [("GET", f"{url}/anything/{n}", {}) for n in range(10)])
    assert [r.json()["url"] for r in results] == [f"{url}/anything/{n}" for n in range(10)]
    assert {r.http_version for r in results} == {"HTTP/2"}
    if client.mode == "async":
        assert len(shared_connections(client)) == 1, "concurrent requests share the one h2c connection"
    assert_h2_settled(client, total=len(shared_connections(client)))


def test_prior_knowledge_to_a_server_without_http2_fails_clearly(
    client_factory: Factory, raw_server: Any
) -> None:
    def http11_only(conn: Any) -> None:
        conn.recv(65536)  # the HTTP/2 preface, which an HTTP/1.1 server takes for a bad request
        conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        conn.close()

    server = raw_server(http11_only)
    client = client_factory(http2="prior-knowledge", retries=0)
    with pytest.raises(RemoteProtocolError, match="really speaking HTTP/2") as caught:
        client.get(server.url + "/")
    assert server.url in str(caught.value)
    assert h2_state(client).total == 0, "the failed connection is not kept"


def test_http2_setting_is_checked(client_factory: Factory, app_server: ServerThread) -> None:
    client = client_factory(http2="prior_knowledge")
    with pytest.raises(ValueError, match="http2 must be True, False or 'prior-knowledge'"):
        client.get(app_server.url + "/get")


# -- flow control as the server sets it ----------------------------------------------------------------------

INITIAL_WINDOW = SettingCodes.INITIAL_WINDOW_SIZE


def test_upload_follows_the_server_windows_and_their_changes(
    client_factory: Factory, h2peer: H2PeerFactory
) -> None:
    """The server opens with 1,000-byte stream windows, raises them to 5,000 mid-upload, then lowers them to
    0 while the client is blocked. A SETTINGS change moves the window of open streams too (RFC 9113 section
    6.9.2), so after the lowering a grant of 5,000 only brings the window back to 0: the client must stay
    silent until the next grant, then finish."""
    size = 30_000  # within the connection's window: only the stream's window holds the client back
    seen: dict[str, int] = {}

    def script(conn: PeerConnection) -> None:
        def received() -> int:
            return sum(len(request.body) for request in conn.streams.values())

        def settle(label: str) -> None:
            conn.wait_for(lambda: False, 0.3)  # read whatever a wrong client would send meanwhile
            seen[label] = received()

        assert conn.wait_for(lambda: received() >= 1000, 5)
        settle("initial window")
        (stream_id,) = conn.streams
        conn.send_settings({INITIAL_WINDOW: 5000})
        assert conn.wait_for(lambda: received() >= 5000, 5)
        settle("raised")
        conn.send_settings({INITIAL_WINDOW: 0})
        assert conn.wait_for(lambda: conn.settings_acks >= 3, 5)  # the first SETTINGS and these two
        conn.h2.increment_flow_control_window(5000, stream_id=stream_id)
        conn.flush()
        settle("lowered, then 5,000 granted")
        conn.h2.increment_flow_control_window(size, stream_id=stream_id)
        conn.flush()
        request = conn.next_request()
        conn.respond(request.stream_id, *echo(request))
        conn.serve()

    peer = h2peer(script, settings={INITIAL_WINDOW: 1000})
    client = peer_client(client_factory, peer)
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    response = client.post(peer.url + "/upload", data=body)
    assert response.status_code == 200
    assert response.json()["sha256"] == sha(body)
    assert seen == {"initial window": 1000, "raised": 5000, "lowered, then 5,000 granted": 5000}
    assert_h2_settled(client, total=1)


@pytest.mark.parametrize("value", [5, ["a"]])
def test_session_header_of_another_type_is_refused_on_a_pooled_connection(
    h2c: Client, tls_app_server: ServerThread, value: object
) -> None:
    assert h2c.get(tls_app_server.url + "/get").http_version == "HTTP/2"
    h2c.session.headers["X-Count"] = value
    with pytest.raises(brisk.exceptions.InvalidHeader, match="X-Count"):
        h2c.get(tls_app_server.url + "/get")
    del h2c.session.headers["X-Count"]
    assert_h2_settled(h2c, total=1)
    assert h2c.get(tls_app_server.url + "/get").status_code == 200


def test_bytes_header_value_is_sent_as_latin_1(h2c: Client, tls_app_server: ServerThread) -> None:
    r = h2c.get(tls_app_server.url + "/headers", headers={"X-Raw": b"caf\xe9"})
    assert r.http_version == "HTTP/2"
    assert r.json()["headers"]["X-Raw"] == "caf\u00e9"
