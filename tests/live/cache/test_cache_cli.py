"""``brisk --cache[=PATH]``: a second run answers from the cache file, and ``--timing`` says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from brisk.testing.server import ServerThread

BRISK = Path(sys.executable).with_name("brisk")


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["XDG_CACHE_HOME"] = str(home)
    return subprocess.run(
        [str(BRISK), *args], capture_output=True, text=True, env=env, timeout=60, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_cache_default_file_and_timing(scripted_server: ServerThread, tmp_path: Path) -> None:
    app = scripted_server.app
    app.script("/c", (200, [("Cache-Control", "max-age=600")], b"cached text\n"))
    url = scripted_server.url + "/c"
    first = run("--cache", "--timing", "-q", url, home=tmp_path)
    second = run("--cache", "--timing", "-q", url, home=tmp_path)
    assert (first.returncode, second.returncode) == (0, 0)
    assert first.stdout == second.stdout == "cached text\n"
    assert first.stderr.startswith("timing (HTTP/1.1, new connection)")
    lines = second.stderr.splitlines()
    assert lines[0] == "timing (cache hit: served from the cache, no network I/O)"
    assert lines[1].split()[0] == "total"
    assert app.count("/c") == 1
    assert (tmp_path / "brisk" / "http-cache.sqlite").exists()


def test_cache_with_a_path(scripted_server: ServerThread, tmp_path: Path) -> None:
    app = scripted_server.app
    app.script("/p", (200, [("Cache-Control", "max-age=600")], b"x"))
    path = tmp_path / "mine.sqlite"
    for _ in range(2):
        assert run(f"--cache={path}", "-q", scripted_server.url + "/p", home=tmp_path).returncode == 0
    assert path.exists()
    assert app.count("/p") == 1
    assert "needs a value" in run("--cache=", scripted_server.url + "/p", home=tmp_path).stderr
