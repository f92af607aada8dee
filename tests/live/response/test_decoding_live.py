"""Content decoding over real sockets: the app's encoded endpoints, and hostile bodies from a raw server.

Decompression bombs (1 GiB of zeros as gzip, deflate, br and zstd) are read whole, streamed in small pieces,
and drained as the body of a redirect. Their memory bound is measured in a subprocess, whose peak RSS (VmHWM)
covers nothing but one such request: it must stay far below what the bomb expands to.
"""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from typing import Any

import brotli
import pytest
import zstandard

import brisk
from brisk.exceptions import ContentDecodingError, DecompressionBombError, TooManyContentEncodings
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, SyncClient
from servers.raw import RawConnection, RawServer, RawServerFactory, http_response

Client = SyncClient | AsyncClient

BOMB_SIZE = 1 << 30  # what every bomb expands to
MEMORY_BOUND_MB = 150
BOMB_CODINGS = ["gzip", "deflate", "br", "zstd"]


# -- bombs ---------------------------------------------------------------------------------------------------


def deflate_zeros() -> bytes:
    """1 GiB of zeros as raw deflate blocks, built from one compressed MiB: after a full flush the deflate
    stream is byte-aligned with an empty window, so every MiB compresses to the same bytes."""
    piece = zlib.compressobj(9, zlib.DEFLATED, -15)
    one_mib = piece.compress(bytes(1 << 20)) + piece.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    return one_mib * (BOMB_SIZE >> 20) + final


def make_gzip_bomb() -> bytes:
    """The zeros as one gzip member."""
    block = bytes(1 << 20)
    crc = 0
    for _ in range(BOMB_SIZE >> 20):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + deflate_zeros() + struct.pack("<II", crc, BOMB_SIZE & 0xFFFFFFFF)


def make_deflate_bomb() -> bytes:
    """The zeros as HTTP's deflate: a zlib stream (RFC 1950 header, Adler-32 trailer), not raw deflate."""
    block = bytes(1 << 20)
    adler = 1
    for _ in range(BOMB_SIZE >> 20):
        adler = zlib.adler32(block, adler)
    return b"\x78\xda" + deflate_zeros() + struct.pack(">I", adler)


def make_br_bomb() -> bytes:
    compressor = brotli.Compressor(quality=1)
    block = bytes(1 << 20)
    return b"".join([*(compressor.process(block) for _ in range(BOMB_SIZE >> 20)), compressor.finish()])


def make_zstd_bomb() -> bytes:
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    block = bytes(1 << 20)
    return b"".join([*(compressor.compress(block) for _ in range(BOMB_SIZE >> 20)), compressor.flush()])


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    made = {
        "gzip": make_gzip_bomb(),
        "deflate": make_deflate_bomb(),
        "br": make_br_bomb(),
        "zstd": make_zstd_bomb(),
    }
    for coding, body in made.items():
        assert len(body) * 200 < BOMB_SIZE, f"the {coding} bomb is not one ({len(body)} bytes)"
    return made


def bomb_server(raw_server: RawServerFactory, coding: str, body: bytes) -> RawServer:
    """``/bomb``: the bomb; ``/redirect``: a 302 to ``/ok`` whose body is the bomb; ``/ok``: 200 ok."""
    encoded = [("Content-Encoding", coding), ("Content-Type", "application/octet-stream")]

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            if request.target == "/ok":
                conn.send(http_response(200, b"ok"))
            elif request.target == "/redirect":
                conn.send(http_response(302, body, [("Location", "/ok"), *encoded]))
            else:
                conn.send(http_response(200, body, encoded))

    return raw_server(handler)


# -- bombs, in a subprocess that measures its peak memory ----------------------------------------------------

PROBE = r"""
import asyncio, json, resource, sys
import brisk

url, world, mode = sys.argv[1:4]
result = {"error": None, "message": None, "status": None, "history": [], "read": 0}


def note(response):
    result["status"] = response.status_code
    result["history"] = [r.status_code for r in response.history]


def run_sync():
    with brisk.Session() as session:
        try:
            if mode == "stream":
                with session.get(url, stream=True) as response:
                    note(response)
                    for chunk in response.iter_content(1024):
                        result["read"] += len(chunk)
            else:
                response = session.get(url)
                note(response)
                result["read"] = len(response.content)
        except brisk.RequestException as exc:
            result["error"], result["message"] = type(exc).__name__, str(exc)


async def run_async():
    async with brisk.AsyncSession() as session:
        try:
            if mode == "stream":
                response = await session.get(url, stream=True)
                note(response)
                async with response:
                    async for chunk in response.aiter_content(1024):
                        result["read"] += len(chunk)
            else:
                response = await session.get(url)
                note(response)
                result["read"] = len(await response.aread())
        except brisk.RequestException as exc:
            result["error"], result["message"] = type(exc).__name__, str(exc)


run_sync() if world == "sync" else asyncio.run(run_async())
# The peak RSS of this process's own memory (VmHWM). getrusage's ru_maxrss is printed too, but on Linux
# exec() folds the parent's peak into it (the child starts on the parent's address space), so from a large
# pytest process it says more about pytest than about this request.
with open("/proc/self/status") as status:
    result["peak_rss_mb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
result["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def probe(url: str, world: str, mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url, world, mode],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def baseline_peak_mb() -> dict[str, float]:
    """Peak RSS of the same probe making a trivial request, per world: what the bombs are compared with."""
    peaks = {}

    def answer_ok(conn: RawConnection) -> None:
        if conn.recv_request() is not None:
            conn.send(http_response(200, b"ok"))

    with RawServer(answer_ok) as server:
        for world in ("sync", "async"):
            result = probe(server.url + "/ok", world, "whole")
            assert result["error"] is None, result
            peaks[world] = result["peak_rss_mb"]
    return peaks


@pytest.mark.parametrize("world", ["sync", "async"])
@pytest.mark.parametrize("mode", ["whole", "stream"])
@pytest.mark.parametrize("coding", BOMB_CODINGS)
def test_decompression_bomb_memory_bounded(
    raw_server: RawServerFactory,
    bombs: dict[str, bytes],
    baseline_peak_mb: dict[str, float],
    coding: str,
    mode: str,
    world: str,
) -> None:
    server = bomb_server(raw_server, coding, bombs[coding])
    result = probe(server.url + "/bomb", world, mode)
    assert result["error"] == "DecompressionBombError", result
    assert coding in result["message"]
    assert server.url in result["message"]
    assert result["read"] < 64 * 1024 * 1024  # stopped early, far from the 1 GiB it would become
    assert result["peak_rss_mb"] < MEMORY_BOUND_MB, result
    # And close to a trivial request: the bomb costs tens of MB at most, not hundreds.
    assert result["peak_rss_mb"] < baseline_peak_mb[world] + 40, (result, baseline_peak_mb)


@pytest.mark.parametrize("world", ["sync", "async"])
@pytest.mark.parametrize("coding", BOMB_CODINGS)
def test_decompression_bomb_drained_by_redirect(
    raw_server: RawServerFactory,
    bombs: dict[str, bytes],
    baseline_peak_mb: dict[str, float],
    coding: str,
    world: str,
) -> None:
    """A redirect's body is drained raw (never decompressed) and the redirect followed."""
    server = bomb_server(raw_server, coding, bombs[coding])
    result = probe(server.url + "/redirect", world, "whole")
    assert result["error"] is None, result
    assert result["status"] == 200
    assert result["history"] == [302]
    assert result["peak_rss_mb"] < MEMORY_BOUND_MB, result
    assert result["peak_rss_mb"] < baseline_peak_mb[world] + 40, (result, baseline_peak_mb)


# -- bombs, in process: the exception and the pool -----------------------------------------------------------


@pytest.mark.parametrize("coding", BOMB_CODINGS)
def test_decompression_bomb_read_whole(
    client: Client, raw_server: RawServerFactory, bombs: dict[str, bytes], coding: str
) -> None:
    server = bomb_server(raw_server, coding, bombs[coding])
    with pytest.raises(DecompressionBombError) as caught:
        client.get(server.url + "/bomb")
    assert isinstance(caught.value, ContentDecodingError)
    assert "Limits(max_decompression_ratio" in str(caught.value)
    # The compressed body was read completely: its connection is back in the pool and reusable.
    assert client.get(server.url + "/ok").content == b"ok"
    assert server.connection_count == 1
    assert client.pool().total == client.pool().idle_count() == 1


@pytest.mark.parametrize("coding", BOMB_CODINGS)
def test_decompression_bomb_streamed(
    client: Client, raw_server: RawServerFactory, bombs: dict[str, bytes], coding: str
) -> None:
    server = bomb_server(raw_server, coding, bombs[coding])
    response = client.get(server.url + "/bomb", stream=True)
    with pytest.raises(DecompressionBombError):
        client.chunks(response, 1024)
    client.close_response(response)
    assert client.pool().total == client.pool().idle_count()
    assert client.get(server.url + "/ok").content == b"ok"


def test_decompression_ratio_is_configurable(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    """20 MiB of zeros (ratio ~1000:1) is refused by default and accepted when the ratio limit allows it."""
    body = gzip.compress(bytes(20 << 20))
    encoded = [("Content-Encoding", "gzip")]

    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(200, body, encoded))

    server = raw_server(handler)
    with pytest.raises(DecompressionBombError):
        client_factory().get(server.url + "/")
    relaxed = client_factory(limits=brisk.Limits(max_decompression_ratio=5000))
    assert relaxed.get(server.url + "/").content == bytes(20 << 20)


# -- the app's encodings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "flag"), [("gzip", "gzipped"), ("deflate", "deflated"), ("brotli", "brotli"), ("zstd", "zstd")]
)
def test_content_codings_from_app_server(
    client: Client, app_server: ServerThread, path: str, flag: str
) -> None:
    response = client.get(f"{app_server.url}/{path}")
    assert response.status_code == 200
    assert response.json()[flag] is True
    streamed = client.get(f"{app_server.url}/{path}", stream=True)
    assert json.loads(b"".join(client.chunks(streamed, 7)))[flag] is True
    accepted = {c.strip() for c in response.json()["headers"]["Accept-Encoding"].split(",")}
    assert {"gzip", "deflate", "br", "zstd"} <= accepted


# -- hostile encodings from the raw server -------------------------------------------------------------------

PAYLOAD = b"brisk decodes this payload " * 200

ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    # With a content checksum, as zstd(1) writes by default: without one, flipped bits in the middle of a
    # frame can decode to wrong bytes that no decoder could notice.
    "zstd": lambda data: zstandard.ZstdCompressor(write_checksum=True).compress(data),
}


def body_of(
    client: Client,
    url: str,
    *,
    stream: bool,
    chunk_size: int = 4,
    into: list[bytes] | None = None,
    **kwargs: Any,
) -> bytes:
    """GET ``url`` and return its body, read whole or (``stream``) pulled in ``chunk_size`` pieces, each also
    appended to ``into`` as it arrives."""
    if not stream:
        return client.get(url, **kwargs).content  # type: ignore[no-any-return]
    got = [] if into is None else into
    for chunk in client.iterate(client.get(url, stream=True, **kwargs), chunk_size):
        got.append(chunk)
    return b"".join(got)


def encoded_server(raw_server: RawServerFactory, body: bytes, content_encoding: str) -> RawServer:
    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(200, body, [("Content-Encoding", content_encoding)]))

    return raw_server(handler)


def chain(codings: list[str], data: bytes = PAYLOAD) -> tuple[bytes, str]:
    """``data`` encoded with each coding in order, and the Content-Encoding header naming them."""
    for coding in codings:
        data = ENCODERS[coding](data)
    return data, ", ".join(codings)


@pytest.mark.parametrize(
    "codings",
    [["gzip"] * 5, ["deflate", "gzip", "br", "zstd", "gzip"]],
    ids=["gzip-x5", "mixed-5"],
)
def test_five_chained_codings_decode(
    client: Client, raw_server: RawServerFactory, codings: list[str]
) -> None:
    server = encoded_server(raw_server, *chain(codings))
    assert client.get(server.url + "/").content == PAYLOAD
    assert b"".join(client.chunks(client.get(server.url + "/", stream=True), 100)) == PAYLOAD


@pytest.mark.parametrize("stream", [False, True], ids=["read-whole", "streamed"])
def test_more_than_five_codings_is_an_error(
    client: Client, raw_server: RawServerFactory, stream: bool
) -> None:
    server = encoded_server(raw_server, *chain(["gzip"] * 6))
    response = client.get(server.url + "/", stream=True)
    consume = (lambda: client.chunks(response, 100)) if stream else (lambda: client.read(response))
    with pytest.raises(TooManyContentEncodings) as caught:
        consume()
    assert isinstance(caught.value, ContentDecodingError)
    assert "6" in str(caught.value)
    client.close_response(response)
    assert client.pool().total == client.pool().idle_count()


def test_coding_limit_is_configurable(
    client_factory: Callable[..., Client], raw_server: RawServerFactory
) -> None:
    server = encoded_server(raw_server, *chain(["gzip"] * 6))
    assert (
        client_factory(limits=brisk.Limits(max_content_encodings=6)).get(server.url + "/").content == PAYLOAD
    )


def corrupt(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 8]) + data[middle + 8 :]


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
@pytest.mark.parametrize("damage", ["corrupt", "truncated", "garbage"])
@pytest.mark.parametrize("stream", [False, True], ids=["read-whole", "streamed"])
def test_damaged_compressed_body_is_a_decoding_error(
    client: Client, raw_server: RawServerFactory, coding: str, damage: str, stream: bool
) -> None:
    good = ENCODERS[coding](PAYLOAD)
    body = {
        "corrupt": corrupt(good),
        "truncated": good[: len(good) // 2],
        "garbage": b"not compressed at all",
    }[damage]
    server = encoded_server(raw_server, body, coding)
    with pytest.raises(ContentDecodingError) as caught:
        body_of(client, server.url + "/", stream=stream, chunk_size=64)
    assert coding in str(caught.value)
    assert server.url in str(caught.value)
    assert client.pool().total == client.pool().idle_count()
    assert (
        client.get(server.url + "/", headers={"Accept-Encoding": "identity"}, stream=True).status_code == 200
    )


@pytest.mark.parametrize("stream", [False, True], ids=["read-whole", "streamed"])
def test_multi_member_gzip(client: Client, raw_server: RawServerFactory, stream: bool) -> None:
    parts = [b"first member; ", b"second member; ", b"third member"]
    server = encoded_server(raw_server, b"".join(gzip.compress(part) for part in parts), "gzip")
    if stream:
        content = b"".join(client.chunks(client.get(server.url + "/", stream=True), 5))
    else:
        content = client.get(server.url + "/").content
    assert content == b"".join(parts)


def test_redirect_body_is_never_decoded(client: Client, raw_server: RawServerFactory) -> None:
    """A redirect with a corrupt gzip body: draining it must not decode it, so no error surfaces."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            if request.target == "/ok":
                conn.send(http_response(200, b"ok"))
            else:
                conn.send(
                    http_response(
                        302, b"\x1f\x8b garbage", [("Location", "/ok"), ("Content-Encoding", "gzip")]
                    )
                )

    server = raw_server(handler)
    response = client.get(server.url + "/start")
    assert response.content == b"ok"
    assert [r.status_code for r in response.history] == [302]
