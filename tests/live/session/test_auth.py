"""Authentication: Basic, credentials in the URL, Bearer, AuthBase and generator flows, Digest (against the
test app and the real httpbin), HTTPProxyAuth, and netrc (looked up by host name only, never carried to
another host, overridden by an explicit Authorization header).

Every behaviour test takes the ``client`` fixture and so runs with ``brisk.Session`` and with
``brisk.AsyncSession``.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import brisk
from brisk.exceptions import ConnectionError as BriskConnectionError
from brisk.exceptions import (
    ContentDecodingError,
    HTTPError,
    ReadTimeout,
    TooManyRedirects,
    UnrewindableBodyError,
)
from brisk.testing._digest import DigestAuthority, Verdict
from brisk.testing.server import ServerThread
from servers.clients import Client
from servers.raw import RawConnection, RawRequest, RawServer, RawServerFactory, http_response

ClientFactory = Callable[..., Client]
Respond = Callable[[RawRequest], bytes]


def scripted(respond: Respond) -> Callable[[RawConnection], None]:
    """A keep-alive raw handler answering every request with ``respond(request)``."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            conn.send(respond(request))

    return handler


def basic_credentials(request: RawRequest) -> bytes | None:
    """The decoded ``user:password`` bytes of a Basic Authorization header, or None."""
    value = request.header("authorization")
    if value is None or not value.startswith("Basic "):
        return None
    return base64.b64decode(value[6:])


def digest_params(header: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="?([^",]*)"?', header.removeprefix("Digest ")))


# -- Basic ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tuple", "HTTPBasicAuth", "session"])
def test_auth_basic(client: Client, app_server: ServerThread, kind: str) -> None:
    url = app_server.url + "/basic-auth/alice/wonder-land"
    if kind == "session":
        client.session.auth = ("alice", "wonder-land")
        r = client.get(url)
    else:
        auth = ("alice", "wonder-land") if kind == "tuple" else brisk.HTTPBasicAuth("alice", "wonder-land")
        r = client.get(url, auth=auth)
    assert r.status_code == 200
    assert r.json() == {"authenticated": True, "user": "alice"}
    assert r.request.headers["Authorization"] == "Basic " + base64.b64encode(b"alice:wonder-land").decode()


def test_auth_basic_wrong_password_is_401(client: Client, app_server: ServerThread) -> None:
    r = client.get(app_server.url + "/basic-auth/alice/wonder-land", auth=("alice", "nope"))
    assert r.status_code == 401
    with pytest.raises(HTTPError):
        r.raise_for_status()


def test_auth_basic_non_ascii_credentials(
    client: Client, app_server: ServerThread, raw_server: RawServerFactory
) -> None:
    r = client.get(app_server.url + "/basic-auth/jürgen/pässwörd€", auth=("jürgen", "pässwörd€"))
    assert r.status_code == 200
    assert r.json()["user"] == "jürgen"
    server = raw_server()
    client.get(server.url, auth=brisk.HTTPBasicAuth("jürgen", "pässwörd€"))
    assert basic_credentials(server.requests[0]) == "jürgen:pässwörd€".encode()  # UTF-8, RFC 7617


def test_auth_basic_bytes_credentials(client: Client, raw_server: RawServerFactory) -> None:
    server = raw_server()
    client.get(server.url, auth=(b"raw\xffuser", b"pw"))
    assert basic_credentials(server.requests[0]) == b"raw\xffuser:pw"


def test_auth_basic_credentials_of_other_types_are_converted_with_a_warning(
    client: Client, app_server: ServerThread
) -> None:
    """requests turns ``auth=(42, 42)`` into "42:42" with a DeprecationWarning; so does brisk."""
    with pytest.warns(DeprecationWarning, match="int and int"):
        r = client.get(app_server.url + "/basic-auth/42/42", auth=(42, 42))
    assert r.status_code == 200
    assert r.request.headers["Authorization"] == "Basic NDI6NDI="


# -- credentials in the URL ----------------------------------------------------------------------------------


def test_auth_url_credentials_used_as_basic(client: Client, app_server: ServerThread) -> None:
    url = app_server.url.replace("http://", "http://alice:wonder-land@") + "/basic-auth/alice/wonder-land"
    r = client.get(url)
    assert r.status_code == 200
    assert r.json()["user"] == "alice"


def test_auth_url_credentials_percent_decoded(client: Client, raw_server: RawServerFactory) -> None:
    server = raw_server()
    client.get(server.url.replace("http://", "http://us%40er:p%3As%20s@") + "/path")
    assert basic_credentials(server.requests[0]) == b"us@er:p:s s"


def test_auth_url_credentials_never_on_the_wire_elsewhere(
    client: Client, raw_server: RawServerFactory
) -> None:
    server = raw_server()
    client.get(server.url.replace("http://", "http://alice:hunter2@") + "/path?q=1")
    request = server.requests[0]
    assert request.target == "/path?q=1"
    assert request.header("host") == f"127.0.0.1:{server.port}"
    without_auth = [value for name, value in request.headers if name.lower() != "authorization"]
    assert not any("hunter2" in value or "alice" in value for value in without_auth)


def test_auth_explicit_auth_wins_over_url_credentials(client: Client, raw_server: RawServerFactory) -> None:
    server = raw_server()
    client.get(server.url.replace("http://", "http://url-user:url-pass@"), auth=("arg-user", "arg-pass"))
    assert basic_credentials(server.requests[0]) == b"arg-user:arg-pass"


def _slow(conn: RawConnection) -> None:
    conn.recv_request()
    conn.sleep(5)


def _corrupt_gzip(request: RawRequest) -> bytes:
    return http_response(200, b"\x1f\x8b\x08\x00 not gzip at all", [("Content-Encoding", "gzip")])


@pytest.mark.parametrize("kind", ["refused", "http-error", "read-timeout", "decoding", "too-many-redirects"])
def test_auth_url_credentials_not_in_exception_messages(
    client_factory: ClientFactory,
    raw_server: RawServerFactory,
    app_server: ServerThread,
    unused_port: int,
    kind: str,
) -> None:
    client = client_factory(timeout=brisk.Timeout(5, read=0.5), retries=0, max_redirects=1)
    expected: type[Exception]
    if kind == "refused":
        url, expected = f"http://127.0.0.1:{unused_port}/", BriskConnectionError
    elif kind == "read-timeout":
        url, expected = raw_server(_slow).url, ReadTimeout
    elif kind == "decoding":
        url, expected = raw_server(scripted(_corrupt_gzip)).url, ContentDecodingError
    elif kind == "http-error":
        url, expected = app_server.url + "/status/503", HTTPError
    else:
        url, expected = app_server.url + "/redirect/3", TooManyRedirects
    url = url.replace("http://", "http://alice:hunter2@")

    def fetch() -> None:
        client.get(url).raise_for_status()

    with pytest.raises(expected) as caught:
        fetch()
    message = str(caught.value)
    assert "hunter2" not in message
    assert "127.0.0.1" in message  # the message still says where


# -- Bearer, AuthBase, generator flows -----------------------------------------------------------------------


@pytest.mark.parametrize("auth", [brisk.HTTPBearerAuth("t0k3n.abc"), "t0k3n.abc"], ids=["class", "string"])
def test_auth_bearer(client: Client, app_server: ServerThread, auth: object) -> None:
    r = client.get(app_server.url + "/bearer", auth=auth)
    assert r.status_code == 200
    assert r.json() == {"authenticated": True, "token": "t0k3n.abc"}
    assert r.request.headers["Authorization"] == "Bearer t0k3n.abc"


def test_auth_bearer_missing_is_401(client: Client, app_server: ServerThread) -> None:
    assert client.get(app_server.url + "/bearer").status_code == 401


def test_auth_bearer_repr_hides_token() -> None:
    assert "t0k3n" not in repr(brisk.HTTPBearerAuth("t0k3n"))


def test_auth_authbase_subclass(client: Client, app_server: ServerThread) -> None:
    class ApiKey(brisk.AuthBase):
        def __init__(self, key: str) -> None:
            self.key = key

        def __call__(self, r: brisk.PreparedRequest) -> brisk.PreparedRequest:
            r.headers["X-Api-Key"] = self.key
            return r

    r = client.get(app_server.url + "/headers", auth=ApiKey("k-123"))
    assert r.json()["headers"]["X-Api-Key"] == "k-123"


class TokenRefresh(brisk.AuthBase):
    """A generator flow: send the cached token; on 401 fetch a new one and send the request again."""

    def __init__(self) -> None:
        self.token = "expired"
        self.refreshes = 0

    def auth_flow(self, request: brisk.PreparedRequest) -> Iterator[brisk.PreparedRequest]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            self.refreshes += 1
            self.token = f"fresh-{self.refreshes}"
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


def _needs_fresh_token(request: RawRequest) -> bytes:
    if request.header("authorization") == "Bearer fresh-1":
        return http_response(200, b"welcome:" + request.body)
    return http_response(401, b"token expired", [("WWW-Authenticate", 'Bearer error="invalid_token"')])


def test_auth_generator_flow_token_refresh(
    client: Client, raw_server: RawServerFactory, tmp_path: Path
) -> None:
    server = raw_server(scripted(_needs_fresh_token))
    auth = TokenRefresh()
    r = client.post(server.url + "/api", data=b"payload", auth=auth)
    assert r.status_code == 200
    assert client.read(r) == b"welcome:payload"
    assert auth.refreshes == 1
    assert [req.header("authorization") for req in server.requests] == ["Bearer expired", "Bearer fresh-1"]
    assert [req.body for req in server.requests] == [b"payload", b"payload"]
    assert server.connection_count == 1  # the 401 was drained and its connection reused
    # The next request uses the refreshed token at once.
    path = tmp_path / "body.bin"
    path.write_bytes(b"from a file")
    with path.open("rb") as f:
        r = client.post(server.url + "/api", data=f, auth=auth)
    assert client.read(r) == b"welcome:from a file"
    assert auth.refreshes == 1


def test_auth_generator_flow_unreplayable_body_is_an_error(
    client: Client, raw_server: RawServerFactory
) -> None:
    server = raw_server(scripted(_needs_fresh_token))
    with pytest.raises(UnrewindableBodyError):
        client.post(server.url, data=(chunk for chunk in [b"once ", b"only"]), auth=TokenRefresh())
    assert len(server.requests) == 1  # never a second request with an empty body


# -- Digest against the test app -----------------------------------------------------------------------------

APP_ALGORITHMS = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess", "SHA-512"]


@pytest.mark.parametrize("qop", ["auth", "auth-int"])
@pytest.mark.parametrize("algorithm", APP_ALGORITHMS)
def test_auth_digest_algorithms(client: Client, app_server: ServerThread, algorithm: str, qop: str) -> None:
    url = f"{app_server.url}/digest-auth/{qop}/mufasa/circle-of-life/{algorithm}"
    r = client.get(url, auth=brisk.HTTPDigestAuth("mufasa", "circle-of-life"))
    assert r.status_code == 200
    assert r.json() == {"authenticated": True, "user": "mufasa"}
    params = digest_params(r.request.headers["Authorization"])
    assert params["algorithm"] == algorithm
    assert params["qop"] == qop
    assert [h.status_code for h in r.history] == [401]  # the challenge, as requests keeps it


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256-sess"])
def test_auth_digest_auth_int_post_body(client: Client, app_server: ServerThread, algorithm: str) -> None:
    url = f"{app_server.url}/digest-auth/auth-int/mufasa/circle-of-life/{algorithm}"
    r = client.post(
        url, data=b'{"hashed": "into HA2"}', auth=brisk.HTTPDigestAuth("mufasa", "circle-of-life")
    )
    assert r.status_code == 200


def test_auth_digest_auth_int_file_body(client: Client, app_server: ServerThread, tmp_path: Path) -> None:
    path = tmp_path / "body.bin"
    path.write_bytes(b"file body hashed into HA2")
    url = f"{app_server.url}/digest-auth/auth-int/mufasa/circle-of-life/MD5"
    with path.open("rb") as f:
        r = client.post(url, data=f, auth=brisk.HTTPDigestAuth("mufasa", "circle-of-life"))
    assert r.status_code == 200


def test_auth_digest_wrong_password_is_401(client: Client, app_server: ServerThread) -> None:
    r = client.get(
        f"{app_server.url}/digest-auth/auth/mufasa/circle-of-life/MD5",
        auth=brisk.HTTPDigestAuth("mufasa", "wrong"),
    )
    assert r.status_code == 401
    assert [h.status_code for h in r.history] == [401]  # challenged once, answered once, refused


def test_auth_digest_nonce_counting(client: Client, app_server: ServerThread) -> None:
    auth = brisk.HTTPDigestAuth("mufasa", "circle-of-life")
    url = f"{app_server.url}/digest-auth/auth/mufasa/circle-of-life/SHA-256"
    seen = []
    for _ in range(3):
        r = client.get(url, auth=auth)
        assert r.status_code == 200  # the app refuses a reused nc
        seen.append(digest_params(r.request.headers["Authorization"]))
    assert [p["nc"] for p in seen] == ["00000001", "00000002", "00000003"]
    assert len({p["nonce"] for p in seen}) == 1  # one challenge, then the nonce is reused
    assert len({p["cnonce"] for p in seen}) == 3


def test_auth_digest_stale_nonce_retry(client: Client, app_server: ServerThread) -> None:
    auth = brisk.HTTPDigestAuth("mufasa", "circle-of-life")
    url = f"{app_server.url}/digest-auth/auth/mufasa/circle-of-life/MD5/1"  # each nonce serves one request
    first = client.get(url, auth=auth)
    assert first.status_code == 200
    second = client.get(url, auth=auth)
    assert second.status_code == 200  # stale=TRUE answered with the new nonce, no password prompt
    old, new = (digest_params(r.request.headers["Authorization"]) for r in (first, second))
    assert new["nonce"] != old["nonce"]
    assert new["nc"] == "00000001"


def _digest_server(raw_server: RawServerFactory, stale: bool) -> RawServer:
    """Answers every request with a fresh Digest challenge (stale=true when asked): never satisfied."""
    counter = iter(range(1_000_000))
    lock = threading.Lock()

    def respond(request: RawRequest) -> bytes:
        with lock:
            nonce = f"nonce{next(counter)}"
        challenge = f'Digest realm="r", qop="auth", nonce="{nonce}", algorithm=MD5'
        if stale:
            challenge += ", stale=true"
        return http_response(401, b"no", [("WWW-Authenticate", challenge)])

    return raw_server(scripted(respond))


@pytest.mark.parametrize("stale", [False, True])
def test_auth_digest_retries_are_bounded(client: Client, raw_server: RawServerFactory, stale: bool) -> None:
    server = _digest_server(raw_server, stale)
    r = client.get(server.url, auth=brisk.HTTPDigestAuth("u", "p"))
    assert r.status_code == 401
    # the first request, the answer, and for a stale nonce exactly one more answer
    assert len(server.requests) == (3 if stale else 2)


def test_auth_digest_post_file_body_replayed(
    client: Client, raw_server: RawServerFactory, tmp_path: Path
) -> None:
    payload = os.urandom(200 * 1024)
    path = tmp_path / "upload.bin"
    path.write_bytes(payload)
    authority = DigestAuthority("files")
    verdicts: list[Verdict] = []

    def respond(request: RawRequest) -> bytes:
        verdict = authority.check(
            request.header("authorization"),
            method=request.method,
            uri=request.target,
            user="u",
            password="p",
            qop="auth",
            algorithm="SHA-256",
        )
        verdicts.append(verdict)
        if verdict is Verdict.OK:
            return http_response(200, b"stored")
        return http_response(401, b"", [("WWW-Authenticate", authority.challenge("auth", "SHA-256"))])

    server = raw_server(scripted(respond))
    with path.open("rb") as f:
        r = client.post(server.url + "/upload", data=f, auth=brisk.HTTPDigestAuth("u", "p"))
    assert r.status_code == 200
    assert verdicts == [Verdict.DENIED, Verdict.OK]
    assert [req.body for req in server.requests] == [payload, payload]
    assert server.requests[1].header("content-length") == str(len(payload))


# -- Digest against the real httpbin -------------------------------------------------------------------------


@pytest.mark.parametrize("qop", ["auth", "auth-int"])
@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512"])
def test_auth_digest_httpbin(client: Client, httpbin: ServerThread, algorithm: str, qop: str) -> None:
    url = f"{httpbin.url}/digest-auth/{qop}/user/passwd/{algorithm}"
    r = client.get(url, auth=brisk.HTTPDigestAuth("user", "passwd"))
    assert r.status_code == 200
    assert r.json() == {"authenticated": True, "user": "user"}


def test_auth_digest_httpbin_default_md5(client: Client, httpbin: ServerThread) -> None:
    r = client.get(httpbin.url + "/digest-auth/auth/user/passwd", auth=brisk.HTTPDigestAuth("user", "passwd"))
    assert r.status_code == 200


def test_auth_digest_httpbin_wrong_password(client: Client, httpbin: ServerThread) -> None:
    r = client.get(
        httpbin.url + "/digest-auth/auth/user/passwd/MD5", auth=brisk.HTTPDigestAuth("user", "nope")
    )
    assert r.status_code == 401


# -- HTTPProxyAuth -------------------------------------------------------------------------------------------


def test_auth_http_proxy_auth_sets_proxy_authorization(client: Client, raw_server: RawServerFactory) -> None:
    server = raw_server()
    client.get(server.url, auth=brisk.HTTPProxyAuth("proxy-user", "proxy-pass"))
    request = server.requests[0]
    assert (
        request.header("proxy-authorization")
        == "Basic " + base64.b64encode(b"proxy-user:proxy-pass").decode()
    )
    assert request.header("authorization") is None


# -- netrc ---------------------------------------------------------------------------------------------------


@pytest.fixture
def netrc_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """``netrc_file(text)`` writes a private netrc file and points $NETRC at it."""

    def write(text: str) -> Path:
        path = tmp_path / "netrc"
        path.write_text(text)
        path.chmod(0o600)
        monkeypatch.setenv("NETRC", str(path))
        return path

    return write


def test_auth_netrc_used_for_its_host(
    client: Client, app_server: ServerThread, netrc_file: Callable[[str], Path]
) -> None:
    netrc_file("machine 127.0.0.1 login alice password from-netrc\n")
    r = client.get(app_server.url + "/basic-auth/alice/from-netrc")
    assert r.status_code == 200


def test_auth_netrc_other_host_gets_nothing(
    client: Client, raw_server: RawServerFactory, netrc_file: Callable[[str], Path]
) -> None:
    netrc_file("machine localhost login alice password from-netrc\n")
    server = raw_server()
    client.get(server.url)
    assert server.requests[0].header("authorization") is None


@pytest.mark.parametrize("userinfo", ["localhost:@", "localhost@", "localhost:80@", "localhost%3A@"])
def test_auth_netrc_lookup_by_parsed_hostname_only(
    client: Client, raw_server: RawServerFactory, netrc_file: Callable[[str], Path], userinfo: str
) -> None:
    """requests CVE-2024-47081: in ``http://localhost:@127.0.0.1/`` the host is 127.0.0.1, and localhost's
    netrc password must not be sent there."""
    netrc_file("machine localhost login alice password localhost-secret\n")
    server = raw_server()
    client.get(f"http://{userinfo}127.0.0.1:{server.port}/")
    credentials = basic_credentials(server.requests[0]) or b""
    assert b"localhost-secret" not in credentials
    assert b"alice" not in credentials


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_auth_netrc_not_sent_after_cross_host_redirect(
    client: Client, raw_server: RawServerFactory, netrc_file: Callable[[str], Path], status: int
) -> None:
    netrc_file("machine 127.0.0.1 login alice password ip-secret\n")
    target = raw_server()
    location = f"http://localhost:{target.port}/landed"
    origin = raw_server(scripted(lambda request: http_response(status, headers=[("Location", location)])))
    r = client.get(origin.url)
    assert r.status_code == 200
    assert basic_credentials(origin.requests[0]) == b"alice:ip-secret"
    assert target.requests[0].header("authorization") is None


NETRC_A_FOR_IP = "machine 127.0.0.1 login a password p\n"


@pytest.mark.parametrize(
    ("own_entry", "expected"),
    [
        ("machine localhost login b\n", b"b:"),
        ("machine localhost\n", None),
        ("default login b\n", b"b:"),
        ("machine localhost login b password q\n", b"b:q"),
    ],
    ids=["login-only", "empty", "default-login-only", "login-and-password"],
)
@pytest.mark.parametrize("status", [302, 307])
def test_auth_netrc_redirect_target_gets_exactly_its_own_entry(
    client: Client,
    raw_server: RawServerFactory,
    netrc_file: Callable[[str], Path],
    status: int,
    own_entry: str,
    expected: bytes | None,
) -> None:
    """curl CVE-2024-11053: the redirect target's netrc entry lacks a password, and curl filled in the first
    host's. In brisk each host gets exactly its own entry, as written (no password means an empty one; an
    entry with neither login nor password means none), never a password from another entry."""
    netrc_file(NETRC_A_FOR_IP + own_entry)
    target = raw_server()
    location = f"http://localhost:{target.port}/landed"
    origin = raw_server(scripted(lambda request: http_response(status, headers=[("Location", location)])))
    r = client.get(origin.url)
    assert r.status_code == 200
    assert basic_credentials(origin.requests[0]) == b"a:p"
    (landed,) = target.requests
    assert landed.header("host") == f"localhost:{target.port}"
    assert basic_credentials(landed) == expected
    assert len(landed.header_values("authorization")) == (expected is not None)
    assert base64.b64encode(b"a:p") not in landed.raw


@pytest.mark.parametrize("own_entry", ["machine 127.0.0.1\n", "machine 127.0.0.1 account only\n"])
def test_auth_netrc_empty_machine_entry_is_not_filled_from_default(
    client: Client, raw_server: RawServerFactory, netrc_file: Callable[[str], Path], own_entry: str
) -> None:
    """netrc(5), curl CVE-2025-0167: a machine entry with neither login nor password means no credentials
    for that host; the ``default`` entry's are for hosts the file does not name."""
    netrc_file(own_entry + "default login dflt password default-secret\n")
    server = raw_server()
    assert client.get(server.url).status_code == 200
    assert server.requests[0].header("authorization") is None
    assert b"default-secret" not in server.requests[0].raw
    other = raw_server()  # the same file, a host it does not name: the default entry answers
    assert client.get(f"http://localhost:{other.port}/").status_code == 200
    assert basic_credentials(other.requests[0]) == b"dflt:default-secret"


def test_auth_netrc_redirect_target_entry_also_without_first_entry(
    client: Client, raw_server: RawServerFactory, netrc_file: Callable[[str], Path]
) -> None:
    """A first request with no netrc entry of its own: the hop's host still gets its own entry."""
    netrc_file("machine localhost login b password q\n")
    target = raw_server()
    location = f"http://localhost:{target.port}/landed"
    origin = raw_server(scripted(lambda request: http_response(302, headers=[("Location", location)])))
    assert client.get(origin.url).status_code == 200
    assert basic_credentials(origin.requests[0]) is None
    (landed,) = target.requests
    assert basic_credentials(landed) == b"b:q"


def test_auth_netrc_not_sent_after_redirect_to_other_port(
    client: Client, raw_server: RawServerFactory, netrc_file: Callable[[str], Path]
) -> None:
    netrc_file("machine 127.0.0.1 login alice password ip-secret\n")
    target = raw_server()
    location = target.url + "/landed"
    origin = raw_server(scripted(lambda request: http_response(302, headers=[("Location", location)])))
    client.get(origin.url)
    assert basic_credentials(origin.requests[0]) == b"alice:ip-secret"
    assert target.requests[0].header("authorization") is None


@pytest.mark.parametrize("where", ["request-header", "session-header", "auth-argument"])
def test_auth_netrc_explicit_authorization_wins(
    client: Client, raw_server: RawServerFactory, netrc_file: Callable[[str], Path], where: str
) -> None:
    netrc_file("machine 127.0.0.1 login alice password from-netrc\n")
    server = raw_server()
    if where == "request-header":
        client.get(server.url, headers={"authorization": "Bearer explicit"})
    elif where == "session-header":
        client.session.headers["Authorization"] = "Bearer explicit"
        client.get(server.url)
    else:
        client.get(server.url, auth=brisk.HTTPBearerAuth("explicit"))
    assert server.requests[0].header_values("authorization") == ["Bearer explicit"]


def test_auth_netrc_ignored_without_trust_env(
    client_factory: ClientFactory, raw_server: RawServerFactory, netrc_file: Callable[[str], Path]
) -> None:
    netrc_file("machine 127.0.0.1 login alice password from-netrc\n")
    client = client_factory(trust_env=False)
    server = raw_server()
    client.get(server.url)
    assert server.requests[0].header("authorization") is None


def test_auth_netrc_error_is_not_fatal(
    client: Client, raw_server: RawServerFactory, netrc_file: Callable[[str], Path]
) -> None:
    netrc_file("machine 127.0.0.1 login\n")  # malformed
    server = raw_server()
    assert client.get(server.url).status_code == 200
