"""Blocking clients behind one small interface, so each workload loop is written once.

Every adapter imports its library in __init__ (a missing library or API then fails that row only), builds its
TLS setup from the CA file itself (so cold_request pays for it, as a new user's client would) and offers:

    get(url) -> body length              the whole body read into memory
    stream(url, chunk) -> bytes seen     the body read in chunks that are dropped
    post_json(url, doc) -> body length   a small JSON POST
    upload(url, path) -> body length     POST of a file, streamed from disk
    close()

brisk is driven only through the requests-compatible public API, exactly like requests and niquests.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import select
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Config:
    ca: str
    pool: int = 10  # connections kept per host (threaded workloads raise it to their concurrency)
    http2: bool = False


class SyncClient(Protocol):
    def __init__(self, cfg: Config) -> None: ...
    def get(self, url: str) -> int: ...
    def stream(self, url: str, chunk: int) -> int: ...
    def post_json(self, url: str, doc: Any) -> int: ...
    def upload(self, url: str, path: str) -> int: ...
    def close(self) -> None: ...


class RequestsLike:
    """requests, niquests and brisk: the same code, since brisk promises requests' API."""

    module = "requests"

    def __init__(self, cfg: Config) -> None:
        mod = importlib.import_module(self.module)
        self.s = mod.Session()
        self.s.verify = cfg.ca
        if cfg.pool > 10:  # requests' default pool keeps 10 connections per host; threads need more
            adapter = mod.adapters.HTTPAdapter(pool_connections=cfg.pool, pool_maxsize=cfg.pool)
            self.s.mount("http://", adapter)
            self.s.mount("https://", adapter)

    def get(self, url: str) -> int:
        return len(self.s.get(url).content)

    def stream(self, url: str, chunk: int) -> int:
        seen = 0
        with self.s.get(url, stream=True) as r:
            for block in r.iter_content(chunk):
                seen += len(block)
        return seen

    def post_json(self, url: str, doc: Any) -> int:
        return len(self.s.post(url, json=doc).content)

    def upload(self, url: str, path: str) -> int:
        with open(path, "rb") as f:
            return len(self.s.post(url, data=f).content)

    def close(self) -> None:
        self.s.close()


class Requests(RequestsLike):
    module = "requests"


class Niquests(RequestsLike):
    module = "niquests"


class Brisk(RequestsLike):
    module = "brisk"

    def map_get(self, urls: list[str], concurrency: int) -> int:
        """Concurrent GETs through brisk's own `Session.map(urls, concurrency=...)`."""
        return sum(len(r.content) for r in self.s.map(urls, concurrency=concurrency))


class BriskNoPoll(Brisk):
    """brisk with busy polling off (``Limits(busy_poll=0)``): every wait for an answer sleeps at once, so
    the CPU per request is the client's own work, wherever wake-ups are cheap or dear."""

    def __init__(self, cfg: Config) -> None:
        import brisk

        self.s = brisk.Session(limits=brisk.Limits(busy_poll=0))
        self.s.verify = cfg.ca


class BriskPure(Brisk):
    """brisk with its C accelerator switched off (``BRISK_NO_EXTENSIONS=1``, read when brisk is imported:
    the worker imports it first here), as where no compiler was at hand when brisk was installed."""

    def __init__(self, cfg: Config) -> None:
        os.environ["BRISK_NO_EXTENSIONS"] = "1"
        super().__init__(cfg)
        from brisk._protocol.accelerator import ACCELERATED

        assert not ACCELERATED, "brisk was imported before the switch was read"


class BriskCache(RequestsLike):
    """brisk with its HTTP cache in memory (``Session(cache=True)``): a fresh hit answers with no I/O."""

    module = "brisk"

    def __init__(self, cfg: Config) -> None:
        super().__init__(cfg)
        self.s.cache = self.cache()

    def cache(self) -> Any:
        return True


class BriskCacheSQLite(BriskCache):
    """brisk with its HTTP cache in an SQLite file (``Session(cache=brisk.Cache(path))``)."""

    def cache(self) -> Any:
        import tempfile

        import brisk

        self.dir = tempfile.TemporaryDirectory(prefix="brisk-bench-cache-")
        return brisk.Cache(os.path.join(self.dir.name, "cache.sqlite"))

    def close(self) -> None:
        self.s.cache.close()
        super().close()
        self.dir.cleanup()


class RequestsCache(RequestsLike):
    """requests-cache's ``CachedSession`` honouring Cache-Control (``cache_control=True``, as brisk does)."""

    backend = "memory"

    def __init__(self, cfg: Config) -> None:
        import tempfile

        import requests_cache

        self.dir = tempfile.TemporaryDirectory(prefix="requests-cache-bench-")
        self.s = requests_cache.CachedSession(
            os.path.join(self.dir.name, "http_cache"), backend=self.backend, cache_control=True
        )
        self.s.verify = cfg.ca

    def close(self) -> None:
        super().close()
        self.dir.cleanup()


class RequestsCacheSQLite(RequestsCache):
    backend = "sqlite"


class Httpx:
    def __init__(self, cfg: Config) -> None:
        import httpx

        ctx = ssl.create_default_context(cafile=cfg.ca)
        limits = httpx.Limits(max_connections=cfg.pool, max_keepalive_connections=cfg.pool)
        self.c = httpx.Client(verify=ctx, http2=cfg.http2, limits=limits)

    def get(self, url: str) -> int:
        return len(self.c.get(url).content)

    def stream(self, url: str, chunk: int) -> int:
        seen = 0
        with self.c.stream("GET", url) as r:
            for block in r.iter_bytes(chunk):
                seen += len(block)
        return seen

    def post_json(self, url: str, doc: Any) -> int:
        return len(self.c.post(url, json=doc).content)

    def upload(self, url: str, path: str) -> int:
        with open(path, "rb") as f:
            return len(self.c.post(url, content=f).content)

    def close(self) -> None:
        self.c.close()


class Urllib3:
    def __init__(self, cfg: Config) -> None:
        import urllib3

        self.pm = urllib3.PoolManager(maxsize=cfg.pool, ca_certs=cfg.ca, cert_reqs="CERT_REQUIRED")

    def get(self, url: str) -> int:
        return len(self.pm.request("GET", url).data)

    def stream(self, url: str, chunk: int) -> int:
        seen = 0
        r = self.pm.request("GET", url, preload_content=False)
        for block in r.stream(chunk):
            seen += len(block)
        r.release_conn()
        return seen

    def post_json(self, url: str, doc: Any) -> int:
        return len(self.pm.request("POST", url, json=doc).data)

    def upload(self, url: str, path: str) -> int:
        # Given a file, urllib3 would fall back to chunked encoding; send the length as the others do.
        headers = {"Content-Length": str(os.path.getsize(path))}
        with open(path, "rb") as f:
            return len(self.pm.request("POST", url, body=f, headers=headers).data)

    def close(self) -> None:
        self.pm.clear()


class Pycurl:
    """One reused Curl handle (libcurl keeps the connection alive between perform() calls)."""

    def __init__(self, cfg: Config) -> None:
        import pycurl

        self.pycurl = pycurl
        self.c = pycurl.Curl()
        self.c.setopt(pycurl.CAINFO, cfg.ca)
        self.c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS if cfg.http2 else 2)  # 2 = 1.1
        self.last = "get"

    def _mode(self, mode: str) -> None:
        if mode != self.last:
            self.c.setopt(self.pycurl.HTTPGET, 1)
            self.c.setopt(self.pycurl.HTTPHEADER, [])
            self.last = mode

    def get(self, url: str) -> int:
        self._mode("get")
        buf = io.BytesIO()
        self.c.setopt(self.pycurl.URL, url)
        self.c.setopt(self.pycurl.WRITEDATA, buf)
        self.c.perform()
        return len(buf.getvalue())

    def stream(self, url: str, chunk: int) -> int:
        self._mode("get")
        seen = 0

        def write(block: bytes) -> None:
            nonlocal seen
            seen += len(block)

        self.c.setopt(self.pycurl.BUFFERSIZE, chunk)
        self.c.setopt(self.pycurl.URL, url)
        self.c.setopt(self.pycurl.WRITEFUNCTION, write)
        self.c.perform()
        return seen

    def post_json(self, url: str, doc: Any) -> int:
        self._mode("post")
        buf = io.BytesIO()
        self.c.setopt(self.pycurl.URL, url)
        self.c.setopt(self.pycurl.HTTPHEADER, ["Content-Type: application/json"])
        self.c.setopt(self.pycurl.POSTFIELDS, json.dumps(doc))
        self.c.setopt(self.pycurl.WRITEDATA, buf)
        self.c.perform()
        return len(buf.getvalue())

    def upload(self, url: str, path: str) -> int:
        self._mode("upload")
        buf = io.BytesIO()
        with open(path, "rb") as f:
            self.c.setopt(self.pycurl.URL, url)
            self.c.setopt(self.pycurl.POST, 1)
            self.c.setopt(self.pycurl.HTTPHEADER, ["Expect:"])  # no 100-continue round trip; others send none
            self.c.setopt(self.pycurl.READDATA, f)
            self.c.setopt(self.pycurl.POSTFIELDSIZE_LARGE, os.path.getsize(path))
            self.c.setopt(self.pycurl.WRITEDATA, buf)
            self.c.perform()
        return len(buf.getvalue())

    def close(self) -> None:
        self.c.close()


class Bare:
    """The floor: fixed request bytes on one keep-alive socket, reading exactly the known response length.

    nginx's responses to a given URL have a constant length (its Date header is fixed-width), so the first
    response is parsed once and every later one is read by counting bytes. No parsing, no checks.
    """

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.sock: socket.socket | None = None
        self.lengths: dict[bytes, tuple[int, int]] = {}  # request -> (response length, body length)
        self.buf = bytearray(1 << 20)
        self.view = memoryview(self.buf)

    def _connect(self, url: str) -> socket.socket:
        if self.sock is None:
            parts = urlsplit(url)
            sock = socket.create_connection((parts.hostname, parts.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if parts.scheme == "https":
                ctx = ssl.create_default_context(cafile=self.cfg.ca)
                sock = ctx.wrap_socket(sock, server_hostname=parts.hostname)
            self.sock = sock
        return self.sock

    def _exchange(self, url: str, request: bytes, into: memoryview | None = None) -> int:
        """Send `request`, read its whole response; return the body length."""
        sock = self._connect(url)
        sock.sendall(request)
        known = self.lengths.get(request)
        if known is None:
            return self._learn_length(sock, request)
        total, body = known
        got = 0
        while got < total:
            self._before_recv(sock)
            view = into[got:] if into is not None else self.view
            n = sock.recv_into(view, min(total - got, len(view)))
            if not n:
                raise ConnectionError("server closed the connection")
            got += n
        return body

    def _before_recv(self, sock: socket.socket) -> None:
        """Nothing: the floor sleeps in recv() like every peer."""

    def _learn_length(self, sock: socket.socket, request: bytes) -> int:
        data = bytearray()
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        end = data.index(b"\r\n\r\n") + 4
        length = int(bytes(data[:end]).lower().split(b"content-length:")[1].split(b"\r\n")[0])
        seen = len(data) - end
        while seen < length:
            seen += sock.recv_into(self.view, min(length - seen, len(self.view)))
        self.lengths[request] = (end + length, length)
        return length

    @staticmethod
    def _request(method: str, url: str, headers: str = "") -> bytes:
        parts = urlsplit(url)
        return f"{method} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{headers}\r\n".encode()

    def get(self, url: str) -> int:
        request = self._request("GET", url)
        total = self.lengths.get(request, (0, 0))[0]
        if total > len(self.buf):  # a big body goes into a fresh buffer of its size, like .content would
            return self._exchange(url, request, memoryview(bytearray(total)))
        return self._exchange(url, request)

    def stream(self, url: str, chunk: int) -> int:
        self.view = memoryview(self.buf)[:chunk]
        return self._exchange(url, self._request("GET", url))

    def post_json(self, url: str, doc: Any) -> int:
        body = json.dumps(doc).encode()
        headers = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return self._exchange(url, self._request("POST", url, headers) + body)

    def upload(self, url: str, path: str) -> int:
        size = os.path.getsize(path)
        request = self._request("POST", url, f"Content-Length: {size}\r\n")
        sock = self._connect(url)
        sock.sendall(request)
        with open(path, "rb") as f:
            sock.sendfile(f)
        return len(sock.recv(65536).partition(b"\r\n\r\n")[2])  # the sink's short answer comes in one read

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


class BarePoll(Bare):
    """The bare loop waiting as brisk does by default (Limits.busy_poll): poll() the socket for up to 100
    microseconds before each recv(), so that the core does not sleep while the server answers. For the small
    responses of the sequential workloads that is the one recv() that waits for the answer, the one brisk
    polls for too (brisk adds a backoff and a thread check). The plain bare row sleeps like every peer."""

    _poller: tuple[socket.socket, Any] | None = None  # (the socket, a poll object watching it)

    def _before_recv(self, sock: socket.socket) -> None:
        if self._poller is None or self._poller[0] is not sock:
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            self._poller = (sock, poller)
        poll = self._poller[1].poll
        give_up = time.monotonic() + 0.0001
        while not poll(0) and time.monotonic() < give_up:
            pass


CLIENTS: dict[str, type[SyncClient]] = {
    "requests": Requests,
    "niquests": Niquests,
    "brisk": Brisk,
    "brisk-nopoll": BriskNoPoll,
    "brisk-pure": BriskPure,
    "brisk-cache": BriskCache,
    "brisk-cache-sqlite": BriskCacheSQLite,
    "requests-cache": RequestsCache,
    "requests-cache-sqlite": RequestsCacheSQLite,
    "httpx": Httpx,
    "urllib3": Urllib3,
    "pycurl": Pycurl,
    "bare": Bare,
    "bare-poll": BarePoll,
}
