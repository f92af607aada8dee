"""Redirect rules, as pure functions: which request a redirect leads to, and what it may carry.

- 303, and 301/302 for anything but HEAD, become GET (302 as browsers and requests do); every redirect
  except 307/308 drops the body and its Content-Length/Content-Type/Transfer-Encoding.
- 307/308 resend the same method and body; a body that cannot be replayed is an error, never an empty body.
- ``Authorization`` and ``Cookie`` headers are removed whenever the new URL is a different origin (scheme,
  host, port). The one exception is the upgrade from http to https on the same host with default ports
  (requests CVE-2018-18074, curl CVE-2022-27776).
- ``Proxy-Authorization`` is removed on every redirect, as requests' ``rebuild_proxies`` does: it belongs to
  the route, not the origin, and the http to https upgrade may leave the proxy behind (requests
  CVE-2023-32681, urllib3 CVE-2024-37891). The session carries a proxy's credentials to the hops that go
  through that same proxy itself (``ConnectionConfig.proxy_headers``).
- ``Location`` must be a valid http(s) URL; file:, data:, custom schemes and invalid URLs raise
  ``InvalidRedirect`` and nothing is sent. An ``http+unix:`` target (a local Unix socket) is followed only
  from an ``http+unix:`` URL, a server that is local already: from http(s) it would let a remote server
  reach the client's local sockets.
- A Session subclass that overrides requests' ``rebuild_auth`` or ``should_strip_auth`` decides the next
  hop's Authorization header (``rebuild_auth_for_hop``); Cookie and Proxy-Authorization stay under the rules
  above.
"""

from __future__ import annotations

from brisk.exceptions import InvalidRedirect, UnrewindableBodyError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._core.url import URL
    from brisk.models import PreparedRequest, Response

__all__ = [
    "location_text",
    "rebuild_auth_for_hop",
    "redirect_method",
    "redirect_request",
    "same_origin_for_credentials",
]

_BODY_HEADERS = ("Content-Length", "Content-Type", "Transfer-Encoding")
_CREDENTIAL_HEADERS = ("Authorization", "Cookie")
# What a URL parser trims from both ends of a URL (WHATWG URL: C0 controls and space). str.strip() would also
# trim NBSP or NEL and turn "\xa0//other.example/" (a path on this host) into a URL of another host.
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def same_origin_for_credentials(old: URL, new: URL) -> bool:
    """May credentials meant for ``old`` go to ``new``?"""
    if old is new or old.origin == new.origin:
        return True
    return (
        old.scheme == "http"
        and new.scheme == "https"
        and old.host == new.host
        and old.effective_port == 80
        and new.effective_port == 443
    )


def location_text(location: str) -> str:
    """A Location header as the server meant it: servers send UTF-8, which arrives decoded as latin-1."""
    try:
        return location.encode("latin-1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return location


def redirect_method(method: str, status: int) -> str:
    if status == 303 and method != "HEAD":
        return "GET"
    if status == 302 and method != "HEAD":
        return "GET"
    if status == 301 and method == "POST":
        return "GET"
    return method


def redirect_request(
    request: PreparedRequest, response: Response, location: str | None = None
) -> PreparedRequest:
    """The request that following ``response`` (a redirect) leads to: to its Location, or to ``location``
    when a Session subclass's ``get_redirect_target`` chose it."""
    if location is None:
        location = location_text(response.headers.get("location", ""))
    old_url = request._url
    assert old_url is not None
    try:
        new_url = old_url.join(location.strip(_C0_AND_SPACE))
    except ValueError as exc:  # InvalidURL; InvalidSchema/MissingSchema for data:, javascript:, mailto:...
        raise InvalidRedirect(
            f"the server redirected to an invalid URL {location!r}: {exc}", response=response
        ) from None
    if new_url.scheme not in ("http", "https") and (
        new_url.scheme != "http+unix" or old_url.scheme != "http+unix"
    ):
        only = "only http and https are followed"
        if new_url.scheme == "http+unix":
            only = f"a Unix socket is followed only from an http+unix: URL, never from {old_url.scheme}:"
        raise InvalidRedirect(
            f"refusing to follow a redirect to a {new_url.scheme}: URL ({location!r}); {only}",
            response=response,
        )
    if new_url.fragment is None and old_url.fragment is not None:
        new_url = new_url.copy_with(fragment=old_url.fragment)

    new = request.copy()
    new.url = new_url
    status = response.status_code
    new.method = redirect_method(request.method or "GET", status)
    headers = new.headers
    if status not in (307, 308):
        for name in _BODY_HEADERS:
            headers.pop(name, None)
        new.body = None
    elif new.body is not None and not isinstance(new.body, bytes | str):
        rewind = getattr(new.body, "rewind", None)
        if rewind is None:
            raise UnrewindableBodyError(
                "cannot follow the redirect: the request body cannot be sent again", response=response
            )
        rewind()
    headers.pop("Cookie", None)  # recomputed from the jar for the new URL
    headers.pop("Proxy-Authorization", None)  # the route's, not the origin's: see the module docstring
    if not same_origin_for_credentials(old_url, new_url):
        for name in _CREDENTIAL_HEADERS:
            headers.pop(name, None)
        if old_url.host_header != new_url.host_header:
            headers.pop("Host", None)
    return new


def rebuild_auth_for_hop(
    session: Any, hop: PreparedRequest, next_hop: PreparedRequest, response: Response
) -> None:
    """Let a Session subclass's ``rebuild_auth`` (or ``should_strip_auth``) decide the next hop's
    Authorization, given it as requests does: with the previous hop's header, which ``redirect_request``
    took off on another origin, put back. Only such an override can keep the header: requests' own
    ``rebuild_auth`` (a subclass that overrides only ``get_redirect_target``) applies the same origin rule as
    ``redirect_request`` and takes it off again."""
    value = hop.headers.get("Authorization")
    if value is not None and "authorization" not in next_hop.headers:
        next_hop.headers["Authorization"] = value
    if response.request is None:  # a response a hook built: compare against the hop that was sent
        response.request = hop
    result: Any = session.rebuild_auth(next_hop, response)
    if hasattr(result, "__await__"):
        close = getattr(result, "close", None)
        if close is not None:
            close()
        next_hop.headers.pop("Authorization", None)
        raise TypeError("rebuild_auth must be a plain method: sync and async sessions call it alike")
