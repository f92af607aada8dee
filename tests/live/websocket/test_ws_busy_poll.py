"""The sync WebSocket busy-polls before waiting for a message, with HTTP/1.1's policy (``Limits.busy_poll``,
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

    url, budget, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    out = {"echoes": 0, "polls": 0, "busy": None}

    class Counting:  # counts the busy polls (BusyPoll.before_read polls the socket at least once each)
        def __init__(self, real):
            self.real = real

        def poll(self, timeout=None):
            if sys._getframe(1).f_code.co_name == "before_read":
                out["polls"] += 1
            return self.real.poll(timeout)

    with brisk.Session(limits=brisk.Limits(busy_poll=budget)) as s:
        with s.websocket(url, compression=None) as ws:
            if ws._busy is not None:
                ws._busy.poll = Counting(ws._busy.poll)
                out["busy"] = [ws._busy.skip, ws._busy.backoff]
            for i in range(count):
                ws.send(f"m{i}")
                out["echoes"] += ws.receive() == f"m{i}"
    print(json.dumps(out))
    """
)


def run_child(url: str, budget: float, count: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(budget), str(count)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    return result


@pytest.mark.skipif(not busypoll.MANY_CPUS, reason="busy polling needs a second CPU")
def test_a_sync_websocket_busy_polls_for_each_message(ws_server):
    # A 2 ms budget: polling needs the TCP handshake to have taken at most ten budgets (a loaded machine's
    # first loopback handshake in a new process can take more than 1 ms).
    result = run_child(ws_server.url + "/echo", 0.002, 50)
    assert result["echoes"] == 50
    assert result["busy"] == [0, 0]  # the policy allows polling on this connection
    # receive() polled the socket before reading: once per message when the echo was already there, many
    # times when it came during the polling, and for the whole budget when it came later (then the
    # connection skips polling for a while); fewer than half as many polls as messages is not polling
    assert result["polls"] >= 25


def test_without_busy_polling_a_sync_websocket_never_polls(ws_server):
    result = run_child(ws_server.url + "/echo", 0, 20)
    assert result["echoes"] == 20
    assert result["busy"] is None
    assert result["polls"] == 0
