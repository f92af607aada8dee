"""Diagnosis only: stand-ins for the names of requests' modules that brisk lacks, to see past them.

One missing name (``requests.status_codes._codes``) stops a whole suite at import, hiding every other
difference behind it. For the diagnostic run (``run.py``'s ``brisk-filled`` mode, never the measured
``brisk`` one), this module, copied into the brisk environment as ``brisk_ecosystem_fill`` and imported at
interpreter start by a ``.pth`` file after ``brisk.install_as_requests()``, gives each such name a stand-in
that fails as soon as it is used (called, subclassed and instantiated, indexed, iterated, its attributes
read) with ``MissingName: brisk has no requests.<module>.<name>``. A test that needs the name then fails
with that message, and ``run.py`` counts the tests per missing name. A stand-in is also an exception class,
so ``except requests.adapters.MaxRetryError:`` still compiles and catches nothing.

The names come from requests 2.32.3 itself (``run.py`` lists them from a requests environment into the
file ``BRISK_ECOSYSTEM_FILL`` names); nothing happens when that variable is not set.
"""

from __future__ import annotations

import importlib
import json
import os
from typing import Any, NoReturn


class MissingName(NotImplementedError):
    """A name of requests' modules that brisk does not have."""


class _StandInType(type):
    def _missing(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise MissingName(f"brisk has no {cls.__qualname__}")

    __call__ = _missing
    __getitem__ = _missing
    __iter__ = _missing
    __len__ = _missing
    __contains__ = _missing

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        cls._missing()


def stand_in(module: str, name: str) -> type:
    qualname = f"requests.{module}.{name}" if module else f"requests.{name}"
    return _StandInType(name, (Exception,), {"__module__": "brisk_ecosystem_fill", "__qualname__": qualname})


def fill(names: dict[str, list[str]]) -> list[str]:
    """Give each missing name a stand-in; return what was filled (``module.name``)."""
    filled = []
    for module_name, wanted in sorted(names.items()):
        target = importlib.import_module(f"brisk.{module_name}" if module_name else "brisk")
        for name in wanted:
            if not hasattr(target, name):
                setattr(target, name, stand_in(module_name, name))
                filled.append(f"{module_name or 'requests'}.{name}".removeprefix("requests."))
    return filled


NAMES = os.environ.get("BRISK_ECOSYSTEM_FILL", "")
if NAMES:
    with open(NAMES, encoding="utf-8") as source:
        FILLED = fill(json.load(source))
