"""HTTP over Unix domain sockets (issue #21), sync and async: ``Session(uds=PATH)`` and requests-unixsocket's
``http+unix://%2F...`` URLs against hypercorn bound to a Unix socket; HTTP/1.1, h2c with prior knowledge and
TLS over the socket; keep-alive reuse; the socket path in the pool key; the errors (no such file, nothing
listening, a full backlog, https+unix, a proxy); and redirects to a Unix socket refused from http."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import trustme

import brisk
from brisk.exceptions import ConnectionError as BriskConnectionError
from brisk.exceptions import ConnectionRefused, InvalidRedirect, InvalidSchema
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, SyncClient

Client = SyncClient | AsyncClient

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path (a Unix socket path may hold about 100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="brisk-uds-") as directory:
        yield Path(directory)


def unix_url(path: str | Path, rest: str = "/") -> str:
    return f"http+unix://{quote(str(path), safe='')}{rest}"


# -- requests over the socket -----------------------------------------------------------------------------


def test_brisk_get_takes_the_requests_unixsocket_url_form(uds_app_server: ServerThread) -> None:
    r = brisk.get(unix_url(uds_app_server.uds or "", "/get?k=v"))
    assert r.status_code == 200
    body = r.json()
    assert body["args"] == {"k": "v"}
    assert body["headers"]["Host"] == "localhost"  # as requests-unixsocket sends: a path is no host name
    assert r.url == unix_url(uds_app_server.uds or "", "/get?k=v")


def test_uds_sends_every_request_through_the_socket_and_reuses_the_connection(
    client_factory: Callable[..., Client], uds_app_server: ServerThread
) -> None:
    client = client_factory(uds=uds_app_server.uds)
    first = client.get("http://api.example.test/get?n=1")
    second = client.get("http://api.example.test/headers")
    other = client.get("http://api.example.test:8080/get")
    assert first.status_code == second.status_code == 200
    assert first.json()["headers"]["Host"] == "api.example.test"  # the URL still gives Host and path
    assert first.json()["args"] == {"n": "1"}
    assert other.json()["headers"]["Host"] == "api.example.test:8080"
    assert first.http_version == "HTTP/1.1"
    assert first.timings is not None
    assert second.timings is not None
    assert not first.timings.reused
    assert second.timings.reused  # keep-alive over the socket


def test_http_unix_urls_reuse_the_connection(
    client_factory: Callable[..., Client], uds_app_server: ServerThread
) -> None:
    client = client_factory()
    first = client.post(unix_url(uds_app_server.uds or "", "/anything"), data=b"payload")
    second = client.get(unix_url(uds_app_server.uds or "", "/get"))
    assert first.json()["data"] == "payload"
    assert second.timings is not None
    assert second.timings.reused


@pytest.mark.parametrize("form", ["uds", "http+unix"])
def test_h2c_with_prior_knowledge_over_the_socket(
    client_factory: Callable[..., Client], uds_app_server: ServerThread, form: str
) -> None:
    if form == "uds":
        client = client_factory(uds=uds_app_server.uds, http2="prior-knowledge")
        url = "http://h2.example.test/get"
    else:
        client = client_factory(http2="prior-knowledge")
        url = unix_url(uds_app_server.uds or "", "/get")
    first = client.get(url)
    second = client.get(url)
    assert (first.http_version, second.http_version) == ("HTTP/2", "HTTP/2")
    assert first.json()["headers"]["Host"] == ("h2.example.test" if form == "uds" else "localhost")
    assert second.timings is not None
    assert second.timings.reused


@pytest.mark.parametrize("http2", [False, "prior-knowledge"])
def test_connection_facts_name_the_socket(
    client_factory: Callable[..., Client], uds_app_server: ServerThread, http2: object
) -> None:
    """``response.connection_info`` over a Unix socket: the socket's path as the peer, no TLS; the facts of
    one pooled connection are one object."""
    client = client_factory(uds=uds_app_server.uds, http2=http2)
    first = client.get("http://api.example.test/get")
    second = client.get("http://api.example.test/get")
    info = first.connection_info
    assert info is not None
    assert info.peer_address == uds_app_server.uds
    assert not info.tls
    assert info.tls_version is None
    assert info.alpn_protocol is None
    assert second.connection_info is info


def test_tls_over_the_socket_verifies_the_urls_host(
    client_factory: Callable[..., Client], ca: trustme.CA, short_dir: Path
) -> None:
    """``uds=`` with an https URL: TLS to the URL's host over the socket, ALPN choosing h2 as over TCP."""
    path = str(short_dir / "tls.sock")
    with ServerThread(uds=path, tls=True, ca=ca) as server:
        client = client_factory(uds=path, verify=server.ca_bundle)
        r = client.get("https://localhost/get")
        assert (r.status_code, r.http_version) == (200, "HTTP/2")
        with pytest.raises(brisk.exceptions.SSLError):
            client.get("https://not-in-the-certificate.test/get")  # the name is still verified
        client.close()


def test_the_socket_path_is_part_of_the_pool_key(
    client_factory: Callable[..., Client], uds_app_server: ServerThread, short_dir: Path
) -> None:
    """A pooled connection to one socket never serves a request meant for another."""
    client = client_factory(uds=uds_app_server.uds)
    assert client.get("http://h.test/get").status_code == 200
    client.session.uds = str(short_dir / "missing.sock")
    with pytest.raises(BriskConnectionError, match=r"missing\.sock"):
        client.get("http://h.test/get")


# -- errors --------------------------------------------------------------------------------------------------


def test_a_missing_socket_file_is_a_connection_error_naming_the_path(
    client_factory: Callable[..., Client], short_dir: Path
) -> None:
    path = str(short_dir / "nothing.sock")
    client = client_factory(uds=path)
    with pytest.raises(BriskConnectionError, match=f"no Unix socket at '{path}'") as info:
        client.get("http://h.test/")
    assert not isinstance(info.value, brisk.exceptions.ConnectTimeout)
    with pytest.raises(BriskConnectionError, match=f"no Unix socket at '{path}'"):
        client_factory().get(unix_url(path))


def test_a_socket_nobody_listens_on_is_refused(
    client_factory: Callable[..., Client], short_dir: Path
) -> None:
    path = str(short_dir / "bound.sock")
    with socket.socket(socket.AF_UNIX) as bound:  # bound, never listening: connect() is refused
        bound.bind(path)
        with pytest.raises(ConnectionRefused, match=r"bound\.sock"):
            client_factory(uds=path).get("http://h.test/")


def test_a_full_backlog_is_a_connection_error_at_once(
    client_factory: Callable[..., Client], short_dir: Path
) -> None:
    path = str(short_dir / "full.sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen(0)
        waiting = []
        try:
            while True:  # fill the backlog: nothing is ever accepted
                queued = socket.socket(socket.AF_UNIX)
                queued.setblocking(False)
                try:
                    queued.connect(path)
                except BlockingIOError:
                    queued.close()
                    break
                waiting.append(queued)
            with pytest.raises(BriskConnectionError, match="backlog is full"):
                client_factory(uds=path, retries=0).get("http://h.test/", timeout=(2, 2))
        finally:
            for queued in waiting:
                queued.close()


def test_https_unix_urls_are_refused_clearly() -> None:
    with pytest.raises(InvalidSchema, match=r"https\+unix:// URLs are not supported.*Session\(uds=PATH\)"):
        brisk.get("https+unix://%2Frun%2Fapp.sock/")


def test_uds_values_are_checked() -> None:
    with pytest.raises(TypeError, match="uds must be the path of a Unix socket"):
        brisk.Session(uds=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="uds must be the path"):
        brisk.Session(uds="")
    assert brisk.Session(uds=Path("/run/app.sock")).uds == "/run/app.sock"


def test_a_proxy_and_a_unix_socket_cannot_be_combined(
    uds_app_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment's proxies are ignored over a Unix socket; one given explicitly is an error."""
    with socket.socket() as unused:  # were the proxy used, the request would fail: nothing listens there
        unused.bind(("127.0.0.1", 0))
        proxy = f"http://user:secret@127.0.0.1:{unused.getsockname()[1]}"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("ALL_PROXY", proxy)
    with brisk.Session(uds=uds_app_server.uds) as session:
        assert session.get("http://h.test/get").status_code == 200
        assert session.get(unix_url(uds_app_server.uds or "", "/get")).status_code == 200
        with pytest.raises(ValueError, match="cannot be combined with the proxy") as info:
            session.get("http://h.test/get", proxies={"http": proxy})
        assert "secret" not in str(info.value)
    with brisk.Session(proxies={"all": proxy}) as session:
        with pytest.raises(ValueError, match=r"the http\+unix:// URL cannot be combined"):
            session.get(unix_url(uds_app_server.uds or "", "/get"))


# -- redirects -----------------------------------------------------------------------------------------------


def test_a_redirect_from_http_to_a_unix_socket_is_refused(
    client: Client, app_server: ServerThread, uds_app_server: ServerThread
) -> None:
    target = unix_url(uds_app_server.uds or "", "/get")
    with pytest.raises(InvalidRedirect, match=r"refusing to follow a redirect to a http\+unix: URL"):
        client.get(f"{app_server.url}/redirect-to", params={"url": target})


def test_a_redirect_between_unix_socket_urls_is_followed(
    client: Client, uds_app_server: ServerThread
) -> None:
    base = unix_url(uds_app_server.uds or "", "")
    r = client.get(f"{base}/redirect-to", params={"url": f"{base}/get?hop=2"})
    assert r.status_code == 200
    assert r.json()["args"] == {"hop": "2"}
    assert [h.status_code for h in r.history] == [302]


def test_async_get_takes_the_url_form_too(uds_app_server: ServerThread) -> None:
    async def main() -> int:
        async with brisk.AsyncSession() as session:
            r = await session.get(unix_url(uds_app_server.uds or "", "/get"))
            return r.status_code

    assert asyncio.run(main()) == 200
