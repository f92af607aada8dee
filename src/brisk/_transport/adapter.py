"""Sending through a user's requests-style adapter (a ``BaseAdapter`` subclass with its own ``send``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..adapters import BaseAdapter
    from ..models import PreparedRequest, Response
    from .base import SendOptions

__all__ = ["AdapterTransport"]


class AdapterTransport:
    """Calls ``adapter.send`` with requests' keyword arguments; works under both sessions."""

    def __init__(self, adapter: BaseAdapter) -> None:
        self.adapter = adapter

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        config = options.config
        proxies = {request._url.scheme: config.proxy} if config.proxy and request._url else {}
        return self.adapter.send(
            request,
            stream=True,
            timeout=options.timeout,
            verify=config.verify,
            cert=config.cert,
            proxies=proxies,
        )

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        return self.handle_request(request, options)

    def close(self) -> None:
        self.adapter.close()

    async def aclose(self) -> None:
        self.adapter.close()
