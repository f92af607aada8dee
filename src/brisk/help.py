"""``requests.help`` under brisk: ``info()`` for bug reports, ``python -m brisk.help`` prints it as JSON.

The keys are requests' (``platform``, ``implementation``, ``system_ssl``, ``idna``, ``urllib3``, ...), so
tools that collect ``requests.help.info()`` keep working, plus ``brisk`` with brisk's version. ``requests``
holds the version of requests' API that brisk answers to (``brisk.install_as_requests()`` reports it).
"""

from __future__ import annotations

import importlib
import json
import platform
import ssl
from typing import Any

from .__version__ import __version__

__all__ = ["info", "main"]


def _version_of(name: str) -> str | None:
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    version = getattr(module, "__version__", None)
    return str(version) if version is not None else ""


def info() -> dict[str, Any]:
    """What a bug report about brisk should say about this machine, in requests' layout."""
    from ._shim import REQUESTS_VERSION

    try:
        system = {"system": platform.system(), "release": platform.release()}
    except OSError:
        system = {"system": "Unknown", "release": "Unknown"}
    charset_normalizer = _version_of("charset_normalizer")
    return {
        "platform": system,
        "implementation": {"name": platform.python_implementation(), "version": platform.python_version()},
        "system_ssl": {"version": f"{ssl.OPENSSL_VERSION_NUMBER:x}"},
        "using_pyopenssl": False,
        "using_charset_normalizer": charset_normalizer is not None,
        "pyOpenSSL": {"version": None, "openssl_version": ""},
        "urllib3": {"version": _version_of("urllib3")},
        "chardet": {"version": None},
        "charset_normalizer": {"version": charset_normalizer},
        "cryptography": {"version": ""},
        "idna": {"version": _version_of("idna") or ""},
        "requests": {"version": REQUESTS_VERSION},
        "brisk": {"version": __version__},
    }


def main() -> None:
    """Print ``info()`` as JSON."""
    print(json.dumps(info(), sort_keys=True, indent=2))


if __name__ == "__main__":
    main()
