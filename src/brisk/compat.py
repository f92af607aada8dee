"""``requests.compat`` under brisk: the standard-library names older requests code imports from here.

requests kept this module after dropping Python 2 so that ``from requests.compat import urljoin`` and
friends keep working; brisk offers the same names, all plain re-exports (nothing here is brisk's own).
It is imported only when used: ``import brisk`` does not load it.
"""

from __future__ import annotations

import builtins
import json
import sys
import types
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Mapping, MutableMapping
from http import cookiejar as cookielib
from http.cookies import Morsel
from io import StringIO
from json import JSONDecodeError
from urllib.parse import (
    quote,
    quote_plus,
    unquote,
    unquote_plus,
    urldefrag,
    urlencode,
    urljoin,
    urlparse,
    urlsplit,
    urlunparse,
)
from urllib.request import (
    getproxies,
    getproxies_environment,
    parse_http_list,
    proxy_bypass,
)

import charset_normalizer as chardet  # requests' name for whichever detector it found

__all__ = [
    "Callable",
    "JSONDecodeError",
    "Mapping",
    "Morsel",
    "MutableMapping",
    "OrderedDict",
    "StringIO",
    "basestring",
    "builtin_str",
    "bytes",
    "chardet",
    "cookielib",
    "getproxies",
    "getproxies_environment",
    "has_simplejson",
    "integer_types",
    "is_py2",
    "is_py3",
    "json",
    "numeric_types",
    "parse_http_list",
    "proxy_bypass",
    "proxy_bypass_environment",
    "quote",
    "quote_plus",
    "str",
    "unquote",
    "unquote_plus",
    "urldefrag",
    "urlencode",
    "urljoin",
    "urlparse",
    "urlsplit",
    "urlunparse",
]

proxy_bypass_environment = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # not in typeshed
is_py2 = False
is_py3 = True
has_simplejson = False  # brisk decodes JSON with the standard library only
builtin_str = builtins.str
str = builtins.str  # requests exports these names
bytes = builtins.bytes
basestring = (builtins.str, builtins.bytes)
numeric_types = (int, float)
integer_types = (int,)
_ver = sys.version_info


def _resolve_char_detection() -> types.ModuleType:
    """The character-set detector requests' ``chardet`` name stands for: charset_normalizer (brisk's
    dependency; requests takes chardet instead when it is installed)."""
    return chardet
