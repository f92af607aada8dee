"""Make ``import requests`` (and ``requests.<module>``) resolve to brisk, for requests' own test suite.

Loaded at interpreter start by a ``.pth`` file in the suite's own environment (``run.sh`` installs it),
never by brisk. ``brisk.install_as_requests()`` does the aliasing, as for any user. So that the test files
can be imported at all, each requests.utils helper brisk does not offer becomes a placeholder that raises
``Missing``, and every test that needs one fails visibly rather than being skipped.
"""

from __future__ import annotations

import os
from typing import Any

import brisk

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
    brisk.install_as_requests()  # the documented way: requests and every requests.* module are brisk's
    import requests

    models: Any = requests.models
    if not hasattr(models, "urlencode"):  # requests' models re-exports the standard library's
        from urllib.parse import urlencode

        models.urlencode = urlencode
    utils = requests.utils
    for name in UTILS:
        if not hasattr(utils, name):
            setattr(utils, name, _placeholder(name))


if os.environ.get("REQUESTS_SOURCE"):
    install(os.environ["REQUESTS_SOURCE"])
