"""Make ``import requests`` (and ``requests.<module>``) resolve to brisk, for requests' own test suite.

Loaded at interpreter start by a ``.pth`` file in the suite's own environment (``run.sh`` installs it),
never by brisk. Modules brisk has are aliased. For the rest, so that the test files can be imported at all:
``_internal_utils`` is executed from the downloaded requests source (it is a private helper module the tests
import), and each requests.utils helper brisk does not offer becomes a placeholder that raises ``Missing``,
so every test that needs one fails visibly rather than being skipped.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any

import brisk

MODULES = (
    "exceptions", "structures", "auth", "cookies", "models", "sessions", "adapters", "hooks",
    "status_codes", "utils", "compat", "api", "packages", "__version__",
)  # fmt: skip
UTILS = (
    "_parse_content_type_header", "address_in_network", "dotted_netmask", "extract_zipped_paths",
    "get_encodings_from_content", "guess_filename", "is_ipv4_address", "is_valid_cidr", "iter_slices",
    "parse_dict_header", "set_environ", "to_native_string", "unquote_header_value", "add_dict_to_cookiejar",
    "get_auth_from_url", "get_encoding_from_headers", "get_environ_proxies", "guess_json_utf",
    "parse_header_links", "prepend_scheme_if_needed", "requote_uri", "select_proxy", "should_bypass_proxies",
    "super_len", "to_key_val_list", "unquote_unreserved", "urldefragauth",
)  # fmt: skip


class Missing(NotImplementedError):
    """A requests helper brisk does not offer."""


def _placeholder(name: str) -> Any:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise Missing(f"brisk has no requests.utils.{name}")

    missing.__name__ = name
    return missing


def install(requests_source: str) -> None:
    sys.modules["requests"] = brisk
    for name in MODULES:
        sys.modules["requests." + name] = importlib.import_module("brisk." + name)
    private = types.ModuleType("requests._internal_utils")
    path = os.path.join(requests_source, "requests", "_internal_utils.py")
    with open(path, encoding="utf-8") as source:
        exec(compile(source.read(), path, "exec"), private.__dict__)  # requests' own file, run as it is
    sys.modules[private.__name__] = private
    models: Any = sys.modules["requests.models"]
    if not hasattr(models, "urlencode"):  # requests' models re-exports the standard library's
        from urllib.parse import urlencode

        models.urlencode = urlencode
    utils = sys.modules["requests.utils"]
    for name in UTILS:
        if not hasattr(utils, name):
            setattr(utils, name, _placeholder(name))


if os.environ.get("REQUESTS_SOURCE"):
    install(os.environ["REQUESTS_SOURCE"])
