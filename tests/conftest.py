"""Fixtures shared by the whole test suite: the real servers of ``tests/servers``."""

from __future__ import annotations

from servers.app_server import app_server, tls_app_server, uds_app_server
from servers.clients import client, client_factory, loop_thread
from servers.httpbin_server import httpbin, httpbin_secure
from servers.nginx import nginx
from servers.ports import unused_port
from servers.proxies import pproxy, relay_proxy, socks_relay, tinyproxy, tinyproxy_auth
from servers.raw import raw_server
from servers.scripted_app import scripted_server
from servers.tls import (
    ca,
    ca_bundle,
    cert_bundles,
    cn_only_cert,
    expired_cert,
    good_cert,
    ip_san_cert,
    ip_san_v6_cert,
    not_yet_valid_cert,
    self_signed_cert,
    tls_raw_server,
    unknown_ca_cert,
    wrong_host_cert,
)

__all__ = [
    "app_server",
    "ca",
    "ca_bundle",
    "cert_bundles",
    "client",
    "client_factory",
    "cn_only_cert",
    "expired_cert",
    "good_cert",
    "httpbin",
    "httpbin_secure",
    "ip_san_cert",
    "ip_san_v6_cert",
    "loop_thread",
    "nginx",
    "not_yet_valid_cert",
    "pproxy",
    "raw_server",
    "relay_proxy",
    "scripted_server",
    "self_signed_cert",
    "socks_relay",
    "tinyproxy",
    "tinyproxy_auth",
    "tls_app_server",
    "tls_raw_server",
    "uds_app_server",
    "unknown_ca_cert",
    "unused_port",
    "wrong_host_cert",
]


def _import_every_brisk_module() -> None:
    """Import (and so compile) all of brisk now, in the main thread.

    brisk imports much of itself lazily, at first use. In these tests the first use is often in the asyncio
    loop thread of ``servers.clients`` while the main thread parses source (pytest's assertion rewriting, or
    rendering a traceback); on CPython before 3.11.8 two threads building ASTs at once can fail with
    "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905).
    """
    import importlib
    import pkgutil

    import brisk

    for module in pkgutil.walk_packages(brisk.__path__, "brisk."):
        if module.name.endswith("__main__") or module.name == "brisk.testing.pytest_plugin":
            continue  # the command line's entry point runs when imported; pytest loads the plugin itself
        try:
            importlib.import_module(module.name)
        except ImportError:  # an optional dependency (its own tests say so when they skip)
            pass


_import_every_brisk_module()
