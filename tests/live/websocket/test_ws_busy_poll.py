"""Both WebSocket clients busy-poll before waiting for a message, as HTTP/1.1 does (``Limits.busy_poll``,
``brisk._transport.sync.busypoll``). Polling happens only in a single-threaded process, so the client runs
in a child process of its own against the real echo server of this one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from brisk._transport.sync import busypoll

CHILD = textwrap.dedent(
    """
    import json, sys, brisk

    url, budget, count, mode = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    out = {"echoes": 0, "polls": 0, "busy": None}

    class Counting:  # counts the busy polls (BusyPoll.before_read polls the socket at least once each)
        def __init__(self, real):
            self.real = real

        def poll(self, timeout=None):
            if sys._getframe(1).f_code.co_name == "before_read":
                out["polls"] += 1
            return self.real.poll(timeout)

    def watch(busy):
        if busy is not None:
            busy.poll = Counting(busy.poll)
            out["busy"] = [busy.skip, busy.backoff]

    if mode == "sync":
        with brisk.Session(limits=brisk.Limits(busy_poll=budget)) as s:
            with s.websocket(url, compression=None) as ws:
                watch(ws._busy)
                for i in range(count):
                    ws.send(f"m{i}")
                    out["echoes"] += ws.receive() == f"m{i}"
    else:
        import asyncio

        async def main():
            async with brisk.AsyncSession(limits=brisk.Limits(busy_poll=budget)) as s:
                async with s.websocket(url, compression=None) as ws:
                    watch(ws._protocol.busy and ws._protocol.busy[0])
                    for i in range(count):
                        await ws.send(f"m{i}")
                        out["echoes"] += await ws.receive() == f"m{i}"

        asyncio.run(main())
    print(json.dumps(out))
    """
)


def run_child(url: str, budget: float, count: int, mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(budget), str(count), mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    return result


@pytest.mark.skipif(not busypoll.MANY_CPUS, reason="busy polling needs a second CPU")
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_websocket_busy_polls_for_each_message(ws_server, mode):
    # A 2 ms budget: polling needs the TCP handshake to have taken at most ten budgets (a loaded machine's
    # first loopback handshake in a new process can take more than 1 ms).
    result = run_child(ws_server.url + "/echo", 0.002, 50, mode)
    assert result["echoes"] == 50
    assert result["busy"] == [0, 0]  # the policy allows polling on this connection
    # receive() polled the socket before reading: once per message when the echo was already there, many
    # times when it came during the polling, and for the whole budget when it came later (then the
    # connection skips polling for a while); fewer than half as many polls as messages is not polling
    assert result["polls"] >= 25


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_without_busy_polling_a_websocket_never_polls(ws_server, mode):
    result = run_child(ws_server.url + "/echo", 0, 20, mode)
    assert result["echoes"] == 20
    assert result["busy"] is None
    assert result["polls"] == 0
