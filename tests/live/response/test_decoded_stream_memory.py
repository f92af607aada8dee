"""Small streamed reads of a compressed body cost memory in proportion to the read, not to the ratio.

The body (issue #18, item 4; the urllib3 CVE-2025-66471 class): 2 MiB of random bytes, then 256 MiB of
zeros, compressed as one stream. Its overall ratio (about 115:1) is under the 200:1 bomb limit, so it is a
legitimate body and reading it must succeed; but every network read of the zeros expands about a thousand
times. Read in small pieces (``iter_content(1024)``, ``raw.read(1024)``, ``raw.read(65536)``, and
``aiter_content`` in the async world), the process may grow by a fixed window at most, never by what one
network read expands to, and the read must finish (copying the rest of a buffer on every small read made
``raw.read(1024)`` quadratic).

Each case runs in a fresh Python process that warms up on a small body of the same coding, reads its
resident size, streams the body from a raw-socket server, and reads its peak (``VmHWM``) again. The child's
timeout only guards against a hang; nothing here measures speed.
"""

from __future__ import annotations

import functools
import json
import random
import subprocess
import sys
import zlib
from typing import Any

import brotli
import pytest
import zstandard

from servers.raw import RawConnection, RawServerFactory, http_response

pytestmark = pytest.mark.timeout(150)

MiB = 1 << 20
PREFIX = random.Random(18).randbytes(2 * MiB)
ZERO_MIBS = 256
SIZE = len(PREFIX) + ZERO_MIBS * MiB
LIMIT_MB = 50
CODINGS = ["gzip", "deflate", "br", "zstd"]


def compress(coding: str, prefix: bytes, zero_mibs: int) -> bytes:
    """``prefix`` followed by ``zero_mibs`` MiB of zeros, as one stream of ``coding``."""
    zeros = bytes(MiB)
    if coding in ("gzip", "deflate"):
        zc = zlib.compressobj(6, zlib.DEFLATED, 31 if coding == "gzip" else 15)
        return b"".join([zc.compress(prefix), *(zc.compress(zeros) for _ in range(zero_mibs)), zc.flush()])
    if coding == "br":
        bc = brotli.Compressor(quality=1)
        return b"".join([bc.process(prefix), *(bc.process(zeros) for _ in range(zero_mibs)), bc.finish()])
    sc = zstandard.ZstdCompressor(level=3).compressobj()
    return b"".join([sc.compress(prefix), *(sc.compress(zeros) for _ in range(zero_mibs)), sc.flush()])


@functools.cache
def body(coding: str) -> bytes:
    encoded = compress(coding, PREFIX, ZERO_MIBS)
    assert len(encoded) * 200 > SIZE, "not a bomb by the ratio rule: reading it must succeed"
    return encoded


@functools.cache
def expected_crc() -> int:
    crc = zlib.crc32(PREFIX)
    zeros = bytes(MiB)
    for _ in range(ZERO_MIBS):
        crc = zlib.crc32(zeros, crc)
    return crc


CHILD = r"""
import asyncio, json, sys, time, zlib
import brisk

base_url, world, how, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def read_sync(session, url):
    total, crc = 0, 0
    with session.get(url, stream=True) as response:
        if how == "iter_content":
            pieces = response.iter_content(size)
        else:
            raw = response.raw
            pieces = iter(lambda: raw.read(size, decode_content=True), b"")
        for piece in pieces:
            assert len(piece) <= size
            total += len(piece)
            crc = zlib.crc32(piece, crc)
    return total, crc


async def read_async(session, url):
    total, crc = 0, 0
    response = await session.get(url, stream=True)
    async with response:
        async for piece in response.aiter_content(size):
            assert len(piece) <= size
            total += len(piece)
            crc = zlib.crc32(piece, crc)
    return total, crc


def run_sync():
    with brisk.Session(trust_env=False, timeout=60) as session:
        read_sync(session, base_url + "/small")  # warm-up: imports, decoder, buffers of this path
        before = status_mb("VmRSS")
        start = time.perf_counter()
        total, crc = read_sync(session, base_url + "/body")
        return before, total, crc, time.perf_counter() - start


async def run_async():
    async with brisk.AsyncSession(trust_env=False, timeout=60) as session:
        await read_async(session, base_url + "/small")
        before = status_mb("VmRSS")
        start = time.perf_counter()
        total, crc = await read_async(session, base_url + "/body")
        return before, total, crc, time.perf_counter() - start


before, total, crc, seconds = run_sync() if world == "sync" else asyncio.run(run_async())
peak = status_mb("VmHWM")
print(json.dumps({"rss_before_mb": before, "peak_mb": peak, "growth_mb": peak - before, "bytes": total,
                  "crc": crc, "seconds": seconds}))
"""


def stream_in_child(raw_server: RawServerFactory, coding: str, world: str, how: str, size: int) -> Any:
    big = body(coding)
    small = compress(coding, PREFIX[:4096], 1)
    headers = [("Content-Encoding", coding), ("Content-Type", "application/octet-stream")]

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            conn.send(http_response(200, big if request.target == "/body" else small, headers))

    server = raw_server(handler, timeout=120)
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, server.url, world, how, str(size)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{how}({size}) of the {coding} body did not finish within 120 s")
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{coding} {world} {how}({size}): {figures}")
    return figures


READS = [
    ("sync", "iter_content", 1024),
    ("sync", "raw.read", 1024),
    ("sync", "raw.read", 65536),
    ("async", "iter_content", 1024),
    ("async", "iter_content", 65536),
]


@pytest.mark.parametrize(("world", "how", "size"), READS, ids=[f"{w}-{h}-{s}" for w, h, s in READS])
@pytest.mark.parametrize("coding", CODINGS)
def test_small_reads_of_a_highly_compressed_stretch_stay_bounded(
    raw_server: RawServerFactory, coding: str, world: str, how: str, size: int
) -> None:
    figures = stream_in_child(raw_server, coding, world, how, size)
    assert figures["bytes"] == SIZE
    assert figures["crc"] == expected_crc()
    assert figures["growth_mb"] < LIMIT_MB, figures


# -- response.raw's reads, in process: the bytes and positions are urllib3's -------------------------------


@pytest.mark.parametrize("coding", [None, "gzip"])
@pytest.mark.parametrize("decode", [True, False])
def test_raw_reads_of_every_size_give_the_body_in_order(
    raw_server: RawServerFactory, coding: str | None, decode: bool
) -> None:
    import brisk

    data = random.Random(3).randbytes(300_000) + bytes(3 * MiB)
    wire = data if coding is None else compress(coding, data, 0)
    headers = [] if coding is None else [("Content-Encoding", coding)]

    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(200, wire, headers))

    server = raw_server(handler)
    expected = data if decode else wire
    rng = random.Random(7)
    with brisk.Session(trust_env=False) as session:
        for _ in range(6):
            raw = session.get(server.url, stream=True).raw
            raw.decode_content = decode
            got = bytearray()
            while True:
                op, size = (
                    rng.choice(["read", "read1", "readinto"]),
                    rng.choice([1, 100, 1024, 65536, 1 << 20]),
                )
                if op == "read":
                    piece = raw.read(size)
                    assert len(piece) == min(size, len(expected) - len(got))
                elif op == "read1":
                    piece = raw.read1(size)
                    assert 0 < len(piece) <= size or len(got) == len(expected)
                else:
                    buffer = bytearray(size)
                    piece = bytes(buffer[: raw.readinto(buffer)])
                got += piece
                # tell() counts the bytes taken off the wire (urllib3's meaning): the compressed ones
                # when decoding, which may run ahead of what was handed out
                assert raw.tell() == len(got) if expected is wire else raw.tell() <= len(wire)
                if not piece:
                    break
                if rng.random() < 0.02:
                    got += raw.read()
                    assert raw.read(10) == b""
                    break
            assert got == expected
            assert raw.tell() == len(wire)
