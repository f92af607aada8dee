"""The URL model: one immutable, normalised, validated ``URL`` per absolute URL.

Every URL brisk sends a request to, follows a redirect to, or connects through (proxy) passes through
``URL.parse``. Each hostile input has exactly one documented result, listed here.

Whole string
  - Leading and trailing C0 controls and spaces are stripped first (as browsers and requests do).
  - The scheme is ``[A-Za-z][A-Za-z0-9+.-]*:`` and is lower-cased. No scheme -> ``MissingSchema`` with a
    suggestion: ``Invalid URL 'example.com/x': No scheme supplied. Perhaps you meant https://example.com/x?``.
  - ``host:port...`` without ``//`` (``localhost:8080/x``) is a missing scheme, not a scheme called
    "localhost": the error suggests ``http://localhost:8080/x``. It is raised as a class that is both
    ``MissingSchema`` and ``InvalidSchema``, so code written for requests (which raises InvalidSchema there)
    still catches it.
  - http, https, ws and wss need ``//`` and a host, else ``InvalidURL`` (``http:/x``, ``http:\\\\x``).
    Any other scheme is parsed the same generic way (``socks5h://proxy:1080``); whether it can be served is
    the caller's decision (a mounted adapter), and its host may hold percent-escapes, kept as written
    (``http+unix://%2Frun%2Fdocker.sock/info``). ``http+unix`` is requests-unixsocket's form, which brisk
    serves itself: its host, letters kept in their case, is the percent-encoded path of a Unix socket
    (``URL.unix_socket`` decodes it), and its ``host_header`` is ``localhost``. A URL of another scheme with
    no ``//`` authority (``mailto:a@b``, ``data:...``) is kept exactly as written, with no host, and
    ``params`` are not added to it (as requests does); sending it needs an adapter mounted for its scheme,
    else ``InvalidSchema``. Only ``file:`` may have an empty host.
  - Error messages quote the input with ``repr`` (control characters escaped), cut to 200 characters,
    with any password in the userinfo replaced by ``***``.

Authority
  - Userinfo ends at the LAST ``@`` of the authority (found with one ``rfind``: 10 000 ``@`` parse in linear
    time). ``@``, ``[``, ``]`` and every other character not allowed in userinfo are percent-encoded;
    ``auth`` returns the decoded pair. An empty userinfo (``http://@h/``) is dropped.
  - A backslash anywhere in the authority -> ``InvalidURL``: browsers read ``\\`` as ``/`` in http(s) URLs, so
    ``http://evil\\@good/`` would name different hosts for us and for a browser.
  - Empty host (``http:///p``, ``http:////host``, ``http://:80/``) -> ``InvalidURL`` "No host supplied".
  - Host characters: C0 controls, space, DEL and ``"#%/:<>?@[\\]^`{|}`` -> ``InvalidURL`` naming the
    character. An empty label (``.example.com``, ``a..b``) or a leading ``*`` -> ``InvalidURL`` (as requests).
  - The host is lower-cased. A non-ASCII host is converted to IDNA 2008 A-labels with UTS #46 mapping (the
    ``idna`` package); failure -> ``InvalidURL`` mentioning IDNA. An ASCII label starting ``xn--`` must decode
    as valid IDNA, else ``InvalidURL``.
  - A trailing dot is kept as written: ``example.com.`` is a different origin from ``example.com`` (as in
    browsers and for cookies), and DNS resolves both.
  - IPv4-looking hosts are kept as written (no reinterpretation of ``0x7f.1`` or ``017.0.0.1``).
  - ``[...]`` must be a valid IPv6 address (checked with ``ipaddress``); it is stored without brackets in
    RFC 5952 compressed form in hexadecimal groups on every Python (``[0:0::1]`` -> ``::1``,
    ``[::ffff:192.0.2.1]`` -> ``::ffff:c000:201``, as browsers write it). A zone id, written ``%25eth0``
    (RFC 6874) or ``%eth0``, is kept as ``%25eth0`` and must be unreserved characters or %XX escapes; it is
    left out of ``host_header`` (RFC 6874 section 4). ``[v1.x]`` and any bad literal -> ``InvalidURL``.
  - Port: ASCII digits only; leading zeros are read as decimal (``0080`` -> 80); empty (``h:``) means no
    port; non-digits, 0 and values above 65535 -> ``InvalidURL`` naming the port.

Path, query, fragment
  - Characters not allowed in a URL are percent-encoded as UTF-8: C0 controls (CR, LF, NUL, TAB...), space,
    DEL, non-ASCII, and ``"<>\\^`{|}``. Valid ``%XX`` escapes are kept as written (never double-encoded),
    except escapes of letters, digits, ``-``, ``_`` and ``~``, which are those characters (``%7E`` -> ``~``,
    RFC 3986 section 6.2.2.2, as requests normalises); a ``%`` not followed by two hex digits becomes
    ``%25``. ``+`` and the reserved characters are kept. So CR, LF and spaces never reach ``target``,
    ``host_header`` or ``str(url)``, which are plain printable ASCII.
  - A lone surrogate (not encodable as UTF-8) -> ``InvalidURL``.
  - Dot segments are removed from the path (RFC 3986 section 5.2.4), as browsers, curl and urllib3 do;
    ``%2E`` is not a dot. An empty http(s)/ws(s) path is ``/``.
  - The fragment is kept on the URL but never appears in ``target``.

Cost: every step is linear in the input. ``URL.parse`` memoises up to 512 recent inputs; ``urllib.parse``,
``ipaddress`` and ``idna`` are imported only by the paths that need them.

The parts: percent-encoding and error-message quoting are in :mod:`brisk._core.percent`, host and port
validation in :mod:`brisk._core.host`; splitting, assembling and the ``URL`` class are here.
"""

from __future__ import annotations

from brisk._core.form import encode_form
from brisk._core.host import parse_host, parse_ipv6, parse_port
from brisk._core.percent import (
    FRAGMENT_SAFE,
    PASSWORD_SAFE,
    PATH_SAFE,
    QUERY_SAFE,
    USER_SAFE,
    encode_latin1,
    encode_utf8,
    requote,
    requote_pattern,
    requote_with,
    show,
    unquote,
    up_to,
)
from brisk.exceptions import InvalidSchema, InvalidURL, MissingSchema

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, cast

    from brisk._core.form import FormInput
else:
    from brisk._core.typing_lite import cast

__all__ = ["DEFAULT_PORTS", "UNIX_SCHEME", "URL", "redacted", "requote", "scheme_end"]

DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443, "ws": 80, "wss": 443}
"""Default ports of the schemes brisk speaks; other schemes (socks proxies...) have none."""
UNIX_SCHEME = "http+unix"
"""HTTP over the Unix socket the host names, percent-encoded (requests-unixsocket's form)."""

_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_CACHE_SIZE = 512
_CACHE_MAX_INPUT = 4096

# An ordinary URL is split and checked with string methods and set lookups (_split, requote_with): the
# patterns below serve the rarer paths, which import re when they first need it (re.match and friends keep
# their compiled patterns cached).
_SCHEME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SCHEME_CHARS = _SCHEME_START | frozenset("0123456789+.-")
# The host of a scheme brisk does not speak itself (RFC 3986 reg-name: unreserved, sub-delims and escapes)
# when it holds an escape, which a DNS name cannot: kept as written (WHATWG's "opaque host").
_REG_NAME_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})"
_OPAQUE_HOST = rf"{_REG_NAME_CHAR}*%[0-9A-Fa-f]{{2}}{_REG_NAME_CHAR}*"
_UNIX_HOST = rf"{_REG_NAME_CHAR}+"  # a socket path, escapes or not (http+unix://app.sock/ is relative)
# What a "host:port" typed without a scheme looks like (localhost:8080, 10.0.0.1:3128/x, [::1]:80).
_HOST_PORT = r"(?:\[[0-9A-Fa-f:.]*\]|[^\s/?#@:\[\]\\]+):[0-9]+(?:[/?#]|\Z)"


def scheme_end(text: str) -> int:
    """Where the scheme of ``text`` ends: the index of its ':' (RFC 3986 section 3.1 syntax), else -1."""
    colon = text.find(":")
    if colon > 0 and text[0] in _SCHEME_START and _SCHEME_CHARS.issuperset(text[1:colon]):
        return colon
    return -1


def _split(text: str) -> tuple[str, str | None, str, str | None, str | None] | None:
    """Scheme, authority, path, query and fragment, as RFC 3986 appendix B splits them, or None without a
    scheme. Each part ends at the first delimiter that may not occur in it; absent parts are None."""
    colon = scheme_end(text)
    if colon < 0:
        return None
    start = colon + 1
    authority = None
    if text.startswith("//", start):
        end = up_to(text, start + 2, "/?#")
        authority = text[start + 2 : end]
        start = end
    fragment = None
    hash_at = text.find("#", start)
    if hash_at >= 0:
        fragment = text[hash_at + 1 :]
        text = text[:hash_at]
    query = None
    question = text.find("?", start)
    if question >= 0:
        query = text[question + 1 :]
        text = text[:question]
    return text[:colon], authority, text[start:], query, fragment


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 for a path that is empty or starts with '/', in one linear pass."""
    if "/." not in path:
        return path
    segments = path.split("/")
    out: list[str] = []
    for segment in segments[1:]:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if segments[-1] in (".", ".."):
        out.append("")  # "/a/b/.." -> "/a/": the path still names a directory
    return "/" + "/".join(out)


def _suggest(url: str) -> str:
    """The "Perhaps you meant" tail of a missing-scheme message, left out for long or unprintable input."""
    return f" Perhaps you meant {url}?" if len(url) <= 200 and url.isprintable() else ""


def _host_port_error(text: str, stripped: str) -> MissingSchema:
    return _HostPortWithoutScheme(
        f"Invalid URL {show(text)}: No scheme supplied.{_suggest('http://' + stripped)}"
    )


def _no_scheme(text: str, stripped: str) -> InvalidURL | MissingSchema:
    """The error for a string with no usable scheme."""
    head = stripped.split("://", 1)[0] if "://" in stripped else None
    if head and not any(c in head for c in "/?#"):
        return InvalidURL(f"Invalid URL {show(text)}: invalid scheme {head[:20]!r}")
    import re

    if re.match(_HOST_PORT, stripped):
        return _host_port_error(text, stripped)
    suggestion = ""
    if stripped.startswith("//"):
        suggestion = _suggest("https:" + stripped)
    elif not stripped.startswith("/"):
        suggestion = _suggest("https://" + stripped)
    return MissingSchema(f"Invalid URL {show(text)}: No scheme supplied.{suggestion}")


class _HostPortWithoutScheme(MissingSchema, InvalidSchema):
    """``localhost:8080`` given as a URL: MissingSchema, and InvalidSchema as requests raises."""


def _parse(text: str) -> URL:
    if not isinstance(text, str):
        raise TypeError(f"URL must be a str, not {type(text).__name__}")
    stripped = text.strip(_C0_AND_SPACE)
    parts = _split(stripped)
    if parts is None:
        raise _no_scheme(text, stripped)
    scheme_text, authority, path, query, fragment = parts
    scheme = scheme_text.lower()
    if authority is None:
        if scheme in DEFAULT_PORTS:
            raise InvalidURL(f"Invalid URL {show(text)}: expected '//' and a host after '{scheme}:'")
        import re

        if re.match(_HOST_PORT, stripped):
            raise _host_port_error(text, stripped)
        return _opaque(scheme, stripped)
    if "\\" in authority:
        raise InvalidURL(f"Invalid URL {show(text)}: backslash in the authority (host part)")

    username = ""
    password = None
    at = authority.rfind("@")
    if at >= 0:
        userinfo = authority[:at]
        authority = authority[at + 1 :]
        colon = userinfo.find(":")
        if colon >= 0:
            username = requote_with(userinfo[:colon], USER_SAFE)
            password = requote_with(userinfo[colon + 1 :], PASSWORD_SAFE)
        else:
            username = requote_with(userinfo, USER_SAFE)

    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise InvalidURL(f"Invalid URL {show(text)}: unterminated IPv6 address (missing ']')")
        host = parse_ipv6(authority[1:end], text)
        rest = authority[end + 1 :]
        if rest and rest[0] != ":":
            raise InvalidURL(f"Invalid URL {show(text)}: unexpected {rest[:20]!r} after the IPv6 address")
        port = parse_port(rest[1:], text)
    else:
        colon = authority.find(":")
        if colon >= 0:
            port = parse_port(authority[colon + 1 :], text)
            authority = authority[:colon]
        else:
            port = None
        if scheme in DEFAULT_PORTS or not _is_kept_host(scheme, authority):
            host = parse_host(authority, text) if authority else ""
        else:  # another scheme's host, kept as written (http+unix://%2Frun%2Fdocker.sock/ names a socket)
            host = authority
    if not host and scheme != "file":
        raise InvalidURL(f"Invalid URL {show(text)}: No host supplied")

    path = _remove_dot_segments(requote_with(path, PATH_SAFE))
    if not path and scheme in DEFAULT_PORTS:
        path = "/"
    if query is not None:
        query = requote_with(query, QUERY_SAFE)
    if fragment is not None:
        fragment = requote_with(fragment, FRAGMENT_SAFE)
    return _build(scheme, username, password, host, port, path, query, fragment)


def _is_kept_host(scheme: str, authority: str) -> bool:
    """Is this the host of a scheme brisk does not speak, to be kept as written (see _OPAQUE_HOST)?"""
    if scheme != UNIX_SCHEME and "%" not in authority:  # socks5://proxy:1080: a name, to be checked
        return False
    import re

    return re.fullmatch(_UNIX_HOST if scheme == UNIX_SCHEME else _OPAQUE_HOST, authority) is not None


class _Fields:
    """The storage of a URL. ``URL`` is this layout with assignment disabled (see ``_build``)."""

    __slots__ = (
        "_host_header",
        "_port",
        "_str",
        "_target",
        "fragment",
        "host",
        "password",
        "path",
        "port",
        "query",
        "scheme",
        "username",
    )

    scheme: str
    username: str
    password: str | None
    host: str
    port: int | None
    path: str
    query: str | None
    fragment: str | None
    _str: str
    _target: str
    _host_header: str
    _port: int  # effective_port: read for every request (the pool's key), so worked out once


def _build(
    scheme: str,
    username: str,
    password: str | None,
    host: str,
    port: int | None,
    path: str,
    query: str | None,
    fragment: str | None,
) -> URL:
    """Assemble a URL from components that are already normalised."""
    fields = _Fields()
    fields.scheme = scheme
    fields.username = username
    fields.password = password
    fields.host = host
    fields.port = port
    fields.path = path
    fields.query = query
    fields.fragment = fragment
    zone = host.find("%")
    bare_host = host if zone < 0 else host[:zone]
    if scheme == UNIX_SCHEME:  # a socket path is no name: Host is localhost, as requests-unixsocket sends
        bare_host = "localhost"
    if ":" in host:  # only IPv6 has ':' in the host
        bare_host = f"[{bare_host}]"
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
        if port != DEFAULT_PORTS.get(scheme):
            bare_host = f"{bare_host}:{port}"
    if username or password is not None:
        host = f"{username}:{password}@{host}" if password is not None else f"{username}@{host}"
    target = path or "/"
    if query is not None:
        target = f"{target}?{query}"
        path = f"{path}?{query}"
    fields._host_header = bare_host
    fields._target = target
    fields._port = DEFAULT_PORTS.get(scheme, 0) if port is None else port
    fields._str = f"{scheme}://{host}{path}" if fragment is None else f"{scheme}://{host}{path}#{fragment}"
    # Plain slot assignment above is cheap; switching the class now makes the object read-only.
    fields.__class__ = URL
    return cast(URL, fields)


def _opaque(scheme: str, text: str) -> URL:
    """A URL with no ``//`` authority (``mailto:``, ``data:``, ``magnet:``): kept as written, with no host
    to connect to, as requests keeps it (only what may never appear in a URL, such as spaces and control
    characters, is percent-encoded). Only an adapter mounted for its scheme can send it."""
    rest = text[len(scheme) + 1 :]
    pattern = requote_pattern(FRAGMENT_SAFE + "#[]")
    if pattern.search(rest) is not None:
        try:
            rest = pattern.sub(encode_utf8, rest)
        except UnicodeEncodeError:
            raise InvalidURL(f"Invalid URL {show(text)}: contains a lone surrogate") from None
    text = f"{scheme}:{rest}"
    fields = _Fields()
    fields.scheme = scheme
    fields.username = ""
    fields.password = None
    fields.host = ""
    fields.port = None
    fields.path = rest
    fields.query = None
    fields.fragment = None
    fields._host_header = ""
    fields._target = fields.path
    fields._port = DEFAULT_PORTS.get(scheme, 0)
    fields._str = text
    fields.__class__ = URL
    return cast(URL, fields)


_KEEP: Any = object()
_CACHE: dict[str, URL] = {}


class URL(_Fields):
    """Immutable parsed absolute URL. Hashable; ``==`` compares the normalised string form.

    ``URL.parse(text)`` (or ``URL(text)``) validates and normalises by the rules in this module's docstring.
    ``username``/``password``/``path``/``query``/``fragment`` are percent-encoded; ``host`` is lower-case
    ASCII (IDNA A-labels; IPv6 without brackets); ``port`` is the explicit port or ``None``.
    """

    __slots__ = ()

    def __new__(cls, text: str) -> URL:
        return URL.parse(text)

    @classmethod
    def parse(cls, text: str) -> URL:
        """Parse and normalise ``text``; the same input returns the same (cached) instance.

        Raises ``MissingSchema``, ``InvalidSchema`` or ``InvalidURL`` (all ``ValueError``) on bad input.
        """
        url = _CACHE.get(text)
        if url is None:
            url = _parse(text)
            if len(text) <= _CACHE_MAX_INPUT:
                if len(_CACHE) >= _CACHE_SIZE:
                    try:  # evict the oldest entry; another thread may race us to it, which is harmless
                        del _CACHE[next(iter(_CACHE))]
                    except (KeyError, RuntimeError, StopIteration):
                        pass
                _CACHE[text] = url
        return url

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"URL is immutable; use copy_with({name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("URL is immutable")

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        if self.password is None:
            return f"URL({self._str!r})"
        return f"URL({str(self.copy_with(password='***'))!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL):
            return self._str == other._str
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._str)

    def __reduce__(self) -> tuple[Any, ...]:
        return (URL.parse, (self._str,))

    def __copy__(self) -> URL:
        return self

    def __deepcopy__(self, memo: object) -> URL:
        return self

    @property
    def target(self) -> str:
        """The request-target in origin form: path and ``?query``; never a fragment."""
        return self._target

    @property
    def host_header(self) -> str:
        """The Host header value: host (bracketed IPv6, no zone id) and ``:port`` unless it is the default."""
        return self._host_header

    @property
    def effective_port(self) -> int:
        """The explicit port, else the scheme's default (80/443); 0 for a scheme with no default."""
        return self._port

    @property
    def origin(self) -> tuple[str, str, int]:
        """``(scheme, host, effective_port)``: what must match for a request to stay same-origin."""
        return (self.scheme, self.host, self.effective_port)

    @property
    def unix_socket(self) -> str | None:
        """The path of the Unix socket an ``http+unix`` URL names (its host, percent-decoded; bytes that are
        not UTF-8 are kept as the file system encodes them), else None."""
        if self.scheme != UNIX_SCHEME:
            return None
        import os
        from urllib.parse import unquote_to_bytes  # loaded by the Unix socket paths only

        return os.fsdecode(unquote_to_bytes(self.host))

    @property
    def auth(self) -> tuple[str, str] | None:
        """The percent-decoded ``(username, password or "")`` when the URL has userinfo, else ``None``."""
        if not self.username and self.password is None:
            return None
        return (unquote(self.username), unquote(self.password or ""))

    def join(self, reference: str) -> URL:
        """Resolve ``reference`` (a Location header, a link) against this URL, per RFC 3986 section 5.

        Absolute references are parsed in full. A reference naming this URL's http(s) scheme without ``//``
        (``http:g``) is treated as relative, as browsers do (RFC 3986 section 5.4.2 allows either).
        """
        ref = reference.strip(_C0_AND_SPACE)
        colon = scheme_end(ref)
        if colon >= 0:
            rest = ref[colon + 1 :]
            if ref[:colon].lower() != self.scheme or self.scheme not in DEFAULT_PORTS or rest[:2] == "//":
                return URL.parse(ref)
            ref = rest
        if ref[:2] == "//":
            return URL.parse(f"{self.scheme}:{ref}")

        fragment = None
        hash_at = ref.find("#")
        if hash_at >= 0:
            fragment = requote_with(ref[hash_at + 1 :], FRAGMENT_SAFE)
            ref = ref[:hash_at]
        query = None
        question = ref.find("?")
        if question >= 0:
            query = requote_with(ref[question + 1 :], QUERY_SAFE)
            ref = ref[:question]
        path = requote_with(ref, PATH_SAFE)

        if not path:
            path = self.path
            if query is None:
                query = self.query
        elif path[0] == "/":
            path = _remove_dot_segments(path)
        else:  # merge with the base's directory (section 5.2.3), then remove dot segments
            base = self.path
            path = _remove_dot_segments(base[: base.rfind("/") + 1] + path if base else "/" + path)
        return _build(self.scheme, self.username, self.password, self.host, self.port, path, query, fragment)

    def with_params(self, params: FormInput | str | bytes | None) -> URL:
        """Add ``params`` to the query (after any existing one), as requests' ``params=`` does.

        A mapping or list of pairs is form-encoded (``None`` values dropped, list values repeated); a str or
        bytes is appended as written after requoting (bytes outside ASCII are encoded byte by byte).
        Empty params return ``self``. A lone surrogate anywhere in ``params`` raises ``InvalidURL``.
        """
        if not params or not self._str.startswith(self.scheme + "://"):  # an opaque URL is kept as written
            return self
        if isinstance(params, str):
            extra = requote_with(params, QUERY_SAFE)
        elif isinstance(params, bytes | bytearray | memoryview):
            extra = requote_pattern(QUERY_SAFE).sub(encode_latin1, bytes(params).decode("latin-1"))
        else:
            try:
                extra = encode_form(params)
            except UnicodeEncodeError:  # a lone surrogate in a key or value, as for a str query above
                raise InvalidURL(f"Invalid query parameters {repr(params)[:200]}: a lone surrogate") from None
        if not extra:
            return self
        query = f"{self.query}&{extra}" if self.query else extra
        return _build(
            self.scheme, self.username, self.password, self.host, self.port, self.path, query, self.fragment
        )

    def copy_with(
        self,
        *,
        scheme: str = _KEEP,
        username: str = _KEEP,
        password: str | None = _KEEP,
        host: str = _KEEP,
        port: int | None = _KEEP,
        path: str = _KEEP,
        query: str | None = _KEEP,
        fragment: str | None = _KEEP,
    ) -> URL:
        """A new URL with the given components replaced, validated and normalised like ``parse``.

        ``host`` may be a name, IPv4, or IPv6 with or without brackets; ``username``, ``password``, ``path``,
        ``query`` and ``fragment`` are requoted (delimiters such as ``?`` in a path get encoded).
        """
        text = str(self)
        if scheme is _KEEP:
            scheme = self.scheme
        elif not isinstance(scheme, str) or scheme_end(scheme + ":") != len(scheme):
            raise InvalidURL(f"Invalid scheme {scheme!r}")
        else:
            scheme = scheme.lower()
        username = self.username if username is _KEEP else requote_with(username, USER_SAFE)
        if password is _KEEP:
            password = self.password
        elif password is not None:
            password = requote_with(password, PASSWORD_SAFE)
        host = self.host if host is _KEEP else parse_host(host, text)
        if port is _KEEP:
            port = self.port
        elif port is not None and (
            not isinstance(port, int) or isinstance(port, bool) or not 0 < port <= 65535
        ):
            raise InvalidURL(f"Invalid port {port!r} (expected 1-65535)")
        if path is _KEEP:
            path = self.path
        else:
            path = requote_with(path, PATH_SAFE)
            if path and path[0] != "/":
                path = "/" + path
            path = _remove_dot_segments(path)
        if not path and scheme in DEFAULT_PORTS:
            path = "/"
        if query is _KEEP:
            query = self.query
        elif query is not None:
            query = requote_with(query, QUERY_SAFE)
        if fragment is _KEEP:
            fragment = self.fragment
        elif fragment is not None:
            fragment = requote_with(fragment, FRAGMENT_SAFE)
        if not host and scheme != "file":
            raise InvalidURL(f"Invalid URL {show(text)}: No host supplied")
        return _build(scheme, username, password, host, port, path, query, fragment)

    def without_auth(self) -> URL:
        """This URL without username and password."""
        if not self.username and self.password is None:
            return self
        return _build(self.scheme, "", None, self.host, self.port, self.path, self.query, self.fragment)

    def without_fragment(self) -> URL:
        """This URL without its ``#fragment``."""
        if self.fragment is None:
            return self
        return _build(
            self.scheme, self.username, self.password, self.host, self.port, self.path, self.query, None
        )


def redacted(url: str) -> str:
    """``url`` without user name and password, for exception messages."""
    if "@" not in url:
        return url
    try:
        return str(URL.parse(url).without_auth())
    except ValueError:
        return "<URL with credentials>"
