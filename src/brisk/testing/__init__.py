"""Test servers for brisk and for the tests of code that uses brisk.

The modules here are an optional extra (``pip install brisk[server]``) and nothing in brisk imports them:

- :mod:`brisk.testing.app` -- an httpbin-compatible ASGI 3 application, with no framework underneath.
- :mod:`brisk.testing.server` -- :class:`~brisk.testing.server.ServerThread`, which serves an ASGI app with
  hypercorn on a loopback port in a background thread (HTTP, or HTTPS with HTTP/2 over ALPN).
- :mod:`brisk.testing.mock` -- :class:`~brisk.testing.mock.MockTransport`, a transport that answers
  requests with a function or a routing table (``brisk.Session(transport=MockTransport(handler))``);
  no extra needed. ``brisk.testing.MockTransport`` names it too.
- :mod:`brisk.testing.pytest_plugin` -- the fixtures ``brisk_server``, ``brisk_server_tls`` and
  ``brisk_mock``, registered with pytest automatically when brisk is installed.

Importing this package imports neither hypercorn nor trustme; import the submodule you need.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MockTransport"]


def __getattr__(name: str) -> Any:
    """``brisk.testing.MockTransport``, imported on first use."""
    if name == "MockTransport":
        from brisk.testing.mock import MockTransport

        return MockTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
