"""Responses built by hand, the way requests users build them in test fakes and mocks, and pickling of the
immutable ``Retry``. Sessions and real responses are pickled against the local servers in test_sessions.py
and test_api.py.
"""

from __future__ import annotations

import asyncio
import copy
import gzip
import io
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

import brisk


def fake(body: bytes, status: int = 200, **headers: str) -> brisk.Response:
    """A response as requests users build one: attributes set on a bare ``Response()``."""
    response = brisk.Response()
    response.status_code = status
    response.headers.update(headers)
    response.raw = io.BytesIO(body)
    return response


class Urllib3Like:
    """Stands for urllib3's response: has ``stream()``, which requests prefers to ``read()``."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.calls: list[tuple[int | None, bool]] = []
        self.released = False

    def stream(self, amt: int | None, decode_content: bool = False) -> Iterator[bytes]:
        self.calls.append((amt, decode_content))
        yield from self.pieces

    def read(self, amt: int | None = None) -> bytes:
        raise AssertionError("read() must not be used when stream() exists")

    def release_conn(self) -> None:
        self.released = True


# ----------------------------------------------------------------------------------------- a raw set by hand


def test_a_raw_set_by_hand_is_the_body() -> None:
    assert fake(b'{"a": 1}').content == b'{"a": 1}'
    assert fake(b'{"a": 1}').json() == {"a": 1}
    assert fake("héllo".encode(), **{"Content-Type": "text/plain; charset=utf-8"}).text == "héllo"
    assert list(fake(b"abcdefg").iter_content(3)) == [b"abc", b"def", b"g"]
    assert list(fake(b"abcdefg").iter_content(None)) == [b"abcdefg"]
    assert list(fake(b"one\ntwo\r\nthree").iter_lines()) == [b"one", b"two", b"three"]
    assert list(fake(b"ab\ncd").iter_lines(decode_unicode=True)) == ["ab", "cd"]
    # read once, then replayed from memory, as in requests
    response = fake(b"xyz")
    assert response.content == b"xyz"
    assert response.content == b"xyz"
    assert list(response.iter_content(2)) == [b"xy", b"z"]


def test_a_plain_raw_is_read_as_is_not_decoded() -> None:
    # requests takes a file-like raw's bytes as they are, whatever Content-Encoding says
    zipped = gzip.compress(b"payload")
    response = fake(zipped, **{"Content-Encoding": "gzip"})
    assert response.content == zipped
    assert b"".join(fake(zipped, **{"Content-Encoding": "gzip"}).iter_content(4)) == zipped


def test_a_raw_with_stream_is_read_through_it() -> None:
    raw = Urllib3Like([b"ab", b"cd"])
    response = brisk.Response()
    response.status_code = 200
    response.raw = raw
    assert list(response.iter_content(2)) == [b"ab", b"cd"]
    assert raw.calls == [(2, True)]  # urllib3 decodes (decode_content=True); brisk adds nothing
    response.close()
    assert raw.released


def urllib3_error(name: str) -> type[Exception]:
    """A class standing for urllib3's exception ``name`` (urllib3 is not among brisk's dependencies)."""
    return type(name, (Exception,), {"__module__": "urllib3.exceptions"})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ProtocolError", brisk.exceptions.ChunkedEncodingError),
        ("DecodeError", brisk.exceptions.ContentDecodingError),
        ("ReadTimeoutError", brisk.exceptions.ConnectionError),
        ("SSLError", brisk.exceptions.SSLError),
    ],
)
def test_urllib3_errors_of_a_raw_become_brisk_errors(name: str, expected: type[Exception]) -> None:
    error = urllib3_error(name)

    class Failing(Urllib3Like):
        def stream(self, amt: int | None, decode_content: bool = False) -> Iterator[bytes]:
            raise error("broken")

    response = brisk.Response()
    response.raw = Failing([])
    with pytest.raises(expected):
        next(response.iter_content(1024))


def test_a_text_raw_gives_bytes() -> None:
    response = brisk.Response()
    response.status_code = 200
    response.raw = io.StringIO("abc")
    assert next(iter(response)) == b"abc"


def test_a_bare_response_has_no_content() -> None:
    response = brisk.Response()
    assert response.content is None  # requests: no raw, no content
    assert response.text == ""
    with pytest.raises(brisk.JSONDecodeError):
        response.json()
    assert list(response.iter_content()) == []
    zero = fake(b"ignored", status=0)
    assert zero.content is None
    # brisk's own constructor with a status means an empty body
    assert brisk.Response(204).content == b""
    assert brisk.Response(200, content=b"x").content == b"x"


def test_a_bare_response_pickles() -> None:
    copied = pickle.loads(pickle.dumps(brisk.Response()))
    assert copied.content is None
    assert pickle.loads(pickle.dumps(fake(b"body"))).content == b"body"


def test_a_hand_built_response_has_no_connection_facts_and_no_trailers() -> None:
    response = fake(b"body")
    assert response.connection_info is None
    assert len(response.trailers) == 0
    copied = pickle.loads(pickle.dumps(response))
    assert copied.connection_info is None
    assert len(copied.trailers) == 0


def test_trailers_and_connection_facts_set_by_hand_pickle() -> None:
    info = brisk.ConnectionInfo(
        ("127.0.0.1", 443),
        ("127.0.0.1", 50000),
        "TLSv1.3",
        "TLS_AES_128_GCM_SHA256",
        "h2",
        {"subject": ((("commonName", "example.test"),),)},
        b"0\x82der",
    )
    response = brisk.Response(200, content=b"x")
    response.trailers = {"grpc-status": "0"}
    response.connection_info = info
    copied = pickle.loads(pickle.dumps(response))
    assert copied.trailers["Grpc-Status"] == "0"
    assert type(copied.connection_info) is brisk.ConnectionInfo
    for name in brisk.ConnectionInfo.__slots__:  # pickled whole, the certificate included
        assert getattr(copied.connection_info, name) == getattr(info, name), name
    assert "brisk._response" not in str(pickle.dumps(info))  # pickled by its public name
    with pytest.raises(AttributeError, match="immutable"):
        info.tls_version = None  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del info.cipher
    assert brisk.ConnectionInfo().tls is False
    assert info.tls is True


@pytest.mark.parametrize(
    ("reason", "text"),
    [(b"Not Found", "Not Found"), ("Café".encode(), "Café"), ("Café".encode("latin-1"), "Café")],
)
def test_a_bytes_reason(reason: bytes, text: str) -> None:
    response = fake(b"", status=404)
    response.reason = reason  # type: ignore[assignment]
    response.url = "https://example.org/x"
    assert not response.ok
    with pytest.raises(brisk.HTTPError) as caught:
        response.raise_for_status()
    assert str(caught.value) == f"404 Client Error: {text} for url: https://example.org/x"


def test_close_closes_a_raw_set_by_hand() -> None:
    response = fake(b"unread")
    raw: Any = response.raw
    response.close()
    assert raw.closed
    with fake(b"unread") as response:
        raw = response.raw
    assert raw.closed
    # like requests, a raw read to its end is left open (a fake may still look at it)
    response = fake(b"read")
    raw = response.raw
    assert response.content == b"read"
    response.close()
    assert not raw.closed
    assert raw.getvalue() == b"read"


# ---------------------------------------------------------------------------------------------- Retry


def test_retry_pickles_and_copies_to_an_equal_retry() -> None:
    retry = brisk.Retry(5, connect=2, status_forcelist=[429, 503], backoff_factor=0.5)
    retry = retry.increment(method="GET", url="https://example.org/", kind="connect")
    for copied in (pickle.loads(pickle.dumps(retry)), copy.copy(retry), copy.deepcopy(retry)):
        assert copied == retry
        assert hash(copied) == hash(retry)
        assert copied.total == 4
        assert copied.connect == 1
        assert copied.status_forcelist == frozenset({429, 503})
        assert copied.history == retry.history
        with pytest.raises(AttributeError, match="immutable"):
            copied.total = 1  # type: ignore[misc]
    assert retry != brisk.Retry(5)
    assert retry.new(total=9) != retry


def test_limits_pickle_and_copy_to_equal_limits() -> None:
    limits = brisk.Limits(max_connections=7, max_connections_per_host=3, idle_timeout=1.5)
    for copied in (pickle.loads(pickle.dumps(limits)), copy.copy(limits), copy.deepcopy(limits)):
        assert copied == limits
        assert copied.max_connections == 7
        assert copied.idle_timeout == 1.5
        with pytest.raises(AttributeError, match="immutable"):
            copied.max_connections = 1  # type: ignore[misc]


def test_iter_content_refuses_a_chunk_size_that_is_not_an_int_at_the_call() -> None:
    response = brisk.Response()
    response.raw = io.BytesIO(b"the content")
    with pytest.raises(TypeError, match="chunk_size must be an int or None, not str"):
        response.iter_content("1024")  # type: ignore[arg-type]
    assert list(response.iter_content(None)) == [b"the content"]


def test_aiter_content_refuses_a_chunk_size_that_is_not_an_int() -> None:
    async def first_piece() -> object:
        response = brisk.Response(200, content=b"body")
        return await response.aiter_content(1.5).__anext__()  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="chunk_size must be an int or None, not float"):
        asyncio.run(first_piece())
