"""Set-Cookie parsing and the matching rules of RFC 6265 (with the rfc6265bis amendments brisk follows).

Pure functions, no state: the cookie-date algorithm (section 5.1.1), domain matching (5.1.3), the default path
and path matching (5.1.4), the public suffix check, and the Set-Cookie parser (5.2).  The storage model that
uses them lives in :mod:`brisk.cookies`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "MAX_ATTRIBUTE_BYTES",
    "MAX_COOKIE_AGE",
    "MAX_COOKIE_BYTES",
    "ParsedCookie",
    "byte_len",
    "default_path",
    "domain_match",
    "has_ctl",
    "is_ip_host",
    "is_public_suffix",
    "parse_cookie_date",
    "parse_set_cookie",
    "path_match",
]

#: A cookie whose name and value together exceed this many bytes is ignored (rfc6265bis 5.6, step 4).
MAX_COOKIE_BYTES = 4096
#: An attribute whose value exceeds this many bytes is ignored (rfc6265bis 5.6, step 6).
MAX_ATTRIBUTE_BYTES = 1024
#: Expires and Max-Age are capped to this many seconds in the future (400 days, rfc6265bis 5.6.1/5.6.2).
MAX_COOKIE_AGE = 400 * 24 * 3600

# CTLs except HTAB (%x00-08 / %x0A-1F / %x7F): a Set-Cookie line holding one is dropped (rfc6265bis 5.6).
_CTLS = frozenset(chr(c) for c in (*range(0x09), *range(0x0A, 0x20), 0x7F))


def has_ctl(text: str) -> bool:
    """True when *text* holds a control character other than HTAB."""
    return not _CTLS.isdisjoint(text)


def byte_len(text: str) -> int:
    """Length of *text* in bytes on the wire (UTF-8 beyond ASCII: a safe overestimate)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


# --- 5.1.1: dates ------------------------------------------------------------------------------------------

# delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E; everything else (digits, letters, ":", the other
# control characters, bytes >= 0x7F) is part of a token.  Map each delimiter to a space and split on spaces;
# str.split() without an argument would wrongly split on \x0b, \x0c and \x1c-\x1f too.
_DELIMITERS = str.maketrans(
    dict.fromkeys((0x09, *range(0x20, 0x30), *range(0x3B, 0x41), *range(0x5B, 0x61), *range(0x7B, 0x7F)), " ")
)
_MONTHS = {name: i for i, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun",
                                             "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}  # fmt: skip
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _digits(token: str, start: int, lo: int, hi: int) -> tuple[int, int] | None:
    """Read lo..hi ASCII digits at *start*; the next character (if any) must not be a digit."""
    end = start
    while end < len(token) and end - start < hi and "0" <= token[end] <= "9":
        end += 1
    if end - start < lo or (end < len(token) and "0" <= token[end] <= "9"):
        return None
    return int(token[start:end]), end


def _time(token: str) -> tuple[int, int, int] | None:
    """hms-time = time-field ":" time-field ":" time-field, time-field = 1*2DIGIT, then anything non-digit."""
    fields = []
    pos = 0
    for i in range(3):
        got = _digits(token, pos, 1, 2)
        if got is None:
            return None
        value, pos = got
        fields.append(value)
        if i < 2:
            if pos >= len(token) or token[pos] != ":":
                return None
            pos += 1
    return fields[0], fields[1], fields[2]


def _days_from_epoch(year: int, month: int, day: int) -> int:
    """Days between 1970-01-01 and the given proleptic Gregorian date (negative before it)."""
    # Count from a year starting in March so the leap day is the last day of the counted year.
    y = year - 1 if month <= 2 else year
    era, year_of_era = divmod(y, 400)
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def parse_cookie_date(text: str) -> int | None:
    """Parse a cookie date with the algorithm of RFC 6265 section 5.1.1; unix seconds (UTC) or None.

    Tolerant the way browsers are: any order of tokens, any delimiters, two-digit years (70-99 -> 19xx,
    00-69 -> 20xx), trailing junk after numbers and month names; a missing part, a field out of range, a year
    before 1601 or a day that does not exist (Feb 30) makes the whole date invalid.
    """
    hms: tuple[int, int, int] | None = None
    day = month = year = None
    for token in text.translate(_DELIMITERS).split(" "):
        if not token:
            continue
        if hms is None and (got_time := _time(token)) is not None:
            hms = got_time
        elif day is None and (got := _digits(token, 0, 1, 2)) is not None:
            day = got[0]
        elif month is None and len(token) >= 3 and token[:3].lower() in _MONTHS:
            month = _MONTHS[token[:3].lower()]
        elif year is None and (got := _digits(token, 0, 2, 4)) is not None:
            year = got[0]
    if hms is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = hms
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if day > _DAYS_IN_MONTH[month - 1] + (1 if month == 2 and leap else 0):
        return None
    return _days_from_epoch(year, month, day) * 86400 + hour * 3600 + minute * 60 + second


# --- 5.1.3 / 5.1.4: matching -------------------------------------------------------------------------------


def is_ip_host(host: str) -> bool:
    """True for an IP literal: IPv6 (a colon) or a host ending in a number (the URL standard's IPv4 rule)."""
    return ":" in host or host.rpartition(".")[2].isdigit()


def domain_match(host: str, domain: str) -> bool:
    """RFC 6265 5.1.3: *host* equals *domain*, or is a name (not an IP) ending in ``"." + domain``."""
    if host == domain:
        return True
    return bool(domain) and host.endswith(domain) and host[-len(domain) - 1] == "." and not is_ip_host(host)


def default_path(request_path: str) -> str:
    """RFC 6265 5.1.4: the directory of the request path ("/" when it has at most one slash)."""
    if not request_path.startswith("/"):
        return "/"
    cut = request_path.rfind("/")
    return request_path[:cut] if cut > 0 else "/"


def path_match(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 5.1.4: "/foo" matches "/foo", "/foo/" and "/foo/bar" but not "/foobar"."""
    if not request_path.startswith(cookie_path):
        return False
    return (
        len(request_path) == len(cookie_path)
        or cookie_path.endswith("/")
        or request_path[len(cookie_path)] == "/"
    )


# --- public suffixes ---------------------------------------------------------------------------------------

_psl: Any = None


def is_public_suffix(domain: str) -> bool:
    """True when *domain* is a public suffix ("com", "co.uk", "github.io", or an unknown top-level label).

    Uses the list bundled with the ``publicsuffixlist`` package, loaded on first use (about 40 ms, once per
    process) and never fetched from the network.  Without the package every domain counts as public, so
    Domain cookies degrade to host-only or are refused: the safe direction.
    """
    global _psl
    if _psl is None:
        try:
            from publicsuffixlist import PublicSuffixList
        except ImportError:  # pragma: no cover - the package is a declared dependency
            return True
        _psl = PublicSuffixList()  # accept_unknown=True: an unlisted TLD is a public suffix (the "*" rule)
    return bool(_psl.is_public(domain))


# --- 5.2: the Set-Cookie parser ----------------------------------------------------------------------------


class ParsedCookie:
    """One Set-Cookie line after section 5.2, before the storage model judges it.

    ``expires`` is already resolved (Max-Age wins over Expires, capped at :data:`MAX_COOKIE_AGE`; 0 means
    "expire now"); ``domain`` is the last usable Domain attribute (no leading dot, lower-case) or None;
    ``path`` is the last Path attribute, or None when the default path applies.
    """

    __slots__ = (
        "domain",
        "expires",
        "http_only",
        "name",
        "path",
        "path_attribute",
        "same_site",
        "secure",
        "value",
    )

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value
        self.expires: int | None = None
        self.domain: str | None = None
        self.path: str | None = None
        self.path_attribute = False
        self.secure = False
        self.http_only = False
        self.same_site: str | None = None


_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


def _max_age(value: str, now: int) -> int | None:
    # First character a DIGIT or "-", the rest digits; anything else and the attribute is ignored.
    digits = value[1:] if value.startswith("-") else value
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    if value.startswith("-") or int(digits) == 0:
        return 0  # "the earliest representable date": expire now
    return now + min(int(digits), MAX_COOKIE_AGE)  # at most 1024 digits: int() accepts them


def parse_set_cookie(line: str, now: int) -> ParsedCookie | None:
    """Parse one Set-Cookie header value (RFC 6265 5.2); None when the cookie must be ignored.

    Choices: a line without "=" in its first part, or with an empty name, is ignored (RFC 6265; rfc6265bis
    would store a nameless cookie, which the name-keyed requests API cannot address and which served the
    ``=__Host-x`` prefix bypass).  A quoted value is kept with its quotes, as browsers send it back.
    """
    if has_ctl(line):
        return None
    pair, _, attributes = line.partition(";")
    name, eq, value = pair.partition("=")
    if not eq:
        return None
    name = name.strip(" \t")
    value = value.strip(" \t")
    if not name or byte_len(name) + byte_len(value) > MAX_COOKIE_BYTES:
        return None
    cookie = ParsedCookie(name, value)
    max_age: int | None = None
    expires: int | None = None
    for attribute in attributes.split(";") if attributes else ():
        key, _, val = attribute.partition("=")
        key = key.strip(" \t").lower()
        val = val.strip(" \t")
        if byte_len(val) > MAX_ATTRIBUTE_BYTES:
            continue
        if key == "expires":
            when = parse_cookie_date(val)
            if when is not None:
                expires = min(when, now + MAX_COOKIE_AGE)
        elif key == "max-age":
            got = _max_age(val, now)
            if got is not None:
                max_age = got
        elif key == "domain":
            domain = val[1:] if val.startswith(".") else val
            if domain:  # an empty Domain is ignored (RFC 6265 5.2.3), keeping any earlier one
                cookie.domain = domain.lower()
        elif key == "path":
            # An invalid Path yields the default path, overriding an earlier valid one (5.2.4).
            cookie.path = val if val.startswith("/") else None
            cookie.path_attribute = True
        elif key == "secure":
            cookie.secure = True
        elif key == "httponly":
            cookie.http_only = True
        elif key == "samesite":
            cookie.same_site = _SAME_SITE.get(val.lower())
    cookie.expires = max_age if max_age is not None else expires
    return cookie
