"""requests' module-level helpers that brisk's own code does not need, for code written against requests.

Reached through ``brisk._requests_names`` (``brisk.sessions.merge_setting``, ``brisk.check_compatibility``,
...). Each behaves as requests 2.32's function or class of that name does. ``RequestHooksMixin`` and
``RequestEncodingMixin`` are bases of ``brisk.Request`` and ``brisk.PreparedRequest``, as in requests, so this
module is loaded with ``brisk.models``; it imports nothing that is not loaded already.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from .exceptions import InvalidSchema, RequestsDependencyWarning

__all__ = [
    "DEFAULT_REDIRECT_LIMIT",
    "RequestEncodingMixin",
    "RequestHooksMixin",
    "basestring",
    "check_compatibility",
    "merge_hooks",
    "merge_setting",
]

#: requests' ``compat.basestring``, which several of its modules import.
basestring = (str, bytes)

#: The number of redirects a ``Session`` follows by default (``Session.max_redirects``), requests' 30.
DEFAULT_REDIRECT_LIMIT = 30
#: The size of the pieces ``Response.content`` reads a body in, in requests.
CONTENT_CHUNK_SIZE = 10 * 1024


def _version_numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def check_compatibility(
    urllib3_version: str, chardet_version: str | None, charset_normalizer_version: str | None
) -> None:
    """requests' check of the versions of its dependencies: an AssertionError for a urllib3 older than
    1.21.1 (or a "dev" one), a chardet outside [3.0.2, 6) or a charset_normalizer outside [2, 4); a
    RequestsDependencyWarning when neither detector is given. brisk itself needs none of them."""
    numbers = urllib3_version.split(".")
    assert numbers != ["dev"], "urllib3 'dev' versions are not supported"
    if len(numbers) == 2:
        numbers.append("0")
    major, minor = int(numbers[0]), int(numbers[1])
    int(numbers[2])  # a malformed patch number is a ValueError, as in requests
    assert major >= 1, f"urllib3 {urllib3_version} is too old"
    if major == 1:
        assert minor >= 21, f"urllib3 {urllib3_version} is too old"
    if chardet_version:
        found = _version_numbers(chardet_version)[:3]
        assert (3, 0, 2) <= found < (6, 0, 0), f"chardet {chardet_version} is not supported"
    elif charset_normalizer_version:
        found = _version_numbers(charset_normalizer_version)[:3]
        assert (2, 0, 0) <= found < (4, 0, 0), (
            f"charset_normalizer {charset_normalizer_version} is not supported"
        )
    else:
        warnings.warn(
            "Unable to find acceptable character detection dependency (chardet or charset_normalizer).",
            RequestsDependencyWarning,
            stacklevel=2,
        )


def _check_cryptography(cryptography_version: str) -> None:
    """Warn (RequestsDependencyWarning) about a cryptography older than 1.3.4; ignore a version that is not
    dotted numbers."""
    try:
        found = _version_numbers(cryptography_version)
    except ValueError:
        return
    if found < (1, 3, 4):
        warnings.warn(
            f"Old version of cryptography ({cryptography_version}) may cause slowdown.",
            RequestsDependencyWarning,
            stacklevel=2,
        )


def merge_setting(
    request_setting: Any, session_setting: Any, dict_class: Callable[..., Any] = OrderedDict
) -> Any:
    """A request's setting over a session's: the other one when either is None; for two mappings, the
    session's items updated with the request's, dropping every key the request sets to None; else the
    request's."""
    if session_setting is None:
        return request_setting
    if request_setting is None:
        return session_setting
    if not (isinstance(session_setting, Mapping) and isinstance(request_setting, Mapping)):
        return request_setting
    merged = dict_class(session_setting.items())
    merged.update(request_setting.items())
    for key in [key for key, value in merged.items() if value is None]:
        del merged[key]
    return merged


def merge_hooks(request_hooks: Any, session_hooks: Any, dict_class: Callable[..., Any] = OrderedDict) -> Any:
    """``merge_setting`` for hook dicts, where an empty ``response`` list counts as no hooks at all."""
    if session_hooks is None or session_hooks.get("response") == []:
        return request_hooks
    if request_hooks is None or request_hooks.get("response") == []:
        return session_hooks
    return merge_setting(request_hooks, session_hooks, dict_class)


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

        from ._form import form_pairs

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
        from ._multipart import encode_multipart

        body, content_type = encode_multipart(files, data or None)
        return (body if isinstance(body, bytes) else b"".join(body)), content_type


def _socks_unavailable(*args: Any, **kwargs: Any) -> Any:
    """What ``requests.adapters.SOCKSProxyManager`` is when urllib3's SOCKS support cannot be imported."""
    raise InvalidSchema("Missing dependencies for SOCKS support.")


def __getattr__(name: str) -> object:
    # urllib3's SOCKSProxyManager needs urllib3 (and PySocks): looked for when first asked, not on import.
    if name == "SOCKSProxyManager":
        from .packages import urllib3

        manager: object = _socks_unavailable
        if not urllib3.__name__.startswith("brisk."):
            try:
                with warnings.catch_warnings():  # urllib3 warns (DependencyWarning) before its ImportError
                    warnings.simplefilter("ignore")
                    from urllib3.contrib.socks import SOCKSProxyManager

                manager = SOCKSProxyManager
            except ImportError:
                pass
        globals()[name] = manager
        return manager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
