"""A session reuses the settings of plain calls (a hot-path cache); every change to the session must show.

Each test changes one thing between two plain calls and checks that the second call honours it.
"""

from __future__ import annotations

from typing import Any

import pytest

import brisk
from servers.app_server import ServerThread
from servers.clients import Client
from servers.raw import RawConnection


def test_hook_appended_in_place_runs(client: Client, app_server: ServerThread) -> None:
    seen: list[int] = []
    client.get(app_server.url + "/get")
    client.session.hooks["response"].append(lambda r, **kw: seen.append(r.status_code))
    client.get(app_server.url + "/get")
    assert seen == [200]


def test_timeout_change_applies(client: Client, app_server: ServerThread) -> None:
    client.get(app_server.url + "/get")
    client.session.timeout = 0.3
    with pytest.raises(brisk.ReadTimeout):
        client.get(app_server.url + "/delay/2")


def test_adapter_retries_changed_in_place_apply(client: Client, raw_server: Any) -> None:
    attempts: list[int] = []

    def flaky(conn: RawConnection) -> None:
        request = conn.recv_request()
        if request is None:
            return
        attempts.append(1)
        status = b"503 Busy" if len(attempts) < 3 else b"200 OK"
        conn.send(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nRetry-After: 0\r\n\r\n")

    srv = raw_server(flaky)
    assert client.get(srv.url + "/").status_code == 503  # status retries are off by default
    client.session.adapters["http://"].max_retries = brisk.Retry(5, status_forcelist=[503])
    assert client.get(srv.url + "/").status_code == 200
    assert len(attempts) == 3


def test_proxy_added_in_place_is_used(client: Client, app_server: ServerThread, unused_port: int) -> None:
    client.get(app_server.url + "/get")
    client.session.proxies["http"] = f"http://127.0.0.1:{unused_port}"
    with pytest.raises(brisk.exceptions.ProxyError):
        client.get(app_server.url + "/get", retries=0)
    client.session.proxies.clear()
    assert client.get(app_server.url + "/get").ok


def test_per_request_override_does_not_stick(client: Client, app_server: ServerThread) -> None:
    client.get(app_server.url + "/get")
    with pytest.raises(brisk.ReadTimeout):
        client.get(app_server.url + "/delay/2", timeout=0.3)
    assert client.get(app_server.url + "/delay/0.5").ok  # the session's own (default) timeout again
