"""Tests of the test servers themselves, using clients other than brisk: http.client, ssl, sockets, h2, curl.

If these pass, a failing brisk test points at brisk, not at the server it talked to.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import json
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from email.message import Message
from typing import Any
from xml.etree import ElementTree

import brotli
import h2.connection
import h2.events
import pytest
import zstandard
from cryptography import x509
from cryptography.x509.oid import NameOID

from brisk.testing._digest import DigestAuthority, parse_auth_params
from brisk.testing.app import App
from brisk.testing.server import ServerThread
from servers.nginx import NginxServer
from servers.raw import RawConnection, RawServer, RawServerFactory, canned, http_response
from servers.tls import CertBundle, TLSServerFactory

CURL_HINT = "curl not installed: apt-get install curl (the CI script .ci/run installs it)"


# -- small clients -------------------------------------------------------------------------------------------


class Reply:
    """A response read with http.client: status, headers, body."""

    def __init__(self, status: int, headers: Message, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    base: Any,
    method: str,
    path: str,
    *,
    body: bytes | Iterator[bytes] | None = None,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> Reply:
    """One request on a fresh connection to a server object with ``host``, ``port`` (and ``scheme``)."""
    host, port = base.host, base.port
    if getattr(base, "scheme", "http") == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=10, context=context
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(
            method, path, body=body, headers=headers or {}, encode_chunked=isinstance(body, Iterator)
        )
        response = conn.getresponse()
        return Reply(response.status, response.msg, response.read())
    finally:
        conn.close()


def get(base: Any, path: str, **kwargs: Any) -> Reply:
    return request(base, "GET", path, **kwargs)


def run_curl(*args: str) -> subprocess.CompletedProcess[str]:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip(CURL_HINT)
    return subprocess.run(
        [curl, "--silent", "--show-error", "--max-time", "20", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def h2_request(
    host: str, port: int, path: str, cafile: str, server_hostname: str = "localhost"
) -> tuple[int, dict[str, str], bytes]:
    """One GET over HTTP/2 with the h2 state machine; fails unless ALPN selects h2."""
    context = ssl.create_default_context(cafile=cafile)
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as sock,
    ):
        assert sock.selected_alpn_protocol() == "h2"
        conn = h2.connection.H2Connection()
        conn.initiate_connection()
        headers = [
            (":method", "GET"),
            (":path", path),
            (":scheme", "https"),
            (":authority", f"{server_hostname}:{port}"),
        ]
        conn.send_headers(1, headers, end_stream=True)
        sock.sendall(conn.data_to_send())
        status, response_headers, body = 0, {}, bytearray()
        while True:
            data = sock.recv(65536)
            assert data, "connection closed before the stream ended"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    response_headers = {k.decode(): v.decode() for k, v in event.headers}
                    status = int(response_headers[":status"])
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    conn.close_connection()
                    sock.sendall(conn.data_to_send())
                    return status, response_headers, bytes(body)
            sock.sendall(conn.data_to_send())


# -- the ASGI app: echoes ------------------------------------------------------------------------------------


def test_get_echoes_args_headers_origin_url(app_server: ServerThread) -> None:
    reply = get(app_server, "/get?a=1&a=2&b=x%20y", headers={"X-Test": "yes"})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    data = reply.json()
    assert set(data) == {"args", "headers", "origin", "url"}
    assert data["args"] == {"a": ["1", "2"], "b": "x y"}
    assert data["headers"]["X-Test"] == "yes"
    assert data["headers"]["Host"] == f"127.0.0.1:{app_server.port}"
    assert data["origin"] == "127.0.0.1"
    assert data["url"] == f"{app_server.url}/get?a=1&a=2&b=x%20y"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_body_methods_echo_json(app_server: ServerThread, method: str) -> None:
    body = json.dumps({"k": [1, "ü"]}).encode()
    reply = request(
        app_server, method, f"/{method.lower()}", body=body, headers={"Content-Type": "application/json"}
    )
    data = reply.json()
    assert reply.status == 200
    assert list(data) == ["args", "data", "files", "form", "headers", "json", "origin", "url"]
    assert data["json"] == {"k": [1, "ü"]}
    assert data["data"] == body.decode()
    assert data["form"] == {}
    assert data["files"] == {}


def test_wrong_method_is_405_with_allow(app_server: ServerThread) -> None:
    reply = request(app_server, "POST", "/get", body=b"x")
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"
    assert request(app_server, "GET", "/post").status == 405


def test_head_has_length_but_no_body(app_server: ServerThread) -> None:
    reply = request(app_server, "HEAD", "/json")
    assert reply.status == 200
    assert reply.body == b""
    assert int(reply.headers["Content-Length"]) == len(get(app_server, "/json").body)


def test_unknown_path_is_404_json(app_server: ServerThread) -> None:
    reply = get(app_server, "/no/such/thing")
    assert reply.status == 404
    assert "error" in reply.json()


def test_index_lists_endpoints(app_server: ServerThread) -> None:
    endpoints = get(app_server, "/").json()["endpoints"]
    assert "/get" in endpoints
    assert "/digest-auth/{qop}/{user}/{passwd}/{algorithm}" in endpoints


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS", "FOO"])
def test_anything_echoes_any_method_and_path(app_server: ServerThread, method: str) -> None:
    reply = request(app_server, method, "/anything/deep/path?q=1", body=b"raw body")
    data = reply.json()
    assert data["method"] == method
    assert data["url"].endswith("/anything/deep/path?q=1")
    assert data["data"] == "raw body"
    assert data["json"] is None
    assert get(app_server, "/anything").json()["method"] == "GET"


def test_urlencoded_form(app_server: ServerThread) -> None:
    body = b"name=J%C3%BCrgen&tag=a&tag=b&empty="
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    data = request(app_server, "POST", "/post", body=body, headers=headers).json()
    assert data["form"] == {"name": "Jürgen", "tag": ["a", "b"], "empty": ""}
    assert data["data"] == ""
    assert data["json"] is None


def test_multipart_form_and_files(app_server: ServerThread) -> None:
    boundary = "----brisk-boundary-42"
    binary = bytes(range(256))
    parts = [
        b'Content-Disposition: form-data; name="field"\r\n\r\nvalue one',
        b'Content-Disposition: form-data; name="text"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nline\r\nline2",
        b'Content-Disposition: form-data; name="blob"; filename="b.bin"\r\n'
        b"Content-Type: application/x-thing\r\n\r\n" + binary,
        b'Content-Disposition: form-data; name="field"\r\n\r\nvalue two',
    ]
    body = (
        b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
        + b"--"
        + boundary.encode()
        + b"--\r\n"
    )
    headers = {"Content-Type": f'multipart/form-data; boundary="{boundary}"'}
    data = request(app_server, "POST", "/post", body=body, headers=headers).json()
    assert data["form"] == {"field": ["value one", "value two"]}
    assert data["files"]["text"] == "line\r\nline2"
    assert data["files"]["blob"] == "data:application/x-thing;base64," + base64.b64encode(binary).decode()
    broken = request(
        app_server,
        "POST",
        "/post",
        body=b"--x\r\nno blank line",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert broken.status == 400


def test_binary_body_is_a_data_url(app_server: ServerThread) -> None:
    data = request(
        app_server, "PUT", "/put", body=b"\xff\xfe\x00", headers={"Content-Type": "application/octet-stream"}
    ).json()
    assert data["data"] == "data:application/octet-stream;base64,//4A"


def test_headers_user_agent_ip_uuid(app_server: ServerThread) -> None:
    headers = get(app_server, "/headers", headers={"User-Agent": "probe/1", "Cookie": "a=1"}).json()[
        "headers"
    ]
    assert headers["User-Agent"] == "probe/1"
    assert headers["Cookie"] == "a=1"
    assert get(app_server, "/user-agent", headers={"User-Agent": "probe/2"}).json() == {
        "user-agent": "probe/2"
    }
    assert get(app_server, "/ip").json() == {"origin": "127.0.0.1"}
    assert get(app_server, "/ip", headers={"X-Forwarded-For": "203.0.113.9"}).json() == {
        "origin": "203.0.113.9"
    }
    first, second = get(app_server, "/uuid").json()["uuid"], get(app_server, "/uuid").json()["uuid"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first)
    assert first != second


def test_echo_raw_headers_keeps_order_case_and_duplicates(app_server: ServerThread) -> None:
    with socket.create_connection(app_server.address, timeout=10) as sock:
        sock.sendall(
            b"GET /echo-raw-headers HTTP/1.1\r\nHost: h\r\nX-Zeta: 1\r\nx-alpha: 2\r\nX-Zeta: 3\r\n"
            b"Connection: close\r\n\r\n"
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    body = raw.partition(b"\r\n\r\n")[2]
    assert json.loads(body) == [
        ["Host", "h"],
        ["X-Zeta", "1"],
        ["x-alpha", "2"],
        ["X-Zeta", "3"],
        ["Connection", "close"],
    ]


# -- the ASGI app: status codes, delays, redirects -----------------------------------------------------------


@pytest.mark.parametrize("code", [200, 201, 204, 400, 404, 500, 503, 599])
def test_status_plain(app_server: ServerThread, code: int) -> None:
    reply = request(app_server, "PATCH", f"/status/{code}")
    assert reply.status == code
    assert reply.body == b""


@pytest.mark.parametrize("code", [301, 302, 303, 305, 307, 308])
def test_status_redirects_to_redirect_1(app_server: ServerThread, code: int) -> None:
    reply = get(app_server, f"/status/{code}")
    assert (reply.status, reply.headers["Location"]) == (code, "/redirect/1")


def test_status_specials_and_choices(app_server: ServerThread) -> None:
    assert get(app_server, "/status/401").headers["WWW-Authenticate"] == 'Basic realm="Fake Realm"'
    assert get(app_server, "/status/407").headers["Proxy-Authenticate"] == 'Basic realm="Fake Realm"'
    teapot = get(app_server, "/status/418")
    assert teapot.status == 418
    assert b"teapot" in teapot.body
    assert request(app_server, "HEAD", "/status/304").status == 304
    assert {get(app_server, "/status/201,202").status for _ in range(20)} <= {201, 202}
    assert get(app_server, "/status/500:0,200:1").status == 200
    for bad in ("abc", "99", "100", "200:x", "200:0", "200:inf", "200:-1,201:2"):
        assert get(app_server, f"/status/{bad}").status == 400, bad


def test_delay_waits_and_echoes(app_server: ServerThread) -> None:
    started = time.monotonic()
    reply = request(app_server, "POST", "/delay/0.3?x=1", body=b"hello")
    assert time.monotonic() - started >= 0.3
    assert reply.json()["data"] == "hello"
    assert reply.json()["args"] == {"x": "1"}
    assert get(app_server, "/delay/abc").status == 400
    assert get(app_server, "/delay/-1").status == 400


def test_redirect_chains(app_server: ServerThread) -> None:
    assert get(app_server, "/redirect/3").headers["Location"] == "/relative-redirect/2"
    assert get(app_server, "/relative-redirect/2").headers["Location"] == "/relative-redirect/1"
    assert get(app_server, "/relative-redirect/1").headers["Location"] == "/get"
    assert get(app_server, "/redirect/1").headers["Location"] == "/get"
    assert (
        get(app_server, "/redirect/2?absolute=true").headers["Location"]
        == f"{app_server.url}/absolute-redirect/1"
    )
    assert (
        get(app_server, "/absolute-redirect/3").headers["Location"] == f"{app_server.url}/absolute-redirect/2"
    )
    assert get(app_server, "/absolute-redirect/1").headers["Location"] == f"{app_server.url}/get"
    assert get(app_server, "/redirect/0").status == 400
    assert get(app_server, "/redirect/x").status == 400


def test_redirect_to(app_server: ServerThread) -> None:
    reply = request(
        app_server, "POST", "/redirect-to?url=http%3A%2F%2Fexample.invalid%2Fx&status_code=307", body=b"b"
    )
    assert (reply.status, reply.headers["Location"]) == (307, "http://example.invalid/x")
    assert get(app_server, "/redirect-to?url=/get").status == 302
    assert get(app_server, "/redirect-to?url=/get&status_code=200").status == 302
    assert (
        get(app_server, "/redirect-to?url=file:///etc/passwd&status_code=301").headers["Location"]
        == "file:///etc/passwd"
    )
    assert get(app_server, "/redirect-to").status == 400
    assert get(app_server, "/redirect-to?url=/a%0d%0aX-Injected:%201").status == 400


# -- the ASGI app: cookies and authentication ----------------------------------------------------------------


def test_cookies_read_set_delete(app_server: ServerThread) -> None:
    assert get(app_server, "/cookies", headers={"Cookie": "a=1; b=two"}).json() == {
        "cookies": {"a": "1", "b": "two"}
    }
    reply = get(app_server, "/cookies/set?a=1&b=2")
    assert (reply.status, reply.headers["Location"]) == (302, "/cookies")
    assert reply.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert get(app_server, "/cookies/set/name/value").headers["Set-Cookie"] == "name=value; Path=/"
    deleted = get(app_server, "/cookies/delete?a").headers["Set-Cookie"]
    assert deleted.startswith("a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0")
    assert get(app_server, "/cookies/set?a=1%3B%20evil=1").status == 400


def test_set_cookie_raw_is_verbatim(app_server: ServerThread) -> None:
    values = ["sid=1; Domain=.com; Path=/", "x=y; Secure; HttpOnly; SameSite=None", "bad"]
    query = "&".join("h=" + v.replace(" ", "%20").replace(";", "%3B").replace("=", "%3D") for v in values)
    reply = request(app_server, "POST", f"/set-cookie-raw?{query}")
    assert reply.headers.get_all("Set-Cookie") == values
    assert reply.json() == {"set-cookie": values}


def test_basic_auth(app_server: ServerThread) -> None:
    good = {"Authorization": "Basic " + base64.b64encode(b"user:p\xc3\xa4ss").decode()}
    reply = get(app_server, "/basic-auth/user/p%C3%A4ss", headers=good)
    assert reply.status == 200
    assert reply.json() == {"authenticated": True, "user": "user"}
    denied = get(app_server, "/basic-auth/user/other", headers=good)
    assert denied.status == 401
    assert denied.headers["WWW-Authenticate"] == 'Basic realm="Fake Realm"'
    assert get(app_server, "/basic-auth/user/p%C3%A4ss").status == 401
    assert get(app_server, "/hidden-basic-auth/user/p%C3%A4ss", headers=good).status == 200
    assert get(app_server, "/hidden-basic-auth/user/nope", headers=good).status == 404


def test_bearer(app_server: ServerThread) -> None:
    missing = get(app_server, "/bearer")
    assert missing.status == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    reply = get(app_server, "/bearer", headers={"Authorization": "Bearer t0ken"})
    assert reply.json() == {"authenticated": True, "token": "t0ken"}
    assert get(app_server, "/bearer", headers={"Authorization": "Basic abc"}).status == 401


# -- digest authentication -----------------------------------------------------------------------------------


def test_digest_matches_rfc7616_examples() -> None:
    # RFC 7616 section 3.9.1: the same request answered with MD5 and with SHA-256.
    authority = DigestAuthority(realm="http-auth@example.org")
    params = {
        "username": "Mufasa",
        "uri": "/dir/index.html",
        "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "nc": "00000001",
        "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        "qop": "auth",
    }
    md5 = authority.expected_response(params, method="GET", password="Circle of Life", algorithm="MD5")
    sha = authority.expected_response(params, method="GET", password="Circle of Life", algorithm="SHA-256")
    assert md5 == "8ca523f5e9506fed4657c9700eebdbec"
    assert sha == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"


HASHLIB = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256", "SHA-512": "sha512"}


def digest_header(
    challenge: str, *, method: str, uri: str, user: str, password: str, body: bytes = b"", nc: int = 1
) -> str:
    """A client's Digest Authorization header, computed here independently of the server code."""
    scheme, params = parse_auth_params(challenge)
    assert scheme == "digest"
    algorithm = params["algorithm"]
    name = HASHLIB[algorithm.removesuffix("-sess")]

    def h(data: str | bytes) -> str:
        return hashlib.new(name, data.encode() if isinstance(data, str) else data).hexdigest()

    realm, nonce, qop = params["realm"], params["nonce"], params.get("qop")
    cnonce, count = "0a4f113b", f"{nc:08x}"
    ha1 = h(f"{user}:{realm}:{password}")
    if algorithm.endswith("-sess"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}:{h(body)}") if qop == "auth-int" else h(f"{method}:{uri}")
    if qop:
        response = h(f"{ha1}:{nonce}:{count}:{cnonce}:{qop}:{ha2}")
        extra = f', qop={qop}, nc={count}, cnonce="{cnonce}"'
    else:
        response, extra = h(f"{ha1}:{nonce}:{ha2}"), ""
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", algorithm={algorithm}, '
        f'response="{response}", opaque="{params["opaque"]}"{extra}'
    )


@pytest.mark.parametrize("qop", ["auth", "auth-int", "none"])
@pytest.mark.parametrize(
    "algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512", "SHA-512-sess"]
)
def test_digest_auth_round_trip(app_server: ServerThread, qop: str, algorithm: str) -> None:
    path = f"/digest-auth/{qop}/user/pass/{algorithm}?x=1"
    body = b"payload"
    challenge = request(app_server, "POST", path, body=body)
    if qop == "none" and algorithm.endswith("-sess"):
        assert challenge.status == 400  # RFC 2617: the -sess variants need the cnonce that comes with qop
        return
    assert challenge.status == 401
    www = challenge.headers["WWW-Authenticate"]
    assert f"algorithm={algorithm}" in www
    assert ("qop" in www) == (qop != "none")
    header = digest_header(www, method="POST", uri=path, user="user", password="pass", body=body)
    reply = request(app_server, "POST", path, body=body, headers={"Authorization": header})
    assert reply.status == 200, reply.body
    assert reply.json() == {"authenticated": True, "user": "user"}


def test_digest_auth_rejections(app_server: ServerThread) -> None:
    path = "/digest-auth/auth/user/pass"
    www = get(app_server, path).headers["WWW-Authenticate"]
    assert "algorithm=MD5" in www
    wrong = digest_header(www, method="GET", uri=path, user="user", password="wrong")
    assert get(app_server, path, headers={"Authorization": wrong}).status == 401
    other_uri = digest_header(www, method="GET", uri="/elsewhere", user="user", password="pass")
    assert get(app_server, path, headers={"Authorization": other_uri}).status == 401
    good = digest_header(www, method="GET", uri=path, user="user", password="pass")
    assert get(app_server, path, headers={"Authorization": good}).status == 200
    assert get(app_server, path, headers={"Authorization": good}).status == 401, "a replayed nc must fail"
    again = digest_header(www, method="GET", uri=path, user="user", password="pass", nc=2)
    assert get(app_server, path, headers={"Authorization": again}).status == 200
    assert get(app_server, "/digest-auth/auth/user/pass/SHA-1").status == 400


def test_digest_auth_stale_nonce(app_server: ServerThread) -> None:
    path = "/digest-auth/auth/user/pass/SHA-256/2"
    www = get(app_server, path).headers["WWW-Authenticate"]
    assert "stale" not in www
    for count in (1, 2):
        header = digest_header(www, method="GET", uri=path, user="user", password="pass", nc=count)
        assert get(app_server, path, headers={"Authorization": header}).status == 200
    header = digest_header(www, method="GET", uri=path, user="user", password="pass", nc=3)
    stale = get(app_server, path, headers={"Authorization": header})
    assert stale.status == 401
    assert "stale=TRUE" in stale.headers["WWW-Authenticate"]
    fresh = digest_header(
        stale.headers["WWW-Authenticate"], method="GET", uri=path, user="user", password="pass"
    )
    assert get(app_server, path, headers={"Authorization": fresh}).status == 200


# -- the ASGI app: encodings, bytes and streams --------------------------------------------------------------

DECODERS = {
    "gzip": ("gzip", "gzipped", gzip.decompress),
    "deflate": ("deflate", "deflated", zlib.decompress),
    "brotli": ("br", "brotli", brotli.decompress),
    "zstd": ("zstd", "zstd", lambda data: zstandard.ZstdDecompressor().decompress(data)),
}


@pytest.mark.parametrize("endpoint", list(DECODERS))
def test_content_codings(app_server: ServerThread, endpoint: str) -> None:
    token, flag, decode = DECODERS[endpoint]
    reply = get(app_server, f"/{endpoint}")
    assert reply.headers["Content-Encoding"] == token
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    data = json.loads(decode(reply.body))
    assert data[flag] is True
    assert data["method"] == "GET"
    assert "Host" in data["headers"]


def test_bytes_are_seeded_and_sized(app_server: ServerThread) -> None:
    first = get(app_server, "/bytes/1000?seed=7")
    assert first.headers["Content-Type"] == "application/octet-stream"
    assert len(first.body) == 1000 == int(first.headers["Content-Length"])
    assert get(app_server, "/bytes/1000?seed=7").body == first.body
    assert get(app_server, "/bytes/1000?seed=8").body != first.body
    assert get(app_server, "/bytes/0").body == b""
    assert get(app_server, "/bytes/-1").status == 400
    assert get(app_server, "/bytes/10?seed=x").status == 400
    big = get(app_server, "/bytes/1000000?seed=3")  # past the in-memory size: streamed with a Content-Length
    assert len(big.body) == 1_000_000
    assert big.headers.get("Transfer-Encoding") is None


def test_stream_bytes_is_chunked_and_matches_bytes(app_server: ServerThread) -> None:
    reply = get(app_server, "/stream-bytes/300000?seed=5&chunk_size=1000")
    assert reply.headers["Transfer-Encoding"] == "chunked"
    assert reply.body == get(app_server, "/bytes/300000?seed=5").body
    with socket.create_connection(app_server.address, timeout=10) as sock:
        sock.sendall(
            b"GET /stream-bytes/25?seed=1&chunk_size=10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert raw.partition(b"\r\n\r\n")[2].startswith(b"a\r\n")  # chunks of chunk_size bytes: 0xa


def test_stream_lines(app_server: ServerThread) -> None:
    reply = get(app_server, "/stream/5?q=1")
    assert reply.headers["Transfer-Encoding"] == "chunked"
    lines = [json.loads(line) for line in reply.body.splitlines()]
    assert [line["id"] for line in lines] == [0, 1, 2, 3, 4]
    assert lines[0]["args"] == {"q": "1"}
    assert lines[0]["url"].endswith("/stream/5?q=1")
    assert len(get(app_server, "/stream/500").body.splitlines()) == 100


def test_drip_spreads_bytes_over_the_duration(app_server: ServerThread) -> None:
    conn = http.client.HTTPConnection(app_server.host, app_server.port, timeout=10)
    try:
        started = time.monotonic()
        conn.request("GET", "/drip?duration=0.6&numbytes=4&code=201&delay=0.2")
        response = conn.getresponse()
        headers_at = time.monotonic() - started
        assert response.status == 201
        assert response.headers["Content-Length"] == "4"
        arrivals = []
        for _ in range(4):
            assert response.read(1) == b"*"
            arrivals.append(time.monotonic() - started)
        assert response.read() == b""
    finally:
        conn.close()
    assert headers_at >= 0.2
    assert arrivals[-1] - arrivals[0] >= 0.35  # three pauses of 0.15 s between four bytes
    assert get(app_server, "/drip?numbytes=3&duration=0").body == b"***"
    assert get(app_server, "/drip?duration=1000").status == 400


def test_range_requests(app_server: ServerThread) -> None:
    full = get(app_server, "/range/100")
    assert full.status == 200
    assert full.body == bytes(97 + i % 26 for i in range(100))
    etag, modified = full.headers["ETag"], full.headers["Last-Modified"]
    assert full.headers["Accept-Ranges"] == "bytes"
    cases = {
        "bytes=0-9": (206, "bytes 0-9/100", full.body[:10]),
        "bytes=90-": (206, "bytes 90-99/100", full.body[90:]),
        "bytes=-5": (206, "bytes 95-99/100", full.body[95:]),
        "bytes=95-500": (206, "bytes 95-99/100", full.body[95:]),
        "bytes=100-": (416, "bytes */100", None),
        "bytes=-0": (416, "bytes */100", None),
        "bytes=0-1,5-6": (200, None, full.body),
        "items=0-1": (200, None, full.body),
        "bytes=9-3": (200, None, full.body),
    }
    for header, (status, content_range, body) in cases.items():
        reply = get(app_server, "/range/100", headers={"Range": header})
        assert reply.status == status, header
        assert reply.headers.get("Content-Range") == content_range, header
        if body is not None:
            assert reply.body == body, header
    assert get(app_server, "/range/100", headers={"Range": "bytes=0-1", "If-Range": etag}).status == 206
    assert get(app_server, "/range/100", headers={"Range": "bytes=0-1", "If-Range": modified}).status == 206
    stale = get(app_server, "/range/100", headers={"Range": "bytes=0-1", "If-Range": '"other"'})
    assert stale.status == 200
    assert stale.body == full.body


def test_server_sent_events(app_server: ServerThread) -> None:
    reply = get(app_server, "/sse?count=3&retry=1500&delay=0.05")
    assert reply.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert reply.headers["Cache-Control"] == "no-cache"
    blocks = reply.body.decode().split("\n\n")
    assert blocks[0].startswith(":")
    assert blocks[1] == "retry: 1500"
    events = [block.splitlines() for block in blocks[2:] if block]
    assert len(events) == 3
    assert events[0][:3] == ["id: 1", "event: tick", "data: event 1"]
    assert json.loads(events[2][3].removeprefix("data: ")) == {"n": 3, "of": 3}


def test_upload_streams_any_size(app_server: ServerThread) -> None:
    piece = random.Random(1).randbytes(1 << 20)
    digest = hashlib.sha256(piece * 12).hexdigest()
    reply = request(app_server, "PUT", "/upload", body=iter([piece] * 12))  # chunked, 12 MiB
    assert reply.json() == {"bytes": 12 << 20, "sha256": digest, "method": "PUT"}
    empty = request(app_server, "POST", "/upload", body=b"")
    assert empty.json()["bytes"] == 0


def test_upload_answers_expect_100_continue(app_server: ServerThread) -> None:
    with socket.create_connection(app_server.address, timeout=10) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\n\r\n"
        )
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100")
        sock.sendall(b"hello")
        head, _, body = _read_all(sock).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["bytes"] == 5


def test_streams_stop_when_the_client_leaves() -> None:
    # With a 5 s graceful period, a prompt stop shows the dripping handler noticed the disconnect itself.
    server = ServerThread(App(), graceful_timeout=5).start()
    try:
        with socket.create_connection(server.address, timeout=10) as sock:
            sock.sendall(b"GET /drip?duration=20&numbytes=20 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(0.2)
    finally:
        started = time.monotonic()
        server.stop()
    assert time.monotonic() - started < 2


def test_stream_bytes_tiny_chunks(app_server: ServerThread) -> None:
    reply = get(app_server, "/stream-bytes/1000?seed=9&chunk_size=1")
    assert reply.body == get(app_server, "/bytes/1000?seed=9").body


# -- the ASGI app: documents, headers, caching ---------------------------------------------------------------


def test_documents(app_server: ServerThread) -> None:
    html = get(app_server, "/html")
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1>" in html.body
    assert isinstance(get(app_server, "/json").json(), dict)
    xml = get(app_server, "/xml")
    assert xml.headers["Content-Type"] == "application/xml"
    assert ElementTree.fromstring(xml.body).tag == "catalogue"
    assert get(app_server, "/robots.txt").body.startswith(b"User-agent: *")
    utf8 = get(app_server, "/encoding/utf8")
    assert "Καλημέρα" in utf8.body.decode("utf-8")
    assert "😀" in utf8.body.decode("utf-8")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_response_headers(app_server: ServerThread, method: str) -> None:
    reply = request(app_server, method, "/response-headers?X-One=1&X-Two=a&X-Two=b&Content-Type=text/plain")
    assert reply.headers["X-One"] == "1"
    assert reply.headers.get_all("X-Two") == ["a", "b"]
    assert reply.headers["Content-Type"] == "text/plain"
    body = reply.json()
    assert body["X-Two"] == ["a", "b"]
    assert body["Content-Length"] == str(len(reply.body))
    assert get(app_server, "/response-headers?X-Bad=a%0d%0aInjected:%201").status == 400
    assert get(app_server, "/response-headers?Bad%20Name=1").status == 400
    assert get(app_server, "/response-headers?Content-Length=0").status == 400


def test_etag(app_server: ServerThread) -> None:
    plain = get(app_server, "/etag/abc")
    assert plain.status == 200
    assert plain.headers["ETag"] == '"abc"'
    assert get(app_server, "/etag/abc", headers={"If-None-Match": '"x", W/"abc"'}).status == 304
    assert get(app_server, "/etag/abc", headers={"If-None-Match": "*"}).status == 304
    assert get(app_server, "/etag/abc", headers={"If-Match": '"x"'}).status == 412
    assert get(app_server, "/etag/abc", headers={"If-Match": '"abc"'}).status == 200


def test_cache(app_server: ServerThread) -> None:
    plain = get(app_server, "/cache")
    assert plain.status == 200
    assert plain.headers["Last-Modified"]
    assert plain.headers["ETag"]
    assert (
        get(app_server, "/cache", headers={"If-Modified-Since": plain.headers["Last-Modified"]}).status == 304
    )
    assert get(app_server, "/cache", headers={"If-None-Match": plain.headers["ETag"]}).status == 304
    assert get(app_server, "/cache/60").headers["Cache-Control"] == "public, max-age=60"


def test_base64(app_server: ServerThread) -> None:
    encoded = base64.urlsafe_b64encode("brisk ✓ ok?".encode()).decode().rstrip("=")
    reply = get(app_server, f"/base64/{encoded}")
    assert reply.body.decode() == "brisk ✓ ok?"
    assert get(app_server, "/base64/%25%25%25").status == 400


# -- TLS, HTTP/2 and the server thread -----------------------------------------------------------------------


def _alpn(port: int, cafile: str, offer: list[str], host: str = "127.0.0.1") -> str | None:
    context = ssl.create_default_context(cafile=cafile)
    context.set_alpn_protocols(offer)
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as sock,
    ):
        return sock.selected_alpn_protocol()


def test_tls_app_server_negotiates_h2_and_http11(tls_app_server: ServerThread, ca_bundle: str) -> None:
    assert tls_app_server.url.startswith("https://127.0.0.1:")
    assert tls_app_server.ca_bundle is not None
    assert _alpn(tls_app_server.port, tls_app_server.ca_bundle, ["h2", "http/1.1"]) == "h2"
    assert _alpn(tls_app_server.port, ca_bundle, ["http/1.1"]) == "http/1.1"
    context = ssl.create_default_context(cafile=ca_bundle)
    reply = get(tls_app_server, "/get", context=context)
    assert reply.json()["url"] == f"{tls_app_server.url}/get"


def test_tls_app_server_serves_http2(tls_app_server: ServerThread, ca_bundle: str) -> None:
    status, headers, body = h2_request("127.0.0.1", tls_app_server.port, "/get?h=2", ca_bundle)
    assert status == 200
    assert headers["content-type"] == "application/json"
    data = json.loads(body)
    assert data["args"] == {"h": "2"}
    assert data["url"] == f"https://localhost:{tls_app_server.port}/get?h=2"
    status, _, body = h2_request("127.0.0.1", tls_app_server.port, "/stream-bytes/100000?seed=2", ca_bundle)
    assert status == 200
    assert len(body) == 100000


def test_tls_certificate_covers_localhost_and_addresses(tls_app_server: ServerThread) -> None:
    assert tls_app_server.cert_file is not None
    assert tls_app_server.ca_bundle is not None
    with open(tls_app_server.cert_file, "rb") as file:
        cert = x509.load_pem_x509_certificates(file.read())[0]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = [
        *san.get_values_for_type(x509.DNSName),
        *(str(ip) for ip in san.get_values_for_type(x509.IPAddress)),
    ]
    assert sorted(names) == sorted(["localhost", "127.0.0.1", "::1"])


def test_server_thread_http11_only_and_stop_closes_port() -> None:
    with ServerThread(tls=True, http2=False) as server:
        assert server.ca_bundle is not None
        assert _alpn(server.port, server.ca_bundle, ["h2", "http/1.1"]) == "http/1.1"
        address = server.address
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=5).close()


def test_server_thread_ipv6() -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("IPv6 loopback (::1) is not available on this machine")
    with ServerThread(host="::1") as server:
        assert server.url.startswith("http://[::1]:")
        conn = http.client.HTTPConnection("::1", server.port, timeout=10)
        try:
            conn.request("GET", "/ip")
            assert json.loads(conn.getresponse().read()) == {"origin": "::1"}
        finally:
            conn.close()


def test_server_thread_stops_promptly_with_streams_in_flight() -> None:
    server = ServerThread(App(), graceful_timeout=0.5).start()
    errors: list[BaseException] = []
    ready = threading.Event()

    def slow_client() -> None:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            conn.request("GET", "/drip?duration=30&numbytes=30")
            response = conn.getresponse()
            ready.set()
            response.read()
        except (http.client.HTTPException, OSError) as exc:
            errors.append(exc)
        finally:
            ready.set()
            conn.close()

    # An idle keep-alive connection as well; closed by the with even when stop() fails, so that no
    # ResourceWarning lands in a later test.
    with socket.create_connection(server.address, timeout=10) as idle:
        client = threading.Thread(target=slow_client, daemon=True)
        client.start()
        assert ready.wait(10)
        started = time.monotonic()
        server.stop()  # Python 3.12.1+: hypercorn alone waited here for the drip to end (see server.py)
        assert time.monotonic() - started < 3
        client.join(10)
        assert not client.is_alive()
        assert errors, "the dripping response must end early, truncated"
        assert idle.recv(10) == b""  # hypercorn closed the idle connection


def test_server_thread_rejects_unknown_setting_and_double_start() -> None:
    with pytest.raises(TypeError, match="no setting"):
        ServerThread(config={"no_such_setting": 1}).start()
    with ServerThread() as server, pytest.raises(RuntimeError, match="started already"):
        server.start()


def test_server_thread_custom_config_keep_alive() -> None:
    with (
        ServerThread(keep_alive_timeout=0.2) as server,
        socket.create_connection(server.address, timeout=10) as sock,
    ):
        sock.sendall(b"GET /get HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):  # the server closes the idle connection after 0.2 s
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")


@pytest.mark.network_tools
def test_plain_server_accepts_h2_prior_knowledge(app_server: ServerThread) -> None:
    result = run_curl(
        "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version}", f"{app_server.url}/get"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2"


def test_importing_brisk_testing_is_light() -> None:
    heavy = "('hypercorn', 'trustme', 'cryptography')"
    code = f"import sys, brisk.testing; print(sorted(m for m in {heavy} if m in sys.modules))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert output.stdout.strip() == "[]"


# -- curl against the app ------------------------------------------------------------------------------------


@pytest.mark.network_tools
def test_curl_http11_and_h2(app_server: ServerThread, tls_app_server: ServerThread, ca_bundle: str) -> None:
    plain = run_curl("-H", "X-Curl: 1", f"{app_server.url}/headers")
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["headers"]["X-Curl"] == "1"
    tls = run_curl(
        "--http2",
        "--cacert",
        ca_bundle,
        "-o",
        "/dev/null",
        "-w",
        "%{http_version}",
        f"https://localhost:{tls_app_server.port}/get",
    )
    assert tls.returncode == 0, tls.stderr
    assert tls.stdout == "2"
    form = run_curl(
        "--cacert",
        ca_bundle,
        "-F",
        "a=1",
        "-F",
        "f=@/etc/hostname",
        f"https://localhost:{tls_app_server.port}/post",
    )
    data = json.loads(form.stdout)
    assert data["form"] == {"a": "1"}
    assert "f" in data["files"]
    compressed = run_curl("--compressed", f"{app_server.url}/brotli")
    assert json.loads(compressed.stdout)["brotli"] is True


# -- httpbin -------------------------------------------------------------------------------------------------


def test_httpbin_serves_the_real_app(httpbin: ServerThread) -> None:
    reply = get(httpbin, "/get?a=1")
    assert reply.status == 200
    assert reply.json()["args"] == {"a": "1"}
    headers = {"Content-Type": "application/json"}
    assert request(httpbin, "POST", "/post", body=b'{"x": 2}', headers=headers).json()["json"] == {"x": 2}
    assert get(httpbin, "/status/418").status == 418
    assert get(httpbin, "/redirect/2").headers["Location"].endswith("/relative-redirect/1")
    for path in ("/status/204", "/status/304"):  # empty WSGI bodies: hypercorn alone would answer 500
        assert get(httpbin, path).status == int(path[-3:])
    assert request(httpbin, "HEAD", "/get").status == 200


def test_httpbin_keeps_connections_alive(httpbin: ServerThread) -> None:
    conn = http.client.HTTPConnection(httpbin.host, httpbin.port, timeout=10)
    try:
        conn.request("GET", "/bytes/10")
        assert len(conn.getresponse().read()) == 10
        local = conn.sock.getsockname()
        for path in ("/get", "/status/204", "/drip?duration=0.1&numbytes=2", "/stream/2"):
            conn.request("GET", path)
            conn.getresponse().read()
            assert conn.sock is not None, path
            assert conn.sock.getsockname() == local, path
    finally:
        conn.close()


def test_httpbin_secure_speaks_h2(httpbin_secure: ServerThread, ca_bundle: str) -> None:
    status, _, body = h2_request("127.0.0.1", httpbin_secure.port, "/get?x=1", ca_bundle)
    assert status == 200
    assert json.loads(body)["args"] == {"x": "1"}


# -- the raw server ------------------------------------------------------------------------------------------


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_raw_recv_request_parses_and_records(raw_server: RawServerFactory) -> None:
    def handler(conn: RawConnection) -> None:
        while (req := conn.recv_request()) is not None:
            conn.send(http_response(200, f"{req.method} {req.target} {len(req.body)}".encode()))

    server = raw_server(handler)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("POST", "/a?b=1", body=b"0123456789", headers={"X-Case": "Kept"})
        assert conn.getresponse().read() == b"POST /a?b=1 10"
        conn.request("PUT", "/chunked", body=iter([b"abc", b"", b"defg"]), encode_chunked=True)
        assert conn.getresponse().read() == b"PUT /chunked 7"
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"GET / 0"
    finally:
        conn.close()
    first, second, third = server.requests
    assert first.header("x-case") == "Kept"
    assert first.body == b"0123456789"
    assert first.raw.startswith(b"POST /a?b=1 HTTP/1.1\r\n")
    assert first.raw.endswith(b"\r\n\r\n0123456789")
    assert second.body == b"abcdefg"
    assert second.raw.endswith(b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
    assert third.version == "HTTP/1.1"
    assert third.body == b""
    assert server.connection_count == 1


def test_raw_reset_gives_econnreset(raw_server: RawServerFactory) -> None:
    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        conn.sleep(0.1)
        conn.reset()

    server = raw_server(handler)
    with socket.create_connection(server.address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        with pytest.raises(ConnectionResetError):
            _read_all(sock)


def test_raw_half_close_gives_eof_while_client_can_still_send(raw_server: RawServerFactory) -> None:
    after: list[bytes] = []

    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(b"HTTP/1.1 200 OK\r\n\r\nbody until EOF")
        conn.half_close()
        after.append(conn.wait_closed())

    server = raw_server(handler)
    with socket.create_connection(server.address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_all(sock).endswith(b"body until EOF")  # EOF arrived
        sock.sendall(b"still talking")
    server.stop()
    assert after == [b"still talking"]


def test_raw_canned_responses_on_one_connection(raw_server: RawServerFactory) -> None:
    server = raw_server(canned(http_response(200, b"one"), http_response(404, b"two"), then="wait"))
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("GET", "/1")
        assert conn.getresponse().read() == b"one"
        conn.request("GET", "/2")
        response = conn.getresponse()
        assert (response.status, response.read()) == (404, b"two")
    finally:
        conn.close()
    server.stop()
    assert [r.target for r in server.requests] == ["/1", "/2"]
    assert server.connection_count == 1


def test_raw_canned_then_reset_and_close(raw_server: RawServerFactory) -> None:
    reset = raw_server(canned(http_response(200, b"x"), then="reset"))
    with socket.create_connection(reset.address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            _read_all(sock)
    assert len(reset.requests) == 1
    closing = raw_server(canned(b"HTTP/1.1 200 OK\r\n\r\nuntil close"))
    with socket.create_connection(closing.address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_all(sock).endswith(b"until close")


def test_raw_counts_connections_and_client_close_gives_none(raw_server: RawServerFactory) -> None:
    seen: list[object] = []
    server = raw_server(lambda conn: seen.append(conn.recv_request()))
    for _ in range(3):
        socket.create_connection(server.address, timeout=10).close()
    deadline = time.monotonic() + 5
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.connection_count == 3
    assert seen == [None, None, None]


def test_raw_stop_wakes_waiting_handlers_and_reraises_failures() -> None:
    server = RawServer(lambda conn: conn.recv_request(), timeout=30).start()
    idle = socket.create_connection(server.address, timeout=10)
    time.sleep(0.1)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    idle.close()

    def failing(conn: RawConnection) -> None:
        raise AssertionError("the handler saw something wrong")

    broken = RawServer(failing).start()
    socket.create_connection(broken.address, timeout=10).close()
    time.sleep(0.1)
    with pytest.raises(RuntimeError, match="handler failed"):
        broken.stop()


def test_raw_tls_server_with_alpn(tls_raw_server: TLSServerFactory, good_cert: CertBundle) -> None:
    server = tls_raw_server(good_cert, alpn=("h2", "http/1.1"))
    assert server.url.startswith("https://127.0.0.1:")
    context = good_cert.client_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(server.address, timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as sock,
    ):
        assert sock.selected_alpn_protocol() == "h2"
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).endswith(b"\r\n\r\nok")
    only_h1 = tls_raw_server(good_cert, alpn=["http/1.1"])
    with (
        socket.create_connection(only_h1.address, timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as sock,
    ):
        assert sock.selected_alpn_protocol() == "http/1.1"


def test_unused_port_refuses(unused_port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", unused_port), timeout=5).close()


# -- certificates --------------------------------------------------------------------------------------------

FAILING = ["expired", "not_yet_valid", "wrong_host", "unknown_ca", "self_signed", "cn_only"]


def _handshake(server: RawServer, bundle: CertBundle, hostname: str | None = None) -> None:
    context = bundle.client_context()
    with (
        socket.create_connection(server.address, timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=hostname or bundle.hostname) as sock,
    ):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).endswith(b"ok")


@pytest.mark.parametrize("case", FAILING)
def test_bad_certificates_fail_verification(
    case: str, cert_bundles: dict[str, CertBundle], tls_raw_server: TLSServerFactory
) -> None:
    bundle = cert_bundles[case]
    assert bundle.expected_error is not None
    server = tls_raw_server(bundle)
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        _handshake(server, bundle)
    assert re.search(bundle.expected_error, str(info.value)), str(info.value)
    assert server.requests == []


def test_wrong_host_by_ip_is_an_ip_mismatch(
    wrong_host_cert: CertBundle, tls_raw_server: TLSServerFactory
) -> None:
    server = tls_raw_server(wrong_host_cert)
    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        _handshake(server, wrong_host_cert, hostname="127.0.0.1")


def test_good_and_ip_san_certificates_verify(
    cert_bundles: dict[str, CertBundle], tls_raw_server: TLSServerFactory
) -> None:
    for name in ("good", "ip_san"):
        bundle = cert_bundles[name]
        assert bundle.expected_error is None
        _handshake(tls_raw_server(bundle), bundle)


def test_ip_san_v6_verifies(ip_san_v6_cert: CertBundle, tls_raw_server: TLSServerFactory) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("IPv6 loopback (::1) is not available on this machine")
    server = tls_raw_server(ip_san_v6_cert)
    assert server.url.startswith("https://[::1]:")
    _handshake(server, ip_san_v6_cert)


def test_cn_only_certificate_has_no_san(
    cn_only_cert: CertBundle, ca: Any, tls_raw_server: TLSServerFactory
) -> None:
    cert = x509.load_pem_x509_certificate(cn_only_cert.cert_file.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "localhost"
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    issuer = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    cert.verify_directly_issued_by(issuer)  # the chain itself is fine: only the name check fails
    server = tls_raw_server(cn_only_cert)
    lenient = cn_only_cert.client_context(common_name_fallback=True)  # Python's default still reads the CN
    with socket.create_connection(server.address, timeout=10) as raw:
        with lenient.wrap_socket(raw, server_hostname="localhost") as sock:
            assert sock.version() is not None


# -- nginx ---------------------------------------------------------------------------------------------------


@pytest.mark.network_tools
def test_nginx_http_and_gzip(nginx: NginxServer) -> None:
    base = type("Base", (), {"host": "127.0.0.1", "port": nginx.http_port})
    plain = get(base, "/data.json")
    assert plain.status == 200
    assert plain.body == nginx.files["/data.json"]
    assert plain.headers["Content-Type"] == "application/json"
    zipped = get(base, "/data.json", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == nginx.files["/data.json"]
    ranged = get(base, "/large.bin", headers={"Range": "bytes=10-19"})
    assert ranged.status == 206
    assert ranged.body == nginx.files["/large.bin"][10:20]
    assert get(base, "/missing").status == 404


@pytest.mark.network_tools
def test_nginx_https_h2_and_http11(nginx: NginxServer) -> None:
    assert _alpn(nginx.https_port, nginx.ca_bundle, ["h2", "http/1.1"]) == "h2"
    status, _, body = h2_request("127.0.0.1", nginx.https_port, "/large.bin", nginx.ca_bundle)
    assert status == 200
    assert body == nginx.files["/large.bin"]
    base = type("Base", (), {"host": "127.0.0.1", "port": nginx.https_port, "scheme": "https"})
    context = ssl.create_default_context(cafile=nginx.ca_bundle)
    reply = get(base, "/index.html", context=context)
    assert reply.status == 200
    assert reply.body == nginx.files["/index.html"]
    curl = run_curl(
        "--http2",
        "--cacert",
        nginx.ca_bundle,
        "-o",
        "/dev/null",
        "-w",
        "%{http_version}",
        f"https://localhost:{nginx.https_port}/data.json",
    )
    assert curl.stdout == "2", curl.stderr


def test_the_hosts_server_ignores_only_asyncios_wakeup_race_in_a_transports_del() -> None:
    """The hook the ``hosts`` fixture installs drops the TypeError asyncio's Server._wakeup raises from a
    half-made transport's __del__, in 3.11-3.13's shape (the object is the __del__) and 3.14's (the object
    is None, err_msg names the __del__); any other unraisable exception reaches the previous hook."""
    from types import SimpleNamespace

    from servers.hosts import _ignoring_half_made_transports

    def _wakeup() -> None:
        raise TypeError("'NoneType' object is not iterable")

    def elsewhere() -> None:
        raise TypeError("'NoneType' object is not iterable")

    def raised(function: Any) -> TypeError:
        try:
            function()
        except TypeError as exc:
            return exc
        raise AssertionError("not raised")

    passed_on: list[Any] = []
    hook = _ignoring_half_made_transports(passed_on.append)
    deallocator = "<function _SelectorTransport.__del__ at 0x7f>"
    up_to_313 = SimpleNamespace(exc_value=raised(_wakeup), object=deallocator, err_msg=None)
    since_314 = SimpleNamespace(
        exc_value=raised(_wakeup),
        object=None,
        err_msg=f"Exception ignored while calling deallocator {deallocator}",
    )
    for args in (up_to_313, since_314):
        args.exc_traceback = args.exc_value.__traceback__
        hook(args)  # type: ignore[arg-type]
    assert passed_on == []
    other_place = SimpleNamespace(exc_value=raised(elsewhere), object=deallocator, err_msg=None)
    other_object = SimpleNamespace(exc_value=raised(_wakeup), object="<function Other.__del__>", err_msg=None)
    other_error = SimpleNamespace(exc_value=ValueError("x"), object=deallocator, err_msg=None)
    for args in (other_place, other_object, other_error):
        args.exc_traceback = args.exc_value.__traceback__
        hook(args)  # type: ignore[arg-type]
    assert passed_on == [other_place, other_object, other_error]
