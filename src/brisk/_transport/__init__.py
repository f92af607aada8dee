"""Transports: a prepared request in, a response with its head read out; connections pooled and reused.

Policy once, two thin drivers. The modules at this level are shared by both worlds and do no blocking or
event-loop I/O of their own:

- ``base``: the contract (``BaseTransport``, ``AsyncBaseTransport``) and what a transport is told
  (``SendOptions``, ``ConnectionConfig``) and reports (``Timings``, ``StaleConnection``).
- ``pool``: ``PoolState``, which connection serves a request and when one may be opened or must be closed;
  ``pooled``: the transports' common base around it (reuse check, closing, logging).
- ``wire``: the request as sent (request-target, headers, body form, HTTP/2 or not).
- ``deadline``: time budgets and the timeout error of each kind of wait; ``errors``: OS errors as brisk
  exceptions.
- ``connect``: the address loop of a TCP connect; ``tls``: TLS contexts; ``proxy``: proxy URLs, CONNECT and
  SOCKS settings.
- ``body``: what every streamed response body does when it ends (the connection goes back, or is closed).
- ``adapter``: sending through requests' adapters.

The drivers: ``sync/`` (blocking sockets, threads sharing one pool) and ``asyncio/`` (protocols on an event
loop), each with ``transport`` (``SyncTransport``, ``AsyncTransport``), ``h1`` and ``h2`` (the connections
and their request/response exchange), ``connect`` and ``proxy``.
"""
