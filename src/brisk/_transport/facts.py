"""The facts of a connection just opened (``ConnectionInfo``), read from a blocking socket (sync) or from an
asyncio transport. Read once per connection, by the connection's constructor: every response on it shares
the object."""

from __future__ import annotations

import os

from brisk._response.connection_info import Address, ConnectionInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["of_socket", "of_transport"]


def of_socket(sock: Any) -> ConnectionInfo:
    """The facts of a connected socket: a plain one, an ``ssl.SSLSocket``, or anything with their methods
    (the TLS-in-TLS tunnel of the sync proxy code)."""
    return _facts(
        _call(sock, "getpeername"), _call(sock, "getsockname"), sock if hasattr(sock, "cipher") else None
    )


def of_transport(transport: Any) -> ConnectionInfo:
    """The facts of an asyncio transport (its TLS layer's, when it has one)."""
    get = transport.get_extra_info
    return _facts(get("peername"), get("sockname"), get("ssl_object"))


def _call(sock: Any, method: str) -> Any:
    try:
        return getattr(sock, method)()
    except (OSError, AttributeError):  # not connected any more, or a socket-like without addresses
        return None


def _address(address: Any) -> Address | None:
    """``(ip, port)`` (an IPv6 address's flow info and scope id left out), or a Unix socket's path as str."""
    if isinstance(address, tuple):
        return (address[0], address[1])
    if isinstance(address, bytes):  # a Linux abstract-namespace name
        return os.fsdecode(address)
    return address if isinstance(address, str) else None


def _facts(peer: Any, local: Any, tls: Any) -> ConnectionInfo:
    if tls is None:
        return ConnectionInfo(_address(peer), _address(local))
    cipher = tls.cipher()
    return ConnectionInfo(
        _address(peer),
        _address(local),
        tls.version(),
        cipher[0] if cipher else None,
        tls.selected_alpn_protocol(),
        tls.getpeercert() or None,  # {} when the certificate was not verified
        tls.getpeercert(binary_form=True),
    )
