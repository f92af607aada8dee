"""The names of requests 2.32's modules that brisk's modules of the same name answer on first use.

requests' modules hold more than their own classes and functions: names they import and so re-export
(``requests.adapters.MaxRetryError`` is urllib3's, ``requests.sessions.urljoin`` the standard library's,
``requests.models.super_len`` requests.utils'), and code built on requests imports them from there
(``from requests.adapters import MaxRetryError`` in responses, ``from requests.status_codes import _codes`` in
betamax). brisk's modules give each such name the same object, resolved when it is first read, so that
``import brisk`` imports nothing more than before (not urllib3, not ``json``, not ``http.cookiejar``, not this
module): the modules ``import brisk`` loads have a ``__getattr__`` that imports this module and calls
``requests_name`` for a name they do not have; the others (``brisk.utils``, ``brisk.packages``,
``brisk.help``) set ``__getattr__ = module_getattr(__name__)``.

A name's source is written ``"module:attribute"``:

- ``"urllib3.<module>:<name>"``: urllib3's object, through ``brisk.packages.urllib3``, which is urllib3 when
  it is installed and brisk's stand-in (``brisk._compat.urllib3_standin``) when it is not;
- ``"<module>:"``: the module itself (``requests.models.complexjson`` is ``json``);
- ``"version:<module>"``: that module's ``__version__``, or None when it is not installed;
- ``"<module>:<function>()"``: what that function returns (``certifi:where()``);
- anything else: ``getattr(import_module(module), attribute)`` (brisk's own modules, the standard library,
  brisk's dependencies).

A name brisk defines in the module itself is not listed here. A name whose source is missing (a cookie helper
``brisk.cookies`` does not have) stays missing: ``AttributeError``, as for any other unknown name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["SOURCES", "module_getattr", "requests_name", "resolve"]

_EXCEPTIONS = "urllib3.exceptions:"
_HELPERS = "brisk._compat.requests_helpers:"
_UTILS = "brisk.utils:"
_ERRORS = "brisk.exceptions:"
_COOKIES = "brisk.cookies:"  # the cookie helpers: brisk.cookies answers them (or not yet)

#: brisk's module name -> {name: source}. The comments say which of requests' imports each group mirrors.
SOURCES: dict[str, dict[str, str]] = {
    "brisk": {
        "urllib3": "brisk.packages:urllib3",
        "RequestsDependencyWarning": _ERRORS + "RequestsDependencyWarning",
        "DependencyWarning": _EXCEPTIONS + "DependencyWarning",
        "NullHandler": "logging:NullHandler",
        "check_compatibility": _HELPERS + "check_compatibility",
        "_check_cryptography": _HELPERS + "_check_cryptography",
        "charset_normalizer_version": "version:charset_normalizer",
        "chardet_version": "version:chardet",
    },
    "brisk.adapters": {
        # urllib3's names, as requests.adapters imports them
        "ClosedPoolError": _EXCEPTIONS + "ClosedPoolError",
        "ConnectTimeoutError": _EXCEPTIONS + "ConnectTimeoutError",
        "_HTTPError": _EXCEPTIONS + "HTTPError",
        "_InvalidHeader": _EXCEPTIONS + "InvalidHeader",
        "LocationValueError": _EXCEPTIONS + "LocationValueError",
        "MaxRetryError": _EXCEPTIONS + "MaxRetryError",
        "NewConnectionError": _EXCEPTIONS + "NewConnectionError",
        "ProtocolError": _EXCEPTIONS + "ProtocolError",
        "_ProxyError": _EXCEPTIONS + "ProxyError",
        "ReadTimeoutError": _EXCEPTIONS + "ReadTimeoutError",
        "ResponseError": _EXCEPTIONS + "ResponseError",
        "_SSLError": _EXCEPTIONS + "SSLError",
        "proxy_from_url": "urllib3.poolmanager:proxy_from_url",
        "TimeoutSauce": "urllib3.util:Timeout",
        "parse_url": "urllib3.util:parse_url",
        "create_urllib3_context": "urllib3.util.ssl_:create_urllib3_context",
        "SOCKSProxyManager": _HELPERS + "SOCKSProxyManager",
        # requests' own modules and the standard library
        "_basic_auth_str": "brisk.auth:_basic_auth_str",
        "basestring": _HELPERS + "basestring",
        "urlparse": "urllib.parse:urlparse",
        "extract_cookies_to_jar": _COOKIES + "extract_cookies_to_jar",
        "ConnectionError": _ERRORS + "ConnectionError",
        "ConnectTimeout": _ERRORS + "ConnectTimeout",
        "InvalidHeader": _ERRORS + "InvalidHeader",
        "InvalidProxyURL": _ERRORS + "InvalidProxyURL",
        "InvalidSchema": _ERRORS + "InvalidSchema",
        "InvalidURL": _ERRORS + "InvalidURL",
        "ProxyError": _ERRORS + "ProxyError",
        "ReadTimeout": _ERRORS + "ReadTimeout",
        "RetryError": _ERRORS + "RetryError",
        "SSLError": _ERRORS + "SSLError",
        "Response": "brisk.models:Response",
        "CaseInsensitiveDict": "brisk.structures:CaseInsensitiveDict",
        "DEFAULT_CA_BUNDLE_PATH": _UTILS + "DEFAULT_CA_BUNDLE_PATH",
        "extract_zipped_paths": _UTILS + "extract_zipped_paths",
        "get_auth_from_url": _UTILS + "get_auth_from_url",
        "get_encoding_from_headers": _UTILS + "get_encoding_from_headers",
        "prepend_scheme_if_needed": _UTILS + "prepend_scheme_if_needed",
        "select_proxy": _UTILS + "select_proxy",
        "urldefragauth": _UTILS + "urldefragauth",
    },
    "brisk.api": {
        "sessions": "brisk.sessions:",
    },
    "brisk.auth": {
        "b64encode": "base64:b64encode",
        "to_native_string": "brisk._internal_utils:to_native_string",
        "basestring": _HELPERS + "basestring",
        "urlparse": "urllib.parse:urlparse",
        "extract_cookies_to_jar": _COOKIES + "extract_cookies_to_jar",
        "parse_dict_header": _UTILS + "parse_dict_header",
    },
    "brisk.exceptions": {
        "BaseHTTPError": _EXCEPTIONS + "HTTPError",
        "CompatJSONDecodeError": "json:JSONDecodeError",
    },
    "brisk.help": {
        "urllib3": "brisk.packages:urllib3",
    },
    "brisk.models": {
        "UnsupportedOperation": "io:UnsupportedOperation",
        # urllib3's names, as requests.models imports them (SSLError here is urllib3's, RequestsSSLError
        # requests')
        "DecodeError": _EXCEPTIONS + "DecodeError",
        "LocationParseError": _EXCEPTIONS + "LocationParseError",
        "ProtocolError": _EXCEPTIONS + "ProtocolError",
        "ReadTimeoutError": _EXCEPTIONS + "ReadTimeoutError",
        "SSLError": _EXCEPTIONS + "SSLError",
        "RequestField": "urllib3.fields:RequestField",
        "encode_multipart_formdata": "urllib3.filepost:encode_multipart_formdata",
        "parse_url": "urllib3.util:parse_url",
        # requests.compat's (JSONDecodeError here is json's, RequestsJSONDecodeError requests')
        "JSONDecodeError": "json:JSONDecodeError",
        "basestring": _HELPERS + "basestring",
        "builtin_str": "builtins:str",
        "chardet": "charset_normalizer:",
        "cookielib": "http.cookiejar:",
        "complexjson": "json:",
        "urlencode": "urllib.parse:urlencode",
        "urlsplit": "urllib.parse:urlsplit",
        "urlunparse": "urllib.parse:urlunparse",
        # requests' own modules
        "to_native_string": "brisk._internal_utils:to_native_string",
        "unicode_is_ascii": "brisk._internal_utils:unicode_is_ascii",
        "HTTPBasicAuth": "brisk.auth:HTTPBasicAuth",
        "_copy_cookie_jar": _COOKIES + "_copy_cookie_jar",
        "cookiejar_from_dict": _COOKIES + "cookiejar_from_dict",
        "get_cookie_header": _COOKIES + "get_cookie_header",
        "ChunkedEncodingError": _ERRORS + "ChunkedEncodingError",
        "ConnectionError": _ERRORS + "ConnectionError",
        "InvalidJSONError": _ERRORS + "InvalidJSONError",
        "InvalidURL": _ERRORS + "InvalidURL",
        "RequestsJSONDecodeError": _ERRORS + "JSONDecodeError",
        "MissingSchema": _ERRORS + "MissingSchema",
        "RequestsSSLError": _ERRORS + "SSLError",
        "codes": "brisk.status_codes:codes",
        "CaseInsensitiveDict": "brisk.structures:CaseInsensitiveDict",
        "check_header_validity": _UTILS + "check_header_validity",
        "get_auth_from_url": _UTILS + "get_auth_from_url",
        "guess_filename": _UTILS + "guess_filename",
        "iter_slices": _UTILS + "iter_slices",
        "parse_header_links": _UTILS + "parse_header_links",
        "requote_uri": _UTILS + "requote_uri",
        "stream_decode_response_unicode": _UTILS + "stream_decode_response_unicode",
        "super_len": _UTILS + "super_len",
        "to_key_val_list": _UTILS + "to_key_val_list",
        "DEFAULT_REDIRECT_LIMIT": _HELPERS + "DEFAULT_REDIRECT_LIMIT",
        "CONTENT_CHUNK_SIZE": _HELPERS + "CONTENT_CHUNK_SIZE",
    },
    "brisk.packages": {
        "chardet": "charset_normalizer:",
        "idna": "idna:",
    },
    "brisk.sessions": {
        "Mapping": "collections.abc:Mapping",
        "HTTPAdapter": "brisk.adapters:HTTPAdapter",
        "InvalidSchema": _ERRORS + "InvalidSchema",
        "default_hooks": "brisk.hooks:default_hooks",
        "OrderedDict": "collections:OrderedDict",
        "timedelta": "datetime:timedelta",
        "preferred_clock": "time:perf_counter" if sys.platform == "win32" else "time:time",  # as requests
        "cookielib": "http.cookiejar:",
        "urljoin": "urllib.parse:urljoin",
        "urlparse": "urllib.parse:urlparse",
        "to_native_string": "brisk._internal_utils:to_native_string",
        "_basic_auth_str": "brisk.auth:_basic_auth_str",
        "RequestsCookieJar": _COOKIES + "RequestsCookieJar",
        "cookiejar_from_dict": _COOKIES + "cookiejar_from_dict",
        "extract_cookies_to_jar": _COOKIES + "extract_cookies_to_jar",
        "merge_cookies": _COOKIES + "merge_cookies",
        "ChunkedEncodingError": _ERRORS + "ChunkedEncodingError",
        "ContentDecodingError": _ERRORS + "ContentDecodingError",
        "TooManyRedirects": _ERRORS + "TooManyRedirects",
        "dispatch_hook": "brisk.hooks:dispatch_hook",
        "DEFAULT_REDIRECT_LIMIT": _HELPERS + "DEFAULT_REDIRECT_LIMIT",
        "REDIRECT_STATI": "brisk.models:REDIRECT_STATI",
        "codes": "brisk.status_codes:codes",
        "CaseInsensitiveDict": "brisk.structures:CaseInsensitiveDict",
        "DEFAULT_PORTS": _UTILS + "DEFAULT_PORTS",
        "get_auth_from_url": _UTILS + "get_auth_from_url",
        "get_environ_proxies": _UTILS + "get_environ_proxies",
        "get_netrc_auth": _UTILS + "get_netrc_auth",
        "requote_uri": _UTILS + "requote_uri",
        "resolve_proxies": _UTILS + "resolve_proxies",
        "rewind_body": _UTILS + "rewind_body",
        "should_bypass_proxies": _UTILS + "should_bypass_proxies",
        "to_key_val_list": _UTILS + "to_key_val_list",
        "merge_setting": _HELPERS + "merge_setting",
        "merge_hooks": _HELPERS + "merge_hooks",
    },
    "brisk.utils": {
        "make_headers": "urllib3.util:make_headers",
        "parse_url": "urllib3.util:parse_url",
        "cookiejar_from_dict": _COOKIES + "cookiejar_from_dict",
        "certs": "brisk.certs:",
        "DEFAULT_CA_BUNDLE_PATH": "certifi:where()",
        "DEFAULT_ACCEPT_ENCODING": "brisk._response.decoders:SUPPORTED_ENCODINGS",
        # requests.compat's names from urllib.request (30 ms to import)
        "getproxies": "urllib.request:getproxies",
        "getproxies_environment": "urllib.request:getproxies_environment",
        "proxy_bypass": "urllib.request:proxy_bypass",
        "proxy_bypass_environment": "urllib.request:proxy_bypass_environment",
        "_parse_list_header": "urllib.request:parse_http_list",
    },
}


def resolve(source: str) -> object:
    """The object ``source`` names (see the module docstring); AttributeError or ImportError if missing."""
    import importlib

    module_name, _, attribute = source.partition(":")
    if module_name == "version":
        try:
            module = importlib.import_module(attribute)
        except ImportError:
            return None
        return getattr(module, "__version__", None)
    if module_name == "urllib3" or module_name.startswith("urllib3."):
        packages = importlib.import_module("brisk.packages")
        urllib3 = packages.urllib3
        module_name = urllib3.__name__ + module_name[len("urllib3") :]
    module = importlib.import_module(module_name)
    if attribute.endswith("()"):
        return getattr(module, attribute[:-2])()
    return getattr(module, attribute) if attribute else module


def requests_name(module_name: str, name: str) -> object:
    """``name`` of brisk's module ``module_name`` from ``SOURCES``, kept in the module once resolved; for the
    module's ``__getattr__``. AttributeError if it is not one of requests' names or its source is missing."""
    return _getattrs.setdefault(module_name, module_getattr(module_name))(name)


def module_getattr(module_name: str, table: str | None = None) -> Callable[[str], object]:
    """The ``__getattr__`` of brisk's module ``module_name``: requests' names listed in ``SOURCES`` (under
    ``table``, by default the module's name), each resolved once and then kept in the module (so that
    ``mock.patch`` and repeated reads see one object)."""
    sources = SOURCES.get(table or module_name, {})

    def __getattr__(name: str) -> object:
        source = sources.get(name)
        if source is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        try:
            value = resolve(source)
        except (AttributeError, ImportError) as exc:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r} ({exc})") from None
        module = sys.modules.get(module_name)
        if module is not None:
            setattr(module, name, value)
        return value

    return __getattr__


_getattrs: dict[str, Callable[[str], object]] = {}
