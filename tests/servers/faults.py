"""A fault-injecting HTTP/1.1 relay, for the soak of ``test_fault_soak.py`` (issue #18, item 7).

:class:`FaultProxy` sits between a client and an upstream server as if it were the origin: each client
connection gets a connection of its own to the upstream, and each request read from the client is forwarded
whole, the upstream's response read whole (with :class:`servers.proxies._Upstream`'s framing) and then
delivered to the client, faithfully or not. A seeded random generator decides, response by response, what
happens: whether a response is broken (the faults of :data:`FAULTS` take turns, so that a run of a few
thousand requests meets each of them several times), where it is cut, how long a stall lasts, what stray
bytes are sent; so a run against a sequential client is reproducible:

- ``reset``: a TCP reset instead of the response; ``reset_mid``: part of the response, then a reset;
  ``truncate``: part of the response, then a FIN; ``reset_after``: the whole response, then a reset.
- ``stall``: part of the response, a pause of a few to a few tens of milliseconds, then the rest.
- ``stray``: the response and then, in the same send as its last byte, stray bytes: a copy of an earlier
  response (another request's answer), a copy of this one, or a few bytes of garbage. The rest of the
  response goes first, with a short pause before the last byte, so that a client that reads a body no
  further than its end has read everything else and leaves the stray bytes unread.
- the connection ends cleanly after the response (``close_rate``): a keep-alive close without
  ``Connection: close``, as a server's idle timeout does, with the FIN in the same TCP segment as the
  response's last byte.

Stray bytes and FINs arrive together with the last byte of the response, never later, so a client that
checks an idle connection before reusing it always sees them: the soak can require that no request ever
gets another's answer. Stray bytes that arrive *after* the next request was sent are the race no client
can win: on an HTTP/1.1 connection they are indistinguishable from that request's answer. A proxy that
sent them late would make mismatches that prove nothing, so this one never does.

:attr:`FaultProxy.exchanges` records every response the proxy delivered or broke: connection, method,
the request's ``id`` (its query string), and the fault; :attr:`FaultProxy.sent_after_close` what clients
wrote to a connection after it had been closed cleanly.
"""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from servers.proxies import _Upstream
from servers.raw import RawConnection, RawServer, RawServerFactory

__all__ = ["BREAKING", "FAULTS", "Exchange", "FaultProxy", "request_id", "send_then_fin"]

#: The faults, each injected on a fraction of the responses.
FAULTS = ("reset", "reset_mid", "truncate", "reset_after", "stall", "stray")

#: Faults after which the client may see an error: for the request whose response was broken, and for
#: ``reset_after`` also the next one (it may be sent before the reset arrives).
BREAKING = ("reset", "reset_mid", "truncate", "reset_after")

_GARBAGE = b"\x00\xffgarbage\r\n\r\n"


@dataclass(frozen=True)
class Exchange:
    """One response as the proxy handled it."""

    connection: int
    method: str
    request_id: str | None
    fault: str | None  # one of FAULTS, or None
    closed: bool  # the proxy ended the connection cleanly after a faithful response


def request_id(target: str) -> str | None:
    values = parse_qs(urlsplit(target).query).get("id")
    return values[0] if values else None


def send_then_fin(sock: socket.socket, data: bytes) -> None:
    """Send ``data`` and shut the sending side, the FIN in the same segment as the last data byte:
    corked, the data waits in the send queue and the kernel tacks the FIN onto its last segment."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)


class FaultProxy:
    """A relay to ``upstream`` (host, port) on a :class:`RawServer`, breaking ``fault_rate`` of the
    responses (the faults in turn) and closing the connection cleanly after ``close_rate`` of the others."""

    def __init__(
        self,
        raw: RawServerFactory,
        upstream: tuple[str, int],
        *,
        seed: int,
        fault_rate: float = 0.02,
        close_rate: float = 0.05,
    ) -> None:
        self.upstream = upstream
        self.fault_rate = fault_rate
        self.close_rate = close_rate
        self.exchanges: list[Exchange] = []
        #: (connection, bytes) a client sent on a connection after the proxy had closed it cleanly
        self.sent_after_close: list[tuple[int, bytes]] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._last_response = b""
        self._faults_injected = 0
        self.server: RawServer = raw(self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    # -- relaying --------------------------------------------------------------------------------------------

    def _handle(self, conn: RawConnection) -> None:
        upstream = _Upstream(socket.create_connection(self.upstream, timeout=self.server.timeout))
        try:
            while (request := conn.recv_request()) is not None:
                upstream.sock.sendall(request.raw)
                response, keep = upstream.response(request.method)
                if not self._deliver(conn, request.method, request.target, response, keep):
                    return
        finally:
            upstream.close()

    def _decide(self, response: bytes) -> tuple[str | None, bool, int, float, bytes]:
        """The fault (or None), a clean close after it, where to cut the response, how long to stall, and
        the stray bytes: all drawn here, under the lock, in the order of the responses."""
        rng = self._random
        with self._lock:
            fault = None
            if rng.random() < self.fault_rate:
                fault = FAULTS[self._faults_injected % len(FAULTS)]
                self._faults_injected += 1
            close = fault is None and rng.random() < self.close_rate
            cut = rng.randrange(1, len(response))
            stall = rng.uniform(0.005, 0.04)
            kind = rng.randrange(3)
            stray = (self._last_response or response, response, _GARBAGE)[kind]
            self._last_response = response
        return fault, close, cut, stall, stray

    def _deliver(self, conn: RawConnection, method: str, target: str, response: bytes, keep: bool) -> bool:
        """Deliver (or break) one response; False when the connection is over."""
        fault, close, cut, stall, stray = self._decide(response)
        with self._lock:
            self.exchanges.append(Exchange(conn.index, method, request_id(target), fault, close))
        if fault == "reset":
            conn.reset()
            return False
        if fault in ("reset_mid", "truncate"):
            conn.send(response[:cut])
            if fault == "reset_mid":
                conn.reset()
            else:
                conn.close()
            return False
        if fault == "stall":
            conn.send(response[:cut])
            conn.sleep(stall)
            conn.send(response[cut:])
        elif fault == "stray":
            # The stray bytes travel with the response's last byte: they are in the client's socket (or
            # its read) before it can have finished reading this response, so before its check for reuse.
            conn.send(response[:-1])
            conn.sleep(0.002)  # a client that reads no further than the body's end (the sync one) then
            conn.send(response[-1:] + stray)  # reads the last byte alone, and leaves the stray bytes
        elif fault == "reset_after":
            conn.send(response)
            conn.reset()
            return False
        elif close or not keep:
            send_then_fin(conn.sock, response)
            # Only the sending side is shut: what the client writes to this connection from now on (a
            # request sent to a server that had closed) arrives here and is recorded.
            late = conn.wait_closed()
            if late:
                with self._lock:
                    self.sent_after_close.append((conn.index, late))
            return False
        else:
            conn.send(response)
        return True
