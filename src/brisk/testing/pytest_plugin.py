"""brisk's pytest plugin: fixtures for testing code that uses brisk (loaded automatically once brisk is
installed, through the ``pytest11`` entry point).

- ``brisk_server``: brisk's httpbin-compatible app on a local port over plain HTTP (session-scoped):
  ``brisk.get(brisk_server.url + "/get")``.
- ``brisk_server_tls``: the same over HTTPS with HTTP/2 offered by ALPN; trust ``brisk_server_tls.ca_bundle``
  (``verify=brisk_server_tls.ca_bundle``).
- ``brisk_mock``: makes ``MockTransport`` objects: ``brisk.Session(transport=brisk_mock(handler))``.

The servers need the ``server`` extra (hypercorn, trustme). Nothing is imported or started until a test
asks for a fixture, so the plugin costs nothing in test runs that do not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from brisk.testing.mock import MockTransport
    from brisk.testing.server import ServerThread

__all__ = ["brisk_mock", "brisk_server", "brisk_server_tls"]


def _start(**settings: Any) -> ServerThread:
    try:
        from brisk.testing.server import ServerThread
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        pytest.fail(f"brisk's test server needs the 'server' extra (pip install 'brisk[server]'): {exc}")
    return ServerThread(**settings).start()


@pytest.fixture(scope="session")
def brisk_server() -> Iterator[ServerThread]:
    """brisk's httpbin-compatible test app over HTTP/1.1 on 127.0.0.1; ``.url`` is its base URL."""
    server = _start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def brisk_server_tls() -> Iterator[ServerThread]:
    """The test app over HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with a certificate for localhost and
    127.0.0.1 from a throwaway CA; ``.ca_bundle`` is the CA's PEM file, ``.url`` the base URL."""
    server = _start(tls=True, http2=True)
    yield server
    server.stop()


@pytest.fixture
def brisk_mock() -> Callable[..., MockTransport]:
    """A factory of ``MockTransport``: ``brisk_mock(handler)`` or ``brisk_mock(routes={...})``."""
    from brisk.testing.mock import MockTransport

    return MockTransport
