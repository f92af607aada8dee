"""``brisk.DoHResolver``: DNS over HTTPS (RFC 8484) against a local DoH responder, over real loopback sockets.

The responder is a small ASGI app served by hypercorn over TLS (a trustme certificate of the session CA):
it reads the DNS query (POST body or GET ``?dns=``) with dnspython, answers from a little zone of made-up
``example.test`` names, and records every question it was asked, so the tests can count queries.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from typing import Any

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
import trustme

import brisk
from brisk._session.doh import DoHError
from brisk.exceptions import NameResolutionError
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, SyncClient

Client = SyncClient | AsyncClient
Factory = Callable[..., Client]

SOA = "ns.example.test. admin.example.test. 1 3600 600 86400 30"  # negative answers: 30 s
#: name -> (TTL, [(type, value), ...]); a name not here does not exist
ZONE: dict[str, tuple[int, list[tuple[str, str]]]] = {
    "api.example.test.": (300, [("A", "127.0.0.1")]),
    "both.example.test.": (300, [("A", "127.0.0.1"), ("AAAA", "::1")]),
    "short.example.test.": (1, [("A", "127.0.0.1")]),
    "alias.example.test.": (60, [("CNAME", "api.example.test.")]),
    "servfail.example.test.": (0, []),
}


class DoHResponder:
    """An ASGI DoH server answering from ``ZONE``; ``asked`` lists (HTTP method, name, type) per query.
    ``/broken`` answers 503, ``/text`` answers 200 with a text body."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def count(self, name: str, kind: str) -> int:
        return sum(1 for _, asked, asked_kind in self.asked if (asked, asked_kind) == (name, kind))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        if path == "/broken":
            await _respond(send, 503, b"text/plain", b"down for maintenance")
            return
        if path == "/text":
            await _respond(send, 200, b"text/plain", b"not DNS")
            return
        if scope["method"] == "GET":
            query_string = scope["query_string"].decode()
            encoded = dict(part.split("=", 1) for part in query_string.split("&"))["dns"]
            assert "=" not in encoded, "RFC 8484: base64url without padding"
            body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        else:
            headers = dict(scope["headers"])
            assert headers[b"content-type"] == b"application/dns-message"
        query = dns.message.from_wire(body)
        assert query.id == 0, "RFC 8484 section 4.1: ID 0"
        question = query.question[0]
        name, kind = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
        self.asked.append((scope["method"], name, kind))
        await _respond(send, 200, b"application/dns-message", _answer(query, name, kind).to_wire())


def _answer(query: dns.message.Message, name: str, kind: str) -> dns.message.Message:
    reply = dns.message.make_response(query)
    if name == "servfail.example.test.":
        reply.set_rcode(dns.rcode.SERVFAIL)
        return reply
    while name in ZONE:
        ttl, records = ZONE[name]
        cname = [value for record_kind, value in records if record_kind == "CNAME"]
        if cname:
            reply.answer.append(dns.rrset.from_text(name, ttl, "IN", "CNAME", cname[0]))
            name = cname[0]
            continue
        values = [value for record_kind, value in records if record_kind == kind]
        if values:
            reply.answer.append(dns.rrset.from_text(name, ttl, "IN", kind, *values))
        else:  # the name exists, not this type: NODATA, with the SOA for the negative TTL
            reply.authority.append(dns.rrset.from_text("example.test.", 30, "IN", "SOA", SOA))
        return reply
    reply.set_rcode(dns.rcode.NXDOMAIN)
    reply.authority.append(dns.rrset.from_text("example.test.", 30, "IN", "SOA", SOA))
    return reply


async def _respond(send: Any, status: int, kind: bytes, body: bytes) -> None:
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def doh_server(ca: trustme.CA) -> Iterator[tuple[ServerThread, DoHResponder]]:
    responder = DoHResponder()
    identities = ("doh.example.test", "localhost", "127.0.0.1", "::1")
    with ServerThread(responder, tls=True, ca=ca, identities=identities) as server:
        yield server, responder


@pytest.fixture
def doh(doh_server: tuple[ServerThread, DoHResponder]) -> DoHResponder:
    """The responder, its record of questions emptied."""
    doh_server[1].asked.clear()
    return doh_server[1]


@pytest.fixture
def doh_url(doh_server: tuple[ServerThread, DoHResponder]) -> str:
    return f"{doh_server[0].url}/dns-query"


@pytest.fixture
def make_resolver(ca_bundle: str) -> Iterator[Callable[..., brisk.DoHResolver]]:
    """``make_resolver(url, **settings)``: a DoHResolver trusting the session CA (closed after the test)."""
    made: list[brisk.DoHResolver] = []

    def make(url: str, **settings: Any) -> brisk.DoHResolver:
        settings.setdefault("verify", ca_bundle)
        made.append(brisk.DoHResolver(url, **settings))
        return made[-1]

    yield make
    for resolver in made:
        resolver.close()


# -- through a session, sync and async -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_made_up_name_reaches_the_app_through_doh(
    client_factory: Factory,
    app_server: ServerThread,
    doh: DoHResponder,
    doh_url: str,
    make_resolver: Callable[..., brisk.DoHResolver],
    method: str,
) -> None:
    client = client_factory(resolver=make_resolver(doh_url, method=method))
    response = client.get(f"http://api.example.test:{app_server.port}/get")
    assert response.status_code == 200
    assert client.read(response)
    assert response.connection_info.peer_address[0] == "127.0.0.1"
    assert sorted(doh.asked) == [(method, "api.example.test.", "A"), (method, "api.example.test.", "AAAA")]


def test_nxdomain_is_a_name_resolution_error_naming_the_host(
    client_factory: Factory,
    doh: DoHResponder,
    doh_url: str,
    make_resolver: Callable[..., brisk.DoHResolver],
    unused_port: int,
) -> None:
    client = client_factory(resolver=make_resolver(doh_url))
    with pytest.raises(NameResolutionError, match=r"'nope\.example\.test'.*NXDOMAIN") as caught:
        client.get(f"http://nope.example.test:{unused_port}/", retries=0)
    assert doh_url in str(caught.value)


def test_a_doh_server_error_names_the_host_the_url_and_the_status(
    client_factory: Factory,
    doh_server: tuple[ServerThread, DoHResponder],
    make_resolver: Callable[..., brisk.DoHResolver],
    unused_port: int,
) -> None:
    broken = f"{doh_server[0].url}/broken"
    client = client_factory(resolver=make_resolver(broken))
    with pytest.raises(NameResolutionError, match=r"'api\.example\.test'.*HTTP 503") as caught:
        client.get(f"http://api.example.test:{unused_port}/", retries=0)
    assert broken in str(caught.value)


def test_the_doh_server_is_verified_by_the_resolvers_own_session(
    client_factory: Factory, doh: DoHResponder, doh_url: str, unused_port: int
) -> None:
    """Without the test CA the DoH server's certificate is not trusted: no answer is used."""
    with brisk.DoHResolver(doh_url) as resolver:
        client = client_factory(resolver=resolver)
        with pytest.raises(NameResolutionError, match=r"certificate verification failed"):
            client.get(f"http://api.example.test:{unused_port}/", retries=0)
    assert doh.asked == []


# -- the resolver itself -------------------------------------------------------------------------------------


def test_answers_are_cached_for_their_ttl(
    doh: DoHResponder, doh_url: str, make_resolver: Callable[..., brisk.DoHResolver]
) -> None:
    resolver = make_resolver(doh_url)
    assert resolver("api.example.test", 80) == ["127.0.0.1"]
    assert resolver("API.example.test", 443) == ["127.0.0.1"]  # the A record (300 s), the NODATA (30 s)
    assert len(doh.asked) == 2
    assert resolver("short.example.test", 80) == ["127.0.0.1"]  # TTL 1 s
    assert resolver("short.example.test", 80) == ["127.0.0.1"]
    assert doh.count("short.example.test.", "A") == 1
    time.sleep(1.1)
    assert resolver("short.example.test", 80) == ["127.0.0.1"]
    assert doh.count("short.example.test.", "A") == 2
    with pytest.raises(DoHError, match="NXDOMAIN"):
        resolver("nope.example.test", 80)
    with pytest.raises(DoHError, match="NXDOMAIN"):  # the negative answer is cached (SOA: 30 s)
        resolver("nope.example.test", 80)
    assert doh.count("nope.example.test.", "A") == 1
    resolver.clear_cache()
    resolver("api.example.test", 80)
    assert doh.count("api.example.test.", "A") == 2


def test_the_cache_can_be_off_or_bounded(
    doh: DoHResponder, doh_url: str, make_resolver: Callable[..., brisk.DoHResolver]
) -> None:
    uncached = make_resolver(doh_url, cache=False, family="ipv4")
    for _ in range(3):
        uncached("api.example.test", 80)
    assert doh.count("api.example.test.", "A") == 3
    doh.asked.clear()
    one = make_resolver(doh_url, cache=1, family="ipv4")
    for name in ("api.example.test", "api.example.test", "both.example.test", "api.example.test"):
        one(name, 80)
    assert doh.count("api.example.test.", "A") == 2  # pushed out by both.example.test
    assert doh.count("both.example.test.", "A") == 1


def test_both_families_ipv6_first_or_only_the_one_asked_for(
    doh: DoHResponder, doh_url: str, make_resolver: Callable[..., brisk.DoHResolver]
) -> None:
    assert make_resolver(doh_url)("both.example.test", 80) == ["::1", "127.0.0.1"]
    assert make_resolver(doh_url, family="ipv4")("both.example.test", 80) == ["127.0.0.1"]
    assert make_resolver(doh_url, family="ipv6", method="GET")("both.example.test", 80) == ["::1"]
    assert doh.count("both.example.test.", "A") == 2
    assert doh.count("both.example.test.", "AAAA") == 2
    with pytest.raises(DoHError, match=r"api\.example\.test: no AAAA record"):
        make_resolver(doh_url, family="ipv6")("api.example.test", 80)


def test_queries_sent_at_once_share_the_sessions_one_pool(
    doh: DoHResponder,
    doh_url: str,
    make_resolver: Callable[..., brisk.DoHResolver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new resolver's A and AAAA queries are the first requests of its session, sent from two threads at
    once: they must share one transport (connection pool). A second one would be dropped with its
    connection open, an unclosed socket's ResourceWarning failing whichever test is running."""
    made: list[brisk.Session] = []
    new_transport = brisk.Session._new_transport

    def slow_new_transport(session: brisk.Session) -> Any:
        made.append(session)
        time.sleep(0.05)  # widens the window in which the other thread would make one too
        return new_transport(session)

    monkeypatch.setattr(brisk.Session, "_new_transport", slow_new_transport)
    resolver = make_resolver(doh_url)
    with pytest.raises(DoHError, match="NXDOMAIN"):
        resolver("nope.example.test", 80)
    assert made == [resolver.session]
    assert sorted(kind for _, _, kind in doh.asked) == ["A", "AAAA"]


def test_a_cname_chain_is_followed(doh_url: str, make_resolver: Callable[..., brisk.DoHResolver]) -> None:
    assert make_resolver(doh_url)("alias.example.test", 80) == ["127.0.0.1"]


def test_dns_and_http_failures_are_clear_errors(
    doh_server: tuple[ServerThread, DoHResponder],
    doh_url: str,
    make_resolver: Callable[..., brisk.DoHResolver],
) -> None:
    with pytest.raises(DoHError, match=r"answered SERVFAIL") as caught:
        make_resolver(doh_url)("servfail.example.test", 80)
    assert caught.value.rcode == "SERVFAIL"
    assert caught.value.url == doh_url
    broken = f"{doh_server[0].url}/broken"
    with pytest.raises(DoHError, match=r"HTTP 503") as caught:
        make_resolver(broken)("api.example.test", 80)
    assert (caught.value.status, caught.value.url) == (503, broken)
    with pytest.raises(DoHError, match=r"Content-Type 'text/plain'"):
        make_resolver(f"{doh_server[0].url}/text")("api.example.test", 80)
    with pytest.raises(OSError, match="not a valid DNS name"):
        make_resolver(doh_url)("a" * 64 + ".example.test", 80)


def test_the_doh_server_may_be_named_in_resolve(
    doh: DoHResponder, doh_server: tuple[ServerThread, DoHResponder], make_resolver: Callable[..., Any]
) -> None:
    url = f"https://doh.example.test:{doh_server[0].port}/dns-query"
    resolver = make_resolver(url, resolve={"doh.example.test": "127.0.0.1"})
    assert resolver("api.example.test", 80) == ["127.0.0.1"]


def test_a_resolver_never_resolves_through_itself(doh: DoHResponder, doh_url: str, ca_bundle: str) -> None:
    with brisk.Session(verify=ca_bundle) as session:
        resolver = brisk.DoHResolver(doh_url, session=session)
        assert resolver("api.example.test", 80) == ["127.0.0.1"]
        session.resolver = resolver
        with pytest.raises(DoHError, match="uses it as resolver"):
            resolver("both.example.test", 80)
    assert doh.count("both.example.test.", "A") == 0
