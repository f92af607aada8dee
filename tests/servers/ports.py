"""Ports for "connection refused" cases."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

__all__ = ["unused_port"]


@pytest.fixture
def unused_port() -> Iterator[int]:
    """A loopback port where nothing listens: connecting to 127.0.0.1 on it is refused.

    The port stays bound (without ``listen``) for the test's duration, so no other program can start
    listening on it meanwhile.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
