"""``hosts``: a small asyncio HTTP/1.1 server listening on several loopback ports (each port standing for a
host), counting the requests it is answering at once per port, with paths that fail or stall:

- ``/ok/...``: 200, the path as the body; ``/slow/<ms>/...``: the same after ``ms`` milliseconds
- ``/fail/...``: 503; ``/reset/...``: the connection is closed with no answer
- ``/stall/...``: no answer until the server stops
- ``/drip/...``: 200 with a 4000-byte body sent in two halves, 0.3 s apart (a body being written to a file)
- ``/hold/...``: the same first half, and the rest never (until the server stops)
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from types import TracebackType

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
        self._open: set[_Connection] = set()

    def url(self, host: int) -> str:
        return f"http://127.0.0.1:{self.ports[host]}"

    def start(self) -> HostsServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(10)
        return self

    async def _listen(self) -> None:
        self._stop = asyncio.Event()
        for _ in range(self.count):
            server = await self.loop.create_server(lambda: _Connection(self), "127.0.0.1", 0)
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
        if kind in ("drip", "hold"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n" + b"a" * 2000)
            await writer.drain()
            if kind == "hold":
                await self._stop.wait()
                return False
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
            # A socket accepted just before the close gets its transport one loop turn later, and that
            # transport calls connection_made one turn after that; let those turns pass.
            for _ in range(3):
                await asyncio.sleep(0)
            deadline = self.loop.time() + 5
            while any(connection.made for connection in self._open):
                for handler in list(self._handlers):  # a drip, hold or slow answer still under way
                    handler.cancel()
                await asyncio.gather(*self._handlers, return_exceptions=True)
                if self.loop.time() > deadline:
                    raise RuntimeError("HostsServer: connections still open 5 s after the stop")
                await asyncio.sleep(0.001)
            for server in self._servers:
                await server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()
        if self._open:
            # asyncio's own race (3.11 to 3.13): a socket accepted in the loop turn where the server
            # closes fails in the transport's constructor (Server._attach asserts the server is open),
            # and the half-made transport, never given to the protocol, is left for the collector with
            # its socket open. Collect it here rather than let its warning land on the next test. On
            # 3.13 its __del__ also detaches it from the closed server, which raises a TypeError
            # (Server._wakeup finds its waiters gone): that one is asyncio's too, and ignored here.
            previous = sys.unraisablehook
            sys.unraisablehook = _ignoring_half_made_transports(previous)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ResourceWarning)
                    gc.collect()
            finally:
                sys.unraisablehook = previous


def _ignoring_half_made_transports(
    previous: Callable[[sys.UnraisableHookArgs], object],
) -> Callable[[sys.UnraisableHookArgs], None]:
    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        # Up to 3.13 the transport's __del__ is the object; 3.14 leaves the object None and names the
        # __del__ (_SelectorTransport.__del__) in err_msg. Either way the error is raised in asyncio's
        # Server._wakeup, which is what marks it as this race and nothing else.
        where = f"{unraisable.object!r} {unraisable.err_msg or ''}"
        if (
            isinstance(unraisable.exc_value, TypeError)
            and "Transport" in where
            and "_wakeup" in _function_names(unraisable.exc_traceback)
        ):
            return
        previous(unraisable)

    return hook


def _function_names(traceback: TracebackType | None) -> list[str]:
    names = []
    while traceback is not None:
        names.append(traceback.tb_frame.f_code.co_name)
        traceback = traceback.tb_next
    return names


class _Connection(asyncio.StreamReaderProtocol):
    """asyncio's stream protocol, counted from the moment the server accepts the socket (before
    ``connection_made``) until the connection is lost, so that ``stop()`` can wait for all of them and
    tell those whose transport was never made."""

    def __init__(self, server: HostsServer) -> None:
        super().__init__(asyncio.StreamReader(), server._serve)
        self._server = server
        server._open.add(self)

    made = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made = True
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._server._open.discard(self)


@pytest.fixture
def hosts() -> Iterator[HostsServer]:
    """Three ports of a fresh HostsServer, stopped after the test. asyncio's half-made transports (see
    ``stop``) may be collected at any moment of the test, not only by ``stop``'s collection: their TypeError
    is ignored while the server lives, and every other unraisable exception goes on to pytest."""
    previous = sys.unraisablehook
    sys.unraisablehook = _ignoring_half_made_transports(previous)
    server = HostsServer(3).start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            sys.unraisablehook = previous
