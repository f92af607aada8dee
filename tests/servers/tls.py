"""Certificates for the TLS tests: a session CA, and one server certificate per way verification can fail.

Each :class:`CertBundle` holds a server certificate chain and key, the CA bundle a client would verify it
with (the session CA's, unless the case says otherwise), the host name to connect to, and a regular
expression matching the error OpenSSL reports (None when verification must succeed)::

    def test_expired(expired_cert, tls_raw_server):
        server = tls_raw_server(expired_cert)
        ...  # connect to server.port as expired_cert.hostname, trusting expired_cert.ca_bundle

trustme issues every certificate except two it cannot: the self-signed one and the CN-only one (trustme
always writes a subjectAltName), which are built with ``cryptography`` directly.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from servers.raw import Handler, RawServer, RawServerFactory

__all__ = ["CertBundle", "make_cert_bundles"]

# Raw test servers script HTTP/1.1 bytes, so by default they select only http/1.1 in ALPN (a server that
# selected h2 would have to speak HTTP/2: brisk offers it by default). Pass alpn= to test negotiation.
ALPN = ("http/1.1",)


@dataclass(frozen=True)
class CertBundle:
    """A server certificate and everything a test needs to present it and to verify it."""

    name: str
    cert_file: Path
    key_file: Path
    #: The PEM file a client trusts in this case (not necessarily the issuer of ``cert_file``).
    ca_bundle: Path
    #: The host name (or address) the client connects to and checks.
    hostname: str
    #: A regular expression for the client's verification error; None when verification succeeds.
    expected_error: str | None

    def server_context(self, alpn: Sequence[str] = ALPN) -> ssl.SSLContext:
        """A server-side context presenting this certificate, offering *alpn*."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        if alpn:
            context.set_alpn_protocols(list(alpn))
        return context

    def client_context(self, *, common_name_fallback: bool = False) -> ssl.SSLContext:
        """A verifying client context that trusts :attr:`ca_bundle` only.

        Python's ssl module still accepts a certificate's CN as its host name when it has no
        subjectAltName (``hostname_checks_common_name`` is True by default); browsers, curl and brisk
        do not, so the fallback is off here unless asked for.
        """
        context = ssl.create_default_context(cafile=str(self.ca_bundle))
        context.hostname_checks_common_name = common_name_fallback
        return context


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _build_cert(
    *,
    common_name: str,
    san: Sequence[str],
    issuer_key: ec.EllipticCurvePrivateKey | None,
    issuer_cert: x509.Certificate | None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A leaf certificate for TLS servers; self-signed when no issuer is given, without SAN when *san* is
    empty."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(days=1))
        .not_valid_after(_now() + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    if san:
        names: list[x509.GeneralName] = []
        for item in san:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(item)))
            except ValueError:
                names.append(x509.DNSName(item))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    certificate = builder.sign(issuer_key if issuer_key is not None else key, hashes.SHA256())
    return certificate, key


def _write_built(
    directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_file, key_file = directory / f"{name}.pem", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def _write_leaf(directory: Path, name: str, leaf: trustme.LeafCert) -> tuple[Path, Path]:
    cert_file, key_file = directory / f"{name}.pem", directory / f"{name}.key"
    cert_file.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key_file))
    return cert_file, key_file


def make_cert_bundles(ca: trustme.CA, directory: Path) -> dict[str, CertBundle]:
    """Every certificate case, keyed by name, written into *directory*; *ca* is the CA clients trust."""
    ca_bundle = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_bundle))
    now, day = _now(), datetime.timedelta(days=1)
    local = ("localhost", "127.0.0.1")
    leaves = {
        "good": ca.issue_cert("localhost", "127.0.0.1", "::1"),
        "expired": ca.issue_cert(*local, not_before=now - 30 * day, not_after=now - day),
        "not_yet_valid": ca.issue_cert(*local, not_before=now + day, not_after=now + 30 * day),
        "wrong_host": ca.issue_cert("wrong.example", "192.0.2.1"),
        "unknown_ca": trustme.CA().issue_cert(*local),
        "ip_san": ca.issue_cert("127.0.0.1", "::1"),
    }
    files = {name: _write_leaf(directory, name, leaf) for name, leaf in leaves.items()}
    self_signed = _build_cert(common_name="localhost", san=local, issuer_key=None, issuer_cert=None)
    files["self_signed"] = _write_built(directory, "self_signed", *self_signed)
    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey), "trustme's default CA key type is ECDSA"
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    cn_only = _build_cert(common_name="localhost", san=(), issuer_key=ca_key, issuer_cert=ca_cert)
    files["cn_only"] = _write_built(directory, "cn_only", *cn_only)
    files["ip_san_v6"] = files["ip_san"]
    cases = [  # name, the host name the client connects to, the expected verification error
        ("good", "localhost", None),
        ("expired", "localhost", "certificate has expired"),
        ("not_yet_valid", "localhost", "certificate is not yet valid"),
        ("wrong_host", "localhost", "Hostname mismatch"),
        ("unknown_ca", "localhost", "unable to get local issuer certificate"),
        ("self_signed", "localhost", "self[- ]signed certificate"),
        ("cn_only", "localhost", "Hostname mismatch"),
        ("ip_san", "127.0.0.1", None),
        ("ip_san_v6", "::1", None),
    ]
    return {name: CertBundle(name, *files[name], ca_bundle, host, error) for name, host, error in cases}


# -- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The session's certificate authority: the app servers' certificates come from it."""
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Path of the PEM file of :func:`ca`, for ``verify=`` / ``cafile=``."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def cert_bundles(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertBundle]:
    """Every certificate case by name: good, expired, not_yet_valid, wrong_host, unknown_ca, self_signed,
    cn_only, ip_san (connect to 127.0.0.1) and ip_san_v6 (connect to ::1)."""
    return make_cert_bundles(ca, tmp_path_factory.mktemp("certs"))


def _bundle_fixture(name: str, doc: str) -> Callable[[dict[str, CertBundle]], CertBundle]:
    def fixture(cert_bundles: dict[str, CertBundle]) -> CertBundle:
        return cert_bundles[name]

    fixture.__name__ = f"{name}_cert"
    fixture.__doc__ = doc
    return pytest.fixture(scope="session", name=f"{name}_cert")(fixture)


good_cert = _bundle_fixture(
    "good", "A valid certificate for localhost, 127.0.0.1 and ::1 from the session CA."
)
expired_cert = _bundle_fixture("expired", "Expired yesterday.")
not_yet_valid_cert = _bundle_fixture("not_yet_valid", "Valid from tomorrow.")
wrong_host_cert = _bundle_fixture("wrong_host", "For wrong.example and 192.0.2.1, served to 'localhost'.")
unknown_ca_cert = _bundle_fixture("unknown_ca", "Issued by a CA the client does not trust.")
self_signed_cert = _bundle_fixture("self_signed", "Self-signed, for localhost and 127.0.0.1.")
cn_only_cert = _bundle_fixture("cn_only", "CN=localhost from the session CA, without subjectAltName.")
ip_san_cert = _bundle_fixture("ip_san", "IP-address SANs only (127.0.0.1, ::1); connect to 127.0.0.1.")
ip_san_v6_cert = _bundle_fixture("ip_san_v6", "The IP-SAN certificate, connecting to ::1.")


@dataclass
class TLSServerFactory:
    """What ``tls_raw_server`` yields: ``tls_raw_server(bundle, handler=None, alpn=...)`` -> RawServer."""

    raw: RawServerFactory

    def __call__(
        self, bundle: CertBundle, handler: Handler | None = None, *, alpn: Sequence[str] = ALPN
    ) -> RawServer:
        host = "::1" if bundle.hostname == "::1" else "127.0.0.1"
        return self.raw(handler, tls=bundle.server_context(alpn), host=host)


@pytest.fixture
def tls_raw_server(raw_server: RawServerFactory) -> TLSServerFactory:
    """Starts a raw TLS server presenting a :class:`CertBundle`'s certificate (on ::1 for ``ip_san_v6``).

    Without a handler it answers ``200 ok`` to each request, so a successful handshake can be followed
    by a request.
    """
    return TLSServerFactory(raw_server)
