"""requests' models: ``Request``, ``PreparedRequest`` and ``Response``.

One ``Response`` class serves the sync and the async client. Its body comes from a byte stream handed over
by the transport; ``content``/``iter_content`` read it in sync code, ``aread``/``aiter_content`` in async
code, and both push the bytes through the same ``BodyPipeline`` (content decoding, re-chunking, text).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from brisk._core.headers import Headers
from brisk._core.url import URL
from brisk._response.content import (
    BodyPipeline,
    LineSplitter,
    encoding_from_content_type,
    guess_json_utf,
    parse_links,
)
from brisk._response.raw import HandSetRaw as _HandSetRaw
from brisk._response.raw import ThroughRaw as _ThroughRaw
from brisk.exceptions import (
    ContentDecodingError,
    HTTPError,
    InvalidHeader,
    RequestException,
    StreamConsumedError,
)
from brisk.hooks import default_hooks

if TYPE_CHECKING:
    from datetime import timedelta

    from brisk._protocol.http11 import ResponseHead

    RawHeaders = list[tuple[str, str]] | ResponseHead

    from brisk._core.config import Limits
    from brisk._response.decoders import ContentDecoder
    from brisk._response.sse import ServerSentEvent
    from brisk._transport.base import AsyncByteStream, SyncByteStream, Timings
    from brisk.cookies import RequestsCookieJar

__all__ = ["PreparedRequest", "Request", "Response"]


def __getattr__(name: str) -> object:
    """requests.models's other names, loaded when first read (see brisk._compat.requests_names)."""
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._compat.requests_names import requests_name

    return requests_name(__name__, name)


REDIRECT_STATI = frozenset((301, 302, 303, 307, 308))
_UNKNOWN: Any = object()
ITER_CHUNK_SIZE = 512


class RequestHooksMixin:
    """requests' ``register_hook``/``deregister_hook`` for a class with a ``hooks`` dict of lists."""

    def register_hook(self, event: str, hook: Any) -> None:
        """Add ``hook`` (a callable, or an iterable of them) to ``event``'s hooks."""
        hooks: dict[str, list[Any]] = cast(Any, self).hooks
        if event not in hooks:
            raise ValueError(f'Unsupported event specified, with event name "{event}"')
        if callable(hook):
            hooks[event].append(hook)
        elif isinstance(hook, Iterable):
            hooks[event].extend(h for h in hook if callable(h))

    def deregister_hook(self, event: str, hook: Any) -> bool:
        """Remove ``hook`` from ``event``'s hooks; whether it was there."""
        hooks: dict[str, list[Any]] = cast(Any, self).hooks
        try:
            hooks[event].remove(hook)
        except ValueError:
            return False
        return True


class RequestEncodingMixin:
    """requests' ``path_url`` and its form and multipart encoders, for a class with a ``url``."""

    @property
    def path_url(self) -> str:
        """The path and query of ``url`` (``/`` for an empty path), as a request line carries them."""
        from urllib.parse import urlsplit

        parts = urlsplit(cast(Any, self).url)
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path

    @staticmethod
    def _encode_params(data: Any) -> Any:
        """A form body or query string from pairs or a mapping (lists give repeated keys, None values are
        left out); str, bytes, file objects and other values come back unchanged."""
        if isinstance(data, str | bytes) or hasattr(data, "read") or not hasattr(data, "__iter__"):
            return data
        from urllib.parse import urlencode

        from brisk._core.form import form_pairs

        pairs = form_pairs(data.items() if isinstance(data, Mapping) else list(data))
        return urlencode(
            [
                (k.encode() if isinstance(k, str) else k, v.encode() if isinstance(v, str) else v)
                for k, v in pairs
            ]
        )

    @staticmethod
    def _encode_files(files: Any, data: Any) -> tuple[bytes, str]:
        """``(body, content_type)`` of a multipart/form-data body with the fields of ``data`` and the files of
        ``files`` (in requests' forms: a file object, or ``(filename, file[, content_type[, headers]])``)."""
        if not files:
            raise ValueError("Files must be provided.")
        if isinstance(data, str | bytes):
            raise ValueError("Data must not be a string.")
        from brisk._request.multipart import encode_multipart

        body, content_type = encode_multipart(files, data or None)
        return (body if isinstance(body, bytes) else b"".join(body)), content_type


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


_METHODS: dict[object, str] = {m: m for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")}


class PreparedRequest(RequestEncodingMixin, RequestHooksMixin):
    """The exact request that will be sent: method, URL, headers and body."""

    _body_position: object = None  # where a file body started (requests' name; see prepare_body)

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

    def prepare_method(self, method: str | bytes | None) -> None:
        known = _METHODS.get(method)  # the common methods, already upper-case
        if known is not None:
            self.method = known
            return
        if isinstance(method, bytes):
            method = method.decode("ascii")
        self.method = None if method is None else method.upper()

    def prepare_url(self, url: str | bytes | URL | None, params: Any = None) -> None:
        if url is None:
            from brisk.exceptions import MissingSchema

            raise MissingSchema("Invalid URL None: No scheme supplied. Perhaps you meant https://None?")
        if isinstance(url, bytes):
            url = url.decode("utf-8")
        parsed = url if isinstance(url, URL) else URL.parse(str(url))
        if params:
            parsed = parsed.with_params(params)
        self._url = parsed

    def prepare_headers(self, headers: Any) -> None:
        self.headers = Headers()
        if headers:
            for name, value in headers.items() if isinstance(headers, Mapping) else headers:
                if value is None:
                    continue
                text_name = _header_name(name)
                self.headers[text_name] = _header_value(text_name, value)

    def prepare_body(self, data: Any, files: Any, json: Any = None) -> None:
        if not data and not files and json is None:  # no body (the common GET): nothing to encode
            self.body = None
            self.prepare_content_length(None)
            return
        from brisk._request.body import encode_body

        body, content_type = encode_body(data=data or None, files=files or None, json=json)
        self.body = body
        if not files and hasattr(data, "tell"):
            # Where a file body starts, for requests' utils.rewind_body (an unknown position cannot be
            # rewound to: a marker that is not an int, as requests keeps)
            try:
                self._body_position = data.tell()
            except OSError:
                self._body_position = object()
        self.prepare_content_length(body)
        if content_type and "content-type" not in self.headers:
            self.headers["Content-Type"] = content_type

    def prepare_content_length(self, body: Any) -> None:
        headers = self.headers
        if isinstance(body, str):  # a form or text data=: sent as UTF-8
            body = body.encode("utf-8")
        if isinstance(body, bytes):
            if body:
                headers["Content-Length"] = str(len(body))
            elif self.method not in ("GET", "HEAD") and "content-length" not in headers:
                headers["Content-Length"] = "0"
        elif body is None:
            if self.method not in ("GET", "HEAD") and "content-length" not in headers:
                headers["Content-Length"] = "0"
        else:
            length = getattr(body, "content_length", None)
            if length is not None:
                headers["Content-Length"] = str(length)
                headers.pop("Transfer-Encoding", None)
            elif "content-length" not in headers:
                headers["Transfer-Encoding"] = "chunked"

    def prepare_auth(self, auth: Any, url: str = "") -> None:
        if auth is None and self._url is not None:
            auth = self._url.auth
        if not auth:
            return
        if isinstance(auth, tuple) and len(auth) == 2:
            from brisk.auth import HTTPBasicAuth

            auth = HTTPBasicAuth(*auth)
        elif isinstance(auth, str):
            from brisk.auth import HTTPBearerAuth

            auth = HTTPBearerAuth(auth)
        if not callable(auth):
            raise TypeError(
                f"auth must be a (user, password) tuple, a token string or an AuthBase, not {auth!r}"
            )
        self._auth = auth
        result = auth(self)
        if result is not None and result is not self:
            self.__dict__.update(result.__dict__)
        self.prepare_content_length(self.body)

    def prepare_cookies(self, cookies: Any) -> None:
        """Add a Cookie header from ``cookies`` (a jar or a dict) unless one is already set. A jar is kept as
        ``_cookies`` as it is (an http.cookiejar one of the standard library too, asked under its own policy
        as the session asks it), as in requests."""
        if cookies is None or "cookie" in self.headers:
            return
        from brisk.cookies import RequestsCookieJar, cookiejar_from_dict

        if isinstance(cookies, RequestsCookieJar) or hasattr(cookies, "add_cookie_header"):
            jar = cookies
        else:
            jar = cookiejar_from_dict(cookies)
        self._cookies = jar
        url = self._url
        if url is not None:
            header_for = getattr(jar, "header_for", None)
            if header_for is not None:
                value = header_for(url.scheme, url.host, url.path)
            else:
                from brisk._cookies.foreign_jar import cookie_header

                value = cookie_header(jar, url)
            if value:
                from brisk._cookies.engine import request_store

                self.headers["Cookie"] = value
                # A session's send() makes the header again on each hop, from these and its own cookies.
                self.__dict__["_explicit_cookie"] = False
                self.__dict__["_prepared_cookies"] = request_store(url.host, jar)

    def prepare_hooks(self, hooks: Mapping[str, Any] | None) -> None:
        for event, hook in (hooks or {}).items():
            if event not in self.hooks:
                self.hooks[event] = []
            if callable(hook):
                self.hooks[event].append(hook)
            else:
                self.hooks[event].extend(h for h in hook if callable(h))

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


def _redacted(url: str) -> str:
    """``url`` without user name and password, for exception messages."""
    if "@" not in url:
        return url
    try:
        return str(URL.parse(url).without_auth())
    except ValueError:
        return "<URL with credentials>"


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


def _check_chunk_size(chunk_size: object) -> None:
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)):
        raise TypeError(f"chunk_size must be an int or None, not {type(chunk_size).__name__}")


def _header_name(name: str | bytes) -> str:
    return name.decode("latin-1") if isinstance(name, bytes) else name


def _header_value(name: str, value: Any) -> str:
    """Header values are kept as str; bytes are taken as latin-1, the wire's own encoding. Anything else (a
    number, a dict) is refused as requests refuses it, naming the header and the type, never the value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise InvalidHeader(f"header {name!r}: a value must be str or bytes, not {type(value).__name__}")


def _response_headers(value: Any) -> Headers:
    """Headers for a mapping assigned to ``Response.headers``. One that repeats a name in ``items()`` (a
    multidict: httpie wraps the raw headers in one, and so urllib3's ``HTTPHeaderDict``) keeps each value,
    as the object itself would show them in requests; a plain mapping becomes Headers as it is."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
        if len({str(name).lower() for name, _ in pairs}) < len(pairs):
            return Headers.from_raw(pairs)
    return Headers(value)


class Response:
    """The server's answer. Code that reads requests' ``Response`` reads this one.

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

    _closed = False  # set by close(): a class default, so building a response does not pay for it

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
            from brisk._core.streams import ByteStream

            self._stream = ByteStream(content)
            self.headers.setdefault("Content-Length", str(len(content)))
        elif status_code is not None:  # Response(204): an empty body. requests' bare Response() has none.
            from brisk._core.streams import ByteStream

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
    ) -> Response:
        """Build a response from what a transport read (fast path: no Headers until someone asks)."""
        self = cls.__new__(cls)
        self.__dict__.update(_BLANK)
        self.status_code = status_code
        self.reason = reason
        self.http_version = http_version
        self._raw_headers = raw_headers
        self._stream = stream
        self.request = request
        self.url = request.url or ""
        self.timings = timings
        self.history = []
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
        raise HTTPError(f"{status} {kind} Error: {reason} for url: {_redacted(self.url)}", response=self)

    # -- body: sync ------------------------------------------------------------------------------------

    @property
    def content(self) -> bytes:
        """The whole body, decoded (gzip, br, ...), read on first access.

        None for a response without a body source, as in requests: a bare ``Response()`` with no ``raw``
        (or any response whose status_code is 0).
        """
        content = self._content
        if content is None:
            if self._consumed:
                raise RuntimeError("The content for this response was already consumed")
            stream = self._sync_stream()
            if stream is None or self.status_code == 0:
                return None  # type: ignore[return-value]  # typed bytes for everyone else, as requests' stubs
            try:
                raw = stream.read_all()
            except RequestException as exc:
                self._with_url(exc)
                raise
            self._consumed = True
            content = self._content = self._decode_whole(raw)
        return content

    def iter_content(self, chunk_size: int | None = 1, decode_unicode: bool = False) -> Iterator[Any]:
        """The body in pieces of ``chunk_size`` bytes (decoded), as requests' ``iter_content``."""
        _check_chunk_size(chunk_size)  # at the call, as in requests, not at the first piece
        return self._iter_content(chunk_size, decode_unicode)

    def _iter_content(self, chunk_size: int | None, decode_unicode: bool) -> Iterator[Any]:
        if self._content is not None:  # already in memory, already decoded
            pipeline = self._pipeline(chunk_size, decode_unicode, decode=False)
            yield from pipeline.push(self._content)
            yield from pipeline.finish()
            return
        pipeline = self._pipeline(chunk_size, decode_unicode)
        large = chunk_size is not None and chunk_size >= 16384
        stream: Any = self._stream
        if isinstance(stream, _HandSetRaw):
            stream.read_size = chunk_size  # read as requests reads such a raw: raw.read(chunk_size)
        elif large and pipeline._decoder is None and self._chunks is None and hasattr(stream, "read_size"):
            # The transport cuts pieces of the caller's size itself (a Content-Length body, from large
            # reads) or reads that much at a time: pieces come out whole, with no re-slicing here.
            stream.read_size = stream.piece_size = chunk_size
        elif isinstance(stream, _ThroughRaw):
            stream.read_size = chunk_size  # a file set as raw._fp is read by the caller's chunk size
        try:
            for raw in self._iter_raw_stream():
                yield from pipeline.push(raw)  # a decoder decodes as the pieces are taken
        except ContentDecodingError as exc:
            raise self._decoding_error(exc) from exc
        yield from self._finish(pipeline)

    def iter_lines(
        self,
        chunk_size: int = ITER_CHUNK_SIZE,
        decode_unicode: bool = False,
        delimiter: str | bytes | None = None,
    ) -> Iterator[Any]:
        """The body line by line (line ends removed)."""
        splitter: LineSplitter[Any] = LineSplitter(delimiter)
        for piece in self.iter_content(chunk_size=chunk_size, decode_unicode=decode_unicode):
            yield from splitter.push(piece)
        yield from splitter.finish()

    def iter_events(self, max_event_size: int | None = None) -> Iterator[ServerSentEvent]:
        """The body as server-sent events (``text/event-stream``), each with event, data, id and retry.
        An unfinished line or event over ``max_event_size`` bytes (default 16 MiB) raises
        ContentDecodingError.

        >>> with session.get(url, stream=True) as r:
        ...     for event in r.iter_events():
        ...         print(event.event, event.data)
        """
        from brisk._response.sse import SSEDecoder

        decoder = SSEDecoder(max_event_size)
        for chunk in self.iter_content(None):
            yield from decoder.feed(chunk)
        decoder.close()

    def iter_raw(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body as received, without content decoding."""
        pipeline = BodyPipeline(None, chunk_size)
        for raw in self._iter_raw_stream():
            yield from pipeline.push(raw)
        yield from pipeline.finish()

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_content(128)

    @property
    def raw(self) -> Any:
        """A file-like view of the body (requests hands out urllib3's response here)."""
        if self._raw is None:
            from brisk._response.raw import RawResponse

            self._raw = RawResponse(self)
            if self._closed:  # asked for after close(): closed too, as requests' raw is then
                self._raw.close()
        return self._raw

    @raw.setter
    def raw(self, value: Any) -> None:
        """A raw set by hand (``io.BytesIO`` in a test fake, urllib3's response in a mock) becomes the body's
        source, as in requests. A body already read stays: requests keeps its content too."""
        from brisk._response.raw import RawResponse

        previous, self._raw = self._raw, value
        if self._content is not None or (isinstance(value, RawResponse) and value._owner() is self):
            return
        stream = self._stream
        replaced = None  # the transport's stream, still to be closed with the new raw
        if stream is not None and not isinstance(stream, _HandSetRaw):
            if isinstance(previous, RawResponse) and value is not None:
                # The new raw may wrap our own (r.raw = Wrapper(r.raw)), which goes on reading the body on
                # its own: it is closed with the new raw, not now.
                replaced = stream
            elif hasattr(stream, "close"):
                stream.close()
        self._stream = None if value is None else _HandSetRaw(value, replaced)
        self._chunks = None
        self._consumed = False

    def close(self) -> None:
        """Release the connection; an unread body closes it instead of returning it to the pool. A raw
        whose body was not read is closed with it, as requests closes it (one read to its end is left as
        it is: a test double may still look at it)."""
        self._closed = True
        stream = self._stream
        if stream is not None and hasattr(stream, "close"):
            stream.close()
        raw = self._raw
        if raw is not None and self._content is None and hasattr(raw, "close"):
            raw.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def _sync_stream(self) -> SyncByteStream | None:
        stream = self._stream
        if stream is not None and not hasattr(stream, "read_all"):
            raise RuntimeError(
                "this response came from an AsyncSession: read its body with "
                "'await response.aread()' or 'async for chunk in response.aiter_content()'"
            )
        return stream  # type: ignore[return-value]

    def _iter_raw_stream(self) -> Iterator[bytes]:
        if self._chunks is None:
            if self._consumed:
                raise StreamConsumedError("the body of this response was already read")
            stream = self._sync_stream()
            if stream is None:
                return
            self._consumed = True
            self._chunks = iter(stream)
        try:
            yield from self._chunks
        except RequestException as exc:
            self._with_url(exc)
            raise
        self._chunks = None  # fully read: reading again raises StreamConsumedError, as in requests

    def _drain(self, limit: int) -> None:
        """Read what is left of the body (raw, never decompressed) so the connection can be reused; give up
        and close the connection past ``limit`` bytes. A short body stays readable via ``content``."""
        if self._content is not None or self._consumed or self._stream is None:
            self.close()
            return
        chunks: list[bytes] = []
        size = 0
        try:
            for raw in self._iter_raw_stream():
                chunks.append(raw)
                size += len(raw)
                if size > limit:
                    break
            else:
                self._keep_drained(chunks)
        finally:
            self.close()

    def _keep_drained(self, chunks: list[bytes]) -> None:
        from brisk._core.streams import ByteStream

        self._stream = ByteStream(b"".join(chunks))
        self._chunks = None
        self._consumed = False

    # -- body: async -----------------------------------------------------------------------------------

    async def _adrain(self, limit: int) -> None:
        if self._content is not None or self._consumed or self._stream is None:
            await self.aclose()
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async for raw in self._aiter_raw_stream():
                chunks.append(raw)
                size += len(raw)
                if size > limit:
                    break
            else:
                self._keep_drained(chunks)
        finally:
            await self.aclose()

    async def aread(self) -> bytes:
        """Read the whole body (async). Afterwards ``content``, ``text`` and ``json()`` work."""
        if self._content is None:
            if self._consumed:
                raise RuntimeError("The content for this response was already consumed")
            stream = self._stream
            if stream is None or not hasattr(stream, "aread_all"):  # none, or a sync one (a raw set by hand)
                return self.content
            try:
                raw = await stream.aread_all()
            except RequestException as exc:
                self._with_url(exc)
                raise
            self._consumed = True
            self._content = self._decode_whole(raw)
        return self._content

    async def aiter_content(
        self, chunk_size: int | None = 1, decode_unicode: bool = False
    ) -> AsyncIterator[Any]:
        _check_chunk_size(chunk_size)
        if self._content is not None:
            for piece in self.iter_content(chunk_size, decode_unicode):
                yield piece
            return
        pipeline = self._pipeline(chunk_size, decode_unicode)
        try:
            async for raw in self._aiter_raw_stream():
                for piece in pipeline.push(raw):  # a decoder decodes as the pieces are taken
                    yield piece
        except ContentDecodingError as exc:
            raise self._decoding_error(exc) from exc
        for piece in self._finish(pipeline):
            yield piece

    async def aiter_lines(
        self,
        chunk_size: int = ITER_CHUNK_SIZE,
        decode_unicode: bool = False,
        delimiter: str | bytes | None = None,
    ) -> AsyncIterator[Any]:
        splitter: LineSplitter[Any] = LineSplitter(delimiter)
        async for piece in self.aiter_content(chunk_size=chunk_size, decode_unicode=decode_unicode):
            for line in splitter.push(piece):
                yield line
        for line in splitter.finish():
            yield line

    async def aiter_events(self, max_event_size: int | None = None) -> AsyncIterator[ServerSentEvent]:
        """``iter_events`` for the async client: ``async for event in r.aiter_events(): ...``"""
        from brisk._response.sse import SSEDecoder

        decoder = SSEDecoder(max_event_size)
        async for chunk in self.aiter_content(None):
            for event in decoder.feed(chunk):
                yield event
        decoder.close()

    async def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        pipeline = BodyPipeline(None, chunk_size)
        async for raw in self._aiter_raw_stream():
            for piece in pipeline.push(raw):
                yield piece
        for piece in pipeline.finish():
            yield piece

    async def aclose(self) -> None:
        self._closed = True
        stream = self._stream
        if stream is not None:
            if hasattr(stream, "aclose"):
                await stream.aclose()
            else:
                stream.close()

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.aclose()

    async def _aiter_raw_stream(self) -> AsyncIterator[bytes]:
        if self._chunks is None:
            if self._consumed:
                raise StreamConsumedError("the body of this response was already read")
            stream = self._stream
            if stream is None:
                return
            if not hasattr(stream, "__aiter__"):
                raise RuntimeError("this response came from a sync Session: use iter_content()")
            self._consumed = True
            self._chunks = stream.__aiter__()  # type: ignore[union-attr]
        try:
            async for raw in self._chunks:
                yield raw
        except RequestException as exc:
            self._with_url(exc)
            raise
        self._chunks = None  # fully read: reading again raises StreamConsumedError, as in requests

    def _with_url(self, exc: RequestException) -> RequestException:
        """Name the method and URL in an error met while reading the body, as errors of sending do."""
        request = self.request
        url = request._url if request is not None else None
        if url is not None:
            from brisk._core.error_context import add_url_context

            add_url_context(exc, url, request)
        return exc

    # -- decoding, shared by both worlds ---------------------------------------------------------------

    def _decoder(self) -> ContentDecoder | None:
        values = self._header_values("content-encoding")
        if not values:
            return None
        if isinstance(self._stream, _HandSetRaw):  # it decodes itself, or is a plain file: read as is
            return None
        encoding = ", ".join(values)
        from brisk._core.config import DEFAULT_LIMITS
        from brisk._response.decoders import make_decoder

        return make_decoder(encoding, self._limits or DEFAULT_LIMITS)

    def _pipeline(self, chunk_size: int | None, decode_unicode: bool, decode: bool = True) -> BodyPipeline:
        text_encoding = (self.encoding or "utf-8") if decode_unicode else None
        return BodyPipeline(self._decoder() if decode else None, chunk_size, text_encoding)

    def _decoding_error(self, exc: ContentDecodingError) -> ContentDecodingError:
        """``exc`` naming the URL, for an error met inside the body: its connection is closed, not reused."""
        self.close()
        return type(exc)(f"{exc} ({_redacted(self.url)})", response=self)

    def _finish(self, pipeline: BodyPipeline) -> list[Any]:
        try:
            return pipeline.finish()
        except ContentDecodingError as exc:
            raise type(exc)(f"{exc} ({_redacted(self.url)})", response=self) from exc

    def _decode_whole(self, raw: bytes) -> bytes:
        decoder = self._decoder()
        if decoder is None:
            return raw
        try:
            return decoder.decode(raw) + decoder.flush()
        except ContentDecodingError as exc:
            raise type(exc)(f"{exc} ({_redacted(self.url)})", response=self) from exc

    # -- text and JSON ---------------------------------------------------------------------------------

    @property
    def apparent_encoding(self) -> str | None:
        """The encoding guessed from the body by charset detection."""
        from charset_normalizer import detect

        encoding: str | None = detect(self.content)["encoding"]
        return encoding

    @property
    def text(self) -> str:
        """The body as text: the declared charset, else UTF-8 when it decodes, else detection."""
        content = self.content
        if not content:
            return ""
        encoding = self.encoding
        if encoding is None:
            try:
                return content.decode("utf-8")
            except UnicodeDecodeError:
                encoding = self.apparent_encoding or "utf-8"
        try:
            return content.decode(encoding, errors="replace")
        except LookupError:
            return content.decode("utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """Parse the body as JSON; a bad body raises ``brisk.JSONDecodeError`` (a ValueError)."""
        import json

        from brisk._core.json_error import JSONDecodeError

        content = self.content
        if self.encoding is None and content and len(content) > 3:  # content is None for a bare Response()
            encoding = guess_json_utf(content)
            if encoding is not None:
                try:
                    return json.loads(content.decode(encoding), **kwargs)
                except UnicodeDecodeError:
                    pass
                except json.JSONDecodeError as exc:
                    raise JSONDecodeError(exc.msg, exc.doc, exc.pos, response=self) from None
        try:
            return json.loads(self.text, **kwargs)
        except json.JSONDecodeError as exc:
            raise JSONDecodeError(exc.msg, exc.doc, exc.pos, response=self) from None

    # -- pickling ----------------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        if self._content is None and self._stream is not None:
            self.content  # noqa: B018 - read the body so it travels with the pickle
        state = {name: getattr(self, name, None) for name in self.__attrs__}
        state["headers"] = self.headers
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
