"""The request as it goes on the wire, shared by both transports: the request-target and headers (through a
proxy too), the body in a sendable form, and whether the connection may speak HTTP/2."""

from __future__ import annotations

from brisk._core.url import UNIX_SCHEME
from brisk._protocol.http11 import encode_request_head
from brisk._transport.base import PRIOR_KNOWLEDGE
from brisk._transport.proxy import forward_headers, is_forwarding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._request.body import RequestBody
    from brisk._transport.base import ConnectionConfig, SendOptions
    from brisk.models import PreparedRequest

__all__ = [
    "cleartext_h2",
    "h2_headers",
    "may_multiplex",
    "method_of",
    "origin_of",
    "request_body",
    "request_head",
    "request_line_and_headers",
]


def method_of(request: PreparedRequest) -> str:
    """The request's method; None means GET (requests' default), an empty string stays invalid."""
    method = request.method
    return "GET" if method is None else method


def origin_of(key: object) -> str:
    """``scheme://host:port`` of a pool key, for logs (never the settings part: it may hold proxy secrets)."""
    if isinstance(key, tuple) and len(key) >= 3:
        return f"{key[0]}://{key[1]}:{key[2]}"
    return "?"


def may_multiplex(config: ConnectionConfig, url: URL) -> bool:
    """Can a connection for this request be HTTP/2 (so other requests could share it)?"""
    http2 = config.http2
    if not http2:
        return False
    return url.scheme == "https" or (http2 == PRIOR_KNOWLEDGE and cleartext_h2(config, url))


def cleartext_h2(config: ConnectionConfig, url: URL) -> bool:
    """Speak HTTP/2 over plain http from the first byte? Only when asked for (``http2="prior-knowledge"``)
    and never to a forwarding proxy, which takes absolute-form HTTP/1.1 requests."""
    if config.http2 != PRIOR_KNOWLEDGE or (url.scheme not in ("http", UNIX_SCHEME)):
        return False
    if config.proxy is None:
        return True
    return not is_forwarding(config, url)


def request_line_and_headers(
    request: PreparedRequest, url: URL, options: SendOptions
) -> tuple[str, list[tuple[str, str]]]:
    """The request-target and the headers as sent.

    Host comes first (unless the caller set one), then the request's headers in order. Through a proxy:
    a forwarded plain-http request uses the absolute URL and carries the proxy's credentials; a request
    inside a tunnel (CONNECT or SOCKS) never carries Proxy-Authorization, which is for the proxy alone.
    """
    config = options.config
    headers = request.headers
    pairs = headers.pairs()
    # (url._host_header and url._target: host_header and target, without a call each)
    if "host" not in headers._store:
        pairs.insert(0, ("Host", url._host_header))
    if config.proxy is None:
        return url._target, pairs
    if not is_forwarding(config, url):  # in a tunnel: Proxy-Authorization is for the proxy alone
        return url._target, _without_proxy_authorization(pairs)
    extra = forward_headers(config)
    if "proxy-authorization" in headers._store:  # the request's own credentials for the proxy win
        extra = _without_proxy_authorization(extra)
    return str(url.without_auth().without_fragment()), pairs + extra


def request_head(request: PreparedRequest, url: URL, options: SendOptions) -> bytes:
    """The HTTP/1.1 request head as sent. Serialising validates the request (no CR, LF or NUL anywhere)."""
    target, headers = request_line_and_headers(request, url, options)
    return encode_request_head(method_of(request), target, headers)


def h2_headers(request: PreparedRequest, options: SendOptions) -> list[tuple[str, str]]:
    """The request's headers for an HTTP/2 stream. Through a proxy, HTTP/2 only ever runs inside a tunnel
    (CONNECT or SOCKS: plain-http forwarding is HTTP/1.1), so Proxy-Authorization, which is for the proxy
    alone, is left out (requests CVE-2023-32681)."""
    pairs = request.headers.pairs()
    if options.config.proxy is None:
        return pairs
    return _without_proxy_authorization(pairs)


def _without_proxy_authorization(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [pair for pair in pairs if pair[0].lower() != "proxy-authorization"]


def request_body(request: PreparedRequest) -> bytes | RequestBody | None:
    """The body in a form a transport can send: bytes, a RequestBody stream, or None."""
    body = request.body
    if body is None or isinstance(body, bytes):
        return body or None
    if isinstance(body, str):
        return body.encode("utf-8")
    from brisk._request.body import RequestBody, encode_body

    if isinstance(body, RequestBody):
        return body
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    encoded, _ = encode_body(data=body)
    return encoded.encode("utf-8") if isinstance(encoded, str) else encoded
