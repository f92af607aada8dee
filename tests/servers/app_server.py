"""brisk's own test application (:mod:`brisk.testing.app`) served by hypercorn, over HTTP and over TLS, on a
loopback port or on a Unix socket."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from brisk.testing.app import App
from brisk.testing.server import ServerThread

__all__ = ["app_server", "tls_app_server", "uds_app_server"]


@pytest.fixture(scope="session")
def app_server() -> Iterator[ServerThread]:
    """The test app over plain HTTP/1.1 (HTTP/2 with prior knowledge works too): ``app_server.url``."""
    with ServerThread(App()) as server:
        yield server


@pytest.fixture(scope="session")
def tls_app_server(ca: trustme.CA) -> Iterator[ServerThread]:
    """The test app over TLS, ALPN offering h2 and http/1.1, with a certificate for localhost, 127.0.0.1
    and ::1 from the session ``ca``; ``tls_app_server.ca_bundle`` is the CA's PEM path."""
    with ServerThread(App(), tls=True, http2=True, ca=ca) as server:
        yield server


@pytest.fixture(scope="session")
def uds_app_server() -> Iterator[ServerThread]:
    """The test app on a Unix socket (hypercorn's ``--bind unix:PATH``), plain HTTP/1.1 and h2c with prior
    knowledge: ``uds_app_server.uds`` is the socket's path, ``uds_app_server.url`` its ``http+unix://``
    URL. The path sits in a short temporary directory (a socket path may hold about 100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="brisk-uds-") as directory:
        with ServerThread(App(), uds=str(Path(directory) / "app.sock")) as server:
            yield server
