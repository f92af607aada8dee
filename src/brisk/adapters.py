"""requests' adapters: ``HTTPAdapter(max_retries=...)`` mounted with ``session.mount(prefix, adapter)``.

In brisk an ``HTTPAdapter`` carries settings for the URLs under its prefix: the retry policy
(``max_retries``: a ``Retry``, an int, or 0) and the pool size (``pool_maxsize`` raises the session's
per-host connection limit). The session's own pool does the sending. An adapter class that overrides
``send()`` — a ``BaseAdapter`` subclass, for example for ``file://`` URLs — is called instead, as in requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._retry import Retry

if TYPE_CHECKING:
    from .models import PreparedRequest, Response

__all__ = ["DEFAULT_POOLBLOCK", "DEFAULT_POOLSIZE", "DEFAULT_RETRIES", "BaseAdapter", "HTTPAdapter"]

DEFAULT_POOLBLOCK = False
DEFAULT_POOLSIZE = 10
DEFAULT_RETRIES = 0
_KEEP: Any = object()


class BaseAdapter:
    """An adapter that sends requests itself: subclass and implement ``send`` and ``close``."""

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        raise NotImplementedError

    def close(self) -> None:
        pass


class HTTPAdapter(BaseAdapter):
    """Settings for the http(s) URLs under a mount prefix.

    >>> session.mount("https://api.example.com/", HTTPAdapter(max_retries=Retry(5, status_forcelist=[503])))
    """

    def __init__(
        self,
        pool_connections: int = DEFAULT_POOLSIZE,
        pool_maxsize: int = DEFAULT_POOLSIZE,
        max_retries: Any = _KEEP,
        pool_block: bool = DEFAULT_POOLBLOCK,
    ) -> None:
        # Only a max_retries given explicitly overrides the session's policy (connect retries on by default).
        self._retry: Retry | None = None if max_retries is _KEEP else Retry.from_int(max_retries)
        self.pool_connections = pool_connections
        self.pool_maxsize = pool_maxsize
        self.pool_block = pool_block

    @property
    def max_retries(self) -> Retry:
        return self._retry if self._retry is not None else Retry.from_int(DEFAULT_RETRIES)

    @max_retries.setter
    def max_retries(self, value: Retry | int | None) -> None:
        self._retry = Retry.from_int(value)

    def retry_policy(self) -> Retry | None:
        """The retry policy this adapter sets, or None to keep the session's."""
        return self._retry

    def __repr__(self) -> str:
        return f"<HTTPAdapter max_retries={self.max_retries!r} pool_maxsize={self.pool_maxsize}>"
