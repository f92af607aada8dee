"""Cookies: an RFC 6265 cookie engine with requests' ``RequestsCookieJar`` API on top.

brisk does not use :mod:`http.cookiejar`: it is slow to import, its rules are permissive (host-only cookies
reach subdomains, no public suffix list) and requests' use of it leaks cookies across hosts.  This module
keeps the names requests code reads (``RequestsCookieJar``, ``CookieConflictError``, ``cookiejar_from_dict``,
``merge_cookies``, ``create_cookie``...) and implements the storage model itself:

* parsing per RFC 6265 section 5.2 (see :mod:`brisk._cookie_parse`); storage per 5.3 with the rfc6265bis
  amendments: Secure only from https, "leave secure cookies alone", ``__Secure-``/``__Host-`` prefixes, the
  400-day expiry cap; public suffixes refused (the bundled ``publicsuffixlist`` data, loaded lazily);
  IP hosts accept only their own address as Domain;
* retrieval per 5.4: domain/path matching, Secure only over https/wss, longest path first;
* SameSite is parsed, stored, saved and reported but not enforced (a client library has no "site"); for the
  same reason a ``SameSite=None`` cookie without Secure is kept, as curl and requests keep it.

Limits (module constants, applied to cookies that arrive from the network):
:data:`MAX_COOKIE_BYTES` (4096, name + value), :data:`MAX_COOKIES_PER_DOMAIN` (50),
:data:`MAX_COOKIES_TOTAL` (3000) -- expired cookies go first, then the least recently used --
and :data:`MAX_COOKIE_HEADER_BYTES` (8190): :meth:`RequestsCookieJar.header_for` skips a cookie that would
make the header longer.  Cookies set through the requests API (``set``, ``set_cookie``, ``update``, ``load``)
are the caller's own and are not capped.

requests compatibility: ``jar.set("k", "v")`` without a domain stores a cookie whose domain is ``""``,
meaning "any host" (requests sends such a cookie everywhere).  brisk keeps that for code that builds jars by
hand, but the session layer turns per-request ``cookies=`` into host-only cookies for the request's host, so
they never follow a redirect to another origin.

An :class:`http.cookiejar.CookieJar` (``MozillaCookieJar`` for a cookies.txt, say) can still be
``Session.cookies``: it is then asked under its own policy (see :mod:`brisk._cookie_compat`), and
:func:`cookiejar_from_dict` and :func:`merge_cookies` give it http.cookiejar cookies.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._cookie_compat import RequestView
from ._cookie_model import (
    Cookie,
    check_name_value,
    coerce_cookie,
    create_cookie,
    morsel_to_cookie,
    normalise_domain,
)
from ._cookie_parse import (
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
from ._cookie_store import dump_json, dump_netscape, parse_json, parse_netscape, write_private

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

    # A jar the requests-style functions fill: brisk's, or an http.cookiejar one (given http.cookiejar
    # cookies). Only for the type checker: at run time the string bound would cost a compile() (see
    # brisk._retry.RequestHistory).
    _Jar = TypeVar("_Jar", bound="RequestsCookieJar | CookieJar")

__all__ = [
    "MAX_COOKIES_PER_DOMAIN",
    "MAX_COOKIES_TOTAL",
    "MAX_COOKIE_BYTES",
    "MAX_COOKIE_HEADER_BYTES",
    "Cookie",
    "CookieConflictError",
    "RequestsCookieJar",
    "cookiejar_from_dict",
    "create_cookie",
    "dict_from_cookiejar",
    "merge_cookies",
    "morsel_to_cookie",
    "remove_cookie_by_name",
]

#: At most this many cookies per domain; the least recently used beyond it are evicted.
MAX_COOKIES_PER_DOMAIN = 50
#: At most this many cookies in one jar.
MAX_COOKIES_TOTAL = 3000
#: The Cookie header built by ``header_for`` never exceeds this many bytes.
MAX_COOKIE_HEADER_BYTES = 8190

_SECURE_SCHEMES = frozenset({"https", "wss"})


class CookieConflictError(RuntimeError):
    """Several cookies match the name given; pass ``domain=`` and ``path=`` to ``get``/``set`` to pick one."""


def _stamp_policy(policy: Any, now: float) -> None:
    # http.cookiejar's jar tells its policy the time before asking it; DefaultCookiePolicy relies on it.
    try:
        policy._now = int(now)
    except AttributeError:  # a policy with __slots__ or a read-only attribute
        pass


# ---------------------------------------------------------------------------------------------------------
# the jar

_Key = tuple[str, str, bool]  # (path, name, host_only) inside one domain's bucket


def _key(cookie: Cookie) -> _Key:
    return (cookie.path, cookie.name, cookie.host_only)


class RequestsCookieJar(MutableMapping[str, str]):
    """A thread-safe cookie jar with requests' dict-like API and an RFC 6265 engine.

    Dict view: names to values (``jar["k"]``, ``jar.get("k", domain=..., path=...)``, ``get_dict()``,
    ``keys()``/``values()``/``items()`` as lists); ``KeyError`` when a name is missing and
    :class:`CookieConflictError` when it is ambiguous.  Iterating yields :class:`Cookie` objects, as iterating
    requests' jar does.  The engine: :meth:`extract` stores Set-Cookie lines, :meth:`header_for` builds the
    Cookie header; :meth:`save`/:meth:`load` read and write curl's cookies.txt or JSON.
    Domain filters accept requests' spelling with a leading dot.
    """

    def __init__(self, policy: Any = None) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, dict[_Key, Cookie]] = {}  # domain -> cookies, insertion ordered
        self._count = 0
        self._last_creation = 0.0
        self._policy = policy

    # -- internal storage (callers hold the lock) --
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

    # -- the engine --
    def extract(
        self, set_cookie_values: Iterable[str], scheme: str, host: str, path: str, now: float | None = None
    ) -> list[Cookie]:
        """Store the cookies of a response's Set-Cookie values (RFC 6265 5.2 and 5.3); return those stored.

        *host* is the normalised request host, *path* the request path; *scheme* decides whether Secure
        cookies may be set.  Expired cookies and Max-Age <= 0 delete the cookie they replace.
        """
        if isinstance(set_cookie_values, str):
            set_cookie_values = (set_cookie_values,)
        t = time.time() if now is None else now
        stored: list[Cookie] = []
        with self._lock:
            for line in set_cookie_values:
                parsed = parse_set_cookie(line, int(t))
                if parsed is not None:
                    cookie = self._store(parsed, scheme, host, path or "/", t)
                    if cookie is not None:
                        stored.append(cookie)
            if stored:
                self._enforce_limits({cookie.domain for cookie in stored}, t)
                stored = [c for c in stored if self._buckets.get(c.domain, {}).get(_key(c)) is c]
        return stored

    def _store(self, parsed: ParsedCookie, scheme: str, host: str, path: str, now: float) -> Cookie | None:
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
        cookie = Cookie(
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
        if self._policy is not None:
            _stamp_policy(self._policy, now)
            if not self._policy.set_ok(cookie, RequestView(scheme, host, host, path)):
                return None
        old = self._buckets.get(domain, {}).get(_key(cookie))
        if old is not None:
            cookie.creation_time = old.creation_time
            self._remove(old)
        else:
            cookie.creation_time = self._creation_time(now)
        if cookie.expires is not None and cookie.expires <= now:
            return None  # an expiry in the past only deletes
        self._insert(cookie)
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
            if self._policy is not None:
                request = RequestView(scheme, host, host, path)
                _stamp_policy(self._policy, t)
                chosen = [c for c in chosen if self._policy.return_ok(c, request)]
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

    # -- requests' jar API --
    def set_cookie(self, cookie: Any, *args: Any, **kwargs: Any) -> None:
        """Store *cookie* (a brisk :class:`Cookie` or an http.cookiejar one), replacing the same one."""
        new = coerce_cookie(cookie)
        check_name_value(new.name, new.value)
        with self._lock:
            self._insert(new)

    def set(self, name: str, value: Any, **kwargs: Any) -> Cookie | None:
        """Set a cookie (keywords as :func:`create_cookie`); ``value=None`` removes cookies of that name."""
        if value is None:
            remove_cookie_by_name(self, name, domain=kwargs.get("domain"), path=kwargs.get("path"))
            return None
        if not isinstance(value, str | bytes | bytearray | int | float):
            from http.cookies import Morsel

            if isinstance(value, Morsel):
                cookie = morsel_to_cookie(value)
                self.set_cookie(cookie)
                return cookie
        cookie = create_cookie(name, value, **kwargs)
        self.set_cookie(cookie)
        return cookie

    def _matching(self, name: str | None, domain: str | None, path: str | None) -> list[Cookie]:
        wanted = None if domain is None else normalise_domain(domain)
        with self._lock:
            return [
                c
                for c in self._snapshot()
                if (name is None or c.name == name)
                and (wanted is None or c.domain == wanted)
                and (path is None or c.path == path)
            ]

    def _find_no_duplicates(self, name: str, domain: str | None = None, path: str | None = None) -> str:
        found = self._matching(name, domain, path)
        if not found:
            raise KeyError(f"name={name!r}, domain={domain!r}, path={path!r}")
        if len(found) > 1:
            raise CookieConflictError(f"There are multiple cookies with name, {name!r}")
        return found[0].value

    def get(self, name: str, default: Any = None, domain: str | None = None, path: str | None = None) -> Any:
        """The value of cookie *name* (optionally on *domain*/*path*), *default* when absent.

        Raises :class:`CookieConflictError` when several cookies match.
        """
        try:
            return self._find_no_duplicates(name, domain, path)
        except KeyError:
            return default

    def __getitem__(self, name: str) -> str:
        return self._find_no_duplicates(name)

    def __setitem__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        remove_cookie_by_name(self, name)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return bool(self._matching(name, None, None))

    def __iter__(self) -> Iterator[Cookie]:  # type: ignore[override]
        with self._lock:
            return iter(self._snapshot())

    def __len__(self) -> int:
        return self._count

    def keys(self) -> list[str]:  # type: ignore[override]
        """Cookie names, as a list (requests returns lists)."""
        return [c.name for c in self]

    def values(self) -> list[str]:  # type: ignore[override]
        """Cookie values, as a list."""
        return [c.value for c in self]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """(name, value) pairs, as a list."""
        return [(c.name, c.value) for c in self]

    iterkeys = keys
    itervalues = values
    iteritems = items

    def popitem(self) -> tuple[str, str]:
        """Remove and return one (name, value) pair."""
        with self._lock:
            cookies = self._snapshot()
            if not cookies:
                raise KeyError("popitem(): cookie jar is empty")
            self._remove(cookies[0])
        return cookies[0].name, cookies[0].value

    def list_domains(self) -> list[str]:
        """The distinct cookie domains, in storage order."""
        return list(dict.fromkeys(c.domain for c in self))

    def list_paths(self) -> list[str]:
        """The distinct cookie paths, in storage order."""
        return list(dict.fromkeys(c.path for c in self))

    def multiple_domains(self) -> bool:
        """True when the jar holds cookies for more than one domain."""
        return len(self.list_domains()) > 1

    def get_dict(self, domain: str | None = None, path: str | None = None) -> dict[str, str]:
        """Names to values for the cookies on *domain* and *path* (all when None)."""
        return {c.name: c.value for c in self._matching(None, domain, path)}

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        """Add cookies from another jar (copied, domain and path kept), a mapping, or (name, value) pairs."""
        if isinstance(other, RequestsCookieJar):
            for cookie in other:
                self.set_cookie(cookie.copy())
        elif isinstance(other, Mapping):
            for name in other:
                self[name] = other[name]
        else:
            for item in other:
                if hasattr(item, "name") and hasattr(item, "value"):
                    self.set_cookie(item if not isinstance(item, Cookie) else item.copy())
                else:
                    name, value = item
                    self[name] = value
        for name, value in kwargs.items():
            self[name] = value

    def copy(self) -> RequestsCookieJar:
        """An independent jar with copies of every cookie and the same policy."""
        new = RequestsCookieJar(self._policy)
        new.update(self)
        return new

    def get_policy(self) -> Any:
        """The http.cookiejar-style policy given to :meth:`set_policy` (None: brisk's own rules only)."""
        return self._policy

    def set_policy(self, policy: Any) -> None:
        """Add a filter: ``policy.set_ok(cookie, request)`` and ``return_ok(...)`` veto storing and sending.

        Covers requests' "disable cookies" recipe (a policy whose methods return False); brisk's RFC rules
        still apply underneath.
        """
        self._policy = policy

    def clear(self, domain: str | None = None, path: str | None = None, name: str | None = None) -> None:
        """Remove every cookie, or only those matching the given domain, path and name."""
        if domain is None and path is None and name is None:
            with self._lock:
                self._buckets.clear()
                self._count = 0
            return
        doomed = self._matching(name, domain, path)
        with self._lock:
            for cookie in doomed:
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

    # -- files --
    def save(self, path: str | os.PathLike[str], format: str = "netscape") -> None:
        """Write the unexpired cookies to *path* atomically, readable only by the owner (mode 0600).

        ``"netscape"``: curl's cookies.txt (``curl -b file`` reads it); session cookies get expiry 0, and
        cookies curl's format cannot express (domain ``""`` "any host" cookies, values with tabs) are left
        out.
        ``"json"``: every attribute, including SameSite, host-only and creation time.
        """
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
        """Add the cookies stored in *path* (``format`` "netscape", "json", or None to detect it).

        Expired cookies are skipped; session cookies (expiry 0 in cookies.txt) come back as session cookies.
        """
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

    # -- pickling, repr --
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}[{', '.join(str(c) for c in self)}]>"


# ---------------------------------------------------------------------------------------------------------
# requests.cookies / requests.utils functions


def remove_cookie_by_name(
    cookiejar: RequestsCookieJar, name: str, domain: str | None = None, path: str | None = None
) -> None:
    """Remove every cookie called *name* (optionally only on *domain* / *path*); no error when none exists."""
    cookiejar.clear(domain=domain, path=path, name=name)


@overload
def cookiejar_from_dict(
    cookie_dict: Any, cookiejar: None = None, overwrite: bool = True
) -> RequestsCookieJar: ...
@overload
def cookiejar_from_dict(cookie_dict: Any, cookiejar: _Jar, overwrite: bool = True) -> _Jar: ...
def cookiejar_from_dict(
    cookie_dict: Any, cookiejar: RequestsCookieJar | CookieJar | None = None, overwrite: bool = True
) -> RequestsCookieJar | CookieJar:
    """A jar holding the (any-host) cookies of *cookie_dict*, added to *cookiejar* when given.

    *cookiejar* may be an :class:`http.cookiejar.CookieJar`: it then receives http.cookiejar cookies.
    *cookie_dict* may also be an http.cookiejar jar, whose cookies are copied with their domain and path
    (``Request(cookies=jar).prepare()`` comes here).  With ``overwrite=False`` names already in the jar keep
    their cookies.
    """
    if cookiejar is None:
        cookiejar = RequestsCookieJar()
    if cookie_dict is None:
        return cookiejar
    if isinstance(cookie_dict, Mapping) and not isinstance(cookie_dict, RequestsCookieJar):
        cookies: list[Any] = [create_cookie(name, cookie_dict[name]) for name in cookie_dict]
    else:
        cookies = _cookie_list(cookie_dict)
    if not overwrite:
        existing = {cookie.name for cookie in cookiejar}
        cookies = [cookie for cookie in cookies if cookie.name not in existing]
    if isinstance(cookiejar, RequestsCookieJar):
        for cookie in cookies:
            cookiejar.set_cookie(cookie)
    else:
        _add_to_stdlib_jar(cookiejar, cookies)
    return cookiejar


def merge_cookies(cookiejar: _Jar, cookies: Any) -> _Jar:
    """Add *cookies* (a dict, a jar or an iterable of cookies) to *cookiejar* and return it.

    A dict does not overwrite names already in the jar; a jar's cookies replace their exact counterparts.
    *cookiejar* is brisk's jar or an :class:`http.cookiejar.CookieJar` (which receives http.cookiejar
    cookies).
    """
    if not isinstance(cookiejar, RequestsCookieJar) and not _is_stdlib_jar(cookiejar):
        raise ValueError("You can only merge into CookieJar")
    if cookies is None:
        return cookiejar
    if isinstance(cookies, Mapping) and not isinstance(cookies, RequestsCookieJar):
        return cookiejar_from_dict(cookies, cookiejar=cookiejar, overwrite=False)
    if isinstance(cookiejar, RequestsCookieJar):
        cookiejar.update(cookies)
    else:
        _add_to_stdlib_jar(cookiejar, _cookie_list(cookies))
    return cookiejar


def _is_stdlib_jar(obj: object) -> bool:
    # Without importing http.cookiejar (slow): nobody made a CookieJar if nobody imported the module.
    module = sys.modules.get("http.cookiejar")
    return module is not None and isinstance(obj, module.CookieJar)


def _cookie_list(items: Iterable[Any]) -> list[Any]:
    """Cookies (brisk's, http.cookiejar's) as they are; (name, value) pairs as any-host cookies."""
    return [
        item if hasattr(item, "name") and hasattr(item, "value") else create_cookie(*item) for item in items
    ]


def _add_to_stdlib_jar(jar: CookieJar, cookies: Iterable[Any]) -> None:
    """Store cookies in an http.cookiejar jar, as its own Cookie type."""
    from ._cookie_compat import stdlib_cookie

    for cookie in cookies:
        jar.set_cookie(stdlib_cookie(cookie))


def dict_from_cookiejar(cj: Iterable[Any]) -> dict[str, str]:
    """Names to values for every cookie in *cj* (a later cookie with the same name wins)."""
    return {cookie.name: cookie.value for cookie in cj}
