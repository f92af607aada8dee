"""The sans-IO decisions of opening a connection (``brisk._transport.connect``), without a network: the
order of the addresses, when the next attempt starts, the settings' checks and the pool key. Sockets are
stood in for by a fake class and the clock by a counter, so no test here touches the network."""

from __future__ import annotations

import socket
from typing import Any

import pytest

import brisk
from brisk._core.url import URL
from brisk._transport import connect
from brisk._transport.base import ConnectionConfig, NetworkOptions, SendOptions, Timings
from brisk._transport.connect import AddressLoop, check_setting, interleave, network_options
from brisk.exceptions import ConnectionRefused, ConnectTimeout, NameResolutionError

V4, V6 = socket.AF_INET, socket.AF_INET6
URL_ = URL.parse("http://a.test/")


def info(family: int, host: str) -> tuple[Any, ...]:
    address = (host, 80) if family == V4 else (host, 80, 0, 0)
    return (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)


def hosts(infos: list[tuple[Any, ...]]) -> list[str]:
    return [i[4][0] for i in infos]


def test_interleave_alternates_families_starting_with_the_first() -> None:
    given = [info(V6, "::1"), info(V6, "::2"), info(V6, "::3"), info(V4, "10.0.0.1"), info(V4, "10.0.0.2")]
    assert hosts(interleave(given)) == ["::1", "10.0.0.1", "::2", "10.0.0.2", "::3"]
    given = [info(V4, "10.0.0.1"), info(V6, "::1"), info(V4, "10.0.0.2")]
    assert hosts(interleave(given)) == ["10.0.0.1", "::1", "10.0.0.2"]
    assert interleave([]) == []


# -- the settings --------------------------------------------------------------------------------------------


def test_resolve_keys_and_values_are_normalised() -> None:
    table = check_setting("resolve", {"API.test": "127.0.0.1", "cdn.test:443": ["::1", "[::2]"]})
    assert table == {"api.test": ("127.0.0.1",), "cdn.test:443": ("::1", "::2")}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("resolve", {"a.test": "not-an-ip"}, r"resolve\['a.test'\]: 'not-an-ip' is not an IP address"),
        ("resolve", {"a.test:http": "127.0.0.1"}, "the port of 'a.test:http' is not a number"),
        ("resolve", {"a.test": []}, "no address given for 'a.test'"),
        ("resolve", ["a.test"], "resolve must be a dict"),
        ("resolver", "8.8.8.8", "resolver must be a callable"),
        ("family", "ipv5", "family must be 'ipv4', 'ipv6' or None"),
        ("local_address", "eth0", "local_address: 'eth0' is not an IP address"),
        ("happy_eyeballs_delay", -1, "happy_eyeballs_delay must be a number of seconds"),
        ("tcp_keepalive", "60", "tcp_keepalive must be a number of seconds"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        check_setting(name, value)
    with pytest.raises((ValueError, TypeError), match=message):
        brisk.Session(**{name: value})


def test_off_and_on_values() -> None:
    assert check_setting("happy_eyeballs_delay", 0) is None
    assert check_setting("tcp_keepalive", False) is None
    assert check_setting("tcp_keepalive", True) == 60.0


def test_default_settings_leave_the_pool_key_as_it_was() -> None:
    assert network_options({}, None, None, None, 0.25, 60.0) is None
    assert brisk.Session(trust_env=False)._connection_config(URL_, None, None, None).network is None


def test_each_network_setting_changes_the_pool_key() -> None:
    base = ConnectionConfig()
    variants = [
        network_options({"a.test": "127.0.0.1"}, None, None, None, 0.25, 60.0),
        network_options({}, lambda h, p: [], None, None, 0.25, 60.0),
        network_options({}, None, "ipv4", None, 0.25, 60.0),
        network_options({}, None, None, "127.0.0.2", 0.25, 60.0),
        network_options({}, None, None, None, None, 60.0),
        network_options({}, None, None, None, 0.25, None),
    ]
    keys = {base, *(base._replace(network=variant) for variant in variants)}
    assert len(keys) == len(variants) + 1


def test_a_session_setting_assigned_later_reaches_the_config() -> None:
    session = brisk.Session(trust_env=False)
    url = URL_
    assert session._connection_config(url, None, None, None).network is None
    session.resolve["a.test"] = "127.0.0.1"  # changed in place
    network = session._connection_config(url, None, None, None).network
    assert network is not None
    assert network.resolve == (("a.test", ("127.0.0.1",)),)
    session.family = "ipv9"
    with pytest.raises(ValueError, match="family must be"):
        session._connection_config(url, None, None, None)


# -- the race, on a fake clock -------------------------------------------------------------------------------


class FakeSocket:
    made: list[FakeSocket] = []

    def __init__(self, family: int, kind: int, proto: int) -> None:
        self.family = family
        self.closed = False
        self.options: dict[tuple[int, int], int] = {}
        FakeSocket.made.append(self)

    def bind(self, address: Any) -> None:
        self.bound = address

    def close(self) -> None:
        self.closed = True

    def setsockopt(self, level: int, name: int, value: int) -> None:
        self.options[level, name] = value


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr(connect.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(connect.socket, "socket", FakeSocket)
    FakeSocket.made = []
    return now


def loop_for(addresses: list[str], connect_timeout: float | None = 5.0, **network: Any) -> AddressLoop:
    options = SendOptions(
        timeout=brisk.Timeout(30, connect=connect_timeout),
        config=ConnectionConfig(network=NetworkOptions(resolve=(("h.test", tuple(addresses)),), **network)),
    )
    attempts = AddressLoop("h.test", 80, options, Timings(0.0))
    assert attempts.addresses is not None
    attempts.resolved(attempts.addresses)
    return attempts


def test_the_next_attempt_starts_after_the_delay(clock: list[float]) -> None:
    attempts = loop_for(["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    first = attempts.start_next()
    assert first is not None
    assert first[1] == ("127.0.0.2", 80)
    assert attempts.start_next() is None  # the first is still in flight
    assert attempts.wait_time() == pytest.approx(0.25)
    clock[0] += 0.25
    second = attempts.start_next()
    assert second is not None
    assert second[1] == ("127.0.0.3", 80)
    clock[0] += 0.1
    attempts.failed(second[0], ConnectionRefusedError(111, "Connection refused"))  # type: ignore[arg-type]
    third = attempts.start_next()  # the last one failed: no need to wait out the delay
    assert third is not None
    assert third[1] == ("127.0.0.4", 80)
    assert attempts.start_next() is None
    assert attempts.wait_time() == pytest.approx(5.0 - 0.35)  # now only the deadline
    winner = attempts.connected(third[0])
    attempts.close()
    assert winner is third[0]
    assert first[0].closed  # type: ignore[attr-defined]
    assert not third[0].closed  # type: ignore[attr-defined]
    assert third[0].options[socket.SOL_SOCKET, socket.SO_KEEPALIVE] == 1  # type: ignore[attr-defined]


def test_the_deadline_ends_the_race_with_every_address_named(clock: list[float]) -> None:
    attempts = loop_for(["127.0.0.2", "127.0.0.3", "127.0.0.4"], connect_timeout=0.4)
    first = attempts.start_next()
    clock[0] += 0.25
    second = attempts.start_next()
    assert first is not None
    assert second is not None
    clock[0] += 0.15
    assert attempts.start_next() is None  # the deadline passed: no new attempt
    assert {*attempts.expired()} == {first[0], second[0]}
    for sock in (first[0], second[0]):
        attempts.failed(sock, TimeoutError())
    with pytest.raises(ConnectTimeout) as caught:
        attempts.wait_time()
    assert str(caught.value) == (
        "connecting to h.test:80 timed out after 0.4s (tried 127.0.0.2:80 (timed out); "
        "127.0.0.3:80 (timed out); not reached in time: 127.0.0.4:80)"
    )


def test_one_at_a_time_gives_each_address_a_share(clock: list[float]) -> None:
    attempts = loop_for(["127.0.0.2", "127.0.0.3"], connect_timeout=10.0, happy_eyeballs_delay=None)
    first = attempts.start_next()
    assert first is not None
    assert attempts.start_next() is None
    assert attempts.wait_time() == pytest.approx(5.0)  # half of the 10 s
    clock[0] += 5.0
    assert attempts.expired() == [first[0]]
    attempts.failed(first[0], TimeoutError())
    second = attempts.start_next()
    assert second is not None
    assert attempts.wait_time() == pytest.approx(5.0)  # the rest


def test_all_refused_is_connection_refused(clock: list[float]) -> None:
    attempts = loop_for(["127.0.0.2", "::1"])
    for _ in range(2):
        started = attempts.start_next()
        assert started is not None
        attempts.failed(started[0], ConnectionRefusedError(111, "Connection refused"))
    with pytest.raises(ConnectionRefused, match=r"tried 127\.0\.0\.2:80, \[::1\]:80"):
        attempts.wait_time()


def test_local_address_keeps_its_family(clock: list[float]) -> None:
    attempts = loop_for(["::1", "127.0.0.1"], local_address="127.0.0.2")
    started = attempts.start_next()
    assert started is not None
    assert started[1] == ("127.0.0.1", 80)
    assert started[0].bound == ("127.0.0.2", 0)  # type: ignore[attr-defined]
    with pytest.raises(NameResolutionError, match="has no IPv6 address"):
        loop_for(["127.0.0.1"], family="ipv6")
