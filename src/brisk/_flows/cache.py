"""The cache's step of the request flow: where ``Send`` would go, look in the session's ``brisk.Cache``
first, validate a stale response, store a new one as its body is read, invalidate after unsafe methods.

The decisions are ``brisk._cache.policy``'s; this step only applies them to a request and a response, the
same for sync and async (the store is local: its calls are plain calls, as cookie-jar calls are). A session
without ``cache=`` never runs this module (``_send_with_retries`` checks ``s.cache`` once).

``response.cache_status`` says what happened: ``"hit"`` (served fresh from the cache, no I/O), ``"stale"``
(served stale as the request's ``max-stale`` allowed, or ``stale-if-error`` when the server failed),
``"revalidated"`` (the server answered 304: the stored body was served), ``"miss"`` (from the network;
stored if the policy allows once its body is read), ``"only-if-cached"`` (a 504 made by the cache for an
``only-if-cached`` request it could not answer), and ``"bypass"`` (not looked up: a method or a request
the cache does not serve, such as a GET with a body).
"""

from __future__ import annotations

import time
from collections.abc import Generator

from brisk._cache import policy
from brisk._cache.control import Directives, parse_cache_control
from brisk._cache.tee import ChunksStream, tee
from brisk._core.streams import ByteStream
from brisk._flows import Drain, Send, Sleep
from brisk._transport.base import Timings
from brisk.exceptions import RequestException
from brisk.models import Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._cache.store import Cache
    from brisk._flows import Effect
    from brisk._session.ratelimit import RateLimit
    from brisk._transport.base import SendOptions
    from brisk.models import PreparedRequest

__all__ = ["cached_send", "fresh_hit"]

LOOKUPS = 4

#: A request with one of these is the user's own conditional or partial request: sent as it is.
_USER_CONDITIONS = frozenset(
    (
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "if-range",
        "range",
    )
)


def cached_send(
    request: PreparedRequest, options: SendOptions, cache: Cache, rate_limit: RateLimit | None = None
) -> Generator[Effect, Any, Response]:
    method = request.method or "GET"
    url = request.url or ""
    if "#" in url:
        url = url.split("#", 1)[0]
    headers = request.headers
    if method not in ("GET", "HEAD"):
        response: Response = yield from _send(request, options, rate_limit)
        if method not in policy.SAFE_METHODS:
            targets = policy.invalidation_targets(
                url, response.status_code, _first(response, "location"), _first(response, "content-location")
            )
            if targets:
                cache.invalidate(*targets)
        response.cache_status = "bypass"
        return response
    fields = headers._store  # lower-case name -> (name, value): one set test for the common request
    request_cc = (
        policy.request_directives(headers.get_list("cache-control")) if "cache-control" in fields else {}
    )
    # (a GET with a body, as search APIs send, is not keyed by it: one query's answer would answer all)
    if "no-store" in request_cc or not _USER_CONDITIONS.isdisjoint(fields) or request.body is not None:
        response = yield from _send(request, options, rate_limit)
        response.cache_status = "bypass"
        return response
    started = time.perf_counter()
    now = time.time()
    entry = cache.lookup(url, headers)
    # Another thread may store a newer response between the lookup and the body's read (the old body is
    # then gone): the newer one is looked at in its place, a few times, before going to the network.
    for _ in range(LOOKUPS):
        if entry is None:
            break
        verdict, age = policy.verdict(entry, request_cc, now)
        if verdict is policy.VALIDATE:
            break
        hit = _from_entry(cache, entry, request, age, "hit" if verdict is policy.FRESH else "stale")
        if hit is not None:
            return _timed(hit, started)
        entry = cache.lookup(url, headers)
    if "only-if-cached" in request_cc:
        return _gateway_timeout(request)
    sent = request
    if entry is not None:
        validators = policy.conditional_headers(entry)
        if validators:
            sent = request.copy()
            for name, value in validators:
                sent.headers[name] = value
    request_time = time.time()
    try:
        response = yield from _send(sent, options, rate_limit)
    except RequestException:
        # stale-if-error (RFC 5861): the server allowed this stale response when it cannot be reached
        if entry is not None and policy.stale_if_error(entry, request_cc, time.time()):
            hit = _from_entry(cache, entry, request, policy.current_age(entry, time.time()), "stale")
            if hit is not None:
                return hit
        raise
    response_time = time.time()
    if (
        entry is not None
        and response.status_code in policy.ERROR_STATUSES
        and policy.stale_if_error(entry, request_cc, response_time)
    ):
        yield Drain(response)
        hit = _from_entry(cache, entry, request, policy.current_age(entry, response_time), "stale")
        if hit is not None:
            return hit
    if response.status_code == 304 and entry is not None:
        pairs = list(response.headers.multi_items())
        yield Drain(response)
        if policy.validates(entry, pairs):
            hit = _refreshed(cache, entry, request, pairs, request_time, response_time, response)
            if hit is not None:
                return hit
        # A 304 about another response, or about one no longer stored (evicted or cleared meanwhile):
        # it answers a question the user never asked. Ask again, unconditionally (RFC 9111 §4.3.3).
        entry = None
        request_time = time.time()
        response = yield from _send(request, options, rate_limit)
        response_time = time.time()
    if method == "HEAD" and entry is not None and response.status_code == 200:
        # RFC 9111 §4.3.5: a 200 to HEAD about the stored response freshens it, and the merged head answers
        pairs = list(response.headers.multi_items())
        if policy.head_freshens(entry, pairs):
            hit = _refreshed(cache, entry, request, pairs, request_time, response_time, response)
            if hit is not None:
                yield Drain(response)
                return hit
    response.cache_status = "miss"
    if method == "GET":
        _store_when_read(cache, request, response, request_cc, request_time, response_time, url, options)
    return response


def _refreshed(
    cache: Cache,
    entry: policy.Entry,
    request: PreparedRequest,
    pairs: list[tuple[str, str]],
    request_time: float,
    response_time: float,
    validation: Response,
) -> Response | None:
    """The stored ``entry`` with the header fields of the ``validation`` that confirmed it (a 304, or a 200
    to HEAD) merged in, stored and served as "revalidated" with that exchange's timings; None when it is
    no longer stored (evicted, or replaced meanwhile)."""
    merged = policy.merge_304(entry, pairs, request_time, response_time)
    if not cache.refresh(merged, entry):
        return None
    age = policy.current_age(merged, time.time())
    hit = _from_entry(cache, merged, request, age, "revalidated", _set_cookies(pairs))
    if hit is not None:
        hit.timings = validation.timings
    return hit


def _send(
    request: PreparedRequest, options: SendOptions, rate_limit: RateLimit | None
) -> Generator[Effect, Any, Any]:
    """Send, after the session's rate limit (only requests that reach the network spend a token)."""
    if rate_limit is not None:
        url = request._url
        assert url is not None
        wait = rate_limit.reserve(url.origin)
        if wait > 0:
            yield Sleep(wait)
    return (yield Send(request, options))


def _first(response: Response, name: str) -> str | None:
    values = response._header_values(name)
    return values[0] if values else None


def _store_when_read(
    cache: Cache,
    request: PreparedRequest,
    response: Response,
    request_cc: Directives,
    request_time: float,
    response_time: float,
    url: str,
    options: SendOptions,
) -> None:
    """If the policy allows, store ``response`` once its body has been read to the end. A response that
    came over TLS without verification (``verify=False``) is not stored: it would answer requests that
    verify, as a connection made that way never may (requests CVE-2024-35195). A client certificate
    (``cert=``) is a credential as ``Authorization`` is: what it fetched is stored only where RFC 9111
    section 3.5 lets a shared answer be (``public``, ``s-maxage``, ``must-revalidate``), so a request
    without the certificate is not answered with what only the certificate's holder may see."""
    if options.config.verify is False and url[:6].lower() == "https:":
        return
    response_headers = response.headers
    response_cc = parse_cache_control(response_headers.get_list("cache-control"))
    authorized = "authorization" in request.headers or options.config.cert is not None
    if not policy.storable(
        "GET", response.status_code, response_cc, request_cc, response_headers, authorized
    ):
        return
    entry = policy.Entry(
        url,
        response.status_code,
        response.reason,
        response.http_version,
        policy.stored_headers(response_headers.multi_items()),
        policy.vary_key(response_headers.get_list("vary"), request.headers),
        request_time,
        response_time,
    )
    stream = response._stream
    if stream is None:
        return
    response._stream = tee(stream, cache.writer(entry))


def _set_cookies(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The ``Set-Cookie`` fields of a response that validated a stored one: never stored (see
    ``policy.NOT_STORED``), but the session's jar takes them from the response served in its place."""
    return [(name, value) for name, value in pairs if name.lower() == "set-cookie"]


def fresh_hit(request: PreparedRequest, cache: Cache) -> Response | None:
    """The common hit, answered without the flow's steps (``_cache_hit`` asks first): a GET or HEAD
    without a body, Cache-Control or conditions of its own, and a fresh stored response for it. None for
    anything else: then ``cached_send`` decides, as for every request (and looks it up again)."""
    if request.method not in ("GET", "HEAD", None) or request.body is not None:
        return None
    headers = request.headers
    fields = headers._store
    if "cache-control" in fields or not _USER_CONDITIONS.isdisjoint(fields):
        return None
    url = request.url or ""
    if "#" in url:
        url = url.split("#", 1)[0]
    started = time.perf_counter()
    entry = cache.lookup(url, headers)
    if entry is None:
        return None
    verdict, age = policy.verdict(entry, {}, time.time())
    if verdict is not policy.FRESH:
        return None
    hit = _from_entry(cache, entry, request, age, "hit")
    return None if hit is None else _timed(hit, started)


def _timed(hit: Response, started: float) -> Response:
    """``hit`` with its Timings: the time the cache took to answer, from ``started`` (perf_counter)."""
    timings = hit.timings = Timings(started)
    timings.total = timings.first_byte = time.perf_counter() - started
    return hit


def _from_entry(
    cache: Cache,
    entry: policy.Entry,
    request: PreparedRequest,
    age: float,
    status: str,
    extra: list[tuple[str, str]] | None = None,
) -> Response | None:
    """A Response made from a stored entry, with its ``Age`` (and ``extra`` fields of the exchange that
    validated it); None if the body went meanwhile (evicted)."""
    body = cache.body(entry)
    if body is None:
        return None
    facts = entry.facts()
    headers = [*facts.served, ("Age", policy.age_header(age))]
    missing = facts.missing
    if extra:
        headers.extend(extra)
        missing = frozenset()  # (the exchange's fields may be among them)
    stream: ByteStream | ChunksStream
    if request.method == "HEAD":
        stream = ByteStream(b"")
    else:
        stream = ByteStream(body) if isinstance(body, bytes) else ChunksStream(body)
    response = Response._from_transport(
        entry.status, entry.reason, entry.http_version, headers, stream, request, None, None, missing
    )
    response.url = entry.url
    response.from_cache = True
    response.cache_status = status
    return response


def _gateway_timeout(request: PreparedRequest) -> Response:
    """RFC 9111 §5.2.1.7: an ``only-if-cached`` request the cache cannot answer gets a 504."""
    response = Response._from_transport(
        504, "Gateway Timeout", "HTTP/1.1", [("Content-Length", "0")], ByteStream(b""), request, None
    )
    response.cache_status = "only-if-cached"
    return response
