"""WebSocket client: the sans-IO policy (``core``), the handshake through the session (``handshake``), and
the two drivers (``sync``, ``aio``). Nothing here is loaded by ``import brisk``: ``Session.websocket`` imports
it on first use, and the ``websockets`` package (the ``brisk[websocket]`` extra) only then."""
