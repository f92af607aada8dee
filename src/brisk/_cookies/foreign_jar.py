"""http.cookiejar jars as ``Session.cookies``: the jar applies its own policy, brisk shows it the traffic.

requests accepts any :class:`http.cookiejar.CookieJar` as ``Session.cookies``; the usual reason is persistence
(``MozillaCookieJar("cookies.txt")`` or ``LWPCookieJar``: load, browse, save).  brisk's own jar has its own
engine (:mod:`brisk.cookies`); a stdlib jar is asked instead, with the two calls urllib makes:
``jar.add_cookie_header(request)`` before each attempt of each hop and ``jar.extract_cookies(response,
request)`` after it.  The jar's policy (``DefaultCookiePolicy`` unless the user set another) then applies its
domain, path, Secure, port and expiry rules to that hop's URL, so a cookie follows a redirect only where its
own rules let it.  Two rules of brisk's are added on top: a cookie set without a Domain attribute goes to
its own host only (the stdlib policy also sends it to subdomains), and on a hop that a redirect took to
another origin, cookies without a domain (requests' "any host" cookies, from ``cookiejar_from_dict`` or
``create_cookie``) stay behind, as they do in brisk's jar.

The two view classes carry the little of ``urllib.request.Request`` and ``http.client.HTTPResponse`` that
http.cookiejar reads.  Only a session or a function given a stdlib jar imports this module, and
http.cookiejar itself is imported only where a stdlib ``Cookie`` is built (the user has imported it anyway).
"""

from __future__ import annotations

from brisk._cookies.model import coerce_cookie

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.cookiejar
    from typing import Any, TypeVar

    from brisk._core.url import URL
else:
    from brisk._core.typing_lite import TypeVar

__all__ = [
    "RequestView",
    "ResponseView",
    "cookie_header",
    "extract_cookies",
    "raw_set_cookie_values",
    "stdlib_cookie",
]

_T = TypeVar("_T")


class RequestView:
    """One attempt of one hop, as a ``urllib.request.Request`` looks to http.cookiejar (a stdlib jar, or
    a cookie policy given to brisk's jar with ``set_policy``).

    Only the headers the jar adds are visible: a Cookie header left by an earlier attempt would make
    ``add_cookie_header`` add nothing, and a Cookie header the user set is honoured before the jar is asked.
    """

    unverifiable = False  # the user asked for this URL, or for one that redirected here

    def __init__(self, scheme: str, host: str, host_header: str, target: str) -> None:
        self.type = scheme
        self.host = host_header  # host[:port], as urllib's Request.host; the policy reads the port here
        # urllib's origin_req_host is the bare request host; brackets keep an IPv6 host as urllib spells it
        self.origin_req_host = f"[{host}]" if ":" in host else host
        self._url = f"{scheme}://{host_header}{target}"  # no userinfo, no fragment
        self.added: dict[str, str] = {}  # names as urllib stores them ("Cookie")

    @classmethod
    def of(cls, url: URL) -> RequestView:
        return cls(url.scheme, url.host, url.host_header, url.target)

    def get_full_url(self) -> str:
        return self._url

    def get_host(self) -> str:
        return self.host

    def get_type(self) -> str:
        return self.type

    def get_origin_req_host(self) -> str:
        return self.origin_req_host

    def is_unverifiable(self) -> bool:
        return self.unverifiable

    def has_header(self, name: str) -> bool:
        return name.capitalize() in self.added

    def get_header(self, name: str, default: _T | None = None) -> str | _T | None:
        return self.added.get(name.capitalize(), default)

    def header_items(self) -> list[tuple[str, str]]:
        return list(self.added.items())

    def add_unredirected_header(self, name: str, value: str) -> None:
        self.added[name.capitalize()] = value


class ResponseView:
    """A response's Set-Cookie values, as ``response.info().get_all(...)`` gives them to http.cookiejar.

    Set-Cookie2 (RFC 2965, obsoleted by RFC 6265) is not shown: no current server sends it.
    """

    def __init__(self, set_cookie: list[str]) -> None:
        self._set_cookie = set_cookie

    def info(self) -> ResponseView:
        return self

    def get_all(self, name: str, default: _T | None = None) -> list[str] | _T | None:
        if name.lower() == "set-cookie" and self._set_cookie:
            return list(self._set_cookie)
        return default


def raw_set_cookie_values(raw: Any) -> list[str]:
    """The Set-Cookie values of a urllib3-shaped raw response (a cassette's, a test double's, a cache's), one
    per header line, from ``raw._original_response.msg`` where requests reads them; ``response.headers``
    made from a dict may have joined them with commas. ``[]`` when the raw has no such message."""
    original = getattr(raw, "_original_response", None)
    get_all = getattr(getattr(original, "msg", None), "get_all", None) if original else None
    if get_all is None:
        return []
    return [str(value) for value in get_all("Set-Cookie", None) or ()]


def cookie_header(jar: Any, url: URL, any_host: bool = True) -> str | None:
    """The Cookie header that *jar*, an http.cookiejar jar, chooses for a request to *url*, or None.

    Two of brisk's rules hold on top of the jar's policy: a cookie stored without a Domain attribute goes
    to its own host only (DefaultCookiePolicy also sends it to subdomains), and ``any_host=False`` (a hop
    on another origin than the one the user asked for) leaves out the cookies without a domain.
    """
    hosts = (url.host, url.host + ".local")  # http.cookiejar stores a dotless host as "localhost.local"
    if any(not _may_go(cookie, hosts, any_host) for cookie in jar):
        jar = _only(jar, hosts, any_host)
    request = RequestView.of(url)
    jar.add_cookie_header(request)
    return request.added.get("Cookie")


def _may_go(cookie: Any, hosts: tuple[str, str], any_host: bool) -> bool:
    """Is ``cookie`` one the jar may consider for a request to a host in ``hosts``?"""
    if not cookie.domain:
        return any_host
    return bool(cookie.domain_specified) or cookie.domain.lower() in hosts


def _only(jar: Any, hosts: tuple[str, str], any_host: bool) -> Any:
    """A throwaway jar with *jar*'s policy and those of its cookies (the same objects) that ``_may_go``."""
    from http.cookiejar import CookieJar

    # CookieJar has set_policy() but no getter; every CookieJar keeps its policy in _policy.
    kept = CookieJar(getattr(jar, "_policy", None))
    for cookie in jar:
        if _may_go(cookie, hosts, any_host):
            kept.set_cookie(cookie)
    return kept


def extract_cookies(jar: Any, set_cookie: list[str], url: URL) -> None:
    """Let *jar*, an http.cookiejar jar, store what it accepts of *set_cookie*, received from *url*."""
    jar.extract_cookies(ResponseView(set_cookie), RequestView.of(url))


def stdlib_cookie(cookie: Any) -> http.cookiejar.Cookie:
    """*cookie* (brisk's or anything shaped like one) as an :class:`http.cookiejar.Cookie`, for stdlib jars.

    An http.cookiejar Cookie is returned as it is.  A cookie that reaches subdomains gets the leading dot
    http.cookiejar gives Domain-attribute cookies; a host-only cookie keeps the bare host; a cookie without
    a domain keeps ``""``, which DefaultCookiePolicy (like requests) sends to any host.
    """
    from http.cookiejar import Cookie as StdlibCookie

    if isinstance(cookie, StdlibCookie):
        return cookie
    own = coerce_cookie(cookie)
    wide = own.domain_specified
    rest: dict[str, str] = {}
    if own.http_only:
        rest["HTTPOnly"] = ""  # the spelling MozillaCookieJar reads and writes ("#HttpOnly_" lines)
    if own.same_site is not None:
        rest["SameSite"] = own.same_site
    return StdlibCookie(
        version=0,
        name=own.name,
        value=own.value,
        port=None,
        port_specified=False,
        domain="." + own.domain if wide else own.domain,
        domain_specified=wide,
        domain_initial_dot=wide,
        path=own.path,
        path_specified=True,
        secure=own.secure,
        expires=own.expires,
        discard=own.expires is None,
        comment=None,
        comment_url=None,
        rest=rest,
    )
