"""The request flow: everything between "the user called get()" and "here is the Response", as policy.

Layers, outermost first (each is a generator that yields effects, see ``brisk._flows``):

1. redirects   follow the chain (``redirects.py`` decides each hop), drain and keep each redirect response,
               stop at ``max_redirects``; run response hooks on every response
2. auth        static credentials and challenge flows, only for the origin they were given for;
               netrc looked up per hop, for each new host, by host name
3. retries     the ``Retry`` budgets, backoff and Retry-After, all inside the total deadline; plus one
               silent retry when a reused keep-alive connection turns out to be dead
4. send        cookies from the jar onto the request, the request itself, Set-Cookie into the jar
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

from brisk._auth.basic import basic_auth_str
from brisk._core.log import debug_logger
from brisk._flows import CallHook, Drain, ReadBody, Send, Sleep, run_async, run_sync
from brisk._flows.redirects import rebuild_auth_for_hop, redirect_request, same_origin_for_credentials
from brisk._flows.retry import Retry
from brisk._transport.base import SendOptions, StaleConnection
from brisk.exceptions import (
    InvalidRedirect,
    InvalidSchema,
    RequestException,
    RetryError,
    TooManyRedirects,
    UnrewindableBodyError,
)
from brisk.models import REDIRECT_STATI

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._cache.store import Cache
    from brisk._cookies.engine import CookieStore
    from brisk._core.url import URL
    from brisk._flows import Effect
    from brisk._session.ratelimit import RateLimit
    from brisk._session.redirect_mixin import SessionRedirectMixin
    from brisk._transport.base import AsyncBaseTransport, BaseTransport, ConnectionConfig
    from brisk.cookies import RequestsCookieJar
    from brisk.models import PreparedRequest, Response

    Hook = Callable[..., Any]
    Step = Generator[Effect, Any, Any]

__all__ = ["FlowSettings", "jar_cookie_header", "request_flow", "send_async", "send_sync"]

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


class FlowSettings:
    """What the flow needs to know about one request's settings (built by the session)."""

    __slots__ = (
        "adapter_for",
        "allow_redirects",
        "cache",
        "cache_plain",
        "hook_kwargs",
        "jar",
        "make_jar",
        "max_redirects",
        "netrc",
        "options",
        "plain",
        "proxy_resolver",
        "rate_limit",
        "redirect_hooks",
        "request_cookies",
        "request_hooks",
        "response_hooks",
        "retry",
        "stream",
    )

    def __init__(
        self,
        options: SendOptions,
        *,
        retry: Retry,
        allow_redirects: bool = True,
        max_redirects: int = 30,
        stream: bool = False,
        jar: CookieStore | RequestsCookieJar | None = None,
        make_jar: Callable[[], CookieStore | RequestsCookieJar] | None = None,
        request_cookies: CookieStore | None = None,
        request_hooks: list[Hook] | None = None,
        response_hooks: list[Hook] | None = None,
        hook_kwargs: dict[str, Any] | None = None,
        netrc: Callable[[str], tuple[str, str] | None] | None = None,
        proxy_resolver: Callable[[URL], ConnectionConfig] | None = None,
        rate_limit: RateLimit | None = None,
        redirect_hooks: SessionRedirectMixin | None = None,
        adapter_for: Callable[[str], Any] | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.options = options
        self.retry = retry
        self.allow_redirects = allow_redirects
        self.max_redirects = max_redirects
        self.stream = stream
        # the session's jar (brisk's store, a RequestsCookieJar showing one, or an http.cookiejar jar); None
        # until a response sets the first cookie (then make_jar makes a store)
        self.jar = jar
        self.make_jar = make_jar
        self.request_cookies = request_cookies
        self.request_hooks = request_hooks or ()
        self.response_hooks = response_hooks or ()
        self.hook_kwargs = hook_kwargs or {}
        self.netrc = netrc
        self.proxy_resolver = proxy_resolver
        self.rate_limit = rate_limit
        self.redirect_hooks = redirect_hooks  # a Session subclass overriding requests' redirect methods
        # The session's get_adapter, when response hooks run: they get ``response.connection`` set, as in
        # requests, and some send again through it (NTLM, proxy Digest auth).
        self.adapter_for = adapter_for
        self.cache = cache  # the session's brisk.Cache (brisk._flows.cache), or None
        #: Nothing around the send that calls the user's code or waits (see ``send_sync``). Worked out here,
        #: once for the many calls a session's cached settings serve; code that changes a setting above
        #: afterwards may only take one away (the WebSocket handshake drops the cache).
        self.plain = (
            not self.request_hooks and not self.response_hooks and adapter_for is None
            and redirect_hooks is None and rate_limit is None and cache is None
        )  # fmt: skip
        #: The same, but with a cache (and perhaps a rate limit, which a hit does not wait for): the cache's
        #: common hit is then answered without the flow (``_cache_hit``).
        self.cache_plain = (
            not self.request_hooks and not self.response_hooks and adapter_for is None
            and redirect_hooks is None and cache is not None
        )  # fmt: skip

    def for_hop(self, url: URL) -> FlowSettings:
        """Settings for a redirect hop: the same, except the proxy, which depends on the URL."""
        if self.proxy_resolver is None:
            return self
        config = self.proxy_resolver(url)
        if config == self.options.config:
            return self
        hop = FlowSettings.__new__(FlowSettings)
        for name in FlowSettings.__slots__:
            setattr(hop, name, getattr(self, name))
        hop.options = SendOptions(self.options.timeout, config, self.options.deadline, self.options.limits)
        return hop


def request_flow(request: PreparedRequest, s: FlowSettings) -> Generator[Effect, Any, Response]:
    original = request._url
    assert original is not None
    auth = request._auth
    first_proxy = s.options.config.proxy
    history: list[Response] = []  # the responses before the final one: redirects and auth challenges
    redirects = 0
    hop = request
    while True:
        hop_url = hop._url
        assert hop_url is not None
        home = same_origin_for_credentials(original, hop_url)
        response: Response
        if auth is None and not s.request_hooks:  # nothing to do around the send: skip a generator layer
            response = yield from _send_with_retries(hop, s, not home)
        else:
            response = yield from _send_hop(hop, s, auth if home else None, history, foreign=not home)
        if s.adapter_for is not None and response.connection is None:
            try:
                response.connection = s.adapter_for(response.url)
            except InvalidSchema:  # a response a test double made up for a URL no adapter is mounted for
                pass
        for hook in s.response_hooks:
            try:
                result = yield CallHook(hook, response, s.hook_kwargs)
            except BaseException:
                response.close()
                raise
            if result is not None:
                if result is not response:
                    yield Drain(response)  # release the replaced response's connection
                response = result
        hooks = s.redirect_hooks
        target = None
        if hooks is not None:
            target = hooks.get_redirect_target(response)
            if target is None:
                break
        elif not _redirects(response):
            break
        if not s.allow_redirects:
            try:
                response._next = redirect_request(hop, response, target)
            except (InvalidRedirect, UnrewindableBodyError):
                response._next = None
            break
        try:
            next_hop = redirect_request(hop, response, target)
            if hooks is not None:
                rebuild_auth_for_hop(hooks, hop, next_hop, response)
        except BaseException:
            response.close()
            raise
        limit = s.max_redirects
        budget = s.retry.redirect  # Retry(redirect=0 / False) disables redirects too (urllib3 CVE-2025-50181)
        if budget is not None and budget < limit:
            limit = budget
            if redirects >= limit and not s.retry.raise_on_redirect:
                response._next = next_hop
                break
        if redirects >= limit:
            response.history = history[:]  # as in requests: the responses that led here
            response.close()
            raise TooManyRedirects(
                f"Exceeded {limit} redirects (the last one from {hop_url.without_auth()} "
                f"to {next_url(next_hop).without_auth()}).",
                response=response,
            )
        yield Drain(response)
        history.append(response)
        redirects += 1
        log = debug_logger()
        if log is not None:
            log.debug(
                "redirect %d: %s %s -> %s %s",
                redirects,
                response.status_code,
                response.url,
                next_hop.method,
                next_hop.url,
            )
        _auth_for_hop(next_hop, original, auth, s)
        hop = next_hop
        s = s.for_hop(next_url(hop))
        if s.options.config.proxy != first_proxy:
            # The request's auth (HTTPProxyAuth) may have put Proxy-Authorization back: credentials for the
            # first hop's proxy never go to another proxy, nor straight to an origin.
            hop.headers.pop("Proxy-Authorization", None)
    if history:
        response.history = history
    if not s.stream:
        yield ReadBody(response)
    return response


def send_sync(request: PreparedRequest, s: FlowSettings, transport: BaseTransport) -> Response:
    """``run_sync(request_flow(request, s), transport)``, with the common case taken directly.

    Most calls have no auth, hooks, rate limit or cache, and their answer is neither a redirect nor a
    status to retry: then the flow is one Send, ``_accept`` and the body read, and running it as a generator
    of effects would cost more than the decisions themselves. With no auth and ``s.plain`` settings,
    ``request_flow`` goes straight to one Send (on the first origin), and after a response that is neither
    a redirect nor a status to retry, only accepts it (``_accept``), sets its ``retries`` and reads its
    body. The answer, or the exception, of the send goes back into the flow as its first effect's outcome
    as soon as there is more to decide (``_flow_decides``). So every decision is still the flow's own."""
    if request._auth is not None or not s.plain:
        if request._auth is None and s.cache_plain and s.cache is not None:
            hit = _cache_hit(request, s)
            if hit is not None:
                if not s.stream:
                    hit.content  # noqa: B018  (the flow's ReadBody)
                return hit
        return run_sync(request_flow(request, s), transport)
    if s.jar is not None or s.request_cookies is not None:
        _add_cookies(request, s, False)
    failed: BaseException | None
    try:
        response = transport.handle_request(request, s.options)
    except BaseException as exc:  # (the flow runs after this block: its exceptions are not chained to exc)
        failed = exc
    else:
        failed = None
    if failed is not None:
        return run_sync(request_flow(request, s), transport, (None, failed))
    retry = s.retry
    # (_flow_decides is called only when it may answer yes: not for a 200 with no status retries)
    if (response.status_code in REDIRECT_STATI or retry.status_forcelist or retry.total) and _flow_decides(
        response, request, s
    ):
        return run_sync(request_flow(request, s), transport, (response, None))
    _accept(response, request, s)
    response.retries = retry
    if not s.stream:
        response.content  # noqa: B018  (the flow's ReadBody)
    return response


async def send_async(request: PreparedRequest, s: FlowSettings, transport: AsyncBaseTransport) -> Response:
    """``send_sync`` on the event loop."""
    if request._auth is not None or not s.plain:
        if request._auth is None and s.cache_plain and s.cache is not None:
            hit = _cache_hit(request, s)
            if hit is not None:
                if not s.stream:
                    await hit.aread()
                return hit
        return await run_async(request_flow(request, s), transport)
    if s.jar is not None or s.request_cookies is not None:
        _add_cookies(request, s, False)
    failed: BaseException | None
    try:
        response = await transport.handle_async_request(request, s.options)
    except BaseException as exc:
        failed = exc
    else:
        failed = None
    if failed is not None:
        return await run_async(request_flow(request, s), transport, (None, failed))
    retry = s.retry
    # (_flow_decides is called only when it may answer yes: not for a 200 with no status retries)
    if (response.status_code in REDIRECT_STATI or retry.status_forcelist or retry.total) and _flow_decides(
        response, request, s
    ):
        return await run_async(request_flow(request, s), transport, (response, None))
    _accept(response, request, s)
    response.retries = retry
    if not s.stream:
        await response.aread()
    return response


def _cache_hit(request: PreparedRequest, s: FlowSettings) -> Response | None:
    """The flow of a request that the cache answers fresh, for ``s.cache_plain`` settings, without its
    generators: what ``_send_with_retries`` does around the cache's answer (cookies on, then ``_accept``;
    a status the cache answered is never retried) and nothing of ``request_flow`` (no hooks; a redirect
    goes back to the flow: None, as for every request the cache does not answer at once)."""
    if request.method not in ("GET", "HEAD", None) or request.body is not None:
        return None  # (fresh_hit's first test, made before the cookies are added: the flow adds them too)
    global _fresh_hit
    fresh_hit = _fresh_hit
    if fresh_hit is None:
        from brisk._flows.cache import fresh_hit as loaded  # (loaded with the first cached session)

        fresh_hit = _fresh_hit = loaded
    if s.jar is not None or s.request_cookies is not None:
        _add_cookies(request, s, False)  # (before the lookup: the stored response may Vary on Cookie)
    assert s.cache is not None
    hit = fresh_hit(request, s.cache)
    if hit is None or (hit.status_code in REDIRECT_STATI and _redirects(hit)):
        return None
    _accept(hit, request, s)
    hit.retries = s.retry
    return hit


_fresh_hit: Callable[[PreparedRequest, Cache], Response | None] | None = None


def _flow_decides(response: Response, request: PreparedRequest, s: FlowSettings) -> bool:
    """Is there more to decide about ``response`` than ``send_sync`` does: a redirect, or a retry?
    (Each call costs here: the common answers are found without one.)"""
    if response.status_code in REDIRECT_STATI and _redirects(response):
        return True
    retry = s.retry
    return bool(retry.status_forcelist or retry.total) and _status_to_retry(retry, request.method, response)


def _redirects(response: Response) -> bool:
    return response.status_code in REDIRECT_STATI and "location" in response.headers


def _status_to_retry(retry: Retry, method: str | None, response: Response) -> bool:
    """Does ``retry`` ask for ``response`` to be tried again for its status? (A status the cache answered
    with would only be answered again: not retried.) ``send_sync`` and ``send_async`` test the first
    condition before they ask: widen it there too."""
    return (
        bool(retry.status_forcelist or retry.total)
        and retry.is_retry(method, response.status_code, "retry-after" in response.headers)
        and not response.from_cache
    )


def next_url(request: PreparedRequest) -> URL:
    url = request._url
    assert url is not None
    return url


def _auth_for_hop(hop: PreparedRequest, original: Any, auth: Any, s: FlowSettings) -> None:
    """Credentials for a redirect hop: the request's own auth on its own origin, else the netrc entry of
    the new host (looked up by host name only), else none. Another port or scheme of the first host gets
    nothing: its credentials, netrc's included, stay with the origin they were used on."""
    url = hop._url
    assert url is not None
    if auth is not None and same_origin_for_credentials(original, url):
        auth(hop)
    elif s.netrc is not None and url.host != original.host and "authorization" not in hop.headers:
        found = s.netrc(url.host)
        if found is not None:
            hop.headers["Authorization"] = basic_auth_str(*found)


def _send_hop(
    request: PreparedRequest, s: FlowSettings, auth: Any, history: list[Response], foreign: bool = False
) -> Step:
    """One hop: request hooks, then the auth flow's exchanges (a challenged response joins ``history``,
    as a 401 answered by Digest auth does in requests), each send with its retries."""
    for hook in s.request_hooks:
        result = yield CallHook(hook, request, {})
        if result is not None:
            request = result
    flow_of = getattr(auth, "auth_flow", None)
    if flow_of is None:
        return (yield from _send_with_retries(request, s, foreign))
    auth_flow = flow_of(request)
    current = next(auth_flow)
    while True:
        response = yield from _send_with_retries(current, s, foreign)
        try:
            current = auth_flow.send(response)
        except StopIteration:
            return response
        except BaseException:
            response.close()
            raise
        yield Drain(response)  # the challenged response is answered, not returned
        history.append(response)
        _rewind(current, "answer the authentication challenge")


def _rewind(request: PreparedRequest, why: str) -> None:
    body = request.body
    if body is None or isinstance(body, bytes | str):
        return
    rewind = getattr(body, "rewind", None)
    if rewind is None:
        raise UnrewindableBodyError(f"cannot {why}: the request body cannot be sent again")
    rewind()


def _replayable(request: PreparedRequest) -> bool:
    body = request.body
    if body is None or isinstance(body, bytes | str):
        return True
    if not getattr(body, "replayable", False):
        return False
    body.rewind()
    return True


def _send_with_retries(request: PreparedRequest, s: FlowSettings, foreign: bool) -> Step:
    retry = s.retry
    method = request.method
    stale_retried = False
    deadline = s.options.deadline
    while True:
        _add_cookies(request, s, foreign)
        if s.rate_limit is not None and s.cache is None:  # (with a cache: when it sends, not on a hit)
            url = request._url
            assert url is not None
            wait = s.rate_limit.reserve(url.origin)
            if wait > 0:
                yield Sleep(wait)
        try:
            try:
                if s.cache is None:
                    response: Response = yield Send(request, s.options)
                else:  # the cache answers, validates or sends (loaded only for a session with cache=)
                    from brisk._flows.cache import cached_send

                    response = yield from cached_send(request, s.options, s.cache, s.rate_limit)
            except StaleConnection as stale:
                # A kept-alive connection died under us before any response byte: send again on a new
                # one, once. Otherwise it is an ordinary failure, which the caller's Retry may still allow.
                if not stale_retried and (method in IDEMPOTENT or stale.unprocessed) and _replayable(request):
                    stale_retried = True
                    continue
                raise stale.error from None
        except RequestException as exc:
            kind = Retry.classify(exc)
            if kind is None or (kind == "read" and not retry.method_allowed(method)):
                raise _with_attempts(exc, retry) from None
            spent = retry.increment(method, request.url, error=exc, kind=kind)
            delay = spent.sleep_time()
            out_of_time = deadline is not None and time.monotonic() + delay >= deadline
            if spent.is_exhausted() or not _replayable(request) or out_of_time:
                error = _with_attempts(exc, spent)
                if out_of_time and not spent.is_exhausted() and error.args and isinstance(error.args[0], str):
                    # Say why no further attempt was made, whichever way the timing fell: the deadline
                    # came before the next attempt could start.
                    error.args = (
                        f"{error.args[0]}; the total deadline (Timeout.total) left no time to try again",
                        *error.args[1:],
                    )
                raise error from None
            log = debug_logger()
            if log is not None:
                log.debug(
                    "retry %d of %s %s in %.2fs after %s: %s",
                    len(spent.history),
                    method,
                    request.url,
                    delay,
                    type(exc).__name__,
                    exc,
                )
            if delay > 0:
                yield Sleep(delay)
            retry = spent
            continue
        _accept(response, request, s)
        stale_retried = False  # each attempt may meet a dead kept-alive connection once
        if _status_to_retry(retry, method, response):
            status = response.status_code
            spent = retry.increment(method, request.url, response=response)
            delay = spent.sleep_time(response)
            out_of_time = deadline is not None and time.monotonic() + delay >= deadline
            if spent.is_exhausted() or out_of_time or not _replayable(request):
                if spent.raise_on_status and spent.is_exhausted():
                    response.close()
                    where = next_url(request).without_auth()
                    raise RetryError(
                        f"the server kept answering {status} for {where}: gave up "
                        f"after {spent.describe_attempts()}",
                        response=response,
                    )
                response.retries = spent
                return response
            yield Drain(response)
            log = debug_logger()
            if log is not None:
                log.debug(
                    "retry %d of %s %s in %.2fs after status %d",
                    len(spent.history),
                    method,
                    request.url,
                    delay,
                    status,
                )
            if delay > 0:
                yield Sleep(delay)
            retry = spent
            continue
        response.retries = retry
        return response


def _accept(response: Response, request: PreparedRequest, s: FlowSettings) -> None:
    """What every response a Send brings back goes through: the session's decoder limits (ratio, codings),
    the debug log, and its Set-Cookie headers into the jar."""
    response._limits = s.options.limits
    log = debug_logger()
    if log is not None:
        log.debug(
            "%s %s -> %s (%s, %.1f ms%s)",
            request.method,
            request.url,
            response.status_code,
            response.http_version,
            (response.timings.first_byte * 1000) if response.timings else 0.0,
            ", reused connection" if response.timings and response.timings.reused else "",
        )
    if (s.jar is not None or s.make_jar is not None) and (
        # known absent (no call), unless code has since built the headers or set a raw of its own
        "set-cookie" not in response._missing or response._headers is not None or response._raw is not None
    ):
        _extract_cookies(response, request, s)


def _with_attempts(exc: RequestException, retry: Retry) -> RequestException:
    """Say in the final exception how many attempts were made and why each failed."""
    exc.retries = retry  # type: ignore[attr-defined]
    if len(retry.history) > 1 and exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{exc.args[0]} — gave up after {retry.describe_attempts()}", *exc.args[1:])
    return exc


def _add_cookies(request: PreparedRequest, s: FlowSettings, foreign: bool) -> None:
    """The cookies of the jar and of the call onto ``request``, when there are any to add or to remove."""
    if s.request_cookies is not None or (s.jar is not None and (len(s.jar) or "cookie" in request.headers)):
        _apply_cookies(request, s, foreign)


def _apply_cookies(request: PreparedRequest, s: FlowSettings, foreign: bool) -> None:
    """The Cookie header from the jar (and per-request cookies, which are host-only). On a hop that a
    redirect took to another origin, cookies set without a domain stay behind.

    The session's jar is brisk's own, or an http.cookiejar jar the user assigned (``s.cookies =
    MozillaCookieJar(path)``), which is asked under its own policy. The explicit Cookie header check
    comes first for both: a header the user set is sent as set, on the hops it may go to, and no jar
    is consulted; a request prepared without the session (``Request(...).prepare()``) keeps a Cookie
    header it arrives with, unless ``prepare_cookies`` made it (then its cookies are ``request_cookies``)."""
    explicit = request.__dict__.get("_explicit_cookie")  # None: prepared elsewhere (Request.prepare())
    if explicit or (explicit is None and "cookie" in request.headers):
        return
    url = request._url
    assert url is not None
    value = None
    extra = s.request_cookies
    jar = s.jar
    if jar is not None:
        value = jar_cookie_header(jar, url, any_host=not foreign)
    if extra is not None:
        own = extra.header_for(url.scheme, url.host, url.path)
        if own:
            if value:  # per-request cookies win over the session's cookies of the same name
                names = {pair.split("=", 1)[0] for pair in own.split("; ")}
                rest = [pair for pair in value.split("; ") if pair.split("=", 1)[0] not in names]
                value = "; ".join([own, *rest])
            else:
                value = own
    if value:
        request.headers["Cookie"] = value
    elif "cookie" in request.headers:
        del request.headers["Cookie"]


def jar_cookie_header(jar: Any, url: URL, any_host: bool = True) -> str | None:
    """The Cookie header a session's jar gives a request to ``url``, or None: brisk's jar (told apart by
    its engine method, a lookup the call needs anyway), or an http.cookiejar jar, asked under its own
    policy. ``any_host=False`` (a hop on another origin) leaves out the cookies set without a domain."""
    header_for = getattr(jar, "header_for", None)
    if header_for is not None:
        value: str | None = header_for(url.scheme, url.host, url.path, any_host=any_host)
        return value
    from brisk._cookies.foreign_jar import cookie_header  # loaded only for a session given a stdlib jar

    return cookie_header(jar, url, any_host=any_host)


def _extract_cookies(response: Response, request: PreparedRequest, s: FlowSettings) -> None:
    values = response._header_values("set-cookie")
    raw = response._raw
    if raw is not None:
        from brisk._response.raw import RawResponse  # (brisk's raw, or one an adapter or a test set)

        if type(raw) is not RawResponse:
            # A response from an adapter of the user's (a cassette, a test double): its urllib3-shaped raw
            # keeps repeated Set-Cookie headers apart, which response.headers made from a dict may have
            # joined.
            from brisk._cookies.foreign_jar import raw_set_cookie_values  # only for a user's adapter

            values = raw_set_cookie_values(raw) or values
    if values:
        url = request._url
        assert url is not None
        jar = s.jar
        if jar is None:  # the session's first cookie: its jar is made now (and kept for the later hops)
            assert s.make_jar is not None
            jar = s.jar = s.make_jar()
        extract = getattr(jar, "extract", None)
        if extract is not None:
            extract(values, url.scheme, url.host, url.path)
        else:  # an http.cookiejar jar: its policy decides what to keep
            from brisk._cookies.foreign_jar import extract_cookies  # loaded only for a stdlib jar

            extract_cookies(jar, values, url)
