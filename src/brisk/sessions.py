"""``Session`` and ``AsyncSession``: settings, connection pooling and cookies across requests.

Both are thin. ``_SessionBase`` holds the settings and turns a call into a prepared request plus the
settings of its flow; the verb methods (``get``, ``post``, ...) are written once there and return whatever
``request`` returns: a ``Response`` for ``Session``, an awaitable of one for ``AsyncSession``. The policy runs
in ``brisk._flows`` (shared), the I/O in a transport (one per world).

Precedence of every setting: the argument of the call > the session's attribute > the environment
(``trust_env``: proxies, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, netrc), which a session reads once,
at its first request.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk._core.headers import Headers
from brisk._core.url import URL
from brisk._flows import run_async, run_sync
from brisk._flows.request import FlowSettings, jar_cookie_header, request_flow
from brisk._flows.retry import DEFAULT_RETRY, Retry
from brisk._session.proxies import proxy_for
from brisk._session.ratelimit import RateLimit
from brisk._session.redirect_mixin import SessionRedirectMixin, redirect_overrides
from brisk._transport.base import PRIOR_KNOWLEDGE, ConnectionConfig, SendOptions
from brisk.adapters import BaseAdapter, HTTPAdapter, any_sends_itself, sends_itself
from brisk.exceptions import DEFAULT_TIMEOUT, InvalidHeader, InvalidSchema, Timeout
from brisk.hooks import HOOKS, default_hooks
from brisk.models import PreparedRequest, Request, Response, _header_value

if TYPE_CHECKING:
    from brisk._cookies.engine import CookieStore
    from brisk._session.download import DownloadResult, ProgressCallback
    from brisk._session.environment import Environment
    from brisk._transport.base import AsyncBaseTransport, BaseTransport
    from brisk.cookies import RequestsCookieJar

__all__ = ["AsyncSession", "Session", "SessionRedirectMixin", "default_headers", "session"]


def __getattr__(name: str) -> object:
    """requests.sessions's other names, loaded when first read (see brisk._compat.requests_names)."""
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._compat.requests_names import requests_name

    return requests_name(__name__, name)


R = TypeVar("R")
_UNSET: Any = object()
_NOT_PICKLED = frozenset(("_transport", "_config_cache", "_env", "_settings_cache"))
# What a session pickles: brisk's settings. A subclass's own attributes travel only when it lists them in
# __attrs__, as with requests (a FuturesSession's executor and locks stay behind).
_PICKLED = frozenset((
    "headers", "auth", "params", "_cookie_jar", "verify", "cert", "proxies", "hooks", "timeout", "retries",
    "max_redirects", "trust_env", "http2", "limits", "stream", "rate_limit", "adapters", "_given_transport",
))  # fmt: skip


def default_headers() -> Headers:
    from brisk.__version__ import __version__
    from brisk._response.decoders import SUPPORTED_ENCODINGS

    return Headers(
        {
            "User-Agent": f"brisk/{__version__}",
            "Accept-Encoding": SUPPORTED_ENCODINGS,
            "Accept": "*/*",
            "Connection": "keep-alive",
        }
    )


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


_JAR_LOCK = threading.Lock()  # makes a session's cookie jar once (see _ensure_cookie_jar)


class _SessionBase(SessionRedirectMixin, Generic[R]):
    """Settings and request preparation shared by Session and AsyncSession."""

    # brisk's bare store (see _ensure_cookie_jar), a RequestsCookieJar, an http.cookiejar jar, or None
    _cookie_jar: CookieStore | RequestsCookieJar | None
    #: requests' list of what a session pickles; brisk's other settings travel too (see __getstate__)
    __attrs__ = [
        "headers", "cookies", "auth", "proxies", "hooks", "params", "verify", "cert", "adapters", "stream",
        "trust_env", "max_redirects",
    ]  # fmt: skip

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Any = None,
        params: Any = None,
        cookies: Any = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str | None] | None = None,
        hooks: Mapping[str, Any] | None = None,
        timeout: Any = DEFAULT_TIMEOUT,
        retries: Retry | int | None = None,
        max_redirects: int = 30,
        trust_env: bool = True,
        http2: bool | Literal["prior-knowledge"] = True,
        limits: Limits = DEFAULT_LIMITS,
        stream: bool = False,
        rate_limit: RateLimit | float | None = None,
        transport: Any = None,
    ) -> None:
        self.headers: Headers = default_headers()
        if headers:
            self.headers.update(headers)
        self.auth = auth
        self.params: Any = params if params is not None else {}
        self.cookies = cookies
        self.verify = verify
        self.cert = cert
        self.proxies: dict[str, str | None] = dict(proxies or {})
        self.hooks: dict[str, list[Any]] = default_hooks()
        for event, hook in (hooks or {}).items():
            self.hooks.setdefault(event, []).extend(hook if isinstance(hook, list | tuple) else [hook])
        self.timeout = timeout
        self.retries = Retry.from_int(retries, DEFAULT_RETRY)
        self.max_redirects = max_redirects
        self.trust_env = trust_env
        self.http2 = http2
        self.limits = limits
        self.stream = stream
        self.rate_limit: RateLimit | None = (
            rate_limit if isinstance(rate_limit, RateLimit) or rate_limit is None else RateLimit(rate_limit)
        )
        self.adapters: dict[str, BaseAdapter] = {"https://": HTTPAdapter(), "http://": HTTPAdapter()}
        self._config_cache: tuple[tuple[Any, ...], ConnectionConfig] | None = None
        self._env: Environment | None = None
        self._settings_cache: tuple[tuple[Any, ...], FlowSettings] | None = None

    # -- pickling -------------------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """The settings only, as requests pickles a session: the pool (connections, threads, locks), the
        caches and the environment read at the first request stay behind and start afresh in the copy. A
        transport passed to the constructor is the caller's own object and travels: dropping it would send
        the copy's requests elsewhere (a mock's to the network). A subclass's own attributes travel when it
        lists them in ``__attrs__``, as requests pickles them."""
        state = {name: value for name, value in self.__dict__.items() if name in _PICKLED}
        state["_transport"] = state.get("_given_transport")
        for name in self.__attrs__:
            if name not in _SessionBase.__attrs__:
                state[name] = getattr(self, name, None)
        # A RateLimit's buckets hold a lock: it travels as its arguments, and the copy's buckets start full.
        limiter = self.rate_limit
        if limiter is not None:
            state["rate_limit"] = (type(limiter), limiter.requests_per_second, limiter.burst)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.rate_limit is not None:
            kind, per_second, burst = state["rate_limit"]
            self.rate_limit = kind(per_second, burst)
        self._config_cache = self._env = self._settings_cache = None

    @property
    def cookies(self) -> RequestsCookieJar:
        """The session's cookie jar: brisk's :class:`~brisk.cookies.RequestsCookieJar`, or the
        :class:`http.cookiejar.CookieJar` assigned here, which is then asked under its own policy
        (``s.cookies = MozillaCookieJar("cookies.txt")``: cookies load from and save to that file).

        A dict (or None) assigned here becomes a brisk jar of "any host" cookies, as ``cookies=`` in the
        constructor does; requests sends such a dict but then fails to store the response's cookies.
        """
        jar = self._cookie_jar
        if jar is None or getattr(jar, "_brisk_engine", False):
            # None, or the bare store the session fills until someone asks (see _ensure_cookie_jar): shown
            # from now on through a RequestsCookieJar, which costs the import of http.cookiejar
            from brisk.cookies import RequestsCookieJar

            with _JAR_LOCK:
                jar = self._cookie_jar
                if jar is None or getattr(jar, "_brisk_engine", False):
                    jar = self._cookie_jar = RequestsCookieJar._over(cast("CookieStore | None", jar))
        return cast("RequestsCookieJar", jar)

    @cookies.setter
    def cookies(self, value: Any) -> None:
        if value is None:
            self._cookie_jar = None  # an empty jar, made when first needed (see _ensure_cookie_jar)
            return
        from brisk.cookies import RequestsCookieJar, cookiejar_from_dict

        jar: RequestsCookieJar
        if isinstance(value, RequestsCookieJar) or (
            hasattr(value, "add_cookie_header") and hasattr(value, "extract_cookies")
        ):
            jar = value  # brisk's jar, or an http.cookiejar one (or one shaped like it)
        elif isinstance(value, Mapping):
            jar = cookiejar_from_dict(value)
        else:
            raise TypeError(
                "Session.cookies must be a cookie jar (brisk.cookies.RequestsCookieJar or an "
                f"http.cookiejar.CookieJar) or a dict, not {type(value).__name__}"
            )
        self._cookie_jar = jar

    def _ensure_cookie_jar(self) -> CookieStore | RequestsCookieJar:
        """The session's jar for a response setting the first cookie: until then no request needs the cookie
        engine (5 modules, ~3% of a command-line GET's start-up). Made as brisk's bare store, without
        http.cookiejar (another ~25 ms); ``cookies`` shows it as a RequestsCookieJar when asked."""
        jar = self._cookie_jar
        if jar is None:
            from brisk._cookies.engine import CookieStore

            with _JAR_LOCK:  # threads sharing the session (Session.map) must all get the same jar
                jar = self._cookie_jar
                if jar is None:
                    jar = self._cookie_jar = CookieStore()
        return jar

    # -- requests' public helpers ---------------------------------------------------------------------------

    def mount(self, prefix: str, adapter: BaseAdapter) -> None:
        """Use ``adapter`` for URLs starting with ``prefix`` (longest prefix wins)."""
        self.adapters[prefix] = adapter
        longer = [k for k in self.adapters if len(k) < len(prefix)]
        for key in longer:
            self.adapters[key] = self.adapters.pop(key)
        if isinstance(adapter, HTTPAdapter) and adapter.pool_maxsize > self.limits.max_connections_per_host:
            self.limits = self.limits.replace(
                max_connections_per_host=adapter.pool_maxsize,
                max_connections=max(self.limits.max_connections, adapter.pool_maxsize),
            )

    def get_adapter(self, url: str) -> BaseAdapter:
        lowered = url.lower()
        for prefix, adapter in self.adapters.items():
            if lowered.startswith(prefix.lower()):
                return adapter
        raise InvalidSchema(f"No connection adapters were found for {url!r}")

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

    def merge_environment_settings(
        self, url: str, proxies: Mapping[str, Any] | None, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """requests' helper: the effective proxies, stream, verify and cert for ``url``."""
        parsed = URL.parse(url)
        proxy = proxy_for(parsed, proxies, self.proxies, self._environment())
        return {
            "proxies": {parsed.scheme: proxy} if proxy else {},
            "stream": self.stream if stream is None else stream,
            "verify": self._verify(verify),
            "cert": self.cert if cert is None else cert,
        }

    # -- verbs (one line each, shared by both sessions) ------------------------------------------------------

    def request(
        self,
        method: str,
        url: str | bytes,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        cookies: Any = None,
        files: Any = None,
        auth: Any = None,
        timeout: Any = _UNSET,
        allow_redirects: bool = True,
        proxies: Any = None,
        hooks: Any = None,
        stream: bool | None = None,
        verify: Any = None,
        cert: Any = None,
        json: Any = None,
        retries: Any = None,
        progress: Any = None,
    ) -> R:
        raise NotImplementedError

    def get(self, url: str | bytes, params: Any = None, **kwargs: Any) -> R:
        """Send a GET request. ``session.get(url, params={"q": "x"}, timeout=5)``"""
        return self.request("GET", url, params=params, **kwargs)

    def options(self, url: str | bytes, **kwargs: Any) -> R:
        return self.request("OPTIONS", url, **kwargs)

    def head(self, url: str | bytes, **kwargs: Any) -> R:
        """Send a HEAD request; redirects are followed only with ``allow_redirects=True`` (as in requests)."""
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def post(self, url: str | bytes, data: Any = None, json: Any = None, **kwargs: Any) -> R:
        """Send a POST request with a form (``data=dict``), raw bytes, a file, or ``json=``."""
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url: str | bytes, data: Any = None, **kwargs: Any) -> R:
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: str | bytes, data: Any = None, **kwargs: Any) -> R:
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str | bytes, **kwargs: Any) -> R:
        return self.request("DELETE", url, **kwargs)

    def map(
        self,
        requests: Iterable[Any],
        *,
        concurrency: int = 10,
        return_exceptions: bool = False,
        **common: Any,
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
        calls = [_map_call(item, common) for item in requests]
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
                from brisk._core.error_context import add_url_context

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
            patched = globals().get("get_netrc_auth")  # requests' seam: code replaces sessions.get_netrc_auth
            if patched is not None and env is not None and patched is not _utils_attr("get_netrc_auth"):
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

    def _request_cookie_jar(self, p: PreparedRequest, cookies: Any) -> CookieStore | None:
        """Per-request ``cookies=`` as a store of the engine's (no http.cookiejar), bound to the request's
        host unless they carry a domain (see ``brisk._cookies.engine.request_store``)."""
        if not cookies:
            return None
        from brisk._cookies.engine import request_store

        url = p._url
        assert url is not None
        return request_store(url.host, cookies)

    def _verify(self, verify: Any) -> bool | str:
        value: bool | str = self.verify if verify is None else verify
        if value is True:
            env = self._environment()
            if env is not None and env.ca_bundle:
                return env.ca_bundle
        return value

    def _environment(self) -> Environment | None:
        """The environment as this session sees it (read once, at first use), or None without trust_env."""
        if not self.trust_env:
            return None
        env = self._env
        if env is None:
            from brisk._session.environment import Environment

            env = self._env = Environment()
        return env

    def _settings(
        self,
        p: PreparedRequest,
        *,
        timeout: Any = _UNSET,
        allow_redirects: bool = True,
        proxies: Any = None,
        stream: bool | None = None,
        verify: Any = None,
        cert: Any = None,
        retries: Any = None,
        cookies: Any = None,
        hooks: Any = None,
    ) -> FlowSettings:
        url = p._url
        assert url is not None
        cache_key = None
        if (
            timeout is _UNSET and allow_redirects and proxies is None and stream is None and verify is None
            and cert is None and retries is None and cookies is None and hooks is None and p._auth is None
            and not any(p.hooks.values()) and "proxy-authorization" not in p.headers._store
        ):  # fmt: skip
            # A call with nothing of its own: the settings depend only on the session and the origin.
            fingerprint = self._fingerprint()
            if fingerprint is not None:
                cache_key = (url.scheme, url.host, url.port, *fingerprint)
                cached = self._settings_cache
                if cached is not None and cached[0] == cache_key:
                    return cached[1]
        if url.scheme not in ("http", "https"):
            self.get_adapter(str(url))  # raises InvalidSchema unless an adapter is mounted for it
        timeout_value = Timeout.coerce(self.timeout if timeout is _UNSET else timeout)
        deadline = None if timeout_value.total is None else time.monotonic() + timeout_value.total
        config = self._connection_config(url, proxies, verify, cert)
        if config.proxy is not None and "proxy-authorization" in p.headers:
            # HTTPProxyAuth: the credentials go to the proxy (CONNECT, or forwarded requests), nowhere else.
            config = config._replace(
                proxy_headers=(("Proxy-Authorization", p.headers["proxy-authorization"]),)
            )
        options = SendOptions(timeout_value, config, deadline, self.limits)
        retry = self.retries
        if retries is not None:
            retry = Retry.from_int(retries)
        else:
            adapter = self.get_adapter(str(url)) if self.adapters else None
            if adapter is not None and sends_itself(adapter):
                # requests' retries live in the adapter (urllib3's, from max_retries): none unless asked
                policy = adapter.retry_policy() if isinstance(adapter, HTTPAdapter) else None
                retry = policy if policy is not None else Retry.from_int(0)
            else:
                policy = adapter.retry_policy() if isinstance(adapter, HTTPAdapter) else None
                if policy is not None:
                    retry = policy
        request_hooks = list(self.hooks.get("request", ()))
        response_hooks = list(self.hooks.get("response", ()))
        for source in (p.hooks, hooks):
            if source:
                for event in HOOKS:
                    found = source.get(event)
                    if found:
                        target = request_hooks if event == "request" else response_hooks
                        for hook in found if isinstance(found, list | tuple) else [found]:
                            if hook not in target:
                                target.append(hook)
        netrc = None
        env = self._environment()
        if (
            env is not None
            and env.netrc_path is not None
            and (p._auth is None or getattr(p, "_auth_from_netrc", False))
            and self.auth is None
        ):  # netrc answers for each redirect hop's own host (the first host's entry stays with it)
            from functools import partial

            from brisk._auth.netrc import netrc_auth

            netrc = partial(netrc_auth, path=env.netrc_path)
        settings = FlowSettings(
            options,
            retry=retry,
            allow_redirects=allow_redirects,
            max_redirects=self.max_redirects,
            stream=self.stream if stream is None else stream,
            jar=self._cookie_jar,
            make_jar=self._ensure_cookie_jar,
            request_cookies=self._request_cookie_jar(p, cookies),
            request_hooks=request_hooks,
            response_hooks=response_hooks,
            hook_kwargs={
                "timeout": timeout_value,
                "verify": config.verify,
                "cert": config.cert,
                "proxies": proxies or {},
                "stream": self.stream if stream is None else stream,
            },
            netrc=netrc,
            proxy_resolver=self._proxy_resolver(proxies, verify, cert, config),
            rate_limit=self.rate_limit,
            redirect_hooks=redirect_overrides(self),
            adapter_for=self.get_adapter if response_hooks else None,
        )
        if cache_key is not None and deadline is None:
            self._settings_cache = (cache_key, settings)
        return settings

    def _fingerprint(self) -> tuple[Any, ...] | None:
        """Everything the settings of a plain call are made from, cheap to compare; None when they cannot be
        cached. Containers are taken by content (a user may change ``session.proxies`` or a hook list in
        place); adapters by identity and retry policy, and only while they are mounted per scheme (a path
        prefix would need the whole URL)."""
        adapters = self.adapters
        if len(adapters) != 2:
            return None
        (prefix1, adapter1), (prefix2, adapter2) = adapters.items()
        if len(prefix1) > 8 or len(prefix2) > 8:
            return None
        hooks = self.hooks
        request_hooks = hooks.get("request")
        response_hooks = hooks.get("response")
        return (
            self.timeout, self.verify, self.cert, self.http2, self.trust_env, self.stream, self.max_redirects,
            self.retries, self.rate_limit, self.limits, self.auth, self._cookie_jar,
            tuple(self.proxies.items()) if self.proxies else None,
            tuple(request_hooks) if request_hooks else None,
            tuple(response_hooks) if response_hooks else None,
            prefix1, adapter1, getattr(adapter1, "_retry", None),
            prefix2, adapter2, getattr(adapter2, "_retry", None),
        )  # fmt: skip

    def _connection_config(self, url: URL, proxies: Any, verify: Any, cert: Any) -> ConnectionConfig:
        env = self._environment()
        proxy = (
            proxy_for(url, proxies, self.proxies, env)
            if (proxies or self.proxies or env is not None)
            else None
        )
        key = (self.verify, verify, self.cert, cert, proxy, self.http2, self.trust_env)
        cached = self._config_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        if self.http2 not in (True, False, PRIOR_KNOWLEDGE):
            raise ValueError(f"http2 must be True, False or {PRIOR_KNOWLEDGE!r}, not {self.http2!r}")
        config = ConnectionConfig(
            self._verify(verify), self.cert if cert is None else cert, proxy, self.http2
        )
        self._config_cache = (key, config)
        return config

    def _proxy_resolver(self, proxies: Any, verify: Any, cert: Any, first: ConnectionConfig) -> Any:
        env = self._environment()
        if not (proxies or self.proxies or (env is not None and env.proxies)):
            return None
        if not first.proxy_headers:
            return lambda url: self._connection_config(url, proxies, verify, cert)

        def resolve(url: URL) -> ConnectionConfig:
            # HTTPProxyAuth's (or a Proxy-Authorization header's) credentials stay with the proxy they were
            # given for: every redirect hop through that same proxy opens its tunnel with them; another
            # proxy, or a direct connection, never gets them.
            config = self._connection_config(url, proxies, verify, cert)
            if config.proxy == first.proxy:
                return config._replace(proxy_headers=first.proxy_headers)
            return config

        return resolve

    def _routes_through_adapters(self) -> bool:
        """Must each request ask ``get_adapter`` for its adapter? Yes when ``get_adapter`` is overridden or
        patched (requests-mock), or a mounted adapter sends requests itself (see ``adapters``)."""
        if type(self).get_adapter is not _GET_ADAPTER or "get_adapter" in self.__dict__:
            return True
        return any_sends_itself(self.adapters.values())

    def _follows_requests_chain(self) -> bool:
        """Is ``send``, ``prepare_request`` or ``merge_environment_settings`` overridden or patched? Then
        ``request()`` goes the way requests' does, through them."""
        cls = type(self)
        own = self.__dict__
        return (
            getattr(cls, "send", None) is not _SESSION_SEND
            or cls.prepare_request is not _PREPARE_REQUEST
            or cls.merge_environment_settings is not _MERGE_ENVIRONMENT
            or "send" in own
            or "prepare_request" in own
            or "merge_environment_settings" in own
        )

    def _request_via_send(
        self, method: str, url: Any, kwargs: dict[str, Any], send_kwargs: dict[str, Any]
    ) -> Any:
        """requests' ``Session.request``: prepare_request, merge_environment_settings, then ``self.send``."""
        request = Request(method=method.upper(), url=url, **kwargs)
        prepared = self.prepare_request(request)
        merged = self.merge_environment_settings(
            prepared.url or "", send_kwargs.pop("proxies") or {}, send_kwargs.pop("stream"),
            send_kwargs.pop("verify"), send_kwargs.pop("cert"),
        )  # fmt: skip
        send_kwargs.update(merged)
        return self.send(prepared, **send_kwargs)  # type: ignore[attr-defined]


def _map_call(item: Any, common: dict[str, Any]) -> dict[str, Any]:
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


class Session(_SessionBase[Response]):
    """A requests-compatible session: pooled keep-alive connections, cookies and settings shared by its
    requests, safe for use from several threads.

    >>> with brisk.Session() as s:
    ...     s.headers["Authorization"] = "Bearer <token>"
    ...     r = s.get("https://api.example.com/items", params={"page": 2}, timeout=10)
    ...     r.raise_for_status()
    """

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._transport: BaseTransport | None = settings.get("transport")
        self._given_transport = self._transport

    def request(
        self,
        method: str,
        url: str | bytes,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        cookies: Any = None,
        files: Any = None,
        auth: Any = None,
        timeout: Any = _UNSET,
        allow_redirects: bool = True,
        proxies: Any = None,
        hooks: Any = None,
        stream: bool | None = None,
        verify: Any = None,
        cert: Any = None,
        json: Any = None,
        retries: Any = None,
        progress: Any = None,
    ) -> Response:
        """Send a request and return its Response (body read unless ``stream=True``).

        ``progress(done, total)`` is called as the request body goes out (``total`` None when unknown).
        """
        if progress is None and self._follows_requests_chain():
            send_kwargs: dict[str, Any] = {
                "timeout": self.timeout if timeout is _UNSET else timeout, "allow_redirects": allow_redirects,
                "proxies": proxies, "stream": stream, "verify": verify, "cert": cert,
            }  # fmt: skip
            if retries is not None:
                send_kwargs["retries"] = retries
            own = {
                "params": params or {}, "data": data or {}, "headers": headers, "cookies": cookies,
                "files": files, "auth": auth, "hooks": hooks, "json": json,
            }  # fmt: skip
            return self._request_via_send(method, url, own, send_kwargs)  # type: ignore[no-any-return]
        p = self._prepare(method, url, params, data, headers, files, auth, json, None, progress)
        settings = self._settings(
            p,
            timeout=timeout,
            allow_redirects=allow_redirects,
            proxies=proxies,
            stream=stream,
            verify=verify,
            cert=cert,
            retries=retries,
            cookies=cookies,
            hooks=hooks,
        )
        return run_sync(request_flow(p, settings), self._transport_for(p._url))  # type: ignore[arg-type]

    def send(
        self,
        request: PreparedRequest,
        *,
        stream: bool | None = None,
        timeout: Any = _UNSET,
        verify: Any = None,
        cert: Any = None,
        proxies: Any = None,
        allow_redirects: bool = True,
        retries: Any = None,
        **kwargs: Any,
    ) -> Response:
        """Send a ``PreparedRequest`` (from ``Request(...).prepare()`` or ``prepare_request``)."""
        if isinstance(request, Request):
            raise ValueError("You can only send PreparedRequests.")
        if type(request.headers) is not Headers:
            request = _with_brisk_headers(request)
        settings = self._settings(
            request,
            timeout=timeout,
            allow_redirects=allow_redirects,
            proxies=proxies,
            stream=stream,
            verify=verify,
            cert=cert,
            retries=retries,
            cookies=request.__dict__.get("_prepared_cookies"),  # prepare_request's / prepare_cookies'
        )
        return run_sync(request_flow(request, settings), self._transport_for(request._url))  # type: ignore[arg-type]

    def download(
        self,
        url: str,
        path: str | os.PathLike[str],
        *,
        resume: bool = True,
        progress: ProgressCallback | None = None,
        chunk_size: int | None = None,
        checksum: str | None = None,
        max_resumes: int = 3,
        **kwargs: Any,
    ) -> DownloadResult:
        """Download ``url`` to the file ``path`` (or into the directory ``path``), resuming where an earlier
        attempt stopped; see ``brisk.download``.

        >>> result = session.download(url, "big.iso", checksum="sha256:9f86d0...", progress=ProgressBar())
        """
        from brisk._session.download import DownloadPlan, run_download_sync

        plan = DownloadPlan(
            url, path, resume=resume, progress=progress, chunk_size=chunk_size, checksum=checksum,
            max_resumes=max_resumes, headers=kwargs.pop("headers", None),
        )  # fmt: skip
        return run_download_sync(plan, self, kwargs)

    def _run_map(self, calls: list[dict[str, Any]], concurrency: int, return_exceptions: bool) -> list[Any]:
        from concurrent.futures import ThreadPoolExecutor

        def one(call: dict[str, Any]) -> Any:
            try:
                return self.request(**call)
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        with ThreadPoolExecutor(
            max_workers=min(concurrency, max(1, len(calls))), thread_name_prefix="brisk-map"
        ) as pool:
            return list(pool.map(one, calls))

    def _transport_for(self, url: URL) -> BaseTransport:
        transport = self._transport
        if transport is None:
            from brisk._transport.sync.transport import SyncTransport

            transport = self._transport = SyncTransport(self.limits)
        if self._routes_through_adapters():
            from brisk._transport.adapter import AdapterRouter

            return AdapterRouter(self.get_adapter, sends_itself, transport)
        return transport

    def close(self) -> None:
        """Close every pooled connection. The session stays usable: later requests open new connections."""
        if self._transport is not None:
            self._transport.close()
            if self._transport is not self._given_transport:
                self._transport = None
        for adapter in self.adapters.values():
            adapter.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


class AsyncSession(_SessionBase[Any]):
    """The same API as ``Session``, awaitable: ``r = await s.get(url)``.

    A non-streamed response is fully read when ``await`` returns, so ``r.json()`` works as in sync code.

    >>> async with brisk.AsyncSession() as s:
    ...     r = await s.get("https://api.example.com/items", timeout=10)
    """

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._transport: AsyncBaseTransport | None = settings.get("transport")
        self._given_transport = self._transport

    async def request(
        self,
        method: str,
        url: str | bytes,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        cookies: Any = None,
        files: Any = None,
        auth: Any = None,
        timeout: Any = _UNSET,
        allow_redirects: bool = True,
        proxies: Any = None,
        hooks: Any = None,
        stream: bool | None = None,
        verify: Any = None,
        cert: Any = None,
        json: Any = None,
        retries: Any = None,
        progress: Any = None,
    ) -> Response:
        p = self._prepare(method, url, params, data, headers, files, auth, json, None, progress)
        settings = self._settings(
            p,
            timeout=timeout,
            allow_redirects=allow_redirects,
            proxies=proxies,
            stream=stream,
            verify=verify,
            cert=cert,
            retries=retries,
            cookies=cookies,
            hooks=hooks,
        )
        return await run_async(request_flow(p, settings), self._transport_for(p._url))  # type: ignore[arg-type]

    async def send(
        self,
        request: PreparedRequest,
        *,
        stream: bool | None = None,
        timeout: Any = _UNSET,
        verify: Any = None,
        cert: Any = None,
        proxies: Any = None,
        allow_redirects: bool = True,
        retries: Any = None,
        **kwargs: Any,
    ) -> Response:
        if isinstance(request, Request):
            raise ValueError("You can only send PreparedRequests.")
        if type(request.headers) is not Headers:
            request = _with_brisk_headers(request)
        settings = self._settings(
            request,
            timeout=timeout,
            allow_redirects=allow_redirects,
            proxies=proxies,
            stream=stream,
            verify=verify,
            cert=cert,
            retries=retries,
            cookies=request.__dict__.get("_prepared_cookies"),  # prepare_request's / prepare_cookies'
        )
        return await run_async(request_flow(request, settings), self._transport_for(request._url))  # type: ignore[arg-type]

    async def download(
        self,
        url: str,
        path: str | os.PathLike[str],
        *,
        resume: bool = True,
        progress: ProgressCallback | None = None,
        chunk_size: int | None = None,
        checksum: str | None = None,
        max_resumes: int = 3,
        **kwargs: Any,
    ) -> DownloadResult:
        """``Session.download`` for asyncio: ``result = await session.download(url, path)``."""
        from brisk._session.download import DownloadPlan, run_download_async

        plan = DownloadPlan(
            url, path, resume=resume, progress=progress, chunk_size=chunk_size, checksum=checksum,
            max_resumes=max_resumes, headers=kwargs.pop("headers", None),
        )  # fmt: skip
        return await run_download_async(plan, self, kwargs)

    async def _run_map(
        self, calls: list[dict[str, Any]], concurrency: int, return_exceptions: bool
    ) -> list[Any]:
        import asyncio

        gate = asyncio.Semaphore(concurrency)

        async def one(call: dict[str, Any]) -> Any:
            async with gate:
                return await self.request(**call)

        return await asyncio.gather(*(one(call) for call in calls), return_exceptions=return_exceptions)

    def _transport_for(self, url: URL) -> AsyncBaseTransport:
        transport = self._transport
        if transport is None:
            from brisk._transport.asyncio.transport import AsyncTransport

            transport = self._transport = AsyncTransport(self.limits)
        if self._routes_through_adapters():
            from brisk._transport.adapter import AdapterRouter

            return AdapterRouter(self.get_adapter, sends_itself, transport)
        return transport

    async def close(self) -> None:
        """Close every pooled connection. The session stays usable: later requests open new connections."""
        if self._transport is not None:
            await self._transport.aclose()
            if self._transport is not self._given_transport:
                self._transport = None
        for adapter in self.adapters.values():
            adapter.close()

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


_SKIP_HEADER = "@@@SKIP_HEADER@@@"  # urllib3.util.SKIP_HEADER, which requests passes through to urllib3
_SKIPPABLE = frozenset(("accept-encoding", "host", "user-agent"))  # urllib3.util.SKIPPABLE_HEADERS


def _with_brisk_headers(request: PreparedRequest) -> PreparedRequest:
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


def _utils_attr(name: str) -> Any:
    """brisk.utils' own ``name`` (utils imports this module, so it is looked up when needed)."""
    from brisk import utils

    return getattr(utils, name)


_SESSION_SEND = Session.send
_GET_ADAPTER = _SessionBase.get_adapter
_PREPARE_REQUEST = _SessionBase.prepare_request
_MERGE_ENVIRONMENT = _SessionBase.merge_environment_settings


def session() -> Session:
    """requests' old spelling of ``Session()``."""
    return Session()
