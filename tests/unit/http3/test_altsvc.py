"""Alt-Svc parsing and the per-session memory of HTTP/3 origins (``brisk._transport.altsvc``): no sockets."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

import brisk
from brisk._core.url import URL
from brisk._transport.altsvc import BROKEN_FOR, AltSvcCache, Routes, parse_alt_svc
from brisk._transport.base import PRIOR_KNOWLEDGE, ConnectionConfig, SendOptions
from brisk.exceptions import MissingDependencyError

ORIGIN = ("example.org", 443)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('h3=":443"', (443, 86400.0)),
        ('h3=":8443"; ma=60', (8443, 60.0)),
        ('h3-29=":443", h3=":9443"; ma=10; persist=1', (9443, 10.0)),
        ('h3="example.org:444"', (444, 86400.0)),
        ('h3="EXAMPLE.org:444"', (444, 86400.0)),
        ('h3="other.example:443"', None),  # another host: left out
        ('h2=":443"', None),
        ('h3=":0"', None),
        ('h3=":99999"', None),
        ('h3=":x"', None),
        ("garbage", None),
        ("clear", False),
        (" Clear ", False),
    ],
)
def test_parse_alt_svc(value: str, expected: object) -> None:
    assert parse_alt_svc(value, "example.org") == expected


def test_cache_remembers_until_max_age() -> None:
    cache = AltSvcCache()
    assert cache.h3_port(ORIGIN, 0.0) is None
    cache.remember(ORIGIN, 'h3=":8443"; ma=100', 0.0)
    assert cache.h3_port(ORIGIN, 99.0) == 8443
    assert cache.h3_port(("example.org", 8443), 99.0) is None  # per origin
    assert cache.h3_port(ORIGIN, 100.0) is None
    assert cache.h3_port(ORIGIN, 50.0) is None  # expired entries are gone


def test_clear_and_zero_max_age_forget() -> None:
    cache = AltSvcCache()
    cache.remember(ORIGIN, 'h3=":8443"', 0.0)
    cache.remember(ORIGIN, "clear", 1.0)
    assert cache.h3_port(ORIGIN, 2.0) is None
    cache.remember(ORIGIN, 'h3=":8443"', 0.0)
    cache.remember(ORIGIN, 'h3=":8443"; ma=0', 1.0)
    assert cache.h3_port(ORIGIN, 2.0) is None


def test_a_failure_sends_the_origin_over_tcp_for_a_while() -> None:
    cache = AltSvcCache()
    cache.remember(ORIGIN, 'h3=":443"; ma=100000', 0.0)
    cache.failed(ORIGIN, 10.0)
    assert cache.is_broken(ORIGIN, 11.0)
    assert cache.h3_port(ORIGIN, 11.0) is None
    assert cache.h3_port(ORIGIN, 10.0 + BROKEN_FOR) == 443  # tried again once the time is up
    assert not cache.is_broken(ORIGIN, 10.0 + BROKEN_FOR)


class _OtherThreadBetween(dict[object, object]):
    """A dict whose first ``get`` lets ``other`` run before it answers: another thread of the session taking
    its turn between this thread's look-up and what it does with the answer (threads share the routes)."""

    def __init__(self, data: dict[object, object], other: Callable[[], object]) -> None:
        super().__init__(data)
        self.other: Callable[[], object] | None = other

    def get(self, key: object, default: object = None) -> object:
        value = super().get(key, default)
        other, self.other = self.other, None
        if other is not None:
            other()
        return value


def test_two_threads_finding_an_origin_expired_at_once() -> None:
    """Both forget the entry; neither fails (the second ``del`` was a KeyError out of the request)."""
    cache = AltSvcCache()
    cache.remember(ORIGIN, 'h3=":8443"; ma=100', 0.0)
    cache._known = _OtherThreadBetween(cache._known, lambda: cache.h3_port(ORIGIN, 200.0))
    assert cache.h3_port(ORIGIN, 200.0) is None
    assert ORIGIN not in cache._known


def test_two_threads_finding_a_failure_over_at_once() -> None:
    """Both try QUIC again once the failure's time is up; neither fails."""
    cache = AltSvcCache()
    cache.remember(ORIGIN, 'h3=":443"; ma=100000', 0.0)
    cache.failed(ORIGIN, 10.0)
    later = 10.0 + BROKEN_FOR
    cache._broken = _OtherThreadBetween(cache._broken, lambda: cache.h3_port(ORIGIN, later))
    assert cache.h3_port(ORIGIN, later) == 443
    assert not cache.is_broken(ORIGIN, later)


def test_origins_that_failed_are_remembered_in_bounded_memory() -> None:
    """A long crawl meets many origins that offer h3 where UDP is blocked: the failures kept are capped as
    the known origins are (they grew by one entry per failed origin, for the life of the session)."""
    from brisk._transport.altsvc import MAX_ORIGINS

    cache = AltSvcCache()
    for i in range(MAX_ORIGINS * 4):
        cache.remember((f"h{i}.example", 443), 'h3=":443"', 0.0)
        cache.failed((f"h{i}.example", 443), 1.0)
    assert len(cache._broken) <= MAX_ORIGINS
    assert cache.h3_port((f"h{MAX_ORIGINS * 4 - 1}.example", 443), 2.0) is None  # the latest stays broken


def test_routes() -> None:
    routes = Routes()
    discover = ConnectionConfig(http3=True)
    prior = ConnectionConfig(http3=PRIOR_KNOWLEDGE)
    https = URL.parse("https://example.org/x")
    assert routes.h3_port(URL.parse("https://example.org:8443/"), prior, 0.0) == 8443
    assert routes.h3_port(URL.parse("http://example.org/"), prior, 0.0) is None  # https only
    assert routes.h3_port(https, ConnectionConfig(http3=PRIOR_KNOWLEDGE, proxy="http://p:1"), 0.0) is None
    assert routes.h3_port(https, discover, 0.0) is None
    routes.learn(https, discover, {"alt-svc": 'h3=":443"'}, 0.0)
    assert routes.h3_port(https, discover, 1.0) == 443
    routes.learn(https, prior, {"alt-svc": "clear"}, 2.0)  # prior knowledge learns nothing
    assert routes.h3_port(https, discover, 3.0) == 443
    tcp = routes.tcp(SendOptions(config=discover))
    assert tcp.config.http3 is False
    assert tcp.config._replace(http3=True) == discover
    assert routes.tcp(SendOptions(config=discover)).config is tcp.config  # made once per config


def test_alt_svc_discovery_stays_on_tcp_when_quic_cannot_keep_the_tls_settings() -> None:
    import ssl

    from brisk._transport.base import TLSOptions

    https = URL.parse("https://example.org/")
    cases = [
        ConnectionConfig(http3=True, verify=ssl.create_default_context()),
        ConnectionConfig(http3=True, tls=TLSOptions(None, "TLSv1_2", None, ())),
    ]
    for config in cases:
        routes = Routes()
        routes.learn(https, config, {"alt-svc": 'h3=":443"'}, 0.0)
        assert routes.h3_port(https, config, 1.0) is None, config
    for fine in [
        ConnectionConfig(
            http3=True, verify="/ca.pem", cert=("c.pem", "k.pem"), tls=TLSOptions("TLSv1_3", None, None, ())
        ),
        ConnectionConfig(http3=True, verify=b"-----BEGIN CERTIFICATE-----", cert=(b"PEM", b"PEM key")),
    ]:
        routes = Routes()
        routes.learn(https, fine, {"alt-svc": 'h3=":443"'}, 0.0)
        assert routes.h3_port(https, fine, 1.0) == 443, fine


def test_http3_setting_is_checked() -> None:
    with brisk.Session(http3="always") as session, pytest.raises(ValueError, match="http3 must be"):
        session.get("https://example.invalid/")
    assert brisk.Session().http3 is False
    assert brisk.Session(http3=PRIOR_KNOWLEDGE).http3 == PRIOR_KNOWLEDGE


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from brisk._transport.h3 import load

    monkeypatch.setitem(sys.modules, "aioquic", None)
    with pytest.raises(MissingDependencyError, match=r"brisk\[http3\]"):
        load()


def test_a_plain_session_loads_no_http3_code() -> None:
    import subprocess

    code = (
        "import sys, brisk\n"
        "s = brisk.Session(); s.close()\n"
        "print([m for m in sys.modules if 'aioquic' in m or m.endswith(('h3', 'h3pool', 'http3', 'altsvc'))])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_prior_knowledge_refuses_what_quic_cannot_keep() -> None:
    import ssl

    pytest.importorskip("aioquic", reason="HTTP/3 needs the brisk[http3] extra (aioquic)")
    from brisk._transport.base import TLSOptions
    from brisk._transport.h3 import quic_configuration

    with pytest.raises(ValueError, match=r"ssl\.SSLContext cannot be used over HTTP/3"):
        quic_configuration(ConnectionConfig(verify=ssl.create_default_context()), "example.org")
    with pytest.raises(ValueError, match=r"TLS 1\.3 only"):
        quic_configuration(ConnectionConfig(tls=TLSOptions(None, "TLSv1_2", None, ())), "example.org")
    configuration = quic_configuration(ConnectionConfig(verify=False), "example.org")
    assert configuration.server_name == "example.org"
    assert configuration.verify_mode == ssl.CERT_NONE
    assert configuration.alpn_protocols == ["h3"]
    # an address is the name the certificate is checked against (aioquic leaves it out of SNI itself)
    assert quic_configuration(ConnectionConfig(), "127.0.0.1").server_name == "127.0.0.1"
    assert quic_configuration(ConnectionConfig(), "[::1]").server_name == "::1"


def test_a_client_certificate_as_pem_bytes_loads_as_its_files_do(tmp_path: Any) -> None:
    """``cert=`` as PEM bytes (apart, together, mixed with a path, the key encrypted): the same certificate,
    chain and key on the QUIC configuration as from the files; bytes that hold no key are a clear error."""
    pytest.importorskip("aioquic", reason="HTTP/3 needs the brisk[http3] extra (aioquic)")
    import trustme
    from cryptography.hazmat.primitives import serialization

    from brisk._transport.h3 import quic_configuration
    from brisk.exceptions import SSLError

    leaf = trustme.CA().issue_cert("client@example.org")
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    key = leaf.private_key_pem.bytes()
    (tmp_path / "cert.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    files = quic_configuration(
        ConnectionConfig(cert=(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))), "example.org"
    )
    locked = serialization.load_pem_private_key(key, None).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"),
    )

    def public(configuration: Any) -> bytes:
        return configuration.private_key.public_key().public_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    assert files.certificate is not None
    assert len(files.certificate_chain) == len(leaf.cert_chain_pems) - 1
    path = str(tmp_path / "cert.pem")
    forms: list[Any] = [(chain, key), chain + key, (path, key), (chain, locked, "s3cret"), (chain, key, "")]
    forms.append((chain, key, "unneeded"))  # as OpenSSL does over TCP: a key with no password ignores one
    for cert in forms:
        loaded = quic_configuration(ConnectionConfig(cert=cert), "example.org")
        assert loaded.certificate == files.certificate
        assert loaded.certificate_chain == files.certificate_chain
        assert public(loaded) == public(files)
    with pytest.raises(SSLError, match="could not load the client certificate and key from PEM bytes"):
        quic_configuration(ConnectionConfig(cert=chain), "example.org")
    with pytest.raises(SSLError, match="could not load the client certificate and key from PEM bytes"):
        quic_configuration(ConnectionConfig(cert=(chain, locked, "wrong")), "example.org")
    with pytest.raises(SSLError, match=r"encrypted: give its password as cert=\(cert, key, password\)"):
        quic_configuration(ConnectionConfig(cert=(chain, locked)), "example.org")
    other = trustme.CA().issue_cert("someone@example.org").private_key_pem.bytes()
    with pytest.raises(SSLError, match="the private key does not match the certificate"):
        quic_configuration(ConnectionConfig(cert=(chain, other)), "example.org")


# -- the race of a QUIC attempt found by Alt-Svc against TCP ------------------------------------------------


def test_race_limits_follow_the_connect_timeout() -> None:
    from brisk._transport.altsvc import ATTEMPT_LIMIT, RACE_DELAY, Race

    assert (Race(None).delay, Race(None).limit) == (RACE_DELAY, ATTEMPT_LIMIT)
    assert (Race(30.0).delay, Race(30.0).limit) == (RACE_DELAY, ATTEMPT_LIMIT)
    short = Race(0.1)  # the connect timeout bounds the whole attempt, the delay included
    assert (short.delay, short.limit) == (0.1, 0.1)


@pytest.mark.parametrize(
    ("quic", "tcp", "winner"),
    [
        (None, None, None),  # both under way: wait
        (True, None, "quic"),
        (True, True, "quic"),  # QUIC done first counts even if TCP is connected too
        (True, False, "quic"),
        (False, None, "tcp"),  # QUIC failed: TCP (the request's own attempt if the race's is not done)
        (False, False, "tcp"),  # TCP's error comes again from the request's own attempt
        (None, True, "tcp"),  # TCP ready while QUIC still handshakes: QUIC lost
        (None, False, None),  # TCP failed: wait for QUIC
    ],
)
def test_race_winner(quic: bool | None, tcp: bool | None, winner: str | None) -> None:
    from brisk._transport.altsvc import Race

    race = Race(None)
    race.quic, race.tcp = quic, tcp
    assert race.winner == winner
