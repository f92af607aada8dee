"""Which origins speak HTTP/3, as their ``Alt-Svc`` answers said (RFC 7838, RFC 9114 section 3.1.1), and
which of them failed over QUIC lately. Sans-IO; one ``AltSvcCache`` per transport, that is per session.

- ``Alt-Svc: h3=":8443"; ma=3600`` on an https response: later requests to that origin go over QUIC to
  that port, for ``ma`` seconds (24 hours when absent). ``Alt-Svc: clear`` forgets the origin.
- Only alternatives on the same host are taken (``h3=":port"`` or ``h3="samehost:port"``): a different
  host would be a second name to resolve and trust, which this first version leaves out.
- A QUIC attempt found this way races TCP (``Race``): QUIC goes first; when its handshake is not done
  after ``RACE_DELAY`` seconds, a TCP connection is opened next to it, and the request takes whichever is
  ready first. A QUIC attempt that failed (UDP blocked, the handshake refused, or beaten by TCP) marks the
  origin broken for ``BROKEN_FOR`` seconds: its requests go over TCP meanwhile, at once.
- ``http3="prior-knowledge"`` does not race: the user said the origin speaks HTTP/3, so a QUIC failure is
  the request's error (bounded by ``Timeout.connect``), not a reason to send it somewhere else.

The drivers (``brisk._transport.sync.h3pool``, ``brisk._transport.asyncio.h3pool``) only do the I/O these
decisions ask for.
"""

from __future__ import annotations

import re

from brisk._core.log import debug_logger
from brisk._transport.base import PRIOR_KNOWLEDGE, ConnectionConfig, SendOptions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._core.url import URL

__all__ = [
    "ATTEMPT_LIMIT",
    "BROKEN_FOR",
    "RACE_DELAY",
    "AltSvcCache",
    "QuicUnavailable",
    "Race",
    "Routes",
    "parse_alt_svc",
    "quic_can_honour",
    "routes_of",
]

BROKEN_FOR = 300.0  # seconds an origin whose QUIC attempt failed is sent over TCP only
#: Seconds a QUIC attempt found by Alt-Svc has to itself before a TCP connection is opened next to it.
#: Browsers give QUIC about as long (Chrome 300 ms) and Happy Eyeballs gives an address 250 ms (RFC 8305):
#: long enough for a working path's handshake, short enough that a network dropping UDP costs little.
RACE_DELAY = 0.3
#: Seconds a QUIC handshake found by Alt-Svc may take at most (a network that drops UDP answers nothing:
#: there is no error to wait for). The TCP connection started at ``RACE_DELAY`` usually wins long before.
ATTEMPT_LIMIT = 1.0
DEFAULT_MAX_AGE = 86400.0
MAX_ORIGINS = 256

_ENTRY = re.compile(
    r'\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*=\s*"([^"]*)"((?:\s*;\s*[A-Za-z0-9_-]+\s*=\s*[^,;]*)*)'
)
_PARAM = re.compile(r";\s*([A-Za-z0-9_-]+)\s*=\s*([^,;]*)")

Origin = tuple[str, int]  # (host, port) of an https origin


def parse_alt_svc(value: str, host: str) -> tuple[int, float] | bool | None:
    """The h3 alternative in an ``Alt-Svc`` value: ``(port, max_age)``; False for ``clear``; None when it
    names no usable h3 alternative."""
    if value.strip().lower() == "clear":
        return False
    for match in _ENTRY.finditer(value):
        protocol, authority, params = match.groups()
        if protocol != "h3":
            continue
        alt_host, _, port_text = authority.rpartition(":")
        if alt_host and alt_host.strip("[]").lower() != host.strip("[]").lower():
            continue
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            continue
        max_age = DEFAULT_MAX_AGE
        for name, raw in _PARAM.findall(params):
            if name.lower() == "ma" and raw.strip().isdigit():
                max_age = float(raw.strip())
        return int(port_text), max_age
    return None


class QuicUnavailable(Exception):
    """Raised inside a driver: this request goes over TCP (the QUIC attempt failed or lost the race).
    ``remembered``: the failure is already in ``Routes`` (the driver marked it before waking the requests
    that waited for the attempt, so that they go over TCP too)."""

    remembered = False


class Race:
    """One QUIC handshake found by Alt-Svc, raced against a TCP connection to the same origin. Sans-IO: the
    driver starts QUIC, waits up to ``delay`` for it, then (``start_tcp``) opens TCP next to it, and reports
    what finished; ``winner`` says which connection the request takes ("quic", "tcp", or None: wait on).

    =========================  =========================  ==========================================
    QUIC                       TCP                        the request goes
    =========================  =========================  ==========================================
    handshake done             any (TCP is closed)        over QUIC
    failed / over its limit    any                        over TCP, QUIC remembered as failed
    still handshaking          connected                  over TCP, QUIC closed and remembered
    still handshaking          failed                     waits for QUIC (TCP's error comes again if
                                                          QUIC fails too)
    =========================  =========================  ==========================================
    """

    __slots__ = ("delay", "limit", "quic", "tcp")

    def __init__(self, connect_timeout: float | None) -> None:
        self.limit = ATTEMPT_LIMIT if connect_timeout is None else min(ATTEMPT_LIMIT, connect_timeout)
        self.delay = min(RACE_DELAY, self.limit)
        self.quic: bool | None = None  # True: handshake done; False: failed
        self.tcp: bool | None = None  # True: connected; False: failed; None: not started or under way

    @property
    def winner(self) -> str | None:
        if self.quic is not None:
            return "quic" if self.quic else "tcp"
        return "tcp" if self.tcp else None


class AltSvcCache:
    """Origins known to speak h3 (with the port and until when), and origins whose QUIC attempt failed."""

    __slots__ = ("_broken", "_known")

    def __init__(self) -> None:
        self._known: dict[Origin, tuple[int, float]] = {}  # origin -> (h3 port, expiry)
        self._broken: dict[Origin, float] = {}  # origin -> when QUIC may be tried again

    def h3_port(self, origin: Origin, now: float) -> int | None:
        """The UDP port to reach ``origin`` over HTTP/3 now, or None (unknown, expired or broken)."""
        known = self._known.get(origin)
        if known is None:
            return None
        port, expiry = known
        # The session's threads share this: another may have forgotten the entry since it was read (pop).
        if now >= expiry:
            self._known.pop(origin, None)
            return None
        broken = self._broken.get(origin)
        if broken is not None:
            if now < broken:
                return None
            self._broken.pop(origin, None)
        return port

    def remember(self, origin: Origin, value: str, now: float) -> None:
        """Take an ``Alt-Svc`` header of a response from ``origin``."""
        parsed = parse_alt_svc(value, origin[0])
        if parsed is False:
            self._known.pop(origin, None)
        elif parsed is not None and parsed is not True:
            port, max_age = parsed
            if max_age <= 0:
                self._known.pop(origin, None)
                return
            if len(self._known) >= MAX_ORIGINS and origin not in self._known:
                self._known.pop(next(iter(self._known)), None)
            self._known[origin] = (port, now + max_age)

    def failed(self, origin: Origin, now: float) -> None:
        """A QUIC attempt to ``origin`` failed: TCP only for ``BROKEN_FOR`` seconds. At most ``MAX_ORIGINS``
        are kept, as known origins are (a crawl meets many where UDP is blocked): the oldest goes first."""
        broken = self._broken
        broken.pop(origin, None)
        if len(broken) >= MAX_ORIGINS:
            broken.pop(next(iter(broken)), None)
        broken[origin] = now + BROKEN_FOR

    def is_broken(self, origin: Origin, now: float) -> bool:
        until = self._broken.get(origin)
        return until is not None and now < until


def quic_can_honour(config: ConnectionConfig) -> bool:
    """Can a QUIC connection keep every TLS setting of ``config``? Not with ``verify`` as an
    ``ssl.SSLContext`` (QUIC does its own TLS, from CA files and PEM), nor with ``tls_max_version`` below
    TLS 1.3: Alt-Svc discovery then stays on TCP."""
    verify, tls = config.verify, config.tls
    if not isinstance(verify, bool | str | bytes):
        return False
    return tls is None or tls.max_version in (None, "TLSv1_3", "MAXIMUM_SUPPORTED")


class Routes:
    """One transport's HTTP/3 routing: the Alt-Svc cache, and the TCP form of each connection config (the
    same settings with ``http3`` off, so the TCP path never asks again)."""

    __slots__ = ("__weakref__", "_tcp", "alt_svc")

    def __init__(self) -> None:
        self.alt_svc = AltSvcCache()
        self._tcp: dict[ConnectionConfig, ConnectionConfig] = {}

    def h3_port(self, url: URL, config: ConnectionConfig, now: float) -> int | None:
        """The UDP port to send ``url`` to over HTTP/3, or None for TCP."""
        if url.scheme != "https" or config.proxy is not None or config.uds is not None:
            return None  # HTTP/3 is https only, and brisk does not tunnel QUIC through proxies
        if config.http3 == PRIOR_KNOWLEDGE:
            return url.effective_port  # settings QUIC cannot honour fail with a clear error there
        if not quic_can_honour(config):
            return None
        return self.alt_svc.h3_port((url.host, url.effective_port), now)

    def quic_failed(self, url: URL, why: str, now: float) -> None:
        """The QUIC attempt to ``url``'s origin failed or lost to TCP: TCP only for a while."""
        self.alt_svc.failed((url.host, url.effective_port), now)
        log = debug_logger()
        if log is not None:
            log.debug("HTTP/3 to %s %s: over TCP for %.0f s", url.host_header, why, BROKEN_FOR)

    def tcp(self, options: SendOptions) -> SendOptions:
        config = options.config
        tcp = self._tcp.get(config)
        if tcp is None:
            if len(self._tcp) >= 64:
                self._tcp.clear()
            tcp = self._tcp[config] = config._replace(http3=False)
        return SendOptions(options.timeout, tcp, options.deadline, options.limits)

    def learn(self, url: URL, config: ConnectionConfig, headers: Any, now: float) -> None:
        """Remember what a response's ``Alt-Svc`` says (Alt-Svc discovery only)."""
        if config.http3 is True and url.scheme == "https":
            value = headers.get("alt-svc")
            if value:
                self.alt_svc.remember((url.host, url.effective_port), value, now)


def routes_of(transport: object) -> Routes:
    """The HTTP/3 routing of ``transport`` (one per transport, that is per session), kept on it."""
    attributes = vars(transport)
    routes: Routes | None = attributes.get("_h3_routes")
    if routes is None:
        routes = attributes["_h3_routes"] = Routes()
    return routes
