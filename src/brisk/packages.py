"""``requests.packages`` under brisk: ``packages.urllib3``, the name old requests code reaches urllib3 by.

requests once bundled urllib3 and still aliases it here, so scripts written for it say
``requests.packages.urllib3.disable_warnings(InsecureRequestWarning)`` before ``verify=False`` calls, or
mount ``requests.packages.urllib3.util.retry.Retry`` on an adapter. brisk does not use urllib3. When urllib3
is installed, ``packages.urllib3`` is that urllib3 (its urllib3 ``Retry`` works on brisk's ``HTTPAdapter``).
When it is not, ``packages.urllib3`` is a small stand-in with just what such scripts touch:
``disable_warnings()`` (nothing to silence: brisk never emits urllib3's warnings), the warning classes in
``exceptions``, and ``Retry`` (brisk's own, which takes urllib3's arguments) at ``util.retry.Retry``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from ._retry import Retry

__all__ = ["urllib3"]


class HTTPWarning(Warning):
    """The stand-in's base warning class (urllib3's name)."""


class SecurityWarning(HTTPWarning):
    """Warned about a security-relevant setting (urllib3's name)."""


class InsecureRequestWarning(SecurityWarning):
    """An unverified HTTPS request (urllib3's name). brisk does not emit it."""


def disable_warnings(category: type[Warning] = HTTPWarning) -> None:
    """Accepted for compatibility: brisk never emits urllib3's warnings, so there is nothing to silence."""


def _module(name: str, doc: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(f"{__name__}.{name}", doc)
    vars(module).update(attributes)
    sys.modules[module.__name__] = module
    return module


def _standin() -> types.ModuleType:
    exceptions = _module(
        "urllib3.exceptions",
        "urllib3's warning classes, for filters and disable_warnings() calls.",
        HTTPWarning=HTTPWarning,
        SecurityWarning=SecurityWarning,
        InsecureRequestWarning=InsecureRequestWarning,
    )
    retry = _module("urllib3.util.retry", "brisk's Retry, under urllib3's path.", Retry=Retry)
    util = _module("urllib3.util", "urllib3.util's Retry, as brisk's.", Retry=Retry, retry=retry)
    return _module(
        "urllib3",
        "A stand-in for urllib3, which is not installed: see brisk.packages.",
        disable_warnings=disable_warnings,
        exceptions=exceptions,
        util=util,
        Retry=Retry,
    )


def _installed() -> types.ModuleType | None:
    try:
        found = importlib.import_module("urllib3")
        for submodule in ("urllib3.exceptions", "urllib3.util.retry"):
            importlib.import_module(submodule)
    except ImportError:
        return None
    for name, module in list(sys.modules.items()):  # so `from brisk.packages.urllib3.x import y` works
        if name == "urllib3" or name.startswith("urllib3."):
            sys.modules[f"{__name__}.{name}"] = module
    return found


urllib3 = _installed() or _standin()
