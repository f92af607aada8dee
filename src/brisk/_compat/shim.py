"""brisk as ``requests`` for a whole process: ``brisk.install_as_requests()``.

``import brisk as requests`` changes one file. Libraries built on requests (responses, requests-mock,
requests-toolbelt, requests-oauthlib, CacheControl, betamax, SDKs) say ``import requests`` themselves; to
make them use brisk, call ``brisk.install_as_requests()`` once, at the start of the program and before any
of them is imported. From then on, in this process:

- ``import requests`` gives a module that answers with brisk's names (``requests.Session`` is
  ``brisk.Session``, ``requests.get`` is ``brisk.get``) and reports requests' version (below);
- ``import requests.<module>`` for each module of requests 2.32 (``adapters``, ``api``, ``auth``, ``certs``,
  ``compat``, ``cookies``, ``exceptions``, ``help``, ``hooks``, ``models``, ``packages``, ``sessions``,
  ``status_codes``, ``structures``, ``utils``, ``_internal_utils``) gives brisk's module of the same name,
  loaded when first imported (so ``requests.adapters.HTTPAdapter is brisk.adapters.HTTPAdapter`` and
  ``mock.patch("requests.adapters.HTTPAdapter.send")`` patches brisk's class);
- ``requests.packages.urllib3`` (and its submodules, imported by path) is ``brisk.packages.urllib3``:
  urllib3 itself when installed, else brisk's stand-in; ``requests.urllib3`` is the same module.

The version. ``requests.__version__`` is ``"2.32.3"`` (and ``requests.__build__`` ``0x023203``): the
requests release whose API brisk follows (its tests are the ones ``make requests-suite`` runs), so that
checks written against requests (``requests.__version__ >= "2"`` in requests-oauthlib,
``requests.__build__ >= 0x020400`` in requests-toolbelt) pass. ``brisk.__version__`` stays brisk's own
version; ``requests.__brisk_version__`` tells which brisk answers. No distribution metadata is made:
``importlib.metadata.version("requests")`` still describes the installed requests, if any.

Refusal. If the real requests is already imported, ``install_as_requests()`` raises ``RuntimeError`` and
changes nothing: the code that imported it holds requests' own classes, and a process where half the code
uses requests and half uses brisk under the same name is worse than a clear error. Installing is
idempotent. ``uninstall_as_requests()`` takes ``requests`` and ``requests.*`` out of ``sys.modules`` again
(for tests); modules imported while it was installed keep the objects they imported.

For a whole environment, a ``.pth`` file in site-packages containing the line
``import brisk; brisk.install_as_requests()`` installs it at interpreter start; for a test run,
``pytest --brisk-as-requests`` (brisk's pytest plugin) installs it before any conftest or test is imported.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Sequence

import brisk

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["REQUESTS_VERSION", "install_as_requests", "uninstall_as_requests"]

#: The requests release whose API brisk follows; ``requests.__version__`` under ``install_as_requests()``.
REQUESTS_VERSION = "2.32.3"

#: requests 2.32's modules (besides ``requests`` itself and ``requests.__version__``), each answered by
#: brisk's module of the same name.
MODULES = (
    "adapters", "api", "auth", "certs", "compat", "cookies", "exceptions", "help", "hooks", "models",
    "packages", "sessions", "status_codes", "structures", "utils", "_internal_utils",
)  # fmt: skip

_URLLIB3 = "requests.packages.urllib3"
_lock = threading.Lock()


def _build_number(version: str) -> int:
    """requests' ``__build__``: 2.32.3 is 0x023203 (one byte, written in decimal digits, per part)."""
    major, minor, patch = (int(part) for part in version.split(".")[:3])
    return int(f"{major:02d}{minor:02d}{patch:02d}", 16)


_VERSION_INFO = {
    "__title__": "requests",
    "__description__": f"requests {REQUESTS_VERSION}'s API, answered by brisk {brisk.__version__}",
    "__version__": REQUESTS_VERSION,
    "__build__": _build_number(REQUESTS_VERSION),
    "__brisk_version__": brisk.__version__,
}


def _urllib3() -> types.ModuleType:
    packages: Any = importlib.import_module("brisk.packages")
    module: types.ModuleType = packages.urllib3
    return module


#: requests' functions, also held in the module's ``__dict__`` as in requests: code reads and replaces them
#: there (requests-unixsocket's ``monkeypatch`` swaps ``requests.__dict__["get"]`` and puts it back).
_FUNCTIONS = ("request", "get", "head", "post", "patch", "put", "delete", "options")
_placed: dict[str, Any] = {}  # name -> what the facade's __dict__ was given (brisk's function then)


class _Requests(types.ModuleType):
    """The module ``import requests`` gives under ``install_as_requests()``: requests' version, brisk's
    names (looked up on brisk at each access, so brisk's lazily loaded names and patches of them show).
    requests' functions are in its ``__dict__`` as well; while an entry there is the one placed, brisk's
    current function answers, and once code replaced it, the replacement does."""

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if name in _placed and value is _placed[name]:
            return getattr(brisk, name)
        return value

    def __getattr__(self, name: str) -> Any:
        if name == "urllib3":  # requests imports urllib3 at top level, and code reaches it that way
            return _urllib3()
        try:
            return getattr(brisk, name)
        except AttributeError:
            raise AttributeError(f"module 'requests' (brisk) has no attribute {name!r}") from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(brisk)) | {"urllib3"})


class _Aliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``requests.<module>`` and ``requests.packages.urllib3.<...>`` and loads each as the module it
    stands for (the same object, not a copy), on first import."""

    def __init__(self) -> None:
        self._specs: dict[str, Any] = {}  # alias name -> the target's own spec, while it loads

    @staticmethod
    def target(fullname: str) -> str | None:
        """The module that ``fullname`` (``requests.<...>``) stands for, or None if it is not one of them."""
        if fullname == _URLLIB3 or fullname.startswith(_URLLIB3 + "."):
            urllib3 = _urllib3()
            name = urllib3.__name__ + fullname[len(_URLLIB3) :]
            # brisk's stand-in (urllib3 not installed) has just the modules it registered
            return name if name.startswith("urllib3") or name in sys.modules else None
        prefix, _, rest = fullname.partition(".")
        if prefix == "requests" and rest in MODULES:
            return f"brisk.{rest}"
        return None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if self.target(fullname) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        name = self.target(spec.name)
        assert name is not None
        module = importlib.import_module(name)
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system set the alias's spec on the module: the module keeps its own.
        alias = module.__spec__.name if module.__spec__ is not None else ""
        if alias in self._specs:
            module.__spec__ = self._specs.pop(alias)
        if alias == "requests.packages":  # requests aliases urllib3's loaded modules the same way
            _mirror_urllib3()


def _mirror_urllib3() -> None:
    """``requests.packages.urllib3.<x>`` for each urllib3 module brisk.packages has registered."""
    for name, module in list(sys.modules.items()):
        if name.startswith("brisk.packages.urllib3"):
            sys.modules.setdefault("requests" + name[len("brisk") :], module)


_FINDER = _Aliases()
_facade: _Requests | None = None


def _make_facade() -> _Requests:
    module = _Requests("requests", "requests, answered by brisk (brisk.install_as_requests()).")
    version = types.ModuleType("requests.__version__", "requests' version, as brisk answers it.")
    vars(version).update(_VERSION_INFO)
    spec = importlib.machinery.ModuleSpec("requests", _FINDER, is_package=True)
    vars(module).update(_VERSION_INFO)
    _placed.update((name, getattr(brisk, name)) for name in _FUNCTIONS)
    vars(module).update(_placed)
    vars(module).update(
        __spec__=spec,
        __loader__=_FINDER,
        __package__="requests",
        __path__=[],
        __file__=brisk.__file__,
        __all__=list(brisk.__all__),
    )
    sys.modules[version.__name__] = version
    return module


def install_as_requests() -> types.ModuleType:
    """Make ``import requests`` and ``import requests.<module>`` give brisk in this whole process.

    Call it once, before anything imports requests (a ``.pth`` file, the top of the program, or
    ``pytest --brisk-as-requests``). Returns the ``requests`` module. ``requests.__version__`` reports
    ``"2.32.3"``, the requests release whose API brisk follows, so that version checks written for
    requests pass; ``brisk.__version__`` is unchanged. Calling it again does nothing.

    Raises ``RuntimeError`` if the real requests (or any other module named requests) is already
    imported: nothing is changed then. See ``brisk._compat.shim`` for the details, and
    ``uninstall_as_requests()`` to undo it in tests.
    """
    global _facade
    with _lock:
        present = sys.modules.get("requests")
        if present is not None and present is not _facade:
            where = getattr(present, "__file__", None) or repr(present)
            raise RuntimeError(
                "brisk.install_as_requests() must run before anything imports requests: a module "
                f"'requests' ({where}) is already imported, and the code that imported it would keep "
                "using it. Call it first thing (a .pth file, the top of the program, or "
                "`pytest -p brisk --brisk-as-requests`)."
            )
        if present is None:
            _facade = _make_facade()
            sys.modules["requests"] = _facade
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)
        assert _facade is not None
        return _facade


def uninstall_as_requests() -> None:
    """Undo ``install_as_requests()``: ``requests`` and ``requests.*`` leave ``sys.modules`` (the next
    ``import requests`` finds the real requests, if installed). Modules imported meanwhile keep what they
    imported. Does nothing if it is not installed."""
    global _facade
    with _lock:
        if _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
        if _facade is None or sys.modules.get("requests") is not _facade:
            _facade = None
            return
        for name in list(sys.modules):
            if name == "requests" or name.startswith("requests."):
                del sys.modules[name]
        _facade = None


def installed() -> bool:
    """Whether ``install_as_requests()`` is in effect."""
    return _facade is not None and sys.modules.get("requests") is _facade
