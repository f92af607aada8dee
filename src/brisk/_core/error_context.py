"""``add_url_context``: the method and URL a failed request was for, added to its exception's message.

Used wherever a request fails (the transports, the session, the raw response's reads), so it sits at the
bottom, below all of them."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk.exceptions import RequestException
    from brisk.models import PreparedRequest

__all__ = ["add_url_context"]


def add_url_context(exc: RequestException, url: URL, request: PreparedRequest | None) -> RequestException:
    """Append the method and URL (never its credentials) to an exception's message, once."""
    if getattr(exc, "_brisk_context", False):
        return exc
    exc._brisk_context = True  # type: ignore[attr-defined]
    where = f"{request.method} {url.without_auth()}" if request is not None else str(url.without_auth())
    if exc.args:
        exc.args = (f"{exc.args[0]} ({where})", *exc.args[1:])
    else:
        exc.args = (where,)
    if exc.request is None:
        exc.request = request
    return exc
