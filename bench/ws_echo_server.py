"""A lean WebSocket echo server for bench/ws_bench.py: the clients, not the server, should set the pace.

asyncio (uvloop when installed) with a hand-written frame loop: it trusts its clients (the bench's own),
unmasks with the websockets library's C helper, and echoes each data frame back unmasked, fragments as
they came. Prints its port, then serves until killed. Not a conforming server: for the bench only.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct

from websockets.speedups import apply_mask  # type: ignore[import-not-found]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Echo(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.open = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.open:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            key = next(
                line.split(":", 1)[1].strip()
                for line in head.split("\r\n")
                if line.lower().startswith("sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
            assert self.transport is not None
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.open = True
        self.frames()

    def frames(self) -> None:
        buf = self.buffer
        out = []
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n, at = b1 & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    break
                (n,) = struct.unpack_from("!H", buf, 2)
                at = 4
            elif n == 127:
                if len(buf) < 10:
                    break
                (n,) = struct.unpack_from("!Q", buf, 2)
                at = 10
            if len(buf) < at + 4 + n:
                break
            mask = bytes(buf[at : at + 4])
            with memoryview(buf) as view:  # released before the buffer shrinks
                payload = apply_mask(view[at + 4 : at + 4 + n], mask)
            del buf[: at + 4 + n]
            opcode = b0 & 0x0F
            if opcode == 8:  # close: answer it and hang up
                out.append(bytes([0x88, len(payload[:125])]) + payload[:125])
                assert self.transport is not None
                self.transport.write(b"".join(out))
                self.transport.close()
                return
            if opcode == 9:  # ping
                b0, opcode = 0x8A, 10
            if n < 126:
                header = bytes([b0, n])
            elif n < 65536:
                header = bytes([b0, 126]) + struct.pack("!H", n)
            else:
                header = bytes([b0, 127]) + struct.pack("!Q", n)
            out.append(header)
            out.append(payload)
        if out:
            assert self.transport is not None
            self.transport.writelines(out)


async def main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
