"""One WebSocket measurement of one client, as one JSON line. Runs in the client's own venv.

    python ws_worker.py '{"client": "brisk", "mode": "sync", "url": "ws://...", "size": 32, "n": 2000,
                          "binary": false, "max_s": 10}'

Echo round trips over one connection: send a message, receive the echo, check it. Only the loop after a
short warm-up is timed; CPU is this process's (the client's), per message round trip.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


def _payload(spec: dict[str, Any]) -> str | bytes:
    return b"\xab" * spec["size"] if spec["binary"] else "x" * spec["size"]


def _timed(spec: dict[str, Any], round_trip: Any) -> dict[str, Any]:
    for _ in range(min(20, spec["n"])):
        round_trip()
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    stop = start + spec["max_s"]
    while count < spec["n"] and time.perf_counter() < stop:
        round_trip()
        count += 1
    return _result(count, time.perf_counter() - start, time.process_time() - cpu)


async def _atimed(spec: dict[str, Any], round_trip: Any) -> dict[str, Any]:
    for _ in range(min(20, spec["n"])):
        await round_trip()
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    stop = start + spec["max_s"]
    while count < spec["n"] and time.perf_counter() < stop:
        await round_trip()
        count += 1
    return _result(count, time.perf_counter() - start, time.process_time() - cpu)


def _result(count: int, elapsed: float, cpu: float) -> dict[str, Any]:
    return {"msgs_per_s": count / elapsed, "count": count, "cpu_us": cpu / count * 1e6}


def _check(got: Any, want: Any) -> None:
    if got != want:
        raise AssertionError(f"echo mismatch: {len(got)} vs {len(want)}")


def run_sync(spec: dict[str, Any]) -> dict[str, Any]:
    payload, url = _payload(spec), spec["url"]
    if spec["client"] == "brisk":
        import brisk

        with brisk.Session() as s, s.websocket(url, compression=None, max_message_size=None) as ws:

            def trip() -> None:
                ws.send(payload)
                _check(ws.receive(), payload)

            return _timed(spec, trip)
    from websockets.sync.client import connect

    with connect(url, compression=None, max_size=None) as wsc:

        def trip2() -> None:
            wsc.send(payload)
            _check(wsc.recv(), payload)

        return _timed(spec, trip2)


async def run_async(spec: dict[str, Any]) -> dict[str, Any]:
    payload, url = _payload(spec), spec["url"]
    client = spec["client"]
    if client == "brisk":
        import brisk

        async with brisk.AsyncSession() as s, s.websocket(url, compression=None, max_message_size=None) as ws:

            async def trip() -> None:
                await ws.send(payload)
                _check(await ws.receive(), payload)

            return await _atimed(spec, trip)
    if client == "websockets":
        from websockets.asyncio.client import connect

        async with connect(url, compression=None, max_size=None) as wsc:

            async def trip2() -> None:
                await wsc.send(payload)
                _check(await wsc.recv(), payload)

            return await _atimed(spec, trip2)
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as wsa:
        send = wsa.send_bytes if isinstance(payload, bytes) else wsa.send_str

        async def trip3() -> None:
            await send(payload)  # type: ignore[arg-type]
            message = await wsa.receive()
            _check(message.data, payload)

        return await _atimed(spec, trip3)


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        result = run_sync(spec) if spec["mode"] == "sync" else asyncio.run(run_async(spec))
    except Exception as exc:  # reported, not raised: the runner shows it in the table
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
