"""The shared part of Unix socket connections, with no socket: which path a request goes to, the pool key,
and what each failure to connect becomes."""

from __future__ import annotations

import errno
import time

import pytest

import brisk
from brisk._core.url import URL
from brisk._transport.base import ConnectionConfig, SendOptions
from brisk._transport.unix import UnixConnect, unix_socket_path
from brisk.exceptions import ConnectionError, ConnectionRefused, ConnectTimeout, Timeout


def test_the_session_setting_wins_over_the_url() -> None:
    url = URL.parse("http+unix://%2Frun%2Fa.sock/")
    assert unix_socket_path(url, ConnectionConfig()) == "/run/a.sock"
    assert unix_socket_path(url, ConnectionConfig(uds="/run/b.sock")) == "/run/b.sock"
    assert unix_socket_path(URL.parse("http://h/"), ConnectionConfig()) is None


def test_the_socket_path_is_part_of_the_pool_key() -> None:
    assert ConnectionConfig(uds="/run/a.sock") != ConnectionConfig(uds="/run/b.sock")
    assert ConnectionConfig(uds="/run/a.sock") != ConnectionConfig()
    assert ConnectionConfig().uds is None


def test_the_session_passes_uds_to_the_connection_config() -> None:
    session = brisk.Session(uds="/run/a.sock")
    config = session._connection_config(URL.parse("http://h/"), None, None, None)
    assert config.uds == "/run/a.sock"
    session.uds = "/run/b.sock"
    assert session._connection_config(URL.parse("http://h/"), None, None, None).uds == "/run/b.sock"


@pytest.mark.parametrize(
    ("exc", "kind", "message"),
    [
        (FileNotFoundError(errno.ENOENT, "No such file"), ConnectionError, "no Unix socket at '/run/a.sock'"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), ConnectionRefused, "nothing listens there"),
        (BlockingIOError(errno.EAGAIN, "again"), ConnectionError, "backlog is full"),
        (PermissionError(errno.EACCES, "Permission denied"), ConnectionError, "Permission denied"),
    ],
)
def test_failures_name_the_path(exc: OSError, kind: type[Exception], message: str) -> None:
    error = UnixConnect("/run/a.sock", SendOptions(), time.monotonic()).failed(exc, timed_out=False)
    assert type(error) is kind
    assert message in str(error)
    assert "/run/a.sock" in str(error)
    assert error.__cause__ is exc


def test_a_timeout_is_a_connect_timeout_and_other_errors_pass_through() -> None:
    attempt = UnixConnect("/run/a.sock", SendOptions(Timeout(connect=2)), time.monotonic())
    assert attempt.deadline is not None
    error = attempt.failed(TimeoutError(), timed_out=True)
    assert isinstance(error, ConnectTimeout)
    assert "/run/a.sock" in str(error)
    cancelled = KeyboardInterrupt()
    assert attempt.failed(cancelled, timed_out=False) is cancelled
