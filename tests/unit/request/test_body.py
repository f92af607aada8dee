"""Request bodies from data=, json=, files=: encodings, streaming, lengths, replay and multipart."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import hashlib
import io
import os
import subprocess
import sys
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk._request.body import CHUNK_SIZE, FileBody, IterBody, RequestBody, encode_body
from brisk._request.multipart import MultipartBody, encode_multipart
from brisk.exceptions import InvalidHeader, InvalidJSONError, RequestException, UnrewindableBodyError

MiB = 1024 * 1024


def collect(body: RequestBody) -> bytes:
    chunks = list(body)
    assert all(chunks), "empty chunks must never be yielded"
    return b"".join(chunks)


def acollect(body: RequestBody) -> bytes:
    async def run() -> bytes:
        return b"".join([chunk async for chunk in body])

    return asyncio.run(run())


@pytest.fixture
def blob(tmp_path: Path) -> bytes:
    data = os.urandom(1_200_000)  # over the 1 MiB up to which a multipart body is built when prepared
    (tmp_path / "blob.bin").write_bytes(data)
    return data


# ------------------------------------------------------------------------------------------ in-memory bodies


def test_no_body() -> None:
    assert encode_body() == (None, None)
    empties: tuple[Any, ...] = (b"", "", {}, [], ())
    for empty in empties:
        assert encode_body(data=empty) == (None, None)


def test_json_body() -> None:
    body, content_type = encode_body(json={"a": 1, "b": [1, 2.5, None], "c": "é"})
    assert body == b'{"a": 1, "b": [1, 2.5, null], "c": "\\u00e9"}'
    assert content_type == "application/json"
    assert encode_body(json=[]) == (b"[]", "application/json")
    assert encode_body(json=None) == (None, None)


def test_json_only_when_data_is_empty() -> None:
    assert encode_body(data={}, json={"x": 1}) == (b'{"x": 1}', "application/json")
    assert encode_body(data=b"", json=0) == (b"0", "application/json")
    assert encode_body(data=b"raw", json={"x": 1}) == (b"raw", None)


@pytest.mark.parametrize(("value", "cause"), [(float("nan"), ValueError), ({1, 2}, TypeError)])
def test_json_errors(value: Any, cause: type[Exception]) -> None:
    with pytest.raises(InvalidJSONError, match="cannot be serialised as JSON") as info:
        encode_body(json={"v": value})
    assert isinstance(info.value.__cause__, cause)
    assert not isinstance(info.value, ValueError | TypeError) or isinstance(info.value, InvalidJSONError)


def test_form_body() -> None:
    body, content_type = encode_body(data={"q": "a b&c=d", "n": [1, 2], "skip": None, "é": "ü/"})
    assert body == "q=a+b%26c%3Dd&n=1&n=2&%C3%A9=%C3%BC%2F"  # text, as PreparedRequest.body is in requests
    assert content_type == "application/x-www-form-urlencoded"
    assert encode_body(data=[("k", "v"), ("k", "w")]) == ("k=v&k=w", "application/x-www-form-urlencoded")
    assert encode_body(data=(("a", b"\xff"),)) == ("a=%FF", "application/x-www-form-urlencoded")


def test_bytes_and_str_bodies() -> None:
    assert encode_body(data=b"\x00raw") == (b"\x00raw", None)
    assert encode_body(data="héllo") == ("héllo", None)  # kept as text (requests does too), sent as UTF-8
    assert encode_body(data=bytearray(b"ba")) == (b"ba", None)
    assert encode_body(data=memoryview(b"mv")) == (b"mv", None)


def test_unsupported_data_type() -> None:
    with pytest.raises(TypeError, match="not int"):
        encode_body(data=12)


# ----------------------------------------------------------------------------------------------- file bodies


def test_file_body(tmp_path: Path, blob: bytes) -> None:
    with open(tmp_path / "blob.bin", "rb") as f:
        body, content_type = encode_body(data=f)
        assert isinstance(body, FileBody)
        assert content_type is None
        assert body.content_length == len(blob)
        assert body.replayable
        chunks = list(body)
        assert all(0 < len(c) <= CHUNK_SIZE for c in chunks)
        assert b"".join(chunks) == blob


def test_file_at_nonzero_position_and_rewind(tmp_path: Path, blob: bytes) -> None:
    with open(tmp_path / "blob.bin", "rb") as f:
        f.seek(1234)
        body = FileBody(f)
        assert body.content_length == len(blob) - 1234
        assert collect(body) == blob[1234:]
        body.rewind()
        assert f.tell() == 1234
        assert collect(body) == blob[1234:]
        # iterating again without rewind() starts from the beginning too
        next(iter(body))
        assert collect(body) == blob[1234:]


def test_unbuffered_file_and_bytesio() -> None:
    stream = io.BytesIO(b"0123456789")
    stream.seek(3)
    body = FileBody(stream)
    assert body.content_length == 7
    assert body.replayable
    assert collect(body) == b"3456789"
    assert collect(body) == b"3456789"


def test_raw_file(tmp_path: Path, blob: bytes) -> None:
    with open(tmp_path / "blob.bin", "rb", buffering=0) as f:
        body = FileBody(f)
        assert body.content_length == len(blob)
        assert collect(body) == blob


def test_pipe_is_chunked_and_not_replayable() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"piped data")
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        body, _ = encode_body(data=reader)
        assert isinstance(body, RequestBody)
        assert body.content_length is None
        assert not body.replayable
        body.rewind()  # nothing was read yet: fine
        assert collect(body) == b"piped data"
        with pytest.raises(UnrewindableBodyError, match="cannot seek"):
            body.rewind()
        with pytest.raises(UnrewindableBodyError):
            list(body)


def test_text_mode_file(tmp_path: Path) -> None:
    text = "héllo wörld\n" * 20_000
    path = tmp_path / "text.txt"
    path.write_text(text, encoding="utf-8")
    with open(path, encoding="utf-8") as f:
        body, _ = encode_body(data=f)
        assert isinstance(body, FileBody)
        # characters are not bytes: a seekable text file is measured as UTF-8 first, then sent
        assert body.content_length == len(text.encode("utf-8"))
        assert body.replayable
        chunks = list(body)
        assert all(0 < len(c) <= CHUNK_SIZE for c in chunks)
        assert b"".join(chunks) == text.encode("utf-8")
        assert collect(body) == text.encode("utf-8")
    stream = io.StringIO("naïve")
    stream.read(2)  # sent from the current position, as binary files are
    body, _ = encode_body(data=stream)
    assert isinstance(body, FileBody)
    assert body.content_length == len("ïve".encode())
    assert collect(body) == "ïve".encode()


def test_text_stream_that_cannot_seek_is_sent_chunked() -> None:
    class Pipe(io.TextIOBase):
        def __init__(self) -> None:
            self.parts = ["héllo", ""]

        def read(self, size: int | None = -1) -> str:
            return self.parts.pop(0)

    body, _ = encode_body(data=Pipe())
    assert isinstance(body, FileBody)
    assert body.content_length is None
    assert collect(body) == "héllo".encode()


def test_file_object_whose_seek_returns_nothing_gets_a_length() -> None:
    """A hand-written file object (requests' own test suite has one) whose seek() returns None: its size
    is read with tell(), so it is sent with Content-Length rather than chunked."""

    class Stream:
        def __init__(self, data: bytes) -> None:
            self.data, self.index = data, 0

        def read(self, size: int = -1) -> bytes:
            end = len(self.data) if size is None or size < 0 else self.index + size
            chunk, self.index = self.data[self.index : end], min(end, len(self.data))
            return chunk

        def tell(self) -> int:
            return self.index

        def seek(self, offset: int, whence: int = 0) -> None:
            self.index = {0: 0, 1: self.index, 2: len(self.data)}[whence] + offset

    stream = Stream(b"0123456789")
    stream.seek(3)
    body, _ = encode_body(data=stream)
    assert isinstance(body, FileBody)
    assert body.content_length == 7
    assert collect(body) == b"3456789"


def test_read_only_object() -> None:
    class Reader:
        def __init__(self) -> None:
            self.parts = [b"ab", b"", b"cd"]

        def read(self, size: int = -1) -> bytes:
            return self.parts.pop(0) + self.parts.pop(0) if len(self.parts) == 3 else b""

    body, _ = encode_body(data=Reader())
    assert isinstance(body, FileBody)
    assert body.content_length is None
    assert not body.replayable
    assert collect(body) == b"ab"


def test_file_that_shrinks_or_grows(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1000)
    with open(path, "rb") as f:
        body = FileBody(f)
        assert body.content_length == 1000
        os.truncate(path, 10)
        with pytest.raises(RequestException, match="shrank"):
            collect(body)
    path.write_bytes(b"x" * 1000)
    with open(path, "rb") as f:
        body = FileBody(f)
        with open(path, "ab") as appender:
            appender.write(b"y" * 500)
        assert collect(body) == b"x" * 1000  # exactly what Content-Length announced


# ------------------------------------------------------------------------------------------ iterable bodies


def test_generator_body() -> None:
    def gen() -> Iterator[bytes | str]:
        yield b"ab"
        yield ""
        yield "é"
        yield b""
        yield b"cd"

    body, content_type = encode_body(data=gen())
    assert isinstance(body, IterBody)
    assert content_type is None
    assert body.content_length is None
    assert not body.replayable
    body.rewind()  # not started yet: allowed
    assert list(body) == [b"ab", "é".encode(), b"cd"]
    with pytest.raises(UnrewindableBodyError, match="generator or iterator that was already consumed"):
        body.rewind()
    with pytest.raises(UnrewindableBodyError):
        list(body)


def test_list_body_is_replayable() -> None:
    body, _ = encode_body(data=[b"a", "b", bytearray(b"c")])
    assert isinstance(body, IterBody)
    assert body.replayable
    assert collect(body) == b"abc"
    body.rewind()
    assert collect(body) == b"abc"
    assert collect(body) == b"abc"


def test_bad_chunk_type() -> None:
    body, _ = encode_body(data=iter([b"ok", 3]))
    assert isinstance(body, RequestBody)
    with pytest.raises(TypeError, match="bytes or str, got int"):
        list(body)


def test_list_of_pairs_is_form_not_chunks() -> None:
    assert encode_body(data=[("a", "b")])[1] == "application/x-www-form-urlencoded"
    assert isinstance(encode_body(data=["ab", "cd"])[0], IterBody)


# ---------------------------------------------------------------------------------------------------- async


def test_async_generator_body() -> None:
    async def agen() -> AsyncIterator[bytes | str]:
        for part in (b"one ", "", "two"):
            await asyncio.sleep(0)
            yield part

    body, _ = encode_body(data=agen())
    assert isinstance(body, IterBody)
    assert body.content_length is None
    assert not body.replayable
    with pytest.raises(TypeError, match="async client"):
        list(body)
    assert acollect(body) == b"one two"
    with pytest.raises(UnrewindableBodyError, match="async iterable that was already consumed"):
        acollect(body)


def test_async_iteration_of_sync_bodies(tmp_path: Path, blob: bytes) -> None:
    with open(tmp_path / "blob.bin", "rb") as f:
        body = FileBody(f)
        assert acollect(body) == blob
        assert acollect(body) == blob  # replayed
    lst, _ = encode_body(data=[b"x", "y"])
    assert isinstance(lst, RequestBody)
    assert acollect(lst) == b"xy"
    gen, _ = encode_body(data=(c for c in [b"g"]))
    assert isinstance(gen, RequestBody)
    assert acollect(gen) == b"g"


# ------------------------------------------------------------------------------------------------ multipart


def parse_multipart(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """A strict parser: exact framing, headers per part, exact content bytes."""
    assert content_type.startswith("multipart/form-data; boundary=")
    delimiter = b"--" + content_type.split("boundary=", 1)[1].encode()
    assert body.startswith(delimiter + b"\r\n")
    assert body.endswith(b"\r\n" + delimiter + b"--\r\n")
    inner = body[len(delimiter) + 2 : -(len(delimiter) + 6)]
    parts = []
    for raw in inner.split(b"\r\n" + delimiter + b"\r\n"):
        head, sep, content = raw.partition(b"\r\n\r\n")
        assert sep
        headers = {}
        for line in head.decode("utf-8").split("\r\n"):
            name, _, value = line.partition(": ")
            headers[name.lower()] = value
        parts.append((headers, content))
    return parts


def materialise(body: bytes | RequestBody | None) -> bytes:
    assert body is not None
    return body if isinstance(body, bytes) else collect(body)


def test_multipart_fields_and_files(tmp_path: Path, blob: bytes) -> None:
    with open(tmp_path / "blob.bin", "rb") as f:
        body, content_type = encode_body(
            data={"title": "héllo", "tags": ["a", "b"], "none": None},
            files={
                "upload": f,
                "report": ("report.csv", b"a,b\r\n1,2\r\n"),
                "custom": ("x.bin", io.BytesIO(b"\x00\x01"), "image/png", {"X-Extra": "1"}),
                "raw": b"bytes value",
                "skipped": None,
            },
        )
        assert isinstance(body, MultipartBody)
        assert content_type is not None
        data = collect(body)
        assert body.content_length == len(data)
        parts = parse_multipart(data, content_type)
    dispositions = [h["content-disposition"] for h, _ in parts]
    assert dispositions == [
        'form-data; name="title"',
        'form-data; name="tags"',
        'form-data; name="tags"',
        'form-data; name="upload"; filename="blob.bin"',
        'form-data; name="report"; filename="report.csv"',
        'form-data; name="custom"; filename="x.bin"',
        'form-data; name="raw"; filename="raw"',
    ]
    contents = [c for _, c in parts]
    assert contents == [
        "héllo".encode(),
        b"a",
        b"b",
        blob,
        b"a,b\r\n1,2\r\n",
        b"\x00\x01",
        b"bytes value",
    ]
    types = [h.get("content-type") for h, _ in parts]
    assert types == [
        None,
        None,
        None,
        "application/octet-stream",
        "text/csv",
        "image/png",
        "application/octet-stream",
    ]
    assert parts[5][0]["x-extra"] == "1"


def test_multipart_read_by_stdlib_email_parser(tmp_path: Path, blob: bytes) -> None:
    with open(tmp_path / "blob.bin", "rb") as f:
        body, content_type = encode_body(data=[("field", "value")], files=[("file", ("photo.jpg", f))])
        raw = materialise(body)
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + str(content_type).encode() + b"\r\n\r\n" + raw
    )
    assert message.is_multipart()
    field, file_part = message.iter_parts()
    assert field.get_param("name", header="content-disposition") == "field"
    assert field.get_payload(decode=True) == b"value"
    assert file_part.get_filename() == "photo.jpg"
    assert file_part.get_content_type() == "image/jpeg"
    assert file_part.get_payload(decode=True) == blob


def test_multipart_in_memory_is_bytes() -> None:
    body, content_type = encode_body(files={"a": ("a.txt", "text")}, data={"k": "v"})
    assert isinstance(body, bytes)
    parts = parse_multipart(body, str(content_type))
    assert [c for _, c in parts] == [b"v", b"text"]
    assert parts[1][0]["content-type"] == "text/plain"
    # large in-memory values are streamed rather than copied into one buffer
    big = os.urandom(2 * MiB)
    body, content_type = encode_body(files={"big": big})
    assert isinstance(body, MultipartBody)
    data = collect(body)
    assert body.content_length == len(data)
    assert parse_multipart(data, str(content_type))[0][1] == big


def test_multipart_escaping_and_names() -> None:
    body, content_type = encode_body(
        files={
            'we"ird\r\nname': ('ré"sumé\n.pdf', b"%PDF"),
            "plain": (None, "just a field"),
            "stdin": io.BytesIO(b"in"),
        }
    )
    raw = materialise(body)
    assert b'name="we%22ird%0D%0Aname"; filename="r\xc3\xa9%22sum\xc3\xa9%0A.pdf"' in raw
    parts = parse_multipart(raw, str(content_type))
    assert parts[0][0]["content-type"] == "application/pdf"
    assert parts[1][0] == {"content-disposition": 'form-data; name="plain"'}
    assert parts[1][1] == b"just a field"
    assert parts[2][0]["content-disposition"] == 'form-data; name="stdin"; filename="stdin"'


def test_multipart_filename_from_file_name(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "notes.unknownext"
    path.parent.mkdir()
    path.write_bytes(b"n")
    with open(path, "rb") as f:
        body, content_type = encode_body(files={"doc": f})
        parts = parse_multipart(materialise(body), str(content_type))
    assert parts[0][0]["content-disposition"] == 'form-data; name="doc"; filename="notes.unknownext"'
    assert parts[0][0]["content-type"] == "application/octet-stream"
    stream = io.BytesIO(b"s")
    stream.name = "<fdopen>"
    body, content_type = encode_body(files={"s": stream})
    headers = parse_multipart(materialise(body), str(content_type))[0][0]
    assert headers["content-disposition"] == 'form-data; name="s"; filename="s"'


def test_multipart_header_injection_refused() -> None:
    with pytest.raises(InvalidHeader):
        encode_body(files={"f": ("a.txt", b"x", "text/plain\r\nX-Evil: 1")})
    with pytest.raises(InvalidHeader):
        encode_body(files={"f": ("a.txt", b"x", "text/plain", {"X-Ok": "1\r\nX-Evil: 2"})})


def test_multipart_rejects_string_data() -> None:
    with pytest.raises(ValueError, match="data= must be a mapping"):
        encode_body(data="a=b", files={"f": b"x"})
    with pytest.raises(ValueError, match="tuple"):
        encode_body(files={"f": ("a", b"b", "c", {}, "extra")})


def test_multipart_file_at_position_rewind_and_exact_length(tmp_path: Path, blob: bytes) -> None:
    with open(tmp_path / "blob.bin", "rb") as f1, open(tmp_path / "blob.bin", "rb") as f2:
        f2.seek(500)
        body, content_type = encode_body(files=[("one", f1), ("two", f2)], data={"k": "v"})
        assert isinstance(body, MultipartBody)
        assert body.replayable
        first = collect(body)
        assert body.content_length == len(first)
        assert [c for _, c in parse_multipart(first, str(content_type))] == [b"v", blob, blob[500:]]
        body.rewind()
        assert f2.tell() == 500
        assert collect(body) == first
        assert acollect(body) == first


def test_multipart_with_pipe_is_chunked_and_not_replayable() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"from a pipe")
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        body, content_type = encode_body(files={"p": ("p.txt", reader)})
        assert isinstance(body, MultipartBody)
        assert body.content_length is None
        assert not body.replayable
        assert parse_multipart(collect(body), str(content_type))[0][1] == b"from a pipe"
        with pytest.raises(UnrewindableBodyError, match="cannot seek"):
            body.rewind()


def test_multipart_boundary_is_random() -> None:
    assert encode_body(files={"a": b"1"})[1] != encode_body(files={"a": b"1"})[1]
    body, content_type = encode_multipart({"a": b"1"}, boundary="fixed")
    assert content_type == "multipart/form-data; boundary=fixed"
    assert body == (
        b'--fixed\r\nContent-Disposition: form-data; name="a"; filename="a"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n1\r\n--fixed--\r\n"
    )


def test_large_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.bin"
    block = os.urandom(MiB)
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for i in range(50):
            piece = i.to_bytes(4, "big") + block[4:]
            out.write(piece)
            digest.update(piece)
    with open(path, "rb") as f:
        tracemalloc.start()
        try:
            body, _ = encode_body(files={"big": f}, data={"name": "large"})
            assert isinstance(body, MultipartBody)
            assert body.content_length is not None
            total = 0
            seen = hashlib.sha256()
            chunks = iter(body)
            head = next(chunks)
            total += len(head)
            last = b""
            for chunk in chunks:
                assert len(chunk) <= CHUNK_SIZE
                total += len(chunk)
                if last:
                    seen.update(last)
                last = chunk
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert head.endswith(b'filename="large.bin"\r\nContent-Type: application/octet-stream\r\n\r\n')
    assert last.endswith(b"--\r\n")
    assert total == body.content_length == 50 * MiB + len(head) + len(last)
    assert seen.digest() == digest.digest()
    assert peak < 2 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_body_modules_import_lazily() -> None:
    code = (
        "import sys, brisk\n"
        "before = set(sys.modules)\n"
        "import brisk._request.body, brisk._request.multipart, brisk._response.decoders\n"
        "new = set(sys.modules) - before\n"
        "heavy = {'mimetypes', 'secrets', 'zstandard', 'brotli', 'brotlicffi', 'email', 'random'}\n"
        "assert not new & heavy, new & heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_text_file_that_cannot_be_decoded_fails_before_sending(tmp_path: Path) -> None:
    """A bad byte far into a text file is found while measuring it: the upload fails at once with the
    decoding error, the file back where it was, instead of going out chunked and empty."""
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a" * 200_000 + b"\xff" + b"tail")
    with open(path, encoding="utf-8") as f, pytest.raises(UnicodeDecodeError) as caught:
        encode_body(data=f)
    assert str(path) in "".join(caught.value.__notes__)  # which file it was
    with open(path, encoding="utf-8") as f:
        f.read(10)
        start = f.tell()
        with pytest.raises(UnicodeDecodeError):
            encode_body(files={"doc": f})
        assert f.tell() == start
    with pytest.raises(UnicodeEncodeError):
        encode_body(data=io.StringIO("a" * 70_000 + "\udc80" + "bb"))


def test_a_small_multipart_body_is_built_when_prepared(tmp_path: Path) -> None:
    """Up to 1 MiB, files included, the multipart body is bytes in the prepared request, as in requests:
    it can be inspected, pickled, and sent after the file was closed."""
    import pickle

    path = tmp_path / "small.txt"
    path.write_bytes(b"small file")
    with open(path, "rb") as f:
        prepared = brisk.Request("POST", "http://x.test/", files={"doc": f}, data={"k": "v"}).prepare()
    assert isinstance(prepared.body, bytes)
    assert b'name="doc"; filename="small.txt"' in prepared.body
    assert b"small file" in prepared.body
    assert prepared.headers["Content-Length"] == str(len(prepared.body))
    assert pickle.loads(pickle.dumps(prepared)).body == prepared.body
