"""The Cookie record and the conversions requests code relies on (``create_cookie``, ``morsel_to_cookie``).

Re-exported by :mod:`brisk.cookies`, which holds the jar and its RFC 6265 engine.
"""

from __future__ import annotations

import time

from brisk._cookies.parse import has_ctl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Cookie",
    "check_name_value",
    "coerce_cookie",
    "cookie_for_value",
    "create_cookie",
    "morsel_to_cookie",
    "normalise_domain",
]


class Cookie:
    """One stored cookie.

    ``domain`` is lower-case without a leading dot (``""``: any host, see the module docstring);
    ``host_only`` is True unless a valid Domain attribute widened the cookie to subdomains; ``expires`` is
    unix seconds or None for a session cookie; ``same_site`` is "Strict", "Lax", "None" or None.
    ``dotted`` only says how requests would spell the domain (``list_domains()``, ``jar._cookies``): with a
    leading dot for a Domain attribute from the network or a domain given with one, as http.cookiejar
    stores them; it plays no part in matching.
    The read-only attributes ``port``, ``version``, ``discard``, ``comment``, ``rfc2109``... and the
    ``*_nonstandard_attr`` methods exist for code written against :class:`http.cookiejar.Cookie`.
    """

    __slots__ = (
        "creation_time",
        "domain",
        "dotted",
        "expires",
        "host_only",
        "http_only",
        "last_access_time",
        "name",
        "path",
        "same_site",
        "secure",
        "value",
    )

    port = None
    port_specified = False
    version = 0
    comment = None
    comment_url = None
    rfc2109 = False
    path_specified = True

    def __init__(
        self,
        name: str,
        value: str,
        *,
        domain: str = "",
        path: str = "/",
        secure: bool = False,
        http_only: bool = False,
        same_site: str | None = None,
        expires: int | None = None,
        host_only: bool = False,
        creation_time: float | None = None,
        last_access_time: float | None = None,
        dotted: bool | None = None,
    ) -> None:
        self.name = name
        self.value = value
        self.domain = domain
        self.path = path
        self.secure = secure
        self.http_only = http_only
        self.same_site = same_site
        self.expires = expires
        self.host_only = host_only
        self.creation_time = time.time() if creation_time is None else creation_time
        self.last_access_time = self.creation_time if last_access_time is None else last_access_time
        # by default as http.cookiejar spells a cookie that reaches subdomains: ".example.com"
        self.dotted = (not host_only and bool(domain)) if dotted is None else dotted

    # -- http.cookiejar.Cookie compatibility --
    @property
    def discard(self) -> bool:
        """True for a session cookie (no expiry)."""
        return self.expires is None

    @property
    def domain_specified(self) -> bool:
        """True when the cookie reaches subdomains (a Domain attribute was accepted)."""
        return not self.host_only and bool(self.domain)

    domain_initial_dot = domain_specified

    def is_expired(self, now: float | None = None) -> bool:
        """True when the cookie's expiry time has passed."""
        if self.expires is None:
            return False
        return self.expires <= (time.time() if now is None else now)

    def has_nonstandard_attr(self, name: str) -> bool:
        """http.cookiejar API: "HttpOnly" and "SameSite" are the attributes brisk keeps."""
        key = name.lower()
        return (key == "httponly" and self.http_only) or (key == "samesite" and self.same_site is not None)

    def get_nonstandard_attr(self, name: str, default: Any = None) -> Any:
        """http.cookiejar API: ``""`` for HttpOnly when set, the SameSite value, else *default*."""
        key = name.lower()
        if key == "httponly" and self.http_only:
            return ""
        if key == "samesite" and self.same_site is not None:
            return self.same_site
        return default

    def set_nonstandard_attr(self, name: str, value: Any) -> None:
        """http.cookiejar API: sets HttpOnly or SameSite; other attributes are not kept."""
        key = name.lower()
        if key == "httponly":
            self.http_only = True
        elif key == "samesite":
            self.same_site = _SAME_SITE.get(str(value).lower()) if value is not None else None

    @property
    def _rest(self) -> dict[str, Any]:
        """http.cookiejar's nonstandard attributes, as code reading ``cookie._rest`` expects: ``HttpOnly``
        (True) and ``SameSite`` when set. A copy: change them with ``set_nonstandard_attr``."""
        rest: dict[str, Any] = {}
        if self.http_only:
            rest["HttpOnly"] = True
        if self.same_site is not None:
            rest["SameSite"] = self.same_site
        return rest

    def copy(self) -> Cookie:
        """An independent copy with the same attributes and times."""
        return Cookie(
            self.name,
            self.value,
            domain=self.domain,
            path=self.path,
            secure=self.secure,
            http_only=self.http_only,
            same_site=self.same_site,
            expires=self.expires,
            host_only=self.host_only,
            creation_time=self.creation_time,
            last_access_time=self.last_access_time,
            dotted=self.dotted,
        )

    @property
    def spelled_domain(self) -> str:
        """The domain as requests reports it: ``".example.com"`` for a Domain-attribute cookie."""
        return "." + self.domain if self.dotted and self.domain else self.domain

    def _fields(self) -> tuple[Any, ...]:
        return (self.name, self.value, self.domain, self.path, self.secure, self.http_only, self.same_site,
                self.expires, self.host_only)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cookie):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __str__(self) -> str:
        return f"<Cookie {self.name}={self.value} for {self.domain}{self.path}>"

    def __repr__(self) -> str:
        return (
            f"Cookie(name={self.name!r}, value={self.value!r}, domain={self.domain!r}, path={self.path!r}, "
            f"secure={self.secure}, http_only={self.http_only}, same_site={self.same_site!r}, "
            f"expires={self.expires!r}, host_only={self.host_only})"
        )


# ---------------------------------------------------------------------------------------------------------
# helpers shared by the jar and the requests-style functions


_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


def normalise_domain(domain: str) -> str:
    """Lower-case, no leading dot, IDNA A-labels (requests users write ".example.com")."""
    domain = domain[1:] if domain.startswith(".") else domain
    if not domain.isascii():
        import idna

        domain = idna.encode(domain, uts46=True).decode("ascii")
    return domain.lower()


def check_name_value(name: str, value: str) -> None:
    # The header is "name=value; ...": a CTL would inject header lines, ";" a second cookie, "=" in the
    # name a different name.  Refuse them from the API as the parser refuses them from the network.
    if not name or "=" in name or ";" in name or ";" in value or has_ctl(name) or has_ctl(value):
        raise ValueError(f"invalid cookie name or value: {name!r}={value!r}")


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return str(value)


def coerce_cookie(cookie: Any) -> Cookie:
    """Accept a brisk Cookie or anything shaped like an http.cookiejar.Cookie."""
    if isinstance(cookie, Cookie):
        return cookie
    raw_domain = str(getattr(cookie, "domain", "") or "")
    # http.cookiejar stores Domain-attribute cookies with a leading dot, host cookies without one and with
    # domain_specified False.
    host_only = (
        bool(raw_domain) and not raw_domain.startswith(".") and not getattr(cookie, "domain_specified", True)
    )
    has_attr = getattr(cookie, "has_nonstandard_attr", None)
    get_attr = getattr(cookie, "get_nonstandard_attr", None)
    http_only = (
        bool(has_attr("HttpOnly")) if callable(has_attr) else bool(getattr(cookie, "http_only", False))
    )
    same_site = get_attr("SameSite") if callable(get_attr) else getattr(cookie, "same_site", None)
    expires = getattr(cookie, "expires", None)
    return Cookie(
        _as_text(cookie.name),
        "" if cookie.value is None else _as_text(cookie.value),
        domain=normalise_domain(raw_domain),
        path=str(getattr(cookie, "path", "/") or "/"),
        secure=bool(getattr(cookie, "secure", False)),
        http_only=http_only,
        same_site=same_site if same_site in ("Strict", "Lax", "None") else None,
        expires=None if expires is None else int(expires),
        host_only=host_only,
        dotted=raw_domain.startswith("."),
    )


_CREATE_COOKIE_ARGS = frozenset({
    "version", "port", "port_specified", "domain", "domain_specified", "domain_initial_dot", "path",
    "path_specified", "secure", "expires", "discard", "comment", "comment_url", "rest", "rfc2109",
    "http_only", "same_site", "host_only",
})  # fmt: skip


def create_cookie(name: str, value: Any, **kwargs: Any) -> Cookie:
    """requests' ``create_cookie``: a cookie for any host (``domain=""``) on path "/" unless told otherwise.

    Accepts requests' keywords (``domain``, ``path``, ``secure``, ``expires``, ``rest={"HttpOnly": None}``;
    the http.cookiejar-only ones are ignored) and brisk's ``http_only``, ``same_site``, ``host_only``.
    """
    unexpected = set(kwargs) - _CREATE_COOKIE_ARGS
    if unexpected:
        raise TypeError(f"create_cookie() got unexpected keyword arguments: {sorted(unexpected)}")
    rest = kwargs.get("rest") or {}
    rest_keys = {str(k).lower(): v for k, v in rest.items()}
    same_site = kwargs.get("same_site", rest_keys.get("samesite"))
    if isinstance(same_site, str):
        same_site = _SAME_SITE.get(same_site.lower())
    expires = kwargs.get("expires")
    text_name, text_value = _as_text(name), _as_text(value)
    check_name_value(text_name, text_value)
    domain = kwargs.get("domain") or ""
    return Cookie(
        text_name,
        text_value,
        domain=normalise_domain(domain),
        path=kwargs.get("path") or "/",
        secure=bool(kwargs.get("secure", False)),
        http_only=bool(kwargs.get("http_only", "httponly" in rest_keys)),
        same_site=same_site,
        expires=None if expires is None else int(expires),
        host_only=bool(kwargs.get("host_only", False)),
        dotted=domain.startswith("."),  # kept as given, as requests keeps the domain
    )


def cookie_for_value(name: str, value: Any, **kwargs: Any) -> Cookie:
    """The cookie ``jar.set(name, value, **kwargs)`` stores: from a :class:`http.cookies.Morsel` value as
    :func:`morsel_to_cookie` makes it (as requests does), else :func:`create_cookie`'s."""
    if not isinstance(value, str | bytes | bytearray | int | float):
        from http.cookies import Morsel

        if isinstance(value, Morsel):
            return morsel_to_cookie(value)
    return create_cookie(name, value, **kwargs)


def morsel_to_cookie(morsel: Any) -> Cookie:
    """A cookie from an :class:`http.cookies.Morsel` (requests' ``morsel_to_cookie``).

    As in requests, a ``max-age`` that is not an integer raises ``TypeError``, an ``expires`` that is not a
    string ``TypeError`` and one that is not a date ``ValueError`` (any date RFC 6265 reads is taken)."""
    expires: int | None = None
    if morsel["max-age"]:
        try:
            expires = int(time.time()) + int(morsel["max-age"])
        except ValueError:
            raise TypeError(f"max-age: {morsel['max-age']} must be integer") from None
    elif morsel["expires"]:
        from brisk._cookies.parse import parse_cookie_date

        if not isinstance(morsel["expires"], str):
            raise TypeError(f"expires: {morsel['expires']!r} must be a date string")
        expires = parse_cookie_date(morsel["expires"])
        if expires is None:
            raise ValueError(f"expires: {morsel['expires']!r} is not a date")
    return create_cookie(
        morsel.key,
        morsel.value,
        domain=morsel["domain"],
        path=morsel["path"],
        secure=bool(morsel["secure"]),
        http_only=bool(morsel["httponly"]),
        same_site=morsel["samesite"] or None,
        expires=expires,
    )
