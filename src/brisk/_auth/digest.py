"""HTTP Digest authentication (RFC 7616), written as an auth flow so sync and async share it.

Supports MD5, SHA-256 and SHA-512-256 with their ``-sess`` variants, ``qop=auth`` and ``qop=auth-int``,
nonce counting (``nc``) across requests that reuse a nonce, and one retry when the server says the nonce
is stale. The object may be shared by threads and tasks: the nonce state is guarded by a lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator

from brisk._auth.basic import AuthBase
from brisk._core.url import URL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.models import PreparedRequest, Response

__all__ = ["HTTPDigestAuth", "parse_challenge"]


def _hasher(name: str) -> Callable[[bytes], str]:
    def digest(data: bytes) -> str:
        import hashlib  # here, not at the top: `import brisk` does not load hashlib (and OpenSSL's tables)

        return hashlib.new(name, data).hexdigest()

    return digest


_ALGORITHMS: dict[str, Callable[[bytes], str]] = {
    "MD5": _hasher("md5"),
    "SHA": _hasher("sha1"),
    "SHA-256": _hasher("sha256"),
    "SHA-512-256": _hasher("sha512_256"),
    "SHA-512": _hasher("sha512"),
}


def parse_challenge(header: str) -> dict[str, str] | None:
    """The parameters of the Digest challenge in a WWW-Authenticate value, or None if there is none."""
    lower = header.lower()
    start = lower.find("digest ")
    if start < 0:
        return None
    text = header[start + 7 :]
    params: dict[str, str] = {}
    i, size = 0, len(text)
    while i < size:
        while i < size and text[i] in " ,\t":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            break
        name = text[i:eq].strip(" \t").lower()
        if " " in name:  # the start of another scheme's challenge: stop
            break
        i = eq + 1
        if i < size and text[i] == '"':
            value_chars: list[str] = []
            i += 1
            while i < size and text[i] != '"':
                if text[i] == "\\" and i + 1 < size:
                    i += 1
                value_chars.append(text[i])
                i += 1
            i += 1
            value = "".join(value_chars)
        else:
            end = text.find(",", i)
            end = size if end < 0 else end
            value = text[i:end].strip(" \t")
            i = end
        params[name] = value
    return params if "nonce" in params else None


def _body_bytes_for_hash(body: object) -> bytes | None:
    """The body as bytes for ``qop=auth-int``; a replayable stream is read for the hash and rewound.
    None when the body cannot be hashed without consuming it (then auth-int is not offered)."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    # a brisk request body (brisk._request.body) says whether it can be read twice; asked by its attribute,
    # as auth sits below the request package in brisk's layers
    stream: Any = body
    if getattr(stream, "replayable", False) is True:
        try:
            data = b"".join(stream)
        except TypeError:  # an async-only body
            return None
        stream.rewind()
        return data
    return None


class HTTPDigestAuth(AuthBase):
    """HTTP Digest authentication: ``auth=HTTPDigestAuth("user", "pass")``."""

    __module__ = "brisk.auth"  # where users import it from (and where pickle finds it)

    def __init__(self, username: str, password: str) -> None:
        import threading  # here, not at the top: import brisk does not need threading

        self.username = username
        self.password = password
        self._lock = threading.Lock()
        self._challenge: dict[str, str] | None = None
        self._nonce_count = 0
        # requests' per-thread state, for subclasses written against requests' HTTPDigestAuth (requests-
        # toolbelt's proxy Digest auth sets ``chal`` there and calls ``build_digest_header``).
        self._thread_local = threading.local()

    def init_per_thread_state(self) -> None:
        """Give this thread requests' Digest state (``init``, ``last_nonce``, ``nonce_count``, ``chal``,
        ``pos``, ``num_401_calls`` on ``_thread_local``), once."""
        local = self._thread_local
        if not hasattr(local, "init"):
            local.init = True
            local.last_nonce = ""
            local.nonce_count = 0
            local.chal = {}
            local.pos = None
            local.num_401_calls = None

    def build_digest_header(self, method: str, url: str) -> str | None:
        """requests' method: the Digest credentials for ``method`` on ``url`` answering the challenge in
        ``_thread_local.chal``, counting the nonce's uses there; None for an algorithm or qop brisk cannot
        answer. brisk's own requests answer challenges in ``auth_flow``, which keeps its state apart."""
        self.init_per_thread_state()
        local = self._thread_local
        challenge = local.chal
        if "nonce" not in challenge:
            return None
        nonce = challenge["nonce"]
        local.nonce_count = local.nonce_count + 1 if nonce == local.last_nonce else 1
        local.last_nonce = nonce
        target = URL.parse(url).target
        return self._answer(challenge, method, target, None, f"{local.nonce_count:08x}")

    def __eq__(self, other: object) -> bool:
        return (getattr(other, "username", None), getattr(other, "password", None)) == (
            self.username,
            self.password,
        )

    __hash__ = None  # type: ignore[assignment]

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        # After a first challenge, answer pre-emptively with the known nonce (saves a round trip).
        with self._lock:
            known = self._challenge is not None
        if known:
            header = self._authorization(r)
            if header:
                r.headers["Authorization"] = header
        return r

    def auth_flow(self, request: PreparedRequest) -> Generator[PreparedRequest, Response, None]:
        response = yield request
        for _ in range(2):  # the challenge, then at most one retry for a stale nonce
            challenge = self._challenge_of(response)
            if challenge is None:
                return
            with self._lock:
                if self._challenge is None or self._challenge.get("nonce") != challenge["nonce"]:
                    self._nonce_count = 0
                self._challenge = challenge
            header = self._authorization(request)
            if header is None:
                return  # an algorithm or qop we cannot answer: leave the 401 to the caller
            retry = request.copy()
            retry.headers["Authorization"] = header
            response = yield retry
            stale = self._challenge_of(response)
            if stale is None or stale.get("stale", "").lower() != "true":
                return

    @staticmethod
    def _challenge_of(response: Response) -> dict[str, str] | None:
        if response.status_code != 401:
            return None
        for value in response.headers.get_list("www-authenticate"):
            challenge = parse_challenge(value)
            if challenge is not None:
                return challenge
        return None

    def _authorization(self, request: PreparedRequest) -> str | None:
        with self._lock:
            challenge = self._challenge
            if challenge is None:
                return None
            self._nonce_count += 1
            nc = f"{self._nonce_count:08x}"
        return self._answer(challenge, request.method or "GET", request.path_url, request.body, nc)

    def _answer(
        self, challenge: dict[str, str], method: str, uri: str, request_body: object, nc: str
    ) -> str | None:
        algorithm = challenge.get("algorithm", "MD5").upper()
        session = algorithm.endswith("-SESS")
        hash_name = algorithm[:-5] if session else algorithm
        h = _ALGORITHMS.get(hash_name)
        if h is None:
            return None
        realm, nonce = challenge.get("realm", ""), challenge["nonce"]
        offered = [q.strip(" \t").lower() for q in challenge.get("qop", "").split(",") if q.strip(" \t")]
        body = _body_bytes_for_hash(request_body)
        if not offered:
            qop = None
        elif "auth" in offered:
            qop = "auth"
        elif "auth-int" in offered and body is not None:
            qop = "auth-int"
        else:
            return None
        cnonce = os.urandom(8).hex()
        ha1 = h(f"{self.username}:{realm}:{self.password}".encode())
        if session:
            ha1 = h(f"{ha1}:{nonce}:{cnonce}".encode())
        ha2 = (
            h(f"{method}:{uri}:{h(body or b'')}".encode())
            if qop == "auth-int"
            else h(f"{method}:{uri}".encode())
        )
        if qop is None:
            answer = h(f"{ha1}:{nonce}:{ha2}".encode())
        else:
            answer = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())
        parts = [
            f'username="{self.username}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{uri}"',
            f'response="{answer}"',
            f"algorithm={challenge.get('algorithm', 'MD5')}",
        ]
        if "opaque" in challenge:
            parts.append(f'opaque="{challenge["opaque"]}"')
        if qop is not None:
            parts += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        return "Digest " + ", ".join(parts)
