"""Write the seed corpora (``fuzz/corpus/<target>/``): a few realistic inputs per target, in its input layout.

    python fuzz/make_seeds.py

The files are committed; this script documents how each was made and rewrites them all (it removes nothing).
Seeds only give libFuzzer a start: valid messages whose mutations reach deep code paths sooner.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import brotli
import hpack
import zstandard

CORPUS = Path(__file__).resolve().parent / "corpus"


def field(data: bytes) -> bytes:
    """A ``Reader.raw`` field: length byte, bytes."""
    assert len(data) < 256
    return bytes((len(data),)) + data


def latin1(text: str) -> bytes:
    """A ``Reader.text`` field holding latin-1 text."""
    return b"\x00" + field(text.encode("latin-1"))


# -- http11: control byte, cut byte, payload ---------------------------------------------------------------


def http11() -> list[bytes]:
    get, head, connect, small, request = 0x00, 0x02, 0x04, 0x08, 0x01
    responses = [
        (get, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"),
        (
            get,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        ),
        (
            get,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            b"HTTP/1.1 204 No\r\n\r\n",
        ),
        (get, b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close"),
        (head, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n"),
        (connect, b"HTTP/1.1 200 Connection established\r\n\r\n"),
        (
            get | small,
            b"HTTP/1.1 404 Not Found\r\nSet-Cookie: a=b\r\nVary: x\r\nContent-Length: 2\r\n\r\nno\r\n",
        ),
        (get, b"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n"),
    ]
    seeds = [bytes((control, 37)) + payload for control, payload in responses]

    def text(value: str) -> bytes:  # fuzz_http11.field with an even choice byte: fuzzed text
        return b"\x00" + latin1(value)

    # Request mode: method, target, header count, then per header a name, a flag (odd: bytes) and a value.
    # An odd choice byte picks a word of fuzz_http11.WORDS: 0x03 "POST", 0x05 "/".
    seeds.append(
        bytes((request, 0))
        + text("GET")
        + text("/search?q=1")
        + b"\x02"
        + text("Accept")
        + b"\x00"
        + text("*/*")
        + text("X-Token")
        + b"\x01"
        + field(b"abc\x80def")
    )
    seeds.append(bytes((request, 0)) + b"\x03\x05\x01" + text("Host\r\nX: y") + b"\x00" + text("v"))
    return seeds


# -- url: operation byte, then Reader fields ----------------------------------------------------------------


def url() -> list[bytes]:
    def text(value: str) -> bytes:
        return b"\x00" + b"\x00" + field(value.encode("utf-8"))  # no prefix, then UTF-8 text

    def utf8(value: str) -> bytes:
        return b"\x00" + b"\x01" + field(value.encode("utf-8"))

    parse, join, params, copy = b"\x00", b"\x01", b"\x02", b"\x03"
    base = b"\x82"  # bit 7 and 130 % 5 == 0: fuzz_url.BASES[0], http://user:pw@a.example:8080/b/c/d;p?q#f
    return [
        parse + text("https://user:p%40ss@Example.COM:8443/a/./b/../c?x=1&y=%zz#frag"),
        parse + utf8("http://bücher.example/päth?q=ü"),
        parse + text("http://[fe80::1%25eth0]:80/"),
        parse + text("localhost:8080/x"),
        join + base + text("../../g?y#s"),
        join + base + text("//other.example/p"),
        params + base + b"\x02" + b"\x02" + text("k") + b"\x04" + text("v w") + text("n") + b"\x00",
        params + base + b"\x01" + field(b"a=1&b=\xff"),
        copy + base + b"\x02" + text("bob") + b"\x01" + b"\x02" + text("h.example") + b"\x00" * 5,
    ]


# -- h2: control byte, cut byte, payload --------------------------------------------------------------------


def frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream_id.to_bytes(4, "big") + payload


def record(kind: int, flags: int, selector: int, payload: bytes) -> bytes:
    """A record of the framed layout (fuzz_h2.frames): type, flags, stream selector, length, payload."""
    return bytes((kind, flags, selector)) + len(payload).to_bytes(2, "big") + payload


DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def h2() -> list[bytes]:
    def block(headers: list[tuple[bytes, bytes]]) -> bytes:
        # A new encoder each time: literals only (no references into a dynamic table the connection under
        # test never saw), without Huffman coding, so mutations change names and values byte by byte.
        return hpack.Encoder().encode(headers, huffman=False)

    response = block([(b":status", b"200"), (b"content-type", b"text/plain"), (b"content-length", b"5")])
    early = block([(b":status", b"103"), (b"link", b"</a>")])
    final = block([(b":status", b"404"), (b"server", b"x")])
    trailers = block([(b"grpc-status", b"0")])
    raw_exchange = (
        frame(HEADERS, END_HEADERS, 1, response)
        + frame(DATA, 0, 1, b"hel")
        + frame(DATA, END_STREAM, 1, b"lo")
        + frame(PING, 0, 0, b"12345678")
    )
    framed_exchange = (
        record(HEADERS, END_HEADERS, 1, early)
        + record(HEADERS, 0, 1, final[:3])
        + record(CONTINUATION, END_HEADERS, 1, final[3:])
        + record(DATA, 0, 1, b"body")
        + record(WINDOW, 0, 0, (1000).to_bytes(4, "big"))
        + record(HEADERS, END_HEADERS | END_STREAM, 1, trailers)
    )
    two_streams = (
        record(HEADERS, END_HEADERS, 2, block([(b":status", b"200")]))
        + record(RST, 0, 1, (7).to_bytes(4, "big"))  # REFUSED_STREAM on stream 1
        + record(DATA, END_STREAM, 2, b"x")
        + record(GOAWAY, 0, 0, (3).to_bytes(4, "big") + (0).to_bytes(4, "big"))
    )
    settings = frame(SETTINGS, 0, 0, (3).to_bytes(2, "big") + (1).to_bytes(4, "big"))  # MAX_CONCURRENT 1
    raw, framed, three, no_settings, body_pending, release = 0x00, 0x01, 0x06, 0x08, 0x10, 0x20
    return [
        bytes((raw, 5)) + raw_exchange,
        bytes((framed, 9)) + framed_exchange,
        bytes((framed | three | release, 3)) + two_streams,
        bytes((raw | no_settings | body_pending, 1)) + settings + frame(SETTINGS, ACK, 0, b"") + raw_exchange,
        bytes((raw | no_settings, 0)) + b"HTTP/1.1 400 Bad Request\r\n\r\n",
    ]


# -- decoders: coding count, codings, mode, repeat, cut, payload -------------------------------------------


def decoders() -> list[bytes]:
    gz, deflate, br, zstd, identity, x_gzip = 0, 1, 2, 3, 4, 5
    received, plain, truncate, small = 0x00, 0x01, 0x02, 0x08
    text = b"The quick brown fox jumps over the lazy dog. " * 3

    def seed(codings: list[int], mode: int, repeat: int, cut: int, payload: bytes) -> bytes:
        return bytes((len(codings), *codings, mode, repeat, cut)) + payload

    return [
        seed([gz], received, 0, 7, gzip.compress(text, mtime=0)),
        seed([deflate], received, 0, 3, zlib.compress(text)),
        seed([br], received, 0, 11, brotli.compress(text)),
        seed([zstd], received, 0, 5, zstandard.ZstdCompressor().compress(text)),
        seed([gz, br], plain, 2, 9, text),
        seed([x_gzip, identity, zstd], plain | truncate, 0, 4, text),
        seed([deflate], plain | small | 0x10, 15, 2, b"A"),  # a bomb under small limits, raw deflate
        seed([gz, gz, gz, gz, gz, gz], plain, 0, 1, b"six"),
    ]


# -- cookies: Reader fields ---------------------------------------------------------------------------------


def cookies() -> list[bytes]:
    http, https = 0, 1
    example, www, co_uk_host, localhost, ip = 0, 1, 2, 3, 4
    root, deep = 0, 1

    def line(text: str) -> bytes:
        return b"\x00" + latin1(text)

    def response(scheme: int, host: int, path: int, lines: list[str]) -> bytes:
        return bytes((scheme, host, path, len(lines))) + b"".join(line(t) for t in lines)

    return [
        b"\x00"
        + response(
            https,
            www,
            deep,
            [
                "sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax",
                "pref=1; Domain=example.com; Max-Age=3600",
                "__Host-id=2; Secure; Path=/",
            ],
        ),
        b"\x01"
        + response(http, example, root, ["a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "c=d; Domain=.com"])
        + response(https, example, root, ["a=secure; Secure", "e=f; Path=/a"]),
        b"\x00" + response(http, co_uk_host, root, ["x=1; Domain=co.uk", "y=2; Domain=example.co.uk"]),
        b"\x00" + response(https, ip, root, ["ip=1; Domain=127.0.0.1", "n=2; Max-Age=0"]),
        b"\x00" + response(http, localhost, deep, ['q="quoted value"', "=novalue", "k"]),
    ]


# -- sse: control byte, cut byte, stream --------------------------------------------------------------------


def sse() -> list[bytes]:
    events, lines, text_mode, delimited = 0x00, 0x01, 0x02, 0x04
    return [
        bytes((events, 5)) + b'event: update\nid: 42\nretry: 1500\ndata: {"a": 1}\n\n',
        bytes((events, 9)) + b"\xef\xbb\xbfdata: first\r\ndata: second\r\n\r\n: comment\rdata:x\r\r",
        bytes((events, 3)) + b"id: 1\ndata\n\nevent: e\ndata: \xff\xfe\n\nid\nretry: x\n\n",
        bytes((lines, 7)) + b"one\r\ntwo\rthree\nfour",
        bytes((lines | text_mode, 4)) + b"a\x0bb\x1cc\x85d\r\n",
        bytes((lines | delimited, 2)) + b";a;b;;c;",
    ]


# -- framing: control byte, cut byte, then a raw stream or the fields _framing_oracle.build reads -----------


def framing() -> list[bytes]:
    get, head, raw = 0x00, 0x01, 0x02

    def interim(count: int) -> int:
        return count << 2

    def chunk(data: bytes, shape: int = 0, *extra: bytes) -> bytes:
        return field(data) + bytes((shape,)) + b"".join(field(e) for e in extra)

    # A header field: name index, separator index, value index, shape (bit 0: raw prefix, bit 1: raw suffix,
    # bit 2: raw value, bits 3-5: line end), then the raw fields the shape asks for.
    te, cl, connection, pad, content_type = 1, 0, 2, 3, 9
    chunked, five, close, twelve = 0, 1, 2, 9

    def header(name: int, value: int, shape: int = 0, *extra: bytes) -> bytes:
        return bytes((name, 0, value, shape)) + b"".join(field(e) for e in extra)

    ok_200 = b"\x00\x00\x00"  # HTTP/1.1, 200, " OK"
    return [
        bytes((get | raw, 3)) + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n\r\n",
        bytes((get | raw, 11))
        + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n\r\nstray",
        bytes((head | raw, 0)) + b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n",
        bytes((get | raw, 5))
        + b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        + b"HTTP/1.1 204 No Content\r\n\r\nbody on a 204",
        bytes((get | raw, 2)) + b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close",
        # Built: chunked with an extension and a trailer, then a second response.
        bytes((get, 9))
        + ok_200
        + b"\x02"
        + header(te, chunked)
        + header(content_type, 0, 4, b"text/plain")
        + b"\x01\x02"
        + chunk(b"hello")
        + chunk(b" world", 4, b"a=b")
        + b"\x02"
        + header(pad, five)
        + b"\x01",
        # Built: a 100 Continue, then an HTTP/1.0 response with a Content-Length body, then an empty line.
        bytes((get | interim(1), 4))
        + ok_200
        + b"\x00"
        + b"\x01\x00\x00\x01"
        + header(cl, five)
        + b"\x02"
        + field(b"hello")
        + b"\x02",
        # Built: HEAD with a Content-Length and a body that is not this response's.
        bytes((head, 1)) + ok_200 + b"\x01" + header(cl, twelve) + b"\x02" + field(b"hello world!") + b"\x00",
        # Built: "chunked" and a raw suffix, a space (a byte the fuzzer can turn into anything).
        bytes((get, 6))
        + ok_200
        + b"\x02"
        + header(te, chunked, 2, b" ")
        + header(connection, close)
        + b"\x01\x01"
        + chunk(b"abc")
        + b"\x00\x03",
        # Built: close-delimited body (no framing field) with a raw tail.
        bytes((get, 7)) + ok_200 + b"\x00" + b"\x02" + field(b"until close") + b"\xf0" + field(b"\r\nmore"),
    ]


def main() -> None:
    for name, make in (
        ("http11", http11),
        ("url", url),
        ("h2", h2),
        ("decoders", decoders),
        ("cookies", cookies),
        ("sse", sse),
        ("framing", framing),
    ):
        directory = CORPUS / name
        directory.mkdir(parents=True, exist_ok=True)
        for data in make():
            (directory / f"seed-{hashlib.sha1(data).hexdigest()[:12]}").write_bytes(data)
        print(f"{name}: {len(list(directory.iterdir()))} files")


if __name__ == "__main__":
    main()
