"""What ``import brisk`` loads: none of the modules it does not need (each is import time in every program).

``typing`` is the largest of them: brisk takes from it at run time only what ``brisk._core.typing_lite``
stands in for. The rest are loaded where they are used (ssl by the first HTTPS connection, asyncio by an
AsyncSession, threading by the first sync request...).
"""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys

import pytest

from brisk._core import typing_lite
from brisk._transport.base import ConnectionConfig, NetworkOptions, TLSOptions

NOT_LOADED = (
    "typing",
    "contextlib",
    "warnings",
    "threading",
    "weakref",
    "asyncio",
    "ssl",
    "socket",
    "json",
    "re",
    "urllib.parse",
    "http.cookiejar",
    "email",
    "brisk._transport.sync.transport",
    "brisk._protocol.http11",
    # what a plain request has no use for: urllib3's shape (response.raw), digest auth, rate limits, codes
    "brisk._response.raw",
    "brisk._auth.digest",
    "brisk._session.ratelimit",
    "brisk.status_codes",
)

PROBE = """
import sys
before = sorted(sys.modules)
import brisk
print(before)
print(sorted(sys.modules))
"""


def test_import_brisk_loads_none_of_the_modules_it_does_not_need() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    before, after = map(ast.literal_eval, out.splitlines())
    checked = [m for m in NOT_LOADED if m not in before]  # a sitecustomize may load some before any import
    if not checked:
        pytest.skip("this interpreter loads every watched module before any import: nothing to compare")
    loaded = [m for m in checked if m in after]
    assert loaded == [], f"import brisk loaded {loaded}"
    assert "brisk.sessions" in after  # the probe did import brisk


def test_the_modules_of_a_plain_get_load_none_of_them_either() -> None:
    """The modules a plain GET (and ``brisk URL``) loads, and the Accept-Encoding they work out, load no
    typing, contextlib, warnings or importlib (httptools loads typing when a head needs the Python parser).
    The standard modules a request needs are imported first: what they load is theirs (Python 3.13's
    threading imports warnings)."""
    probe = (
        "import sys, threading, socket\n"
        "before = sorted(sys.modules)\n"
        "import brisk._transport.sync.transport, brisk._response.decoders, brisk._session.environment\n"
        "import brisk.cli._command  # the command line\n"
        "brisk._response.decoders.supported_encodings()\n"
        "print(before)\n"
        "print(sorted(sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    before, after = map(ast.literal_eval, out.splitlines())
    # (a module loaded before the probe's imports cannot be told apart: it is left out)
    watched = [m for m in ("typing", "contextlib", "warnings", "importlib") if m not in before]
    if "typing" not in watched:
        pytest.skip("this interpreter loads typing at start-up (sitecustomize?): no comparison")
    assert [m for m in watched if m in after] == []
    assert "brisk._transport.sync.h1" in after


def test_named_tuples_belong_to_the_module_that_made_them() -> None:
    options = TLSOptions("TLSv1_2", None, None, ())
    assert TLSOptions.__module__ == "brisk._transport.base"
    assert pickle.loads(pickle.dumps(options)) == options
    assert options.min_version == "TLSv1_2"
    assert options._fields == (
        "min_version",
        "max_version",
        "ciphers",
        "pins",
    )
    network = NetworkOptions(family="ipv4")
    assert network.family == "ipv4"
    assert network.tcp_keepalive == 60.0
    assert isinstance(network, tuple)
    config = ConnectionConfig(verify=True, cert=None)
    assert hash(config) == hash(ConnectionConfig(verify=True, cert=None))


def test_stand_ins() -> None:
    class Box(typing_lite.Generic):
        __slots__ = ("item",)

    assert typing_lite.Generic["T"] is typing_lite.Generic
    assert Box[int] is Box
    assert Box.__mro__[1] is typing_lite.Generic
    assert typing_lite.TypeVar("T", bound=int) == "T"
    value = object()
    assert typing_lite.cast("int", value) is value
    pair = typing_lite.NamedTuple("Pair", [("left", int), ("right", str)])
    assert pair.__module__ == __name__
    assert pair(1, "a").right == "a"
