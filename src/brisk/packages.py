"""``requests.packages`` under brisk: ``packages.urllib3``, the name old requests code reaches urllib3 by.

requests once bundled urllib3 and still aliases it here, so scripts written for it say
``requests.packages.urllib3.disable_warnings(InsecureRequestWarning)`` before ``verify=False`` calls, or
mount ``requests.packages.urllib3.util.retry.Retry`` on an adapter. brisk does not use urllib3. When urllib3
is installed, ``packages.urllib3`` is that urllib3 (its urllib3 ``Retry`` works on brisk's ``HTTPAdapter``).
When it is not, ``packages.urllib3`` is a stand-in (``brisk._compat.urllib3_standin``) with what such scripts
and requests' modules touch: ``disable_warnings()`` (nothing to silence: brisk never emits urllib3's
warnings),
urllib3's exception and warning classes in ``exceptions``, ``Retry`` (brisk's own, which takes urllib3's
arguments) at ``util.retry.Retry``, ``Timeout``, ``parse_url``, ``make_headers`` and
``create_urllib3_context``; urllib3's pools and responses say to install urllib3 when used.

``packages.idna`` and ``packages.chardet`` are idna and charset_normalizer, as in requests.
"""

from __future__ import annotations

import importlib
import sys
import types

from brisk._core.requests_names import module_getattr

__all__ = ["urllib3"]


def _module(name: str, doc: str, namespace: dict[str, object], names: tuple[str, ...]) -> types.ModuleType:
    module = types.ModuleType(f"{__name__}.{name}", doc)
    vars(module).update((n, namespace[n]) for n in names)
    sys.modules[module.__name__] = module
    return module


def _standin() -> types.ModuleType:
    from brisk._compat import urllib3_standin as _urllib3_standin
    from brisk._flows.retry import Retry

    namespace: dict[str, object] = {**vars(_urllib3_standin), "Retry": Retry}
    doc = "brisk's stand-in for urllib3's {}: see brisk._compat.urllib3_standin."
    modules = {
        path: _module(
            f"urllib3.{path}" if path else "urllib3", doc.format(path or "package"), namespace, names
        )
        for path, names in _urllib3_standin.MODULES.items()
    }
    for path, module in modules.items():  # each module is an attribute of its parent (urllib3.util.retry)
        if path:
            parent, _, child = path.rpartition(".")
            setattr(modules[parent], child, module)
    return modules[""]


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

__getattr__ = module_getattr(__name__)  # idna, chardet
