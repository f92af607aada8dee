"""RFC 9111 for a private (client) cache, as pure functions of headers and clocks: no I/O, no store.

What may be stored (§3), how long it stays fresh (§4.2.1, heuristics §4.2.2), how old it is (§4.2.3),
whether a stored response may answer a request (§4.2, §5.2.1 request directives), the conditional request
that validates it (§4.3.1), how a 304 updates it (§3.2, §4.3.4) and what an unsafe method invalidates
(§4.4). ``brisk._flows.cache`` runs these decisions around the send; ``brisk._cache.store`` keeps entries.

Choices a private cache may make, made here:

- Only ``GET`` responses are stored; ``HEAD`` is answered from a stored ``GET`` (§4.3.5's spirit).
- A request carrying ``Authorization`` has its response stored only when the response says it may be
  shared (``public``, ``s-maxage``, ``must-revalidate``), as §3.5 asks of shared caches: a ``brisk.Cache``
  file may be shared by several processes and users, so brisk applies the stricter rule everywhere.
- ``Set-Cookie`` is never stored: a hit must not put one user's cookie into another session's jar.
- Heuristic freshness is 10% of the time since ``Last-Modified``, at most a week (for heuristically
  cacheable statuses, and responses marked ``public``).
- ``stale-while-revalidate`` is not acted on: a stale response is validated before it is served.
  ``stale-if-error=N`` (RFC 5861, in the response or the request) serves it stale, at most N seconds
  past its freshness, when the validation fails with a 500, 502, 503, 504 or no answer at all; without
  it a failed validation is the error it was.
- ``private`` responses are stored (this is a private cache); ``s-maxage`` and ``proxy-revalidate`` are
  for shared caches and do not change freshness here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from brisk._cache.control import Directives, age_seconds, delta_seconds, parse_cache_control, parse_http_date

__all__ = [
    "FRESH",
    "STALE_OK",
    "VALIDATE",
    "Entry",
    "age_header",
    "conditional_headers",
    "current_age",
    "freshness_lifetime",
    "head_freshens",
    "invalidation_targets",
    "merge_304",
    "request_directives",
    "serving_headers",
    "stale_if_error",
    "storable",
    "vary_key",
    "vary_matches",
    "verdict",
]

#: Statuses a cache may store and reuse with heuristic freshness (RFC 9110 §15.1, RFC 9111 §4.2.2).
HEURISTIC_STATUSES = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
#: Statuses whose meaning brisk knows (RFC 9110), for ``must-understand`` (RFC 9111 §5.2.2.3).
UNDERSTOOD_STATUSES = frozenset({
    200, 201, 202, 203, 204, 300, 301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 406, 409, 410, 411, 412,
    413, 414, 415, 416, 417, 421, 422, 426, 500, 501, 502, 503, 504, 505,
})  # fmt: skip
HEURISTIC_FRACTION = 0.1
HEURISTIC_MAX = 7 * 24 * 3600.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Fields never stored: hop-by-hop (RFC 9110 §7.6.1), framing the store redoes, and cookies (see above).
NOT_STORED = frozenset({
    "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "trailer",
    "proxy-authenticate", "proxy-authorization", "set-cookie", "set-cookie2",
})  # fmt: skip
#: Fields a 304 does not replace in the stored response (RFC 9111 §3.2).
NOT_UPDATED = (
    frozenset({"content-length", "content-encoding", "transfer-encoding", "content-range"}) | NOT_STORED
)


class _Lookup(Protocol):
    """What the policy needs of a set of headers: ``get(lower_name)`` (a Headers, a dict)."""

    def get(self, key: str, /) -> str | None: ...


FRESH = "fresh"
STALE_OK = "stale"  # stale, but the request's max-stale accepts it
VALIDATE = "validate"


class Entry:
    """A stored response's head and the facts its age and reuse are computed from (the body is the
    store's). ``vary`` holds the request's value of each field the response's ``Vary`` names."""

    __slots__ = (
        "_facts", "headers", "http_version", "key", "reason", "request_time", "response_time", "size",
        "status", "url", "vary",
    )  # fmt: skip

    def __init__(
        self,
        url: str,
        status: int,
        reason: str,
        http_version: str,
        headers: list[tuple[str, str]],
        vary: tuple[tuple[str, str | None], ...],
        request_time: float,
        response_time: float,
        size: int = 0,
        key: Any = None,
    ) -> None:
        self.url = url
        self.status = status
        self.reason = reason
        self.http_version = http_version
        self.headers = headers
        self.vary = vary
        self.request_time = request_time
        self.response_time = response_time
        self.size = size  # the body's bytes
        self.key = key  # the store's own identifier
        self._facts: Facts | None = None

    def values(self, lower_name: str) -> list[str]:
        return [value for name, value in self.headers if name.lower() == lower_name]

    def first(self, lower_name: str) -> str | None:
        for name, value in self.headers:
            if name.lower() == lower_name:
                return value
        return None

    def directives(self) -> Directives:
        return self.facts().directives

    def facts(self) -> Facts:
        """What every reuse of this entry needs, worked out once (an entry's head never changes: a 304
        makes a new one)."""
        facts = self._facts
        if facts is None:
            facts = self._facts = Facts(self)
        return facts

    def __repr__(self) -> str:
        return f"<Entry {self.status} {self.url} vary={self.vary}>"


class Facts:
    """An entry's directives, freshness lifetime, age when received (RFC 9111 §4.2.3's
    corrected_initial_age), the fields a reuse serves (without ``Age``, with ``Content-Length``) and which
    of Set-Cookie and Content-Encoding those lack (``missing``)."""

    __slots__ = ("directives", "initial_age", "lifetime", "missing", "served")

    def __init__(self, entry: Entry) -> None:
        self.directives = directives = parse_cache_control(entry.values("cache-control"))
        self.lifetime = freshness_lifetime(entry, directives)
        date = parse_http_date(entry.first("date"))
        apparent = 0.0 if date is None else max(0.0, entry.response_time - date)
        age_value = age_seconds(entry.first("age")) or 0
        self.initial_age = max(apparent, age_value + (entry.response_time - entry.request_time))
        served = [
            (name, value) for name, value in serving_headers(entry, directives) if name.lower() != "age"
        ]
        if not any(name.lower() == "content-length" for name, _ in served):
            served.append(("Content-Length", str(entry.size)))
        self.served = served
        # Of the two fields every response is asked for (its cookies, its coding), those a reuse lacks: a
        # hit then skips the search, as a response read by the C accelerator does (Response._missing).
        present = {name.lower() for name, _ in served}
        self.missing = frozenset(name for name in ("set-cookie", "content-encoding") if name not in present)


def request_directives(values: list[str]) -> Directives:
    """A request's directives. (``Pragma`` is not read: RFC 9111 §5.4 deprecates it, and no longer asks
    a cache to take ``Pragma: no-cache`` as ``Cache-Control: no-cache``.)"""
    return parse_cache_control(values)


def storable(
    method: str,
    status: int,
    response_cc: Directives,
    request_cc: Directives,
    headers: _Lookup,
    authorized: bool,
) -> bool:
    """Whether a response may be stored (RFC 9111 §3). ``headers`` answers ``get(lower_name)``."""
    # Any final status but 206 (brisk assembles no ranges) and 304, with must-understand only for those
    # understood, which then overrides no-store (§3, §5.2.2.3).
    if method != "GET" or not 200 <= status <= 599 or status in (206, 304):
        return False
    if "must-understand" in response_cc:
        if status not in UNDERSTOOD_STATUSES:
            return False
    elif "no-store" in response_cc:
        return False
    if "no-store" in request_cc:
        return False
    vary = headers.get("vary")
    if vary is not None and "*" in vary:
        return False  # never matches a later request (§4.1)
    if authorized and not (
        "public" in response_cc or "s-maxage" in response_cc or "must-revalidate" in response_cc
    ):
        return False
    if (
        "max-age" in response_cc or "public" in response_cc or "private" in response_cc
        or "no-cache" in response_cc or headers.get("expires") is not None
    ):  # fmt: skip
        return True
    return status in HEURISTIC_STATUSES and headers.get("last-modified") is not None


def freshness_lifetime(entry: Entry, directives: Directives) -> float:
    """Seconds the response is fresh for, counted from its generation (RFC 9111 §4.2.1)."""
    if "max-age" in directives:
        seconds = delta_seconds(directives["max-age"])
        return 0.0 if seconds is None else float(seconds)
    expires_values = entry.values("expires")
    if expires_values:
        expires = parse_http_date(expires_values[0])
        if expires is None or len(expires_values) > 1:
            return 0.0
        date = parse_http_date(entry.first("date"))
        return max(0.0, expires - (entry.response_time if date is None else date))
    if entry.status in HEURISTIC_STATUSES or "public" in directives:  # §4.2.2: or marked cacheable
        modified = parse_http_date(entry.first("last-modified"))
        if modified is not None:
            date = parse_http_date(entry.first("date"))
            since = (entry.response_time if date is None else date) - modified
            return min(HEURISTIC_MAX, max(0.0, since * HEURISTIC_FRACTION))
    return 0.0


def current_age(entry: Entry, now: float) -> float:
    """The response's age now (RFC 9111 §4.2.3): its age when received, plus the time since."""
    return entry.facts().initial_age + max(0.0, now - entry.response_time)


def age_header(age: float) -> str:
    return str(min(int(age), 2**31))


def verdict(entry: Entry, request_cc: Directives, now: float) -> tuple[str, float]:
    """Whether ``entry`` may answer a request with directives ``request_cc`` as it is (FRESH), stale but
    accepted by the request's ``max-stale`` (STALE_OK), or only after validation (VALIDATE); with its age."""
    facts = entry.facts()
    response_cc = facts.directives
    age = facts.initial_age + max(0.0, now - entry.response_time)
    lifetime = facts.lifetime
    if not request_cc and age < lifetime and "no-cache" not in response_cc:
        return FRESH, age  # the common case, decided first
    # (a qualified no-cache="field, ..." reuses the response without those fields: serving_headers)
    if "no-cache" in request_cc or ("no-cache" in response_cc and not response_cc["no-cache"]):
        return VALIDATE, age
    if "max-age" in request_cc:
        limit = delta_seconds(request_cc["max-age"])
        if limit is None or age > limit:
            return VALIDATE, age
    if "min-fresh" in request_cc:
        wanted = delta_seconds(request_cc["min-fresh"])
        if wanted is None or lifetime - age < wanted:
            return VALIDATE, age
    if age < lifetime:
        return FRESH, age
    if "max-stale" in request_cc and "must-revalidate" not in response_cc:
        tolerance = request_cc["max-stale"]
        if tolerance is None:
            return STALE_OK, age
        allowed = delta_seconds(tolerance)
        if allowed is not None and age - lifetime <= allowed:
            return STALE_OK, age
    return VALIDATE, age


def serving_headers(entry: Entry, directives: Directives) -> list[tuple[str, str]]:
    """The stored fields a reused response carries: all but those a qualified ``no-cache="..."`` names,
    which may not be sent without validation (§5.2.2.4). (A qualified ``private`` limits only shared
    caches.)"""
    value = directives.get("no-cache")
    if not value:
        return entry.headers
    hidden = {field.strip().lower() for field in value.split(",") if field.strip()}
    return [(name, value) for name, value in entry.headers if name.lower() not in hidden]


#: The errors ``stale-if-error`` covers (RFC 5861 §4).
ERROR_STATUSES = frozenset({500, 502, 503, 504})


def stale_if_error(entry: Entry, request_cc: Directives, now: float) -> bool:
    """Whether a stale ``entry`` may answer in place of an error (a 5xx, or no answer at all) by the
    ``stale-if-error=N`` of its response or of the request (RFC 5861): stale by N seconds at most, and
    not ``must-revalidate`` nor ``no-cache``, which forbid serving it stale (RFC 9111 §4.2.4)."""
    facts = entry.facts()
    directives = facts.directives
    if "must-revalidate" in directives or ("no-cache" in directives and not directives["no-cache"]):
        return False
    allowed = [delta_seconds(cc.get("stale-if-error")) for cc in (directives, request_cc)]
    window = max((seconds for seconds in allowed if seconds is not None), default=None)
    if window is None:
        return False
    staleness = facts.initial_age + max(0.0, now - entry.response_time) - facts.lifetime
    return staleness <= window


def vary_key(vary_values: Iterable[str], request_header: _Lookup) -> tuple[tuple[str, str | None], ...]:
    """The secondary key: each field ``Vary`` names, with the request's value of it (normalised: a list's
    items trimmed and joined), sorted, so that two requests match when each such field matches."""
    names = sorted(
        {name.strip().lower() for value in vary_values for name in value.split(",") if name.strip()}
    )
    return tuple((name, _normalise(request_header.get(name))) for name in names)


def _normalise(value: str | None) -> str | None:
    if value is None:
        return None
    return ", ".join(part.strip() for part in value.split(",") if part.strip())


def vary_matches(entry: Entry, request_header: _Lookup) -> bool:
    return all(_normalise(request_header.get(name)) == value for name, value in entry.vary)


def conditional_headers(entry: Entry) -> list[tuple[str, str]]:
    """The validators of a stored response, as the headers of the request that validates it (§4.3.1)."""
    found = []
    etag = entry.first("etag")
    if etag is not None:
        found.append(("If-None-Match", etag))
    modified = entry.first("last-modified")
    if modified is not None:
        found.append(("If-Modified-Since", modified))
    return found


def validates(entry: Entry, not_modified: list[tuple[str, str]]) -> bool:
    """Whether a 304 is about ``entry`` (RFC 9111 §4.3.4): its strong or weak ETag matches the stored
    one, or, without ETags, the Last-Modified dates agree (or the 304 names neither)."""
    etag = next((value for name, value in not_modified if name.lower() == "etag"), None)
    if etag is not None:
        stored = entry.first("etag")
        return stored is not None and _opaque(stored) == _opaque(etag)
    modified = next((value for name, value in not_modified if name.lower() == "last-modified"), None)
    if modified is not None:
        return entry.first("last-modified") == modified
    return True


def head_freshens(entry: Entry, head: list[tuple[str, str]]) -> bool:
    """Whether a 200 to HEAD is about ``entry`` (RFC 9111 §4.3.5): its validators match as a 304's must,
    and it does not announce another length."""
    length = next((value for name, value in head if name.lower() == "content-length"), None)
    stored = entry.first("content-length")
    if length is not None and stored is not None and length.strip() != stored.strip():
        return False
    return validates(entry, head)


def _opaque(etag: str) -> str:
    etag = etag.strip()
    return etag[2:] if etag.startswith("W/") else etag


def merge_304(
    entry: Entry, not_modified: list[tuple[str, str]], request_time: float, response_time: float
) -> Entry:
    """``entry`` freshened by a 304: the 304's fields replace the stored ones of the same name, except
    framing (RFC 9111 §3.2); its clocks are the 304's."""
    replaced = {name.lower() for name, _ in not_modified if name.lower() not in NOT_UPDATED}
    headers = [(name, value) for name, value in entry.headers if name.lower() not in replaced]
    headers.extend((name, value) for name, value in not_modified if name.lower() in replaced)
    return Entry(
        entry.url, entry.status, entry.reason, entry.http_version, headers, entry.vary,
        request_time, response_time, entry.size, entry.key,
    )  # fmt: skip


def stored_headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The fields of a response a cache keeps: not hop-by-hop ones, nor those ``Connection`` names."""
    pairs = list(pairs)
    dropped = set(NOT_STORED)
    for name, value in pairs:
        if name.lower() == "connection":
            dropped.update(token.strip().lower() for token in value.split(","))
    return [(name, value) for name, value in pairs if name.lower() not in dropped]


def invalidation_targets(
    url: str, status: int, location: str | None, content_location: str | None
) -> list[str]:
    """What an unsafe method's non-error response invalidates (RFC 9111 §4.4): its target URL, and the
    URLs of ``Location`` and ``Content-Location`` when they are on the same origin."""
    if not 200 <= status < 400:
        return []
    from urllib.parse import urljoin, urlsplit

    targets = [url]
    origin = urlsplit(url)
    for value in (location, content_location):
        if value:
            joined = urljoin(url, value.strip()).split("#", 1)[0]
            other = urlsplit(joined)
            if (other.scheme, other.netloc.lower()) == (origin.scheme, origin.netloc.lower()):
                targets.append(joined)
    return targets
