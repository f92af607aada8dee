"""Code written for requests runs unchanged after ``import brisk as requests``.

The first half runs the examples every requests cheat-sheet shows, word for word, against the real httpbin
(the ``httpbin`` fixture serves it on 127.0.0.1). The second half checks the names such code relies on: the
exception tree with requests' multiple inheritance, the module paths it imports from, ``codes``,
``brisk.Timeout`` in both of its roles, and the exact exported surface of ``brisk``.
"""

from __future__ import annotations

import http.cookiejar
import json
import subprocess
import sys
from typing import Any

import pytest

import brisk
import brisk as requests
from brisk.testing.server import ServerThread
from servers.raw import canned, http_response

# ------------------------------------------------------------------------------------ cheat-sheet examples


def test_get_with_params_and_timeout(httpbin: ServerThread) -> None:
    response = requests.get(httpbin.url + "/get", params={"q": "python", "page": 2}, timeout=10)
    response.raise_for_status()
    data = response.json()
    assert response.status_code == 200
    assert response.status_code == requests.codes.ok
    assert response.headers["content-type"] == "application/json"
    assert data["args"] == {"q": "python", "page": "2"}
    assert data["url"] == httpbin.url + "/get?q=python&page=2"
    assert response.url == httpbin.url + "/get?q=python&page=2"
    assert response.encoding == "utf-8"
    assert response.text.startswith("{")


def test_post_json(httpbin: ServerThread) -> None:
    payload = {"name": "Alice", "age": 30, "tags": ["admin", "dev"]}
    response = requests.post(httpbin.url + "/post", json=payload, timeout=10)
    response.raise_for_status()
    data = response.json()
    assert data["json"] == payload
    assert data["headers"]["Content-Type"] == "application/json"
    assert json.loads(data["data"]) == payload


def test_post_form(httpbin: ServerThread) -> None:
    response = requests.post(
        httpbin.url + "/post", data={"username": "alice", "password": "s3cr3t"}, timeout=10
    )
    response.raise_for_status()
    data = response.json()
    assert data["form"] == {"username": "alice", "password": "s3cr3t"}
    assert data["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_session_headers_and_cookies(httpbin: ServerThread) -> None:
    with requests.Session() as session:
        session.headers.update({"Authorization": "Bearer my-token", "User-Agent": "my-app/1.0"})
        session.get(httpbin.url + "/cookies/set/sessioncookie/123456789", timeout=10)
        response = session.get(httpbin.url + "/cookies", timeout=10)
        assert response.json() == {"cookies": {"sessioncookie": "123456789"}}
        assert session.cookies.get("sessioncookie") == "123456789"
        assert session.cookies.get_dict() == {"sessioncookie": "123456789"}

        response = session.get(httpbin.url + "/bearer", timeout=10)
        assert response.json() == {"authenticated": True, "token": "my-token"}
        headers = session.get(httpbin.url + "/headers", timeout=10).json()["headers"]
        assert headers["User-Agent"] == "my-app/1.0"
        assert headers["Cookie"] == "sessioncookie=123456789"


def test_auth_examples(httpbin: ServerThread) -> None:
    from brisk.auth import HTTPBasicAuth, HTTPDigestAuth

    response = requests.get(httpbin.url + "/basic-auth/user/pass", auth=("user", "pass"), timeout=10)
    assert response.json() == {"authenticated": True, "user": "user"}
    response = requests.get(
        httpbin.url + "/basic-auth/user/pass", auth=HTTPBasicAuth("user", "pass"), timeout=10
    )
    assert response.status_code == 200
    response = requests.get(
        httpbin.url + "/digest-auth/auth/user/pass", auth=HTTPDigestAuth("user", "pass"), timeout=10
    )
    assert response.json() == {"authenticated": True, "user": "user"}
    assert requests.get(httpbin.url + "/basic-auth/user/pass", timeout=10).status_code == 401


def fetch(url: str, timeout: float) -> tuple[str, Any]:
    """The error-handling block of the cheat-sheets, unchanged."""
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
    except requests.exceptions.HTTPError as errh:
        return "http error", errh
    except requests.exceptions.Timeout as errt:
        return "timeout", errt
    except requests.exceptions.RequestException as err:
        return "request exception", err
    return "ok", response


def test_error_handling_block(httpbin: ServerThread, unused_port: int) -> None:
    kind, error = fetch(httpbin.url + "/status/500", timeout=5)
    assert kind == "http error"
    assert error.response.status_code == 500
    assert str(error).startswith("500 Server Error: ")
    assert str(error).endswith(f" for url: {httpbin.url}/status/500")

    kind, error = fetch(httpbin.url + "/delay/3", timeout=0.5)
    assert kind == "timeout"  # the 0.5 s read timeout fired; the answer after 3 s would have been "ok"
    assert isinstance(error, requests.exceptions.ReadTimeout)

    kind, error = fetch(f"http://127.0.0.1:{unused_port}/", timeout=5)
    assert kind == "request exception"
    assert isinstance(error, requests.exceptions.ConnectionError)
    assert f"127.0.0.1:{unused_port}" in str(error)
    assert error.request.url == f"http://127.0.0.1:{unused_port}/"

    kind, response = fetch(httpbin.url + "/get", timeout=5)
    assert kind == "ok"
    assert response.ok


def test_json_on_html_is_a_value_error_and_a_request_exception(httpbin: ServerThread) -> None:
    response = requests.get(httpbin.url + "/html", timeout=10)
    caught: BaseException | None = None
    try:
        response.json()
    except ValueError as error:  # what older cheat-sheets catch
        caught = error
    assert isinstance(caught, requests.exceptions.RequestException)
    assert isinstance(caught, requests.exceptions.JSONDecodeError)
    assert isinstance(caught, json.JSONDecodeError)
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_streaming_download_example(httpbin: ServerThread, tmp_path: Any) -> None:
    target = tmp_path / "download.bin"
    with requests.get(httpbin.url + "/bytes/20000?seed=4", stream=True, timeout=10) as r:
        r.raise_for_status()
        with target.open("wb") as f:
            for chunk in r.iter_content(chunk_size=8192):
                f.write(chunk)
    assert target.stat().st_size == 20000
    again = requests.get(httpbin.url + "/bytes/20000?seed=4", timeout=10).content
    assert target.read_bytes() == again


def test_retry_adapter_example(httpbin: ServerThread) -> None:
    from brisk.adapters import HTTPAdapter

    session = requests.Session()
    retries = requests.Retry(total=2, backoff_factor=0, status_forcelist=[500, 502, 503, 504])
    session.mount("http://", HTTPAdapter(max_retries=retries))
    session.mount("https://", HTTPAdapter(max_retries=retries))
    with session:
        assert session.get(httpbin.url + "/get", timeout=10).status_code == 200
        with pytest.raises(requests.exceptions.RetryError):
            session.get(httpbin.url + "/status/503", timeout=10)


# ------------------------------------------------------------------------------------ the exception tree


def test_exception_hierarchy() -> None:
    exc = requests.exceptions
    assert issubclass(exc.RequestException, OSError)
    assert issubclass(exc.RequestException, IOError)
    assert issubclass(exc.ConnectTimeout, exc.ConnectionError)
    assert issubclass(exc.ConnectTimeout, exc.Timeout)
    assert issubclass(exc.ReadTimeout, exc.Timeout)
    assert not issubclass(exc.ReadTimeout, exc.ConnectionError)
    for name in ("ProxyError", "SSLError"):
        assert issubclass(getattr(exc, name), exc.ConnectionError), name
    for name in ("MissingSchema", "InvalidSchema", "InvalidURL", "InvalidHeader"):
        assert issubclass(getattr(exc, name), ValueError), name
    assert issubclass(exc.InvalidProxyURL, exc.InvalidURL)
    assert issubclass(exc.JSONDecodeError, exc.InvalidJSONError)
    assert issubclass(exc.JSONDecodeError, json.JSONDecodeError)
    assert issubclass(exc.JSONDecodeError, ValueError)
    assert issubclass(exc.StreamConsumedError, TypeError)
    assert issubclass(exc.FileModeWarning, exc.RequestsWarning)
    assert issubclass(exc.FileModeWarning, DeprecationWarning)
    assert issubclass(exc.RequestsWarning, Warning)
    for name in (
        "HTTPError", "ConnectionError", "ProxyError", "SSLError", "Timeout", "ConnectTimeout",
        "ReadTimeout", "URLRequired", "TooManyRedirects", "MissingSchema", "InvalidSchema", "InvalidURL",
        "InvalidHeader", "InvalidProxyURL", "ChunkedEncodingError", "ContentDecodingError",
        "StreamConsumedError", "RetryError", "UnrewindableBodyError", "InvalidJSONError", "JSONDecodeError",
    ):  # fmt: skip
        assert issubclass(getattr(exc, name), exc.RequestException), name
    # brisk's finer classes sit below requests' names
    assert issubclass(exc.WriteTimeout, exc.Timeout)
    assert issubclass(exc.PoolTimeout, exc.Timeout)
    assert issubclass(exc.ConnectionRefused, exc.ConnectionError)
    assert issubclass(exc.NameResolutionError, exc.ConnectionError)
    assert issubclass(exc.RemoteProtocolError, exc.ConnectionError)
    assert issubclass(exc.IncompleteBody, exc.ChunkedEncodingError)
    assert issubclass(exc.DecompressionBombError, exc.ContentDecodingError)
    assert issubclass(exc.InvalidRedirect, exc.InvalidURL)
    # and the top-level names are the same classes
    for name in (
        "ConnectionError",
        "ConnectTimeout",
        "HTTPError",
        "JSONDecodeError",
        "ReadTimeout",
        "RequestException",
        "Timeout",
        "TooManyRedirects",
        "URLRequired",
        "FileModeWarning",
    ):
        assert getattr(requests, name) is getattr(exc, name), name
    assert requests.ConnectionError is not ConnectionError  # requests' own class, as in requests


def test_exceptions_carry_request_and_response() -> None:
    response = requests.Response(500, content=b"x", url="https://example.org/")
    error = requests.HTTPError("boom", response=response)
    assert error.response is response
    assert error.request is response.request
    assert requests.exceptions.RequestException().response is None
    request = requests.Request("GET", "https://example.org/").prepare()
    assert requests.exceptions.ConnectionError("x", request=request).request is request


def test_json_decode_error_pickles() -> None:
    import pickle

    error = requests.exceptions.JSONDecodeError("Expecting value", "<html>", 0)
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, requests.exceptions.JSONDecodeError)
    assert (copy.msg, copy.doc, copy.pos) == ("Expecting value", "<html>", 0)


# ------------------------------------------------------------------------------------------ module paths


def run_in_a_fresh_interpreter(code: str) -> None:
    """Run ``code`` in a new Python process (no module imported by other tests) and require success."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def test_module_paths_requests_code_imports() -> None:
    from brisk import adapters, auth, exceptions, models, sessions, status_codes, structures
    from brisk.adapters import BaseAdapter, HTTPAdapter
    from brisk.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth, HTTPProxyAuth
    from brisk.cookies import RequestsCookieJar, cookiejar_from_dict
    from brisk.exceptions import ConnectionError, HTTPError, RequestException, Timeout
    from brisk.models import PreparedRequest, Request, Response
    from brisk.sessions import Session
    from brisk.status_codes import codes
    from brisk.structures import CaseInsensitiveDict

    assert HTTPAdapter is adapters.HTTPAdapter
    assert issubclass(HTTPAdapter, BaseAdapter)
    assert issubclass(HTTPBasicAuth, AuthBase)
    assert issubclass(HTTPDigestAuth, auth.AuthBase)
    assert issubclass(HTTPProxyAuth, HTTPBasicAuth)
    assert exceptions.HTTPError is HTTPError is brisk.HTTPError
    assert issubclass(ConnectionError, RequestException)
    assert Timeout is brisk.Timeout
    assert (Request, Response, PreparedRequest) == (brisk.Request, brisk.Response, brisk.PreparedRequest)
    assert models.Response is Response
    assert Session is sessions.Session is brisk.Session
    assert codes is status_codes.codes is brisk.codes
    assert structures.CaseInsensitiveDict is CaseInsensitiveDict
    jar = cookiejar_from_dict({"a": "1"})
    assert isinstance(jar, RequestsCookieJar)
    assert jar["a"] == "1"


def test_submodules_reachable_as_attributes_after_plain_import() -> None:
    # `import requests` and then `requests.adapters.HTTPAdapter`, `requests.cookies.RequestsCookieJar`...
    # without importing the submodule: run in a fresh interpreter so no other test has imported them
    code = (
        "import brisk as requests\n"
        "requests.adapters.HTTPAdapter\n"
        "requests.auth.HTTPBasicAuth\n"
        "requests.exceptions.HTTPError\n"
        "requests.structures.CaseInsensitiveDict\n"
        "requests.status_codes.codes\n"
        "requests.models.Response\n"
        "requests.sessions.Session\n"
        "requests.hooks.default_hooks\n"
        "requests.cookies.RequestsCookieJar\n"
        "requests.compat.urljoin\n"
        "requests.packages.urllib3.disable_warnings\n"
        "import sys; assert 'brisk.compat' in sys.modules and 'urllib.request' in sys.modules\n"
    )
    run_in_a_fresh_interpreter(code)


def test_compat_module_of_old_requests_code() -> None:
    """``from requests.compat import urljoin, urlparse, ...``: the standard-library names requests kept."""
    from brisk import compat

    assert compat.urljoin("http://h/a/", "b?c=1") == "http://h/a/b?c=1"
    assert compat.urlparse("http://h:8/p").port == 8
    assert compat.quote("a b/") == "a%20b/"
    assert compat.JSONDecodeError is json.JSONDecodeError
    assert compat.cookielib.CookieJar is http.cookiejar.CookieJar
    assert compat.builtin_str is str
    assert compat.basestring == (str, bytes)
    assert compat.is_py3
    assert not compat.is_py2
    assert callable(compat.chardet.detect)
    assert set(compat.__all__) <= set(vars(compat))


def test_packages_urllib3_without_urllib3(client_factory: Any, raw_server: Any) -> None:
    """``requests.packages.urllib3``: urllib3 is not installed here, so the stand-in answers the lines old
    scripts contain; its Retry is brisk's and works when mounted as urllib3's would."""
    import importlib.util

    if importlib.util.find_spec("urllib3") is not None:
        pytest.skip("urllib3 is installed here: the stand-in is for environments without it")
    urllib3 = requests.packages.urllib3
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    urllib3.disable_warnings()
    assert issubclass(urllib3.exceptions.InsecureRequestWarning, Warning)
    from brisk.packages.urllib3.util.retry import Retry

    assert Retry is brisk.Retry
    server = raw_server(
        canned(http_response(503, b"busy"), http_response(503, b"busy"), http_response(200, b"fine"))
    )
    client = client_factory()
    retry = Retry(total=3, backoff_factor=0, status_forcelist=[503])
    client.session.mount("http://", requests.adapters.HTTPAdapter(max_retries=retry))
    response = client.get(server.url + "/x")
    assert response.content == b"fine"
    assert len(server.requests) == 3


def test_packages_urllib3_is_the_installed_urllib3() -> None:
    """Where urllib3 is installed, ``packages.urllib3`` is that package, submodules included (as in requests).
    Modules named urllib3 are put in sys.modules of a fresh interpreter before brisk is imported."""
    code = (
        "import sys, types\n"
        "for name in ('urllib3', 'urllib3.exceptions', 'urllib3.util', 'urllib3.util.retry'):\n"
        "    sys.modules[name] = types.ModuleType(name)\n"
        "import brisk\n"
        "from brisk.packages.urllib3.util import retry\n"
        "assert brisk.packages.urllib3 is sys.modules['urllib3']\n"
        "assert retry is sys.modules['urllib3.util.retry']\n"
    )
    run_in_a_fresh_interpreter(code)


def test_case_insensitive_dict() -> None:
    headers = requests.structures.CaseInsensitiveDict({"Content-Type": "text/plain"})
    headers["X-Thing"] = "1"
    assert headers["content-type"] == "text/plain"
    assert "x-thing" in headers
    assert list(headers) == ["Content-Type", "X-Thing"]
    assert headers == {"content-type": "text/plain", "x-thing": "1"}
    del headers["CONTENT-TYPE"]
    assert dict(headers) == {"X-Thing": "1"}
    copy = headers.copy()
    copy["x-thing"] = "2"
    assert headers["X-Thing"] == "1"
    assert dict(copy.lower_items()) == {"x-thing": "2"}


def test_status_codes() -> None:
    codes = requests.codes
    assert codes.ok == 200
    assert codes.OK == 200
    assert codes.created == 201
    assert codes.no_content == 204
    assert codes.moved_permanently == 301
    assert codes.found == 302
    assert codes.not_modified == 304
    assert codes.bad_request == 400
    assert codes.unauthorized == 401
    assert codes.forbidden == 403
    assert codes.not_found == 404
    assert codes.NOT_FOUND == 404
    assert codes.teapot == 418
    assert codes.im_a_teapot == 418
    assert codes.too_many_requests == 429
    assert codes.internal_server_error == 500
    assert codes.server_error == 500
    assert codes.service_unavailable == 503
    assert codes["not_found"] == 404
    assert codes.get("temporary_redirect") == 307
    assert codes["no_such_code"] is None  # requests' LookupDict: None for unknown keys ...
    with pytest.raises(AttributeError):
        codes.no_such_code  # noqa: B018 - ... but AttributeError for unknown attributes
    assert requests.status_codes.codes is codes


# ------------------------------------------------------------------------------- Timeout: both roles


def test_timeout_as_exception_base() -> None:
    for name in ("ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout"):
        cls = getattr(requests.exceptions, name)
        assert issubclass(cls, requests.Timeout)
        with pytest.raises(requests.Timeout, match=r"^timed out$"):
            raise cls("timed out")
    error = requests.Timeout("plain message")
    assert str(error) == "plain message"
    assert isinstance(error, requests.RequestException)


def test_timeout_as_setting(app_server: ServerThread) -> None:
    setting = brisk.Timeout(5, total=20)
    assert (setting.connect, setting.read, setting.write, setting.pool, setting.total) == (5, 5, 5, 5, 20)
    phases = brisk.Timeout(connect=3, read=60)
    assert (phases.connect, phases.read, phases.total) == (3, 60, None)
    assert brisk.Timeout(None).read is None
    response = brisk.get(app_server.url + "/get", timeout=brisk.Timeout(5, total=20))
    assert response.status_code == 200
    with brisk.Session(timeout=brisk.Timeout(5, read=0.3)) as session:
        with pytest.raises(brisk.ReadTimeout):
            session.get(app_server.url + "/delay/2")
        # a per-request timeout wins over the session's
        assert session.get(app_server.url + "/delay/0.5", timeout=(5, 5)).status_code == 200
    with pytest.raises(brisk.Timeout):
        brisk.get(app_server.url + "/delay/2", timeout=brisk.Timeout(5, total=0.3))
    with pytest.raises(brisk.Timeout):
        brisk.get(app_server.url + "/delay/2", timeout=(5, 0.3))


# -------------------------------------------------------------------------------------- exported names

EXPECTED_ALL = {
    "AsyncSession", "AsyncWebSocket", "AuthBase", "Cache", "ConnectTimeout", "ConnectionError",
    "ConnectionInfo", "DoHResolver", "DownloadError", "DownloadResult", "FileModeWarning", "HTTPBasicAuth",
    "HTTPBearerAuth", "HTTPDigestAuth", "HTTPError", "HTTPProxyAuth", "JSONDecodeError", "Limits",
    "PoolTimeout", "PreparedRequest", "RateLimit", "ReadTimeout", "Request", "RequestException", "Response",
    "Retry", "ServerSentEvent", "Session", "Timeout", "TooManyRedirects", "URLRequired", "WebSocket",
    "WebSocketClosed", "WebSocketError", "WebSocketHandshakeError", "WriteTimeout", "__version__", "codes",
    "delete", "download", "exceptions", "get", "head", "install_as_requests", "options", "patch", "post",
    "put", "request", "session", "status_codes", "uninstall_as_requests",
    "BulkBar", "BulkProgress", "BulkResult", "BulkSummary", "abulk", "bulk", "bulk_on_dask",
}  # fmt: skip

#: What ``import requests`` offers at top level that code written for requests uses.
REQUESTS_TOP_LEVEL = {
    "ConnectionError", "ConnectTimeout", "FileModeWarning", "HTTPError", "JSONDecodeError", "ReadTimeout",
    "RequestException", "Timeout", "TooManyRedirects", "URLRequired", "PreparedRequest", "Request",
    "Response", "Session", "session", "codes", "delete", "get", "head", "options", "patch", "post", "put",
    "request", "exceptions", "status_codes", "__version__",
}  # fmt: skip


def test_exported_names() -> None:
    assert len(brisk.__all__) == len(set(brisk.__all__)), "duplicates in __all__"
    assert set(brisk.__all__) == EXPECTED_ALL
    for name in brisk.__all__:
        assert hasattr(brisk, name), name
    assert set(brisk.__all__) >= REQUESTS_TOP_LEVEL
    namespace: dict[str, Any] = {}
    exec("from brisk import *", namespace)
    assert set(namespace) - {"__builtins__"} == EXPECTED_ALL
    assert isinstance(brisk.__version__, str)
    assert brisk.__version__


def test_dir_lists_the_names_loaded_on_first_use_before_they_are() -> None:
    """``dir(brisk)`` (completion, introspection) shows ``codes``, ``RateLimit``, ``HTTPDigestAuth``... as
    requests' dir does, without loading their modules."""
    probe = (
        "import sys, brisk, brisk.auth\n"
        "print(sorted(set(brisk.__all__) - set(dir(brisk))),"
        " sorted(set(brisk.auth.__all__) - set(dir(brisk.auth))))\n"
        "lazy = ('brisk.status_codes', 'brisk._auth.digest', 'brisk._session.ratelimit')\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[] []", "[]"]


def test_async_session_has_every_session_method() -> None:
    public = {name for name in dir(brisk.Session) if not name.startswith("_")}
    missing = public - set(dir(brisk.AsyncSession))
    assert not missing, f"AsyncSession lacks {sorted(missing)}"
