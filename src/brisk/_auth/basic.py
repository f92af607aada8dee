"""Static credentials: the ``AuthBase`` protocol, Basic (``HTTPBasicAuth``, ``HTTPProxyAuth``) and bearer
tokens (``HTTPBearerAuth``). ``brisk.auth`` is where users import them from.

An auth object is called with the request to add its credentials (``__call__``, requests' protocol).
Challenge/response schemes also implement ``auth_flow``, a generator that yields requests and receives their
responses (Digest, ``digest.py``), so the same code runs under the sync and the async session.
"""

from __future__ import annotations

from collections.abc import Generator

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk.models import PreparedRequest, Response

__all__ = ["AuthBase", "HTTPBasicAuth", "HTTPBearerAuth", "HTTPProxyAuth", "basic_auth_str"]


def basic_auth_str(username: str | bytes, password: str | bytes) -> str:
    """``Basic <base64(user:password)>``, with str credentials encoded as UTF-8 (RFC 7617).

    Other types (``auth=(42, 42)``) are turned into text with a DeprecationWarning, as requests does.
    """
    if not isinstance(username, str | bytes) or not isinstance(password, str | bytes):
        import warnings  # only for this deprecated case: import brisk does not load warnings

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
    # binascii's encoder is base64.b64encode's own; the base64 module would load re, which nothing else
    # on a plain request needs.
    from binascii import b2a_base64

    return "Basic " + b2a_base64(username + b":" + password, newline=False).decode("ascii")


class AuthBase:
    """Base class for authentication: override ``__call__`` and/or ``auth_flow``."""

    __module__ = "brisk.auth"  # where users import it from (and where pickle finds it)

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        return r

    def auth_flow(self, request: PreparedRequest) -> Generator[PreparedRequest, Response, None]:
        """Send ``request``; a challenge scheme looks at the response and may yield a retried request."""
        yield request


class HTTPBasicAuth(AuthBase):
    """HTTP Basic authentication: ``auth=HTTPBasicAuth("user", "pass")``, or simply ``auth=("user", "pass")``.

    Credentials given as str are sent UTF-8 encoded (RFC 7617)."""

    __module__ = "brisk.auth"

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
        r.headers["Authorization"] = basic_auth_str(self.username, self.password)
        return r


class HTTPProxyAuth(HTTPBasicAuth):
    """Basic credentials for a proxy (``Proxy-Authorization``)."""

    __module__ = "brisk.auth"

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        r.headers["Proxy-Authorization"] = basic_auth_str(self.username, self.password)
        return r


class HTTPBearerAuth(AuthBase):
    """A bearer token: ``auth=HTTPBearerAuth(token)``, or simply ``auth="<token>"``."""

    __module__ = "brisk.auth"

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
