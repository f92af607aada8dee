"""Sending through a user's requests-style adapter (a ``BaseAdapter`` subclass with its own ``send``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..adapters import BaseAdapter
    from ..models import PreparedRequest, Response
    from .base import SendOptions

__all__ = ["AdapterRouter", "AdapterTransport"]


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


class AdapterRouter:
    """Picks, for every request (redirect hops included), the adapter mounted for its URL: a user's
    ``BaseAdapter`` sends it itself, anything else goes to the session's own transport. Used only when a
    session has such an adapter mounted; otherwise the session talks to its transport directly."""

    def __init__(self, session: Any, own: Any) -> None:
        self._session = session
        self._own = own

    def _adapter(self, request: PreparedRequest) -> BaseAdapter | None:
        from ..adapters import HTTPAdapter

        adapter = self._session.get_adapter(str(request._url))
        return None if isinstance(adapter, HTTPAdapter) else adapter

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        adapter = self._adapter(request)
        if adapter is None:
            response: Response = self._own.handle_request(request, options)
            return response
        return AdapterTransport(adapter).handle_request(request, options)

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        adapter = self._adapter(request)
        if adapter is None:
            response: Response = await self._own.handle_async_request(request, options)
            return response
        return AdapterTransport(adapter).handle_request(request, options)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass
