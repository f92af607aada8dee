"""The TLS settings over real TLS servers on loopback, sync and async (the ``client_factory`` fixture):
``verify=`` an ``ssl.SSLContext`` (used as given, never changed) or CA certificates as bytes; ``cert=`` as
PEM bytes and ``(cert, key, password)`` for an encrypted key; ``tls_min_version``/``tls_max_version``;
``ciphers``; certificate pinning (``pin=``); and connections made under different settings never shared.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from test_tls import assert_no_socket_left, assert_pool_settled

import brisk
from brisk.exceptions import SSLError
from servers.clients import AsyncClient, SyncClient
from servers.proxies import PproxyServer
from servers.raw import RawConnection, RawServer, RawServerFactory, respond_ok
from servers.tls import CertBundle

Client = SyncClient | AsyncClient


def recording_server(
    raw_server: RawServerFactory,
    bundle: CertBundle,
    seen: list[dict[str, Any]],
    *,
    context: ssl.SSLContext | None = None,
) -> RawServer:
    """A TLS server that answers ``ok`` and records, per connection, the TLS version, the cipher, the ALPN
    protocol and the client certificate's common name."""

    def handler(conn: RawConnection) -> None:
        sock: Any = conn.sock
        peer = sock.getpeercert()
        seen.append(
            {
                "version": sock.version(),
                "cipher": sock.cipher()[0],
                "alpn": sock.selected_alpn_protocol(),
                "client": dict(item[0] for item in peer["subject"]).get("commonName") if peer else None,
            }
        )
        respond_ok(conn)

    return raw_server(handler, tls=context or bundle.server_context())


def spki_sha256(cert_file: Path) -> str:
    """The curl-style pin of a PEM certificate's public key, computed with ``cryptography``."""
    certificate = x509.load_pem_x509_certificate(
        cert_file.read_bytes().split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
    )
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


# -- verify= an ssl.SSLContext -------------------------------------------------------------------------------


def context_state(context: ssl.SSLContext) -> tuple[Any, ...]:
    return (
        context.verify_mode, context.check_hostname, context.minimum_version, context.maximum_version,
        context.options, context.hostname_checks_common_name, [c["name"] for c in context.get_ciphers()],
        context.cert_store_stats(), context.keylog_filename,
    )  # fmt: skip


def test_an_ssl_context_as_verify_is_used_as_given(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    context = good_cert.client_context()
    before = context_state(context)
    seen: list[dict[str, Any]] = []
    server = recording_server(
        raw_server, good_cert, seen, context=good_cert.server_context(("h2", "http/1.1"))
    )
    client = client_factory(verify=context)
    assert client.read(client.get(server.url.replace("127.0.0.1", "localhost") + "/")) == b"ok"
    # brisk set no ALPN protocol on it: the server, which offers h2, chose nothing
    assert seen == [{"version": "TLSv1.3", "cipher": seen[0]["cipher"], "alpn": None, "client": None}]
    assert context_state(context) == before


def test_an_ssl_context_as_verify_decides_verification(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    """The context trusts only the system's CAs: the session CA's certificate fails, whatever else."""
    server = recording_server(raw_server, good_cert, [])
    url = server.url.replace("127.0.0.1", "localhost") + "/"
    client = client_factory(verify=ssl.create_default_context())
    with pytest.raises(SSLError, match=r"certificate verify failed|unable to get local issuer"):
        client.get(url)
    # ... and a context that turned verification off connects, though the session verifies by default
    lax = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    assert client.read(client.get(url, verify=lax)) == b"ok"


def test_an_ssl_context_refuses_the_settings_that_would_change_it(good_cert: CertBundle) -> None:
    context = good_cert.client_context()
    for settings in ({"cert": str(good_cert.cert_file)}, {"tls_min_version": "TLSv1.3"}, {"ciphers": "HIGH"}):
        with pytest.raises(
            ValueError, match=f"verify=<ssl.SSLContext> is used as given, so {next(iter(settings))}"
        ):
            brisk.Session(verify=context, **settings)
    brisk.Session(verify=context, pin="sha256//" + "A" * 43 + "=").close()  # pins change nothing in it


# -- client certificates: an encrypted key with its password, PEM bytes --------------------------------------


@pytest.fixture(scope="module")
def client_leaf(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("client.example", common_name="client.example")


def encrypted_key(leaf: trustme.LeafCert, password: bytes) -> bytes:
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )


def mtls_context(bundle: CertBundle) -> ssl.SSLContext:
    context = bundle.server_context()
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(bundle.ca_bundle))
    return context


def test_cert_three_tuple_opens_an_encrypted_key(
    client_factory: Callable[..., Client],
    raw_server: RawServerFactory,
    good_cert: CertBundle,
    client_leaf: trustme.LeafCert,
    tmp_path: Path,
) -> None:
    cert_file, key_file = tmp_path / "client.pem", tmp_path / "client-encrypted.key"
    client_leaf.cert_chain_pems[0].write_to_path(str(cert_file))
    key_file.write_bytes(encrypted_key(client_leaf, b"s3cret"))
    seen: list[dict[str, Any]] = []
    server = recording_server(raw_server, good_cert, seen, context=mtls_context(good_cert))
    client = client_factory(verify=str(good_cert.ca_bundle), cert=(str(cert_file), str(key_file), "s3cret"))
    assert client.read(client.get(server.url + "/")) == b"ok"
    assert [s["client"] for s in seen] == ["client.example"]
    # a wrong password names the setting and is never asked for on the terminal
    wrong = client_factory(verify=str(good_cert.ca_bundle), cert=(str(cert_file), str(key_file), "wrong"))
    with pytest.raises(SSLError, match="cert=: could not load the client certificate and key"):
        wrong.get(server.url + "/")
    assert len(seen) == 1


def test_cert_three_tuple_through_an_adapter_that_sends_itself(
    raw_server: RawServerFactory, good_cert: CertBundle, client_leaf: trustme.LeafCert, tmp_path: Path
) -> None:
    """requests' chain (``cert_verify`` writes the TLS settings on the pool) keeps the password."""

    class Adapter(brisk.adapters.HTTPAdapter):
        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            super().cert_verify(conn, url, verify, cert)

    cert_file, key_file = tmp_path / "client.pem", tmp_path / "client-encrypted.key"
    client_leaf.cert_chain_pems[0].write_to_path(str(cert_file))
    key_file.write_bytes(encrypted_key(client_leaf, b"s3cret"))
    seen: list[dict[str, Any]] = []
    server = recording_server(raw_server, good_cert, seen, context=mtls_context(good_cert))
    with brisk.Session() as session:
        session.mount("https://", Adapter())
        r = session.get(
            server.url + "/",
            verify=good_cert.ca_bundle.read_bytes(),
            cert=(str(cert_file), str(key_file), "s3cret"),
        )
    assert r.content == b"ok"
    assert [s["client"] for s in seen] == ["client.example"]


@pytest.mark.parametrize("form", ["pair", "one-blob", "encrypted-triple"])
def test_cert_and_ca_as_pem_bytes(
    client_factory: Callable[..., Client],
    raw_server: RawServerFactory,
    good_cert: CertBundle,
    client_leaf: trustme.LeafCert,
    form: str,
) -> None:
    cert_pem, key_pem = client_leaf.cert_chain_pems[0].bytes(), client_leaf.private_key_pem.bytes()
    cert: Any = {
        "pair": (cert_pem, key_pem),
        "one-blob": cert_pem + key_pem,
        "encrypted-triple": (cert_pem, encrypted_key(client_leaf, b"pw"), b"pw"),
    }[form]
    seen: list[dict[str, Any]] = []
    server = recording_server(raw_server, good_cert, seen, context=mtls_context(good_cert))
    client = client_factory(verify=good_cert.ca_bundle.read_bytes(), cert=cert)
    assert client.read(client.get(server.url + "/")) == b"ok"
    assert [s["client"] for s in seen] == ["client.example"]


def test_ca_as_der_bytes_and_a_ca_that_does_not_match(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    der = ssl.PEM_cert_to_DER_cert(good_cert.ca_bundle.read_text())
    server = recording_server(raw_server, good_cert, [])
    client = client_factory(verify=der)
    assert client.read(client.get(server.url + "/")) == b"ok"
    other = trustme.CA().cert_pem.bytes()
    with pytest.raises(SSLError, match="unable to get local issuer"):
        client.get(server.url + "/", verify=other)


def test_ca_pem_bytes_with_text_before_the_first_certificate(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    """A PEM bundle as certifi's (comment lines first) or openssl's ("Bag Attributes") is still PEM."""
    bundle = b"# Issuer: CN=brisk test CA\n# Label: a comment, as certifi writes them\n"
    bundle += good_cert.ca_bundle.read_bytes()
    server = recording_server(raw_server, good_cert, [])
    client = client_factory(verify=bundle)
    assert client.read(client.get(server.url + "/")) == b"ok"


# -- versions and ciphers ------------------------------------------------------------------------------------


def test_a_minimum_above_what_the_server_speaks_fails(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    context = good_cert.server_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    seen: list[dict[str, Any]] = []
    server = recording_server(raw_server, good_cert, seen, context=context)
    ca = str(good_cert.ca_bundle)
    control = client_factory(verify=ca)
    assert control.read(control.get(server.url + "/")) == b"ok"  # the server speaks TLS 1.2
    control.close()
    client = client_factory(verify=ca, tls_min_version=ssl.TLSVersion.TLSv1_3)
    with pytest.raises(SSLError, match=r"(?i)protocol|version"):
        client.get(server.url + "/")
    assert [s["version"] for s in seen] == ["TLSv1.2"]
    assert_no_socket_left(server.port)
    assert_pool_settled(client, total=0)


def test_a_maximum_version_is_kept(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    seen: list[dict[str, Any]] = []
    server = recording_server(raw_server, good_cert, seen)
    client = client_factory(verify=str(good_cert.ca_bundle), tls_max_version="TLSv1.2")
    assert client.read(client.get(server.url + "/")) == b"ok"
    assert client.read(client_factory(verify=str(good_cert.ca_bundle)).get(server.url + "/")) == b"ok"
    assert [s["version"] for s in seen] == ["TLSv1.2", "TLSv1.3"]


def test_ciphers_restrict_what_is_offered(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    """TLS 1.2 (OpenSSL's cipher string does not govern TLS 1.3's suites); trustme's keys are ECDSA."""
    context = good_cert.server_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    seen: list[dict[str, Any]] = []
    server = recording_server(raw_server, good_cert, seen, context=context)
    ca = str(good_cert.ca_bundle)
    refused = client_factory(verify=ca, ciphers="ECDHE-ECDSA-AES256-GCM-SHA384")
    with pytest.raises(SSLError, match=r"(?i)handshake|cipher"):
        refused.get(server.url + "/")
    assert_pool_settled(refused, total=0)
    chosen = client_factory(verify=ca, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384")
    assert chosen.read(chosen.get(server.url + "/")) == b"ok"
    assert [s["cipher"] for s in seen] == ["ECDHE-ECDSA-AES128-GCM-SHA256"]
    # against a server that allows many, the client's one cipher is the one used
    open_server = recording_server(raw_server, good_cert, seen)
    one = client_factory(verify=ca, tls_max_version="TLSv1.2", ciphers="ECDHE-ECDSA-CHACHA20-POLY1305")
    assert one.read(one.get(open_server.url + "/")) == b"ok"
    assert seen[-1]["cipher"] == "ECDHE-ECDSA-CHACHA20-POLY1305"


# -- certificate pinning -------------------------------------------------------------------------------------


def test_the_right_pin_connects(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    pin = spki_sha256(good_cert.cert_file)
    server = recording_server(raw_server, good_cert, [])
    other = base64.b64encode(b"\x01" * 32).decode()
    for settings in (
        {"verify": str(good_cert.ca_bundle), "pin": f"sha256//{pin}"},
        {"verify": False, "pin": [other, pin]},  # pinned, not verified: a self-made certificate
        {"verify": str(good_cert.ca_bundle), "pin": f"sha256//{other};sha256//{pin}"},  # curl's list form
    ):
        client = client_factory(**settings)
        assert client.read(client.get(server.url + "/")) == b"ok"


def test_a_wrong_pin_fails_and_nothing_is_pooled(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    right = spki_sha256(good_cert.cert_file)
    wrong = [base64.b64encode(b"\x01" * 32).decode(), base64.b64encode(b"\x02" * 32).decode()]
    server = recording_server(raw_server, good_cert, [])
    client = client_factory(verify=str(good_cert.ca_bundle), pin=wrong)
    with pytest.raises(SSLError) as caught:
        client.get(server.url + "/")
    message = str(caught.value)
    assert "pin mismatch for '127.0.0.1'" in message
    assert f"sha256//{right}" in message
    assert all(f"sha256//{pin}" in message for pin in wrong)
    assert server.connection_count == 1  # not retried
    assert not server.requests  # nothing was sent to a server that is not the pinned one
    assert_no_socket_left(server.port)
    assert_pool_settled(client, total=0)


@pytest.mark.parametrize("kind", ["http", "https", "socks5"])
def test_pins_are_checked_through_proxies(
    client_factory: Callable[..., Client],
    raw_server: RawServerFactory,
    ip_san_cert: CertBundle,
    pproxy: PproxyServer,
    kind: str,
) -> None:
    """The pin is the origin's (whose certificate differs from the https proxy's), through a CONNECT
    tunnel, TLS inside the proxy's TLS, and SOCKS."""
    server = recording_server(raw_server, ip_san_cert, [])
    settings = {"verify": str(ip_san_cert.ca_bundle), "proxies": {"https": pproxy.url(kind)}}
    right = client_factory(**settings, pin=f"sha256//{spki_sha256(ip_san_cert.cert_file)}")
    assert right.read(right.get(server.url + "/")) == b"ok"
    wrong = client_factory(**settings, pin=f"sha256//{spki_sha256(pproxy.cert.cert_file)}")  # the proxy's
    with pytest.raises(SSLError, match=r"pin mismatch for '127\.0\.0\.1'"):
        wrong.get(server.url + "/")
    assert len(server.requests) == 1
    assert_pool_settled(wrong, total=0)


# -- different settings, different connections ---------------------------------------------------------------


def test_connections_are_never_shared_across_tls_settings(
    client_factory: Callable[..., Client], raw_server: RawServerFactory, good_cert: CertBundle
) -> None:
    server = recording_server(raw_server, good_cert, [])
    url = server.url + "/"
    ca = str(good_cert.ca_bundle)
    client = client_factory(verify=ca)
    assert client.read(client.get(url)) == b"ok"
    assert client.read(client.get(url)) == b"ok"
    assert server.connection_count == 1  # the same settings reuse the connection
    assert client.read(client.get(url, verify=good_cert.ca_bundle.read_bytes())) == b"ok"
    assert server.connection_count == 2
    context = good_cert.client_context()
    assert client.read(client.get(url, verify=context)) == b"ok"
    assert server.connection_count == 3
    client.session.tls_max_version = "TLSv1.2"
    assert client.read(client.get(url)) == b"ok"
    assert server.connection_count == 4
    client.session.pin = f"sha256//{spki_sha256(good_cert.cert_file)}"
    assert client.read(client.get(url)) == b"ok"
    assert server.connection_count == 5
    # a wrong pin is never served by the connections the other settings left in the pool
    client.session.pin = "sha256//" + base64.b64encode(b"\x01" * 32).decode()
    with pytest.raises(SSLError, match="pin mismatch"):
        client.get(url)
    assert server.connection_count == 6
    assert_pool_settled(client, total=5)
