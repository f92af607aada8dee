"""The jar behind ``brisk.cookies.RequestsCookieJar``: an :class:`http.cookiejar.CookieJar` whose cookies live
in brisk's engine (:class:`brisk._cookies.engine.CookieStore`), with requests' dict-like API on top.

:mod:`brisk.cookies` is the public module (it describes the rules and holds requests' functions); the
classes here keep ``brisk.cookies`` as their ``__module__``, where pickles and users find them.
"""

from __future__ import annotations

import copy
import http.cookiejar
import os
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from urllib.parse import urlsplit

from brisk._cookies.engine import CookieStore, goes_to, request_view
from brisk._cookies.foreign_jar import ResponseView
from brisk._cookies.model import Cookie, coerce_cookie, cookie_for_value
from brisk._core.url import URL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["BriskCookiePolicy", "CookieConflictError", "RequestsCookieJar"]


class CookieConflictError(RuntimeError):
    """Several cookies match the name given; pass ``domain=`` and ``path=`` to ``get``/``set`` to pick one."""

    __module__ = "brisk.cookies"


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


class BriskCookiePolicy(http.cookiejar.CookiePolicy):
    """The policy of a :class:`RequestsCookieJar` that was given none: brisk's engine rules, as a policy.

    The jar applies those rules itself and does not ask this object; it answers for code that asks a jar's
    policy (``jar.get_policy().set_ok(cookie, request)``): ``set_ok`` -- would brisk accept ``cookie`` in
    answer to ``request``? -- and ``return_ok`` -- would brisk send it with ``request``?
    """

    __module__ = "brisk.cookies"

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
    brisk's RFC 6265 engine (see :mod:`brisk.cookies`).

    Dict view: names to values (``jar["k"]``, ``jar.get("k", domain=..., path=...)``, ``get_dict()``,
    ``keys()``/``values()``/``items()`` as lists); ``KeyError`` when a name is missing and
    :class:`CookieConflictError` when it is ambiguous.  Iterating yields :class:`Cookie` objects, as iterating
    requests' jar does.  brisk's own methods: :meth:`extract` stores Set-Cookie values and :meth:`header_for`
    builds a Cookie header without urllib-style objects; :meth:`save`/:meth:`load` read and write curl's
    cookies.txt or JSON.  Domain filters accept requests' spelling with a leading dot.
    """

    __module__ = "brisk.cookies"

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
            self.clear(domain=kwargs.get("domain"), path=kwargs.get("path"), name=name)
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
        self.clear(name=name)

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
