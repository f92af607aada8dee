"""``brisk._transport.wire``: the request as it goes on the wire, built from a prepared request without a
socket: the request-target (origin-form, or absolute-form to a forwarding proxy), the headers (Host first,
Proxy-Authorization only for a proxy that forwards), the head's bytes, the body in a sendable form, and
whether a connection may speak HTTP/2."""

from __future__ import annotations

import io
from base64 import b64encode

import pytest

import brisk
from brisk._request.body import RequestBody
from brisk._transport.base import PRIOR_KNOWLEDGE, ConnectionConfig, SendOptions
from brisk._transport.wire import (
    cleartext_h2,
    h2_headers,
    may_multiplex,
    method_of,
    origin_of,
    request_body,
    request_head,
    request_line_and_headers,
)
from brisk.exceptions import InvalidHeader, InvalidMethod
from brisk.models import PreparedRequest

PROXY = "http://alice:s%40cret@proxy.example:3128"
PROXY_CREDENTIALS = "Basic " + b64encode(b"alice:s@cret").decode("ascii")  # the password, percent-decoded


def prepare(method: str, url: str, **kwargs: object) -> PreparedRequest:
    return brisk.Request(method, url, **kwargs).prepare()  # type: ignore[arg-type]


def wire(
    request: PreparedRequest, proxy: str | None = None, **config: object
) -> tuple[str, list[tuple[str, str]]]:
    assert request._url is not None
    options = SendOptions(config=ConnectionConfig(proxy=proxy, **config))  # type: ignore[arg-type]
    return request_line_and_headers(request, request._url, options)


def names(headers: list[tuple[str, str]]) -> list[str]:
    return [name.lower() for name, _ in headers]


# no proxy: origin-form, Host first


def test_a_direct_request_uses_origin_form_with_host_first() -> None:
    request = prepare("GET", "http://example.com/a/b?q=1&r=2#section", headers={"Accept": "text/plain"})
    target, headers = wire(request)
    assert target == "/a/b?q=1&r=2", "path and query; the fragment never leaves the client"
    assert headers == [("Host", "example.com"), ("Accept", "text/plain")]


def test_an_empty_path_is_sent_as_slash() -> None:
    assert wire(prepare("GET", "https://example.com"))[0] == "/"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://example.com:8080/", "example.com:8080"),
        ("http://example.com:80/", "example.com"),  # the scheme's default port is left out
        ("https://example.com:443/", "example.com"),
        ("https://example.com:80/", "example.com:80"),  # http's default is not https's
        ("http://[2001:db8::1]:8080/", "[2001:db8::1]:8080"),
    ],
)
def test_the_host_header_names_the_port_unless_it_is_the_default(url: str, host: str) -> None:
    assert wire(prepare("GET", url))[1][0] == ("Host", host)


def test_a_host_header_set_by_the_caller_is_sent_once_where_it_was_set() -> None:
    request = prepare("GET", "http://192.0.2.1/", headers={"Accept": "*/*", "HOST": "virtual.example"})
    _, headers = wire(request)
    assert headers == [("Accept", "*/*"), ("HOST", "virtual.example")]


def test_without_a_proxy_the_callers_proxy_authorization_is_left_alone() -> None:
    request = prepare("GET", "http://example.com/", headers={"Proxy-Authorization": "Basic eA=="})
    assert ("Proxy-Authorization", "Basic eA==") in wire(request)[1]


# a plain-http request through an http proxy: absolute-form, with the proxy's credentials


def test_a_forwarded_request_uses_the_absolute_url_without_credentials_or_fragment() -> None:
    request = prepare("GET", "http://user:pw@example.com:8080/a?q=1#frag")
    target, headers = wire(request, PROXY)
    assert target == "http://example.com:8080/a?q=1"
    assert headers[0] == ("Host", "example.com:8080"), "Host names the origin, not the proxy"
    assert ("Authorization", "Basic " + b64encode(b"user:pw").decode()) in headers, "for the origin"


def test_a_forwarded_request_carries_the_proxys_credentials_last() -> None:
    request = prepare("GET", "http://example.com/", headers={"Accept": "*/*"})
    _, headers = wire(request, PROXY)
    assert headers == [("Host", "example.com"), ("Accept", "*/*"), ("Proxy-Authorization", PROXY_CREDENTIALS)]


def test_a_proxy_without_credentials_gets_no_proxy_authorization() -> None:
    _, headers = wire(prepare("GET", "http://example.com/"), "http://proxy.example:3128")
    assert "proxy-authorization" not in names(headers)


def test_a_forwarded_request_carries_the_proxy_headers() -> None:
    proxy_headers = (("Proxy-Authorization", "Bearer from-HTTPProxyAuth"), ("X-Proxy-Note", "1"))
    _, headers = wire(prepare("GET", "http://example.com/"), PROXY, proxy_headers=proxy_headers)
    assert headers[1:] == list(proxy_headers), "the proxy headers' own credentials win over the URL's"


def test_the_requests_own_proxy_authorization_wins_over_the_proxy_urls() -> None:
    request = prepare("GET", "http://example.com/", headers={"Proxy-Authorization": "Basic b3du"})
    _, headers = wire(request, PROXY)
    assert [value for name, value in headers if name.lower() == "proxy-authorization"] == ["Basic b3du"]


# inside a tunnel (https through an http proxy, anything through SOCKS): origin-form, no proxy credentials


@pytest.mark.parametrize(
    ("url", "proxy"),
    [
        ("https://example.com/a?q=1", PROXY),  # CONNECT tunnel
        ("http://example.com/a?q=1", "socks5://alice:pw@proxy.example:1080"),
        ("https://example.com/a?q=1", "socks5h://proxy.example"),
    ],
)
def test_a_tunnelled_request_uses_origin_form_and_never_carries_proxy_authorization(
    url: str, proxy: str
) -> None:
    request = prepare("GET", url, headers={"Proxy-Authorization": "Basic c2VjcmV0", "Accept": "*/*"})
    target, headers = wire(request, proxy, proxy_headers=(("Proxy-Authorization", "Basic eA=="),))
    assert target == "/a?q=1"
    assert headers == [("Host", "example.com"), ("Accept", "*/*")]


def test_h2_headers_drop_proxy_authorization_only_through_a_proxy() -> None:
    request = prepare("GET", "https://example.com/", headers={"Proxy-Authorization": "Basic eA==", "A": "1"})
    assert h2_headers(request, SendOptions()) == [("Proxy-Authorization", "Basic eA=="), ("A", "1")]
    assert h2_headers(request, SendOptions(config=ConnectionConfig(proxy=PROXY))) == [("A", "1")]


# the head as bytes: method, target, framing headers


def test_the_head_of_a_request_with_a_body_in_memory_has_a_content_length() -> None:
    request = prepare("POST", "http://example.com/upload", data=b"hello")
    assert request._url is not None
    head = request_head(request, request._url, SendOptions())
    assert head == b"POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\n"


def test_the_head_of_a_request_streaming_a_body_of_unknown_size_is_chunked() -> None:
    request = prepare("POST", "http://example.com/upload", data=iter([b"he", b"llo"]))
    assert request._url is not None
    head = request_head(request, request._url, SendOptions())
    assert head == b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = request_body(request)
    assert isinstance(body, RequestBody)
    assert body.content_length is None, "the transports send a body without a length in chunks"


def test_a_file_of_known_size_is_streamed_with_a_content_length() -> None:
    request = prepare("PUT", "http://example.com/f", data=io.BytesIO(b"12345678"))
    assert request.headers.pairs() == [("Content-Length", "8")]
    body = request_body(request)
    assert isinstance(body, RequestBody)
    assert body.content_length == 8


def test_a_forwarded_head_carries_the_absolute_target() -> None:
    request = prepare("GET", "http://example.com/x")
    assert request._url is not None
    head = request_head(request, request._url, SendOptions(config=ConnectionConfig(proxy=PROXY)))
    assert head == (
        b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n"
        + f"Proxy-Authorization: {PROXY_CREDENTIALS}\r\n\r\n".encode()
    )


def test_a_method_of_none_is_sent_as_get() -> None:
    request = prepare("GET", "http://example.com/")
    request.method = None
    assert method_of(request) == "GET"
    assert request._url is not None
    assert request_head(request, request._url, SendOptions()).startswith(b"GET / HTTP/1.1\r\n")


def test_an_empty_method_is_refused_not_defaulted() -> None:
    request = prepare("GET", "http://example.com/")
    request.method = ""
    assert method_of(request) == ""
    assert request._url is not None
    with pytest.raises(InvalidMethod):
        request_head(request, request._url, SendOptions())


def test_a_header_value_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    request = prepare("GET", "http://example.com/")
    request.headers["X-Note"] = "a\r\nInjected: 1"
    assert request._url is not None
    with pytest.raises(InvalidHeader, match="X-Note"):
        request_head(request, request._url, SendOptions())


# request_body


def body_of(value: object) -> object:
    request = prepare("POST", "http://example.com/")
    request.body = value  # type: ignore[assignment]
    return request_body(request)


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (None, None),
        (b"", None),  # nothing to send
        (b"raw", b"raw"),
        ("caf\u00e9", b"caf\xc3\xa9"),  # text goes as UTF-8
        (bytearray(b"ba"), b"ba"),
        (memoryview(b"mv"), b"mv"),
        ({"a": "b c"}, b"a=b+c"),  # a form set on the prepared request, encoded now
    ],
    ids=["none", "empty", "bytes", "str", "bytearray", "memoryview", "form"],
)
def test_the_body_is_made_sendable(value: object, sent: bytes | None) -> None:
    body = body_of(value)
    assert body == sent
    assert body is None or type(body) is bytes


def test_a_stream_body_is_passed_on_as_it_is() -> None:
    stream = prepare("POST", "http://example.com/", data=iter([b"x"])).body
    assert isinstance(stream, RequestBody)
    assert body_of(stream) is stream


# HTTP/2 or not


@pytest.mark.parametrize(
    ("url", "http2", "proxy", "multiplex", "cleartext"),
    [
        ("https://example.com/", True, None, True, False),  # negotiated by ALPN, not cleartext
        ("https://example.com/", False, None, False, False),
        ("http://example.com/", True, None, False, False),  # plain http: HTTP/1.1 unless asked for
        ("http://example.com/", PRIOR_KNOWLEDGE, None, True, True),
        ("http://example.com/", PRIOR_KNOWLEDGE, PROXY, False, False),  # the proxy forwards HTTP/1.1
        ("http://example.com/", PRIOR_KNOWLEDGE, "socks5://proxy.example", True, True),  # a tunnel
        ("https://example.com/", PRIOR_KNOWLEDGE, PROXY, True, False),  # CONNECT, then ALPN
    ],
)
def test_which_connections_may_speak_http2(
    url: str, http2: bool | str, proxy: str | None, multiplex: bool, cleartext: bool
) -> None:
    config = ConnectionConfig(http2=http2, proxy=proxy)
    parsed = prepare("GET", url)._url
    assert parsed is not None
    assert may_multiplex(config, parsed) is multiplex
    assert cleartext_h2(config, parsed) is cleartext


def test_origin_of_a_pool_key_leaves_out_its_settings() -> None:
    key = ("https", "example.com", 443, ConnectionConfig(proxy="http://alice:hunter2@proxy.example"))
    assert origin_of(key) == "https://example.com:443"
    assert origin_of("not a key") == "?"
