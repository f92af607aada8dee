"""``requests.utils`` under brisk: requests' helpers, on brisk's own machinery where brisk has one.

Every module-level name of requests 2.32's ``utils`` is here. ``quote``/``unquote``/``urlencode``/
``urlparse``/``urlunparse`` are the standard library's, as in requests; ``getproxies``, ``proxy_bypass``
and the rest of ``urllib.request``'s names, ``certs``, ``DEFAULT_CA_BUNDLE_PATH`` (certifi's bundle),
``DEFAULT_ACCEPT_ENCODING`` (the codings brisk decodes), and urllib3's ``parse_url`` and ``make_headers``
(see ``brisk.packages``) are loaded when first used, keeping ``import brisk.utils`` light. The helpers look
up ``proxy_bypass`` and ``_parse_list_header`` here when called, so that a ``mock.patch`` of them shows.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import quote, unquote, urlencode, urlparse, urlunparse

from brisk.__version__ import __version__
from brisk._core.ipv4 import address_in_network, dotted_netmask, is_ipv4_address, is_valid_cidr
from brisk._core.requests_names import module_getattr
from brisk._core.url import URL, requote
from brisk._internal_utils import (
    _HEADER_VALIDATORS_BYTE,
    _HEADER_VALIDATORS_STR,
    HEADER_VALIDATORS,
    to_native_string,
)
from brisk._request.defaults import default_headers
from brisk._response.content import encoding_from_content_type, guess_json_utf, parse_links
from brisk.exceptions import FileModeWarning, InvalidHeader, InvalidURL, UnrewindableBodyError
from brisk.structures import CaseInsensitiveDict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

__all__ = [
    "DEFAULT_PORTS",
    "HEADER_VALIDATORS",
    "NETRC_FILES",
    "UNRESERVED_SET",
    "CaseInsensitiveDict",
    "FileModeWarning",
    "InvalidHeader",
    "InvalidURL",
    "UnrewindableBodyError",
    "add_dict_to_cookiejar",
    "address_in_network",
    "atomic_open",
    "check_header_validity",
    "default_headers",
    "default_user_agent",
    "dict_from_cookiejar",
    "dict_to_sequence",
    "dotted_netmask",
    "extract_zipped_paths",
    "from_key_val_list",
    "get_auth_from_url",
    "get_encoding_from_headers",
    "get_encodings_from_content",
    "get_environ_proxies",
    "get_netrc_auth",
    "get_unicode_from_response",
    "guess_filename",
    "guess_json_utf",
    "is_ipv4_address",
    "is_valid_cidr",
    "iter_slices",
    "parse_dict_header",
    "parse_header_links",
    "parse_list_header",
    "prepend_scheme_if_needed",
    "quote",
    "requote_uri",
    "resolve_proxies",
    "rewind_body",
    "select_proxy",
    "set_environ",
    "should_bypass_proxies",
    "stream_decode_response_unicode",
    "super_len",
    "to_key_val_list",
    "to_native_string",
    "unquote",
    "unquote_header_value",
    "unquote_unreserved",
    "urldefragauth",
    "urlencode",
    "urlparse",
    "urlunparse",
]


def default_user_agent(name: str = "brisk") -> str:
    return f"{name}/{__version__}"


def dict_from_cookiejar(cj: Any) -> dict[str, str]:
    """``{name: value}`` of every cookie in a jar."""
    return {cookie.name: cookie.value for cookie in cj}


def add_dict_to_cookiejar(cj: Any, cookie_dict: Mapping[str, str]) -> Any:
    from brisk.cookies import cookiejar_from_dict

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
    from brisk._auth.netrc import netrc_auth

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
    """``url`` without its fragment and its credentials (a URL without ``//`` is taken as starting with its
    host)."""
    parts = urlparse(url)
    netloc, path = (parts.netloc, parts.path) if parts.netloc else (parts.path, "")
    return urlunparse((parts.scheme, netloc.rsplit("@", 1)[-1], path, parts.params, parts.query, ""))


def prepend_scheme_if_needed(url: str, new_scheme: str) -> str:
    """``url`` with ``new_scheme`` in front when it has no scheme (``example.com:80/x`` ->
    ``http://example.com:80/x``); a scheme it has is kept."""
    from brisk._compat.urllib3_standin import parse_url  # brisk's own lenient parser, urllib3 or not

    parsed = parse_url(url)
    netloc, path = parsed.netloc or "", parsed.path or ""
    if not netloc:
        netloc, path = path, netloc
    if parsed.auth:
        netloc = f"{parsed.auth}@{netloc}"
    return urlunparse(
        (parsed.scheme or new_scheme, netloc, path, "", parsed.query or "", parsed.fragment or "")
    )


def select_proxy(url: str, proxies: Mapping[str, str | None] | None) -> str | None:
    """The proxy ``proxies`` names for ``url``, most specific key first: ``scheme://host``, ``scheme``,
    ``all://host``, ``all``; None if none applies."""
    proxies = proxies or {}
    parts = urlparse(url)
    if parts.hostname is None:
        return proxies.get(parts.scheme, proxies.get("all"))
    keys = (f"{parts.scheme}://{parts.hostname}", parts.scheme, f"all://{parts.hostname}", "all")
    return next((proxies[key] for key in keys if key in proxies), None)


def should_bypass_proxies(url: str, no_proxy: str | None) -> bool:
    """Whether ``url`` goes direct: it has no host, or ``no_proxy`` (else the no_proxy/NO_PROXY variable)
    names its host, a domain above it, its ``host:port``, or (for an IPv4 host) its address or network, or
    the system's proxy settings say so (``proxy_bypass``, called with the host alone)."""
    given = no_proxy
    if no_proxy is None:
        no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
    parts = urlparse(url)
    host = parts.hostname
    if host is None:
        return True
    if no_proxy:
        entries = [entry for entry in no_proxy.replace(" ", "").split(",") if entry]
        if is_ipv4_address(host):
            for entry in entries:
                if (is_valid_cidr(entry) and address_in_network(host, entry)) or host == entry:
                    return True
        else:
            host_and_port = f"{host}:{parts.port}" if parts.port else host
            if any(host.endswith(entry) or host_and_port.endswith(entry) for entry in entries):
                return True
    with set_environ("no_proxy", given):
        try:
            return bool(_patchable("proxy_bypass")(host))
        except (TypeError, OSError):  # socket.gaierror is an OSError
            return False


def get_environ_proxies(url: str, no_proxy: str | None = None) -> dict[str, str]:
    """The environment's proxy settings (``getproxies()``), or ``{}`` when ``url`` bypasses proxies."""
    if should_bypass_proxies(url, no_proxy=no_proxy):
        return {}
    found: dict[str, str] = _patchable("getproxies")()
    return found


def super_len(o: Any) -> int:
    """The number of bytes left to read in ``o``: its length (str as UTF-8, ``__len__``, a ``len``
    attribute, or a file's size) minus its position (``tell()``); 0 when nothing tells. A file opened in
    text mode warns (FileModeWarning): its size is counted in bytes."""
    total: int | None = None
    position = 0
    if isinstance(o, str):
        o = o.encode("utf-8")
    if hasattr(o, "__len__"):
        total = len(o)
    elif hasattr(o, "len"):
        total = o.len
    elif hasattr(o, "fileno"):
        import io

        try:
            descriptor = o.fileno()
        except (io.UnsupportedOperation, AttributeError):
            pass  # a tarfile member, an in-memory stream: no descriptor
        else:
            total = os.fstat(descriptor).st_size
            if "b" not in getattr(o, "mode", "b"):
                import warnings

                warnings.warn(
                    "super_len() counted the size of a file opened in text mode in bytes: open it in "
                    "binary mode ('rb'), which is what is sent",
                    FileModeWarning,
                    stacklevel=2,
                )
    if hasattr(o, "tell"):
        try:
            position = o.tell()
        except OSError:
            position = total or 0  # a special file (stdin): unknown, so nothing to count
        else:
            if total is None and hasattr(o, "seek"):
                try:
                    o.seek(0, 2)
                    total = o.tell()
                    o.seek(position or 0)
                except OSError:
                    total = 0
    return max(0, (total or 0) - position)


def to_key_val_list(value: Any) -> list[tuple[Any, Any]] | None:
    """``value`` (pairs or a mapping) as a list of pairs; None stays None; a str, bytes, bool or int is a
    ValueError."""
    if value is None:
        return None
    if isinstance(value, str | bytes | bool | int):
        raise ValueError("cannot encode objects that are not 2-tuples")
    if isinstance(value, Mapping):
        return list(value.items())
    return list(value)


def rewind_body(prepared_request: Any) -> None:
    """Seek a file body back to where it started (``_body_position``), as before resending it; raises
    UnrewindableBodyError when the body cannot seek or its start is unknown."""
    seek = getattr(prepared_request.body, "seek", None)
    position = getattr(prepared_request, "_body_position", None)
    if seek is None or not isinstance(position, int):
        raise UnrewindableBodyError("Unable to rewind request body for redirect.")
    try:
        seek(position)
    except OSError:
        raise UnrewindableBodyError("An error occurred when rewinding request body for redirect.") from None


# -- the rest of requests.utils' names ---------------------------------------------------------------------

#: The files ``get_netrc_auth`` looks for in the home directory when ``NETRC`` is not set.
NETRC_FILES = (".netrc", "_netrc")
DEFAULT_PORTS = {"http": 80, "https": 443}
#: The characters RFC 3986 calls unreserved: ``unquote_unreserved`` decodes their percent-escapes only.
UNRESERVED_SET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
basestring = (str, bytes)
integer_types = (int,)
_null = b"\x00"  # guess_json_utf's NUL patterns, under requests' names
_null2 = _null * 2
_null3 = _null * 3


def _patchable(name: str) -> Any:
    """This module's ``name`` as it is now (a lazily imported name, or a ``mock.patch`` of it)."""
    return getattr(sys.modules[__name__], name)


def dict_to_sequence(d: Any) -> Any:
    """``d.items()`` for a mapping (anything with ``items``), else ``d`` itself."""
    return d.items() if hasattr(d, "items") else d


def from_key_val_list(value: Any) -> OrderedDict[Any, Any] | None:
    """``value`` (pairs or a mapping) as an OrderedDict; None stays None; a str, bytes, bool or int is a
    ValueError."""
    if value is None:
        return None
    if isinstance(value, str | bytes | bool | int):
        raise ValueError("cannot encode objects that are not 2-tuples")
    return OrderedDict(value)


def guess_filename(obj: Any) -> str | None:
    """The base name of ``obj.name`` (a file's), unless it is missing, not text or a ``<pseudo-name>``."""
    name = getattr(obj, "name", None)
    if (
        name
        and isinstance(name, str | bytes)
        and name[:1] not in ("<", b"<")
        and name[-1:] not in (">", b">")
    ):
        return os.path.basename(name)  # type: ignore[return-value]  # bytes in, bytes out, as in requests
    return None


def extract_zipped_paths(path: str) -> str:
    """``path`` if it exists; if it names a member of a zip archive (``/x/lib.zip/pkg/cacert.pem``), the
    path of a copy of that member extracted to the temporary directory; otherwise ``path`` unchanged."""
    if os.path.exists(path):
        return path
    archive, member = os.path.split(path)
    while archive and not os.path.exists(archive):
        archive, prefix = os.path.split(archive)
        if not prefix:
            break
        member = f"{prefix}/{member}"
    import zipfile

    if not archive or not zipfile.is_zipfile(archive):
        return path
    with zipfile.ZipFile(archive) as zipped:
        if member not in zipped.namelist():
            return path
        import tempfile

        extracted = os.path.join(tempfile.gettempdir(), member.split("/")[-1])
        if not os.path.exists(extracted):
            with atomic_open(extracted) as target:
                target.write(zipped.read(member))
    return extracted


@contextlib.contextmanager
def atomic_open(filename: str) -> Iterator[BinaryIO]:
    """A binary file to write that replaces ``filename`` only once the ``with`` block ends without an error
    (a temporary file in the same directory, renamed over it)."""
    import tempfile

    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(filename))
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        os.replace(temporary, filename)
    except BaseException:
        os.remove(temporary)
        raise


def unquote_header_value(value: str, is_filename: bool = False) -> str:
    """A header value without its surrounding double quotes, with ``\\\\`` and ``\\"`` unescaped as browsers
    do; a quoted file name that is a UNC path (``\\\\server\\share``) keeps its backslashes."""
    if value and value[0] == value[-1] == '"':
        value = value[1:-1]
        if not is_filename or value[:2] != "\\\\":
            return value.replace("\\\\", "\\").replace('\\"', '"')
    return value


def parse_list_header(value: str) -> list[str]:
    """A comma-separated header list (``token, "quoted, value"``) as a list; quoted items are unquoted."""
    return [
        unquote_header_value(item[1:-1]) if item[:1] == item[-1:] == '"' else item
        for item in _patchable("_parse_list_header")(value)
    ]


def parse_dict_header(value: str) -> dict[str, str | None]:
    """A comma-separated list of ``key=value`` items as a dict (quoted values unquoted; a key alone maps to
    None)."""
    result: dict[str, str | None] = {}
    for item in _patchable("_parse_list_header")(value):
        if "=" not in item:
            result[item] = None
            continue
        name, found = item.split("=", 1)
        if found[:1] == found[-1:] == '"':
            found = unquote_header_value(found[1:-1])
        result[name] = found
    return result


def get_encodings_from_content(content: str) -> list[str]:
    """The encodings an HTML or XML document declares (``<meta charset>``, ``<meta content=...charset=>``,
    ``<?xml encoding=?>``), in that order. Deprecated in requests, and warns so here too."""
    import re
    import warnings

    warnings.warn(
        "get_encodings_from_content is deprecated (requests will remove it in 3.0)",
        DeprecationWarning,
        stacklevel=2,
    )
    found: list[str] = []
    for pattern in (
        r'<meta.*?charset=["\']*(.+?)["\'>]',
        r'<meta.*?content=["\']*;?charset=(.+?)["\'>]',
    ):
        found += re.findall(pattern, content, flags=re.IGNORECASE)
    return found + re.findall(r'^<\?xml.*?encoding=["\']*(.+?)["\'>]', content)


def _parse_content_type_header(header: str) -> tuple[str, dict[str, str | bool]]:
    """``(media_type, params)`` of a Content-Type value; parameter names lower-cased, quotes and spaces
    around names and values stripped, a parameter without ``=`` set to True."""
    media_type, *parameters = header.split(";")
    params: dict[str, str | bool] = {}
    for written in parameters:
        parameter = written.strip()
        if not parameter:
            continue
        key, equals, value = parameter.partition("=")
        if equals:
            params[key.strip("\"' ").lower()] = value.strip("\"' ")
        else:
            params[parameter.lower()] = True
    return media_type.strip(), params


def stream_decode_response_unicode(iterator: Iterable[bytes], r: Any) -> Iterator[Any]:
    """The chunks of ``iterator`` decoded incrementally with ``r.encoding`` (errors replaced), or unchanged
    when it has none."""
    if r.encoding is None:
        yield from iterator
        return
    import codecs

    decoder = codecs.getincrementaldecoder(r.encoding)(errors="replace")
    for chunk in iterator:
        text = decoder.decode(chunk)
        if text:
            yield text
    text = decoder.decode(b"", final=True)
    if text:
        yield text


def iter_slices(string: Any, slice_length: int | None) -> Iterator[Any]:
    """``string`` in pieces of ``slice_length`` (all at once when that is None or not positive)."""
    if slice_length is None or slice_length <= 0:
        slice_length = len(string)
    for start in range(0, len(string), slice_length or 1):
        yield string[start : start + slice_length]


def get_unicode_from_response(r: Any) -> str:
    """``r.content`` as text: with the charset of its Content-Type, else with bad bytes replaced.
    Deprecated in requests, and warns so here too."""
    import warnings

    warnings.warn(
        "get_unicode_from_response is deprecated (requests will remove it in 3.0)",
        DeprecationWarning,
        stacklevel=2,
    )
    encoding = get_encoding_from_headers(r.headers)
    if encoding:
        try:
            return str(r.content, encoding)
        except UnicodeError:
            pass
    try:
        return str(r.content, encoding, errors="replace")  # type: ignore[arg-type]  # TypeError for None
    except TypeError:
        return r.content  # type: ignore[no-any-return]  # as requests: the bytes when nothing decodes them


@contextlib.contextmanager
def set_environ(env_name: str, value: str | None) -> Iterator[None]:
    """Set the environment variable ``env_name`` to ``value`` for the ``with`` block, then restore it (or
    remove it, if it was not set). A ``value`` of None changes nothing."""
    if value is None:
        yield
        return
    previous = os.environ.get(env_name)
    os.environ[env_name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[env_name]
        else:
            os.environ[env_name] = previous


def resolve_proxies(
    request: Any, proxies: Mapping[str, str] | None, trust_env: bool = True
) -> dict[str, str]:
    """``proxies`` plus, when ``trust_env`` and the URL is not excluded by no_proxy, the environment's proxy
    for the request's scheme (the ``proxies`` given win)."""
    proxies = proxies if proxies is not None else {}
    url = request.url
    scheme = urlparse(url).scheme
    no_proxy = proxies.get("no_proxy")
    resolved = dict(proxies)
    if trust_env and not should_bypass_proxies(url, no_proxy=no_proxy):
        environment = get_environ_proxies(url, no_proxy=no_proxy)
        proxy = environment.get(scheme, environment.get("all"))
        if proxy:
            resolved.setdefault(scheme, proxy)
    return resolved


def check_header_validity(header: tuple[Any, Any]) -> None:
    """Raise InvalidHeader unless ``(name, value)`` is a valid header by requests' rules (str or bytes; no
    leading whitespace, colon or line break in the name; no leading whitespace or line break in the value)."""
    name, value = header
    _validate_header_part(header, name, 0)
    _validate_header_part(header, value, 1)


def _validate_header_part(header: tuple[Any, Any], header_part: Any, header_validator_index: int) -> None:
    if isinstance(header_part, str):
        valid = _HEADER_VALIDATORS_STR[header_validator_index].match(header_part)
    elif isinstance(header_part, bytes):
        valid = _HEADER_VALIDATORS_BYTE[header_validator_index].match(header_part)  # type: ignore[assignment]
    else:
        raise InvalidHeader(
            f"Header part ({header_part!r}) from {header} must be of type str or bytes, "
            f"not {type(header_part)}"
        )
    if not valid:
        kind = "name" if header_validator_index == 0 else "value"
        raise InvalidHeader(
            f"Invalid leading whitespace, reserved character(s), or return character(s) in header {kind}: "
            f"{header_part!r}"
        )


__getattr__ = module_getattr(__name__)
