"""brisk's HPACK (RFC 7541) against an independent implementation, the ``hpack`` package.

What one side encodes the other must decode to the same header list: the server side (``hpack.Encoder``,
with Huffman coding, incremental indexing and table size changes) into brisk's ``Decoder``, and brisk's
``Encoder`` into ``hpack.Decoder``. Malformed blocks and the size limit have their own cases.
"""

from __future__ import annotations

import hpack
import pytest
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hypothesis import given, settings
from hypothesis import strategies as st

from brisk._protocol import hpack as brisk_hpack
from brisk._protocol.hpack import Decoder, Encoder, HeaderListTooLarge, HPACKError, huffman_decode

HUFFMAN = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)

names = st.one_of(
    st.sampled_from([b"server", b"date", b"content-type", b"content-length", b"set-cookie", b"etag"]),
    st.binary(min_size=1, max_size=20).map(lambda b: b"x-" + bytes(97 + c % 26 for c in b)),
)
values = st.binary(max_size=80)
header_lists = st.lists(st.tuples(names, values), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_huffman_decodes_what_hpack_encodes(data: bytes) -> None:
    brisk_hpack._huffman_cache.clear()
    assert huffman_decode(HUFFMAN.encode(data)) == data


@pytest.mark.parametrize(
    "coded",
    [
        b"\xff\xff\xff\xff",  # 32 one-bits: EOS (30 bits) inside the string
        b"\x00",  # "0" is 00000 then 000 padding: padding must be ones
        HUFFMAN.encode(b"a") + b"\xff",  # a whole byte of padding (more than 7 bits)
    ],
    ids=["eos", "zero-padding", "long-padding"],
)
def test_huffman_rejects_invalid_strings(coded: bytes) -> None:
    brisk_hpack._huffman_cache.clear()
    with pytest.raises(HPACKError):
        huffman_decode(coded)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(header_lists, st.booleans()), min_size=1, max_size=8),
    st.sampled_from([4096, 0, 64, 300]),
)
def test_decoder_follows_a_server_encoder(
    blocks: list[tuple[list[tuple[bytes, bytes]], bool]], size: int
) -> None:
    """Incremental indexing, evictions and a table size update (sent at the start of the next block)."""
    server = hpack.Encoder()
    client = Decoder(1 << 20)
    for number, (fields, huffman) in enumerate(blocks):
        if number == 1:
            server.header_table_size = size
        assert client.decode(server.encode(fields, huffman=huffman)) == fields


@settings(max_examples=200, deadline=None)
@given(header_lists)
def test_encoder_output_decodes_with_hpack(fields: list[tuple[bytes, bytes]]) -> None:
    request = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"), *fields]
    encoder = Encoder()
    decoder = hpack.Decoder()
    for _ in range(2):  # the second time from the cache
        assert decoder.decode(encoder.encode(request), raw=True) == request


def test_sensitive_fields_are_never_indexed() -> None:
    fields = [(b"authorization", b"Basic c2VjcmV0"), (b"cookie", b"a=1"), (b"accept", b"*/*")]
    decoded = hpack.Decoder().decode(Encoder().encode(fields), raw=True)
    assert [isinstance(field, hpack.NeverIndexedHeaderTuple) for field in decoded] == [True, True, False]


def test_decoder_stops_at_the_header_list_limit() -> None:
    """An "HPACK bomb": a 4000-byte table entry, then a block that references it 1000 times (1 byte each)."""
    entry = hpack.Encoder().encode([(b"x-big", b"v" * 4000)], huffman=False)
    decoder = Decoder(65536)
    decoder.decode(entry)
    bomb = bytes([0x80 | 62]) * 1000  # dynamic index 62: the newest entry
    with pytest.raises(HeaderListTooLarge, match="65536"):
        decoder.decode(bomb)
    assert len(decoder.decode(bomb[:10])) == 10  # under the limit it is an ordinary list


@pytest.mark.parametrize(
    "block",
    [
        b"\x80",  # index 0
        b"\xc0",  # dynamic index 64 of an empty table
        b"\xff",  # indexed field with a truncated integer
        b"\xff\xff\xff\xff\xff\xff\x01",  # an integer far beyond any table
        b"\x00\x05ab",  # literal name shorter than its length
        b"\x3f\xe2\x1f",  # table size update to 4096 + 1
        b"\x82\x20",  # table size update after a field
    ],
    ids=[
        "index-0",
        "past-table",
        "truncated-int",
        "huge-int",
        "truncated-string",
        "size-over-4096",
        "late-size-update",
    ],
)
def test_malformed_blocks_are_refused(block: bytes) -> None:
    with pytest.raises(HPACKError):
        Decoder(65536).decode(block)
