"""requests' ``SessionRedirectMixin`` methods on brisk's sessions.

In requests these methods *are* the redirect logic, and code subclasses ``Session`` to change it: the
best-known recipe keeps the Authorization header across hosts by overriding ``rebuild_auth`` (or
``should_strip_auth``). In brisk the redirect policy lives in one flow (``brisk/_flows``) shared by sync
and async sessions, so these methods are its hooks rather than its body:

- ``get_redirect_target``, ``should_strip_auth``, ``rebuild_auth`` and ``rebuild_method`` give brisk's own
  answers and can be called directly;
- a subclass that overrides ``get_redirect_target``, ``should_strip_auth`` or ``rebuild_auth`` is asked by
  the flow on every redirect: which URL to follow, and which Authorization header the next hop carries.
  ``rebuild_auth`` receives the next request with the previous hop's Authorization header still in it, as
  in requests. Cookies and Proxy-Authorization stay under brisk's rules whatever the override says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._flows.redirects import redirect_method, same_origin_for_credentials
from ._url import URL

if TYPE_CHECKING:
    from .models import PreparedRequest, Response

__all__ = ["SessionRedirectMixin", "redirect_overrides"]


class SessionRedirectMixin:
    """requests' redirect hooks, answered by brisk's rules (see the module docstring)."""

    def get_redirect_target(self, resp: Response) -> str | None:
        """The URL a redirect response points to (its Location), or None when it is not a redirect."""
        if not resp.is_redirect:
            return None
        location = resp.headers["location"]
        try:  # servers send UTF-8 in Location; it arrives decoded as latin-1
            return location.encode("latin-1").decode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return location

    def should_strip_auth(self, old_url: str, new_url: str) -> bool:
        """Must the Authorization header be dropped going from ``old_url`` to ``new_url``? Yes on any change
        of scheme, host or port, except http to https on the default ports of the same host."""
        return not same_origin_for_credentials(URL.parse(old_url), URL.parse(new_url))

    def rebuild_auth(self, prepared_request: PreparedRequest, response: Response) -> None:
        """Drop the Authorization header of the next hop when ``should_strip_auth`` says so."""
        previous = response.request
        if (
            previous is not None
            and previous.url
            and prepared_request.url
            and self.should_strip_auth(previous.url, prepared_request.url)
        ):
            prepared_request.headers.pop("Authorization", None)

    def rebuild_method(self, prepared_request: PreparedRequest, response: Response) -> None:
        """The method of the next hop: GET after a 303, and after a 301/302 for anything but HEAD."""
        prepared_request.method = redirect_method(prepared_request.method or "GET", response.status_code)


_HOOKS = ("get_redirect_target", "should_strip_auth", "rebuild_auth")


def redirect_overrides(session: Any) -> Any:
    """``session`` when its class overrides one of the hooks the flow asks, else None (the common case:
    the flow then never calls out)."""
    kind = type(session)
    for name in _HOOKS:
        if getattr(kind, name) is not getattr(SessionRedirectMixin, name):
            return session
    return None
