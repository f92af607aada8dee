"""What the sync and asyncio HTTP/3 drivers share: loading the optional QUIC stack, the QUIC configuration
made from a session's TLS settings, a connection's facts, the response built from a stream, and the body
both drivers read by pulling.

Nothing here is imported unless a session asks for HTTP/3 (``Session(http3=...)``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from brisk._response.connection_info import ConnectionInfo
from brisk._transport.body import PooledBody
from brisk._transport.deadline import connecting
from brisk.exceptions import MissingDependencyError, SSLError
from brisk.models import Response

if TYPE_CHECKING:
    import socket

    from aioquic.quic.configuration import QuicConfiguration

    from brisk._core.url import URL
    from brisk._protocol.http3 import H3State, H3Stream
    from brisk._response.connection_info import Address
    from brisk._transport.base import ConnectionConfig, SendOptions, Timings
    from brisk._transport.body import Pool
    from brisk._transport.connect import AddressLoop
    from brisk.models import PreparedRequest

__all__ = [
    "HANDSHAKE",
    "H3Body",
    "check_pins",
    "connection_info",
    "h3_response",
    "handshake_failed",
    "load",
    "quic_configuration",
    "receive_buffer",
    "udp_socket",
]

#: The QUIC handshake, bounded by ``Timeout.connect`` (as TCP's connect and TLS's handshake are).
HANDSHAKE = connecting("the QUIC handshake (HTTP/3)")


def load() -> None:
    """Make sure the QUIC stack is installed; else a clear error naming the extra."""
    try:
        import aioquic  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "HTTP/3 needs the QUIC stack aioquic: install it with `pip install brisk[http3]`"
        ) from None


def quic_configuration(config: ConnectionConfig, host: str) -> QuicConfiguration:
    """The client's QUIC configuration from the connection settings: ALPN h3, the server name, ``verify``,
    ``cert`` and the TLS versions (QUIC is TLS 1.3 only)."""
    import ssl

    from aioquic.h3.connection import H3_ALPN
    from aioquic.quic.configuration import QuicConfiguration

    configuration = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
    # Always the name to check the certificate against: aioquic leaves an address out of SNI itself and
    # checks it against the certificate's IP addresses. Without it, an address was not checked at all.
    configuration.server_name = host.strip("[]")
    verify = config.verify
    if verify is False:
        configuration.verify_mode = ssl.CERT_NONE
    elif verify is True:
        configuration.verify_mode = ssl.CERT_REQUIRED
        paths = ssl.get_default_verify_paths()
        if paths.cafile and os.path.isfile(paths.cafile):
            configuration.cafile = paths.cafile
        elif paths.capath and os.path.isdir(paths.capath):
            configuration.capath = paths.capath
        else:
            import certifi

            configuration.cafile = certifi.where()
    elif isinstance(verify, str):
        configuration.verify_mode = ssl.CERT_REQUIRED
        if os.path.isdir(verify):
            configuration.capath = verify
        elif os.path.isfile(verify):
            configuration.cafile = verify
        else:
            raise SSLError(f"Could not find a suitable TLS CA certificate bundle, invalid path: {verify}")
    elif isinstance(verify, bytes):
        configuration.verify_mode = ssl.CERT_REQUIRED
        configuration.cadata = verify
    else:
        raise ValueError(
            "verify= as an ssl.SSLContext cannot be used over HTTP/3 (QUIC does its own TLS): give a CA "
            "bundle path or PEM bytes, or turn http3 off"
        )
    _client_certificate(configuration, config.cert)
    tls = config.tls
    if tls is not None and tls.max_version not in (None, "TLSv1_3", "MAXIMUM_SUPPORTED"):
        raise ValueError(
            f"tls_max_version={tls.max_version!r} rules out HTTP/3, which runs over TLS 1.3 only"
        )
    return configuration


#: Bytes of received datagrams the socket may hold: a fast server's burst overflows the usual 208 KB, and a
#: datagram dropped there is a loss QUIC's congestion control answers by slowing down.
RECEIVE_BUFFER = 4 * 1024 * 1024


def receive_buffer(sock: Any) -> None:
    """Ask for a larger receive buffer (the system may grant less: net.core.rmem_max)."""
    import socket

    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    except (OSError, AttributeError):
        pass


def udp_socket(attempts: AddressLoop, infos: list[Any], options: SendOptions) -> tuple[socket.socket, Any]:
    """A non-blocking UDP socket connected to the first address of the answer ``infos`` (after the
    session's ``family``/``local_address`` filtering and ordering, as TCP connections get), and that address.
    ``resolve``/``resolver`` already chose ``infos``."""
    import socket

    from brisk._transport.base import DEFAULT_NETWORK
    from brisk.exceptions import ConnectionError

    try:
        attempts.resolved(infos)
        family, _, _, _, peer = attempts.first()
    finally:
        attempts.close()
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        local = (options.config.network or DEFAULT_NETWORK).local_address
        if local is not None:
            sock.bind((local, 0))
        receive_buffer(sock)
        sock.connect(peer)
    except OSError as exc:
        sock.close()
        raise ConnectionError(f"cannot open a UDP socket to {peer[0]}:{peer[1]}: {exc}") from None
    return sock, peer


def _client_certificate(configuration: QuicConfiguration, cert: Any) -> None:
    """``cert=`` on the QUIC configuration: files as aioquic reads them, or PEM bytes parsed here (aioquic
    reads files only; the TCP side hands bytes to OpenSSL through an anonymous file instead)."""
    if cert is None:
        return
    parts = (cert,) if isinstance(cert, str | bytes) else tuple(cert)
    password = parts[2] if len(parts) > 2 else None
    try:
        if any(isinstance(part, bytes) for part in parts[:2]):
            _pem_certificate(configuration, parts[0], parts[1] if len(parts) > 1 else None, password)
        else:
            configuration.load_cert_chain(parts[0], parts[1] if len(parts) > 1 else None, password)
    except (OSError, ValueError, TypeError) as exc:
        shown = "PEM bytes" if isinstance(parts[0], bytes) else repr(parts[0])
        raise SSLError(f"cert=: could not load the client certificate and key from {shown}: {exc}") from None


_PRIVATE_KEY = re.compile(rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.DOTALL)


def _pem_certificate(
    configuration: QuicConfiguration, cert: str | bytes, key: str | bytes | None, password: str | bytes | None
) -> None:
    """Certificates and key from PEM bytes or files, the key in ``key`` or else after the certificates."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from cryptography.x509 import load_pem_x509_certificates

    def read(part: str | bytes) -> bytes:
        if isinstance(part, bytes):
            return part
        with open(part, "rb") as file:
            return file.read()

    cert_pem = read(cert)
    key_pem = read(key) if key is not None else cert_pem
    found = _PRIVATE_KEY.search(key_pem)
    if found is None:
        raise ValueError("no PEM private key found")
    certificates = load_pem_x509_certificates(cert_pem)
    secret = (password.encode() if isinstance(password, str) else password) or None
    try:
        private_key = load_pem_private_key(found.group(0), password=secret)
    except TypeError:
        if secret is None:
            raise ValueError(
                "the private key is encrypted: give its password as cert=(cert, key, password)"
            ) from None
        private_key = load_pem_private_key(found.group(0), password=None)  # a password the key does not need
    if _public_der(private_key.public_key()) != _public_der(certificates[0].public_key()):
        raise ValueError("the private key does not match the certificate")
    configuration.private_key = private_key
    configuration.certificate = certificates[0]
    configuration.certificate_chain = certificates[1:]


def _public_der(key: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    der: bytes = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return der


def check_pins(state: H3State, url: URL, config: ConnectionConfig) -> None:
    """Raise SSLError unless the server's public key is one the ``pin`` setting accepts (if any)."""
    options = config.tls
    if options is None or not options.pins:
        return
    from brisk._transport.tls import spki_pin

    der = _der(state)
    found = spki_pin(der) if der else None
    if found not in options.pins:
        accepted = ", ".join(f"sha256//{pin}" for pin in options.pins)
        raise SSLError(
            f"certificate pin mismatch for {url.host!r}: its public key is sha256//{found}; pin= accepts "
            f"{accepted}"
        )


def _der(state: H3State) -> bytes | None:
    certificate = state.peer_certificate()
    if certificate is None:
        return None
    from cryptography.hazmat.primitives.serialization import Encoding

    der: bytes = certificate.public_bytes(Encoding.DER)
    return der


def connection_info(state: H3State, peer: Address | None, local: Address | None) -> ConnectionInfo:
    """The facts of an HTTP/3 connection whose handshake is done (``peer_certificate`` stays None: the
    decoded form is ``ssl``'s, which QUIC's TLS does not go through; the DER form is there)."""
    return ConnectionInfo(peer, local, "TLSv1.3", state.cipher_suite(), state.alpn, None, _der(state))


def handshake_failed(state: H3State, host: str) -> Exception:
    """The error for a handshake that ended without success."""
    error = state.error
    text = str(error) if error is not None else "the QUIC handshake failed"
    if "certificate" in text.lower() or "verify" in text.lower():
        return SSLError(f"TLS certificate verification failed for {host!r} (HTTP/3): {text}")
    from brisk.exceptions import ConnectionError

    return error if isinstance(error, ConnectionError) else ConnectionError(text)


def h3_response(
    stream: H3Stream, body: Any, request: PreparedRequest, timings: Timings, info: ConnectionInfo
) -> Response:
    """The response once ``stream`` has its head; ``body`` reads the rest of the stream."""
    assert stream.status is not None
    timings.first_byte = time.monotonic() - timings.start
    return Response._from_transport(stream.status, "", "HTTP/3", stream.headers, body, request, timings, info)


class H3Connection(Protocol):
    served: int
    info: ConnectionInfo
    state: H3State

    def close(self) -> None: ...
    def release(self, stream: H3Stream) -> None: ...
    def looks_alive(self) -> bool: ...


M = TypeVar("M", bound=H3Connection)


class H3Body(PooledBody[M], Generic[M]):
    """An HTTP/3 body, read from ``stream``; the connection serves other streams meanwhile and after."""

    __slots__ = ("_stream",)

    def __init__(
        self,
        transport: Pool[M],
        key: Hashable,
        conn: M,
        stream: H3Stream,
        options: SendOptions,
        timings: Timings,
    ) -> None:
        super().__init__(transport, key, conn, options, timings)
        self._stream = stream

    @property
    def trailers(self) -> list[tuple[str, str]] | None:
        stream = self._stream
        return (stream.trailers or []) if stream.complete else None

    def close(self) -> None:
        """Done: releasing a stream that was not read to the end cancels it."""
        if not self._done:
            self._conn.release(self._stream)
            self._give_back(self._conn.looks_alive())

    def _take(self) -> bytes:
        return self._conn.state.take_body(self._stream)

    def _ended(self) -> bool:
        return self._stream.complete

    def _finish(self) -> None:
        self.close()

    def _abort(self) -> None:
        self.close()
