"""The top-level functions: each sends one request through a short-lived ``Session``.

>>> r = brisk.get("https://api.example.com/items", params={"page": 2}, timeout=10)
>>> r = brisk.post("https://api.example.com/items", json={"name": "x"})

For many requests to the same host, use a ``Session``: it keeps connections alive and is much faster.
"""

from __future__ import annotations

from typing import Any

from .models import Response
from .sessions import Session

__all__ = ["delete", "get", "head", "options", "patch", "post", "put", "request"]


def request(method: str, url: str | bytes, **kwargs: Any) -> Response:
    """Send a request. Takes every argument of ``Session.request``."""
    with Session() as session:
        return session.request(method=method, url=url, **kwargs)


def get(url: str | bytes, params: Any = None, **kwargs: Any) -> Response:
    """Send a GET request."""
    return request("GET", url, params=params, **kwargs)


def options(url: str | bytes, **kwargs: Any) -> Response:
    """Send an OPTIONS request."""
    return request("OPTIONS", url, **kwargs)


def head(url: str | bytes, **kwargs: Any) -> Response:
    """Send a HEAD request (redirects are not followed unless ``allow_redirects=True``)."""
    kwargs.setdefault("allow_redirects", False)
    return request("HEAD", url, **kwargs)


def post(url: str | bytes, data: Any = None, json: Any = None, **kwargs: Any) -> Response:
    """Send a POST request."""
    return request("POST", url, data=data, json=json, **kwargs)


def put(url: str | bytes, data: Any = None, **kwargs: Any) -> Response:
    """Send a PUT request."""
    return request("PUT", url, data=data, **kwargs)


def patch(url: str | bytes, data: Any = None, **kwargs: Any) -> Response:
    """Send a PATCH request."""
    return request("PATCH", url, data=data, **kwargs)


def delete(url: str | bytes, **kwargs: Any) -> Response:
    """Send a DELETE request."""
    return request("DELETE", url, **kwargs)
