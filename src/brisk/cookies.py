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
from collections.abc import Iterable, Mapping, MutableMapping
from http.cookies import Morsel
from typing import TYPE_CHECKING, Any, TypeVar, overload
from urllib.parse import urlparse, urlunparse

from brisk._cookies.engine import MAX_COOKIE_HEADER_BYTES, MAX_COOKIES_PER_DOMAIN, MAX_COOKIES_TOTAL
from brisk._cookies.foreign_jar import stdlib_cookie
from brisk._cookies.jar import BriskCookiePolicy, CookieConflictError, RequestsCookieJar
from brisk._cookies.model import Cookie, create_cookie, morsel_to_cookie
from brisk._cookies.parse import MAX_COOKIE_BYTES
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


# ---------------------------------------------------------------------------------------------------------
# urllib-style requests and responses (the jar itself, RequestsCookieJar, is in brisk._cookies.jar)


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
# requests.cookies' functions


def extract_cookies_to_jar(jar: Any, request: Any, response: Any) -> None:
    """Store in *jar* the cookies *response* set in answer to *request* (a prepared request).

    *response* is urllib3-shaped, as an adapter's raw response: its ``_original_response.msg`` holds the
    headers, as in requests; brisk's own raw response (``Response.raw``) is read too.  Nothing happens for
    a response with neither (a body set by hand).  *jar* is any http.cookiejar jar, brisk's included.
    """
    from brisk._response.raw import RawResponse

    original = getattr(response, "_original_response", None)
    if original:
        headers: Any = original.msg
    elif isinstance(response, RawResponse):
        headers = response.headers
    else:
        return
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
    for cookie in cookies:
        jar.set_cookie(stdlib_cookie(cookie))


def dict_from_cookiejar(cj: Iterable[Any]) -> dict[str, str]:
    """Names to values for every cookie in *cj* (a later cookie with the same name wins)."""
    return {cookie.name: cookie.value for cookie in cj}
