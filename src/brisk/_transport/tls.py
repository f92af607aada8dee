"""TLS contexts: verification on by default, TLS >= 1.2, ALPN, the OS trust store with certifi as fallback;
the TLS settings a session takes (``verify``, ``cert``, versions, ciphers, pins), checked; certificate
pinning after the handshake.

Contexts are expensive to build (loading a CA store takes tens of milliseconds) and safe to share, so one is
built per distinct configuration and cached for the life of the process. ``ssl`` is imported here only,
and only when the first https URL is met (or a setting that needs it to be checked is given).

An ``ssl.SSLContext`` given as ``verify`` is used exactly as given and never changed: the caller owns its
verification, client certificate, versions, ciphers and ALPN (without ALPN protocols set on it, servers
speak HTTP/1.1). The settings brisk would have to write into it (``cert``, versions, ciphers) are refused
alongside it; certificate pins are checked after the handshake, so they combine with it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from functools import partial

from brisk._transport.base import TLSOptions
from brisk.exceptions import SSLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl
    from typing import Any, TypeVar

    from brisk._core.url import URL
    from brisk._transport.base import CertValue, ConnectionConfig, VerifyValue
else:
    from brisk._core.typing_lite import TypeVar

__all__ = [
    "check_cert",
    "check_pins",
    "check_verify",
    "check_verify_alone",
    "describe_ssl_error",
    "spki_pin",
    "ssl_context",
    "tls_options",
    "tls_setting",
]

_Conn = TypeVar("_Conn")
_cache: dict[tuple[object, ...], ssl.SSLContext] = {}
_CACHE_SIZE = 64  # contexts kept (a rotating client certificate or per-tenant CAs make new ones)
_lock = threading.Lock()

#: the versions ``tls_min_version``/``tls_max_version`` take, by the names users write
_VERSIONS = {
    "TLSv1": "TLSv1", "TLSv1.0": "TLSv1", "1.0": "TLSv1", "TLSv1.1": "TLSv1_1", "1.1": "TLSv1_1",
    "TLSv1.2": "TLSv1_2", "1.2": "TLSv1_2", "TLSv1.3": "TLSv1_3", "1.3": "TLSv1_3",
}  # fmt: skip
_ORDER = ("TLSv1", "TLSv1_1", "TLSv1_2", "TLSv1_3")
_FLOOR = "TLSv1_2"  # brisk's minimum unless tls_min_version says otherwise


def ssl_context(config: ConnectionConfig, *, alpn: tuple[str, ...] | None = None) -> ssl.SSLContext:
    """The shared context for ``config`` (verify, cert, TLS options, http2); a caller's own context as is."""
    verify = config.verify
    if not isinstance(verify, bool | str | bytes):
        check_verify_alone(verify, config.cert, config.tls)
        return verify
    if alpn is None:
        alpn = ("h2", "http/1.1") if config.http2 else ("http/1.1",)
    key = (verify, config.cert, config.tls, alpn)
    ctx = _cache.get(key)
    if ctx is None:
        with _lock:
            ctx = _cache.get(key)
            if ctx is None:
                if len(_cache) >= _CACHE_SIZE:  # certificates given as bytes may be many: oldest out
                    del _cache[next(iter(_cache))]
                ctx = _cache[key] = _build(verify, config.cert, config.tls, alpn)
    return ctx


def _build(
    verify: bool | str | bytes, cert: CertValue | None, options: TLSOptions | None, alpn: tuple[str, ...]
) -> ssl.SSLContext:
    import ssl

    if verify is False:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif verify is True:
        ctx = _system_context()
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if isinstance(verify, bytes):
            # PEM text is given to OpenSSL as str: cadata as bytes means DER. A PEM bundle may open with text
            # before its first certificate (certifi's comments, openssl's "Bag Attributes").
            pem = b"-----BEGIN CERTIFICATE-----" in verify
            try:
                ctx.load_verify_locations(cadata=verify.decode("ascii") if pem else verify)
            except (ssl.SSLError, ValueError, UnicodeDecodeError) as exc:
                raise SSLError(f"verify= holds no usable CA certificate (PEM or DER bytes): {exc}") from None
        elif os.path.isdir(verify):
            ctx.load_verify_locations(capath=verify)
        elif os.path.isfile(verify):
            ctx.load_verify_locations(cafile=verify)
        else:
            # requests raises a bare OSError here; SSLError is one too, and also a RequestException.
            raise SSLError(f"Could not find a suitable TLS CA certificate bundle, invalid path: {verify}")
    versions = ssl.TLSVersion
    ctx.minimum_version = versions[options.min_version or _FLOOR] if options else versions.TLSv1_2
    if options is not None:
        if options.max_version:
            ctx.maximum_version = versions[options.max_version]
        if options.ciphers:
            ctx.set_ciphers(options.ciphers)  # checked when the setting was given
    # A certificate must name the host in subjectAltName; the deprecated Common Name fallback is off, as in
    # browsers and curl (a CN-only certificate fails verification).
    if ctx.check_hostname:
        ctx.hostname_checks_common_name = False
    ctx.set_alpn_protocols(list(alpn))
    if cert is not None:
        _load_cert(ctx, cert)
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog:
        ctx.keylog_filename = keylog
    return ctx


def _load_cert(ctx: ssl.SSLContext, cert: CertValue) -> None:
    """The client certificate, its key, and an encrypted key's password (urllib3's key_password on a pool),
    from files or PEM bytes."""
    import ssl

    parts = (cert,) if isinstance(cert, str | bytes) else tuple(cert)
    password = parts[2] if len(parts) == 3 else None
    cleanup: list[Callable[[], None]] = []
    try:
        files = _as_files([part for part in parts[:2] if part is not None], cleanup)
        # An empty password rather than None: OpenSSL must never prompt on the terminal for one.
        ctx.load_cert_chain(files[0], files[1] if len(files) > 1 else None, password or "")
    except (ssl.SSLError, OSError) as exc:
        shown = "PEM bytes" if isinstance(parts[0], bytes) else repr(parts[0])
        hint = "" if password else " (an encrypted key needs its password: cert=(cert, key, password))"
        raise SSLError(
            f"cert=: could not load the client certificate and key from {shown}: {exc}{hint}"
        ) from None
    finally:
        for step in cleanup:  # each one, best effort: a file left behind must not hide the outcome
            try:
                step()
            except OSError:
                pass


def _as_files(parts: Iterable[str | bytes], cleanup: list[Callable[[], None]]) -> list[str]:
    """Paths OpenSSL can read (it loads certificates and keys from files only): PEM bytes go to an anonymous
    in-memory file where the system has them (Linux), else to a private temporary file. What removes each
    file is added to ``cleanup`` as soon as the file exists; the caller runs it when done, error or not."""
    files: list[str] = []
    for part in parts:
        if not isinstance(part, bytes):
            files.append(part)
        elif hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):  # not in a chroot without /proc
            fd = os.memfd_create("brisk-pem", os.MFD_CLOEXEC)
            cleanup.append(partial(os.close, fd))
            os.write(fd, part)
            files.append(f"/proc/self/fd/{fd}")
        else:  # not Linux, or no /proc
            import tempfile

            fd, path = tempfile.mkstemp(prefix="brisk-", suffix=".pem")  # readable by this user only
            cleanup.append(partial(os.unlink, path))
            with os.fdopen(fd, "wb") as file:
                file.write(part)
            files.append(path)
    return files


def _system_context() -> ssl.SSLContext:
    """The OS trust store through truststore; certifi's bundle when the system has no CA store."""
    import ssl

    paths = ssl.get_default_verify_paths()
    has_system_store = bool(
        (paths.cafile and os.path.isfile(paths.cafile))
        or (paths.capath and os.path.isdir(paths.capath) and os.listdir(paths.capath))
    )
    if has_system_store:
        try:
            import truststore
        except ImportError:  # pragma: no cover - truststore is a dependency
            pass
        else:
            ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            return ctx
    import certifi

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=certifi.where())
    return ctx


def describe_ssl_error(exc: BaseException, host: str) -> str:
    """A one-line reason for a TLS failure: expired, unknown CA, wrong host, ..."""
    import ssl

    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or str(exc)
        return f"TLS certificate verification failed for {host!r}: {reason}"
    reason = getattr(exc, "reason", None) or str(exc)
    return f"TLS handshake with {host!r} failed: {reason}"


# -- the settings, checked -----------------------------------------------------------------------------------


def check_verify(value: Any) -> VerifyValue:
    """``verify=`` as a connection takes it; TypeError/ValueError naming the setting for anything else."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, os.PathLike):
        return check_verify(os.fspath(value))
    if isinstance(value, bytes | bytearray | memoryview):
        if not value:
            raise ValueError("verify=b'' holds no CA certificate (give PEM or DER bytes)")
        return bytes(value)
    import ssl

    if isinstance(value, ssl.SSLContext):
        if value.protocol == ssl.PROTOCOL_TLS_SERVER:
            raise ValueError(
                "verify= takes a client-side ssl.SSLContext, not one made with PROTOCOL_TLS_SERVER"
            )
        return value
    raise TypeError(
        "verify must be True, False, a CA bundle path, CA certificates as PEM bytes or an ssl.SSLContext, "
        f"not {type(value).__name__}"
    )


def check_cert(value: Any) -> CertValue | None:
    """``cert=`` as a connection takes it: a path or PEM bytes (key included), (cert, key) or
    (cert, key, password); TypeError/ValueError naming the setting for anything else."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike | bytes | bytearray):
        return _cert_part(value, "cert")
    if not isinstance(value, tuple | list) or len(value) not in (2, 3):
        shape = f"a {type(value).__name__} of {len(value)} items" if isinstance(value, tuple | list) else None
        raise (ValueError if shape else TypeError)(
            "cert must be a path or PEM bytes, (cert, key) or (cert, key, password), "
            f"not {shape or type(value).__name__}"
        )
    cert, key = _cert_part(value[0], "cert[0] (the certificate)"), value[1]
    key = None if key is None else _cert_part(key, "cert[1] (the key)")
    if len(value) == 2:
        return cert if key is None else (cert, key)
    password = value[2]
    if not isinstance(password, str | bytes | None):
        raise TypeError(f"cert[2] (the key's password) must be str or bytes, not {type(password).__name__}")
    return (cert, key if key is not None else cert, password)


def _cert_part(value: Any, name: str) -> str | bytes:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, bytearray):
        value = bytes(value)
    if isinstance(value, str | bytes) and value:
        return value
    raise (ValueError if isinstance(value, str | bytes) else TypeError)(
        f"{name} must be a file path or PEM bytes, not {value!r}"
    )


def check_verify_alone(context: Any, cert: Any, options: TLSOptions | None) -> None:
    """An ``ssl.SSLContext`` given as ``verify`` is used as given: the settings that would change it are
    refused with it (pins are not: they are checked after the handshake)."""
    clash = [name for name, given in (
        ("cert", cert is not None),
        ("tls_min_version", options is not None and options.min_version),
        ("tls_max_version", options is not None and options.max_version),
        ("ciphers", options is not None and options.ciphers),
    ) if given]  # fmt: skip
    if clash:
        raise ValueError(
            f"verify=<ssl.SSLContext> is used as given, so {', '.join(clash)} cannot be added to it: set "
            "them on the context (load_cert_chain, minimum_version, maximum_version, set_ciphers)"
        )


def tls_setting(name: str, value: Any) -> Any:
    """One of ``tls_min_version``, ``tls_max_version``, ``ciphers`` and ``pin`` checked and in the form
    ``TLSOptions`` holds; ValueError/TypeError naming it."""
    if value is None:
        return None
    if name == "pin":
        return _pins(value)
    if name == "ciphers":
        return _ciphers(value)
    return _version(name, value)


def tls_options(min_version: Any, max_version: Any, ciphers: Any, pin: Any) -> TLSOptions | None:
    """The ``TLSOptions`` of a connection from the session's settings; None when all are brisk's defaults."""
    if min_version is None and max_version is None and ciphers is None and pin is None:
        return None
    low, high = tls_setting("tls_min_version", min_version), tls_setting("tls_max_version", max_version)
    if high is not None and _ORDER.index(high) < _ORDER.index(low or _FLOOR):
        raise ValueError(
            f"tls_max_version={high.replace('_', '.')!r} is below the minimum TLS version "
            f"{(low or _FLOOR).replace('_', '.')!r}"
            + ("" if low else " (brisk's default: set tls_min_version)")
        )
    return TLSOptions(low, high, tls_setting("ciphers", ciphers), tls_setting("pin", pin) or ())


def _version(name: str, value: Any) -> str:
    if isinstance(value, str):
        found = _VERSIONS.get(value.strip()) or (value if value in _ORDER else None)
    else:  # an ssl.TLSVersion member (an IntEnum: its name says which)
        found = getattr(value, "name", None) if type(value).__name__ == "TLSVersion" else None
        found = found if found in _ORDER else None
    if found is None:
        raise ValueError(
            f"{name} must be 'TLSv1.2', 'TLSv1.3' (or 'TLSv1', 'TLSv1.1') or an ssl.TLSVersion of those, "
            f"not {value!r}"
        )
    return found


def _ciphers(value: Any) -> str:
    import ssl

    if not isinstance(value, str):
        raise TypeError(f"ciphers must be an OpenSSL cipher string, not {type(value).__name__}")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).set_ciphers(value)
    except ssl.SSLError:
        raise ValueError(f"ciphers={value!r} selects no cipher this OpenSSL knows") from None
    return value


def _pins(value: Any) -> tuple[str, ...]:
    """curl's ``--pinnedpubkey`` form: ``sha256//<base64>``, several joined by ``;``; or a list of them."""
    import base64
    import binascii

    items = value.split(";") if isinstance(value, str) else value
    if isinstance(items, bytes) or not isinstance(items, Iterable):
        raise TypeError(
            f"pin must be a 'sha256//<base64>' string or a list of them, not {type(value).__name__}"
        )
    pins = set()
    for item in items:
        text = item.strip() if isinstance(item, str) else item
        if isinstance(text, str) and text.startswith("sha256//"):
            text = text[len("sha256//") :]
        try:
            digest = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 32:
            raise ValueError(
                f"pin={item!r} is not the base64 SHA-256 of a public key (sha256//<44 base64 characters>)"
            )
        pins.add(base64.b64encode(digest).decode("ascii"))
    if not pins:
        raise ValueError(f"pin={value!r} names no public key (None turns pinning off)")
    return tuple(sorted(pins))


# -- certificate pinning -------------------------------------------------------------------------------------


def check_pins(conn: _Conn, url: URL, config: ConnectionConfig) -> _Conn:
    """``conn`` (a TLS socket, or an asyncio transport) once its server's public key is one the ``pin``
    setting accepts; else the connection is closed and SSLError names the host, the key and the pins. Run on
    every new connection after the handshake; a connection without pins returns at once."""
    options = config.tls
    if options is None or not options.pins or url.scheme not in ("https", "wss"):
        return conn
    target: Any = conn
    extra = getattr(target, "get_extra_info", None)
    ssl_object = extra("ssl_object") if extra is not None else target
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    found = spki_pin(der) if der else None
    if found in options.pins:
        return conn
    target.abort() if extra is not None else target.close()
    accepted = ", ".join(f"sha256//{pin}" for pin in options.pins)
    key = f"sha256//{found}" if found else "not shown (no certificate)"
    raise SSLError(
        f"certificate pin mismatch for {url.host!r}: its public key is {key}; pin= accepts {accepted}"
    )


def spki_pin(der: bytes) -> str:
    """The base64 SHA-256 of a DER certificate's SubjectPublicKeyInfo (curl's ``sha256//`` pin, HPKP's)."""
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(_spki(der)).digest()).decode("ascii")


def _spki(der: bytes) -> bytes:
    """The SubjectPublicKeyInfo element of an X.509 certificate (RFC 5280 section 4.1): the seventh field of
    tbsCertificate, counting the optional [0] version."""

    def element(at: int) -> tuple[int, int, int]:
        """(tag, where the content starts, where the element ends) of the DER element at ``at``."""
        tag, length = der[at], der[at + 1]
        at += 2
        if length & 0x80:  # long form: the next (length & 0x7f) bytes are the length
            size = length & 0x7F
            length = int.from_bytes(der[at : at + size], "big")
            at += size
        return tag, at, at + length

    try:
        _, certificate, _ = element(0)  # Certificate ::= SEQUENCE { tbsCertificate, ... }
        _, at, _ = element(certificate)  # tbsCertificate ::= SEQUENCE { ... }
        tag, _, after = element(at)
        if tag == 0xA0:  # version [0] EXPLICIT
            at = after
        for _ in range(5):  # serialNumber, signature, issuer, validity, subject
            at = element(at)[2]
        tag, _, end = element(at)
        if tag != 0x30 or end > len(der):
            raise ValueError("not a SEQUENCE")
    except (IndexError, ValueError) as exc:
        raise SSLError(f"could not read the public key of the server's certificate: {exc}") from None
    return der[at:end]
