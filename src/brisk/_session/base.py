"""A session's settings and what a call's flow is given: the state shared by ``Session`` and
``AsyncSession``, made from the table in ``brisk._session.settings``.

``_settings`` turns the session's settings and a call's options into the ``FlowSettings`` of its flow, with
a cache for plain calls (see ``brisk._session.settings``). Precedence of every setting: the argument of the
call > the session's attribute > the environment (``trust_env``: proxies, ``REQUESTS_CA_BUNDLE``/
``CURL_CA_BUNDLE``, netrc), which a session reads once, at its first request.
"""

from __future__ import annotations

import time
from _thread import allocate_lock  # threading.Lock, without loading threading (import brisk does not need it)
from operator import attrgetter

from brisk._core.url import UNIX_SCHEME, URL, redacted
from brisk._flows.proxies import proxy_for
from brisk._flows.request import FlowSettings
from brisk._flows.retry import Retry
from brisk._session.options import PREPARE_OPTIONS
from brisk._session.redirect_mixin import SessionRedirectMixin, redirect_overrides
from brisk._session.settings import (
    BY_VALUE,
    NETWORK_SETTINGS,
    apply_settings,
    cache_setting,
    cookie_jar_for,
    next_version,
    restore_state,
    session_state,
    settings_fingerprint,
)
from brisk._transport.base import PRIOR_KNOWLEDGE, ConnectionConfig, SendOptions, TLSOptions
from brisk.adapters import BaseAdapter, HTTPAdapter, any_sends_itself, sends_itself
from brisk.exceptions import InvalidSchema, Timeout
from brisk.hooks import HOOKS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Unpack, cast

    from brisk._cache.store import Cache
    from brisk._cookies.engine import CookieStore
    from brisk._core.config import Limits
    from brisk._core.headers import Headers
    from brisk._session.environment import Environment
    from brisk._session.ratelimit import RateLimit
    from brisk._session.types import RequestOptions, SessionSettings
    from brisk._transport.base import CertValue, VerifyValue
    from brisk.cookies import RequestsCookieJar
    from brisk.models import PreparedRequest
else:
    from brisk._core.typing_lite import cast

__all__ = ["NO_OPTIONS", "SessionBase"]

#: The options of a call that gave none.
NO_OPTIONS: RequestOptions = {}
_JAR_LOCK = allocate_lock()  # makes a session's cookie jar once (see _ensure_cookie_jar)


class SessionBase(SessionRedirectMixin):
    """A session's settings (see ``brisk._session.settings.SETTINGS``) and the flow settings of a call."""

    # The settings, as the constructor leaves them (``apply_settings``)
    headers: Any  # brisk's Headers, or whatever mapping code assigned
    auth: Any
    params: Any
    # brisk's bare store (see _ensure_cookie_jar), a RequestsCookieJar, an http.cookiejar jar, or None
    _cookie_jar: CookieStore | RequestsCookieJar | None
    verify: VerifyValue
    cert: CertValue | None
    tls_min_version: Any  # these four as brisk._transport.tls.tls_setting keeps them
    tls_max_version: Any
    ciphers: str | None
    pin: tuple[str, ...] | None
    proxies: dict[str, str | None]
    hooks: dict[str, list[Any]]
    timeout: Any
    retries: Retry
    max_redirects: int
    trust_env: bool
    http2: bool | str
    http3: bool | str
    uds: str | None
    limits: Limits
    stream: bool
    rate_limit: RateLimit | None
    cache: Cache | None  # brisk._cache.store.Cache
    resolve: dict[str, Any]
    resolver: Any
    family: str | None
    local_address: str | None
    happy_eyeballs_delay: float | None
    tcp_keepalive: float | None
    adapters: dict[str, BaseAdapter]
    _given_transport: Any
    # Run-time state, not pickled
    _transport: Any  # Session: a BaseTransport; AsyncSession: an AsyncBaseTransport (each declares its own)
    _config_cache: tuple[tuple[Any, ...], ConnectionConfig] | None
    _env: Environment | None
    _settings_cache: tuple[tuple[Any, ...], FlowSettings] | None
    _plans: (
        dict[tuple[str, str], tuple[dict[str, Any], Headers, tuple[Any, ...], FlowSettings, tuple[Any, ...]]]
        | None
    )
    _settings_version: int

    #: requests' list of what a session pickles; brisk's other settings travel too (see __getstate__)
    __attrs__ = [
        "headers", "cookies", "auth", "proxies", "hooks", "params", "verify", "cert", "adapters", "stream",
        "trust_env", "max_redirects",
    ]  # fmt: skip

    def __init__(self, **settings: Unpack[SessionSettings]) -> None:
        apply_settings(self, settings)
        if settings.keys() & _TLS_COMBINED:  # the TLS settings that must agree, checked together now
            self._tls_settings(self.verify, self.cert)

    # -- pickling -------------------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """The settings only, as requests pickles a session (see ``brisk._session.settings``). A subclass's
        own attributes travel when it lists them in ``__attrs__``, as requests pickles them (a
        FuturesSession's executor and locks stay behind)."""
        own = [name for name in self.__attrs__ if name not in SessionBase.__attrs__]
        return session_state(self, own)

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_state(self, state)

    # -- cookies --------------------------------------------------------------------------------------------

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
        self._cookie_jar = cookie_jar_for(value)

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
        if lowered.startswith("http+unix://"):  # brisk serves it as http, through the http:// adapter
            return self.get_adapter("http://" + url[12:])
        if lowered.startswith("https+unix://"):
            raise InvalidSchema(
                f"https+unix:// URLs are not supported ({url!r}): TLS needs a host name to verify. Use "
                "Session(uds=PATH) with an https:// URL (TLS to that name over the socket), or http+unix://"
            )
        raise InvalidSchema(f"No connection adapters were found for {url!r}")

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

    # -- the settings of a call's flow ----------------------------------------------------------------------

    def _request_cookie_jar(self, p: PreparedRequest, cookies: Any) -> CookieStore | None:
        """Per-request ``cookies=`` as a store of the engine's (no http.cookiejar), bound to the request's
        host unless they carry a domain (see ``brisk._cookies.engine.request_store``)."""
        if not cookies:
            return None
        from brisk._cookies.engine import request_store

        url = p._url
        assert url is not None
        return request_store(url.host, cookies)

    def _verify(self, verify: Any) -> VerifyValue:
        value: VerifyValue = self.verify if verify is None else verify
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
        self, p: PreparedRequest, options: RequestOptions = NO_OPTIONS, cookies: Any = None
    ) -> FlowSettings:
        """The settings of ``p``'s flow: the session's, overridden by the call's ``options``; ``cookies``
        are the prepared request's own (``send``), else those of ``options``."""
        url = p._url
        assert url is not None
        cache_key = None
        if (
            (not options or options.keys() <= PREPARE_OPTIONS) and cookies is None and p._auth is None
            and not any(p.hooks.values()) and "proxy-authorization" not in p.headers._store
        ):  # fmt: skip
            # A call with nothing of its own: the settings depend only on the session and the origin.
            fingerprint = self._fingerprint()
            if fingerprint is not None:
                cache_key = (url.scheme, url.host, url.port, fingerprint)
                cached = self._settings_cache
                if cached is not None and cached[0] == cache_key:
                    return cached[1]
        proxies, verify, cert, stream = (
            options.get("proxies"),
            options.get("verify"),
            options.get("cert"),
            options.get("stream"),
        )
        retries, hooks = options.get("retries"), options.get("hooks")
        if cookies is None:
            cookies = options.get("cookies")
        if url.scheme not in ("http", "https"):
            self.get_adapter(str(url))  # raises InvalidSchema unless an adapter is mounted for it
        timeout_value = Timeout.coerce(options.get("timeout", self.timeout))
        deadline = None if timeout_value.total is None else time.monotonic() + timeout_value.total
        config = self._connection_config(url, proxies, verify, cert)
        if config.proxy is not None and "proxy-authorization" in p.headers:
            # HTTPProxyAuth: the credentials go to the proxy (CONNECT, or forwarded requests), nowhere else.
            config = config._replace(
                proxy_headers=(("Proxy-Authorization", p.headers["proxy-authorization"]),)
            )
        send_options = SendOptions(timeout_value, config, deadline, self.limits)
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
            send_options,
            retry=retry,
            allow_redirects=options.get("allow_redirects", True),
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
            cache=self.cache,
        )
        if cache_key is not None and deadline is None:
            self._settings_cache = (cache_key, settings)
        return settings

    #: Everything the settings of a plain call are made from (see ``brisk._session.settings``)
    _fingerprint = settings_fingerprint

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "cache":  # ``session.cache = True`` or a path: a brisk.Cache, as the constructor makes
            value = cache_setting(value)
        super().__setattr__(name, value)
        if name in BY_VALUE:  # after the value: see brisk._session.settings.BY_VALUE
            super().__setattr__("_settings_version", next_version())

    def __delattr__(self, name: str) -> None:
        super().__delattr__(name)
        if name in BY_VALUE:
            super().__setattr__("_settings_version", next_version())

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass that makes a setting a property (``verify`` read from its own configuration) changes
        it without an assignment the session sees: its plain calls make their settings afresh each time."""
        super().__init_subclass__(**kwargs)
        if _defines_a_setting_property(cls):
            cls._fingerprint = _no_fingerprint

    def _connection_config(self, url: URL, proxies: Any, verify: Any, cert: Any) -> ConnectionConfig:
        env = self._environment()
        proxy = (
            proxy_for(url, proxies, self.proxies, env)
            if (proxies or self.proxies or env is not None)
            else None
        )
        if proxy is not None and (self.uds is not None or url.scheme == UNIX_SCHEME):
            self._no_proxy_over_unix(url, proxies)  # raises for a proxy given explicitly
            proxy = None
        network = _NETWORK(self)
        key: tuple[Any, ...] = (
            self.verify, verify, self.cert, cert, proxy, self.http2, self.trust_env, self.uds,
            self.tls_min_version, self.tls_max_version, self.ciphers, self.pin, network, self.http3,
        )  # fmt: skip
        if network[0]:  # ``resolve``, a dict: its content
            key += (tuple(network[0].items()),)
        cached = self._config_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        if self.http2 not in (True, False, PRIOR_KNOWLEDGE):
            raise ValueError(f"http2 must be True, False or {PRIOR_KNOWLEDGE!r}, not {self.http2!r}")
        if self.http3 not in (True, False, PRIOR_KNOWLEDGE):
            raise ValueError(f"http3 must be True, False or {PRIOR_KNOWLEDGE!r}, not {self.http3!r}")
        verify_value, cert_value = self._verify(verify), self.cert if cert is None else cert
        if not isinstance(verify_value, bool | str) or not isinstance(cert_value, str | None):
            from brisk._transport.tls import check_cert, check_verify

            verify_value, cert_value = check_verify(verify_value), check_cert(cert_value)
        config = ConnectionConfig(
            verify_value,
            cert_value,
            proxy,
            self.http2,
            uds=self.uds,
            tls=self._tls_settings(verify_value, cert_value),
            network=None if network == _DEFAULT_NETWORK else _network_options(*network),
            http3=self.http3,
        )
        self._config_cache = (key, config)
        return config

    def _no_proxy_over_unix(self, url: URL, proxies: Any) -> None:
        """A request over a Unix socket never goes through a proxy: the environment's are ignored, one given
        to the session or the call is an error (the two ask for different routes)."""
        given = proxy_for(url, proxies, self.proxies, None)
        if given is not None:
            route = f"uds={self.uds!r}" if self.uds is not None else f"the {UNIX_SCHEME}:// URL"
            raise ValueError(
                f"{route} cannot be combined with the proxy {redacted(given)!r}: a request over a Unix "
                "socket never goes through a proxy (remove the proxy from proxies=, or the Unix socket)"
            )

    def _tls_settings(self, verify: Any, cert: Any) -> TLSOptions | None:
        """The session's TLS versions, ciphers and pins for a connection (checked again: they may have been
        assigned since the constructor), and whether they agree with ``verify`` and ``cert``."""
        tls = None
        if self.tls_min_version or self.tls_max_version or self.ciphers or self.pin:
            from brisk._transport.tls import tls_options

            tls = tls_options(self.tls_min_version, self.tls_max_version, self.ciphers, self.pin)
        if not isinstance(verify, bool | str | bytes | None):  # an ssl.SSLContext, used as given
            from brisk._transport.tls import check_verify_alone

            check_verify_alone(verify, cert, tls)
        return tls

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

    def _new_transport(self) -> Any:
        raise NotImplementedError  # Session: a SyncTransport; AsyncSession: an AsyncTransport

    def _transport_for(self) -> Any:
        """The transport a request goes to: the session's own (made by its first request), or, when
        requests' adapters must be asked (see ``_routes_through_adapters``), a router that asks them."""
        transport = self._transport
        if transport is None:
            # Threads sharing a new session (Session.map) reach here at once: one pool for all of them,
            # not one each with the losers' connections left open.
            with _NEW_TRANSPORT:
                transport = self._transport
                if transport is None:
                    transport = self._transport = self._new_transport()
        # (_routes_through_adapters, without a call: this runs on every request)
        if (
            type(self).get_adapter is not _GET_ADAPTER or "get_adapter" in self.__dict__
            or any_sends_itself(self.adapters.values())
        ):  # fmt: skip
            from brisk._transport.adapter import AdapterRouter  # only for sessions with such adapters

            return AdapterRouter(self.get_adapter, sends_itself, transport)
        return transport

    def _routes_through_adapters(self) -> bool:
        """Must each request ask ``get_adapter`` for its adapter? Yes when ``get_adapter`` is overridden or
        patched (requests-mock), or a mounted adapter sends requests itself (see ``adapters``).
        ``_transport_for`` makes the same check inline: change both together."""
        if type(self).get_adapter is not _GET_ADAPTER or "get_adapter" in self.__dict__:
            return True
        return any_sends_itself(self.adapters.values())


_GET_ADAPTER = SessionBase.get_adapter


def _no_fingerprint(session: Any) -> None:
    return None  # settings made afresh for every call (see SessionBase.__init_subclass__)


def _defines_a_setting_property(cls: type) -> bool:
    """Does a class of ``cls``'s, outside brisk, define a setting compared by value as a data descriptor?"""
    for klass in cls.__mro__:
        if klass.__module__ in (__name__, "brisk.sessions"):
            continue
        for name in BY_VALUE & vars(klass).keys():
            found = vars(klass)[name]
            if hasattr(found, "__get__") and hasattr(found, "__set__"):
                return True
    return False


_NEW_TRANSPORT = allocate_lock()  # rare: a session's first request, or its first after close()
#: the constructor's TLS keywords whose values are checked against each other
_TLS_COMBINED = frozenset(("verify", "cert", "tls_min_version", "tls_max_version", "ciphers", "pin"))
_NETWORK = attrgetter(*(name for name, _ in NETWORK_SETTINGS))
_DEFAULT_NETWORK: tuple[Any, ...] = ({}, *(default for _, default in NETWORK_SETTINGS[1:]))


def _network_options(*values: Any) -> Any:
    from brisk._transport.connect import network_options  # loads socket: not at import brisk

    return network_options(*values)
