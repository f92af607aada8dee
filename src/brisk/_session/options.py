"""The arguments of a request, declared once: what ``request()``, the verb methods, ``send()`` and the
top-level functions accept, with their types.

Each method takes them as ``**options: Unpack[...]`` (PEP 692), so a type checker sees every name and type
while the method receives a plain dict holding only what the caller gave. That is also how the session
tells "not given" (the session's setting applies) from an explicit value such as ``timeout=None`` (no
timeout at all): by whether the key is there.

The verb methods keep requests' positional parameters (``get(url, params)``, ``post(url, data, json)``,
``put``/``patch(url, data)``), which a ``TypedDict`` for ``**`` cannot also name: hence the few variants
below, each the common part plus the request options that verb does not take positionally.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from collections.abc import Callable
    from http.cookiejar import CookieJar
    from typing import TypeAlias

    from brisk._flows.retry import Retry
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
    VerifyArg: TypeAlias = bool | str | None
    CertArg: TypeAlias = str | tuple[str, str] | None
    RetriesArg: TypeAlias = Retry | int | None

__all__ = [
    "FLOW_OPTIONS",
    "PREPARE_OPTIONS",
    "SEND_OPTIONS",
    "DownloadOptions",
    "GetOptions",
    "PostOptions",
    "PutOptions",
    "RequestOptions",
    "SendOptions",
    "unknown_keywords",
]


class SendOptions(TypedDict, total=False):
    """What ``Session.send`` takes besides the prepared request: requests' keywords, and brisk's
    ``retries``. Left out, each is the session's setting."""

    stream: bool | None
    timeout: TimeoutArg
    verify: VerifyArg
    cert: CertArg
    proxies: ProxiesArg
    allow_redirects: bool
    retries: RetriesArg


class _CallOptions(SendOptions, total=False):
    headers: HeadersArg
    cookies: CookiesArg
    files: FilesArg
    auth: AuthArg
    hooks: HooksArg


class DownloadOptions(_CallOptions, total=False):
    """The request options of ``download(url, path, ...)``, whose ``progress`` is the download's."""

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


#: What ``send()`` accepts (requests' stream, timeout, verify, cert, proxies, allow_redirects, and retries).
SEND_OPTIONS = frozenset(SendOptions.__annotations__)
#: The options that only shape the prepared request; a call with no other options can reuse the settings
#: the session made for the same origin (see ``Session._settings``).
PREPARE_OPTIONS = frozenset(("params", "data", "headers", "files", "auth", "json", "progress"))
#: The options that change the settings of the request's flow.
FLOW_OPTIONS = frozenset(RequestOptions.__annotations__) - PREPARE_OPTIONS


def unknown_keywords(method: str, given: Iterable[str], accepted: Iterable[str]) -> TypeError:
    """The error for keywords ``method`` does not take, naming them and the ones it does."""
    unknown = sorted(set(given) - set(accepted))
    listed = ", ".join(repr(name) for name in unknown)
    return TypeError(
        f"{method}() got unexpected keyword argument{'s' if len(unknown) > 1 else ''} {listed}; "
        f"it accepts {', '.join(sorted(accepted))}"
    )
