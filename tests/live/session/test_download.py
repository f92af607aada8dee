"""``download()``: resume with Range + If-Range, restart when the server or the resource says so, verify.

Each behaviour runs on Session and AsyncSession (the ``client`` fixture). ``Origin`` is a raw-socket file
server that answers ranges like a real one and can be told to misbehave: cut a body in half, ignore Range,
ignore If-Range, change the file, send short ranges.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk._session.download import _content_range, parse_checksum
from brisk.exceptions import ChecksumMismatch, ChunkedEncodingError, DownloadError, HTTPError, SizeMismatch
from servers.clients import Client
from servers.raw import RawConnection, RawRequest, http_response

pytestmark = pytest.mark.timeout(30)

DATA = random.Random(1).randbytes(200_000)
OTHER = random.Random(2).randbytes(150_000)
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Origin:
    """A file server on raw sockets. Requests are numbered from 0 across connections.

    :param drop: numbers of the requests whose body is cut after half, then the connection closed.
    :param switch_at: from this request on, serve ``OTHER`` with ETag ``"v2"`` (the file changed).
    """

    def __init__(
        self,
        data: bytes = DATA,
        *,
        etag: str | None = '"v1"',
        last_modified: str | None = None,
        drop: tuple[int, ...] = (),
        honour_range: bool = True,
        honour_if_range: bool = True,
        switch_at: int | None = None,
        new_data: bytes = OTHER,
        new_etag: str | None = '"v2"',
        max_range: int | None = None,
    ) -> None:
        self.data, self.etag, self.last_modified = data, etag, last_modified
        self.drop = drop
        self.honour_range, self.honour_if_range = honour_range, honour_if_range
        self.switch_at, self.new_data, self.new_etag = switch_at, new_data, new_etag
        self.max_range = max_range
        self.count = 0

    def __call__(self, conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            number, self.count = self.count, self.count + 1
            if self.switch_at is not None and number >= self.switch_at:
                self.data, self.etag = self.new_data, self.new_etag
            status, headers, body = self.answer(request)
            if number in self.drop:
                wire = http_response(status, body, [*headers, ("Content-Length", str(len(body)))])
                conn.send(wire[: len(wire) - len(body) + len(body) // 2])
                conn.close()
                return
            conn.send(http_response(status, body, headers))

    def answer(self, request: RawRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        data = self.data
        headers = [("Content-Type", "application/octet-stream"), ("Accept-Ranges", "bytes")]
        if self.etag:
            headers.append(("ETag", self.etag))
        if self.last_modified:
            headers.append(("Last-Modified", self.last_modified))
        asked = request.header("range")
        if_range = request.header("if-range")
        current = if_range is None or if_range in (self.etag, self.last_modified) or not self.honour_if_range
        if not asked or not self.honour_range or not current:
            return 200, headers, data
        start = int(asked.removeprefix("bytes=").split("-")[0])
        if start >= len(data):
            return 416, [*headers, ("Content-Range", f"bytes */{len(data)}")], b""
        end = len(data) - 1 if self.max_range is None else min(len(data) - 1, start + self.max_range - 1)
        return 206, [*headers, ("Content-Range", f"bytes {start}-{end}/{len(data)}")], data[start : end + 1]


def leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(target.name + "."))


def write_part(target: Path, data: bytes, url: str, **meta: Any) -> None:
    target.with_name(target.name + ".part").write_bytes(data)
    record = {"url": url, "etag": None, "last_modified": None, "total": None, **meta}
    target.with_name(target.name + ".part.json").write_text(json.dumps(record))


# -- the plain case ----------------------------------------------------------------------------------------


def test_download_writes_the_file_atomically(client: Client, app_server: Any, tmp_path: Path) -> None:
    target = tmp_path / "letters.bin"
    expected = bytes(97 + i % 26 for i in range(50_000))
    result = client.download(app_server.url + "/range/50000", target)
    assert result == brisk.DownloadResult(target, 50_000, 50_000, False, False, 200)
    assert target.read_bytes() == expected
    assert leftovers(target) == []


def test_download_into_a_directory_takes_the_url_name(
    client: Client, app_server: Any, tmp_path: Path
) -> None:
    result = client.download(app_server.url + "/range/100", tmp_path)
    assert result.path == tmp_path / "100"
    assert result.path.read_bytes() == bytes(97 + i % 26 for i in range(100))


def test_request_arguments_pass_through(client: Client, raw_server: Any, tmp_path: Path) -> None:
    server = raw_server(Origin())
    client.download(server.url + "/f", tmp_path / "f", headers={"X-Trace": "7"}, timeout=10, stream=False)
    (request,) = server.requests
    assert request.header("x-trace") == "7"
    assert request.header("accept-encoding") == "identity"  # the file is stored as the server sends it
    assert request.header("range") is None


def test_http_error_creates_nothing(client: Client, app_server: Any, tmp_path: Path) -> None:
    with pytest.raises(HTTPError) as caught:
        client.download(app_server.url + "/status/404", tmp_path / "missing")
    assert caught.value.response.status_code == 404
    assert list(tmp_path.iterdir()) == []


# -- resuming ----------------------------------------------------------------------------------------------


def test_dropped_connection_is_resumed_with_range_and_if_range(
    client: Client, raw_server: Any, tmp_path: Path
) -> None:
    server = raw_server(Origin(drop=(0,)))
    target = tmp_path / "file.bin"
    result = client.download(server.url + "/file.bin", target)
    first, second = server.requests
    assert first.header("range") is None
    assert second.header("range") == f"bytes={len(DATA) // 2}-"
    assert second.header("if-range") == '"v1"'
    assert sha256(target.read_bytes()) == sha256(DATA)
    assert (result.resumed, result.restarted, result.status) == (True, False, 206)
    assert result.downloaded == result.total == len(DATA)
    assert leftovers(target) == []


def test_interrupted_download_resumes_in_the_next_call(
    client: Client, raw_server: Any, tmp_path: Path
) -> None:
    # No ETag: Last-Modified is the validator.
    server = raw_server(Origin(etag=None, last_modified=LAST_MODIFIED, drop=(0,)))
    target = tmp_path / "file.bin"
    with pytest.raises(ChunkedEncodingError):
        client.download(server.url + "/file.bin", target, max_resumes=0)
    assert not target.exists()
    assert target.with_name("file.bin.part").read_bytes() == DATA[: len(DATA) // 2]
    meta = json.loads(target.with_name("file.bin.part.json").read_text())
    assert meta["last_modified"] == LAST_MODIFIED
    assert meta["total"] == len(DATA)

    result = client.download(server.url + "/file.bin", target)
    second = server.requests[1]
    assert second.header("range") == f"bytes={len(DATA) // 2}-"
    assert second.header("if-range") == LAST_MODIFIED
    assert sha256(target.read_bytes()) == sha256(DATA)
    assert result.resumed
    assert not result.restarted
    assert result.downloaded == len(DATA) - len(DATA) // 2
    assert leftovers(target) == []


def test_resume_reaches_the_app_server(client: Client, app_server: Any, tmp_path: Path) -> None:
    url = app_server.url + "/range/30000"
    whole = bytes(97 + i % 26 for i in range(30_000))
    target = tmp_path / "r"
    write_part(target, whole[:12_345], url, etag='"range-30000"', total=30_000)
    result = client.download(url, target)
    assert (result.status, result.resumed, result.downloaded) == (206, True, 30_000 - 12_345)
    assert target.read_bytes() == whole


def test_short_ranges_are_continued(client: Client, raw_server: Any, tmp_path: Path) -> None:
    server = raw_server(Origin(drop=(0,), max_range=30_000))
    target = tmp_path / "f"
    result = client.download(server.url + "/f", target)
    assert target.read_bytes() == DATA
    assert len(server.requests) == 5  # half, then four ranges of at most 30 000 bytes
    assert result.resumed


def test_gives_up_after_max_resumes(client: Client, raw_server: Any, tmp_path: Path) -> None:
    server = raw_server(Origin(drop=(0, 1, 2)))
    target = tmp_path / "f"
    with pytest.raises(ChunkedEncodingError):
        client.download(server.url + "/f", target, max_resumes=2)
    assert len(server.requests) == 3
    part = target.with_name("f.part").read_bytes()
    assert DATA.startswith(part)
    assert len(part) > len(DATA) // 2
    client.download(server.url + "/f", target)
    assert target.read_bytes() == DATA


def test_resume_false_starts_from_scratch(client: Client, raw_server: Any, tmp_path: Path) -> None:
    server = raw_server(Origin())
    target = tmp_path / "f"
    write_part(target, DATA[:1000], server.url + "/f", etag='"v1"', total=len(DATA))
    result = client.download(server.url + "/f", target, resume=False)
    assert server.requests[0].header("range") is None
    assert (result.resumed, result.restarted, result.downloaded) == (False, False, len(DATA))
    assert target.read_bytes() == DATA


@pytest.mark.parametrize(
    "meta",
    [
        {"url": "http://elsewhere.invalid/f", "etag": '"v1"'},  # another URL's part
        {"etag": None, "last_modified": None},  # nothing to validate the part with
        {"etag": '"v1"', "total": 10},  # a part longer than the file was
    ],
    ids=["other-url", "no-validator", "too-long"],
)
def test_unusable_part_is_discarded(
    client: Client, raw_server: Any, tmp_path: Path, meta: dict[str, Any]
) -> None:
    server = raw_server(Origin())
    target = tmp_path / "f"
    write_part(target, b"x" * 1000, server.url + "/f")
    record = json.loads(target.with_name("f.part.json").read_text())
    target.with_name("f.part.json").write_text(json.dumps({**record, **meta}))
    result = client.download(server.url + "/f", target)
    assert server.requests[0].header("range") is None
    assert not result.resumed
    assert target.read_bytes() == DATA


def test_no_validator_means_no_range(client: Client, raw_server: Any, tmp_path: Path) -> None:
    """Without ETag or Last-Modified a part cannot be proven current: the next attempt starts over."""
    server = raw_server(Origin(etag=None, drop=(0,)))
    target = tmp_path / "f"
    result = client.download(server.url + "/f", target)
    assert [r.header("range") for r in server.requests] == [None, None]
    assert (result.restarted, result.resumed, result.status) == (True, False, 200)
    assert target.read_bytes() == DATA


# -- starting over -----------------------------------------------------------------------------------------


def test_server_ignoring_range_means_start_over(client: Client, raw_server: Any, tmp_path: Path) -> None:
    server = raw_server(Origin(drop=(0,), honour_range=False))
    target = tmp_path / "f"
    result = client.download(server.url + "/f", target)
    assert server.requests[1].header("range") == f"bytes={len(DATA) // 2}-"
    assert (result.restarted, result.resumed, result.status) == (True, False, 200)
    assert result.downloaded == len(DATA) // 2 + len(DATA)
    assert sha256(target.read_bytes()) == sha256(DATA)


def test_app_ignoring_range_means_start_over(client: Client, app_server: Any, tmp_path: Path) -> None:
    url = app_server.url + "/bytes/100000?seed=5"  # /bytes has no Range support
    expected = client.read(client.get(url))
    target = tmp_path / "b"
    write_part(target, expected[:40_000][::-1], url, etag='"whatever"')
    result = client.download(url, target)
    assert (result.restarted, result.status) == (True, 200)
    assert target.read_bytes() == expected


def test_changed_resource_if_range_gives_the_new_file(
    client: Client, raw_server: Any, tmp_path: Path
) -> None:
    server = raw_server(Origin(drop=(0,), switch_at=1))
    target = tmp_path / "f"
    result = client.download(server.url + "/f", target)
    assert server.requests[1].header("if-range") == '"v1"'
    assert (result.restarted, result.status, result.total) == (True, 200, len(OTHER))
    assert sha256(target.read_bytes()) == sha256(OTHER)


@pytest.mark.parametrize(
    ("new_data", "new_etag"),
    [(OTHER, '"v2"'), (DATA + b"more", '"v1"')],
    ids=["etag-changed", "length-changed"],
)
def test_changed_resource_behind_a_server_ignoring_if_range(
    client: Client, raw_server: Any, tmp_path: Path, new_data: bytes, new_etag: str
) -> None:
    """The server answers 206 whatever If-Range says: the new ETag or total gives the change away."""
    origin = Origin(drop=(0,), switch_at=1, honour_if_range=False, new_data=new_data, new_etag=new_etag)
    server = raw_server(origin)
    target = tmp_path / "f"
    result = client.download(server.url + "/f", target)
    ranges = [r.header("range") for r in server.requests]
    assert ranges == [None, f"bytes={len(DATA) // 2}-", None]  # the 206 was refused, a plain GET followed
    assert result.restarted
    assert not result.resumed
    assert target.read_bytes() == new_data


def test_changed_resource_on_the_app_server(client: Client, app_server: Any, tmp_path: Path) -> None:
    url = app_server.url + "/range/20000"
    target = tmp_path / "r"
    write_part(target, b"z" * 5000, url, etag='"an-old-version"', total=20_000)
    result = client.download(url, target)
    assert (result.restarted, result.status) == (True, 200)
    assert target.read_bytes() == bytes(97 + i % 26 for i in range(20_000))


# -- 416 ---------------------------------------------------------------------------------------------------


def test_part_already_complete_416(client: Client, app_server: Any, tmp_path: Path) -> None:
    url = app_server.url + "/range/8000"
    whole = bytes(97 + i % 26 for i in range(8000))
    target = tmp_path / "done"
    write_part(target, whole, url, etag='"range-8000"', total=8000)
    result = client.download(url, target, checksum="sha256:" + sha256(whole))
    assert (result.status, result.downloaded, result.total, result.resumed) == (416, 0, 8000, True)
    assert target.read_bytes() == whole
    assert leftovers(target) == []


def test_416_for_a_part_longer_than_the_file_starts_over(
    client: Client, app_server: Any, tmp_path: Path
) -> None:
    url = app_server.url + "/range/8000"
    target = tmp_path / "long"
    write_part(target, b"a" * 9000, url, etag='"range-8000"')  # total unknown: the server must tell
    result = client.download(url, target)
    assert (result.status, result.restarted) == (200, True)
    assert target.read_bytes() == bytes(97 + i % 26 for i in range(8000))


# -- verification ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "sha1", "md5", "sha512", "blake2b", "sha3_256"])
def test_checksum_ok(client: Client, app_server: Any, tmp_path: Path, algorithm: str) -> None:
    whole = bytes(97 + i % 26 for i in range(5000))
    digest = hashlib.new(algorithm, whole).hexdigest()
    result = client.download(app_server.url + "/range/5000", tmp_path / "c", checksum=f"{algorithm}:{digest}")
    assert result.path.read_bytes() == whole


def test_checksum_covers_the_resumed_part(client: Client, raw_server: Any, tmp_path: Path) -> None:
    server = raw_server(Origin(drop=(0,)))
    target = tmp_path / "f"
    client.download(server.url + "/f", target, checksum="sha256:" + sha256(DATA).upper())
    assert target.read_bytes() == DATA


def test_checksum_mismatch_raises_and_leaves_no_file(client: Client, app_server: Any, tmp_path: Path) -> None:
    target = tmp_path / "bad"
    wrong = "0" * 64
    with pytest.raises(ChecksumMismatch) as caught:
        client.download(app_server.url + "/range/5000", target, checksum=f"sha256:{wrong}")
    error = caught.value
    assert isinstance(error, DownloadError)
    assert isinstance(error, brisk.RequestException)
    assert error.expected == wrong
    assert error.actual == sha256(bytes(97 + i % 26 for i in range(5000)))
    assert error.path == target
    assert "sha256" in str(error)
    assert "/range/5000" in str(error)
    assert list(tmp_path.iterdir()) == []


def test_size_mismatch_raises_and_deletes(client: Client, raw_server: Any, tmp_path: Path) -> None:
    """A 206 whose Content-Range promises the rest of the file but whose body is shorter."""

    def handler(conn: RawConnection) -> None:
        while (request := conn.recv_request()) is not None:
            headers = [("ETag", '"v1"'), ("Accept-Ranges", "bytes")]
            if request.header("range") is None:
                wire = http_response(200, DATA, headers)
                conn.send(wire[: len(wire) - len(DATA) // 2])
                conn.close()
                return
            start = len(DATA) // 2
            range_header = ("Content-Range", f"bytes {start}-{len(DATA) - 1}/{len(DATA)}")
            conn.send(http_response(206, DATA[start : start + 10], [*headers, range_header]))

    server = raw_server(handler)
    target = tmp_path / "f"
    with pytest.raises(SizeMismatch, match="ended at byte"):
        client.download(server.url + "/f", target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "checksum", ["sha256", "sha256:", "sha256:xyz", "nosuch:00", "sha256:" + "0" * 63, "shake_128:00"]
)
def test_bad_checksum_argument(client: Client, raw_server: Any, tmp_path: Path, checksum: str) -> None:
    server = raw_server(Origin())
    with pytest.raises(ValueError, match=r"checksum|algorithm"):
        client.download(server.url + "/f", tmp_path / "f", checksum=checksum)
    assert server.requests == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("keywords", [{"resum": False}, {"method": "POST"}, {"chunksize": 10}])
def test_unknown_keyword_is_a_type_error(
    client: Client, raw_server: Any, tmp_path: Path, keywords: dict[str, Any]
) -> None:
    """A keyword neither the download's nor request()'s would be ignored: refused, naming it, before any
    request or file."""
    server = raw_server(Origin())
    (name,) = keywords
    with pytest.raises(TypeError, match=rf"download\(\) got unexpected keyword argument '{name}'"):
        client.download(server.url + "/f", tmp_path / "f", **keywords)
    assert server.requests == []
    assert list(tmp_path.iterdir()) == []


def test_206_without_range_is_an_error(client: Client, raw_server: Any, tmp_path: Path) -> None:
    body = b"partial"
    response = http_response(206, body, [("Content-Range", "bytes 0-6/100")])
    server = raw_server(lambda conn: (conn.recv_request(), conn.send(response)))
    with pytest.raises(DownloadError, match="206"):
        client.download(server.url + "/f", tmp_path / "f")
    assert not (tmp_path / "f").exists()


# -- progress ----------------------------------------------------------------------------------------------


def test_download_progress_is_monotonic_and_ends_at_the_total(
    client: Client, app_server: Any, tmp_path: Path
) -> None:
    calls: list[tuple[int, int | None]] = []
    size = 1_000_000
    client.download(
        app_server.url + f"/bytes/{size}?seed=9",
        tmp_path / "p",
        chunk_size=64 * 1024,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[0] == (0, size)
    assert calls[-1] == (size, size)
    assert len(calls) == 2 + size // (64 * 1024)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert {t for _, t in calls} == {size}


def test_resumed_progress_starts_at_the_part(client: Client, raw_server: Any, tmp_path: Path) -> None:
    server = raw_server(Origin())
    target = tmp_path / "f"
    write_part(target, DATA[:50_000], server.url + "/f", etag='"v1"', total=len(DATA))
    calls: list[tuple[int, int | None]] = []
    client.download(server.url + "/f", target, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (50_000, len(DATA))
    assert calls[-1] == (len(DATA), len(DATA))


def test_progress_of_a_chunked_download_has_no_total(client: Client, app_server: Any, tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    client.download(
        app_server.url + "/stream-bytes/100000?seed=2&chunk_size=7000",
        tmp_path / "s",
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[-1] == (100_000, None)
    assert {t for _, t in calls} == {None}


# -- the top-level function and the helpers ----------------------------------------------------------------


def test_brisk_download(app_server: Any, tmp_path: Path) -> None:
    result = brisk.download(app_server.url + "/range/300", tmp_path / "x", checksum=None)
    assert isinstance(result, brisk.DownloadResult)
    assert result.path.read_bytes() == bytes(97 + i % 26 for i in range(300))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes 10-99/100", (10, 99, 100)),
        ("bytes 0-0/*", (0, 0, None)),
        ("bytes */500", (None, None, 500)),
        ("BYTES  5-6 / 7", (5, 6, 7)),
        ("bytes 10-5/100", None),
        ("bytes 0-100/100", None),
        ("items 0-1/2", None),
        ("bytes 1-2", None),
        (None, None),
    ],
)
def test_content_range(value: str | None, expected: Any) -> None:
    assert _content_range(value) == expected


def test_parse_checksum() -> None:
    digest = "a" * 64
    assert parse_checksum(f"SHA-256:{digest.upper()}") == ("sha256", digest)
