"""``response.raw`` offers what urllib3's ``HTTPResponse`` offers its users, over real connections.

What code built on requests does with it: CacheControl's adapter replaces ``raw._fp`` with a wrapper in
``build_response`` that tees the body into its cache and calls back once the body was read through; its
serializer reads the raw, puts ``io.BytesIO(body)`` in ``_fp`` and hands a rebuilt urllib3 response to
``build_response`` later. Every read of the body (``content``, ``iter_content``, ``raw.read``, ``raw.stream``,
``shutil.copyfileobj``) must go through ``_fp``; the attributes must have urllib3's values (compared with
urllib3 itself, over the same server, where it is installed).
"""

from __future__ import annotations

import gc
import gzip
import io
import shutil
import weakref
from collections.abc import Callable
from typing import Any

import pytest

import brisk
from brisk.adapters import HTTPAdapter
from servers.raw import RawConnection, RawServer, RawServerFactory, http_response

LINES = b"".join(b"line %d of the body\n" % i for i in range(400))
GZIPPED = gzip.compress(LINES)


def _chunked(body: bytes, size: int = 1000) -> bytes:
    frames = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)
    ]
    return b"".join(frames) + b"0\r\n\r\n"


# path -> (headers, bytes on the wire after the head, the body as sent, the body decoded)
ROUTES: dict[str, tuple[list[tuple[str, str]], bytes, bytes, bytes]] = {
    "/plain": ([("Content-Type", "text/plain"), ("Content-Length", str(len(LINES)))], LINES, LINES, LINES),
    "/chunked": (
        [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")],
        _chunked(LINES),
        LINES,
        LINES,
    ),
    "/gzip": (
        [("Content-Encoding", "gzip"), ("Content-Length", str(len(GZIPPED)))],
        GZIPPED,
        GZIPPED,
        LINES,
    ),
    "/gzip-chunked": (
        [("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
        _chunked(GZIPPED, 333),
        GZIPPED,
        LINES,
    ),
}


def _serve(conn: RawConnection) -> None:
    while (request := conn.recv_request()) is not None:
        path = request.target.split("?")[0]
        if path == "/cookies":
            head = [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/"), ("Content-Length", "2")]
            conn.send(http_response(200, b"ok", head))
            continue
        if path == "/slow":
            conn.send(http_response(200, b"", [("Content-Length", str(len(LINES)))]))
            conn.sleep(0.2)
            conn.send(LINES)
            continue
        if path == "/redirect":
            conn.send(http_response(302, b"", [("Location", "/plain")]))
            continue
        headers, wire, _, _ = ROUTES.get(path, ROUTES["/plain"])
        head = ["HTTP/1.1 200 OK", *(f"{name}: {value}" for name, value in headers)]
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        conn.send(data + (b"" if request.method == "HEAD" else wire))


@pytest.fixture
def server(raw_server: RawServerFactory) -> RawServer:
    return raw_server(_serve)


class Tee:
    """What CacheControl's CallbackFileWrapper does: every read of the file it wraps is copied, and once
    that file says it is closed (``fp`` None, or ``closed``) the callback gets the whole copy, once."""

    def __init__(self, fp: Any, callback: Callable[[bytes], None]) -> None:
        self.__fp = fp
        self.__callback: Callable[[bytes], None] | None = callback
        self.seen = bytearray()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__getattribute__("_Tee__fp"), name)

    def __is_fp_closed(self) -> bool:
        try:
            return self.__fp.fp is None  # type: ignore[no-any-return]
        except AttributeError:
            pass
        try:
            return bool(self.__fp.closed)
        except AttributeError:
            return False

    def read(self, amt: int | None = None) -> bytes:
        data: bytes = self.__fp.read(amt)
        self.seen += data
        if self.__is_fp_closed() and self.__callback is not None:
            callback, self.__callback = self.__callback, None
            callback(bytes(self.seen))
        return data


class TeeAdapter(HTTPAdapter):
    """An adapter that wraps ``response._fp`` in ``build_response``, as CacheControl's does."""

    def __init__(self) -> None:
        super().__init__()
        self.tees: list[Tee] = []
        self.completed: list[bytes] = []
        self.raws: list[Any] = []

    def build_response(self, req: brisk.PreparedRequest, resp: Any) -> brisk.Response:
        self.raws.append(resp)
        tee = Tee(resp._fp, self.completed.append)
        resp._fp = tee
        self.tees.append(tee)
        return super().build_response(req, resp)


def _content(session: brisk.Session, url: str) -> bytes:
    return session.get(url).content


def _iter_content(size: int | None) -> Callable[[brisk.Session, str], bytes]:
    def read(session: brisk.Session, url: str) -> bytes:
        return b"".join(session.get(url, stream=True).iter_content(size))

    return read


def _iter_lines(session: brisk.Session, url: str) -> bytes:
    return b"".join(line + b"\n" for line in session.get(url, stream=True).iter_lines())


def _raw_reads(session: brisk.Session, url: str) -> bytes:
    raw = session.get(url, stream=True).raw
    return b"".join(iter(lambda: raw.read(777, decode_content=True), b""))


def _raw_stream(session: brisk.Session, url: str) -> bytes:
    return b"".join(session.get(url, stream=True).raw.stream(1000, decode_content=True))


def _raw_lines(session: brisk.Session, url: str) -> bytes:
    return b"".join(session.get(url, stream=True).raw)


def _copyfileobj(session: brisk.Session, url: str) -> bytes:
    raw = session.get(url, stream=True).raw
    raw.decode_content = True
    out = io.BytesIO()
    shutil.copyfileobj(raw, out)
    return out.getvalue()


READS: dict[str, Callable[[brisk.Session, str], bytes]] = {
    "content": _content,
    "iter_content(7)": _iter_content(7),
    "iter_content(65536)": _iter_content(65536),
    "iter_content(None)": _iter_content(None),
    "iter_lines": _iter_lines,
    "raw.read(777)": _raw_reads,
    "raw.stream": _raw_stream,
    "raw lines": _raw_lines,
    "copyfileobj": _copyfileobj,
}


@pytest.mark.parametrize("how", list(READS))
@pytest.mark.parametrize("path", list(ROUTES))
def test_a_wrapper_set_as_raw_fp_sees_the_whole_body_and_its_callback_fires(
    server: RawServer, path: str, how: str
) -> None:
    _, _, sent, decoded = ROUTES[path]
    adapter = TeeAdapter()
    with brisk.Session() as session:
        session.mount("http://", adapter)
        assert READS[how](session, server.url + path) == decoded
        assert bytes(adapter.tees[0].seen) == sent  # the body as sent: _fp is below content decoding
        assert adapter.completed == [sent]  # called back once, with all of it
        assert adapter.raws[0].closed
        assert session.get(server.url + "/plain").content == LINES  # the connection was given back
    assert server.connection_count == 1


def test_the_callback_fires_with_the_last_byte_of_a_known_length(server: RawServer) -> None:
    # http.client closes its response when the announced length has arrived, not one read later: a reader
    # that takes exactly the body and stops still completes the wrapper
    adapter = TeeAdapter()
    with brisk.Session() as session:
        session.mount("http://", adapter)
        raw = session.get(server.url + "/plain", stream=True).raw
        assert raw.read(len(LINES)) == LINES
        assert adapter.completed == [LINES]
        assert raw.closed
        assert raw.length_remaining == 0


def test_a_body_left_unread_is_not_completed(server: RawServer) -> None:
    adapter = TeeAdapter()
    with brisk.Session() as session:
        session.mount("http://", adapter)
        with session.get(server.url + "/chunked", stream=True) as response:
            assert len(response.raw.read(10)) == 10
        assert adapter.completed == []
        assert response.raw.closed
        assert session.get(server.url + "/plain").content == LINES


def test_raw_fp_set_to_a_bytesio_after_reading_is_read_again(server: RawServer) -> None:
    # CacheControl's serializer: read the body, then make the raw look unread for whoever reads it next
    class Serializing(HTTPAdapter):
        def build_response(self, req: brisk.PreparedRequest, resp: Any) -> brisk.Response:
            body = resp.read(decode_content=False)
            resp._fp = io.BytesIO(body)
            resp.length_remaining = len(body)
            return super().build_response(req, resp)

    with brisk.Session() as session:
        session.mount("http://", Serializing())
        for path in ROUTES:
            response = session.get(server.url + path)
            assert response.content == ROUTES[path][3]
            assert response.raw.tell() == 2 * len(ROUTES[path][2])  # read twice, as urllib3 counts


def test_a_file_set_as_raw_fp_is_read_by_iter_contents_chunk_size(server: RawServer) -> None:
    """As requests reads it (``raw.stream(chunk_size)``): each read of ``_fp`` asks for the caller's size."""

    class Recording(io.BytesIO):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.sizes: list[int | None] = []

        def read(self, size: int | None = -1) -> bytes:
            self.sizes.append(size)
            return super().read(size)

    with brisk.Session() as session, session.get(server.url + "/plain", stream=True) as response:
        raw = response.raw
        raw._fp = fp = Recording(LINES)
        pieces = list(response.iter_content(100))
    assert b"".join(pieces) == LINES
    assert {len(piece) for piece in pieces[:-1]} == {100}
    assert len(fp.sizes) >= len(pieces)
    assert set(fp.sizes) == {100}


def test_a_raw_fp_that_ends_early_is_an_incomplete_body(server: RawServer) -> None:
    class Short(HTTPAdapter):
        def build_response(self, req: brisk.PreparedRequest, resp: Any) -> brisk.Response:
            resp.read()
            resp._fp = io.BytesIO(b"short")
            resp.length_remaining = 10
            return super().build_response(req, resp)

    with brisk.Session() as session:
        session.mount("http://", Short())
        with pytest.raises(brisk.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            session.get(server.url + "/plain")


def test_raw_has_urllib3s_attributes(server: RawServer) -> None:
    with brisk.Session() as session:
        raw = session.get(server.url + "/gzip", stream=True).raw
        assert (raw.status, raw.reason, raw.version, raw.version_string) == (200, "OK", 11, "HTTP/1.1")
        assert raw._fp.version == 11  # http.client's response has it too (CacheControl's test reads it)
        assert (raw.decode_content, raw.chunked, raw.chunk_left, raw.strict) == (False, False, None, 0)
        assert (raw.enforce_content_length, raw.auto_close) == (True, True)
        assert (raw.length_remaining, raw._fp_bytes_read, raw.tell()) == (len(GZIPPED), 0, 0)
        assert raw.headers["content-encoding"] == "gzip"
        assert raw.getheader("Content-Encoding") == "gzip"
        assert raw.getheader("X-Absent", "d") == "d"
        assert raw.getheaders() is raw.headers
        assert raw.info() is raw.headers
        assert raw.geturl() == raw.url == server.url + "/gzip"
        assert raw.get_redirect_location() is False
        assert raw.supports_chunked_reads() is False  # the transport took the framing off already
        assert raw.readable()
        assert not raw.closed
        assert not raw.isclosed()
        assert raw._original_response is raw._fp
        assert raw._original_response.msg.get_all("content-encoding") == ["gzip"]
        assert raw.connection is None
        assert raw.release_conn is not None
        assert raw.drain_conn is not None
        raw._update_chunk_length()  # exists (CacheControl wraps it for chunked bodies)
        assert raw.read(10) == GZIPPED[:10]
        assert (raw.tell(), raw.length_remaining) == (10, len(GZIPPED) - 10)
        assert raw.data == GZIPPED[10:]  # the rest, raw: decode_content is False, as requests opens it
        assert raw.closed
        assert raw.isclosed()
        assert raw._fp.closed
        assert raw.read() == b""
        assert raw.length_remaining == 0

        raw = session.get(server.url + "/chunked", stream=True).raw
        assert raw.chunked is True
        assert raw.length_remaining is None
        assert list(raw) == [line + b"\n" for line in LINES.split(b"\n")[:-1]]  # urllib3 iterates lines

        raw = session.get(server.url + "/gzip", stream=True).raw
        raw.decode_content = True
        assert raw.data == LINES
        assert raw.data == LINES  # cached: read(cache_content=True)
        assert raw._body == LINES

        redirect = session.get(server.url + "/redirect", allow_redirects=False).raw
        assert redirect.get_redirect_location() == "/plain"

        raw = session.head(server.url + "/plain").raw
        assert raw.length_remaining == 0  # urllib3: no body may follow a HEAD

        response = session.get(server.url + "/cookies")
        raw = response.raw
        assert raw._original_response.msg.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
        # raw.headers is urllib3's HTTPHeaderDict in requests: repeated names are separate items there
        cookies = [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")]
        assert [item for item in raw.headers.items() if item[0] == "Set-Cookie"] == cookies
        assert raw.headers["set-cookie"] == "a=1; Path=/, b=2; Path=/"
        assert (
            raw.headers.getlist("Set-Cookie") == raw.headers.get_all("Set-Cookie") == [v for _, v in cookies]
        )
        assert raw.headers.get_all("Set-Cookie2", []) == []
        assert ("Set-Cookie", "a=1; Path=/, b=2; Path=/") in list(raw.headers.itermerged())
        assert ("Set-Cookie", "a=1; Path=/, b=2; Path=/") in response.headers.items()  # requests' view
        raw.headers["X-Added"] = "1"  # one store: what a heuristic writes on the raw is in the Response
        assert response.headers["x-added"] == "1"
        copied = raw.headers.copy()
        copied.extend({"X-More": "2"})
        assert "x-more" not in raw.headers
        assert copied.getlist("X-More") == ["2"]


def test_drain_and_release_give_the_connection_back(server: RawServer) -> None:
    with brisk.Session() as session:
        raw = session.get(server.url + "/chunked", stream=True).raw
        raw.drain_conn()
        raw.release_conn()
        assert raw.closed
        assert session.get(server.url + "/plain").content == LINES
    assert server.connection_count == 1


def test_decoded_reads_and_raw_reads_do_not_mix(server: RawServer) -> None:
    with brisk.Session() as session:
        raw = session.get(server.url + "/gzip", stream=True).raw
        assert raw.read(5, decode_content=True) == LINES[:5]
        with pytest.raises(RuntimeError, match="not supported after"):
            raw.read(5, decode_content=False)
        raw.close()
        assert raw.closed

        raw = session.get(server.url + "/gzip", stream=True).raw
        got = bytearray()
        while piece := raw.read1(1000, decode_content=True):
            assert len(piece) <= 1000
            got += piece
        assert got == LINES


def test_a_response_dropped_unread_frees_its_raw(server: RawServer) -> None:
    # CacheControl's test_do_not_leak_response: urllib3's response is freed (and so closed) with the
    # requests Response that holds it; a wrapper in _fp holding a weak reference must not keep it alive
    adapter = TeeAdapter()
    with brisk.Session(limits=brisk.Limits(max_connections_per_host=1)) as session:
        session.mount("http://", adapter)
        response = session.get(server.url + "/slow", stream=True)
        raw = weakref.ref(response.raw)
        adapter.raws.clear()
        adapter.tees.clear()
        del response
        alive = raw()
        assert alive is None or alive.closed
        # its connection was given up with it: the one connection allowed is free for the next request
        assert session.get(server.url + "/plain", timeout=brisk.Timeout(10, pool=2)).content == LINES
        gc.collect()


def test_build_response_reads_a_urllib3_shaped_raw() -> None:
    """A test double shaped like urllib3's HTTPResponse (a cache hands one in): body, decoded by the raw
    itself; Set-Cookie headers kept apart; release_conn when the Response is closed."""

    class Headers(dict[str, str]):
        def __init__(self, pairs: list[tuple[str, str]]) -> None:
            super().__init__()
            self.pairs = pairs
            for name, value in pairs:
                self[name] = f"{self[name]}, {value}" if name in self else value

        def getlist(self, name: str) -> list[str]:
            return [value for key, value in self.pairs if key.lower() == name.lower()]

    class Urllib3Like:
        def __init__(self) -> None:
            self.status = 200
            self.reason = "OK"
            self.headers = Headers(
                [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Encoding", "gzip")]
            )
            self._fp = io.BytesIO(GZIPPED)
            self.released = 0

        def stream(self, amt: int, decode_content: bool = False) -> Any:
            assert decode_content  # requests asks urllib3 to decode
            data = gzip.decompress(self._fp.read())
            for i in range(0, len(data), amt):
                yield data[i : i + amt]

        def release_conn(self) -> None:
            self.released += 1

        def close(self) -> None:
            pass

    request = brisk.Request("GET", "http://x.test/path").prepare()
    raw = Urllib3Like()
    response = HTTPAdapter().build_response(request, raw)
    assert (response.status_code, response.reason, response.url) == (200, "OK", "http://x.test/path")
    assert response.raw is raw
    assert response.content == LINES  # urllib3 decoded it: not decoded a second time
    assert response.cookies.get_dict() == {"a": "1", "b": "2"}
    response.close()
    assert raw.released == 1


def test_build_response_reads_urllib3s_own_response() -> None:
    urllib3 = pytest.importorskip("urllib3")
    request = brisk.Request("GET", "http://x.test/path").prepare()
    headers = urllib3.HTTPHeaderDict()
    headers.add("Set-Cookie", "a=1; Path=/")
    headers.add("Set-Cookie", "b=2; Path=/")
    headers.add("Content-Encoding", "gzip")
    raw = urllib3.HTTPResponse(
        body=io.BytesIO(GZIPPED), headers=headers, status=200, reason="OK", preload_content=False
    )
    response = HTTPAdapter().build_response(request, raw)
    assert response.raw is raw
    assert list(response.iter_content(1000)) == [LINES[i : i + 1000] for i in range(0, len(LINES), 1000)]
    assert response.cookies.get_dict() == {"a": "1", "b": "2"}
    assert response.headers["content-encoding"] == "gzip"
    response.close()
    assert raw.closed


def test_a_raw_kept_in_a_cache_and_handed_in_again_gives_a_new_response(server: RawServer) -> None:
    # CacheControl's tests cache the raw object itself (a serializer that stores the response as is)
    kept: list[Any] = []

    class Keeping(HTTPAdapter):
        def build_response(self, req: brisk.PreparedRequest, resp: Any) -> brisk.Response:
            if kept:
                return super().build_response(req, kept[0])
            kept.append(resp)
            return super().build_response(req, resp)

    with brisk.Session() as session:
        session.mount("http://", Keeping())
        first = session.get(server.url + "/plain")
        second = session.get(server.url + "/chunked")
    assert first.content == LINES
    assert second is not first
    assert second.raw is first.raw
    assert second.status_code == 200
    assert second.content == b""  # the kept raw was read already, as urllib3's would be


@pytest.mark.parametrize("path", [*ROUTES, "/cookies"])
def test_raw_reads_give_what_urllib3_gives(server: RawServer, path: str) -> None:
    """The same reads on brisk's raw and on urllib3's response to the same request: same bytes, tell(),
    length_remaining and closed after each (urllib3 opened as requests opens it: decode_content=False)."""
    urllib3 = pytest.importorskip("urllib3")
    reads: list[tuple[int | None, bool]] = [
        (1, False),
        (10, False),
        (100, False),
        (5000, False),
        (None, False),
    ]
    if path.startswith("/gzip"):
        reads = [(10, True), (1, True), (333, True), (5000, True), (None, True)]
    with urllib3.PoolManager() as pool, brisk.Session() as session:
        theirs = pool.request("GET", server.url + path, preload_content=False, decode_content=False)
        ours = session.get(server.url + path, stream=True).raw
        for name in ("status", "reason", "version", "version_string", "chunked", "length_remaining"):
            assert getattr(ours, name) == getattr(theirs, name), name
        assert list(ours.headers.items()) == list(theirs.headers.items())
        assert urllib3.HTTPHeaderDict(ours.headers) == theirs.headers
        assert ours.decode_content is theirs.decode_content is False
        for amt, decode in reads:
            got = ours.read(amt, decode_content=decode)
            assert got == theirs.read(amt, decode_content=decode)
            assert ours.tell() == theirs.tell()
            assert ours.length_remaining == theirs.length_remaining
            assert ours.closed == theirs.closed, (amt, decode)
        assert ours.read(10) == theirs.read(10) == b""
        assert ours.data == theirs.data


def test_an_async_response_reads_its_body_after_its_raw_was_asked_for(server: RawServer) -> None:
    import asyncio

    async def run() -> list[bytes]:
        bodies = []
        async with brisk.AsyncSession() as session:
            for path in ("/gzip", "/slow"):  # a body that came with the head, and one still on the wire
                response = await session.get(server.url + path, stream=True)
                assert response.raw.status == 200
                bodies.append(await response.aread())
            response = await session.get(server.url + "/slow", stream=True)
            with pytest.raises(RuntimeError, match="AsyncSession"):
                response.raw.read(10)  # the sync view of a body still on the wire cannot be read here
            await response.aclose()
            response = await session.get(server.url + "/chunked", stream=True)
            assert response.raw.chunked
            bodies.append(b"".join([piece async for piece in response.aiter_content(100)]))
        return bodies

    assert asyncio.run(run()) == [LINES, LINES, LINES]


def test_text_lines_through_io_textiowrapper_with_auto_close_off(server: RawServer) -> None:
    # urllib3's documented recipe: a raw closes itself at the end of the body unless auto_close is False
    with brisk.Session() as session:
        raw = session.get(server.url + "/gzip", stream=True).raw
        raw.decode_content = True
        raw.auto_close = False
        text = io.TextIOWrapper(raw, encoding="ascii")
        assert list(text) == LINES.decode("ascii").splitlines(keepends=True)
        assert not raw.closed
        text.close()  # closes the raw under it
        assert raw.closed


def test_raw_over_http2(tls_app_server: Any) -> None:
    adapter = TeeAdapter()
    with brisk.Session(http2=True, verify=tls_app_server.ca_bundle) as session:
        session.mount("https://", adapter)
        response = session.get(tls_app_server.url + "/gzip")
        assert response.http_version == "HTTP/2"
        raw = response.raw
        assert (raw.version, raw.version_string, raw.chunked) == (20, "HTTP/2", False)
        assert adapter.completed == [bytes(adapter.tees[0].seen)]
        assert gzip.decompress(adapter.completed[0]) == response.content
        assert raw.closed
