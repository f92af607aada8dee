"""Reading the fields RFC 9111 decides by: ``Cache-Control`` directives and HTTP dates.

Parsing is lenient where RFC 9111 asks a cache to be (unknown directives are ignored, a directive's value
may be quoted) and strict where leniency would keep a response longer than its server meant: a ``max-age``
that is not a non-negative integer makes the response stale (RFC 9111 §4.2.1), an ``Expires`` that is not a
date means "already expired" (§5.3).
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable

__all__ = ["Directives", "age_seconds", "delta_seconds", "parse_cache_control", "parse_http_date"]

Directives = dict[str, str | None]

#: A delta-seconds value past this is taken as this (RFC 9111 §1.2.2: 2^31).
MAX_DELTA = 2**31


def parse_cache_control(values: Iterable[str]) -> Directives:
    """The directives of every ``Cache-Control`` line, by lower-case name; a directive without a value maps
    to None. The first occurrence of a directive wins (a repeated ``max-age`` is invalid anyway)."""
    directives: Directives = {}
    for line in values:
        for part in _split(line):
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            if not name:
                continue
            if sep:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                directives.setdefault(name, value)  # a repeated directive: the first one counts (§4.2.1)
            else:
                directives.setdefault(name, None)
    return directives


def _split(line: str) -> list[str]:
    """Split on commas outside quoted strings."""
    if '"' not in line:
        return line.split(",")
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def delta_seconds(value: str | None) -> int | None:
    """A directive's delta-seconds (``max-age=60``): the number, or None when absent or invalid."""
    if value is None or not value.isdigit() or not value.isascii():
        return None
    number = int(value)
    return number if number < MAX_DELTA else MAX_DELTA


def age_seconds(value: str | None) -> int | None:
    """An ``Age`` value: its first item, without parameters (``7200, 0`` and ``7200;foo=bar`` are 7200);
    None when that is not a delta-seconds (``7200.0``: the field is then ignored)."""
    if not value:
        return None
    first = value.split(",", 1)[0].split(";", 1)[0].strip()
    return delta_seconds(first)


_MONTHS = {name: index for index, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}  # fmt: skip
_TIME = r"(\d{2}):(\d{2}):(\d{2})"
# RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms; anything else is not a date.
# (names compared without case, as browsers do)
_IMF = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([a-z]{3}) (\d{4}) " + _TIME + r" GMT\Z", re.I)
_RFC850 = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([a-z]{3})-(\d{2}) "
    + _TIME
    + r" GMT\Z",
    re.I,
)
_ASCTIME = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([a-z]{3}) ([ \d]\d) " + _TIME + r" (\d{4})\Z", re.I)


def parse_http_date(value: str | None) -> float | None:
    """An HTTP date as a POSIX time; None when absent or not one of RFC 9110's three forms (a cache then
    takes an ``Expires`` as in the past, RFC 9111 §5.3)."""
    if not value:
        return None
    value = value.strip()
    if match := _IMF.match(value):
        day, month, year, hour, minute, second = match.groups()
    elif match := _RFC850.match(value):
        day, month, short_year, hour, minute, second = match.groups()
        # RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century
        year = str(2000 + int(short_year))
        if int(year) > time.gmtime().tm_year + 50:
            year = str(1900 + int(short_year))
    elif match := _ASCTIME.match(value):
        month, day, hour, minute, second, year = match.groups()
    else:
        return None
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        return float(calendar.timegm((int(year), number, int(day), int(hour), int(minute), int(second))))
    except (ValueError, OverflowError):
        return None
