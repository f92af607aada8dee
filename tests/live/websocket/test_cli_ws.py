"""``brisk ws URL``, run as a subprocess against the test app (hypercorn) on loopback."""

from __future__ import annotations

import os
import subprocess
import sys

import brisk


def run_ws(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.run(
        [sys.executable, "-m", "brisk.cli", "ws", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_lines_in_messages_out(app_server):
    url = app_server.url.replace("http://", "ws://") + "/ws/echo"
    result = run_ws(url, "--wait", "0.5", stdin=b"one\ntwo\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == ["one", "two"]


def test_server_close_code_sets_the_status(app_server):
    url = app_server.url.replace("http://", "ws://") + "/ws/close/4003"
    result = run_ws(url, stdin=b"")
    assert result.returncode == 1
    assert b"4003" in result.stderr


def test_refused_handshake_is_one_error_line(app_server):
    url = app_server.url.replace("http://", "ws://") + "/ws/nowhere"
    result = run_ws(url, stdin=b"")
    assert result.returncode == 1
    assert result.stderr.decode().startswith("brisk: error: the server refused the WebSocket handshake")
    assert result.stderr.count(b"\n") == 1


def test_serve_app_echo_endpoint_in_process(app_server):
    with brisk.Session() as s, s.websocket(app_server.url.replace("http", "ws") + "/ws/echo") as ws:
        ws.send(b"\x01\x02")
        assert ws.receive() == b"\x01\x02"
