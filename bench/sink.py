"""Upload sink: a tiny HTTP/1.1 server that reads every request body to the end before it answers.

nginx's `return 200` answers as soon as the request head has arrived and discards the body in the
background, so a client could be timed before its upload finished. This sink reads the whole body
(Content-Length or chunked) into a reused buffer, then answers `200 ok` on a keep-alive connection. It runs
as a process of its own and prints its port on the first line of stdout.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
BUF_SIZE = 1 << 20


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray(BUF_SIZE)
        self.view = memoryview(self.buf)
        self.pending = b""  # bytes received past what has been consumed

    def read_line(self) -> bytes:
        while b"\r\n" not in self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.pending += data
        line, _, self.pending = self.pending.partition(b"\r\n")
        return line

    def discard(self, n: int) -> None:
        take = min(n, len(self.pending))
        self.pending = self.pending[take:]
        n -= take
        while n > 0:
            got = self.sock.recv_into(self.view, min(n, BUF_SIZE))
            if not got:
                raise EOFError
            n -= got

    def serve(self) -> None:
        while True:
            request_line = self.read_line()
            if not request_line:
                continue
            headers: dict[bytes, bytes] = {}
            while line := self.read_line():
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            if headers.get(b"expect", b"").lower() == b"100-continue":
                self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                while size := int(self.read_line().split(b";")[0], 16):
                    self.discard(size + 2)
                while self.read_line():  # trailers, then the empty line
                    pass
            else:
                self.discard(int(headers.get(b"content-length", b"0")))
            self.sock.sendall(RESPONSE)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(EOFError, OSError):
            _Conn(self.request).serve()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def running() -> Iterator[int]:
    """Run the sink in a child process for the duration of the block; yields its port."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve())], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    with _Server(("127.0.0.1", 0), _Handler) as server:
        print(server.server_address[1], flush=True)
        server.serve_forever()
