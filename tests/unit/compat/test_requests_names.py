"""Every module-level name of requests 2.32's modules exists in brisk's module of that name, meaning the same
(issue 19): code built on requests imports them (``from requests.adapters import MaxRetryError`` in responses,
``from requests.status_codes import _codes`` in betamax's pytest plugin), and one missing name stops a whole
library at import.

The comparison runs against requests' own modules (requests 2.32.3 is in brisk's ``dev`` extra, for this test
only) in a fresh interpreter (``requests_names_probe.py``): requests is imported there, taken out of
``sys.modules`` again, and brisk is installed as requests, so that this pytest process never imports the real
requests (``brisk.install_as_requests()``, which tests/unit/compat/test_shim.py runs, refuses to install over
it). All of a module's names count, private ones included (the ecosystem reads several), except names bound
to a standard-library module under its own name (``import os`` in requests.utils). What differs on purpose is
listed below, each with its reason.
"""

from __future__ import annotations

import json
import pickle
import ssl
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import brisk

PROBE = Path(__file__).with_name("requests_names_probe.py")
MODULES = (
    "", "adapters", "api", "auth", "certs", "compat", "cookies", "exceptions", "help", "hooks", "models",
    "packages", "sessions", "status_codes", "structures", "utils", "_internal_utils",
)  # fmt: skip

_AUTHORSHIP = (
    "requests' authorship and project metadata: the module answering is brisk, which does not claim "
    "requests' author, copyright or address (the shim has __title__, __version__, __build__ and "
    "__description__, which code checks)"
)

#: Names brisk does not have, on purpose: module -> {name: why}. The test fails when one appears, so that
#: this list stays true.
ABSENT: dict[str, dict[str, str]] = {
    "": {
        "__author__": _AUTHORSHIP,
        "__author_email__": _AUTHORSHIP,
        "__copyright__": _AUTHORSHIP,
        "__license__": _AUTHORSHIP,
        "__url__": _AUTHORSHIP,
        "__cake__": "requests' easter egg ('✨ 🍰 ✨'), which no code reads",
    },
    "adapters": {
        "_preloaded_ssl_context": (
            "private: the SSLContext requests' urllib3 pools share; brisk's pool makes and caches its own "
            "TLS contexts (brisk._transport.tls), so a context found or replaced here would not be the one "
            "used"
        ),
        "_urllib3_request_context": (
            "private: computes urllib3's connection-pool keyword arguments for a request; brisk's pool takes "
            "no urllib3 arguments"
        ),
    },
    "packages": dict.fromkeys(
        ("package", "mod", "target", "imported_mod"),
        "a loop variable requests.packages leaves behind while aliasing its vendored packages",
    ),
}

#: Names another engineer is adding: brisk.cookies is being rewritten as an http.cookiejar jar with requests'
#: helpers (#19). Each may be missing until that lands; the test does not fail when one appears.
PENDING: dict[str, set[str]] = {
    "cookies": {"cookielib"},  # requests.cookies' name for http.cookiejar
}

_NOT_URLLIB3_ERROR = (
    "not a subclass of urllib3's HTTPError (requests' ContentDecodingError also derives from it): brisk "
    "does not import urllib3, and catches of RequestException and ContentDecodingError work the same"
)

#: Names brisk has with a meaning of its own, on purpose: module -> {name: why}.
DIFFERENT: dict[str, dict[str, str]] = {
    "": {"__description__": "the shim says what answers: requests 2.32.3's API, answered by brisk <version>"},
    "adapters": {
        "PoolManager": (
            "brisk's pool manager, with urllib3's name and arguments (num_pools, maxsize, block, **pool "
            "kwargs): HTTPAdapter.init_poolmanager builds it and sends through it; an override that builds "
            "urllib3's own PoolManager still works (the adapter sends through a pool of brisk's)"
        ),
        "Retry": (
            "brisk's Retry, which takes urllib3's arguments and is what HTTPAdapter(max_retries=...) makes; "
            "urllib3's Retry (brisk.packages.urllib3.util.retry.Retry) is accepted as max_retries and kept"
        ),
    },
    "exceptions": {"ContentDecodingError": _NOT_URLLIB3_ERROR},
    "models": {"ContentDecodingError": _NOT_URLLIB3_ERROR},
    "sessions": {"ContentDecodingError": _NOT_URLLIB3_ERROR},
    "hooks": {"HOOKS": "brisk also runs 'request' hooks (on the prepared request before it is sent)"},
    # Where pyOpenSSL is installed (aioquic, brisk[http3], brings it), requests' help names urllib3's
    # pyopenssl contrib module and the two packages; brisk never uses pyOpenSSL, so its help says None.
    "help": dict.fromkeys(("pyopenssl", "OpenSSL", "cryptography"), "None: brisk does not use pyOpenSSL"),
    "utils": {
        "DEFAULT_ACCEPT_ENCODING": (
            "the content codings brisk decodes (gzip, deflate, br, zstd), as requests' lists what its "
            "urllib3 decodes"
        ),
        "__version__": "brisk's version, which default_user_agent() reports (requests': requests' version)",
    },
}


def probe(mode: str, given: object = None) -> dict[str, Any]:
    """Run ``requests_names_probe.py MODE`` in a fresh interpreter; its JSON report."""
    result = subprocess.run(
        [sys.executable, "-P", str(PROBE), mode],
        input=json.dumps(given) if given is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.fixture(scope="module")
def comparison() -> dict[str, Any]:
    report = probe("compare")
    if "skip" in report:
        pytest.skip(report["skip"])
    return report


def test_compared_with_the_requests_release_brisk_follows(comparison: dict[str, Any]) -> None:
    from brisk._compat.shim import REQUESTS_VERSION

    assert comparison["requests_version"] == REQUESTS_VERSION
    assert comparison["requests_imported"] == []  # brisk's modules imported nothing of the real requests


@pytest.mark.parametrize("module", MODULES, ids=lambda m: f"requests.{m}" if m else "requests")
def test_every_name_exists(comparison: dict[str, Any], module: str) -> None:
    found = comparison["modules"][module]
    missing = set(found["missing"])
    deliberate = set(ABSENT.get(module, {}))
    assert missing - deliberate - PENDING.get(module, set()) == set(), "names of requests brisk lacks"
    assert deliberate - missing == set(), "brisk has these now: take them out of ABSENT"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: f"requests.{m}" if m else "requests")
def test_every_name_means_the_same(comparison: dict[str, Any], module: str) -> None:
    differ = comparison["modules"][module]["differ"]
    unexplained = {name: why for name, why in differ.items() if name not in DIFFERENT.get(module, {})}
    assert unexplained == {}


def test_the_lists_name_names_requests_has(comparison: dict[str, Any]) -> None:
    for listing in (ABSENT, PENDING, DIFFERENT):
        for module, names in listing.items():
            assert set(names) <= set(comparison["modules"][module]["names"]), (module, names)


def test_urllib3_names_without_urllib3(comparison: dict[str, Any]) -> None:
    """Where urllib3 is not installed, each name requests takes from it is brisk's stand-in: a class in
    urllib3's hierarchy (by name) or a callable, and urllib3 is not imported."""
    report = probe("standin", comparison["urllib3"])
    assert report["packages_urllib3"] == "brisk.packages.urllib3"  # the stand-in
    assert report["retry_is_brisks"]
    assert report["missing"] == []
    explained = {f"{module}.{name}" for module, names in DIFFERENT.items() for name in names}
    unexplained = {name: why for name, why in report["differ"].items() if name not in explained}
    assert unexplained == {}
    assert report["differ"]["adapters.PoolManager"] == "not a subclass of RequestMethods"  # DIFFERENT
    assert not report["urllib3_imported"]


def test_import_brisk_imports_neither_requests_nor_urllib3() -> None:
    """``import brisk`` loads what it loaded before; requests' names load their modules when first read;
    only urllib3's names import urllib3, and nothing imports requests."""
    report = probe("imports")
    lazy = {
        "requests", "urllib3", "json", "http.cookiejar", "urllib.request", "charset_normalizer", "idna",
        "certifi", "logging", "base64", "brisk.utils", "brisk.compat", "brisk.packages", "brisk.cookies",
        "brisk._compat.urllib3_standin", "brisk.help", "brisk._core.requests_names",
        "brisk._compat.requests_helpers",
    }  # fmt: skip
    assert lazy & set(report["after_import"]) == set()
    unread = {name for name, present in report["read"].items() if not present}
    pending = {f"brisk.{module}.{name}" for module, names in PENDING.items() for name in names}
    assert unread - pending == set()
    assert not report["urllib3_after_names"]
    assert report["urllib3_after_urllib3_name"] == report["urllib3_installed"]
    assert not report["requests_after_names"]
    assert not report["requests_at_end"]


# -- what some of the names do ----------------------------------------------------------------------------


def test_status_codes_table() -> None:
    """``_codes`` is requests' ``{code: names}`` table and ``codes`` is made from it; betamax takes a reason
    phrase from it."""
    from brisk.status_codes import _codes, codes

    assert _codes[200][0] == "ok"
    assert _codes[404][0].upper() == "NOT_FOUND"
    expected = {
        name: code for code, names in _codes.items() for name in names
    }  # a later code wins, as in requests
    assert expected["uri_too_long"] == 414
    for name, code in expected.items():
        assert codes[name] == code
        if not name.startswith(("\\", "/")):
            assert getattr(codes, name.upper()) == code


def test_session_names() -> None:
    from brisk import models, sessions

    assert sessions.DEFAULT_REDIRECT_LIMIT == models.DEFAULT_REDIRECT_LIMIT == brisk.Session().max_redirects
    assert sessions.REDIRECT_STATI is models.REDIRECT_STATI
    assert sessions.merge_setting({"a": 1, "b": 2}, {"b": 3, "c": 4}) == {"c": 4, "b": 2, "a": 1}
    assert sessions.merge_setting({"a": None}, {"a": 1, "b": 2}) == {"b": 2}  # None removes a key
    assert sessions.merge_setting("request", {"a": 1}) == "request"
    assert sessions.merge_setting(None, {"a": 1}) == {"a": 1}
    hook = object()
    assert sessions.merge_hooks({"response": []}, {"response": [hook]}) == {"response": [hook]}
    assert sessions.merge_hooks({"response": [hook]}, {"response": []}) == {"response": [hook]}


def test_request_mixins_are_bases_with_requests_methods() -> None:
    from brisk.models import RequestEncodingMixin, RequestHooksMixin

    prepared = brisk.Request("POST", "http://example.test/a b?x=1").prepare()
    assert isinstance(prepared, RequestEncodingMixin)
    assert isinstance(prepared, RequestHooksMixin)
    assert isinstance(brisk.Request(), RequestHooksMixin)
    encode = RequestEncodingMixin._encode_params
    assert encode({"a": ["1", "2"], "b": None, "c": "x y"}) == "a=1&a=2&c=x+y"
    assert encode([("k", b"v")]) == "k=v"
    assert encode("raw") == "raw"
    assert encode(b"raw") == b"raw"
    body, content_type = RequestEncodingMixin._encode_files({"f": ("a.txt", b"hello")}, {"k": "v"})
    assert content_type.startswith("multipart/form-data; boundary=")
    assert b'name="k"' in body
    assert b'filename="a.txt"' in body
    assert b"hello" in body
    with pytest.raises(ValueError, match="Files must be provided"):
        RequestEncodingMixin._encode_files(None, {})
    request = brisk.Request()
    request.register_hook("response", print)
    assert request.deregister_hook("response", print)
    assert not request.deregister_hook("response", print)


def test_check_compatibility() -> None:
    brisk.check_compatibility("2.8.0", None, "3.4.0")
    brisk.check_compatibility("1.26", "5.2.0", None)
    for urllib3_version in ("1.20.0", "0.9.9", "dev"):
        with pytest.raises(AssertionError):
            brisk.check_compatibility(urllib3_version, None, "3.4.0")
    with pytest.raises(AssertionError):
        brisk.check_compatibility("2.0.0", None, "4.0.0")
    with pytest.warns(brisk.RequestsDependencyWarning):
        brisk.check_compatibility("2.0.0", None, None)
    assert issubclass(brisk.exceptions.RequestsDependencyWarning, brisk.exceptions.RequestsWarning)


def test_socks_proxy_manager_without_socks_support() -> None:
    from brisk.adapters import SOCKSProxyManager

    if getattr(SOCKSProxyManager, "__module__", "").startswith("urllib3"):
        pytest.skip("urllib3 with SOCKS support is installed: SOCKSProxyManager is urllib3's")
    with pytest.raises(brisk.exceptions.InvalidSchema, match="SOCKS"):
        SOCKSProxyManager("socks5://proxy.test")


def test_urllib3_names_are_urllib3s_when_installed() -> None:
    urllib3 = pytest.importorskip("urllib3")
    from brisk import adapters, exceptions, models, utils

    assert adapters.MaxRetryError is urllib3.exceptions.MaxRetryError
    assert adapters._SSLError is models.SSLError is urllib3.exceptions.SSLError
    assert exceptions.BaseHTTPError is urllib3.exceptions.HTTPError
    assert adapters.TimeoutSauce is urllib3.util.Timeout
    assert utils.parse_url is models.parse_url is urllib3.util.parse_url
    assert brisk.urllib3 is brisk.packages.urllib3 is urllib3


def test_urllib3_standin() -> None:
    """What brisk.packages.urllib3 offers without urllib3, tested directly (brisk._compat.urllib3_standin)."""
    from brisk._compat import urllib3_standin as u3
    from brisk.exceptions import MissingDependencyError

    error = u3.MaxRetryError(None, "http://h.test/", u3.NewConnectionError(None, "refused"))
    assert isinstance(error, u3.RequestError | u3.PoolError | u3.HTTPError)
    assert error.url == "http://h.test/"
    assert isinstance(error.reason, u3.NewConnectionError)
    assert "Max retries exceeded with url: http://h.test/" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is u3.MaxRetryError
    assert copy.url == error.url
    assert issubclass(u3.ReadTimeoutError, u3.TimeoutError)
    assert issubclass(u3.ReadTimeoutError, u3.RequestError)
    assert issubclass(u3.LocationParseError, ValueError)
    assert u3.LocationParseError("x:y").location == "x:y"
    assert u3.ProxyError("no", OSError()).original_error.__class__ is OSError

    timeout = u3.Timeout(total=5, connect=2)
    assert (timeout.connect_timeout, timeout.read_timeout) == (2, 5)
    assert u3.Timeout.from_float(3).read_timeout == 3
    assert timeout.clone().connect_timeout == 2
    with pytest.raises(ValueError):
        u3.Timeout(connect=-1)

    url = u3.parse_url("HTTP://user:pw@Example.COM:8080/p?q=1#f")
    assert url == ("http", "user:pw", "example.com", 8080, "/p", "q=1", "f")
    assert url.netloc == "example.com:8080"
    assert url.request_uri == "/p?q=1"
    assert u3.parse_url("example.com/x") == (None, None, "example.com", None, "/x", None, None)
    assert u3.parse_url("http://[::1]:80/").host == "[::1]"
    with pytest.raises(u3.LocationParseError):
        u3.parse_url("http://h.test:99999/")

    assert u3.make_headers(keep_alive=True, basic_auth="a:b", disable_cache=True) == {
        "connection": "keep-alive",
        "authorization": "Basic YTpi",
        "cache-control": "no-cache",
    }
    assert u3.make_headers(accept_encoding=["gzip", "br"]) == {"accept-encoding": "gzip,br"}
    context = u3.create_urllib3_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert u3.create_urllib3_context(cert_reqs=ssl.CERT_NONE).verify_mode == ssl.CERT_NONE

    for make in (u3.PoolManager, u3.HTTPResponse, u3.RequestField, u3.proxy_from_url):
        with pytest.raises(MissingDependencyError, match="pip install urllib3"):
            make("http://proxy.test")


def test_utils_helpers(tmp_path: Path) -> None:
    from brisk import utils

    assert utils.dotted_netmask(24) == "255.255.255.0"
    assert utils.dotted_netmask(8) == "255.0.0.0"
    assert utils.address_in_network("192.168.1.1", "192.168.1.0/24")
    assert not utils.address_in_network("192.168.1.1", "192.168.100.0/24")
    assert utils.is_valid_cidr("10.0.0.0/8")
    assert not utils.is_valid_cidr("10.0.0.0/33")
    assert not utils.is_ipv4_address("8.8.8.8.8")
    assert utils.should_bypass_proxies("http://10.1.2.3/", no_proxy="10.0.0.0/8")
    assert utils.should_bypass_proxies("http://api.example.test:8080/", no_proxy="example.test")
    assert utils.select_proxy("http://h.test/x", {"http://h.test": "p1", "http": "p2"}) == "p1"
    assert utils.select_proxy("https://h.test/", {"http": "p2", "all": "p3"}) == "p3"
    assert utils.parse_list_header('token, "quoted, value"') == ["token", "quoted, value"]
    assert utils.parse_dict_header('a="b c", d') == {"a": "b c", "d": None}
    assert (
        utils.unquote_header_value('"\\\\\\\\server\\\\share"', is_filename=True) == "\\\\\\\\server\\\\share"
    )
    assert utils._parse_content_type_header("text/html; Charset='x'; q") == (
        "text/html",
        {"charset": "x", "q": True},
    )
    assert list(utils.iter_slices("abcde", 2)) == ["ab", "cd", "e"]
    assert utils.from_key_val_list([("a", 1)]) == {"a": 1}
    assert utils.to_key_val_list(None) is None
    assert utils.prepend_scheme_if_needed("example.com:80/x", "http") == "http://example.com:80/x"
    assert utils.urldefragauth("http://u:p@h.test/p?q#f") == "http://h.test/p?q"
    response = mock.Mock(encoding="utf-8")
    assert "".join(utils.stream_decode_response_unicode([b"\xc3", b"\xa9"], response)) == "é"
    utils.check_header_validity(("X-Name", "value"))
    for header in ((" X", "v"), ("X", " v"), ("X", "a\nb"), ("X:Y", "v"), ("X", 1)):
        with pytest.raises(brisk.exceptions.InvalidHeader):
            utils.check_header_validity(header)
    with utils.set_environ("BRISK_TEST_NAMES", "1"):
        import os

        assert os.environ["BRISK_TEST_NAMES"] == "1"
    assert "BRISK_TEST_NAMES" not in os.environ

    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("pkg/cacert-brisk-test.pem", b"PEM")
    extracted = utils.extract_zipped_paths(str(archive / "pkg" / "cacert-brisk-test.pem"))
    assert Path(extracted).read_bytes() == b"PEM"
    Path(extracted).unlink()
    assert utils.extract_zipped_paths(str(tmp_path / "absent")) == str(tmp_path / "absent")

    target = tmp_path / "file.bin"
    with utils.atomic_open(str(target)) as handle:
        handle.write(b"data")
    assert target.read_bytes() == b"data"
    with open(target, "rb") as binary:
        binary.read(1)
        assert utils.super_len(binary) == 3
    with open(target) as text, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert utils.super_len(text) == 4
    assert [w.category for w in caught] == [brisk.exceptions.FileModeWarning]


def test_help_reads_its_names_when_called() -> None:
    """requests' own tests patch ``requests.help.idna``."""
    from brisk import help as brisk_help

    with mock.patch.object(brisk_help, "idna", new=None):
        assert brisk_help.info()["idna"] == {"version": ""}
    with mock.patch.object(brisk_help, "idna", new=mock.Mock(__version__="2.6")):
        assert brisk_help.info()["idna"] == {"version": "2.6"}
    assert brisk_help.requests_version == "2.32.3"
    assert brisk_help._implementation()["name"] == sys.implementation.name.replace("cpython", "CPython")
