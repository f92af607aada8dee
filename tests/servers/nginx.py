"""nginx on loopback ports, as a second, independent server: HTTP/1.1, and HTTPS with HTTP/1.1 and HTTP/2.

Everything lives in a temporary directory: the generated configuration, the document root, the logs and
nginx's temp paths. nginx runs in the foreground without a master process (``daemon off``,
``master_process off``) and is terminated by :meth:`NginxServer.stop`. nginx cannot bind port 0, so free
ports are picked first and the start is retried if another program takes one in between.

Tests that need it skip with the install command when the ``nginx`` binary is missing.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.tls import CertBundle

__all__ = ["INSTALL_HINT", "NginxServer", "nginx"]

INSTALL_HINT = "nginx not installed: apt-get install nginx (the CI script .ci/run installs it)"

JSON_BODY = (json.dumps({"server": "nginx", "items": [1, 2, 3], "text": "ünïcode"}) + "\n").encode()
LARGE_SIZE = 2 * 1024 * 1024

_CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 128; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    types {{ text/html html; application/json json; application/octet-stream bin; text/plain txt; }}
    default_type application/octet-stream;
    keepalive_timeout 5s;
    gzip on;
    gzip_types application/json text/plain;
    gzip_min_length 1;
    server {{
        listen 127.0.0.1:{http_port};
        root {dir}/www;
    }}
    server {{
        listen 127.0.0.1:{https_port} ssl{listen_http2};
        {http2_directive}
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {dir}/www;
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def nginx_version(binary: str) -> tuple[int, ...]:
    result = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10, check=False)
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", result.stderr + result.stdout)
    return tuple(int(part) for part in found.groups()) if found else (0, 0, 0)


class NginxServer:
    """nginx serving ``/data.json`` (small, gzip-able), ``/large.bin`` (2 MiB) and ``/index.html``.

    ``http_url`` and ``https_url`` have no trailing slash; ``ca_bundle`` verifies the HTTPS certificate
    (issued for localhost, 127.0.0.1 and ::1); ``files`` maps each path to its exact bytes.
    """

    def __init__(self, binary: str, directory: Path, cert: CertBundle) -> None:
        self.binary = binary
        self.directory = directory
        self.cert = cert
        self.ca_bundle = str(cert.ca_bundle)
        self.http_port = self.https_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.files = {
            "/data.json": JSON_BODY,
            "/large.bin": random.Random(0).randbytes(LARGE_SIZE),
            "/index.html": b"<!DOCTYPE html>\n<title>nginx for brisk</title>\n<p>hello from nginx</p>\n",
        }

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _prepare(self) -> Path:
        www = self.directory / "www"
        www.mkdir(parents=True, exist_ok=True)
        (self.directory / "tmp").mkdir(exist_ok=True)
        for path, data in self.files.items():
            (www / path.lstrip("/")).write_bytes(data)
        modern = nginx_version(self.binary) >= (1, 25, 1)  # `http2 on;` replaced `listen ... http2`
        config = self.directory / "nginx.conf"
        config.write_text(
            _CONFIG.format(
                dir=self.directory,
                http_port=self.http_port,
                https_port=self.https_port,
                listen_http2="" if modern else " http2",
                http2_directive="http2 on;" if modern else "",
                cert=self.cert.cert_file,
                key=self.cert.key_file,
            )
        )
        return config

    def start(self, attempts: int = 3, timeout: float = 10.0) -> NginxServer:
        for _ in range(attempts):
            self.http_port, self.https_port = _free_port(), _free_port()
            config = self._prepare()
            command = [self.binary, "-p", str(self.directory), "-c", str(config), "-e", "stderr"]
            with open(self.directory / "stderr.log", "wb") as output:
                self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
            if self._wait_ready(timeout):
                return self
            self.stop()
            if "Address already in use" not in self._stderr():
                break
        raise RuntimeError(f"nginx did not start:\n{self._stderr()}\n{self.error_log}")

    def _stderr(self) -> str:
        return (self.directory / "stderr.log").read_text(errors="replace")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        pending = [self.http_port, self.https_port]
        while pending and time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", pending[0]), timeout=1.0):
                    pending.pop(0)
            except OSError:
                time.sleep(0.02)
        return not pending

    def stop(self, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def nginx(
    cert_bundles: dict[str, CertBundle], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxServer]:
    """nginx on loopback (HTTP, and HTTPS with h2); skips with the install command when nginx is missing."""
    binary = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).exists()), None
    )
    if binary is None:
        pytest.skip(INSTALL_HINT)
    with NginxServer(binary, tmp_path_factory.mktemp("nginx"), cert_bundles["good"]) as server:
        yield server
