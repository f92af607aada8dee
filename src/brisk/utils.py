"""requests' ``utils`` helpers that application code commonly imports, on brisk's own machinery.

``quote``/``unquote``/``urlencode`` are the standard library's, as in requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlparse

from ._content import encoding_from_content_type, guess_json_utf, parse_links
from ._proxies import environment_proxies, proxy_for, should_bypass
from ._url import URL, requote
from .sessions import default_headers

__all__ = [
    "add_dict_to_cookiejar",
    "default_headers",
    "default_user_agent",
    "dict_from_cookiejar",
    "get_auth_from_url",
    "get_encoding_from_headers",
    "get_environ_proxies",
    "get_netrc_auth",
    "guess_json_utf",
    "parse_header_links",
    "prepend_scheme_if_needed",
    "quote",
    "requote_uri",
    "rewind_body",
    "select_proxy",
    "should_bypass_proxies",
    "super_len",
    "to_key_val_list",
    "unquote",
    "unquote_unreserved",
    "urldefragauth",
    "urlencode",
]


def default_user_agent(name: str = "brisk") -> str:
    from .__version__ import __version__

    return f"{name}/{__version__}"


def dict_from_cookiejar(cj: Any) -> dict[str, str]:
    """``{name: value}`` of every cookie in a jar."""
    return {cookie.name: cookie.value for cookie in cj}


def add_dict_to_cookiejar(cj: Any, cookie_dict: Mapping[str, str]) -> Any:
    from .cookies import cookiejar_from_dict

    return cookiejar_from_dict(cookie_dict, cj)


def get_auth_from_url(url: str) -> tuple[str, str]:
    """The (percent-decoded) user name and password in a URL, or ("", "") (also for what is not a URL, as
    in requests)."""
    try:
        auth = URL.parse(url).auth
    except (TypeError, ValueError):
        return ("", "")
    return auth if auth is not None else ("", "")


def get_encoding_from_headers(headers: Mapping[str, str]) -> str | None:
    return encoding_from_content_type(headers.get("content-type"))


def get_netrc_auth(url: str, raise_errors: bool = False) -> tuple[str, str] | None:
    from ._netrc import netrc_auth

    return netrc_auth(URL.parse(url).host)


def parse_header_links(value: str) -> list[dict[str, str]]:
    return parse_links(value)


def requote_uri(uri: str) -> str:
    """Percent-encode what is unsafe in ``uri`` without double-encoding existing escapes."""
    return requote(uri, safe="!#$%&'()*+,/:;=?@[]~")


def unquote_unreserved(uri: str) -> str:
    """Decode percent-escapes of unreserved characters (letters, digits, ``-._~``) only."""
    parts = uri.split("%")
    for i in range(1, len(parts)):
        code = parts[i][:2]
        if len(code) == 2 and all(c in "0123456789abcdefABCDEF" for c in code):
            char = chr(int(code, 16))
            if char.isascii() and (char.isalnum() or char in "-._~"):
                parts[i] = char + parts[i][2:]
                continue
        parts[i] = "%" + parts[i]
    return "".join(parts)


def urldefragauth(url: str) -> str:
    """``url`` without its fragment and credentials."""
    return str(URL.parse(url).without_auth().without_fragment())


def prepend_scheme_if_needed(url: str, new_scheme: str) -> str:
    return url if urlparse(url).scheme else f"{new_scheme}://{url.lstrip('/')}"


def select_proxy(url: str, proxies: Mapping[str, str | None] | None) -> str | None:
    return proxy_for(URL.parse(url), proxies, None, None)


def should_bypass_proxies(url: str, no_proxy: str | None) -> bool:
    import os

    value = no_proxy if no_proxy is not None else os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
    return bool(value) and should_bypass(URL.parse(url), value or "")


def get_environ_proxies(url: str, no_proxy: str | None = None) -> dict[str, str]:
    return {} if should_bypass_proxies(url, no_proxy) else environment_proxies()


def super_len(o: Any) -> int:
    """The number of bytes left to read in ``o`` (bytes, str, file, or anything with ``len``)."""
    if isinstance(o, str):
        return len(o.encode("utf-8"))
    if hasattr(o, "__len__"):
        return len(o)
    from ._body import encode_body

    body, _ = encode_body(data=o)
    length = getattr(body, "content_length", None)
    return length or 0


def to_key_val_list(value: Any) -> list[tuple[Any, Any]]:
    if value is None:
        return []
    if isinstance(value, str | bytes | bool | int):
        raise ValueError("cannot encode objects that are not 2-tuples")
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, Iterable):
        return list(value)
    raise ValueError("cannot encode objects that are not 2-tuples")


def rewind_body(prepared_request: Any) -> None:
    """Seek a file body back to where it started (``_body_position``), as before resending it; raises
    UnrewindableBodyError when the body cannot seek or its start is unknown."""
    from .exceptions import UnrewindableBodyError

    seek = getattr(prepared_request.body, "seek", None)
    position = getattr(prepared_request, "_body_position", None)
    if seek is None or not isinstance(position, int):
        raise UnrewindableBodyError("Unable to rewind request body for redirect.")
    try:
        seek(position)
    except OSError:
        raise UnrewindableBodyError("An error occurred when rewinding request body for redirect.") from None
