"""``Retry``: an immutable retry policy with urllib3's names (``HTTPAdapter(max_retries=Retry(...))`` works).

Each failed attempt makes a new ``Retry`` with one budget spent and the attempt recorded in ``history``;
when a budget goes below zero the policy is exhausted. The decisions are pure: the request flow asks
``classify``/``is_retry``/``increment``/``sleep_time`` and does the sleeping and sending itself.

Budgets (``None`` means "only limited by ``total``"; ``False``/0 means "never"):
- ``connect``: failures before the request was sent (refused, DNS, connect timeout). Always safe.
- ``read``: failures after the request was sent (reset, read timeout, broken response). Only for methods
  in ``allowed_methods`` (idempotent by default) and only with a body that can be sent again.
- ``status``: responses whose status is in ``status_forcelist`` (or 413/429/503 with ``Retry-After``).
- ``total``: all of the above together.
"""

from __future__ import annotations

import time

from brisk.exceptions import ConnectionError as BriskConnectionError
from brisk.exceptions import (
    ConnectionRefused,
    ConnectTimeout,
    NameResolutionError,
    PoolTimeout,
    ProxyError,
    ReadTimeout,
    RemoteProtocolError,
    SSLError,
    WriteTimeout,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    from brisk.models import Response
else:
    from brisk._core.typing_lite import NamedTuple

__all__ = ["RequestHistory", "Retry"]


def _float(*candidates: Any) -> float:
    """The first candidate that is a number, as a float."""
    for value in candidates:
        if isinstance(value, int | float):
            return float(value)
    return Retry.DEFAULT_BACKOFF_MAX


# The functional form, the one brisk._core.typing_lite stands in for at run time (collections.namedtuple):
# the types are for the type checker.
_HistoryFields = NamedTuple(
    "_HistoryFields",
    [
        ("method", str | None),
        ("url", str | None),
        ("error", BaseException | None),
        ("status", int | None),
        ("redirect_location", str | None),
    ],
)


class RequestHistory(_HistoryFields):
    """One failed attempt: what was tried and why it failed (an exception or a status code)."""

    __slots__ = ()

    def describe(self) -> str:
        if self.error is not None:
            return f"{type(self.error).__name__}: {self.error}"
        return f"status {self.status}"


class Retry:
    """When and how often to try a request again.

    >>> Retry(total=5, status_forcelist=[429, 503], backoff_factor=0.5)
    >>> brisk.Session(retries=Retry(3))
    >>> session.mount("https://", HTTPAdapter(max_retries=3))     # requests' spelling
    """

    DEFAULT_ALLOWED_METHODS = frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE"})
    RETRY_AFTER_STATUS_CODES = frozenset({413, 429, 503})
    DEFAULT_BACKOFF_MAX = 120.0

    __slots__ = (
        "allowed_methods",
        "backoff_factor",
        "backoff_jitter",
        "backoff_max",
        "connect",
        "history",
        "other",
        "raise_on_redirect",
        "raise_on_status",
        "read",
        "redirect",
        "respect_retry_after_header",
        "status",
        "status_forcelist",
        "total",
    )

    total: int | None
    connect: int | None
    read: int | None
    redirect: int | None
    status: int | None
    other: int | None
    allowed_methods: frozenset[str] | None
    status_forcelist: frozenset[int]
    backoff_factor: float
    backoff_max: float
    backoff_jitter: float
    raise_on_redirect: bool
    raise_on_status: bool
    respect_retry_after_header: bool
    history: tuple[RequestHistory, ...]

    def __init__(
        self,
        total: int | bool | None = 10,
        connect: int | None = None,
        read: int | bool | None = None,
        redirect: int | bool | None = None,
        status: int | None = None,
        other: int | None = None,
        allowed_methods: Any = DEFAULT_ALLOWED_METHODS,
        status_forcelist: Any = None,
        backoff_factor: float = 0.0,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        backoff_jitter: float = 0.0,
        raise_on_redirect: bool = True,
        raise_on_status: bool = True,
        respect_retry_after_header: bool = True,
        history: tuple[RequestHistory, ...] = (),
    ) -> None:
        def budget(value: int | bool | None) -> int | None:
            if value is False:
                return 0
            if value is None or value is True:
                return None
            return int(value)

        set_ = object.__setattr__
        set_(self, "total", budget(total))
        set_(self, "connect", budget(connect))
        set_(self, "read", budget(read))
        set_(self, "redirect", budget(redirect))
        set_(self, "status", budget(status))
        set_(self, "other", budget(other))
        set_(
            self,
            "allowed_methods",
            None if allowed_methods is None else frozenset(m.upper() for m in allowed_methods),
        )
        set_(self, "status_forcelist", frozenset(status_forcelist or ()))
        set_(self, "backoff_factor", float(backoff_factor))
        set_(self, "backoff_max", float(backoff_max))
        set_(self, "backoff_jitter", float(backoff_jitter))
        set_(self, "raise_on_redirect", raise_on_redirect)
        set_(self, "raise_on_status", raise_on_status)
        set_(self, "respect_retry_after_header", respect_retry_after_header)
        set_(self, "history", tuple(history))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Retry is immutable: use retry.new(...) to change a value")

    # Pickling and copying restore the slots past the immutability guard; a Retry is equal to another with the
    # same settings and history (so one survives a round trip through pickle, as a Session's policy does).

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Retry):
            return NotImplemented
        return self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash(tuple(self.__getstate__().values()))

    @classmethod
    def from_int(cls, retries: Retry | int | bool | None, default: Retry | None = None) -> Retry:
        """Accept what requests and urllib3 accept: a Retry, an int (total), False/0 (never) or None."""
        if isinstance(retries, Retry):
            return retries
        if hasattr(retries, "status_forcelist") and hasattr(retries, "backoff_factor"):
            return cls._from_urllib3(retries)
        if retries is None:
            return default if default is not None else DEFAULT_RETRY
        if retries is False or retries == 0:
            return NO_RETRY
        return cls(int(retries))

    @classmethod
    def _from_urllib3(cls, other: Any) -> Retry:
        """Convert urllib3's ``Retry`` (the one cheat-sheets mount on an HTTPAdapter) to brisk's."""
        allowed = getattr(other, "allowed_methods", None) or getattr(other, "method_whitelist", None)
        return cls(
            total=other.total,
            connect=other.connect,
            read=other.read,
            redirect=other.redirect,
            status=other.status,
            other=getattr(other, "other", None),
            allowed_methods=None if allowed is False else allowed or cls.DEFAULT_ALLOWED_METHODS,
            status_forcelist=other.status_forcelist,
            backoff_factor=other.backoff_factor,
            backoff_max=_float(
                getattr(other, "backoff_max", None), getattr(other, "DEFAULT_BACKOFF_MAX", None)
            ),
            backoff_jitter=getattr(other, "backoff_jitter", 0.0),
            raise_on_redirect=other.raise_on_redirect,
            raise_on_status=other.raise_on_status,
            respect_retry_after_header=getattr(other, "respect_retry_after_header", True),
        )

    def new(self, **changes: Any) -> Retry:
        """A copy with some settings changed."""
        params = {name: getattr(self, name) for name in self.__slots__}
        params.update(changes)
        return Retry(**params)

    # -- decisions -----------------------------------------------------------------------------------------

    @staticmethod
    def classify(error: BaseException) -> str | None:
        """``"connect"`` (nothing was sent), ``"read"`` (sent, then failed), or None (do not retry)."""
        if isinstance(error, SSLError | ProxyError | PoolTimeout):
            # Certificates and proxy refusals do not fix themselves; a pool timeout already waited the
            # whole Timeout.pool, and retrying it would multiply that wait.
            return None
        if isinstance(error, ConnectTimeout | ConnectionRefused | NameResolutionError):
            return "connect"
        if isinstance(error, ReadTimeout | WriteTimeout | RemoteProtocolError | BriskConnectionError):
            return "read"
        return None

    def method_allowed(self, method: str | None) -> bool:
        return self.allowed_methods is None or (method or "GET").upper() in self.allowed_methods

    def is_retry(self, method: str | None, status_code: int, has_retry_after: bool = False) -> bool:
        """Should a response with this status be retried?"""
        if not self.method_allowed(method):
            return False
        if self.status_forcelist and status_code in self.status_forcelist:
            return True
        return bool(
            self.total
            and self.respect_retry_after_header
            and has_retry_after
            and status_code in self.RETRY_AFTER_STATUS_CODES
        )

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Response | None = None,
        error: BaseException | None = None,
        kind: str | None = None,
    ) -> Retry:
        """The policy after one more failed attempt (check ``is_exhausted()`` on the result)."""
        changes: dict[str, Any] = {}
        if self.total is not None:
            changes["total"] = self.total - 1
        if error is not None:
            kind = kind or self.classify(error) or "other"
        elif response is not None:
            kind = "status"
        if kind is not None:
            current = getattr(self, kind)
            if current is not None:
                changes[kind] = current - 1
        status = location = None
        if response is not None:  # brisk's Response, or urllib3's (``status``) from code written for it
            status = getattr(response, "status_code", None) or getattr(response, "status", None)
            location = response.headers.get("location")
        changes["history"] = (*self.history, RequestHistory(method, url, error, status, location))
        return self.new(**changes)

    def is_exhausted(self) -> bool:
        return any(
            value is not None and value < 0
            for value in (self.total, self.connect, self.read, self.redirect, self.status, self.other)
        )

    # -- timing --------------------------------------------------------------------------------------------

    def get_backoff_time(self) -> float:
        """Exponential backoff: 0 before the first retry, then factor * 2**(n-1), capped, plus jitter."""
        consecutive = 0
        for attempt in reversed(self.history):
            if (
                attempt.redirect_location is not None
                and attempt.status is not None
                and 300 <= attempt.status < 400
            ):
                break
            consecutive += 1
        if consecutive <= 1:
            return 0.0
        value = self.backoff_factor * (2 ** (consecutive - 1))
        if self.backoff_jitter:
            import random  # here, not at the top: `import brisk` does not load random (only jitter needs it)

            value += random.random() * self.backoff_jitter
        return max(0.0, min(self.backoff_max, float(value)))

    def get_retry_after(self, response: Response) -> float | None:
        """Seconds asked for by ``Retry-After`` (delta-seconds or an HTTP-date), capped at ``backoff_max``."""
        value = response.headers.get("retry-after")
        if value is None:
            return None
        value = value.strip()
        if value.isdigit():
            seconds = float(value)
        else:
            from email.utils import parsedate_to_datetime  # a heavy import, for the rare HTTP-date form

            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            seconds = when.timestamp() - time.time()
        return max(0.0, min(seconds, self.backoff_max))

    def sleep_time(self, response: Response | None = None) -> float:
        """How long to wait before the next attempt: Retry-After when given and respected, else backoff."""
        if response is not None and self.respect_retry_after_header:
            retry_after = self.get_retry_after(response)
            if retry_after is not None:
                return retry_after
        return self.get_backoff_time()

    def describe_attempts(self) -> str:
        """``3 attempts: 1) ConnectionRefused: ..., 2) ..., 3) ...`` for error messages."""
        count = len(self.history)
        reasons = [attempt.describe() for attempt in self.history]
        if count > 1 and len(set(reasons)) == 1:
            return f"{count} attempts, all failing this way"
        lines = "; ".join(f"{i}) {reason}" for i, reason in enumerate(reasons, 1))
        return f"{count} attempt{'s' if count != 1 else ''}: {lines}"

    def __repr__(self) -> str:
        return (
            f"Retry(total={self.total}, connect={self.connect}, read={self.read}, "
            f"redirect={self.redirect}, status={self.status})"
        )


#: A failed connection attempt (nothing was sent) is retried twice, with backoff; nothing else is retried.
DEFAULT_RETRY = Retry(total=None, connect=2, read=0, status=0, other=0, redirect=None, backoff_factor=0.2)
NO_RETRY = Retry(total=0, read=False, redirect=None)
