"""brisk's cookie engine: the RFC 6265 storage model, the store a session fills, with no http.cookiejar in it.

:class:`CookieStore` holds the cookies and applies the rules:

* storage per RFC 6265 section 5.3 with the rfc6265bis amendments (the parser is
  :mod:`brisk._cookies.parse`): Secure only from https, "leave secure cookies alone",
  ``__Secure-``/``__Host-`` prefixes, the 400-day expiry cap; public suffixes refused (the bundled
  ``publicsuffixlist`` data, loaded lazily); IP hosts accept only their own address as Domain;
* retrieval per 5.4: domain/path matching, Secure only over https/wss, longest path first;
* limits on cookies that arrive from the network: :data:`MAX_COOKIES_PER_DOMAIN` (50),
  :data:`MAX_COOKIES_TOTAL` (3000) -- expired cookies go first, then the least recently used -- and
  :data:`MAX_COOKIE_HEADER_BYTES` (8190) for the Cookie header; a cookie's name and value are at most
  :data:`~brisk._cookies.parse.MAX_COOKIE_BYTES`. Cookies the caller stores itself (``add``, ``load``) are
  its own and are not capped.

requests code sees the store through :class:`brisk.cookies.RequestsCookieJar`, an
:class:`http.cookiejar.CookieJar` whose cookies live here. The split keeps the store cheap: a session makes a
bare store when a response first sets a cookie, and http.cookiejar (about 25 ms to import, with
urllib.request and email) is loaded only when code asks for the jar (``session.cookies``,
``response.cookies``) -- never for a request that merely sends and receives cookies.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from brisk._cookies.files import dump_json, dump_netscape, parse_json, parse_netscape, write_private
from brisk._cookies.foreign_jar import RequestView
from brisk._cookies.model import Cookie, check_name_value, coerce_cookie, cookie_for_value, normalise_domain
from brisk._cookies.parse import (
    MAX_COOKIE_AGE,
    MAX_COOKIE_BYTES,
    ParsedCookie,
    byte_len,
    default_path,
    domain_match,
    has_ctl,
    is_ip_host,
    is_public_suffix,
    parse_set_cookie,
    path_match,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Sink = Callable[[Cookie], Any]  # stores one accepted cookie (a jar subclass's own set_cookie)

__all__ = [
    "MAX_COOKIES_PER_DOMAIN",
    "MAX_COOKIES_TOTAL",
    "MAX_COOKIE_HEADER_BYTES",
    "CookieStore",
    "request_store",
    "request_view",
]

#: At most this many cookies per domain; the least recently used beyond it are evicted.
MAX_COOKIES_PER_DOMAIN = 50
#: At most this many cookies in one jar.
MAX_COOKIES_TOTAL = 3000
#: The Cookie header built by ``header_for`` never exceeds this many bytes.
MAX_COOKIE_HEADER_BYTES = 8190

_SECURE_SCHEMES = frozenset({"https", "wss"})


def _stamp_policy(policy: Any, now: float) -> None:
    # http.cookiejar's jar tells its policy the time before asking it; DefaultCookiePolicy relies on it.
    try:
        policy._now = int(now)
    except AttributeError:  # a policy with __slots__ or a read-only attribute
        pass


def request_view(scheme: str, host: str, path: str) -> RequestView:
    """A urllib-style request for ``scheme://host/path`` (what a cookie policy is shown)."""
    return RequestView(scheme, host, f"[{host}]" if ":" in host else host, path)


_Key = tuple[str, str, bool]  # (path, name, host_only) inside one domain's bucket


def _key(cookie: Cookie) -> _Key:
    return (cookie.path, cookie.name, cookie.host_only)


def goes_to(cookie: Cookie, scheme: str, host: str, path: str, now: float | None = None) -> bool:
    """Would ``cookie`` be sent with a request to ``scheme://host/path`` (RFC 6265 5.4)?"""
    t = time.time() if now is None else now
    if cookie.expires is not None and cookie.expires <= t:
        return False
    domain = cookie.domain
    if domain and not (host == domain if cookie.host_only else domain_match(host, domain)):
        return False
    if cookie.secure and scheme not in _SECURE_SCHEMES:
        return False
    return path_match(path if path.startswith("/") else "/" + path, cookie.path)


class CookieStore:
    """The cookies of one jar and the rules they obey; thread-safe (one re-entrant lock)."""

    _brisk_engine = True  # what Session.cookies looks for: a store to show as a RequestsCookieJar

    def __init__(self, policy: Any = None) -> None:
        self._lock = threading.RLock()
        self._buckets: dict[str, dict[_Key, Cookie]] = {}  # domain -> cookies, insertion ordered
        self._count = 0
        self._last_creation = 0.0
        #: An http.cookiejar-style policy consulted on top of the rules (``set_ok``/``return_ok``), or None.
        self.policy = policy

    # -- storage (callers hold the lock) --
    def _insert(self, cookie: Cookie) -> None:
        bucket = self._buckets.setdefault(cookie.domain, {})
        key = _key(cookie)
        if bucket.pop(key, None) is None:
            self._count += 1
        bucket[key] = cookie

    def _remove(self, cookie: Cookie) -> None:
        bucket = self._buckets.get(cookie.domain)
        key = _key(cookie)
        if bucket is not None and bucket.get(key) is cookie:
            del bucket[key]
            self._count -= 1
            if not bucket:
                del self._buckets[cookie.domain]

    def _holds(self, cookie: Cookie) -> bool:
        return self._buckets.get(cookie.domain, {}).get(_key(cookie)) is cookie

    def _snapshot(self) -> list[Cookie]:
        return [cookie for bucket in self._buckets.values() for cookie in bucket.values()]

    def _creation_time(self, now: float) -> float:
        # Strictly increasing, so "earlier creation first" is a total order even within one response.
        stamp = max(now, self._last_creation + 1e-6)
        self._last_creation = stamp
        return stamp

    def _lookup_domains(self, host: str) -> list[str]:
        """Buckets that can hold cookies for *host*: itself, its parent domains (names only) and ""."""
        domains = [host]
        if not is_ip_host(host):
            rest = host
            while "." in rest:
                rest = rest.partition(".")[2]
                if rest:
                    domains.append(rest)
        domains.append("")
        return domains

    # -- from the network --
    def extract(
        self,
        set_cookie_values: Iterable[str],
        scheme: str,
        host: str,
        path: str,
        now: float | None = None,
        *,
        sink: Sink | None = None,
        request: Any = None,
    ) -> list[Cookie]:
        """Store the cookies of a response's Set-Cookie values (RFC 6265 5.2 and 5.3); return those stored.

        *host* is the normalised request host, *path* the request path; *scheme* decides whether Secure
        cookies may be set.  Expired cookies and Max-Age <= 0 delete the cookie they replace.  *sink*, when
        given, stores each accepted cookie instead of the store itself (a jar subclass's ``set_cookie``);
        *request* is what a policy is shown (a urllib-style request; by default one made for the URL).
        """
        if isinstance(set_cookie_values, str):
            set_cookie_values = (set_cookie_values,)
        t = time.time() if now is None else now
        path = path or "/"
        stored: list[Cookie] = []
        with self._lock:
            for line in set_cookie_values:
                parsed = parse_set_cookie(line, int(t))
                if parsed is not None:
                    cookie = self._admit(parsed, scheme, host, path, t, sink, request)
                    if cookie is not None:
                        stored.append(cookie)
            if stored:
                self._enforce_limits({cookie.domain for cookie in stored}, t)
                stored = [c for c in stored if self._holds(c)]
        return stored

    def make(
        self, set_cookie_values: Iterable[str], scheme: str, host: str, path: str, now: float | None = None
    ) -> list[Cookie]:
        """The cookies of *set_cookie_values* that brisk's rules accept from this URL, not stored
        (http.cookiejar's ``make_cookies``). An expired one is included: storing it deletes its namesake."""
        if isinstance(set_cookie_values, str):
            set_cookie_values = (set_cookie_values,)
        t = time.time() if now is None else now
        made: list[Cookie] = []
        with self._lock:
            for line in set_cookie_values:
                parsed = parse_set_cookie(line, int(t))
                cookie = None if parsed is None else self._judge(parsed, scheme, host, path or "/", t)
                if cookie is not None:
                    made.append(cookie)
        return made

    def admit(
        self,
        cookie: Any,
        scheme: str,
        host: str,
        path: str,
        now: float | None = None,
        *,
        sink: Sink | None = None,
        request: Any = None,
    ) -> Cookie | None:
        """Store *cookie* (brisk's or an http.cookiejar one) if brisk's rules accept it as an answer from
        ``scheme://host/path``, as if it had come in a Set-Cookie (http.cookiejar's ``set_cookie_if_ok``);
        the limits then apply. Return the cookie stored, or None.

        A cookie that reaches subdomains is judged as a Domain attribute; a host-only cookie (or one for
        any host) as a cookie without one, which binds it to the request's host -- a host-only cookie of
        another host is refused.
        """
        try:
            own = coerce_cookie(cookie)
            check_name_value(own.name, own.value)
        except (ValueError, TypeError, AttributeError):
            return None
        if has_ctl(own.path) or byte_len(own.name) + byte_len(own.value) > MAX_COOKIE_BYTES:
            return None
        if own.host_only and own.domain and own.domain not in (host, host + ".local"):
            return None  # http.cookiejar spells a dotless host "localhost.local"
        t = time.time() if now is None else now
        parsed = ParsedCookie(own.name, own.value)
        parsed.domain = own.domain if own.domain and not own.host_only else None
        parsed.path = own.path if own.path.startswith("/") else None
        parsed.path_attribute = True
        parsed.secure = own.secure
        parsed.http_only = own.http_only
        parsed.same_site = own.same_site
        parsed.expires = None if own.expires is None else min(own.expires, int(t) + MAX_COOKIE_AGE)
        with self._lock:
            stored = self._admit(parsed, scheme, host, path or "/", t, sink, request)
            if stored is None:
                return None
            self._enforce_limits((stored.domain,), t)
            return stored if self._holds(stored) or sink is not None else None

    def _judge(self, parsed: ParsedCookie, scheme: str, host: str, path: str, now: float) -> Cookie | None:
        """The cookie *parsed* makes for a response from ``scheme://host/path``, or None when the rules
        refuse it (section 5.3 and rfc6265bis). Caller holds the lock ("leave secure cookies alone" reads
        the store)."""
        domain = parsed.domain
        host_only = True
        if domain is None:
            domain = host
        elif not domain.isascii() or not domain_match(host, domain):
            return None  # another host, a sibling, or an IP host with a Domain other than itself
        elif domain == host:
            # Domain=<the host itself>: widens to subdomains unless it is an IP or a public suffix.
            host_only = is_ip_host(host) or is_public_suffix(domain)
        elif is_public_suffix(domain):
            return None  # Domain=com, co.uk, github.io from a host below it
        else:
            host_only = False
        secure_origin = scheme in _SECURE_SCHEMES
        if parsed.secure and not secure_origin:
            return None  # rfc6265bis: only secure origins set Secure cookies
        prefix = parsed.name[:9].lower()  # prefixes match case-insensitively (rfc6265bis)
        if prefix.startswith("__secure-") and not parsed.secure:
            return None
        if prefix.startswith("__host-") and not (
            parsed.secure and parsed.domain is None and parsed.path_attribute and parsed.path == "/"
        ):
            return None
        cookie_path = parsed.path if parsed.path is not None else default_path(path)
        if not parsed.secure and not secure_origin and self._shadows_secure(parsed.name, domain, cookie_path):
            return None  # rfc6265bis "leave secure cookies alone"
        return Cookie(
            parsed.name,
            parsed.value,
            domain=domain,
            path=cookie_path,
            secure=parsed.secure,
            http_only=parsed.http_only,
            same_site=parsed.same_site,
            expires=parsed.expires,
            host_only=host_only,
            creation_time=now,
            last_access_time=now,
        )

    def _admit(
        self,
        parsed: ParsedCookie,
        scheme: str,
        host: str,
        path: str,
        now: float,
        sink: Sink | None,
        request: Any,
    ) -> Cookie | None:
        """Judge *parsed*, ask the policy, then store (or delete, for an expiry in the past). Lock held."""
        cookie = self._judge(parsed, scheme, host, path, now)
        if cookie is None:
            return None
        policy = self.policy
        if policy is not None:
            _stamp_policy(policy, now)
            shown = request if request is not None else request_view(scheme, host, path)
            if not policy.set_ok(cookie, shown):
                return None
        old = self._buckets.get(cookie.domain, {}).get(_key(cookie))
        cookie.creation_time = old.creation_time if old is not None else self._creation_time(now)
        if cookie.expires is not None and cookie.expires <= now:
            if old is not None:
                self._remove(old)  # an expiry in the past only deletes
            return None
        if sink is None:
            self._insert(cookie)  # replaces its namesake (same domain, path, name and host-only flag)
        else:
            sink(cookie)
        return cookie

    def _shadows_secure(self, name: str, domain: str, path: str) -> bool:
        """An existing Secure cookie the insecure newcomer would overwrite or overlay (rfc6265bis 5.7)."""
        for bucket_domain, bucket in self._buckets.items():
            if bucket_domain and not (
                domain_match(bucket_domain, domain) or domain_match(domain, bucket_domain)
            ):
                continue
            for old in bucket.values():
                if old.secure and old.name == name and path_match(path, old.path):
                    return True
        return False

    def _enforce_limits(self, domains: Iterable[str], now: float) -> None:
        for domain in domains:
            bucket = self._buckets.get(domain)
            if bucket is not None and len(bucket) > MAX_COOKIES_PER_DOMAIN:
                self._evict(list(bucket.values()), len(bucket) - MAX_COOKIES_PER_DOMAIN, now)
        if self._count > MAX_COOKIES_TOTAL:
            self._evict(self._snapshot(), self._count - MAX_COOKIES_TOTAL, now)

    def _evict(self, cookies: list[Cookie], excess: int, now: float) -> None:
        # Expired cookies first, then the least recently used (stable sort: older insertions first on ties).
        cookies.sort(key=lambda c: (not c.is_expired(now), c.last_access_time))
        for cookie in cookies[:excess]:
            self._remove(cookie)

    # -- to the network --
    def header_for(
        self, scheme: str, host: str, path: str, now: float | None = None, any_host: bool = True
    ) -> str | None:
        """The Cookie header value for a request to ``scheme://host/path`` (RFC 6265 5.4), or None.

        Longer paths first, then older cookies; expired cookies are purged; a cookie that would push the
        header past :data:`MAX_COOKIE_HEADER_BYTES` is left out. ``any_host=False`` leaves out cookies set
        without a domain (requests' "any host" cookies): brisk sends those only to the hosts the user asked
        for, never to a host a redirect led to.
        """
        if not self._count:
            return None
        t = time.time() if now is None else now
        secure = scheme in _SECURE_SCHEMES
        if not path.startswith("/"):
            path = "/" + path
        with self._lock:
            chosen: list[Cookie] = []
            expired: list[Cookie] = []
            for domain in self._lookup_domains(host):
                bucket = self._buckets.get(domain)
                if not bucket or (not domain and not any_host):
                    continue
                for cookie in bucket.values():
                    if cookie.expires is not None and cookie.expires <= t:
                        expired.append(cookie)
                    elif (
                        (not cookie.host_only or not domain or domain == host)
                        and (secure or not cookie.secure)
                        and path_match(path, cookie.path)
                    ):
                        chosen.append(cookie)
            for cookie in expired:
                self._remove(cookie)
            if self.policy is not None:
                request = request_view(scheme, host, path)
                _stamp_policy(self.policy, t)
                chosen = [c for c in chosen if self.policy.return_ok(c, request)]
            if not chosen:
                return None
            chosen.sort(key=lambda c: (-len(c.path), c.creation_time))
            parts: list[str] = []
            size = -2  # no "; " before the first pair
            for cookie in chosen:
                pair = f"{cookie.name}={cookie.value}"
                grown = size + 2 + byte_len(pair)
                if grown > MAX_COOKIE_HEADER_BYTES:
                    continue
                size = grown
                parts.append(pair)
                cookie.last_access_time = t
        return "; ".join(parts) if parts else None

    # -- the caller's own cookies --
    def add(self, cookie: Any) -> Cookie:
        """Store *cookie* (brisk's, or an http.cookiejar one) as it is, replacing its namesake; return it.

        Only names and values that would break the Cookie header are refused (``ValueError``)."""
        new = coerce_cookie(cookie)
        check_name_value(new.name, new.value)
        with self._lock:
            self._insert(new)
        return new

    def matching(self, name: str | None, domain: str | None, path: str | None) -> list[Cookie]:
        """The cookies with this name, on this domain (either spelling) and path; None matches any."""
        wanted = None if domain is None else normalise_domain(domain)
        with self._lock:
            return [
                c
                for c in self._snapshot()
                if (name is None or c.name == name)
                and (wanted is None or c.domain == wanted)
                and (path is None or c.path == path)
            ]

    def remove(self, cookies: Iterable[Cookie]) -> None:
        """Remove these cookies (the stored objects)."""
        with self._lock:
            for cookie in cookies:
                self._remove(cookie)

    def clear(self, domain: str | None = None, path: str | None = None, name: str | None = None) -> None:
        """Remove every cookie, or only those matching the given domain, path and name."""
        if domain is None and path is None and name is None:
            with self._lock:
                self._buckets.clear()
                self._count = 0
            return
        with self._lock:
            for cookie in self.matching(name, domain, path):
                self._remove(cookie)

    def clear_session_cookies(self) -> None:
        """Remove the cookies without an expiry time."""
        with self._lock:
            for cookie in self._snapshot():
                if cookie.expires is None:
                    self._remove(cookie)

    def clear_expired_cookies(self, now: float | None = None) -> None:
        """Remove the cookies whose expiry time has passed."""
        t = time.time() if now is None else now
        with self._lock:
            for cookie in self._snapshot():
                if cookie.is_expired(t):
                    self._remove(cookie)

    def snapshot(self) -> list[Cookie]:
        """The stored cookies (the objects themselves), in storage order."""
        with self._lock:
            return self._snapshot()

    def copy(self) -> CookieStore:
        """An independent store with copies of every cookie and the same policy."""
        new = CookieStore(self.policy)
        with self._lock:
            for cookie in self._snapshot():
                new._insert(cookie.copy())
            new._last_creation = self._last_creation
        return new

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Cookie]:
        return iter(self.snapshot())

    # -- files --
    def save(self, path: str | os.PathLike[str], format: str = "netscape") -> None:
        """Write the unexpired cookies to *path* atomically, mode 0600 (see ``RequestsCookieJar.save``)."""
        with self._lock:
            cookies = [c for c in self._snapshot() if not c.is_expired()]
        if format == "netscape":
            data = dump_netscape(cookies)
        elif format == "json":
            data = dump_json(cookies).encode("ascii")
        else:
            raise ValueError(f"unknown cookie file format {format!r}; use 'netscape' or 'json'")
        write_private(os.fspath(path), data)

    def load(self, path: str | os.PathLike[str], format: str | None = None) -> None:
        """Add the cookies stored in *path* (see ``RequestsCookieJar.load``)."""
        with open(os.fspath(path), "rb") as f:
            raw = f.read()
        if format is None:
            format = "json" if raw.lstrip()[:1] == b"{" else "netscape"
        if format == "netscape":
            records = parse_netscape(raw)
        elif format == "json":
            records = parse_json(raw)
        else:
            raise ValueError(f"unknown cookie file format {format!r}; use 'netscape' or 'json'")
        now = time.time()
        for record in records:
            if has_ctl(record["name"]) or has_ctl(record["value"]) or ";" in record["value"]:
                continue
            cookie = Cookie(**record)
            if cookie.is_expired(now):
                continue
            with self._lock:
                if "creation_time" not in record:  # cookies.txt: keep the file's order
                    cookie.creation_time = cookie.last_access_time = self._creation_time(now)
                self._insert(cookie)

    # -- pickling --
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"<CookieStore[{', '.join(str(c) for c in self)}]>"


def request_store(host: str, cookies: Any) -> CookieStore | None:
    """A request's own cookies (``cookies=``, or those a prepared request was given) as a store: names and
    values (a dict, or cookies without a domain) become host-only cookies of *host*, so after a redirect to
    another host they are not sent (requests sends them everywhere); a cookie with a domain (from a jar)
    keeps its domain, path and Secure flag and goes only where they match, as in requests. None for none."""
    if not cookies:
        return None
    if getattr(cookies, "_brisk_engine", False):
        return cookies  # type: ignore[no-any-return]  # a store made for this request already
    store = CookieStore()
    if isinstance(cookies, Mapping) and not hasattr(cookies, "set_cookie"):  # a plain dict, not a jar
        for name, value in cookies.items():
            if value is not None:
                store.add(cookie_for_value(name, value, domain=host, path="/", host_only=True))
        return store
    for cookie in cookies:
        if getattr(cookie, "domain", None):
            store.add(coerce_cookie(cookie))
        elif cookie.value is not None:
            store.add(cookie_for_value(cookie.name, cookie.value, domain=host, path="/", host_only=True))
    return store
