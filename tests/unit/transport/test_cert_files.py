"""A client certificate given as PEM bytes goes to files OpenSSL can read, and nothing of them is left behind:
on success, on a bad certificate, and when writing the second part fails."""

from __future__ import annotations

import glob
import os
import ssl
import tempfile
from collections.abc import Callable

import pytest

from brisk._transport import tls
from brisk.exceptions import SSLError


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def pem_files() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "brisk-*.pem")))


@pytest.fixture(params=["memfd", "temporary file"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("counting open files needs /proc")
    if request.param == "temporary file":
        monkeypatch.delattr(os, "memfd_create", raising=False)
    elif not hasattr(os, "memfd_create"):
        pytest.skip("no memfd_create on this system")
    return str(request.param)


def load(cert: tuple[bytes, bytes]) -> None:
    tls._load_cert(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), cert)


def test_a_bad_certificate_leaves_nothing_behind(way: str) -> None:
    fds, files = open_fds(), pem_files()
    with pytest.raises(SSLError, match="could not load the client certificate and key from PEM bytes"):
        load((b"not a certificate", b"not a key"))
    assert open_fds() == fds
    assert pem_files() == files


def test_a_failed_key_write_closes_the_certificate_file(way: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write: Callable[[int, bytes], int] = os.write
    writes = []

    def failing_second(fd: int, data: bytes) -> int:
        writes.append(data)
        if data == b"the key":
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", failing_second)
    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str) -> object:  # the temporary-file way writes through a file object
        file = real_fdopen(fd, mode)
        file.write = lambda data: failing_second(fd, data)  # type: ignore[method-assign]
        return file

    monkeypatch.setattr(os, "fdopen", fdopen)
    fds, files = open_fds(), pem_files()
    with pytest.raises(SSLError, match="No space left on device"):
        load((b"the certificate", b"the key"))
    assert writes == [b"the certificate", b"the key"]
    assert open_fds() == fds
    assert pem_files() == files
