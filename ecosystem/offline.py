"""Keep an ecosystem test run off the internet: only loopback may be reached.

Copied into each suite's environment as ``brisk_ecosystem_offline`` and imported at interpreter start by a
``.pth`` file (``run.py`` installs both); it does nothing unless ``BRISK_ECOSYSTEM_OFFLINE`` names a log
file, which ``run.py`` sets for the test runs only (pip, which must reach PyPI, runs without it).

When on: a host name other than ``localhost`` is not resolved (``socket.gaierror``), and a connection to an
address outside loopback is refused (``ConnectionRefusedError``), in both modes alike, so a test that
needs the internet fails with requests as with brisk. Each attempt is logged with the pytest test that made
it (``PYTEST_CURRENT_TEST``), so that ``run.py`` can list those tests: with brisk they also reveal a mock
that did not catch a request (the request went to the network instead).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from typing import Any

LOG = os.environ.get("BRISK_ECOSYSTEM_OFFLINE", "")
LOCAL_NAMES = ("localhost", "localhost.", "ip6-localhost")


def _log(what: str) -> None:
    test = os.environ.get("PYTEST_CURRENT_TEST", "(outside a test)").rsplit(" (", 1)[0]
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(f"{test}\t{what}\n")


def _is_local(host: Any) -> bool:
    if host is None or host in ("", b""):
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).split("%", 1)[0]
    if host.lower() in LOCAL_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _install() -> None:
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local(host):
            try:
                ipaddress.ip_address(str(host))  # a literal address needs no lookup; connect decides
            except ValueError:
                _log(f"resolve {host}:{port}")
                raise socket.gaierror(socket.EAI_NONAME, f"offline test run: {host} not resolved") from None
        return real_getaddrinfo(host, port, *args, **kwargs)

    def allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or _is_local(address[0]):
            return True
        _log(f"connect {address[0]}:{address[1]}")
        return False

    def connect(self: socket.socket, address: Any) -> None:
        if not allowed(self, address):
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"offline test run: {address[0]} refused")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not allowed(self, address):
            return errno.ECONNREFUSED
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


if LOG:
    _install()
