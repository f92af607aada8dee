"""The requests-compatible API: verbs, params, bodies, headers and everything a ``Response`` offers.

Each behaviour test takes the ``client`` fixture, so it runs once through ``brisk.Session`` and once through
``brisk.AsyncSession``. The top-level functions (``brisk.get``...) and ``response.raw`` are sync-only and
are tested with plain sync code.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import json
import os
import pickle
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk.exceptions import InvalidJSONError, RequestException, StreamConsumedError
from brisk.testing.server import ServerThread
from servers.clients import AsyncClient, SyncClient
from servers.raw import RawConnection, RawServer, canned, http_response

Client = SyncClient | AsyncClient
MiB = 1024 * 1024


def echo(response: brisk.Response) -> dict[str, Any]:
    """The JSON echo of the test app (``/anything``, ``/get``...), after checking the request succeeded."""
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def serve(raw_server: Any, *responses: bytes) -> RawServer:
    """A raw server answering one keep-alive connection with ``responses`` in order."""
    server: RawServer = raw_server(canned(*responses, then="wait"))
    return server


# ------------------------------------------------------------------------------------------------ verbs


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_verb_method_sends_its_method(client: Client, app_server: ServerThread, method: str) -> None:
    verb = getattr(client, method.lower())
    response = verb(app_server.url + "/anything/verb")
    assert echo(response)["method"] == method
    assert response.request.method == method
    # request() with the method name, in lower case as people write it, is the same thing
    assert echo(client.request(method.lower(), app_server.url + "/anything"))["method"] == method


def test_head_has_no_body_and_headers(client: Client, app_server: ServerThread) -> None:
    response = client.head(app_server.url + "/bytes/100")
    assert response.status_code == 200
    assert response.request.method == "HEAD"
    assert response.headers["Content-Length"] == "100"
    assert response.content == b""


def test_head_does_not_follow_redirects_by_default(client: Client, app_server: ServerThread) -> None:
    response = client.head(app_server.url + "/redirect/1")
    assert response.status_code == 302
    assert response.history == []
    assert response.is_redirect
    followed = client.head(app_server.url + "/redirect/1", allow_redirects=True)
    assert followed.status_code == 200
    assert followed.url == app_server.url + "/get"
    assert [r.status_code for r in followed.history] == [302]


def test_get_follows_redirects_by_default(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/redirect/2")
    assert response.status_code == 200
    assert response.url == app_server.url + "/get"
    assert [r.status_code for r in response.history] == [302, 302]


def test_top_level_functions(app_server: ServerThread) -> None:
    url = app_server.url
    assert echo(brisk.get(url + "/anything", params={"a": "1"}))["args"] == {"a": "1"}
    assert echo(brisk.post(url + "/anything", json={"k": 1}))["json"] == {"k": 1}
    assert echo(brisk.post(url + "/anything", data={"k": "v"}))["form"] == {"k": "v"}
    assert echo(brisk.put(url + "/anything", data=b"put"))["data"] == "put"
    assert echo(brisk.patch(url + "/anything", data="patch"))["data"] == "patch"
    assert echo(brisk.delete(url + "/anything"))["method"] == "DELETE"
    assert echo(brisk.options(url + "/anything"))["method"] == "OPTIONS"
    assert echo(brisk.request("PUT", url + "/anything"))["method"] == "PUT"
    head = brisk.head(url + "/redirect/1")
    assert (head.status_code, head.history) == (302, [])
    assert brisk.head(url + "/redirect/1", allow_redirects=True).status_code == 200
    with brisk.session() as s:
        assert isinstance(s, brisk.Session)


def test_bodyless_post_sends_content_length_zero(client: Client, raw_server: Any) -> None:
    server = serve(raw_server, http_response(200, b"ok"), http_response(200, b"ok"))
    client.post(server.url + "/p")
    client.get(server.url + "/g")
    post, get = server.requests
    assert post.header("Content-Length") == "0"
    assert post.header("Transfer-Encoding") is None
    assert get.header("Content-Length") is None
    assert get.body == b""


# ----------------------------------------------------------------------------------------------- params


@pytest.mark.parametrize(
    ("params", "query", "args"),
    [
        ({"a": "1", "b": "x y"}, "a=1&b=x+y", {"a": "1", "b": "x y"}),
        ([("a", "1"), ("a", "2"), ("b", "3")], "a=1&a=2&b=3", {"a": ["1", "2"], "b": "3"}),
        ("a=1&b=2", "a=1&b=2", {"a": "1", "b": "2"}),
        ({"tag": ["x", "y"], "n": 5}, "tag=x&tag=y&n=5", {"tag": ["x", "y"], "n": "5"}),
        ({"keep": "1", "drop": None}, "keep=1", {"keep": "1"}),
        ({"é": "ü&="}, "%C3%A9=%C3%BC%26%3D", {"é": "ü&="}),
    ],
)
def test_params(client: Client, app_server: ServerThread, params: Any, query: str, args: Any) -> None:
    response = client.get(app_server.url + "/get", params=params)
    assert response.url == f"{app_server.url}/get?{query}"
    assert echo(response)["args"] == args


def test_params_merged_into_an_existing_query(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/get?first=1&a=0", params={"a": "2", "z": "3"})
    assert response.url == f"{app_server.url}/get?first=1&a=0&a=2&z=3"
    assert echo(response)["args"] == {"first": "1", "a": ["0", "2"], "z": "3"}


def test_params_with_a_fragment_keep_the_fragment_out_of_the_query(client: Client, raw_server: Any) -> None:
    server = serve(raw_server, http_response(200, b"ok"))
    client.get(server.url + "/p?x=1#frag", params={"y": "2"})
    assert server.requests[0].target == "/p?x=1&y=2"


# ------------------------------------------------------------------------------------------------- json


def test_json_body(client: Client, raw_server: Any) -> None:
    server = serve(raw_server, http_response(200, b"ok"))
    client.post(server.url + "/j", json={"a": [1, 2.5, None], "é": True})
    sent = server.requests[0]
    assert json.loads(sent.body) == {"a": [1, 2.5, None], "é": True}
    assert sent.header("Content-Type") == "application/json"
    assert sent.header("Content-Length") == str(len(sent.body))


def test_json_is_ignored_when_data_is_given(client: Client, app_server: ServerThread) -> None:
    # requests: data wins over json
    body = echo(client.post(app_server.url + "/anything", data={"f": "1"}, json={"j": 1}))
    assert body["form"] == {"f": "1"}
    assert body["json"] is None


def test_explicit_content_type_is_kept_for_json(client: Client, app_server: ServerThread) -> None:
    response = client.post(
        app_server.url + "/anything", json=[1], headers={"Content-Type": "application/x+json"}
    )
    assert echo(response)["headers"]["Content-Type"] == "application/x+json"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {"obj": object()}])
def test_unserialisable_json_raises_invalid_json_error(client: Client, unused_port: int, bad: Any) -> None:
    # raised while preparing: nothing is sent (the port would refuse the connection anyway)
    with pytest.raises(InvalidJSONError) as caught:
        client.post(f"http://127.0.0.1:{unused_port}/", json=bad)
    assert isinstance(caught.value, RequestException)
    assert brisk.exceptions.InvalidJSONError is InvalidJSONError


# ------------------------------------------------------------------------------------------------- data


def test_form_data_dict_and_list(client: Client, raw_server: Any) -> None:
    server = serve(raw_server, http_response(200, b"ok"), http_response(200, b"ok"))
    client.post(server.url + "/f", data={"a": "1", "b": ["x", "y"], "sp": "a b&c", "none": None})
    client.post(server.url + "/f", data=[("k", "1"), ("k", "2")])
    first, second = server.requests
    assert first.body == b"a=1&b=x&b=y&sp=a+b%26c"
    assert first.header("Content-Type") == "application/x-www-form-urlencoded"
    assert first.header("Content-Length") == str(len(first.body))
    assert second.body == b"k=1&k=2"


def test_form_and_text_bodies_are_text_in_the_prepared_request(
    client: Client, app_server: ServerThread
) -> None:
    """As in requests, ``request.body`` of a form or a text ``data=`` is str (an AuthBase that signs the
    body calls ``r.body.encode()``); it goes out as UTF-8 with its byte length, also after a 307."""
    form = client.post(app_server.url + "/post", data={"name": "brisk é"})
    assert form.request.body == "name=brisk+%C3%A9"
    assert echo(form)["form"] == {"name": "brisk é"}
    text = client.post(
        app_server.url + "/redirect-to", params={"url": "/post", "status_code": 307}, data="prix: 5 €"
    )
    assert text.request.body == "prix: 5 €"
    assert [r.status_code for r in text.history] == [307]
    echoed = echo(text)
    assert echoed["data"] == "prix: 5 €"
    assert echoed["headers"]["Content-Length"] == str(len("prix: 5 €".encode()))


def test_form_data_echoed(client: Client, app_server: ServerThread) -> None:
    body = echo(client.post(app_server.url + "/post", data={"name": "brisk", "tags": ["a", "b"]}))
    assert body["form"] == {"name": "brisk", "tags": ["a", "b"]}


@pytest.mark.parametrize(
    ("data", "expected"), [(b"\x00\xffraw", b"\x00\xffraw"), ("héllo", "héllo".encode())]
)
def test_bytes_and_str_data(client: Client, raw_server: Any, data: bytes | str, expected: bytes) -> None:
    server = serve(raw_server, http_response(200, b"ok"))
    client.put(server.url + "/d", data=data)
    sent = server.requests[0]
    assert sent.body == expected
    assert sent.header("Content-Length") == str(len(expected))
    assert sent.header("Content-Type") is None  # requests adds none for raw bodies


class ReadRecorder(io.RawIOBase):
    """A binary file that records the size of every read, to show a body is streamed, not slurped."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        self.reads: list[int | None] = []

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(size)
        return self._file.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


def test_binary_file_data_is_streamed_with_its_length(
    client: Client, raw_server: Any, tmp_path: Path
) -> None:
    blob = os.urandom(300_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(blob)
    server = serve(raw_server, http_response(200, b"ok"), http_response(200, b"ok"))
    with ReadRecorder(path) as recorder:
        client.post(server.url + "/file", data=recorder)
    sent = server.requests[0]
    assert sent.header("Content-Length") == str(len(blob))
    assert sent.header("Transfer-Encoding") is None
    assert sent.body == blob
    # read in bounded pieces, never "read it all"
    assert recorder.reads
    assert all(size is not None and 0 < size < len(blob) for size in recorder.reads)
    # a file positioned past its start sends the rest, with the matching length
    with path.open("rb") as handle:
        handle.seek(100_000)
        client.post(server.url + "/file", data=handle)
        assert handle.tell() == len(blob)  # left where reading the body through would leave it
    rest = server.requests[1]
    assert rest.header("Content-Length") == "200000"
    assert rest.body == blob[100_000:]


class CountingReader(io.BufferedReader):
    """A file whose reads are watched, as upload progress bars do: its own read() must be the one used."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def test_a_file_opened_rb_is_sent_by_the_kernel_over_plain_http(
    client: Client, raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = os.urandom(200_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(blob)
    server = serve(raw_server, *[http_response(200, b"ok")] * 3)
    if client.mode == "async":
        pytest.skip("os.sendfile is the sync transport's: the async one reads the file in chunks")
    by_kernel: list[int] = []
    real_sendfile = os.sendfile

    def sendfile(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        sent = real_sendfile(out_fd, in_fd, offset, count)
        by_kernel.append(sent)
        return sent

    monkeypatch.setattr(os, "sendfile", sendfile)
    with path.open("rb") as handle:
        handle.seek(1000)
        client.post(server.url + "/file", data=handle)
        assert handle.tell() == len(blob)
        handle.seek(1000)  # sent again (a second request) from where it starts
        client.post(server.url + "/file", data=handle)
    assert sum(by_kernel) == 2 * (len(blob) - 1000)
    # a subclass may watch its reads (a progress bar): it is read, never bypassed
    with CountingReader(io.FileIO(path)) as watched:
        watched.seek(1000)
        client.post(server.url + "/file", data=watched)
        assert watched.read_bytes == len(blob) - 1000
    assert sum(by_kernel) == 2 * (len(blob) - 1000)
    for sent in server.requests:
        assert sent.header("Content-Length") == str(len(blob) - 1000)
        assert sent.body == blob[1000:]


@pytest.mark.parametrize("error", [errno.EINVAL, errno.ENOSYS])
def test_a_file_the_kernel_cannot_send_is_read_instead(
    client: Client, raw_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    """Where ``os.sendfile`` does not work for a file (a file system without it: EINVAL; a kernel without
    it: ENOSYS), the file is read and sent as any other body: the request does not fail, nor wait for an
    answer to a body that was never sent. (The refusal is injected: no such file system is mounted here.)"""
    if client.mode == "async":
        pytest.skip("os.sendfile is the sync transport's: the async one reads the file in chunks")
    refused: list[int] = []

    def sendfile(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        refused.append(count)
        raise OSError(error, os.strerror(error))

    blob = os.urandom(200_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(blob)
    server = serve(raw_server, http_response(200, b"ok"))
    monkeypatch.setattr(os, "sendfile", sendfile)
    with path.open("rb") as handle:
        handle.seek(1000)
        response = client.post(server.url + "/file", data=handle, timeout=brisk.Timeout(5, read=5))
        assert handle.tell() == len(blob)
    assert response.status_code == 200
    assert refused == [len(blob) - 1000]  # tried once, then read
    (sent,) = server.requests
    assert sent.header("Content-Length") == str(len(blob) - 1000)
    assert sent.body == blob[1000:]


def test_a_buffered_reader_without_a_descriptor_is_read(
    client: Client, raw_server: Any, tmp_path: Path
) -> None:
    """A member of a tar archive (``TarFile.extractfile``) is an ``io.BufferedReader`` over a raw part of
    the archive that has no ``fileno`` (AttributeError): it is read and sent, as before sendfile."""
    import tarfile

    blob = os.urandom(200_000)
    archive = tmp_path / "files.tar"
    with tarfile.open(archive, "w") as tar:
        head = tarfile.TarInfo("first.txt")
        head.size = 5000
        tar.addfile(head, io.BytesIO(b"A" * 5000))
        member = tarfile.TarInfo("blob.bin")
        member.size = len(blob)
        tar.addfile(member, io.BytesIO(blob))
    server = serve(raw_server, http_response(200, b"ok"))
    with tarfile.open(archive) as tar:
        extracted = tar.extractfile("blob.bin")
        assert isinstance(extracted, io.BufferedReader)
        response = client.post(server.url + "/file", data=extracted)
    assert response.status_code == 200
    (sent,) = server.requests
    assert sent.header("Content-Length") == str(len(blob))
    assert sent.body == blob


def test_a_file_opened_for_writing_only_is_a_clear_error_at_once(
    client: Client, raw_server: Any, tmp_path: Path
) -> None:
    """``open(path, "wb", buffering=0)`` is an ``io.FileIO`` that cannot be read: the upload fails at once
    with Python's own error, as reading it does, not after waiting the read timeout for an answer to a body
    the kernel refused to send (EBADF taken for a broken connection)."""
    path = tmp_path / "written.bin"
    server = serve(raw_server, http_response(200, b"ok"))
    with path.open("wb", buffering=0) as handle:
        handle.write(b"w" * 200_000)
        handle.seek(0)
        with pytest.raises(io.UnsupportedOperation, match=r"not .*reading"):
            client.post(server.url + "/file", data=handle, timeout=brisk.Timeout(30, read=30))


def test_a_file_that_shrinks_before_it_is_sent_is_a_clear_error(
    client: Client, raw_server: Any, tmp_path: Path
) -> None:
    path = tmp_path / "shrinking.bin"
    path.write_bytes(b"x" * 300_000)
    server = serve(raw_server, http_response(200, b"ok"))
    with path.open("rb") as handle:
        prepared = brisk.Request("POST", server.url + "/file", data=handle).prepare()
        assert prepared.headers["Content-Length"] == "300000"
        os.truncate(path, 100_000)
        with pytest.raises(
            brisk.RequestException, match="shrank while it was being sent: 200000 of the 300000"
        ):
            client.send(prepared)


def test_generator_data_is_sent_chunked(client: Client, raw_server: Any) -> None:
    parts = [b"first,", b"", "sécond,".encode(), b"x" * 70_000, b"end"]

    def generate() -> Iterator[bytes]:
        yield from parts

    server = serve(raw_server, http_response(200, b"ok"))
    client.post(server.url + "/gen", data=generate())
    sent = server.requests[0]
    assert sent.header("Transfer-Encoding") == "chunked"
    assert sent.header("Content-Length") is None
    assert sent.body == b"".join(parts)
    framed = sent.raw.split(b"\r\n\r\n", 1)[1]
    assert framed.startswith(b"6\r\nfirst,\r\n")
    assert framed.endswith(b"3\r\nend\r\n0\r\n\r\n")


def test_generator_data_seen_by_a_real_server(client: Client, app_server: ServerThread) -> None:
    body = echo(client.post(app_server.url + "/anything", data=(piece for piece in [b"ab", b"cd"])))
    assert body["data"] == "abcd"
    assert body["headers"]["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in body["headers"]


# ------------------------------------------------------------------------------------------------ files


def _boundary(content_type: str | None) -> bytes:
    assert content_type is not None
    assert content_type.startswith("multipart/form-data; boundary=")
    return content_type.split("boundary=", 1)[1].encode()


def test_multipart_exact_bytes(client: Client, raw_server: Any, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    server = serve(raw_server, http_response(200, b"ok"))
    with path.open("rb") as handle:
        client.post(
            server.url + "/upload",
            data={"title": "hello", "n": "1"},
            files={
                "doc": handle,
                "explicit": ("data.bin", b"\x00\x01\x02", "application/x-custom"),
                "headed": ("h.txt", "text", "text/plain", {"X-Part": "yes"}),
            },
        )
    sent = server.requests[0]
    b = _boundary(sent.header("Content-Type"))
    expected = (
        b"--" + b + b'\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello\r\n'
        b"--" + b + b'\r\nContent-Disposition: form-data; name="n"\r\n\r\n1\r\n'
        b"--" + b + b'\r\nContent-Disposition: form-data; name="doc"; filename="report.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\na,b\n1,2\n\r\n"
        b"--" + b + b'\r\nContent-Disposition: form-data; name="explicit"; filename="data.bin"\r\n'
        b"Content-Type: application/x-custom\r\n\r\n\x00\x01\x02\r\n"
        b"--" + b + b'\r\nContent-Disposition: form-data; name="headed"; filename="h.txt"\r\n'
        b"Content-Type: text/plain\r\nX-Part: yes\r\n\r\ntext\r\n"
        b"--" + b + b"--\r\n"
    )
    assert sent.body == expected
    assert sent.header("Content-Length") == str(len(expected))
    assert sent.header("Transfer-Encoding") is None


def test_text_mode_uploads_carry_a_content_length(client: Client, raw_server: Any, tmp_path: Path) -> None:
    """A file opened in text mode (``open(path)``, the default) and a StringIO go out with Content-Length,
    as requests sends them: some servers refuse a chunked upload (411 or 501)."""
    text = "prix: 5 €\n" * 1000
    path = tmp_path / "notes.txt"
    path.write_text(text, encoding="utf-8")
    server = serve(raw_server, http_response(200, b"ok"), http_response(200, b"ok"))
    with open(path, encoding="utf-8") as handle:
        client.post(server.url + "/upload", files={"notes": handle})
    client.post(server.url + "/upload", data=io.StringIO(text))
    multipart, plain = server.requests
    for sent in (multipart, plain):
        assert sent.header("Transfer-Encoding") is None
        assert sent.header("Content-Length") == str(len(sent.body))
    assert text.encode() in multipart.body
    assert plain.body == text.encode()


def test_multipart_seen_by_a_real_server(client: Client, app_server: ServerThread) -> None:
    body = echo(
        client.post(
            app_server.url + "/post",
            data={"field": "value"},
            files={"upload": ("notes.txt", b"file body", "text/plain")},
        )
    )
    assert body["form"] == {"field": "value"}
    assert body["files"] == {"upload": "file body"}
    assert body["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


def test_large_file_upload_streamed_with_content_length(
    client: Client, app_server: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "large.bin"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(6):
            block = os.urandom(MiB)
            digest.update(block)
            out.write(block)
    size = 6 * MiB
    # raw file body
    with path.open("rb") as handle:
        response = client.put(app_server.url + "/upload", data=handle)
    assert response.json() == {"bytes": size, "sha256": digest.hexdigest(), "method": "PUT"}
    assert response.request.headers["Content-Length"] == str(size)
    # the same file as a multipart part: the server hashes the whole multipart body
    with path.open("rb") as handle:
        response = client.post(app_server.url + "/upload", files={"big": ("large.bin", handle)})
    b = _boundary(response.request.headers["Content-Type"])
    head = (
        b"--" + b + b'\r\nContent-Disposition: form-data; name="big"; filename="large.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    tail = b"\r\n--" + b + b"--\r\n"
    whole = hashlib.sha256(head)
    whole.update(path.read_bytes())
    whole.update(tail)
    total = len(head) + size + len(tail)
    assert response.json() == {"bytes": total, "sha256": whole.hexdigest(), "method": "POST"}
    assert response.request.headers["Content-Length"] == str(total)
    assert "Transfer-Encoding" not in response.request.headers


# ---------------------------------------------------------------------------------------------- headers


def test_custom_headers_and_bytes_values(client: Client, raw_server: Any) -> None:
    server = serve(raw_server, http_response(200, b"ok"))
    client.get(
        server.url + "/h", headers={"X-Custom": "one", "X-Bytes": b"raw-bytes", "user-agent": "mine/1"}
    )
    sent = server.requests[0]
    assert sent.header("X-Custom") == "one"
    assert sent.header("X-Bytes") == "raw-bytes"
    assert sent.header_values("User-Agent") == ["mine/1"]  # replaces the default, case-insensitively
    assert sent.header("Host") == f"127.0.0.1:{server.port}"


def test_none_header_removes_a_session_header(client: Client, raw_server: Any) -> None:
    client.session.headers["X-Session"] = "s"
    server = serve(raw_server, http_response(200, b"ok"), http_response(200, b"ok"))
    client.get(server.url + "/a", headers={"X-Session": None, "Accept-Encoding": None})
    client.get(server.url + "/b")
    removed, kept = server.requests
    assert removed.header("X-Session") is None
    assert removed.header("Accept-Encoding") is None
    assert kept.header("X-Session") == "s"
    assert kept.header("Accept-Encoding") is not None
    assert client.session.headers["X-Session"] == "s"  # the session itself is untouched


def test_header_with_newline_is_refused(client: Client, raw_server: Any) -> None:
    server = serve(raw_server, http_response(200, b"ok"))
    with pytest.raises(brisk.exceptions.InvalidHeader):
        client.get(server.url + "/x", headers={"X-Bad": "a\r\nInjected: yes"})
    assert server.requests == []


# ------------------------------------------------------------------------------------------- response


def test_response_basics(client: Client, raw_server: Any) -> None:
    body = b'{"hello": "world"}'
    server = serve(
        raw_server,
        http_response(200, body, [("Content-Type", "application/json"), ("X-Thing", "1")], reason="Fine"),
    )
    response = client.get(server.url + "/basics")
    assert response.status_code == 200
    assert response.reason == "Fine"
    assert response.ok is True
    assert bool(response) is True
    assert response.url == server.url + "/basics"
    assert response.history == []
    assert response.headers["x-thing"] == response.headers["X-THING"] == "1"
    assert "CONTENT-TYPE" in response.headers
    assert isinstance(response.headers, brisk.structures.CaseInsensitiveDict)
    assert response.content == body
    assert response.text == body.decode()
    assert response.json() == {"hello": "world"}
    assert response.encoding == "utf-8"
    assert repr(response) == "<Response [200]>"
    assert response.request.url == server.url + "/basics"


def test_error_status_is_falsy(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/status/404")
    assert response.status_code == 404
    assert response.ok is False
    assert not response
    assert client.get(app_server.url + "/status/500").ok is False
    assert client.get(app_server.url + "/status/399").ok is True


def test_multi_value_headers(client: Client, app_server: ServerThread) -> None:
    response = client.get(
        app_server.url + "/response-headers", params=[("X-Multi", "a"), ("X-Multi", "b"), ("X-One", "1")]
    )
    assert response.headers["x-multi"] == "a, b"
    assert response.headers.get_list("X-MULTI") == ["a", "b"]
    assert response.headers.get_list("x-one") == ["1"]
    assert response.headers.get_list("absent") == []
    cookies = client.get(app_server.url + "/set-cookie-raw", params=[("h", "a=1; Path=/"), ("h", "b=2")])
    assert cookies.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    assert cookies.cookies["a"] == "1"
    assert cookies.cookies["b"] == "2"


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("text/plain", "ISO-8859-1"),
        ("text/html; charset=UTF-8", "UTF-8"),
        ('text/html; charset="windows-1252"', "windows-1252"),
        ("application/json", "utf-8"),
        ("application/octet-stream", None),
        (None, None),
    ],
)
def test_encoding_from_content_type(
    client: Client, raw_server: Any, content_type: str | None, encoding: str | None
) -> None:
    headers = [("Content-Type", content_type)] if content_type else []
    server = serve(raw_server, http_response(200, b"x", headers))
    assert client.get(server.url + "/").encoding == encoding


def test_text_follows_the_encoding(client: Client, raw_server: Any) -> None:
    body = "café ✓".encode()
    server = serve(raw_server, http_response(200, body, [("Content-Type", "text/plain")]))
    response = client.get(server.url + "/")
    assert response.encoding == "ISO-8859-1"
    assert response.text == body.decode("latin-1")  # requests' rule for text/* without a charset
    response.encoding = "utf-8"
    assert response.text == "café ✓"


def test_apparent_encoding_and_text_without_charset(client: Client, raw_server: Any) -> None:
    body = ("Grüße aus Köln, schöne Straße. " * 20).encode("utf-8")
    latin = ("Grüße aus Köln, schöne Straße. " * 20).encode("latin-1")
    server = serve(
        raw_server,
        http_response(200, body, [("Content-Type", "application/octet-stream")]),
        http_response(200, latin, [("Content-Type", "application/octet-stream")]),
    )
    response = client.get(server.url + "/utf8")
    assert response.encoding is None
    assert response.apparent_encoding == "utf-8"
    assert response.text == body.decode("utf-8")
    other = client.get(server.url + "/latin")
    assert other.apparent_encoding is not None
    assert other.apparent_encoding.lower() != "utf-8"
    assert "Straße" in other.text


def test_json_on_html_raises_json_decode_error(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/html")
    with pytest.raises(brisk.JSONDecodeError) as caught:
        response.json()
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, json.JSONDecodeError)
    assert isinstance(error, RequestException)
    assert isinstance(error, brisk.exceptions.InvalidJSONError)
    assert error.pos == 0
    assert error.doc == response.text
    assert error.response is response
    with pytest.raises(brisk.exceptions.JSONDecodeError):
        client.get(app_server.url + "/bytes/0").json()  # empty body


def test_json_in_utf16_without_charset(client: Client, raw_server: Any) -> None:
    document = '{"name": "Zoë"}'.encode("utf-16-le")
    server = serve(raw_server, http_response(200, document, [("Content-Type", "application/x-thing")]))
    assert client.get(server.url + "/").json() == {"name": "Zoë"}


def test_json_kwargs_are_passed_to_the_parser(client: Client, app_server: ServerThread) -> None:
    from decimal import Decimal

    response = client.post(app_server.url + "/anything", data=b'{"x": 1.5}')
    assert response.json(parse_float=Decimal)["json"] == {"x": Decimal("1.5")}


# ------------------------------------------------------------------------------------------- streaming


def test_iter_content_exact_sizes(client: Client, app_server: ServerThread) -> None:
    reference = client.get(app_server.url + "/bytes/1000", params={"seed": 7}).content
    assert len(reference) == 1000
    response = client.get(app_server.url + "/bytes/1000", params={"seed": 7}, stream=True)
    chunks = client.chunks(response, 64)
    assert [len(c) for c in chunks] == [64] * 15 + [40]
    assert b"".join(chunks) == reference
    response = client.get(
        app_server.url + "/stream-bytes/5000", params={"seed": 7, "chunk_size": 333}, stream=True
    )
    chunks = client.chunks(response, 1024)
    assert [len(c) for c in chunks] == [1024] * 4 + [904]


def test_iter_content_decodes_gzip(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/gzip", stream=True)
    assert response.headers["Content-Encoding"] == "gzip"
    data = b"".join(client.chunks(response, 10))
    assert json.loads(data)["gzipped"] is True


def test_iter_content_decode_unicode(client: Client, raw_server: Any) -> None:
    text = "naïve café — ✓ 日本語"
    body = text.encode("utf-8")
    server = serve(raw_server, http_response(200, body, [("Content-Type", "text/plain; charset=utf-8")]))
    response = client.get(server.url + "/", stream=True)
    pieces = client.chunks(response, 1, decode_unicode=True)
    assert all(isinstance(piece, str) for piece in pieces)
    assert "".join(pieces) == text  # multi-byte characters split across 1-byte chunks are reassembled


def test_iter_lines(client: Client, raw_server: Any) -> None:
    body = b"first\nsecond\r\nthird\r\n\r\nlast"
    server = serve(raw_server, *(http_response(200, body) for _ in range(3)))
    response = client.get(server.url + "/", stream=True)
    assert client.lines(response) == [b"first", b"second", b"third", b"", b"last"]
    # a CRLF split across two chunks is one line end, not two
    response = client.get(server.url + "/", stream=True)
    assert client.lines(response, chunk_size=13) == [b"first", b"second", b"third", b"", b"last"]
    response = client.get(server.url + "/", stream=True)
    assert client.lines(response, chunk_size=1, decode_unicode=True) == [
        "first",
        "second",
        "third",
        "",
        "last",
    ]


def test_iter_lines_crlf_split_at_every_position(client: Client, raw_server: Any) -> None:
    body = b"a\r\nbb\r\nccc\r\n"
    server = serve(raw_server, *(http_response(200, body) for _ in range(1, 6)))
    for size in range(1, 6):
        response = client.get(server.url + "/", stream=True)
        assert client.lines(response, chunk_size=size) == [b"a", b"bb", b"ccc"], size


def test_iter_lines_with_delimiter(client: Client, raw_server: Any) -> None:
    server = serve(raw_server, http_response(200, b"a;bb;;c\nd;"), http_response(200, b"x||y||z"))
    response = client.get(server.url + "/", stream=True)
    assert client.lines(response, chunk_size=3, delimiter=b";") == [b"a", b"bb", b"", b"c\nd"]
    response = client.get(server.url + "/", stream=True)
    assert client.lines(response, chunk_size=1, delimiter="||", decode_unicode=True) == ["x", "y", "z"]


def test_iter_lines_of_a_streamed_endpoint(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/stream/5", stream=True)
    lines = client.lines(response)
    assert [json.loads(line)["id"] for line in lines] == [0, 1, 2, 3, 4]


def test_iter_raw_is_not_decoded(client: Client, app_server: ServerThread) -> None:
    decoded = client.get(app_server.url + "/gzip").content
    response = client.get(app_server.url + "/gzip", stream=True)
    raw = b"".join(client.raw_chunks(response))
    assert raw[:2] == b"\x1f\x8b"
    assert gzip.decompress(raw) == decoded


def test_stream_true_reads_the_body_later(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/bytes/200000", params={"seed": 3}, stream=True)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "200000"
    body = client.read(response)
    assert len(body) == 200_000
    assert response.content == body  # cached after the read
    # the connection went back to the pool: the next request works on the same session
    assert client.get(app_server.url + "/get").status_code == 200


def test_session_stream_setting(client_factory: Any, app_server: ServerThread) -> None:
    client = client_factory(stream=True)
    response = client.get(app_server.url + "/bytes/10", params={"seed": 1})
    assert response._content is None  # not read yet
    assert len(client.read(response)) == 10
    eager = client.get(app_server.url + "/bytes/10", params={"seed": 1}, stream=False)
    assert eager._content is not None


def test_reading_a_consumed_stream_twice(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/bytes/100", params={"seed": 1}, stream=True)
    assert len(b"".join(client.chunks(response, 10))) == 100
    with pytest.raises(StreamConsumedError) as caught:
        client.chunks(response, 10)
    assert isinstance(caught.value, RequestException)
    assert isinstance(caught.value, TypeError)  # requests' StreamConsumedError is also a TypeError
    with pytest.raises(RuntimeError, match="already consumed"):
        client.read(response)


def test_iter_content_after_content_replays_from_memory(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/bytes/100", params={"seed": 1})
    first = client.chunks(response, 30)
    second = client.chunks(response, 30)
    assert first == second
    assert b"".join(first) == response.content
    assert client.lines(response) == response.content.splitlines()


def test_close_releases_an_unread_stream(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/bytes/300000", params={"seed": 1}, stream=True)
    client.close_response(response)
    # a half-read connection must not be handed to the next request
    after = client.get(app_server.url + "/bytes/50", params={"seed": 2})
    assert len(after.content) == 50
    assert client.get(app_server.url + "/get").json()["url"] == app_server.url + "/get"


def test_close_of_an_unread_stream_closes_its_connection(client: Client, raw_server: Any) -> None:
    closed = threading.Event()

    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(http_response(200, b"small"))  # read completely: the connection is kept
        conn.recv_request()
        try:
            conn.send(http_response(200, b"x" * 2_000_000))  # left unread: the connection must close
            conn.wait_closed(5)
        except OSError:
            pass  # reset while still sending: closed as well
        closed.set()

    server: RawServer = raw_server(handler)
    small = client.get(server.url + "/small", stream=True)
    assert client.read(small) == b"small"
    client.close_response(small)
    large = client.get(server.url + "/large", stream=True)
    assert server.connection_count == 1  # the fully read response gave its connection back
    assert not closed.is_set()
    client.close_response(large)
    assert closed.wait(5), "closing an unread streamed response must close its connection"


def test_close_stops_a_partly_read_stream(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/stream-bytes/200000", params={"chunk_size": 1000}, stream=True)
    pieces = client.iterate(response, 1000)
    assert len(next(pieces)) == 1000
    client.close_response(response)
    assert client.get(app_server.url + "/bytes/5", params={"seed": 1}).status_code == 200


def test_response_as_context_manager(app_server: ServerThread, loop_thread: Any) -> None:
    with brisk.Session() as session:
        with session.get(app_server.url + "/bytes/300000", stream=True) as response:
            assert response.status_code == 200
        with session.get(app_server.url + "/bytes/10", params={"seed": 1}, stream=True) as response:
            assert len(response.content) == 10
        assert session.get(app_server.url + "/get").ok

    async def run() -> None:
        async with brisk.AsyncSession() as session:
            async with await session.get(app_server.url + "/bytes/300000", stream=True) as response:
                assert response.status_code == 200
            async with await session.get(app_server.url + "/bytes/10", stream=True) as response:
                assert len(await response.aread()) == 10
            assert (await session.get(app_server.url + "/get")).ok

    loop_thread.run(run())


def test_raw_read(app_server: ServerThread) -> None:
    # response.raw is the sync, urllib3-style file view of the body (requests hands out urllib3's response)
    with brisk.Session() as session:
        decoded = session.get(app_server.url + "/gzip").content
        response = session.get(app_server.url + "/gzip", stream=True)
        first = response.raw.read(2)
        assert first == b"\x1f\x8b"  # raw means undecoded by default
        rest = response.raw.read()
        assert gzip.decompress(first + rest) == decoded
        assert response.raw.read() == b""

        response = session.get(app_server.url + "/gzip", stream=True)
        assert response.raw.read(decode_content=True) == decoded

        response = session.get(app_server.url + "/gzip", stream=True)
        response.raw.decode_content = True
        out = io.BytesIO()
        import shutil

        shutil.copyfileobj(response.raw, out)
        assert out.getvalue() == decoded

        response = session.get(app_server.url + "/bytes/1000", params={"seed": 5}, stream=True)
        sizes = [len(response.raw.read(300)) for _ in range(5)]
        assert sizes == [300, 300, 300, 100, 0]


def test_raw_after_the_body_was_read(app_server: ServerThread) -> None:
    # requests hands out urllib3's response, which is at its end (and closed) once the body was read
    with brisk.Session() as session:
        response = session.get(app_server.url + "/bytes/100", params={"seed": 2})
        assert len(response.content) == 100
        assert response.raw.read() == b""
        assert response.raw.closed

        with session.get(app_server.url + "/stream/2", stream=True) as streamed:
            assert not streamed.raw.closed
        assert streamed.raw.closed  # closed by `with`, unread

        streamed = session.get(app_server.url + "/bytes/10", params={"seed": 2}, stream=True)
        assert len(streamed.raw.read(4)) == 4
        assert not streamed.raw.closed
        assert len(streamed.raw.read()) == 6
        assert streamed.raw.closed  # read to its end

        streamed = session.get(app_server.url + "/bytes/10", params={"seed": 2}, stream=True)
        assert len(b"".join(streamed.iter_content(3))) == 10
        assert streamed.raw.read() == b""


def test_a_raw_set_on_a_real_response_becomes_its_body(app_server: ServerThread) -> None:
    class Counting:
        """Wraps a raw to count what is read through it (a progress bar does this)."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.seen = 0

        def read(self, amt: int | None = None) -> bytes:
            data: bytes = self.inner.read(amt)
            self.seen += len(data)
            return data

    with brisk.Session() as session:
        url = app_server.url + "/bytes/5000"
        expected = session.get(url, params={"seed": 3}).content
        response = session.get(url, params={"seed": 3}, stream=True)
        counting = Counting(response.raw)
        response.raw = counting  # wraps the response's own raw: that one still reads the network
        assert response.content == expected
        assert counting.seen == 5000

        response = session.get(app_server.url + "/bytes/50", stream=True)
        response.raw = io.BytesIO(b"replaced")
        assert response.content == b"replaced"
        assert session.get(app_server.url + "/get").ok

    # One connection in the pool: after the response whose view was taken (r.raw read before the new raw was
    # set) is closed, that connection is free again for the next request.
    with brisk.Session(limits=brisk.Limits(max_connections_per_host=1)) as session:
        response = session.get(app_server.url + "/bytes/50000", stream=True)
        view = response.raw
        response.raw = io.BytesIO(b"fake")
        assert response.content == b"fake"
        response.close()
        assert view is not None
        assert session.get(app_server.url + "/get", timeout=brisk.Timeout(10, pool=2)).ok


def test_a_pickled_response_has_a_read_raw(app_server: ServerThread) -> None:
    with brisk.Session() as session:
        response = session.get(app_server.url + "/cookies/set", params={"k": "v"}, allow_redirects=False)
        copied = pickle.loads(pickle.dumps(response))
    assert copied.status_code == 302
    assert copied.cookies["k"] == "v"
    assert copied.headers["location"] == "/cookies"
    assert copied.content == response.content
    assert copied.raw.read() == b""
    assert copied.raw.closed


# --------------------------------------------------------------------------------------- raise_for_status


def test_raise_for_status_message(client: Client, raw_server: Any) -> None:
    server = serve(
        raw_server,
        http_response(404, b"nope", reason="NOT FOUND"),
        http_response(503, b"busy", reason="SERVICE UNAVAILABLE"),
        http_response(200, b"fine"),
    )
    missing = client.get(server.url + "/missing?q=1")
    with pytest.raises(brisk.HTTPError) as caught:
        missing.raise_for_status()
    assert str(caught.value) == f"404 Client Error: NOT FOUND for url: {server.url}/missing?q=1"
    assert caught.value.response is missing
    assert caught.value.request is missing.request
    busy = client.get(server.url + "/busy")
    with pytest.raises(brisk.exceptions.HTTPError, match=r"^503 Server Error: SERVICE UNAVAILABLE for url: "):
        busy.raise_for_status()
    fine = client.get(server.url + "/fine")
    assert fine.raise_for_status() is None


# -------------------------------------------------------------------------------------------- redirects


@pytest.mark.parametrize(
    ("code", "permanent"), [(301, True), (302, False), (303, False), (307, False), (308, True)]
)
def test_redirect_properties_and_next(
    client: Client, app_server: ServerThread, code: int, permanent: bool
) -> None:
    response = client.get(
        app_server.url + "/redirect-to",
        params={"url": "/get?x=1", "status_code": code},
        allow_redirects=False,
    )
    assert response.status_code == code
    assert response.is_redirect is True
    assert response.is_permanent_redirect is permanent
    assert response.history == []
    following = response.next
    assert isinstance(following, brisk.PreparedRequest)
    assert following.url == app_server.url + "/get?x=1"
    assert following.method == "GET"
    final = client.send(following)
    assert echo(final)["args"] == {"x": "1"}


def test_not_a_redirect(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/get", allow_redirects=False)
    assert response.is_redirect is False
    assert response.is_permanent_redirect is False
    assert response.next is None


# ------------------------------------------------------------------------------------- links, timings


def test_links(client: Client, app_server: ServerThread) -> None:
    link = (
        '<https://api.example.org/items?page=2>; rel="next", '
        '<https://api.example.org/items?page=9>; rel="last"'
    )
    response = client.get(app_server.url + "/response-headers", params={"Link": link})
    assert response.links == {
        "next": {"url": "https://api.example.org/items?page=2", "rel": "next"},
        "last": {"url": "https://api.example.org/items?page=9", "rel": "last"},
    }
    assert client.get(app_server.url + "/get").links == {}


def test_elapsed(client: Client, app_server: ServerThread) -> None:
    quick = client.get(app_server.url + "/get")
    assert quick.elapsed.total_seconds() > 0
    slow = client.get(app_server.url + "/delay/0.2")
    assert slow.elapsed.total_seconds() >= 0.2
    assert slow.elapsed.total_seconds() < 10


def test_http_version(client: Client, app_server: ServerThread, raw_server: Any) -> None:
    assert client.get(app_server.url + "/get").http_version == "HTTP/1.1"
    server = raw_server(canned(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    old = client.get(server.url + "/")
    assert old.http_version == "HTTP/1.0"
    assert old.content == b"ok"


# -------------------------------------------------------------------------------------------- pickling


def test_pickle_a_response(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/redirect/1", params={"p": "1"})
    copy = pickle.loads(pickle.dumps(response))
    assert copy.status_code == 200
    assert copy.url == response.url
    assert copy.content == response.content
    assert copy.json() == response.json()
    assert copy.headers["content-type"] == "application/json"
    assert copy.encoding == response.encoding
    assert copy.reason == response.reason
    assert copy.elapsed == response.elapsed
    assert [r.status_code for r in copy.history] == [302]
    assert copy.request.url == response.request.url


def test_pickle_reads_an_unread_stream(client: Client, app_server: ServerThread) -> None:
    response = client.get(app_server.url + "/bytes/64", params={"seed": 9}, stream=True)
    if client.mode == "async":
        client.read(response)  # an async body must be awaited before it can be pickled
    copy = pickle.loads(pickle.dumps(response))
    assert copy.content == response.content
    assert len(copy.content) == 64


# ----------------------------------------------------------------------------------- Response() for mocks


def test_response_constructible_like_requests() -> None:
    response = brisk.Response()
    assert response.status_code is None
    assert response.history == []
    assert response.headers == {}
    assert response.encoding is None
    # the way requests users build mock responses: set attributes afterwards
    response.status_code = 200
    response._content = b'{"mocked": true}'
    response.headers["Content-Type"] = "application/json"
    response.url = "https://example.org/x"
    assert response.json() == {"mocked": True}
    assert response.ok
    response.status_code = 418
    response.reason = "I'M A TEAPOT"
    with pytest.raises(brisk.HTTPError) as caught:
        response.raise_for_status()
    assert str(caught.value) == "418 Client Error: I'M A TEAPOT for url: https://example.org/x"


def test_response_with_content_json_and_status() -> None:
    made = brisk.Response(201, json={"id": 7}, headers={"X-Mock": "1"}, url="https://example.org/items")
    assert made.status_code == 201
    assert made.json() == {"id": 7}
    assert made.headers["content-type"] == "application/json"
    assert made.headers["x-mock"] == "1"
    assert made.url == "https://example.org/items"
    assert made.ok
    assert made.encoding == "utf-8"
    assert list(made.iter_content(3)) == [b'{"i', b'd":', b" 7}"]
    raw = brisk.Response(500, content=b"\x00\x01")
    assert raw.content == b"\x00\x01"
    assert not raw.ok
    text = brisk.Response(200, text="héllo")
    assert text.text == "héllo"
    assert text.content == "héllo".encode()
    assert pickle.loads(pickle.dumps(made)).json() == {"id": 7}


def test_tls_url_and_response(client_factory: Any, tls_app_server: ServerThread, ca_bundle: str) -> None:
    client = client_factory(verify=ca_bundle)
    response = client.get(tls_app_server.url + "/get", params={"s": "1"})
    assert response.url == tls_app_server.url + "/get?s=1"
    assert echo(response)["args"] == {"s": "1"}


def test_raw_server_sees_one_connection_for_keep_alive(client: Client, raw_server: Any) -> None:
    def handler(conn: RawConnection) -> None:
        while conn.recv_request() is not None:
            conn.send(http_response(200, b"ok"))

    server = raw_server(handler)
    for _ in range(3):
        assert client.get(server.url + "/").content == b"ok"
    assert server.connection_count == 1
