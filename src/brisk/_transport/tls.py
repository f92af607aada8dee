"""TLS contexts: verification on by default, TLS >= 1.2, ALPN, the OS trust store with certifi as fallback.

Contexts are expensive to build (loading a CA store takes tens of milliseconds) and safe to share, so one is
built per distinct configuration and cached for the life of the process. ``ssl`` is imported here only,
and only when the first https URL is met.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from brisk.exceptions import SSLError

if TYPE_CHECKING:
    import ssl

    from brisk._transport.base import ConnectionConfig

__all__ = ["describe_ssl_error", "ssl_context"]

_cache: dict[tuple[object, ...], ssl.SSLContext] = {}
_lock = threading.Lock()


def ssl_context(config: ConnectionConfig, *, alpn: tuple[str, ...] | None = None) -> ssl.SSLContext:
    """The shared context for ``config`` (verify, cert, http2)."""
    if alpn is None:
        alpn = ("h2", "http/1.1") if config.http2 else ("http/1.1",)
    key = (config.verify, config.cert, alpn)
    ctx = _cache.get(key)
    if ctx is None:
        with _lock:
            ctx = _cache.get(key)
            if ctx is None:
                ctx = _cache[key] = _build(config.verify, config.cert, alpn)
    return ctx


def _build(
    verify: bool | str, cert: str | tuple[str, str] | tuple[str, str, str] | None, alpn: tuple[str, ...]
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
        if os.path.isdir(verify):
            ctx.load_verify_locations(capath=verify)
        elif os.path.isfile(verify):
            ctx.load_verify_locations(cafile=verify)
        else:
            # requests raises a bare OSError here; SSLError is one too, and also a RequestException.
            raise SSLError(f"Could not find a suitable TLS CA certificate bundle, invalid path: {verify}")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # A certificate must name the host in subjectAltName; the deprecated Common Name fallback is off, as in
    # browsers and curl (a CN-only certificate fails verification).
    if ctx.check_hostname:
        ctx.hostname_checks_common_name = False
    ctx.set_alpn_protocols(list(alpn))
    if cert is not None:
        # the certificate, its key, and an encrypted key's password (urllib3's key_password on a pool)
        ctx.load_cert_chain(*((cert,) if isinstance(cert, str) else cert))
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog:
        ctx.keylog_filename = keylog
    return ctx


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
