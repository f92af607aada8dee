"""DNS over HTTPS (RFC 8484): ``brisk.DoHResolver``, a resolver for ``Session(resolver=...)``.

A ``DoHResolver`` is a plain blocking function ``(host, port) -> list of IP strings``, as the ``resolver``
setting asks (``AsyncSession`` runs it in the loop's executor). It builds DNS queries with dnspython (an
optional extra: ``pip install brisk[doh]``), sends them in the DNS wire format to a DoH server over a brisk
``Session`` of its own, and reads the addresses out of the answers.

How the exchange goes (RFC 8484 section 4):

- POST: the query is the body, ``Content-Type: application/dns-message``; GET: the query travels
  base64url-encoded without padding in the ``dns`` query parameter. Both say ``Accept:
  application/dns-message``, and the answer must come back as that type with a 2xx status.
- The DNS message ID is 0 (section 4.1: the HTTP exchange already pairs question and answer, and an ID of
  0 lets HTTP caches share answers).
- A and AAAA are asked separately (a DNS message holds one question); with both wanted they are asked at
  once, the AAAA query in a short-lived thread, and IPv6 addresses come first (RFC 6724's usual order; the
  connect code interleaves the families for Happy Eyeballs anyway).
- A CNAME chain in the answer is followed (dnspython's ``resolve_chaining``); the time an answer may be
  cached is the least TTL along the chain, and for a negative answer (NXDOMAIN, or no record of that
  type) the negative TTL of the zone's SOA (RFC 2308).

No recursion: the resolver's own session never uses a DoH resolver for itself, so the DoH server's name
must be an IP literal, resolvable by the system resolver, or given in ``resolve=``.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections import OrderedDict

from brisk.exceptions import RequestException
from brisk.sessions import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import dns.message

    from brisk.models import Response

__all__ = ["DoHError", "DoHResolver"]

_MEDIA_TYPE = "application/dns-message"
_MAX_MESSAGE = 65535  # a DNS message's length is a 16-bit number (RFC 8484 section 6 too)
_MAX_TTL = 86400  # seconds an answer is kept at most, whatever its TTL
_MAX_NEGATIVE_TTL = 3600  # and a "no such name" or "no such record"
#: The record types asked for each ``family``, in the order their addresses are returned.
_QUERIES = {None: ("AAAA", "A"), "ipv4": ("A",), "ipv6": ("AAAA",)}
_MISS = object()  # not in the cache (None there means NXDOMAIN)
DEFAULT_CACHE_SIZE = 1024
_RECURSION = "DoHResolver: its own session uses it as resolver= (it would need itself to find its server)"

#: A cached answer for one name and type: the addresses (empty: no record of that type), or None: the name
#: does not exist.
Answer = tuple[str, ...] | None


class DoHError(socket.gaierror):
    """A name a ``DoHResolver`` could not resolve: the name does not exist (``errno`` EAI_NONAME), or the
    DoH server failed or could not be reached (EAI_AGAIN), or answered something unusable (EAI_FAIL).

    A ``socket.gaierror`` (so an ``OSError``), as ``getaddrinfo`` raises: a session turns it into
    ``NameResolutionError`` naming the host. ``url`` is the DoH server's, ``host`` the name asked for,
    ``status`` the HTTP status of a failed exchange and ``rcode`` the DNS response code (as text), when
    they apply.
    """

    def __init__(
        self,
        errno: int,
        message: str,
        *,
        url: str = "",
        host: str = "",
        status: int | None = None,
        rcode: str | None = None,
    ) -> None:
        super().__init__(errno, message)
        self.url = url
        self.host = host
        self.status = status
        self.rcode = rcode

    def __str__(self) -> str:
        return str(self.strerror)


def _require_dnspython() -> None:
    try:
        import dns.message
        import dns.rcode
        import dns.rdatatype  # noqa: F401 (loaded here so that a missing piece shows at once)
    except ImportError as exc:
        raise ImportError(
            "brisk.DoHResolver needs dnspython, an optional extra: pip install brisk[doh]"
        ) from exc


class DoHResolver:
    """Resolves host names with DNS over HTTPS (RFC 8484), for ``Session(resolver=DoHResolver(url))``.

    :param url: the DoH endpoint, ``https://`` (e.g. ``https://1.1.1.1/dns-query``); an RFC 6570 template
        ending in ``{?dns}`` is accepted too. Its host must be an IP literal or a name the system resolver
        (or ``resolve``) knows: the resolver does not resolve its own server.
    :param method: ``"POST"`` (the query as the body) or ``"GET"`` (the query in ``?dns=``, base64url;
        cacheable by HTTP caches).
    :param family: ``"ipv4"`` (A records only), ``"ipv6"`` (AAAA only) or None (both). A session's own
        ``family`` filters the answer too; setting it here as well saves the other query.
    :param timeout: the timeout of each DoH request (seconds, or a ``brisk.Timeout``).
    :param verify: how the resolver's own session verifies the DoH server's certificate (as
        ``Session(verify=...)``: True, a CA bundle path, PEM bytes or an ``ssl.SSLContext``).
    :param resolve: addresses for the DoH server's name, as ``Session(resolve=...)``.
    :param session: a ``brisk.Session`` to send the queries through instead of one of the resolver's own
        (then ``verify`` and ``resolve`` are that session's business). It must not use this resolver.
    :param cache: keep answers for their TTL: True (up to 1024 names and types), an int (that many), or
        False (ask every time). Name errors are cached for the zone's negative TTL.

    Errors are ``DoHError`` (a ``socket.gaierror``): through a session, ``NameResolutionError`` naming the
    host, with the DoH server's URL and what went wrong. ``close()`` (or ``with``) closes the resolver's
    own session; pickling keeps the settings, not the cache or the connections.
    """

    def __init__(
        self,
        url: str,
        *,
        method: str = "POST",
        family: str | None = None,
        timeout: Any = 5.0,
        verify: Any = True,
        resolve: Any = None,
        session: Session | None = None,
        cache: bool | int = True,
    ) -> None:
        _require_dnspython()
        if not isinstance(url, str) or not url.lower().startswith("https://"):
            raise ValueError(f"DoHResolver: url must be an https:// URL (RFC 8484), not {url!r}")
        self.url = url.removesuffix("{?dns}")
        self.method = str(method).upper()
        if self.method not in ("GET", "POST"):
            raise ValueError(f"DoHResolver: method must be 'GET' or 'POST', not {method!r}")
        if family not in _QUERIES:
            raise ValueError(f"DoHResolver: family must be 'ipv4', 'ipv6' or None (both), not {family!r}")
        self.family = family
        self.timeout = timeout
        if cache is True:
            self.cache_size = DEFAULT_CACHE_SIZE
        elif cache is False or cache is None:
            self.cache_size = 0
        elif isinstance(cache, int) and cache >= 0:
            self.cache_size = cache
        else:
            raise ValueError(f"DoHResolver: cache must be True, False or a number of entries, not {cache!r}")
        if session is not None and (verify is not True or resolve is not None):
            raise TypeError("DoHResolver: give verify= and resolve= to the session you pass, not here")
        self._settings = {"verify": verify, "resolve": resolve}
        self._own_session = session is None
        self.session = Session(verify=verify, resolve=resolve) if session is None else session
        if getattr(self.session, "resolver", None) is self:
            raise ValueError(_RECURSION)
        self._cache: OrderedDict[tuple[str, str], tuple[float, Answer]] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<DoHResolver {self.url} {self.method}>"

    # -- pickling, closing -----------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "url": self.url,
            "method": self.method,
            "family": self.family,
            "timeout": self.timeout,
            "cache": self.cache_size,
        }
        if self._own_session:
            state.update(self._settings)
        else:
            state["session"] = self.session
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        url = state.pop("url")
        self.__init__(url, **state)  # type: ignore[misc]

    def close(self) -> None:
        """Close the resolver's own session (a session passed in is left to its owner)."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> DoHResolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- resolving -------------------------------------------------------------------------------------------

    def __call__(self, host: str, port: int) -> list[str]:
        """The IP addresses of ``host`` (``port`` is not used: DNS answers for the name)."""
        if getattr(self.session, "resolver", None) is self:
            raise DoHError(socket.EAI_FAIL, _RECURSION, url=self.url, host=host)
        name = host.lower()
        kinds = _QUERIES[self.family]
        now = time.monotonic()
        found: dict[str, Answer | BaseException] = {}
        for kind in kinds:
            cached = self._cached((name, kind), now)
            if cached is not _MISS:
                found[kind] = cached  # type: ignore[assignment]
        missing = [kind for kind in kinds if kind not in found]
        if missing:
            self._prepare_session()
        if len(missing) == 2:
            found.update(self._ask_both(name, missing))
        elif missing:
            found[missing[0]] = self._ask(name, missing[0])
        return self._addresses(host, [found[kind] for kind in kinds], kinds)

    def _addresses(
        self, host: str, answers: list[Answer | BaseException], kinds: tuple[str, ...]
    ) -> list[str]:
        """What the answers to the queries for ``host`` mean together: the name does not exist if any says
        so; else its addresses, if any answer gave some; else the first error, or "no address"."""
        if any(answer is None for answer in answers):
            raise DoHError(
                socket.EAI_NONAME,
                f"{host}: no such name (NXDOMAIN from the DoH server {self.url})",
                url=self.url,
                host=host,
                rcode="NXDOMAIN",
            )
        addresses = [address for answer in answers if isinstance(answer, tuple) for address in answer]
        if addresses:
            return addresses
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        records = " or ".join(kinds)
        raise DoHError(
            socket.EAI_NONAME,
            f"{host}: no {records} record (answer of the DoH server {self.url})",
            url=self.url,
            host=host,
        )

    def _prepare_session(self) -> None:
        """Make the session's transport (its connection pool) before the A and AAAA queries share the
        session from two threads (``Session._transport_for`` makes it once under its own lock)."""
        self.session._transport_for()

    def _ask_both(self, name: str, kinds: list[str]) -> dict[str, Answer | BaseException]:
        """Ask for both record types at once: the second in a thread of its own."""
        results: dict[str, Answer | BaseException] = {}

        def ask_second() -> None:
            try:
                results[kinds[1]] = self._ask(name, kinds[1])
            except BaseException as exc:  # handed to the asking thread
                results[kinds[1]] = exc

        helper = threading.Thread(target=ask_second, name=f"brisk-doh {name}", daemon=True)
        helper.start()
        try:
            results[kinds[0]] = self._ask(name, kinds[0])
        except DoHError as exc:
            results[kinds[0]] = exc
        finally:
            helper.join()
        return results

    def _ask(self, name: str, kind: str) -> Answer:
        """One DoH exchange: the ``kind`` records of ``name`` (cached for their TTL)."""
        import dns.exception
        import dns.message
        import dns.rcode
        import dns.rdatatype

        try:
            query = dns.message.make_query(name, dns.rdatatype.from_text(kind))
        except dns.exception.DNSException as exc:
            raise DoHError(socket.EAI_NONAME, f"{name!r} is not a valid DNS name: {exc}", host=name) from None
        query.id = 0  # RFC 8484 section 4.1
        reply = self._parse(name, query, self._exchange(name, query.to_wire()))
        rcode = reply.rcode()
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            text = dns.rcode.to_text(rcode)
            raise DoHError(
                socket.EAI_AGAIN if rcode == dns.rcode.SERVFAIL else socket.EAI_FAIL,
                f"{name}: the DoH server {self.url} answered {text}",
                url=self.url,
                host=name,
                rcode=text,
            )
        try:
            chain = reply.resolve_chaining()
        except dns.exception.DNSException as exc:
            raise self._unusable(name, f"an inconsistent answer ({exc!r})") from None
        answer: Answer = None
        if rcode == dns.rcode.NOERROR:
            answer = tuple(str(record.address) for record in chain.answer or ())
        self._store((name, kind), answer, chain.minimum_ttl)
        return answer

    def _exchange(self, name: str, wire: bytes) -> bytes:
        """Send the query, return the answer's body (a DNS message)."""
        headers = {"Accept": _MEDIA_TYPE}
        try:
            if self.method == "GET":
                encoded = base64.urlsafe_b64encode(wire).rstrip(b"=").decode("ascii")
                separator = "&" if "?" in self.url else "?"
                response = self.session.get(
                    f"{self.url}{separator}dns={encoded}", headers=headers, timeout=self.timeout, stream=True
                )
            else:
                headers["Content-Type"] = _MEDIA_TYPE
                response = self.session.post(
                    self.url, data=wire, headers=headers, timeout=self.timeout, stream=True
                )
            with response:
                self._check_response(name, response)
                return self._read(name, response)
        except RequestException as exc:
            raise DoHError(
                socket.EAI_AGAIN,
                f"{name}: the DoH request to {self.url} failed: {exc}",
                url=self.url,
                host=name,
            ) from exc

    def _check_response(self, name: str, response: Response) -> None:
        status = response.status_code
        if not 200 <= status < 300:
            raise DoHError(
                socket.EAI_AGAIN,
                f"{name}: the DoH server {self.url} answered HTTP {status} {response.reason or ''}".rstrip(),
                url=self.url,
                host=name,
                status=status,
            )
        kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if kind != _MEDIA_TYPE:
            raise self._unusable(name, f"Content-Type {kind or 'none'!r}, not {_MEDIA_TYPE}", status)

    def _read(self, name: str, response: Response) -> bytes:
        body = bytearray()
        for chunk in response.iter_content(16384):
            body += chunk
            if len(body) > _MAX_MESSAGE:
                raise self._unusable(name, "more bytes than a DNS message can hold", response.status_code)
        return bytes(body)

    def _parse(self, name: str, query: dns.message.Message, body: bytes) -> dns.message.QueryMessage:
        import dns.exception
        import dns.message

        try:
            reply = dns.message.from_wire(body)
        except dns.exception.DNSException as exc:
            raise self._unusable(name, f"a malformed DNS message ({exc!r})") from None
        if not isinstance(reply, dns.message.QueryMessage) or not query.is_response(reply):
            raise self._unusable(name, "a DNS message that does not answer the question")
        return reply

    def _unusable(self, name: str, what: str, status: int | None = None) -> DoHError:
        message = f"{name}: the DoH server {self.url} sent {what}"
        return DoHError(socket.EAI_FAIL, message, url=self.url, host=name, status=status)

    # -- the cache -------------------------------------------------------------------------------------------

    def _cached(self, key: tuple[str, str], now: float) -> Answer | object:
        if not self.cache_size:
            return _MISS
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return _MISS
            if now >= entry[0]:
                del self._cache[key]
                return _MISS
            self._cache.move_to_end(key)
            return entry[1]

    def _store(self, key: tuple[str, str], answer: Answer, ttl: int) -> None:
        # A TTL is the server's word, up to 2**31 s: an answer (or a "no such name") is kept a day at most,
        # a negative one an hour (RFC 2308 section 5 suggests one to three hours).
        ttl = min(ttl, _MAX_TTL if answer else _MAX_NEGATIVE_TTL)
        if not self.cache_size or ttl <= 0:
            return
        with self._lock:
            self._cache[key] = (time.monotonic() + ttl, answer)
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)


DoHResolver.__module__ = "brisk"  # its public name: pickles and reprs do not depend on this module's path
