"""Building the request: hostile methods, headers and URLs against a real socket, sync and async.

A refused request must fail before any byte is written — here, before a connection is even opened (the
raw server counts connections). Unsafe characters that URLs may carry are percent-encoded, never sent raw.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

import pytest

from brisk import Request
from brisk.exceptions import ConnectionError as BriskConnectionError
from brisk.exceptions import InvalidHeader, InvalidMethod, InvalidURL, MissingSchema
from servers.clients import Client
from servers.raw import RawConnection, http_response


@pytest.fixture
def network_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every name lookup and outgoing connect, sync or async (the async client resolves through
    ``socket.getaddrinfo`` in the loop's executor, and ``loop.sock_connect`` calls ``sock.connect``). Nothing
    leaves the process: names fail to resolve (IP literals resolve to themselves) and connects are refused."""
    calls: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(
        host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Any:
        calls.append("getaddrinfo")
        return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)

    def refuse(name: str) -> Any:
        def connect(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused by the test")

        return connect

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    return calls


def _ok_server(raw_server: Any) -> Any:
    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(200, b"ok"))

    return raw_server(handler)


@pytest.mark.parametrize(
    "method",
    ["GET\r\nX: y", "GET\n", "GE\x00T", "GET X", "GET\t", "G\x01T", "", "GET /evil HTTP/1.1\r\n\r\nGET"],
)
def test_injection_bad_method_refused_before_connecting(client: Client, raw_server: Any, method: str) -> None:
    srv = _ok_server(raw_server)
    with pytest.raises(InvalidMethod):
        client.request(method, srv.url + "/")
    assert srv.connection_count == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-A", "v\r\nInjected: 1"),
        ("X-A", "v\nInjected: 1"),
        ("X-A", "v\rInjected: 1"),
        ("X-A", "v\x00"),
        ("X-A", "v\x07"),
        ("X-A", b"v\r\nInjected: 1"),
        ("X-A\r\nInjected", "v"),
        ("X A", "v"),
        ("X:A", "v"),
        ("", "v"),
        ("X-\x00", "v"),
    ],
)
def test_injection_bad_header_refused_before_connecting(
    client: Client, raw_server: Any, name: str, value: str | bytes
) -> None:
    srv = _ok_server(raw_server)
    with pytest.raises(InvalidHeader):
        client.get(srv.url + "/", headers={name: value})
    assert srv.connection_count == 0


def test_injection_session_header_refused_too(client: Client, raw_server: Any) -> None:
    srv = _ok_server(raw_server)
    client.session.headers["X-Evil"] = "a\r\nHost: evil.example"
    with pytest.raises(InvalidHeader):
        client.get(srv.url + "/")
    assert srv.connection_count == 0


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        ("/a b", "/a%20b"),
        ("/a\r\nX-Injected: 1", "/a%0D%0AX-Injected:%201"),
        ("/q?x=a b&y=\r\nz", "/q?x=a%20b&y=%0D%0Az"),
        ("/a\x00b", "/a%00b"),
        ("/caf\u00e9", "/caf%C3%A9"),
    ],
)
def test_injection_crlf_space_in_path_and_query_are_encoded(
    client: Client, raw_server: Any, path: str, sent: str
) -> None:
    srv = _ok_server(raw_server)
    client.get(srv.url + path)
    (request,) = srv.requests
    assert request.target == sent
    assert b"\r\nX-Injected" not in request.raw


@pytest.mark.parametrize(
    "url",
    [
        "http://exa\x00mple.com/",
        "http://exa\rmple.com/",
        "http://exa mple.com/",
        "http://evil.com\\@good.com/",
        "http://good.com\\evil.com/",
        "http:////host/",
        "http:///path",
        "http://xn--a/",
        "http://host:99999/",
        "http://host:-1/",
        "http://host:8x/",
        "http://host:0/",
    ],
)
def test_injection_hostile_urls_refused(client: Client, network_calls: list[str], url: str) -> None:
    with pytest.raises(InvalidURL) as caught:
        client.get(url)
    assert isinstance(caught.value, ValueError)
    assert network_calls == []  # not even a name lookup


@pytest.mark.parametrize("host", ["brisk-recorder.test", "127.0.0.1"])
def test_injection_network_calls_are_recorded(client: Client, network_calls: list[str], host: str) -> None:
    """The recorder sees both clients' lookups and connects, or "no calls" above would prove nothing (an IP
    literal needs no lookup: both clients connect to it straight away)."""
    with pytest.raises(BriskConnectionError):
        client.get(f"http://{host}:9/")
    expected = {"connect"} if host == "127.0.0.1" else {"getaddrinfo"}
    assert set(network_calls) == expected


def test_only_ip_literals_skip_the_lookup() -> None:
    from brisk._transport.connect import literal_address

    assert literal_address("127.0.0.1", 80) == [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 80))
    ]
    assert literal_address("::1", 443) == [
        (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("::1", 443, 0, 0))
    ]
    v6_zone = literal_address("fe80::1%lo", 8080)
    assert v6_zone is not None
    assert v6_zone[0][4] == ("fe80::1%lo", 8080, 0, 0)
    # names, and the short forms inet_aton accepts but a URL's host should resolve like any name
    for host in ("localhost", "example.com", "127.1", "0x7f.0.0.1", "1.2.3.4.5", ""):
        assert literal_address(host, 80) is None, host


def test_injection_ten_thousand_at_signs_split_at_the_last_one(client: Client, raw_server: Any) -> None:
    srv = _ok_server(raw_server)
    client.get("http://" + "@" * 10_000 + f"127.0.0.1:{srv.port}/at")
    (request,) = srv.requests
    assert request.header("Host") == f"127.0.0.1:{srv.port}"
    assert request.target == "/at"


def test_injection_leading_zero_port_is_the_same_port(client: Client, raw_server: Any) -> None:
    srv = _ok_server(raw_server)
    response = client.get(f"http://127.0.0.1:000{srv.port}/zero")
    assert response.status_code == 200
    assert srv.requests[0].header("Host") == f"127.0.0.1:{srv.port}"


def test_injection_trailing_dot_host_is_kept(
    client: Client, raw_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = _ok_server(raw_server)
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == "localhost." else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    client.get(f"http://localhost.:{srv.port}/dot")
    assert srv.requests[0].header("Host") == f"localhost.:{srv.port}"


def test_injection_missing_scheme_is_missing_schema(client: Client) -> None:
    with pytest.raises(MissingSchema):
        client.get("example.com/path")


@pytest.mark.parametrize("value", [5, ["a", "b"], 1.5])
def test_injection_session_header_of_another_type_is_a_clear_error(
    client: Client, raw_server: Any, value: object
) -> None:
    # A session header is sent as it is, so a number or a list there must be refused by name, before
    # connecting, not fail deep inside as AttributeError.
    srv = _ok_server(raw_server)
    client.session.headers["X-Count"] = value
    with pytest.raises(InvalidHeader, match="X-Count"):
        client.get(srv.url + "/")
    assert srv.connection_count == 0


@pytest.mark.parametrize("value", [5, {"token": "s3cret"}, 1.5])
def test_injection_request_header_of_another_type_is_a_clear_error(
    client: Client, raw_server: Any, value: object
) -> None:
    """As in requests, a per-request header value must be str or bytes: the error names the header and the
    type, never the value (it may hold a credential), and nothing is sent."""
    srv = _ok_server(raw_server)
    with pytest.raises(InvalidHeader, match=r"X-Count.*not (int|dict|float)") as caught:
        client.get(srv.url + "/", headers={"X-Count": value})
    assert "s3cret" not in str(caught.value)
    assert f"(GET {srv.url}/)" in str(caught.value)  # which request it was
    with pytest.raises(InvalidHeader, match="X-Count"):
        Request("GET", srv.url + "/", headers={"X-Count": value}).prepare()
    assert srv.connection_count == 0
