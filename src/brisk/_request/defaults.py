"""The headers every session starts with: requests' ``utils.default_headers``."""

from __future__ import annotations

from brisk.__version__ import __version__
from brisk._core.headers import Headers

__all__ = ["default_headers"]

_DEFAULT_HEADERS: Headers | None = None


def default_headers() -> Headers:
    """The headers every session starts with (requests' ``utils.default_headers``): a fresh copy each time."""
    global _DEFAULT_HEADERS
    if _DEFAULT_HEADERS is None:
        # made at the first session: the decoders module is not part of ``import brisk``
        from brisk._response.decoders import SUPPORTED_ENCODINGS

        _DEFAULT_HEADERS = Headers(
            {
                "User-Agent": f"brisk/{__version__}",
                "Accept-Encoding": SUPPORTED_ENCODINGS,
                "Accept": "*/*",
                "Connection": "keep-alive",
            }
        )
    return _DEFAULT_HEADERS.copy()
