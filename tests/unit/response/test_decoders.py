"""Content-Encoding decoding: every coding, chains, framing edge cases, corrupt input and bombs."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import brotli
import pytest
import zstandard

from brisk._core.config import Limits
from brisk._response.decoders import SUPPORTED_ENCODINGS, ContentDecoder, make_decoder
from brisk.exceptions import ContentDecodingError, DecompressionBombError, TooManyContentEncodings

MiB = 1024 * 1024
ZEROS = bytes(MiB)


def sample(size: int = 300_000) -> bytes:
    """Compressible but not trivial: words drawn at random."""
    rng = random.Random(size)
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(500)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


def gzip_bytes(data: bytes) -> bytes:
    return zlib.compress(data, wbits=31)


def zlib_bytes(data: bytes) -> bytes:
    return zlib.compress(data)


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return c.compress(data) + c.flush()


def br_bytes(data: bytes) -> bytes:
    return bytes(brotli.compress(data, quality=5))


def zstd_bytes(data: bytes) -> bytes:
    return bytes(zstandard.ZstdCompressor().compress(data))


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip_bytes,
    "deflate": zlib_bytes,
    "br": br_bytes,
    "zstd": zstd_bytes,
}


def encode_chain(data: bytes, header: str) -> bytes:
    for coding in header.split(","):
        data = ENCODERS[coding.strip()](data)
    return data


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def decode_all(decoder: ContentDecoder, chunks: Iterator[bytes] | list[bytes]) -> bytes:
    out = [decoder.decode(chunk) for chunk in chunks]
    out.append(decoder.flush())
    return b"".join(out)


def decoder_for(header: str, limits: Limits | None = None) -> ContentDecoder:
    decoder = make_decoder(header) if limits is None else make_decoder(header, limits)
    assert decoder is not None
    return decoder


# ---------------------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
@pytest.mark.parametrize("chunk", [None, 1000, 7])
def test_round_trip(coding: str, chunk: int | None) -> None:
    data = sample()
    encoded = ENCODERS[coding](data)
    chunks = [encoded] if chunk is None else list(pieces(encoded, chunk))
    assert decode_all(decoder_for(coding), chunks) == data


def test_gzip_fed_byte_by_byte() -> None:
    data = sample(20_000)
    assert decode_all(decoder_for("gzip"), list(pieces(gzip_bytes(data), 1))) == data


def test_raw_deflate_fallback() -> None:
    data = sample()
    encoded = raw_deflate(data)
    assert decode_all(decoder_for("deflate"), [encoded]) == data
    # the wrapper is recognised even when the first two bytes arrive separately
    assert decode_all(decoder_for("deflate"), list(pieces(encoded, 1))) == data
    assert decode_all(decoder_for("deflate"), list(pieces(zlib_bytes(data), 1))) == data


def test_output_pending_when_input_is_used_up() -> None:
    """zlib can take all the input yet hold output back when a bounded step fills up; none may be lost."""
    step = 256 * 1024  # brisk._response.decoders._STEP: only bodies just past one step can end this way
    for size in range(step, step + 64):
        data = bytes(size)
        assert decode_all(decoder_for("deflate"), [raw_deflate(data)]) == data, size


@pytest.mark.parametrize(
    "header",
    ["gzip, br", "br, gzip", "deflate, zstd", "gzip, deflate, br, zstd", "zstd, gzip, zstd, br, gzip"],
)
def test_chained_codings(header: str) -> None:
    data = sample()
    encoded = encode_chain(data, header)
    assert decode_all(decoder_for(header), [encoded]) == data
    assert decode_all(decoder_for(header), list(pieces(encoded, 13))) == data


def test_header_spelling() -> None:
    data = sample(5000)
    assert decode_all(decoder_for(" GZip ,identity, "), [gzip_bytes(data)]) == data
    assert decode_all(decoder_for("x-gzip"), [gzip_bytes(data)]) == data
    assert decode_all(decoder_for("identity, BR"), [br_bytes(data)]) == data


@pytest.mark.parametrize("header", [None, "", "identity", " Identity , ", ","])
def test_nothing_to_decode(header: str | None) -> None:
    assert make_decoder(header) is None


@pytest.mark.parametrize("header", ["compress", "foo", "gzip, foo", "foo, gzip", "br;q=1"])
def test_unknown_coding_passes_body_through(header: str) -> None:
    assert make_decoder(header) is None


def test_supported_encodings() -> None:
    assert SUPPORTED_ENCODINGS == "gzip, deflate, br, zstd"


def test_compression_libraries_imported_lazily() -> None:
    code = (
        "import sys, brisk\n"
        "before = set(sys.modules)\n"
        "import brisk._response.decoders as d\n"
        "assert d.SUPPORTED_ENCODINGS.endswith('zstd')\n"
        "new = set(sys.modules) - before\n"
        "assert 'zstandard' not in new and 'brotlicffi' not in new, new\n"
        "d.make_decoder('zstd')\n"
        "assert 'zstandard' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------- framing edge cases


def test_multi_member_gzip() -> None:
    parts = [sample(10_000), b"", sample(777), b"tail"]
    encoded = b"".join(gzip_bytes(part) for part in parts)
    expected = b"".join(parts)
    assert decode_all(decoder_for("gzip"), [encoded]) == expected
    assert decode_all(decoder_for("gzip"), list(pieces(encoded, 1))) == expected
    assert decode_all(decoder_for("gzip"), list(pieces(encoded, 100))) == expected


def test_multi_frame_zstd_with_skippable_frame() -> None:
    skippable = (0x184D2A50).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    parts = [sample(50_000), sample(3_000), b"end"]
    frames = [zstd_bytes(parts[0]), skippable, zstd_bytes(parts[1]), zstd_bytes(parts[2])]
    encoded = b"".join(frames)
    expected = b"".join(parts)
    assert decode_all(decoder_for("zstd"), [encoded]) == expected
    assert decode_all(decoder_for("zstd"), list(pieces(encoded, 5))) == expected
    # frames produced by a streaming compressor (no content size in the header) work as well
    streamed = zstandard.ZstdCompressor().compressobj()
    encoded = streamed.compress(parts[0]) + streamed.flush() + encoded
    assert decode_all(decoder_for("zstd"), list(pieces(encoded, 4096))) == parts[0] + expected


def test_trailing_garbage_after_gzip_is_ignored() -> None:
    data = sample(5000)
    decoder = decoder_for("gzip")
    assert decode_all(decoder, [gzip_bytes(data) + b"\x00\x00garbage", b"more"]) == data


def test_trailing_garbage_after_zstd_is_an_error() -> None:
    decoder = decoder_for("zstd")
    with pytest.raises(ContentDecodingError, match="invalid zstd data"):
        decode_all(decoder, [zstd_bytes(b"data") + b"garbage!"])


def test_empty_body_is_accepted() -> None:
    for coding in ("gzip", "deflate", "br", "zstd", "gzip, br"):
        decoder = decoder_for(coding)
        assert decoder.decode(b"") == b""
        assert decoder.flush() == b""


def test_zstd_window_above_rfc9659_limit_is_refused() -> None:
    params = zstandard.ZstdCompressionParameters(window_log=24, enable_ldm=True)
    data = os.urandom(64 * 1024) * 256  # 16 MiB, repeats at a distance only a 16 MiB window reaches
    encoded = zstandard.ZstdCompressor(compression_params=params).compress(data)
    with pytest.raises(ContentDecodingError, match="zstd"):
        decode_all(decoder_for("zstd"), [encoded])


# ----------------------------------------------------------------------------------- corrupt and truncated


@pytest.mark.parametrize(
    ("coding", "library_error"),
    [("gzip", zlib.error), ("deflate", zlib.error), ("br", brotli.error), ("zstd", zstandard.ZstdError)],
)
def test_corrupt_data(coding: str, library_error: type[Exception]) -> None:
    encoded = bytearray(ENCODERS[coding](sample()))
    if coding == "deflate":
        encoded[0:2] = b"\x78\x9c"  # keep a valid zlib header so the zlib path is taken
        encoded[10:20] = b"\xff" * 10
    else:
        encoded[0:6] = b"\xff" * 6
    with pytest.raises(ContentDecodingError, match=f"invalid {coding} data") as info:
        decode_all(decoder_for(coding), [bytes(encoded)])
    assert isinstance(info.value.__cause__, library_error)


def test_corrupt_gzip_checksum() -> None:
    encoded = bytearray(gzip_bytes(sample()))
    encoded[-8] ^= 0xFF  # CRC32 of the member
    with pytest.raises(ContentDecodingError, match="invalid gzip data"):
        decode_all(decoder_for("gzip"), [bytes(encoded)])


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd", "gzip, zstd"])
def test_truncated_data_fails_at_flush(coding: str) -> None:
    data = sample()
    encoded = encode_chain(data, coding)
    decoder = decoder_for(coding)
    partial = decoder.decode(encoded[: len(encoded) // 2])
    assert data.startswith(partial)
    with pytest.raises(ContentDecodingError, match="truncated"):
        decoder.flush()


@pytest.mark.parametrize("coding", ["gzip", "deflate", "zstd", "br"])
def test_missing_last_bytes_fail_at_flush(coding: str) -> None:
    encoded = ENCODERS[coding](sample(10_000))
    decoder = decoder_for(coding)
    decoder.decode(encoded[:-1])
    with pytest.raises(ContentDecodingError, match="truncated"):
        decoder.flush()


def test_deflate_single_byte_body_is_truncated() -> None:
    decoder = decoder_for("deflate")
    assert decoder.decode(b"\x78") == b""
    with pytest.raises(ContentDecodingError, match="truncated deflate"):
        decoder.flush()


# ------------------------------------------------------------------------------------------ coding limits


def test_six_chained_codings_are_refused() -> None:
    with pytest.raises(TooManyContentEncodings, match="6 chained content codings"):
        make_decoder("gzip, gzip, gzip, gzip, gzip, gzip")
    assert make_decoder("gzip, gzip, gzip, gzip, gzip") is not None
    # identity entries are not codings and do not count
    assert make_decoder("gzip, identity, gzip, identity, gzip, gzip, identity, gzip") is not None


def test_coding_count_limit_is_configurable() -> None:
    with pytest.raises(TooManyContentEncodings, match="max_content_encodings"):
        make_decoder("gzip, br, zstd", Limits(max_content_encodings=2))
    # even unknown codings count: the header itself is hostile
    with pytest.raises(TooManyContentEncodings):
        make_decoder("a, b, c, d, e, f")


# ------------------------------------------------------------------------------------------------- bombs


def zlib_bomb(mib: int, wbits: int) -> bytes:
    """A valid zlib (wbits=15) or gzip (wbits=31) stream of ``mib`` MiB of zeros, built in milliseconds.

    After a full flush the compressor forgets its history, so every further MiB compresses to the same bytes;
    only the trailer (checksum, size) has to be computed for the whole.
    """
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    first = c.compress(ZEROS) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(ZEROS) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush()
    if wbits == 31:
        crc = 0
        for _ in range(mib):
            crc = zlib.crc32(ZEROS, crc)
        trailer = crc.to_bytes(4, "little") + (mib * MiB % 2**32).to_bytes(4, "little")
    else:
        adler = 1
        for _ in range(mib):
            adler = zlib.adler32(ZEROS, adler)
        trailer = adler.to_bytes(4, "big")
    return first + block * (mib - 1) + end[: -len(trailer)] + trailer


def br_bomb(mib: int) -> bytes:
    c = brotli.Compressor(quality=1)
    return b"".join([c.process(ZEROS) for _ in range(mib)] + [c.finish()])


def zstd_bomb(mib: int) -> bytes:
    c = zstandard.ZstdCompressor().compressobj()
    return b"".join([c.compress(ZEROS) for _ in range(mib)] + [c.flush()])


BOMBS: dict[str, Callable[[int], bytes]] = {
    "gzip": lambda mib: zlib_bomb(mib, 31),
    "deflate": lambda mib: zlib_bomb(mib, 15),
    "br": br_bomb,
    "zstd": zstd_bomb,
}


def test_bomb_builders_make_valid_streams() -> None:
    # under the 8 MiB floor: highly compressible but legitimate bodies decode in full
    for coding, build in BOMBS.items():
        out = decode_all(decoder_for(coding), list(pieces(build(6), 10_000)))
        assert out == bytes(6 * MiB), coding


def feed_bomb(decoder: ContentDecoder, chunks: Iterator[bytes]) -> int:
    """Feed until the decoder objects, keeping only the size of its output; return tracemalloc's peak."""
    tracemalloc.start()
    try:
        with pytest.raises(DecompressionBombError) as info:
            decode_all(decoder, chunks)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert "Limits(max_decompression_ratio=...)" in message
    assert "200:1" in message
    return peak


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
@pytest.mark.parametrize("piece", [None, 4096])
def test_one_gigabyte_bomb(coding: str, piece: int | None) -> None:
    bomb = BOMBS[coding](1024)
    chunks = iter([bomb]) if piece is None else pieces(bomb, piece)
    peak = feed_bomb(decoder_for(coding), chunks)
    assert peak < 64 * MiB, f"{coding}: peak {peak / MiB:.1f} MiB"


@pytest.mark.parametrize("header", ["gzip, br", "zstd, gzip"])
def test_chained_bomb(header: str) -> None:
    """The inner coding is the bomb; the outer one shrinks it further. Stages are checked one by one."""
    inner, outer = (c.strip() for c in header.split(","))
    bomb = ENCODERS[outer](BOMBS[inner](1024))
    peak = feed_bomb(decoder_for(header), pieces(bomb, 65536))
    assert peak < 64 * MiB


def test_ratio_limit_can_be_raised() -> None:
    bomb = zlib_bomb(20, 31)  # ratio ~1000:1, 20 MiB: over the floor
    with pytest.raises(DecompressionBombError):
        decode_all(decoder_for("gzip"), [bomb])
    limits = Limits(max_decompression_ratio=2000)
    assert decode_all(decoder_for("gzip", limits), [bomb]) == bytes(20 * MiB)
    # and the floor too
    assert decode_all(decoder_for("gzip", Limits(decompression_floor=32 * MiB)), [bomb]) == bytes(20 * MiB)


def test_legitimate_large_body_over_the_floor() -> None:
    data = sample(12 * MiB)  # ratio ~3:1, far below the limit
    for coding in ("gzip", "zstd", "br"):
        encoded = ENCODERS[coding](data)
        assert decode_all(decoder_for(coding), list(pieces(encoded, 65536))) == data, coding


# ------------------------------------------------------------------------- bounded steps, whatever the ratio


STEP = 256 * 1024  # brisk._response.decoders._STEP


def prefixed_zeros(coding: str, prefix: bytes, zero_mib: int) -> bytes:
    """``prefix`` then ``zero_mib`` MiB of zeros as one stream: a body whose ratio overall is modest while
    its tail expands about a thousandfold."""
    if coding in ("gzip", "deflate"):
        zc = zlib.compressobj(6, zlib.DEFLATED, 31 if coding == "gzip" else 15)
        return b"".join([zc.compress(prefix), *(zc.compress(ZEROS) for _ in range(zero_mib)), zc.flush()])
    if coding == "br":
        bc = brotli.Compressor(quality=1)
        return b"".join([bc.process(prefix), *(bc.process(ZEROS) for _ in range(zero_mib)), bc.finish()])
    sc = zstandard.ZstdCompressor(level=3).compressobj()
    return b"".join([sc.compress(prefix), *(sc.compress(ZEROS) for _ in range(zero_mib)), sc.flush()])


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_one_network_read_is_decoded_a_bounded_step_at_a_time(coding: str) -> None:
    """The whole body handed over at once (as one large network read would be) comes out in steps of about
    256 KiB, decoded only as they are taken: memory holds one step, not what the read expands to."""
    prefix = random.Random(4).randbytes(MiB)
    encoded = prefixed_zeros(coding, prefix, 48)
    decoder = decoder_for(coding)
    total = largest = 0
    tracemalloc.start()
    try:
        for piece in decoder.iter_decode(encoded):
            if total == 0:
                assert piece == prefix[: len(piece)]
            total += len(piece)
            largest = max(largest, len(piece))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoder.flush() == b""
    assert total == MiB + 48 * MiB
    # brotli's output_buffer_limit stops growing its buffer once past the limit: up to twice it
    assert largest <= (2 * STEP if coding == "br" else STEP), largest
    assert peak < 4 * MiB, f"{coding}: peak {peak / MiB:.1f} MiB"


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_the_ratio_rule_is_over_the_whole_body(coding: str) -> None:
    """A random prefix then zeros is a legitimate body as a whole (about 50:1), read in full, even though its
    tail alone expands far beyond 200:1; the zeros alone are a bomb. Streamed, neither costs more memory
    than a step (above)."""
    legit = prefixed_zeros(coding, random.Random(5).randbytes(MiB), 48)
    assert len(decoder_for(coding).decode(legit) + decoder_for(coding).flush()) == 49 * MiB
    with pytest.raises(DecompressionBombError):
        decoder_for(coding).decode(prefixed_zeros(coding, b"", 48))


def random_zstd_stream(rng: random.Random) -> tuple[bytes, bytes]:
    """One to four frames of every kind the framing has: with and without content size and checksum, from
    one-shot and streaming compressors, empty, raw, RLE and compressed blocks, and skippable frames; and
    what they decode to."""
    frames, decoded = [], []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.15:
            size = rng.randint(0, 20)
            magic = 0x184D2A50 + rng.randint(0, 15)
            frames.append(magic.to_bytes(4, "little") + size.to_bytes(4, "little") + rng.randbytes(size))
            continue
        size = rng.choice([0, 1, 100, 5000, 200_000, 1_000_000])
        kind = rng.randrange(3)
        if kind == 0:
            data = bytes(size)  # RLE blocks
        elif kind == 1:
            data = rng.randbytes(size)  # raw blocks
        else:  # compressed blocks: short random runs, repeated with variations
            text = bytes(rng.choices(b"ab \n", k=min(size, 3000)))
            data = b"".join(text[rng.randrange(64) :] for _ in range(size // 2000 + 1))[:size]
        compressor = zstandard.ZstdCompressor(
            level=rng.choice([-5, 1, 3, 9]),
            write_checksum=rng.random() < 0.5,
            write_content_size=rng.random() < 0.5,
        )
        if rng.random() < 0.5:
            frames.append(compressor.compress(data))
        else:
            streaming = compressor.compressobj()
            frames.append(streaming.compress(data) + streaming.flush())
        decoded.append(data)
    return b"".join(frames), b"".join(decoded)


def test_zstd_framing_agrees_with_the_decoder() -> None:
    """brisk follows zstd's framing to feed the decoder a couple of blocks at a time. On random streams cut
    at random places, the frame ends it finds are exactly where the decoder ends its frames, and no call
    gives more than two blocks' worth of output."""
    from brisk._response.decoders import _MAGIC, _ZSTD_BLOCKS_PER_STEP, _ZstdBlocks

    rng = random.Random(9659)
    for trial in range(150):
        stream, _ = random_zstd_stream(rng)
        blocks, dctx = _ZstdBlocks(), zstandard.ZstdDecompressor()
        obj = dctx.decompressobj()
        read = rng.choice([1, 7, 4096] if len(stream) < 50_000 else [997, 4096, 65536, len(stream)])
        for start in range(0, len(stream), read):
            view = memoryview(stream[start : start + read])
            pos = 0
            while pos < len(view):
                end = blocks.cut(view, pos, _ZSTD_BLOCKS_PER_STEP)
                assert end > pos
                out = obj.decompress(view[pos:end])
                assert len(out) <= STEP, (trial, len(out))
                at_frame_start = blocks._state == _MAGIC and blocks._need == 4 and not blocks._field
                assert obj.eof == at_frame_start, trial
                if obj.eof:
                    assert not obj.unused_data, trial
                    obj = dctx.decompressobj()
                pos = end


def test_zstd_random_streams_decode_in_bounded_pieces() -> None:
    rng = random.Random(8878)
    for _ in range(40):
        stream, expected = random_zstd_stream(rng)
        decoder = decoder_for("zstd", Limits(max_decompression_ratio=10**9))
        out = []
        for piece in pieces(stream, rng.choice([1, 7] if len(stream) < 50_000 else [997, 1 << 20])):
            for step in decoder.iter_decode(piece):
                assert len(step) <= STEP
                out.append(step)
        assert decoder.flush() == b""
        assert b"".join(out) == expected


def test_unknown_zstd_magic_is_refused() -> None:
    with pytest.raises(ContentDecodingError, match="invalid zstd data"):
        decode_all(decoder_for("zstd"), [b"\x27\xb5\x2f\xfd" + bytes(1000)])


# ------------------------------------------------------------------------------- the pipeline of iter_content


@pytest.mark.parametrize("coding", [None, "gzip", "zstd"])
def test_pipeline_pieces_are_exact_whatever_the_splits(coding: str | None) -> None:
    from brisk._response.content import BodyPipeline

    rng = random.Random(1)
    data = sample(400_000)
    encoded = data if coding is None else ENCODERS[coding](data)
    for _ in range(30):
        size = rng.choice([1, 3, 1000, 4096, 65536, 300_000, 1 << 20])
        pipeline = BodyPipeline(None if coding is None else decoder_for(coding), size)
        cuts = sorted(rng.sample(range(1, len(encoded)), rng.randint(0, 20)))
        out: list[bytes] = []
        for a, b in zip([0, *cuts], [*cuts, len(encoded)], strict=True):
            out += pipeline.push(encoded[a:b])
        out += pipeline.finish()
        assert b"".join(out) == data
        assert all(len(piece) == size for piece in out[:-1]), size
        assert 0 < len(out[-1]) <= size


def test_pipeline_text_across_pieces() -> None:
    from brisk._response.content import BodyPipeline

    text = "naïve café — 日本語 " * 5000
    encoded = gzip_bytes(text.encode("utf-8"))
    for size in (1, 7, 1000, None):
        pipeline = BodyPipeline(decoder_for("gzip"), size, "utf-8")
        out: list[str] = []
        for piece in pieces(encoded, 333):
            out += pipeline.push(piece)
        out += pipeline.finish()
        assert "".join(out) == text
        assert all(out)


def test_pipeline_takes_a_step_at_a_time() -> None:
    """iter_content(1024) over one push of a body whose zeros expand a thousandfold: the pieces come from
    one decoded step at a time, so memory holds about a step."""
    from brisk._response.content import BodyPipeline

    encoded = prefixed_zeros("gzip", random.Random(6).randbytes(MiB), 48)
    pipeline = BodyPipeline(decoder_for("gzip"), 1024)
    total = 0
    tracemalloc.start()
    try:
        for piece in pipeline.push(encoded):
            total += len(piece)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    total += sum(len(piece) for piece in pipeline.finish())
    assert total == 49 * MiB
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"
