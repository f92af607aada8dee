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

import os
from collections.abc import Iterator

from brisk._auth.basic import basic_auth_str
from brisk._core.url import URL
from brisk._flows.proxies import environment_proxies, should_bypass
from brisk._flows.redirects import (
    location_text,
    redirect_method,
    redirect_request,
    same_origin_for_credentials,
)
from brisk.exceptions import RequestException, TooManyRedirects

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.models import PreparedRequest, Response

__all__ = ["SessionRedirectMixin", "redirect_overrides"]


class SessionRedirectMixin:
    """requests' redirect hooks, answered by brisk's rules (see the module docstring)."""

    def get_redirect_target(self, resp: Response) -> str | None:
        """The URL a redirect response points to (its Location), or None when it is not a redirect."""
        if not resp.is_redirect:
            return None
        return location_text(resp.headers["location"])

    def should_strip_auth(self, old_url: str, new_url: str) -> bool:
        """Must the Authorization header be dropped going from ``old_url`` to ``new_url``? Yes on any change
        of scheme, host or port, except http to https on the default ports of the same host."""
        return not same_origin_for_credentials(URL.parse(old_url), URL.parse(new_url))

    def rebuild_auth(self, prepared_request: PreparedRequest, response: Response) -> None:
        """Drop the Authorization header of the next hop when ``should_strip_auth`` says so, or when the
        two URLs cannot be compared (a response built by a hook may have no request)."""
        previous = response.request
        old_url = previous.url if previous is not None else None
        new_url = prepared_request.url
        if not old_url or not new_url or self.should_strip_auth(old_url, new_url):
            prepared_request.headers.pop("Authorization", None)

    def rebuild_method(self, prepared_request: PreparedRequest, response: Response) -> None:
        """The method of the next hop: GET after a 303, and after a 301/302 for anything but HEAD."""
        prepared_request.method = redirect_method(prepared_request.method or "GET", response.status_code)

    def rebuild_proxies(self, prepared_request: PreparedRequest, proxies: Any) -> dict[str, Any]:
        """The proxies for ``prepared_request``'s URL: ``proxies`` plus, unless ``trust_env`` is off or
        ``no_proxy`` exempts the URL, the environment's proxy for its scheme (read now). Its
        Proxy-Authorization header is rebuilt to match: removed, then set from the chosen proxy's
        credentials for a plain-http request only (an https request tunnels, and the header would reach
        the origin: requests CVE-2023-32681)."""
        from brisk.utils import get_auth_from_url  # requests.utils: not part of ``import brisk``

        url = URL.parse(prepared_request.url or "")
        chosen = dict(proxies or {})
        no_proxy = chosen.get("no_proxy")
        if getattr(self, "trust_env", True):
            found = environment_proxies()
            no_proxy = no_proxy or os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
            if not (no_proxy and should_bypass(url, no_proxy)):
                proxy = found.get(url.scheme) or found.get("all")
                if proxy:
                    chosen.setdefault(url.scheme, proxy)
        headers = prepared_request.headers
        headers.pop("Proxy-Authorization", None)
        username, password = get_auth_from_url(chosen.get(url.scheme) or "")
        if url.scheme != "https" and username and password:
            headers["Proxy-Authorization"] = basic_auth_str(username, password)
        return chosen

    def resolve_redirects(
        self,
        resp: Response,
        req: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
        yield_requests: bool = False,
        **adapter_kwargs: Any,
    ) -> Iterator[Any]:
        """Follow ``resp``'s redirects one hop at a time, as requests' generator does: yields each next
        response (sent with ``self.send(..., allow_redirects=False)``), or each next request with
        ``yield_requests=True``. brisk's own requests follow redirects in one policy shared with the async
        client, which does not call this; it is here for code that drives redirects by hand.

        ``timeout=None`` means the session's timeout here, not none at all: a hand-driven redirect keeps
        brisk's finite default unless a timeout is given."""
        history: list[Response] = []
        url = self.get_redirect_target(resp)
        previous = req
        while url:
            history.append(resp)
            try:
                resp.content  # noqa: B018 - read it to release the connection, as requests does
            except (RequestException, RuntimeError):  # read in part already (iter_content), or broken
                resp.close()
            if len(history) > getattr(self, "max_redirects", 30):
                raise TooManyRedirects(f"Exceeded {len(history) - 1} redirects.", response=resp)
            prepared = redirect_request(previous, resp, url)
            # The request's own jar (a copy), with what the redirect set and the session's cookies merged
            # in, gives the next hop its Cookie header, as in requests; a standard-library jar stays one.
            from brisk.cookies import (  # http.cookiejar
                _copy_cookie_jar,
                extract_cookies_to_jar,
                merge_cookies,
            )

            jar = _copy_cookie_jar(prepared._cookies)
            extract_cookies_to_jar(jar, previous, resp.raw)
            session_jar = getattr(self, "cookies", None)
            if session_jar is not None:
                merge_cookies(jar, session_jar)
            prepared._cookies = jar
            prepared.prepare_cookies(jar)
            self.rebuild_auth(prepared, resp)
            proxies = self.rebuild_proxies(prepared, proxies)
            body = prepared.body
            if body is not None and not isinstance(body, bytes | str) and prepared._body_position is not None:
                from brisk.utils import rewind_body  # requests.utils: not part of ``import brisk``

                rewind_body(prepared)
            previous = prepared
            if yield_requests:
                yield prepared
                return
            send: Any = self.send  # type: ignore[attr-defined]
            if timeout is None:
                timeout = getattr(self, "timeout", None)
            resp = send(
                prepared, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies,
                allow_redirects=False, **adapter_kwargs,
            )  # fmt: skip
            resp.history = history[:]
            url = self.get_redirect_target(resp)
            yield resp


def _overrides(session: Any, name: str) -> bool:
    return getattr(type(session), name) is not getattr(SessionRedirectMixin, name)


def redirect_overrides(session: Any) -> SessionRedirectMixin | None:
    """``session`` when its class overrides one of the hooks the flow asks, else None (the common case:
    the flow then never calls out)."""
    hooks = ("get_redirect_target", "should_strip_auth", "rebuild_auth")
    return session if any(_overrides(session, name) for name in hooks) else None
