"""``requests.cookies`` under brisk: an :class:`http.cookiejar.CookieJar` whose cookies live in brisk's
engine.

:class:`RequestsCookieJar` is what requests hands out and what code built on requests expects: an
:class:`http.cookiejar.CookieJar` (``isinstance`` holds; ``extract_cookies(response, request)``,
``add_cookie_header(request)``, ``make_cookies``, ``set_cookie_if_ok``, ``set_cookie``, ``clear``,
``clear_session_cookies``, ``set_policy``...) with requests' dict-like API on top (``jar["k"]``, ``get``/
``set`` with ``domain=``/``path=``, ``get_dict``, ``list_domains``, ``update``, ``copy``, pickling).  Unlike
requests' jar it does not keep http.cookiejar's storage or rules: every cookie, whichever door it comes
through, is stored in a :class:`brisk._cookies.engine.CookieStore` and obeys brisk's RFC 6265 engine:

* cookies from a response (the session's, ``extract_cookies``, ``extract_cookies_to_jar``,
  ``set_cookie_if_ok``) are judged as RFC 6265 and rfc6265bis say: public suffixes and foreign domains
  refused, host-only cookies kept to their host, Secure only from https, ``__Secure-``/``__Host-``
  prefixes, the 400-day cap, 4096 bytes a cookie, 50 a domain and 3000 a jar (see
  :mod:`brisk._cookies.engine`);
* cookies the caller sets (``set``, ``set_cookie``, ``update``, ``load``) are its own: stored as given
  (names and values that would break the header refused), not capped;
* cookies go out under the same rules whichever way the header is made (the session, ``add_cookie_header``,
  ``get_cookie_header``): domain and path matching, Secure only over https, at most 8190 bytes.

A policy given to the jar (``set_policy(DefaultCookiePolicy(blocked_domains=[...]))``, requests' "block
everything" recipe) is asked on top of these rules; by default the policy is a :class:`BriskCookiePolicy`,
which stands for the engine's rules and adds nothing.  A subclass's own ``set_cookie`` receives every cookie
the engine accepts from a response (requests-toolbelt's ``ForgetfulCookieJar`` stores none), and its own
``extract_cookies`` or ``add_cookie_header`` is what the session calls.

requests compatibility: ``jar.set("k", "v")`` without a domain stores a cookie whose domain is ``""``,
meaning "any host" (requests sends such a cookie everywhere).  brisk keeps that for code that builds jars by
hand, but the session layer turns per-request ``cookies=`` into host-only cookies for the request's host, so
they never follow a redirect to another origin.  Iterating yields brisk's :class:`Cookie`, which has
http.cookiejar's attributes; its ``domain`` has no leading dot (``host_only`` says whether subdomains match),
while ``list_domains()`` and ``_cookies`` spell a Domain cookie's domain as requests does, ``".example.com"``.

An :class:`http.cookiejar.CookieJar` of the standard library (``MozillaCookieJar("cookies.txt")``) can be
``Session.cookies`` too: it is then asked under its own policy (see :mod:`brisk._cookies.foreign_jar`), and
:func:`cookiejar_from_dict` and :func:`merge_cookies` give it http.cookiejar cookies.

Importing this module imports http.cookiejar (with urllib.request, about 25 ms); a session does not import it
until code asks for ``session.cookies`` or ``response.cookies``: its own store is the engine alone.
"""

from __future__ import annotations

import copy
import http.cookiejar
import os
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from http.cookies import Morsel
from typing import TYPE_CHECKING, Any, TypeVar, overload
from urllib.parse import urlparse, urlsplit, urlunparse

from brisk._cookies.engine import (
    MAX_COOKIE_HEADER_BYTES,
    MAX_COOKIES_PER_DOMAIN,
    MAX_COOKIES_TOTAL,
    CookieStore,
    goes_to,
    request_view,
)
from brisk._cookies.foreign_jar import ResponseView
from brisk._cookies.model import Cookie, coerce_cookie, cookie_for_value, create_cookie, morsel_to_cookie
from brisk._cookies.parse import MAX_COOKIE_BYTES
from brisk._core.url import URL
from brisk._internal_utils import to_native_string

if TYPE_CHECKING:
    # A jar the requests-style functions fill: brisk's, or an http.cookiejar one (given http.cookiejar
    # cookies). Only for the type checker: at run time the string bound would cost a compile() (see
    # brisk._flows.retry.RequestHistory).
    _Jar = TypeVar("_Jar", bound="http.cookiejar.CookieJar")

__all__ = [
    "MAX_COOKIES_PER_DOMAIN",
    "MAX_COOKIES_TOTAL",
    "MAX_COOKIE_BYTES",
    "MAX_COOKIE_HEADER_BYTES",
    "BriskCookiePolicy",
    "Cookie",
    "CookieConflictError",
    "MockRequest",
    "MockResponse",
    "Morsel",
    "MutableMapping",
    "RequestsCookieJar",
    "cookiejar_from_dict",
    "create_cookie",
    "dict_from_cookiejar",
    "extract_cookies_to_jar",
    "get_cookie_header",
    "merge_cookies",
    "morsel_to_cookie",
    "remove_cookie_by_name",
    "to_native_string",
    "urlparse",
    "urlunparse",
]


class CookieConflictError(RuntimeError):
    """Several cookies match the name given; pass ``domain=`` and ``path=`` to ``get``/``set`` to pick one."""


# ---------------------------------------------------------------------------------------------------------
# urllib-style requests and responses


def _target(request: Any) -> tuple[str, str, str]:
    """(scheme, host, path) of a urllib-style request's URL, the host normalised as brisk's URLs have it."""
    url = request.get_full_url()
    if isinstance(url, bytes):
        url = url.decode("utf-8", "surrogateescape")
    try:
        parsed = URL.parse(url)
    except ValueError:  # no host brisk would send to; match it the way the standard library reads it
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.path or "/"
    return parsed.scheme, parsed.host, parsed.path or "/"


def _set_cookie_values(response: Any) -> list[str]:
    """The Set-Cookie values of a urllib-style response (``response.info()``: an ``email.message.Message``,
    http.client's ``HTTPMessage``, urllib3's ``HTTPHeaderDict``, brisk's ``Headers`` or a mapping)."""
    headers = response.info()
    if headers is None:
        return []
    for method in ("get_all", "getlist", "get_list"):
        get_all = getattr(headers, method, None)
        if get_all is not None:
            values = get_all("Set-Cookie", []) if method == "get_all" else get_all("Set-Cookie")
            return [str(v) for v in values or ()]
    value = headers.get("Set-Cookie") or headers.get("set-cookie")
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


class MockRequest:
    """A prepared request as the ``urllib.request.Request`` http.cookiejar reads (requests' ``MockRequest``).

    The request itself is not changed: a header a jar adds (``add_unredirected_header``) is kept here, and
    ``get_new_headers()`` returns it (``get_cookie_header`` reads the Cookie header from it). A Host header
    the request carries stands for the URL's host, as in requests.
    """

    def __init__(self, request: Any) -> None:
        self._r = request
        self._new_headers: dict[str, str] = {}
        self.type = urlparse(self._url()).scheme

    def _url(self) -> str:
        url = self._r.url
        return url.decode("utf-8") if isinstance(url, bytes) else str(url)

    def get_type(self) -> str:
        return self.type

    def get_host(self) -> str:
        return urlparse(self._url()).netloc

    def get_origin_req_host(self) -> str:
        return self.get_host()

    def get_full_url(self) -> str:
        host = self._r.headers.get("Host")
        if not host:
            return self._url()
        parsed = urlparse(self._url())
        return urlunparse(
            (parsed.scheme, to_native_string(host, encoding="utf-8"), parsed.path, parsed.params,
             parsed.query, parsed.fragment)
        )  # fmt: skip

    def is_unverifiable(self) -> bool:
        return True

    def has_header(self, name: str) -> bool:
        return name in self._r.headers or name in self._new_headers

    def get_header(self, name: str, default: Any = None) -> Any:
        return self._r.headers.get(name, self._new_headers.get(name, default))

    def add_header(self, key: str, val: str) -> None:
        """Refused, as in requests: a jar adds its Cookie header with ``add_unredirected_header``."""
        raise NotImplementedError("Cookie headers should be added with add_unredirected_header()")

    def add_unredirected_header(self, name: str, value: str) -> None:
        self._new_headers[name] = value

    def get_new_headers(self) -> dict[str, str]:
        return self._new_headers

    @property
    def unverifiable(self) -> bool:
        return self.is_unverifiable()

    @property
    def origin_req_host(self) -> str:
        return self.get_origin_req_host()

    @property
    def host(self) -> str:
        return self.get_host()


class MockResponse:
    """Response headers as the ``urllib`` response http.cookiejar reads (requests' ``MockResponse``):
    ``info()`` returns *headers* (an ``HTTPMessage``, urllib3's ``HTTPHeaderDict``, brisk's ``Headers``)."""

    def __init__(self, headers: Any) -> None:
        self._headers = headers

    def info(self) -> Any:
        return self._headers

    def getheaders(self, name: str) -> Any:
        return self._headers.getheaders(name)


# ---------------------------------------------------------------------------------------------------------
# the jar


class BriskCookiePolicy(http.cookiejar.CookiePolicy):
    """The policy of a :class:`RequestsCookieJar` that was given none: brisk's engine rules, as a policy.

    The jar applies those rules itself and does not ask this object; it answers for code that asks a jar's
    policy (``jar.get_policy().set_ok(cookie, request)``): ``set_ok`` -- would brisk accept ``cookie`` in
    answer to ``request``? -- and ``return_ok`` -- would brisk send it with ``request``?
    """

    netscape = True
    rfc2965 = False
    hide_cookie2 = False

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return CookieStore().admit(cookie, *_target(request)) is not None

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return goes_to(coerce_cookie(cookie), *_target(request))

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return True

    def path_return_ok(self, path: str, request: Any) -> bool:
        return True


_DEFAULT_POLICY = BriskCookiePolicy()


def _engine_policy(policy: Any) -> Any:
    """What the engine asks on top of its rules: nothing for brisk's own policy."""
    return None if policy is None or type(policy) is BriskCookiePolicy else policy


class RequestsCookieJar(http.cookiejar.CookieJar, MutableMapping[str, str]):
    """requests' cookie jar: an :class:`http.cookiejar.CookieJar` with a dict-like API, thread-safe, on
    brisk's RFC 6265 engine (see the module docstring).

    Dict view: names to values (``jar["k"]``, ``jar.get("k", domain=..., path=...)``, ``get_dict()``,
    ``keys()``/``values()``/``items()`` as lists); ``KeyError`` when a name is missing and
    :class:`CookieConflictError` when it is ambiguous.  Iterating yields :class:`Cookie` objects, as iterating
    requests' jar does.  brisk's own methods: :meth:`extract` stores Set-Cookie values and :meth:`header_for`
    builds a Cookie header without urllib-style objects; :meth:`save`/:meth:`load` read and write curl's
    cookies.txt or JSON.  Domain filters accept requests' spelling with a leading dot.
    """

    _store: CookieStore

    def __init__(self, policy: Any = None) -> None:
        # http.cookiejar.CookieJar.__init__ is not called: its _cookies dict and policy are the store's here.
        self._store = CookieStore(_engine_policy(policy))

    @classmethod
    def _over(cls, store: CookieStore | None) -> RequestsCookieJar:
        """A jar showing *store* (a session's, made before anyone asked for the jar), or a new one."""
        jar = cls.__new__(cls)
        jar._store = store if store is not None else CookieStore()
        return jar

    # -- what http.cookiejar's own attributes hold, for code that reads them --
    @property
    def _policy(self) -> Any:
        return self.get_policy()

    @_policy.setter
    def _policy(self, policy: Any) -> None:
        self.set_policy(policy)

    @property
    def _cookies_lock(self) -> Any:
        return self._store._lock

    @property
    def _cookies(self) -> dict[str, dict[str, dict[str, Cookie]]]:
        """http.cookiejar's layout, domain -> path -> name -> cookie, domains spelled as requests does: a
        snapshot to read (changes to it do not reach the jar)."""
        view: dict[str, dict[str, dict[str, Cookie]]] = {}
        for cookie in self._store.snapshot():
            view.setdefault(cookie.spelled_domain, {}).setdefault(cookie.path, {})[cookie.name] = cookie
        return view

    def _sink(self) -> Any:
        """A subclass's own ``set_cookie``, to be given each cookie the engine accepts; None for ours."""
        set_cookie = type(self).set_cookie
        return None if set_cookie is _SET_COOKIE else self.set_cookie

    # -- brisk's engine, without urllib-style objects --
    def extract(
        self, set_cookie_values: Iterable[str], scheme: str, host: str, path: str, now: float | None = None
    ) -> list[Cookie]:
        """Store the cookies of a response's Set-Cookie values (RFC 6265 5.2 and 5.3); return those stored.

        *host* is the normalised request host, *path* the request path; *scheme* decides whether Secure
        cookies may be set.  Expired cookies and Max-Age <= 0 delete the cookie they replace.  A subclass's
        own ``extract_cookies`` is called instead, with urllib-style objects, as requests calls it.
        """
        if type(self).extract_cookies is not _EXTRACT_COOKIES:
            values = [set_cookie_values] if isinstance(set_cookie_values, str) else list(set_cookie_values)
            self.extract_cookies(ResponseView(values), request_view(scheme, host, path))
            return []
        return self._store.extract(set_cookie_values, scheme, host, path, now, sink=self._sink())

    def header_for(
        self, scheme: str, host: str, path: str, now: float | None = None, any_host: bool = True
    ) -> str | None:
        """The Cookie header value for a request to ``scheme://host/path`` (RFC 6265 5.4), or None.

        Longer paths first, then older cookies; expired cookies are purged; a cookie that would push the
        header past :data:`MAX_COOKIE_HEADER_BYTES` is left out. ``any_host=False`` leaves out cookies set
        without a domain (requests' "any host" cookies): brisk sends those only to the hosts the user asked
        for, never to a host a redirect led to.  A subclass's own ``add_cookie_header`` is asked instead.
        """
        if type(self).add_cookie_header is not _ADD_COOKIE_HEADER:
            request = request_view(scheme, host, path)
            self.add_cookie_header(request)
            return request.added.get("Cookie")
        return self._store.header_for(scheme, host, path, now, any_host)

    # -- http.cookiejar.CookieJar's API --
    def extract_cookies(self, response: Any, request: Any) -> None:
        """Store the cookies ``response`` sets in answer to ``request`` (urllib-style objects: requests'
        :class:`MockResponse` and :class:`MockRequest`, or urllib's own), under brisk's rules."""
        values = _set_cookie_values(response)
        if values:
            scheme, host, path = _target(request)
            self._store.extract(values, scheme, host, path, sink=self._sink(), request=request)

    def add_cookie_header(self, request: Any) -> None:
        """Give ``request`` (urllib-style) the Cookie header for its URL, unless it already has one."""
        scheme, host, path = _target(request)
        value = self._store.header_for(scheme, host, path)
        if value and not request.has_header("Cookie"):
            request.add_unredirected_header("Cookie", value)

    def make_cookies(self, response: Any, request: Any) -> list[Cookie]:  # type: ignore[override]
        """The cookies ``response`` sets that brisk's rules accept from ``request``'s URL, not stored."""
        return self._store.make(_set_cookie_values(response), *_target(request))

    def set_cookie_if_ok(self, cookie: Any, request: Any) -> None:
        """Store ``cookie`` if brisk's rules (and the policy) accept it in answer to ``request``."""
        self._store.admit(cookie, *_target(request), sink=self._sink(), request=request)

    def set_cookie(self, cookie: Any, *args: Any, **kwargs: Any) -> None:
        """Store *cookie* (a brisk :class:`Cookie` or an http.cookiejar one), replacing the same one."""
        self._store.add(cookie)

    def set_policy(self, policy: Any) -> None:
        """Add a filter: ``policy.set_ok(cookie, request)`` and ``return_ok(...)`` veto storing and sending.

        Covers requests' "disable cookies" recipe (a policy whose methods return False); brisk's RFC rules
        still apply underneath.  ``None`` or a :class:`BriskCookiePolicy`: the rules alone.
        """
        self._store.policy = _engine_policy(policy)

    def get_policy(self) -> Any:
        """The policy given to :meth:`set_policy`, or a :class:`BriskCookiePolicy` (the rules alone)."""
        policy = self._store.policy
        return _DEFAULT_POLICY if policy is None else policy

    def clear(self, domain: str | None = None, path: str | None = None, name: str | None = None) -> None:
        """Remove every cookie, or only those matching the given domain, path and name (no error when none
        does)."""
        self._store.clear(domain, path, name)

    def clear_session_cookies(self) -> None:
        """Remove the cookies without an expiry time."""
        self._store.clear_session_cookies()

    def clear_expired_cookies(self, now: float | None = None) -> None:
        """Remove the cookies whose expiry time has passed."""
        self._store.clear_expired_cookies(now)

    def __iter__(self) -> Iterator[Cookie]:  # type: ignore[override]
        return iter(self._store.snapshot())

    def __len__(self) -> int:
        return len(self._store)

    # -- requests' dict-like API --
    def set(self, name: str, value: Any, **kwargs: Any) -> Cookie | None:
        """Set a cookie (keywords as :func:`create_cookie`); ``value=None`` removes cookies of that name."""
        if value is None:
            remove_cookie_by_name(self, name, domain=kwargs.get("domain"), path=kwargs.get("path"))
            return None
        cookie = cookie_for_value(name, value, **kwargs)
        self.set_cookie(cookie)
        return cookie

    def _find_no_duplicates(self, name: str, domain: str | None = None, path: str | None = None) -> str:
        found = self._store.matching(name, domain, path)
        if not found:
            raise KeyError(f"name={name!r}, domain={domain!r}, path={path!r}")
        if len(found) > 1:
            raise CookieConflictError(f"There are multiple cookies with name, {name!r}")
        return found[0].value

    def _find(self, name: str, domain: str | None = None, path: str | None = None) -> str:
        """The value of the first cookie matching (requests' ``_find``: no conflict check)."""
        found = self._store.matching(name, domain, path)
        if not found:
            raise KeyError(f"name={name!r}, domain={domain!r}, path={path!r}")
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
        return bool(self._store.matching(name, None, None))

    def keys(self) -> list[str]:  # type: ignore[override]
        """Cookie names, as a list (requests returns lists)."""
        return [c.name for c in self]

    def values(self) -> list[str]:  # type: ignore[override]
        """Cookie values, as a list."""
        return [c.value for c in self]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """(name, value) pairs, as a list."""
        return [(c.name, c.value) for c in self]

    def iterkeys(self) -> Iterator[str]:
        """Cookie names, one by one."""
        return iter(self.keys())

    def itervalues(self) -> Iterator[str]:
        """Cookie values, one by one."""
        return iter(self.values())

    def iteritems(self) -> Iterator[tuple[str, str]]:
        """(name, value) pairs, one by one."""
        return iter(self.items())

    def popitem(self) -> tuple[str, str]:
        """Remove and return one (name, value) pair."""
        cookies = self._store.snapshot()
        if not cookies:
            raise KeyError("popitem(): cookie jar is empty")
        self._store.remove(cookies[:1])
        return cookies[0].name, cookies[0].value

    def list_domains(self) -> list[str]:
        """The distinct cookie domains, in storage order, spelled as requests does (``".example.com"`` for a
        cookie a Domain attribute widened, or one given with a dot)."""
        return list(dict.fromkeys(c.spelled_domain for c in self))

    def list_paths(self) -> list[str]:
        """The distinct cookie paths, in storage order."""
        return list(dict.fromkeys(c.path for c in self))

    def multiple_domains(self) -> bool:
        """True when the jar holds cookies for more than one domain."""
        return len({c.domain for c in self}) > 1

    def get_dict(self, domain: str | None = None, path: str | None = None) -> dict[str, str]:
        """Names to values for the cookies on *domain* and *path* (all when None)."""
        return {c.name: c.value for c in self._store.matching(None, domain, path)}

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        """Add cookies from another jar (copied, domain and path kept; an http.cookiejar jar too), a mapping,
        or (name, value) pairs."""
        if isinstance(other, http.cookiejar.CookieJar):
            for cookie in other:
                self.set_cookie(cookie.copy() if isinstance(cookie, Cookie) else copy.copy(cookie))
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
        new = RequestsCookieJar()
        new.set_policy(self.get_policy())
        new.update(self)
        return new

    # -- files --
    def save(self, path: str | os.PathLike[str], format: str = "netscape") -> None:
        """Write the unexpired cookies to *path* atomically, readable only by the owner (mode 0600).

        ``"netscape"``: curl's cookies.txt (``curl -b file`` reads it); session cookies get expiry 0, and
        cookies curl's format cannot express (domain ``""`` "any host" cookies, values with tabs) are left
        out.
        ``"json"``: every attribute, including SameSite, host-only and creation time.
        """
        self._store.save(path, format)

    def load(self, path: str | os.PathLike[str], format: str | None = None) -> None:
        """Add the cookies stored in *path* (``format`` "netscape", "json", or None to detect it).

        Expired cookies are skipped; session cookies (expiry 0 in cookies.txt) come back as session cookies.
        """
        self._store.load(path, format)

    # -- pickling, repr --
    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()  # the store drops its lock itself

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}[{', '.join(str(c) for c in self)}]>"


_SET_COOKIE = RequestsCookieJar.set_cookie
_EXTRACT_COOKIES = RequestsCookieJar.extract_cookies
_ADD_COOKIE_HEADER = RequestsCookieJar.add_cookie_header


# ---------------------------------------------------------------------------------------------------------
# requests.cookies' functions


def extract_cookies_to_jar(jar: Any, request: Any, response: Any) -> None:
    """Store in *jar* the cookies *response* set in answer to *request* (a prepared request).

    *response* is urllib3-shaped, as an adapter's raw response: its ``_original_response.msg`` holds the
    headers, as in requests; brisk's own raw response (``Response.raw``) is read too.  Nothing happens for
    a response with neither (a body set by hand).  *jar* is any http.cookiejar jar, brisk's included.
    """
    original = getattr(response, "_original_response", None)
    if original:
        headers: Any = original.msg
    else:
        from brisk._response.raw import RawResponse

        if not isinstance(response, RawResponse):
            return
        headers = response.headers
    jar.extract_cookies(MockResponse(headers), MockRequest(request))


def get_cookie_header(jar: Any, request: Any) -> str | None:
    """The Cookie header *jar* (any http.cookiejar jar) gives *request*, a prepared request, or None."""
    mock = MockRequest(request)
    jar.add_cookie_header(mock)
    return mock.get_new_headers().get("Cookie")


def remove_cookie_by_name(
    cookiejar: Any, name: str, domain: str | None = None, path: str | None = None
) -> None:
    """Remove every cookie called *name* (optionally only on *domain* / *path*); no error when none exists.

    brisk's jar matches *domain* in either spelling; another http.cookiejar jar as requests does, exactly.
    """
    if isinstance(cookiejar, RequestsCookieJar):
        cookiejar.clear(domain=domain, path=path, name=name)
        return
    doomed = [
        (c.domain, c.path, c.name)
        for c in cookiejar
        if c.name == name and (domain is None or c.domain == domain) and (path is None or c.path == path)
    ]
    for triple in doomed:
        cookiejar.clear(*triple)


@overload
def cookiejar_from_dict(
    cookie_dict: Any, cookiejar: None = None, overwrite: bool = True
) -> RequestsCookieJar: ...
@overload
def cookiejar_from_dict(cookie_dict: Any, cookiejar: _Jar, overwrite: bool = True) -> _Jar: ...
def cookiejar_from_dict(
    cookie_dict: Any, cookiejar: http.cookiejar.CookieJar | None = None, overwrite: bool = True
) -> http.cookiejar.CookieJar:
    """A jar holding the (any-host) cookies of *cookie_dict*, added to *cookiejar* when given.

    *cookiejar* may be an :class:`http.cookiejar.CookieJar` of the standard library: it then receives
    http.cookiejar cookies.  *cookie_dict* may also be a jar, whose cookies are copied with their domain and
    path (``Request(cookies=jar).prepare()`` comes here).  With ``overwrite=False`` names already in the jar
    keep their cookies.
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
    if not isinstance(cookiejar, http.cookiejar.CookieJar):
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


def _copy_cookie_jar(jar: Any) -> Any:
    """An independent copy of *jar* (requests' helper): its own ``copy()``, else a cleared shallow copy
    given copies of the cookies."""
    if jar is None:
        return None
    if hasattr(jar, "copy"):
        return jar.copy()
    new = copy.copy(jar)
    new.clear()
    for cookie in jar:
        new.set_cookie(copy.copy(cookie))
    return new


def _cookie_list(items: Iterable[Any]) -> list[Any]:
    """Cookies (brisk's, http.cookiejar's) as they are; (name, value) pairs as any-host cookies."""
    return [
        item if hasattr(item, "name") and hasattr(item, "value") else create_cookie(*item) for item in items
    ]


def _add_to_stdlib_jar(jar: http.cookiejar.CookieJar, cookies: Iterable[Any]) -> None:
    """Store cookies in an http.cookiejar jar of the standard library, as its own Cookie type."""
    from brisk._cookies.foreign_jar import stdlib_cookie

    for cookie in cookies:
        jar.set_cookie(stdlib_cookie(cookie))


def dict_from_cookiejar(cj: Iterable[Any]) -> dict[str, str]:
    """Names to values for every cookie in *cj* (a later cookie with the same name wins)."""
    return {cookie.name: cookie.value for cookie in cj}
