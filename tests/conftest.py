"""Fixtures shared by the whole test suite: the real servers of ``tests/servers``."""

from __future__ import annotations

from servers.app_server import app_server, tls_app_server
from servers.clients import client, client_factory, loop_thread
from servers.httpbin_server import httpbin, httpbin_secure
from servers.nginx import nginx
from servers.ports import unused_port
from servers.proxies import pproxy, relay_proxy, socks_relay, tinyproxy, tinyproxy_auth
from servers.raw import raw_server
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
    "self_signed_cert",
    "socks_relay",
    "tinyproxy",
    "tinyproxy_auth",
    "tls_app_server",
    "tls_raw_server",
    "unknown_ca_cert",
    "unused_port",
    "wrong_host_cert",
]
