"""Sending through requests' adapters: a user's adapter (any ``BaseAdapter`` with its own ``send``), an
``HTTPAdapter`` subclass that overrides a link of requests' chain, or a patched ``HTTPAdapter.send``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brisk.exceptions import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from brisk._transport.base import SendOptions
    from brisk.adapters import BaseAdapter
    from brisk.models import PreparedRequest, Response

__all__ = ["AdapterRouter", "AdapterTransport", "adapter_send"]


def adapter_send(adapter: BaseAdapter, request: PreparedRequest, options: SendOptions) -> Response:
    """``adapter.send`` with requests' keyword arguments. The timeout is None when the caller gave none (an
    override may then use its own; brisk's adapter uses brisk's defaults). The session's options ride on
    the request for brisk's own ``HTTPAdapter.send`` (HTTP/2 setting, deadline, limits, proxy credentials)."""
    config = options.config
    url = request._url
    proxies = {url.scheme: config.proxy} if config.proxy and url is not None else {}
    request._send_options = options  # type: ignore[attr-defined]
    try:
        response = adapter.send(
            request,
            stream=True,
            timeout=None if options.timeout is DEFAULT_TIMEOUT else options.timeout,
            verify=config.verify,
            cert=config.cert,
            proxies=proxies,
        )
    finally:
        del request._send_options  # type: ignore[attr-defined]
    if response.connection is None:
        response.connection = adapter
    return response


class AdapterTransport:
    """Calls ``adapter.send`` for every request; works under both sessions."""

    def __init__(self, adapter: BaseAdapter) -> None:
        self.adapter = adapter

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        return adapter_send(self.adapter, request, options)

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        return adapter_send(self.adapter, request, options)

    def close(self) -> None:
        self.adapter.close()

    async def aclose(self) -> None:
        self.adapter.close()


class AdapterRouter:
    """Picks, for every request (redirect hops included), the adapter ``session.get_adapter`` gives for its
    URL: one that sends itself (``sends_itself``) is called, a plain ``HTTPAdapter`` leaves the request to the
    session's own transport. Used only when the session cannot know in advance that all are plain."""

    def __init__(self, session: Any, own: Any) -> None:
        self._session = session
        self._own = own

    def _adapter(self, request: PreparedRequest) -> BaseAdapter | None:
        from brisk.adapters import sends_itself

        adapter: BaseAdapter = self._session.get_adapter(str(request._url))
        return adapter if sends_itself(adapter) else None

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        adapter = self._adapter(request)
        if adapter is None:
            response: Response = self._own.handle_request(request, options)
            return response
        return adapter_send(adapter, request, options)

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        adapter = self._adapter(request)
        if adapter is None:
            response: Response = await self._own.handle_async_request(request, options)
            return response
        return adapter_send(adapter, request, options)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass
