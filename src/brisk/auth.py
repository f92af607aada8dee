"""Authentication: requests' classes (``AuthBase``, ``HTTPBasicAuth``, ``HTTPProxyAuth``, ``HTTPDigestAuth``)
plus ``HTTPBearerAuth``.

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

from collections.abc import Generator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brisk.models import PreparedRequest, Response

__all__ = ["AuthBase", "HTTPBasicAuth", "HTTPBearerAuth", "HTTPDigestAuth", "HTTPProxyAuth"]

CONTENT_TYPE_FORM_URLENCODED = "application/x-www-form-urlencoded"
CONTENT_TYPE_MULTI_PART = "multipart/form-data"


def __getattr__(name: str) -> object:
    """requests.auth's other names, loaded when first read (see brisk._compat.requests_names)."""
    if name.startswith("__"):  # __path__, __wrapped__...: asked for often, never one of requests' names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brisk._compat.requests_names import requests_name

    return requests_name(__name__, name)


def _basic_auth_str(username: str | bytes, password: str | bytes) -> str:
    """``Basic <base64(user:password)>``, with str credentials encoded as UTF-8 (RFC 7617).

    Other types (``auth=(42, 42)``) are turned into text with a DeprecationWarning, as requests does.
    """
    if not isinstance(username, str | bytes) or not isinstance(password, str | bytes):
        import warnings

        warnings.warn(
            "Basic auth credentials should be str or bytes, not "
            f"{type(username).__name__} and {type(password).__name__}: they are converted with str()",
            DeprecationWarning,
            stacklevel=2,
        )
        username = username if isinstance(username, str | bytes) else str(username)
        password = password if isinstance(password, str | bytes) else str(password)
    if isinstance(username, str):
        username = username.encode("utf-8")
    if isinstance(password, str):
        password = password.encode("utf-8")
    from base64 import b64encode

    return "Basic " + b64encode(username + b":" + password).decode("ascii")


class AuthBase:
    """Base class for authentication: override ``__call__`` and/or ``auth_flow``."""

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        return r

    def auth_flow(self, request: PreparedRequest) -> Generator[PreparedRequest, Response, None]:
        """Send ``request``; a challenge scheme looks at the response and may yield a retried request."""
        yield request


class HTTPBasicAuth(AuthBase):
    """HTTP Basic authentication: ``auth=HTTPBasicAuth("user", "pass")``, or simply ``auth=("user", "pass")``.

    Credentials given as str are sent UTF-8 encoded (RFC 7617)."""

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self.username = username
        self.password = password

    def __eq__(self, other: object) -> bool:
        return (getattr(other, "username", None), getattr(other, "password", None)) == (
            self.username,
            self.password,
        )

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        r.headers["Authorization"] = _basic_auth_str(self.username, self.password)
        return r


class HTTPProxyAuth(HTTPBasicAuth):
    """Basic credentials for a proxy (``Proxy-Authorization``)."""

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        r.headers["Proxy-Authorization"] = _basic_auth_str(self.username, self.password)
        return r


class HTTPBearerAuth(AuthBase):
    """A bearer token: ``auth=HTTPBearerAuth(token)``, or simply ``auth="<token>"``."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __eq__(self, other: object) -> bool:
        return getattr(other, "token", None) == self.token

    __hash__ = None  # type: ignore[assignment]

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r

    def __repr__(self) -> str:
        return "HTTPBearerAuth(token='***')"


from brisk._auth.digest import HTTPDigestAuth  # noqa: E402  (it subclasses AuthBase)
