"""What a short program's first requests import: no ``typing`` (see ``brisk._core.typing_lite``).

A fresh process imports brisk and makes the calls of a small script over plain HTTP, on a server that
answers each with a Content-Length head: a GET that sets a cookie, a ``json=`` POST that sends it back, a
form POST, and ``.json()``. With the C accelerator such answers need no HTTP parser, so nothing on the way
loads typing. (Without it httptools parses each head, and httptools imports typing.)
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from brisk._protocol.accelerator import ACCELERATED
from servers.raw import RawConnection, http_response

SCRIPT = """
import sys, threading, socket  # what the standard modules a request needs load is theirs
before = sorted(sys.modules)
import brisk

url = sys.argv[1]
with brisk.Session() as s:
    assert s.get(url + "/login").status_code == 200
    assert s.post(url + "/items", json={"name": "a"}).json() == {"ok": True}
    assert s.post(url + "/form", data={"a": "b"}).json() == {"ok": True}
print(before)
print(sorted(sys.modules))
"""


def answering(conn: RawConnection) -> None:
    while (request := conn.recv_request()) is not None:
        if request.target == "/login":
            conn.send(http_response(200, b"{}", [("Set-Cookie", "token=abc; Path=/")]))
        else:
            assert request.header("cookie") == "token=abc"  # the cookie went back
            conn.send(http_response(200, b'{"ok": true}', [("Content-Type", "application/json")]))


@pytest.mark.skipif(
    not ACCELERATED, reason="without the C accelerator httptools parses heads (and loads typing)"
)
def test_a_short_script_loads_no_typing(raw_server) -> None:  # type: ignore[no-untyped-def]
    server = raw_server(answering)
    script = [sys.executable, "-c", SCRIPT, server.url.rstrip("/")]
    done = subprocess.run(script, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    before, after = map(ast.literal_eval, done.stdout.splitlines())
    watched = ["typing", "contextlib", "http.cookiejar", "ssl", "asyncio", "urllib.parse"]
    # nor brisk's own modules for what these calls do not use (urllib3's shape of response.raw, ...)
    lazy = ["brisk._response.raw", "brisk._auth.digest", "brisk._session.ratelimit", "brisk.status_codes"]
    preloaded = [m for m in watched if m in before]
    if preloaded:
        pytest.skip(f"this interpreter loads {preloaded} before any import (sitecustomize?): no comparison")
    assert [m for m in watched + lazy if m in after] == []
    assert "brisk._cookies.engine" in after  # the script ran them
    assert "brisk._transport.sync.h1" in after
    assert len(server.requests) == 3


GET_SCRIPT = """
import sys, threading, socket
before = sorted(sys.modules)
import brisk

url = sys.argv[1]
with brisk.Session() as s:
    assert s.get(url + "/login", params={"q": "a b", "n": 1}, headers={"Authorization": "Bearer t"}).ok
    assert s.get(url + "/a/../page", auth=("user", "pass")).text == "{}"
    assert s.post(url + "/upload", data=b"raw bytes").content == b"{}"
    assert s.post(url + "/form", data={"a": "b c"}).ok
    assert s.get(url + "/moved").url.endswith("/page?x=1")
print(before)
print(sorted(sys.modules))
"""


@pytest.mark.skipif(
    not ACCELERATED,
    reason="without the C accelerator the Python head parser reads the framing fields with re",
)
def test_gets_and_a_bytes_post_load_no_regular_expressions(raw_server) -> None:  # type: ignore[no-untyped-def]
    """URLs, query parameters and header fields are checked without ``re``, forms encoded without
    urllib.parse and basic auth without the base64 module (both load re): a script over plain HTTP that
    sends no JSON, with URLs that hold no %-escape, loads no re."""

    def answer(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            if request.target == "/moved":
                conn.send(http_response(302, b"", [("Location", "/page?x=1")]))
            else:
                conn.send(http_response(200, b"{}", [("Set-Cookie", "token=abc; Path=/")]))

    server = raw_server(answer)
    script = [sys.executable, "-c", GET_SCRIPT, server.url.rstrip("/")]
    done = subprocess.run(script, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    before, after = map(ast.literal_eval, done.stdout.splitlines())
    if "re" in before:
        pytest.skip("this interpreter loads re before any import (sitecustomize?): no comparison")
    assert [m for m in ("re", "urllib.parse", "json") if m in after] == []
    targets = ["/login?q=a+b&n=1", "/page", "/upload", "/form", "/moved", "/page?x=1"]
    assert [request.target for request in server.requests] == targets
    assert server.requests[1].header("authorization") == "Basic dXNlcjpwYXNz"
    assert server.requests[3].body == b"a=b+c"
