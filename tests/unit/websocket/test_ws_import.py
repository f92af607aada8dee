"""``import brisk`` loads no WebSocket code; a missing ``websockets`` names the extra before connecting."""

from __future__ import annotations

import subprocess
import sys

import pytest

import brisk


def test_import_brisk_loads_no_websocket_module():
    code = "import brisk, sys; print(sorted(m for m in sys.modules if 'websocket' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_websockets_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "websockets" or m.startswith("websockets.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "websockets", None)  # import websockets -> ImportError
    with (
        brisk.Session() as s,
        pytest.raises(brisk.exceptions.MissingDependencyError, match=r"brisk\[websocket\]"),
    ):
        s.websocket("ws://127.0.0.1:9/never-connected", compression=None)


def test_exported_names():
    for name in ("WebSocketClosed", "WebSocketError", "WebSocketHandshakeError"):
        assert getattr(brisk, name) is getattr(brisk.exceptions, name)
        assert name in brisk.__all__
        assert name in brisk.exceptions.__all__
    assert issubclass(brisk.WebSocketClosed, brisk.RequestException)
    assert issubclass(brisk.WebSocketHandshakeError, brisk.RequestException)
