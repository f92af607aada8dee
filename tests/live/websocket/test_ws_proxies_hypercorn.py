"""The handshake over proxies (HTTP CONNECT, HTTPS proxy, SOCKS, real pproxy and tinyproxy) and against
hypercorn (the test app's ASGI WebSocket endpoints, over ws:// and wss:// with h2 offered by the server)."""

from __future__ import annotations

import asyncio

import pytest

import brisk
from servers.proxies import CREDENTIALS


def _ws(server) -> str:
    return server.url.replace("http", "ws", 1)


def sync_echo(url: str, **options) -> str | bytes:
    with brisk.Session() as s, s.websocket(url, **options) as ws:
        ws.send("through")
        return ws.receive()


def async_echo(url: str, **options) -> str | bytes:
    async def main():
        async with brisk.AsyncSession() as s, s.websocket(url, **options) as ws:
            await ws.send("through")
            return await ws.receive()

    return asyncio.run(main())


ECHO = {"sync": sync_echo, "async": async_echo}


@pytest.fixture(params=["sync", "async"])
def echo(request):
    return ECHO[request.param]


def test_hypercorn_ws(app_server, echo):
    assert echo(_ws(app_server) + "/ws/echo") == "through"


def test_hypercorn_wss_offering_h2(tls_app_server, echo):
    # the server offers h2 in ALPN; the handshake offers http/1.1 alone, so the upgrade happens over h1
    url = _ws(tls_app_server) + "/ws/echo"
    assert echo(url, verify=tls_app_server.ca_bundle) == "through"


def test_hypercorn_close_code(app_server):
    with brisk.Session() as s, s.websocket(_ws(app_server) + "/ws/close/4001") as ws:
        with pytest.raises(brisk.WebSocketClosed) as info:
            ws.receive()
    assert info.value.code == 4001


def test_hypercorn_refusal(app_server):
    with brisk.Session() as s, pytest.raises(brisk.WebSocketHandshakeError) as info:
        s.websocket(_ws(app_server) + "/ws/nothing-here")
    assert info.value.response.status_code == 403


@pytest.mark.parametrize(
    ("kind", "credentials"),
    [
        ("http", None),
        ("http_auth", CREDENTIALS),
        ("https", None),
        ("socks5", None),
        ("socks5_auth", CREDENTIALS),
    ],
)
def test_through_pproxy(pproxy, app_server, echo, kind, credentials, ca_bundle):
    before = pproxy.connections_to(app_server.port)
    proxy = pproxy.url(kind, credentials=credentials)
    got = echo(_ws(app_server) + "/ws/echo", proxies={"http": proxy}, verify=ca_bundle)
    assert got == "through"
    assert pproxy.connections_to(app_server.port) == before + 1


def test_wss_through_pproxy(pproxy, tls_app_server, echo):
    proxy = pproxy.url("http")
    url = _ws(tls_app_server) + "/ws/echo"
    assert echo(url, proxies={"https": proxy}, verify=tls_app_server.ca_bundle) == "through"


def test_wss_through_an_https_proxy(pproxy, tls_app_server, echo, ca_bundle):
    # TLS inside the proxy's TLS: the sync client runs the inner session on memory BIOs
    url = _ws(tls_app_server) + "/ws/echo"
    assert echo(url, proxies={"https": pproxy.url("https")}, verify=ca_bundle) == "through"


def test_ws_url_is_tunnelled_not_forwarded(relay_proxy, app_server, echo):
    relay = relay_proxy()
    assert echo(_ws(app_server) + "/ws/echo", proxies={"http": relay.url()}) == "through"
    assert [r.method for r in relay.requests] == ["CONNECT"]
    assert relay.requests[0].target == f"127.0.0.1:{app_server.port}"


@pytest.mark.network_tools
def test_wss_through_tinyproxy(tinyproxy, tls_app_server, echo):
    url = _ws(tls_app_server) + "/ws/echo"
    assert echo(url, proxies={"https": tinyproxy.url()}, verify=tls_app_server.ca_bundle) == "through"
