"""The top-level functions: each sends one request through a short-lived ``Session``.

>>> r = brisk.get("https://api.example.com/items", params={"page": 2}, timeout=10)
>>> r = brisk.post("https://api.example.com/items", json={"name": "x"})

For many requests to the same host, use a ``Session``: it keeps connections alive and is much faster.
"""

from __future__ import annotations

import os

from brisk.models import Response
from brisk.sessions import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Unpack

    from brisk._session.download import DownloadResult
    from brisk._session.types import GetOptions, ParamsArg, PostOptions, PutOptions, RequestOptions

__all__ = ["delete", "download", "get", "head", "options", "patch", "post", "put", "request"]


def __getattr__(name: str) -> object:
    """requests.api's other names, loaded when first read (see brisk._core.requests_names)."""
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._core.requests_names import requests_name

    return requests_name(__name__, name)


def request(method: str, url: str | bytes, **options: Unpack[RequestOptions]) -> Response:
    """Send a request. Takes every argument of ``Session.request``."""
    with Session() as session:
        return session.request(method, url, **options)


def get(url: str | bytes, params: ParamsArg = None, **options: Unpack[GetOptions]) -> Response:
    """Send a GET request."""
    return request("GET", url, params=params, **options)


def options(url: str | bytes, **kwargs: Unpack[RequestOptions]) -> Response:
    """Send an OPTIONS request."""
    return request("OPTIONS", url, **kwargs)


def head(url: str | bytes, **options: Unpack[RequestOptions]) -> Response:
    """Send a HEAD request (redirects are not followed unless ``allow_redirects=True``)."""
    options.setdefault("allow_redirects", False)
    return request("HEAD", url, **options)


def post(url: str | bytes, data: Any = None, json: Any = None, **options: Unpack[PostOptions]) -> Response:
    """Send a POST request."""
    return request("POST", url, data=data, json=json, **options)


def put(url: str | bytes, data: Any = None, **options: Unpack[PutOptions]) -> Response:
    """Send a PUT request."""
    return request("PUT", url, data=data, **options)


def patch(url: str | bytes, data: Any = None, **options: Unpack[PutOptions]) -> Response:
    """Send a PATCH request."""
    return request("PATCH", url, data=data, **options)


def delete(url: str | bytes, **options: Unpack[RequestOptions]) -> Response:
    """Send a DELETE request."""
    return request("DELETE", url, **options)


def download(url: str, path: str | os.PathLike[str], **kwargs: Any) -> DownloadResult:
    """Download ``url`` to the file ``path`` (or into the directory ``path``), safely and resumably.

    The body goes to ``<path>.part`` and is renamed to ``path`` once complete, verified and on disk (fsync).
    If an earlier attempt was interrupted, the transfer resumes with ``Range`` + ``If-Range`` and starts
    over when the server ignores the range or the file changed meanwhile. Options: ``resume=True``,
    ``progress=callback(done, total)`` (e.g. ``brisk.progress.ProgressBar()``), ``chunk_size=None``,
    ``checksum="sha256:<hex>"`` (any hashlib algorithm), ``max_resumes=3`` (resumes within this call
    after the connection broke off), and any argument of ``request()`` (``headers``, ``auth``,
    ``timeout``, ...). Returns a ``DownloadResult``; a bad size or checksum raises a ``DownloadError``
    and deletes the file.

    >>> result = brisk.download("https://example.org/big.iso", "big.iso", checksum="sha256:9f86d0...")
    >>> result.total, result.resumed
    (734003200, False)
    """
    with Session() as session:
        return session.download(url, path, **kwargs)
