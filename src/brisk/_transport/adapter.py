"""Sending through requests' adapters: a user's adapter (any ``BaseAdapter`` with its own ``send``), an
``HTTPAdapter`` subclass that overrides a link of requests' chain, or a patched ``HTTPAdapter.send``.

The adapter layer sits above the transports, so nothing here imports it: the session hands the router the
two functions it needs (``get_adapter`` and ``sends_itself``)."""

from __future__ import annotations

from collections.abc import Callable

from brisk.exceptions import DEFAULT_TIMEOUT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._transport.base import AsyncBaseTransport, BaseTransport, SendOptions
    from brisk.adapters import BaseAdapter
    from brisk.models import PreparedRequest, Response

__all__ = ["AdapterRouter", "adapter_send"]


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


class AdapterRouter:
    """Picks, for every request (redirect hops included), the adapter ``get_adapter`` gives for its URL: one
    that ``sends_itself`` is called, a plain ``HTTPAdapter`` leaves the request to the session's own
    transport (``own``). Used only when the session cannot know in advance that all are plain."""

    def __init__(
        self,
        get_adapter: Callable[[str], BaseAdapter],
        sends_itself: Callable[[BaseAdapter], bool],
        own: BaseTransport | AsyncBaseTransport,
    ) -> None:
        self._get_adapter = get_adapter
        self._sends_itself = sends_itself
        self._own = own

    def _adapter(self, request: PreparedRequest) -> BaseAdapter | None:
        adapter = self._get_adapter(str(request._url))
        return adapter if self._sends_itself(adapter) else None

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        adapter = self._adapter(request)
        if adapter is None:
            own: BaseTransport = self._own  # type: ignore[assignment]
            return own.handle_request(request, options)
        return adapter_send(adapter, request, options)

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        adapter = self._adapter(request)
        if adapter is None:
            own: AsyncBaseTransport = self._own  # type: ignore[assignment]
            return await own.handle_async_request(request, options)
        return adapter_send(adapter, request, options)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass
