"""The protocols, sans-IO: bytes in, events out; requests in, bytes out. No sockets, no clocks.

HTTP/1.1: ``http11`` (request serialisation, shared header checks) and ``http11_response`` (response parsing,
over llhttp through httptools). HTTP/2: ``http2`` (the connection state machine), ``http2_frames``,
``http2_stream``, and ``hpack`` (RFC 7541 header compression).
"""
