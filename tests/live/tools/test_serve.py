"""``brisk serve``, started as users start it (the installed script, in a subprocess), checked with the brisk
command and with curl, so the server is not only tested by the client it was written with."""

from __future__ import annotations

import json
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_cli import BRISK, brisk_env, error_of, ok_json, run

START_TIMEOUT = 30.0


class ServeProcess:
    """``brisk serve ARGS`` in a subprocess; its stdout lines arrive on a queue as they are printed."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [str(BRISK), "serve", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=brisk_env(),
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.put(raw.decode())
        self.lines.put(None)

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match[str]:
        """The first line matching ``pattern`` (printed once the server answers)."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"'brisk serve' printed no line matching {pattern!r}") from None
            if line is None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise AssertionError(f"'brisk serve' ended: {''.join(self.output)}{err}")
            self.output.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        """Stop the server with ``sig``; return its exit status, the rest of its stdout and its stderr."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=20)
        finally:
            self.process.kill()
        self._reader.join(10)
        rest = []
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                rest.append(line)
        assert self.process.stderr is not None
        err = self.process.stderr.read().decode()
        self.process.stderr.close()
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.process.returncode, "".join(rest), err


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """``brisk serve --port 0``: the base URL it printed."""
    server = ServeProcess("--port", "0")
    try:
        yield server.wait_for(r"brisk test server on (http://127\.0\.0\.1:\d+)").group(1)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served_tls() -> Iterator[tuple[str, str]]:
    """``brisk serve --port 0 --http2``: the base URL and the CA bundle it printed."""
    server = ServeProcess("--port", "0", "--http2")
    try:
        url = server.wait_for(r"brisk test server on (https://127\.0\.0\.1:\d+)").group(1)
        ca = server.wait_for(r"CA bundle: (\S+)").group(1)
        yield url, ca
    finally:
        server.stop()


def curl(*args: str) -> Any:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: the server is checked with brisk only")
    return subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", "20", *args],
        capture_output=True,
        timeout=30,
        check=False,
    )


# -- life cycle ----------------------------------------------------------------------------------------------


def test_serve_prints_its_url_and_stops_on_ctrl_c() -> None:
    server = ServeProcess("--port", "0")
    url = server.wait_for(r"on (http://127\.0\.0\.1:\d+)").group(1)
    server.wait_for("Ctrl-C stops it")
    assert ok_json(run(f"{url}/get"))["url"] == f"{url}/get"
    status, rest, err = server.stop(signal.SIGINT)
    assert status == 0
    assert rest == "stopped\n"
    assert "Traceback" not in err
    assert run("--retries", "0", f"{url}/get").returncode == 1  # nothing listens any more


def test_serve_stops_on_sigterm() -> None:
    server = ServeProcess("--port", "0")
    server.wait_for("Ctrl-C stops it")
    status, rest, _ = server.stop(signal.SIGTERM)
    assert (status, rest) == (0, "stopped\n")


def test_serve_on_a_chosen_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ServeProcess("--port", str(port))
    try:
        server.wait_for(rf"on http://127\.0\.0\.1:{port} ")
        assert ok_json(run(f"http://127.0.0.1:{port}/get"))["url"] == f"http://127.0.0.1:{port}/get"
    finally:
        server.stop()


def test_serve_on_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = subprocess.run(
            [str(BRISK), "serve", "--port", str(busy.getsockname()[1])],
            capture_output=True,
            env=brisk_env(),
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert "cannot serve on 127.0.0.1:" in error_of(result)


def test_serve_usage_errors() -> None:
    for args in (("--bogus",), ("--port", "70000"), ("--port", "x")):
        result = subprocess.run(
            [str(BRISK), "serve", *args], capture_output=True, env=brisk_env(), timeout=30, check=False
        )
        assert result.returncode == 2, args
        assert "(see 'brisk serve --help')" in error_of(result)


def test_serve_help() -> None:
    result = subprocess.run(
        [str(BRISK), "serve", "--help"], capture_output=True, env=brisk_env(), timeout=30, check=False
    )
    assert result.returncode == 0
    assert "/digest-auth" in result.stdout.decode()


# -- the endpoints, through the brisk command ----------------------------------------------------------------


def test_method_echoes(served: str) -> None:
    assert ok_json(run(f"{served}/get", "a==1"))["args"] == {"a": "1"}
    assert ok_json(run(f"{served}/post", "x:=1"))["json"] == {"x": 1}
    assert ok_json(run("PUT", f"{served}/put", "x=y"))["json"] == {"x": "y"}
    assert ok_json(run("PATCH", f"{served}/patch", "x=y"))["json"] == {"x": "y"}
    assert ok_json(run("DELETE", f"{served}/delete"))["url"] == f"{served}/delete"


def test_status_delay_and_redirects(served: str) -> None:
    assert run("--check-status", f"{served}/status/418").returncode == 4
    assert ok_json(run(f"{served}/delay/0.2"))["url"] == f"{served}/delay/0.2"
    assert ok_json(run("-F", f"{served}/redirect/3"))["url"] == f"{served}/get"


def test_cookies(served: str) -> None:
    assert ok_json(run("-F", f"{served}/cookies/set", "k==v"))["cookies"] == {"k": "v"}
    assert ok_json(run(f"{served}/cookies", "Cookie:a=1; b=2"))["cookies"] == {"a": "1", "b": "2"}


def test_authentication(served: str) -> None:
    assert ok_json(run("-a", "u:p", f"{served}/basic-auth/u/p"))["authenticated"] is True
    assert (
        ok_json(run("-A", "digest", "-a", "u:p", f"{served}/digest-auth/auth/u/p"))["authenticated"] is True
    )
    assert ok_json(run("--bearer", "tok", f"{served}/bearer"))["token"] == "tok"


def test_encodings(served: str) -> None:
    for path, flag in (("gzip", "gzipped"), ("deflate", "deflated"), ("brotli", "brotli"), ("zstd", "zstd")):
        assert ok_json(run(f"{served}/{path}"))[flag] is True


def test_bodies_and_streams(served: str, tmp_path: Path) -> None:
    assert len(run(f"{served}/bytes/1234").stdout) == 1234
    assert len(run(f"{served}/stream/4").stdout.decode().splitlines()) == 4
    assert run(f"{served}/drip", "duration==0.2", "numbytes==7").stdout == b"*" * 7
    events = run(f"{served}/sse", "count==2").stdout.decode()
    assert "data: event 1" in events
    assert "data: event 2" in events
    target = tmp_path / "range.bin"
    target.write_bytes(b"abcde")
    assert run("-o", str(target), "-c", f"{served}/range/30").returncode == 0
    assert target.read_bytes() == bytes(97 + i % 26 for i in range(30))


def test_https_and_http2_with_brisk(served_tls: tuple[str, str]) -> None:
    url, ca = served_tls
    assert Path(ca).is_file()
    head = run("--http2", "--verify", ca, "-p", "h", f"{url}/get").stdout.decode()
    assert head.startswith("HTTP/2 200 OK\n")
    assert ok_json(run("--verify", ca, f"{url}/get"))["url"] == f"{url}/get"
    assert run(f"{url}/get").returncode == 1  # the CA is not trusted unless given


# -- the same server, through curl ---------------------------------------------------------------------------


def test_curl_get_and_post(served: str) -> None:
    result = curl(f"{served}/get?x=1")
    assert json.loads(result.stdout)["args"] == {"x": "1"}
    posted = curl("-H", "Content-Type: application/json", "--data", '{"n": 2}', f"{served}/post")
    assert json.loads(posted.stdout)["json"] == {"n": 2}


def test_curl_status_and_redirects(served: str) -> None:
    assert curl("-o", "/dev/null", "-w", "%{http_code}", f"{served}/status/418").stdout == b"418"
    followed = curl("-L", "-o", "/dev/null", "-w", "%{http_code} %{num_redirects}", f"{served}/redirect/2")
    assert followed.stdout == b"200 2"


def test_curl_auth_and_cookies(served: str, tmp_path: Path) -> None:
    assert json.loads(curl("-u", "u:p", f"{served}/basic-auth/u/p").stdout)["authenticated"] is True
    digest = curl("--digest", "-u", "u:p", f"{served}/digest-auth/auth/u/p")
    assert json.loads(digest.stdout)["authenticated"] is True
    jar = tmp_path / "jar.txt"
    cookies = curl("-L", "-c", str(jar), "-b", str(jar), f"{served}/cookies/set?flavour=oat")
    assert json.loads(cookies.stdout)["cookies"] == {"flavour": "oat"}


def test_curl_encodings_and_range(served: str) -> None:
    for path in ("gzip", "deflate"):
        assert json.loads(curl("--compressed", f"{served}/{path}").stdout)["method"] == "GET"
    ranged = curl("-r", "3-6", "-w", " %{http_code}", f"{served}/range/26")
    assert ranged.stdout == b"defg 206"


def test_curl_https_http2(served_tls: tuple[str, str]) -> None:
    url, ca = served_tls
    result = curl("--cacert", ca, "--http2", "-o", "/dev/null", "-w", "%{http_version}", f"{url}/get")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"2"
