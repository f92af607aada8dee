"""Run by tests/unit/compat/test_requests_names.py in a fresh interpreter
(``python -P requests_names_probe.py MODE``); prints one JSON document. Not a test module: it imports the
real requests, which must not stay in the test process (``brisk.install_as_requests()`` refuses to install
over an imported requests).

``compare``: imports requests 2.32's modules, notes every module-level name and what it is, takes requests
out of ``sys.modules`` again, installs brisk as requests and reads each name from ``requests.<module>`` (now
brisk's module). For each name it reports whether brisk has it and, if so, whether it means the same:

- an object requests takes from elsewhere (urllib3, the standard library, charset_normalizer, idna, ...)
  must be the same object;
- a module must be the same module (requests' own modules: brisk's module of that name);
- a class of requests' own must be a class whose MRO has a class of each name in requests' MRO (the
  classes from outside requests, OSError, ValueError, json.JSONDecodeError..., the same objects);
- a function of requests' own must be callable with requests' parameters (same names, same positions,
  optional where requests' are);
- a value (number, string, tuple, dict, ...) must be equal (a tuple and a frozenset of the same items count
  as equal), ``codes`` must hold the same entries, patterns the same pattern.

``standin``: with urllib3 (and requests) made unimportable, reads the names requests takes from urllib3
(given on stdin by a ``compare`` run: each name's class MRO, by name) from brisk's modules: each must exist,
and a class must have urllib3's class names in its MRO. Reports too whether urllib3 got imported.

``imports``: ``import brisk`` and reads every name of brisk's modules that does not come from urllib3:
reports which of requests, urllib3 and the modules brisk loads lazily got imported.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import inspect
import json
import re
import sys
from typing import Any

MODULES = (
    "", "adapters", "api", "auth", "certs", "compat", "cookies", "exceptions", "help", "hooks", "models",
    "packages", "sessions", "status_codes", "structures", "utils", "_internal_utils",
)  # fmt: skip
METADATA = (
    "__version__", "__build__", "__title__", "__description__", "__url__", "__author__", "__author_email__",
    "__license__", "__copyright__", "__cake__",
)  # fmt: skip
BUILTINS = vars(builtins)


def requests_names(module: Any) -> dict[str, Any]:
    """A module's names as ``compare`` counts them: all but dunders (except requests' metadata), builtins
    bound under their own name, and standard-library modules bound under their own name (``import os``)."""
    found = {}
    for name, value in vars(module).items():
        if name.startswith("__") and name.endswith("__") and name not in METADATA:
            continue
        if name in BUILTINS and BUILTINS[name] is value:
            continue
        if inspect.ismodule(value) and value.__name__ in sys.stdlib_module_names and name == value.__name__:
            continue
        if inspect.ismodule(value) and value.__name__ == "encodings" and name == "encodings":
            continue  # requests.models: `import encodings.idna`
        found[name] = value
    return found


def origin(value: Any) -> str:
    """Where an object comes from: ``requests``, ``urllib3``, or another top-level package."""
    if inspect.ismodule(value):
        return value.__name__.partition(".")[0]
    module = getattr(value, "__module__", None)
    if not isinstance(module, str) or not (inspect.isclass(value) or callable(value)):
        return "value"
    return module.partition(".")[0]


def mro_names(cls: type) -> list[str]:
    return [base.__name__ for base in cls.__mro__ if base is not object]


def parameters_accepted(theirs: Any, ours: Any) -> str | None:
    """None if ``ours`` takes every parameter of ``theirs`` the same way; else what differs."""
    try:
        required = inspect.signature(theirs)
        offered = inspect.signature(ours)
    except (TypeError, ValueError):
        return None
    mine = list(offered.parameters.values())
    kinds = {p.kind for p in mine}
    positional = [p for p in mine if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in mine}
    index = 0
    for parameter in required.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            if parameter.kind not in kinds:
                return f"no {parameter}"
            continue
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            if index < len(positional):
                match = positional[index]
                if match.name != parameter.name and parameter.kind != parameter.POSITIONAL_ONLY:
                    return f"parameter {index} is {match.name!r}, requests' is {parameter.name!r}"
            elif inspect.Parameter.VAR_POSITIONAL not in kinds:
                return f"no parameter {parameter.name!r}"
            index += 1
            match = by_name.get(parameter.name)
        else:
            match = by_name.get(parameter.name)
            if match is None and inspect.Parameter.VAR_KEYWORD not in kinds:
                return f"no keyword parameter {parameter.name!r}"
        if match is not None and parameter.default is not parameter.empty and match.default is match.empty:
            return f"{parameter.name!r} is required, requests' is optional"
    for extra in positional[index:]:
        if extra.default is extra.empty:
            return f"requires {extra.name!r}, which requests does not have"
    return None


def normalised(value: Any) -> Any:
    if isinstance(value, re.Pattern):
        return ("pattern", value.pattern)
    if isinstance(value, tuple | list | frozenset | set):
        items = [normalised(item) for item in value]
        try:
            return ("items", sorted(items, key=repr))
        except TypeError:
            return ("items", items)
    if isinstance(value, dict):
        return ("dict", sorted(((repr(k), normalised(v)) for k, v in value.items()), key=repr))
    return value


def same_value(theirs: Any, ours: Any) -> bool:
    if type(theirs).__name__ == "LookupDict":  # codes: its entries are attributes
        return {k: v for k, v in vars(theirs).items() if k != "name"} == {
            k: v for k, v in vars(ours).items() if k != "name"
        }
    try:
        return bool(normalised(theirs) == normalised(ours))
    except Exception:
        return False


def meaning(name: str, theirs: Any, ours: Any) -> str | None:
    """None if ``ours`` means what requests' ``theirs`` means; else the difference."""
    source = origin(theirs)
    if inspect.ismodule(theirs):
        if not inspect.ismodule(ours):
            return f"not a module: {ours!r}"
        expected = theirs.__name__
        if source == "requests":
            expected = "brisk" + expected[len("requests") :]
        return (
            None if ours.__name__ == expected else f"module {ours.__name__}, requests' is {theirs.__name__}"
        )
    if source not in ("requests", "value"):
        if ours is theirs:
            return None
        where = f"{getattr(ours, '__module__', '?')}.{getattr(ours, '__qualname__', ours)}"
        return f"not {source}'s object: brisk's is {where}"
    if inspect.isclass(theirs):
        if not inspect.isclass(ours):
            return f"not a class: {ours!r}"
        have = set(mro_names(ours))
        missing = [
            base.__name__ for base in theirs.__mro__[1:] if base is not object and base.__name__ not in have
        ]
        foreign = [
            base.__name__
            for base in theirs.__mro__[1:]
            if origin(base) != "requests" and base is not object and base not in ours.__mro__
        ]
        lacking = sorted(set(missing) | set(foreign))
        return f"not a subclass of {', '.join(lacking)}" if lacking else None
    if callable(theirs) and source == "requests":
        if not callable(ours):
            return f"not callable: {ours!r}"
        return parameters_accepted(theirs, ours)
    return None if same_value(theirs, ours) else f"value {ours!r}, requests' is {theirs!r}"


def compare() -> dict[str, Any]:
    if importlib.util.find_spec("requests") is None:
        return {"skip": "requests is not installed (it is in brisk's dev extra)"}
    import requests

    snapshot = {
        m: requests_names(importlib.import_module("requests" + ("." + m if m else ""))) for m in MODULES
    }
    version = requests.__version__
    for name in [n for n in sys.modules if n == "requests" or n.startswith("requests.")]:
        del sys.modules[name]

    import brisk

    facade = brisk.install_as_requests()
    report: dict[str, Any] = {"requests_version": version, "modules": {}, "urllib3": {}}
    for module_name, names in snapshot.items():
        ours = importlib.import_module("requests" + ("." + module_name if module_name else ""))
        assert module_name or ours is facade
        entry: dict[str, Any] = {"names": sorted(names), "missing": [], "differ": {}}
        for name, theirs in names.items():
            if origin(theirs) == "urllib3":
                kind = "module" if inspect.ismodule(theirs) else "callable"
                kind = mro_names(theirs) if inspect.isclass(theirs) else kind
                report["urllib3"].setdefault(module_name, {})[name] = kind
            try:
                mine = getattr(ours, name)
            except AttributeError:
                entry["missing"].append(name)
                continue
            difference = meaning(name, theirs, mine)
            if difference:
                entry["differ"][name] = difference
        report["modules"][module_name] = entry
    report["requests_imported"] = [
        name
        for name, module in sys.modules.items()
        if "site-packages/requests/" in str(getattr(module, "__file__", ""))
    ]
    return report


class _Unimportable:
    """A meta-path finder that makes the named packages unimportable."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.partition(".")[0] in self.names:
            raise ImportError(f"{fullname} is made unimportable for this check")
        return None


def standin() -> dict[str, Any]:
    sys.meta_path.insert(0, _Unimportable("urllib3", "requests"))
    wanted: dict[str, dict[str, Any]] = json.load(sys.stdin)
    import brisk

    report: dict[str, Any] = {"missing": [], "differ": {}}
    for module_name, names in wanted.items():
        module = importlib.import_module("brisk" + ("." + module_name if module_name else ""))
        for name, expected in names.items():
            try:
                ours = getattr(module, name)
            except AttributeError:
                report["missing"].append(f"{module_name}.{name}")
                continue
            if expected == "module":
                if not inspect.ismodule(ours):
                    report["differ"][f"{module_name}.{name}"] = f"not a module: {ours!r}"
            elif expected == "callable":
                if not callable(ours):
                    report["differ"][f"{module_name}.{name}"] = f"not callable: {ours!r}"
            elif not inspect.isclass(ours):
                report["differ"][f"{module_name}.{name}"] = f"not a class: {ours!r}"
            else:
                lacking = [base for base in expected if base not in mro_names(ours)]
                if lacking:
                    report["differ"][f"{module_name}.{name}"] = f"not a subclass of {', '.join(lacking)}"
    report["urllib3_imported"] = "urllib3" in sys.modules
    urllib3 = brisk.packages.urllib3
    report["packages_urllib3"] = urllib3.__name__
    report["retry_is_brisks"] = urllib3.util.retry.Retry is brisk.Retry
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    return report


def imports() -> dict[str, Any]:
    before = set(sys.modules)
    import brisk

    after_import = set(sys.modules) - before
    from brisk._core import requests_names as _requests_names

    report: dict[str, Any] = {"after_import": sorted(after_import), "read": {}}
    for module_name, sources in _requests_names.SOURCES.items():
        if module_name == "brisk.packages":
            continue  # urllib3's alias: importing it imports urllib3 (if installed), as in requests
        module = importlib.import_module(module_name)
        for name, source in sources.items():
            if (
                source.startswith("urllib3")
                or source == "brisk.packages:urllib3"
                or name == "SOCKSProxyManager"
            ):
                continue  # urllib3's objects (SOCKSProxyManager too, when urllib3 has SOCKS support)
            report["read"][f"{module_name}.{name}"] = hasattr(module, name)
    report["urllib3_after_names"] = "urllib3" in sys.modules
    report["requests_after_names"] = "requests" in sys.modules
    brisk.adapters.MaxRetryError  # noqa: B018 - a urllib3 name: now urllib3 is loaded, if installed
    report["urllib3_after_urllib3_name"] = "urllib3" in sys.modules
    report["urllib3_installed"] = importlib.util.find_spec("urllib3") is not None
    report["requests_at_end"] = "requests" in sys.modules
    return report


if __name__ == "__main__":
    mode = sys.argv[1]
    result = {"compare": compare, "standin": standin, "imports": imports}[mode]()
    print(json.dumps(result, indent=1, sort_keys=True))
