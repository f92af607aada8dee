"""Fuzz target: Content-Encoding decoding (``brisk._response.decoders``) and the body
pipeline (``brisk._response.content``).

Input layout: byte 0 = number of codings (0-6, so ``max_content_encodings`` = 5 is crossed), then one byte per
coding (gzip, deflate, br, zstd, identity, x-gzip, GZIP, " br ", compress, ""), then a mode byte, a repeat
byte, a cut byte, and the payload.

Mode bit 0 clear: the payload is the body as received (random bytes for the decoders).
Mode bit 0 set: the payload (repeated 2**(repeat % 16) times, so bombs are easy to make) is the plain text;
the target applies the codings to it, then (bit 1) drops 1-256 trailing bytes (keeping at least one) or
(bit 2) flips one bit. Bit 3 picks small limits (floor 4 KiB, ratio 20:1) instead of the defaults; bit 4 raw
deflate instead of zlib-wrapped.

Checked, with the body fed in pieces:
- only the ContentDecodingError family is raised (DecompressionBombError, TooManyContentEncodings included);
- memory is bounded: after every decode() call the decoded output so far is at most
  max(floor, ratio x bytes received so far);
- more than ``max_content_encodings`` real codings raise TooManyContentEncodings, and only then;
- an intact encoded body decodes to exactly the plain text (a bomb error is allowed only when the plain text
  is beyond what the floor lets through), and a body cut short is refused (never silently truncated);
- ``BodyPipeline`` over a fresh decoder yields the same bytes, in pieces of exactly ``chunk_size``, and its
  text mode equals decoding the whole output as UTF-8 with replacement.
"""

from __future__ import annotations

import zlib

import atheris

with atheris.instrument_imports(include=["brisk"]):
    from brisk._core.config import DEFAULT_LIMITS, Limits
    from brisk._response.content import BodyPipeline
    from brisk._response.decoders import make_decoder
    from brisk.exceptions import ContentDecodingError, DecompressionBombError, TooManyContentEncodings

import brotli
import zstandard
from _fuzzutil import cut, fuzz

CODINGS = ("gzip", "deflate", "br", "zstd", "identity", "x-gzip", "GZIP", " br ", "compress", "")
KNOWN = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "br": "br", "zstd": "zstd"}
SMALL = Limits(decompression_floor=4096, max_decompression_ratio=20)
MAX_PLAIN = 1 << 20


def encode(plain: bytes, codings: list[str], raw_deflate: bool) -> bytes:
    data = plain
    for name in codings:  # in the order they were applied
        coding = KNOWN.get(name.strip().lower())
        if coding == "gzip":
            compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
            data = compressor.compress(data) + compressor.flush()
        elif coding == "deflate":
            compressor = zlib.compressobj(1, zlib.DEFLATED, -15 if raw_deflate else 15)
            data = compressor.compress(data) + compressor.flush()
        elif coding == "br":
            data = brotli.compress(data, quality=1)
        elif coding == "zstd":
            data = zstandard.ZstdCompressor(level=1).compress(data)
    return data


def decode_all(header: str, pieces: list[bytes], limits: Limits) -> bytes | None:
    """The decoded body, None when the body passes through undecoded; checks the memory bound."""
    decoder = make_decoder(header, limits)
    if decoder is None:
        return None
    out = bytearray()
    received = 0
    for piece in pieces:
        received += len(piece)
        got = decoder.decode(piece)
        out += got
        bound = max(limits.decompression_floor, limits.max_decompression_ratio * received)
        assert len(out) <= bound, f"{len(out)} decoded bytes from {received} received (bound {bound})"
    assert decoder.flush() == b""
    return bytes(out)


def pipeline_bytes(header: str, pieces: list[bytes], limits: Limits, chunk_size: int | None) -> bytes:
    pipeline = BodyPipeline(make_decoder(header, limits), chunk_size)
    out: list[bytes] = []
    for piece in pieces:
        out += pipeline.push(piece)  # type: ignore[arg-type]
    tail = pipeline.finish()
    out += tail  # type: ignore[arg-type]
    if chunk_size is not None and out:
        assert all(len(p) == chunk_size for p in out[:-1]), [len(p) for p in out]
        assert 0 < len(out[-1]) <= chunk_size, [len(p) for p in out]
    return b"".join(out)


def pipeline_text(header: str, pieces: list[bytes], limits: Limits) -> str:
    pipeline = BodyPipeline(make_decoder(header, limits), 7, "utf-8")
    out: list[str] = []
    for piece in pieces:
        out += pipeline.push(piece)  # type: ignore[arg-type]
    out += pipeline.finish()  # type: ignore[arg-type]
    return "".join(out)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    count = data[0] % 7
    if len(data) < 1 + count + 3:
        return
    codings = [CODINGS[b % len(CODINGS)] for b in data[1 : 1 + count]]
    mode, repeat, seed = data[1 + count : 4 + count]
    payload = data[4 + count :]
    header = ", ".join(codings)
    limits = SMALL if mode & 8 else DEFAULT_LIMITS
    plain = None
    body = payload
    truncated = False
    if mode & 1:
        plain = payload * min(1 << (repeat % 16), MAX_PLAIN // max(1, len(payload)))
        body = encode(plain, codings, bool(mode & 16))
        if mode & 2 and len(body) > 1:
            body = body[: max(1, len(body) - 1 - seed)]
            truncated = True
        elif mode & 4 and body:
            flip = bytearray(body)
            flip[seed % len(flip)] ^= 1 << (repeat % 8)
            body = bytes(flip)
            plain = None  # a flipped bit may still decode (a header field): nothing to compare
    pieces = cut(body, seed)
    real = [c for c in (c.strip().lower() for c in codings) if c and c != "identity"]
    try:
        decoded = decode_all(header, pieces, limits)
    except TooManyContentEncodings:
        assert len(real) > limits.max_content_encodings, header
        return
    except DecompressionBombError:
        if plain is not None and not truncated:
            # Allowed only past the floor: below it, every stage's output stays below it as well (each
            # intermediate stage holds a compressed form no larger than twice the plain text plus headers).
            assert 2 * len(plain) + 1024 > limits.decompression_floor, f"bomb error for {len(plain)} bytes"
        return
    except ContentDecodingError:
        assert plain is None or truncated, "an intact encoded body was refused"
        return
    assert len(real) <= limits.max_content_encodings, header
    if decoded is None:  # nothing to decode, or a coding brisk cannot decode: the body passes through
        assert pipeline_bytes(header, pieces, limits, None) == body
        return
    assert not truncated, f"a body cut short was accepted ({header!r})"
    if plain is not None:
        assert decoded == plain, f"{header!r}: decoded {len(decoded)} bytes, expected {len(plain)}"
    chunk_size = None if seed % 4 == 0 else 1 + seed % 50
    assert pipeline_bytes(header, pieces, limits, chunk_size) == decoded
    if len(decoded) <= 65536:
        assert pipeline_text(header, pieces, limits) == decoded.decode("utf-8", "replace")


if __name__ == "__main__":
    fuzz(test_one_input)
