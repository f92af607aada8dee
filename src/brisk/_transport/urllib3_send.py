"""Sending through a pool that is not brisk's: requests' way, for an ``HTTPAdapter`` override that hands out
its own urllib3 pool.

requests' ``HTTPAdapter.send`` sends through whatever ``get_connection_with_tls_context`` returns, by calling
its ``urlopen``. Adapters that reach another transport override that method to return a urllib3 pool of
their own: requests-unixsocket's ``UnixHTTPConnectionPool`` speaks HTTP over a Unix socket, docker's
adapters do the same over sockets and pipes. brisk's transport cannot send there, so such a pool sends the
request itself, with the arguments requests gives it, and its urllib3 errors become requests' exceptions as
requests maps them. The session's safety defaults hold: a request without a timeout gets brisk's default
connect and read timeouts, not urllib3's none.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.models import PreparedRequest

__all__ = ["urlopen"]


def urlopen(adapter: Any, conn: Any, request: PreparedRequest, url: str, timeout: Any) -> Any:
    """``conn.urlopen(...)`` as requests' ``HTTPAdapter.send`` calls it; returns urllib3's response, unread.

    ``url`` is what ``adapter.request_url`` gave; ``timeout`` what the adapter's ``send`` was given (None:
    brisk's defaults). The retry policy is the adapter's ``max_retries`` when it is urllib3's ``Retry``, else
    none at this level (as requests' default), the session's own policy being applied around the adapter.
    """
    # A pool with urlopen exists only where urllib3 is installed.
    from urllib3 import exceptions as u3
    from urllib3.util import Retry as Urllib3Retry
    from urllib3.util import Timeout as Urllib3Timeout

    from brisk import exceptions as e

    phases = e.DEFAULT_TIMEOUT if timeout is None else e.Timeout.coerce(timeout)
    given_retry = getattr(adapter, "_given_retry", None)
    retries = given_retry if given_retry is not None else Urllib3Retry(0, read=False)
    chunked = not (request.body is None or "Content-Length" in request.headers)
    try:
        return conn.urlopen(
            method=request.method,
            url=url,
            body=request.body,
            headers=request.headers,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
            decode_content=False,
            retries=retries,
            timeout=Urllib3Timeout(connect=phases.connect, read=phases.read),
            chunked=chunked,
        )
    except (u3.ProtocolError, OSError) as err:
        raise e.ConnectionError(err, request=request) from err
    except u3.MaxRetryError as err:
        reason = err.reason
        if isinstance(reason, u3.ConnectTimeoutError) and not isinstance(reason, u3.NewConnectionError):
            raise e.ConnectTimeout(err, request=request) from err
        if isinstance(reason, u3.ResponseError):
            raise e.RetryError(err, request=request) from err
        if isinstance(reason, u3.ProxyError):
            raise e.ProxyError(err, request=request) from err
        if isinstance(reason, u3.SSLError):
            raise e.SSLError(err, request=request) from err
        raise e.ConnectionError(err, request=request) from err
    except u3.ClosedPoolError as err:
        raise e.ConnectionError(err, request=request) from err
    except u3.ProxyError as err:
        raise e.ProxyError(err, request=request) from err
    except u3.SSLError as err:
        raise e.SSLError(err, request=request) from err
    except u3.ReadTimeoutError as err:
        raise e.ReadTimeout(err, request=request) from err
    except u3.InvalidHeader as err:
        raise e.InvalidHeader(err, request=request) from err
