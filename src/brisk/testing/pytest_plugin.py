"""brisk's pytest plugin: fixtures for testing code that uses brisk (loaded automatically once brisk is
installed, through the ``pytest11`` entry point).

- ``brisk_server``: brisk's httpbin-compatible app on a local port over plain HTTP (session-scoped):
  ``brisk.get(brisk_server.url + "/get")``.
- ``brisk_server_tls``: the same over HTTPS with HTTP/2 offered by ALPN; trust ``brisk_server_tls.ca_bundle``
  (``verify=brisk_server_tls.ca_bundle``).
- ``brisk_mock``: makes ``MockTransport`` objects: ``brisk.Session(transport=brisk_mock(handler))``.

The servers need the ``server`` extra (hypercorn, trustme). Nothing is imported or started until a test
asks for a fixture, so the plugin costs nothing in test runs that do not use it.

``pytest --brisk-as-requests`` runs the tests with ``requests`` answered by brisk
(``brisk.install_as_requests()``), installed before any conftest or test module is imported and removed at
the end of the run. The flag also works from ``PYTEST_ADDOPTS`` or the ``addopts`` ini setting. A pytest
plugin that imports requests when it is loaded (betamax's does) must be loaded after brisk's: add
``-p brisk`` (``pytest -p brisk --brisk-as-requests``), which loads brisk's plugin first.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterator

import pytest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.testing.mock import MockTransport
    from brisk.testing.server import ServerThread

__all__ = ["brisk_mock", "brisk_server", "brisk_server_tls"]


def _start(**settings: Any) -> ServerThread:
    try:
        from brisk.testing.server import ServerThread
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        pytest.fail(f"brisk's test server needs the 'server' extra (pip install 'brisk[server]'): {exc}")
    return ServerThread(**settings).start()


@pytest.fixture(scope="session")
def brisk_server() -> Iterator[ServerThread]:
    """brisk's httpbin-compatible test app over HTTP/1.1 on 127.0.0.1; ``.url`` is its base URL."""
    server = _start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def brisk_server_tls() -> Iterator[ServerThread]:
    """The test app over HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with a certificate for localhost and
    127.0.0.1 from a throwaway CA; ``.ca_bundle`` is the CA's PEM file, ``.url`` the base URL."""
    server = _start(tls=True, http2=True)
    yield server
    server.stop()


@pytest.fixture
def brisk_mock() -> Callable[..., MockTransport]:
    """A factory of ``MockTransport``: ``brisk_mock(handler)`` or ``brisk_mock(routes={...})``."""
    from brisk.testing.mock import MockTransport

    return MockTransport


# ------------------------------------------------------------------ --brisk-as-requests

_FLAG = "--brisk-as-requests"
_INSTALLED = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    parser.getgroup("brisk").addoption(
        _FLAG,
        action="store_true",
        default=False,
        dest="brisk_as_requests",
        help="answer `import requests` with brisk in this test run (brisk.install_as_requests())",
    )
    # This runs as soon as the plugin is registered, before the plugins loaded after it: with `-p brisk`,
    # before every other installed plugin, some of which import requests when loaded. The flag is not parsed
    # yet, so it is looked for in the command line and in the two places pytest adds options from.
    config = pluginmanager.get_plugin("pytestconfig")
    if isinstance(config, pytest.Config) and _flag_given(config):
        _install(config)


def _flag_given(config: pytest.Config) -> bool:
    words = [*config.invocation_params.args, *shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))]
    try:
        words += config.getini("addopts")
    except (ValueError, AttributeError):  # pragma: no cover - the ini file is not read yet
        pass
    return _FLAG in words


def _install(config: pytest.Config) -> None:
    from brisk._compat.shim import install_as_requests, installed

    if config.stash.get(_INSTALLED, False) or installed():
        return
    try:
        install_as_requests()
    except RuntimeError as exc:
        raise pytest.UsageError(f"{_FLAG}: {exc}") from None
    config.stash[_INSTALLED] = True


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Install before the first conftest is imported (for a flag the early look did not see)."""
    if early_config.known_args_namespace.brisk_as_requests:
        _install(early_config)


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_INSTALLED, False):
        from brisk._compat.shim import uninstall_as_requests

        uninstall_as_requests()
        config.stash[_INSTALLED] = False
