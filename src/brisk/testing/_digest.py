"""The server side of HTTP Digest authentication (RFC 7616; RFC 2069 when no qop is offered).

The authority issues nonces, remembers them (bounded) and checks a client's Authorization header:

- the algorithm may be MD5, SHA-256, SHA-512-256 or SHA-512, each also in its ``-sess`` form (RFC 7616
  section 3.4.2: the session variants hash the nonce and cnonce into HA1);
- qop ``auth`` hashes method and URI into HA2, ``auth-int`` also the hash of the request body;
- a nonce count (``nc``) may be used once per nonce, so a replayed Authorization header fails;
- with ``stale_after=N`` a nonce authenticates N requests; the next one using it gets a new challenge with
  ``stale=true``, which tells a correct client to retry with the new nonce without asking for a password.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from brisk.testing._forms import decode_ext_value

#: Algorithm names of RFC 7616 (and SHA-512, which httpbin offers) -> hashlib names.
HASHES: dict[str, str] = {
    "MD5": "md5",
    "SHA-256": "sha256",
    "SHA-512-256": "sha512_256",
    "SHA-512": "sha512",
}
ALGORITHMS: tuple[str, ...] = tuple(name + suffix for name in HASHES for suffix in ("", "-sess"))


class Verdict(enum.Enum):
    """The outcome of checking an Authorization header."""

    OK = "ok"
    STALE = "stale"
    DENIED = "denied"


@dataclass
class _NonceState:
    uses: int = 0
    counts: set[int] = field(default_factory=set)


def canonical_algorithm(name: str) -> str | None:
    """The RFC spelling of algorithm *name* (any case), or None when unsupported."""
    for algorithm in ALGORITHMS:
        if algorithm.lower() == name.lower():
            return algorithm
    return None


def parse_auth_params(header: str) -> tuple[str, dict[str, str]]:
    """Split ``Digest a=1, b="x, y"`` into the scheme (lower-cased) and its parameters (names lower-cased)."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    pos, length = 0, len(rest)
    while pos < length:
        while pos < length and rest[pos] in " ,\t":
            pos += 1
        eq = rest.find("=", pos)
        if eq < 0:
            break
        name = rest[pos:eq].strip().lower()
        pos = eq + 1
        while pos < length and rest[pos] in " \t":
            pos += 1
        if pos < length and rest[pos] == '"':
            pos += 1
            chars: list[str] = []
            while pos < length and rest[pos] != '"':
                if rest[pos] == "\\" and pos + 1 < length:
                    pos += 1
                chars.append(rest[pos])
                pos += 1
            value = "".join(chars)
            pos += 1
        else:
            end = rest.find(",", pos)
            end = length if end < 0 else end
            value = rest[pos:end].strip()
            pos = end
        params[name] = value
    return scheme.lower(), params


class DigestAuthority:
    """Issues Digest challenges and checks the answers; one per application, safe to share between threads.

    >>> authority = DigestAuthority()
    >>> authority.challenge(qop="auth", algorithm="SHA-256").startswith("Digest realm=")
    True
    """

    def __init__(self, realm: str = "brisk-test@example.org", max_nonces: int = 10_000) -> None:
        self.realm = realm
        self.opaque = secrets.token_hex(16)
        self._max_nonces = max_nonces
        self._nonces: OrderedDict[str, _NonceState] = OrderedDict()
        self._lock = threading.Lock()

    def challenge(self, qop: str | None, algorithm: str, stale: bool = False) -> str:
        """A fresh ``WWW-Authenticate`` value offering *qop* (None for RFC 2069) and *algorithm*."""
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces[nonce] = _NonceState()
            while len(self._nonces) > self._max_nonces:
                self._nonces.popitem(last=False)
        parts = [f'realm="{self.realm}"']
        if qop:
            parts.append(f'qop="{qop}"')
        parts += [f'nonce="{nonce}"', f'opaque="{self.opaque}"', f"algorithm={algorithm}"]
        if stale:
            parts.append("stale=TRUE")
        return "Digest " + ", ".join(parts)

    def check(
        self,
        header: str | None,
        *,
        method: str,
        uri: str,
        user: str,
        password: str,
        qop: str | None,
        algorithm: str,
        body: bytes = b"",
        stale_after: int | None = None,
    ) -> Verdict:
        """Check an Authorization header against the expected credentials and request."""
        if not header:
            return Verdict.DENIED
        scheme, params = parse_auth_params(header)
        if scheme != "digest":
            return Verdict.DENIED
        username = params.get("username")
        if "username*" in params:
            username = decode_ext_value(params["username*"])
        nonce = params.get("nonce", "")
        if (
            username != user
            or params.get("realm") != self.realm
            or params.get("uri") != uri
            or params.get("opaque") != self.opaque
            or (params.get("algorithm") or "MD5").lower() != algorithm.lower()
            or params.get("qop") != qop
        ):
            return Verdict.DENIED
        expected = self.expected_response(
            params, method=method, password=password, algorithm=algorithm, body=body
        )
        if expected is None or not hmac.compare_digest(expected, params.get("response", "").lower()):
            return Verdict.DENIED
        with self._lock:
            state = self._nonces.get(nonce)
            if state is None:
                return Verdict.DENIED
            if qop:
                try:
                    count = int(params.get("nc", ""), 16)
                except ValueError:
                    return Verdict.DENIED
                if count in state.counts:
                    return Verdict.DENIED
                state.counts.add(count)
            if stale_after is not None and state.uses >= stale_after:
                del self._nonces[nonce]
                return Verdict.STALE
            state.uses += 1
        return Verdict.OK

    def expected_response(
        self, params: dict[str, str], *, method: str, password: str, algorithm: str, body: bytes = b""
    ) -> str | None:
        """The ``response`` value a correct client computes from *params*, or None when some are missing."""
        base = algorithm.removesuffix("-sess")
        hash_name = HASHES.get(base)
        if hash_name is None:
            return None

        def digest(text: str | bytes) -> str:
            data = text.encode("utf-8") if isinstance(text, str) else text
            return hashlib.new(hash_name, data).hexdigest()

        username = params.get("username")
        if "username*" in params:
            username = decode_ext_value(params["username*"])
        nonce, cnonce, qop = params.get("nonce"), params.get("cnonce"), params.get("qop")
        if username is None or nonce is None or "uri" not in params:
            return None
        ha1 = digest(f"{username}:{self.realm}:{password}")
        if algorithm.endswith("-sess"):
            if cnonce is None:
                return None
            ha1 = digest(f"{ha1}:{nonce}:{cnonce}")
        if qop == "auth-int":
            ha2 = digest(f"{method}:{params['uri']}:{digest(body)}")
        else:
            ha2 = digest(f"{method}:{params['uri']}")
        if not qop:
            return digest(f"{ha1}:{nonce}:{ha2}")
        if cnonce is None or "nc" not in params:
            return None
        return digest(f"{ha1}:{nonce}:{params['nc']}:{cnonce}:{qop}:{ha2}")
