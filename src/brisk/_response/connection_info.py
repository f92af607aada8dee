"""``ConnectionInfo``: what is known about the connection a response came over (``response.connection_info``).

The transports read these facts once, when a connection is opened (``brisk._transport.facts``), and every
response on that connection shares the one object: reading them costs a request nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Address", "ConnectionInfo"]

#: An IP address and port, or the path of a Unix socket ("" for an unnamed one).
Address = tuple[str, int] | str

_FIELDS = (
    "peer_address",
    "local_address",
    "tls_version",
    "cipher",
    "alpn_protocol",
    "peer_certificate",
    "peer_certificate_der",
)


class ConnectionInfo:
    """Facts about one connection, the same object for every response it carried.

    - ``peer_address``, ``local_address``: ``(ip, port)`` for TCP (IPv6 too: flow and scope are left out),
      the socket's path for a Unix socket (``""`` for an unnamed one), None if the system no longer knew.
      Through a proxy they are the addresses of the connection to the proxy.
    - ``tls_version`` (``"TLSv1.3"``), ``cipher`` (the cipher suite's name), ``alpn_protocol`` (``"h2"``,
      ``"http/1.1"``, or None when ALPN chose nothing): None over plain TCP. Through an https proxy's
      tunnel they describe the TLS session with the origin.
    - ``peer_certificate``: the server's certificate as a dict (``ssl.SSLSocket.getpeercert()``), None when
      it was not verified (``verify=False``) or over plain TCP; ``peer_certificate_der``: the certificate
      as DER bytes, verified or not (None over plain TCP).

    Immutable; pickled whole with the response.
    """

    __slots__ = _FIELDS

    peer_address: Address | None
    local_address: Address | None
    tls_version: str | None
    cipher: str | None
    alpn_protocol: str | None
    peer_certificate: dict[str, Any] | None
    peer_certificate_der: bytes | None

    def __init__(
        self,
        peer_address: Address | None = None,
        local_address: Address | None = None,
        tls_version: str | None = None,
        cipher: str | None = None,
        alpn_protocol: str | None = None,
        peer_certificate: dict[str, Any] | None = None,
        peer_certificate_der: bytes | None = None,
    ) -> None:
        setter = object.__setattr__
        setter(self, "peer_address", peer_address)
        setter(self, "local_address", local_address)
        setter(self, "tls_version", tls_version)
        setter(self, "cipher", cipher)
        setter(self, "alpn_protocol", alpn_protocol)
        setter(self, "peer_certificate", peer_certificate)
        setter(self, "peer_certificate_der", peer_certificate_der)

    @property
    def tls(self) -> bool:
        """Did the connection run over TLS?"""
        return self.tls_version is not None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ConnectionInfo is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"ConnectionInfo is immutable: cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[ConnectionInfo], tuple[Any, ...]]:
        return ConnectionInfo, tuple(getattr(self, name) for name in _FIELDS)

    def __repr__(self) -> str:
        shown = [f"peer_address={self.peer_address!r}", f"local_address={self.local_address!r}"]
        if self.tls_version is not None:
            shown += [f"tls_version={self.tls_version!r}", f"cipher={self.cipher!r}"]
        if self.alpn_protocol is not None:
            shown.append(f"alpn_protocol={self.alpn_protocol!r}")
        return f"ConnectionInfo({', '.join(shown)})"


ConnectionInfo.__module__ = "brisk"  # its public name: pickles and reprs do not depend on this module's path
