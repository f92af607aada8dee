"""``hosts``: a small asyncio HTTP/1.1 server listening on several loopback ports (each port standing for a
host), counting the requests it is answering at once per port, with paths that fail or stall:

- ``/ok/...``: 200, the path as the body; ``/slow/<ms>/...``: the same after ``ms`` milliseconds
- ``/fail/...``: 503; ``/reset/...``: the connection is closed with no answer
- ``/stall/...``: no answer until the server stops
- ``/drip/...``: 200 with a 4000-byte body sent in two halves, 0.3 s apart (a body being written to a file)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

__all__ = ["HostsServer", "hosts"]


class HostsServer:
    def __init__(self, ports: int = 3) -> None:
        self.count = ports
        self.ports: list[int] = []
        self.running: dict[int, int] = {}
        self.most: dict[int, int] = {}
        self.connections: dict[int, int] = {}
        self.requests = 0
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._servers: list[asyncio.base_events.Server] = []
        self._stop = asyncio.Event()
        self._handlers: set[asyncio.Task[None]] = set()

    def url(self, host: int) -> str:
        return f"http://127.0.0.1:{self.ports[host]}"

    def start(self) -> HostsServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(10)
        return self

    async def _listen(self) -> None:
        self._stop = asyncio.Event()
        for _ in range(self.count):
            server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            self._servers.append(server)
            self.ports.append(port)
            self.running[port] = self.most[port] = self.connections[port] = 0

    def reset_counts(self) -> None:
        for port in self.ports:
            self.most[port] = self.connections[port] = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        self.connections[port] += 1
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                self.requests += 1
                self.running[port] += 1
                self.most[port] = max(self.most[port], self.running[port])
                try:
                    if not await self._answer(path, writer):
                        return
                finally:
                    self.running[port] -= 1
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, path: str, writer: asyncio.StreamWriter) -> bool:
        kind = path.split("/")[1]
        if kind == "slow":
            await asyncio.sleep(int(path.split("/")[2]) / 1000)
        elif kind == "stall":
            await self._stop.wait()
            return False
        elif kind == "reset":
            writer.transport.abort()
            return False
        if kind == "drip":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n" + b"a" * 2000)
            await writer.drain()
            await asyncio.sleep(0.3)
            writer.write(b"b" * 2000)
            await writer.drain()
            return True
        status = b"503 Service Unavailable" if kind == "fail" else b"200 OK"
        body = path.encode()
        writer.write(b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
        await writer.drain()
        return True

    def stop(self) -> None:
        async def close() -> None:
            self._stop.set()
            for server in self._servers:
                server.close()
            for handler in list(self._handlers):  # a drip or slow answer still under way: end it now
                handler.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            for server in self._servers:
                await server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def hosts() -> Iterator[HostsServer]:
    """Three ports of a fresh HostsServer, stopped after the test."""
    server = HostsServer(3).start()
    try:
        yield server
    finally:
        server.stop()
