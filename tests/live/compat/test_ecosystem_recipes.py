"""What more libraries built on requests rely on (issue 19: the suites `make ecosystem` added after the
first six), each as the library does it.

- requests-unixsocket (and docker's adapters): an ``HTTPAdapter`` whose ``get_connection_with_tls_context``
  hands out a urllib3 pool of its own; requests sends through that pool's ``urlopen``.
- requests-futures: resizes a given session's adapters and checks ``poolmanager.connection_pool_kw``; pickles
  its ``FuturesSession`` (a Session subclass holding an executor and locks) for a process pool, which works
  with requests because a session pickles only its ``__attrs__``.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest

import brisk
from brisk.adapters import HTTPAdapter
from brisk.sessions import _NOT_PICKLED, _PICKLED
from brisk.testing.server import ServerThread
from servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)


# ------------------------------------------------------------------ an adapter's own urllib3 pool sends


class RecordingPool:
    """A urllib3 pool that records the arguments of ``urlopen``."""

    def __init__(self, url: str) -> None:
        urllib3 = pytest.importorskip("urllib3", reason="urllib3 is not installed")
        parts = urlsplit(url)
        self.pool = urllib3.HTTPConnectionPool(parts.hostname, parts.port)
        self.calls: list[dict[str, Any]] = []
        # cert_verify writes these on the pool, as on urllib3's
        self.cert_reqs: str | None = None

    def urlopen(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.pool.urlopen(**kwargs)


class OwnPoolAdapter(HTTPAdapter):
    """requests-unixsocket's ``UnixAdapter`` in short: its own pool for every request, the path as target."""

    def __init__(self, pool: RecordingPool) -> None:
        self.pool = pool
        super().__init__()

    def get_connection_with_tls_context(
        self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        return self.pool

    def request_url(self, request: Any, proxies: Any) -> str:
        return str(request.path_url)


def test_an_adapter_that_hands_out_its_own_urllib3_pool_sends_through_it(app_server: ServerThread) -> None:
    pool = RecordingPool(app_server.url)
    with brisk.Session() as session:
        session.mount("http+own://", OwnPoolAdapter(pool))
        r = session.post("http+own://ignored.invalid/anything?k=v", data=b"payload")
        timed = session.get("http+own://ignored.invalid/get", timeout=(2, 7))
    pool.pool.close()
    assert r.status_code == 200
    body = r.json()
    assert (body["args"], body["data"]) == ({"k": "v"}, "payload")
    assert isinstance(r.connection, OwnPoolAdapter)
    assert r.url == "http+own://ignored.invalid/anything?k=v"
    assert timed.ok
    first, second = pool.calls
    assert (first["method"], first["url"], first["body"]) == ("POST", "/anything?k=v", b"payload")
    assert (first["redirect"], first["preload_content"], first["chunked"]) == (False, False, False)
    # no timeout given: brisk's default connect and read timeouts, never urllib3's none
    assert (first["timeout"].connect_timeout, first["timeout"].read_timeout) == (10, 30)
    assert (second["timeout"].connect_timeout, second["timeout"].read_timeout) == (2, 7)
    assert pool.cert_reqs == "CERT_NONE"  # cert_verify wrote on the adapter's pool


def test_an_own_pool_that_cannot_connect_raises_connection_error() -> None:
    pytest.importorskip("urllib3", reason="urllib3 is not installed")
    import socket

    with socket.socket() as unused:  # a loopback port that nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    pool = RecordingPool(f"http://127.0.0.1:{port}")
    with brisk.Session() as session:
        session.mount("http+own://", OwnPoolAdapter(pool))
        with pytest.raises(brisk.ConnectionError):
            session.get("http+own://ignored.invalid/get")
    pool.pool.close()


# ------------------------------------------------------------------------- requests-futures' resizing


def test_connection_pool_kw_holds_maxsize_and_block_as_urllib3s() -> None:
    adapter = HTTPAdapter(pool_connections=3, pool_maxsize=7, pool_block=True)
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == 7
    assert adapter.poolmanager.connection_pool_kw["block"] is True
    adapter.init_poolmanager(4, 9, block=False)
    assert (adapter.poolmanager.connection_pool_kw["maxsize"], adapter._pool_maxsize) == (9, 9)
    proxied = adapter.proxy_manager_for("http://proxy.invalid:3128")
    assert (proxied.connection_pool_kw["maxsize"], proxied.connection_pool_kw["block"]) == (9, False)


# ------------------------------------------------------------------------ a session pickles __attrs__


class ExecutorSession(brisk.Session):
    """A Session subclass holding what cannot be pickled, as requests-futures' FuturesSession does."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.marker = "mine"


class ListedSession(ExecutorSession):
    __attrs__ = [*brisk.Session.__attrs__, "marker"]


def test_a_session_subclass_pickles_its_settings_not_its_own_attributes() -> None:
    session = ExecutorSession()
    session.headers["X-Kept"] = "yes"
    session.timeout = 12
    copied = pickle.loads(pickle.dumps(session))
    assert type(copied) is ExecutorSession
    assert copied.headers["X-Kept"] == "yes"
    assert copied.timeout == 12
    assert not hasattr(copied, "lock")
    assert not hasattr(copied, "marker")
    listed = pickle.loads(pickle.dumps(ListedSession()))
    assert listed.marker == "mine"
    assert not hasattr(listed, "lock")


@pytest.mark.parametrize("kind", [brisk.Session, brisk.AsyncSession])
def test_every_attribute_of_a_session_is_pickled_or_left_behind_on_purpose(kind: Any) -> None:
    """A setting added to the session must be added to ``_PICKLED`` (or ``_NOT_PICKLED``), else a copy
    silently loses it."""
    assert set(vars(kind())) <= _PICKLED | _NOT_PICKLED


# ---------------------------------------------------------- a stream that declares its length (httpie)


class Encoder:
    """Shaped like requests-toolbelt's ``MultipartEncoder`` (httpie's multipart uploads): ``read`` and a
    ``len`` attribute, no ``seek``, ``tell`` or ``fileno``."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.len = len(data)

    def read(self, size: int = -1) -> bytes:
        chunk, self._data = (self._data, b"") if size < 0 else (self._data[:size], self._data[size:])
        return chunk


def test_a_stream_that_declares_its_len_is_sent_with_its_content_length(raw_server: RawServerFactory) -> None:
    """requests' ``super_len`` reads ``len()`` or ``.len``: such a body goes out with a Content-Length, not
    chunked, which werkzeug's development server (httpbin) answers with 501."""
    server = raw_server()
    prepared = brisk.Request("POST", server.url, data=Encoder(b"field=value")).prepare()
    assert prepared.headers["Content-Length"] == "11"
    assert "Transfer-Encoding" not in prepared.headers
    with brisk.Session() as session:
        session.post(server.url, data=Encoder(b"field=value"))
    (received,) = server.requests
    assert (received.header("content-length"), received.header("transfer-encoding")) == ("11", None)
    assert received.body == b"field=value"


# ------------------------------------------------- a multidict assigned to Response.headers (httpie)


class MultiDict(Mapping[str, str]):
    """Shaped like multidict's CIMultiDict, which httpie's adapter assigns to ``response.headers``: a name
    repeats in iteration and ``items()``, and reads as its first value."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __getitem__(self, key: str) -> str:
        return next(value for name, value in self._pairs if name.lower() == key.lower())

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def items(self) -> Any:
        return list(self._pairs)


def test_a_multidict_assigned_to_response_headers_keeps_every_value() -> None:
    response = brisk.Response()
    response.headers = MultiDict([("Set-Cookie", "a=1; Path=/"), ("X-One", "1"), ("Set-Cookie", "b=2")])
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    assert response.headers["X-One"] == "1"
    response.headers = {"Content-Type": "text/plain"}  # a plain mapping, as before
    assert dict(response.headers) == {"Content-Type": "text/plain"}


def test_urllib3s_skip_header_in_a_mapping_of_ones_own_leaves_the_header_out(
    raw_server: RawServerFactory,
) -> None:
    """httpie unsets User-Agent by giving urllib3's ``SKIP_HEADER`` as its value in the multidict it assigns
    to the prepared request; urllib3 then sends no User-Agent (brisk sent the marker itself)."""
    skip = "@@@SKIP_HEADER@@@"  # urllib3.util.SKIP_HEADER
    server = raw_server()
    with brisk.Session() as session:
        prepared = session.prepare_request(brisk.Request("GET", server.url))
        prepared.headers = MultiDict(
            [("User-Agent", skip), ("Accept-Encoding", skip), ("X-Kept", "yes"), ("X-Other", skip)]
        )
        session.send(prepared)
    (received,) = server.requests
    names = [name.lower() for name, _ in received.headers]
    assert "user-agent" not in names
    assert "accept-encoding" not in names
    assert received.header("x-kept") == "yes"
    assert received.header("x-other") == skip  # only the names urllib3 lets one skip
    assert received.header("host")  # brisk always sends Host
