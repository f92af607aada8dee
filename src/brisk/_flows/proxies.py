"""Choosing the proxy for a URL: explicit argument > session setting > environment.

``proxies`` dicts use requests' keys, most specific first: ``"https://host"``, ``"https"``, ``"all://host"``,
``"all"``. A value of ``None`` or ``""`` means "no proxy" for that key. With ``trust_env`` the environment
is consulted last: ``http_proxy``, ``https_proxy``, ``all_proxy`` (lower case wins over upper case; the upper
case ``HTTP_PROXY`` is ignored inside CGI programs, where any client can set it: "httpoxy") and
``no_proxy``, whose comma-separated entries are ``*``, host names (matching the host and its subdomains;
a leading dot is ignored), IP addresses, CIDR ranges (``10.0.0.0/8``, ``::1/128``), each optionally with
``:port``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._session.environment import Environment

__all__ = ["environment_proxies", "proxy_for", "should_bypass"]

_UNSET = object()


def _lookup(url: URL, proxies: Mapping[str, str | None]) -> object:
    """The proxies entry for ``url``: a URL, None ("no proxy"), or _UNSET when no key applies."""
    for key in (f"{url.scheme}://{url.host}", url.scheme, f"all://{url.host}", "all"):
        if key in proxies:
            return proxies[key]
    return _UNSET


def environment_proxies() -> dict[str, str]:
    """``*_proxy`` variables from the environment, keyed by scheme (``all`` for all_proxy)."""
    env = os.environ
    in_cgi = "REQUEST_METHOD" in env
    found: dict[str, str] = {}
    for scheme in ("http", "https", "all", "ws", "wss"):
        value = env.get(f"{scheme}_proxy")
        if not value and not (in_cgi and scheme == "http"):
            value = env.get(f"{scheme.upper()}_PROXY")
        if value:
            found[scheme] = value
    return found


def proxy_for(
    url: URL,
    request_proxies: Mapping[str, str | None] | None,
    session_proxies: Mapping[str, str | None] | None,
    env: Environment | None,
) -> str | None:
    """The proxy URL to use for ``url``, or None for a direct connection. ``env`` is the session's
    snapshot of the environment (None when ``trust_env`` is off)."""
    for proxies in (request_proxies, session_proxies):
        if proxies:
            found = _lookup(url, proxies)
            if found is not _UNSET:
                return found or None  # type: ignore[return-value]
    if env is None or not env.proxies:
        return None
    found = _lookup(url, env.proxies)
    if found is _UNSET or not found:
        return None
    no_proxy = (
        (request_proxies or {}).get("no_proxy") or (session_proxies or {}).get("no_proxy") or env.no_proxy
    )
    if no_proxy and should_bypass(url, no_proxy):
        return None
    return found  # type: ignore[return-value]


def should_bypass(url: URL, no_proxy: str) -> bool:
    """Does a ``no_proxy`` value exempt ``url`` from the proxy?"""
    host = url.host.lower().rstrip(".")
    port = url.effective_port
    for raw in no_proxy.replace(" ", "").split(","):
        entry = raw.lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_host, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if "/" in entry_host:
            if _in_network(host, entry_host):
                return True
            continue
        entry_host = entry_host.lstrip(".").rstrip(".")
        if host == entry_host or host.endswith("." + entry_host):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [::1]:8080
        end = entry.find("]")
        host, rest = entry[1:end], entry[end + 1 :]
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit():
            return host, int(port)
    return entry, None


def _in_network(host: str, cidr: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
