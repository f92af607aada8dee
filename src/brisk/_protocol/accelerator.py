"""brisk's optional C accelerator (``_speedups.c``): the common HTTP/1.1 request head written, and the common
response head read, in C.

setup.py builds it where a compiler and Python's headers exist (``optional=True``: elsewhere the install goes
on without it). Each function takes the plain case only and returns None for anything else, and the
pure-Python code then does the whole job, errors included: results are the same either way, only faster.
``BRISK_NO_EXTENSIONS=1`` (read once, when brisk is imported) switches it off; ``brisk.help`` reports it.
"""

from __future__ import annotations

import os
from types import ModuleType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

__all__ = ["ACCELERATED", "NOT_USED_BECAUSE", "speedups"]


def _load() -> tuple[ModuleType | None, str | None]:
    """The module, or None and why it is not used."""
    if os.environ.get("BRISK_NO_EXTENSIONS", "") not in ("", "0"):
        return None, "switched off by BRISK_NO_EXTENSIONS"
    try:
        from brisk._protocol import _speedups
    except ImportError:  # not built: no compiler where brisk was installed
        return None, "not built (no C compiler or Python headers where brisk was installed)"
    api = getattr(_speedups, "API", 1)
    if api != _API:  # built from older sources: an editable install not rebuilt since a pull
        return None, f"built from other sources (API {api}, this code needs {_API}): reinstall brisk"
    return _speedups, None


#: the version of the functions' signatures this code calls (``API`` in ``_speedups.c``; 2: ``exchange``
#: takes a call to make while the server answers)
_API = 2


_LOADED = _load()
speedups: Final = _LOADED[0]
#: Why the C accelerator is not in use (None: it is)
NOT_USED_BECAUSE: Final = _LOADED[1]
#: Is the C accelerator in use?
ACCELERATED: Final = speedups is not None
