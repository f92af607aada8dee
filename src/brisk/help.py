"""``requests.help`` under brisk: ``info()`` for bug reports, ``python -m brisk.help`` prints it as JSON.

The keys are requests' (``platform``, ``implementation``, ``system_ssl``, ``idna``, ``urllib3``, ...), so
tools that collect ``requests.help.info()`` keep working, plus ``brisk`` with brisk's version. ``requests``
holds the version of requests' API that brisk answers to (``brisk.install_as_requests()`` reports it).

As in requests, the modules ``info()`` reports on are names of this module (``idna``, ``urllib3``,
``charset_normalizer``; ``chardet``, ``pyopenssl``, ``OpenSSL`` and ``cryptography`` are None: brisk uses
neither chardet nor pyOpenSSL), read when ``info()`` runs, so a test may patch them. ``urllib3`` is loaded on
first use (``brisk.packages.urllib3``: urllib3, or brisk's stand-in without a version).
"""

from __future__ import annotations

import json
import platform
import ssl
import sys

import charset_normalizer  # noqa: F401  (read by info() through the module, so that a patch shows)
import idna  # noqa: F401

from brisk.__version__ import __version__
from brisk._compat.shim import REQUESTS_VERSION
from brisk._core.requests_names import module_getattr
from brisk._protocol.accelerator import ACCELERATED, NOT_USED_BECAUSE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["info", "main"]

#: The requests release whose API brisk follows (requests.help's ``requests_version``).
requests_version = REQUESTS_VERSION
chardet = None
pyopenssl = None
OpenSSL = None
cryptography = None

__getattr__ = module_getattr(__name__, "brisk.help")  # urllib3 (also under ``python -m brisk.help``)


def _implementation() -> dict[str, str]:
    """The Python implementation running and its version (``{"name": "CPython", "version": "3.12.1"}``)."""
    name = platform.python_implementation()
    if name == "PyPy":
        pypy: Any = getattr(sys, "pypy_version_info", None)
        version = f"{pypy.major}.{pypy.minor}.{pypy.micro}"
        if pypy.releaselevel != "final":
            version += pypy.releaselevel
    elif name in ("CPython", "Jython", "IronPython"):
        version = platform.python_version()
    else:
        version = "Unknown"
    return {"name": name, "version": version}


def _version(module: Any, default: Any = None) -> Any:
    return getattr(module, "__version__", default) if module is not None else default


def info() -> dict[str, Any]:
    """What a bug report about brisk should say about this machine, in requests' layout."""
    names = sys.modules[__name__]  # the names as they are now (patched, or urllib3 loaded on first use)
    try:
        system = {"system": platform.system(), "release": platform.release()}
    except OSError:
        system = {"system": "Unknown", "release": "Unknown"}
    openssl: Any = names.OpenSSL
    return {
        "platform": system,
        "implementation": _implementation(),
        "system_ssl": {"version": f"{ssl.OPENSSL_VERSION_NUMBER:x}"},
        "using_pyopenssl": names.pyopenssl is not None,
        "using_charset_normalizer": names.chardet is None,
        "pyOpenSSL": {
            "version": _version(openssl),
            "openssl_version": f"{openssl.SSL.OPENSSL_VERSION_NUMBER:x}" if openssl is not None else "",
        },
        "urllib3": {"version": _version(names.urllib3)},
        "chardet": {"version": _version(names.chardet)},
        "charset_normalizer": {"version": _version(names.charset_normalizer)},
        "cryptography": {"version": _version(names.cryptography, "")},
        "idna": {"version": _version(names.idna, "")},
        "requests": {"version": requests_version},
        "brisk": {
            "version": __version__,
            "c_accelerator": ACCELERATED,
            **({"c_accelerator_off": NOT_USED_BECAUSE} if NOT_USED_BECAUSE else {}),
        },
    }


def main() -> None:
    """Print ``info()`` as JSON."""
    print(json.dumps(info(), sort_keys=True, indent=2))


if __name__ == "__main__":
    main()
