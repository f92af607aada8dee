"""Helpers shared by the sync and async transports: time budgets, wire headers, error context."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING, Any

from brisk._transport.base import PRIOR_KNOWLEDGE
from brisk.exceptions import RequestException

if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._request.body import RequestBody
    from brisk._transport.base import ConnectionConfig, SendOptions
    from brisk.models import PreparedRequest

__all__ = [
    "add_url_context",
    "budget",
    "cleartext_h2",
    "literal_address",
    "may_multiplex",
    "method_of",
    "origin_of",
    "request_body",
    "request_line_and_headers",
    "timeout_message",
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


def budget(
    phase: float | None, deadline: float | None, error: type[RequestException], doing: str
) -> float | None:
    """Seconds the next blocking step may take: the phase timeout, cut short by the total deadline.

    Raises ``error`` when the deadline has already passed.
    """
    if deadline is None:
        return phase
    left = deadline - time.monotonic()
    if left <= 0:
        raise error(f"the total deadline passed while {doing} (Timeout.total)")
    return left if phase is None or left < phase else phase


def timeout_message(doing: str, phase: float | None, options: SendOptions) -> str:
    """Why a timed-out step timed out: its own timeout, or the total deadline."""
    deadline = options.deadline
    if deadline is not None and time.monotonic() >= deadline - 0.001:
        return f"the total deadline of {options.timeout.total}s passed while {doing} (Timeout.total)"
    return f"{doing} timed out after {phase}s"


def literal_address(host: str, port: int) -> list[tuple[Any, ...]] | None:
    """What ``getaddrinfo`` would answer for an IP literal, without asking it: no resolver to wait for (an
    executor round trip in asyncio), and on Python 3.11 no IDNA codec to import for a str host (~1 ms of a
    command-line GET). None for a host name, which is resolved as usual. An IPv6 zone (``fe80::1%eth0``)
    is kept for ``connect()``, which understands it."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host.partition("%")[0])
        except OSError:
            continue
        address: tuple[Any, ...] = (host, port) if family == socket.AF_INET else (host, port, 0, 0)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)]
    return None


def may_multiplex(config: ConnectionConfig, url: URL) -> bool:
    """Can a connection for this request be HTTP/2 (so other requests could share it)?"""
    http2 = config.http2
    if not http2:
        return False
    return url.scheme == "https" or (http2 == PRIOR_KNOWLEDGE and cleartext_h2(config, url))


def cleartext_h2(config: ConnectionConfig, url: URL) -> bool:
    """Speak HTTP/2 over plain http from the first byte? Only when asked for (``http2="prior-knowledge"``)
    and never to a forwarding proxy, which takes absolute-form HTTP/1.1 requests."""
    if config.http2 != PRIOR_KNOWLEDGE or url.scheme != "http":
        return False
    if config.proxy is None:
        return True
    from brisk._transport._proxy import is_forwarding

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
    if "host" not in headers._store:
        pairs.insert(0, ("Host", url.host_header))
    if config.proxy is None:
        return url.target, pairs
    from brisk._transport._proxy import forward_headers, is_forwarding

    if not is_forwarding(config, url):  # in a tunnel: Proxy-Authorization is for the proxy alone
        return url.target, _without_proxy_authorization(pairs)
    extra = forward_headers(config)
    if "proxy-authorization" in headers._store:  # the request's own credentials for the proxy win
        extra = _without_proxy_authorization(extra)
    return str(url.without_auth().without_fragment()), pairs + extra


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


def add_url_context(exc: RequestException, url: URL, request: PreparedRequest | None) -> RequestException:
    """Append the method and URL (never its credentials) to an exception's message, once."""
    if getattr(exc, "_brisk_context", False):
        return exc
    exc._brisk_context = True  # type: ignore[attr-defined]
    where = f"{request.method} {url.without_auth()}" if request is not None else str(url.without_auth())
    if exc.args:
        exc.args = (f"{exc.args[0]} ({where})", *exc.args[1:])
    else:
        exc.args = (where,)
    if exc.request is None:
        exc.request = request
    return exc
