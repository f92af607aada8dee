"""The real httpbin (the Flask application of the ``httpbin`` package), served on a loopback port.

hypercorn serves it through its WSGI support (:class:`brisk.testing.server.ServerThread` with
``interface="wsgi"``), which keeps connections alive and speaks HTTP/2 over TLS. werkzeug's own server was
the other candidate; since werkzeug 2.1 it closes the connection after every response, so a client's
connection reuse could not be tested against it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import trustme

from brisk.testing.server import ServerThread

__all__ = ["httpbin", "httpbin_secure", "httpbin_server"]


def httpbin_server(*, tls: bool = False, ca: trustme.CA | None = None) -> ServerThread:
    """A (not yet started) :class:`ServerThread` running httpbin's Flask app."""
    # httpbin logs a warning at import when flasgger is missing: through logging (captured by pytest),
    # not through the warnings machinery, so it does not trip "warnings as errors".
    logging.getLogger("httpbin").setLevel(logging.ERROR)
    import httpbin  # type: ignore[import-untyped]

    return ServerThread(httpbin.app, interface="wsgi", tls=tls, ca=ca)


@pytest.fixture(scope="session")
def httpbin() -> Iterator[ServerThread]:
    """The real httpbin over plain HTTP for the whole session: ``httpbin.url + "/get"``."""
    with httpbin_server() as server:
        yield server


@pytest.fixture(scope="session")
def httpbin_secure(ca: trustme.CA) -> Iterator[ServerThread]:
    """The real httpbin over TLS (h2 and http/1.1), certificate from the session ``ca``."""
    with httpbin_server(tls=True, ca=ca) as server:
        yield server
