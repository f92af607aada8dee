"""The ``brisk`` command's network options (issue #21), run as users run it against loopback servers:
``--resolve``, ``--connect-to``, ``-4``/``-6``, ``--local-address``, ``--unix-socket``, ``--pin``,
``--tls-min``/``--tls-max``/``--ciphers``, the HTTP version default, and the usage errors of each."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from test_cli import error_of, ok_json, run

from brisk.testing.app import App
from brisk.testing.server import ServerThread
from servers.raw import RawConnection, RawServer, RawServerFactory, http_response
from servers.tls import CertBundle

pytestmark = pytest.mark.timeout(60)


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def ipv6_app_server() -> Iterator[ServerThread]:
    """The test app on ``::1`` only."""
    if not _ipv6_loopback():
        pytest.skip("no IPv6 loopback")
    with ServerThread(App(), host="::1") as server:
        yield server


def port_of(server: ServerThread) -> int:
    return server.address[1]


def recording_tls_server(
    raw_server: RawServerFactory, bundle: CertBundle, seen: list[tuple[str, str]], context: Any = None
) -> RawServer:
    """A TLS server answering ``ok``, recording each connection's TLS version and cipher."""

    def handler(conn: RawConnection) -> None:
        sock: Any = conn.sock
        seen.append((sock.version(), sock.cipher()[0]))
        if conn.recv_request() is not None:
            conn.send(http_response(200, b"ok"))

    return raw_server(handler, tls=context or bundle.server_context())


def spki_pin(bundle: CertBundle) -> str:
    pem = (
        bundle.cert_file.read_bytes().split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
    )
    spki = (
        x509.load_pem_x509_certificate(pem)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


# -- --resolve and --connect-to ------------------------------------------------------------------------------


def test_resolve_reaches_the_local_server_under_another_name(app_server: ServerThread) -> None:
    port = port_of(app_server)
    url = f"http://api.example.test:{port}/get"
    data = ok_json(run("--resolve", f"api.example.test:{port}:127.0.0.1", url))
    assert data["url"] == url
    assert data["headers"]["Host"] == f"api.example.test:{port}"
    # another port of the same name is not covered: the name is looked up (and .test never resolves)
    other = run("--retries", "0", "--resolve", f"api.example.test:{port + 1}:127.0.0.1", url)
    assert other.returncode == 1
    assert "api.example.test" in error_of(other)


def test_resolve_keeps_verifying_the_name_in_the_url(tls_app_server: ServerThread) -> None:
    """The certificate covers localhost, not api.example.test: TLS checks the URL's name, not the address."""
    assert tls_app_server.ca_bundle is not None
    port = port_of(tls_app_server)
    url = f"https://localhost:{port}/get"
    assert ok_json(run("--verify", tls_app_server.ca_bundle, "--resolve", f"localhost:{port}:127.0.0.1", url))
    wrong = run(
        "--verify",
        tls_app_server.ca_bundle,
        "--resolve",
        f"api.example.test:{port}:127.0.0.1",
        f"https://api.example.test:{port}/get",
    )
    assert wrong.returncode == 1
    assert "api.example.test" in error_of(wrong)


def test_resolve_takes_several_addresses_and_ipv6(ipv6_app_server: ServerThread) -> None:
    port = port_of(ipv6_app_server)
    url = f"http://dual.test:{port}/ip"
    both = ok_json(run("--resolve", f"+dual.test:{port}:127.0.0.1,[::1]", url))  # curl's + is accepted
    assert both["origin"] == "::1"


def test_connect_to_an_address_and_to_a_name(app_server: ServerThread) -> None:
    port = port_of(app_server)
    url = f"http://api.example.test:{port}/get"
    for rule in (
        f"api.example.test:{port}:127.0.0.1:{port}",
        f"api.example.test:{port}:127.0.0.1:",
        "api.example.test::127.0.0.1:",  # any port
        f"api.example.test:{port}:localhost:",  # a name, looked up when the request connects
        f"api.example.test:{port}:cdn.test:",  # a name that --resolve gives
    ):
        result = run("--connect-to", rule, "--resolve", f"cdn.test:{port}:127.0.0.1", url)
        data = ok_json(result)
        assert data["headers"]["Host"] == f"api.example.test:{port}", rule


def test_connect_to_wins_over_resolve_for_host1(app_server: ServerThread) -> None:
    """As in curl: HOST1's connection goes to HOST2, whatever --resolve says about HOST1."""
    port = port_of(app_server)
    result = run(
        "--resolve",
        f"api.example.test:{port}:127.0.0.9",  # nothing listens there
        "--connect-to",
        f"api.example.test:{port}:localhost:",
        f"http://api.example.test:{port}/get",
    )
    assert ok_json(result)["url"] == f"http://api.example.test:{port}/get"


def test_connect_to_a_name_that_does_not_resolve() -> None:
    result = run("--retries", "0", "--connect-to", "a.test:80:nowhere.invalid:", "http://a.test/")
    assert result.returncode == 1
    line = error_of(result)
    assert "nowhere.invalid" in line
    assert "--connect-to" in line


def test_connect_to_another_port_is_refused(app_server: ServerThread) -> None:
    """resolve= maps names to addresses, never to another port: curl's port change is refused, clearly."""
    port = port_of(app_server)
    result = run("--connect-to", f"api.example.test:80:127.0.0.1:{port}", "http://api.example.test/get")
    assert result.returncode == 2
    assert "same port only" in error_of(result)


# -- -4 / -6, --local-address --------------------------------------------------------------------------------


def test_ipv4_and_ipv6_only(ipv6_app_server: ServerThread, app_server: ServerThread) -> None:
    port = port_of(ipv6_app_server)
    url = f"http://dual.test:{port}/ip"
    dual = f"dual.test:{port}:127.0.0.1,::1"  # a dual-stack name; the server listens on ::1 only
    assert ok_json(run("-6", "--resolve", dual, url))["origin"] == "::1"
    assert ok_json(run("--ipv6", "--resolve", dual, url))["origin"] == "::1"
    v4 = run("-4", "--retries", "0", "--resolve", dual, url)
    assert v4.returncode == 1
    line = error_of(v4)
    assert f"127.0.0.1:{port}" in line
    assert "::1" not in line.split("tried", 1)[1]
    literal = run("-4", "--retries", "0", f"{ipv6_app_server.url}/ip")
    assert literal.returncode == 1
    assert "no IPv4 address" in error_of(literal)
    assert ok_json(run("-4", f"http://localhost:{port_of(app_server)}/ip"))["origin"] == "127.0.0.1"


def test_local_address_is_seen_by_the_server(app_server: ServerThread) -> None:
    assert ok_json(run("--local-address", "127.0.0.2", f"{app_server.url}/ip"))["origin"] == "127.0.0.2"
    assert ok_json(run(f"{app_server.url}/ip"))["origin"] == "127.0.0.1"


# -- --unix-socket -------------------------------------------------------------------------------------------


def test_unix_socket(uds_app_server: ServerThread) -> None:
    assert uds_app_server.uds is not None
    data = ok_json(run("--unix-socket", uds_app_server.uds, "http://api.local/get", "q==1"))
    assert data["url"] == "http://api.local/get?q=1"
    assert data["headers"]["Host"] == "api.local"
    head = run("--unix-socket", uds_app_server.uds, "--http2-prior-knowledge", "-p", "h", "http://api.local/")
    assert head.stdout.decode().startswith("HTTP/2 200 OK\n")


def test_unix_socket_that_is_not_there(tmp_path: Any) -> None:
    missing = str(tmp_path / "none.sock")
    result = run("--unix-socket", missing, "http://api.local/get")
    assert result.returncode == 1
    assert missing in error_of(result)


# -- TLS: --pin, versions, ciphers, HTTP/2 by default --------------------------------------------------------


def test_pin_right_and_wrong(raw_server: RawServerFactory, good_cert: CertBundle) -> None:
    server = recording_tls_server(raw_server, good_cert, [])
    url = f"https://localhost:{server.port}/"
    ca = str(good_cert.ca_bundle)
    pin = spki_pin(good_cert)
    other = base64.b64encode(b"\x01" * 32).decode()
    for pins in (f"sha256//{pin}", f"sha256//{other};sha256//{pin}", pin):
        result = run("--verify", ca, "--pin", pins, url)
        assert result.stdout == b"ok", (pins, result.stderr)
    assert run("-k", "--pinnedpubkey", f"sha256//{pin}", url).stdout == b"ok"
    wrong = run("--verify", ca, "--pin", f"sha256//{other}", url)
    assert wrong.returncode == 1
    line = error_of(wrong)
    assert "pin mismatch" in line
    assert pin in line


def test_tls_versions_and_ciphers(raw_server: RawServerFactory, good_cert: CertBundle) -> None:
    seen: list[tuple[str, str]] = []
    server = recording_tls_server(raw_server, good_cert, seen)
    url = f"https://localhost:{server.port}/"
    ca = str(good_cert.ca_bundle)
    assert run("--verify", ca, url).stdout == b"ok"
    assert run("--verify", ca, "--tls-max", "1.2", url).stdout == b"ok"
    assert run("--verify", ca, "--tlsv1.3", url).stdout == b"ok"
    one = "ECDHE-ECDSA-CHACHA20-POLY1305"  # trustme's keys are ECDSA
    assert run("--verify", ca, "--tls-max", "TLSv1.2", "--ciphers", one, url).stdout == b"ok"
    assert seen == [
        ("TLSv1.3", seen[0][1]),
        ("TLSv1.2", seen[1][1]),
        ("TLSv1.3", seen[2][1]),
        ("TLSv1.2", one),
    ]


def test_a_minimum_above_what_the_server_speaks(raw_server: RawServerFactory, good_cert: CertBundle) -> None:
    context = good_cert.server_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    server = recording_tls_server(raw_server, good_cert, [], context)
    url = f"https://localhost:{server.port}/"
    ca = str(good_cert.ca_bundle)
    assert run("--verify", ca, url).stdout == b"ok"
    failed = run("--verify", ca, "--retries", "0", "--tls-min", "1.3", url)
    assert failed.returncode == 1
    assert "TLS" in error_of(failed)


def test_http2_is_offered_by_default_as_the_library_does(tls_app_server: ServerThread) -> None:
    """Session(http2=True) is the library's default: https offers h2 by ALPN. The command agrees; plain
    http stays HTTP/1.1 in both."""
    assert tls_app_server.ca_bundle is not None
    url = f"{tls_app_server.url}/get"
    assert run("--verify", tls_app_server.ca_bundle, "-p", "h", url).stdout.startswith(b"HTTP/2 200 OK\n")
    h1 = run("--http1.1", "--verify", tls_app_server.ca_bundle, "-p", "h", url)
    assert h1.stdout.startswith(b"HTTP/1.1 200 OK\n")


# -- usage errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--resolve", "a.test:80"), "expected HOST:PORT:ADDR"),
        (("--resolve", "a.test:http:127.0.0.1"), "'http' is not a port number"),
        (("--resolve", "a.test:80:localhost"), "'localhost' is not an IP address"),
        (("--resolve", "*:80:127.0.0.1"), "wildcard * is not supported"),
        (("--resolve", "-a.test:80"), "removing an entry"),
        (("--resolve", "[::1]:80:127.0.0.1"), "must be a name"),
        (("--connect-to", "a.test:80"), "expected HOST1:PORT1:HOST2:PORT2"),
        (("--connect-to", "a.test:80:b.test:81"), "same port only"),
        (("--connect-to", ":80:b.test:"), "give HOST1"),
        (("--connect-to", "a.test:80::81"), "give HOST2"),
        (("--connect-to", "127.0.0.1:80:b.test:"), "HOST2 must be one too"),
        (("--connect-to", "a.test:99999:b.test:"), "is not a port number"),
        (("--local-address", "eth0"), "'eth0' is not an IP address"),
        (("-4", "--local-address", "::1"), "family -4 asks for"),
        (("--unix-socket", ""), "--unix-socket needs a path"),
        (("--unix-socket", "/tmp/x.sock", "--proxy", "http://p:3128"), "cannot be used together"),
        (("--pin", "sha256//short"), "--pin: pin="),
        (("--pinnedpubkey", "key.pem"), "--pin: pin="),
        (("--tls-min", "1.4"), "--tls-min '1.4': use 1.2 or 1.3"),
        (("--tls-max", "ssl3"), "--tls-max 'ssl3'"),
        (("--tls-max", "1.1"), "below brisk's minimum"),
        (("--tls-min", "1.3", "--tls-max", "1.2"), "is above --tls-max"),
        (("--ciphers", "NO-SUCH-CIPHER"), "--ciphers: "),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = run(*args, "http://a.test/")
    assert result.returncode == 2
    line = error_of(result)
    assert message in line
    assert "(see 'brisk --help')" in line
    assert result.stdout == b""


def test_help_lists_the_network_options() -> None:
    text = run("--help").stdout.decode()
    for option in (
        "--resolve",
        "--connect-to",
        "-4, --ipv4",
        "-6, --ipv6",
        "--local-address",
        "--unix-socket",
    ):
        assert option in text
    for option in ("--pin", "--tls-min", "--tls-max", "--tlsv1.3", "--ciphers", "--http1.1"):
        assert option in text
    http2 = text.split("--http2 ", 1)[1].split("--http2-prior", 1)[0]
    assert " ".join(http2.split()).endswith("(the default)")
