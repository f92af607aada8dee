"""The calls a program makes again and again run no import statement once warmed up.

An import statement inside a function looks the module up through the import system on every call, even
when it is loaded: about 2 µs each on a slow machine, as much as a whole layer of a request. Modules that
``import brisk`` leaves out (json, urllib.parse, the body encoders) are kept in a module global by their
first use instead. This counts the import statements executed during warmed-up calls.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable
from typing import Any

import pytest

import brisk
from servers.app_server import ServerThread
from servers.clients import Client

CALLS: dict[str, Callable[[Client, str], Any]] = {
    "GET": lambda c, url: c.read(c.get(url + "/get")),
    "GET with params and headers": lambda c, url: c.read(
        c.get(url + "/get", params={"q": "a b"}, headers={"X-A": "1"})
    ),
    "json= POST": lambda c, url: c.read(c.post(url + "/post", json={"id": 1, "tags": ["a"]})),
    "form POST": lambda c, url: c.read(c.post(url + "/post", data={"a": "b"})),
    "json()": lambda c, url: (c.read(r := c.get(url + "/json")), r.json()),
    "text and headers": lambda c, url: (c.read(r := c.get(url + "/get")), r.text, r.headers["content-type"]),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_a_warmed_up_call_imports_nothing(
    name: str, client: Client, app_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = CALLS[name]
    # Libraries read requests.sessions.get_netrc_auth: then each preparation compares it with brisk's own
    # (once read, it stays in the module for the rest of the process, so every run here has it read)
    assert brisk.sessions.get_netrc_auth is not None
    for _ in range(2):
        call(client, app_server.url)
    imports: list[tuple[str, str]] = []
    real_import = builtins.__import__

    def counting(module: str, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_code
        if "brisk" in caller.co_filename and "testing" not in caller.co_filename:  # not the test server
            imports.append((module, f"{caller.co_filename}:{caller.co_name}"))
        return real_import(module, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", counting)
    for _ in range(3):
        call(client, app_server.url)
    monkeypatch.undo()
    assert imports == []
