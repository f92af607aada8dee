"""How a ``PreparedRequest`` is made: requests' ``prepare_*`` steps, its two mixins, and the header rules.

``brisk.models.PreparedRequest`` holds the request's fields; the steps that fill them from what the user
gave (method, URL and params, headers, cookies, body, auth, hooks) are the methods of
:class:`RequestPreparation` here, under requests' names, so that code which calls or overrides one step
(``prepare_body``, ``prepare_auth``...) keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from brisk._core.form import form_pairs
from brisk._core.headers import Headers
from brisk._core.url import URL
from brisk.auth import HTTPBasicAuth, HTTPBearerAuth
from brisk.exceptions import InvalidHeader, MissingSchema

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, cast

    from brisk.cookies import RequestsCookieJar
else:
    from brisk._core.typing_lite import cast

__all__ = ["RequestEncodingMixin", "RequestHooksMixin", "RequestPreparation", "header_name", "header_value"]


class RequestHooksMixin:
    """requests' ``register_hook``/``deregister_hook`` for a class with a ``hooks`` dict of lists."""

    def register_hook(self, event: str, hook: Any) -> None:
        """Add ``hook`` (a callable, or an iterable of them) to ``event``'s hooks."""
        hooks: dict[str, list[Any]] = cast("Any", self).hooks
        if event not in hooks:
            raise ValueError(f'Unsupported event specified, with event name "{event}"')
        if callable(hook):
            hooks[event].append(hook)
        elif isinstance(hook, Iterable):
            hooks[event].extend(h for h in hook if callable(h))

    def deregister_hook(self, event: str, hook: Any) -> bool:
        """Remove ``hook`` from ``event``'s hooks; whether it was there."""
        hooks: dict[str, list[Any]] = cast("Any", self).hooks
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
        from urllib.parse import urlsplit  # urllib.parse is left out of import brisk

        parts = urlsplit(cast("Any", self).url)
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path

    @staticmethod
    def _encode_params(data: Any) -> Any:
        """A form body or query string from pairs or a mapping (lists give repeated keys, None values are
        left out); str, bytes, file objects and other values come back unchanged."""
        if isinstance(data, str | bytes) or hasattr(data, "read") or not hasattr(data, "__iter__"):
            return data
        from urllib.parse import urlencode  # urllib.parse is left out of import brisk

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
        from brisk._request.multipart import encode_multipart  # loaded by the first multipart body

        body, content_type = encode_multipart(files, data or None)
        return (body if isinstance(body, bytes) else b"".join(body)), content_type


_METHODS: dict[object, str] = {m: m for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")}


class RequestPreparation(RequestEncodingMixin, RequestHooksMixin):
    """requests' ``prepare_*`` steps, for ``PreparedRequest`` (which declares the fields set here)."""

    method: str | None
    _url: URL | None
    headers: Headers
    body: Any
    hooks: dict[str, list[Any]]
    _auth: Any
    _body_position: object = None  # where a file body started (requests' name; see prepare_body)
    if TYPE_CHECKING:
        _cookies: RequestsCookieJar | Any

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
                text_name = header_name(name)
                self.headers[text_name] = header_value(text_name, value)

    def prepare_body(self, data: Any, files: Any, json: Any = None) -> None:
        if not data and not files:
            if json is None:  # no body (the common GET): nothing to encode
                self.body = None
                self.prepare_content_length(None)
                return
            # json= alone (API clients): what encode_body and prepare_content_length do for it, in fewer calls
            body = self.body = (_encoders or _load_encoders())[1](json)
            headers = self.headers
            headers["Content-Length"] = str(len(body))  # (never empty: the shortest JSON text is a digit)
            if "content-type" not in headers:
                headers["Content-Type"] = "application/json"
            return
        encode = (_encoders or _load_encoders())[0]
        body, content_type = encode(data=data or None, files=files or None, json=json)
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
            auth = HTTPBasicAuth(*auth)
        elif isinstance(auth, str):
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
        # Only a request given cookies= loads the jar (brisk.cookies imports http.cookiejar) and the engine.
        from brisk._cookies.engine import request_store
        from brisk._cookies.foreign_jar import cookie_header
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
                value = cookie_header(jar, url)
            if value:
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


#: (encode_body, encode_json) of brisk._request.body, loaded by the first request with a body; an import
#: statement here would look the module up on every call
_encoders: tuple[Any, Any] | None = None


def _load_encoders() -> tuple[Any, Any]:
    global _encoders
    from brisk._request.body import encode_body, encode_json

    _encoders = (encode_body, encode_json)
    return _encoders


def header_name(name: str | bytes) -> str:
    return name.decode("latin-1") if isinstance(name, bytes) else name


def header_value(name: str, value: Any) -> str:
    """Header values are kept as str; bytes are taken as latin-1, the wire's own encoding. Anything else (a
    number, a dict) is refused as requests refuses it, naming the header and the type, never the value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise InvalidHeader(f"header {name!r}: a value must be str or bytes, not {type(value).__name__}")
