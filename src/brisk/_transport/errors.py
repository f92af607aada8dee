"""OS errors as brisk exceptions, the same in both transports.

``ssl`` is looked up in ``sys.modules``, never imported here: an SSL error can only come from a connection
that imported it already.
"""

from __future__ import annotations

import sys

from brisk._transport.tls import describe_ssl_error
from brisk.exceptions import ConnectionError, ConnectionRefused, NameResolutionError, SSLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket

    from brisk.exceptions import RequestException

__all__ = ["broken", "handshake_failed", "not_connected", "not_resolved"]


def _is_ssl_error(exc: BaseException) -> bool:
    ssl = sys.modules.get("ssl")
    return ssl is not None and isinstance(exc, ssl.SSLError)


def broken(exc: BaseException, doing: str) -> ConnectionError:
    """A failed read or write: a TLS alert (a rejected client certificate, say) is an SSLError, anything
    else a ConnectionError."""
    if _is_ssl_error(exc):
        return SSLError(f"TLS error while {doing}: {getattr(exc, 'reason', None) or exc}")
    return ConnectionError(f"the connection broke while {doing}: {exc}")


def not_resolved(host: str, exc: socket.gaierror) -> NameResolutionError:
    return NameResolutionError(f"could not resolve host {host!r}: {exc.strerror}")


def not_connected(host: str, port: int, last_error: OSError | None) -> ConnectionError:
    """No address of ``host`` accepted the connection; ``last_error`` is why the last one did not."""
    if isinstance(last_error, ConnectionRefusedError):
        return ConnectionRefused(f"connection refused by {host}:{port} (nothing listens there)")
    error = ConnectionError(f"could not connect to {host}:{port}: {last_error}")
    error.__cause__ = last_error
    return error


def handshake_failed(exc: OSError, host: str) -> RequestException:
    """A TLS handshake that failed other than by timing out: the certificate or the protocol (SSLError with
    the reason), or the connection breaking under it."""
    if isinstance(exc, SSLError):  # already brisk's (a ConnectTimeout is handled by the caller)
        return exc
    if _is_ssl_error(exc):
        return SSLError(describe_ssl_error(exc, host))
    return SSLError(f"the connection broke during the TLS handshake with {host!r}: {exc}")
