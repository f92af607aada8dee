"""``brisk._transport.errors``: OS errors turned into brisk's exceptions, each naming what failed. The errors
are built by hand (no socket): they are what ``socket``, ``ssl`` and the resolver raise."""

from __future__ import annotations

import errno
import socket
import ssl
import sys

import pytest

from brisk._transport.errors import broken, handshake_failed, not_connected, not_resolved
from brisk.exceptions import (
    ConnectionError,
    ConnectionRefused,
    NameResolutionError,
    ProxySSLError,
    RequestException,
    SSLError,
)


def ssl_error(reason: str, kind: type[ssl.SSLError] = ssl.SSLError) -> ssl.SSLError:
    """An SSL error as the ssl module raises one: ``reason`` is the OpenSSL reason code."""
    exc = kind(1, f"[SSL: {reason}] {reason.lower().replace('_', ' ')} (_ssl.c:1000)")
    exc.reason = reason  # set by the C code for real errors; absent on ones built in Python
    return exc


# broken(): a read or write that failed


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        BrokenPipeError(errno.EPIPE, "Broken pipe"),
        TimeoutError("timed out"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_a_broken_connection_is_a_connection_error_naming_what_was_being_done(exc: OSError) -> None:
    error = broken(exc, "sending the request")
    assert type(error) is ConnectionError, "not an SSLError (which is a ConnectionError too)"
    assert str(error) == f"the connection broke while sending the request: {exc}"


def test_a_tls_alert_during_a_read_is_an_ssl_error_with_its_reason() -> None:
    exc = ssl_error("TLSV13_ALERT_CERTIFICATE_REQUIRED")
    error = broken(exc, "waiting for the server's response")
    assert type(error) is SSLError
    reason = "TLSV13_ALERT_CERTIFICATE_REQUIRED"
    assert str(error) == f"TLS error while waiting for the server's response: {reason}"


def test_a_tls_error_without_a_reason_is_described_by_its_text() -> None:
    exc = ssl.SSLEOFError(8, "EOF occurred in violation of protocol")
    error = broken(exc, "reading the response body")
    assert type(error) is SSLError
    assert str(error) == f"TLS error while reading the response body: {exc}"


def test_broken_does_not_import_ssl(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain-http clients never load ssl: telling an SSL error apart must not import it."""
    monkeypatch.delitem(sys.modules, "ssl")
    error = broken(ConnectionResetError(errno.ECONNRESET, "reset"), "sending the request")
    assert type(error) is ConnectionError
    assert "ssl" not in sys.modules


# not_resolved()


def test_a_name_that_does_not_resolve_is_a_name_resolution_error_naming_the_host() -> None:
    exc = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    error = not_resolved("nowhere.invalid", exc)
    assert type(error) is NameResolutionError
    assert isinstance(error, ConnectionError), "requests users catch ConnectionError"
    assert str(error) == "could not resolve host 'nowhere.invalid': Name or service not known"


# not_connected()


def test_a_refused_connection_is_connection_refused_naming_host_and_port() -> None:
    error = not_connected("example.com", 8080, ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
    assert type(error) is ConnectionRefused
    assert isinstance(error, ConnectionError)
    assert str(error) == "connection refused by example.com:8080 (nothing listens there)"


@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.EHOSTUNREACH, "No route to host"),
        OSError(errno.ENETUNREACH, "Network is unreachable"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
    ],
    ids=lambda exc: errno.errorcode[exc.errno],
)
def test_any_other_failure_to_connect_is_a_connection_error_with_its_cause(exc: OSError) -> None:
    error = not_connected("example.com", 443, exc)
    assert type(error) is ConnectionError
    assert str(error) == f"could not connect to example.com:443: {exc}"
    assert error.__cause__ is exc


# handshake_failed()


def test_a_failed_certificate_check_is_an_ssl_error_naming_host_and_reason() -> None:
    exc = ssl_error("CERTIFICATE_VERIFY_FAILED", ssl.SSLCertVerificationError)
    exc.verify_message = "certificate has expired"  # type: ignore[attr-defined]
    error = handshake_failed(exc, "expired.example")
    assert type(error) is SSLError
    assert str(error) == "TLS certificate verification failed for 'expired.example': certificate has expired"


def test_a_failed_handshake_is_an_ssl_error_naming_host_and_reason() -> None:
    exc = ssl_error("WRONG_VERSION_NUMBER")
    error = handshake_failed(exc, "example.com")
    assert type(error) is SSLError
    assert str(error) == "TLS handshake with 'example.com' failed: WRONG_VERSION_NUMBER"


def test_a_connection_breaking_during_the_handshake_is_an_ssl_error() -> None:
    exc = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    error = handshake_failed(exc, "example.com")
    assert type(error) is SSLError
    assert str(error) == f"the connection broke during the TLS handshake with 'example.com': {exc}"


@pytest.mark.parametrize("error", [SSLError("already brisk's"), ProxySSLError("the proxy's TLS failed")])
def test_brisks_own_ssl_errors_pass_through_unchanged(error: RequestException) -> None:
    assert handshake_failed(error, "example.com") is error
