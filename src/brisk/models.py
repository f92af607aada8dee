"""requests' models: ``Request``, ``PreparedRequest`` and ``Response``.

Where their parts live:

* ``Request`` is the user's description of a request; ``prepare()`` makes a ``PreparedRequest``.
* ``PreparedRequest`` holds what will be sent; the ``prepare_*`` steps that fill it, requests' two mixins and
  the header rules are in :mod:`brisk._request.prepare`, the body encoders in :mod:`brisk._request.body`
  and :mod:`brisk._request.multipart`.
* ``Response`` is its head here (status, headers, encoding, cookies, ``raise_for_status``, pickling) and
  :class:`brisk._response.body.ResponseBody` (reading the body in sync and async code, decoding, text and
  JSON). One ``Response`` class serves the sync and the async client. ``response.raw`` is
  :mod:`brisk._response.raw`; charset, link and line rules are in :mod:`brisk._response.content`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from brisk._core.headers import Headers
from brisk._core.streams import ByteStream
from brisk._core.url import URL, redacted
from brisk._request.prepare import (  # requests.models has the two mixins
    RequestEncodingMixin,  # noqa: F401
    RequestHooksMixin,
    RequestPreparation,
    header_value,
)
from brisk._response.body import ITER_CHUNK_SIZE, ResponseBody  # noqa: F401  (requests.models has the name)
from brisk._response.content import encoding_from_content_type, guess_json_utf, parse_links  # noqa: F401  (as requests.models)
from brisk.exceptions import (  # noqa: F401  (requests.models has these names too)
    ContentDecodingError,
    HTTPError,
    StreamConsumedError,
)
from brisk.hooks import default_hooks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import timedelta
    from typing import Any

    from brisk._protocol.http11 import ResponseHead
    from brisk._response.connection_info import ConnectionInfo

    RawHeaders = list[tuple[str, str]] | ResponseHead

    from brisk._core.config import Limits
    from brisk._transport.base import AsyncByteStream, SyncByteStream, Timings
    from brisk.cookies import RequestsCookieJar

__all__ = ["PreparedRequest", "Request", "Response"]


def __getattr__(name: str) -> object:
    """requests.models's other names, loaded when first read (see brisk._core.requests_names)."""
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._core.requests_names import requests_name

    return requests_name(__name__, name)


_header_value = header_value  # brisk.sessions imports it from here
REDIRECT_STATI = frozenset((301, 302, 303, 307, 308))
_UNKNOWN: Any = object()


class Request(RequestHooksMixin):
    """A request as the user describes it; ``prepare()`` turns it into a ``PreparedRequest``.

    >>> Request("GET", "https://example.org/search", params={"q": "brisk"}).prepare().url
    'https://example.org/search?q=brisk'
    """

    def __init__(
        self,
        method: str | None = None,
        url: str | None = None,
        headers: Any = None,
        files: Any = None,
        data: Any = None,
        params: Any = None,
        auth: Any = None,
        cookies: Any = None,
        hooks: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = {} if headers is None else headers
        self.files = [] if files is None else files
        self.data = [] if data is None else data
        self.json = json
        self.params = {} if params is None else params
        self.auth = auth
        self.cookies = cookies
        self.hooks = default_hooks()
        for event, hook in (hooks or {}).items():
            self.register_hook(event, hook)

    def __repr__(self) -> str:
        return f"<Request [{self.method}]>"

    def register_hook(self, event: str, hook: Any) -> None:
        if callable(hook):
            self.hooks[event].append(hook)
        elif isinstance(hook, Iterable):
            self.hooks[event].extend(h for h in hook if callable(h))

    def deregister_hook(self, event: str, hook: Any) -> bool:
        try:
            self.hooks[event].remove(hook)
        except ValueError:
            return False
        return True

    def prepare(self) -> PreparedRequest:
        prepared = PreparedRequest()
        prepared.prepare(
            method=self.method,
            url=self.url,
            headers=self.headers,
            files=self.files,
            data=self.data,
            params=self.params,
            auth=self.auth,
            cookies=self.cookies,
            hooks=self.hooks,
            json=self.json,
        )
        return prepared


class PreparedRequest(RequestPreparation):
    """The exact request that will be sent: method, URL, headers and body (the ``prepare_*`` steps that fill
    them are :class:`brisk._request.prepare.RequestPreparation`'s)."""

    def __init__(self) -> None:
        self.method: str | None = None
        self._url: URL | None = None
        self.headers: Headers = Headers()
        self.body: Any = None
        self.hooks: dict[str, list[Any]] = default_hooks()
        self._cookies: RequestsCookieJar | None = None
        self._auth: Any = None

    # requests' prepared request always holds a jar here (auth handlers that answer a 401 extract its cookies
    # into it: extract_cookies_to_jar(prep._cookies, ...)); brisk's makes an empty one when code asks, so a
    # request sent without cookies= never imports http.cookiejar. Stored under the same name in __dict__.
    @property
    def _cookies(self) -> RequestsCookieJar:
        jar: RequestsCookieJar | None = self.__dict__.get("_cookies")
        if jar is None:
            from brisk.cookies import RequestsCookieJar

            jar = self.__dict__["_cookies"] = RequestsCookieJar()
        return jar

    @_cookies.setter
    def _cookies(self, jar: RequestsCookieJar | None) -> None:
        self.__dict__["_cookies"] = jar

    # url is a string to users (as in requests) and a parsed URL inside brisk.
    @property
    def url(self) -> str | None:
        return None if self._url is None else str(self._url)

    @url.setter
    def url(self, value: str | bytes | URL) -> None:
        if isinstance(value, bytes):  # requests-oauthlib sets bytes; requests takes them as UTF-8
            value = value.decode("utf-8")
        self._url = value if isinstance(value, URL) else URL.parse(value)

    def __repr__(self) -> str:
        return f"<PreparedRequest [{self.method}]>"

    def prepare(
        self,
        method: str | None = None,
        url: str | None = None,
        headers: Any = None,
        files: Any = None,
        data: Any = None,
        params: Any = None,
        auth: Any = None,
        cookies: Any = None,
        hooks: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> None:
        self.prepare_method(method)
        self.prepare_url(url, params)
        self.prepare_headers(headers)
        self.prepare_cookies(cookies)
        self.prepare_body(data, files, json)
        self.prepare_auth(auth)
        self.prepare_hooks(hooks)

    def register_hook(self, event: str, hook: Callable[..., Any]) -> None:
        self.hooks.setdefault(event, []).append(hook)

    @property
    def path_url(self) -> str:
        return "/" if self._url is None else self._url.target

    def copy(self) -> PreparedRequest:
        new = PreparedRequest.__new__(PreparedRequest)
        new.__dict__.update(self.__dict__)
        new.headers = self.headers.copy()
        new.hooks = {event: list(hooks) for event, hooks in self.hooks.items()}
        return new


def _reason_text(reason: str | bytes | None) -> str:
    """A reason phrase as text, for the message of ``raise_for_status``."""
    if reason is None:  # a response built from a raw with no reason phrase, as requests leaves it
        return ""
    if isinstance(reason, bytes):  # set by hand (a mock): UTF-8, else latin-1, as requests decodes it
        try:
            return reason.decode("utf-8")
        except UnicodeDecodeError:
            return reason.decode("iso-8859-1")
    try:  # servers sometimes send UTF-8 reasons, which arrive decoded as latin-1
        return reason.encode("latin-1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return reason


def _response_headers(value: Any) -> Headers:
    """Headers for a mapping assigned to ``Response.headers``. One that repeats a name in ``items()`` (a
    multidict: httpie wraps the raw headers in one, and so urllib3's ``HTTPHeaderDict``) keeps each value,
    as the object itself would show them in requests; a plain mapping becomes Headers as it is."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
        if len({str(name).lower() for name, _ in pairs}) < len(pairs):
            return Headers.from_raw(pairs)
    return Headers(value)


class Response(ResponseBody):
    """The server's answer. Code that reads requests' ``Response`` reads this one.

    The head is here; the body (``content``, ``iter_content``, ``aread``, ``text``, ``json()``, ``raw``,
    ``close``) is :class:`brisk._response.body.ResponseBody`'s.

    >>> r = brisk.get("https://httpbin.org/json", timeout=5)
    >>> r.status_code, r.ok, r.headers["content-type"]
    (200, True, 'application/json')
    """

    __attrs__ = [
        "_content",
        "status_code",
        "headers",
        "url",
        "history",
        "encoding",
        "reason",
        "cookies",
        "elapsed",
        "request",
    ]

    #: Facts about the connection this response came over (addresses, TLS version, cipher, ALPN, the
    #: server's certificate): the one object shared by every response of that connection. None for a
    #: response that came over no connection (built by hand, a mock).
    connection_info: ConnectionInfo | None = None
    #: True when a session's cache answered (``cache=``: see the README's caching section).
    from_cache: bool = False
    #: What the session's cache did: "hit", "stale", "revalidated", "miss", "bypass", "only-if-cached";
    #: None without a cache.
    cache_status: str | None = None
    _trailers: Headers | None = None  # set by hand or kept by pickling (class defaults: free to build)

    def __init__(
        self,
        status_code: int | None = None,
        *,
        content: bytes | None = None,
        text: str | None = None,
        json: Any = None,
        headers: Any = None,
        url: str | None = None,
        request: PreparedRequest | None = None,
    ) -> None:
        self.status_code: int = status_code  # type: ignore[assignment]
        self.reason: str = ""
        self.http_version = "HTTP/1.1"
        self.url: str = url or ""
        self.history: list[Response] = []
        self.request: PreparedRequest = request  # type: ignore[assignment]
        self._encoding: Any = _UNKNOWN
        self.timings: Timings | None = None
        self.retries: Any = None
        self._raw_headers: RawHeaders | None = None
        self._headers: Headers | None = Headers(headers) if headers is not None else None
        self._content: bytes | None = None
        self._consumed = False
        self._stream: SyncByteStream | AsyncByteStream | None = None
        self._chunks: Any = None  # the one raw iterator shared by iter_content, raw.read, ...
        self._cookies: RequestsCookieJar | None = None
        self._limits: Limits | None = None
        self._next: PreparedRequest | None = None
        self._elapsed: timedelta | None = None
        self._raw: Any = None
        #: The adapter that sent this response (requests' name): ``r.connection.send(...)`` sends again.
        self.connection: Any = None
        if json is not None:
            import json as json_module

            content = json_module.dumps(json).encode("utf-8")
            self.headers.setdefault("Content-Type", "application/json")
        elif text is not None:
            content = text.encode("utf-8")
            self.headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        if content is not None:
            self._stream = ByteStream(content)
            self.headers.setdefault("Content-Length", str(len(content)))
        elif status_code is not None:  # Response(204): an empty body. requests' bare Response() has none.
            self._stream = ByteStream(b"")

    @classmethod
    def _from_transport(
        cls,
        status_code: int,
        reason: str,
        http_version: str,
        raw_headers: RawHeaders,
        stream: SyncByteStream | AsyncByteStream,
        request: PreparedRequest,
        timings: Timings | None,
        connection_info: ConnectionInfo | None = None,
        missing: frozenset[str] = frozenset(),
    ) -> Response:
        """Build a response from what a transport read (fast path: no Headers until someone asks).
        ``missing``: header names (lower case) the transport knows the head lacks (see ``_missing``)."""
        return cls._begun(request, timings, connection_info)._from_head(
            status_code, reason, http_version, raw_headers, stream, missing
        )

    @classmethod
    def _begun(
        cls, request: PreparedRequest, timings: Timings | None, connection_info: ConnectionInfo | None
    ) -> Response:
        """The response to ``request`` as far as it is known before its head: ``_from_transport``'s first
        half, which the HTTP/1.1 transport runs while the server is still answering (see ``_from_head``)."""
        self = cls.__new__(cls)
        # The attributes as one dict, copied from the blank one and filled in: a third faster than updating
        # the instance's own dict, which grows and converts as 30 names go in one by one.
        state = _BLANK.copy()
        state["request"] = request
        url = request._url
        # (request.url, without two calls: a property and str(); a subclass of the user's may have its own)
        state["url"] = url._str if url is not None and type(request) is PreparedRequest else request.url or ""
        state["timings"] = timings
        state["history"] = []
        state["connection_info"] = connection_info
        self.__dict__ = state
        return self

    def _from_head(
        self,
        status_code: int,
        reason: str,
        http_version: str,
        raw_headers: RawHeaders,
        stream: SyncByteStream | AsyncByteStream,
        missing: frozenset[str] = frozenset(),
    ) -> Response:
        """A response from ``_begun`` completed with its head and body stream; returns it."""
        state = self.__dict__
        state["status_code"] = status_code
        state["reason"] = reason
        state["http_version"] = http_version
        state["_raw_headers"] = raw_headers
        state["_stream"] = stream
        if missing:
            state["_missing"] = missing
        return self

    # -- head ------------------------------------------------------------------------------------------

    def _header_values(self, lower_name: str) -> list[str]:
        """Every value of one header, without building ``headers`` when it was not built yet."""
        if self._headers is not None:
            return self._headers.get_list(lower_name)
        raw = self._raw_headers
        if raw is None:
            return []
        if not isinstance(raw, list):
            return raw.values(lower_name)
        size = len(lower_name)
        return [value for name, value in raw if len(name) == size and name.lower() == lower_name]

    @property
    def headers(self) -> Headers:
        headers = self._headers
        if headers is None:
            raw = self._raw_headers
            pairs = () if raw is None else raw if isinstance(raw, list) else raw.headers
            headers = self._headers = Headers.from_raw(pairs)
        return headers

    @headers.setter
    def headers(self, value: Any) -> None:
        self._headers = value if isinstance(value, Headers) else _response_headers(value)

    @property
    def trailers(self) -> Headers:
        """The trailer fields that ended the response (HTTP/1.1 chunked trailers, HTTP/2 trailing HEADERS).

        Empty when there were none, and until the last byte of the response has arrived: for a streamed
        response (``stream=True``), read the body to its end first. A response read whole (the default) has
        them as it is returned.
        """
        trailers = self._trailers
        if trailers is None:
            pairs = getattr(self._stream, "trailers", None)  # a transport's stream has them once it ends
            if pairs is None:
                return Headers()
            trailers = self._trailers = Headers.from_raw(pairs)
        return trailers

    @trailers.setter
    def trailers(self, value: Any) -> None:
        self._trailers = value if isinstance(value, Headers) else _response_headers(value)

    @property
    def encoding(self) -> str | None:
        """The body's text encoding: set it to override; by default taken from Content-Type (requests' rules:
        the charset parameter; else ISO-8859-1 for text/*; else UTF-8 for JSON; else None)."""
        encoding = self._encoding
        if encoding is _UNKNOWN:
            values = self._header_values("content-type")
            encoding = self._encoding = encoding_from_content_type(values[0] if values else None)
        result: str | None = encoding
        return result

    @encoding.setter
    def encoding(self, value: str | None) -> None:
        self._encoding = value

    @property
    def ok(self) -> bool:
        """True for status codes below 400."""
        try:
            self.raise_for_status()
        except HTTPError:
            return False
        return True

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"

    @property
    def _content_consumed(self) -> bool:
        """requests' name for "the body was read" (code built on requests checks it)."""
        return self._consumed or self._content is not None

    @_content_consumed.setter
    def _content_consumed(self, value: bool) -> None:
        self._consumed = value

    @property
    def is_redirect(self) -> bool:
        return self.status_code in REDIRECT_STATI and "location" in self.headers

    @property
    def is_permanent_redirect(self) -> bool:
        return self.status_code in (301, 308) and "location" in self.headers

    @property
    def next(self) -> PreparedRequest | None:
        """The request a redirect would lead to, when redirects were not followed."""
        return self._next

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The parsed ``Link`` header, keyed by ``rel`` (or by URL when a link has no rel)."""
        value = self.headers.get("link")
        if not value:
            return {}
        return {link.get("rel") or link["url"]: link for link in parse_links(value)}

    @property
    def elapsed(self) -> timedelta:
        """Time from sending the request until the response head arrived."""
        if self._elapsed is None:
            from datetime import timedelta

            seconds = self.timings.first_byte if self.timings is not None else 0.0
            self._elapsed = timedelta(seconds=seconds)
        return self._elapsed

    @elapsed.setter
    def elapsed(self, value: timedelta) -> None:
        self._elapsed = value

    @property
    def cookies(self) -> RequestsCookieJar:
        """The cookies this response set (requests' ``response.cookies``)."""
        if self._cookies is None:
            from brisk.cookies import RequestsCookieJar

            jar = RequestsCookieJar()
            url = self.request._url if self.request is not None else None
            values = self.headers.get_list("set-cookie")
            if self._raw is not None:
                from brisk._cookies.foreign_jar import raw_set_cookie_values
                from brisk._response.raw import RawResponse

                if not isinstance(self._raw, RawResponse):
                    # urllib3-shaped (a cassette's, a mock's): its Set-Cookie lines, which headers may join
                    values = raw_set_cookie_values(self._raw) or values
            if url is not None and values:
                jar.extract(values, url.scheme, url.host, url.path)
            self._cookies = jar
        return self._cookies

    @cookies.setter
    def cookies(self, value: RequestsCookieJar) -> None:
        self._cookies = value

    def raise_for_status(self) -> None:
        """Raise ``HTTPError`` for a 4xx or 5xx status."""
        status = self.status_code
        if status is None or status < 400:
            return
        reason = _reason_text(self.reason)
        if not reason:  # HTTP/2 and some servers send no reason phrase: name the status ourselves
            from http import HTTPStatus

            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = ""
        kind = "Client" if status < 500 else "Server"
        if status >= 600:
            kind = "Unknown"
        raise HTTPError(f"{status} {kind} Error: {reason} for url: {redacted(self.url)}", response=self)

    # -- pickling ----------------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        if self._content is None and self._stream is not None:
            self.content  # noqa: B018 - read the body so it travels with the pickle
        state = {name: getattr(self, name, None) for name in self.__attrs__}
        state["headers"] = self.headers
        # brisk's own: the connection's facts (immutable, small) and the trailers (known: the body was read)
        state["connection_info"] = self.connection_info
        state["trailers"] = self.trailers
        if self.cache_status is not None:  # (a session with cache=: what its cache did)
            state["from_cache"] = self.from_cache
            state["cache_status"] = self.cache_status
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(_BLANK)
        self.history = []
        for name, value in state.items():
            setattr(self, name, value)
        self._consumed = self._content is not None  # read: reading again replays it, raw.read() gives b""


_BLANK: dict[str, Any] = {}
_BLANK.update(Response().__dict__)
_BLANK.pop("history")
