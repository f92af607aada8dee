"""The TLS settings' checks (no sockets): what each accepts and the error that names a bad value, at the
session constructor and at first use; the form they take in ``ConnectionConfig`` and the TLS-context cache;
the SPKI pin of a certificate, read without ``cryptography``, against ``cryptography``'s.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import brisk
from brisk._core.url import URL
from brisk._transport.base import ConnectionConfig, TLSOptions
from brisk._transport.tls import check_cert, spki_pin, ssl_context, tls_options

PIN = base64.b64encode(b"\x07" * 32).decode("ascii")


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"verify": 3}, TypeError, "verify must be True, False, a CA bundle path"),
        ({"verify": b""}, ValueError, "verify=b'' holds no CA certificate"),
        ({"cert": ("a", "b", "c", "d")}, ValueError, r"cert must be .* not a tuple of 4 items"),
        ({"cert": ("a",)}, ValueError, "not a tuple of 1 items"),
        ({"cert": 5}, TypeError, "cert must be a path or PEM bytes"),
        ({"cert": ("a", 5)}, TypeError, r"cert\[1\] \(the key\) must be a file path or PEM bytes"),
        ({"cert": ("a", "b", 5)}, TypeError, r"cert\[2\] \(the key's password\) must be str or bytes"),
        ({"tls_min_version": "TLSv1.4"}, ValueError, "tls_min_version must be 'TLSv1.2'"),
        ({"tls_max_version": ssl.TLSVersion.SSLv3}, ValueError, "tls_max_version must be"),
        ({"tls_max_version": "TLSv1.1"}, ValueError, "tls_max_version='TLSv1.1' is below the minimum"),
        (
            {"tls_min_version": "1.3", "tls_max_version": "1.2"},
            ValueError,
            "below the minimum TLS version 'TLSv1.3'",
        ),
        ({"ciphers": "NO-SUCH-CIPHER"}, ValueError, "ciphers='NO-SUCH-CIPHER' selects no cipher"),
        ({"ciphers": 1}, TypeError, "ciphers must be an OpenSSL cipher string"),
        ({"pin": "sha256//short"}, ValueError, "pin='sha256//short' is not the base64 SHA-256"),
        ({"pin": "sha1//" + PIN}, ValueError, "is not the base64 SHA-256"),
        ({"pin": []}, ValueError, "names no public key"),
        ({"pin": b"x"}, TypeError, "pin must be a 'sha256//<base64>' string"),
        ({"verify": ssl.create_default_context(), "cert": "c.pem"}, ValueError, "so cert cannot be added"),
        ({"verify": ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)}, ValueError, "client-side ssl.SSLContext"),
    ],
)
@pytest.mark.parametrize("kind", [brisk.Session, brisk.AsyncSession])
def test_a_bad_value_is_refused_by_the_constructor_naming_it(
    kind: Any, settings: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        kind(**settings)


def test_a_bad_value_assigned_later_or_given_per_request_is_refused_at_first_use() -> None:
    session = brisk.Session(transport=brisk.testing.MockTransport(routes={"/": 200}))
    session.tls_min_version = "TLSv9"
    with pytest.raises(ValueError, match="tls_min_version must be"):
        session.get("https://example.test/")
    session.tls_min_version = None
    with pytest.raises(ValueError, match="not a tuple of 4 items"):
        session.get("https://example.test/", cert=("a", "b", "c", "d"))
    with pytest.raises(ValueError, match="so cert cannot be added"):
        session.get("https://example.test/", verify=ssl.create_default_context(), cert="c.pem")
    assert session.get("https://example.test/").status_code == 200


def test_the_forms_each_setting_takes() -> None:
    session = brisk.Session(
        tls_min_version=ssl.TLSVersion.TLSv1_2, tls_max_version="1.3", ciphers="ECDHE+AESGCM",
        pin=f" sha256//{PIN} ;{PIN}", verify=bytearray(b"-----BEGIN CERTIFICATE-----"), cert=[b"pem", None],
    )  # fmt: skip
    assert (session.tls_min_version, session.tls_max_version) == ("TLSv1_2", "TLSv1_3")
    assert session.pin == (PIN,)
    assert session.verify == b"-----BEGIN CERTIFICATE-----"
    assert session.cert == b"pem"  # (cert, None): the key is in the certificate's file
    assert check_cert(("c.pem", "k.pem", "pw")) == ("c.pem", "k.pem", "pw")
    assert check_cert(["c.pem", None, "pw"]) == ("c.pem", "c.pem", "pw")
    assert check_cert(Path("c.pem")) == "c.pem"
    assert tls_options(None, None, None, None) is None


def test_the_settings_are_in_the_pool_key_and_the_context_cache_key(tmp_path: Path) -> None:
    session = brisk.Session(trust_env=False, pin=PIN)
    url = URL.parse("https://example.test/")
    config = session._connection_config(url, None, None, None)
    assert config.tls == TLSOptions(None, None, None, (PIN,))
    session.tls_max_version = "TLSv1.2"
    changed = session._connection_config(url, None, None, None)
    assert changed != config
    assert changed.tls == TLSOptions(None, "TLSv1_2", None, (PIN,))
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    plain = ssl_context(ConnectionConfig(verify=str(bundle)))
    capped = ssl_context(
        ConnectionConfig(verify=str(bundle), tls=TLSOptions(None, "TLSv1_2", "ECDHE+AESGCM", ()))
    )
    assert capped is not plain
    assert capped.maximum_version == ssl.TLSVersion.TLSv1_2
    assert plain.maximum_version != ssl.TLSVersion.TLSv1_2
    assert {c["name"] for c in capped.get_ciphers() if c["protocol"] != "TLSv1.3"} < {
        c["name"] for c in plain.get_ciphers() if c["protocol"] != "TLSv1.3"
    }
    assert ssl_context(ConnectionConfig(verify=ca.cert_pem.bytes())) is ssl_context(
        ConnectionConfig(verify=ca.cert_pem.bytes())
    )  # cached by value
    with pytest.warns(DeprecationWarning, match="TLSv1_1"):  # Python's own warning: the user's choice
        lowered = ssl_context(ConnectionConfig(verify=str(bundle), tls=TLSOptions("TLSv1_1", None, None, ())))
    assert lowered.minimum_version == ssl.TLSVersion.TLSv1_1  # asked for explicitly; TLS 1.2 otherwise
    given = ssl.create_default_context()
    assert ssl_context(ConnectionConfig(verify=given, tls=TLSOptions(None, None, None, (PIN,)))) is given


def _pin_by_cryptography(pem: bytes) -> str:
    certificate = x509.load_pem_x509_certificate(pem)
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


@pytest.mark.parametrize("key_type", ["ECDSA", "RSA"])
def test_spki_pin_matches_cryptography(key_type: str) -> None:
    leaf = trustme.CA(key_type=getattr(trustme.KeyType, key_type)).issue_cert(
        "localhost", key_type=getattr(trustme.KeyType, key_type)
    )
    pem = leaf.cert_chain_pems[0].bytes()
    assert spki_pin(ssl.PEM_cert_to_DER_cert(pem.decode())) == _pin_by_cryptography(pem)


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _content(der: bytes) -> tuple[bytes, bytes]:
    """(the content of the DER element at the start of ``der``, what follows it)."""
    size, at = der[1], 2
    if size & 0x80:
        size, at = int.from_bytes(der[2 : 2 + (size & 0x7F)], "big"), 2 + (size & 0x7F)
    return der[at : at + size], der[at + size :]


def test_spki_pin_of_a_certificate_without_the_version_field() -> None:
    """X.509 v1 certificates omit the [0] version element (cryptography makes none: one is cut out of a v3
    certificate; the signature no longer matters here)."""
    pem = trustme.CA().issue_cert("localhost").cert_chain_pems[0].bytes()
    certificate = x509.load_pem_x509_certificate(pem)
    tbs = certificate.tbs_certificate_bytes
    fields, _ = _content(tbs)
    assert fields[0] == 0xA0
    _, without_version = _content(fields)
    cert_content, _ = _content(certificate.public_bytes(serialization.Encoding.DER))
    _, signature_parts = _content(cert_content)
    v1 = _der(0x30, _der(0x30, without_version) + signature_parts)
    assert spki_pin(v1) == _pin_by_cryptography(pem)


def test_a_truncated_certificate_is_an_ssl_error() -> None:
    pem = trustme.CA().issue_cert("localhost").cert_chain_pems[0].bytes()
    der = ssl.PEM_cert_to_DER_cert(pem.decode())
    with pytest.raises(brisk.exceptions.SSLError, match="could not read the public key"):
        spki_pin(der[:60])
