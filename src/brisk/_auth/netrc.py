"""Credentials from ~/.netrc (or the file named by $NETRC), looked up by host name only.

Only the parsed host name of the URL is used for the lookup (requests CVE-2024-47081: a crafted URL must not
make another host's entry match), and the flow never carries an entry to a redirect on another host.
A ``machine`` entry without login or password means "no credentials for this host": it is not filled in from
the ``default`` entry (netrc(5); curl CVE-2024-11053 and CVE-2025-0167). The file is parsed once and re-read
only when it changes.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["netrc_auth", "netrc_path"]

_Entries = dict[str, tuple[str, str] | None]  # host ("" for default) -> credentials, None: none for it
_cache: dict[str, tuple[float, float, _Entries]] = {}  # path -> (mtime, checked, entries)
_RECHECK = 1.0
_lock = threading.Lock()


def netrc_path() -> str | None:
    """Where the netrc file is ($NETRC, else ~/.netrc or ~/_netrc), or None."""
    explicit = os.environ.get("NETRC")
    if explicit:
        return os.path.expanduser(explicit)
    home = os.path.expanduser("~")
    for name in (".netrc", "_netrc"):
        path = os.path.join(home, name)
        if os.path.isfile(path):
            return path
    return None


def netrc_auth(host: str, path: str | None = None) -> tuple[str, str] | None:
    """(login, password) for ``host`` from the netrc file at ``path`` (found when not given), or None.

    The parsed file is cached; whether it changed is checked at most once a second.
    """
    if path is None:
        path = netrc_path()
        if path is None:
            return None
    now = time.monotonic()
    with _lock:
        cached = _cache.get(path)
        if cached is None or now - cached[1] > _RECHECK:
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                _cache.pop(path, None)
                return None
            if cached is None or cached[0] != mtime:
                cached = (mtime, now, _parse(path))
            else:
                cached = (mtime, now, cached[2])
            _cache[path] = cached
    entries = cached[2]
    host = host.lower().rstrip(".")
    return entries[host] if host in entries else entries.get("")


def _parse(path: str) -> _Entries:
    import netrc

    try:
        parsed = netrc.netrc(path)
    except (netrc.NetrcParseError, OSError):
        return {}
    entries: _Entries = {
        host.lower(): (login or "", password or "") if login or password else None
        for host, (login, _, password) in parsed.hosts.items()
    }
    if "default" in entries:
        entries[""] = entries.pop("default")
    return entries
