"""What ``Session`` and ``AsyncSession`` share on the calling side: the verb methods, ``map`` and request
preparation.

The verb methods (``get``, ``post``, ...) are written once and return whatever ``request`` returns: a
``Response`` for ``Session``, an awaitable of one for ``AsyncSession``. Their options are declared once, in
``brisk._session.options``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from brisk._core.error_context import add_url_context
from brisk._core.headers import Headers
from brisk._core.url import URL
from brisk._flows.request import jar_cookie_header
from brisk._session.base import SessionBase
from brisk._session.options import SEND_OPTIONS, unknown_keywords
from brisk.exceptions import InvalidHeader
from brisk.hooks import default_hooks
from brisk.models import PreparedRequest, Request, _header_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Generic, TypeVar, Unpack

    from brisk._flows.request import FlowSettings
    from brisk._session.types import (
        GetOptions,
        ParamsArg,
        PostOptions,
        PutOptions,
        RequestOptions,
        SendKeywords,
    )
else:
    from brisk._core.typing_lite import Generic, TypeVar

__all__ = ["SessionCalls", "brisk_headers_copy", "map_call"]

R = TypeVar("R")
_MAX_PLANS = 64  # URLs whose prepared request a session keeps (_prepare_plain); all dropped when full


def _merge_mapping(request_value: Any, session_value: Any) -> Any:
    """requests' merge_setting: request keys override session keys; a None value removes the key."""
    if session_value is None or not session_value:
        return request_value
    if request_value is None or not request_value:
        return session_value
    if not (isinstance(session_value, Mapping) and isinstance(request_value, Mapping)):
        return request_value
    merged = dict(session_value)
    merged.update(request_value)
    return {key: value for key, value in merged.items() if value is not None}


class SessionCalls(SessionBase, Generic[R]):
    """The calling side of a session; ``R`` is what ``request`` returns."""

    #: Where requests' seams are looked up: code replaces ``requests.sessions.get_netrc_auth``, which is
    #: brisk.sessions' (``Session`` and ``AsyncSession`` set this to that module's namespace).
    _seams: ClassVar[Mapping[str, Any]] = {}
    #: ``request`` as the session class defines it (a staticmethod, so reading it binds nothing): ``get(url)``
    #: with nothing else goes straight to ``_request_plain``, one call fewer, unless a subclass or a patch
    #: replaced ``request`` (code that wraps it to add a default timeout, a test double...).
    _own_request: ClassVar[Any] = None

    def prepare_request(self, request: Request) -> PreparedRequest:
        """requests' ``Session.prepare_request``: merge the session's settings into ``request``. Hooks merge
        as requests merges them: for each event the request's own hooks, or the session's when it has none
        (when the request is sent, brisk calls the session's hooks as well: see README)."""
        hooks = default_hooks()
        for source in (self.hooks, request.hooks):
            for event, found in (source or {}).items():
                listed = found if isinstance(found, list | tuple) else [found]
                if listed:
                    hooks[event] = list(listed)
        prepared = self._prepare(
            request.method or "GET",
            request.url,
            request.params,
            request.data,
            request.headers,
            request.files,
            request.auth,
            request.json,
            hooks,
        )
        url = prepared._url
        assert url is not None
        jar = self._request_cookie_jar(prepared, request.cookies)
        if jar:  # sent again by send() on every hop, as the session's own requests send theirs
            prepared.__dict__["_prepared_cookies"] = jar
        session_jar = self._cookie_jar  # None: no jar made yet, so no cookies
        value = None if session_jar is None else jar_cookie_header(session_jar, url)
        own = jar.header_for(url.scheme, url.host, url.path) if jar else None
        header = "; ".join(v for v in (own, value) if v)
        if header and "cookie" not in prepared.headers:
            prepared.headers["Cookie"] = header
        return prepared

    # -- verbs (one line each, shared by both sessions) ------------------------------------------------------

    def request(self, method: str, url: str | bytes, **options: Unpack[RequestOptions]) -> R:
        raise NotImplementedError

    def _request_plain(self, method: str, url: str | bytes) -> R:
        """``request(method, url)``, a call with no options."""
        raise NotImplementedError

    def get(self, url: str | bytes, params: ParamsArg = None, **options: Unpack[GetOptions]) -> R:
        """Send a GET request. ``session.get(url, params={"q": "x"}, timeout=5)``"""
        if params is None:
            if not options and type(self).request is self._own_request and "request" not in self.__dict__:
                return self._request_plain("GET", url)
            return self.request("GET", url, **options)
        return self.request("GET", url, params=params, **options)

    def options(self, url: str | bytes, **kwargs: Unpack[RequestOptions]) -> R:
        return self.request("OPTIONS", url, **kwargs)

    def head(self, url: str | bytes, **options: Unpack[RequestOptions]) -> R:
        """Send a HEAD request; redirects are followed only with ``allow_redirects=True`` (as in requests)."""
        options.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **options)

    def post(self, url: str | bytes, data: Any = None, json: Any = None, **options: Unpack[PostOptions]) -> R:
        """Send a POST request with a form (``data=dict``), raw bytes, a file, or ``json=``."""
        return self.request("POST", url, data=data, json=json, **options)

    def put(self, url: str | bytes, data: Any = None, **options: Unpack[PutOptions]) -> R:
        return self.request("PUT", url, data=data, **options)

    def patch(self, url: str | bytes, data: Any = None, **options: Unpack[PutOptions]) -> R:
        return self.request("PATCH", url, data=data, **options)

    def delete(self, url: str | bytes, **options: Unpack[RequestOptions]) -> R:
        return self.request("DELETE", url, **options)

    def map(
        self,
        requests: Iterable[Any],
        *,
        concurrency: int = 10,
        return_exceptions: bool = False,
        **common: Unpack[RequestOptions],
    ) -> Any:
        """Send many requests with at most ``concurrency`` in flight; responses come back in input order.

        Each item is a URL (GET), a ``(method, url)`` pair, a dict of ``request()`` arguments, or a
        ``Request``; ``common`` arguments apply to every item. With ``return_exceptions=True`` a failed
        request gives its exception in its place; otherwise the first failure is raised (after the
        requests already running have finished).

        >>> responses = session.map(urls, concurrency=20, timeout=5)                # Session: threads
        >>> responses = await session.map(urls, concurrency=100)                    # AsyncSession: tasks
        """
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        calls = [map_call(item, common) for item in requests]
        return self._run_map(calls, concurrency, return_exceptions)

    def _run_map(self, calls: list[dict[str, Any]], concurrency: int, return_exceptions: bool) -> Any:
        raise NotImplementedError

    # -- preparation -------------------------------------------------------------------------------------

    def _prepare(
        self,
        method: str,
        url: Any,
        params: Any,
        data: Any,
        headers: Any,
        files: Any,
        auth: Any,
        json: Any,
        hooks: Any,
        progress: Any = None,
    ) -> PreparedRequest:
        # requests' prepare steps, with the session's settings merged in first (as prepare_request does)
        p = PreparedRequest.__new__(PreparedRequest)
        p.prepare_method(method)
        p.prepare_url(url, _merge_mapping(params, self.params))
        parsed = p._url
        assert parsed is not None
        base = self.headers
        p.headers = base.copy() if isinstance(base, Headers) else Headers(base)
        if p.headers._unset:
            p.headers.without_unset()
        if headers:
            try:
                for raw_name, value in headers.items() if isinstance(headers, Mapping) else headers:
                    name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
                    if value is None:
                        p.headers.pop(name, None)
                    else:
                        p.headers[name] = _header_value(name, value)
            except InvalidHeader as exc:
                raise add_url_context(exc, parsed, p) from None
        p.hooks = hooks if hooks is not None else default_hooks()
        p._cookies = None
        p._auth = None
        p.prepare_body(data, files, json)
        store = p.headers._store  # lower-case names
        p._explicit_cookie = "cookie" in store  # type: ignore[attr-defined]
        if auth is None:
            auth = self.auth
        url_auth = parsed.auth
        if auth is None and url_auth is None and "authorization" not in store:
            env = self._environment()
            patched = self._seams.get("get_netrc_auth")  # read there once, or replaced by a test
            if patched is not None and env is not None and patched is not _utils_get_netrc_auth():
                auth = patched(str(parsed))
                p._auth_from_netrc = auth is not None  # type: ignore[attr-defined]
            elif env is not None and env.netrc_path is not None:
                from brisk._auth.netrc import netrc_auth

                auth = netrc_auth(parsed.host, env.netrc_path)
                p._auth_from_netrc = auth is not None  # type: ignore[attr-defined]
        if auth is not None or url_auth is not None:
            p.prepare_auth(auth)
        if progress is not None:  # after auth, which may need to see the body as it is
            from brisk._request.body import with_progress

            p.body = with_progress(p.body, progress)
        return p

    def _prepare_plain(
        self, method: str, url: Any, body: RequestOptions | None = None
    ) -> tuple[PreparedRequest, FlowSettings]:
        """``_prepare`` and ``_settings`` of a call with no options of its own (``s.get(url)``), or only a
        body's (``body``: ``data``, ``json``, ``files``; ``s.post(url, json=doc)``).

        A URL called before, with nothing since changed in what its request was made from, gets a copy of
        the request prepared then: the loops of API clients and crawlers skip parsing the URL, merging the
        session's headers and looking for credentials. What the request is made from: the URL and method
        (the key), the session's headers (compared whole, in order), params and auth (none), the
        environment and requests' netrc seam (the same objects), and the settings (the session's cached
        ones, whose fingerprint covers hooks, adapters and every other setting). Cookies are not part of
        it: the flow adds them to each request.

        A plan is a request without a body. Where there are no credentials (a plan's condition), preparing
        the body is the last step of ``_prepare``, so a copy of the plan with its body prepared is the
        request ``_prepare`` would make: the same headers in the same order (Content-Length, which a
        bodiless POST has as 0, in its place; Content-Type after it)."""
        plans = self._plans
        plan = plans.get((method, url)) if plans is not None and type(url) is str else None
        if plan is not None:
            template, headers, order, settings, environment = plan
            cached = self._settings_cache
            base = self.headers
            if (
                cached is not None and cached[1] is settings and cached[0][3] == self._fingerprint()
                and type(base) is Headers and tuple(base._store.values()) == order and not base._multi
                and not self.params and self.auth is None
                and environment == (self.trust_env, self._env, self._seams.get("get_netrc_auth"))
            ):  # fmt: skip
                # headers.copy() and default_hooks(), without a call each (a plan's headers have one value
                # per name and none unset: see _keep_plan)
                copied = Headers.__new__(Headers)
                copied._store = headers._store.copy()
                copied._multi = {}
                copied._unset = False
                state = template.copy()  # (one dict, filled and then given: cheaper than updating p's own)
                state["headers"] = copied
                state["hooks"] = {"request": [], "response": []}
                p = PreparedRequest.__new__(PreparedRequest)
                p.__dict__ = state
                if body:
                    if "content-length" not in base._store:
                        # A bodiless POST's Content-Length: 0 is no part of a request with a body (one of
                        # unknown length goes chunked); prepare_body adds the right one in the same place.
                        copied._store.pop("content-length", None)
                    get: Any = body.get
                    p.prepare_body(get("data"), get("files"), get("json"))
                return p, settings
        if not body:
            p = self._prepare(method, url, None, None, None, None, None, None, None)
            settings = self._settings(p)
            self._keep_plan(method, url, p, settings)
            return p, settings
        p = self._prepare_options(method, url, body)
        settings = self._settings(p, body)
        if self._plannable(url, p, settings):  # a plan for the next call: this request, but without its body
            bare = self._prepare(method, url, None, None, None, None, None, None, None)
            self._keep_plan(method, url, bare, self._settings(bare))
        return p, settings

    def _plannable(self, url: Any, p: PreparedRequest, settings: FlowSettings) -> bool:
        """Can what ``p`` was made from be checked by ``_prepare_plain``? Settings the session caches, the
        session's own brisk Headers, no params, no credentials of any kind, no netrc file, no replaced
        netrc seam."""
        cached = self._settings_cache
        base = self.headers
        if (
            type(url) is not str or cached is None or cached[1] is not settings
            or type(base) is not Headers or base._multi or base._unset or self.params
            or self.auth is not None or p._auth is not None
        ):  # fmt: skip
            return False
        env, seam = self._env, self._seams.get("get_netrc_auth")
        # a netrc file, or a replaced seam: the credentials are looked up on each call
        return env is None or (env.netrc_path is None and (seam is None or seam is _utils_get_netrc_auth()))

    def _keep_plan(self, method: str, url: Any, p: PreparedRequest, settings: FlowSettings) -> None:
        """Keep ``p``, a request without a body (before the flow adds cookies to it), as the plan of later
        calls to ``url``, if it is ``_plannable``."""
        if p.body is not None or not self._plannable(url, p, settings):
            return
        env, seam = self._env, self._seams.get("get_netrc_auth")
        base = self.headers
        plans = self._plans
        if plans is None:
            plans = self._plans = {}
        elif len(plans) >= _MAX_PLANS:
            plans.clear()
        template = dict(p.__dict__)
        del template["headers"], template["hooks"]
        # the session's headers as (name, value) pairs in order: they decide the order on the wire too
        order = tuple(base._store.values())
        plans[(method, url)] = (template, p.headers.copy(), order, settings, (self.trust_env, env, seam))

    def _send_settings(
        self, request: PreparedRequest, options: SendKeywords
    ) -> tuple[PreparedRequest, FlowSettings]:
        """What ``send`` does before running the flow, in both worlds: refuse keywords it does not take and a
        ``Request``, give the request brisk's headers if code replaced them, and make the flow's settings
        (the cookies of ``prepare_request`` or ``prepare_cookies`` are sent again on every hop)."""
        if not options.keys() <= SEND_OPTIONS:
            raise unknown_keywords("send", options, SEND_OPTIONS)
        if isinstance(request, Request):
            raise ValueError("You can only send PreparedRequests.")
        if type(request.headers) is not Headers:
            request = brisk_headers_copy(request)
        # send's keywords are request options; no cast() call on this path
        return request, self._settings(request, options, request.__dict__.get("_prepared_cookies"))  # type: ignore[arg-type]

    def _prepare_options(self, method: str, url: Any, options: RequestOptions) -> PreparedRequest:
        """``_prepare`` with a call's options."""
        if not options:
            return self._prepare(method, url, None, None, None, None, None, None, None)
        get: Any = options.get
        return self._prepare(
            method, url, get("params"), get("data"), get("headers"), get("files"), get("auth"), get("json"),
            None, get("progress"),
        )  # fmt: skip


def map_call(item: Any, common: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise one ``map()`` item into the keyword arguments of ``request()``."""
    if isinstance(item, str | bytes | URL):
        call: dict[str, Any] = {"method": "GET", "url": item}
    elif isinstance(item, Request):
        call = {
            "method": item.method or "GET",
            "url": item.url,
            "headers": item.headers or None,
            "params": item.params or None,
            "data": item.data or None,
            "json": item.json,
            "files": item.files or None,
            "auth": item.auth,
            "cookies": item.cookies,
        }
    elif isinstance(item, Mapping):
        call = dict(item)
        call.setdefault("method", "GET")
    elif isinstance(item, tuple) and len(item) == 2:
        call = {"method": item[0], "url": item[1]}
    else:
        raise TypeError(f"map() items are URLs, (method, url) pairs, dicts or Requests, not {item!r}")
    return {**common, **call}


_SKIP_HEADER = "@@@SKIP_HEADER@@@"  # urllib3.util.SKIP_HEADER, which requests passes through to urllib3
_SKIPPABLE = frozenset(("accept-encoding", "host", "user-agent"))  # urllib3.util.SKIPPABLE_HEADERS


def brisk_headers_copy(request: PreparedRequest) -> PreparedRequest:
    """``request`` to send when code replaced its ``headers`` with a mapping of its own (httpie assigns a
    multidict; requests takes any mapping): a copy whose headers are brisk's, every pair kept in order,
    repeated names included. A value of None, or urllib3's ``SKIP_HEADER`` for a name urllib3 lets one skip
    (httpie unsets User-Agent so), leaves the header out. The caller's object is left as it is."""
    from brisk._protocol.http11 import header_text

    given: Any = request.headers
    items = given.items() if hasattr(given, "items") else given
    pairs = [
        header_text(pair)
        for pair in items
        if pair[1] is not None and not (pair[1] == _SKIP_HEADER and str(pair[0]).lower() in _SKIPPABLE)
    ]
    copy = PreparedRequest.__new__(PreparedRequest)
    copy.__dict__.update(request.__dict__)
    copy.headers = Headers.from_raw(pairs)
    return copy


def _utils_get_netrc_auth() -> Any:
    """brisk.utils' own ``get_netrc_auth``; utils, a module of requests' helpers, is imported only here,
    when code has read or replaced the seam, keeping it out of ``import brisk`` (and kept: an import
    statement costs a lookup on every call)."""
    global _netrc_seam
    found = _netrc_seam
    if found is None:
        from brisk import utils

        found = _netrc_seam = utils.get_netrc_auth
    return found


_netrc_seam: Any = None
