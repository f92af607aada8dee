"""Endpoints that stream or encode their bodies: content codings, random bytes, drips, ranges, events, upload.

Caps keep one request from tying the server up: ``/bytes`` and ``/stream-bytes`` serve at most 1 GiB,
``/stream`` 100 lines, ``/range`` 1 MiB, ``/drip`` 10 MiB over at most 60 s, ``/sse`` 1000 events.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import zlib
from collections.abc import AsyncIterator, Callable, Iterator

from brisk.testing._app_common import (
    MAX_DELAY,
    headers_dict,
    int_arg,
    integer,
    number_arg,
    status_arg,
)
from brisk.testing._http import (
    HTTPError,
    Request,
    Response,
    json_bytes,
    json_response,
    multi_dict,
)

MAX_BYTES = 1 << 30
MAX_STREAM_LINES = 100
MAX_RANGE = 1 << 20
MAX_DRIP_BYTES = 10 * 1024 * 1024
MAX_DRIP_DURATION = 60.0
MAX_SSE_EVENTS = 1000
RANDOM_BLOCK = 64 * 1024
RANGE_LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"

# -- content codings --------------------------------------------------------------------------------------


def _compress_brotli(data: bytes) -> bytes:
    import brotli

    result: bytes = brotli.compress(data)
    return result


def _compress_zstd(data: bytes) -> bytes:
    import zstandard

    result: bytes = zstandard.ZstdCompressor().compress(data)
    return result


CODINGS: dict[str, tuple[str, str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", "gzipped", gzip.compress),
    "deflate": ("deflate", "deflated", zlib.compress),
    "brotli": ("br", "brotli", _compress_brotli),
    "zstd": ("zstd", "zstd", _compress_zstd),
}


async def encoded(coding: str, request: Request) -> Response:
    token, flag, compress = CODINGS[coding]
    data = {flag: True, "headers": headers_dict(request), "method": request.method, "origin": request.origin}
    headers = [("Content-Type", "application/json"), ("Content-Encoding", token)]
    return Response(200, headers, compress(json_bytes(data)))


# -- bytes and streams ---------------------------------------------------------------------------------------


def _rng(request: Request) -> random.Random:
    seed = request.arg("seed")
    if seed is None:
        return random.Random()
    return random.Random(integer(seed, "seed", -(1 << 63), 1 << 63))


def _random_blocks(rng: random.Random, size: int) -> Iterator[bytes]:
    """*size* pseudo-random bytes in fixed blocks, so a seed gives the same bytes however they are cut."""
    while size > 0:
        block = min(size, RANDOM_BLOCK)
        yield rng.randbytes(block)
        size -= block


async def _async_blocks(blocks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for block in blocks:
        yield block


def _rechunk(blocks: Iterator[bytes], chunk_size: int) -> Iterator[bytes]:
    """The bytes of *blocks* again, cut into pieces of *chunk_size* (the last may be shorter)."""
    pending = bytearray()
    for block in blocks:
        pending += block
        whole = len(pending) - len(pending) % chunk_size
        if whole:
            ready = bytes(pending[:whole])
            del pending[:whole]
            for start in range(0, whole, chunk_size):
                yield ready[start : start + chunk_size]
    if pending:
        yield bytes(pending)


async def random_bytes(request: Request) -> Response:
    size = integer(request.params["n"], "byte count", 0, MAX_BYTES)
    blocks = _random_blocks(_rng(request), size)
    headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]
    if size <= 4 * RANDOM_BLOCK:
        return Response(200, headers, b"".join(blocks))
    return Response(200, headers, _async_blocks(blocks))


async def stream_bytes(request: Request) -> Response:
    size = integer(request.params["n"], "byte count", 0, MAX_BYTES)
    chunk_size = int_arg(request, "chunk_size", 10 * 1024, 1, 16 * 1024 * 1024)
    chunks = _rechunk(_random_blocks(_rng(request), size), chunk_size)
    return Response(200, [("Content-Type", "application/octet-stream")], _async_blocks(chunks))


async def stream_lines(request: Request) -> Response:
    count = min(integer(request.params["n"], "line count", 0, 1 << 30), MAX_STREAM_LINES)
    base = {"url": request.url, "args": multi_dict(request.query), "headers": headers_dict(request)}
    base["origin"] = request.origin

    async def lines() -> AsyncIterator[bytes]:
        for number in range(count):
            yield (json.dumps({**base, "id": number}) + "\n").encode("utf-8")

    return Response(200, [("Content-Type", "application/json")], lines())


async def drip(request: Request) -> Response:
    duration = number_arg(request, "duration", 2.0, 0.0, MAX_DRIP_DURATION)
    numbytes = int_arg(request, "numbytes", 10, 0, MAX_DRIP_BYTES)
    code = status_arg(request.arg("code") or "200")
    await request.sleep(number_arg(request, "delay", 0.0, 0.0, MAX_DELAY))
    ticks = min(numbytes, 1000)
    pause = duration / ticks if ticks else 0.0

    async def dripping() -> AsyncIterator[bytes]:
        sent = 0
        for tick in range(ticks):
            size = numbytes * (tick + 1) // ticks - sent
            sent += size
            yield b"*" * size
            await request.sleep(pause)

    headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(numbytes))]
    return Response(code, headers, dripping())


_RANGE_SPEC = re.compile(r"\s*([0-9]*)\s*-\s*([0-9]*)\s*")


def _byte_range(header: str, size: int) -> range | None:
    """The single range of a ``Range: bytes=...`` header, None to ignore it; 416 when unsatisfiable."""
    unit, _, spec = header.partition("=")
    found = _RANGE_SPEC.fullmatch(spec)
    if unit.strip().lower() != "bytes" or found is None or not any(found.groups()):
        return None  # other units, multiple ranges and bad syntax are ignored (RFC 9110 section 14.2)
    first, last = found.groups()
    unsatisfiable = HTTPError(416, "range not satisfiable", [("Content-Range", f"bytes */{size}")])
    if not first:
        if int(last) == 0 or size == 0:
            raise unsatisfiable
        return range(max(0, size - int(last)), size)
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise unsatisfiable
    end = min(int(last), size - 1) if last else size - 1
    return range(start, end + 1)


async def byte_range(request: Request) -> Response:
    size = integer(request.params["n"], "byte count", 0, MAX_RANGE)
    etag = f'"range-{size}"'
    headers = [
        ("Content-Type", "application/octet-stream"),
        ("Accept-Ranges", "bytes"),
        ("ETag", etag),
        ("Last-Modified", RANGE_LAST_MODIFIED),
    ]
    body = bytes(97 + index % 26 for index in range(size))
    header = request.header("range")
    if_range = request.header("if-range")
    if header is None or (if_range is not None and if_range.strip() not in (etag, RANGE_LAST_MODIFIED)):
        return Response(200, headers, body)
    span = _byte_range(header, size)
    if span is None:
        return Response(200, headers, body)
    headers.append(("Content-Range", f"bytes {span.start}-{span.stop - 1}/{size}"))
    return Response(206, headers, body[span.start : span.stop])


async def server_sent_events(request: Request) -> Response:
    count = int_arg(request, "count", 3, 0, MAX_SSE_EVENTS)
    pause = number_arg(request, "delay", 0.0, 0.0, MAX_DELAY)
    retry = request.arg("retry")
    if retry is not None:
        integer(retry, "retry", 0, 1 << 31)

    async def events() -> AsyncIterator[bytes]:
        yield b": brisk test event stream\n\n"
        if retry is not None:
            yield f"retry: {retry}\n\n".encode()
        for number in range(1, count + 1):
            if number > 1:
                await request.sleep(pause)
            payload = json.dumps({"n": number, "of": count})
            yield f"id: {number}\nevent: tick\ndata: event {number}\ndata: {payload}\n\n".encode()

    headers = [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")]
    return Response(200, headers, events())


async def upload(request: Request) -> Response:
    digest = hashlib.sha256()
    size = 0
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
    return json_response({"bytes": size, "sha256": digest.hexdigest(), "method": request.method})
