"""``brisk.DoHResolver`` without a socket: its settings, the missing-extra error, pickling, the lazy export.
The DNS-over-HTTPS exchanges themselves are in tests/live/transport/test_doh.py."""

from __future__ import annotations

import pickle
import socket
import subprocess
import sys

import pytest

import brisk
from brisk._session.doh import DoHError

URL = "https://127.0.0.1:8443/dns-query"


def test_bad_settings_are_named() -> None:
    with pytest.raises(ValueError, match=r"url must be an https:// URL .*'http://127\.0\.0\.1/dns-query'"):
        brisk.DoHResolver("http://127.0.0.1/dns-query")
    with pytest.raises(ValueError, match=r"method must be 'GET' or 'POST', not 'PUT'"):
        brisk.DoHResolver(URL, method="PUT")
    with pytest.raises(ValueError, match=r"family must be .* not 'ipv5'"):
        brisk.DoHResolver(URL, family="ipv5")
    with pytest.raises(ValueError, match=r"cache must be .* not -1"):
        brisk.DoHResolver(URL, cache=-1)
    with brisk.Session() as session, pytest.raises(TypeError, match="verify= and resolve="):
        brisk.DoHResolver(URL, session=session, verify=False)


def test_settings_are_kept() -> None:
    with brisk.DoHResolver("https://dns.example.test/dns-query{?dns}", method="get", cache=False) as resolver:
        assert resolver.url == "https://dns.example.test/dns-query"  # the RFC 6570 template's tail dropped
        assert resolver.method == "GET"
        assert resolver.cache_size == 0
        assert repr(resolver) == "<DoHResolver https://dns.example.test/dns-query GET>"
    with brisk.DoHResolver(URL, cache=7) as resolver:
        assert resolver.cache_size == 7
        assert resolver.session.resolver is None  # its own session resolves the DoH server's name itself


def test_without_dnspython_the_error_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dns.message", None)  # makes `import dns.message` fail
    with pytest.raises(ImportError, match=r"pip install brisk\[doh\]"):
        brisk.DoHResolver(URL)


def test_a_session_with_a_doh_resolver_pickles() -> None:
    resolver = brisk.DoHResolver(URL, method="GET", family="ipv4", timeout=3, verify=False, cache=5)
    with brisk.Session(resolver=resolver) as session:
        copied = pickle.loads(pickle.dumps(session))
    copy = copied.resolver
    assert type(copy) is brisk.DoHResolver
    assert copy is not resolver
    assert (copy.url, copy.method, copy.family, copy.timeout, copy.cache_size) == (URL, "GET", "ipv4", 3, 5)
    assert copy.session.verify is False
    copied.close()
    copy.close()
    resolver.close()


def test_the_error_is_a_gaierror_that_pickles() -> None:
    error = DoHError(socket.EAI_NONAME, "x.test: no such name", url=URL, host="x.test", rcode="NXDOMAIN")
    assert isinstance(error, socket.gaierror)
    assert str(error) == "x.test: no such name"
    copied = pickle.loads(pickle.dumps(error))
    assert (type(copied), copied.errno, str(copied)) == (DoHError, socket.EAI_NONAME, "x.test: no such name")


def test_import_brisk_loads_neither_the_resolver_nor_dnspython() -> None:
    code = "import sys, brisk; print('brisk._session.doh' in sys.modules, 'dns' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    assert brisk.DoHResolver.__module__ == "brisk"
