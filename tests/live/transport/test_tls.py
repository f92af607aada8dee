"""TLS against real TLS servers with trustme certificates, sync and async (the ``client`` fixture).

Every way verification can fail raises ``SSLError`` (a ``ConnectionError``) naming the reason; IP SANs
verify; ``verify=path`` and ``verify=False``; client certificates; TLS 1.2 as the floor; what ALPN offers;
and a failed handshake leaves no socket open and nothing in the pool.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import ssl
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

import brisk
from brisk._transport.base import ConnectionConfig
from brisk._transport.tls import ssl_context
from brisk.exceptions import ConnectionError as BriskConnectionError
from brisk.exceptions import ConnectTimeout, SSLError
from servers.clients import AsyncClient, SyncClient
from servers.raw import RawConnection, RawServer, RawServerFactory, respond_ok
from servers.tls import CertBundle, TLSServerFactory

Client = SyncClient | AsyncClient


# -- helpers -------------------------------------------------------------------------------------------------


def client_sockets_to(port: int) -> int:
    """How many of this process's file descriptors are TCP sockets connected to ``port`` (client side)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:[") and target[8:-1] in inodes:
                count += 1
    return count


def assert_no_socket_left(port: int) -> None:
    deadline = time.monotonic() + 3
    while client_sockets_to(port) and time.monotonic() < deadline:
        time.sleep(0.02)  # asyncio closes an aborted transport's socket on the next loop iteration
    assert client_sockets_to(port) == 0, "a client socket to the server is still open"


def assert_pool_settled(client: Client, *, total: int | None = None) -> None:
    state = client.pool()
    if state is None:  # the transport was never made: nothing can be pooled
        assert not total
        return
    assert state.total == state.idle_count(), f"slots held: total={state.total}, idle={state.idle_count()}"
    if total is not None:
        assert state.total == total


def url_for(bundle: CertBundle, server: RawServer) -> str:
    host = f"[{bundle.hostname}]" if ":" in bundle.hostname else bundle.hostname
    return f"https://{host}:{server.port}/"


def ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


# -- verification failures -----------------------------------------------------------------------------------

FAILING = ["expired", "not_yet_valid", "wrong_host", "self_signed", "unknown_ca", "cn_only"]


@pytest.mark.parametrize("name", FAILING)
def test_certificate_verification_failure(
    client_factory: Callable[..., Client],
    tls_raw_server: TLSServerFactory,
    cert_bundles: dict[str, CertBundle],
    name: str,
) -> None:
    bundle = cert_bundles[name]
    assert bundle.expected_error is not None
    server = tls_raw_server(bundle)
    client = client_factory(verify=str(bundle.ca_bundle))
    with pytest.raises(SSLError) as caught:
        client.get(url_for(bundle, server))
    assert isinstance(caught.value, BriskConnectionError)
    message = str(caught.value)
    assert re.search(bundle.expected_error, message, re.IGNORECASE), message
    assert bundle.hostname in message
    assert server.connection_count == 1  # a certificate does not fix itself: not retried
    assert not server.requests  # nothing was sent
    # The failed handshake closed its socket and pooled nothing.
    assert_no_socket_left(server.port)
    assert_pool_settled(client, total=0)


def test_cn_only_certificate_is_otherwise_valid(
    cn_only_cert: CertBundle, tls_raw_server: TLSServerFactory
) -> None:
    """Control for the CN-only case: the certificate chains to the trusted CA, and only the missing
    subjectAltName makes it fail (Python's own CN fallback would accept it)."""
    server = tls_raw_server(cn_only_cert)
    context = cn_only_cert.client_context(common_name_fallback=True)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() is not None


# -- what verifies -------------------------------------------------------------------------------------------


def test_good_certificate_with_verify_path(
    client: Client, tls_raw_server: TLSServerFactory, good_cert: CertBundle
) -> None:
    server = tls_raw_server(good_cert)
    for _ in range(2):
        response = client.get(url_for(good_cert, server), verify=str(good_cert.ca_bundle))
        assert response.status_code == 200
        assert response.content == b"ok"
    assert server.connection_count == 1
    assert_pool_settled(client, total=1)


def test_ip_san_v4_verifies(
    client: Client, tls_raw_server: TLSServerFactory, ip_san_cert: CertBundle
) -> None:
    server = tls_raw_server(ip_san_cert)
    response = client.get(f"https://127.0.0.1:{server.port}/", verify=str(ip_san_cert.ca_bundle))
    assert response.content == b"ok"


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback on this machine")
def test_ip_san_v6_verifies(
    client: Client, tls_raw_server: TLSServerFactory, ip_san_v6_cert: CertBundle
) -> None:
    server = tls_raw_server(ip_san_v6_cert)
    response = client.get(f"https://[::1]:{server.port}/", verify=str(ip_san_v6_cert.ca_bundle))
    assert response.content == b"ok"


@pytest.mark.parametrize("name", ["self_signed", "expired", "wrong_host"])
def test_verify_false_accepts_any_certificate(
    client: Client, tls_raw_server: TLSServerFactory, cert_bundles: dict[str, CertBundle], name: str
) -> None:
    bundle = cert_bundles[name]
    server = tls_raw_server(bundle)
    assert client.get(url_for(bundle, server), verify=False).content == b"ok"


def test_verify_missing_path_is_an_error(
    client: Client, tls_raw_server: TLSServerFactory, good_cert: CertBundle, tmp_path: Path
) -> None:
    server = tls_raw_server(good_cert)
    with pytest.raises(OSError, match="CA certificate bundle"):
        client.get(url_for(good_cert, server), verify=str(tmp_path / "missing.pem"))
    assert not server.requests


def test_sni_names_the_host_and_never_an_address(
    client: Client, raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    names: list[str | None] = []
    context = good_cert.server_context()
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    server = raw_server(tls=context)
    verify = str(good_cert.ca_bundle)
    assert client.get(f"https://localhost:{server.port}/", verify=verify).content == b"ok"
    assert client.get(f"https://127.0.0.1:{server.port}/", verify=verify).content == b"ok"
    assert names == ["localhost", None]


# -- client certificates -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client_cert_files(tmp_path_factory: pytest.TempPathFactory, ca: trustme.CA) -> tuple[str, str]:
    leaf = ca.issue_cert("client.example", common_name="client.example")
    directory = tmp_path_factory.mktemp("client-cert")
    cert_file, key_file = directory / "client.pem", directory / "client.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert_file))
    leaf.private_key_pem.write_to_path(str(key_file))
    return str(cert_file), str(key_file)


def client_cert_server(
    raw_server: RawServerFactory, bundle: CertBundle, seen: list[str | None], *, tls13: bool = True
) -> RawServer:
    context = bundle.server_context(alpn=("http/1.1",))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(bundle.ca_bundle))
    if not tls13:
        context.maximum_version = ssl.TLSVersion.TLSv1_2

    def handler(conn: RawConnection) -> None:
        peer = conn.sock.getpeercert()  # type: ignore[attr-defined]
        seen.append(dict(item[0] for item in peer["subject"]).get("commonName") if peer else None)
        respond_ok(conn)

    return raw_server(handler, tls=context)


@pytest.mark.parametrize("tls13", [False, True], ids=["tls1.2", "tls1.3"])
def test_client_certificate(
    client: Client,
    raw_server: RawServerFactory,
    good_cert: CertBundle,
    client_cert_files: tuple[str, str],
    tls13: bool,
) -> None:
    seen: list[str | None] = []
    server = client_cert_server(raw_server, good_cert, seen, tls13=tls13)
    response = client.get(server.url + "/", verify=str(good_cert.ca_bundle), cert=client_cert_files)
    assert response.content == b"ok"
    assert seen == ["client.example"]


class KeyPasswordAdapter(brisk.adapters.HTTPAdapter):
    """httpie's HTTPS adapter in short: ``cert_verify`` sets urllib3's ``key_password`` on the pool."""

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.key_password = "s3cret"
        super().cert_verify(conn, url, verify, cert)


def test_an_encrypted_client_key_opens_with_the_password_an_adapter_sets_on_the_pool(
    raw_server: RawServerFactory,
    good_cert: CertBundle,
    client_cert_files: tuple[str, str],
    tmp_path: Path,
) -> None:
    from cryptography.hazmat.primitives import serialization

    cert_file, key_file = client_cert_files
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    encrypted = tmp_path / "client-encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    seen: list[str | None] = []
    server = client_cert_server(raw_server, good_cert, seen)
    with brisk.Session() as session:
        session.mount("https://", KeyPasswordAdapter())
        r = session.get(server.url + "/", verify=str(good_cert.ca_bundle), cert=(cert_file, str(encrypted)))
    assert r.content == b"ok"
    assert seen == ["client.example"]


@pytest.mark.parametrize("tls13", [False, True], ids=["tls1.2", "tls1.3"])
def test_client_certificate_missing_is_refused(
    client: Client, raw_server: RawServerFactory, good_cert: CertBundle, tls13: bool
) -> None:
    """In TLS 1.2 the server refuses the handshake itself: an SSLError. In TLS 1.3 the client's handshake is
    over before the server checks its certificate, and the refusal (an alert, then a close that may reach
    the client first as a reset) comes while the request goes out: a ConnectionError either way."""
    seen: list[str | None] = []
    server = client_cert_server(raw_server, good_cert, seen, tls13=tls13)
    with pytest.raises(SSLError if not tls13 else BriskConnectionError) as caught:
        client.get(server.url + "/", verify=str(good_cert.ca_bundle))
    if not tls13:
        assert "handshake" in str(caught.value).lower()
    assert not server.requests
    assert_no_socket_left(server.port)
    assert_pool_settled(client, total=0)


# -- protocol versions and ALPN ------------------------------------------------------------------------------


def legacy_tls_context(bundle: CertBundle, *, server: bool) -> ssl.SSLContext:
    """A context limited to (server) or allowing (client) TLS 1.0-1.1, with legacy ciphers enabled."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if server:
            context = bundle.server_context(alpn=())
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        else:
            context = bundle.client_context()
            context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def test_tls_below_1_2_is_refused(
    client: Client, raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    server = raw_server(tls=legacy_tls_context(good_cert, server=True))
    # Control: a client that allows TLS 1.1 gets through, so the server really speaks it.
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            with legacy_tls_context(good_cert, server=False).wrap_socket(
                raw, server_hostname="localhost"
            ) as tls:
                assert tls.version() in ("TLSv1", "TLSv1.1")
    except ssl.SSLError as exc:
        pytest.skip(f"this OpenSSL cannot speak TLS 1.1 at all ({exc}): nothing to refuse")
    with pytest.raises(SSLError) as caught:
        client.get(server.url + "/", verify=str(good_cert.ca_bundle))
    assert re.search("protocol|version", str(caught.value), re.IGNORECASE)
    assert len(server.requests) == 0
    assert_no_socket_left(server.port)
    assert_pool_settled(client, total=0)


@pytest.mark.parametrize("verify", [True, False, "bundle"])
def test_contexts_have_tls_1_2_floor(verify: bool | str, good_cert: CertBundle) -> None:
    value = str(good_cert.ca_bundle) if verify == "bundle" else verify
    for http2 in (False, True):
        context = ssl_context(ConnectionConfig(verify=value, http2=http2))
        assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
        if verify is not False:
            assert context.verify_mode == ssl.CERT_REQUIRED
            assert context.check_hostname


def alpn_server(
    raw_server: RawServerFactory, bundle: CertBundle, offer: tuple[str, ...], selected: list[str | None]
) -> RawServer:
    """A TLS server that offers only ``offer`` and records what was negotiated, then closes."""

    def handler(conn: RawConnection) -> None:
        selected.append(conn.sock.selected_alpn_protocol())  # type: ignore[attr-defined]

    return raw_server(handler, tls=bundle.server_context(alpn=offer))


@pytest.mark.parametrize("http2", [False, True], ids=["http1-session", "http2-session"])
def test_alpn_offers(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle, http2: bool
) -> None:
    """A server offering only one protocol tells whether the client offered it."""
    client = client_factory(http2=http2, verify=str(good_cert.ca_bundle), retries=0)
    offered: dict[str, list[str | None]] = {}
    for protocol in ("http/1.1", "h2"):
        selected: list[str | None] = []
        server = alpn_server(raw_server, good_cert, (protocol,), selected)
        with contextlib.suppress(brisk.RequestException):  # the server hangs up after the handshake
            client.get(server.url + "/")
        offered[protocol] = selected
    assert offered["http/1.1"][:1] == ["http/1.1"]
    assert offered["h2"][:1] == (["h2"] if http2 else [None])


# -- handshakes that never finish ----------------------------------------------------------------------------


def test_tls_handshake_timeout(client: Client, raw_server: RawServerFactory, good_cert: CertBundle) -> None:
    """A plain TCP server that never answers the ClientHello: the connect timeout covers the handshake."""

    def mute(conn: RawConnection) -> None:
        conn.sleep(10)

    server = raw_server(mute)
    started = time.monotonic()
    with pytest.raises(ConnectTimeout) as caught:
        client.get(
            f"https://127.0.0.1:{server.port}/",
            verify=str(good_cert.ca_bundle),
            timeout=brisk.Timeout(5, connect=0.4),
            retries=0,
        )
    assert time.monotonic() - started < 2
    assert "TLS" in str(caught.value)
    assert_no_socket_left(server.port)
    assert_pool_settled(client, total=0)


def test_tls_handshake_cut_off(client: Client, raw_server: RawServerFactory, good_cert: CertBundle) -> None:
    def hang_up(conn: RawConnection) -> None:
        conn.recv(5)  # the start of the ClientHello
        conn.close()

    server = raw_server(hang_up)
    with pytest.raises(SSLError):
        client.get(f"https://127.0.0.1:{server.port}/", verify=str(good_cert.ca_bundle), retries=0)
    assert_no_socket_left(server.port)
    assert_pool_settled(client, total=0)
