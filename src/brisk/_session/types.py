"""The types of brisk's keyword arguments, declared once: what ``request()``, the verb methods, ``send()``,
the top-level functions and ``Session(...)`` accept.

Each method takes them as ``**options: Unpack[...]`` (PEP 692), so a type checker sees every name and type
while the method receives a plain dict holding only what the caller gave. That is also how the session
tells "not given" (the session's setting applies) from an explicit value such as ``timeout=None`` (no
timeout at all): by whether the key is there.

The verb methods keep requests' positional parameters (``get(url, params)``, ``post(url, data, json)``,
``put``/``patch(url, data)``), which a ``TypedDict`` for ``**`` cannot also name: hence the few variants
below, each the common part plus the request options that verb does not take positionally.

For type checkers only: brisk imports this module under ``TYPE_CHECKING`` (making a ``TypedDict`` at run
time would add to ``import brisk`` for nothing); ``brisk._session.options`` holds the names as run-time sets,
and a unit test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable
    from http.cookiejar import CookieJar
    from os import PathLike
    from typing import TypeAlias

    from brisk._cache.store import Cache
    from brisk._core.config import Limits
    from brisk._flows.retry import Retry
    from brisk._session.download import ProgressCallback as DownloadProgress
    from brisk._session.ratelimit import RateLimit
    from brisk.exceptions import Timeout
    from brisk.models import PreparedRequest

    #: ``progress(done, total)``: bytes of the request body sent so far, and its size (None when unknown).
    ProgressCallback: TypeAlias = Callable[[int, int | None], object]
    ParamsArg: TypeAlias = Mapping[str, Any] | Iterable[tuple[Any, Any]] | str | bytes | None
    HeadersArg: TypeAlias = Mapping[str, Any] | Mapping[bytes, Any] | Iterable[tuple[Any, Any]] | None
    CookiesArg: TypeAlias = Mapping[str, str] | CookieJar | None
    AuthArg: TypeAlias = tuple[str | bytes, str | bytes] | Callable[[PreparedRequest], PreparedRequest] | None
    #: seconds for every phase, requests' ``(connect, read)`` pair, a :class:`~brisk.Timeout`, or None
    TimeoutArg: TypeAlias = float | tuple[float | None, float | None] | Timeout | None
    ProxiesArg: TypeAlias = Mapping[str, str | None] | None
    HooksArg: TypeAlias = Mapping[str, Callable[..., Any] | Iterable[Callable[..., Any]]] | None
    FilesArg: TypeAlias = Mapping[str, Any] | Iterable[tuple[str, Any]] | None
    #: True/False, a CA bundle path, CA certificates as PEM bytes, or an ssl.SSLContext used as given
    VerifyArg: TypeAlias = bool | str | bytes | ssl.SSLContext | None
    #: a path or PEM bytes (the key in it too), (cert, key), or (cert, key, password) for an encrypted key
    CertArg: TypeAlias = (
        str | bytes
        | tuple[str | bytes, str | bytes | None]
        | tuple[str | bytes, str | bytes | None, str | bytes | None]
        | None
    )  # fmt: skip
    #: "TLSv1.2", "TLSv1.3" ("TLSv1", "TLSv1.1"), or an ssl.TLSVersion
    TLSVersionArg: TypeAlias = str | ssl.TLSVersion | None
    RetriesArg: TypeAlias = Retry | int | None

__all__ = [
    "DownloadOptions",
    "GetOptions",
    "PostOptions",
    "PutOptions",
    "RequestOptions",
    "SendKeywords",
    "SessionSettings",
]


class SendKeywords(TypedDict, total=False):
    """What ``Session.send`` takes besides the prepared request: requests' keywords, and brisk's
    ``retries``. Left out, each is the session's setting."""

    stream: bool | None
    timeout: TimeoutArg
    verify: VerifyArg
    cert: CertArg
    proxies: ProxiesArg
    allow_redirects: bool
    retries: RetriesArg


class _CallOptions(SendKeywords, total=False):
    headers: HeadersArg
    cookies: CookiesArg
    files: FilesArg
    auth: AuthArg
    hooks: HooksArg


class DownloadOptions(_CallOptions, total=False):
    """The options of ``download(url, path, **options)``: the download's own (defaults: ``resume=True``,
    ``progress=None``, ``chunk_size=None``, ``checksum=None``, ``max_resumes=3``), and the request options
    (``progress`` is the download's: ``progress(bytes in the file, total or None)``; ``stream`` is
    ignored)."""

    resume: bool
    progress: DownloadProgress | None
    chunk_size: int | None
    checksum: str | None  # "sha256:<hex digest>", any fixed-size hashlib algorithm
    max_resumes: int  # resumes within the call after the transfer broke off
    params: ParamsArg
    data: Any
    json: Any


class _CommonOptions(_CallOptions, total=False):
    """The request options that no verb takes positionally."""

    progress: ProgressCallback | None


class RequestOptions(_CommonOptions, total=False):
    """Every option of ``request()`` (and of ``options``, ``head``, ``delete``)."""

    params: ParamsArg
    data: Any  # a form (dict or pairs), bytes, text, a file or an iterable of bytes
    json: Any


class GetOptions(_CommonOptions, total=False):
    """``get(url, params, **options)``."""

    data: Any
    json: Any


class PostOptions(_CommonOptions, total=False):
    """``post(url, data, json, **options)``."""

    params: ParamsArg


class PutOptions(_CommonOptions, total=False):
    """``put(url, data, **options)`` and ``patch``."""

    params: ParamsArg
    json: Any


class SessionSettings(TypedDict, total=False):
    """The keywords of ``Session(...)`` and ``AsyncSession(...)``, for type checkers; the table below
    says what each becomes (a unit test keeps the two in step)."""

    headers: Mapping[str, str] | None
    auth: AuthArg
    params: ParamsArg
    cookies: CookiesArg
    verify: VerifyArg
    cert: CertArg
    tls_min_version: TLSVersionArg
    tls_max_version: TLSVersionArg
    ciphers: str | None  # an OpenSSL cipher string
    pin: str | Iterable[str] | None  # "sha256//<base64 SPKI SHA-256>", several joined by ";", or a list
    proxies: ProxiesArg
    hooks: HooksArg
    timeout: TimeoutArg
    retries: Retry | int | None
    max_redirects: int
    trust_env: bool
    http2: bool | Literal["prior-knowledge"]
    http3: bool | Literal["prior-knowledge"]  # HTTP/3 over QUIC (the brisk[http3] extra): Alt-Svc or always
    uds: str | PathLike[str] | None  # every request over this Unix socket
    limits: Limits
    stream: bool
    rate_limit: RateLimit | float | None
    cache: bool | Cache | str | PathLike[str] | None  # True: in memory; a path: SQLite (brisk.Cache)
    resolve: Mapping[str, str | Iterable[str]] | None  # like curl's --resolve: "host" or "host:port" keys
    resolver: Callable[[str, int], list[str]] | None  # (host, port) -> IP addresses
    family: Literal["ipv4", "ipv6"] | None
    local_address: str | None
    happy_eyeballs_delay: float | None
    tcp_keepalive: float | bool | None
    transport: Any  # a BaseTransport for Session, an AsyncBaseTransport for AsyncSession
