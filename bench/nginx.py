"""The local server: nginx on 127.0.0.1 with plain HTTP, HTTPS HTTP/1.1-only and HTTPS HTTP/2 listeners.

Everything it needs lives in bench/.run/: the static files (shared, written once) and, per run, a directory
of its own with the config, certificates, pid and logs, so that two runs at once do not clash. The TLS
certificate is issued by a throwaway CA made with trustme for 127.0.0.1 and localhost; every client is given
that CA and verifies the server, so no client pays less for TLS than another by skipping verification.
Uploads go to bench/sink.py instead: nginx answers a POST before it has read the body.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RUN = BENCH / ".run"
WWW = RUN / "www"
BIG_SIZE = 100 * 1024 * 1024
SMALL_DOC = {
    "id": 4711,
    "name": "brisk",
    "tags": ["http", "client", "fast"],
    "active": True,
    "score": 9.75,
    "owner": {"login": "bench", "url": "http://127.0.0.1/users/bench"},
}

CONFIG = """\
{user}worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    types {{ application/json json; application/octet-stream bin; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 3600s;
    client_max_body_size 0;
    client_body_temp_path {run}/tmp/body;
    proxy_temp_path {run}/tmp/proxy;
    fastcgi_temp_path {run}/tmp/fastcgi;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;
    ssl_certificate {run}/server.pem;
    ssl_certificate_key {run}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {{
        listen 127.0.0.1:{http};
        {locations}
    }}
    server {{
        listen 127.0.0.1:{https1} ssl;
        {locations}
    }}
    server {{
        {h2_listen}
        {locations}
    }}
}}
"""

LOCATIONS = """\
root {www};
        location = /post {{ default_type application/json; return 200 '{{"ok":true}}'; }}
        location = /cached.json {{ alias {www}/small.json; add_header Cache-Control "max-age=86400"; }}
        {status}"""


@dataclass(frozen=True)
class Server:
    """Where the running server answers."""

    http_port: int
    https1_port: int
    https2_port: int
    ca: Path
    version: str
    has_status: bool

    def url(self, kind: str, path: str) -> str:
        """`kind` is "http", "https" (HTTP/1.1 only) or "h2" (HTTPS offering h2 and http/1.1 via ALPN)."""
        port = {"http": self.http_port, "https": self.https1_port, "h2": self.https2_port}[kind]
        scheme = "http" if kind == "http" else "https"
        return f"{scheme}://127.0.0.1:{port}{path}"

    def accepted(self) -> int | None:
        """How many connections nginx has accepted so far (stub_status), to count a client's connections."""
        if not self.has_status:
            return None
        with socket.create_connection(("127.0.0.1", self.http_port)) as s:
            s.sendall(b"GET /nginx_status HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        # "... server accepts handled requests\n 12 12 34 \n..."
        return int(data.split(b"requests\n")[1].split()[0])


def log(msg: str) -> None:
    print(f"[nginx] {msg}", file=sys.stderr, flush=True)


def find_nginx() -> str | None:
    """The nginx binary; installed with apt-get when missing and we are root, else None."""
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if apt_install("nginx", log):
        return shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    return None


def apt_install(package: str, say: Callable[[str], None]) -> bool:
    """Install ``package`` with apt-get when we are root and apt-get exists; False when we cannot try."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    say(f"{package} is missing; installing it with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    apt = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
    subprocess.run(apt, env=env, check=False, stdout=subprocess.DEVNULL)
    return True


def nginx_build(binary: str) -> tuple[str, bool]:
    """nginx's version and whether it has the stub_status module."""
    out = subprocess.run([binary, "-V"], capture_output=True, text=True, check=False)
    match = re.search(r"nginx/(\d+\.\d+\.\d+)", out.stderr + out.stdout)
    return (match.group(1) if match else "0.0.0"), "http_stub_status_module" in out.stderr + out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_files() -> None:
    """The static files, written once: /small.json and /100mb.bin (kept between runs; replaced atomically
    so that a run going on at the same time never serves a half-written file)."""
    WWW.mkdir(parents=True, exist_ok=True)
    small = WWW / "small.json"
    doc = json.dumps(SMALL_DOC, separators=(",", ":"))
    if not small.exists() or small.read_text() != doc:
        tmp = WWW / f".small.{os.getpid()}"
        tmp.write_text(doc)
        os.replace(tmp, small)
    big = WWW / "100mb.bin"
    if not big.exists() or big.stat().st_size != BIG_SIZE:
        log("writing 100mb.bin (first run only)")
        tmp = WWW / f".100mb.{os.getpid()}"
        block = os.urandom(1024 * 1024)
        with open(tmp, "wb") as f:
            for _ in range(BIG_SIZE // len(block)):
                f.write(block)
        os.replace(tmp, big)


def make_certs(where: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1/localhost in `where`; returns the CA's PEM path."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(where / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(where / "server.pem"))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(where / "server.pem"), append=True)
    ca.cert_pem.write_to_path(str(where / "ca.pem"))
    return where / "ca.pem"


def _h2_listen(version: str, port: int) -> str:
    # `http2 on;` exists from nginx 1.25.1; older versions only know the listen parameter.
    if tuple(int(p) for p in version.split(".")) >= (1, 25, 1):
        return f"listen 127.0.0.1:{port} ssl; http2 on;"
    return f"listen 127.0.0.1:{port} ssl http2;"


def _wait_listening(proc: subprocess.Popen[bytes], ports: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            for port in ports:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running() -> Iterator[Server | None]:
    """Start nginx for the duration of the block (None when nginx is unavailable); always stops it."""
    binary = find_nginx()
    if binary is None:
        log("nginx not found and cannot install it (needs root + apt-get): run `sudo apt-get install nginx`")
        yield None
        return
    version, has_status = nginx_build(binary)
    RUN.mkdir(parents=True, exist_ok=True)
    make_files()
    _remove_stale_runs()
    run = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=RUN))
    try:
        yield from _start(binary, version, has_status, run)
    finally:
        shutil.rmtree(run, ignore_errors=True)


def _remove_stale_runs() -> None:
    """Per-run directories left by runs that were killed outright (their pid is gone)."""
    for old in RUN.glob("run-*-*"):
        try:
            os.kill(int(old.name.split("-")[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except (ValueError, PermissionError):
            pass


def _start(binary: str, version: str, has_status: bool, run: Path) -> Iterator[Server]:
    (run / "tmp").mkdir()
    ca = make_certs(run)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read bench/.run; local-only server
    for attempt in range(5):
        ports = [free_port(), free_port(), free_port()]
        if len(set(ports)) < 3:
            continue
        status = "location = /nginx_status { stub_status; }" if has_status else ""
        locations = LOCATIONS.format(www=WWW, status=status)
        config = CONFIG.format(
            user=user,
            run=run,
            http=ports[0],
            https1=ports[1],
            h2_listen=_h2_listen(version, ports[2]),
            locations=locations,
        )
        (run / "nginx.conf").write_text(config)
        errlog, stderr = run / "error.log", run / "stderr.log"
        errlog.unlink(missing_ok=True)
        cmd = [binary, "-p", str(run), "-c", str(run / "nginx.conf")]
        with open(stderr, "wb") as err_file:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file, start_new_session=True)
        try:
            if _wait_listening(proc, ports):
                yield Server(ports[0], ports[1], ports[2], ca, version, has_status)
                return
            _stop(proc)
            err = stderr.read_text() + (errlog.read_text() if errlog.exists() else "")
            if "Address already in use" not in err:
                raise RuntimeError(f"nginx failed to start:\n{err[-2000:]}")
            log(f"port taken, retrying (attempt {attempt + 1})")
        finally:
            _stop(proc)
    raise RuntimeError("nginx: no free ports after 5 attempts")
