"""A session's settings, declared once in ``SETTINGS``: the constructor, pickling and the settings cache's
fingerprint are derived from that table (the three ``by_content`` snapshots are written out in
``settings_fingerprint``, which runs on every plain request).

The settings cache: a plain call (one with no option of its own that changes its flow's settings, see
``brisk._session.options.FLOW_OPTIONS``) reuses the ``FlowSettings`` the session made for the previous plain
call to the same origin, as long as the session's fingerprint is unchanged. The fingerprint must therefore
cover every setting those ``FlowSettings`` are made from; a setting left out would be served stale after a
change. Each row says how it takes part: compared as it is (``by_value``; a jar or adapter by identity), by
a snapshot of its content (containers a user changes in place: ``session.proxies["http"] = ...``), or not
at all, with the reason (``headers`` and ``params`` are read by every request's preparation).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

from brisk._core.config import DEFAULT_LIMITS
from brisk._core.headers import Headers
from brisk._flows.retry import DEFAULT_RETRY, Retry
from brisk._request.defaults import default_headers
from brisk._session.options import unknown_keywords
from brisk.adapters import BaseAdapter, HTTPAdapter
from brisk.exceptions import DEFAULT_TIMEOUT
from brisk.hooks import default_hooks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._session.ratelimit import RateLimit

__all__ = [
    "NETWORK_SETTINGS",
    "NOT_PICKLED",
    "PICKLED",
    "SETTINGS",
    "Setting",
    "apply_settings",
    "by_content",
    "by_value",
    "cache_setting",
    "cookie_jar_for",
    "restore_state",
    "session_state",
    "settings_fingerprint",
]


def by_value(value: Any) -> Any:
    """Marks a setting the fingerprint compares as it is (by equality; objects without ``__eq__`` by
    identity)."""
    return value


def by_content(value: Any) -> Any:
    """Marks a container a user changes in place (``session.proxies["http"] = ...``): the fingerprint
    holds a snapshot of its content, taken in ``settings_fingerprint``."""
    return value


class Setting:
    """One setting of a session. (A plain class: a NamedTuple or dataclass costs more at import time.)"""

    __slots__ = ("attribute", "default", "fingerprint", "keyword", "make", "name", "pickle", "why")

    def __init__(
        self,
        name: str,
        default: Any,
        make: Callable[[Any], Any] | None = None,
        fingerprint: Callable[[Any], Any] | None = by_value,
        *,
        why: str = "",
        attribute: str = "",
        pickle: tuple[Callable[[Any], Any], Callable[[Any], Any]] | None = None,
        keyword: bool = True,
    ) -> None:
        #: the constructor's keyword (and, but for ``transport``, the public attribute)
        self.name = name
        #: the constructor's default
        self.default = default
        #: turns the given value into the one the session keeps (copies, coercion, validation); None: as given
        self.make = make
        #: how the fingerprint sees it: ``by_value``, ``by_content``, or None (then ``why`` says why)
        self.fingerprint = fingerprint
        self.why = why
        #: the attribute holding it, when not ``name``
        self.attribute = attribute
        #: (to state, from state): how it is pickled when the value itself cannot travel
        self.pickle = pickle
        #: False for a setting the constructor does not take (``adapters``: ``mount()`` sets them)
        self.keyword = keyword

    @property
    def stored(self) -> str:
        return self.attribute or self.name

    def __repr__(self) -> str:
        return f"Setting({self.name!r})"


def _headers(given: Mapping[str, str] | None) -> Headers:
    headers = default_headers()
    if given:
        headers.update(given)
    return headers


def _hooks(given: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    hooks = default_hooks()
    for event, hook in (given or {}).items():
        hooks.setdefault(event, []).extend(hook if isinstance(hook, list | tuple) else [hook])
    return hooks


def _rate_limit(given: RateLimit | float | None) -> RateLimit | None:
    if given is None:
        return None
    from brisk._session.ratelimit import RateLimit  # loaded by the first session given a rate limit

    return given if isinstance(given, RateLimit) else RateLimit(given)


def _rate_limit_state(limiter: RateLimit | None) -> Any:
    """A RateLimit's buckets hold a lock: it travels as its arguments, and the copy's buckets start full."""
    return None if limiter is None else (type(limiter), limiter.requests_per_second, limiter.burst)


def _rate_limit_from_state(state: Any) -> RateLimit | None:
    if state is None:
        return None
    kind, per_second, burst = state
    limiter: RateLimit = kind(per_second, burst)
    return limiter


def cookie_jar_for(value: Any) -> Any:
    """The jar a session keeps for ``cookies=``/``session.cookies = value``: None (an empty jar, made when
    first needed), brisk's or an http.cookiejar jar as given, or a dict made into a brisk jar."""
    if value is None:
        return None
    from brisk.cookies import RequestsCookieJar, cookiejar_from_dict  # http.cookiejar: only when needed

    if isinstance(value, RequestsCookieJar) or (
        hasattr(value, "add_cookie_header") and hasattr(value, "extract_cookies")
    ):
        return value  # brisk's jar, or an http.cookiejar one (or one shaped like it)
    if isinstance(value, Mapping):
        return cookiejar_from_dict(value)
    raise TypeError(
        "Session.cookies must be a cookie jar (brisk.cookies.RequestsCookieJar or an "
        f"http.cookiejar.CookieJar) or a dict, not {type(value).__name__}"
    )


def _uds(given: Any) -> str | None:
    """``uds=``: the path of a Unix socket (str or os.PathLike), kept as a str; None for TCP."""
    if given is None:
        return None
    import os

    path = os.fspath(given) if isinstance(given, str | os.PathLike) else None
    if not isinstance(path, str) or not path:
        raise TypeError(f"uds must be the path of a Unix socket (a str or os.PathLike), not {given!r}")
    return path


def _tls(name: str) -> Callable[[Any], Any]:
    """Checks a TLS setting (``verify``, ``cert``, versions, ``ciphers``, ``pin``) when given: a bad value
    is a TypeError or ValueError naming it, at the constructor. ``brisk._transport.tls`` loads only then."""

    def make(value: Any) -> Any:
        if value is None or (name == "verify" and isinstance(value, bool | str)):
            return value
        if name == "cert" and isinstance(value, str):
            return value
        from brisk._transport import tls

        if name == "verify":
            return tls.check_verify(value)
        return tls.check_cert(value) if name == "cert" else tls.tls_setting(name, value)

    return make


def cache_setting(given: Any) -> Any:
    """``cache=``: None/False for none, True for a new in-memory ``brisk.Cache``, a path for an SQLite one,
    or a ``brisk.Cache`` (shared as given). ``brisk._cache`` loads only when a cache is asked for."""
    if given is None or given is False:
        return None
    from brisk._cache.store import Cache

    if isinstance(given, Cache):
        return given
    import os

    if given is True or isinstance(given, str | os.PathLike):
        made = Cache() if given is True else Cache(given)
        made._session_made = True
        return made
    raise TypeError(f"cache must be True, a path or a brisk.Cache, not {given!r}")


def _default_adapters(_: None) -> dict[str, BaseAdapter]:
    return {"https://": HTTPAdapter(), "http://": HTTPAdapter()}


def _network(name: str, default: Any) -> Callable[[Any], Any]:
    """The ``make`` of a setting of how connections reach their peers, checked by the transport's rules
    (``brisk._transport.connect.check_setting``), which are loaded only for a value other than the default."""

    def make(value: Any) -> Any:
        if value is None or value == default:
            return {} if name == "resolve" else value
        from brisk._transport.connect import check_setting  # loads socket: not at import brisk

        return check_setting(name, value)

    return make


#: The settings of how connections reach their peers, in the order of ``network_options``'s parameters;
#: they become ``ConnectionConfig.network``. ``resolve`` is a dict a user may change in place.
NETWORK_SETTINGS = (
    ("resolve", None), ("resolver", None), ("family", None), ("local_address", None),
    ("happy_eyeballs_delay", 0.25), ("tcp_keepalive", 60.0),
)  # fmt: skip

_PER_REQUEST = "read by every request's preparation, not part of its flow's settings"

#: Every setting of a session. Adding one here is all it takes for the constructor, pickling and the
#: settings cache; add its keyword to ``brisk._session.types.SessionSettings`` too.
SETTINGS: tuple[Setting, ...] = (
    Setting("headers", None, _headers, None, why=_PER_REQUEST),
    Setting("auth", None),
    Setting("params", None, lambda given: given if given is not None else {}, None, why=_PER_REQUEST),
    Setting("cookies", None, cookie_jar_for, attribute="_cookie_jar"),  # the jar, by identity
    Setting("verify", True, _tls("verify")),
    Setting("cert", None, _tls("cert")),
    # TLS versions, OpenSSL cipher string, SPKI SHA-256 pins: brisk._transport.tls, TLSOptions
    *(Setting(name, None, _tls(name)) for name in ("tls_min_version", "tls_max_version", "ciphers", "pin")),
    Setting("proxies", None, lambda given: dict(given or {}), by_content),
    Setting("hooks", None, _hooks, by_content),
    Setting("timeout", DEFAULT_TIMEOUT),
    Setting("retries", None, lambda given: Retry.from_int(given, DEFAULT_RETRY)),
    Setting("max_redirects", 30),
    Setting("trust_env", True),
    Setting("http2", True),
    Setting("http3", False),  # True: Alt-Svc discovery; "prior-knowledge": every https request (brisk[http3])
    Setting("uds", None, _uds),
    Setting("limits", DEFAULT_LIMITS),
    Setting("stream", False),
    Setting("cache", None, cache_setting),  # brisk._flows.cache; by identity
    Setting("rate_limit", None, _rate_limit, pickle=(_rate_limit_state, _rate_limit_from_state)),
    *(
        Setting(name, default, _network(name, default), by_content if name == "resolve" else by_value)
        for name, default in NETWORK_SETTINGS
    ),
    Setting("adapters", None, _default_adapters, by_content, keyword=False),
    Setting(
        "transport",
        None,
        fingerprint=None,
        why="the caller's transport object; the one in use is chosen by _transport_for on every request",
        attribute="_given_transport",
    ),
)

#: What a session keeps besides its settings: made afresh by the constructor and by unpickling.
RUNTIME_STATE = ("_transport", "_config_cache", "_env", "_settings_cache", "_settings_version", "_plans")
#: The attributes a session pickles (its settings), and those it leaves behind on purpose.
PICKLED = frozenset(setting.stored for setting in SETTINGS)
NOT_PICKLED = frozenset(RUNTIME_STATE)

_KEYWORDS = frozenset(setting.name for setting in SETTINGS if setting.keyword)
# (keyword, default, make, attribute) of each setting, for the constructor; "" for no keyword
_CONSTRUCTION = tuple(
    (setting.name if setting.keyword else "", setting.default, setting.make, setting.stored)
    for setting in SETTINGS
)
_NO_RUNTIME_STATE = dict.fromkeys(RUNTIME_STATE)
#: The settings the fingerprint compares by value. The fingerprint does not hold them: it holds the session's
#: ``_settings_version``, a number from ``_VERSIONS`` that the session takes anew whenever one of them is
#: assigned (``SessionBase.__setattr__``), after the value. A request that reads the new number therefore
#: reads the new value; the numbers are never reused, so two threads assigning at once cannot leave a number
#: that stands for an older value. One attribute read per request, however many settings there are.
BY_VALUE = frozenset(setting.stored for setting in SETTINGS if setting.fingerprint is by_value)
_VERSIONS = itertools.count(1)
next_version = _VERSIONS.__next__
_PICKLED_SPECIALLY = tuple((setting.stored, setting.pickle) for setting in SETTINGS if setting.pickle)


def apply_settings(session: Any, given: Mapping[str, Any]) -> None:
    """Set every setting of ``session`` from the constructor's keywords ``given`` (or its default), and its
    run-time state to nothing yet."""
    if given and not given.keys() <= _KEYWORDS:
        raise unknown_keywords(type(session).__name__, given, _KEYWORDS)
    state = session.__dict__
    for name, default, make, attribute in _CONSTRUCTION:
        value = given.get(name, default) if given else default
        state[attribute] = value if make is None else make(value)
    state.update(_NO_RUNTIME_STATE)
    state["_transport"] = state["_given_transport"]
    state["_settings_version"] = next_version()


def settings_fingerprint(session: Any) -> tuple[Any, ...] | None:
    """Everything the settings of a plain call are made from, cheap to compare; None when they cannot be
    cached (see the module docstring). The settings compared by value come from the table; the few
    ``by_content`` ones are written out here, as this runs on every plain request (the unit tests check
    that a change to any fingerprinted setting changes the fingerprint)."""
    adapters = session.adapters
    if len(adapters) != 2:
        return None
    (prefix1, adapter1), (prefix2, adapter2) = adapters.items()
    if len(prefix1) > 8 or len(prefix2) > 8:
        # adapters mounted on a path prefix: the cache key would need the whole URL
        return None
    hooks = session.hooks
    request_hooks = hooks.get("request")
    response_hooks = hooks.get("response")
    proxies = session.proxies
    resolve = session.resolve
    return (
        session._settings_version,  # the settings compared by value (see BY_VALUE)
        tuple(proxies.items()) if proxies else None,
        tuple(resolve.items()) if resolve else None,
        tuple(request_hooks) if request_hooks else None,  # a user appends to a hook list in place
        tuple(response_hooks) if response_hooks else None,
        # the adapters by identity and retry policy (``max_retries`` may be changed in place)
        prefix1, adapter1, getattr(adapter1, "_retry", None),
        prefix2, adapter2, getattr(adapter2, "_retry", None),
    )  # fmt: skip


def session_state(session: Any, own_attrs: list[str]) -> dict[str, Any]:
    """What ``session`` pickles: its settings (see ``SETTINGS``), plus the attributes a subclass lists in
    ``__attrs__`` beyond requests' (``own_attrs``), as requests pickles them. The pool (connections,
    threads, locks), the caches and the environment read at the first request stay behind."""
    state = {name: value for name, value in session.__dict__.items() if name in PICKLED}
    for name in own_attrs:
        state[name] = getattr(session, name, None)
    for name, (to_state, _) in _PICKLED_SPECIALLY:
        if name in state:
            state[name] = to_state(state[name])
    return state


def restore_state(session: Any, state: Mapping[str, Any]) -> None:
    """Unpickle into ``session``: its settings from ``state``, its run-time state afresh. A transport
    passed to the constructor is the caller's own object and travels with the settings: dropping it would
    send the copy's requests elsewhere (a mock's to the network)."""
    attributes = session.__dict__
    attributes.update(state)
    for name, (_, from_state) in _PICKLED_SPECIALLY:
        if name in state:
            attributes[name] = from_state(state[name])
    attributes.update(_NO_RUNTIME_STATE)
    attributes["_transport"] = attributes.get("_given_transport")
    attributes["_settings_version"] = next_version()
