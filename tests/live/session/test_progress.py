"""Upload progress (``progress=`` on every request) and the terminal progress bar."""

from __future__ import annotations

import io
import random
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk._request.body import CHUNK_SIZE, FileBody, IterBody, ProgressBody, with_progress
from brisk.exceptions import UnrewindableBodyError
from brisk.progress import ProgressBar, format_bytes, format_duration
from servers.clients import Client
from servers.raw import RawConnection, http_response

pytestmark = pytest.mark.timeout(30)

BLOB = random.Random(3).randbytes(300_000)


class Recorder:
    """A progress callback that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []

    def __call__(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))

    @property
    def done(self) -> list[int]:
        return [d for d, _ in self.calls]

    def check(self, size: int, total: int | None) -> None:
        """Starts at 0, never goes back, ends at exactly ``size``; ``total`` throughout."""
        assert self.calls, "the callback was never called"
        assert self.calls[0] == (0, total)
        assert self.calls[-1] == (size, total)
        assert self.done == sorted(self.done)
        assert {t for _, t in self.calls} == {total}


def upload(client: Client, app_server: Any, progress: Recorder, **kwargs: Any) -> dict[str, Any]:
    response = client.post(app_server.url + "/upload", progress=progress, **kwargs)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


# -- what reaches the callback -----------------------------------------------------------------------------


def test_bytes_body(client: Client, app_server: Any) -> None:
    progress = Recorder()
    echoed = upload(client, app_server, progress, data=BLOB)
    assert echoed["bytes"] == len(BLOB)
    progress.check(len(BLOB), len(BLOB))
    assert len(progress.calls) == 1 + -(-len(BLOB) // CHUNK_SIZE)  # one call per 64 KiB piece


def test_small_body_and_json(client: Client, app_server: Any) -> None:
    progress = Recorder()
    echoed = upload(client, app_server, progress, json={"a": 1})
    assert progress.calls == [(0, echoed["bytes"]), (echoed["bytes"], echoed["bytes"])]


def test_file_body(client: Client, app_server: Any, tmp_path: Path) -> None:
    path = tmp_path / "up.bin"
    path.write_bytes(BLOB * 4)
    progress = Recorder()
    with path.open("rb") as f:
        echoed = upload(client, app_server, progress, data=f)
    assert echoed["bytes"] == len(BLOB) * 4
    progress.check(len(BLOB) * 4, len(BLOB) * 4)


def test_multipart_body_with_a_file(client: Client, app_server: Any, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(BLOB * 5)  # over the size that is joined in memory: streamed
    progress = Recorder()
    with path.open("rb") as f:
        echoed = upload(client, app_server, progress, files={"photo": f}, data={"title": "holiday"})
    size = echoed["bytes"]
    assert size > len(BLOB) * 5
    progress.check(size, size)


def test_small_multipart_body(client: Client, app_server: Any) -> None:
    progress = Recorder()
    echoed = upload(client, app_server, progress, files={"a": ("a.txt", b"hello")})
    progress.check(echoed["bytes"], echoed["bytes"])


def test_generator_body_has_no_total(client: Client, app_server: Any) -> None:
    def pieces() -> Iterator[bytes]:
        for start in range(0, len(BLOB), 10_000):
            yield BLOB[start : start + 10_000]

    progress = Recorder()
    echoed = upload(client, app_server, progress, data=pieces())
    assert echoed["bytes"] == len(BLOB)
    progress.check(len(BLOB), None)
    assert len(progress.calls) == 1 + 30


def test_async_generator_body(client: Client, app_server: Any) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(BLOB), 50_000):
            yield BLOB[start : start + 50_000]

    progress = Recorder()
    if client.mode == "sync":
        with pytest.raises(TypeError, match="async iterable"):
            upload(client, app_server, progress, data=pieces())
        return
    echoed = upload(client, app_server, progress, data=pieces())
    assert echoed["bytes"] == len(BLOB)
    progress.check(len(BLOB), None)


def test_no_body_no_calls(client: Client, app_server: Any) -> None:
    progress = Recorder()
    client.get(app_server.url + "/get", progress=progress)
    assert progress.calls == []


def test_redirect_307_counts_again_from_zero(client: Client, raw_server: Any) -> None:
    def handler(conn: RawConnection) -> None:
        first = conn.recv_request()  # the whole body is read before the answer
        assert first is not None
        conn.send(http_response(307, b"", [("Location", "/target")]))
        second = conn.recv_request()
        assert second is not None
        conn.send(http_response(200, str(len(second.body)).encode()))

    server = raw_server(handler)
    progress = Recorder()
    response = client.post(server.url + "/first", data=BLOB, progress=progress)
    assert client.read(response) == str(len(BLOB)).encode()
    restarts = [i for i, call in enumerate(progress.calls) if call[0] == 0]
    assert len(restarts) == 2  # the body went twice: to the redirect and to its target
    _tail(progress, restarts[1]).check(len(BLOB), len(BLOB))


def _tail(progress: Recorder, start: int) -> Recorder:
    tail = Recorder()
    tail.calls = progress.calls[start:]
    return tail


def test_session_verbs_take_progress(client: Client, app_server: Any) -> None:
    for verb in ("put", "patch"):
        progress = Recorder()
        getattr(client, verb)(app_server.url + "/anything", data=b"x" * 1000, progress=progress)
        assert progress.calls[-1] == (1000, 1000)


# -- ProgressBody itself -----------------------------------------------------------------------------------


def test_progress_body_keeps_length_and_replayability(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 50_000)
    with path.open("rb") as f:
        body = with_progress(FileBody(f), Recorder())
        assert isinstance(body, ProgressBody)
        assert (body.content_length, body.replayable) == (150_000, True)
        assert b"".join(body) == b"abc" * 50_000
        assert b"".join(body) == b"abc" * 50_000  # iterating again rewinds
    once = with_progress(IterBody(iter([b"a", b"b"])), Recorder())
    assert (once.content_length, once.replayable) == (None, False)
    assert b"".join(once) == b"ab"
    with pytest.raises(UnrewindableBodyError):
        list(once)


def test_with_progress_leaves_other_bodies_alone() -> None:
    callback = Recorder()
    assert with_progress(None, callback) is None
    assert with_progress(b"x", None) == b"x"
    wrapped = with_progress(bytearray(b"xy"), callback)
    assert isinstance(wrapped, ProgressBody)
    assert with_progress(wrapped, callback) is wrapped


def test_prepared_request_content_length_is_unchanged(app_server: Any) -> None:
    with brisk.Session() as session:
        prepared = session._prepare(
            "POST", app_server.url, None, BLOB, None, None, None, None, None, Recorder()
        )
    assert isinstance(prepared.body, ProgressBody)
    assert prepared.headers["Content-Length"] == str(len(BLOB))
    assert "transfer-encoding" not in prepared.headers


# -- the progress bar --------------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_bar_on_a_terminal() -> None:
    out = FakeTerminal()
    bar = ProgressBar("file.iso", file=out, use_rich=False, interval=0)
    for done in range(0, 10_000_001, 2_500_000):
        bar(done, 10_000_000)
    text = out.getvalue()
    assert text.startswith("\rfile.iso")
    assert "25% 2.5 MB/10.0 MB" in text
    assert "100% 10.0 MB/10.0 MB" in text
    assert "B/s" in text
    assert text.endswith("\n")
    assert bar.closed
    bar(5, 10)  # after the end: ignored
    assert out.getvalue() == text


def test_plain_bar_in_a_log_writes_whole_lines() -> None:
    out = io.StringIO()
    with ProgressBar(file=out, use_rich=False, interval=0) as bar:
        for done in range(0, 3000, 1000):
            bar(done, None)  # unknown total: no percentage, no time left
    text = out.getvalue()
    assert "\r" not in text
    assert text.count("\n") == 1  # only the final line: a log is not redrawn every 0.1 s
    assert text.startswith("2.0 kB  ")
    assert "left" not in text


def test_rate_and_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("brisk.progress.time.monotonic", lambda: clock[0])
    bar = ProgressBar(file=io.StringIO(), use_rich=False)
    bar(1_000_000, 5_000_000)  # a resumed download: starts at 1 MB
    clock[0] += 2
    bar(3_000_000, 5_000_000)
    assert bar.rate == 1_000_000
    assert bar.remaining == 2.0
    assert "1.0 MB/s" in bar.text()
    assert "0:02 left" in bar.text()


def test_rich_bar() -> None:
    pytest.importorskip("rich")
    out = io.StringIO()
    bar = ProgressBar("data.bin", file=out, use_rich=True, interval=0)
    for done in range(0, 2_000_001, 500_000):
        bar(done, 2_000_000)
    assert bar.closed
    text = out.getvalue()
    assert "data.bin" in text
    assert "2.0" in text
    assert "MB" in text


def test_plain_text_fallback_without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # import rich -> ImportError
    out = io.StringIO()
    bar = ProgressBar("x", file=out)
    assert bar.use_rich is False
    bar(0, 10)
    bar(10, 10)
    assert out.getvalue().startswith("x  100% 10 B/10 B")


def test_bar_as_download_progress(client: Client, app_server: Any, tmp_path: Path) -> None:
    out = io.StringIO()
    bar = ProgressBar("range", file=out, use_rich=False)
    client.download(app_server.url + "/range/100000", tmp_path / "r", progress=bar)
    assert bar.closed
    assert out.getvalue().startswith("range  100% 100.0 kB/100.0 kB")


def test_bar_as_upload_progress(client: Client, app_server: Any) -> None:
    out = io.StringIO()
    bar = ProgressBar("up", file=out, use_rich=False)
    client.post(app_server.url + "/upload", data=BLOB, progress=bar)
    assert bar.closed
    assert "100% 300.0 kB/300.0 kB" in out.getvalue()


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1_536_000, "1.5 MB"), (3 * 10**12, "3.0 TB")],
)
def test_format_bytes(size: int, text: str) -> None:
    assert format_bytes(size) == text


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (75, "1:15"), (3725, "1:02:05"), (-3, "0:00")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_upload_progress_and_download_over_http2(
    client_factory: Any, tls_app_server: Any, tmp_path: Path
) -> None:
    client = client_factory(http2=True, verify=tls_app_server.ca_bundle)
    progress = Recorder()
    response = client.post(tls_app_server.url + "/upload", data=BLOB, progress=progress)
    assert response.http_version == "HTTP/2"
    assert response.json()["bytes"] == len(BLOB)
    progress.check(len(BLOB), len(BLOB))
    result = client.download(tls_app_server.url + "/range/70000", tmp_path / "h2", progress=Recorder())
    assert result.path.read_bytes() == bytes(97 + i % 26 for i in range(70_000))
