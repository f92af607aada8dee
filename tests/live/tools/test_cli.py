"""The ``brisk`` command, run as users run it: the installed console script in a subprocess, against the test
app served by hypercorn (``app_server``, ``tls_app_server``), plus in-process tests of its small parts."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk.cli._args import UsageError, normalise_url, split_command_line
from brisk.cli._items import ItemError, parse_items, split_item
from brisk.cli._output import Printer
from brisk.cli._timing import render_timings
from brisk.testing.server import ServerThread
from servers.raw import RawConnection, RawServerFactory, http_response

BRISK = Path(sys.executable).with_name("brisk")
# Settings of the environment that would change what the command does.
SCRUBBED = {
    "FORCE_COLOR",
    "NO_COLOR",
    "COLUMNS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NETRC",
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def brisk_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED and not k.lower().endswith("_proxy")}
    env.update(extra)
    return env


def run(
    *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None, timeout: float = 30
) -> Any:
    """Run the installed ``brisk`` script; stdout and stderr are pipes (so it is not on a terminal)."""
    return subprocess.run(
        [str(BRISK), *args],
        check=False,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        env=brisk_env(**(env or {})),
        timeout=timeout,
        start_new_session=True,  # no controlling terminal: a password prompt reads stdin
    )


def ok_json(result: Any) -> Any:
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def error_of(result: Any) -> str:
    """The one line on stderr of a failed run (and no traceback)."""
    err = result.stderr.decode()
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("brisk: error: "), err
    return lines[0]


def test_the_console_script_is_installed() -> None:
    assert BRISK.exists(), "install the project (pip install -e .) to get the brisk script"


# -- output --------------------------------------------------------------------------------------------------


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.decode() == f"brisk {brisk.__version__}\n"


def test_help_lists_items_options_and_exit_statuses() -> None:
    result = run("--help")
    assert result.returncode == 0
    text = result.stdout.decode()
    for expected in (
        "usage: brisk [METHOD] URL",
        "request items:",
        "--check-status",
        "exit status:",
        "6  timed",
    ):
        assert expected in text


def test_piped_output_is_the_body_as_sent(app_server: ServerThread) -> None:
    result = run(f"{app_server.url}/get")
    assert result.stderr == b""
    data = ok_json(result)
    assert data["url"] == f"{app_server.url}/get"
    assert b"\x1b[" not in result.stdout
    assert not result.stdout.startswith(b"HTTP/")


def test_piped_body_is_not_reformatted(app_server: ServerThread) -> None:
    direct = brisk.get(f"{app_server.url}/json", timeout=10).content
    assert run(f"{app_server.url}/json").stdout == direct


def test_content_codings_are_decoded(app_server: ServerThread) -> None:
    for path, flag in (("gzip", "gzipped"), ("deflate", "deflated"), ("brotli", "brotli"), ("zstd", "zstd")):
        assert ok_json(run(f"{app_server.url}/{path}"))[flag] is True


def test_a_streamed_body_arrives_whole(app_server: ServerThread) -> None:
    lines = run(f"{app_server.url}/stream/3").stdout.decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [0, 1, 2]


def test_forced_colour_pretty_prints_json(app_server: ServerThread) -> None:
    result = run(f"{app_server.url}/get", "a==1", env={"FORCE_COLOR": "1"})
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "\x1b[" in out
    plain = ANSI.sub("", out)
    assert plain.startswith('{\n    "args": {\n        "a": "1"\n    },')
    assert json.loads(plain)["args"] == {"a": "1"}


def test_forced_colour_heads(app_server: ServerThread) -> None:
    result = run("-p", "h", f"{app_server.url}/status/404", env={"FORCE_COLOR": "1"})
    out = result.stdout.decode()
    assert "\x1b[1;31m404 Not Found" in out  # red for a client error
    assert ANSI.sub("", out).startswith("HTTP/1.1 404 Not Found\n")


def test_pretty_when_piped_and_no_color(app_server: ServerThread) -> None:
    pretty = run("--pretty", f"{app_server.url}/get").stdout.decode()
    assert "\x1b[" in pretty
    assert json.loads(ANSI.sub("", pretty))["url"].endswith("/get")
    formatted = run("--pretty", f"{app_server.url}/get", env={"NO_COLOR": "1"}).stdout.decode()
    assert "\x1b[" not in formatted
    assert formatted.startswith('{\n    "args": {},\n')
    raw = run("--no-pretty", f"{app_server.url}/json", env={"FORCE_COLOR": "1"})
    assert raw.stdout == brisk.get(f"{app_server.url}/json", timeout=10).content


def test_verbose_prints_request_and_response(app_server: ServerThread) -> None:
    result = run("-v", f"{app_server.url}/post", "name=Ada", "X-Trace:42")
    assert result.returncode == 0
    out = result.stdout.decode()
    request_head, request_body, response_head, body = out.split("\n\n", 3)
    assert request_head.startswith("POST /post HTTP/1.1\nHost: 127.0.0.1:")
    assert "\nX-Trace: 42" in request_head
    assert "\nContent-Type: application/json" in request_head
    assert json.loads(request_body) == {"name": "Ada"}
    assert response_head.startswith("HTTP/1.1 200 OK\n")
    assert "content-type: application/json" in response_head.lower()
    assert json.loads(body)["json"] == {"name": "Ada"}


def test_print_selects_parts(app_server: ServerThread) -> None:
    head = run("--headers", f"{app_server.url}/get").stdout.decode()
    assert head.startswith("HTTP/1.1 200 OK\n")
    assert "{" not in head
    assert run("-p", "H", f"{app_server.url}/get").stdout.decode().startswith("GET /get HTTP/1.1\n")
    assert json.loads(run("-b", f"{app_server.url}/get").stdout)["url"].endswith("/get")
    assert error_of(run("-p", "x", f"{app_server.url}/get")).startswith("brisk: error: --print 'x'")


def test_head_request_prints_no_body(app_server: ServerThread) -> None:
    result = run("HEAD", f"{app_server.url}/get", "-p", "hb")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("HTTP/1.1 200 OK\n")
    assert "{" not in result.stdout.decode()


def test_piped_output_is_not_imported_rich_or_argparse(app_server: ServerThread) -> None:
    """Start-up cost: a piped GET loads neither rich nor argparse (nor shutil, which argparse pulls in), nor
    json (whose import compiles five regular expressions), nor the cookie engine while no cookie is set, nor
    zlib for a body that is not compressed, nor urllib.parse, ipaddress or base64 (a proxy's needs)."""
    code = (
        "import sys\nfrom brisk.cli import main\n"
        f"status = main([{app_server.url + '/get'!r}])\n"
        "names = ('rich', 'argparse', 'shutil', 'getpass', 'http.cookiejar', 'json',\n"
        "         'brisk.cookies', 'zlib', 'urllib.parse', 'ipaddress', 'base64')\n"
        "heavy = sorted(m for m in names if m in sys.modules)\n"
        "sys.stderr.write(repr((status, heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=brisk_env(), timeout=30, check=False
    )
    assert result.stderr.decode() == "(0, [])"


def test_a_get_compiles_no_source_at_run_time(app_server: ServerThread) -> None:
    """Start-up cost: the first compile() of a string in a process sets up the ast module's types (about
    3 ms). typing calls it for every string annotation it evaluates (a class-syntax NamedTuple in a module
    with ``from __future__ import annotations``, a TypeVar with a string bound), so nothing on the path of
    ``import brisk`` and a GET may do that. (Module sources compiled by the import system are bytes.)"""
    code = (
        "import builtins, sys\n"
        "real, seen = builtins.compile, []\n"
        "def watch(source, *args, **kwargs):\n"
        "    if isinstance(source, str):\n"
        "        seen.append(source)\n"
        "    return real(source, *args, **kwargs)\n"
        "builtins.compile = watch\n"
        "from brisk.cli import main\n"
        f"status = main([{app_server.url + '/get'!r}])\n"
        "sys.stderr.write(repr((status, seen)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=brisk_env(), timeout=30, check=False
    )
    assert result.stderr.decode() == "(0, [])"


def on_terminal(
    *args: str, stream: str = "stdout", rows_cols: tuple[int, int] = (40, 120)
) -> tuple[int, str]:
    """Run the script with ``stream`` (stdout or stderr) on a pseudo-terminal; return the status and what
    the terminal received."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *rows_cols, 0, 0))
    other = subprocess.DEVNULL
    with subprocess.Popen(
        [str(BRISK), *args],
        stdin=subprocess.DEVNULL,
        stdout=slave if stream == "stdout" else other,
        stderr=slave if stream == "stderr" else other,
        env=brisk_env(TERM="xterm-256color"),
    ) as process:
        os.close(slave)
        received = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not data:
                break
            received += data
        process.wait(timeout=30)
    os.close(master)
    return process.returncode, received.decode("utf-8", "replace")


def test_a_terminal_gets_heads_colour_and_indented_json(app_server: ServerThread) -> None:
    status, shown = on_terminal(f"{app_server.url}/get", "x==1")
    assert status == 0
    assert "\x1b[" in shown
    plain = ANSI.sub("", shown).replace("\r\n", "\n")
    head, body = plain.split("\n\n", 1)
    assert head.startswith("HTTP/1.1 200 OK\n")
    assert json.loads(body)["args"] == {"x": "1"}
    assert body.startswith('{\n    "args": {\n')


def test_a_terminal_is_spared_binary_bodies(app_server: ServerThread) -> None:
    _, shown = on_terminal("-b", f"{app_server.url}/bytes/64?seed=1")
    assert "binary data not shown on a terminal" in shown


def test_download_progress_on_a_terminal(app_server: ServerThread, tmp_path: Path) -> None:
    target = tmp_path / "drip.bin"
    status, shown = on_terminal(
        "-o", str(target), f"{app_server.url}/drip?duration=0.5&numbytes=40000", stream="stderr"
    )
    assert status == 0
    assert target.read_bytes() == b"*" * 40000
    assert "40.0" in shown  # the bar's byte count reached the total
    assert f"saved 40.0 kB to {target}" in shown


# -- request items -------------------------------------------------------------------------------------------


def test_query_items(app_server: ServerThread) -> None:
    data = ok_json(run(f"{app_server.url}/get", "q==brisk", "tag==a", "tag==b", "sp==a b"))
    assert data["args"] == {"q": "brisk", "tag": ["a", "b"], "sp": "a b"}


def test_header_items(app_server: ServerThread) -> None:
    raw = ok_json(
        run(f"{app_server.url}/echo-raw-headers", "X-One:1", "X-Two: two words ", "User-Agent:", "X-Empty;")
    )
    headers = {name.lower(): value for name, value in raw}
    assert headers["x-one"] == "1"
    assert headers["x-two"] == "two words"
    assert headers["x-empty"] == ""
    assert "user-agent" not in headers


def test_json_items_and_default_post(app_server: ServerThread) -> None:
    data = ok_json(
        run(f"{app_server.url}/post", "name=Ada", "age:=36", 'tags:=["a","b"]', "ok:=true", "none:=null")
    )
    assert data["json"] == {"name": "Ada", "age": 36, "tags": ["a", "b"], "ok": True, "none": None}
    assert data["headers"]["Content-Type"] == "application/json"


def test_form_items(app_server: ServerThread) -> None:
    data = ok_json(run("--form", f"{app_server.url}/post", "name=Ada Lovelace", "lang=en"))
    assert data["form"] == {"name": "Ada Lovelace", "lang": "en"}
    assert data["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_file_upload_makes_multipart(app_server: ServerThread, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("quarterly numbers\n")
    data = ok_json(run(f"{app_server.url}/post", "note=hello", f"report@{report}"))
    assert data["files"] == {"report": "quarterly numbers\n"}
    assert data["form"] == {"note": "hello"}
    assert data["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


def test_file_upload_with_content_type(raw_server: RawServerFactory, tmp_path: Path) -> None:
    blob = tmp_path / "pixel.png"
    blob.write_bytes(b"\x89PNG\x00\x01")

    def keep(conn: RawConnection) -> None:
        if conn.recv_request() is not None:
            conn.send(http_response(200, b"ok"))

    server = raw_server(keep)
    assert run(f"{server.url}/upload", f"pic@{blob};type=image/x-test").returncode == 0
    body = server.requests[0].body
    assert b'Content-Disposition: form-data; name="pic"; filename="pixel.png"' in body
    assert b"Content-Type: image/x-test\r\n\r\n\x89PNG\x00\x01\r\n" in body


def test_fields_from_files(app_server: ServerThread, tmp_path: Path) -> None:
    (tmp_path / "bio.txt").write_text("likes engines")
    (tmp_path / "user.json").write_text('{"id": 7, "roles": ["admin"]}')
    data = ok_json(
        run(f"{app_server.url}/post", f"bio=@{tmp_path / 'bio.txt'}", f"user:=@{tmp_path / 'user.json'}")
    )
    assert data["json"] == {"bio": "likes engines", "user": {"id": 7, "roles": ["admin"]}}


def test_escaped_separator_in_a_key(app_server: ServerThread) -> None:
    assert ok_json(run(f"{app_server.url}/post", "a\\:b=c", "url\\==x"))["json"] == {"a:b": "c", "url=": "x"}


def test_methods(app_server: ServerThread) -> None:
    assert ok_json(run("PUT", f"{app_server.url}/put", "x=1"))["json"] == {"x": "1"}
    assert ok_json(run("delete", f"{app_server.url}/delete"))["url"].endswith("/delete")
    assert ok_json(run("PURGE", f"{app_server.url}/anything"))["method"] == "PURGE"
    assert ok_json(run("GET", f"{app_server.url}/anything", "x=1"))["method"] == "GET"


def test_item_errors_are_usage_errors(app_server: ServerThread, tmp_path: Path) -> None:
    cases = {
        ("--form", "n:=1"): "raw JSON fields (:=) need a JSON body",
        ("n:=1x",): "'n:=1x': the value is not valid JSON",
        (f"f@{tmp_path / 'missing'}",): "cannot read",
        ("n:=1", f"f@{__file__}"): "cannot go into a multipart upload",
        ("justaword",): "'justaword' is not a request item",
    }
    for items, expected in cases.items():
        result = run(f"{app_server.url}/post", *items)
        assert result.returncode == 2, items
        assert expected in error_of(result)


def test_url_without_scheme(app_server: ServerThread) -> None:
    assert ok_json(run(f"127.0.0.1:{app_server.port}/get"))["url"] == f"{app_server.url}/get"


# -- redirects, auth, status ---------------------------------------------------------------------------------


def test_redirects_are_not_followed_unless_asked(app_server: ServerThread) -> None:
    result = run("-p", "h", f"{app_server.url}/redirect/2")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("HTTP/1.1 302 Found\n")
    assert ok_json(run("--follow", f"{app_server.url}/redirect/2"))["url"] == f"{app_server.url}/get"


def test_verbose_follow_shows_every_hop(app_server: ServerThread) -> None:
    out = run("-v", "-F", f"{app_server.url}/redirect/2").stdout.decode()
    assert re.findall(r"^GET (\S+) HTTP/1.1$", out, re.M) == ["/redirect/2", "/relative-redirect/1", "/get"]
    assert re.findall(r"^HTTP/1.1 (\d+)", out, re.M) == ["302", "302", "200"]


def test_cookies_follow_the_redirect(app_server: ServerThread) -> None:
    assert ok_json(run("-F", f"{app_server.url}/cookies/set", "flavour==oat"))["cookies"] == {
        "flavour": "oat"
    }


def test_too_many_redirects(app_server: ServerThread) -> None:
    result = run("-F", "--max-redirects", "1", f"{app_server.url}/redirect/3")
    assert result.returncode == 7
    assert "Exceeded 1 redirects" in error_of(result)


@pytest.mark.parametrize(
    ("path", "options", "status", "warning"),
    [
        ("/status/200", (), 0, None),
        ("/status/404", (), 4, "HTTP 404 Not Found"),
        ("/status/500", (), 5, "HTTP 500 Internal Server Error"),
        ("/redirect/1", (), 3, "HTTP 302 Found"),
        ("/redirect/1", ("--follow",), 0, None),
        ("/status/404", ("-p", "h"), 4, None),  # the head is on stdout already: no warning
    ],
)
def test_check_status(
    app_server: ServerThread, path: str, options: tuple[str, ...], status: int, warning: str | None
) -> None:
    result = run("--check-status", *options, f"{app_server.url}{path}")
    assert result.returncode == status
    if warning is None:
        assert result.stderr == b""
    else:
        assert result.stderr.decode() == f"brisk: warning: {warning} ({app_server.url}{path})\n"


def test_status_is_not_an_error_without_check_status(app_server: ServerThread) -> None:
    assert run(f"{app_server.url}/status/503").returncode == 0


def test_basic_and_digest_auth(app_server: ServerThread) -> None:
    assert ok_json(run("--auth", "ada:s3cret", f"{app_server.url}/basic-auth/ada/s3cret"))["authenticated"]
    assert run("--check-status", "-a", "ada:wrong", f"{app_server.url}/basic-auth/ada/s3cret").returncode == 4
    digest = run("-A", "digest", "-a", "ada:s3cret", f"{app_server.url}/digest-auth/auth/ada/s3cret")
    assert ok_json(digest) == {"authenticated": True, "user": "ada"}


def test_auth_asks_for_the_password(app_server: ServerThread) -> None:
    result = run("-a", "ada", f"{app_server.url}/basic-auth/ada/s3cret", stdin=b"s3cret\n")
    assert json.loads(result.stdout)["authenticated"] is True
    assert run("-a", "ada", f"{app_server.url}/basic-auth/ada/s3cret", stdin=b"").returncode == 2


def test_bearer(app_server: ServerThread) -> None:
    assert ok_json(run("--bearer", "t0ken", f"{app_server.url}/bearer")) == {
        "authenticated": True,
        "token": "t0ken",
    }


# -- TLS, HTTP/2, proxies ------------------------------------------------------------------------------------


def test_tls_verification(tls_app_server: ServerThread) -> None:
    assert tls_app_server.ca_bundle is not None
    url = f"{tls_app_server.url}/get"
    assert ok_json(run("--verify", tls_app_server.ca_bundle, url))["url"] == url
    failed = run(url)
    assert failed.returncode == 1
    assert "certificate" in error_of(failed)
    assert ok_json(run("--insecure", url))["url"] == url
    missing = run("--verify", "/nonexistent/ca.pem", url)
    assert missing.returncode == 2
    assert "no CA bundle" in error_of(missing)


def test_http2_and_http1(tls_app_server: ServerThread) -> None:
    assert tls_app_server.ca_bundle is not None
    url = f"{tls_app_server.url}/get"
    h2 = run("--http2", "--verify", tls_app_server.ca_bundle, "-p", "h", url).stdout.decode()
    assert h2.startswith("HTTP/2 200 OK\n")
    h1 = run("--http1", "--verify", tls_app_server.ca_bundle, "-p", "h", url).stdout.decode()
    assert h1.startswith("HTTP/1.1 200 OK\n")


def test_http2_prior_knowledge(app_server: ServerThread) -> None:
    plain = f"{app_server.url}/get"
    assert run("-p", "h", plain).stdout.decode().startswith("HTTP/1.1 200 OK\n")
    h2c = run("--http2-prior-knowledge", "-p", "h", plain).stdout.decode()
    assert h2c.startswith("HTTP/2 200 OK\n")


def test_proxy(raw_server: RawServerFactory) -> None:
    def proxy(conn: RawConnection) -> None:
        request = conn.recv_request()
        assert request is not None
        conn.send(http_response(200, f"via proxy: {request.target}".encode()))

    server = raw_server(proxy)
    for option in (f"http:{server.url}", server.url):
        result = run("--proxy", option, "--retries", "0", "http://service.invalid/items")
        assert result.stdout == b"via proxy: http://service.invalid/items", result.stderr
    assert run("--proxy", "nonsense", "http://service.invalid/").returncode == 2


# -- errors --------------------------------------------------------------------------------------------------


def test_connection_refused(unused_port: int) -> None:
    result = run("--retries", "0", f"http://127.0.0.1:{unused_port}/get")
    assert result.returncode == 1
    line = error_of(result)
    assert "refused" in line
    assert f"127.0.0.1:{unused_port}" in line
    assert result.stdout == b""


def test_timeout(app_server: ServerThread) -> None:
    result = run("--timeout", "0.5", f"{app_server.url}/delay/5")
    assert result.returncode == 6
    assert "timed out" in error_of(result)


@pytest.mark.parametrize("url", ["http://exa mple.com/", "http://[::1/", "ftp://example.com/"])
def test_bad_url(url: str) -> None:
    result = run(url)
    assert result.returncode == 2
    assert repr(url) in error_of(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "the URL is missing"),
        (("--frobnicate", "x"), "unknown option --frobnicate"),
        (("-Z", "x"), "unknown option -Z"),
        (("--timeout",), "--timeout needs a value"),
        (("--timeout", "soon", "x"), "is not a number"),
        (("--timeout", "0", "x"), "positive number"),
        (("-A", "ntlm", "x"), "not one of basic, digest"),
        (("--continue", "x"), "--continue needs -o"),
        (("--auth", "a:b", "--bearer", "t", "x"), "not both"),
        (("--follow=yes", "x"), "--follow takes no value"),
        (("-k", "--verify", "/ca.pem", "x"), "contradict"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in error_of(result)


def test_interrupt_exits_130(raw_server: RawServerFactory) -> None:
    waiting = threading.Event()

    def stall(conn: RawConnection) -> None:
        conn.recv_request()
        waiting.set()
        conn.sleep(10)

    server = raw_server(stall)
    process = subprocess.Popen(
        [str(BRISK), f"{server.url}/slow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=brisk_env(),
        start_new_session=True,
    )
    try:
        assert waiting.wait(20), "the request never arrived"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 130
    assert b"Traceback" not in err


def test_closed_pipe_is_quiet(app_server: ServerThread) -> None:
    with subprocess.Popen(
        [str(BRISK), f"{app_server.url}/stream-bytes/1000000?chunk_size=65536"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=brisk_env(),
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert len(process.stdout.read(100)) == 100
        process.stdout.close()  # like `brisk URL | head -c 100`
        err = process.stderr.read()
        process.wait(timeout=20)
    assert process.returncode == 0
    assert err == b""


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "unbuffered"])
def test_a_full_disk_is_one_error_line(app_server: ServerThread, unbuffered: str) -> None:
    """Buffered stdout (as people run it) keeps what it could not write: the flush at exit must not report
    the failure a second time. PYTHONUNBUFFERED, set on some machines, hides that case."""
    env = brisk_env()
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [str(BRISK), f"{app_server.url}/get"],
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert "No space left on device" in error_of(result)


def test_python_m_brisk_cli_is_the_command(app_server: ServerThread) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "brisk.cli", f"{app_server.url}/get", "x==1"],
        capture_output=True,
        env=brisk_env(),
        timeout=30,
        check=False,
    )
    assert ok_json(result)["args"] == {"x": "1"}


def test_the_quick_exit_runs_atexit_handlers_and_flushes(app_server: ServerThread) -> None:
    """``console()`` leaves with ``os._exit``: handlers registered with atexit still run, and text still in
    the stdout buffer (written without a flush) still arrives; the interpreter's teardown, which would
    finalise the object left in ``__main__``, does not run."""
    code = (
        "import atexit, sys\n"
        "from brisk import cli\n"
        "class Teardown:\n"
        "    def __del__(self):\n"
        "        sys.stderr.write(' and the teardown ran')\n"
        "left_in_main = Teardown()\n"
        "atexit.register(lambda: sys.stderr.write('atexit ran'))\n"
        "main = cli.main\n"
        "def noisy(argv=None):\n"
        "    status = main(argv)\n"
        "    sys.stdout.write('unflushed tail')\n"
        "    return status\n"
        "cli.main = noisy\n"
        f"sys.argv = ['brisk', {app_server.url + '/status/418'!r}]\n"
        "cli.console()\n"
        "sys.stderr.write('not reached')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=brisk_env(), timeout=30, check=False
    )
    assert result.returncode == 0  # 418 without --check-status is not an error
    assert result.stdout.decode().endswith("unflushed tail")
    assert result.stderr.decode() == "atexit ran"


def test_the_quick_exit_waits_for_a_thread_still_running(app_server: ServerThread) -> None:
    """With another thread alive, ``console()`` takes the normal exit, which lets that thread finish."""
    code = (
        "import sys, threading, time\n"
        "from brisk import cli\n"
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    sys.stderr.write('thread finished')\n"
        "    sys.stderr.flush()\n"
        "threading.Thread(target=late).start()\n"
        f"sys.argv = ['brisk', {app_server.url + '/status/418'!r}]\n"
        "cli.console()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=brisk_env(), timeout=30, check=False
    )
    assert result.returncode == 0
    assert result.stderr.decode() == "thread finished"


def test_the_quick_exit_reports_output_it_cannot_write(monkeypatch: pytest.MonkeyPatch) -> None:
    from brisk.cli import _flush_output

    class Full(io.StringIO):
        def flush(self) -> None:
            raise OSError(28, "No space left on device")

    class Gone(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    errors = io.StringIO()
    monkeypatch.setattr(sys, "stderr", errors)
    monkeypatch.setattr(sys, "stdout", Full())
    assert _flush_output(0) == 1
    assert _flush_output(4) == 4  # an earlier failure keeps its own status
    assert errors.getvalue().startswith("brisk: error: could not write the output: [Errno 28]")
    monkeypatch.setattr(sys, "stdout", Gone())
    assert _flush_output(0) == 0  # the reader went away (`brisk URL | head`): not an error


# -- downloads -----------------------------------------------------------------------------------------------


def alphabet(size: int) -> bytes:
    return bytes(97 + i % 26 for i in range(size))


def test_download(app_server: ServerThread, tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    result = run("-o", str(target), f"{app_server.url}/range/5000")
    assert result.returncode == 0
    assert result.stdout == b""
    assert result.stderr.decode() == f"saved 5.0 kB to {target}\n"
    assert target.read_bytes() == alphabet(5000)
    assert not (tmp_path / "data.bin.part").exists()


def test_download_into_a_directory(app_server: ServerThread, tmp_path: Path) -> None:
    assert run("-o", str(tmp_path), f"{app_server.url}/range/30").returncode == 0
    assert (tmp_path / "30").read_bytes() == alphabet(30)


def resumable(body: bytes, cut: int, stalled: threading.Event, etag: str = '"v1"') -> Any:
    """A server that sends ``cut`` bytes of ``body`` and stalls the first time, then serves the rest (206)
    to a request with ``Range: bytes=<cut>-`` and ``If-Range: <etag>``; the whole body (200) otherwise."""

    def handler(conn: RawConnection) -> None:
        request = conn.recv_request()
        if request is None:
            return
        size = len(body)
        common = f"ETag: {etag}\r\nAccept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\n"
        if request.header("range") is None and not stalled.is_set():
            conn.send(f"HTTP/1.1 200 OK\r\n{common}Content-Length: {size}\r\n\r\n".encode() + body[:cut])
            stalled.set()
            conn.sleep(10)  # until the client gives up
        elif request.header("range") == f"bytes={cut}-" and request.header("if-range") == etag:
            span = f"Content-Range: bytes {cut}-{size - 1}/{size}\r\n"
            head = f"HTTP/1.1 206 Partial Content\r\n{common}{span}Content-Length: {size - cut}\r\n\r\n"
            conn.send(head.encode() + body[cut:])
        else:
            conn.send(f"HTTP/1.1 200 OK\r\n{common}Content-Length: {size}\r\n\r\n".encode() + body)

    return handler


def interrupted_download(url: str, target: Path, stalled: threading.Event) -> Any:
    """Start ``brisk -o target url``, wait until the server stalls mid-body, press Ctrl-C."""
    with subprocess.Popen(
        [str(BRISK), "-o", str(target), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=brisk_env(),
        start_new_session=True,
    ) as process:
        try:
            assert stalled.wait(20), "the download never started"
            time.sleep(0.3)  # let the first bytes reach the part file
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=10)
        finally:
            process.kill()
    assert process.returncode == 130
    return err.decode()


def test_continue_resumes_an_interrupted_download(raw_server: RawServerFactory, tmp_path: Path) -> None:
    body = alphabet(10_000)
    stalled = threading.Event()
    server = raw_server(resumable(body, 4_000, stalled))
    target = tmp_path / "big.bin"
    err = interrupted_download(f"{server.url}/big.bin", target, stalled)
    assert "4.0 kB kept in" in err
    assert "--continue" in err
    assert not target.exists()
    assert (tmp_path / "big.bin.part").read_bytes() == body[:4_000]

    resumed = run("-o", str(target), "--continue", f"{server.url}/big.bin")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.decode() == f"saved 6.0 kB to {target} (resumed after 4.0 kB: 10.0 kB in all)\n"
    assert target.read_bytes() == body
    assert server.requests[-1].header("range") == "bytes=4000-"
    assert not (tmp_path / "big.bin.part").exists()


def test_without_continue_a_download_starts_over(raw_server: RawServerFactory, tmp_path: Path) -> None:
    body = alphabet(3_000)
    stalled = threading.Event()
    server = raw_server(resumable(body, 1_000, stalled))
    target = tmp_path / "f.bin"
    interrupted_download(f"{server.url}/f.bin", target, stalled)
    again = run("-o", str(target), f"{server.url}/f.bin")
    assert again.returncode == 0
    assert again.stderr.decode() == f"saved 3.0 kB to {target}\n"
    assert target.read_bytes() == body
    assert server.requests[-1].header("range") is None


def test_continue_starts_over_when_the_file_changed(raw_server: RawServerFactory, tmp_path: Path) -> None:
    body, changed = alphabet(3_000), alphabet(3_500)[::-1]
    stalled = threading.Event()
    first_attempt = resumable(body, 1_000, stalled)

    def handler(conn: RawConnection) -> None:
        if not stalled.is_set():
            first_attempt(conn)
        elif (request := conn.recv_request()) is not None:
            assert request.header("if-range") == '"v1"'
            # Another version now: If-Range does not match, so the whole new body comes back (200).
            conn.send(http_response(200, changed, [("ETag", '"v2"')]))

    server = raw_server(handler)
    target = tmp_path / "f.bin"
    interrupted_download(f"{server.url}/f.bin", target, stalled)
    result = run("-o", str(target), "-c", f"{server.url}/f.bin")
    assert result.returncode == 0
    assert "could not be resumed: downloaded from the start" in result.stderr.decode()
    assert target.read_bytes() == changed


def test_download_with_heads_and_quiet(app_server: ServerThread, tmp_path: Path) -> None:
    target = tmp_path / "r.bin"
    result = run("-q", "-p", "h", "-o", str(target), f"{app_server.url}/range/26")
    assert result.returncode == 0
    assert result.stderr == b""
    assert result.stdout.decode().startswith("HTTP/1.1 200 OK\n")
    assert target.read_bytes() == alphabet(26)


def test_download_of_an_error_saves_nothing(app_server: ServerThread, tmp_path: Path) -> None:
    target = tmp_path / "missing.bin"
    result = run("-o", str(target), f"{app_server.url}/status/404")
    assert result.returncode == 4
    assert "HTTP 404 Not Found: nothing saved" in error_of(result)
    redirected = run("-o", str(target), f"{app_server.url}/redirect/1")
    assert redirected.returncode == 3
    assert not target.exists()
    followed = run("-F", "-o", str(target), f"{app_server.url}/redirect/1")
    assert followed.returncode == 0
    assert json.loads(target.read_bytes())["url"] == f"{app_server.url}/get"


def test_output_of_another_method(app_server: ServerThread, tmp_path: Path) -> None:
    target = tmp_path / "answer.json"
    result = run("POST", "-o", str(target), f"{app_server.url}/post", "a=1")
    assert result.returncode == 0
    assert json.loads(target.read_bytes())["json"] == {"a": "1"}
    refused = run("POST", "-c", "-o", str(target), f"{app_server.url}/post", "a=1")
    assert refused.returncode == 2
    assert "--continue resumes GET downloads only" in error_of(refused)


# -- timing --------------------------------------------------------------------------------------------------


def test_timing(app_server: ServerThread) -> None:
    result = run("--timing", f"{app_server.url}/get")
    assert result.returncode == 0
    assert json.loads(result.stdout)["url"].endswith("/get")
    lines = result.stderr.decode().splitlines()
    assert lines[0] == "timing (HTTP/1.1, new connection)"
    names = [line.split()[0] for line in lines[1:]]
    assert names == ["dns", "connect", "tls", "send", "first", "download", "total"]
    assert all(re.search(r"\d+\.\d ms", line) for line in lines[1:])
    assert all("▕" in line and line.endswith("▏") for line in lines[1:-1])


def test_timing_over_tls_without_body_output(tls_app_server: ServerThread) -> None:
    assert tls_app_server.ca_bundle is not None
    result = run("--timing", "-p", "h", "--verify", tls_app_server.ca_bundle, f"{tls_app_server.url}/get")
    stderr = result.stderr.decode()
    tls_line = next(line for line in stderr.splitlines() if line.strip().startswith("tls"))
    assert float(tls_line.split()[1]) > 0  # a handshake took place
    total = float(stderr.splitlines()[-1].split()[1])
    assert total > 0


# -- the parts, in process -----------------------------------------------------------------------------------


def test_split_item() -> None:
    assert split_item("a:=1") == ("a", ":=", "1")
    assert split_item("q==x=y") == ("q", "==", "x=y")
    assert split_item("Referer:http://x/?a=b") == ("Referer", ":", "http://x/?a=b")
    assert split_item("f@a=b.txt") == ("f", "@", "a=b.txt")
    assert split_item("a\\=b=c") == ("a=b", "=", "c")
    assert split_item("u:=@x.json") == ("u", ":=@", "x.json")
    assert split_item("plain") is None


def test_parse_items_sorting() -> None:
    items = parse_items(["q==1", "H:v", "n=x", "m:=2", "E;"])
    assert items.params == [("q", "1")]
    assert items.headers == [("H", "v"), ("E", "")]
    assert items.fields == [("n", "x"), ("m", 2)]
    assert items.body_arguments(form=False) == {"json": {"n": "x", "m": 2}}
    with pytest.raises(ItemError):
        parse_items(["E;value"])


def test_normalise_url() -> None:
    assert normalise_url(":8000/get") == "http://localhost:8000/get"
    assert normalise_url(":/x") == "http://localhost/x"
    assert normalise_url("example.org") == "http://example.org"
    assert normalise_url("https://example.org") == "https://example.org"


def test_split_command_line() -> None:
    values, parts = split_command_line(["-vF", "--timeout=2.5", "URL", "-oout.bin", "a=1", "--", "-x=y"])
    assert (values["verbose"], values["follow"], values["timeout"], values["output"]) == (
        True,
        True,
        2.5,
        "out.bin",
    )
    assert parts == ["URL", "a=1", "-x=y"]
    with pytest.raises(UsageError):
        split_command_line(["-vZ"])


def test_binary_body_on_a_terminal_is_not_printed() -> None:
    out = io.BytesIO()
    printer = Printer(colour=False, format_json=True, tty=True, out=out)
    printer.response_body(brisk.Response(200, content=b"\x89PNG\x00\x00"))
    assert out.getvalue() == b"[binary data not shown on a terminal: use -o FILE or a pipe]\n"


def test_render_timings() -> None:
    from brisk._transport.base import Timings

    t = Timings(0.0)
    t.dns, t.connect, t.tls = 0.001, 0.002, 0.003
    t.request_sent, t.first_byte, t.total = 0.0065, 0.0100, 0.0200
    text = render_timings(t, "HTTP/2", hops=2)
    lines = text.splitlines()
    assert lines[0] == "timing (HTTP/2, new connection, last of 2 responses)"
    bars = {line.split("▕")[0].split()[0]: line.split("▕")[1].rstrip("▏") for line in lines[1:-1]}
    assert bars["dns"] == "██" + " " * 38
    assert bars["download"] == " " * 20 + "█" * 20
    assert lines[-1].split() == ["total", "20.0", "ms"]
    assert "not available" in render_timings(None, "HTTP/1.1")
