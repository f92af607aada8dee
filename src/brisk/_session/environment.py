"""What ``trust_env`` takes from the environment, read once per session (at its first request).

Proxies (``http_proxy``, ``https_proxy``, ``all_proxy``, ``no_proxy`` and their upper-case forms), the CA
bundle (``REQUESTS_CA_BUNDLE``, then ``CURL_CA_BUNDLE``) and where the netrc file is. Reading these on every
request costs more than the rest of a keep-alive request's Python work; like httpx, brisk reads them when a
session starts working and keeps them. A program that changes its environment later makes a new session.
"""

from __future__ import annotations

import os

from brisk._auth.netrc import netrc_path
from brisk._flows.proxies import environment_proxies

__all__ = ["Environment"]


class Environment:
    __slots__ = ("ca_bundle", "netrc_path", "no_proxy", "proxies")

    def __init__(self) -> None:
        env = os.environ
        self.proxies: dict[str, str] = environment_proxies()
        self.no_proxy: str | None = env.get("no_proxy") or env.get("NO_PROXY") or None
        self.ca_bundle: str | None = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or None
        self.netrc_path: str | None = netrc_path()
