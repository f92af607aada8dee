"""The host and port of a URL's authority: validated and normalised as :mod:`brisk._core.url` documents.

Names are lower-cased ASCII (IDNA 2008 A-labels for non-ASCII names), IPv6 literals are checked with
``ipaddress`` and written in RFC 5952 form, ports are 1-65535. ``text`` is the whole URL, for the error
messages. ``ipaddress`` and ``idna`` are imported only by the hosts that need them (most URLs name an ASCII
host), keeping the parse of an ordinary URL free of them.
"""

from __future__ import annotations

from brisk._core.percent import show
from brisk.exceptions import InvalidURL

__all__ = ["parse_host", "parse_ipv6", "parse_port"]

# What a host may not hold: C0 controls, space, DEL and the URL's delimiters (WHATWG's forbidden host code
# points, with '%': an escape in a host is refused, not decoded).
_BAD_HOST_CHARS = frozenset([*map(chr, range(0x21)), "\x7f", *'"#%/:<>?@[\\]^`{|}'])
_ZONE = r"(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})+"


def _check_ascii_host(host: str, text: str) -> str:
    """Validate and lower-case an ASCII reg-name host."""
    if not _BAD_HOST_CHARS.isdisjoint(host):
        bad = next(c for c in host if c in _BAD_HOST_CHARS)
        raise InvalidURL(f"Invalid URL {show(text)}: invalid character {bad!r} in host")
    if not host or host[0] in ".*" or ".." in host:
        raise InvalidURL(f"Invalid URL {show(text)}: Invalid host {host!r}")
    host = host.lower()
    if "xn--" in host:
        import idna

        for label in host.split("."):
            if label.startswith("xn--"):
                try:
                    if len(label) > 63:
                        raise idna.IDNAError("label too long")
                    idna.decode(label)
                except (ValueError, IndexError) as exc:
                    raise InvalidURL(
                        f"Invalid URL {show(text)}: label {label!r} is not valid IDNA ({exc})"
                    ) from None
    return host


def parse_host(host: str, text: str) -> str:
    """Normalise a host given without port: reg-name, bracketed or bare IPv6. '' stays ''."""
    if not host:
        return host
    if host[0] == "[" and host[-1] == "]":
        return parse_ipv6(host[1:-1], text)
    if ":" in host:
        return parse_ipv6(host, text)  # copy_with(host="::1")
    if host.isascii():
        return _check_ascii_host(host, text)
    if len(host) > 1024:  # far beyond any DNS name; keeps IDNA's work bounded
        raise InvalidURL(f"Invalid URL {show(text)}: host name too long")
    import idna

    try:
        encoded = idna.encode(host, uts46=True).decode("ascii")
    except (ValueError, IndexError) as exc:
        raise InvalidURL(f"Invalid URL {show(text)}: host is not a valid IDNA 2008 name ({exc})") from None
    # UTS #46 maps look-alikes (U+FF0F fullwidth solidus, U+FF1F fullwidth question mark...) to ASCII
    # delimiters; check the result exactly like a host typed in ASCII.
    return _check_ascii_host(encoded, text)


def parse_ipv6(literal: str, text: str) -> str:
    zone = ""
    percent = literal.find("%")
    if percent >= 0:
        zone = literal[percent + 1 :]
        literal = literal[:percent]
        if zone.startswith("25") and len(zone) > 2:  # RFC 6874 "%25zone"; a bare "%zone" is accepted too
            zone = zone[2:]
        import re

        if not re.fullmatch(_ZONE, zone):
            raise InvalidURL(f"Invalid URL {show(text)}: invalid IPv6 zone id {zone!r}")
        zone = "%25" + zone
    import ipaddress

    try:
        address = ipaddress.IPv6Address(literal)
    except ValueError:
        raise InvalidURL(f"Invalid URL {show(text)}: invalid IPv6 address {literal!r}") from None
    return _ipv6_text(address.packed) + zone


def _ipv6_text(packed: bytes) -> str:
    """RFC 5952 text of an IPv6 address, in hexadecimal groups only, as WHATWG URL serialises it: the longest
    run of two or more zero groups (the first of equal runs) becomes ``::``. The standard library's
    ``compressed`` writes IPv4-mapped addresses in dotted form from Python 3.13 on (``::ffff:192.0.2.1``);
    a URL must not change with the interpreter."""
    groups = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    best_start, best_len = -1, 1
    start = -1
    for index, group in enumerate([*groups, 1]):  # the sentinel closes a run that reaches the end
        if group == 0:
            if start < 0:
                start = index
        elif start >= 0:
            if index - start > best_len:
                best_start, best_len = start, index - start
            start = -1
    text = [f"{group:x}" for group in groups]
    if best_start < 0:
        return ":".join(text)
    return ":".join(text[:best_start]) + "::" + ":".join(text[best_start + best_len :])


def parse_port(port: str, text: str) -> int | None:
    if not port:
        return None
    if port.isascii() and port.isdigit():
        digits = port.lstrip("0")
        if len(digits) <= 5 and digits and int(digits) <= 65535:
            return int(digits)
    raise InvalidURL(f"Invalid URL {show(text)}: Invalid port {port[:20]!r} (expected 1-65535)")
