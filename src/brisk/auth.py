"""Authentication: requests' classes (``AuthBase``, ``HTTPBasicAuth``, ``HTTPProxyAuth``, ``HTTPDigestAuth``)
plus ``HTTPBearerAuth``. They are written in ``brisk._auth`` (``basic.py``, ``digest.py``); this is the
module users import them from, and the one their ``__module__`` names.

An auth object is called with the request to add static credentials (``__call__``, requests' protocol).
Challenge/response schemes also implement ``auth_flow``: a generator that yields requests and receives
their responses, so the same code runs under the sync and the async session::

    class TokenRefresh(brisk.AuthBase):
        def auth_flow(self, request):
            response = yield request
            if response.status_code == 401:
                request.headers["Authorization"] = "Bearer " + fetch_new_token()
                yield request

Credentials are only ever sent to the origin they were given for: brisk strips them when a redirect leaves
that origin and does not run the auth flow there.
"""

from __future__ import annotations

from brisk._auth.basic import AuthBase, HTTPBasicAuth, HTTPBearerAuth, HTTPProxyAuth, basic_auth_str

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._auth.digest import HTTPDigestAuth

__all__ = ["AuthBase", "HTTPBasicAuth", "HTTPBearerAuth", "HTTPDigestAuth", "HTTPProxyAuth"]

CONTENT_TYPE_FORM_URLENCODED = "application/x-www-form-urlencoded"
CONTENT_TYPE_MULTI_PART = "multipart/form-data"
_basic_auth_str = basic_auth_str  # requests' name, which code written for requests imports


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))  # HTTPDigestAuth too, before it is loaded


def __getattr__(name: str) -> object:
    """``HTTPDigestAuth``, whose module is loaded when it is first asked for, and requests.auth's other
    names (see brisk._core.requests_names)."""
    if name == "HTTPDigestAuth":
        from brisk._auth.digest import HTTPDigestAuth

        globals()[name] = HTTPDigestAuth
        return HTTPDigestAuth
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._core.requests_names import requests_name

    return requests_name(__name__, name)
