"""Reading the fields RFC 9111 decides by: ``Cache-Control`` directives and HTTP dates.

Parsing is lenient where RFC 9111 asks a cache to be (unknown directives are ignored, a directive's value
may be quoted) and strict where leniency would keep a response longer than its server meant: a ``max-age``
that is not a non-negative integer makes the response stale (RFC 9111 §4.2.1), an ``Expires`` that is not a
date means "already expired" (§5.3).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable

__all__ = ["Directives", "delta_seconds", "parse_cache_control", "parse_http_date"]

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
                if name in directives and name in ("max-age", "s-maxage", "min-fresh", "max-stale"):
                    directives[name] = "invalid"  # conflicting values: none of them is trusted
                    continue
                directives.setdefault(name, value)
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


_MONTHS = {name: index for index, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}  # fmt: skip
_IMF = re.compile(r"[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT\Z")


def parse_http_date(value: str | None) -> float | None:
    """An HTTP date (IMF-fixdate, and the obsolete RFC 850 and asctime forms) as a POSIX time; None when
    absent or not a date."""
    if not value:
        return None
    value = value.strip()
    match = _IMF.match(value)
    if match is not None:
        day, month, year, hour, minute, second = match.groups()
        number = _MONTHS.get(month.lower())
        if number is None:
            return None
        try:
            return float(calendar.timegm((int(year), number, int(day), int(hour), int(minute), int(second))))
        except (ValueError, OverflowError):
            return None
    from email.utils import mktime_tz, parsedate_tz  # the obsolete forms: rare, so loaded only for them

    try:
        parsed = parsedate_tz(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    try:
        return float(mktime_tz(parsed))
    except (OverflowError, ValueError):
        return None
