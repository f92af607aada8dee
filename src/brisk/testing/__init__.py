"""Test servers for brisk and for the tests of code that uses brisk.

The modules here are an optional extra (``pip install brisk[server]``) and nothing in brisk imports them:

- :mod:`brisk.testing.app` -- an httpbin-compatible ASGI 3 application, with no framework underneath.
- :mod:`brisk.testing.server` -- :class:`~brisk.testing.server.ServerThread`, which serves an ASGI app with
  hypercorn on a loopback port in a background thread (HTTP, or HTTPS with HTTP/2 over ALPN).

Importing this package imports neither hypercorn nor trustme; import the submodule you need.
"""
