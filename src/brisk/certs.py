"""``requests.certs`` under brisk: ``where()``, the path of the CA bundle that requests verifies with.

Code written for requests passes ``verify=requests.certs.where()`` or hands the path to another TLS
library. It is certifi's bundle, as in requests. brisk itself verifies with the operating system's trust
store (certifi's bundle only where the system has none), so passing this path narrows brisk to certifi's
list; it does not widen it.
"""

from __future__ import annotations

from certifi import where

__all__ = ["where"]
