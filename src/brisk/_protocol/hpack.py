"""HPACK (RFC 7541), the header compression of HTTP/2, for a client.

``Decoder`` reads the server's header blocks: the static table, the dynamic table (whose size the server may
lower, never above the 4096 bytes we allow), literals, and Huffman-coded strings. It stops as soon as the
decoded header list passes its size limit, so a block that references one large table entry over and over
(an "HPACK bomb") costs no more than the limit. Any malformed block raises ``HPACKError``; the caller ends the
connection, since the decoder's table may no longer match the server's.

``Encoder`` writes our request headers without ever adding to the server's dynamic table: a field is either an
exact static-table match (one byte) or a literal, with the name taken from the static table when it is
there. Without state, the same field always encodes to the same bytes, so encodings are cached. Sensitive
fields (Authorization, Proxy-Authorization, Cookie) use the "never indexed" form, which tells intermediaries
not to index them either (RFC 7541 section 7.1.3).

Huffman decoding walks a table built once from the code: for each node of the code tree and each 4-bit
nibble, the node reached and the symbol completed on the way (codes are at least 5 bits long, so a nibble
completes at most one). Decoded strings are cached, since a server repeats most of its header values.
"""

from __future__ import annotations

from collections import deque

__all__ = ["STATIC_TABLE", "Decoder", "Encoder", "HPACKError", "HeaderListTooLarge", "huffman_decode"]


class HPACKError(ValueError):
    """A header block that is not valid HPACK."""


class HeaderListTooLarge(HPACKError):
    """The decoded header list is larger than the decoder's limit."""


# fmt: off
# RFC 7541 Appendix B: the Huffman code of each symbol (0-255, then 256 = EOS) and its length in bits.
_HUFFMAN_CODES = (
    0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7, 0xfffffe8, 0xffffea,
    0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec, 0xfffffed, 0xfffffee, 0xfffffef,
    0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3, 0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7,
    0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb, 0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa, 0x3fa,
    0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18, 0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc, 0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0xfc, 0x73, 0xfd,
    0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22, 0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26, 0x27, 0x6, 0x74,
    0x75, 0x28, 0x29, 0x2a, 0x7, 0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7ffe,
    0x7fc, 0x3ffd, 0x1ffd, 0xffffffc, 0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5,
    0x7fffd9, 0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf, 0xffffec,
    0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3, 0x7fffe4, 0x1fffdc, 0x3fffd8,
    0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef, 0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc,
    0x7fffe8, 0x7fffe9, 0x1fffde, 0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb,
    0x7fffec, 0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef, 0xfffea,
    0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1, 0x3ffffe0, 0x3ffffe1, 0xfffeb,
    0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec, 0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf,
    0x3ffffe5, 0xfffff1, 0x1ffffed, 0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7,
    0x7ffffe2, 0xfffff2, 0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4,
    0x7ffffe5, 0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3, 0x3fffea,
    0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4, 0x3ffffeb, 0x7ffffe6,
    0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea, 0x7ffffeb, 0xffffffe, 0x7ffffec,
    0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee, 0x3fffffff,
)
_HUFFMAN_LENGTHS = bytes((
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6,
    6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8,
    7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7,
    7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23,
    24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22,
    23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25,
    26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24,
    20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27,
    27, 27, 27, 26, 30,
))

# RFC 7541 Appendix A: the static table (index 1-61).
STATIC_TABLE: tuple[tuple[bytes, bytes], ...] = (
    (b':authority', b''),
    (b':method', b'GET'),
    (b':method', b'POST'),
    (b':path', b'/'),
    (b':path', b'/index.html'),
    (b':scheme', b'http'),
    (b':scheme', b'https'),
    (b':status', b'200'),
    (b':status', b'204'),
    (b':status', b'206'),
    (b':status', b'304'),
    (b':status', b'400'),
    (b':status', b'404'),
    (b':status', b'500'),
    (b'accept-charset', b''),
    (b'accept-encoding', b'gzip, deflate'),
    (b'accept-language', b''),
    (b'accept-ranges', b''),
    (b'accept', b''),
    (b'access-control-allow-origin', b''),
    (b'age', b''),
    (b'allow', b''),
    (b'authorization', b''),
    (b'cache-control', b''),
    (b'content-disposition', b''),
    (b'content-encoding', b''),
    (b'content-language', b''),
    (b'content-length', b''),
    (b'content-location', b''),
    (b'content-range', b''),
    (b'content-type', b''),
    (b'cookie', b''),
    (b'date', b''),
    (b'etag', b''),
    (b'expect', b''),
    (b'expires', b''),
    (b'from', b''),
    (b'host', b''),
    (b'if-match', b''),
    (b'if-modified-since', b''),
    (b'if-none-match', b''),
    (b'if-range', b''),
    (b'if-unmodified-since', b''),
    (b'last-modified', b''),
    (b'link', b''),
    (b'location', b''),
    (b'max-forwards', b''),
    (b'proxy-authenticate', b''),
    (b'proxy-authorization', b''),
    (b'range', b''),
    (b'referer', b''),
    (b'refresh', b''),
    (b'retry-after', b''),
    (b'server', b''),
    (b'set-cookie', b''),
    (b'strict-transport-security', b''),
    (b'transfer-encoding', b''),
    (b'user-agent', b''),
    (b'vary', b''),
    (b'via', b''),
    (b'www-authenticate', b''),
)
# fmt: on


_STATIC_INDEX = {field: index for index, field in enumerate(STATIC_TABLE, 1)}
_STATIC_NAME_INDEX: dict[bytes, int] = {}
for _index, (_name, _) in enumerate(STATIC_TABLE, 1):
    _STATIC_NAME_INDEX.setdefault(_name, _index)
_STATIC_COUNT = len(STATIC_TABLE)
_ENTRY_OVERHEAD = 32  # RFC 7541 section 4.1: an entry's size is name + value + 32
_MAX_TABLE_SIZE = 4096  # SETTINGS_HEADER_TABLE_SIZE: we never announce another value
_CACHE_LIMIT = 2048  # strings kept by each cache before it starts over


# -- Huffman ------------------------------------------------------------------------------------------------

_huffman_table: list[
    int
] = []  # (node * 16 + nibble) -> (next node << 9) | (symbol + 1, or 0), or -1: invalid
_huffman_accepts: list[bool] = []  # node -> may the string end here (padding: at most 7 one-bits)
_huffman_cache: dict[bytes, bytes] = {}


def _build_huffman() -> None:
    children: list[list[int]] = [[0, 0]]  # internal nodes; a child < 0 is the leaf of symbol -child - 1
    for symbol, (code, length) in enumerate(zip(_HUFFMAN_CODES, _HUFFMAN_LENGTHS, strict=True)):
        node = 0
        for shift in range(length - 1, -1, -1):
            bit = (code >> shift) & 1
            if shift == 0:
                children[node][bit] = -symbol - 1
            else:
                if not children[node][bit]:
                    children.append([0, 0])
                    children[node][bit] = len(children) - 1
                node = children[node][bit]
    accepts = [False] * len(children)
    node, depth = 0, 0
    while depth <= 7 and node >= 0:  # the all-ones path: padding is a prefix of EOS (30 one-bits)
        accepts[node] = True
        node, depth = children[node][1], depth + 1
    table = []
    for start in range(len(children)):
        for nibble in range(16):
            node, emitted = start, 0
            for shift in (3, 2, 1, 0):
                child = children[node][(nibble >> shift) & 1]
                if child < 0:
                    if child == -257:  # EOS inside a string is an error (RFC 7541 section 5.2)
                        emitted = -1
                        break
                    emitted, node = -child, 0
                else:
                    node = child
            table.append(-1 if emitted < 0 else (node << 9) | emitted)
    _huffman_accepts[:] = accepts
    _huffman_table[:] = table


def huffman_decode(data: bytes) -> bytes:
    """Decode a Huffman-coded HPACK string; HPACKError if it is not valid (bad padding, EOS inside)."""
    cached = _huffman_cache.get(data)
    if cached is not None:
        return cached
    if not _huffman_table:
        _build_huffman()
    table = _huffman_table
    out = bytearray()
    node = 0
    for byte in data:
        entry = table[(node << 4) | (byte >> 4)]
        if entry < 0:
            raise HPACKError("Huffman-coded string contains the EOS symbol")
        if entry & 0x1FF:
            out.append((entry & 0x1FF) - 1)
        entry = table[((entry >> 9) << 4) | (byte & 0xF)]
        if entry < 0:
            raise HPACKError("Huffman-coded string contains the EOS symbol")
        if entry & 0x1FF:
            out.append((entry & 0x1FF) - 1)
        node = entry >> 9
    if not _huffman_accepts[node]:
        raise HPACKError("Huffman-coded string has invalid padding")
    result = bytes(out)
    if len(data) <= 128:
        if len(_huffman_cache) >= _CACHE_LIMIT:
            _huffman_cache.clear()
        _huffman_cache[data] = result
    return result


# -- decoding -----------------------------------------------------------------------------------------------


def _integer(data: bytes, i: int, prefix_bits: int) -> tuple[int, int]:
    """The integer starting at ``data[i]`` with an N-bit prefix (RFC 7541 section 5.1), and where it ends."""
    mask = (1 << prefix_bits) - 1
    value = data[i] & mask
    i += 1
    if value < mask:
        return value, i
    shift = 0
    size = len(data)
    while i < size:
        byte = data[i]
        i += 1
        value += (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
        if shift > 28:  # nothing legitimate needs more than 2**28: refuse before the number grows
            raise HPACKError("integer too large")
    raise HPACKError("truncated integer")


def _string(data: bytes, i: int) -> tuple[bytes, int]:
    if i >= len(data):
        raise HPACKError("truncated string")
    huffman = data[i] & 0x80
    length, i = _integer(data, i, 7)
    end = i + length
    if end > len(data):
        raise HPACKError("truncated string")
    raw = data[i:end]
    return (huffman_decode(raw) if huffman else raw), end


class Decoder:
    """The server-to-client half of an HTTP/2 connection's HPACK state."""

    __slots__ = ("_table", "_table_size", "capacity", "max_header_list_size")

    def __init__(self, max_header_list_size: int) -> None:
        self._table: deque[tuple[bytes, bytes]] = deque()  # newest first: dynamic index 62 is [0]
        self._table_size = 0
        self.capacity = _MAX_TABLE_SIZE
        self.max_header_list_size = max_header_list_size

    def _field(self, index: int) -> tuple[bytes, bytes]:
        if 0 < index <= _STATIC_COUNT:
            return STATIC_TABLE[index - 1]
        position = index - _STATIC_COUNT - 1
        if index == 0 or position >= len(self._table):
            raise HPACKError(f"header table index {index} does not exist")
        return self._table[position]

    def _add(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value) + _ENTRY_OVERHEAD
        self._evict(self.capacity - size)
        if size <= self.capacity:  # an entry larger than the table empties it and is not added
            self._table.appendleft((name, value))
            self._table_size += size

    def _evict(self, room: int) -> None:
        """Drop the oldest entries until the table holds at most ``room`` bytes."""
        table = self._table
        while table and self._table_size > room:
            old_name, old_value = table.pop()
            self._table_size -= len(old_name) + len(old_value) + _ENTRY_OVERHEAD

    def decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        """The header list of one complete header block, in order."""
        fields: list[tuple[bytes, bytes]] = []
        total = 0
        limit = self.max_header_list_size
        i = 0
        size = len(block)
        while i < size:
            byte = block[i]
            if byte & 0x80:  # indexed field
                index, i = _integer(block, i, 7)
                name, value = self._field(index)
            elif byte & 0xE0 == 0x20:  # dynamic table size update (001): only before the first field
                if fields:
                    raise HPACKError("table size update after a header field")
                capacity, i = _integer(block, i, 5)
                if capacity > _MAX_TABLE_SIZE:
                    raise HPACKError(f"table size update to {capacity} exceeds {_MAX_TABLE_SIZE}")
                self.capacity = capacity
                self._evict(capacity)
                continue
            else:  # a literal: added to the dynamic table (01), or not (0000), or never indexed (0001)
                indexed = byte & 0x40
                index, i = _integer(block, i, 6 if indexed else 4)
                if index:
                    name = self._field(index)[0]
                else:
                    name, i = _string(block, i)
                value, i = _string(block, i)
                if indexed:
                    self._add(name, value)
            total += len(name) + len(value) + _ENTRY_OVERHEAD
            if total > limit:
                raise HeaderListTooLarge(f"the header list is larger than {limit} bytes")
            fields.append((name, value))
        return fields


# -- encoding -----------------------------------------------------------------------------------------------


def _encode_integer(value: int, prefix_bits: int, flags: int) -> bytes:
    mask = (1 << prefix_bits) - 1
    if value < mask:
        return bytes((flags | value,))
    out = bytearray((flags | mask,))
    value -= mask
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _encode_string(data: bytes) -> bytes:
    return _encode_integer(len(data), 7, 0) + data  # raw, not Huffman-coded


_SENSITIVE = frozenset({b"authorization", b"proxy-authorization", b"cookie"})


class Encoder:
    """Encodes request header lists without touching the server's dynamic table (see the module's text)."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[tuple[bytes, bytes], bytes] = {}

    def encode(self, fields: list[tuple[bytes, bytes]]) -> bytes:
        """One header block for ``fields`` (lower-case names, validated values)."""
        cache = self._cache
        pieces = []
        for field in fields:
            encoded = cache.get(field)
            if encoded is None:
                encoded = self._encode_field(*field)
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[field] = encoded
            pieces.append(encoded)
        return b"".join(pieces)

    @staticmethod
    def _encode_field(name: bytes, value: bytes) -> bytes:
        sensitive = name in _SENSITIVE
        index = _STATIC_INDEX.get((name, value))
        if index is not None and not sensitive:
            return _encode_integer(index, 7, 0x80)
        flags = 0x10 if sensitive else 0x00
        name_index = _STATIC_NAME_INDEX.get(name)
        if name_index is not None:
            return _encode_integer(name_index, 4, flags) + _encode_string(value)
        return bytes((flags,)) + _encode_string(name) + _encode_string(value)
