"""requests' module-level helpers that brisk's own code does not need, for code written against requests.

Loaded on first use through ``brisk._core.requests_names`` (``brisk.sessions.merge_setting``,
``brisk.check_compatibility``, ...), so ``import brisk`` does not pay for them. Each behaves as requests
2.32's function of that name does.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping

from brisk.exceptions import InvalidSchema, RequestsDependencyWarning

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "DEFAULT_REDIRECT_LIMIT",
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


def _socks_unavailable(*args: Any, **kwargs: Any) -> Any:
    """What ``requests.adapters.SOCKSProxyManager`` is when urllib3's SOCKS support cannot be imported."""
    raise InvalidSchema("Missing dependencies for SOCKS support.")


def __getattr__(name: str) -> object:
    # urllib3's SOCKSProxyManager needs urllib3 (and PySocks): looked for when first asked, not on import.
    if name == "SOCKSProxyManager":
        from brisk.packages import urllib3

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
