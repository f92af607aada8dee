"""brisk's pytest plugin (``brisk.testing.pytest_plugin``), run inside pytest's own ``pytester``."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]


def test_registered_as_a_pytest11_entry_point() -> None:
    found = [ep for ep in entry_points(group="pytest11") if ep.value == "brisk.testing.pytest_plugin"]
    assert [ep.name for ep in found] == ["brisk"]


def test_fixtures_serve_users_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import brisk

        def test_server(brisk_server):
            r = brisk.get(brisk_server.url + "/get", params={"q": "1"}, timeout=10)
            assert r.json()["args"] == {"q": "1"}

        def test_tls_server(brisk_server_tls):
            with brisk.Session(http2=True, verify=brisk_server_tls.ca_bundle) as s:
                r = s.get(brisk_server_tls.url + "/get", timeout=10)
            assert r.status_code == 200
            assert r.http_version == "HTTP/2"

        def test_mock(brisk_mock):
            mock = brisk_mock(routes={"/ping": {"pong": True}})
            with brisk.Session(transport=mock) as s:
                assert s.get("https://api.example/ping").json() == {"pong": True}
            assert len(mock.requests) == 1

        def test_same_server_for_the_session(brisk_server, request):
            assert brisk_server is request.getfixturevalue("brisk_server")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_fixtures_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*brisk_server*", "*brisk_server_tls*", "*brisk_mock*"])


def test_plugin_costs_nothing_until_used() -> None:
    """Loading the plugin imports no server, no mock and no TLS library."""
    code = (
        "import sys, brisk.testing.pytest_plugin\n"
        "heavy = ('hypercorn', 'trustme', 'ssl', 'brisk.testing.server', 'brisk.testing.app',\n"
        "         'brisk.testing.mock')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=True)
    assert result.stdout == b"[]\n"
