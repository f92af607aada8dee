"""Caddy on 127.0.0.1 serving static files over HTTPS with HTTP/1.1, HTTP/2 and HTTP/3 on one port (TCP and
UDP): the HTTP/3 bench's compiled server, as nginx is the rest of the suite's (Debian's nginx 1.22 has no
HTTP/3). Installed with apt-get when missing and we are root.

    with caddy.running(www_dir, cert, key) as server:   # server is None when Caddy is unavailable
        server.url("/small.json"), server.pid
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nginx import apt_install

__all__ = ["Caddy", "find_caddy", "running"]


def log(msg: str) -> None:
    print(f"[caddy] {msg}", file=sys.stderr, flush=True)


def find_caddy() -> str | None:
    """The caddy binary; installed with apt-get when missing and we are root, else None."""
    found = shutil.which("caddy")
    if found:
        return found
    return shutil.which("caddy") if apt_install("caddy", log) else None


def _free_port() -> int:
    """A port free for TCP and UDP both at this moment (Caddy takes it for both)."""
    while True:
        with socket.socket() as tcp, socket.socket(type=socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


_CONFIG = """{{
	admin off
	auto_https off
	log {{
		level ERROR
	}}
	servers {{
		protocols h1 h2 h3
	}}
}}
https://127.0.0.1:{port} {{
	bind 127.0.0.1
	tls {cert} {key}
	root * {www}
	file_server
}}
"""


@dataclass(frozen=True)
class Caddy:
    port: int
    pid: int
    version: str

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"


def _listening(port: int, process: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@contextmanager
def running(www: Path, cert: str, key: str) -> Iterator[Caddy | None]:
    binary = find_caddy()
    if binary is None:
        log("not found and not installable here (needs root and apt-get): skipped")
        yield None
        return
    version = subprocess.run([binary, "version"], capture_output=True, text=True, check=False).stdout.split()
    with tempfile.TemporaryDirectory(prefix="brisk-caddy-") as home:
        # Caddy keeps state under XDG_DATA_HOME / XDG_CONFIG_HOME: keep it in the temporary directory
        env = {**os.environ, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home, "HOME": home}
        for _attempt in range(3):  # the port can be taken between choosing and binding it
            port = _free_port()
            config = Path(home) / "Caddyfile"
            config.write_text(_CONFIG.format(port=port, cert=cert, key=key, www=www))
            command = [binary, "run", "--config", str(config), "--adapter", "caddyfile"]
            errors = Path(home) / "stderr.log"
            with errors.open("wb") as err:
                process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
            if _listening(port, process, time.monotonic() + 10):
                break
            process.kill()
            process.wait()
            log(f"did not start on port {port}: {errors.read_text(errors='replace').strip()[-300:]}")
        else:
            yield None
            return
        try:
            yield Caddy(port, process.pid, version[0] if version else "?")
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
