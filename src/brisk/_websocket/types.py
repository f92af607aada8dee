"""The keywords of ``Session.websocket`` and ``AsyncSession.websocket``, for type checkers (imported under
``TYPE_CHECKING`` only, as ``brisk._session.types``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from brisk._session.types import (
        AuthArg,
        CertArg,
        CookiesArg,
        HeadersArg,
        HooksArg,
        ParamsArg,
        ProxiesArg,
        RetriesArg,
        TimeoutArg,
        VerifyArg,
    )

__all__ = ["WebSocketOptions"]


class WebSocketOptions(TypedDict, total=False):
    """``websocket(url, **options)``: the connection's own keywords, then the handshake's request options.

    ``subprotocols``: offered in Sec-WebSocket-Protocol, the server picks one (``ws.subprotocol``).
    ``compression``: "deflate" (default) offers permessage-deflate; None offers nothing.
    ``max_message_size``: the largest message accepted, after inflating (default 1 MiB; None: no limit).
    ``close_timeout``: how long ``close()`` waits for the peer's close frame (default 10 s).
    ``ping_interval``/``ping_timeout``: keep-alive pings every ``ping_interval`` seconds (default None: no
    pings), the connection failing with 1011 when a pong takes longer than ``ping_timeout`` (default 20 s).
    ``timeout``: the handshake's timeout (connect and read), as for any request.
    """

    subprotocols: list[str] | None
    compression: str | None
    max_message_size: int | None
    close_timeout: float | None
    ping_interval: float | None
    ping_timeout: float | None
    headers: HeadersArg
    params: ParamsArg
    cookies: CookiesArg
    auth: AuthArg
    timeout: TimeoutArg
    verify: VerifyArg
    cert: CertArg
    proxies: ProxiesArg
    hooks: HooksArg
    retries: RetriesArg
